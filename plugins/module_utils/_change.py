# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The change layer: one way for every module to plan, apply and restore what it changes.

A module validates its options, reads the host and builds its changes from these pieces; check mode stops
after the plan (``changed`` and the diff come from the plan), a real run records in the ledger first, then
applies. ``state: absent`` and ``revert`` take the same pieces back.

* ``RuntimePolicy``: the ``runtime`` option (``best_effort`` / ``required``) of every module, once.
* ``absent_file()`` / ``restore_file()``: the one plan for taking a managed file away - the original the
  ledger recorded, else removal only when this owner wrote it (its header), else nothing.
* ``RuntimeWrite``, ``plan_runtime_restore()`` / ``restore_runtime()``: runtime values (``/proc/sys``,
  ``/sys``) written and put back under the policy.
* Extra records (what is neither a file nor a runtime value: kernel parameters added with grubby, swap
  areas turned off, units started or enabled, accounts and packages created, GPU settings) are restored by
  the ``Restorer`` of their kind; ``restorers()`` finds them for a ledger bucket, so that ``revert`` is a loop
  over the owners in the ledger that knows no owner's private keys, and a module's ``state: absent`` uses the
  same restorer as ``revert``.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import contextlib

from ansible_collections.inference.host_tuning.plugins.module_utils import _accounts
from ansible_collections.inference.host_tuning.plugins.module_utils import _bootloader
from ansible_collections.inference.host_tuning.plugins.module_utils import _files
from ansible_collections.inference.host_tuning.plugins.module_utils import _host
from ansible_collections.inference.host_tuning.plugins.module_utils import _ledger
from ansible_collections.inference.host_tuning.plugins.module_utils import _packages
from ansible_collections.inference.host_tuning.plugins.module_utils import _swap
from ansible_collections.inference.host_tuning.plugins.module_utils import _systemd
from ansible_collections.inference.host_tuning.plugins.module_utils import _topology

RUNTIME_CHOICES = ('best_effort', 'required')

# Extra ledger records by kind. The key names are the ledger's (kept as they are so that the ledgers of hosts
# already tuned still restore).
KERNEL_ARGS = ('hugepages', 'cmdline')          # {'method', 'params'}: kernel parameters added at boot
SWAP_AREAS = ('swap', 'swapped_off')            # [{'name', 'type', 'priority'}]: swap areas turned off
UNIT_STATES = ('nvidia_gpu', 'units')           # {unit: {'enabled', 'active'}}: units started or enabled
GPU_OWNER = 'nvidia_gpu'                        # every other nvidia_gpu record: a GPU's settings (NVML)
GPU_REASON = ('GPU settings are restored by inference.host_tuning.nvidia_gpu with state=absent (NVML); '
              'run it before revert')


class RuntimePolicy(object):
    """The ``runtime`` option: ``best_effort`` skips a runtime step that is not permitted here (with a
    warning, the persisted part still done), ``required`` fails instead."""

    def __init__(self, module, mode, persisted='the persisted file is still managed',
                 fix='Run where /sys is writable or use runtime=best_effort.', step='write', report=None):
        self.module = module
        self.required = mode == 'required'
        self.persisted = persisted
        self.fix = fix
        self.step = step
        self.report = report or dict
        self.skipped = False

    def skip(self, why):
        """A runtime step is not permitted here: warn (and remember it), or fail with runtime=required."""
        if self.required:
            self.module.fail_json(msg='%s, and runtime=required. %s' % (why, self.fix), **self.report())
        self.module.warn('%s: skipped the runtime %s (%s).' % (why, self.step, self.persisted))
        self.skipped = True


# -- requests: what a module was asked to apply (the audit's source of truth) ------------------------
def record_request(module, owner, request, instance='', present=True):
    """Keep, when the module succeeds (a real run, not check mode), what ``owner`` was asked to apply -
    ``request``, its validated options as plain JSON values - or forget it (``present`` false: state=absent).

    Call it once the options are read; the record is written just before the module's result, on every
    successful exit (an early one too), never after a failure."""
    if module.check_mode:
        return
    exit_json = module.exit_json

    def exit_recorded(**result):
        ledger = _ledger.Ledger(module)
        if present:
            ledger.record_request(owner, request, instance)
        else:
            ledger.forget_request(owner, instance if instance else None)
        ledger.save()
        exit_json(**result)
    module.exit_json = exit_recorded


def pick(params, names):
    """{name: params[name]} for the names given: the request a module records."""
    return dict((name, params[name]) for name in names)


# -- files ---------------------------------------------------------------------------------------
class RecordedFile(object):
    """A file the ledger recorded, planned as restore_file() restores it: diffed against what the restore
    leaves (``ledger.plan_file_restore``: a shared file merged, a link shown as one)."""

    recorded = True

    def __init__(self, ledger, path):
        self.path = path
        self.current, self.desired = ledger.plan_file_restore(path)
        # the content, and also the mode, owner or link the restore puts back (as revert plans it)
        self.changed = ledger.file_action(path)[0] != 'unchanged'

    def diff(self):
        return _files.file_diff(self.path, self.current, self.desired)


def absent_file(ledger, path, owner, mode=0o644):
    """The plan for taking ``path`` away: the recorded original when the ledger has ``owner``'s record (a
    RecordedFile); else a ManagedFile whose ``desired`` is None (removed) when ``owner`` wrote it (its header),
    or what is there (left)."""
    if path in ledger.files_of(owner):
        return RecordedFile(ledger, path)
    mf = _files.ManagedFile(path, None, mode)
    if not _files.is_ours(mf.current, owner):
        mf.desired = mf.current
    mf.recorded = False
    return mf


def restore_file(module, ledger, plan):
    """Apply an absent_file() plan: the ledger's exact restore (bytes, mode, owner, link) for a recorded file,
    else the removal of our own file. True when something changed."""
    if getattr(plan, 'recorded', False):
        return ledger.restore_file(plan.path)
    return plan.apply(module)


def write_file(module, mf, owner, result):
    """The plan of one managed file into ``result`` (its diff in diff mode); a real run records the original
    and writes it. True when it was written."""
    if module._diff:
        result['diff'] = mf.diff()
    if not mf.changed or module.check_mode:
        return False
    ledger = _ledger.Ledger(module)
    mf.apply(module, ledger, owner)
    ledger.save()
    return True


def diff_result(module, result):
    """``result`` as returned: its ``diff`` list only in diff mode and when there is one."""
    if not module._diff or not result.get('diff'):
        result.pop('diff', None)
    return result


@contextlib.contextmanager
def steps(module, result, errors):
    """Run the steps of a change that sets ``result['started']`` before its first one: an error of ``errors``
    fails with "Nothing was changed" when none had started, "Stopped" otherwise (what was done is in
    ``result``)."""
    try:
        yield
    except errors as e:
        started = result.pop('started', False)
        module.fail_json(msg='%s: %s' % ('Stopped' if started else 'Nothing was changed', e), **result)
    result.pop('started', None)


def run_state(module, obj):
    """Run the method of ``obj`` named as the module's ``state`` (present/absent, off/on) and exit with its
    report()."""
    getattr(obj, module.params['state'])()
    module.exit_json(**obj.report())


# -- runtime values -------------------------------------------------------------------------------
class RuntimeWrite(object):
    """One runtime value to write: ``path`` from ``before`` to ``after``."""

    __slots__ = ('path', 'before', 'after')

    def __init__(self, path, before, after):
        self.path = path
        self.before = before
        self.after = after


def restore_order(path):
    """The order runtime values are put back in: per-NUMA-node values (huge page pools) before the totals they
    add up to, so that a total never has to hold pages a node still has."""
    return (not path.startswith(_topology.NODE_DIR + '/'), path)


def plan_runtime_restore(ledger, owner, policy, read=_host.read_value):
    """The recorded runtime values of ``owner`` that differ now and can be written: [path]. A read-only one
    goes through the policy (skipped or fatal)."""
    restores = []
    for path in ledger.runtime_of(owner):
        if not _host.exists(path) or read(path) == ledger.original_value(path):
            continue
        if _host.is_readonly(path):
            policy.skip('%s is read-only' % path)
            continue
        restores.append(path)
    return restores


def restore_runtime(ledger, owner, policy, restores, read=_host.read_value):
    """Write back the planned values and drop the records already right (or gone); True when one was written.
    A value that cannot be written goes through the policy and stays in the ledger."""
    did = False
    for path in ledger.runtime_of(owner):
        if path in restores or not _host.exists(path) or read(path) == ledger.original_value(path):
            try:
                did = ledger.restore_runtime(path) or did
            except _host.RuntimeWriteError as e:
                if policy.required:
                    ledger.save()   # what was restored before is done: its records go before the failure
                policy.skip('cannot restore %s' % e)
    return did


def write_runtime(writes, policy, what):
    """Write the planned values (the ledger has recorded them); a failed write goes through the policy.
    Returns the writes that succeeded."""
    done, failed = [], []
    for w in writes:
        try:
            _host.write_runtime(w.path, w.after)
            done.append(w)
        except _host.RuntimeWriteError as e:
            failed.append(str(e))
    if failed:
        policy.skip('cannot write %d %s (%s)' % (len(failed), what, failed[0]))
    return done


# -- extra records: one restorer per kind ------------------------------------------------------------
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


_BY_KEY = {KERNEL_ARGS: KernelArgs, SWAP_AREAS: SwapAreas, UNIT_STATES: UnitStates}


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
        elif owner == GPU_OWNER:
            # listed in kept, not warned: playbooks/revert.yml runs nvidia_gpu state=absent for them
            found.append(Kept(owner, key, bucket[key], GPU_REASON))
        else:
            found.append(Kept(owner, key, bucket[key],
                              'revert does not know how to restore this record; run %s with state=absent' % owner,
                              'ledger record %s/%s is not restored by revert; run inference.host_tuning.%s with '
                              'state=absent' % (owner, key, owner)))
    return found
