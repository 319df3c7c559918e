# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""_block: device globs, the fake /sys/block queues (nvme0n1, nvme1n1, sda), the udev rule and its reload."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import shutil

import pytest

from ansible_collections.inference.host_tuning.plugins.module_utils import _block
from ansible_collections.inference.host_tuning.plugins.module_utils import _files
from ansible_collections.inference.host_tuning.plugins.module_utils import _formats
from ansible_collections.inference.host_tuning.tests.unit.fakehost import FakeModule

HEADER = _files.header('io_scheduler')
RULE = ('ACTION=="add|change", SUBSYSTEM=="block", ENV{DEVTYPE}=="disk", KERNEL=="%s", '
        'ATTR{queue/scheduler}="%s"')


class Udevadm(FakeModule):
    """udevadm answering ``rc`` with ``out`` and ``err``."""

    def __init__(self, rc=0, out='', err='', bins=('udevadm',)):
        super(Udevadm, self).__init__(bins=bins)
        self.answer = (rc, out, err)

    def run_command(self, argv):
        self.calls.append(argv)
        return self.answer


@pytest.mark.parametrize('glob', ['nvme*n*', 'sd[a-d]', 'sda', 'dm-0', 'nvme0n1', 'sd?', 'sd[!a]', 'md_1.2:3', '*'])
def test_glob_accepted(glob):
    assert _block.glob_error(glob) is None


@pytest.mark.parametrize('glob', ['', None, 'sd a', 'sd"a', "sd'a", 'sda|sdb', '../sda', 'sda/queue', 'sd,a',
                                  'sda\n', 'sd{a,b}', 'sd$x', 'sd\\a', 'sda\u200b'])
def test_glob_refused(glob):
    msg = _block.glob_error(glob)
    assert msg == ('device glob %r is not a kernel-name glob: use letters, digits, "_.:-" and the wildcards "*", "?", '
                   '"[...]" (for example nvme*n* or sd[a-d]).' % (glob,))


def test_scheduler_path():
    assert _block.scheduler_path('nvme0n1') == '/sys/block/nvme0n1/queue/scheduler'


@pytest.mark.parametrize('globs, devices', [
    (['nvme*'], ['nvme0n1', 'nvme1n1']),
    (['*'], ['nvme0n1', 'nvme1n1', 'sda', 'sdb']),
    (['sd?', 'nvme1*'], ['nvme1n1', 'sda', 'sdb']),
    (['sd[!a]'], ['sdb']),
    (['NVME*'], []),                       # kernel names are matched case for case, as udev does
    (['vd*'], []),
    ([], []),
])
def test_matching_devices_are_whole_disks(fake_host, globs, devices):
    fake_host.write('/sys/block/sdb/queue/scheduler', '[mq-deadline] none\n')
    fake_host.write('/sys/block/sdb1/partition', '1\n')     # a partition never gets a queue setting
    assert _block.matching_devices(globs) == devices


def test_is_partition(fake_host):
    assert _block.is_partition('nvme0n1') is False
    fake_host.write('/sys/block/nvme0n1/partition', '1\n')
    assert _block.is_partition('nvme0n1') is True and _block.is_partition('sda') is False
    assert _block.matching_devices(['nvme*']) == ['nvme1n1']


def test_matching_devices_without_sys_block(fake_host):
    shutil.rmtree(fake_host.path('/sys/block'))
    assert _block.matching_devices(['*']) == []


@pytest.mark.parametrize('dev, offered', [
    ('nvme0n1', ['none', 'mq-deadline', 'kyber', 'bfq']),
    ('nvme1n1', ['none', 'mq-deadline', 'kyber', 'bfq']),
    ('sda', ['mq-deadline', 'kyber', 'bfq', 'none']),
    ('sdz', None),
])
def test_offered_schedulers(fake_host, dev, offered):
    assert _block.offered_schedulers(dev) == offered


def test_offered_schedulers_of_a_queue_without_choice(fake_host):
    fake_host.write('/sys/block/zram0/queue/scheduler', 'none\n')
    assert _block.offered_schedulers('zram0') == ['none']


def test_render_scheduler_rule():
    assert _block.render_scheduler_rule('io_scheduler', 'none', ['nvme*n*', 'sd[a-d]']) == (
        HEADER + RULE % ('nvme*n*', 'none') + '\n' + RULE % ('sd[a-d]', 'none') + '\n')
    assert _block.render_scheduler_rule('io_scheduler', 'mq-deadline', []) == HEADER
    assert _block.render_scheduler_rule('io_scheduler', 'bfq', ['sda']).endswith('ATTR{queue/scheduler}="bfq"\n')


@pytest.mark.parametrize('scheduler, globs', [
    ('none', ['nvme*', 'sda", RUN+="/bin/sh']),
    ('none', ['sda\n']),
    ('none', ['']),
    ('none"', ['sda']),
    ('$env{X}', ['sda']),
    ('none\n', ['sda']),
], ids=['glob with a quote', 'glob with a newline', 'empty glob', 'scheduler with a quote',
        'scheduler substitution', 'scheduler with a newline'])
def test_render_scheduler_rule_refusals(scheduler, globs):
    with pytest.raises(_formats.FormatError) as exc:
        _block.render_scheduler_rule('io_scheduler', scheduler, globs)
    assert exc.value.what.startswith('devices')


def test_reload_udev_rules():
    m = Udevadm()
    assert _block.reload_udev_rules(m) == (True, None)
    assert m.calls == [['/usr/bin/udevadm', 'control', '--reload-rules']]


def test_reload_udev_rules_without_udevadm_runs_nothing():
    m = Udevadm(bins=())
    assert _block.reload_udev_rules(m) == (False, None)
    assert m.calls == []


@pytest.mark.parametrize('out, err, detail', [
    ('', 'Failed to send reload request: No such file or directory\n',
     'Failed to send reload request: No such file or directory'),
    ('only on stdout\n', '', 'only on stdout'),
    ('stdout\n', 'stderr\n', 'stderr'),
])
def test_reload_udev_rules_failure(out, err, detail):
    m = Udevadm(rc=1, out=out, err=err)
    assert _block.reload_udev_rules(m) == (True, 'udevadm control --reload-rules failed (rc=1): %s' % detail)
