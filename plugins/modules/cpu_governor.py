#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: cpu_governor
short_description: Set the cpufreq governor of every CPU, now and at boot
description:
  - Where C(/sys/devices/system/cpu/cpu*/cpufreq) exists, writes O(governor) to every CPU's
    C(scaling_governor) and installs C(/etc/systemd/system/inference-cpu-governor.service), a oneshot unit
    that writes it again at every boot, and enables it.
  - The value each CPU held before the first change is recorded in the restore ledger
    (C(/var/lib/inference_host_tuning/ledger.json)); O(state=absent) disables and removes the unit and
    writes those values back.
  - Where cpufreq does not exist (most virtual machines and many containers) there is nothing to tune -
    the module changes nothing and returns RV(no_cpufreq=true) with RV(skip_reason).
  - When C(/sys) is read-only (unprivileged container) the unit is still installed and the runtime write
    is skipped with a warning, unless O(runtime=required).
version_added: 0.1.0
author:
  - inference.host_tuning contributors (@inference-host-tuning)
options:
  governor:
    description:
      - The governor to set. It must be offered by every CPU (C(scaling_available_governors)).
    type: str
    default: performance
  state:
    description:
      - V(present) sets the governor and installs the unit; V(absent) removes the unit and restores the
        governors recorded in the ledger.
    type: str
    choices: [present, absent]
    default: present
  runtime:
    description:
      - V(best_effort) skips runtime writes with a warning where C(/sys) is read-only; V(required) fails instead.
    type: str
    choices: [best_effort, required]
    default: best_effort
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details:
      - The diff shows the unit file; governors are in RV(before) and RV(after).
  idempotent:
    support: full
  platform:
    support: full
    details:
      - Linux with systemd for the boot-time part. Without C(systemctl) the unit file is installed but not
        enabled, with a warning.
extends_documentation_fragment:
  - inference.host_tuning.attributes
notes:
  - The unit is enabled with C(systemctl enable), which needs no running systemd. C(systemctl daemon-reload)
    runs only when systemd is the running init and the unit file changed. The unit is not started - the
    module has already set the governor.
  - A tool that manages governors too (C(tuned), C(power-profiles-daemon), C(cpupower.service)) may set
    another one later; disable it or give it the same governor.
'''

EXAMPLES = r'''
- name: Run every CPU at its highest frequency
  inference.host_tuning.cpu_governor:
    governor: performance

- name: Put the governors back as they were
  inference.host_tuning.cpu_governor:
    state: absent
'''

RETURN = r'''
cpus:
  description: Number of CPUs with cpufreq.
  returned: always
  type: int
  sample: 32
before:
  description: The distinct governors in use before the run.
  returned: always
  type: list
  elements: str
  sample: [powersave]
after:
  description: The distinct governors in use after the run (predicted in check mode).
  returned: always
  type: list
  elements: str
  sample: [performance]
unit:
  description: Path of the boot-time unit this module manages.
  returned: always
  type: str
  sample: /etc/systemd/system/inference-cpu-governor.service
enabled:
  description: Whether the unit is enabled after the run (predicted in check mode).
  returned: always
  type: bool
  sample: true
no_cpufreq:
  description:
    - True when the host has no cpufreq, so nothing was done. (Not C(skipped), which Ansible reserves for a task's
      status; a top-level C(skipped) made the task show as skipped.)
  returned: always
  type: bool
  sample: false
skip_reason:
  description: Why the module did nothing; null when it did not skip.
  returned: always
  type: str
  sample: null
runtime_skipped:
  description: True when some runtime writes were skipped because C(/sys) is read-only.
  returned: always
  type: bool
  sample: false
diff:
  description: The change to the unit file (in diff mode).
  returned: when changed and diff mode is on
  type: list
  elements: dict
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.inference.host_tuning.plugins.module_utils import _cpu
from ansible_collections.inference.host_tuning.plugins.module_utils import _files
from ansible_collections.inference.host_tuning.plugins.module_utils import _host
from ansible_collections.inference.host_tuning.plugins.module_utils import _ledger
from ansible_collections.inference.host_tuning.plugins.module_utils import _systemd

OWNER = 'cpu_governor'
UNIT = _cpu.GOVERNOR_UNIT
UNIT_PATH = _systemd.unit_path(UNIT)


class CpuGovernor(object):

    def __init__(self, module):
        self.module = module
        self.governor = module.params['governor']
        self.required = module.params['runtime'] == 'required'
        self.cpus = _cpu.cpufreq_cpus()
        self.current = dict((c, _host.read_value(_cpu.governor_path(c))) for c in self.cpus)
        self.predicted = dict(self.current)
        self.result = dict(changed=False, cpus=len(self.cpus), unit=UNIT_PATH, no_cpufreq=False, skip_reason=None,
                           runtime_skipped=False, enabled=_systemd.is_linked(UNIT), diff=[])
        self.systemctl = module.get_bin_path('systemctl')

    def skip_runtime(self, why):
        if self.required:
            self.module.fail_json(msg='%s, and runtime=required. Run where /sys is writable or use runtime=best_effort.'
                                  % why)
        self.module.warn('%s: skipped the runtime write (the boot-time unit is still managed).' % why)
        self.result['runtime_skipped'] = True

    def validate(self):
        if not _cpu.GOVERNOR_RE.match(self.governor):
            self.module.fail_json(msg='governor %r is not a cpufreq governor name (lower-case letters, digits '
                                      'and "_", such as performance or schedutil).' % (self.governor,))
        if not self.cpus:
            return
        offered = _cpu.common_governors(self.cpus)
        if self.governor not in offered:
            self.module.fail_json(msg='governor %r is not offered by every CPU on this host; available: %s.'
                                  % (self.governor, ', '.join(offered) or '(none)'))

    # -- present -------------------------------------------------------------
    def present(self):
        self.validate()
        if not self.cpus:
            reason = ('no cpufreq on this host (%s/cpu*/cpufreq is missing: a virtual machine or a container); '
                      'nothing to tune' % _cpu.CPU_DIR)
            self.result.update(no_cpufreq=True, skip_reason=reason)
            return
        writes = []
        for cpu in self.cpus:
            if self.current[cpu] == self.governor:
                continue
            if _host.is_readonly(_cpu.governor_path(cpu)):
                continue
            writes.append(cpu)
        if len(writes) < len([c for c in self.cpus if self.current[c] != self.governor]):
            self.skip_runtime('%s is read-only' % _cpu.CPU_DIR)
        unit = _files.ManagedFile(UNIT_PATH, _cpu.render_governor_unit(self.governor, OWNER))
        enable = not self.result['enabled'] and self.systemctl is not None
        if self.systemctl is None and not self.result['enabled']:
            self.module.warn('systemctl was not found: %s is installed but not enabled, so the governor is not '
                             'set at boot.' % UNIT_PATH)

        changed = bool(writes or unit.changed or enable)
        if unit.changed:
            self.result['diff'].append(unit.diff())
        for cpu in writes:
            self.predicted[cpu] = self.governor
        if self.module.check_mode or not changed:
            self.result['changed'] = changed
            self.result['enabled'] = self.result['enabled'] or enable
            return

        ledger = _ledger.Ledger(self.module)
        for cpu in writes:
            ledger.remember_runtime(_cpu.governor_path(cpu), self.current[cpu], OWNER)
        if unit.changed:
            ledger.remember_file(UNIT_PATH, OWNER)
        ledger.save()

        did = unit.apply(self.module, ledger, OWNER)
        failed = []
        for cpu in writes:
            try:
                _host.write_runtime(_cpu.governor_path(cpu), self.governor)
                did = True
            except _host.RuntimeWriteError as e:
                failed.append(str(e))
        if failed:
            self.skip_runtime('cannot write %d governor(s) (%s)' % (len(failed), failed[0]))
        if unit.changed and _systemd.booted(self.module):
            _systemd.Systemctl(self.module).daemon_reload()
        if enable:
            _systemd.Systemctl(self.module).run('enable', UNIT)
            did = True
        ledger.save()
        self.result['changed'] = did
        self.result['enabled'] = _systemd.is_linked(UNIT)
        self.predicted = dict((c, _host.read_value(_cpu.governor_path(c))) for c in self.cpus)

    # -- absent --------------------------------------------------------------
    def absent(self):
        ledger = _ledger.Ledger(self.module)
        if UNIT_PATH in ledger.files_of(OWNER):
            unit = _files.ManagedFile(UNIT_PATH, ledger.original_content(UNIT_PATH))
        else:
            # no record: remove the unit only when this module wrote it
            unit = _files.ManagedFile(UNIT_PATH, None)
            if not (unit.current or '').startswith(_files.header(OWNER)):
                unit.desired = unit.current
        disable = self.result['enabled'] and self.systemctl is not None
        if self.result['enabled'] and self.systemctl is None:
            self.module.warn('systemctl was not found: cannot disable %s.' % UNIT)

        restores = []
        for path in ledger.runtime_of(OWNER):
            original = ledger.original_value(path)
            if not _host.exists(path) or _host.read_value(path) == original:
                continue
            if _host.is_readonly(path):
                self.skip_runtime('%s is read-only' % path)
                continue
            restores.append(path)
            m = [c for c in self.cpus if _cpu.governor_path(c) == path]
            if m:
                self.predicted[m[0]] = original

        changed = bool(restores or unit.changed or disable)
        if unit.changed:
            self.result['diff'].append(unit.diff())
        if self.module.check_mode:
            self.result['changed'] = changed
            self.result['enabled'] = self.result['enabled'] and not disable
            return

        did = False
        if disable:
            _systemd.Systemctl(self.module).run('disable', UNIT)
            did = True
        if UNIT_PATH in ledger.files_of(OWNER):
            did = ledger.restore_file(UNIT_PATH) or did
        else:
            did = unit.apply(self.module) or did
        if unit.changed and _systemd.booted(self.module):
            _systemd.Systemctl(self.module).daemon_reload()
        for path in ledger.runtime_of(OWNER):
            if path in restores or not _host.exists(path) or _host.read_value(path) == ledger.original_value(path):
                try:
                    did = ledger.restore_runtime(path) or did
                except _host.RuntimeWriteError as e:
                    self.skip_runtime('cannot restore %s' % e)
        ledger.save()
        self.result['changed'] = did
        self.result['enabled'] = _systemd.is_linked(UNIT)
        self.predicted = dict((c, _host.read_value(_cpu.governor_path(c))) for c in self.cpus)

    def report(self):
        out = dict(self.result)
        out['before'] = sorted(set(v for v in self.current.values() if v))
        out['after'] = sorted(set(v for v in self.predicted.values() if v))
        if not self.module._diff or not out['diff']:
            out.pop('diff')
        return out


def main():
    module = AnsibleModule(
        argument_spec=dict(
            governor=dict(type='str', default='performance'),
            state=dict(type='str', default='present', choices=['present', 'absent']),
            runtime=dict(type='str', default='best_effort', choices=['best_effort', 'required']),
        ),
        supports_check_mode=True,
    )
    with _files.refusals(module):
        gov = CpuGovernor(module)
        if module.params['state'] == 'present':
            gov.present()
        else:
            gov.absent()
        module.exit_json(**gov.report())


if __name__ == '__main__':
    main()
