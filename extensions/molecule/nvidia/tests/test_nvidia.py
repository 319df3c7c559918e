# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Verify the nvidia role from the container itself: the fake NVML's GPU state, the files the
role wrote, the boot unit (started here to show it re-applies the settings), and bad input."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import json
import os
import subprocess
import sys

import pytest

STATE = '/var/lib/fake-nvml/state.json'
SETTINGS = '/etc/inference-host-tuning/nvidia.json'
NUMA_MAP = '/etc/inference-host-tuning/gpu-numa.json'
UNIT = 'inference-nvidia-settings.service'
UNIT_FILE = '/etc/systemd/system/' + UNIT
PROGRAM = '/usr/local/libexec/inference-host-tuning/nvidia-apply'
EXCLUSIVE_PROCESS = 3  # NVML_COMPUTEMODE_EXCLUSIVE_PROCESS
SCENARIO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

sys.path.insert(0, os.path.join(SCENARIO, '..', '..', '..', 'tests', 'molecule'))
from iht_verify import modules_ran as _modules_ran  # noqa: E402 pylint: disable=wrong-import-position
from iht_verify import check_predicted_converge as _check_predicted_converge  # noqa: E402 pylint: disable=wrong-import-position


def _name(host):
    return host.backend.get_hostname().replace('podman://', '')


def _state(host):
    return json.loads(host.file(STATE).content_string)


def _write_state(host, state):
    data = base64.b64encode(json.dumps(state, indent=2).encode()).decode()
    host.check_output('echo %s | base64 -d > %s.new && mv %s.new %s' % (data, STATE, STATE, STATE))


def _assert_configured(state):
    assert len(state['gpus']) == 4
    for gpu in state['gpus']:
        assert gpu['persistence_mode'] is True, gpu['uuid']
        assert gpu['power_limit'] == gpu['power_max_limit'] == 700000, gpu['uuid']
        assert gpu['compute_mode'] == EXCLUSIVE_PROCESS, gpu['uuid']


def test_check_mode_predicted_exactly_the_real_changes(host):
    run = _check_predicted_converge(_name(host))
    changed = [task.split(' : ', 1)[-1] for task in run['changed']]
    assert 'Apply the GPU settings through NVML, keep them across reboots, write the GPU NUMA map' in changed


@pytest.mark.parametrize('mode', ['check', 'run'])
def test_nvidia_tags_select_only_their_tasks(host, mode):
    """--tags nvidia: detection and the nvidia role's own tasks, nothing of base or the service."""
    extra = ['--check'] if mode == 'check' else []
    for tag, expect in (('nvidia', ['inference.host_tuning.inference_host_info', 'inference.host_tuning.nvidia_gpu']),):
        ran = _modules_ran('site.yml', '--tags', tag, *extra, everything=True)['iht-nvidia-debian12']
        ours = [m for m in ran if m.startswith('inference.host_tuning.')]
        assert ours == expect, (tag, mode, ran)


def test_gpus_configured(host):
    _assert_configured(_state(host))


def test_settings_file(host):
    f = host.file(SETTINGS)
    assert f.user == 'root' and f.mode == 0o644
    assert json.loads(f.content_string) == {
        'managed_by': 'inference.host_tuning.nvidia_gpu',
        'gpus': 'all',
        'unsupported': 'skip',
        'settings': {'persistence_mode': True, 'power_limit': 'max', 'compute_mode': 'exclusive_process'},
    }


def test_gpu_numa_map_file(host):
    f = host.file(NUMA_MAP)
    assert f.mode == 0o644
    numa_map = json.loads(f.content_string)
    assert numa_map == {'0': 0, '1': 0, '2': 1, '3': 1}
    assert sorted(k for k, v in numa_map.items() if v == 0) == ['0', '1']
    assert sorted(k for k, v in numa_map.items() if v == 1) == ['2', '3']


def test_boot_unit_installed_and_enabled(host):
    unit = host.file(UNIT_FILE).content_string
    assert 'Type=oneshot' in unit
    assert 'After=nvidia-persistenced.service' in unit
    assert 'WantedBy=multi-user.target' in unit
    assert 'ExecStart=/usr/bin/python3 %s %s' % (PROGRAM, SETTINGS) in unit
    program = host.file(PROGRAM)
    assert program.mode == 0o644 and 'import pynvml' in program.content_string
    # through NVML only: no commands run, no nvidia-smi output parsed
    assert 'subprocess' not in program.content_string and 'os.system' not in program.content_string
    assert host.check_output('systemctl is-enabled %s' % UNIT).strip() == 'enabled'


def test_nvidia_persistenced_enabled_and_running(host):
    service = host.service('nvidia-persistenced.service')
    assert service.is_enabled
    assert service.is_running


def test_boot_unit_reapplies_the_settings_after_a_reboot(host):
    """Simulate a boot that lost the settings, then start the unit as boot would."""
    state = _state(host)
    for gpu in state['gpus']:
        gpu.update(persistence_mode=False, power_limit=gpu['power_default_limit'], compute_mode=0)
    _write_state(host, state)
    lost = _state(host)
    assert all(not g['persistence_mode'] and g['power_limit'] == 600000 for g in lost['gpus'])

    host.check_output('systemctl restart %s' % UNIT)

    _assert_configured(_state(host))
    show = host.check_output('systemctl show -p ActiveState -p Result -p ExecMainStatus %s' % UNIT)
    assert 'ActiveState=active' in show and 'Result=success' in show and 'ExecMainStatus=0' in show
    log = host.check_output('journalctl -u %s --no-pager -o cat' % UNIT)
    assert 'power_limit 600 W -> 700 W' in log


def test_boot_unit_fails_loudly_when_nvml_refuses(host):
    """A GPU that refuses the settings leaves the unit failed, not silently active."""
    state = _state(host)
    saved = json.loads(json.dumps(state))
    state['permission'] = False
    state['gpus'][1]['persistence_mode'] = False
    _write_state(host, state)
    try:
        result = host.run('systemctl restart %s' % UNIT)
        assert result.rc != 0
        assert 'failed' in host.run('systemctl is-active %s' % UNIT).stdout
    finally:
        _write_state(host, saved)
        host.check_output('systemctl restart %s' % UNIT)
    _assert_configured(_state(host))


@pytest.mark.parametrize('extra_vars, message', [
    ({'nvidia_power_limit': 900},
     'power_limit: 900 W is outside the range GPU 0 (GPU-5d1b3c2a-0000-4a6e-9c1f-0000000017a0, '
     'NVIDIA H100 80GB HBM3) allows: 200 to 700 W'),
    # its form is checked by the role before base changes anything
    ({'nvidia_power_limit': 'lots'}, 'Nothing was changed: nvidia_power_limit must be a number of watts'),
    ({'nvidia_power_limit': '500W'}, 'Nothing was changed: nvidia_power_limit must be a number of watts'),
    ({'nvidia_compute_mode': 'exclusive'}, 'nvidia_compute_mode'),
    ({'nvidia_locked_clocks': {'min': 1980}}, 'locked_clocks:'),
])
def test_bad_input_fails_cleanly_and_changes_nothing(host, extra_vars, message):
    before = host.file(STATE).content_string
    result = subprocess.run(
        ['ansible-playbook', '-i', os.environ['MOLECULE_INVENTORY_FILE'],
         '-e', json.dumps(extra_vars), os.path.join(SCENARIO, 'negative.yml')],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    assert result.returncode != 0, result.stdout
    assert message in result.stdout, result.stdout
    assert host.file(STATE).content_string == before
