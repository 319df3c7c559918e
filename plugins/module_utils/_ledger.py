# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The restore ledger: what a host looked like before this collection changed it.

Kept as JSON in ``/var/lib/inference_host_tuning/ledger.json``.  Before the
collection first writes a file or a runtime value it records the original here
(once: a later run never overwrites the first record), so that a module's
``state: absent`` or ``playbooks/revert.yml`` can restore the host exactly:

* ``files[path]``: ``existed`` and, if it did, its bytes (base64), mode, uid, gid;
* ``runtime[path]``: the value a /proc or /sys file held (written back as is);
* ``extra[owner]``: anything else an owner needs (for example active swaps).

Every record names its ``owner`` (the module or role that changed it), so one
owner's ``state: absent`` restores only what that owner changed.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import json
import os
import time

from ansible.module_utils.common.text.converters import to_text

from ansible_collections.inference.host_tuning.plugins.module_utils import _files
from ansible_collections.inference.host_tuning.plugins.module_utils import _host

LEDGER_PATH = _host.STATE_DIR + '/ledger.json'
VERSION = 1


def _now():
    return time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())


class Ledger(object):

    def __init__(self, module):
        self.module = module
        self.dirty = False
        raw = _host.read(LEDGER_PATH)
        data = {}
        if raw:
            try:
                data = json.loads(raw)
            except ValueError as e:
                module.fail_json(
                    msg='The restore ledger %s is not valid JSON (%s). It records what to restore; '
                        'repair it from a backup or move it aside before running again.' % (LEDGER_PATH, e))
        self.files = data.get('files', {})
        self.runtime = data.get('runtime', {})
        self.extra = data.get('extra', {})
        # Directories our writes created, of all records: removed once empty, whichever file goes last.
        self.dirs = data.get('dirs', [])

    # -- recording -----------------------------------------------------------
    def remember_file(self, path, owner, ours=False):
        """Record the file's current state unless it is already recorded.

        ``ours``: the file exists but an earlier release of this collection wrote it without a
        record; restoring then removes it, as if it had been absent.
        """
        if path in self.files:
            return False
        full = _host.host_path(path)
        rec = {'owner': owner, 'recorded': _now()}
        if os.path.lexists(full) and not ours:
            st = os.stat(full)
            rec.update(existed=True,
                       content=to_text(base64.b64encode(_host.read_bytes(path, b''))),
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

    def remember_runtime(self, path, value, owner):
        """Record the value a runtime pseudo-file held before the first change."""
        if path in self.runtime or value is None:
            return False
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
        """The recorded original text of a file, or ``None`` when it did not exist."""
        rec = self.files.get(path)
        if rec is None or not rec.get('existed'):
            return None
        return to_text(base64.b64decode(rec['content']), errors='surrogate_or_strict')

    def original_value(self, path):
        rec = self.runtime.get(path)
        return None if rec is None else rec['value']

    # -- restoring -----------------------------------------------------------
    def plan_file_restore(self, path):
        """(current text, original text) of a recorded file; None means absent."""
        return _host.read(path), self.original_content(path)

    def restore_file(self, path):
        """Put a recorded file back byte for byte (or remove it) and forget it."""
        rec = self.files.get(path)
        if rec is None:
            return False
        full = _host.host_path(path)
        changed = False
        if rec.get('existed'):
            original = base64.b64decode(rec['content'])
            if _host.read_bytes(path) != original:
                _files.atomic_write(self.module, path, original, rec.get('mode', 0o644))
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

    # -- persisting ----------------------------------------------------------
    def save(self):
        """Write the ledger if anything changed (never call this in check mode)."""
        if not self.dirty:
            return False
        if not (self.files or self.runtime or self.extra):
            # Directories still holding someone else's files stay, and are no longer ours to track.
            self.prune_dirs()
            _files.remove(LEDGER_PATH)
            # The state directory is ours alone: gone with the last record.
            state_dir = _host.host_path(_host.STATE_DIR)
            if os.path.isdir(state_dir) and not os.listdir(state_dir):
                os.rmdir(state_dir)
        else:
            data = {'version': VERSION, 'files': self.files, 'runtime': self.runtime, 'extra': self.extra}
            if self.dirs:
                data['dirs'] = sorted(self.dirs)
            _files.atomic_write(self.module, LEDGER_PATH,
                                json.dumps(data, indent=2, sort_keys=True) + '\n', 0o600)
        self.dirty = False
        return True
