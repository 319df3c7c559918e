# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Huge pages surface: transparent huge pages (THP) and static HugeTLB pools.

* THP: ``/sys/kernel/mm/transparent_hugepage/{enabled,defrag}`` are choice
  files (``always [madvise] never``); the kernel's offer is the list of words.
* Static pools: ``/sys/kernel/mm/hugepages/hugepages-<kB>kB/nr_hugepages`` for
  the total, ``/sys/devices/system/node/nodeN/hugepages/hugepages-<kB>kB/nr_hugepages``
  per NUMA node.  The kernel may allocate fewer pages than written, so callers
  read the value back.
* Persistence: one tmpfiles.d file of ``w PATH - - - - VALUE`` lines, applied
  by systemd-tmpfiles at boot.
* Boot-time pools: kernel command line parameters (``hugepagesz=1G hugepages=N``,
  per node ``hugepages=0:N,1:M`` since Linux 5.16).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

from ansible_collections.inference.host_tuning.plugins.module_utils import _files
from ansible_collections.inference.host_tuning.plugins.module_utils import _formats
from ansible_collections.inference.host_tuning.plugins.module_utils import _host
from ansible_collections.inference.host_tuning.plugins.module_utils import _topology

THP_DIR = '/sys/kernel/mm/transparent_hugepage'
THP_SETTINGS = ('enabled', 'defrag')
HUGEPAGES_DIR = '/sys/kernel/mm/hugepages'
NODE_DIR = _topology.NODE_DIR
TMPFILES_PATH = '/etc/tmpfiles.d/90-inference-host-tuning-hugepages.conf'

#: Page sizes this collection manages, as written on the kernel command line, in kB.
SIZES = {'2M': 2048, '1G': 1048576}
SIZE_ORDER = ('2M', '1G')

#: First kernel that accepts ``hugepages=NODE:COUNT,...`` on the command line
#: (commit b5389086ad7b, "hugetlbfs: extend the definition of hugepages
#: parameter to support node allocation", merged for 5.16).
NODE_BOOT_KERNEL = (5, 16)


#: The largest share of memory (of the host, or of a node for per-node pools) pools may take without force.
MAX_MEMORY_SHARE = 0.9


def mem_total_kib(node=None):
    """MemTotal in KiB of the host (node None) or of one NUMA node; None when it cannot be read."""
    if node is not None:
        return _topology.node_mem_total_kib(node)
    for line in (_host.read('/proc/meminfo') or '').splitlines():
        fields = line.replace(':', ' ').split()
        if fields[:1] == ['MemTotal'] and len(fields) > 1 and fields[1].isdigit():
            return int(fields[1])
    return None


def human_kib(kib):
    for unit, size in (('TiB', 1024 ** 3), ('GiB', 1024 ** 2), ('MiB', 1024)):
        if kib >= size:
            return '%.1f %s' % (float(kib) / size, unit)
    return '%d KiB' % kib


# -- THP ---------------------------------------------------------------------
def thp_path(name):
    return '%s/%s' % (THP_DIR, name)


def thp_offer(name):
    """The words the kernel offers in a THP choice file; [] when the file is missing."""
    text = _host.read(thp_path(name))
    if text is None:
        return []
    return [w.strip('[]') for w in text.split()]


def thp_current(name):
    return _host.read_selected(thp_path(name))


def thp_boot(name):
    """(value, source) a THP setting gets at the next boot: its tmpfiles.d ``w`` line, else
    ``transparent_hugepage=`` on the kernel command line (enabled only), else (None, None): the kernel's
    built-in default."""
    value, path = _host.tmpfiles_value(thp_path(name))
    if value is not None:
        return value, path
    if name == 'enabled':
        for token in (_host.read('/proc/cmdline') or '').split():
            if token.startswith('transparent_hugepage='):
                return token.split('=', 1)[1], '/proc/cmdline'
    return None, None


# -- static pools ------------------------------------------------------------
def size_dir(size):
    return 'hugepages-%dkB' % SIZES[size]


def pool_path(size, node=None):
    """nr_hugepages of a size, in total (node None) or on one NUMA node."""
    if node is None:
        return '%s/%s/nr_hugepages' % (HUGEPAGES_DIR, size_dir(size))
    return '%s/node%d/hugepages/%s/nr_hugepages' % (NODE_DIR, node, size_dir(size))


def nodes():
    """The NUMA node numbers present in sysfs (``[0]`` on a machine without NUMA sysfs)."""
    found = []
    for name in _host.listdir(NODE_DIR):
        m = re.match(r'^node(\d+)\Z', name)
        if m and _host.isdir('%s/%s' % (NODE_DIR, name)):
            found.append(int(m.group(1)))
    return sorted(found)


def read_count(path):
    """An nr_hugepages value as an int, or None when it cannot be read."""
    value = _host.read_value(path)
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def cpu_flags():
    """The x86 ``flags`` of the first CPU in /proc/cpuinfo; None where there is no such line."""
    for line in (_host.read('/proc/cpuinfo') or '').splitlines():
        key, sep, value = line.partition(':')
        if sep and key.strip() == 'flags':
            return value.split()
    return None


def gigantic_error():
    """Why 1G pages are not possible here, or None when they are.

    x86 needs the ``pdpe1gb`` CPU flag; other architectures (no ``flags`` line,
    arm64 for example) are judged by the kernel offering the hugepages-1048576kB pool.
    """
    flags = cpu_flags()
    if flags is not None and 'pdpe1gb' not in flags:
        return ('1G huge pages need a CPU with the pdpe1gb flag, and /proc/cpuinfo does not list it '
                '(a VM may need the host CPU model passed through); use size 2M instead')
    if not _host.isdir('%s/%s' % (HUGEPAGES_DIR, size_dir('1G'))):
        return ('this kernel offers no 1G huge pages (%s/%s is missing); use size 2M instead'
                % (HUGEPAGES_DIR, size_dir('1G')))
    return None


# -- persistence -------------------------------------------------------------
def render_tmpfiles(owner, entries):
    """tmpfiles.d content for [(path, value), ...]: our header, then one line each, in that order; None (no
    file) when there is nothing."""
    return _formats.tmpfiles_writes(_files.header(owner), [(p, '%s' % (v,), None) for p, v in entries], 'hugepages')


# -- kernel command line -----------------------------------------------------
def boot_groups(pools, default_size=None):
    """Kernel parameter groups for boot pools, each a tuple of tokens that go together.

    ``pools`` is a list of dicts with ``size``, ``count`` and ``node`` (None for
    a total).  Per size: ``('hugepagesz=1G', 'hugepages=4')`` or, per node,
    ``('hugepagesz=1G', 'hugepages=0:2,1:2')``.  ``default_hugepagesz`` comes
    last so that it never pairs with another size's ``hugepages=``.
    """
    groups = []
    for size in SIZE_ORDER:
        mine = [p for p in pools if p['size'] == size]
        if not mine:
            continue
        if any(p.get('node') is not None for p in mine):
            value = ','.join('%d:%d' % (p['node'], p['count'])
                             for p in sorted(mine, key=lambda p: p['node']))
        else:
            value = '%d' % mine[0]['count']
        groups.append(('hugepagesz=%s' % size, 'hugepages=%s' % value))
    if default_size:
        groups.append(('default_hugepagesz=%s' % default_size,))
    return groups
