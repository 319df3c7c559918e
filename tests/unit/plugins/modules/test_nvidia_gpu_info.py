# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""nvidia_gpu_info against the real pynvml bindings and the fake libnvidia-ml.so.1."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.inference.host_tuning.plugins.modules import nvidia_gpu_info
from ansible_collections.inference.host_tuning.tests.fake_nvml.harness import fake_nvml, fake_nvml_lib  # noqa: F401  pylint: disable=unused-import
from ansible_collections.inference.host_tuning.tests.unit.plugins.modules.utils import fail_module, run_module


@pytest.fixture
def nv(fake_host, fake_nvml):  # noqa: F811  pylint: disable=redefined-outer-name
    return fake_nvml


def test_facts_of_the_three_gpus(nv):
    before = nv.raw()
    result = run_module(nvidia_gpu_info, {})
    assert nv.raw() == before
    assert result['changed'] is False
    assert result['driver_version'] == '550.90.07' and result['cuda_driver_version'] == '12.4'
    assert result['count'] == 3
    h100, l40s, a100 = result['gpus']
    assert h100 == {
        'index': 0, 'uuid': 'GPU-5d1b3c2a-0000-4a6e-9c1f-0000000017a0', 'name': 'NVIDIA H100 80GB HBM3',
        'pci_bus_id': '00000000:17:00.0', 'numa_node': 0,
        'memory_total': 85520809984, 'memory_used': 0, 'persistence_mode': False,
        'power_limit': {'current': 700, 'default': 700, 'min': 200, 'max': 700},
        'mig': {'capable': True, 'current': 'disabled', 'pending': 'disabled'},
        'compute_mode': 'default',
        'clocks': {'current': {'sm': 345, 'mem': 2619}, 'applications': {'mem': 2619, 'sm': 1980},
                   'default_applications': {'mem': 2619, 'sm': 1980}},
        'ecc': {'current': True, 'pending': True},
    }
    assert l40s['name'] == 'NVIDIA L40S' and l40s['mig'] == {'capable': False, 'current': None, 'pending': None}
    assert l40s['power_limit'] == {'current': 350, 'default': 350, 'min': 100, 'max': 350}
    assert a100['name'] == 'NVIDIA A100-SXM4-80GB' and a100['pci_bus_id'] == '00000000:57:00.0'
    assert a100['memory_total'] == 85899345920
    assert result['numa_map'] == {'0': 0, '1': 0, '2': 1}


def test_numa_node_falls_back_to_sysfs(nv, fake_host):
    # the fake host tree puts 0000:57:00.0 on node 1 and has no 0000:27:00.0 entry with -1
    for index in range(3):
        nv.update(gpu=index, numa_node=None)
    fake_host.write('/sys/bus/pci/devices/0000:27:00.0/numa_node', '-1\n')
    result = run_module(nvidia_gpu_info, {})
    assert result['numa_map'] == {'0': 0, '1': None, '2': 1}


def test_unsupported_values_are_null(nv):
    nv.update(gpu=1, ecc_current=None, applications_clocks_supported=False)
    l40s = run_module(nvidia_gpu_info, {'gpus': ['0000:27:00.0']})['gpus'][0]
    assert l40s['ecc'] is None
    assert l40s['clocks']['applications'] is None and l40s['clocks']['default_applications'] is None


def test_selection_and_unknown_gpu(nv):
    result = run_module(nvidia_gpu_info, {'gpus': ['2', '17:00.0']})
    assert [g['index'] for g in result['gpus']] == [0, 2]
    assert result['numa_map'] == {'0': 0, '2': 1}
    assert 'no GPU matches' in fail_module(nvidia_gpu_info, {'gpus': ['3']})['msg']


def test_fault_while_reading_names_the_gpu(nv):
    nv.update(fail_call={'name': 'nvmlDeviceGetPowerManagementLimit', 'nth': 2, 'error': 15})
    result = fail_module(nvidia_gpu_info, {})
    assert 'nvmlDeviceGetPowerManagementLimit' in result['msg'] and 'GPU 1' in result['msg']
    assert 'GPU is lost' in result['msg']
    assert result['failed_gpu']['index'] == 1


def test_four_gpu_host_state(nv):
    nv.load('4gpu-2numa')
    result = run_module(nvidia_gpu_info, {})
    assert result['numa_map'] == {'0': 0, '1': 0, '2': 1, '3': 1}
    assert len(set(g['uuid'] for g in result['gpus'])) == 4
