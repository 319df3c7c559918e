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

import os
import tempfile

from ansible.module_utils.common.text.converters import to_bytes, to_native

from ansible_collections.inference.host_tuning.plugins.module_utils import _host

HEADER = (
    '# Managed by Ansible (inference.host_tuning.%s). Local edits are overwritten;\n'
    '# remove with state=absent or playbooks/revert.yml to restore what was here before.\n'
)


def header(owner):
    return HEADER % owner


def atomic_write(module, path, content, mode=0o644):
    """Write ``content`` to the host path through a temp file in the same directory.

    The file is either the old one or the new one, never a half-written one.
    Ownership and mode of an existing file are kept; new files get ``mode``.
    """
    full = _host.host_path(path)
    directory = os.path.dirname(full)
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o755)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix='.%s.' % os.path.basename(full))
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(to_bytes(content))
        if os.path.exists(full):
            st = os.stat(full)
            os.chmod(tmp, st.st_mode & 0o7777)
            try:
                os.chown(tmp, st.st_uid, st.st_gid)
            except OSError:
                pass
        else:
            os.chmod(tmp, mode)
        module.atomic_move(tmp, full, unsafe_writes=False)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def remove(path):
    full = _host.host_path(path)
    if os.path.lexists(full):
        os.unlink(full)
        return True
    return False


def file_diff(path, before, after):
    """An Ansible diff dict for one file; ``None`` content means the file is absent."""
    return {
        'before_header': path if before is not None else '%s (absent)' % path,
        'after_header': path if after is not None else '%s (absent)' % path,
        'before': before if before is not None else '',
        'after': after if after is not None else '',
    }


class ManagedFile(object):
    """One file on the host, compared against desired content (``None``: absent)."""

    def __init__(self, path, desired, mode=0o644):
        self.path = path
        self.desired = desired
        self.mode = mode
        self.current = _host.read(path)

    @property
    def changed(self):
        return self.current != self.desired

    def diff(self):
        return file_diff(self.path, self.current, self.desired)

    def apply(self, module, ledger=None, owner=None):
        """Make the host file match; returns True when something was written."""
        if not self.changed:
            return False
        if ledger is not None:
            ledger.remember_file(self.path, owner)
        if self.desired is None:
            remove(self.path)
        else:
            atomic_write(module, self.path, self.desired, self.mode)
        return True


def to_text_lines(content):
    return to_native(content or '').splitlines()
