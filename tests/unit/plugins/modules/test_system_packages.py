# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""system_packages: what the install added is recorded, and only that is removed (by it and by revert)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

import pytest

from ansible_collections.inference.host_tuning.plugins.module_utils import _ledger
from ansible_collections.inference.host_tuning.plugins.modules import revert
from ansible_collections.inference.host_tuning.plugins.modules import system_packages
from ansible_collections.inference.host_tuning.tests.unit.fakehost import FakeCommands
from ansible_collections.inference.host_tuning.tests.unit.plugins.modules.utils import fail_module, run_module


class Apt(object):
    """A Debian host's dpkg and apt: ``installed`` changes with apt-get install / remove."""

    def __init__(self, host, installed, known, deps=None):
        self.installed = set(installed)
        self.known = set(known)
        self.lists = False
        self.deps = deps or {}
        for tool in ('/usr/bin/apt-get', '/usr/bin/dpkg-query'):
            host.write(tool, '')
        self.commands = FakeCommands(handlers={'dpkg-query': self.query, 'apt-cache': self.policy,
                                               'apt-get': self.apt_get})

    def query(self, argv):
        return 0, ''.join('%s\tinstalled\n' % p for p in sorted(self.installed)) + 'gone\tnot-installed\n', ''

    def policy(self, argv):
        pkg = argv[-1]
        if not self.lists or pkg not in self.known:
            return 0, '', ''
        return 0, '%s:\n  Installed: (none)\n  Candidate: 1.0-1\n' % pkg, ''

    def apt_get(self, argv):
        if argv[1] == 'update':
            self.lists = True
        elif argv[1] == 'install':
            for pkg in argv[5:]:
                self.installed.add(pkg)
                self.installed.update(self.deps.get(pkg, []))
        elif argv[1] == 'remove':
            self.installed.difference_update(argv[4:])
        return 0, '', ''


@pytest.fixture
def apt(fake_host, monkeypatch):
    known = ['libjemalloc2', 'libtcmalloc-minimal4', 'numactl', 'libnuma1']
    a = Apt(fake_host, installed=['libc6', 'libstdc++6'], known=known, deps={'numactl': ['libnuma1']})
    a.commands.install(monkeypatch)
    return a


def ledger(host):
    return json.loads(host.read(_ledger.LEDGER_PATH))


def test_allocator_installed_recorded_idempotent_then_removed(fake_host, apt):
    r = run_module(system_packages, {'allocator': 'tcmalloc'}, check=True)
    # check mode: apt's lists are not updated, the first alternative is the prediction
    assert r['changed'] is True and r['installed'] == ['libtcmalloc-minimal4t64']
    assert not apt.lists and 'libtcmalloc-minimal4' not in apt.installed
    r = run_module(system_packages, {'allocator': 'tcmalloc'})
    # a fresh host has no lists: apt-get update once, then the name this release knows (no t64 here)
    assert r['changed'] is True and r['packages'] == ['libtcmalloc-minimal4']
    assert r['installed'] == ['libtcmalloc-minimal4'] and 'libtcmalloc-minimal4' in apt.installed
    assert ['apt-get', 'install', '-y', '-q', '--no-install-recommends', 'libtcmalloc-minimal4'] in apt.commands.calls
    assert sorted(ledger(fake_host)['extra']['system_packages']) == ['libtcmalloc-minimal4']
    assert run_module(system_packages, {'allocator': 'tcmalloc'})['changed'] is False
    r = run_module(system_packages, {'state': 'absent'})
    assert r['changed'] is True and r['removed'] == ['libtcmalloc-minimal4']
    assert 'libtcmalloc-minimal4' not in apt.installed and 'libc6' in apt.installed
    assert not fake_host.exists(_ledger.LEDGER_PATH)
    assert run_module(system_packages, {'state': 'absent'})['changed'] is False


def test_dependencies_recorded_and_removed_by_revert(fake_host, apt):
    r = run_module(system_packages, {'names': ['numactl']})
    assert r['installed'] == ['libnuma1', 'numactl']
    plan = run_module(revert, {}, check=True)
    assert sorted(e['record'] for e in plan['extra']) == ['libnuma1', 'numactl']
    assert 'numactl' in apt.installed
    r = run_module(revert, {})
    assert r['changed'] is True and ['apt-get', 'remove', '-y', '-q', 'libnuma1', 'numactl'] in apt.commands.calls
    assert not apt.installed & set(['numactl', 'libnuma1'])
    assert run_module(revert, {})['changed'] is False


def test_installed_before_is_never_recorded_nor_removed(fake_host, apt):
    apt.installed.add('libjemalloc2')
    assert run_module(system_packages, {'allocator': 'jemalloc'})['changed'] is False
    assert not fake_host.exists(_ledger.LEDGER_PATH)
    assert run_module(revert, {})['changed'] is False and 'libjemalloc2' in apt.installed


def test_revert_can_keep_packages(fake_host, apt):
    run_module(system_packages, {'names': ['numactl']})
    r = run_module(revert, {'exclude_owners': ['system_packages']})
    assert r['changed'] is False and 'numactl' in apt.installed
    assert 'numactl' in ledger(fake_host)['extra']['system_packages']


@pytest.mark.parametrize('bad', ['numactl;reboot', '-y', 'a b', '../x', 'x\n', ''])
def test_bad_names_refused_before_anything(fake_host, apt, bad):
    r = fail_module(system_packages, {'names': [bad]})
    assert r['msg'].startswith('Nothing was changed: names') and apt.commands.calls == []


def test_unknown_package_fails_before_install(fake_host, apt):
    r = fail_module(system_packages, {'names': ['no-such-package']})
    assert r['msg'].startswith('Nothing was changed') and 'no-such-package' in r['msg']
    assert not any(c[:2] == ['apt-get', 'install'] for c in apt.commands.calls)
    assert not fake_host.exists(_ledger.LEDGER_PATH)


def test_no_package_manager(fake_host, monkeypatch):
    FakeCommands().install(monkeypatch)
    r = fail_module(system_packages, {'allocator': 'jemalloc'})
    assert 'no apt-get or dnf' in r['msg']
    assert run_module(system_packages, {'state': 'absent'})['changed'] is False


@pytest.mark.parametrize('record', [{'manager': 'yum'}, 'x', {'manager': 'apt', 'x': 1}])
def test_tampered_records_refused(fake_host, apt, record):
    if isinstance(record, dict) and 'x' in record:
        # extra keys are tolerated; a bad package name as the key is not
        data = {'version': 1, 'extra': {'system_packages': {'libc6;rm': {'manager': 'apt'}}}}
    else:
        data = {'version': 1, 'extra': {'system_packages': {'libc6': record}}}
    fake_host.write(_ledger.LEDGER_PATH, json.dumps(data), mode=0o600)
    r = fail_module(revert, {})
    assert 'system_packages' in r['msg'] and 'libc6' in apt.installed
