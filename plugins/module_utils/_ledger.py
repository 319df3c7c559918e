# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The restore ledger: what a host looked like before this collection changed it.

Kept as JSON in ``/var/lib/inference_host_tuning/ledger.json``.  Before the
collection first writes a file or a runtime value it records the original here
(once: a later run never overwrites the first record), so that a module's
``state: absent`` or ``playbooks/revert.yml`` can restore the host exactly:

* ``files[path]``: ``existed`` and, if it did, its bytes (base64), mode, uid, gid,
  or ``link`` (the target of a symbolic link, restored as a link);
* ``runtime[path]``: the value a /proc/sys or /sys file held (written back as is);
* ``extra[owner]``: anything else an owner needs (for example active swaps);
* ``requests[owner][instance]``: what the owner was last asked to apply (its validated options, per unit
  for the per-unit owners, ``""`` otherwise): the audit compares the host with these.

Every record names its ``owner`` (the module that changed it), so one owner's
``state: absent`` restores only what that owner changed.

Trust model: the ledger holds copies of the files it replaced (secrets included) and
drives what revert writes as root.  So the state directory is 0700 and the file 0600
from the moment they are created, whatever the umask; a ledger (or directory) that
another user could write, or that root does not own, is refused; every record is
checked against a schema on load; and each owner may only restore paths inside the
locations it can write (``ALLOWED``), runtime values only under /proc/sys and /sys.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import binascii
import fnmatch
import json
import os
import stat
import time

from ansible.module_utils.common.text.converters import to_bytes, to_text

from ansible_collections.inference.host_tuning.plugins.module_utils import _accounts
from ansible_collections.inference.host_tuning.plugins.module_utils import _files
from ansible_collections.inference.host_tuning.plugins.module_utils import _formats
from ansible_collections.inference.host_tuning.plugins.module_utils import _host
from ansible_collections.inference.host_tuning.plugins.module_utils import _merge
from ansible_collections.inference.host_tuning.plugins.module_utils import _packages

LEDGER_PATH = _host.STATE_DIR + '/ledger.json'
#: Where a file of ours that was edited by hand is kept before it is replaced or removed (the operator's data).
EDITED_DIR = _host.STATE_DIR + '/edited'
VERSION = 1

#: Where each owner may write, and so restore: a prefix ending in "/", a pattern with "*" (which
#: matches across "/") or an exact path.
ALLOWED = {
    'sysctl_profile': ('/etc/sysctl.d/', '/etc/tmpfiles.d/'),
    'hugepages': ('/etc/tmpfiles.d/', '/etc/default/grub.d/', '/etc/inference-host-tuning/'),
    'swap': ('/etc/fstab',),
    'cpu_governor': ('/etc/systemd/system/',),
    'memlock': ('/etc/security/limits.d/', '/etc/systemd/system.conf.d/', '/etc/systemd/system/',
                '/etc/docker/daemon.json'),
    'io_scheduler': ('/etc/udev/rules.d/',),
    'nvidia_gpu': ('/etc/systemd/system/', '/etc/inference-host-tuning/',
                   '/usr/local/libexec/inference-host-tuning/'),
    'numa_bind': ('/etc/systemd/system/',),
    'allocator_preload': ('/etc/systemd/system/', '/etc/ld.so.preload', '/etc/environment', '/etc/default/',
                          '/etc/sysconfig/', '/etc/inference-host-tuning/', '/etc/*.env'),
    'service_unit': ('/etc/systemd/system/',),
    'kubelet_config': ('/etc/kubernetes/', '/var/lib/kubelet/'),
    # These two record no files: accounts and packages they created (extra records, checked by _RECORD_CHECKS).
    'service_account': (),
    'system_packages': (),
}
#: Runtime values are pseudo-files; nothing else is ever written as one.
RUNTIME_ALLOWED = ('/proc/sys/', '/sys/')
#: What every file of ours starts with (a file that starts so is ours alone, not shared with other tools).
_OUR_HEADER = to_bytes(_files.HEADER.split('%s', maxsplit=1)[0])
#: The schema of the extra records that revert acts on beyond files (a tampered record must not name root).
_RECORD_CHECKS = {
    'service_account': _accounts.check_record,
    'system_packages': _packages.check_record,
}


class LedgerError(ValueError):
    """The ledger cannot be trusted or does not hold what it should; nothing is done with it."""


def _now():
    return time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())


def path_error(path):
    """Why ``path`` is not a clean absolute path, or None."""
    if not isinstance(path, str):
        return 'is not a string'
    try:
        _formats.text(path, 'path', allow_empty=False)
    except _formats.FormatError as e:
        return str(e)
    if not path.startswith('/') or os.path.normpath(path) != path or path.startswith('//'):
        return 'is not a normalised absolute path'
    return None


def _under(path, prefixes):
    for p in prefixes:
        if p.endswith('/'):
            if path.startswith(p):
                return True
        elif '*' in p:
            if fnmatch.fnmatchcase(path, p):
                return True
        elif path == p:
            return True
    return False


def may_write(owner, path):
    """True when ``owner`` may write (and so restore) the file ``path``."""
    return path_error(path) is None and _under(path, ALLOWED.get(owner, ()))


def may_create_dir(owner, path):
    """A directory an owner's write may create: an allowed location or one of its parents (not "/")."""
    if path_error(path) is not None or path.count('/') < 2:
        return False
    for p in ALLOWED.get(owner, ()):
        if '*' in p:
            p = p[:p.index('*')]
            p = p[:p.rindex('/') + 1]
        if p.startswith(path + '/') or (p.endswith('/') and (path + '/').startswith(p)):
            return True
    return False


def location_error(owner, path, what):
    """A message when ``owner`` may not write ``path`` (for a module's path option), or None."""
    if may_write(owner, path):
        return None
    return ('%s=%s is outside the locations inference.host_tuning.%s may write (%s); choose a path there'
            % (what, path, owner, ', '.join(p + ('*' if p.endswith('/') else '') for p in ALLOWED.get(owner, ()))))


# -- loading: permissions and schema ----------------------------------------------------------------
def _check_trusted(full, kind, want_mode):
    """Refuse a state directory or ledger another user could write; tighten one others could read."""
    st = os.lstat(full)
    is_kind = stat.S_ISDIR(st.st_mode) if kind == 'directory' else stat.S_ISREG(st.st_mode)
    if not is_kind:
        raise LedgerError('%s is not a %s (a link or something else); the restore ledger is refused. Move it '
                          'aside and check how it got there' % (full, kind))
    if st.st_uid != os.geteuid():
        raise LedgerError('%s is owned by uid %d, not by uid %d (root); the restore ledger is refused. Check who '
                          'changed it before you restore from it' % (full, st.st_uid, os.geteuid()))
    if st.st_mode & 0o022:
        raise LedgerError('%s is writable by group or others (mode %04o); the restore ledger is refused, as anyone '
                          'could have changed what revert writes as root. Check its records, then chmod %04o it'
                          % (full, st.st_mode & 0o7777, want_mode))
    return st.st_mode & 0o7777 != want_mode


def _bad(where, problem):
    raise LedgerError('The restore ledger %s has a bad record %s: %s. Nothing was changed; repair or move the '
                      'ledger aside (it records what to restore)' % (LEDGER_PATH, where, problem))


def _check_int(value, where, name, top):
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= top:
        _bad(where, '%s must be an integer from 0 to %d' % (name, top))


def _check_file_record(path, rec):
    where = 'files[%r]' % (path,)
    err = path_error(path)
    if err:
        _bad(where, 'the path %s' % err)
    if not isinstance(rec, dict):
        _bad(where, 'is not an object')
    owner = rec.get('owner')
    if owner not in ALLOWED:
        _bad(where, 'unknown owner %r' % (owner,))
    if not may_write(owner, path):
        _bad(where, '%s may not write %s' % (owner, path))
    if not isinstance(rec.get('existed'), bool):
        _bad(where, '"existed" must be true or false')
    if rec['existed']:
        if 'link' in rec:
            if not isinstance(rec['link'], str) or path_error('/' + rec['link'].lstrip('/')):
                _bad(where, '"link" must be the text of a link target')
        else:
            if not isinstance(rec.get('content'), str):
                _bad(where, '"content" must be base64 text')
            try:
                base64.b64decode(to_text(rec['content']).encode('ascii'), validate=True)
            except (binascii.Error, TypeError, ValueError, UnicodeError):
                _bad(where, '"content" must be base64 text')
            _check_int(rec.get('mode', 0o644), where, 'mode', 0o7777)
            for key in ('uid', 'gid'):
                if key in rec:
                    _check_int(rec[key], where, key, 2 ** 32 - 1)
    if 'written' in rec:
        try:
            base64.b64decode(to_text(rec['written']).encode('ascii'), validate=True)
        except (binascii.Error, TypeError, ValueError, UnicodeError, AttributeError):
            _bad(where, '"written" must be base64 text')
    dirs = rec.get('created_dirs', [])
    if not isinstance(dirs, list) or not all(may_create_dir(owner, d) for d in dirs):
        _bad(where, '"created_dirs" must list directories %s may create' % owner)


def validate(data):
    """Check a loaded ledger against its schema; raises LedgerError naming the first bad record."""
    if not isinstance(data, dict):
        _bad('(top level)', 'it must be a JSON object')
    unknown = set(data) - set(('version', 'files', 'runtime', 'extra', 'dirs', 'requests'))
    if unknown:
        _bad('(top level)', 'unknown keys %s' % ', '.join(sorted(unknown)))
    if data.get('version', VERSION) != VERSION:
        _bad('version', 'this collection reads version %d' % VERSION)
    for key, kind in (('files', dict), ('runtime', dict), ('extra', dict), ('dirs', list), ('requests', dict)):
        if not isinstance(data.get(key, kind()), kind):
            _bad(key, 'must be a JSON %s' % ('object' if kind is dict else 'list'))
    for path, rec in data.get('files', {}).items():
        _check_file_record(path, rec)
    for path, rec in data.get('runtime', {}).items():
        where = 'runtime[%r]' % (path,)
        if path_error(path) or not _under(path, RUNTIME_ALLOWED):
            _bad(where, 'runtime values are only restored under /proc/sys and /sys')
        if not isinstance(rec, dict) or rec.get('owner') not in ALLOWED:
            _bad(where, 'unknown owner')
        if not isinstance(rec.get('value'), str):
            _bad(where, '"value" must be text')
        try:
            # /proc/sys separates the fields of a vector value with tabs
            _formats.text(rec['value'].replace('\t', ' '), 'value')
        except _formats.FormatError as e:
            _bad(where, str(e))
    for owner, bucket in data.get('extra', {}).items():
        if owner not in ALLOWED or not isinstance(bucket, dict):
            _bad('extra[%r]' % (owner,), 'unknown owner, or not an object')
        check = _RECORD_CHECKS.get(owner)
        for key, rec in bucket.items() if check else ():
            problem = check(key, rec)
            if problem:
                _bad('extra[%r][%r]' % (owner, key), problem)
    for owner, bucket in data.get('requests', {}).items():
        if owner not in ALLOWED or not isinstance(bucket, dict):
            _bad('requests[%r]' % (owner,), 'unknown owner, or not an object')
        for instance, request in bucket.items():
            if not isinstance(request, dict):
                _bad('requests[%r][%r]' % (owner, instance), 'must be a JSON object')
    for d in data.get('dirs', []):
        if not any(may_create_dir(owner, d) for owner in ALLOWED):
            _bad('dirs', '%r is not a directory this collection creates' % (d,))


class Ledger(object):

    def __init__(self, module, readonly=False):
        self.module = module
        self.dirty = False
        self.readonly = readonly    # read only (the audit): never tightened, never saved
        try:
            data = self._load()
        except LedgerError as e:
            module.fail_json(msg=str(e))
        self.files = data.get('files', {})
        self.runtime = data.get('runtime', {})
        self.extra = data.get('extra', {})
        self.requests = data.get('requests', {})
        # Directories our writes created, of all records: removed once empty, whichever file goes last.
        self.dirs = data.get('dirs', [])

    _loose = False

    def _load(self):
        state_dir = _host.host_path(_host.STATE_DIR)
        full = _host.host_path(LEDGER_PATH)
        loose = False
        if os.path.lexists(state_dir):
            loose = _check_trusted(state_dir, 'directory', 0o700)
        if not os.path.lexists(full):
            self._loose = loose
            return {}
        loose = _check_trusted(full, 'file', 0o600) or loose
        self._loose = loose
        try:
            raw = _host.read_text_file(LEDGER_PATH)
        except _host.FileError as e:
            raise LedgerError('The restore ledger cannot be read: %s' % e)
        if not (raw or '').strip():
            return {}
        try:
            data = json.loads(raw)
        except ValueError as e:
            raise LedgerError('The restore ledger %s is not valid JSON (%s). It records what to restore; '
                              'repair it from a backup or move it aside before running again.' % (LEDGER_PATH, e))
        validate(data)
        if loose and not getattr(self.module, 'check_mode', False) and not self.readonly:
            self.tighten()
        return data

    @staticmethod
    def tighten():
        """Make the state directory 0700 and the ledger 0600 (an older run may have left them readable)."""
        for path, mode in ((_host.STATE_DIR, 0o700), (LEDGER_PATH, 0o600)):
            full = _host.host_path(path)
            if os.path.lexists(full) and not os.path.islink(full):
                os.chmod(full, mode)

    # -- recording -----------------------------------------------------------
    def check_owner_path(self, owner, path):
        if not may_write(owner, path):
            self.module.fail_json(msg='Nothing was changed: %s' % location_error(owner, path, 'path'))

    def remember_file(self, path, owner):
        """Record the file's current state unless it is already recorded.

        A symbolic link is recorded as a link (restored as one); a directory or other
        non-file where a file belongs raises ``_host.FileError``.
        """
        if path in self.files:
            return False
        self.check_owner_path(owner, path)
        full = _host.host_path(path)
        rec = {'owner': owner, 'recorded': _now()}
        if os.path.islink(full):
            rec.update(existed=True, link=os.readlink(full))
        elif os.path.lexists(full):
            st = os.stat(full)
            if not stat.S_ISREG(st.st_mode):
                raise _host.FileError(path, 'is not a regular file (a directory?) where a file is expected; '
                                            'move it aside')
            data = _host.read_bytes(path, b'')
            if self._ours_unrecorded(path, owner, data):
                rec['existed'] = False
            else:
                rec.update(existed=True, content=to_text(base64.b64encode(data)),
                           mode=st.st_mode & 0o7777, uid=st.st_uid, gid=st.st_gid)
        else:
            rec['existed'] = False
            # Directories the write will create, so that a restore leaves no empty trace behind.
            created = []
            parent = os.path.dirname(path)
            while parent not in ('/', '') and not os.path.isdir(_host.host_path(parent)):
                created.append(parent)
                parent = os.path.dirname(parent)
            if created:
                rec['created_dirs'] = created
                self.dirs.extend(d for d in created if d not in self.dirs)
        self.files[path] = rec
        self.dirty = True
        return True

    def _ours_unrecorded(self, path, owner, data):
        """True when the file ``owner`` is about to record carries ``owner``'s own header: this collection wrote
        it and the ledger lost its record (removed, or the state directory wiped). Its original is then "no
        file": a restore removes it rather than putting back our own older output. Its bytes are kept beside the
        ledger, with a warning, in case they held edits."""
        try:
            text = data.decode('utf-8')
        except UnicodeDecodeError:
            return False
        if not _files.is_ours(text, owner):
            return False
        kept = self._keep_copy(path, data)
        self.module.warn('%s carries the header of inference.host_tuning.%s but the ledger has no record of it (was '
                         'the state directory removed?): it is taken as ours, so state=absent and revert remove '
                         'it; its bytes are kept as %s' % (path, owner, kept))
        return True

    def remember_runtime(self, path, value, owner):
        """Record the value a runtime pseudo-file held before the first change."""
        if path in self.runtime or value is None:
            return False
        if not _under(path, RUNTIME_ALLOWED):
            self.module.fail_json(msg='Nothing was changed: %s is not a runtime value under /proc/sys or /sys' % path)
        self.runtime[path] = {'value': value, 'owner': owner, 'recorded': _now()}
        self.dirty = True
        return True

    def set_extra(self, owner, key, value, overwrite=False):
        bucket = self.extra.setdefault(owner, {})
        if key in bucket and not overwrite:
            return False
        bucket[key] = value
        self.dirty = True
        return True

    def get_extra(self, owner, key, default=None):
        return self.extra.get(owner, {}).get(key, default)

    # -- querying ------------------------------------------------------------
    def files_of(self, owner=None):
        return sorted(p for p, r in self.files.items() if owner is None or r.get('owner') == owner)

    def runtime_of(self, owner=None):
        return sorted(p for p, r in self.runtime.items() if owner is None or r.get('owner') == owner)

    def original_content(self, path):
        """The recorded original text of a file, or ``None`` when it did not exist (or was a link)."""
        rec = self.files.get(path)
        if rec is None or not rec.get('existed') or 'link' in rec:
            return None
        return to_text(base64.b64decode(rec['content']), errors='surrogate_or_strict')

    def original_value(self, path):
        rec = self.runtime.get(path)
        return None if rec is None else rec['value']

    # -- restoring -----------------------------------------------------------
    def restore_target(self, path):
        """(bytes a restore writes, merged?) for a recorded file that existed: the original byte for byte, or -
        for a file shared with others (not one of ours: no header of ours in what we wrote) that was changed by
        something else since our write - the current content with only our change taken back (_merge), when
        that can be done without touching what the others changed."""
        rec = self.files[path]
        original = base64.b64decode(rec['content'])
        if 'written' not in rec or os.path.islink(_host.host_path(path)):
            return original, False
        written = base64.b64decode(rec['written'])
        current = _host.read_bytes(path)
        if current is None or current == written or written.startswith(_OUR_HEADER):
            return original, False
        try:
            texts = [b.decode('utf-8') for b in (original, written, current)]
        except UnicodeDecodeError:
            return original, False
        undo = _merge.undo_json if path.endswith('.json') else _merge.undo_lines
        merged = undo(*texts)
        if merged is None:
            return original, False
        return to_bytes(merged), True

    def restore_text(self, path):
        """The text a restore_file(path) leaves (None: no file, or a link); what a module's state=absent diffs
        against, so that its check mode shows the merge restore_file makes for a shared file."""
        rec = self.files.get(path)
        if rec is None or not rec.get('existed') or 'link' in rec:
            return None
        return to_text(self.restore_target(path)[0], errors='surrogate_or_strict')

    def plan_file_restore(self, path):
        """(current text, text after the restore) of a recorded file for a diff; None means absent."""
        rec = self.files.get(path) or {}
        original = self.original_content(path)
        if 'link' in rec:
            original = 'symbolic link to %s\n' % rec['link']
        elif original is not None:
            original = to_text(self.restore_target(path)[0], errors='surrogate_or_strict')
        return _host.read_for_diff(path), original

    # -- hand edits ----------------------------------------------------------
    def note_written(self, path, content):
        """Remember what we last wrote to a recorded file, to tell a hand edit from our own content."""
        rec = self.files.get(path)
        if rec is None:
            return
        if content is None:
            rec.pop('written', None)
        else:
            rec['written'] = to_text(base64.b64encode(to_bytes(content)))
        self.dirty = True

    def check_hand_edits(self, path):
        """When a file we wrote was edited since, warn naming the lines and keep the edited copy beside the
        ledger (it is the operator's data) before it is replaced or restored; returns the copy's path."""
        rec = self.files.get(path) or {}
        current = _host.read_bytes(path) if not os.path.islink(_host.host_path(path)) else None
        if 'written' not in rec or current is None:
            return None
        written = base64.b64decode(rec['written'])
        if current == written:
            return None
        ours = set(written.decode('utf-8', 'replace').splitlines())
        theirs = current.decode('utf-8', 'replace').splitlines()
        added = [line for line in theirs if line not in ours]
        removed = [line for line in written.decode('utf-8', 'replace').splitlines() if line not in set(theirs)]
        kept = self._keep_copy(path, current)
        what = []
        if added:
            what.append('lines added: %s' % '; '.join(repr(line) for line in added[:10]))
        if removed:
            what.append('lines removed: %s' % '; '.join(repr(line) for line in removed[:10]))
        self.module.warn('%s was edited by hand since inference.host_tuning wrote it (%s); those edits are replaced '
                         'now, and the edited file is kept as %s' % (path, ', '.join(what) or 'bytes changed', kept))
        return kept

    def _keep_copy(self, path, data):
        name = '%s.%s' % (path.strip('/').replace('/', '_'), time.strftime('%Y%m%dT%H%M%SZ', time.gmtime()))
        if not _host.isdir(_host.STATE_DIR):
            _files.make_dirs(_host.STATE_DIR, 0o700)
        if not _host.isdir(EDITED_DIR):
            _files.make_dirs(EDITED_DIR, 0o700)
        kept = '%s/%s' % (EDITED_DIR, name)
        _files.atomic_write(self.module, kept, data, 0o600)
        return kept

    def file_action(self, path):
        """What restore_file(path) would do now: (action, content differs), action one of
        V(restored) (content, link, mode or owner put back), V(removed) or V(unchanged)."""
        rec = self.files[path]
        full = _host.host_path(path)
        exists = os.path.lexists(full)
        if not rec.get('existed'):
            return ('removed', True) if exists else ('unchanged', False)
        if 'link' in rec:
            same = os.path.islink(full) and os.readlink(full) == rec['link']
            return ('unchanged', False) if same else ('restored', True)
        differs = os.path.islink(full) or _host.read_bytes(path) != self.restore_target(path)[0]
        meta = True
        if exists and not differs:
            st = os.stat(full)
            meta = (st.st_mode & 0o7777 != rec.get('mode', st.st_mode & 0o7777) or
                    (st.st_uid, st.st_gid) != (rec.get('uid', st.st_uid), rec.get('gid', st.st_gid)))
        return ('restored' if differs or meta else 'unchanged'), differs

    def restore_file(self, path):
        """Put a recorded file back byte for byte (or remove it, or make the link again) and forget it."""
        rec = self.files.get(path)
        if rec is None:
            return False
        if not may_write(rec.get('owner'), path):
            self.module.fail_json(msg='The restore ledger names %s for %s, which may not write there; nothing of it '
                                      'was restored' % (path, rec.get('owner')))
        full = _host.host_path(path)
        if os.path.isdir(full) and not os.path.islink(full):
            raise _host.FileError(path, 'is a directory now; it is not replaced by the recorded file')
        _files.check_no_linked_parent(path)
        target, merged = self.restore_target(path) if rec.get('existed') and 'link' not in rec else (None, False)
        if merged:
            self.module.warn('%s was changed by something else since inference.host_tuning edited it; only the '
                             "collection's own change is taken back, the other changes are kept" % path)
        else:
            self.check_hand_edits(path)
        changed = False
        if rec.get('existed') and 'link' in rec:
            if not (os.path.islink(full) and os.readlink(full) == rec['link']):
                _files.remove(path)
                _files.make_dirs(os.path.dirname(path))
                os.symlink(rec['link'], full)
                changed = True
        elif rec.get('existed'):
            if os.path.islink(full) or _host.read_bytes(path) != target:
                _files.atomic_write(self.module, path, target, rec.get('mode', 0o644))
                changed = True
            st = os.stat(full)
            if st.st_mode & 0o7777 != rec.get('mode', st.st_mode & 0o7777):
                os.chmod(full, rec['mode'])
                changed = True
            if (st.st_uid, st.st_gid) != (rec.get('uid', st.st_uid), rec.get('gid', st.st_gid)):
                os.chown(full, rec['uid'], rec['gid'])
                changed = True
        else:
            changed = _files.remove(path)
            changed = self.prune_dirs(rec.get('created_dirs', [])) or changed
        self.forget_file(path)
        return changed

    def discard_file(self, path):
        """Take back a record whose write failed, with the directories that write created."""
        rec = self.files.get(path)
        if rec is None:
            return
        self.forget_file(path)
        self.prune_dirs(rec.get('created_dirs', []))

    def prune_dirs(self, extra=()):
        """Remove the directories our writes created once they are empty, deepest first."""
        removed = False
        candidates = set(self.dirs) | set(extra)
        for directory in sorted(candidates, key=lambda d: (-d.count('/'), d)):
            full_dir = _host.host_path(directory)
            if os.path.isdir(full_dir) and not os.listdir(full_dir):
                os.rmdir(full_dir)
                removed = True
            if not os.path.isdir(full_dir) and directory in self.dirs:
                self.dirs.remove(directory)
                self.dirty = True
        return removed

    def restore_runtime(self, path):
        """Write a recorded runtime value back and forget it; True when it differed.

        Raises ``_host.RuntimeWriteError`` when the value cannot be written (the
        record is kept, so a later run on a writable host can still restore it).
        """
        rec = self.runtime.get(path)
        if rec is None:
            return False
        changed = False
        if _host.exists(path):
            current = _host.read_selected(path)
            if current != rec['value']:
                _host.write_runtime(path, rec['value'])
                changed = True
        self.forget_runtime(path)
        return changed

    def forget_file(self, path):
        if self.files.pop(path, None) is not None:
            self.dirty = True

    def forget_runtime(self, path):
        if self.runtime.pop(path, None) is not None:
            self.dirty = True

    def forget_extra_key(self, owner, key):
        """Drop one record of an owner's bucket (and the bucket when it is left empty)."""
        bucket = self.extra.get(owner)
        if bucket is None or key not in bucket:
            return
        del bucket[key]
        self.dirty = True
        if not bucket:
            self.forget_extra(owner)

    def forget_extra(self, owner):
        if self.extra.pop(owner, None) is not None:
            self.dirty = True

    # -- requests: what each owner was last asked to apply (read by the audit) ------------------
    def record_request(self, owner, request, instance=''):
        """Keep ``request`` (plain JSON values) as what ``owner`` was last asked to apply."""
        if self.requests.get(owner, {}).get(instance) != request:
            self.requests.setdefault(owner, {})[instance] = request
            self.dirty = True

    def forget_request(self, owner, instance=None):
        """Drop what ``owner`` was asked to apply (one instance, or all of them)."""
        bucket = self.requests.get(owner)
        if bucket is None or (instance is not None and instance not in bucket):
            return
        if instance is None:
            bucket.clear()
        else:
            del bucket[instance]
        if not bucket:
            del self.requests[owner]
        self.dirty = True

    # -- persisting ----------------------------------------------------------
    def save(self):
        """Write the ledger if anything changed (never call this in check mode)."""
        if not self.dirty or self.readonly:
            return False
        if not (self.files or self.runtime or self.extra or self.requests):
            # Directories still holding someone else's files stay, and are no longer ours to track.
            self.prune_dirs()
            _files.remove(LEDGER_PATH)
            # The state directory is ours alone: gone with the last record.
            state_dir = _host.host_path(_host.STATE_DIR)
            if os.path.isdir(state_dir) and not os.listdir(state_dir):
                os.rmdir(state_dir)
        else:
            data = {'version': VERSION, 'files': self.files, 'runtime': self.runtime, 'extra': self.extra}
            if self.requests:
                data['requests'] = self.requests
            if self.dirs:
                data['dirs'] = sorted(self.dirs)
            if not _host.isdir(_host.STATE_DIR):
                _files.make_dirs(_host.STATE_DIR, 0o700)
            _files.atomic_write(self.module, LEDGER_PATH,
                                json.dumps(data, indent=2, sort_keys=True) + '\n', 0o600)
            if self._loose:
                self.tighten()
                self._loose = False
        self.dirty = False
        return True
