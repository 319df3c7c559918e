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

from ansible_collections.inference.host_tuning.plugins.module_utils import _block
from ansible_collections.inference.host_tuning.plugins.module_utils import _change
from ansible_collections.inference.host_tuning.plugins.module_utils import _bootloader
from ansible_collections.inference.host_tuning.plugins.module_utils import _files
from ansible_collections.inference.host_tuning.plugins.module_utils import _host
from ansible_collections.inference.host_tuning.plugins.module_utils import _ledger
from ansible_collections.inference.host_tuning.plugins.module_utils import _restore
from ansible_collections.inference.host_tuning.plugins.module_utils import _systemd

SYSTEM_DIR = _systemd.SYSTEM_DIR
MANAGER_CONF = ('/etc/systemd/system.conf', '/etc/systemd/system.conf.d/')
UDEV_RULES_DIR = '/etc/udev/rules.d/'
RUNTIME_DIFF_HEADER = 'runtime values (/proc, /sys)'


class Revert(object):
    """Every owner's records, restored: its files, its runtime values and its extra records (each by the
    restorer of its kind, the code its module's state=absent uses)."""

    def __init__(self, module):
        self.module = module
        self.p = module.params
        self.check = module.check_mode
        self.ledger = _ledger.Ledger(module)
        self.policy = _change.RuntimePolicy(module, self.p['runtime'])
        self.r = _restore.Restoration(module, self.ledger, self.policy,
                                      fail=lambda msg: module.fail_json(msg=msg, **self.report()))
        self.files = []         # [{path, owner, action}]
        self.runtime = []       # [{path, owner, before, after, skipped}]
        self.restorers = []
        self.disable = []       # units to disable
        self.unlink = []        # wants links to remove by hand (no systemctl)
        self.daemon_reload = False
        self.udev_reload = False
        self.regen = None
        self.reexec_required = False

    def selected(self, owner):
        return (self.p['owners'] is None or owner in self.p['owners']) and owner not in self.p['exclude_owners']

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
            self.r.changed = True
            if differs:
                current, original_text = self.ledger.plan_file_restore(path)
                self.r.diffs.append(_files.file_diff(path, current, original_text))
            self.plan_file_steps(path, action)

    def plan_file_steps(self, path, action):
        """The extra steps a changed file needs (units, udev, GRUB, systemd manager)."""
        if path.startswith(SYSTEM_DIR + '/'):
            self.daemon_reload = True
            unit = path[len(SYSTEM_DIR) + 1:]
            if action == 'removed' and '/' not in unit and _systemd.valid_unit_name(unit):
                self.plan_disable(unit)
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
            self.r.commands.append(list(argv))

    def plan_disable(self, unit):
        """A unit file of ours that goes: disabled first (or its wants links removed without systemctl)."""
        links = []
        for name in _host.listdir(SYSTEM_DIR):
            if name.endswith(('.wants', '.requires', '.upholds')):
                link = '%s/%s/%s' % (SYSTEM_DIR, name, unit)
                if os.path.lexists(_host.host_path(link)):
                    links.append(link)
        if links and self.module.get_bin_path('systemctl'):
            self.disable.append(unit)
            self.r.commands.append(['systemctl', 'disable', unit])
        else:
            self.unlink.extend(links)

    def plan_runtime(self):
        for path in sorted(self.ledger.runtime, key=_change.restore_order):
            rec = self.ledger.runtime[path]
            if not self.selected(rec.get('owner')):
                continue
            entry = {'path': path, 'owner': rec.get('owner'), 'before': None, 'after': None, 'skipped': None}
            self.runtime.append(entry)
            self.plan_runtime_entry(entry, rec['value'])
        written = [e for e in self.runtime if e.get('write')]
        if written:
            self.r.diffs.append({
                'before_header': RUNTIME_DIFF_HEADER, 'after_header': RUNTIME_DIFF_HEADER,
                'before': ''.join('%s = %s\n' % (e['path'], e['before']) for e in written),
                'after': ''.join('%s = %s\n' % (e['path'], e['after']) for e in written)})

    def plan_runtime_entry(self, entry, original):
        path = entry['path']
        if not _host.exists(path):
            entry['skipped'] = '%s no longer exists; the record is dropped' % path
            return
        current = _host.read_selected(path)
        entry['before'] = entry['after'] = current
        if current == original:
            return
        entry['skipped'] = self.policy.blocked(path)
        if entry['skipped']:
            why = '%s is read-only, so %s cannot be put back to %s' % (path, current, original)
            if self.policy.required:
                self.r.problem(entry['owner'], path, why)
            self.module.warn('%s; the record is kept in the ledger for a later run.' % why)
            self.r.keep(entry['owner'], path, entry['skipped'])
            return
        entry['after'] = original
        entry['write'] = True
        self.r.changed = True

    def plan_extra(self):
        for owner in sorted(self.ledger.extra):
            if self.selected(owner):
                self.restorers.extend(_restore.restorers(owner, self.ledger.extra[owner] or {}))
        for restorer in self.restorers:
            restorer.plan(self.r)

    # -- applying ------------------------------------------------------------------
    def apply_stage(self, stage):
        for restorer in self.restorers:
            if restorer.stage == stage:
                restorer.apply(self.r)

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
        self.after_files(systemctl)
        self.apply_stage(0)
        self.apply_runtime()
        self.apply_stage(1)
        ledger.save()
        self.apply_stage(2)
        for owner in list(ledger.requests):
            if self.selected(owner):
                ledger.forget_request(owner)     # restored: the audit no longer holds the host to it
        ledger.save()

    def after_files(self, systemctl):
        """Reload what reads the restored files: systemd, udev, GRUB."""
        if self.daemon_reload and _systemd.booted(self.module):
            systemctl.daemon_reload()
            self.r.commands.append(['systemctl', 'daemon-reload'])
        if self.udev_reload:
            ran, error = _block.reload_udev_rules(self.module)
            if ran:
                self.r.commands.append(['udevadm', 'control', '--reload-rules'])
            if error:
                self.module.warn('%s; the restored rules apply from the next boot.' % error)
        if self.regen is not None:
            rc, out, err = self.regen.regenerate()
            if rc != 0:
                self.ledger.save()
                self.module.fail_json(msg='%s failed (rc=%d): %s; the files are restored, regenerate GRUB by hand'
                                          % (' '.join(self.regen.regen), rc, (err or out).strip()),
                                      rc=rc, stdout=out, stderr=err, **self.report())

    def restore_failed(self, why):
        """A runtime value that could not be put back: a warning (the record stays), or with runtime=required a
        failure once what was restored before is out of the ledger."""
        _change.RuntimePolicy(self.module, self.p['runtime'], 'the record is kept in the ledger', step='restore',
                              fix='What was restored before is done, the rest stays in the ledger.',
                              report=self.report, ledger=self.ledger).skip(why)

    def apply_runtime(self):
        for entry in self.runtime:
            if entry['skipped'] and entry['skipped'].startswith('read-only'):
                continue
            try:
                self.ledger.restore_runtime(entry['path'])
            except _host.RuntimeWriteError as e:
                entry['skipped'] = ('read-only: %s' if e.readonly else 'write failed: %s') % e
                self.r.keep(entry['owner'], entry['path'], entry['skipped'])
                self.restore_failed('restoring %s failed: %s' % (entry['path'], e))
            if _host.exists(entry['path']):
                entry['after'] = _host.read_selected(entry['path'])
            entry.pop('write', None)

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
            self.r.commands.append(['systemctl', 'daemon-reload'])
        if self.udev_reload and self.check and self.module.get_bin_path('udevadm'):
            self.r.commands.append(['udevadm', 'control', '--reload-rules'])
        if not self.check:
            self.apply()
        return self.report()

    def report(self):
        running = _bootloader.running_tokens()
        runtime = [dict((k, v) for k, v in e.items() if k != 'write') for e in self.runtime]
        swapping = [a['name'] for x in self.restorers if isinstance(x, _restore.SwapAreas) for a in x.to_on or []]
        result = dict(
            changed=self.r.changed,
            files=self.files,
            runtime=runtime,
            commands=[' '.join([os.path.basename(c[0])] + list(c[1:])) for c in self.r.commands],
            swapped_on=self.r.swapped_on if not self.check else swapping,
            kept=self.r.kept,
            extra=self.r.extra,
            reboot_required=any(t in running for t in self.r.reboot_params),
            reexec_required=self.reexec_required,
        )
        if self.module._diff and self.r.diffs:
            result['diff'] = self.r.diffs
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
