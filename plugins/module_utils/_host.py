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

#: The kernel's NUMA nodes (per-node CPUs, memory and huge page pools).
NODE_DIR = '/sys/devices/system/node'


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


class FileError(ValueError):
    """A file that is there but cannot be handled as the text file it should be (a directory where a
    file belongs, a dangling link, bytes that are not UTF-8). Never taken for an absent file."""

    def __init__(self, path, problem):
        self.path = path
        super(FileError, self).__init__('%s %s' % (path, problem))


def read_text_file(path):
    """Text of a configuration file, ``None`` only when nothing is at ``path``.

    Raises ``FileError`` when something is there that is not a readable UTF-8 regular file
    (or a link to one): a file that cannot be understood is never treated as absent.
    """
    full = host_path(path)
    if not os.path.lexists(full):
        return None
    if os.path.isdir(full):
        raise FileError(path, 'is a directory where a file is expected; move it aside')
    if not os.path.isfile(full):
        raise FileError(path, 'is not a regular file (a dangling link, a device or a socket); move it aside')
    try:
        with open(full, 'rb') as f:
            data = f.read()
    except (IOError, OSError) as e:
        raise FileError(path, 'cannot be read: %s' % (getattr(e, 'strerror', None) or e))
    try:
        return data.decode('utf-8')
    except UnicodeDecodeError as e:
        raise FileError(path, 'is not UTF-8 text (byte 0x%02x at offset %d), so it cannot be edited safely; '
                              'convert it to UTF-8 or restore it from a backup'
                        % (bytearray(data[e.start:e.start + 1])[0], e.start))


def read_lenient(path, default=None):
    """Text of a file someone else owns, for reading only: bytes that are not UTF-8 become U+FFFD
    rather than hiding the whole file (a Latin-1 comment must not hide a swap line or a sysctl key)."""
    data = read_bytes(path)
    if data is None:
        return default
    return data.decode('utf-8', 'replace')


def read_for_diff(path):
    """A file's text for a diff: None when absent, a placeholder when it is not UTF-8 text."""
    try:
        return read_text_file(path)
    except FileError:
        data = read_bytes(path)
        if data is None:
            return '(not a readable file)\n'
        return '(%d bytes that are not UTF-8 text)\n' % len(data)


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


#: Where systemd-tmpfiles reads its configuration, first directory first (a file name there shadows the others).
TMPFILES_DIRS = ('/etc/tmpfiles.d', '/run/tmpfiles.d', '/usr/local/lib/tmpfiles.d', '/usr/lib/tmpfiles.d')


#: A tmpfiles.d "w" line, with or without modifiers (+ append, ! boot only, - errors ignored, = ~ ^).
_TMPFILES_WRITE = re.compile(r'w[-+!=~^]*\Z')


def tmpfiles_value(target):
    """(value, file) that systemd-tmpfiles writes to ``target`` at boot: the first ``w`` line for it, the
    files taken in name order as systemd-tmpfiles applies the earliest; (None, None) when none does."""
    chosen = {}
    for d in TMPFILES_DIRS:
        for name in listdir(d):
            if name.endswith('.conf'):
                chosen.setdefault(name, '%s/%s' % (d, name))
    for name in sorted(chosen):
        path = chosen[name]
        if os.path.realpath(host_path(path)) == os.path.realpath(os.devnull):
            continue
        for line in (read_lenient(path, '') or '').splitlines():
            fields = line.split(None, 6)
            if len(fields) == 7 and _TMPFILES_WRITE.match(fields[0]) and fields[1] == target:
                return fields[6].strip(), path
    return None, None
