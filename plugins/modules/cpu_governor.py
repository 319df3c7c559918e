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
  - inference.host_tuning.attributes.runtime
  - inference.host_tuning.attributes.recorded
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

from ansible_collections.inference.host_tuning.plugins.module_utils import _change
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
        self.policy = _change.RuntimePolicy(module, module.params['runtime'], 'the boot-time unit is still managed')
        self.cpus = _cpu.cpufreq_cpus()
        self.current = dict((c, _host.read_value(_cpu.governor_path(c))) for c in self.cpus)
        self.predicted = dict(self.current)
        self.result = dict(changed=False, cpus=len(self.cpus), unit=UNIT_PATH, no_cpufreq=False, skip_reason=None,
                           enabled=_systemd.is_linked(UNIT), diff=[])
        self.systemctl = module.get_bin_path('systemctl')

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

    def settle(self, changed, enabled):
        """The result of a run: ``changed``, the boot unit's link, and the governors as they are now."""
        self.result['changed'] = changed
        self.result['enabled'] = enabled
        if not self.module.check_mode:
            self.predicted = dict((c, _host.read_value(_cpu.governor_path(c))) for c in self.cpus)

    # -- present -------------------------------------------------------------
    def plan_writes(self):
        """The governors to write; read-only ones go through the runtime policy."""
        wrong = [c for c in self.cpus if self.current[c] != self.governor]
        writes = [_change.RuntimeWrite(_cpu.governor_path(c), self.current[c], self.governor)
                  for c in wrong if not _host.is_readonly(_cpu.governor_path(c))]
        if len(writes) < len(wrong):
            self.policy.skip('%s is read-only' % _cpu.CPU_DIR)
        return writes

    def present(self):
        self.validate()
        if not self.cpus:
            reason = ('no cpufreq on this host (%s/cpu*/cpufreq is missing: a virtual machine or a container); '
                      'nothing to tune' % _cpu.CPU_DIR)
            self.result.update(no_cpufreq=True, skip_reason=reason)
            return
        writes = self.plan_writes()
        unit = _files.ManagedFile(UNIT_PATH, _cpu.render_governor_unit(self.governor, OWNER))
        enable = not self.result['enabled'] and self.systemctl is not None
        if self.systemctl is None and not self.result['enabled']:
            self.module.warn('systemctl was not found: %s is installed but not enabled, so the governor is not '
                             'set at boot.' % UNIT_PATH)
        changed = bool(writes or unit.changed or enable)
        if unit.changed:
            self.result['diff'].append(unit.diff())
        for w in writes:
            self.predicted[_cpu.cpu_of(w.path)] = self.governor
        if self.module.check_mode or not changed:
            self.settle(changed, self.result['enabled'] or enable)
            return
        ledger = _ledger.Ledger(self.module)
        for w in writes:
            ledger.remember_runtime(w.path, w.before, OWNER)
        ledger.save()
        did = unit.apply(self.module, ledger, OWNER)
        did = bool(_change.write_runtime(writes, self.policy, 'governor(s)')) or did
        if unit.changed and _systemd.booted(self.module):
            _systemd.Systemctl(self.module).daemon_reload()
        if enable:
            _systemd.Systemctl(self.module).run('enable', UNIT)
            did = True
        ledger.save()
        self.settle(did, _systemd.is_linked(UNIT))

    # -- absent --------------------------------------------------------------
    def absent(self):
        ledger = _ledger.Ledger(self.module)
        unit = _change.absent_file(ledger, UNIT_PATH, OWNER)
        disable = self.result['enabled'] and self.systemctl is not None
        if self.result['enabled'] and self.systemctl is None:
            self.module.warn('systemctl was not found: cannot disable %s.' % UNIT)
        restores = _change.plan_runtime_restore(ledger, OWNER, self.policy)
        for path in restores:
            if _cpu.cpu_of(path) in self.predicted:
                self.predicted[_cpu.cpu_of(path)] = ledger.original_value(path)
        changed = bool(restores or unit.changed or disable)
        if unit.changed:
            self.result['diff'].append(unit.diff())
        if self.module.check_mode:
            self.settle(changed, self.result['enabled'] and not disable)
            return
        did = False
        if disable:
            _systemd.Systemctl(self.module).run('disable', UNIT)
            did = True
        did = _change.restore_file(self.module, ledger, unit) or did
        if unit.changed and _systemd.booted(self.module):
            _systemd.Systemctl(self.module).daemon_reload()
        did = _change.restore_runtime(ledger, OWNER, self.policy, restores) or did
        ledger.save()
        self.settle(did, _systemd.is_linked(UNIT))

    def report(self):
        out = dict(self.result, runtime_skipped=self.policy.skipped)
        out['before'] = sorted(set(v for v in self.current.values() if v))
        out['after'] = sorted(set(v for v in self.predicted.values() if v))
        return _change.diff_result(self.module, out)


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
        _change.record_request(module, OWNER, _change.pick(module.params, ('governor',)),
                               present=module.params['state'] == 'present')
        _change.run_state(module, CpuGovernor(module))


if __name__ == '__main__':
    main()
