#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: io_scheduler
short_description: Select the I/O scheduler of block devices, now and for every boot
description:
  - Writes O(scheduler) to C(/sys/block/DEV/queue/scheduler) of every whole disk whose kernel name matches
    one of O(devices) and that offers that scheduler, and installs the udev rule
    C(/etc/udev/rules.d/60-inference-io-scheduler.rules) so it is selected again whenever such a disk
    appears (at boot, hot-plug). Partitions are left out.
  - The scheduler each device had before the first change is recorded in the restore ledger
    (C(/var/lib/inference_host_tuning/ledger.json)); O(state=absent) removes the rule and selects those
    schedulers again.
  - C(udevadm control --reload-rules) runs when the rule changed and C(udevadm) exists; when it fails
    (no udev daemon, as in a container) the module warns.
  - When C(/sys) is read-only (unprivileged container) the runtime write is skipped with a warning
    (the rule is still installed) unless O(runtime=required).
version_added: 0.1.0
author:
  - inference.host_tuning contributors (@inference-host-tuning)
options:
  scheduler:
    description:
      - The scheduler to select. V(none) suits NVMe drives, which schedule in hardware.
    type: str
    choices: [none, mq-deadline, kyber, bfq]
    default: none
  devices:
    description:
      - Kernel names of the disks, as shell-style globs (C(*), C(?), C([...])) matched against
        C(/sys/block) and used as they are in the udev rule's C(KERNEL==) match.
    type: list
    elements: str
    default: ['nvme*n*']
  state:
    description:
      - V(present) selects the scheduler and installs the rule; V(absent) removes the rule and restores the
        schedulers recorded in the ledger (O(scheduler) and O(devices) are then ignored).
    type: str
    choices: [present, absent]
    default: present
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details:
      - The diff shows the udev rule; schedulers are in RV(devices).
  idempotent:
    support: full
  platform:
    support: full
    details:
      - Linux with blk-mq (the legacy C(cfq) and C(deadline) schedulers are not offered).
extends_documentation_fragment:
  - inference.host_tuning.attributes
  - inference.host_tuning.attributes.runtime
  - inference.host_tuning.attributes.recorded
'''

EXAMPLES = r'''
- name: No I/O scheduler on NVMe drives
  inference.host_tuning.io_scheduler:
    scheduler: none

- name: mq-deadline on the first four SATA disks
  inference.host_tuning.io_scheduler:
    scheduler: mq-deadline
    devices: ['sd[a-d]']

- name: Put the schedulers back as they were
  inference.host_tuning.io_scheduler:
    state: absent
'''

RETURN = r'''
devices:
  description:
    - Per matching device, the scheduler before and after the run (predicted in check mode), and why it
      was skipped (C(skip_reason), null when it was not).
    - With O(state=absent), the devices whose scheduler was recorded.
  returned: always
  type: dict
  sample:
    nvme0n1: {before: none, after: none, skipped: false, skip_reason: null}
    nvme1n1: {before: mq-deadline, after: none, skipped: false, skip_reason: null}
rule_path:
  description: Path of the udev rule this module manages.
  returned: always
  type: str
  sample: /etc/udev/rules.d/60-inference-io-scheduler.rules
rules_reloaded:
  description: Whether C(udevadm control --reload-rules) ran successfully.
  returned: always
  type: bool
  sample: true
runtime_skipped:
  description: True when a device's scheduler could not be selected now (a read-only C(/sys)); the rule still applies
    it at the next boot or device event.
  returned: always
  type: bool
  sample: false
diff:
  description: The change to the udev rule (in diff mode).
  returned: when changed and diff mode is on
  type: list
  elements: dict
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.inference.host_tuning.plugins.module_utils import _change
from ansible_collections.inference.host_tuning.plugins.module_utils import _block
from ansible_collections.inference.host_tuning.plugins.module_utils import _files
from ansible_collections.inference.host_tuning.plugins.module_utils import _host
from ansible_collections.inference.host_tuning.plugins.module_utils import _ledger

OWNER = 'io_scheduler'
RULE_PATH = _block.RULE_PATH


class IoScheduler(object):

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.policy = _change.RuntimePolicy(module, self.params['runtime'], 'the udev rule is still managed')
        self.devices = {}
        self.result = dict(changed=False, rule_path=RULE_PATH, rules_reloaded=False, diff=[])

    def device(self, dev, before, after=None, skip_reason=None):
        self.devices[dev] = dict(before=before, after=before if after is None else after,
                                 skipped=skip_reason is not None, skip_reason=skip_reason)

    def reload(self):
        ran, error = _block.reload_udev_rules(self.module)
        if error:
            self.module.warn('%s; the rule applies from the next boot or udev start.' % error)
        self.result['rules_reloaded'] = ran and error is None

    def finish(self, rule, changed):
        """Show the rule's diff; in check mode (or with nothing to do) the result is the plan."""
        if rule.changed:
            self.result['diff'].append(rule.diff())
        if self.module.check_mode or not changed:
            self.result['changed'] = changed
            return True
        return False

    # -- present -------------------------------------------------------------
    def validate(self):
        globs = self.params['devices']
        if not globs:
            self.module.fail_json(msg='devices is empty: give at least one kernel-name glob, such as nvme*n*.')
        for glob in globs:
            error = _block.glob_error(glob)
            if error:
                self.module.fail_json(msg='Nothing was changed: devices: %s' % error)

    def plan_device(self, dev, scheduler):
        """The write one device needs (a RuntimeWrite), or None with the reason noted."""
        path = _block.scheduler_path(dev)
        offered = _block.offered_schedulers(dev)
        before = _host.read_selected(path)
        if offered is None:
            self.device(dev, None, skip_reason='no queue/scheduler')
        elif scheduler not in offered:
            self.device(dev, before, skip_reason='%s is not offered (offered: %s)' % (scheduler, ' '.join(offered)))
            self.module.warn('%s does not offer the %s scheduler (offered: %s); left at %s.'
                             % (dev, scheduler, ' '.join(offered), before))
        elif before == scheduler:
            self.device(dev, before)
        elif _host.is_readonly(path):
            self.device(dev, before, skip_reason='read-only')
            self.policy.skip('%s is read-only' % path)
        else:
            self.device(dev, before, scheduler)
            return _change.RuntimeWrite(path, before, scheduler)
        return None

    def present(self):
        self.validate()
        scheduler, globs = self.params['scheduler'], self.params['devices']
        rule = _files.ManagedFile(RULE_PATH, _block.render_scheduler_rule(OWNER, scheduler, globs))
        writes = dict((dev, w) for dev, w in ((dev, self.plan_device(dev, scheduler))
                                              for dev in _block.matching_devices(globs)) if w is not None)
        if self.finish(rule, bool(rule.changed or writes)):
            return
        ledger = _ledger.Ledger(self.module)
        for w in writes.values():
            ledger.remember_runtime(w.path, w.before, OWNER)
        ledger.save()
        did = rule.apply(self.module, ledger, OWNER)
        for dev, w in sorted(writes.items()):
            try:
                _host.write_runtime(w.path, scheduler)
                did = True
            except _host.RuntimeWriteError as e:
                self.policy.skip('cannot select the scheduler (%s)' % e)
                self.devices[dev].update(skipped=True, skip_reason=str(e))
            self.devices[dev]['after'] = _host.read_selected(w.path)
        ledger.save()
        if rule.changed:
            self.reload()
        self.result['changed'] = did

    # -- absent --------------------------------------------------------------
    def absent(self):
        ledger = _ledger.Ledger(self.module)
        rule = _change.absent_file(ledger, RULE_PATH, OWNER)
        restores = _change.plan_runtime_restore(ledger, OWNER, self.policy, read=_host.read_selected)
        prefix = _block.BLOCK_DIR + '/'
        for path in ledger.runtime_of(OWNER):
            dev = path[len(prefix):].split('/')[0] if path.startswith(prefix) else path
            before = _host.read_selected(path)
            if before is None:
                self.device(dev, None, skip_reason='device is gone')
            elif path in restores:
                self.device(dev, before, ledger.original_value(path))
            elif before == ledger.original_value(path):
                self.device(dev, before)
            else:
                self.device(dev, before, skip_reason='read-only')
        if self.finish(rule, bool(rule.changed or restores)) or self.module.check_mode:
            return
        did = _change.restore_file(self.module, ledger, rule)
        did = _change.restore_runtime(ledger, OWNER, self.policy, restores, read=_host.read_selected) or did
        ledger.save()
        if rule.changed:
            self.reload()
        self.result['changed'] = did

    def report(self):
        out = dict(self.result, devices=self.devices, runtime_skipped=self.policy.skipped)
        return _change.diff_result(self.module, out)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            scheduler=dict(type='str', default='none', choices=list(_block.SCHEDULERS)),
            devices=dict(type='list', elements='str', default=['nvme*n*']),
            state=dict(type='str', default='present', choices=['present', 'absent']),
            runtime=dict(type='str', default='best_effort', choices=['best_effort', 'required']),
        ),
        supports_check_mode=True,
    )
    with _files.refusals(module):
        _change.record_request(module, OWNER, _change.pick(module.params, ('scheduler', 'devices')),
                               present=module.params['state'] == 'present')
        _change.run_state(module, IoScheduler(module))


if __name__ == '__main__':
    main()
