# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Memory allocators preloaded into a serving process: find, configure, verify.

* ``find_library()`` -- the allocator's shared library: the ldconfig cache first
  (``ldconfig -p``, entries of the host's architecture), then the distributions'
  library directories for x86_64 and aarch64 (Ascend hosts are aarch64).
  Existence is checked under ``_host.host_path()``; the path returned is the
  host's own path, the one that goes into ``LD_PRELOAD``.
* ``environment()`` -- ``LD_PRELOAD`` plus the allocator's tunables.
* ``verify()`` -- start a short process with that ``LD_PRELOAD`` and check that
  the library is really in its ``/proc/self/maps`` (the dynamic loader only
  prints a warning and goes on when a preload fails).
* ``env_file_content()`` / ``preload_file_content()`` -- edits of an environment
  file and of ``/etc/ld.so.preload`` that keep everything else in them.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import platform
import re
import sys

from ansible_collections.inference.host_tuning.plugins.module_utils import _files
from ansible_collections.inference.host_tuning.plugins.module_utils import _formats
from ansible_collections.inference.host_tuning.plugins.module_utils import _host

LIBRARIES = {
    'jemalloc': ['libjemalloc.so.2'],
    'tcmalloc': ['libtcmalloc_minimal.so.4', 'libtcmalloc.so.4'],
}

PACKAGES = {
    'jemalloc': 'Debian/Ubuntu: libjemalloc2; RHEL/Rocky/Alma: jemalloc (from EPEL)',
    'tcmalloc': ('Debian/Ubuntu: libtcmalloc-minimal4 (libtcmalloc-minimal4t64 on Debian 13 and Ubuntu 24.04); '
                 'RHEL/Rocky/Alma: gperftools-libs'),
}

MULTIARCH_DIRS = {
    'x86_64': '/usr/lib/x86_64-linux-gnu',
    'aarch64': '/usr/lib/aarch64-linux-gnu',
}
OTHER_DIRS = ['/usr/lib64', '/usr/lib']

# The architecture tag ldconfig -p prints in parentheses: "(libc6,x86-64)".
LDCONFIG_TAGS = {'x86_64': 'x86-64', 'aarch64': 'AArch64'}

#: jemalloc's MALLOC_CONF defaults: purge from background threads instead of the allocating
#: thread, allow THP for jemalloc's metadata, and keep freed pages 30 s (jemalloc's own
#: default is 10 s) so a serving process that frees and reallocates batch buffers does not
#: fault them in again and again.
JEMALLOC_DEFAULTS = [
    ('background_thread', 'true'),
    ('metadata_thp', 'auto'),
    ('dirty_decay_ms', '30000'),
    ('muzzy_decay_ms', '30000'),
]

#: gperftools tcmalloc defaults: a larger total thread cache for many-threaded servers
#: (default 32 MiB) and no "tcmalloc: large alloc" report on stderr for allocations under
#: 100 GiB (default 1 GiB; PyTorch makes such allocations routinely).  TCMALLOC_RELEASE_RATE
#: (default 1.0; 0 never returns memory to the kernel) is left at its default.
TCMALLOC_DEFAULTS = [
    ('TCMALLOC_MAX_TOTAL_THREAD_CACHE_BYTES', '268435456'),
    ('TCMALLOC_LARGE_ALLOC_REPORT_THRESHOLD', '107374182400'),
]

_LDCONFIG_LINE = re.compile(r'^\s*(\S+)\s+\(([^)]*)\)\s+=>\s+(/\S+)\s*\Z')
_ENV_NAME = re.compile(r'^[A-Za-z_][A-Za-z0-9_]*\Z')
_CONF_KEY = re.compile(r'^[A-Za-z_][A-Za-z0-9_.]*\Z')


class AllocatorError(Exception):
    pass


def machine():
    return platform.machine()


def search_dirs(arch=None):
    """Library directories in search order: the host's multiarch directory first."""
    arch = arch or machine()
    dirs = []
    if arch in MULTIARCH_DIRS:
        dirs.append(MULTIARCH_DIRS[arch])
    dirs.extend(d for a, d in sorted(MULTIARCH_DIRS.items()) if a != arch)
    dirs.extend(OTHER_DIRS)
    return dirs


def parse_ldconfig(text, names, arch=None):
    """Paths of ``names`` in ``ldconfig -p`` output, for this architecture, in ``names`` order."""
    arch = arch or machine()
    tag = LDCONFIG_TAGS.get(arch)
    found = {}
    for line in (text or '').splitlines():
        m = _LDCONFIG_LINE.match(line)
        if not m or m.group(1) not in names:
            continue
        flags = m.group(2).split(',')
        if tag is not None and tag not in flags:
            continue        # another ABI: i386 on x86_64, or a foreign architecture
        found.setdefault(m.group(1), m.group(3))
    return [found[n] for n in names if n in found]


def find_library(allocator, ldconfig_output=None, arch=None):
    """(path, searched) of the allocator's library; raises AllocatorError with what was searched."""
    names = LIBRARIES[allocator]
    searched = []
    if ldconfig_output is not None:
        searched.append('the ldconfig cache (ldconfig -p)')
        for path in parse_ldconfig(ldconfig_output, names, arch):
            if _host.exists(path):
                return path, searched
    for name in names:
        for directory in search_dirs(arch):
            path = '%s/%s' % (directory, name)
            searched.append(path)
            if _host.exists(path):
                return path, searched
    raise AllocatorError('%s was not found (searched %s). Install it: %s; or give its path in library.'
                         % (' or '.join(names), ', '.join(searched), PACKAGES[allocator]))


def _text(value):
    if isinstance(value, bool):
        return 'true' if value else 'false'
    return str(value)


def _merge(defaults, tunables):
    """Defaults in their order, overridden by tunables (None removes one), then new keys sorted."""
    names = dict(defaults)
    merged = []
    for key, value in defaults:
        if key not in tunables:
            merged.append((key, value))
        elif tunables[key] is not None:
            merged.append((key, _text(tunables[key])))
    merged.extend((k, _text(v)) for k, v in sorted(tunables.items()) if v is not None and k not in names)
    return merged


def environment(allocator, library, tunables=None):
    """``[(name, value), ...]``: LD_PRELOAD and the allocator's tunables (``None`` removes a default)."""
    tunables = tunables or {}
    env = [('LD_PRELOAD', library)]
    if allocator == 'jemalloc':
        conf = list(JEMALLOC_DEFAULTS)
        for key in sorted(tunables):
            if not _CONF_KEY.match(str(key)):
                raise AllocatorError('tunables: %r is not a jemalloc option name (MALLOC_CONF keys such as '
                                     'dirty_decay_ms)' % (key,))
            value = tunables[key]
            if value is not None and re.search(r'[,\s]', _text(value)):
                raise AllocatorError('tunables: the value of %s must not contain commas or white space' % (key,))
        merged = _merge(conf, tunables)
        if merged:
            env.append(('MALLOC_CONF', ','.join('%s:%s' % kv for kv in merged)))
        return env
    if allocator == 'tcmalloc':
        for key in sorted(tunables):
            if not (str(key).startswith('TCMALLOC_') and _ENV_NAME.match(str(key))):
                raise AllocatorError('tunables: %r is not a tcmalloc environment variable (TCMALLOC_...)' % (key,))
            if tunables[key] is not None and re.search(r'[\r\n]', _text(tunables[key])):
                raise AllocatorError('tunables: the value of %s must be one line' % (key,))
        env.extend(_merge(TCMALLOC_DEFAULTS, tunables))
        return env
    raise AllocatorError('unknown allocator %r' % (allocator,))


def owned_variable(name):
    """The variables this collection manages in an environment file."""
    return name in ('LD_PRELOAD', 'MALLOC_CONF') or name.startswith('TCMALLOC_')


# -- rendering -----------------------------------------------------------------
def env_file_content(current, env, owner):
    """An environment file with ``env`` set and everything else in it kept."""
    header = _files.header(owner).splitlines()
    kept = []
    for line in (current or '').splitlines():
        if line in header:
            continue
        name = line.split('=', 1)[0].strip()
        if name.startswith('export '):
            name = name[len('export '):].strip()
        if '=' in line and not line.lstrip().startswith('#') and owned_variable(name):
            continue
        kept.append(line)
    lines = kept + header + [_formats.env_file_line(k, v, 'tunables') for k, v in env]
    return '\n'.join(lines) + '\n'


def env_file_strip(current, owner):
    """The file without this collection's lines; None when nothing else is left."""
    header = _files.header(owner).splitlines()
    if current is None or header[0] not in current.splitlines():
        return current
    kept = [line for line in env_file_content(current, [], owner).splitlines() if line not in header]
    if not any(line.strip() for line in kept):
        return None
    return '\n'.join(kept) + '\n'


def preload_file_content(current, library):
    """/etc/ld.so.preload with ``library`` in it and no other allocator (it has no comments)."""
    others = set(n for names in LIBRARIES.values() for n in names)
    lines = []
    present = False
    for line in (current or '').splitlines():
        entries = line.split()
        if library in entries:
            present = True
            kept = [e for e in entries if e == library or os.path.basename(e) not in others]
            lines.append(line if kept == entries else ' '.join(kept))
            continue
        if any(os.path.basename(e) in others for e in entries):
            kept = [e for e in entries if os.path.basename(e) not in others]
            if kept:
                lines.append(' '.join(kept))
            continue
        lines.append(line)
    if not present:
        lines.append(library)
    return '\n'.join(lines) + '\n'


# -- verification --------------------------------------------------------------
def _host_realpath(path):
    """The real path of a host path, as the host sees it (without the test root)."""
    real = os.path.realpath(_host.host_path(path))
    base = os.path.realpath(_host.root())
    if base != '/' and real.startswith(base + '/'):
        real = real[len(base):]
    return real


def verify(module, library):
    """(mapped, detail): start ``cat /proc/self/maps`` with LD_PRELOAD=library and look for it.

    It only reads: the probe changes nothing, so check mode runs it too.
    """
    cat = module.get_bin_path('cat')
    argv = [cat, '/proc/self/maps'] if cat else [sys.executable, '-c', 'print(open("/proc/self/maps").read())']
    rc, out, err = module.run_command(argv, environ_update={'LD_PRELOAD': library})
    wanted = set([library, _host_realpath(library)])
    mapped = set()
    for line in (out or '').splitlines():
        fields = line.split(None, 5)
        if len(fields) == 6:
            mapped.add(fields[5].strip())
    if rc == 0 and wanted & mapped:
        return True, ''
    detail = (err or '').strip() or ('exit status %d' % rc if rc else 'the library is not in /proc/self/maps')
    return False, detail
