# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The change layer: one way for every module to plan, apply and restore what it changes.

A module validates its options, reads the host and builds its changes from these pieces; check mode stops
after the plan (``changed`` and the diff come from the plan), a real run records in the ledger first, then
applies. ``state: absent`` and ``revert`` take the same pieces back.

* ``RuntimePolicy``: the ``runtime`` option (``best_effort`` / ``required`` / ``skip``) of every module, once:
  why a value is not written (``blocked``), a refusal before anything is written (``refuse``), a step skipped
  or fatal (``skip``), the ledger saved before a failure (``keeping``).
* ``absent_file()`` / ``restore_file()``: the one plan for taking a managed file away - the original the
  ledger recorded, else removal only when this owner wrote it (its header), else nothing.
* ``RuntimeWrite``, ``plan_runtime_restore()`` / ``restore_runtime()``: runtime values (``/proc/sys``,
  ``/sys``) written and put back under the policy.
* Extra records (what is neither a file nor a runtime value: kernel parameters added with grubby, swap
  areas turned off, units started or enabled, accounts and packages created, GPU settings) are named here by
  kind (``KERNEL_ARGS``, ...) and restored by ``_restore`` (one ``Restorer`` per kind), which only ``revert``
  and the modules that restore such a record import: every other module stays small to load on the host.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import contextlib

from ansible_collections.inference.host_tuning.plugins.module_utils import _files
from ansible_collections.inference.host_tuning.plugins.module_utils import _host
from ansible_collections.inference.host_tuning.plugins.module_utils import _ledger

RUNTIME_CHOICES = ('best_effort', 'required')
RUNTIME_CHOICES_SKIP = RUNTIME_CHOICES + ('skip',)     # where the persisted part stands alone
RUNTIME_SKIP = 'runtime: skip'
READONLY = 'read-only: %s cannot be written here (an unprivileged container?)'

# Extra ledger records by kind. The key names are the ledger's (kept as they are so that the ledgers of hosts
# already tuned still restore).
KERNEL_ARGS = ('hugepages', 'cmdline')          # {'method', 'params'}: kernel parameters added at boot
SWAP_AREAS = ('swap', 'swapped_off')            # [{'name', 'type', 'priority'}]: swap areas turned off
UNIT_STATES = ('nvidia_gpu', 'units')           # {unit: {'enabled', 'active'}}: units started or enabled
GPU_OWNER = 'nvidia_gpu'                        # every other nvidia_gpu record: a GPU's settings (NVML)
GPU_REASON = ('GPU settings are restored by inference.host_tuning.nvidia_gpu with state=absent (NVML); '
              'run it before revert')


class RuntimePolicy(object):
    """The ``runtime`` option, once: ``best_effort`` skips a runtime step that is not permitted here (with a
    warning, the persisted part still done), ``required`` fails instead, ``skip`` (where a module offers it)
    leaves the runtime alone and persists only. A module that may have written something already passes its
    ``ledger``: it is saved before a failure, so that what was done stays restorable."""

    def __init__(self, module, mode, persisted='the persisted file is still managed',
                 fix='Run where /sys is writable or use runtime=best_effort.', step='write', report=None,
                 ledger=None):
        self.module = module
        self.mode = mode
        self.required = mode == 'required'
        self.persisted = persisted
        self.fix = fix
        self.step = step
        self.report = report or dict
        self.ledger = ledger
        self.skipped = False

    def keeping(self, ledger):
        """This policy, saving ``ledger`` before a failure from now on."""
        self.ledger = ledger
        return self

    def blocked(self, path):
        """Why the runtime value at ``path`` is not written (runtime=skip, or a read-only runtime), or None."""
        if self.mode == 'skip':
            return RUNTIME_SKIP
        if _host.is_readonly(path):
            return READONLY % path
        return None

    def refuse(self, why, names):
        """Before anything is written: the runtime values ``names`` cannot be written here (``why``). With
        runtime=required fail, saying nothing was changed; else warn once, naming them all."""
        if names and self.required:
            self.module.fail_json(msg='Nothing was changed: runtime=required but %s: %s. %s'
                                      % (why, ', '.join(names), self.fix), **self.report())
        if names:
            self.skip(why, names)

    def skip(self, why, names=()):
        """A runtime step is not permitted here - ``why``, for the values ``names`` when several: warn (and
        remember it), or fail with runtime=required (before anything is written, when called while planning)."""
        if names:
            why = '%s: %s' % (why, ', '.join(names))
        if self.required:
            if self.ledger is not None and not self.module.check_mode:
                self.ledger.save()
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
    return (not path.startswith(_host.NODE_DIR + '/'), path)


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
                # what was restored before is done: its records go before a failure
                policy.keeping(ledger).skip('cannot restore %s' % e)
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
