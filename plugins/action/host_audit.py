# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Action of inference.host_tuning.host_audit (documented in plugins/modules/host_audit.py).

On the controller: the host's role variables (inventory values, else the roles' defaults) become
one desired profile per kind of host. Then one inference_host_info call on the host detects its
accelerators and audits it against the profile of its kind: one round trip per host.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase

from ansible_collections.inference.host_tuning.plugins.plugin_utils import _audit_desired

MODULE = 'inference.host_tuning.inference_host_info'
STATUSES = ('ok', 'drift', 'pending_reboot', 'unavailable')


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
            raise _audit_desired.DesiredError('%s cannot be resolved for this host: %s' % (name, to_text(e)))

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
            if args['kind'] is not None:
                kind = _audit_desired.forced_kind(args['kind'], 'kind')
            else:
                kind = _audit_desired.forced_kind(self._host_value(task_vars, 'inference_accelerator_kind', None))
            if args['desired'] is not None:
                by_kind = dict((k, args['desired']) for k in _audit_desired.KINDS)
            else:
                values = _audit_desired.role_defaults()
                values.update((name, self._host_value(task_vars, name, values.get(name)))
                              for name in _audit_desired.VARIABLES)
                by_kind = _audit_desired.desired_by_kind(values)
        except _audit_desired.DesiredError as e:
            result.update(failed=True, msg='Cannot build the desired state of %s: %s'
                                           % (task_vars.get('inventory_hostname', 'this host'), e))
            return result

        module_args = dict(
            desired_by_kind=by_kind,
            kind=kind,
            use_nvml=args['use_nvml'],
            sysfs_root=args['sysfs_root'] or self._host_value(task_vars, 'inference_sysfs_root', None) or '/sys',
            devfs_root=args['devfs_root'] or self._host_value(task_vars, 'inference_devfs_root', None) or '/dev',
        )
        try:
            info = self._execute_module(module_name=MODULE, module_args=module_args, task_vars=task_vars)
        finally:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        if info.get('failed'):
            result.update(info)
            return result

        summary = dict((s, 0) for s in STATUSES)
        summary.update(info.get('summary') or {})
        result.update(
            changed=False,
            kind=info['host_kind'],
            accelerator_kind=info['accelerator_kind'],
            accelerator_counts=info['accelerator_counts'],
            accelerators=info['accelerators'],
            kernel=info['kernel']['release'],
            numa=info['numa'],
            desired=info['desired'],
            summary=summary,
            audit=info['audit'],
            notes=info['notes'],
        )
        if info.get('warnings'):
            result['warnings'] = info['warnings']
        return result
