# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""_audit_desired: role variables into one audit profile per kind of host, as site.yml applies them."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

import pytest
import yaml

from ansible_collections.inference.host_tuning.plugins.module_utils import _audit
from ansible_collections.inference.host_tuning.plugins.plugin_utils import _audit_desired

ROLES = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'roles')


def _defaults(**overrides):
    values = _audit_desired.role_defaults()
    values.update(overrides)
    return values


def test_defaults_come_from_the_roles_files():
    defaults = _audit_desired.role_defaults()
    for name, role in _audit_desired.VARIABLES.items():
        if name in _audit_desired.DERIVED:
            assert name not in defaults
            continue
        with open(os.path.join(ROLES, role, 'defaults', 'main.yml')) as f:
            assert defaults[name] == yaml.safe_load(f)[name], name
    # a copy each time: callers may change it
    defaults['base_state'] = 'absent'
    assert _audit_desired.role_defaults()['base_state'] == 'present'


def test_a_variable_missing_from_the_defaults_is_an_error(tmp_path):
    for role in _audit_desired.ROLES:
        (tmp_path / role / 'defaults').mkdir(parents=True)
        (tmp_path / role / 'defaults' / 'main.yml').write_text(u'---\n{}\n')
    with pytest.raises(_audit_desired.DesiredError, match='has no default in'):
        _audit_desired.role_defaults(str(tmp_path))


def test_defaults_per_kind():
    by_kind = _audit_desired.desired_by_kind(_defaults())
    base = {'sysctl_profile': 'inference_latency', 'thp': {'enabled': 'madvise', 'defrag': 'madvise'},
            'governor': 'performance', 'memlock': 'unlimited',
            'swap': {'min_ram_gib': 32, 'force': False, 'disable_zswap': True},
            'io_scheduler': {'scheduler': 'none', 'devices': ['nvme*n*']}}
    assert by_kind['none'] == base
    assert by_kind['nvidia'] == dict(base, gpu={'persistence_mode': True, 'power_limit': 'max'})
    assert by_kind['ascend'] == dict(base, sysctl={'kernel.sched_migration_cost_ns': 50000})
    assert by_kind['tpu'] == dict(base, thp={'enabled': 'always', 'defrag': 'madvise'})
    # every profile is one the module accepts
    for kind, desired in by_kind.items():
        assert _audit.validate(desired) == [], kind


def test_inventory_values_win():
    values = _defaults(base_sysctl_profile='inference_throughput',
                       base_sysctl_settings={'vm.max_map_count': '>2097152', 'kernel.sched_migration_cost_ns': 1},
                       base_thp_enabled='', base_cpu_governor='', base_memlock_unlimited='false',
                       base_swap_min_ram_gib='64', base_swap_force='yes', base_swap_disable_zswap=False,
                       base_io_scheduler='', nvidia_power_limit=400, nvidia_compute_mode='exclusive_process',
                       ascend_sched_migration_cost_ns=0)
    by_kind = _audit_desired.desired_by_kind(values)
    assert by_kind['nvidia'] == {'sysctl_profile': 'inference_throughput',
                                 'sysctl': {'vm.max_map_count': '>2097152', 'kernel.sched_migration_cost_ns': 1},
                                 'thp': {'defrag': 'madvise'},
                                 'swap': {'min_ram_gib': 64, 'force': True, 'disable_zswap': False},
                                 'gpu': {'persistence_mode': True, 'power_limit': 400,
                                         'compute_mode': 'exclusive_process'}}
    # base_sysctl_settings wins over the Ascend role's own value, as in the role
    assert _audit_desired.desired_for('ascend', _defaults(base_sysctl_settings={
        'kernel.sched_migration_cost_ns': 7}))['sysctl'] == {'kernel.sched_migration_cost_ns': 7}


def test_hugepage_pools_and_the_tpu_default():
    pools = [{'size': '2M', 'count': 1024, 'node': 0}]
    by_kind = _audit_desired.desired_by_kind(_defaults(base_hugepages_pools=pools))
    assert by_kind['none']['hugepages'] == pools
    # tpu_hugepages_pools defaults to base_hugepages_pools, as the role's template does
    assert by_kind['tpu']['hugepages'] == pools
    own = [{'size': '1G', 'count': 4}]
    assert _audit_desired.desired_for('tpu', _defaults(base_hugepages_pools=pools, tpu_hugepages_pools=own))[
        'hugepages'] == own


@pytest.mark.parametrize('overrides, kind', [
    ({'base_state': 'absent'}, 'none'),
    ({'nvidia_include_base': False}, 'nvidia'),
    ({'ascend_include_base': 'no'}, 'ascend'),
    ({'tpu_include_base': 'false'}, 'tpu'),
])
def test_without_the_base_role_no_base_concern(overrides, kind):
    desired = _audit_desired.desired_for(kind, _defaults(**overrides))
    assert set(desired) <= {'gpu'}
    assert ('gpu' in desired) == (kind == 'nvidia')


def test_swap_left_alone_is_not_audited():
    for kind in _audit_desired.KINDS:
        assert 'swap' not in _audit_desired.desired_for(kind, _defaults(base_swap_disable=False))


def test_gpu_settings_left_unset_are_not_audited():
    desired = _audit_desired.desired_for('nvidia', _defaults(nvidia_persistence_mode=None, nvidia_power_limit=''))
    assert 'gpu' not in desired
    assert _audit_desired.desired_for('nvidia', _defaults(nvidia_persistence_mode='no'))['gpu'] == {
        'persistence_mode': False, 'power_limit': 'max'}


JEMALLOC = '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2'


@pytest.mark.parametrize('overrides, by_kind', [
    ({}, {}),
    ({'inference_service_model': 'm', 'inference_service_state': 'absent'}, {}),
    # placement from the unit everywhere; the allocator the Ascend and TPU roles hand the service
    ({'inference_service_model': '/models/llama3-8b'},
     {'nvidia': {'unit': 'vllm.service', 'cpus': 'unit'}, 'none': {'unit': 'vllm.service', 'cpus': 'unit'},
      'ascend': {'unit': 'vllm.service', 'cpus': 'unit', 'allocator_library': 'unit'},
      'tpu': {'unit': 'vllm.service', 'cpus': 'unit', 'allocator_library': 'unit'}}),
    # the host's own allocator wins over the kind's; an explicit library is audited as that path
    ({'inference_service_command': ['/usr/bin/python3', 'serve.py'], 'inference_service_name': 'llm',
      'inference_service_allocator': 'jemalloc', 'inference_service_allocator_library': JEMALLOC,
      'inference_service_numa_bind': False},
     dict((k, {'unit': 'llm.service', 'allocator_library': JEMALLOC}) for k in _audit_desired.KINDS)),
    ({'inference_service_model': 'm', 'inference_service_allocator': 'none', 'inference_service_numa_bind': 'no'},
     dict((k, {'unit': 'vllm.service'}) for k in _audit_desired.KINDS)),
    ({'inference_service_model': 'm', 'ascend_allocator': 'none', 'tpu_allocator': 'jemalloc'},
     {'nvidia': {'unit': 'vllm.service', 'cpus': 'unit'}, 'none': {'unit': 'vllm.service', 'cpus': 'unit'},
      'ascend': {'unit': 'vllm.service', 'cpus': 'unit'},
      'tpu': {'unit': 'vllm.service', 'cpus': 'unit', 'allocator_library': 'unit'}}),
])
def test_the_service(overrides, by_kind):
    for kind in _audit_desired.KINDS:
        desired = _audit_desired.desired_for(kind, _defaults(**overrides))
        assert desired.get('service') == by_kind.get(kind), kind
        assert _audit.validate(desired) == [], kind
    assert _audit.FROM_UNIT == 'unit'


def test_the_allocator_variables_are_checked():
    with pytest.raises(_audit_desired.DesiredError, match="inference_service_allocator is 'mimalloc'; use jemalloc"):
        _audit_desired.desired_for('nvidia', _defaults(inference_service_model='m', inference_service_allocator='mimalloc'))
    with pytest.raises(_audit_desired.DesiredError, match="ascend_allocator is 'glibc'"):
        _audit_desired.desired_for('ascend', _defaults(inference_service_model='m', ascend_allocator='glibc'))


def test_strings_convert_as_the_roles_argument_specs_convert_them():
    """site.yml takes "key=value" for a dictionary and "a,b" for a list (ansible-core's type conversion in the role
    argument specs and module options): the audit takes them the same way."""
    desired = _audit_desired.desired_for('none', _defaults(base_sysctl_settings='vm.swappiness=0',
                                                           base_io_scheduler_devices='nvme*n*,sd*'))
    assert desired['sysctl'] == {'vm.swappiness': '0'}
    assert desired['io_scheduler']['devices'] == ['nvme*n*', 'sd*']


@pytest.mark.parametrize('overrides, message', [
    ({'base_sysctl_settings': ['vm.swappiness=1']}, "base_sysctl_settings must be a dictionary, not ['vm.swappiness=1']"),
    ({'base_hugepages_pools': {'size': '2M'}}, 'base_hugepages_pools must be a list'),
    ({'base_memlock_unlimited': 'sometimes'}, "base_memlock_unlimited must be a boolean, not 'sometimes'"),
    ({'ascend_sched_migration_cost_ns': 'fast'}, "ascend_sched_migration_cost_ns must be an integer, not 'fast'"),
    ({'base_cpu_governor': ['performance']}, 'base_cpu_governor must be a string'),
    ({'base_swap_min_ram_gib': 'lots'}, "base_swap_min_ram_gib must be an integer, not 'lots'"),
    ({'base_swap_min_ram_gib': -1}, 'base_swap_min_ram_gib must be 0 or more, not -1'),
    ({'base_swap_force': 'maybe'}, "base_swap_force must be a boolean, not 'maybe'"),
])
def test_bad_variables_name_themselves(overrides, message):
    with pytest.raises(_audit_desired.DesiredError) as e:
        _audit_desired.desired_by_kind(_defaults(**overrides))
    assert message in str(e.value)


@pytest.mark.parametrize('value, kind', [
    (None, 'auto'), ('', 'auto'), ('auto', 'auto'), ('NVIDIA', 'nvidia'), (' tpu ', 'tpu'), ('none', 'none'),
])
def test_forced_kind(value, kind):
    assert _audit_desired.forced_kind(value) == kind


def test_forced_kind_unknown():
    with pytest.raises(_audit_desired.DesiredError, match="inference_accelerator_kind is 'gpu'; use auto, nvidia"):
        _audit_desired.forced_kind('gpu')
