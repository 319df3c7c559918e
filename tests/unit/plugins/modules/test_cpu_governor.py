# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import shutil

import pytest

from ansible_collections.inference.host_tuning.plugins.module_utils import _ledger
from ansible_collections.inference.host_tuning.plugins.module_utils import _systemd
from ansible_collections.inference.host_tuning.plugins.modules import cpu_governor
from ansible_collections.inference.host_tuning.tests.unit.fakehost import FakeCommands
from ansible_collections.inference.host_tuning.tests.unit.plugins.modules.utils import fail_module, run_module

UNIT = 'inference-cpu-governor.service'
UNIT_PATH = '/etc/systemd/system/' + UNIT
LINK = _systemd.wants_link(UNIT)


def gov(cpu):
    return '/sys/devices/system/cpu/cpu%d/cpufreq/scaling_governor' % cpu


def governors(fake_host):
    return set(fake_host.read(gov(c)) for c in range(32))


@pytest.fixture
def cmds(fake_host, monkeypatch):
    """A booted systemd whose enable/disable make/remove the wants link in the fake tree."""
    fake_host.mkdir('/run/systemd/system')

    def systemctl(argv):
        if argv[1] == 'enable':
            fake_host.symlink('../' + argv[2], _systemd.wants_link(argv[2]))
        elif argv[1] == 'disable':
            fake_host.remove(_systemd.wants_link(argv[2]))
        return 0, '', ''

    return FakeCommands(bins=['systemctl'], handlers={'systemctl': systemctl}).install(monkeypatch)


def test_sets_every_cpu_and_installs_enabled_unit(fake_host, cmds):
    r = run_module(cpu_governor, {})
    assert r['changed'] is True
    assert r['cpus'] == 32 and r['before'] == ['powersave'] and r['after'] == ['performance']
    assert r['no_cpufreq'] is False and 'skipped' not in r and r['skip_reason'] is None and r['enabled'] is True
    assert governors(fake_host) == {'performance\n'}
    unit = fake_host.read(UNIT_PATH)
    for line in ('Type=oneshot', 'RemainAfterExit=yes', 'WantedBy=multi-user.target',
                 'echo performance > "$$f"', 'cpu[0-9]*/cpufreq/scaling_governor'):
        assert line in unit
    assert cmds.names() == ['systemctl daemon-reload', 'systemctl enable ' + UNIT]
    assert fake_host.exists(LINK)
    data = json.loads(fake_host.read(_ledger.LEDGER_PATH))
    assert data['runtime'][gov(0)] == dict(data['runtime'][gov(0)], value='powersave', owner='cpu_governor')
    assert len(data['runtime']) == 32
    assert data['files'][UNIT_PATH]['existed'] is False
    assert r['diff'][0]['after'] == unit


def test_check_mode_writes_nothing(fake_host, cmds):
    before = fake_host.snapshot()
    r = run_module(cpu_governor, {}, check=True)
    assert r['changed'] is True and r['after'] == ['performance'] and r['enabled'] is True
    assert fake_host.snapshot() == before and cmds.calls == []


def test_idempotent(fake_host, cmds):
    run_module(cpu_governor, {})
    cmds.calls[:] = []
    assert run_module(cpu_governor, {}, check=True)['changed'] is False
    r = run_module(cpu_governor, {})
    assert r['changed'] is False and r['before'] == ['performance']
    assert cmds.calls == []


def test_absent_restores(fake_host, cmds):
    fake_host.write(gov(3), 'schedutil\n')
    fake_host.write('/sys/devices/system/cpu/cpu3/cpufreq/scaling_available_governors',
                    'performance powersave schedutil\n')
    pristine = fake_host.snapshot('/sys', '/etc')
    run_module(cpu_governor, {})
    cmds.calls[:] = []
    assert run_module(cpu_governor, {'state': 'absent'}, check=True)['changed'] is True
    assert cmds.calls == []
    r = run_module(cpu_governor, {'state': 'absent'})
    assert r['changed'] is True and r['after'] == ['powersave', 'schedutil'] and r['enabled'] is False
    assert cmds.names() == ['systemctl disable ' + UNIT, 'systemctl daemon-reload']
    assert fake_host.snapshot('/sys', '/etc') == pristine
    assert not fake_host.exists(UNIT_PATH) and not fake_host.exists(LINK)
    assert not fake_host.exists(_ledger.LEDGER_PATH)
    assert run_module(cpu_governor, {'state': 'absent'})['changed'] is False


def test_no_cpufreq_is_skipped_cleanly(fake_host, cmds):
    for c in range(32):
        shutil.rmtree(fake_host.path('/sys/devices/system/cpu/cpu%d/cpufreq' % c))
    before = fake_host.snapshot()
    r = run_module(cpu_governor, {})
    assert r['changed'] is False and r['no_cpufreq'] is True and 'skipped' not in r and 'cpufreq' in r['skip_reason']
    assert r['cpus'] == 0 and r['before'] == [] and r['after'] == []
    after = fake_host.snapshot()
    ledger = json.loads(after.pop('/var/lib/inference_host_tuning/ledger.json'))
    # nothing changed on the host; what it was asked is recorded for the audit
    assert after == before and cmds.calls == []
    assert ledger['requests'] == {'cpu_governor': {'': {'governor': 'performance'}}} and ledger['files'] == {}
    assert not fake_host.exists(UNIT_PATH)


def test_readonly_sysfs_installs_unit_and_warns(fake_host, cmds):
    fake_host.make_readonly('/sys')
    r = run_module(cpu_governor, {})
    assert r['changed'] is True and r['runtime_skipped'] is True
    assert r['after'] == ['powersave']
    assert governors(fake_host) == {'powersave\n'}
    assert fake_host.exists(UNIT_PATH) and fake_host.exists(LINK)
    assert any('read-only' in w for w in cmds.warnings)
    assert run_module(cpu_governor, {})['changed'] is False
    assert 'runtime=required' in fail_module(cpu_governor, {'runtime': 'required'})['msg']


def test_not_booted_enables_without_daemon_reload(fake_host, cmds):
    shutil.rmtree(fake_host.path('/run/systemd'))
    run_module(cpu_governor, {})
    assert cmds.names() == ['systemctl enable ' + UNIT]


def test_no_systemctl_installs_unit_with_warning(fake_host, cmds):
    cmds.bins.clear()
    r = run_module(cpu_governor, {})
    assert r['changed'] is True and r['enabled'] is False
    assert fake_host.exists(UNIT_PATH) and cmds.calls == []
    assert any('not enabled' in w for w in cmds.warnings)


def test_other_governor_rewrites_unit_and_reloads(fake_host, cmds):
    for c in range(32):
        fake_host.write('/sys/devices/system/cpu/cpu%d/cpufreq/scaling_available_governors' % c,
                        'performance powersave schedutil\n')
    run_module(cpu_governor, {})
    cmds.calls[:] = []
    r = run_module(cpu_governor, {'governor': 'schedutil'})
    assert r['changed'] is True and r['after'] == ['schedutil']
    assert cmds.names() == ['systemctl daemon-reload']
    assert 'echo schedutil' in fake_host.read(UNIT_PATH)
    # the ledger still holds the very first values
    run_module(cpu_governor, {'state': 'absent'})
    assert governors(fake_host) == {'powersave\n'}


@pytest.mark.parametrize('governor, words', [
    ('ondemand', ['ondemand', 'performance, powersave']),
    ('perf; reboot', ['not a cpufreq governor']),
    ('', ['not a cpufreq governor']),
])
def test_bad_governor_fails_and_writes_nothing(fake_host, cmds, governor, words):
    before = fake_host.snapshot()
    r = fail_module(cpu_governor, {'governor': governor})
    for w in words:
        assert w in r['msg']
    assert fake_host.snapshot() == before and cmds.calls == []


def test_governor_must_be_offered_by_every_cpu(fake_host, cmds):
    fake_host.write('/sys/devices/system/cpu/cpu0/cpufreq/scaling_available_governors',
                    'performance powersave schedutil\n')
    assert 'not offered by every CPU' in fail_module(cpu_governor, {'governor': 'schedutil'})['msg']


def test_absent_without_ledger_removes_only_our_unit(fake_host, cmds):
    run_module(cpu_governor, {})
    fake_host.remove(_ledger.LEDGER_PATH)          # record lost
    r = run_module(cpu_governor, {'state': 'absent'})
    assert r['changed'] is True and not fake_host.exists(UNIT_PATH) and not fake_host.exists(LINK)
    assert governors(fake_host) == {'performance\n'}   # nothing recorded, nothing to restore
    fake_host.write(UNIT_PATH, '[Service]\nExecStart=/bin/true\n')
    assert run_module(cpu_governor, {'state': 'absent'})['changed'] is False
    assert fake_host.exists(UNIT_PATH)
