# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one planner of the NVIDIA settings (used by nvidia_gpu and by the boot program), and the boot program
itself, against the real pynvml bindings and the fake libnvidia-ml.so.1 (default state: H100, L40S, A100)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

import pytest

from ansible_collections.inference.host_tuning.plugins.module_utils import _nvidia_apply
from ansible_collections.inference.host_tuning.plugins.module_utils import _nvml
from ansible_collections.inference.host_tuning.plugins.modules import nvidia_gpu
from ansible_collections.inference.host_tuning.tests.fake_nvml.harness import fake_nvml, fake_nvml_lib  # noqa: F401  pylint: disable=unused-import
from ansible_collections.inference.host_tuning.tests.fake_nvml.harness import A100, H100, L40S, UUID
from ansible_collections.inference.host_tuning.tests.unit.plugins.modules.utils import run_module

CASES = [
    ('persistence_mode', True), ('persistence_mode', False),
    ('power_limit', 'max'), ('power_limit', 'default'), ('power_limit', 300), ('power_limit', 600),
    ('compute_mode', 'exclusive_process'), ('compute_mode', 'default'),
    ('application_clocks', {'mem': 2619, 'sm': 1755}), ('application_clocks', 'reset'),
    ('locked_clocks', {'min': 1000, 'max': 1200}), ('locked_clocks', 'reset'),
]


@pytest.fixture
def nv(fake_host, fake_nvml):  # noqa: F811  pylint: disable=redefined-outer-name
    return fake_nvml


@pytest.fixture
def both(nv):  # pylint: disable=redefined-outer-name
    """The GPUs as the module reads them (_nvml.Gpu) and as the boot program does (_nvidia_apply.Gpu)."""
    import pynvml

    def read():
        pynvml.nvmlInit()
        module_gpus = _nvml.Session(None).gpus()
        return zip(module_gpus, [_nvidia_apply.Gpu(pynvml, i) for i in range(pynvml.nvmlDeviceGetCount())])

    yield read
    pynvml.nvmlShutdown()


def outcome(gpu, setting, value, locked=None):
    try:
        return _nvidia_apply.plan(gpu, setting, value, locked)
    except _nvidia_apply.Invalid:
        return 'invalid'
    except _nvidia_apply.Unsupported:
        return 'unsupported'


def test_module_and_boot_program_plan_alike(nv, both):  # pylint: disable=redefined-outer-name
    nv.update(gpu=H100, power_limit=500000, persistence_mode=True, app_clock_sm=1755, compute_mode=3)
    nv.update(gpu=L40S, applications_clocks_supported=False, persistence_mode=None)
    seen = set()
    for module_gpu, boot_gpu in both():
        for setting, value in CASES:
            planned = outcome(module_gpu, setting, value)
            assert planned == outcome(boot_gpu, setting, value), (module_gpu.label, setting, value)
            seen.add(planned if isinstance(planned, str) else 'change' if planned[0] != planned[1] else 'same')
    assert seen == set(['invalid', 'unsupported', 'change', 'same'])


def test_plan_values_and_calls(nv, both):  # pylint: disable=redefined-outer-name
    nv.update(gpu=H100, power_limit=500000)
    h100 = next(iter(both()))[1]
    assert _nvidia_apply.plan(h100, 'power_limit', 'max') == (500, 700, 'nvmlDeviceSetPowerManagementLimit', (700000,))
    assert _nvidia_apply.plan(h100, 'application_clocks', {'mem': 2619, 'sm': 1755}) == (
        {'mem': 2619, 'sm': 1980}, {'mem': 2619, 'sm': 1755}, 'nvmlDeviceSetApplicationsClocks', (2619, 1755))
    # locked clocks: what the caller knows (the module: its ledger), else always set or reset
    assert _nvidia_apply.plan(h100, 'locked_clocks', 'reset', None)[:2] == (None, None)
    assert _nvidia_apply.plan(h100, 'locked_clocks', 'reset')[:2] == (_nvidia_apply.NOT_READ, None)
    with pytest.raises(_nvidia_apply.Invalid, match=r'power_limit: 900 W is outside the range GPU 0 \(%s\) allows: '
                                                    r'200 to 700 W' % UUID[H100]):
        _nvidia_apply.plan(h100, 'power_limit', 900)


@pytest.mark.parametrize('setting, value, text', [
    ('power_limit', 700, '700 W'), ('power_limit', 350.5, '350.5 W'), ('persistence_mode', True, 'true'),
    ('application_clocks', {'sm': 1755, 'mem': 2619}, 'mem=2619 MHz, sm=1755 MHz'),
    ('locked_clocks', None, 'unlocked'), ('compute_mode', None, 'unknown'), ('locked_clocks', 'unknown', 'unknown'),
])
def test_show(setting, value, text):
    assert _nvidia_apply.show(setting, value) == text


# -- the boot program ----------------------------------------------------------------------------
def boot(tmp_path, capsys, settings, gpus='all', unsupported='fail'):
    path = tmp_path / 'nvidia.json'
    path.write_text(json.dumps({'managed_by': 'test', 'gpus': gpus, 'unsupported': unsupported,
                                'settings': settings}))
    rc = _nvidia_apply.main(['nvidia-apply', str(path)])
    return rc, capsys.readouterr().out.splitlines()


def test_boot_program_puts_back_what_the_module_applied(nv, fake_host, tmp_path, capsys):
    nv.update(gpu=H100, power_limit=500000)
    args = {'persistence_mode': True, 'power_limit': 'max', 'compute_mode': 'exclusive_process',
            'locked_clocks': {'min': 1000, 'max': 1200}, 'boot_apply': True}
    run_module(nvidia_gpu, args)
    applied = nv.state()
    settings = json.loads(fake_host.read(nvidia_gpu.BOOT_SETTINGS))
    # a boot (or a driver reload) loses the settings
    for index in (H100, L40S, A100):
        nv.update(gpu=index, persistence_mode=False, compute_mode=0, locked_clock_min=0, locked_clock_max=0)
    nv.update(gpu=H100, power_limit=500000)
    rc, log = boot(tmp_path, capsys, settings['settings'])
    assert rc == 0 and nv.state() == applied
    gpu0 = 'GPU 0 (%s): ' % UUID[H100]
    assert log[:5] == [gpu0 + 'persistence_mode false -> true', gpu0 + 'power_limit 500 W -> 700 W',
                       gpu0 + 'compute_mode default -> exclusive_process',
                       gpu0 + 'locked_clocks unknown -> max=1200 MHz, min=1000 MHz',
                       'GPU 1 (%s): persistence_mode false -> true' % UUID[L40S]]
    assert log[-1] == '3 GPU(s): settings applied'
    # and the module finds nothing left to do
    assert run_module(nvidia_gpu, args)['changed'] is False


def test_boot_program_already_set(nv, tmp_path, capsys):
    rc, log = boot(tmp_path, capsys, {'power_limit': 'default'}, gpus=[UUID[L40S]])
    assert rc == 0 and log == ['GPU 1 (%s): power_limit already 350 W' % UUID[L40S], '1 GPU(s): settings applied']


@pytest.mark.parametrize('unsupported, rc, words', [
    ('skip', 0, 'application_clocks is not supported, left alone: GPU 1 (%s) does not support application clocks'),
    ('fail', 1, 'application_clocks could not be applied: GPU 1 (%s) does not support application clocks'),
])
def test_boot_program_unsupported(nv, tmp_path, capsys, unsupported, rc, words):
    nv.update(gpu=L40S, applications_clocks_supported=False)
    before = nv.raw()
    result, log = boot(tmp_path, capsys, {'application_clocks': 'reset'}, gpus=[UUID[L40S]], unsupported=unsupported)
    assert result == rc and 'GPU 1 (%s): %s' % (UUID[L40S], words % UUID[L40S]) in log
    assert nv.raw() == before


def test_boot_program_out_of_range_is_a_failure_and_the_others_go_on(nv, tmp_path, capsys):
    nv.update(gpu=H100, power_limit=500000)
    rc, log = boot(tmp_path, capsys, {'power_limit': 600})
    assert rc == 1
    assert 'GPU 1 (%s): power_limit: 600 W is outside the range GPU 1 (%s) allows: 100 to 350 W' % (
        UUID[L40S], UUID[L40S]) in log
    assert [g['power_limit'] for g in nv.state()['gpus']] == [600000, 350000, 400000]
    assert log[-1] == '3 GPU(s): 2 setting(s) failed'
