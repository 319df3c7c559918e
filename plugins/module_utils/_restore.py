# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Restoring the ledger's extra records: one ``Restorer`` per kind, shared by ``revert`` and a module's
``state: absent``.

An extra record is what is neither a file nor a runtime value: kernel parameters added with grubby, swap
areas turned off, units started or enabled, accounts and packages created, GPU settings (their kinds are
named in ``_change``). ``restorers()`` finds the restorers of a ledger bucket, so that ``revert`` is a loop
over the owners in the ledger that knows no owner's private keys. A ``Restoration`` collects what they plan
and did. Kept apart from ``_change`` so that a module that restores none of these loads none of the surfaces
they need (accounts, packages, GRUB, swap, systemd).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.inference.host_tuning.plugins.module_utils import _accounts
from ansible_collections.inference.host_tuning.plugins.module_utils import _bootloader
from ansible_collections.inference.host_tuning.plugins.module_utils import _change
from ansible_collections.inference.host_tuning.plugins.module_utils import _packages
from ansible_collections.inference.host_tuning.plugins.module_utils import _swap
from ansible_collections.inference.host_tuning.plugins.module_utils import _systemd


class Restoration(object):
    """What restoring a set of records plans and did: shared by revert and a module's state=absent."""

    def __init__(self, module, ledger, policy, fail=None):
        self.module = module
        self.ledger = ledger
        self.policy = policy
        self.check = module.check_mode
        self.commands = []      # argv lists, planned or run
        self.kept = []          # [{owner, record, reason}]
        self.extra = []         # [{owner, record, action}]: accounts and packages removed
        self.diffs = []
        self.reboot_params = []  # kernel parameters that go at the next boot
        self.swapped_on = []
        self.changed = False
        self._fail = fail or (lambda msg: module.fail_json(msg=msg))

    def keep(self, owner, record, why, warn=None):
        """A record that stays in the ledger (``warn``: the warning to give, None for none)."""
        self.kept.append({'owner': owner, 'record': record, 'reason': why})
        if warn:
            self.module.warn(warn)

    def problem(self, owner, record, why, reason=None):
        """A runtime step that cannot be done here: fails with runtime=required, else kept with a warning."""
        if self.policy.required:
            self._fail('%s, and runtime=required. Nothing was changed. Run where it is permitted or use '
                       'runtime=best_effort.' % why)
        self.keep(owner, record, reason or why, '%s; the record is kept in the ledger for a later run.' % why)

    def fail(self, msg):
        self._fail(msg)

    def run(self, argv):
        """Run an argv (no shell) under C locale; AccountError on failure (used by the account steps)."""
        rc, out, err = self.module.run_command(argv, environ_update={'LC_ALL': 'C'})
        self.commands.append(argv)
        if rc != 0:
            raise _accounts.AccountError('%s failed (rc=%s): %s' % (' '.join(argv), rc, (err or out).strip()))


class Restorer(object):
    """Restores one extra ledger record. ``stage`` orders the apply: 0 with the files (boot configuration),
    1 after the runtime values, 2 last (accounts and packages, after the services that used them)."""

    stage = 1

    def __init__(self, owner, key, record):
        self.owner = owner
        self.key = key
        self.record = record

    def plan(self, r):
        """Plan on the Restoration ``r`` (commands, diffs, kept, changed)."""

    def apply(self, r):
        """Do what plan() planned (not called in check mode)."""


class KernelArgs(Restorer):
    """Kernel parameters the collection added: removed with grubby (a GRUB drop-in or a file is a recorded
    file, restored with the files)."""

    stage = 0

    def __init__(self, owner, key, record):
        super(KernelArgs, self).__init__(owner, key, record)
        self.grubby = None
        self.forget = False

    def plan(self, r):
        rec = self.record or {}
        params = list(rec.get('params') or [])
        r.reboot_params.extend(params)
        self.forget = True
        if rec.get('method') != 'grubby' or not params:
            return
        if r.module.get_bin_path('grubby') is None:
            self.forget = False
            r.reboot_params[:] = [p for p in r.reboot_params if p not in params]
            r.keep(self.owner, self.key, 'grubby was not found to remove %s' % ' '.join(params),
                   'grubby was not found: the kernel parameters %s stay in the boot entries and in the ledger'
                   % ' '.join(params))
            return
        grubby = _bootloader.Grubby(r.module)
        if grubby.plan([], params):
            r.changed = True
            r.diffs.append(grubby.diff())
            r.commands.append(['grubby', '--update-kernel=ALL', '--remove-args=%s' % ' '.join(grubby.remove)])
            self.grubby = grubby

    def apply(self, r):
        if self.grubby is not None:
            self.grubby.apply()
        if self.forget:
            r.ledger.forget_extra_key(self.owner, self.key)


class SwapAreas(Restorer):
    """Swap areas the collection turned off: turned on again, with their priority."""

    def __init__(self, owner, key, record):
        super(SwapAreas, self).__init__(owner, key, record)
        self.to_on = []
        self.swapon = None

    def plan(self, r):
        self.to_on, self.swapon, why = _swap.plan_swapon(r.module, self.record)
        if why:
            names = ', '.join(x['name'] for x in self.to_on)
            r.problem(self.owner, self.key, '%s to turn %s on again' % (why, names), why)
            self.to_on = None
            return
        for area in self.to_on:
            r.commands.append(_swap.swapon_argv(self.swapon, area))
            r.changed = True

    def apply(self, r):
        if self.to_on is None:
            return
        on, still_off = _swap.swapon_areas(r.module, self.swapon, self.to_on, r.module.warn)
        r.swapped_on.extend(on)
        for area, msg in still_off:
            r.keep(self.owner, area['name'], msg,
                   'swapon %s is not permitted here (%s); kept in the ledger' % (area['name'], msg))
        if still_off:
            r.ledger.set_extra(self.owner, self.key, [a for a, _msg in still_off], overwrite=True)
        else:
            r.ledger.forget_extra_key(self.owner, self.key)


class UnitStates(Restorer):
    """Units a module enabled or started ({unit: state before}): disabled or stopped again."""

    def __init__(self, owner, key, record):
        super(UnitStates, self).__init__(owner, key, record)
        self.steps = None

    def plan(self, r):
        records = self.record or {}
        if not _systemd.booted(r.module):
            r.problem(self.owner, self.key, 'systemd is not running here to put back %s' % ', '.join(sorted(records)))
            return
        self.steps = _systemd.restore_steps(_systemd.Systemctl(r.module), records)
        for step in self.steps:
            r.commands.append(['systemctl'] + step)
            r.changed = True

    def apply(self, r):
        if self.steps is None:
            return
        systemctl = _systemd.Systemctl(r.module)
        for step in self.steps:
            systemctl.run(*step)
        r.ledger.forget_extra_key(self.owner, self.key)


class Account(Restorer):
    """A user, group and home the collection created (service_account): removed while still the ones it
    created."""

    stage = 2

    def __init__(self, owner, key, record):
        super(Account, self).__init__(owner, key, record)
        self.steps = None

    def plan(self, r):
        try:
            self.steps = _accounts.plan_restore(self.key, self.record)
        except _accounts.AccountError as e:
            r.keep(self.owner, self.key, str(e), '%s record %s is kept in the ledger: %s' % (self.owner, self.key, e))
            return
        for step in self.steps:
            r.extra.append({'owner': self.owner, 'record': self.key, 'action': step.text})
        r.changed = r.changed or bool(self.steps)

    def apply(self, r):
        if self.steps is None:
            return
        try:
            _accounts.restore(r.ledger, self.key, self.steps, r.run)
        except (_accounts.AccountError, OSError) as e:
            r.ledger.save()
            r.fail('Stopped: restoring the service account %s: %s; what was restored before is done, the record '
                   'stays in the ledger' % (self.key, e))


class Packages(Restorer):
    """The packages the collection installed (system_packages), all of an owner's records at once."""

    stage = 2

    def __init__(self, owner, key, record):
        super(Packages, self).__init__(owner, key, record)
        self.plan_ = []

    def plan(self, r):
        try:
            self.plan_ = _packages.plan_restore(r.module, self.record)
        except _packages.PackageError as e:
            for key in sorted(self.record):
                r.keep(self.owner, key, str(e), '%s record %s is kept in the ledger: %s' % (self.owner, key, e))
            return
        for pkg, action in self.plan_:
            r.extra.append({'owner': self.owner, 'record': pkg,
                            'action': 'remove package %s' % pkg if action == 'remove' else 'forget (not installed)'})
            r.changed = True

    def apply(self, r):
        if not self.plan_:
            return
        try:
            argv = _packages.restore(r.module, r.ledger, self.plan_)
        except _packages.PackageError as e:
            r.ledger.save()
            r.fail('Stopped: removing the packages the collection installed: %s; the records stay in the ledger' % e)
        if argv:
            r.commands.append(argv)


class Kept(Restorer):
    """A record revert cannot restore (GPU settings need NVML): listed in ``kept``, restored by its module."""

    def __init__(self, owner, key, record, reason, warn=None):
        super(Kept, self).__init__(owner, key, record)
        self.reason = reason
        self.warn = warn

    def plan(self, r):
        r.keep(self.owner, self.key, self.reason, self.warn)


_BY_KEY = {_change.KERNEL_ARGS: KernelArgs, _change.SWAP_AREAS: SwapAreas, _change.UNIT_STATES: UnitStates}


def restorers(owner, bucket):
    """The restorers of one owner's extra records (its ledger bucket ``{key: record}``)."""
    if owner == _packages.OWNER:
        return [Packages(owner, None, bucket)] if bucket else []
    found = []
    for key in sorted(bucket or {}):
        kind = _BY_KEY.get((owner, key))
        if kind is not None:
            found.append(kind(owner, key, bucket[key]))
        elif owner == _accounts.OWNER:
            found.append(Account(owner, key, bucket[key]))
        elif owner == _change.GPU_OWNER:
            # listed in kept, not warned: playbooks/revert.yml runs nvidia_gpu state=absent for them
            found.append(Kept(owner, key, bucket[key], _change.GPU_REASON))
        else:
            found.append(Kept(owner, key, bucket[key],
                              'revert does not know how to restore this record; run %s with state=absent' % owner,
                              'ledger record %s/%s is not restored by revert; run inference.host_tuning.%s with '
                              'state=absent' % (owner, key, owner)))
    return found
