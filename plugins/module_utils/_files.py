# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Managed files: render, compare, diff and write atomically.

A ``ManagedFile`` is one file the collection owns or edits.  Modules compute
the desired content, ask ``plan()`` whether it changes anything (this is what
check mode reports), and only then call ``apply()``, which records the original
in the ledger first so ``state: absent`` and ``revert.yml`` can put it back.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import contextlib
import os
import tempfile

from ansible.module_utils.common.text.converters import to_bytes, to_native

from ansible_collections.inference.host_tuning.plugins.module_utils import _formats
from ansible_collections.inference.host_tuning.plugins.module_utils import _host

#: Host paths this process has written or removed, so an error can say what was already done.
WRITTEN = []

HEADER = (
    '# Managed by Ansible (inference.host_tuning.%s). Local edits are overwritten;\n'
    '# remove with state=absent or playbooks/revert.yml to restore what was here before.\n'
)


def header(owner):
    return HEADER % owner


def is_ours(content, owner):
    """True when a file's text starts with ``owner``'s header: the one test of "this collection wrote it",
    used where the ledger has no record of the file."""
    return content is not None and content.startswith(header(owner).split('\n', 1)[0] + '\n')


def make_dirs(path, mode=0o755):
    """Create the host directory ``path`` and its missing parents with exactly ``mode`` (umask ignored)."""
    full = _host.host_path(path)
    missing = []
    while not os.path.isdir(full):
        missing.append(full)
        parent = os.path.dirname(full)
        if parent == full:
            break
        full = parent
    for directory in reversed(missing):
        os.mkdir(directory, 0o700)
        os.chmod(directory, mode)


def atomic_write(module, path, content, mode=0o644):
    """Write ``content`` to the host path through a temp file in the same directory.

    The file is either the old one or the new one, never a half-written one.
    Ownership and mode of an existing file are kept; a new file gets exactly ``mode``
    (the temp file is created 0600 and keeps that until it is in place, whatever the umask).
    """
    full = _host.host_path(path)
    directory = os.path.dirname(full)
    if not os.path.isdir(directory):
        make_dirs(os.path.dirname(path))
    existed = os.path.exists(full)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix='.%s.' % os.path.basename(full))
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(to_bytes(content))
        if existed:
            st = os.stat(full)
            mode = st.st_mode & 0o7777
            try:
                os.chown(tmp, st.st_uid, st.st_gid)
            except OSError:
                pass
        os.chmod(tmp, mode & 0o600 if not existed else mode)
        # atomic_move gives a new file 0666 & ~umask: with umask 077 for the move it is never wider than
        # 0600 (or the mode asked for) at any moment; then it gets exactly the mode asked for.
        umask = os.umask(0o077 | (0o777 & ~mode))
        try:
            module.atomic_move(tmp, full, unsafe_writes=False)
        finally:
            os.umask(umask)
        WRITTEN.append(path)
        os.chmod(full, mode)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def remove(path):
    full = _host.host_path(path)
    if os.path.lexists(full):
        os.unlink(full)
        WRITTEN.append(path)
        return True
    return False


@contextlib.contextmanager
def refusals(module):
    """Turn a refused value (``_formats.FormatError``) or a file that cannot be handled
    (``_host.FileError``) into a clean failure that says whether anything was written before."""
    start = len(WRITTEN)
    try:
        yield
    except (_formats.FormatError, _host.FileError) as e:
        written = WRITTEN[start:]
        if written:
            module.fail_json(msg='Stopped: %s. Already written before this: %s' % (e, ', '.join(sorted(set(written)))))
        module.fail_json(msg='Nothing was changed: %s' % e)


def file_diff(path, before, after):
    """An Ansible diff dict for one file; ``None`` content means the file is absent."""
    return {
        'before_header': path if before is not None else '%s (absent)' % path,
        'after_header': path if after is not None else '%s (absent)' % path,
        'before': before if before is not None else '',
        'after': after if after is not None else '',
    }


def check_no_linked_parent(path):
    """Refuse a path whose existing parent directories go through a symbolic link: the write would land
    outside the location the path names (and the owner's allow-list), while the ledger records the path."""
    parent = os.path.dirname(path)
    while parent not in ('/', '') and not os.path.lexists(_host.host_path(parent)):
        parent = os.path.dirname(parent)
    if parent in ('/', ''):
        return
    real = os.path.realpath(_host.host_path(parent))
    root = os.path.realpath(_host.host_path('/'))
    expected = os.path.join(root, parent.lstrip('/'))
    if real != expected:
        inside = real == root or real.startswith(root.rstrip('/') + '/')
        shown = '/' + os.path.relpath(real, root).lstrip('.') if inside else real
        raise _host.FileError(path, 'is reached through a symbolic link (%s leads to %s); this collection writes '
                                    'only where the path says. Replace the link by the directory, or point the '
                                    'option at the real location' % (parent, shown.replace('//', '/')))


class ManagedFile(object):
    """One file on the host, compared against desired content (``None``: absent).

    Reading it raises ``_host.FileError`` when something is there that is not a UTF-8 regular
    file (it is never taken for absent), and a symbolic link is refused: replacing it would turn
    someone's link into a copy.
    """

    def __init__(self, path, desired, mode=0o644):
        self.path = path
        self.desired = desired
        self.mode = mode
        if os.path.islink(_host.host_path(path)) and desired is not None:
            raise _host.FileError(path, 'is a symbolic link (to %s); this collection does not replace links. Point '
                                        'the option at the file itself or replace the link by the file'
                                  % os.readlink(_host.host_path(path)))
        check_no_linked_parent(path)
        self.current = _host.read_text_file(path)

    @property
    def changed(self):
        return self.current != self.desired

    def diff(self):
        return file_diff(self.path, self.current, self.desired)

    def apply(self, module, ledger=None, owner=None):
        """Make the host file match; returns True when something was written.

        The original is recorded first; a write that fails takes its new record back, so the
        ledger never claims a change that did not happen.
        """
        if not self.changed:
            return False
        if ledger is not None and self.path in ledger.files:
            ledger.check_hand_edits(self.path)
        recorded = ledger is not None and ledger.remember_file(self.path, owner)
        try:
            if recorded:
                ledger.save()   # the original is on disk before the file changes: a crash loses nothing
            if self.desired is None:
                remove(self.path)
            else:
                atomic_write(module, self.path, self.desired, self.mode)
        except (IOError, OSError):
            if recorded:
                ledger.discard_file(self.path)
                try:
                    ledger.save()
                except (IOError, OSError):
                    pass        # the first error is the one to report
            raise
        if ledger is not None:
            ledger.note_written(self.path, self.desired)
        return True


def to_text_lines(content):
    return to_native(content or '').splitlines()
