# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Action of inference.host_tuning.host_audit (documented in plugins/modules/host_audit.py).

One inference_host_info call on the host detects its accelerators and audits it against what this
collection's modules were last asked to apply there (the requests recorded in its restore ledger), or
against the ``desired`` profile given: one round trip per host. The role variables are not read: the
host itself knows what was applied to it.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase

MODULE = 'inference.host_tuning.inference_host_info'
STATUSES = ('ok', 'drift', 'pending_reboot', 'unavailable')
KINDS = ('auto', 'nvidia', 'ascend', 'tpu', 'none')
RESULT_KEYS = (('kind', 'host_kind'), ('accelerator_kind', 'accelerator_kind'),
               ('accelerator_counts', 'accelerator_counts'), ('accelerators', 'accelerators'), ('numa', 'numa'),
               ('desired', 'desired'), ('audit', 'audit'), ('notes', 'notes'))


class HostVariableError(ValueError):
    """A host variable the audit reads (the kind, the sysfs and devfs roots) is wrong."""


def forced_kind(value, source):
    """The kind ``value`` (from ``source``) forces, auto when unset."""
    kind = 'auto' if value is None or str(value).strip() == '' else str(value).strip().lower()
    if kind not in KINDS:
        raise HostVariableError('%s is %r; use %s' % (source, value, ', '.join(KINDS)))
    return kind


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(('kind', 'sysfs_root', 'devfs_root', 'use_nvml', 'desired'))

    def _host_value(self, task_vars, name, default):
        """The host's value of a variable (templated), else ``default``."""
        if name not in task_vars:
            return default
        try:
            return self._templar.template(task_vars[name])
        except AnsibleError as e:
            raise HostVariableError('%s cannot be resolved for this host: %s' % (name, to_text(e)))

    def _module_args(self, args, task_vars):
        if args['kind'] is not None:
            kind = forced_kind(args['kind'], 'kind')
        else:
            kind = forced_kind(self._host_value(task_vars, 'inference_accelerator_kind', None),
                               'inference_accelerator_kind')
        module_args = dict(
            kind=kind,
            use_nvml=args['use_nvml'],
            sysfs_root=args['sysfs_root'] or self._host_value(task_vars, 'inference_sysfs_root', None) or '/sys',
            devfs_root=args['devfs_root'] or self._host_value(task_vars, 'inference_devfs_root', None) or '/dev',
        )
        if args['desired'] is not None:
            module_args['desired'] = args['desired']
        else:
            module_args['desired_recorded'] = True
        return module_args

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        _validation, args = self.validate_argument_spec(argument_spec=dict(
            kind=dict(type='str'),
            sysfs_root=dict(type='path'),
            devfs_root=dict(type='path'),
            use_nvml=dict(type='str', choices=['auto', 'never'], default='auto'),
            desired=dict(type='dict'),
        ))
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        try:
            module_args = self._module_args(args, task_vars)
        except HostVariableError as e:
            host = task_vars.get('inventory_hostname', 'this host')
            result.update(failed=True, msg='Cannot audit %s: %s' % (host, e))
            return result
        try:
            info = self._execute_module(module_name=MODULE, module_args=module_args, task_vars=task_vars)
        finally:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        if info.get('failed'):
            result.update(info)
            return result
        summary = dict((s, 0) for s in STATUSES)
        summary.update(info.get('summary') or {})
        result.update(dict((key, info[name]) for key, name in RESULT_KEYS))
        result.update(changed=False, kernel=info['kernel']['release'], summary=summary)
        if info.get('warnings'):
            result['warnings'] = info['warnings']
        return result
