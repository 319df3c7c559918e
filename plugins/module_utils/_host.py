# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Root-aware access to a host's filesystem surfaces (/proc, /sys, /etc, /var, /run).

Every path the collection reads or writes goes through ``host_path()``, so the
unit tests can point the whole collection at a temporary tree that looks like a
two-socket machine by setting ``INFERENCE_HOST_TUNING_ROOT``.  On a real host
the variable is unset and the root is ``/``.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno
import os
import re

ROOT_ENV = 'INFERENCE_HOST_TUNING_ROOT'

#: Where the collection keeps what it needs to restore a host exactly.
STATE_DIR = '/var/lib/inference_host_tuning'


def root():
    """The filesystem root the collection works under (``/`` on a real host)."""
    return os.environ.get(ROOT_ENV) or '/'


def host_path(path):
    """Map an absolute host path (``/proc/sys/vm/swappiness``) under the root."""
    if not path.startswith('/'):
        raise ValueError('host paths must be absolute: %r' % (path,))
    base = root()
    if base == '/':
        return path
    return os.path.join(base, path.lstrip('/'))


def exists(path):
    return os.path.exists(host_path(path))


def isdir(path):
    return os.path.isdir(host_path(path))


def listdir(path):
    """Sorted entries of a host directory; an empty list when it does not exist."""
    try:
        return sorted(os.listdir(host_path(path)))
    except OSError:
        return []


def read(path, default=None):
    """Text of a host file, or ``default`` when it cannot be read."""
    try:
        with open(host_path(path), 'r') as f:
            return f.read()
    except (IOError, OSError, UnicodeDecodeError):
        return default


def read_bytes(path, default=None):
    try:
        with open(host_path(path), 'rb') as f:
            return f.read()
    except (IOError, OSError):
        return default


def read_value(path, default=None):
    """A pseudo-file's value with surrounding white space removed."""
    text = read(path)
    if text is None:
        return default
    return text.strip()


_BRACKETED = re.compile(r'\[([^\]]+)\]')


def read_selected(path, default=None):
    """The selected word of a sysfs choice file such as ``always [madvise] never``."""
    text = read(path)
    if text is None:
        return default
    m = _BRACKETED.search(text)
    if m:
        return m.group(1)
    return text.strip() or default


def is_readonly(path):
    """True when the file (or the filesystem holding it) cannot be written.

    An unprivileged container mounts /proc/sys read-only: ``statvfs`` reports
    ``ST_RDONLY`` there, which lets check mode predict the outcome honestly.
    """
    full = host_path(path)
    probe = full if os.path.exists(full) else os.path.dirname(full)
    try:
        if os.statvfs(probe).f_flag & os.ST_RDONLY:
            return True
    except OSError:
        return True
    return not os.access(probe, os.W_OK)


class RuntimeWriteError(Exception):
    """A write to a /proc or /sys pseudo-file failed."""

    def __init__(self, path, err):
        self.path = path
        self.errno = getattr(err, 'errno', None)
        self.readonly = self.errno in (errno.EROFS, errno.EACCES, errno.EPERM)
        super(RuntimeWriteError, self).__init__(
            '%s: %s' % (path, getattr(err, 'strerror', None) or err))


def write_runtime(path, value):
    """Write one value to a /proc or /sys pseudo-file (these are not atomic-move targets)."""
    try:
        with open(host_path(path), 'w') as f:
            f.write('%s\n' % (value,))
    except (IOError, OSError) as e:
        raise RuntimeWriteError(path, e)


def kernel_release():
    """The running kernel's release string (``6.1.0-27-amd64``)."""
    return read_value('/proc/sys/kernel/osrelease') or os.uname()[2]


def kernel_version(release=None):
    """The running kernel's (major, minor) as integers; (0, 0) when unknown."""
    release = release or kernel_release()
    m = re.match(r'(\d+)\.(\d+)', release or '')
    if not m:
        return (0, 0)
    return (int(m.group(1)), int(m.group(2)))
