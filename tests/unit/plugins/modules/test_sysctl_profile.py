# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import re

import pytest
import yaml

from ansible.module_utils import basic

from ansible_collections.inference.host_tuning.plugins.module_utils import _files
from ansible_collections.inference.host_tuning.plugins.module_utils import _ledger
from ansible_collections.inference.host_tuning.plugins.module_utils import _sysctl
from ansible_collections.inference.host_tuning.plugins.modules import revert
from ansible_collections.inference.host_tuning.plugins.modules import sysctl_profile
from ansible_collections.inference.host_tuning.tests.unit.fakehost import DEBUG_SCHED
from ansible_collections.inference.host_tuning.tests.unit.plugins.modules.utils import fail_module, run_module

CONF = _sysctl.DEFAULT_PATH
TMPFILES = _sysctl.DEFAULT_TMPFILES_PATH
MIGRATION = DEBUG_SCHED + '/migration_cost_ns'
# What the fake host holds; absent must bring exactly this back.
RUNTIME = ('/proc/sys', '/sys/kernel/debug')
FILES = ('/etc', '/var')


@pytest.fixture
def warnings(monkeypatch):
    """Every module.warn() message of the test, in order."""
    seen = []
    monkeypatch.setattr(basic.AnsibleModule, 'warn', lambda self, msg, **kw: seen.append(msg))
    return seen


def proc(host, key):
    return host.read(_sysctl.proc_path(key)).strip()


def conf_pairs(text):
    return dict(_sysctl.parse_conf(text))


# -- apply ----------------------------------------------------------------------------

def test_latency_profile_applies_and_persists(fake_host, warnings):
    result = run_module(sysctl_profile, {'profile': 'inference_latency'})
    assert result['changed'] is True
    assert warnings == []
    settings = _sysctl.PROFILES['inference_latency']['settings']

    text = fake_host.read(CONF)
    assert text.startswith(_files.header('sysctl_profile'))
    lines = text.splitlines()
    keys = [line.split(' = ')[0] for line in lines if ' = ' in line and not line.startswith('#')]
    assert keys == sorted(keys)
    # every key has its why as the comment line right above it
    for i, line in enumerate(lines):
        if ' = ' in line and not line.startswith('#'):
            key = line.split(' = ')[0]
            assert lines[i - 1] == '# ' + settings[key]['why']
    persisted = conf_pairs(text)
    assert 'kernel.sched_migration_cost_ns' not in persisted  # 6.1: debugfs, not sysctl.d
    assert persisted['vm.swappiness'] == '1'
    assert persisted['vm.max_map_count'] == '1048576'
    assert persisted['kernel.shmmax'] == '18446744073692774399'  # raise-only: the higher default is kept

    for key, value in (('vm.swappiness', '1'), ('kernel.numa_balancing', '0'), ('vm.dirty_ratio', '10'),
                       ('vm.dirty_background_ratio', '3'), ('vm.max_map_count', '1048576'),
                       ('vm.min_free_kbytes', '1048576'), ('net.core.somaxconn', '65535'),
                       ('fs.inotify.max_user_watches', '524288'), ('kernel.shmmax', '18446744073692774399')):
        assert proc(fake_host, key) == value, key
    assert fake_host.read(MIGRATION) == '5000000\n'
    tmpfiles = fake_host.read(TMPFILES)
    assert tmpfiles.startswith(_files.header('sysctl_profile'))
    assert 'w %s - - - - 5000000\n' % MIGRATION in tmpfiles

    k = result['sysctl_keys']['vm.swappiness']
    assert k == dict(k, requested='1', desired='1', before='60', after='1', location='/proc/sys/vm/swappiness',
                     persisted_in=CONF, applied={'runtime': True, 'persisted': True}, changed=True,
                     skipped=None, raise_only=False, source='profile')
    assert result['sysctl_keys']['kernel.sched_migration_cost_ns']['location'] == MIGRATION
    assert result['sysctl_keys']['kernel.sched_migration_cost_ns']['persisted_in'] == TMPFILES
    assert result['reboot_required'] is False
    ledger = json.loads(fake_host.read(_ledger.LEDGER_PATH))
    assert ledger['runtime']['/proc/sys/vm/swappiness'] == dict(ledger['runtime']['/proc/sys/vm/swappiness'],
                                                                value='60', owner='sysctl_profile')
    assert ledger['runtime'][MIGRATION]['value'] == '500000'
    assert ledger['files'][CONF]['existed'] is False
    # unchanged values (shmmax already higher) are not recorded
    assert '/proc/sys/kernel/shmmax' not in ledger['runtime']


def test_throughput_profile_values(fake_host):
    run_module(sysctl_profile, {'profile': 'inference_throughput'})
    assert proc(fake_host, 'vm.dirty_ratio') == '40'
    assert fake_host.read(MIGRATION) == '50000\n'
    assert fake_host.read(DEBUG_SCHED + '/min_granularity_ns') == '10000000\n'
    assert 'w %s/min_granularity_ns - - - - 10000000\n' % DEBUG_SCHED in fake_host.read(TMPFILES)


def test_check_mode_writes_nothing_and_predicts(fake_host):
    before = fake_host.snapshot()
    checked = run_module(sysctl_profile, {'profile': 'inference_latency'}, check=True)
    assert fake_host.snapshot() == before
    assert not fake_host.exists(_ledger.LEDGER_PATH)
    real = run_module(sysctl_profile, {'profile': 'inference_latency'})
    assert checked['changed'] is real['changed'] is True
    assert checked['sysctl_keys'] == real['sysctl_keys']
    assert run_module(sysctl_profile, {'profile': 'inference_latency'}, check=True)['changed'] is False


def test_second_run_is_idempotent(fake_host, warnings):
    run_module(sysctl_profile, {'profile': 'inference_latency'})
    snap = fake_host.snapshot()
    again = run_module(sysctl_profile, {'profile': 'inference_latency'})
    assert again['changed'] is False
    assert again['diff'] == []
    assert all(not k['changed'] for k in again['sysctl_keys'].values())
    assert fake_host.snapshot() == snap
    assert warnings == []


def test_diff_lists_files_and_runtime(fake_host):
    result = run_module(sysctl_profile, {'profile': 'inference_latency'}, diff=True)
    by_header = dict((d['after_header'], d) for d in result['diff'])
    assert by_header[CONF]['before_header'] == CONF + ' (absent)'
    assert by_header[CONF]['after'] == fake_host.read(CONF)
    assert by_header[TMPFILES]['after'] == fake_host.read(TMPFILES)
    runtime = by_header[sysctl_profile.RUNTIME_DIFF_HEADER]
    assert 'vm.swappiness = 60\n' in runtime['before']
    assert 'vm.swappiness = 1\n' in runtime['after']
    assert 'kernel.shmmax' not in runtime['after']
    assert 'diff' not in run_module(sysctl_profile, {'profile': 'inference_latency'}, diff=False)


def test_settings_override_and_add_without_profile(fake_host):
    result = run_module(sysctl_profile, {'profile': 'inference_latency',
                                         'settings': {'vm.swappiness': 0, 'net.ipv4.ip_local_port_range': '10240  65000'}})
    assert proc(fake_host, 'vm.swappiness') == '0'
    persisted = conf_pairs(fake_host.read(CONF))
    assert persisted['vm.swappiness'] == '0'
    assert persisted['net.ipv4.ip_local_port_range'] == '10240 65000'
    assert result['sysctl_keys']['vm.swappiness']['source'] == 'settings'
    assert 'profile inference_latency had 1' in result['sysctl_keys']['vm.swappiness']['why']
    only = run_module(sysctl_profile, {'settings': {'vm.swappiness': 5}})
    assert list(only['sysctl_keys']) == ['vm.swappiness']
    assert conf_pairs(fake_host.read(CONF)) == {'vm.swappiness': '5'}
    assert not fake_host.exists(TMPFILES)  # no debugfs knob left: our tmpfiles file is removed


def test_values_compare_normalised(fake_host):
    # the kernel shows "32768<TAB>60999"
    result = run_module(sysctl_profile, {'settings': {'net.ipv4.ip_local_port_range': '32768 60999'}})
    key = result['sysctl_keys']['net.ipv4.ip_local_port_range']
    assert key['changed'] is False and key['before'] == '32768 60999'
    assert fake_host.read('/proc/sys/net/ipv4/ip_local_port_range') == '32768\t60999\n'
    assert '/proc/sys/net/ipv4/ip_local_port_range' not in json.loads(fake_host.read(_ledger.LEDGER_PATH))['runtime']


def test_nothing_to_apply_fails(fake_host):
    assert 'give profile' in fail_module(sysctl_profile, {})['msg']
    assert 'give profile' in fail_module(sysctl_profile, {'settings': {}})['msg']


# -- absent ---------------------------------------------------------------------------

def test_absent_restores_exact_originals(fake_host):
    original = fake_host.snapshot(*RUNTIME)
    etc = fake_host.snapshot(*FILES)
    run_module(sysctl_profile, {'profile': 'inference_throughput', 'settings': {'net.ipv4.ip_local_port_range': '1024 65000'}})
    assert fake_host.snapshot(*RUNTIME) != original
    checked = run_module(sysctl_profile, {'state': 'absent'}, check=True)
    assert checked['changed'] is True
    assert fake_host.exists(CONF)
    result = run_module(sysctl_profile, {'state': 'absent'})
    assert result['changed'] is True
    assert result['sysctl_keys']['vm.swappiness']['before'] == '1'
    assert result['sysctl_keys']['vm.swappiness']['after'] == '60'
    assert result['sysctl_keys']['kernel.sched_migration_cost_ns']['after'] == '500000'
    assert fake_host.snapshot(*RUNTIME) == original  # byte for byte, the tab included
    assert not fake_host.exists(CONF) and not fake_host.exists(TMPFILES)
    assert fake_host.snapshot(*FILES) == etc  # ledger gone too
    assert run_module(sysctl_profile, {'state': 'absent'})['changed'] is False


def test_absent_with_nothing_recorded_is_a_noop(fake_host):
    before = fake_host.snapshot()
    result = run_module(sysctl_profile, {'state': 'absent'})
    assert result['changed'] is False and result['sysctl_keys'] == {} and result['diff'] == []
    assert fake_host.snapshot() == before


def test_absent_restores_a_file_that_was_there(fake_host):
    fake_host.write(CONF, 'vm.swappiness = 30\n')
    run_module(sysctl_profile, {'settings': {'vm.swappiness': 1}})
    run_module(sysctl_profile, {'state': 'absent'})
    assert fake_host.read(CONF) == 'vm.swappiness = 30\n'


@pytest.mark.parametrize('check', [True, False])
def test_absent_leaves_a_foreign_file_at_its_paths(fake_host, check):
    """No ledger record and no header of ours: the files at path and tmpfiles_path are someone else's."""
    fake_host.write(CONF, 'vm.swappiness = 30\n')
    fake_host.write(TMPFILES, 'w %s - - - - 1000\n' % MIGRATION)
    before = fake_host.snapshot()
    result = run_module(sysctl_profile, {'state': 'absent'}, check=check)
    assert result['changed'] is False and result['diff'] == []
    assert fake_host.snapshot() == before


def test_absent_removes_its_own_file_without_a_record(fake_host):
    run_module(sysctl_profile, {'settings': {'vm.swappiness': 1}})
    fake_host.remove(_ledger.LEDGER_PATH)       # the ledger lost: our header still says the file is ours
    result = run_module(sysctl_profile, {'state': 'absent'})
    assert result['changed'] is True and [d['before_header'] for d in result['diff']] == [CONF]
    assert not fake_host.exists(CONF)
    assert proc(fake_host, 'vm.swappiness') == '1'      # no record, nothing to restore


def test_after_a_lost_ledger_revert_removes_our_file_and_never_puts_our_old_values_back(fake_host):
    """The state directory wiped, then a converge: the file there is our own older output, so its original is
    "no file" - revert (and state=absent) remove it instead of putting the old tuning back."""
    run_module(sysctl_profile, {'settings': {'vm.swappiness': 5}})
    fake_host.remove(_ledger.LEDGER_PATH)
    run_module(sysctl_profile, {'settings': {'vm.swappiness': 1}})
    assert proc(fake_host, 'vm.swappiness') == '1'
    result = run_module(revert, {})
    assert result['changed'] is True
    assert not fake_host.exists(CONF)
    assert proc(fake_host, 'vm.swappiness') == '5'        # the runtime value recorded by the second run


# -- read-only runtime (unprivileged container) ---------------------------------------

def test_readonly_proc_sys_persists_warns_and_is_idempotent(fake_host, warnings):
    fake_host.make_readonly('/proc/sys')
    runtime = fake_host.snapshot('/proc/sys')
    checked = run_module(sysctl_profile, {'profile': 'inference_latency'}, check=True)
    result = run_module(sysctl_profile, {'profile': 'inference_latency'})
    assert checked['changed'] is result['changed'] is True
    assert checked['sysctl_keys'] == result['sysctl_keys']
    assert fake_host.snapshot('/proc/sys') == runtime
    assert conf_pairs(fake_host.read(CONF))['vm.swappiness'] == '1'
    k = result['sysctl_keys']['vm.swappiness']
    assert k['skipped'].startswith('read-only') and k['changed'] is False
    assert k['applied'] == {'runtime': False, 'persisted': True}
    assert k['after'] == '60'
    assert result['reboot_required'] is True
    assert any('read-only' in w and 'vm.swappiness' in w for w in warnings)
    # debugfs is not read-only here, so it is still applied
    assert fake_host.read(MIGRATION) == '5000000\n'
    again = run_module(sysctl_profile, {'profile': 'inference_latency'})
    assert again['changed'] is False


def test_readonly_with_runtime_required_fails_before_writing(fake_host):
    fake_host.make_readonly('/proc/sys')
    before = fake_host.snapshot()
    result = fail_module(sysctl_profile, {'profile': 'inference_latency', 'runtime': 'required'})
    assert 'runtime=required' in result['msg'] and 'vm.swappiness' in result['msg']
    assert fake_host.snapshot() == before


def test_runtime_skip_only_persists(fake_host):
    before = fake_host.snapshot(*RUNTIME)
    result = run_module(sysctl_profile, {'profile': 'inference_latency', 'runtime': 'skip'})
    assert result['changed'] is True
    assert fake_host.snapshot(*RUNTIME) == before
    assert result['sysctl_keys']['vm.swappiness']['skipped'] == 'runtime: skip'
    assert fake_host.exists(CONF) and fake_host.exists(TMPFILES)


def test_absent_on_readonly_keeps_the_record(fake_host, warnings):
    run_module(sysctl_profile, {'settings': {'vm.swappiness': 1}})
    fake_host.make_readonly('/proc/sys')
    assert fail_module(sysctl_profile, {'state': 'absent', 'runtime': 'required'})['msg'].startswith('Nothing was changed')
    assert fake_host.exists(CONF)
    result = run_module(sysctl_profile, {'state': 'absent'})
    assert result['sysctl_keys']['vm.swappiness']['skipped'].startswith('read-only')
    assert not fake_host.exists(CONF)
    assert proc(fake_host, 'vm.swappiness') == '1'
    assert _ledger.Ledger(None).original_value('/proc/sys/vm/swappiness') == '60'
    assert any('not restored' in w for w in warnings)


# -- missing keys ---------------------------------------------------------------------

@pytest.mark.parametrize('policy, fails, warns', [
    ('ignore', False, False),
    ('warn', False, True),
    ('fail', True, False),
])
def test_missing_key_policy(fake_host, warnings, policy, fails, warns):
    args = {'settings': {'vm.no_such_knob': 1, 'vm.swappiness': 1}, 'missing': policy}
    if fails:
        before = fake_host.snapshot()
        result = fail_module(sysctl_profile, args)
        assert 'vm.no_such_knob' in result['msg'] and _sysctl.UNAVAILABLE in result['msg']
        assert fake_host.snapshot() == before
        return
    result = run_module(sysctl_profile, args)
    k = result['sysctl_keys']['vm.no_such_knob']
    assert k['skipped'].startswith(_sysctl.UNAVAILABLE)
    assert k['location'] is None and k['applied'] == {'runtime': False, 'persisted': False}
    assert 'vm.no_such_knob' not in fake_host.read(CONF)  # sysctl --system would fail on it
    assert any('vm.no_such_knob' in w for w in warnings) is warns
    assert run_module(sysctl_profile, args)['changed'] is False


# -- kernel versions ------------------------------------------------------------------

def test_kernel_5_10_uses_procfs(fake_host):
    fake_host.kernel('5.10.0-28-amd64')
    fake_host.sysctl('kernel.sched_migration_cost_ns', 500000)
    result = run_module(sysctl_profile, {'profile': 'inference_latency'})
    k = result['sysctl_keys']['kernel.sched_migration_cost_ns']
    assert k['location'] == '/proc/sys/kernel/sched_migration_cost_ns' and k['persisted_in'] == CONF
    assert proc(fake_host, 'kernel.sched_migration_cost_ns') == '5000000'
    assert conf_pairs(fake_host.read(CONF))['kernel.sched_migration_cost_ns'] == '5000000'
    assert fake_host.read(MIGRATION) == '500000\n'  # debugfs left alone
    assert not fake_host.exists(TMPFILES)


def test_kernel_6_1_uses_debugfs(fake_host):
    result = run_module(sysctl_profile, {'settings': {'kernel.sched_min_granularity_ns': 4000000,
                                                      'kernel.sched_latency_ns': 30000000}})
    assert result['sysctl_keys']['kernel.sched_min_granularity_ns']['location'] == DEBUG_SCHED + '/min_granularity_ns'
    assert fake_host.read(DEBUG_SCHED + '/latency_ns') == '30000000\n'
    assert not fake_host.exists(CONF)  # nothing for sysctl.d
    assert 'w %s/latency_ns - - - - 30000000\n' % DEBUG_SCHED in fake_host.read(TMPFILES)


def test_kernel_6_8_eevdf(fake_host, warnings):
    fake_host.kernel('6.8.0-45-generic')
    fake_host.remove(DEBUG_SCHED + '/min_granularity_ns')
    fake_host.remove(DEBUG_SCHED + '/wakeup_granularity_ns')
    fake_host.remove(DEBUG_SCHED + '/latency_ns')
    fake_host.write(DEBUG_SCHED + '/base_slice_ns', '3000000\n')
    result = run_module(sysctl_profile, {'profile': 'inference_throughput',
                                         'settings': {'kernel.sched_latency_ns': 24000000}})
    keys = result['sysctl_keys']
    assert keys['kernel.sched_min_granularity_ns']['location'] == DEBUG_SCHED + '/base_slice_ns'
    assert fake_host.read(DEBUG_SCHED + '/base_slice_ns') == '10000000\n'
    assert keys['kernel.sched_latency_ns']['skipped'].startswith(_sysctl.UNAVAILABLE)
    assert 'EEVDF' in keys['kernel.sched_latency_ns']['skipped']
    assert any('kernel.sched_latency_ns' in w for w in warnings)
    tmpfiles = fake_host.read(TMPFILES)
    assert 'base_slice_ns - - - - 10000000' in tmpfiles and 'latency_ns' not in tmpfiles
    assert not [k for k in conf_pairs(fake_host.read(CONF)) if k.startswith('kernel.sched_') and k.endswith('_ns')]


def test_debugfs_not_mounted_is_unavailable(fake_host, warnings):
    for name in ('migration_cost_ns', 'min_granularity_ns', 'wakeup_granularity_ns', 'latency_ns'):
        fake_host.remove(DEBUG_SCHED + '/' + name)
    result = run_module(sysctl_profile, {'profile': 'inference_latency'})
    k = result['sysctl_keys']['kernel.sched_migration_cost_ns']
    assert k['skipped'].startswith(_sysctl.UNAVAILABLE) and 'debugfs' in k['skipped']
    assert not fake_host.exists(TMPFILES)
    assert any('kernel.sched_migration_cost_ns' in w for w in warnings)
    before = fake_host.snapshot()
    assert 'kernel.sched_migration_cost_ns' in fail_module(
        sysctl_profile, {'profile': 'inference_latency', 'missing': 'fail'})['msg']
    assert fake_host.snapshot() == before


# -- raise-only -----------------------------------------------------------------------

def test_raise_only_never_lowers(fake_host):
    fake_host.sysctl('vm.max_map_count', 2000000)
    result = run_module(sysctl_profile, {'profile': 'inference_latency'})
    k = result['sysctl_keys']['vm.max_map_count']
    assert (k['requested'], k['desired'], k['changed']) == ('>1048576', '2000000', False)
    assert proc(fake_host, 'vm.max_map_count') == '2000000'
    assert conf_pairs(fake_host.read(CONF))['vm.max_map_count'] == '2000000'
    assert '/proc/sys/vm/max_map_count' not in json.loads(fake_host.read(_ledger.LEDGER_PATH))['runtime']


def test_raise_only_raises_a_lower_value(fake_host):
    result = run_module(sysctl_profile, {'settings': {'vm.max_map_count': '> 262144'}})
    assert result['sysctl_keys']['vm.max_map_count']['desired'] == '262144'
    assert proc(fake_host, 'vm.max_map_count') == '262144'


def test_raise_only_on_non_integer_current_fails(fake_host):
    before = fake_host.snapshot()
    msg = fail_module(sysctl_profile, {'settings': {'net.ipv4.ip_local_port_range': '>1024'}})['msg']
    assert 'net.ipv4.ip_local_port_range' in msg and 'integer' in msg
    assert fake_host.snapshot() == before


# -- boot precedence ------------------------------------------------------------------

@pytest.mark.parametrize('path, content, winner, aliases', [
    ('/etc/sysctl.d/99-zz.conf', 'vm.swappiness = 10\n', '/etc/sysctl.d/99-zz.conf', []),
    ('/etc/sysctl.conf', 'vm.swappiness=10\n', '/etc/sysctl.conf', ['/etc/sysctl.d/99-sysctl.conf']),
    ('/run/sysctl.d/95-runtime.conf', '-vm/swappiness = 10\n', '/run/sysctl.d/95-runtime.conf', []),
    ('/usr/lib/sysctl.d/91-vendor.conf', '; vendor\nvm.swappiness = 10\n', '/usr/lib/sysctl.d/91-vendor.conf', []),
])
def test_later_file_wins_warns_and_fails(fake_host, warnings, path, content, winner, aliases):
    fake_host.write(path, content)
    result = run_module(sysctl_profile, {'profile': 'inference_latency'})
    assert result['conflicts'] == [{'key': 'vm.swappiness', 'file': winner, 'aliases': aliases,
                                    'value': '10', 'ours': '1'}]
    assert len([w for w in warnings if winner in w]) == 1  # the Debian symlink is not reported twice
    assert 'vm.swappiness' in warnings[0]
    before = fake_host.snapshot()
    msg = fail_module(sysctl_profile, {'profile': 'inference_latency', 'on_conflict': 'fail',
                                       'settings': {'vm.swappiness': 0}})['msg']
    assert winner in msg and 'vm.swappiness' in msg
    assert fake_host.snapshot() == before


def test_conflict_ignore_only_reports(fake_host, warnings):
    fake_host.write('/etc/sysctl.d/99-zz.conf', 'vm.swappiness = 10\n')
    result = run_module(sysctl_profile, {'profile': 'inference_latency', 'on_conflict': 'ignore'})
    assert [c['file'] for c in result['conflicts']] == ['/etc/sysctl.d/99-zz.conf']
    assert warnings == []


@pytest.mark.parametrize('path, content', [
    ('/etc/sysctl.d/10-early.conf', 'vm.swappiness = 10\n'),          # sorted before ours: ours wins
    ('/etc/sysctl.d/99-zz.conf', 'vm.swappiness = 1\n'),              # after ours, same value
    ('/usr/lib/sysctl.d/90-inference-host-tuning.conf', 'vm.swappiness = 10\n'),  # shadowed by ours
    ('/etc/sysctl.d/99-zz.conf', 'vm.max_map_count = 2097152\n'),     # raise-only, above the floor
    ('/etc/sysctl.d/99-zz.conf', '# vm.swappiness = 10\n'),           # a comment
])
def test_not_a_conflict(fake_host, warnings, path, content):
    fake_host.write(path, content)
    result = run_module(sysctl_profile, {'profile': 'inference_latency'})
    assert result['conflicts'] == [] and warnings == []


def test_earlier_file_is_reported_as_overridden(fake_host):
    fake_host.write('/etc/sysctl.d/10-early.conf', 'vm.swappiness = 10\n')
    result = run_module(sysctl_profile, {'profile': 'inference_latency'})
    assert {'key': 'vm.swappiness', 'file': '/etc/sysctl.d/10-early.conf', 'aliases': [],
            'value': '10', 'ours': '1'} in result['overridden']


def test_later_raise_only_below_floor_conflicts(fake_host):
    fake_host.write('/etc/sysctl.d/99-zz.conf', 'vm.max_map_count = 65530\n')
    result = run_module(sysctl_profile, {'profile': 'inference_latency'})
    assert [c['key'] for c in result['conflicts']] == ['vm.max_map_count']


# -- bad input ------------------------------------------------------------------------

@pytest.mark.parametrize('args, needle', [
    ({'settings': {'vm/swappiness': 1}}, "'vm/swappiness'"),
    ({'settings': {'vm..swappiness': 1}}, "'vm..swappiness'"),
    ({'settings': {'../../etc/passwd': 1}}, "'../../etc/passwd'"),
    ({'settings': {'.vm.swappiness': 1}}, "'.vm.swappiness'"),
    ({'settings': {'vm.swappiness.': 1}}, "'vm.swappiness.'"),
    ({'settings': {'vm.swap piness': 1}}, "'vm.swap piness'"),
    ({'settings': {'net.ipv4.conf.*.rp_filter': 1}}, "'net.ipv4.conf.*.rp_filter'"),
    ({'settings': {'-vm.swappiness': 1}}, "'-vm.swappiness'"),
    ({'settings': {'': 1}}, "''"),
    ({'settings': {'vm.swappiness': '1\nkernel.panic = 1'}}, 'vm.swappiness'),
    ({'settings': {'vm.swappiness': '1\x00'}}, 'vm.swappiness'),
    ({'settings': {'vm.swappiness': '1\t2'}}, 'vm.swappiness'),
    ({'settings': {'vm.swappiness': True}}, 'vm.swappiness'),
    ({'settings': {'vm.swappiness': 1.5}}, 'vm.swappiness'),
    ({'settings': {'vm.swappiness': None}}, 'vm.swappiness'),
    ({'settings': {'vm.swappiness': [1]}}, 'vm.swappiness'),
    ({'settings': {'vm.swappiness': '  '}}, 'vm.swappiness'),
    ({'settings': {'vm.max_map_count': '>lots'}}, 'vm.max_map_count'),
    ({'settings': {'vm.max_map_count': '>-1'}}, 'vm.max_map_count'),
    ({'settings': {'vm.max_map_count': '>1.5'}}, 'vm.max_map_count'),
    ({'profile': 'inference_fastest'}, 'inference_latency'),
    ({'profile': 'inference_latency', 'path': 'sysctl.d/90-x.conf'}, 'path'),
    ({'profile': 'inference_latency', 'path': '/etc/sysctl.d/../sysctl.conf'}, 'path'),
    ({'profile': 'inference_latency', 'path': '/etc/sysctl.d/90-x'}, '.conf'),
    ({'profile': 'inference_latency', 'tmpfiles_path': CONF}, 'tmpfiles_path'),
])
def test_bad_input_fails_and_writes_nothing(fake_host, args, needle):
    # a valid key next to the bad one: nothing at all may be written
    if 'settings' in args:
        args = dict(args, profile='inference_latency')
    before = fake_host.snapshot()
    result = fail_module(sysctl_profile, args)
    assert needle in result['msg']
    assert fake_host.snapshot() == before


def test_all_bad_keys_are_named_at_once(fake_host):
    msg = fail_module(sysctl_profile, {'settings': {'a/b': 1, 'vm.swappiness': '1\n'}})['msg']
    assert "'a/b'" in msg and 'settings.vm.swappiness' in msg and 'nothing was changed' in msg


# -- documentation --------------------------------------------------------------------

def test_documentation_lists_every_profile_value_and_reason():
    doc = yaml.safe_load(sysctl_profile.DOCUMENTATION)
    text = ' '.join(doc['options']['profile']['description'])
    assert doc['options']['profile']['choices'] == sorted(_sysctl.PROFILES)
    for name, profile in _sysctl.PROFILES.items():
        for key, entry in profile['settings'].items():
            assert 'C(%s = %s): %s.' % (key, entry['value'], entry['why']) in text, (name, key)


def test_min_free_kbytes_reserve_is_capped_on_a_small_host(fake_host):
    """1 GiB reserved on a 1 GiB guest starves it (a kernel panic in the VM scenario): 1/32 of RAM at most."""
    meminfo = fake_host.read('/proc/meminfo')
    fake_host.write('/proc/meminfo', re.sub(r'MemTotal: +\d+ kB', 'MemTotal:        1004000 kB', meminfo))
    fake_host.sysctl('vm.min_free_kbytes', 4096)  # what the kernel picks for 1 GiB
    result = run_module(sysctl_profile, {'profile': 'inference_latency'}, check=True)
    item = result['sysctl_keys']['vm.min_free_kbytes']
    assert item['desired'] == '31375' and item['requested'] == '>31375'
    assert 'capped on this host to 1/32 of its 980 MiB of RAM (31375 kB)' in item['why']
    run_module(sysctl_profile, {'profile': 'inference_latency'})
    assert fake_host.read('/proc/sys/vm/min_free_kbytes') == '31375\n'
    assert 'vm.min_free_kbytes = 31375\n' in fake_host.read('/etc/sysctl.d/90-inference-host-tuning.conf')


def test_a_value_the_kernel_refuses_asks_for_no_reboot(fake_host, monkeypatch, warnings):
    """A reboot would refuse it again: with base_reboot_ok every run would reboot the host."""
    import errno
    from ansible_collections.inference.host_tuning.plugins.module_utils import _host
    real = _host.write_runtime

    def refuse(path, value):
        if path.endswith('/vm/swappiness'):
            raise _host.RuntimeWriteError(path, OSError(errno.EINVAL, 'Invalid argument'))
        return real(path, value)

    monkeypatch.setattr(_host, 'write_runtime', refuse)
    result = run_module(sysctl_profile, {'settings': {'vm.swappiness': 0}})
    assert result['reboot_required'] is False
    assert proc(fake_host, 'vm.swappiness') != '0'
    assert any('vm.swappiness' in w and 'Invalid argument' in w for w in warnings)
    # a read-only runtime is different: the value is persisted and applies at boot
    fake_host.make_readonly('/proc/sys/vm')
    monkeypatch.setattr(_host, 'write_runtime', real)
    result = run_module(sysctl_profile, {'settings': {'vm.swappiness': 0, 'vm.dirty_ratio': 11}})
    assert result['reboot_required'] is True
