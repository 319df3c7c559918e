# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Distribution packages the collection installs, and removes again on revert.

* ``manager()`` -- ``apt`` (Debian, Ubuntu) or ``dnf`` (the RHEL family), from the
  host's package tools; None where neither is found.
* ``Packages`` -- what is installed now (``dpkg-query`` / ``rpm -qa``), which of a
  package's alternative names the host knows (``apt-cache policy`` /
  ``dnf list``), ``install()`` returning every package that the install added
  (the asked one and its dependencies: the installed set before and after), and
  ``remove()``.
* ``plan_restore()`` / ``restore()`` -- the restore of owner ``system_packages``'s
  records (one per package this collection installed), shared by
  ``system_packages state=absent`` and ``revert``.

The ledger records a package only when this collection's install added it; a
package that was installed before is never removed.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

from ansible_collections.inference.host_tuning.plugins.module_utils import _formats
from ansible_collections.inference.host_tuning.plugins.module_utils import _host

OWNER = 'system_packages'

#: Debian policy and RPM names: letters, digits and + . _ - (RPM also allows capitals), starting alphanumerically.
NAME = r'[A-Za-z0-9][A-Za-z0-9+._-]{0,127}'

#: The allocators' packages per manager; the first name the host knows is used. Debian 13 and
#: Ubuntu 24.04 renamed the tcmalloc library package (the 64-bit time_t transition).
ALLOCATOR_PACKAGES = {
    'apt': {'jemalloc': ['libjemalloc2'], 'tcmalloc': ['libtcmalloc-minimal4t64', 'libtcmalloc-minimal4']},
    'dnf': {'jemalloc': ['jemalloc'], 'tcmalloc': ['gperftools-libs']},
}

_TOOLS = {'apt': ('/usr/bin/apt-get', '/usr/bin/dpkg-query'), 'dnf': ('/usr/bin/dnf', '/usr/bin/rpm')}
_APT_ENV = {'DEBIAN_FRONTEND': 'noninteractive', 'LC_ALL': 'C'}


class PackageError(Exception):
    pass


def name(value, what='names'):
    value = _formats.text(value, what, allow_empty=False)
    if not _formats.fullmatch(NAME, value):
        raise _formats.FormatError(what, '%r is not a package name (letters, digits and + . _ -, starting with a '
                                         'letter or digit)' % (value,))
    return value


def manager():
    """The host's package manager: apt, dnf, or None."""
    for kind in ('apt', 'dnf'):
        if all(os.path.exists(_host.host_path(tool)) for tool in _TOOLS[kind]):
            return kind
    if os.path.exists(_host.host_path('/usr/bin/yum')) and os.path.exists(_host.host_path('/usr/bin/rpm')):
        return 'dnf'
    return None


class Packages(object):
    """One host's package manager, driven with argv lists (no shell)."""

    def __init__(self, module, kind):
        self.module = module
        self.kind = kind
        self.updated = False

    def _run(self, argv, check=True):
        env = _APT_ENV if self.kind == 'apt' else {'LC_ALL': 'C'}
        rc, out, err = self.module.run_command(argv, environ_update=env)
        if check and rc != 0:
            raise PackageError('%s failed (rc=%s): %s' % (' '.join(argv), rc, (err or out).strip()[-2000:]))
        return rc, out, err

    def installed(self):
        """The names of the packages installed now."""
        if self.kind == 'apt':
            _rc, out, _err = self._run(['dpkg-query', '-W', '-f', '${Package}\t${db:Status-Status}\n'])
            return set(line.split('\t')[0] for line in out.splitlines()
                       if line.endswith('\tinstalled'))
        _rc, out, _err = self._run(['rpm', '-qa', '--qf', '%{NAME}\n'])
        return set(line.strip() for line in out.splitlines() if line.strip())

    def known(self, pkg, refresh=True):
        """Whether the package manager can install ``pkg`` (refreshing apt's lists once when it cannot)."""
        for attempt in (0, 1):
            if self.kind == 'apt':
                rc, out, _err = self._run(['apt-cache', 'policy', pkg], check=False)
                found = rc == 0 and any(line.strip().startswith('Candidate:') and 'Candidate: (none)' not in line
                                        for line in out.splitlines())
            else:
                rc, _out, _err = self._run(['dnf', '-q', 'list', '--available', pkg], check=False)
                found = rc == 0
            if found or attempt or self.updated or self.kind != 'apt' or not refresh:
                return found
            self.update()
        return False

    def update(self):
        self._run(['apt-get', 'update', '-qq'])
        self.updated = True

    def choose(self, alternatives, installed, refresh=True):
        """The first alternative installed, else the first the manager knows; PackageError when none.

        Without ``refresh`` (check mode: apt's lists are not updated) the first alternative is the guess
        when the lists know none.
        """
        for pkg in alternatives:
            if pkg in installed:
                return pkg
        for pkg in alternatives:
            if self.known(pkg, refresh):
                return pkg
        if not refresh:
            return alternatives[0]
        raise PackageError('no package of %s is known to %s on this host%s' % (
            ', '.join(alternatives), self.kind, ' (after apt-get update)' if self.kind == 'apt' else ''))

    def install(self, pkgs):
        """Install ``pkgs``; returns the sorted names of every package the install added."""
        before = self.installed()
        if self.kind == 'apt':
            argv = ['apt-get', 'install', '-y', '-q', '--no-install-recommends'] + list(pkgs)
        else:
            argv = ['dnf', 'install', '-y', '-q'] + list(pkgs)
        self._run(argv)
        return sorted(self.installed() - before)

    def remove(self, pkgs):
        if pkgs:
            self._run(remove_argv(self.kind, pkgs))


def remove_argv(kind, pkgs):
    if kind == 'apt':
        return ['apt-get', 'remove', '-y', '-q'] + list(pkgs)
    return ['dnf', 'remove', '-y', '-q', '--noautoremove'] + list(pkgs)


def check_record(key, rec):
    """Schema of one ledger record of owner system_packages; returns a problem or None."""
    if not isinstance(key, str) or not _formats.fullmatch(NAME, key):
        return 'is not a package name'
    if not isinstance(rec, dict) or rec.get('manager') not in ('apt', 'dnf'):
        return 'must be an object with "manager" apt or dnf'
    return None


def plan_restore(module, records, names=None):
    """The packages of ``records`` (ledger bucket) to remove: [(name, action)]; action 'remove' or 'gone'."""
    kinds = set(rec['manager'] for key, rec in records.items() if names is None or key in names)
    if not kinds:
        return []
    kind = manager()
    if kind is None or kinds != set([kind]):
        raise PackageError('the ledger records packages installed with %s, which this host does not have'
                           % ', '.join(sorted(kinds)))
    installed = Packages(module, kind).installed()
    return [(key, 'remove' if key in installed else 'gone')
            for key in sorted(records) if names is None or key in names]


def restore(module, ledger, plan):
    """Remove the planned packages and forget their records (the ledger is saved by the caller)."""
    remove = [pkg for pkg, action in plan if action == 'remove']
    argv = None
    if remove:
        kind = manager()
        Packages(module, kind).remove(remove)
        argv = remove_argv(kind, remove)
    for pkg, _action in plan:
        ledger.forget_extra_key(OWNER, pkg)
    return argv
