# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""_packages: package names refused before anything runs, the host's manager from its tools in the fake root, apt and
dnf driven with argv lists, and the restore of only the packages this collection's install added.

No command runs: ``Manager`` plays dpkg-query/apt-cache/apt-get or rpm/dnf on a set of installed packages.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.inference.host_tuning.plugins.module_utils import _formats
from ansible_collections.inference.host_tuning.plugins.module_utils import _ledger
from ansible_collections.inference.host_tuning.plugins.module_utils import _packages
from ansible_collections.inference.host_tuning.tests.unit.fakehost import FakeModule

APT_ENV = {'DEBIAN_FRONTEND': 'noninteractive', 'LC_ALL': 'C'}


class Manager(FakeModule):
    """A module whose commands are a package manager over ``installed``; ``known`` is what its lists offer
    (for apt only after ``apt-get update`` when ``lists`` is False). ``fail`` maps a command to (rc, out, err)."""

    def __init__(self, installed=(), known=(), deps=None, lists=True, fail=None):
        super(Manager, self).__init__()
        self.installed = set(installed)
        self.known = set(known)
        self.deps = deps or {}
        self.lists = lists
        self.fail = fail or {}
        self.environ = []

    def run_command(self, argv, environ_update=None):
        self.calls.append(list(argv))
        self.environ.append(environ_update)
        if argv[0] in self.fail:
            return self.fail[argv[0]]
        return getattr(self, argv[0].replace('-', '_'))(argv)

    def dpkg_query(self, argv):
        return 0, ''.join('%s\tinstalled\n' % p for p in sorted(self.installed)) + \
            'removed-one\tconfig-files\nhalf\thalf-configured\n', ''

    def rpm(self, argv):
        return 0, ''.join('%s\n' % p for p in sorted(self.installed)) + '\n', ''

    def apt_cache(self, argv):
        pkg = argv[-1]
        if pkg in self.known and self.lists:
            return 0, '%s:\n  Installed: (none)\n  Candidate: 1.0-1\n  Version table:\n' % pkg, ''
        if pkg in self.known:
            return 0, '%s:\n  Installed: (none)\n  Candidate: (none)\n' % pkg, ''
        return 0, '', ''

    def apt_get(self, argv):
        if argv[1] == 'update':
            self.lists = True
            return 0, '', ''
        return self._change(argv[1], [a for a in argv[2:] if not a.startswith('-')])

    def dnf(self, argv):
        if argv[1:4] == ['-q', 'list', '--available']:
            return (0, '', '') if argv[-1] in self.known else (1, '', 'Error: No matching Packages to list\n')
        return self._change(argv[1], [a for a in argv[2:] if not a.startswith('-')])

    def _change(self, verb, pkgs):
        if verb == 'install':
            for p in pkgs:
                self.installed.add(p)
                self.installed.update(self.deps.get(p, []))
        else:
            self.installed.difference_update(pkgs)
        return 0, '', ''


def tools(host, *names):
    for name in names:
        host.write('/usr/bin/' + name, '')


# -- names --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize('value', ['libjemalloc2', 'libstdc++6', 'gperftools-libs', 'NetworkManager', 'python3.11',
                                   'lib_x', '0ad', 'a' * 128])
def test_name_accepts(value):
    assert _packages.name(value) == value


@pytest.mark.parametrize('value, problem', [
    ('-y', 'is not a package name'),
    ('--allow-downgrades', 'is not a package name'),
    ('.hidden', 'is not a package name'),
    ('pkg=1.0-1', 'is not a package name'),
    ('pkg/unstable', 'is not a package name'),
    ('pkg:arm64', 'is not a package name'),
    ('a b', 'is not a package name'),
    ('pkg*', 'is not a package name'),
    ('a' * 129, 'is not a package name'),
    ('pkg\n', 'is not allowed here'),
    ('pkg\x1b', 'is not allowed here'),
    ('', 'must not be empty'),
    (None, 'expected a string'),
])
def test_name_refusals(value, problem):
    with pytest.raises(_formats.FormatError) as exc:
        _packages.name(value, 'names')
    assert exc.value.what == 'names' and problem in str(exc.value)


# -- the manager --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize('have, kind', [
    ((), None),
    (('apt-get', 'dpkg-query'), 'apt'),
    (('apt-get',), None),
    (('dpkg-query', 'rpm'), None),
    (('dnf', 'rpm'), 'dnf'),
    (('dnf',), None),
    (('yum', 'rpm'), 'dnf'),
    (('apt-get', 'dpkg-query', 'dnf', 'rpm'), 'apt'),
])
def test_manager_from_the_tools_in_the_root(fake_host, have, kind):
    tools(fake_host, *have)
    assert _packages.manager() is kind


# -- Packages -----------------------------------------------------------------------------------------------------
def test_installed_apt_counts_only_installed_packages():
    m = Manager(installed=['libc6', 'libjemalloc2'])
    assert _packages.Packages(m, 'apt').installed() == set(['libc6', 'libjemalloc2'])
    assert m.calls == [['dpkg-query', '-W', '-f', '${Package}\t${db:Status-Status}\n']]
    assert m.environ == [APT_ENV]


def test_installed_dnf():
    m = Manager(installed=['glibc', 'jemalloc'])
    assert _packages.Packages(m, 'dnf').installed() == set(['glibc', 'jemalloc'])
    assert m.calls == [['rpm', '-qa', '--qf', '%{NAME}\n']] and m.environ == [{'LC_ALL': 'C'}]


def test_a_failing_command_raises_with_its_message():
    m = Manager(fail={'dpkg-query': (2, '', 'dpkg-query: error: cannot access archive\n')})
    with pytest.raises(_packages.PackageError) as exc:
        _packages.Packages(m, 'apt').installed()
    assert str(exc.value) == ('dpkg-query -W -f ${Package}\t${db:Status-Status}\n failed (rc=2): dpkg-query: error: '
                              'cannot access archive')
    m = Manager(fail={'apt-get': (100, 'E: ' + 'x' * 3000 + 'END\n', '')})
    with pytest.raises(_packages.PackageError) as exc:
        _packages.Packages(m, 'apt').update()
    assert str(exc.value).startswith('apt-get update -qq failed (rc=100): xxx') and str(exc.value).endswith('END')
    assert len(str(exc.value)) == len('apt-get update -qq failed (rc=100): ') + 2000


def test_known_apt_updates_the_lists_once():
    m = Manager(known=['libjemalloc2', 'numactl'], lists=False)
    pm = _packages.Packages(m, 'apt')
    assert pm.known('libjemalloc2') is True
    assert m.calls == [['apt-cache', 'policy', 'libjemalloc2'], ['apt-get', 'update', '-qq'],
                       ['apt-cache', 'policy', 'libjemalloc2']]
    assert pm.updated is True
    assert pm.known('nosuch') is False and pm.known('numactl') is True
    assert m.calls.count(['apt-get', 'update', '-qq']) == 1


def test_known_apt_without_refresh_never_updates():
    m = Manager(known=['libjemalloc2'], lists=False)
    pm = _packages.Packages(m, 'apt')
    assert pm.known('libjemalloc2', refresh=False) is False      # "Candidate: (none)": not installable yet
    assert m.calls == [['apt-cache', 'policy', 'libjemalloc2']] and pm.updated is False


def test_known_dnf():
    m = Manager(known=['jemalloc'])
    pm = _packages.Packages(m, 'dnf')
    assert pm.known('jemalloc') is True and pm.known('nosuch') is False
    assert m.calls == [['dnf', '-q', 'list', '--available', 'jemalloc'], ['dnf', '-q', 'list', '--available', 'nosuch']]
    assert m.environ == [{'LC_ALL': 'C'}] * 2


def test_choose():
    alternatives = _packages.ALLOCATOR_PACKAGES['apt']['tcmalloc']
    m = Manager(known=alternatives)
    pm = _packages.Packages(m, 'apt')
    # an installed alternative is taken without asking the lists
    assert pm.choose(alternatives, set(['libtcmalloc-minimal4'])) == 'libtcmalloc-minimal4'
    assert m.calls == []
    assert pm.choose(alternatives, set()) == 'libtcmalloc-minimal4t64'
    m = Manager(known=['libtcmalloc-minimal4'])
    assert _packages.Packages(m, 'apt').choose(alternatives, set()) == 'libtcmalloc-minimal4'


def test_choose_when_nothing_is_known():
    alternatives = _packages.ALLOCATOR_PACKAGES['apt']['tcmalloc']
    m = Manager(lists=False)
    # check mode: apt's lists are not refreshed, the first alternative is the guess
    assert _packages.Packages(m, 'apt').choose(alternatives, set(), refresh=False) == 'libtcmalloc-minimal4t64'
    assert ['apt-get', 'update', '-qq'] not in m.calls
    with pytest.raises(_packages.PackageError) as exc:
        _packages.Packages(m, 'apt').choose(alternatives, set())
    assert str(exc.value) == ('no package of libtcmalloc-minimal4t64, libtcmalloc-minimal4 is known to apt on this '
                              'host (after apt-get update)')
    with pytest.raises(_packages.PackageError) as exc:
        _packages.Packages(Manager(), 'dnf').choose(['gperftools-libs'], set())
    assert str(exc.value) == 'no package of gperftools-libs is known to dnf on this host'


@pytest.mark.parametrize('kind, argv', [
    ('apt', ['apt-get', 'install', '-y', '-q', '--no-install-recommends', 'numactl', 'libjemalloc2']),
    ('dnf', ['dnf', 'install', '-y', '-q', 'numactl', 'libjemalloc2']),
])
def test_install_returns_everything_it_added(kind, argv):
    m = Manager(installed=['libc6', 'libnuma1'], deps={'numactl': ['libnuma1', 'numactl-libs']})
    added = _packages.Packages(m, kind).install(['numactl', 'libjemalloc2'])
    # what was installed before (libnuma1) is not the install's
    assert added == ['libjemalloc2', 'numactl', 'numactl-libs']
    assert argv in m.calls
    assert m.installed == set(['libc6', 'libnuma1', 'numactl', 'numactl-libs', 'libjemalloc2'])


def test_remove():
    m = Manager(installed=['libc6', 'libjemalloc2'])
    _packages.Packages(m, 'apt').remove([])
    assert m.calls == []
    _packages.Packages(m, 'apt').remove(['libjemalloc2'])
    assert m.calls == [['apt-get', 'remove', '-y', '-q', 'libjemalloc2']] and m.installed == set(['libc6'])
    # dnf takes no dependencies along: only what the ledger names goes
    assert _packages.remove_argv('dnf', ('a', 'b')) == ['dnf', 'remove', '-y', '-q', '--noautoremove', 'a', 'b']


# -- the ledger record --------------------------------------------------------------------------------------------
@pytest.mark.parametrize('key, rec, problem', [
    ('libjemalloc2', {'manager': 'apt'}, None),
    ('jemalloc', {'manager': 'dnf', 'installed': '2026-01-01'}, None),
    ('-y', {'manager': 'apt'}, 'is not a package name'),
    ('a b', {'manager': 'apt'}, 'is not a package name'),
    (5, {'manager': 'apt'}, 'is not a package name'),
    ('libjemalloc2', {'manager': 'yum'}, 'must be an object with "manager" apt or dnf'),
    ('libjemalloc2', {}, 'must be an object with "manager" apt or dnf'),
    ('libjemalloc2', ['apt'], 'must be an object with "manager" apt or dnf'),
])
def test_check_record(key, rec, problem):
    assert _packages.check_record(key, rec) == problem


# -- plan_restore / restore ---------------------------------------------------------------------------------------
RECORDS = {'libjemalloc2': {'manager': 'apt'}, 'numactl': {'manager': 'apt'}, 'libnuma1': {'manager': 'apt'}}


def test_plan_restore(fake_host):
    tools(fake_host, 'apt-get', 'dpkg-query')
    m = Manager(installed=['libc6', 'libjemalloc2', 'numactl'])
    # a package removed by hand since is "gone": nothing to do but forget it
    assert _packages.plan_restore(m, RECORDS) == [('libjemalloc2', 'remove'), ('libnuma1', 'gone'),
                                                  ('numactl', 'remove')]
    assert _packages.plan_restore(m, RECORDS, ['numactl', 'vim']) == [('numactl', 'remove')]
    del m.calls[:]
    assert _packages.plan_restore(m, RECORDS, ['vim']) == [] and _packages.plan_restore(m, {}) == []
    assert m.calls == []      # nothing to restore: nothing is asked


@pytest.mark.parametrize('have, records, message', [
    (('dnf', 'rpm'), RECORDS, 'the ledger records packages installed with apt, which this host does not have'),
    ((), RECORDS, 'the ledger records packages installed with apt, which this host does not have'),
    (('apt-get', 'dpkg-query'), dict(RECORDS, jemalloc={'manager': 'dnf'}),
     'the ledger records packages installed with apt, dnf, which'),
])
def test_plan_restore_refuses_another_manager(fake_host, have, records, message):
    tools(fake_host, *have)
    m = Manager(installed=['libjemalloc2'])
    with pytest.raises(_packages.PackageError) as exc:
        _packages.plan_restore(m, records)
    assert str(exc.value).startswith(message)
    assert m.calls == []


def test_restore_removes_only_what_is_there_and_forgets_all(fake_host):
    tools(fake_host, 'apt-get', 'dpkg-query')
    m = Manager(installed=['libc6', 'libjemalloc2', 'numactl'])
    ledger = _ledger.Ledger(FakeModule())
    for key, rec in RECORDS.items():
        ledger.set_extra(_packages.OWNER, key, rec)
    plan = _packages.plan_restore(m, RECORDS)
    del m.calls[:]
    assert _packages.restore(m, ledger, plan) == ['apt-get', 'remove', '-y', '-q', 'libjemalloc2', 'numactl']
    assert m.calls == [['apt-get', 'remove', '-y', '-q', 'libjemalloc2', 'numactl']]
    assert m.installed == set(['libc6'])
    assert ledger.extra == {} and ledger.dirty is True


def test_restore_of_packages_already_gone_runs_nothing(fake_host):
    m = Manager()
    ledger = _ledger.Ledger(FakeModule())
    ledger.set_extra(_packages.OWNER, 'numactl', {'manager': 'dnf'})
    ledger.set_extra(_packages.OWNER, 'jemalloc', {'manager': 'dnf'})
    assert _packages.restore(m, ledger, [('numactl', 'gone')]) is None
    assert m.calls == []
    assert ledger.extra == {_packages.OWNER: {'jemalloc': {'manager': 'dnf'}}}
