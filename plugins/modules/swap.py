#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: swap
short_description: Turn swap off for inference serving, and put it back
description:
  - With O(state=off), turns off every active swap area listed in C(/proc/swaps) (zram swap devices
    included) with C(swapoff), and comments out the swap lines of C(/etc/fstab) so swap stays off
    after a boot. The lines are kept, prefixed with C(# inference.host_tuning:) and a space, so they
    stay visible.
  - Before the first change the original C(/etc/fstab) and the list of swap areas turned off are
    recorded in the restore ledger (C(/var/lib/inference_host_tuning/ledger.json)). The ledger is the
    backup; no C(.bak) copy is left in C(/etc).
  - With O(state=on), undoes what this module did - C(/etc/fstab) is restored byte for byte from the
    ledger, the swap areas it turned off are turned on again with their priority, and zswap is set back
    to what it was.
  - Refuses to turn swap off on a host with less than O(min_ram_gib) of RAM unless O(force=true).
  - Reports zram devices and whether zswap is enabled; O(disable_zswap=true) turns zswap off at runtime.
  - In an unprivileged container C(swapoff) is not permitted; the runtime part is then skipped with a
    warning (C(/etc/fstab) is still edited) unless O(runtime=required).
version_added: 0.1.0
author:
  - inference.host_tuning contributors (@inference-host-tuning)
options:
  state:
    description:
      - V(off) turns swap off now and at boot.
      - V(on) restores what this module changed (it does not enable swap it never turned off).
    type: str
    choices: ['off', 'on']
    default: 'off'
  min_ram_gib:
    description:
      - With O(state=off), refuse when C(MemTotal) is below this many GiB. Small hosts need swap to
        survive memory pressure; without it the OOM killer ends the serving process.
    type: int
    default: 32
  low_ram:
    description:
      - What to do when the host has less RAM than O(min_ram_gib) and O(force=false).
      - V(fail) stops with a message (the default when calling the module directly).
      - V(skip) leaves swap as it is, warns, and returns RV(refused=true) with C(changed=false), so that a
        fleet run does not stop on its small hosts (the base role uses this).
    type: str
    choices: [fail, skip]
    default: fail
  force:
    description:
      - Turn swap off even when the host has less RAM than O(min_ram_gib) (or when C(MemTotal) cannot
        be read).
    type: bool
    default: false
  disable_zswap:
    description:
      - With O(state=off), write V(N) to C(/sys/module/zswap/parameters/enabled) when zswap is enabled.
      - This is a runtime change only; to keep zswap off after a boot add C(zswap.enabled=0) to the
        kernel command line.
    type: bool
    default: false
  runtime:
    description:
      - V(best_effort) skips the runtime part (C(swapoff), C(swapon), the zswap write) with a warning when the
        host does not permit it (unprivileged container, read-only C(/sys)).
      - V(required) fails instead.
    type: str
    choices: [best_effort, required]
    default: best_effort
attributes:
  check_mode:
    support: full
    details:
      - Whether C(swapoff) is permitted is predicted from the C(CAP_SYS_ADMIN) capability; when that
        cannot be read, check mode assumes it is permitted.
  diff_mode:
    support: full
    details:
      - The diff shows C(/etc/fstab); swap areas turned off or on are in RV(swaps_before) and RV(swaps_after).
  idempotent:
    support: full
  platform:
    support: full
    details:
      - Linux only.
extends_documentation_fragment:
  - inference.host_tuning.attributes
  - inference.host_tuning.attributes.recorded
notes:
  - The swap lines in C(/etc/fstab) are matched on their third field (C(swap)). Swap turned on by a
    systemd C(.swap) unit that is not in C(/etc/fstab), or by a C(zram-generator) configuration, is
    turned off now but may come back at boot; mask that unit to keep it off.
seealso:
  - name: swapoff(8)
    description: The command used to turn swap areas off.
    link: https://man7.org/linux/man-pages/man8/swapoff.8.html
'''

EXAMPLES = r'''
- name: Turn swap off on an inference host
  inference.host_tuning.swap:
    state: 'off'

- name: Turn swap and zswap off on a 16 GiB test box anyway
  inference.host_tuning.swap:
    state: 'off'
    force: true
    disable_zswap: true

- name: Put swap back as it was
  inference.host_tuning.swap:
    state: 'on'
'''

RETURN = r'''
refused:
  description: True when swap was left on because the host has less RAM than O(min_ram_gib) and O(low_ram=skip).
  returned: when refused
  type: bool
  sample: true
swaps_before:
  description: Active swap areas before the run (from C(/proc/swaps)).
  returned: always
  type: list
  elements: dict
  sample: [{name: /dev/nvme0n1p3, type: partition, size_kib: 8388604, used_kib: 0, priority: -2}]
swaps_after:
  description: Active swap areas after the run (predicted in check mode).
  returned: always
  type: list
  elements: dict
  sample: []
fstab_lines_commented:
  description: The C(/etc/fstab) swap lines commented out by this run (O(state=off)).
  returned: always
  type: list
  elements: str
  sample: ['UUID=5a5a-0001  none   swap  sw                 0  0']
fstab_lines_restored:
  description: The C(/etc/fstab) lines put back by this run (O(state=on)).
  returned: always
  type: list
  elements: str
  sample: []
swapped_on:
  description: Swap areas turned on again by this run (O(state=on)).
  returned: always
  type: list
  elements: str
  sample: []
ram_gib:
  description: C(MemTotal) in GiB, one decimal; null when it cannot be read.
  returned: always
  type: float
  sample: 1007.1
runtime_skipped:
  description: True when the runtime part (swapoff, swapon or the zswap write) was not permitted and was skipped.
  returned: always
  type: bool
  sample: false
zram:
  description: zram block devices and whether each is an active swap area (before the run).
  returned: always
  type: list
  elements: dict
  sample: [{name: zram0, swap: true}]
zram_devices:
  description: Names of the zram block devices.
  returned: always
  type: list
  elements: str
  sample: [zram0]
zswap:
  description: zswap state; C(available) is false when the kernel has no zswap.
  returned: always
  type: dict
  sample: {available: true, enabled_before: true, enabled_after: false}
zswap_enabled:
  description: Whether zswap is enabled after the run; null when the kernel has no zswap.
  returned: always
  type: bool
  sample: false
diff:
  description: The change to C(/etc/fstab) (in diff mode).
  returned: when changed and diff mode is on
  type: list
  elements: dict
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.inference.host_tuning.plugins.module_utils import _change
from ansible_collections.inference.host_tuning.plugins.module_utils import _files
from ansible_collections.inference.host_tuning.plugins.module_utils import _host
from ansible_collections.inference.host_tuning.plugins.module_utils import _ledger
from ansible_collections.inference.host_tuning.plugins.module_utils import _swap

OWNER = _change.SWAP_AREAS[0]
SWAPPED_OFF = _change.SWAP_AREAS[1]  # ledger extra swap/swapped_off: [{'name', 'type', 'priority'}]
NO_CAP = 'swapoff is not permitted here (no CAP_SYS_ADMIN, as in an unprivileged container)'


class Swap(object):
    """One run: validate -> plan from the host -> apply (check mode: plan only) -> result."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.policy = _change.RuntimePolicy(
            module, self.params['runtime'], persisted='the persistent part is done',
            fix='Run on a host (or a privileged context) that permits it, or use runtime=best_effort to skip it.',
            step='part', report=self.report)
        self.result = dict(changed=False, fstab_lines_commented=[], fstab_lines_restored=[],
                           swapped_on=[], diff=[])
        self.swaps_before = _swap.active_swaps()
        self.swaps_after = self.swaps_before
        self.ram_gib = _swap.ram_gib()
        active = set(s['name'] for s in self.swaps_before)
        self.zram = [dict(name=d, swap=('/dev/%s' % d) in active) for d in _swap.zram_devices()]
        self.zswap_before = _swap.zswap_enabled()
        self.zswap_after = self.zswap_before

    def add_diff(self, fstab):
        if fstab is not None and fstab.changed:
            self.result['diff'].append(fstab.diff())
            return True
        return False

    def done(self, did):
        """After a real run: what changed, and the host as it is now."""
        self.result['changed'] = did
        self.swaps_after = _swap.active_swaps()
        self.zswap_after = _swap.zswap_enabled()

    # -- state=off -----------------------------------------------------------
    def check_ram(self):
        minimum = self.params['min_ram_gib']
        if minimum < 0:
            self.module.fail_json(msg='min_ram_gib must be 0 or more, got %d.' % minimum)
        if self.params['force']:
            return
        if self.ram_gib is None:
            self.module.fail_json(msg='Cannot read MemTotal from %s, so cannot tell whether this host has '
                                      'enough RAM to run without swap. Set force=true to turn swap off anyway.'
                                  % _swap.MEMINFO)
        if self.ram_gib < minimum and self.params['low_ram'] == 'skip':
            self.module.warn('Left swap on: this host has %.1f GiB of RAM, less than min_ram_gib=%d GiB '
                             '(set force=true to turn it off anyway).' % (self.ram_gib, minimum))
            self.result['refused'] = True
            self.module.exit_json(**self.report())
        if self.ram_gib < minimum:
            self.module.fail_json(
                msg='Refusing to turn swap off: this host has %.1f GiB of RAM, less than min_ram_gib=%d GiB. '
                    'Small hosts need swap to survive memory pressure (without it the OOM killer ends the '
                    'serving process). Set force=true to turn swap off anyway, or lower min_ram_gib.'
                    % (self.ram_gib, minimum), ram_gib=self.ram_gib)

    def plan_off(self):
        """(fstab plan or None, swap areas to turn off, swapoff path, whether to write zswap off)."""
        fstab = None
        current = _host.read_text_file(_swap.FSTAB)
        if current is not None:
            desired, commented = _swap.comment_swap_lines(current)
            fstab = _files.ManagedFile(_swap.FSTAB, desired)
            self.result['fstab_lines_commented'] = commented
        to_off = list(self.swaps_before)
        swapoff = self.module.get_bin_path('swapoff')
        if to_off and swapoff is None:
            self.policy.skip('swapoff was not found')
            to_off = []
        elif to_off and _swap.can_swapoff() is False:
            self.policy.skip(NO_CAP)
            to_off = []
        zswap_write = False
        if self.params['disable_zswap'] and self.zswap_before:
            if _host.is_readonly(_swap.ZSWAP_ENABLED):
                self.policy.skip('%s is read-only' % _swap.ZSWAP_ENABLED)
            else:
                zswap_write = True
        return fstab, to_off, swapoff, zswap_write

    def off(self):
        self.check_ram()
        fstab, to_off, swapoff, zswap_write = self.plan_off()
        changed = self.add_diff(fstab) or bool(to_off or zswap_write)
        if self.module.check_mode or not changed:
            self.result['changed'] = changed
            off_names = set(s['name'] for s in to_off)
            self.swaps_after = [s for s in self.swaps_before if s['name'] not in off_names]
            if zswap_write:
                self.zswap_after = False
            return
        ledger, planned = self.record_off(fstab, to_off, zswap_write)
        did = self.swapoff(ledger, swapoff, to_off, planned)
        if fstab is not None:
            did = fstab.apply(self.module, ledger, OWNER) or did
        if zswap_write:
            did = self.zswap_off(ledger) or did
        ledger.save()
        self.done(did)

    def record_off(self, fstab, to_off, zswap_write):
        """Record the originals before the first change: (ledger, the swapped_off record now planned)."""
        ledger = _ledger.Ledger(self.module)
        if fstab is not None and fstab.changed:
            ledger.remember_file(_swap.FSTAB, OWNER)
        recorded = ledger.get_extra(OWNER, SWAPPED_OFF, [])
        names = set(r['name'] for r in recorded)
        planned = recorded + [dict(name=s['name'], type=s['type'], priority=s['priority'])
                              for s in to_off if s['name'] not in names]
        if to_off:
            ledger.set_extra(OWNER, SWAPPED_OFF, planned, overwrite=True)
        if zswap_write:
            ledger.remember_runtime(_swap.ZSWAP_ENABLED, _host.read_value(_swap.ZSWAP_ENABLED), OWNER)
        ledger.save()
        return ledger, planned

    def swapoff(self, ledger, swapoff, to_off, planned):
        """Turn the areas off; one refused here is skipped (and not recorded), another failure fails."""
        did = False
        failed_off = set()
        for s in to_off:
            rc, out, err = self.module.run_command([swapoff, s['name']])
            if rc == 0:
                did = True
                continue
            failed_off.add(s['name'])
            msg = (err or out or '').strip()
            if _swap.is_permission_error(msg):
                self.policy.skip('swapoff %s is not permitted here (%s)' % (s['name'], msg))
                continue
            ledger.set_extra(OWNER, SWAPPED_OFF, [r for r in planned if r['name'] not in failed_off], overwrite=True)
            ledger.save()
            self.module.fail_json(msg='swapoff %s failed (rc=%d): %s. If there is not enough free memory '
                                      'to take the swapped pages back, free some first.' % (s['name'], rc, msg),
                                  rc=rc, stdout=out, stderr=err, **self.report())
        if failed_off:
            kept = [r for r in planned if r['name'] not in failed_off]
            if kept:
                ledger.set_extra(OWNER, SWAPPED_OFF, kept, overwrite=True)
            else:
                ledger.forget_extra(OWNER)
        return did

    def zswap_off(self, ledger):
        try:
            _host.write_runtime(_swap.ZSWAP_ENABLED, 'N')
            return True
        except _host.RuntimeWriteError as e:
            ledger.forget_runtime(_swap.ZSWAP_ENABLED)
            self.policy.skip('cannot disable zswap (%s)' % e)
            return False

    # -- state=on ------------------------------------------------------------
    def plan_fstab_on(self, ledger):
        """fstab from the ledger (its ``recorded`` plan); without a record, the lines we commented put back."""
        fstab = None
        restored = []
        current = _host.read_text_file(_swap.FSTAB)
        if _swap.FSTAB in ledger.files_of(OWNER):
            fstab = _files.ManagedFile(_swap.FSTAB, ledger.restore_text(_swap.FSTAB))
            fstab.recorded = True
            restored = _swap.uncomment_ours(current)[1]
        elif current is not None:
            desired, restored = _swap.uncomment_ours(current)
            fstab = _files.ManagedFile(_swap.FSTAB, desired)
            fstab.recorded = False
        self.result['fstab_lines_restored'] = restored
        return fstab

    def plan_swapon(self, ledger):
        """The recorded areas still off, as revert plans them: (areas, swapon path, skipped here)."""
        to_on, swapon, why = _swap.plan_swapon(self.module, ledger.get_extra(OWNER, SWAPPED_OFF, []))
        if why:
            self.policy.skip(why)
            return [], swapon, True
        return to_on, swapon, False

    def on(self):
        ledger = _ledger.Ledger(self.module)
        fstab = self.plan_fstab_on(ledger)
        to_on, swapon, swapon_skipped = self.plan_swapon(ledger)
        runtime_restore = _change.plan_runtime_restore(ledger, OWNER, self.policy, read=_host.read_selected)
        changed = self.add_diff(fstab) or bool(to_on or runtime_restore)
        if self.module.check_mode:
            self.result['changed'] = changed
            self.result['swapped_on'] = [r['name'] for r in to_on]
            self.swaps_after = self.swaps_before + [
                dict(name=r['name'], type=r['type'], size_kib=None, used_kib=None, priority=r['priority'])
                for r in to_on]
            if _swap.ZSWAP_ENABLED in runtime_restore:
                self.zswap_after = ledger.original_value(_swap.ZSWAP_ENABLED) in ('Y', 'y', '1')
            return
        # apply; records already satisfied are dropped as well
        did = False
        if fstab is not None:
            did = _change.restore_file(self.module, ledger, fstab) or did
        did = self.swapon(ledger, swapon, to_on, swapon_skipped) or did
        did = _change.restore_runtime(ledger, OWNER, self.policy, runtime_restore, read=_host.read_selected) or did
        ledger.save()
        self.done(did)

    def swapon(self, ledger, swapon, to_on, skipped):
        """Turn the areas on as revert does; one refused here stays recorded, another failure is dropped."""
        on, refused = _swap.swapon_areas(self.module, swapon, to_on, self.module.warn)
        self.result['swapped_on'].extend(on)
        for area, msg in refused:
            self.policy.skip('swapon %s is not permitted here (%s)' % (area['name'], msg))
        if refused:
            ledger.set_extra(OWNER, SWAPPED_OFF, [area for area, _msg in refused], overwrite=True)
        elif not skipped:
            ledger.forget_extra(OWNER)
        return bool(on)

    def report(self):
        out = dict(self.result)
        out.update(
            runtime_skipped=self.policy.skipped,
            swaps_before=self.swaps_before,
            swaps_after=self.swaps_after,
            ram_gib=self.ram_gib,
            zram=self.zram,
            zram_devices=[z['name'] for z in self.zram],
            zswap=dict(available=self.zswap_before is not None, enabled_before=self.zswap_before,
                       enabled_after=self.zswap_after),
            zswap_enabled=self.zswap_after,
        )
        return _change.diff_result(self.module, out)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            state=dict(type='str', default='off', choices=['off', 'on']),
            min_ram_gib=dict(type='int', default=32),
            force=dict(type='bool', default=False),
            low_ram=dict(type='str', default='fail', choices=['fail', 'skip']),
            disable_zswap=dict(type='bool', default=False),
            runtime=dict(type='str', default='best_effort', choices=['best_effort', 'required']),
        ),
        supports_check_mode=True,
    )
    with _files.refusals(module):
        _change.record_request(module, OWNER, _change.pick(module.params, ('min_ram_gib', 'force', 'disable_zswap')),
                               present=module.params['state'] == 'off')
        _change.run_state(module, Swap(module))


if __name__ == '__main__':
    main()
