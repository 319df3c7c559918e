# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""nvidia_gpu against the real pynvml bindings and the fake libnvidia-ml.so.1.

Default fake state: GPU 0 H100 80GB HBM3 (MIG, 200-700 W), GPU 1 L40S (no MIG,
100-350 W), GPU 2 A100-SXM4-80GB (MIG, 100-400 W); all at their default power
limit, persistence off, compute mode default.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os

import pytest

from ansible_collections.inference.host_tuning.plugins.module_utils import _ledger
from ansible_collections.inference.host_tuning.plugins.modules import nvidia_gpu
from ansible_collections.inference.host_tuning.tests.fake_nvml.harness import fake_nvml, fake_nvml_lib  # noqa: F401  pylint: disable=unused-import
from ansible_collections.inference.host_tuning.tests.fake_nvml.harness import A100, H100, L40S, UUID
from ansible_collections.inference.host_tuning.tests.unit.plugins.modules.utils import fail_module, run_module


@pytest.fixture
def nv(fake_host, fake_nvml):  # noqa: F811  pylint: disable=redefined-outer-name
    return fake_nvml


def ledger(fake_host):
    return json.loads(fake_host.read(_ledger.LEDGER_PATH))


def test_persistence_and_power_max_are_applied(nv, fake_host):
    nv.update(gpu=H100, power_limit=500000)
    result = run_module(nvidia_gpu, {'persistence_mode': True, 'power_limit': 'max'})
    assert result['changed'] is True
    state = nv.state()
    assert [g['persistence_mode'] for g in state['gpus']] == [True, True, True]
    assert [g['power_limit'] for g in state['gpus']] == [700000, 350000, 400000]
    h100 = result['gpus'][H100]
    assert h100['settings']['power_limit'] == {'before': 500, 'after': 700}
    assert h100['settings']['persistence_mode'] == {'before': False, 'after': True}
    assert result['gpus'][L40S]['settings']['power_limit'] == {'before': 350, 'after': 350}
    assert [a['settings'] for a in result['applied']] == [
        ['persistence_mode', 'power_limit'], ['persistence_mode'], ['persistence_mode']]
    # the ledger keeps the originals for state=absent
    rec = ledger(fake_host)['extra']['nvidia_gpu'][UUID[H100]]
    assert rec['persistence_mode'] is False and rec['power_limit_mw'] == 500000
    assert rec['compute_mode'] == 'default'
    assert rec['applications_clocks'] == {'mem': 2619, 'sm': 1980}
    # idempotent
    again = run_module(nvidia_gpu, {'persistence_mode': True, 'power_limit': 'max'})
    assert again['changed'] is False and again['applied'] == []


@pytest.mark.parametrize('value, expected', [
    ('500', [500000, 350000, 400000]),
    ('default', [700000, 350000, 400000]),
    ('max', [700000, 350000, 400000]),
])
def test_power_limit_values(nv, fake_host, value, expected):
    nv.update(gpu=L40S, power_limit=200000)
    args = {'power_limit': value, 'gpus': [str(H100), str(L40S), str(A100)]}
    if value == '500':
        args['gpus'] = [str(H100)]
        expected = [500000, 200000, 400000]
    run_module(nvidia_gpu, args)
    assert [g['power_limit'] for g in nv.state()['gpus']] == expected


def test_power_limit_out_of_range_fails_before_any_change(nv, fake_host):
    before = nv.raw()
    result = fail_module(nvidia_gpu, {'power_limit': 500, 'persistence_mode': True})
    # 500 W is fine on the H100 but outside the L40S's range: nothing may be applied anywhere
    assert 'GPU 1' in result['msg'] and 'L40S' in result['msg']
    assert '100 to 350 W' in result['msg']
    assert nv.raw() == before
    assert not fake_host.exists(_ledger.LEDGER_PATH)


def test_mig_on_h100_is_pending_and_needs_reset(nv, fake_host):
    result = run_module(nvidia_gpu, {'gpus': [UUID[H100]], 'mig_mode': 'enabled'})
    assert result['changed'] is True
    assert nv.gpu(H100)['mig_pending'] == 1 and nv.gpu(H100)['mig_current'] == 0
    assert result['reset_required'] is True and result['reboot_required'] is True
    assert result['gpus'][0]['mig'] == {'current': 'disabled', 'pending': 'enabled'}
    assert result['gpus'][0]['reset_required'] is True
    # idempotent: compared with the pending mode, still reports the needed reset
    again = run_module(nvidia_gpu, {'gpus': [UUID[H100]], 'mig_mode': 'enabled'})
    assert again['changed'] is False and again['reset_required'] is True


def test_mig_applied_immediately_needs_no_reset(nv, fake_host):
    nv.update(gpu=A100, mig_apply_immediately=True)
    result = run_module(nvidia_gpu, {'gpus': ['2'], 'mig_mode': 'enabled'})
    assert result['changed'] is True and result['reset_required'] is False
    assert nv.gpu(A100)['mig_current'] == 1


def test_mig_on_l40s_fails_by_default(nv, fake_host):
    before = nv.raw()
    result = fail_module(nvidia_gpu, {'mig_mode': 'enabled', 'persistence_mode': True})
    assert 'mig_mode on GPU 1' in result['msg'] and 'unsupported=skip' in result['msg']
    assert result['applied'] == []
    assert nv.raw() == before


def test_mig_on_l40s_is_skipped_on_request(nv, fake_host):
    result = run_module(nvidia_gpu, {'mig_mode': 'enabled', 'unsupported': 'skip'})
    assert result['changed'] is True
    assert [g['mig_pending'] for g in nv.state()['gpus']] == [1, 0, 1]
    assert [(s['index'], s['setting']) for s in result['skipped_settings']] == [(L40S, 'mig_mode')]
    assert 'Not Supported' in result['skipped_settings'][0]['reason']
    # no top-level 'skipped': Ansible would take it for the task's status and hide 'changed'
    assert 'skipped' not in result
    assert result['gpus'][L40S]['changed'] is False
    assert result['changed'] is any(g['changed'] for g in result['gpus'])
    assert result['gpus'][L40S]['mig'] is None


def test_no_permission_is_a_clean_nvml_error(nv, fake_host):
    nv.update(permission=False)
    result = fail_module(nvidia_gpu, {'persistence_mode': True})
    assert 'Insufficient Permissions' in result['msg']
    assert 'nvmlDeviceSetPersistenceMode' in result['msg'] and UUID[H100] in result['msg']
    assert 'become' in result['msg']
    assert result['failed_gpu']['index'] == H100 and result['applied'] == []


def test_fault_on_second_set_reports_what_was_applied(nv, fake_host):
    nv.update(fail_call={'name': 'nvmlDeviceSetPowerManagementLimit', 'nth': 2, 'error': 999})
    nv.update(gpu=H100, power_limit=300000)
    nv.update(gpu=L40S, power_limit=200000)
    nv.update(gpu=A100, power_limit=200000)
    result = fail_module(nvidia_gpu, {'power_limit': 'max'})
    assert result['failed_gpu']['index'] == L40S and result['failed_gpu']['setting'] == 'power_limit'
    assert result['applied'] == [{'index': H100, 'uuid': UUID[H100], 'settings': ['power_limit']}]
    assert 'Unknown Error' in result['msg'] and 'GPU 0: power_limit' in result['msg']
    assert [g['power_limit'] for g in nv.state()['gpus']] == [700000, 200000, 200000]
    # the original of the GPU that changed is in the ledger, so state=absent can restore it
    assert ledger(fake_host)['extra']['nvidia_gpu'][UUID[H100]]['power_limit_mw'] == 300000


def test_check_mode_predicts_and_changes_nothing(nv, fake_host):
    before = nv.raw()
    args = {'persistence_mode': True, 'compute_mode': 'exclusive_process', 'mig_mode': 'enabled',
            'unsupported': 'skip'}
    predicted = run_module(nvidia_gpu, args, check=True)
    assert nv.raw() == before
    assert not fake_host.exists(_ledger.LEDGER_PATH)
    assert predicted['changed'] is True and predicted['applied'] == []
    assert predicted['reset_required'] is True
    assert predicted['diff'][0]['before'] == 'persistence_mode: false\nmig_mode: disabled\ncompute_mode: default\n'
    assert predicted['diff'][0]['after'] == 'persistence_mode: true\nmig_mode: enabled\ncompute_mode: exclusive_process\n'
    real = run_module(nvidia_gpu, args)
    assert real['changed'] is True and real['diff'] == predicted['diff']
    assert [g['compute_mode'] for g in nv.state()['gpus']] == [3, 3, 3]
    assert run_module(nvidia_gpu, args, check=True)['changed'] is False


@pytest.mark.parametrize('selector', ['1', UUID[L40S], UUID[L40S].lower(), '27:00.0', '0000:27:00.0', '00000000:27:00.0'])
def test_selection_by_index_uuid_and_bus_id(nv, fake_host, selector):
    result = run_module(nvidia_gpu, {'gpus': [selector], 'persistence_mode': True})
    assert [g['index'] for g in result['gpus']] == [L40S]
    assert [g['persistence_mode'] for g in nv.state()['gpus']] == [False, True, False]


@pytest.mark.parametrize('selector', ['7', 'GPU-00000000-dead-beef-0000-000000000000', '99:00.0', 'first'])
def test_unknown_gpu_fails_listing_the_gpus(nv, fake_host, selector):
    before = nv.raw()
    result = fail_module(nvidia_gpu, {'gpus': [selector], 'persistence_mode': True})
    assert 'no GPU matches %r' % selector in result['msg']
    assert UUID[A100] in result['msg'] and '00000000:57:00.0' in result['msg']
    assert nv.raw() == before


@pytest.mark.parametrize('args, message', [
    ({'power_limit': 'lots'}, "power_limit: 'lots' is not a number of watts"),
    ({'application_clocks': {'mem': 2619}}, 'application_clocks'),
    ({'locked_clocks': {'min': 1800, 'max': 1500}}, 'min (1800 MHz) is above max (1500 MHz)'),
    ({'locked_clocks': 'sometimes'}, 'give reset or a dictionary with exactly min and max'),
    ({'gpus': ['all', '0'], 'persistence_mode': True}, '"all" cannot be combined'),
])
def test_bad_input_fails_clearly(nv, fake_host, args, message):
    before = nv.raw()
    assert message in fail_module(nvidia_gpu, args)['msg']
    assert nv.raw() == before


def test_application_and_locked_clocks(nv, fake_host):
    args = {'gpus': ['0'], 'application_clocks': {'mem': 2619, 'sm': 1755}, 'locked_clocks': {'min': 1410, 'max': 1755}}
    result = run_module(nvidia_gpu, args)
    assert result['changed'] is True
    gpu = nv.gpu(H100)
    assert (gpu['app_clock_mem'], gpu['app_clock_sm']) == (2619, 1755)
    assert (gpu['locked_clock_min'], gpu['locked_clock_max']) == (1410, 1755)
    assert ledger(fake_host)['extra']['nvidia_gpu'][UUID[H100]]['locked_clocks']['max'] == 1755
    assert run_module(nvidia_gpu, args)['changed'] is False
    reset = run_module(nvidia_gpu, {'gpus': ['0'], 'application_clocks': 'reset', 'locked_clocks': 'reset'})
    assert reset['changed'] is True
    gpu = nv.gpu(H100)
    assert (gpu['app_clock_sm'], gpu['locked_clock_min'], gpu['locked_clock_max']) == (1980, 0, 0)
    assert run_module(nvidia_gpu, {'gpus': ['0'], 'application_clocks': 'reset', 'locked_clocks': 'reset'})['changed'] is False


def test_unsupported_application_clocks_mem_is_an_nvml_error(nv, fake_host):
    result = fail_module(nvidia_gpu, {'gpus': ['0'], 'application_clocks': {'mem': 1000, 'sm': 1500}})
    assert 'Invalid Argument' in result['msg'] and 'nvmlDeviceSetApplicationsClocks' in result['msg']


def test_absent_restores_what_was_recorded(nv, fake_host):
    original = nv.state()
    run_module(nvidia_gpu, {'persistence_mode': True, 'power_limit': 300, 'gpus': ['1', '2'],
                            'compute_mode': 'exclusive_process', 'locked_clocks': {'min': 1000, 'max': 1200}})
    run_module(nvidia_gpu, {'power_limit': 250, 'gpus': ['1']})  # a second change keeps the first original
    assert nv.gpu(L40S)['power_limit'] == 250000
    predicted = run_module(nvidia_gpu, {'state': 'absent'}, check=True)
    assert predicted['changed'] is True and nv.gpu(L40S)['power_limit'] == 250000
    result = run_module(nvidia_gpu, {'state': 'absent'})
    assert result['changed'] is True
    assert nv.state() == original
    assert not fake_host.exists(_ledger.LEDGER_PATH)
    assert run_module(nvidia_gpu, {'state': 'absent'})['changed'] is False


def test_library_missing_is_a_clean_message(nv, fake_host, monkeypatch):
    import pynvml

    def no_library(name, *args, **kwargs):
        raise OSError('%s: cannot open shared object file: No such file or directory' % name)

    monkeypatch.setattr(pynvml, 'nvmlLib', None)
    monkeypatch.setattr(pynvml, 'CDLL', no_library)
    monkeypatch.setattr(pynvml, '_nvmlGetFunctionPointer_cache', {})
    result = fail_module(nvidia_gpu, {'persistence_mode': True})
    assert 'libnvidia-ml.so.1' in result['msg'] and 'install the NVIDIA driver' in result['msg']


def test_driver_not_loaded_is_a_clean_message(nv, fake_host):
    nv.update(driver_loaded=False)
    result = fail_module(nvidia_gpu, {'persistence_mode': True})
    assert 'no loaded NVIDIA kernel driver' in result['msg']


def test_pynvml_missing_names_the_package(nv, fake_host, monkeypatch):
    from ansible_collections.inference.host_tuning.plugins.module_utils import _nvml
    monkeypatch.setattr(_nvml, 'HAS_PYNVML', False)
    monkeypatch.setattr(_nvml, 'PYNVML_IMPORT_ERROR', 'Traceback: ImportError')
    result = fail_module(nvidia_gpu, {'persistence_mode': True})
    assert 'nvidia-ml-py' in result['msg'] and result['exception'] == 'Traceback: ImportError'


# -- boot_apply, numa_map_file: the files recorded in the ledger -----------------------------------
BOOT_UNIT = '/etc/systemd/system/inference-nvidia-settings.service'
BOOT_LINK = '/etc/systemd/system/multi-user.target.wants/inference-nvidia-settings.service'
BOOT_SETTINGS = '/etc/inference-host-tuning/nvidia.json'
BOOT_PROGRAM = '/usr/local/libexec/inference-host-tuning/nvidia-apply'
NUMA_MAP = '/etc/inference-host-tuning/gpu-numa.json'
BOOT_ARGS = {'persistence_mode': True, 'power_limit': 'max', 'unsupported': 'skip',
             'boot_apply': True, 'numa_map_file': NUMA_MAP}


def tree(host, *prefixes):
    """Every directory, symlink (its target) and file (content and mode) under the prefixes."""
    out = {}
    for prefix in prefixes:
        for dirpath, dirs, files in os.walk(host.path(prefix)):
            rel = '/' + os.path.relpath(dirpath, host.root)
            out[rel] = 'dir %o' % (os.stat(dirpath).st_mode & 0o7777)
            for name in dirs + files:
                full = os.path.join(dirpath, name)
                key = '/' + os.path.relpath(full, host.root)
                if os.path.islink(full):
                    out[key] = 'link ' + os.readlink(full)
                elif os.path.isfile(full):
                    with open(full, 'rb') as f:
                        out[key] = (f.read(), os.stat(full).st_mode & 0o7777)
    return out


def test_boot_apply_writes_the_unit_program_settings_and_numa_map(nv, fake_host):
    predicted = run_module(nvidia_gpu, BOOT_ARGS, check=True)
    assert predicted['changed'] is True and predicted['boot_unit_enabled'] is True
    assert not fake_host.exists(BOOT_UNIT) and not fake_host.exists(_ledger.LEDGER_PATH)

    result = run_module(nvidia_gpu, BOOT_ARGS)
    assert result['files'] == predicted['files'] == [
        {'path': BOOT_SETTINGS, 'action': 'written'}, {'path': BOOT_PROGRAM, 'action': 'written'},
        {'path': BOOT_UNIT, 'action': 'written'}, {'path': NUMA_MAP, 'action': 'written'},
        {'path': BOOT_LINK, 'action': 'linked'}]
    headers = [d['after_header'] for d in result['diff'][3:]]
    assert headers == [BOOT_SETTINGS, BOOT_PROGRAM, BOOT_UNIT, NUMA_MAP, BOOT_LINK]
    # what the boot program reads: the settings given, not MIG (the GPU keeps a pending MIG mode)
    assert json.loads(fake_host.read(BOOT_SETTINGS)) == {
        'managed_by': 'inference.host_tuning.nvidia_gpu', 'gpus': 'all', 'unsupported': 'skip',
        'settings': {'persistence_mode': True, 'power_limit': 'max'}}
    unit = fake_host.read(BOOT_UNIT)
    assert 'ExecStart=/usr/bin/python3 %s %s\n' % (BOOT_PROGRAM, BOOT_SETTINGS) in unit
    assert 'Type=oneshot\n' in unit and 'WantedBy=multi-user.target\n' in unit
    # the program is this collection's _nvidia_apply.py, byte for byte
    source = os.path.join(os.path.dirname(_ledger.__file__), '_nvidia_apply.py')
    with open(source) as f:
        assert fake_host.read(BOOT_PROGRAM) == f.read()
    assert os.readlink(fake_host.path(BOOT_LINK)) == BOOT_UNIT
    assert json.loads(fake_host.read(NUMA_MAP)) == {'0': 0, '1': 0, '2': 1} == result['numa_map']
    # every path is in the ledger, recorded as absent before
    files = ledger(fake_host)['files']
    assert sorted(files) == sorted([BOOT_SETTINGS, BOOT_PROGRAM, BOOT_UNIT, NUMA_MAP, BOOT_LINK])
    assert not any(rec['existed'] for rec in files.values())
    # idempotent, also in check mode
    assert run_module(nvidia_gpu, BOOT_ARGS, check=True)['changed'] is False
    again = run_module(nvidia_gpu, BOOT_ARGS)
    assert again['changed'] is False and again['files'] == [] and again['boot_unit_enabled'] is True


def test_state_absent_puts_the_tree_back_exactly(nv, fake_host):
    fake_host.write('/etc/inference-host-tuning/keep-me', 'not ours\n')
    fake_host.remove('/etc/inference-host-tuning/keep-me')
    os.rmdir(fake_host.path('/etc/inference-host-tuning'))
    fake_host.mkdir('/var/lib')  # on every host; the ledger's own directory below it must go too
    before = tree(fake_host, '/etc', '/usr', '/var')
    run_module(nvidia_gpu, BOOT_ARGS)
    assert fake_host.exists('/usr/local/libexec/inference-host-tuning')
    predicted = run_module(nvidia_gpu, {'state': 'absent'}, check=True)
    assert predicted['changed'] is True and predicted['boot_unit_enabled'] is False
    assert fake_host.exists(BOOT_UNIT)
    result = run_module(nvidia_gpu, {'state': 'absent'})
    assert sorted(f['path'] for f in result['files']) == sorted(f['path'] for f in predicted['files'])
    # files, link, the directories their writes created and the ledger itself: all gone
    assert tree(fake_host, '/etc', '/usr', '/var') == before
    assert run_module(nvidia_gpu, {'state': 'absent'})['changed'] is False


def test_revert_module_alone_removes_the_boot_files(nv, fake_host, monkeypatch):
    from ansible_collections.inference.host_tuning.plugins.modules import revert
    from ansible_collections.inference.host_tuning.tests.unit.fakehost import FakeCommands
    FakeCommands().install(monkeypatch)  # no systemctl here, whatever this machine has: the links go by hand
    before = tree(fake_host, '/etc', '/usr')
    run_module(nvidia_gpu, BOOT_ARGS)
    result = run_module(revert, {})
    assert result['changed'] is True
    # only the GPU settings stay recorded (they need NVML: nvidia_gpu state=absent)
    assert tree(fake_host, '/etc', '/usr') == before
    assert set(k['owner'] for k in result['kept']) == set(['nvidia_gpu'])


def test_an_existing_map_file_is_restored_byte_for_byte(nv, fake_host):
    fake_host.write(NUMA_MAP, '{"0": 7}\n', mode=0o600)
    before = tree(fake_host, '/etc')
    run_module(nvidia_gpu, {'numa_map_file': NUMA_MAP})
    assert json.loads(fake_host.read(NUMA_MAP)) == {'0': 0, '1': 0, '2': 1}
    assert ledger(fake_host)['files'][NUMA_MAP]['existed'] is True
    run_module(nvidia_gpu, {'state': 'absent'})
    assert tree(fake_host, '/etc') == before


def test_boot_apply_false_removes_only_what_the_module_wrote(nv, fake_host):
    run_module(nvidia_gpu, BOOT_ARGS)
    result = run_module(nvidia_gpu, {'persistence_mode': True, 'boot_apply': False})
    assert result['changed'] is True and result['boot_unit_enabled'] is False
    for path in (BOOT_UNIT, BOOT_LINK, BOOT_SETTINGS, BOOT_PROGRAM):
        assert not fake_host.exists(path), path
    assert fake_host.exists(NUMA_MAP)  # not asked about: left as it is
    assert not fake_host.exists('/usr/local/libexec')
    # a unit somebody else wrote at that path is not ours to remove
    fake_host.write(BOOT_UNIT, '[Service]\nExecStart=/bin/true\n')
    assert run_module(nvidia_gpu, {'boot_apply': False})['changed'] is False
    assert fake_host.exists(BOOT_UNIT)


def test_without_a_ledger_only_files_with_our_header_are_taken_back(nv, fake_host):
    """A lost ledger: the unit (it starts with our header) and its link go; what carries no header of ours
    (the settings, the program, a settings file some other tool wrote) is not known to be ours and stays."""
    run_module(nvidia_gpu, BOOT_ARGS)
    fake_host.remove(_ledger.LEDGER_PATH)
    fake_host.write(BOOT_SETTINGS, '{"managed_by": "inference.host_tuning.nvidia role", "settings": {}}\n')
    check = run_module(nvidia_gpu, {'state': 'absent'}, check=True)
    result = run_module(nvidia_gpu, {'state': 'absent'})
    assert result['files'] == check['files'] == [{'path': BOOT_UNIT, 'action': 'removed'},
                                                 {'path': BOOT_LINK, 'action': 'unlinked'}]
    assert not fake_host.exists(BOOT_UNIT) and not fake_host.exists(BOOT_LINK)
    assert fake_host.exists(BOOT_SETTINGS) and fake_host.exists(BOOT_PROGRAM)
    assert run_module(nvidia_gpu, {'state': 'absent'})['changed'] is False


def test_boot_settings_list_the_chosen_gpus_by_uuid(nv, fake_host):
    run_module(nvidia_gpu, {'gpus': ['0', '2'], 'compute_mode': 'exclusive_process', 'mig_mode': 'enabled',
                            'boot_apply': True, 'boot_python': '/opt/venv/bin/python'})
    settings = json.loads(fake_host.read(BOOT_SETTINGS))
    assert settings['gpus'] == [UUID[H100], UUID[A100]]
    assert settings['settings'] == {'compute_mode': 'exclusive_process'}
    assert 'ExecStart=/opt/venv/bin/python %s' % BOOT_PROGRAM in fake_host.read(BOOT_UNIT)


@pytest.mark.parametrize('option, value', [('numa_map_file', 'gpu-numa.json'), ('boot_python', 'python3')])
def test_relative_paths_fail_before_anything_is_written(nv, fake_host, option, value):
    before = tree(fake_host, '/etc', '/usr')
    state = nv.raw()
    result = fail_module(nvidia_gpu, {'persistence_mode': True, 'boot_apply': True, option: value})
    assert '%s: %r is not an absolute path' % (option, value) in result['msg']
    assert tree(fake_host, '/etc', '/usr') == before and nv.raw() == state


def test_persistenced_unit_is_reported_where_installed(nv, fake_host):
    assert run_module(nvidia_gpu, {}, check=True)['persistenced_unit'] is None
    fake_host.write('/usr/lib/systemd/system/nvidia-persistenced.service', '[Service]\n')
    assert run_module(nvidia_gpu, {}, check=True)['persistenced_unit'] == \
        '/usr/lib/systemd/system/nvidia-persistenced.service'


# -- nvidia-persistenced: enabled and started on request, put back as it was -----------------------
PERSISTENCED_FILE = '/usr/lib/systemd/system/nvidia-persistenced.service'


class FakeSystemd(object):
    """systemctl for one unit: is-enabled / is-active / enable / disable / start / stop on a state dict."""

    def __init__(self, enabled=False, active=False):
        self.state = {'enabled': enabled, 'active': active}

    def __call__(self, argv):
        verb = argv[1]
        if verb == 'is-enabled':
            return (0, 'enabled\n', '') if self.state['enabled'] else (1, 'disabled\n', '')
        if verb == 'is-active':
            return (0, '', '') if self.state['active'] else (3, '', '')
        if verb in ('enable', 'disable'):
            self.state['enabled'] = verb == 'enable'
        elif verb in ('start', 'stop'):
            self.state['active'] = verb == 'start'
        return 0, '', ''


@pytest.fixture
def systemd(fake_host, monkeypatch):
    from ansible_collections.inference.host_tuning.tests.unit.fakehost import FakeCommands
    fake_host.mkdir('/run/systemd/system')
    fake_host.write(PERSISTENCED_FILE, '[Service]\nExecStart=/usr/bin/nvidia-persistenced\n')
    unit = FakeSystemd()
    commands = FakeCommands(bins=['systemctl'], handlers={'systemctl': unit}).install(monkeypatch)
    return unit, commands


def changes(commands):
    return [n for n in commands.names() if n.split()[1] not in ('is-enabled', 'is-active')]


def test_persistenced_is_enabled_started_and_put_back(nv, fake_host, systemd):
    unit, commands = systemd
    predicted = run_module(nvidia_gpu, {'persistenced': True}, check=True)
    assert predicted['changed'] is True and changes(commands) == []
    assert predicted['persistenced'] == {'unit': 'nvidia-persistenced.service', 'enabled': True, 'active': True,
                                         'changed': True}
    result = run_module(nvidia_gpu, {'persistenced': True})
    assert changes(commands) == ['systemctl enable nvidia-persistenced.service',
                                 'systemctl start nvidia-persistenced.service']
    assert unit.state == {'enabled': True, 'active': True}
    assert result['persistenced'] == predicted['persistenced']
    assert ledger(fake_host)['extra']['nvidia_gpu']['units'] == {
        'nvidia-persistenced.service': {'enabled': False, 'active': False}}
    again = run_module(nvidia_gpu, {'persistenced': True})
    assert again['changed'] is False and again['persistenced']['changed'] is False
    # state=absent puts the daemon back as it was, and the ledger goes
    del commands.calls[:]
    run_module(nvidia_gpu, {'state': 'absent'})
    assert changes(commands) == ['systemctl disable nvidia-persistenced.service',
                                 'systemctl stop nvidia-persistenced.service']
    assert unit.state == {'enabled': False, 'active': False}
    assert not fake_host.exists(_ledger.LEDGER_PATH)


def test_persistenced_already_running_is_left_running_by_absent(nv, fake_host, systemd):
    unit, commands = systemd
    unit.state.update(enabled=False, active=True)   # started by hand, not enabled
    run_module(nvidia_gpu, {'persistenced': True})
    assert changes(commands) == ['systemctl enable nvidia-persistenced.service']
    del commands.calls[:]
    run_module(nvidia_gpu, {'state': 'absent'})
    assert changes(commands) == ['systemctl disable nvidia-persistenced.service']
    assert unit.state == {'enabled': False, 'active': True}


def test_revert_module_puts_persistenced_back_without_nvml(nv, fake_host, systemd):
    from ansible_collections.inference.host_tuning.plugins.modules import revert
    unit, commands = systemd
    run_module(nvidia_gpu, {'persistenced': True})
    del commands.calls[:]
    check = run_module(revert, {}, check=True)
    assert 'systemctl disable nvidia-persistenced.service' in check['commands']
    assert changes(commands) == []
    run_module(revert, {})
    assert changes(commands) == ['systemctl disable nvidia-persistenced.service',
                                 'systemctl stop nvidia-persistenced.service']
    assert unit.state == {'enabled': False, 'active': False}
    assert not fake_host.exists(_ledger.LEDGER_PATH)  # that was its only record


def test_persistenced_without_systemd_is_a_warning_not_a_change(nv, fake_host):
    fake_host.write(PERSISTENCED_FILE, '[Service]\n')
    result = run_module(nvidia_gpu, {'persistenced': True})
    assert result['changed'] is False
    assert result['persistenced'] == {'unit': 'nvidia-persistenced.service', 'enabled': None, 'active': None,
                                      'changed': False}
