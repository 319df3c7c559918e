# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.inference.host_tuning.plugins.module_utils import _bootloader
from ansible_collections.inference.host_tuning.plugins.module_utils import _ledger
from ansible_collections.inference.host_tuning.tests.unit.fakehost import FakeModule

GRUBBY_INFO = ('index=0\nkernel="/boot/vmlinuz-5.14.0"\nargs="ro crashkernel=auto hugepagesz=1G hugepages=4"\n'
               'root="/dev/mapper/rhel-root"\nindex=1\nkernel="/boot/vmlinuz-5.14.0-rescue"\nargs="ro"\n')


@pytest.mark.parametrize('group, tokens, present', [
    (('hugepagesz=1G', 'hugepages=4'), ['ro', 'hugepagesz=1G', 'hugepages=4', 'quiet'], True),
    (('hugepagesz=1G', 'hugepages=4'), ['hugepagesz=1G', 'quiet', 'hugepages=4'], False),
    (('hugepagesz=1G', 'hugepages=4'), ['hugepagesz=2M', 'hugepages=4'], False),
    (('hugepagesz=1G', 'hugepages=4'), ['hugepages=4', 'hugepagesz=1G'], False),
    (('default_hugepagesz=1G',), ['default_hugepagesz=1G'], True),
    (('default_hugepagesz=1G',), [], False),
])
def test_group_present(group, tokens, present):
    assert _bootloader.group_present(group, tokens) is present


def test_running(fake_host):
    fake_host.write('/proc/cmdline', 'ro hugepagesz=1G hugepages=4 default_hugepagesz=1G quiet\n')
    assert _bootloader.running([('hugepagesz=1G', 'hugepages=4'), ('default_hugepagesz=1G',)])
    assert not _bootloader.running([('hugepagesz=1G', 'hugepages=8')])
    assert _bootloader.running([])


@pytest.mark.parametrize('tokens, add, remove, after', [
    (['ro', 'hugepages=4'], ['hugepagesz=1G', 'hugepages=8'], [], ['ro', 'hugepagesz=1G', 'hugepages=8']),
    (['ro', 'hugepagesz=1G', 'hugepages=8', 'quiet'], [], ['hugepagesz=1G', 'hugepages=8'], ['ro', 'quiet']),
    (['ro', 'hugepages=9'], [], ['hugepages=8'], ['ro', 'hugepages=9']),      # exact values only
    (['ro', 'nosmt'], [], ['nosmt'], ['ro']),
])
def test_grubby_edit(tokens, add, remove, after):
    assert _bootloader.grubby_edit(tokens, add, remove) == after


def test_detect():
    assert _bootloader.detect(FakeModule(['grubby', 'update-grub'])) == 'grubby'
    assert _bootloader.detect(FakeModule(['update-grub'])) == 'grub_d'
    assert _bootloader.detect(FakeModule(['grub-mkconfig'])) is None


def test_grub_d_plan_apply_and_ledger(fake_host):
    m = FakeModule(['grub-mkconfig'])
    ledger = _ledger.Ledger(m)
    b = _bootloader.make(m, 'grub_d')
    assert b.plan(['hugepagesz=1G', 'hugepages=2']) is True
    assert b.diff()['before_header'] == _bootloader.GRUB_D_PATH + ' (absent)'
    assert m.calls == []
    b.apply(ledger, 'hugepages')
    assert m.calls == [['/usr/bin/grub-mkconfig', '-o', '/boot/grub/grub.cfg']]
    assert fake_host.read(_bootloader.GRUB_D_PATH).endswith(
        'GRUB_CMDLINE_LINUX_DEFAULT="$GRUB_CMDLINE_LINUX_DEFAULT hugepagesz=1G hugepages=2"\n')
    assert ledger.files_of('hugepages') == [_bootloader.GRUB_D_PATH]
    b = _bootloader.make(m, 'grub_d')
    assert b.plan(['hugepagesz=1G', 'hugepages=2']) is False
    assert b.apply() is False
    assert b.plan([]) is True
    b.apply()
    assert not fake_host.exists(_bootloader.GRUB_D_PATH)


def test_grub_d_without_tools_fails(fake_host):
    with pytest.raises(AssertionError, match='needs update-grub or grub-mkconfig'):
        _bootloader.make(FakeModule(), 'grub_d').plan(['hugepagesz=1G', 'hugepages=2'])


def test_grubby_plan(fake_host):
    m = FakeModule(['grubby'], out=GRUBBY_INFO)
    b = _bootloader.make(m, 'grubby')
    # entry 1 lacks them: add to ALL
    assert b.plan(['hugepagesz=1G', 'hugepages=4']) is True
    assert b.add == ['hugepagesz=1G', 'hugepages=4'] and b.remove == []
    assert b.configured() is True
    b.apply()
    assert m.calls[-1] == ['/usr/bin/grubby', '--update-kernel=ALL', '--args=hugepagesz=1G hugepages=4']
    # removing ours only, and only what an entry has
    b = _bootloader.make(m, 'grubby')
    assert b.plan([], ['hugepagesz=1G', 'hugepages=4', 'default_hugepagesz=1G']) is True
    assert b.remove == ['hugepagesz=1G', 'hugepages=4']
    assert b.after() == [['ro', 'crashkernel=auto'], ['ro']]
    b.apply()
    assert m.calls[-1] == ['/usr/bin/grubby', '--update-kernel=ALL', '--remove-args=hugepagesz=1G hugepages=4']


def test_grubby_failures(fake_host):
    with pytest.raises(AssertionError, match='grubby was not found'):
        _bootloader.make(FakeModule(), 'grubby').plan(['a=1'])
    with pytest.raises(AssertionError, match=r'grubby --info=ALL failed \(rc=1\): err'):
        _bootloader.make(FakeModule(['grubby'], rc=1), 'grubby').plan(['a=1'])


def test_cmdline_file(fake_host):
    m = FakeModule()
    b = _bootloader.make(m, 'file', '/run/vm/cmdline')
    assert b.plan(['hugepagesz=1G', 'hugepages=1']) is True
    b.apply()
    assert fake_host.read('/run/vm/cmdline') == 'hugepagesz=1G hugepages=1\n'
    assert m.calls == []
    with pytest.raises(ValueError):
        _bootloader.make(m, 'lilo')
