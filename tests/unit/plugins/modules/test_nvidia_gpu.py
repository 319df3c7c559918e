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

import pytest

from ansible_collections.inference.host_tuning.plugins.module_utils import _ledger
from ansible_collections.inference.host_tuning.plugins.modules import nvidia_gpu
from ansible_collections.inference.host_tuning.tests.fake_nvml.harness import fake_nvml, fake_nvml_lib  # noqa: F401  pylint: disable=unused-import
from ansible_collections.inference.host_tuning.tests.unit.plugins.modules.utils import fail_module, run_module

H100, L40S, A100 = 0, 1, 2
UUID = {
    H100: 'GPU-5d1b3c2a-0000-4a6e-9c1f-0000000017a0',
    L40S: 'GPU-0b9e6f1d-7c2a-4f35-8e0d-3a1c5b7d9e21',
    A100: 'GPU-a100c0de-3f4e-4d21-b6c7-1e2f3a4b5c6d',
}


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
    assert [(s['index'], s['setting']) for s in result['skipped']] == [(L40S, 'mig_mode')]
    assert 'Not Supported' in result['skipped'][0]['reason']
    assert result['gpus'][L40S]['changed'] is False
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
