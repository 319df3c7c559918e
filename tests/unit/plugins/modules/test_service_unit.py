# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""service_unit: the serving unit, its encoding, its refusals and the takeover, on the fake host."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os

import pytest

from ansible_collections.inference.host_tuning.plugins.module_utils import _ledger
from ansible_collections.inference.host_tuning.plugins.modules import revert
from ansible_collections.inference.host_tuning.plugins.modules import service_unit
from ansible_collections.inference.host_tuning.tests.unit.fakehost import FakeCommands
from ansible_collections.inference.host_tuning.tests.unit.plugins.modules.utils import fail_module, run_module

UNIT = '/etc/systemd/system/vllm.service'
HEADER = ('# Managed by Ansible (inference.host_tuning.service_unit). Local edits are overwritten;\n'
          '# remove with state=absent or playbooks/revert.yml to restore what was here before.\n')
VLLM = {'name': 'vllm', 'python': '/usr/bin/python3', 'model': '/models/llama', 'served_model_name': 'llama3',
        'max_model_len': 4096, 'enable_prefix_caching': True,
        'environment': {'CUDA_DEVICE_ORDER': 'PCI_BUS_ID', 'OMP_NUM_THREADS': 8}}
OPERATOR_UNIT = '[Unit]\nDescription=operator service\n\n[Service]\nExecStart=/usr/local/bin/mysvc --flag\n'


VLLM_ARGV = ['/usr/bin/python3', '-m', 'vllm.entrypoints.openai.api_server', '--model', '/models/llama',
             '--host', '127.0.0.1', '--port', '8000', '--gpu-memory-utilization', '0.9', '--tensor-parallel-size', '1',
             '--dtype', 'auto', '--served-model-name', 'llama3', '--max-model-len', '4096', '--enable-prefix-caching']
VLLM_SETTINGS = [
    ('Unit', 'Description', 'LLM inference server (vllm)'),
    ('Unit', 'Wants', 'network-online.target'),
    ('Unit', 'After', 'network-online.target'),
    ('Service', 'Type', 'simple'),
    ('Service', 'User', 'inference'),
    ('Service', 'Group', 'inference'),
    ('Service', 'WorkingDirectory', '/var/lib/inference'),
    ('Service', 'ExecStart', VLLM_ARGV),
    ('Service', 'Environment', ['CUDA_DEVICE_ORDER=PCI_BUS_ID']),
    ('Service', 'Environment', ['OMP_NUM_THREADS=8']),
    ('Service', 'LimitMEMLOCK', 'infinity'),
    ('Service', 'LimitNOFILE', '1048576'),
    ('Service', 'Restart', 'on-failure'),
    ('Service', 'RestartSec', '10'),
    ('Service', 'TimeoutStopSec', '90'),
    ('Service', 'SyslogIdentifier', 'vllm'),
    ('Install', 'WantedBy', 'multi-user.target'),
]
_ESCAPES = {'n': '\n', 't': '\t', 'r': '\r', 'a': '\a', 'b': '\b', 'f': '\f', 'v': '\v', 's': ' '}


def specifiers(value):
    """A value with systemd's %-specifiers resolved; only "%%" (a literal %) is allowed in what we write."""
    out, i = '', 0
    while i < len(value):
        if value[i] == '%':
            assert value[i + 1:i + 2] == '%', 'a specifier would be expanded: %r' % value
            i += 1
        out += value[i]
        i += 1
    return out


def words(value, dollars=False):
    """What systemd makes of a command line or an Environment= value: specifiers resolved, then words split at
    white space with "..." and '...' quoting and C escapes (systemd.syntax(7)); with ``dollars``, ExecStart's
    variable expansion, which must find only "$$" (a literal $)."""
    value = specifiers(value)
    out, i, n = [], 0, len(value)
    while i < n:
        while i < n and value[i] in ' \t':
            i += 1
        if i >= n:
            break
        word = ''
        while i < n and value[i] not in ' \t':
            c = value[i]
            if c in '"\'':
                i += 1
                while value[i] != c:
                    if value[i] == '\\':
                        i += 1
                        word += _ESCAPES.get(value[i], value[i])
                    else:
                        word += value[i]
                    i += 1
                i += 1
            elif c == '\\':
                word += _ESCAPES.get(value[i + 1], value[i + 1])
                i += 2
            else:
                word += c
                i += 1
        out.append(word)
    if dollars:
        for w in out:
            assert '$' not in w.replace('$$', ''), 'a variable would be expanded: %r' % w
        out = [w.replace('$$', '$') for w in out]
    return out


def settings(content):
    """[(section, key, value)] of a unit file; ExecStart= and Environment= values as their words."""
    assert content.startswith(HEADER), content
    out, section = [], None
    for line in content.splitlines():
        if not line or line.startswith('#'):
            continue
        if line.startswith('['):
            section = line[1:-1]
            continue
        key, value = line.split('=', 1)
        if key in ('ExecStart', 'Environment'):
            value = words(value, dollars=key == 'ExecStart')
        else:
            value = specifiers(value)
        out.append((section, key, value))
    return out


@pytest.fixture
def systemd(fake_host, monkeypatch):
    """A booted systemd whose systemctl is recorded; is-enabled/is-active answer per ``state``."""
    fake_host.mkdir('/run/systemd/system')
    fake_host.mkdir('/var/lib')         # as on a real host: the ledger's directory goes, /var/lib stays
    state = {'enabled': False, 'active': False}

    def systemctl(argv):
        if argv[1] == 'is-enabled':
            return (0, 'enabled\n', '') if state['enabled'] else (1, 'disabled\n', '')
        if argv[1] == 'is-active':
            return (0, '', '') if state['active'] else (3, '', '')
        return 0, '', ''

    fake = FakeCommands(bins=['systemctl'], handlers={'systemctl': systemctl}).install(monkeypatch)
    fake.state = state
    return fake


def tree(host):
    """The fake host byte for byte (FakeHost.tree)."""
    return host.tree()


def ledger(host):
    return json.loads(host.read(_ledger.LEDGER_PATH)) if host.exists(_ledger.LEDGER_PATH) else {}


def run(args, **kw):
    return run_module(service_unit, args, **kw)


def fail(args, **kw):
    return fail_module(service_unit, args, **kw)


def test_vllm_unit_exact_recorded_reloaded_and_idempotent(fake_host, systemd):
    r = run(VLLM)
    assert r['changed'] is True
    assert settings(fake_host.read(UNIT)) == VLLM_SETTINGS
    assert os.stat(fake_host.path(UNIT)).st_mode & 0o7777 == 0o644
    assert r['diff']['before'] == '' and r['diff']['after'] == fake_host.read(UNIT)
    assert r['argv'][:3] == ['/usr/bin/python3', '-m', 'vllm.entrypoints.openai.api_server']
    assert (r['unit'], r['path'], r['original_recorded'], r['daemon_reloaded']) == (
        'vllm.service', UNIT, False, True)
    assert systemd.names() == ['systemctl daemon-reload']
    rec = ledger(fake_host)['files'][UNIT]
    assert (rec['owner'], rec['existed']) == ('service_unit', False)
    systemd.calls[:] = []
    again = run(VLLM)
    assert again['changed'] is False and systemd.calls == []
    assert run(VLLM, check=True)['changed'] is False


def test_units_of_earlier_names_are_reported_for_removal(fake_host, systemd):
    """A rename (vllm -> tgi): the role removes what other_units lists; an operator's unit is never in it."""
    run(VLLM)
    fake_host.write('/etc/systemd/system/mysvc.service', OPERATOR_UNIT)
    renamed = run(dict(VLLM, name='tgi'))
    assert renamed['other_units'] == ['vllm.service']
    assert run(dict(VLLM, name='tgi'), check=True)['other_units'] == ['vllm.service']
    run({'name': 'vllm', 'state': 'absent'})
    assert not fake_host.exists(UNIT)
    assert run(dict(VLLM, name='tgi'))['other_units'] == []


def test_check_mode_predicts_and_writes_nothing(fake_host, systemd):
    before = tree(fake_host)
    r = run(VLLM, check=True)
    assert r['changed'] is True and settings(r['diff']['after']) == VLLM_SETTINGS
    assert tree(fake_host) == before and systemd.calls == []


HOSTILE_WORDS = ['a b', 'say "hi"', "it's", '50%', '%h', '$HOME', '${PATH}', '$$', 'back\\slash', 'end\\', '\\n',
                 ';', '&&', '|', '>', '`id`', '-', '', 'ExecStartPre=+/bin/id', '#x', 'naïve', '\u00a0']


@pytest.mark.parametrize('args, section, key, value', [
    # every word reaches the process as one literal argument, whatever it holds
    ({'model': None, 'command': ['/usr/bin/env'] + HOSTILE_WORDS}, 'Service', 'ExecStart', ['/usr/bin/env'] + HOSTILE_WORDS),
    ({'model': None, 'command': ['server', '--opt=%h']}, 'Service', 'ExecStart', ['server', '--opt=%h']),
    ({'model': 'org/model name', 'extra_args': HOSTILE_WORDS}, 'Service', 'ExecStart',
     VLLM_ARGV[:4] + ['org/model name'] + VLLM_ARGV[5:] + HOSTILE_WORDS),
    # each variable one assignment, its value literal
    ({'environment': {'HF_TOKEN': 'a"b\\c%d$e f\''}}, 'Service', 'Environment', ['HF_TOKEN=a"b\\c%d$e f\'']),
    ({'environment': {'RATIO': 0.5}}, 'Service', 'Environment', ['RATIO=0.5']),
    ({'environment': {'EMPTY': ''}}, 'Service', 'Environment', ['EMPTY=']),
    ({'description': 'Serving 100% of "traffic"'}, 'Unit', 'Description', 'Serving 100% of "traffic" (vllm)'),
    ({'shm_size': '64G'}, 'Service', 'TemporaryFileSystem', '/dev/shm:size=64G,mode=1777'),
    ({'shm_size': '50%'}, 'Service', 'TemporaryFileSystem', '/dev/shm:size=50%,mode=1777'),
    ({'host': ''}, 'Service', 'ExecStart', VLLM_ARGV[:5] + VLLM_ARGV[7:]),
    ({'host': '::'}, 'Service', 'ExecStart', VLLM_ARGV[:6] + ['::'] + VLLM_ARGV[7:]),
    ({'enable_prefix_caching': False, 'quantization': 'fp8', 'max_num_seqs': 64, 'max_num_batched_tokens': 8192},
     'Service', 'ExecStart', VLLM_ARGV[:-1] + ['--max-num-seqs', '64', '--max-num-batched-tokens', '8192',
                                               '--no-enable-prefix-caching', '--quantization', 'fp8']),
    ({'name': 'tgi.service', 'model': None, 'command': ['/bin/true'], 'port': 8080}, 'Service', 'SyslogIdentifier',
     'tgi'),
])
def test_values_are_encoded_not_interpreted(fake_host, systemd, args, section, key, value):
    a = dict(VLLM, environment={})
    a.update(args)
    r = run(a)
    got = settings(fake_host.read(r['path']))
    assert (section, key, value) in got, got
    # one line per setting: nothing added a setting or a section
    keys = [k for _s, k, _v in VLLM_SETTINGS if k != 'Environment']
    if 'shm_size' in args:
        keys.insert(keys.index('Restart'), 'TemporaryFileSystem')
    assert [k for _s, k, _v in got if k != 'Environment'] == keys


BAD = [
    # control characters, line and paragraph separators, in every kind of value
    ('environment[HF_HOME]', {'environment': {'HF_HOME': '/models\nExecStartPre=+/bin/sh -c id'}}),
    ('environment[HF_HOME]', {'environment': {'HF_HOME': '/models\rExecStartPre=+/bin/id'}}),
    ('environment[HF_HOME]', {'environment': {'HF_HOME': 'a\x00b'}}),
    ('environment[HF_HOME]', {'environment': {'HF_HOME': 'a\u2028ExecStartPre=+/bin/id'}}),
    ('environment[HF_HOME]', {'environment': {'HF_HOME': 'a\x85b'}}),
    ('environment[HF_HOME]', {'environment': {'HF_HOME': 'a\tb'}}),
    ('environment key', {'environment': {'A\nExecStartPre=+/bin/id': 'x'}}),
    ('environment key', {'environment': {'A B': 'x'}}),
    ('environment key', {'environment': {'1A': 'x'}}),
    ('environment key', {'environment': {'A"B': 'x'}}),
    ('environment key', {'environment': {'A$B': 'x'}}),
    ('environment[DEBUG]', {'environment': {'DEBUG': True}}),
    ('environment[DEBUG]', {'environment': {'DEBUG': None}}),
    ('environment[DEBUG]', {'environment': {'DEBUG': ['a']}}),
    ('extra_args[1]', {'extra_args': ['--x', '1\nExecStartPre=+/bin/id']}),
    ('extra_args[0]', {'extra_args': ['a\rb']}),
    ('extra_args[0]', {'extra_args': ['a\u2029b']}),
    ('extra_args[0]', {'extra_args': ['a\x1bb']}),
    ('command[1]', {'model': None, 'command': ['/bin/server', 'x\ny']}),
    ('command[0]', {'model': None, 'command': ['/bin/server\t']}),
    ('command', {'model': None, 'command': ['+/bin/sh', '-c', 'id']}),
    ('command', {'model': None, 'command': ['-/bin/true']}),
    ('command', {'model': None, 'command': ['!!/bin/true']}),
    ('command', {'model': None, 'command': ['/bin/my server']}),
    ('command', {'model': None, 'command': ['/bin/$X']}),
    ('command', {'model': None, 'command': ['"/bin/x"']}),
    ('command', {'model': 'm', 'command': ['/bin/true']}),
    ('model', {'model': None}),
    ('model', {'model': 'm\nExecStartPre=+/bin/id'}),
    ('model', {'model': '--trust-remote-code'}),
    ('model', {'model': ' m'}),
    ('served_model_name', {'served_model_name': 'x\u0085y'}),
    ('served_model_name', {'served_model_name': '--api-key'}),
    ('shm_size', {'shm_size': '64G\nExecStartPre=+/bin/id'}),
    ('shm_size', {'shm_size': '64G,mode=0777'}),
    ('shm_size', {'shm_size': '64GB'}),
    ('shm_size', {'shm_size': '0'}),
    ('shm_size', {'shm_size': '101%'}),
    ('shm_size', {'shm_size': '64 G'}),
    ('shm_size', {'shm_size': '-1G'}),
    ('shm_size', {'shm_size': '"64G"'}),
    ('shm_size', {'shm_size': '64G\\'}),
    ('description', {'description': 'server\\'}),
    ('description', {'description': 'server\nExecStartPre=+/bin/id'}),
    ('description', {'description': ' server'}),
    ('user', {'user': 'root\nExecStartPre=+/bin/id'}),
    ('user', {'user': 'in"ference'}),
    ('user', {'user': "in'ference"}),
    ('user', {'user': 'in%n'}),
    ('user', {'user': '$USER'}),
    ('user', {'user': 'a' * 33}),
    ('user', {'user': ''}),
    ('group', {'group': 'grp\\'}),
    ('group', {'group': 'a b'}),
    ('working_directory', {'working_directory': 'var/lib/inference'}),
    ('working_directory', {'working_directory': '/var/lib/../../etc'}),
    ('working_directory', {'working_directory': '/var/lib/%h'}),
    ('working_directory', {'working_directory': '/var/lib/$HOME'}),
    ('working_directory', {'working_directory': '/var/lib/x\n'}),
    ('working_directory', {'working_directory': '/var/lib/x\\'}),
    ('python', {'python': '/opt/$VENV/bin/python3'}),
    ('python', {'python': '+/usr/bin/python3'}),
    ('host', {'host': '-h'}),
    ('host', {'host': '0.0.0.0\n'}),
    ('host', {'host': 'a"b'}),
    ('dtype', {'dtype': 'auto --trust-remote-code'}),
    ('quantization', {'quantization': '--x'}),
    ('quantization', {'quantization': 'fp8%'}),
    # names: paths, "..", trailing newline, specifiers, quotes
    ('name', {'name': '../../../usr/local/pwn'}),
    ('name', {'name': 'a/b'}),
    ('name', {'name': '/etc/systemd/system/vllm'}),
    ('name', {'name': 'vllm..x'}),
    ('name', {'name': '..'}),
    ('name', {'name': '.hidden'}),
    ('name', {'name': 'vllm\n'}),
    ('name', {'name': 'vllm\nx'}),
    ('name', {'name': 'vllm\\'}),
    ('name', {'name': 'v%n'}),
    ('name', {'name': 'v$x'}),
    ('name', {'name': 'v"x'}),
    ('name', {'name': 'tmpl@'}),
    ('name', {'name': 'a b'}),
    ('name', {'name': ''}),
    # numbers out of range
    ('port', {'port': 70000}),
    ('port', {'port': 0}),
    ('port', {'port': -1}),
    ('port', {'port': 65536, 'model': None, 'command': ['/bin/true']}),
    ('limit_nofile', {'limit_nofile': 0}),
    ('restart_sec', {'restart_sec': -1}),
    ('timeout_stop_sec', {'timeout_stop_sec': -5}),
    ('gpu_memory_utilization', {'gpu_memory_utilization': 0.0}),
    ('gpu_memory_utilization', {'gpu_memory_utilization': 1.5}),
    ('tensor_parallel_size', {'tensor_parallel_size': 0}),
    ('max_model_len', {'max_model_len': -1}),
    ('max_num_seqs', {'max_num_seqs': -2}),
]


@pytest.mark.parametrize('option, args', BAD, ids=['%s-%d' % (b[0], i) for i, b in enumerate(BAD)])
def test_bad_input_changes_nothing(fake_host, systemd, option, args):
    run(VLLM)                       # a unit and a ledger are there: neither may change
    systemd.calls[:] = []
    before = tree(fake_host)
    a = dict(VLLM)
    a.update(args)
    r = fail(a)
    assert r['msg'].startswith('Nothing was changed: %s' % option), r['msg']
    assert tree(fake_host) == before
    assert systemd.calls == []
    # check mode refuses the same way
    assert fail(a, check=True)['msg'] == r['msg']


def test_bad_state_is_refused_by_the_spec(fake_host, systemd):
    r = fail(dict(VLLM, state='gone'))
    assert 'state' in r['msg']


def test_operator_unit_is_refused_without_takeover(fake_host, systemd):
    fake_host.write('/etc/systemd/system/mysvc.service', OPERATOR_UNIT, mode=0o640)
    before = tree(fake_host)
    args = {'name': 'mysvc', 'command': ['/usr/local/bin/mysvc']}
    for check in (False, True):
        r = fail(args, check=check)
        assert r['msg'].startswith('Nothing was changed: /etc/systemd/system/mysvc.service exists and was not written')
        assert 'takeover' in r['msg']
    assert tree(fake_host) == before and systemd.calls == []
    # absent leaves someone else's unit alone
    r = run({'name': 'mysvc', 'state': 'absent'})
    assert r['changed'] is False
    assert tree(fake_host) == before and systemd.calls == []


def _take_over(fake_host):
    path = '/etc/systemd/system/mysvc.service'
    fake_host.write(path, OPERATOR_UNIT, mode=0o640)
    before = tree(fake_host)
    args = {'name': 'mysvc', 'command': ['/usr/local/bin/mysvc', '--serve'], 'takeover': True}
    r = run(args)
    assert r['changed'] is True and r['original_recorded'] is True
    assert fake_host.read(path).startswith(HEADER)
    assert ('Service', 'ExecStart', ['/usr/local/bin/mysvc', '--serve']) in settings(fake_host.read(path))
    rec = ledger(fake_host)['files'][path]
    assert (rec['owner'], rec['existed'], rec['mode']) == ('service_unit', True, 0o640)
    # ours now: no takeover needed any more, and idempotent
    again = run(dict(args, takeover=False))
    assert again['changed'] is False and again['original_recorded'] is True
    return path, before


def test_takeover_records_and_absent_restores_byte_for_byte(fake_host, systemd):
    path, before = _take_over(fake_host)
    systemd.calls[:] = []
    r = run({'name': 'mysvc', 'state': 'absent'})
    assert r['changed'] is True
    assert r['diff']['after'] == OPERATOR_UNIT
    assert tree(fake_host) == before                 # content, mode; no ledger left
    # the operator's unit is restored, not stopped or disabled (and not started: it was not running)
    assert systemd.names() == ['systemctl daemon-reload', 'systemctl is-active --quiet mysvc.service']
    assert r['restarted'] is False and r['stopped'] is False
    assert run({'name': 'mysvc', 'state': 'absent'})['changed'] is False


def test_a_running_service_restarts_as_its_restored_original(fake_host, systemd):
    _take_over(fake_host)
    systemd.state.update(enabled=True, active=True)
    systemd.calls[:] = []
    r = run({'name': 'mysvc', 'state': 'absent'})
    assert r['restarted'] is True and r['stopped'] is False
    assert systemd.names() == ['systemctl daemon-reload', 'systemctl is-active --quiet mysvc.service',
                               'systemctl try-restart mysvc.service']
    assert fake_host.read('/etc/systemd/system/mysvc.service') == OPERATOR_UNIT


WANTS = '/etc/systemd/system/multi-user.target.wants/mysvc.service'


def _enable(fake_host):
    """What systemctl enable does with our unit's WantedBy=multi-user.target."""
    fake_host.symlink('/etc/systemd/system/mysvc.service', WANTS)


@pytest.mark.parametrize('enabled', [False, True])
def test_takeover_is_restored_by_revert(fake_host, systemd, enabled):
    path, before = _take_over(fake_host)
    if enabled:
        _enable(fake_host)
    r = run_module(revert, {})
    assert {'path': path, 'owner': 'service_unit', 'action': 'restored'} in r['files']
    assert tree(fake_host) == before            # the wants link our enable made is gone too


@pytest.mark.parametrize('had_link', [False, True])
def test_takeover_puts_back_the_wants_link_as_it_was(fake_host, systemd, had_link):
    if had_link:
        fake_host.symlink('/lib/systemd/system/mysvc.service', WANTS)
    path, before = _take_over(fake_host)
    if had_link:
        fake_host.remove(WANTS)
    _enable(fake_host)
    r = run({'name': 'mysvc', 'state': 'absent'}, check=True)
    assert r['changed'] is True
    r = run({'name': 'mysvc', 'state': 'absent'})
    assert r['changed'] is True
    assert tree(fake_host) == before
    assert not fake_host.exists(_ledger.LEDGER_PATH)


def test_absent_stops_disables_and_removes_our_unit(fake_host, systemd):
    before = tree(fake_host)
    run(VLLM)
    systemd.state.update(enabled=True, active=True)
    systemd.calls[:] = []
    r = run({'name': 'vllm', 'state': 'absent'}, check=True)
    assert r['changed'] is True and fake_host.exists(UNIT)
    assert [c for c in systemd.names() if 'is-' not in c] == []
    r = run({'name': 'vllm', 'state': 'absent'})
    assert r['changed'] is True and r['stopped'] is True and r['daemon_reloaded'] is True
    assert 'systemctl disable --now vllm.service' in systemd.names()
    assert not fake_host.exists(UNIT)
    systemd.state.update(enabled=False, active=False)
    assert tree(fake_host) == before


def test_our_unit_without_a_record_is_ours(fake_host, systemd):
    """A unit carrying this module's header is ours even when the ledger lost its record."""
    fake_host.write(UNIT, HEADER + '[Service]\nExecStart=/bin/old\n')
    r = run(VLLM)
    assert r['changed'] is True and settings(fake_host.read(UNIT)) == VLLM_SETTINGS
    run({'name': 'vllm', 'state': 'absent'})
    assert not fake_host.exists(UNIT)
    assert not fake_host.exists(_ledger.LEDGER_PATH)


def test_a_link_or_directory_at_the_unit_path_is_refused(fake_host, systemd):
    fake_host.write('/etc/systemd/system/real.service', OPERATOR_UNIT)
    fake_host.symlink('real.service', UNIT)
    before = tree(fake_host)
    r = fail(dict(VLLM, takeover=True))
    assert r['msg'].startswith('Nothing was changed: %s is a symbolic link' % UNIT)
    assert tree(fake_host) == before
    fake_host.mkdir('/etc/systemd/system/dir.service')
    before = tree(fake_host)
    r = fail(dict(VLLM, name='dir', takeover=True))
    assert r['msg'].startswith('Nothing was changed: /etc/systemd/system/dir.service is a directory')
    assert tree(fake_host) == before


def test_without_systemd_nothing_is_reloaded(fake_host, monkeypatch):
    fake = FakeCommands(bins=[]).install(monkeypatch)
    r = run(VLLM)
    assert r['changed'] is True and r['daemon_reloaded'] is False and fake.calls == []
