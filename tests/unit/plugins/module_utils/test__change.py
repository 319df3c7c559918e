# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""_change: the runtime policy, the plans for files and runtime values, requests - each checked on the fake
host tree and on the ledger read back from it (the restorers of the extra records: test__restore.py)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os

import pytest

from ansible_collections.inference.host_tuning.plugins.module_utils import _change
from ansible_collections.inference.host_tuning.plugins.module_utils import _files
from ansible_collections.inference.host_tuning.plugins.module_utils import _host
from ansible_collections.inference.host_tuning.plugins.module_utils import _ledger
from ansible_collections.inference.host_tuning.tests.unit.fakehost import FakeModule

LEDGER = _ledger.LEDGER_PATH
RULE = '/etc/udev/rules.d/60-inference-io-scheduler.rules'
UNIT = '/etc/systemd/system/inference-cpu-governor.service'
SWAPPINESS = '/proc/sys/vm/swappiness'
DIRTY = '/proc/sys/vm/dirty_ratio'
THP = '/sys/kernel/mm/transparent_hugepage/enabled'
NVME = '/sys/block/nvme0n1/queue/scheduler'


class Failed(Exception):
    pass


class Module(FakeModule):
    """FakeModule with what the change layer uses: check and diff mode, params, an exit_json that keeps its
    result, a fail_json that keeps its keys, and commands answered per name by ``handlers`` (argv -> rc, out,
    err)."""

    def __init__(self, bins=(), handlers=None, check_mode=False, diff=False, params=None):
        super(Module, self).__init__(bins)
        self.handlers = dict(handlers or {})
        self.check_mode = check_mode
        self._diff = diff
        self.params = dict(params or {})
        self.exited = None
        self.failed = None

    def run_command(self, argv, **kwargs):
        self.calls.append(list(argv))
        handler = self.handlers.get(os.path.basename(argv[0]))
        return handler(argv) if handler else (0, '', '')

    def exit_json(self, **kwargs):
        self.exited = kwargs

    def fail_json(self, msg=None, **kwargs):
        self.failed = dict(kwargs, msg=msg)
        raise Failed(msg)


def ledger_data(host):
    return json.loads(host.read(LEDGER)) if host.exists(LEDGER) else None


def mode_of(host, path):
    return os.stat(host.path(path)).st_mode & 0o7777


def saved_ledger(m, runtime=(), extra=()):
    """A ledger with the given records saved to the fake host, loaded again."""
    ledger = _ledger.Ledger(m)
    for path, value, owner in runtime:
        ledger.remember_runtime(path, value, owner)
    for owner, key, value in extra:
        ledger.set_extra(owner, key, value)
    ledger.save()
    return _ledger.Ledger(m)


@pytest.fixture
def writes(monkeypatch):
    """Every runtime value written (through the conftest's read-only emulation)."""
    done = []
    real = _host.write_runtime

    def write_runtime(path, value):
        done.append((path, value))
        return real(path, value)
    monkeypatch.setattr(_host, 'write_runtime', write_runtime)
    return done


# -- RuntimePolicy ------------------------------------------------------------------------------
def test_policy_best_effort_warns_and_remembers():
    m = Module()
    policy = _change.RuntimePolicy(m, 'best_effort')
    assert policy.skipped is False and policy.required is False
    policy.skip('/proc/sys/vm/swappiness is read-only')
    assert m.warnings == ['/proc/sys/vm/swappiness is read-only: skipped the runtime write '
                          '(the persisted file is still managed).']
    assert policy.skipped is True and m.failed is None


def test_policy_best_effort_names_the_step_and_what_was_persisted():
    m = Module()
    policy = _change.RuntimePolicy(m, 'best_effort', persisted='the persistent part is done', step='part')
    policy.skip('swapon was not found')
    assert m.warnings == ['swapon was not found: skipped the runtime part (the persistent part is done).']


def test_policy_required_fails_with_the_fix_and_the_report():
    m = Module()
    policy = _change.RuntimePolicy(m, 'required', fix='Run it elsewhere.',
                                   report=lambda: {'changed': False, 'before': ['powersave']})
    with pytest.raises(Failed):
        policy.skip('/sys is read-only')
    assert m.failed == {'msg': '/sys is read-only, and runtime=required. Run it elsewhere.',
                        'changed': False, 'before': ['powersave']}
    assert m.warnings == [] and policy.skipped is False


def test_policy_required_default_fix_without_report():
    m = Module()
    with pytest.raises(Failed):
        _change.RuntimePolicy(m, 'required').skip('x')
    assert m.failed == {'msg': 'x, and runtime=required. Run where /sys is writable or use runtime=best_effort.'}


def test_policy_blocked_says_why_a_value_is_not_written(fake_host):
    fake_host.write(SWAPPINESS, '60\n')
    assert _change.RuntimePolicy(Module(), 'best_effort').blocked(SWAPPINESS) is None
    assert _change.RuntimePolicy(Module(), 'skip').blocked(SWAPPINESS) == 'runtime: skip'
    fake_host.make_readonly('/proc/sys')
    assert _change.RuntimePolicy(Module(), 'required').blocked(SWAPPINESS) == (
        'read-only: %s cannot be written here (an unprivileged container?)' % SWAPPINESS)
    # runtime=skip never reads the host: the runtime is left alone whatever it is
    assert _change.RuntimePolicy(Module(), 'skip').blocked(SWAPPINESS) == 'runtime: skip'


def test_policy_refuse_fails_before_anything_naming_every_value():
    m = Module()
    policy = _change.RuntimePolicy(m, 'required', fix='Run it elsewhere.', report=lambda: {'keys': ['a', 'b']})
    with pytest.raises(Failed):
        policy.refuse('these values cannot be written', ['a (/proc/sys/a)', 'b (/proc/sys/b)'])
    assert m.failed == {'msg': 'Nothing was changed: runtime=required but these values cannot be written: '
                               'a (/proc/sys/a), b (/proc/sys/b). Run it elsewhere.', 'keys': ['a', 'b']}
    assert m.warnings == []


def test_policy_refuse_with_best_effort_warns_once_and_nothing_when_no_value():
    m = Module()
    policy = _change.RuntimePolicy(m, 'best_effort', persisted='they are persisted')
    policy.refuse('the runtime is read-only', [])
    assert m.warnings == [] and policy.skipped is False
    policy.refuse('the runtime is read-only', ['a', 'b'])
    assert m.warnings == ['the runtime is read-only: a, b: skipped the runtime write (they are persisted).']
    assert policy.skipped is True and m.failed is None


def test_policy_keeping_a_ledger_saves_it_before_failing(fake_host):
    m = Module()
    fake_host.write(SWAPPINESS, '60\n')
    ledger = _ledger.Ledger(m)
    ledger.remember_runtime(SWAPPINESS, '60', 'sysctl_profile')
    policy = _change.RuntimePolicy(m, 'required').keeping(ledger)
    assert not fake_host.exists(LEDGER)
    with pytest.raises(Failed):
        policy.skip('writing failed', ['vm.swappiness (EPERM)'])
    assert m.failed['msg'].startswith('writing failed: vm.swappiness (EPERM), and runtime=required.')
    assert ledger_data(fake_host)['runtime'][SWAPPINESS]['owner'] == 'sysctl_profile'


def test_policy_keeping_a_ledger_does_not_save_it_in_check_mode(fake_host):
    m = Module(check_mode=True)
    ledger = _ledger.Ledger(m)
    with pytest.raises(Failed):
        _change.RuntimePolicy(m, 'required', ledger=ledger).skip('x')
    assert not fake_host.exists(LEDGER)


# -- files: absent_file / restore_file -----------------------------------------------------------
def test_recorded_file_is_restored_byte_for_byte_with_its_mode(fake_host):
    fake_host.write(RULE, 'ACTION=="add", KERNEL=="sd*"\n', mode=0o640)
    m = Module()
    ledger = _ledger.Ledger(m)
    assert _files.ManagedFile(RULE, _files.header('io_scheduler') + 'ours\n').apply(m, ledger, 'io_scheduler')
    ledger.save()
    assert fake_host.read(RULE) == _files.header('io_scheduler') + 'ours\n'

    ledger = _ledger.Ledger(m)
    plan = _change.absent_file(ledger, RULE, 'io_scheduler')
    assert isinstance(plan, _change.RecordedFile) and plan.recorded is True
    assert plan.changed is True
    assert plan.diff() == {'before_header': RULE, 'after_header': RULE,
                           'before': _files.header('io_scheduler') + 'ours\n',
                           'after': 'ACTION=="add", KERNEL=="sd*"\n'}
    assert _change.restore_file(m, ledger, plan) is True
    ledger.save()
    assert fake_host.read(RULE) == 'ACTION=="add", KERNEL=="sd*"\n'
    assert mode_of(fake_host, RULE) == 0o640
    assert ledger_data(fake_host) is None        # the last record went, and the ledger with it
    assert m.warnings == []


def test_recorded_file_whose_mode_alone_differs_is_planned_as_a_change(fake_host):
    """Check mode must predict what restore_file does: the content is back but the mode is not."""
    fake_host.write(RULE, 'ACTION=="add", KERNEL=="sd*"\n', mode=0o644)
    m = Module()
    ledger = _ledger.Ledger(m)
    assert _files.ManagedFile(RULE, _files.header('io_scheduler') + 'ours\n').apply(m, ledger, 'io_scheduler')
    ledger.save()
    fake_host.write(RULE, 'ACTION=="add", KERNEL=="sd*"\n', mode=0o600)   # put back by hand, but 0600
    ledger = _ledger.Ledger(m)
    plan = _change.absent_file(ledger, RULE, 'io_scheduler')
    assert plan.changed is True and plan.current == plan.desired
    assert _change.restore_file(m, ledger, plan) is True
    assert mode_of(fake_host, RULE) == 0o644


def test_required_restore_failure_saves_what_was_restored_first(fake_host, monkeypatch):
    m = Module()
    ledger = saved_ledger(m, runtime=[(SWAPPINESS, '60', 'sysctl_profile'), (DIRTY, '30', 'sysctl_profile')])
    fake_host.sysctl('vm.swappiness', 10)
    fake_host.sysctl('vm.dirty_ratio', 10)
    real = _host.write_runtime

    def write(path, value):
        if path == SWAPPINESS:
            raise _host.RuntimeWriteError(path, OSError(22, 'Invalid argument'))
        return real(path, value)
    monkeypatch.setattr(_host, 'write_runtime', write)
    policy = _change.RuntimePolicy(m, 'required')
    restores = _change.plan_runtime_restore(ledger, 'sysctl_profile', policy)
    with pytest.raises(Exception):
        _change.restore_runtime(ledger, 'sysctl_profile', policy, restores)
    # dirty_ratio was written back before the failure, and its record is gone on disk
    assert sorted(ledger_data(fake_host)['runtime']) == [SWAPPINESS]


def test_recorded_file_of_another_owner_is_not_taken_as_recorded(fake_host):
    m = Module()
    ledger = _ledger.Ledger(m)
    _files.ManagedFile(UNIT, _files.header('numa_bind') + '[Unit]\n').apply(m, ledger, 'numa_bind')
    ledger.save()
    plan = _change.absent_file(_ledger.Ledger(m), UNIT, 'cpu_governor')
    assert plan.recorded is False
    assert plan.changed is False        # numa_bind's header, not cpu_governor's: left as it is


def test_our_unrecorded_file_is_removed(fake_host):
    fake_host.write(UNIT, _files.header('cpu_governor') + '[Unit]\nDescription=x\n')
    m = Module()
    ledger = _ledger.Ledger(m)
    plan = _change.absent_file(ledger, UNIT, 'cpu_governor')
    assert plan.recorded is False and plan.changed is True
    assert plan.diff()['after_header'] == UNIT + ' (absent)' and plan.diff()['after'] == ''
    assert _change.restore_file(m, ledger, plan) is True
    assert not fake_host.exists(UNIT)
    assert ledger_data(fake_host) is None


def test_foreign_unrecorded_file_is_left_byte_for_byte(fake_host):
    fake_host.write(UNIT, '# written by the operator\n[Unit]\n', mode=0o600)
    before = fake_host.tree()
    m = Module()
    ledger = _ledger.Ledger(m)
    plan = _change.absent_file(ledger, UNIT, 'cpu_governor')
    assert plan.recorded is False and plan.changed is False
    assert plan.diff()['before'] == plan.diff()['after'] == '# written by the operator\n[Unit]\n'
    assert _change.restore_file(m, ledger, plan) is False
    assert fake_host.tree() == before


def test_absent_file_plans_nothing(fake_host):
    before = fake_host.tree()
    m = Module()
    ledger = _ledger.Ledger(m)
    plan = _change.absent_file(ledger, UNIT, 'cpu_governor')
    assert plan.current is None and plan.changed is False
    assert _change.restore_file(m, ledger, plan) is False
    assert fake_host.tree() == before


# -- runtime values ---------------------------------------------------------------------------------
def test_runtime_restore_writes_back_the_changed_and_drops_the_right(fake_host, writes):
    m = Module()
    ledger = saved_ledger(m, runtime=[(SWAPPINESS, '60', 'sysctl_profile'), (DIRTY, '20', 'sysctl_profile'),
                                      ('/proc/sys/vm/gone', '1', 'sysctl_profile'),
                                      ('/proc/sys/vm/max_map_count', '1', 'swap')])
    fake_host.sysctl('vm.swappiness', 10)
    policy = _change.RuntimePolicy(m, 'best_effort')
    restores = _change.plan_runtime_restore(ledger, 'sysctl_profile', policy)
    assert restores == [SWAPPINESS]
    assert _change.restore_runtime(ledger, 'sysctl_profile', policy, restores) is True
    ledger.save()
    assert writes == [(SWAPPINESS, '60')]        # dirty_ratio was already right: no write
    assert fake_host.read(SWAPPINESS) == '60\n'
    assert fake_host.read(DIRTY) == '20\n'
    # every sysctl_profile record is dropped (the one whose file is gone too); swap's stays, unwritten
    assert ledger_data(fake_host)['runtime'] == {'/proc/sys/vm/max_map_count': {
        'value': '1', 'owner': 'swap', 'recorded': ledger.runtime['/proc/sys/vm/max_map_count']['recorded']}}
    assert fake_host.read('/proc/sys/vm/max_map_count') == '65530\n'
    assert m.warnings == [] and policy.skipped is False


def test_runtime_restore_when_all_is_right_writes_nothing(fake_host, writes):
    m = Module()
    ledger = saved_ledger(m, runtime=[(SWAPPINESS, '60', 'sysctl_profile')])
    policy = _change.RuntimePolicy(m, 'best_effort')
    assert _change.plan_runtime_restore(ledger, 'sysctl_profile', policy) == []
    assert _change.restore_runtime(ledger, 'sysctl_profile', policy, []) is False
    ledger.save()
    assert writes == [] and ledger_data(fake_host) is None


def test_read_only_runtime_value_is_kept_with_a_warning(fake_host, writes):
    m = Module()
    ledger = saved_ledger(m, runtime=[(SWAPPINESS, '60', 'sysctl_profile')])
    fake_host.sysctl('vm.swappiness', 10)
    fake_host.make_readonly('/proc/sys')
    policy = _change.RuntimePolicy(m, 'best_effort')
    restores = _change.plan_runtime_restore(ledger, 'sysctl_profile', policy)
    assert restores == []
    assert m.warnings == ['%s is read-only: skipped the runtime write (the persisted file is still managed).'
                          % SWAPPINESS]
    assert policy.skipped is True
    assert _change.restore_runtime(ledger, 'sysctl_profile', policy, restores) is False
    ledger.save()
    assert writes == [] and fake_host.read(SWAPPINESS) == '10\n'
    assert ledger_data(fake_host)['runtime'][SWAPPINESS]['value'] == '60'


def test_read_only_runtime_value_fails_with_required(fake_host):
    m = Module()
    ledger = saved_ledger(m, runtime=[(SWAPPINESS, '60', 'sysctl_profile')])
    fake_host.sysctl('vm.swappiness', 10)
    fake_host.make_readonly('/proc/sys')
    with pytest.raises(Failed):
        _change.plan_runtime_restore(ledger, 'sysctl_profile', _change.RuntimePolicy(m, 'required'))
    assert m.failed['msg'] == ('%s is read-only, and runtime=required. Run where /sys is writable or use '
                               'runtime=best_effort.' % SWAPPINESS)
    assert fake_host.read(SWAPPINESS) == '10\n'
    assert ledger_data(fake_host)['runtime'][SWAPPINESS]['value'] == '60'


def test_planned_restore_that_fails_to_write_keeps_the_record(fake_host):
    m = Module()
    ledger = saved_ledger(m, runtime=[(SWAPPINESS, '60', 'sysctl_profile')])
    fake_host.sysctl('vm.swappiness', 10)
    policy = _change.RuntimePolicy(m, 'best_effort')
    restores = _change.plan_runtime_restore(ledger, 'sysctl_profile', policy)
    assert restores == [SWAPPINESS]
    fake_host.make_readonly('/proc/sys')        # between the plan and the write
    assert _change.restore_runtime(ledger, 'sysctl_profile', policy, restores) is False
    ledger.save()
    assert m.warnings == ['cannot restore %s: Read-only file system: skipped the runtime write (the persisted '
                          'file is still managed).' % SWAPPINESS]
    assert fake_host.read(SWAPPINESS) == '10\n'
    assert ledger_data(fake_host)['runtime'][SWAPPINESS]['value'] == '60'


def test_read_selects_the_word_of_a_choice_file(fake_host, writes):
    """io_scheduler and swap pass read=_host.read_selected: "[none] mq-deadline" reads as "none"."""
    m = Module()
    ledger = saved_ledger(m, runtime=[(NVME, 'none', 'io_scheduler')])
    policy = _change.RuntimePolicy(m, 'best_effort')
    assert _change.plan_runtime_restore(ledger, 'io_scheduler', policy, read=_host.read_selected) == []
    # the whole line is not the recorded word: without read= it would be planned
    assert _change.plan_runtime_restore(ledger, 'io_scheduler', policy) == [NVME]
    fake_host.write(NVME, 'none [mq-deadline] kyber bfq\n')
    restores = _change.plan_runtime_restore(ledger, 'io_scheduler', policy, read=_host.read_selected)
    assert restores == [NVME]
    assert _change.restore_runtime(ledger, 'io_scheduler', policy, restores, read=_host.read_selected) is True
    ledger.save()
    assert writes == [(NVME, 'none')] and ledger_data(fake_host) is None


def test_write_runtime_returns_only_what_was_written(fake_host):
    m = Module()
    fake_host.make_readonly('/sys/kernel/mm')
    ok = _change.RuntimeWrite(SWAPPINESS, '60', '10')
    refused = _change.RuntimeWrite(THP, 'always', 'madvise')
    policy = _change.RuntimePolicy(m, 'best_effort', persisted='the tmpfiles.d line is still managed')
    assert _change.write_runtime([refused, ok], policy, 'setting(s)') == [ok]
    assert fake_host.read(SWAPPINESS) == '10\n'
    assert fake_host.read(THP) == '[always] madvise never\n'
    assert m.warnings == ['cannot write 1 setting(s) (%s: Read-only file system): skipped the runtime write '
                          '(the tmpfiles.d line is still managed).' % THP]
    assert policy.skipped is True


def test_write_runtime_failure_with_required_fails(fake_host):
    m = Module()
    fake_host.make_readonly('/sys/kernel/mm')
    policy = _change.RuntimePolicy(m, 'required')
    with pytest.raises(Failed):
        _change.write_runtime([_change.RuntimeWrite(THP, 'always', 'madvise')], policy, 'value(s)')
    assert m.failed['msg'].startswith('cannot write 1 value(s) (%s: Read-only file system), and runtime=required.'
                                      % THP)
    assert fake_host.read(THP) == '[always] madvise never\n'


# -- requests -------------------------------------------------------------------------------------
def test_request_is_recorded_on_exit(fake_host):
    m = Module()
    _change.record_request(m, 'swap', {'min_ram_gib': 64, 'force': False})
    assert not fake_host.exists(LEDGER)          # not before the module's result
    m.exit_json(changed=True, swapped_on=[])
    assert m.exited == {'changed': True, 'swapped_on': []}
    assert ledger_data(fake_host)['requests'] == {'swap': {'': {'min_ram_gib': 64, 'force': False}}}
    assert mode_of(fake_host, LEDGER) == 0o600


def test_request_forgotten_for_one_instance_or_all(fake_host):
    for unit in ('a.service', 'b.service'):
        m = Module()
        _change.record_request(m, 'service_unit', {'unit': unit}, instance=unit)
        m.exit_json(changed=True)
    assert sorted(ledger_data(fake_host)['requests']['service_unit']) == ['a.service', 'b.service']
    m = Module()
    _change.record_request(m, 'service_unit', None, instance='a.service', present=False)
    m.exit_json(changed=True)
    assert ledger_data(fake_host)['requests'] == {'service_unit': {'b.service': {'unit': 'b.service'}}}
    m = Module()
    _change.record_request(m, 'service_unit', None, present=False)
    m.exit_json(changed=True)
    assert m.exited == {'changed': True}
    assert ledger_data(fake_host) is None        # nothing else was recorded: the ledger went with it


def test_request_not_recorded_in_check_mode_or_on_failure(fake_host):
    m = Module(check_mode=True)
    exit_json = m.exit_json
    _change.record_request(m, 'swap', {'min_ram_gib': 64})
    assert m.exit_json == exit_json
    m.exit_json(changed=True)
    m = Module()
    _change.record_request(m, 'swap', {'min_ram_gib': 64})
    with pytest.raises(Failed):
        m.fail_json(msg='bad')
    assert not fake_host.exists(LEDGER) and not fake_host.exists(_host.STATE_DIR)


def test_pick():
    assert _change.pick({'a': 1, 'b': None, 'c': 3}, ('a', 'b')) == {'a': 1, 'b': None}


# -- write_file, diff_result, steps, run_state -----------------------------------------------------------
def test_write_file_records_and_writes(fake_host):
    m = Module(diff=True)
    result = {}
    mf = _files.ManagedFile(UNIT, _files.header('cpu_governor') + '[Unit]\n')
    assert _change.write_file(m, mf, 'cpu_governor', result) is True
    assert result['diff']['after_header'] == UNIT and result['diff']['before_header'] == UNIT + ' (absent)'
    assert fake_host.read(UNIT) == _files.header('cpu_governor') + '[Unit]\n'
    assert ledger_data(fake_host)['files'][UNIT]['existed'] is False
    assert ledger_data(fake_host)['files'][UNIT]['owner'] == 'cpu_governor'
    # the same content again: nothing written
    assert _change.write_file(m, _files.ManagedFile(UNIT, _files.header('cpu_governor') + '[Unit]\n'),
                              'cpu_governor', {}) is False


def test_write_file_in_check_mode_writes_nothing(fake_host):
    before = fake_host.tree()
    m = Module(check_mode=True)
    result = {}
    mf = _files.ManagedFile(UNIT, '[Unit]\n')
    assert _change.write_file(m, mf, 'cpu_governor', result) is False
    assert mf.changed is True and result == {}       # no diff outside diff mode
    assert fake_host.tree() == before


def test_diff_result():
    assert _change.diff_result(Module(diff=True), {'changed': True, 'diff': [{'before': 'a'}]}) == {
        'changed': True, 'diff': [{'before': 'a'}]}
    assert _change.diff_result(Module(diff=True), {'changed': False, 'diff': []}) == {'changed': False}
    assert _change.diff_result(Module(), {'changed': True, 'diff': [{'before': 'a'}]}) == {'changed': True}
    assert _change.diff_result(Module(), {'changed': True}) == {'changed': True}


def test_steps_nothing_changed_before_the_first_step():
    m = Module()
    result = {'changed': False}
    with pytest.raises(Failed):
        with _change.steps(m, result, (ValueError,)):
            raise ValueError('no such device')
    assert m.failed == {'msg': 'Nothing was changed: no such device', 'changed': False}


def test_steps_stopped_after_a_step_started():
    m = Module()
    result = {'changed': True, 'done': ['a']}
    with pytest.raises(Failed):
        with _change.steps(m, result, (ValueError, OSError)):
            result['started'] = True
            raise OSError('disk full')
    assert m.failed == {'msg': 'Stopped: disk full', 'changed': True, 'done': ['a']}


def test_steps_without_error_and_with_another_error():
    m = Module()
    result = {'changed': True}
    with _change.steps(m, result, (ValueError,)):
        result['started'] = True
    assert result == {'changed': True} and m.failed is None
    with pytest.raises(KeyError):
        with _change.steps(m, result, (ValueError,)):
            raise KeyError('x')
    assert m.failed is None


def test_run_state_runs_the_state_and_exits_with_its_report():
    class Obj(object):
        ran = []

        def present(self):
            self.ran.append('present')

        def absent(self):
            self.ran.append('absent')

        def report(self):
            return {'changed': True, 'ran': list(self.ran)}
    m = Module(params={'state': 'absent'})
    _change.run_state(m, Obj())
    assert m.exited == {'changed': True, 'ran': ['absent']}
