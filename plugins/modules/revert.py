#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: revert
short_description: Undo everything inference.host_tuning changed on a host, exactly, from the restore ledger
version_added: 0.1.0
description:
  - Every module of this collection records, before its first change, what a file or runtime value was
    in the restore ledger C(/var/lib/inference_host_tuning/ledger.json). This module puts all of it back
    in one call, for all owners (modules) or the ones in O(owners) - the one-call version of each
    module's C(state=absent), used by C(playbooks/revert.yml).
  - Files are restored byte for byte with their mode and owner, or removed when they did not exist before.
  - Runtime values (C(/proc/sys), C(/sys)) are written back. A value that cannot be written here (a
    read-only C(/proc/sys) in an unprivileged container) is skipped with a warning and stays in the
    ledger, so a later run on a writable host finishes the job; with O(runtime=required) the module fails
    instead, before changing anything.
  - Extra steps, derived from what is restored - units of ours that are enabled are disabled
    (C(systemctl disable)) before their file goes; C(systemctl daemon-reload) runs once when a unit or
    drop-in under C(/etc/systemd/system) changed (on a host booted with systemd); udev rules are reloaded
    when a rule under C(/etc/udev/rules.d) changed; GRUB is regenerated when the
    C(/etc/default/grub.d) drop-in changed; kernel parameters added with C(grubby) are removed with
    C(grubby --remove-args); swap areas that M(inference.host_tuning.swap) turned off are turned on
    again (with their priority); C(nvidia-persistenced.service), when M(inference.host_tuning.nvidia_gpu)
    enabled or started it, is disabled or stopped again (C(systemctl disable), C(systemctl stop)).
  - GPU settings recorded by M(inference.host_tuning.nvidia_gpu) need NVML and are not restored here -
    run M(inference.host_tuning.nvidia_gpu) with C(state=absent) first; their records are kept and listed
    in RV(kept).
  - A second run finds an empty ledger and changes nothing.
author:
  - inference.host_tuning contributors (@inference-host-tuning)
options:
  owners:
    description:
      - Restore only what these owners (module names, such as V(sysctl_profile) or V(hugepages)) recorded.
      - Default - every owner in the ledger.
    type: list
    elements: str
  exclude_owners:
    description:
      - Leave what these owners recorded in place (and in the ledger), such as V(service_account) to keep the service
        user, group and home, or V(system_packages) to keep the packages the collection installed.
    type: list
    elements: str
    default: []
  runtime:
    description:
      - V(best_effort) skips runtime values that cannot be written here, with a warning, and keeps them in
        the ledger.
      - V(required) fails, before changing anything, when a runtime value (or a swap area) cannot be restored here.
    type: str
    choices: [best_effort, required]
    default: best_effort
attributes:
  check_mode:
    support: full
    details:
      - Check mode reports per file a diff of the current content against the original and per runtime value
        the current and original value, and changes nothing. C(grubby --info=ALL) is run to read the boot entries.
  diff_mode:
    support: full
  idempotent:
    support: full
    details:
      - Records that could not be restored (read-only runtime values, GPU settings) are kept, so a second run
        reports them again but changes nothing.
  platform:
    support: full
    details:
      - Linux.
extends_documentation_fragment:
  - inference.host_tuning.attributes
seealso:
  - module: inference.host_tuning.inference_host_info
'''

EXAMPLES = r'''
- name: What would be restored
  inference.host_tuning.revert:
  check_mode: true
  diff: true

- name: Restore everything this collection changed
  inference.host_tuning.revert:
  register: reverted

- name: Reboot when the kernel still runs with our boot parameters
  ansible.builtin.reboot:
  when: reverted.reboot_required

- name: Only the sysctl and huge page changes, and fail where /proc/sys is read-only
  inference.host_tuning.revert:
    owners: [sysctl_profile, hugepages]
    runtime: required
'''

RETURN = r'''
files:
  description:
    - Each recorded file in scope and what was (or, in check mode, would be) done - V(restored) (content,
      mode or owner put back), V(removed) (it did not exist before) or V(unchanged) (already as recorded).
  returned: always
  type: list
  elements: dict
  sample:
    - {path: /etc/sysctl.d/90-inference-host-tuning.conf, owner: sysctl_profile, action: removed}
    - {path: /etc/fstab, owner: swap, action: restored}
runtime:
  description:
    - Each recorded runtime value in scope - C(before) (now), C(after) (the original, or what is there
      after the run), and C(skipped), the reason it was not written (null when it was or did not need to be).
  returned: always
  type: list
  elements: dict
  sample:
    - {path: /proc/sys/vm/swappiness, owner: sysctl_profile, before: '1', after: '60', skipped: null}
commands:
  description: The commands run (or that would run in check mode), in order.
  returned: always
  type: list
  elements: str
  sample: [systemctl disable inference-cpu-governor.service, systemctl daemon-reload]
swapped_on:
  description: Swap areas turned on again.
  returned: always
  type: list
  elements: str
  sample: [/dev/nvme0n1p3]
kept:
  description: Records left in the ledger, with the reason (read-only runtime values, GPU settings, unknown records).
  returned: always
  type: list
  elements: dict
  sample:
    - {owner: nvidia_gpu, record: GPU-5d1b3c2a-0000-4a6e-9c1f-0000000017a0,
       reason: GPU settings are restored by inference.host_tuning.nvidia_gpu with state=absent (NVML)}
extra:
  description:
    - What is (or, in check mode, would be) undone beyond files and runtime values, per record - the service user,
      group and home that M(inference.host_tuning.service_account) created (C(userdel), home removed, C(groupdel),
      C(gpasswd --delete)) and the packages M(inference.host_tuning.system_packages) installed (removed).
  returned: always
  type: list
  elements: dict
  sample:
    - {owner: service_account, record: inference, action: remove user inference (uid 998)}
    - {owner: system_packages, record: libjemalloc2, action: remove package libjemalloc2}
reboot_required:
  description: True when C(/proc/cmdline) still has kernel parameters this collection added (they go at the next boot).
  returned: always
  type: bool
  sample: false
reexec_required:
  description: True when a systemd manager configuration file changed; C(systemctl daemon-reexec) (or a boot) applies it.
  returned: always
  type: bool
  sample: false
diff:
  description: Per file current -> original, and one entry for the runtime values.
  returned: when diff mode is on and something changes
  type: list
  elements: dict
'''

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.inference.host_tuning.plugins.module_utils import _accounts
from ansible_collections.inference.host_tuning.plugins.module_utils import _block
from ansible_collections.inference.host_tuning.plugins.module_utils import _bootloader
from ansible_collections.inference.host_tuning.plugins.module_utils import _files
from ansible_collections.inference.host_tuning.plugins.module_utils import _host
from ansible_collections.inference.host_tuning.plugins.module_utils import _hugepages
from ansible_collections.inference.host_tuning.plugins.module_utils import _ledger
from ansible_collections.inference.host_tuning.plugins.module_utils import _packages
from ansible_collections.inference.host_tuning.plugins.module_utils import _swap
from ansible_collections.inference.host_tuning.plugins.module_utils import _systemd

SYSTEM_DIR = _systemd.SYSTEM_DIR
MANAGER_CONF = ('/etc/systemd/system.conf', '/etc/systemd/system.conf.d/')
UDEV_RULES_DIR = '/etc/udev/rules.d/'
RUNTIME_DIFF_HEADER = 'runtime values (/proc, /sys)'
GPU_OWNER = 'nvidia_gpu'
UNITS_KEY = 'units'  # nvidia_gpu's record of the units it enabled or started (nvidia-persistenced)
GPU_REASON = ('GPU settings are restored by inference.host_tuning.nvidia_gpu with state=absent (NVML); '
              'run it before revert')


def _runtime_order(path):
    # per-node huge page pools before the totals, as hugepages state=absent does
    return (not path.startswith(_hugepages.NODE_DIR), path)


class Revert(object):

    def __init__(self, module):
        self.module = module
        self.p = module.params
        self.check = module.check_mode
        self.ledger = _ledger.Ledger(module)
        self.required = self.p['runtime'] == 'required'
        self.files = []         # [{path, owner, action}]
        self.runtime = []       # [{path, owner, before, after, skipped}]
        self.diffs = []
        self.commands = []      # planned argv lists
        self.kept = []
        self.swapped_on = []
        self.disable = []       # units to disable
        self.unlink = []        # wants links to remove by hand (no systemctl)
        self.unit_steps = []    # systemctl stop/disable of units a module started/enabled
        self.units_owner = None
        self.grubby = None
        self.cmdline_params = []
        self.forget_cmdline = False
        self.to_on = []
        self.swapon = None
        self.daemon_reload = False
        self.udev_reload = False
        self.regen = None
        self.reexec_required = False
        self.changed = False
        self.extra = []         # [{owner, record, action}]: accounts and packages the collection created
        self.account_steps = []  # [(user, steps)]
        self.package_plan = []

    def selected(self, owner):
        return (self.p['owners'] is None or owner in self.p['owners']) and owner not in self.p['exclude_owners']

    def runtime_problem(self, msg):
        """A runtime step that cannot be done here: fail (runtime=required) or warn."""
        if self.required:
            self.module.fail_json(msg='%s, and runtime=required. Nothing was changed. Run where it is permitted '
                                      'or use runtime=best_effort.' % msg)
        self.module.warn('%s; the record is kept in the ledger for a later run.' % msg)

    # -- planning ----------------------------------------------------------------
    def plan_files(self):
        for path in sorted(self.ledger.files):
            rec = self.ledger.files[path]
            owner = rec.get('owner')
            if not self.selected(owner):
                continue
            action, differs = self.ledger.file_action(path)
            self.files.append({'path': path, 'owner': owner, 'action': action})
            if action == 'unchanged':
                continue
            self.changed = True
            if differs:
                current, original_text = self.ledger.plan_file_restore(path)
                self.diffs.append(_files.file_diff(path, current, original_text))
            self.plan_file_steps(path, rec, action)

    def plan_file_steps(self, path, rec, action):
        """The extra steps a changed file needs (units, udev, GRUB, systemd manager)."""
        if path.startswith(SYSTEM_DIR + '/'):
            self.daemon_reload = True
            unit = path[len(SYSTEM_DIR) + 1:]
            if action == 'removed' and '/' not in unit and _systemd.valid_unit_name(unit):
                links = self.wants_links(unit)
                if links:
                    if self.module.get_bin_path('systemctl'):
                        self.disable.append(unit)
                        self.commands.append(['systemctl', 'disable', unit])
                    else:
                        self.unlink.extend(links)
        if path == MANAGER_CONF[0] or path.startswith(MANAGER_CONF[1]):
            self.reexec_required = True
        if path.startswith(UDEV_RULES_DIR):
            self.udev_reload = True
        if path == _bootloader.GRUB_D_PATH:
            grub = _bootloader.GrubD(self.module)
            argv = grub.regenerate_argv()
            if argv is None:
                self.module.fail_json(msg='restoring %s needs update-grub or grub-mkconfig to regenerate the GRUB '
                                          'configuration, and neither was found; nothing was changed' % path)
            grub.regen = argv
            self.regen = grub
            self.commands.append(list(argv))

    @staticmethod
    def wants_links(unit):
        links = []
        for name in _host.listdir(SYSTEM_DIR):
            if name.endswith(('.wants', '.requires', '.upholds')):
                link = '%s/%s/%s' % (SYSTEM_DIR, name, unit)
                if os.path.lexists(_host.host_path(link)):
                    links.append(link)
        return links

    def plan_runtime(self):
        for path in sorted(self.ledger.runtime, key=_runtime_order):
            rec = self.ledger.runtime[path]
            if not self.selected(rec.get('owner')):
                continue
            original = rec['value']
            entry = {'path': path, 'owner': rec.get('owner'), 'before': None, 'after': None, 'skipped': None}
            self.runtime.append(entry)
            if not _host.exists(path):
                entry['skipped'] = '%s no longer exists; the record is dropped' % path
                continue
            current = _host.read_selected(path)
            entry['before'] = entry['after'] = current
            if current == original:
                continue
            if _host.is_readonly(path):
                entry['skipped'] = 'read-only: %s cannot be written here (an unprivileged container?)' % path
                self.runtime_problem('%s is read-only, so %s cannot be put back to %s' % (path, current, original))
                self.kept.append({'owner': rec.get('owner'), 'record': path, 'reason': entry['skipped']})
                continue
            entry['after'] = original
            entry['write'] = True
            self.changed = True
        written = [e for e in self.runtime if e.get('write')]
        if written:
            self.diffs.append({
                'before_header': RUNTIME_DIFF_HEADER, 'after_header': RUNTIME_DIFF_HEADER,
                'before': ''.join('%s = %s\n' % (e['path'], e['before']) for e in written),
                'after': ''.join('%s = %s\n' % (e['path'], e['after']) for e in written)})

    def plan_extra(self):
        for owner in sorted(self.ledger.extra):
            if not self.selected(owner):
                continue
            bucket = self.ledger.extra[owner] or {}
            for key in sorted(bucket):
                if owner == 'hugepages' and key == 'cmdline':
                    self.plan_cmdline(bucket[key])
                elif owner == 'swap' and key == 'swapped_off':
                    self.plan_swapon(bucket[key])
                elif owner == GPU_OWNER and key == UNITS_KEY:
                    self.plan_units(owner, bucket[key])
                elif owner == _accounts.OWNER:
                    self.plan_account(key, bucket[key])
                elif owner == _packages.OWNER:
                    continue
                elif owner == GPU_OWNER:
                    # listed in kept, not warned: playbooks/revert.yml runs nvidia_gpu state=absent for them
                    self.kept.append({'owner': owner, 'record': key, 'reason': GPU_REASON})
                else:
                    self.kept.append({'owner': owner, 'record': key,
                                      'reason': 'revert does not know how to restore this record; run %s with '
                                                'state=absent' % owner})
                    self.module.warn('ledger record %s/%s is not restored by revert; run inference.host_tuning.%s '
                                     'with state=absent' % (owner, key, owner))

        if self.selected(_packages.OWNER) and self.ledger.extra.get(_packages.OWNER):
            self.plan_packages(self.ledger.extra[_packages.OWNER])

    def keep_record(self, owner, key, why):
        self.kept.append({'owner': owner, 'record': key, 'reason': why})
        self.module.warn('%s record %s is kept in the ledger: %s' % (owner, key, why))

    def plan_account(self, user, rec):
        """The user, group and home the collection created for ``user`` (service_account), removed."""
        try:
            steps = _accounts.plan_restore(user, rec)
        except _accounts.AccountError as e:
            self.keep_record(_accounts.OWNER, user, str(e))
            return
        self.account_steps.append((user, steps))
        for step in steps:
            self.extra.append({'owner': _accounts.OWNER, 'record': user, 'action': step.text})
        self.changed = self.changed or bool(steps)

    def plan_packages(self, records):
        """The packages the collection installed (system_packages), removed."""
        try:
            self.package_plan = _packages.plan_restore(self.module, records)
        except _packages.PackageError as e:
            for key in sorted(records):
                self.keep_record(_packages.OWNER, key, str(e))
            return
        for pkg, action in self.package_plan:
            self.extra.append({'owner': _packages.OWNER, 'record': pkg,
                               'action': 'remove package %s' % pkg if action == 'remove' else 'forget (not installed)'})
            self.changed = True

    def apply_extra(self):
        def run(argv):
            rc, out, err = self.module.run_command(argv, environ_update={'LC_ALL': 'C'})
            self.commands.append(argv)
            if rc != 0:
                raise _accounts.AccountError('%s failed (rc=%s): %s' % (' '.join(argv), rc, (err or out).strip()))
        for user, steps in self.account_steps:
            try:
                _accounts.restore(self.ledger, user, steps, run)
            except (_accounts.AccountError, OSError) as e:
                self.ledger.save()
                self.module.fail_json(msg='Stopped: restoring the service account %s: %s; what was restored before '
                                          'is done, the record stays in the ledger' % (user, e), **self.report())
        if self.package_plan:
            try:
                argv = _packages.restore(self.module, self.ledger, self.package_plan)
            except _packages.PackageError as e:
                self.ledger.save()
                self.module.fail_json(msg='Stopped: removing the packages the collection installed: %s; the records '
                                          'stay in the ledger' % e, **self.report())
            if argv:
                self.commands.append(argv)

    def plan_cmdline(self, rec):
        params = list((rec or {}).get('params') or [])
        self.cmdline_params = params
        method = (rec or {}).get('method')
        # grub_d and file: the file is a recorded file, restored above (grub_d regenerates GRUB).
        if method != 'grubby' or not params:
            self.forget_cmdline = True
            return
        if self.module.get_bin_path('grubby') is None:
            self.kept.append({'owner': 'hugepages', 'record': 'cmdline',
                              'reason': 'grubby was not found to remove %s' % ' '.join(params)})
            self.module.warn('grubby was not found: the kernel parameters %s stay in the boot entries and in the '
                             'ledger' % ' '.join(params))
            self.cmdline_params = []
            return
        grubby = _bootloader.Grubby(self.module)
        if grubby.plan([], params):
            self.changed = True
            self.diffs.append(grubby.diff())
            self.commands.append(['grubby', '--update-kernel=ALL', '--remove-args=%s' % ' '.join(grubby.remove)])
            self.grubby = grubby
        self.forget_cmdline = True

    def plan_units(self, owner, records):
        """Units a module enabled or started ({unit: state before}): stop/disable them again."""
        if not _systemd.booted(self.module):
            why = 'systemd is not running here to put back %s' % ', '.join(sorted(records or {}))
            self.runtime_problem(why)
            self.kept.append({'owner': owner, 'record': UNITS_KEY, 'reason': why})
            return
        systemctl = _systemd.Systemctl(self.module)
        for unit in sorted(records or {}):
            before = records[unit]
            before = {'enabled': bool(before.get('enabled')), 'active': bool(before.get('active'))}
            for step in _systemd.steps_to(before, _systemd.unit_state(systemctl, unit), unit):
                self.unit_steps.append(step)
                self.commands.append(['systemctl'] + step)
                self.changed = True
        self.units_owner = owner

    def apply_units(self):
        if self.units_owner is None:
            return
        systemctl = _systemd.Systemctl(self.module)
        for step in self.unit_steps:
            systemctl.run(*step)
        self.forget_extra_key(self.units_owner, UNITS_KEY)

    def plan_swapon(self, records):
        active = set(s['name'] for s in _swap.active_swaps())
        to_on = [r for r in records or [] if r.get('name') not in active]
        if not to_on:
            self.to_on = []
            return
        why = None
        self.swapon = self.module.get_bin_path('swapon')
        if self.swapon is None:
            why = 'swapon was not found'
        elif _swap.can_swapoff() is False:
            why = 'swapon is not permitted here (no CAP_SYS_ADMIN, as in an unprivileged container)'
        if why:
            self.runtime_problem('%s to turn %s on again' % (why, ', '.join(r['name'] for r in to_on)))
            self.kept.append({'owner': 'swap', 'record': 'swapped_off', 'reason': why})
            self.to_on = None
            return
        self.to_on = to_on
        self.changed = True
        for r in to_on:
            self.commands.append(self.swapon_argv(r))

    def swapon_argv(self, r):
        argv = [self.swapon or 'swapon']
        if r.get('priority') is not None and r['priority'] >= 0:
            argv += ['-p', str(r['priority'])]
        return argv + [r['name']]

    # -- applying ------------------------------------------------------------------
    def apply(self):
        ledger = self.ledger
        systemctl = _systemd.Systemctl(self.module)
        for unit in self.disable:
            systemctl.run('disable', unit)
        for link in self.unlink:
            _files.remove(link)
        for entry in self.files:
            ledger.restore_file(entry['path'])
            if entry['action'] == 'removed':
                self.remove_empty_dropin_dir(entry['path'])
        if self.daemon_reload and _systemd.booted(self.module):
            systemctl.daemon_reload()
            self.commands.append(['systemctl', 'daemon-reload'])
        if self.udev_reload:
            ran, error = _block.reload_udev_rules(self.module)
            if ran:
                self.commands.append(['udevadm', 'control', '--reload-rules'])
            if error:
                self.module.warn('%s; the restored rules apply from the next boot.' % error)
        if self.regen is not None:
            rc, out, err = self.regen.regenerate()
            if rc != 0:
                ledger.save()
                self.module.fail_json(msg='%s failed (rc=%d): %s; the files are restored, regenerate GRUB by hand'
                                          % (' '.join(self.regen.regen), rc, (err or out).strip()),
                                      rc=rc, stdout=out, stderr=err, **self.report())
        if self.grubby is not None:
            self.grubby.apply()
        if self.forget_cmdline:
            self.forget_extra_key('hugepages', 'cmdline')
        self.apply_runtime()
        self.apply_swapon()
        self.apply_units()
        ledger.save()
        self.apply_extra()
        ledger.save()

    def apply_runtime(self):
        for entry in self.runtime:
            if entry['skipped'] and entry['skipped'].startswith('read-only'):
                continue
            try:
                self.ledger.restore_runtime(entry['path'])
            except _host.RuntimeWriteError as e:
                entry['skipped'] = ('read-only: %s' if e.readonly else 'write failed: %s') % e
                self.kept.append({'owner': entry['owner'], 'record': entry['path'], 'reason': entry['skipped']})
                if self.required:
                    self.ledger.save()
                    self.module.fail_json(msg='runtime=required and restoring %s failed: %s; what was restored '
                                              'before is done, the rest stays in the ledger' % (entry['path'], e),
                                          **self.report())
                self.module.warn('could not restore %s (%s); the record is kept in the ledger' % (entry['path'], e))
            if _host.exists(entry['path']):
                entry['after'] = _host.read_selected(entry['path'])
            entry.pop('write', None)

    def apply_swapon(self):
        if self.to_on is None or not self.selected('swap') or self.ledger.get_extra('swap', 'swapped_off') is None:
            return
        still_off = []
        for r in self.to_on:
            rc, out, err = self.module.run_command(self.swapon_argv(r))
            msg = (err or out or '').strip()
            if rc == 0:
                self.swapped_on.append(r['name'])
            elif _swap.is_permission_error(msg):
                still_off.append(r)
                self.kept.append({'owner': 'swap', 'record': r['name'], 'reason': msg})
                self.module.warn('swapon %s is not permitted here (%s); kept in the ledger' % (r['name'], msg))
            else:
                self.module.warn('swapon %s failed (rc=%d): %s; it is no longer tracked' % (r['name'], rc, msg))
        if still_off:
            self.ledger.set_extra('swap', 'swapped_off', still_off, overwrite=True)
        else:
            self.forget_extra_key('swap', 'swapped_off')

    def forget_extra_key(self, owner, key):
        self.ledger.forget_extra_key(owner, key)

    @staticmethod
    def remove_empty_dropin_dir(path):
        directory = path.rsplit('/', 1)[0]
        if not (directory.startswith(SYSTEM_DIR + '/') and directory.endswith('.d')):
            return
        full = _host.host_path(directory)
        try:
            if os.path.isdir(full) and not os.listdir(full):
                os.rmdir(full)
        except OSError:
            pass

    # -- all -------------------------------------------------------------------------
    def run(self):
        self.plan_files()
        self.plan_runtime()
        self.plan_extra()
        if self.daemon_reload and _systemd.booted(self.module) and self.check:
            self.commands.append(['systemctl', 'daemon-reload'])
        if self.udev_reload and self.check and self.module.get_bin_path('udevadm'):
            self.commands.append(['udevadm', 'control', '--reload-rules'])
        if not self.check:
            self.apply()
        return self.report()

    def report(self):
        running = _bootloader.running_tokens()
        runtime = [dict((k, v) for k, v in e.items() if k != 'write') for e in self.runtime]
        result = dict(
            changed=self.changed,
            files=self.files,
            runtime=runtime,
            commands=[' '.join([os.path.basename(c[0])] + list(c[1:])) for c in self.commands],
            swapped_on=self.swapped_on if not self.check else [r['name'] for r in self.to_on or []],
            kept=self.kept,
            extra=self.extra,
            reboot_required=any(t in running for t in self.cmdline_params),
            reexec_required=self.reexec_required,
        )
        if self.module._diff and self.diffs:
            result['diff'] = self.diffs
        return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            owners=dict(type='list', elements='str'),
            exclude_owners=dict(type='list', elements='str', default=[]),
            runtime=dict(type='str', default='best_effort', choices=['best_effort', 'required']),
        ),
        supports_check_mode=True,
    )
    unknown = [o for o in (module.params['owners'] or []) + module.params['exclude_owners']
               if o not in _ledger.ALLOWED]
    if unknown:
        module.fail_json(msg='Nothing was changed: owners: %s %s not an owner of this collection; use %s'
                             % (', '.join(repr(o) for o in unknown), 'is' if len(unknown) == 1 else 'are',
                                ', '.join(sorted(_ledger.ALLOWED))))
    with _files.refusals(module):
        module.exit_json(**Revert(module).run())


if __name__ == '__main__':
    main()
