# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

import pytest

from ansible_collections.inference.host_tuning.plugins.module_utils import _ledger
from ansible_collections.inference.host_tuning.plugins.modules import io_scheduler
from ansible_collections.inference.host_tuning.tests.unit.fakehost import FakeCommands
from ansible_collections.inference.host_tuning.tests.unit.plugins.modules.utils import fail_module, refused, run_module

RULE = '/etc/udev/rules.d/60-inference-io-scheduler.rules'


def sched(dev):
    return '/sys/block/%s/queue/scheduler' % dev


@pytest.fixture
def cmds(fake_host, monkeypatch):
    return FakeCommands(bins=['udevadm']).install(monkeypatch)


def test_none_on_nvme(fake_host, cmds):
    r = run_module(io_scheduler, {})
    assert r['changed'] is True
    assert r['devices'] == {
        'nvme0n1': dict(before='none', after='none', skipped=False, skip_reason=None),
        'nvme1n1': dict(before='mq-deadline', after='none', skipped=False, skip_reason=None),
    }
    assert fake_host.read(sched('nvme1n1')) == 'none\n'
    assert fake_host.read(sched('sda')) == '[mq-deadline] kyber bfq none\n'
    rule = fake_host.read(RULE)
    assert ('ACTION=="add|change", SUBSYSTEM=="block", ENV{DEVTYPE}=="disk", KERNEL=="nvme*n*", '
            'ATTR{queue/scheduler}="none"\n') in rule
    assert rule.startswith('# Managed by Ansible (inference.host_tuning.io_scheduler)')
    assert cmds.names() == ['udevadm control --reload-rules']
    assert r['rules_reloaded'] is True and r['rule_path'] == RULE
    data = json.loads(fake_host.read(_ledger.LEDGER_PATH))
    assert data['runtime'][sched('nvme1n1')]['value'] == 'mq-deadline'
    assert sched('nvme0n1') not in data['runtime']
    assert data['files'][RULE]['existed'] is False


def test_check_mode_writes_nothing(fake_host, cmds):
    before = fake_host.snapshot()
    r = run_module(io_scheduler, {}, check=True)
    assert r['changed'] is True and r['devices']['nvme1n1']['after'] == 'none'
    assert fake_host.snapshot() == before and cmds.calls == []


def test_idempotent(fake_host, cmds):
    fake_host.write(sched('nvme1n1'), '[none] mq-deadline kyber bfq\n')   # as the kernel shows it after the write
    run_module(io_scheduler, {})
    cmds.calls[:] = []
    assert run_module(io_scheduler, {}, check=True)['changed'] is False
    assert run_module(io_scheduler, {})['changed'] is False
    assert cmds.calls == []


def test_absent_restores_byte_for_byte(fake_host, cmds):
    fake_host.write(RULE, '# a rule of the admin\n')
    pristine = fake_host.snapshot('/etc')
    run_module(io_scheduler, {'scheduler': 'kyber', 'devices': ['nvme*n*', 'sd?']})
    assert fake_host.read(sched('sda')) == 'kyber\n'
    fake_host.write(sched('sda'), 'mq-deadline [kyber] bfq none\n')
    cmds.calls[:] = []
    check = run_module(io_scheduler, {'state': 'absent'}, check=True)
    assert check['changed'] is True and check['devices']['sda'] == dict(
        before='kyber', after='mq-deadline', skipped=False, skip_reason=None)
    r = run_module(io_scheduler, {'state': 'absent'})
    assert r['changed'] is True
    assert fake_host.snapshot('/etc') == pristine
    assert fake_host.read(sched('sda')) == 'mq-deadline\n'
    assert fake_host.read(sched('nvme0n1')) == 'none\n'
    assert fake_host.read(sched('nvme1n1')) == 'mq-deadline\n'
    assert cmds.names() == ['udevadm control --reload-rules']
    assert not fake_host.exists(_ledger.LEDGER_PATH)


def test_partitions_and_unoffered_schedulers_are_skipped(fake_host, cmds):
    fake_host.write('/sys/block/nvme0n1p1/partition', '1\n')
    fake_host.write('/sys/block/nvme2n1/queue/scheduler', '[none] mq-deadline\n')
    r = run_module(io_scheduler, {'scheduler': 'bfq'})
    assert 'nvme0n1p1' not in r['devices']
    assert r['devices']['nvme2n1'] == dict(before='none', after='none', skipped=True,
                                           skip_reason='bfq is not offered (offered: none mq-deadline)')
    assert r['devices']['nvme1n1']['after'] == 'bfq'
    assert any('nvme2n1 does not offer the bfq' in w for w in cmds.warnings)


def test_readonly_sysfs_installs_rule_and_warns(fake_host, cmds):
    fake_host.make_readonly('/sys')
    r = run_module(io_scheduler, {})
    assert r['changed'] is True and r['runtime_skipped'] is True
    assert r['devices']['nvme1n1'] == dict(before='mq-deadline', after='mq-deadline', skipped=True,
                                           skip_reason='read-only')
    assert fake_host.read(sched('nvme1n1')) == 'none [mq-deadline] kyber bfq\n'
    assert fake_host.exists(RULE)
    assert any('read-only' in w for w in cmds.warnings)
    assert run_module(io_scheduler, {})['changed'] is False
    assert 'runtime=required' in fail_module(io_scheduler, {'runtime': 'required'})['msg']


def test_udevadm_failure_is_a_warning(fake_host, cmds):
    cmds.handlers['udevadm'] = lambda argv: (1, '', 'Failed to send reload request: No such file or directory')
    r = run_module(io_scheduler, {})
    assert r['changed'] is True and r['rules_reloaded'] is False
    assert any('reload-rules failed' in w for w in cmds.warnings)


def test_without_udevadm(fake_host, cmds):
    cmds.bins.clear()
    r = run_module(io_scheduler, {})
    assert r['changed'] is True and r['rules_reloaded'] is False and cmds.calls == []


@pytest.mark.parametrize('args, words', [
    ({'scheduler': 'cfq'}, ['scheduler', 'none, mq-deadline, kyber, bfq']),
    ({'devices': []}, ['devices is empty']),
    ({'devices': ['nvme*", RUN+="/bin/sh']}, ['not a kernel-name glob']),
    ({'devices': ['sd a']}, ['not a kernel-name glob']),
    ({'devices': ['nvme0n1|sda']}, ['not a kernel-name glob']),
])
def test_bad_input_writes_nothing(fake_host, cmds, args, words):
    refused(fake_host, io_scheduler, args, words)
    assert cmds.calls == []


def test_absent_without_ledger_removes_only_our_rule(fake_host, cmds):
    run_module(io_scheduler, {})
    fake_host.remove(_ledger.LEDGER_PATH)          # record lost
    assert run_module(io_scheduler, {'state': 'absent'})['changed'] is True
    assert not fake_host.exists(RULE)
    fake_host.write(RULE, '# the admin wrote this one\n')
    assert run_module(io_scheduler, {'state': 'absent'})['changed'] is False
    assert fake_host.read(RULE) == '# the admin wrote this one\n'
