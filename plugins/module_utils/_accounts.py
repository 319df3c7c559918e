# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The serving process's system account: its user, group, home and supplementary groups.

* ``users()`` / ``groups()`` -- the host's local accounts, from ``/etc/passwd`` and
  ``/etc/group`` (the files ``useradd`` and ``groupadd`` manage).
* ``plan_present()`` -- the steps that make the account (``groupadd``, ``useradd``,
  the home directory, ``usermod -a -G``) and the ledger record of what this
  collection created: only what did not exist before is ever removed again.
* ``plan_restore()`` / ``restore()`` -- the restore of one record of owner
  ``service_account``, shared by ``service_account state=absent`` and ``revert``:
  supplementary groups we added are left, a user, group and home we created
  are removed - each only while it is still the one we created (same uid, gid,
  a home that is a directory owned by that uid, not a link).

Names and paths are validated before anything is read or run; accounts with id
0 or a name of the base system are never touched.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import shutil
import stat

from ansible_collections.inference.host_tuning.plugins.module_utils import _files
from ansible_collections.inference.host_tuning.plugins.module_utils import _formats
from ansible_collections.inference.host_tuning.plugins.module_utils import _host

OWNER = 'service_account'

#: useradd's default NAME_REGEX, without the trailing "$" of Samba machine accounts.
NAME = r'[a-z_][a-z0-9_-]{0,31}'
#: A supplementary group to join: also the capitals of vendors' groups (Ascend's HwHiAiUser).
GROUP = r'[A-Za-z_][A-Za-z0-9_.-]{0,31}'
#: Where a home of ours may be created, and so removed: strictly below one of these.
HOME_PREFIXES = ('/var/lib/', '/srv/', '/opt/', '/home/')
#: Never created, changed or removed, whatever a value or a ledger record says.
PROTECTED = frozenset(('root', 'daemon', 'bin', 'sys', 'sync', 'games', 'man', 'lp', 'mail', 'news', 'uucp',
                       'proxy', 'www-data', 'backup', 'list', 'irc', 'nobody', 'nogroup', 'systemd-network',
                       'systemd-resolve', 'systemd-timesync', 'messagebus', 'sshd', 'adm', 'tty', 'disk',
                       'kmem', 'wheel', 'sudo', 'shadow', 'utmp', 'staff', 'users', 'video', 'render', 'audio',
                       'input', 'kvm', 'dialout', 'operator', 'ftp', 'polkitd', 'dbus', 'halt', 'shutdown'))
SHELLS = ('/usr/sbin/nologin', '/sbin/nologin', '/bin/false', '/usr/bin/false', '/bin/bash', '/bin/sh')


class AccountError(Exception):
    pass


def name(value, what):
    value = _formats.text(value, what, allow_empty=False)
    if not _formats.fullmatch(NAME, value):
        raise _formats.FormatError(what, '%r is not a user or group name (a lower-case letter or _, then lower-case '
                                         'letters, digits, _ or -; at most 32)' % (value,))
    if value in PROTECTED:
        raise _formats.FormatError(what, '%r is an account of the base system; the serving process gets an '
                                         'account of its own' % (value,))
    return value


def group_name(value, what):
    """A supplementary group: any valid name (video, render are the point), never root."""
    value = _formats.text(value, what, allow_empty=False)
    if not _formats.fullmatch(GROUP, value) or value == 'root':
        raise _formats.FormatError(what, '%r is not a group name the service user may join' % (value,))
    return value


def home(value, what='home'):
    value = _formats.text(value, what, allow_empty=False)
    if os.path.normpath(value) != value or value.startswith('//') or not value.startswith('/'):
        raise _formats.FormatError(what, '%r is not a normalised absolute path (no ".", ".." or "//" parts, no "/" '
                                         'at the end)' % (value,))
    if not any(value.startswith(p) and len(value) > len(p) for p in HOME_PREFIXES):
        raise _formats.FormatError(what, '%r is not below %s' % (value, ', '.join(HOME_PREFIXES)))
    if ':' in value:
        raise _formats.FormatError(what, '%r contains ":", the field separator of /etc/passwd' % (value,))
    return value


def comment(value, what='comment'):
    value = _formats.text(value, what)
    if ':' in value or ',' in value:
        raise _formats.FormatError(what, '%r contains ":" or ",", separators of /etc/passwd' % (value,))
    return value


def _table(path, width):
    rows = {}
    for line in (_host.read_lenient(path, '') or '').splitlines():
        fields = line.split(':')
        if len(fields) >= width and fields[0] and not fields[0].startswith(('+', '-', '#')):
            rows.setdefault(fields[0], fields)
    return rows


def users():
    """{name: {uid, gid, home, shell}} of /etc/passwd."""
    out = {}
    for user, f in _table('/etc/passwd', 7).items():
        try:
            out[user] = {'uid': int(f[2]), 'gid': int(f[3]), 'comment': f[4], 'home': f[5], 'shell': f[6]}
        except ValueError:
            continue
    return out


def groups():
    """{name: {gid, members}} of /etc/group."""
    out = {}
    for group, f in _table('/etc/group', 4).items():
        try:
            out[group] = {'gid': int(f[2]), 'members': [m for m in f[3].split(',') if m]}
        except ValueError:
            continue
    return out


class Step(object):
    """One change: a description for the operator and the argv (or home directory) that makes it."""

    def __init__(self, text, argv=None, home_dir=None):
        self.text = text
        self.argv = argv
        self.home_dir = home_dir


def plan_present(p, record):
    """Steps and the new ledger record for account ``p`` (validated: user, group, home, groups, shell, comment).

    ``record`` is the ledger's record for this user (None when the collection created nothing yet). Returns
    (steps, record, notes): the record says what the collection created, and is None when nothing is ours.
    """
    have_users, have_groups = users(), groups()
    steps, notes = [], []
    record = dict(record or {})
    group = have_groups.get(p['group'])
    if group is None:
        steps.append(Step('create group %s' % p['group'], ['groupadd', '--system', '--', p['group']]))
        _moved(record, 'group', 'old_groups', p['group'])
    user = have_users.get(p['user'])
    if user is None:
        steps.append(Step('create user %s (home %s, shell %s)' % (p['user'], p['home'], p['shell']),
                          ['useradd', '--system', '--gid', p['group'], '--home-dir', p['home'], '--no-create-home',
                           '--shell', p['shell'], '--comment', p['comment'], '--', p['user']]))
        record['user'] = p['user']
    elif record.get('user') == p['user']:
        want = {'home': p['home'], 'shell': p['shell'], 'comment': p['comment']}
        if group is None or user['gid'] != group['gid']:
            want['gid'] = None if group is None else group['gid']     # a new group: usermod after groupadd
        changes = [k for k in sorted(want) if user.get(k) != want[k]]
        if changes:
            argv = ['usermod']
            for k in changes:
                argv += {'home': ['--home', p['home']], 'shell': ['--shell', p['shell']],
                         'comment': ['--comment', p['comment']], 'gid': ['--gid', p['group']]}[k]
            steps.append(Step('change user %s (%s)' % (p['user'], ', '.join(changes)), argv + ['--', p['user']]))
    else:
        differs = [k for k in ('home', 'shell') if user[k] != p[k]]
        if differs:
            notes.append('user %s existed before (not created by this collection): its %s left as they are'
                         % (p['user'], ' and '.join(differs)))
    full = _host.host_path(p['home'])
    if os.path.islink(full):
        raise AccountError('home: %s is a symbolic link; replace the link with a directory (the service home is '
                           'not followed through links)' % p['home'])
    if not os.path.lexists(full):
        steps.append(Step('create home %s (0750)' % p['home'], home_dir=p['home']))
        _moved(record, 'home', 'old_homes', p['home'])
    elif not os.path.isdir(full):
        raise AccountError('home: %s exists and is not a directory' % p['home'])
    members = set()
    if user is not None:
        for g, info in have_groups.items():
            if p['user'] in info['members']:
                members.add(g)
    for g in p['groups']:
        if g not in have_groups:
            raise AccountError('groups: the group %s does not exist on this host' % g)
        if g not in members and not (user is not None and have_groups[g]['gid'] == user['gid']):
            argv = ['usermod', '--append', '--groups', g, '--', p['user']]
            steps.append(Step('add user %s to group %s' % (p['user'], g), argv))
            if record.get('user') != p['user']:
                record.setdefault('groups_added', [])
                if g not in record['groups_added']:
                    record['groups_added'].append(g)
    return steps, (record or None), notes


def _moved(record, field, old_field, value):
    """Record ``value`` as what the collection created for ``field``; one it created before under another name
    (a home or primary group that moved) stays recorded in ``old_field``, so that revert removes it too."""
    if record.get(field) not in (None, value):
        olds = record.setdefault(old_field, [])
        if record[field] not in olds:
            olds.append(record[field])
    record[field] = value


def run_steps(user, steps, run):
    """Run the steps for ``user``; ``run`` is the caller's argv runner (raising on failure). Homes last: they
    are given to the user's uid and gid, which exist only once useradd has run."""
    for step in steps:
        if step.home_dir is not None:
            continue
        run(step.argv)
    for step in steps:
        if step.home_dir is None:
            continue
        have = users().get(user) or {}
        full = _host.host_path(step.home_dir)
        parent = os.path.dirname(step.home_dir)
        if not _host.isdir(parent):
            _files.make_dirs(parent)
        os.mkdir(full, 0o700)
        os.chmod(full, 0o750)
        try:
            os.chown(full, have.get('uid', -1), have.get('gid', -1))
        except OSError:
            pass


def ids(record):
    """The record with the uid and gid the host gives its user and group now (after creating them)."""
    record = dict(record)
    u = users().get(record.get('user') or '') or {}
    g = groups().get(record.get('group') or '') or {}
    if 'user' in record and 'uid' in u:
        record['uid'] = u['uid']
    if 'group' in record and 'gid' in g:
        record['gid'] = g['gid']
    return record


def check_record(key, rec):
    """Schema of one ledger record of owner service_account (keyed by user name); a problem or None."""
    if not isinstance(key, str) or not _formats.fullmatch(NAME, key) or key in PROTECTED:
        return 'is not a service user name this collection creates'
    fields = ('user', 'group', 'home', 'groups_added', 'uid', 'gid', 'old_homes', 'old_groups')
    if not isinstance(rec, dict) or set(rec) - set(fields):
        return 'must be an object with %s' % ', '.join(fields)
    for field in ('user', 'group'):
        if field in rec and (not isinstance(rec[field], str) or not _formats.fullmatch(NAME, rec[field])
                             or rec[field] in PROTECTED):
            return '%s: is not a name this collection creates' % field
    for field in ('uid', 'gid'):
        if field in rec and (not isinstance(rec[field], int) or isinstance(rec[field], bool) or rec[field] <= 0):
            return '%s: must be a positive number' % field
    homes = ([rec['home']] if 'home' in rec else []) + list(rec.get('old_homes') or [])
    if not isinstance(rec.get('old_homes', []), list) or not all(isinstance(h, str) for h in homes):
        return 'old_homes: must be a list of paths'
    for path in homes:
        try:
            home(path)
        except _formats.FormatError:
            return 'home: is not below %s' % ', '.join(HOME_PREFIXES)
    olds = rec.get('old_groups', [])
    if not isinstance(olds, list) or not all(isinstance(g, str) and _formats.fullmatch(NAME, g) and g not in PROTECTED
                                             for g in olds):
        return 'old_groups: must be a list of names this collection creates'
    added = rec.get('groups_added', [])
    if not isinstance(added, list) or not all(isinstance(g, str) and _formats.fullmatch(GROUP, g) for g in added):
        return 'groups_added: must be a list of group names'
    return None


def plan_restore(key, rec, keep_home=False):
    """Steps that undo the record (user ``key``): what we created, while it is still the one we created."""
    have_users, have_groups = users(), groups()
    steps = []
    user = have_users.get(key)
    if rec.get('user') == key and user is not None:
        if 'uid' in rec and user['uid'] != rec['uid']:
            raise AccountError('user %s has uid %s now, not the %s the collection created; remove it by hand'
                               % (key, user['uid'], rec['uid']))
        steps.append(Step('remove user %s (uid %s)' % (key, user['uid']), ['userdel', '--', key]))
    elif user is not None:
        for g in rec.get('groups_added', []):
            if g in have_groups and key in have_groups[g]['members']:
                steps.append(Step('remove user %s from group %s' % (key, g), ['gpasswd', '--delete', key, g]))
    if not keep_home:
        for path in ([rec['home']] if 'home' in rec else []) + list(rec.get('old_homes') or []):
            steps.extend(_home_restore(path, rec))
    for name in ([rec['group']] if rec.get('group') else []) + list(rec.get('old_groups') or []):
        steps.extend(_group_restore(name, rec, have_users, have_groups))
    return steps


def _home_restore(path, rec):
    """The removal of a home the collection created, while it is still the directory of the user it created."""
    full = _host.host_path(path)
    if not os.path.lexists(full):
        return []
    st = os.lstat(full)
    if not stat.S_ISDIR(st.st_mode):
        raise AccountError('home %s is no longer a directory (a link?); remove it by hand' % path)
    if 'uid' in rec and st.st_uid != rec['uid']:
        raise AccountError('home %s is owned by uid %s, not by the user the collection created; remove it by hand'
                           % (path, st.st_uid))
    return [Step('remove home %s' % path, home_dir=path)]


def _group_restore(name, rec, have_users, have_groups):
    """The removal of a group the collection created, while it is the one it created and nobody else's."""
    group = have_groups.get(name)
    if group is None:
        return []
    if name == rec.get('group') and 'gid' in rec and group['gid'] != rec['gid']:
        raise AccountError('group %s has gid %s now, not the %s the collection created; remove it by hand'
                           % (name, group['gid'], rec['gid']))
    others = [u for u, info in have_users.items() if info['gid'] == group['gid'] and u != rec.get('user')]
    others += [m for m in group['members'] if m != rec.get('user')]
    if others:
        raise AccountError('group %s is also the group of %s now; remove it by hand when they no longer need it'
                           % (name, ', '.join(sorted(set(others)))))
    return [Step('remove group %s' % name, ['groupdel', '--', name])]


def restore(ledger, key, steps, run):
    """Run the restore steps of user ``key`` (users before homes before groups) and forget the record."""
    run_restore(steps, run)
    ledger.forget_extra_key(OWNER, key)
    return bool(steps)


def run_restore(steps, run):
    """The steps of plan_restore(), in order."""
    for step in steps:
        if step.home_dir is not None:
            shutil.rmtree(_host.host_path(step.home_dir))
        elif step.argv[0] == 'groupdel' and step.argv[-1] not in groups():
            # userdel already removed it: the user's own group goes with it (USERGROUPS_ENAB, login.defs)
            continue
        else:
            run(step.argv)
