# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The tuning a host's variables ask for, as audit profiles per kind of host (controller side).

``playbooks/audit.yml`` audits each host against what ``site.yml`` would apply to it: the same
role variables, from the inventory where set, else the roles' defaults. This module turns those
variables into one ``inference_host_info`` ``desired`` profile per kind of host (``nvidia``,
``ascend``, ``tpu``, ``none``), so that one call on the host detects what it has and audits it
against the profile of that kind. Pure functions on plain values; the action plugin
``host_audit`` resolves the variables.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

import yaml

from ansible.module_utils.common.validation import check_type_dict, check_type_list

from ansible_collections.inference.host_tuning.plugins.module_utils import _audit

KINDS = ('nvidia', 'ascend', 'tpu', 'none')
FORCED_KINDS = ('auto',) + KINDS

#: The roles whose variables decide what is audited.
ROLES = ('base', 'nvidia', 'ascend', 'tpu', 'inference_service')

#: Every variable read, with the role whose defaults hold its default value.
VARIABLES = {
    'base_state': 'base',
    'base_sysctl_profile': 'base',
    'base_sysctl_settings': 'base',
    'base_thp_enabled': 'base',
    'base_thp_defrag': 'base',
    'base_hugepages_pools': 'base',
    'base_cpu_governor': 'base',
    'base_memlock_unlimited': 'base',
    'base_swap_disable': 'base',
    'base_swap_min_ram_gib': 'base',
    'base_swap_force': 'base',
    'base_swap_disable_zswap': 'base',
    'base_io_scheduler': 'base',
    'base_io_scheduler_devices': 'base',
    'nvidia_include_base': 'nvidia',
    'nvidia_persistence_mode': 'nvidia',
    'nvidia_power_limit': 'nvidia',
    'nvidia_compute_mode': 'nvidia',
    'ascend_include_base': 'ascend',
    'ascend_sched_migration_cost_ns': 'ascend',
    'tpu_include_base': 'tpu',
    'tpu_thp_enabled': 'tpu',
    'tpu_thp_defrag': 'tpu',
    'tpu_hugepages_pools': 'tpu',
    'inference_service_state': 'inference_service',
    'inference_service_name': 'inference_service',
    'inference_service_model': 'inference_service',
    'inference_service_command': 'inference_service',
    'inference_service_allocator_library': 'inference_service',
    'inference_service_allocator': 'inference_service',
    'inference_service_numa_bind': 'inference_service',
    'ascend_allocator': 'ascend',
    'tpu_allocator': 'tpu',
}

#: Defaults that are templates in the role (or that site.yml replaces); what they resolve to is
#: computed here instead, from the host's own value where it has one (None where it has not).
#: tpu_hugepages_pools defaults to "{{ base_hugepages_pools | default([]) }}"; site.yml gives the
#: serving role the Ascend or TPU role's allocator unless the host sets inference_service_allocator.
DERIVED = ('tpu_hugepages_pools', 'inference_service_allocator')
ALLOCATORS = ('jemalloc', 'tcmalloc', 'none')

_ROLES_DIR = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'roles'))
_DEFAULTS_CACHE = {}
# libyaml's loader where PyYAML has it: each fork parses the defaults again for its host (about
# 14 ms a host with the pure-Python loader, 2 ms with libyaml), on the controller every host waits on.
_YAML_LOADER = getattr(yaml, 'CSafeLoader', yaml.SafeLoader)


class DesiredError(ValueError):
    """A role variable that cannot be turned into a desired value (the message says which and why)."""


def role_defaults(roles_dir=_ROLES_DIR):
    """{variable: default} for VARIABLES, read once per process from the roles' defaults/main.yml."""
    if roles_dir not in _DEFAULTS_CACHE:
        by_role = {}
        for role in ROLES:
            path = os.path.join(roles_dir, role, 'defaults', 'main.yml')
            with open(path) as f:
                by_role[role] = yaml.load(f, Loader=_YAML_LOADER) or {}
        defaults = {}
        for name, role in VARIABLES.items():
            if name in DERIVED:
                continue
            if name not in by_role[role]:
                raise DesiredError('%s has no default in %s/%s/defaults/main.yml' % (name, roles_dir, role))
            defaults[name] = by_role[role][name]
        _DEFAULTS_CACHE[roles_dir] = defaults
    return dict(_DEFAULTS_CACHE[roles_dir])


def _text(values, name):
    value = values[name]
    if value is None:
        return ''
    if isinstance(value, (dict, list)):
        raise DesiredError('%s must be a string, not %r' % (name, value))
    return str(value).strip()


def _bool(values, name):
    value = values[name]
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ('1', 'true', 'yes', 'on', 'y', 't'):
        return True
    if text in ('0', 'false', 'no', 'off', 'n', 'f', ''):
        return False
    raise DesiredError('%s must be a boolean, not %r' % (name, value))


def _int(values, name):
    value = values[name]
    try:
        return int(str(value).strip() or 0)
    except ValueError:
        raise DesiredError('%s must be an integer, not %r' % (name, value))


def _typed(values, name, kind):
    """The role variable as its argument spec's type converts it: the roles' validation (ansible-core's
    check_type_dict / check_type_list) accepts "key=value" strings as dictionaries and "a,b" strings as
    lists, so the audit takes exactly what site.yml takes, and refuses exactly what it refuses."""
    value = values[name]
    if value is None:
        return kind()
    try:
        value = check_type_dict(value) if kind is dict else check_type_list(value)
    except TypeError:
        value = None
    if not isinstance(value, kind):
        raise DesiredError('%s must be a %s, not %r' % (name, 'dictionary' if kind is dict else 'list',
                                                        values[name]))
    return value


def forced_kind(value, source='inference_accelerator_kind'):
    """The kind ``value`` (from ``source``) forces, auto when unset; DesiredError for another value."""
    kind = 'auto' if value is None or str(value).strip() == '' else str(value).strip().lower()
    if kind not in FORCED_KINDS:
        raise DesiredError('%s is %r; use %s' % (source, value, ', '.join(FORCED_KINDS)))
    return kind


def desired_for(kind, values):
    """The inference_host_info ``desired`` profile for a host of ``kind`` with these variables.

    ``values``: every name of VARIABLES (the host's value, else the role default; DERIVED ones may be
    missing). Mirrors what site.yml applies: the accelerator role, which runs base unless its
    ``*_include_base`` is false, and the inference_service role where a model or command is set.
    """
    values = dict(values)
    if values.get('tpu_hugepages_pools') is None:
        values['tpu_hugepages_pools'] = values['base_hugepages_pools']
    desired = {}
    include_base = _text(values, 'base_state') != 'absent'
    if kind != 'none' and not _bool(values, '%s_include_base' % kind):
        include_base = False
    if include_base:
        profile = _text(values, 'base_sysctl_profile')
        if profile:
            desired['sysctl_profile'] = profile
        sysctl = {}
        if kind == 'ascend' and _int(values, 'ascend_sched_migration_cost_ns') > 0:
            sysctl['kernel.sched_migration_cost_ns'] = _int(values, 'ascend_sched_migration_cost_ns')
        sysctl.update(_typed(values, 'base_sysctl_settings', dict))
        if sysctl:
            desired['sysctl'] = sysctl
        prefix = 'tpu' if kind == 'tpu' else 'base'
        thp = {}
        for setting in ('enabled', 'defrag'):
            mode = _text(values, '%s_thp_%s' % (prefix, setting))
            if mode:
                thp[setting] = mode
        if thp:
            desired['thp'] = thp
        pools = _typed(values, '%s_hugepages_pools' % prefix, list)
        if pools:
            desired['hugepages'] = pools
        governor = _text(values, 'base_cpu_governor')
        if governor:
            desired['governor'] = governor
        if _bool(values, 'base_memlock_unlimited'):
            desired['memlock'] = 'unlimited'
        if _bool(values, 'base_swap_disable'):
            minimum = _int(values, 'base_swap_min_ram_gib')
            if minimum < 0:
                raise DesiredError('base_swap_min_ram_gib must be 0 or more, not %r' % values['base_swap_min_ram_gib'])
            desired['swap'] = {'min_ram_gib': minimum, 'force': _bool(values, 'base_swap_force'),
                               'disable_zswap': _bool(values, 'base_swap_disable_zswap')}
        scheduler = _text(values, 'base_io_scheduler')
        if scheduler:
            desired['io_scheduler'] = {'scheduler': scheduler,
                                       'devices': _typed(values, 'base_io_scheduler_devices', list)}
    if kind == 'nvidia':
        gpu = {}
        for setting in ('persistence_mode', 'power_limit', 'compute_mode'):
            value = values['nvidia_%s' % setting]
            if value is not None and value != '':
                gpu[setting] = _bool(values, 'nvidia_persistence_mode') if setting == 'persistence_mode' else value
        if gpu:
            desired['gpu'] = gpu
    service_wanted = (_text(values, 'inference_service_state') == 'present'
                      and (_text(values, 'inference_service_model')
                           or _typed(values, 'inference_service_command', list)))
    if service_wanted:
        service = {'unit': '%s.service' % _text(values, 'inference_service_name')}
        if _bool(values, 'inference_service_numa_bind'):
            # numa_bind computes the CPUs on the host; the audit checks the process has its unit's CPUAffinity=
            service['cpus'] = _audit.FROM_UNIT
        if _allocator(kind, values) != 'none':
            service['allocator_library'] = _text(values, 'inference_service_allocator_library') or _audit.FROM_UNIT
        desired['service'] = service
    return desired


def _allocator(kind, values):
    """The allocator the serving role preloads on a host of ``kind``, as site.yml passes it."""
    name = 'inference_service_allocator'
    if values.get(name) is None or str(values[name]).strip() == '':
        name = '%s_allocator' % kind if kind in ('ascend', 'tpu') else None
    allocator = _text(values, name).lower() if name else 'none'
    if allocator not in ALLOCATORS:
        raise DesiredError('%s is %r; use %s' % (name, values[name], ', '.join(ALLOCATORS)))
    return allocator


def desired_by_kind(values):
    """{kind: desired profile} for every kind of host (see desired_for)."""
    return dict((kind, desired_for(kind, values)) for kind in KINDS)
