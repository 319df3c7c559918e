# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""_systemd: unit names, unit and drop-in paths, wants links, rendering, and systemctl as argv lists.

systemctl never runs: FakeCommands records every argv and answers for it.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

from ansible_collections.inference.host_tuning.plugins.module_utils import _formats
from ansible_collections.inference.host_tuning.plugins.module_utils import _systemd
from ansible_collections.inference.host_tuning.tests.unit.fakehost import FakeCommands
from ansible_collections.inference.host_tuning.tests.unit.plugins.modules.utils import ModuleFail as Failed, _fail_json


def make_module(monkeypatch, commands):
    """A real AnsibleModule whose get_bin_path/run_command are FakeCommands; fail_json raises Failed."""
    commands.install(monkeypatch)
    monkeypatch.setattr(basic.AnsibleModule, 'fail_json', _fail_json)
    with patch_module_args({}):
        return basic.AnsibleModule(argument_spec={})


def answers(table):
    """A systemctl handler answering (rc, out, err) by the argv after the binary."""
    def handler(argv):
        return table.get(tuple(argv[1:]), (0, '', ''))
    return handler


# -- unit names ----------------------------------------------------------------------------------------------
VALID = ['vllm.service', 'vllm@.service', 'vllm@0.service', 'vllm@gpu-0:1.service', 'a.b_c-d.service',
         'dev-disk-by\\x2duuid-1.device', 'inference.slice', 'x.socket', 'x.mount', 'x.automount', 'x.swap',
         'x.target', 'x.path', 'x.timer', 'x.scope', 'x@.socket', 'a' * 247 + '.service']
INVALID = ['vllm', 'vllm.Service', 'vllm.services', 'vllm.conf', '.service', '.hidden.service', 'a..b.service',
           '../x.service', 'a/b.service', 'a b.service', 'x@y@z.service', '@.service', 'x.service\n', 'x.service ',
           'vllm\u00e9.service', 'a' * 248 + '.service', '', None, 5, b'vllm.service', ['vllm.service']]


@pytest.mark.parametrize('name', VALID)
def test_valid_unit_names(name):
    assert _systemd.valid_unit_name(name) is True
    assert _systemd.unit_error(name) is None


@pytest.mark.parametrize('name', INVALID, ids=[repr(n)[:40] for n in INVALID])
def test_invalid_unit_names(name):
    assert _systemd.valid_unit_name(name) is False
    msg = _systemd.unit_error(name)
    assert msg.startswith('%r is not a valid systemd unit name: use NAME.TYPE (for example vllm.service)' % (name,))
    assert 'service, socket, mount, target, timer, path, slice, scope, swap, automount, device' in msg


def test_unit_name_length_limit_is_255():
    assert len('a' * 247 + '.service') == 255
    assert _systemd.valid_unit_name('a' * 247 + '.service')
    assert not _systemd.valid_unit_name('a' * 248 + '.service')


# -- paths -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize('call, expected', [
    (lambda: _systemd.unit_path('vllm.service'), '/etc/systemd/system/vllm.service'),
    (lambda: _systemd.dropin_path('vllm.service', '50-numa'), '/etc/systemd/system/vllm.service.d/50-numa.conf'),
    (lambda: _systemd.dropin_path('vllm.service', '50-numa.conf'), '/etc/systemd/system/vllm.service.d/50-numa.conf'),
    (lambda: _systemd.dropin_path('vllm@.service', 'x'), '/etc/systemd/system/vllm@.service.d/x.conf'),
    (lambda: _systemd.wants_link('vllm.service'), '/etc/systemd/system/multi-user.target.wants/vllm.service'),
    (lambda: _systemd.wants_link('x.service', 'graphical.target'),
     '/etc/systemd/system/graphical.target.wants/x.service'),
], ids=['unit', 'drop-in', 'drop-in .conf kept once', 'template drop-in', 'wants link', 'other target'])
def test_paths(call, expected):
    assert call() == expected
    assert expected.startswith(_systemd.SYSTEM_DIR + '/')


def test_is_linked_reads_the_wants_link_offline(fake_host):
    assert _systemd.is_linked('vllm.service') is False
    # what systemctl enable makes: a link to the unit file (dangling in the fake tree, still a link)
    fake_host.symlink('/etc/systemd/system/vllm.service', _systemd.wants_link('vllm.service'))
    assert _systemd.is_linked('vllm.service') is True
    assert _systemd.is_linked('vllm.service', 'graphical.target') is False
    assert _systemd.is_linked('other.service') is False


# -- rendering ---------------------------------------------------------------------------------------------------
def test_render_section():
    assert _systemd.render_section('Service', [('CPUAffinity', ''), ('CPUAffinity', '0-15'),
                                               ('Environment', _formats.environment('A', '50%', 'e'))]) == (
        '[Service]\nCPUAffinity=\nCPUAffinity=0-15\nEnvironment=A=50%%\n')
    assert _systemd.render_section('Manager', [('DefaultLimitMEMLOCK', 'infinity')], header='Managed\nby us') == (
        '# Managed\n# by us\n[Manager]\nDefaultLimitMEMLOCK=infinity\n')
    assert _systemd.render_section('Unit', []) == '[Unit]\n'


@pytest.mark.parametrize('section, items', [
    ('Service', [('Exec Start', '/x')]),
    ('Service', [('ExecStart', '/x\nExecStartPre=/y')]),
    ('Serv]ice', [('A', '1')]),
], ids=['key with a space', 'value with a newline', 'bad section'])
def test_render_section_refuses_what_a_unit_cannot_hold(section, items):
    with pytest.raises(_formats.FormatError):
        _systemd.render_section(section, items)


# -- booted -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize('run_dir, bins, expected', [
    (True, ['systemctl'], True),
    (False, ['systemctl'], False),
    (True, [], False),
    (False, [], False),
], ids=['systemd PID 1', 'chroot with systemctl', 'no systemctl', 'neither'])
def test_booted(fake_host, monkeypatch, run_dir, bins, expected):
    if run_dir:
        fake_host.mkdir('/run/systemd/system')
    commands = FakeCommands(bins=bins)
    module = make_module(monkeypatch, commands)
    assert _systemd.booted(module) is expected
    assert commands.calls == []       # nothing is run to find out


# -- Systemctl -----------------------------------------------------------------------------------------------------
def test_systemctl_runs_argv_lists(fake_host, monkeypatch):
    commands = FakeCommands(bins=['systemctl'])
    sc = _systemd.Systemctl(make_module(monkeypatch, commands))
    assert sc.bin == '/usr/bin/systemctl'
    sc.daemon_reload()
    sc.run('enable', '--now', 'vllm.service')
    assert commands.calls == [['/usr/bin/systemctl', 'daemon-reload'],
                              ['/usr/bin/systemctl', 'enable', '--now', 'vllm.service']]


def test_systemctl_without_systemctl_fails_before_running(fake_host, monkeypatch):
    commands = FakeCommands()
    sc = _systemd.Systemctl(make_module(monkeypatch, commands))
    assert sc.bin is None
    with pytest.raises(Failed) as exc:
        sc.daemon_reload()
    assert str(exc.value) == 'systemctl was not found; this needs a host managed by systemd.'
    assert commands.calls == []


def test_systemctl_failure_is_reported(fake_host, monkeypatch):
    commands = FakeCommands(bins=['systemctl'], handlers={'systemctl': answers({
        ('start', 'vllm.service'): (5, '', 'Failed to start vllm.service: Unit vllm.service not found.\n'),
        ('stop', 'vllm.service'): (1, 'only stdout\n', ''),
    })})
    sc = _systemd.Systemctl(make_module(monkeypatch, commands))
    with pytest.raises(Failed) as exc:
        sc.run('start', 'vllm.service')
    assert str(exc.value) == ('systemctl start vllm.service failed (rc=5): Failed to start vllm.service: '
                              'Unit vllm.service not found.')
    assert exc.value.result['rc'] == 5
    assert exc.value.result['stderr'] == 'Failed to start vllm.service: Unit vllm.service not found.\n'
    with pytest.raises(Failed) as exc:
        sc.run('stop', 'vllm.service')
    assert str(exc.value) == 'systemctl stop vllm.service failed (rc=1): only stdout'
    # check=False hands the result back
    assert sc.run('start', 'vllm.service', check=False)[0] == 5
    assert commands.calls[-1] == ['/usr/bin/systemctl', 'start', 'vllm.service']


@pytest.mark.parametrize('rc, out, expected', [
    (0, 'enabled\n', True),
    (0, 'enabled-runtime\n', True),
    (0, 'static\n', True),
    (0, 'alias\n', True),
    (1, 'disabled\n', False),
    (1, 'masked\n', False),
    (0, 'linked\n', False),
    (1, 'enabled\n', False),
    (4, '', False),
])
def test_is_enabled(fake_host, monkeypatch, rc, out, expected):
    commands = FakeCommands(bins=['systemctl'], handlers={'systemctl': lambda argv: (rc, out, '')})
    sc = _systemd.Systemctl(make_module(monkeypatch, commands))
    assert sc.is_enabled('vllm.service') is expected     # never fails the module, whatever rc
    assert commands.calls == [['/usr/bin/systemctl', 'is-enabled', 'vllm.service']]


@pytest.mark.parametrize('rc, expected', [(0, True), (3, False), (4, False)])
def test_is_active(fake_host, monkeypatch, rc, expected):
    commands = FakeCommands(bins=['systemctl'], handlers={'systemctl': lambda argv: (rc, '', '')})
    sc = _systemd.Systemctl(make_module(monkeypatch, commands))
    assert sc.is_active('vllm.service') is expected
    assert commands.calls == [['/usr/bin/systemctl', 'is-active', '--quiet', 'vllm.service']]


def test_show_parses_properties(fake_host, monkeypatch):
    out = ('MainPID=4242\nActiveState=active\nEnvironment=LD_PRELOAD=/usr/lib/libjemalloc.so.2 A=b=c\n'
           'CPUAffinity=\nnot a property line\n')
    commands = FakeCommands(bins=['systemctl'], handlers={'systemctl': lambda argv: (0, out, '')})
    sc = _systemd.Systemctl(make_module(monkeypatch, commands))
    assert sc.show('vllm.service', 'MainPID', 'ActiveState', 'Environment', 'CPUAffinity') == {
        'MainPID': '4242', 'ActiveState': 'active', 'CPUAffinity': '',
        'Environment': 'LD_PRELOAD=/usr/lib/libjemalloc.so.2 A=b=c'}
    assert commands.calls == [['/usr/bin/systemctl', 'show', 'vllm.service',
                               '--property=MainPID,ActiveState,Environment,CPUAffinity']]


def test_show_of_a_failing_systemctl_is_empty(fake_host, monkeypatch):
    commands = FakeCommands(bins=['systemctl'], handlers={'systemctl': lambda argv: (1, '', 'Failed to connect')})
    sc = _systemd.Systemctl(make_module(monkeypatch, commands))
    assert sc.show('vllm.service', 'MainPID') == {}


@pytest.mark.parametrize('out, expected', [
    ('systemd 252 (252.22-1~deb12u1)\n+PAM +AUDIT +SELINUX\n', 252),
    ('systemd 219\n+PAM\n', 219),
    ('', 0),
    ('not systemd\n', 0),
    (None, 0),
])
def test_version(fake_host, monkeypatch, out, expected):
    commands = FakeCommands(bins=['systemctl'], handlers={'systemctl': lambda argv: (0, out, '')})
    sc = _systemd.Systemctl(make_module(monkeypatch, commands))
    assert sc.version() == expected
    assert commands.calls == [['/usr/bin/systemctl', '--version']]


# -- unit state and the steps back -----------------------------------------------------------------------------------
def test_unit_state(fake_host, monkeypatch):
    commands = FakeCommands(bins=['systemctl'], handlers={'systemctl': answers({
        ('is-enabled', 'a.service'): (0, 'enabled\n', ''),
        ('is-active', '--quiet', 'a.service'): (3, '', ''),
    })})
    sc = _systemd.Systemctl(make_module(monkeypatch, commands))
    assert _systemd.unit_state(sc, 'a.service') == {'enabled': True, 'active': False}
    assert commands.calls == [['/usr/bin/systemctl', 'is-enabled', 'a.service'],
                              ['/usr/bin/systemctl', 'is-active', '--quiet', 'a.service']]


def S(enabled, active):
    return {'enabled': enabled, 'active': active}


@pytest.mark.parametrize('before, now, steps', [
    (S(False, False), S(True, True), [['disable', 'u.service'], ['stop', 'u.service']]),
    (S(True, True), S(False, False), [['enable', 'u.service'], ['start', 'u.service']]),
    (S(True, False), S(True, True), [['stop', 'u.service']]),
    (S(False, True), S(True, True), [['disable', 'u.service']]),
    (S(True, True), S(True, True), []),
    (S(False, False), S(False, False), []),
])
def test_steps_to(before, now, steps):
    assert _systemd.steps_to(before, now, 'u.service') == steps


def test_unit_files_in_the_order_systemd_reads_them(fake_host):
    """The unit file from the directory of highest priority, then UNIT.d and TYPE.d drop-ins of every directory by
    name, a name in /etc hiding the same name elsewhere; not .conf files ignored."""
    assert _systemd.unit_files('vllm.service') == []
    fake_host.write('/usr/lib/systemd/system/vllm.service', '[Service]\n')
    fake_host.write('/etc/systemd/system/vllm.service', '[Service]\n')
    fake_host.write('/usr/lib/systemd/system/vllm.service.d/20-vendor.conf', '')
    fake_host.write('/usr/lib/systemd/system/vllm.service.d/50-x.conf', '')
    fake_host.write('/etc/systemd/system/vllm.service.d/50-x.conf', '')
    fake_host.write('/run/systemd/system/service.d/10-all.conf', '')
    fake_host.write('/etc/systemd/system/vllm.service.d/README', '')
    assert _systemd.unit_files('vllm.service') == [
        '/etc/systemd/system/vllm.service', '/run/systemd/system/service.d/10-all.conf',
        '/usr/lib/systemd/system/vllm.service.d/20-vendor.conf', '/etc/systemd/system/vllm.service.d/50-x.conf']
