# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""sysctl surface: profiles, key/value validation, where a knob lives, boot precedence.

* ``PROFILES``: the built-in profiles, every value with the reason it is there.
* ``key_error()`` / ``parse_value()``: input validation (nothing is written before it).
* ``locate()``: where a sysctl lives on the running kernel.  Since Linux 5.13 the
  scheduler tunables moved from /proc/sys/kernel/sched_* to debugfs
  (/sys/kernel/debug/sched/*); since 6.6 (EEVDF) min_granularity_ns became
  base_slice_ns and wakeup_granularity_ns / latency_ns are gone.
* ``config_files()`` / ``precedence()``: the order in which systemd-sysctl and
  ``sysctl --system`` apply the sysctl.d files at boot, and which file wins a key.
* ``render_sysctl()`` / ``render_tmpfiles()``: our persisted files.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import re

from ansible_collections.inference.host_tuning.plugins.module_utils import _formats
from ansible_collections.inference.host_tuning.plugins.module_utils import _host
from ansible_collections.inference.host_tuning.plugins.module_utils import _swap

OWNER = 'sysctl_profile'
DEFAULT_PATH = '/etc/sysctl.d/90-inference-host-tuning.conf'
DEFAULT_TMPFILES_PATH = '/etc/tmpfiles.d/90-inference-host-tuning-sched.conf'

#: sysctl.d(5): same basename -> the first directory wins; files sorted by basename.
SYSCTL_DIRS = ('/etc/sysctl.d', '/run/sysctl.d', '/usr/local/lib/sysctl.d', '/usr/lib/sysctl.d', '/lib/sysctl.d')
#: Read last by ``sysctl --system`` (Debian also links it as /etc/sysctl.d/99-sysctl.conf).
SYSCTL_CONF = '/etc/sysctl.conf'

PROC_SYS = '/proc/sys'
DEBUG_SCHED = '/sys/kernel/debug/sched'
#: Linux 5.13 moved these scheduler knobs to debugfs.
SCHED_DEBUGFS_SINCE = (5, 13)
#: Linux 6.6 replaced CFS by EEVDF.
EEVDF_SINCE = (6, 6)
#: sysctl name -> (debugfs name 5.13..6.5, debugfs name 6.6+ or None when removed).
SCHED_DEBUGFS = {
    'kernel.sched_migration_cost_ns': ('migration_cost_ns', 'migration_cost_ns'),
    'kernel.sched_min_granularity_ns': ('min_granularity_ns', 'base_slice_ns'),
    'kernel.sched_wakeup_granularity_ns': ('wakeup_granularity_ns', None),
    'kernel.sched_latency_ns': ('latency_ns', None),
    'kernel.sched_nr_migrate': ('nr_migrate', 'nr_migrate'),
}

UNAVAILABLE = 'unavailable on this kernel'


def _s(value, why):
    return {'value': value, 'why': why}


# Settings both profiles share.  A value written '>N' is raise-only: a host that
# already has N or more keeps its value (see RAISE_ONLY_DOC).
_COMMON = {
    'vm.swappiness': _s(
        '1', 'keep model weights, pinned staging buffers and the KV-cache offload pool in RAM: '
             'a swapped-out page costs a major fault of milliseconds in the request path; '
             '1 rather than 0 leaves swap as a last resort before the OOM killer'),
    'vm.zone_reclaim_mode': _s(
        '0', 'never stall an allocation to reclaim page cache on the local NUMA node; the serving '
             'process is bound to its GPU-local node explicitly, a remote page is cheaper than a reclaim stall'),
    'kernel.numa_balancing': _s(
        '0', 'automatic NUMA balancing unmaps pages to sample access (NUMA hinting faults) and migrates '
             'them: latency jitter for processes already pinned next to their GPUs'),
    'kernel.sched_autogroup_enabled': _s(
        '0', 'autogroup shares CPU per session (a desktop feature); on a server it makes CPU shares depend '
             'on how a process was started; use cgroups (systemd slices) to share CPU'),
    'kernel.shmmax': _s(
        '>68719476736', 'raise-only 64 GiB: SysV shared memory segments large enough for a model shard; '
                        'the 64-bit kernel default (about 16 EiB) is kept'),
    'kernel.shmall': _s(
        '>16777216', 'raise-only 16777216 pages (64 GiB with 4 KiB pages), the total matching kernel.shmmax; '
                     'the 64-bit kernel default is kept'),
    'vm.max_map_count': _s(
        '>1048576', 'raise-only: mmap-ed safetensors shards, the CUDA host allocator, allocator arenas and '
                    'thousands of threads exceed the old default of 65530 mappings (mmap fails with ENOMEM); '
                    'distributions that already set 1048576 or more keep their value'),
    'fs.inotify.max_user_watches': _s(
        '>524288', 'raise-only: model caches with many files, log shippers and file-watching sidecars exhaust '
                   'the default ("No space left on device" from inotify_add_watch)'),
    'net.core.somaxconn': _s(
        '>65535', 'raise-only: the listen() backlog cap; bursts of client or load-balancer connections '
                  'to the API server overflow a small accept queue and are dropped or retried after 1 s'),
    'net.core.netdev_max_backlog': _s(
        '>16384', 'raise-only: per-CPU queue of received packets; bursts on 100/200/400 GbE front-end and '
                  'KV-transfer links drop at the default of 1000, and a drop costs a TCP retransmit'),
    'net.ipv4.tcp_max_syn_backlog': _s(
        '>8192', 'raise-only: half-open connections during connection bursts; an overflow falls back to '
                 'SYN cookies or drops SYNs (a client retries after 1 s)'),
    'net.core.rmem_max': _s(
        '>16777216', 'raise-only 16 MiB: the cap for SO_RCVBUF that gRPC, NCCL/Gloo socket transports and '
                     'KV-cache transfer request on high bandwidth-delay links'),
    'net.core.wmem_max': _s(
        '>16777216', 'raise-only 16 MiB: the cap for SO_SNDBUF, as net.core.rmem_max for sending'),
}

_LATENCY = {
    'vm.dirty_ratio': _s(
        '10', 'cap dirty page cache at 10% of RAM so a writer (logs, a model download) is throttled early '
              'instead of the whole host stalling in a long writeback storm'),
    'vm.dirty_background_ratio': _s(
        '3', 'start background writeback early (3% of RAM) so dirty pages never pile up to the throttling limit'),
    'vm.min_free_kbytes': _s(
        '>1048576', 'raise-only 1 GiB reserve: kswapd starts reclaiming earlier, so allocations in the request '
                    'path (pinned buffers, network receive) rarely fall into direct reclaim or fail atomically'),
    'kernel.sched_migration_cost_ns': _s(
        '5000000', '5 ms: a thread that ran within 5 ms counts as cache-hot and is not migrated by the load '
                   'balancer, and a CPU about to idle skips costly newidle balancing; the few latency-critical '
                   'threads (engine loop, GPU workers, HTTP front end) keep their warm CPU and caches'),
}

_THROUGHPUT = {
    'vm.dirty_ratio': _s(
        '40', 'let large sequential writes (model downloads, checkpoint shards, spill files) collect in page '
              'cache and go out in big I/Os; the serving path itself hardly writes'),
    'vm.dirty_background_ratio': _s(
        '10', 'background writeback at 10% of RAM: large enough to batch, early enough to stay below vm.dirty_ratio'),
    'vm.min_free_kbytes': _s(
        '>524288', 'raise-only 512 MiB reserve: fewer direct-reclaim stalls and failed atomic allocations '
                   'under memory pressure, at a smaller cost in usable RAM than the latency profile'),
    'kernel.sched_migration_cost_ns': _s(
        '50000', '50 us: tasks are treated as cache-cold almost at once, so the load balancer spreads '
                 'CPU-bound workers (tokenizers, detokenizers, pre-processing, many worker processes) onto idle '
                 'CPUs quickly: more aggregate throughput for some cache locality'),
    'kernel.sched_min_granularity_ns': _s(
        '10000000', '10 ms minimum slice: fewer preemptions and context switches for CPU-bound batch work '
                    '(debugfs min_granularity_ns; base_slice_ns on EEVDF kernels 6.6+)'),
}


def _merge(*tables):
    out = {}
    for t in tables:
        out.update(t)
    return out


#: Built-in profiles: name -> {'description', 'settings': {key: {'value', 'why'}}}.
PROFILES = {
    'inference_latency': {
        'description': 'interactive serving: lowest and steadiest time to first token and inter-token latency',
        'settings': _merge(_COMMON, _LATENCY),
    },
    'inference_throughput': {
        'description': 'batch and offline serving: most tokens per second per host',
        'settings': _merge(_COMMON, _THROUGHPUT),
    },
}

SETTINGS_WHY = 'set by the settings option'

# -- validation ------------------------------------------------------------------

_SEGMENT = r'[A-Za-z0-9_-]+'
_KEY_RE = re.compile(r'^%s(\.%s)*\Z' % (_SEGMENT, _SEGMENT))
_CONTROL_RE = re.compile(r'[\x00-\x1f\x7f]')
_RAISE_RE = re.compile(r'^>\s*([0-9]+)\Z')
_INT_RE = re.compile(r'^-?[0-9]+\Z')

KEY_RULE = ('use dot-separated segments of letters, digits, "_" and "-" (for example vm.swappiness); '
            '"/", "..", empty segments, a leading "-", white space and other characters are not allowed')


def is_int(text):
    return text is not None and _INT_RE.match(text) is not None


def key_error(key):
    """A message for an invalid sysctl name, or None when it is valid."""
    if not isinstance(key, str) or not _KEY_RE.match(key) or key.startswith('-'):
        return 'settings key %r is not a valid sysctl name: %s' % (key, KEY_RULE)
    return None


def normalize(value):
    """A value as the kernel compares it: white space runs collapsed to one space."""
    if value is None:
        return None
    return ' '.join(('%s' % (value,)).split())


class Request(object):
    """One requested setting: ``value`` as given, ``floor`` set for raise-only ``>N``."""

    def __init__(self, key, value, why, source):
        self.key = key
        self.value = value
        self.why = why
        self.source = source
        m = _RAISE_RE.match(value)
        self.floor = int(m.group(1)) if m else None

    @property
    def raise_only(self):
        return self.floor is not None

    def target(self, current):
        """The value to hold: for raise-only max(current, floor), else the value normalised."""
        if not self.raise_only:
            return normalize(self.value)
        if is_int(current) and int(current) > self.floor:
            return current
        return '%d' % self.floor


def parse_value(key, value):
    """(text, error): the value as text, or a message naming the key and what is allowed."""
    allowed = 'values must be integers or strings on one line (raise-only: ">" and an integer, e.g. ">1048576")'
    if isinstance(value, bool):
        return None, 'settings.%s: %r is a boolean; write 0 or 1 instead (%s)' % (key, value, allowed)
    if isinstance(value, int):
        return '%d' % value, None
    if not isinstance(value, str):
        return None, 'settings.%s: %r is a %s; %s' % (key, value, type(value).__name__, allowed)
    if _CONTROL_RE.search(value):
        return None, ('settings.%s: the value %r contains a newline or another control character; '
                      'write it on one line, fields separated by spaces' % (key, value))
    text = value.strip()
    if not text:
        return None, 'settings.%s: the value is empty; %s' % (key, allowed)
    if text.startswith('>') and not _RAISE_RE.match(text):
        return None, ('settings.%s: raise-only value %r must be ">" followed by a non-negative integer, '
                      'for example ">1048576"' % (key, value))
    return text, None


# A profile's vm.min_free_kbytes reserve is at most this share of RAM. The kernel keeps that much free
# for atomic allocations and reclaims before dipping into it: 1 GiB reserved on a 1 GiB guest leaves
# nothing to run on (the VM scenario's guest panicked at boot, out of memory, before this cap).
MIN_FREE_SHARE = 32


def profile_requests(name):
    """Requests of a built-in profile (KeyError for an unknown name), sized to this host where needed."""
    table = PROFILES[name]['settings']
    requests = dict((k, Request(k, v['value'], v['why'], 'profile')) for k, v in table.items())
    reserve = requests.get('vm.min_free_kbytes')
    mem_kib = _swap.mem_total_kib()
    if reserve is not None and reserve.floor is not None and mem_kib and reserve.floor > mem_kib // MIN_FREE_SHARE:
        reserve.floor = mem_kib // MIN_FREE_SHARE
        reserve.value = '>%d' % reserve.floor
        reserve.why += ('; capped on this host to 1/%d of its %d MiB of RAM (%d kB) so the reserve cannot '
                        'starve it' % (MIN_FREE_SHARE, mem_kib // 1024, reserve.floor))
    return requests


# -- where a knob lives ------------------------------------------------------------

class Location(object):
    """Where a sysctl lives now: kind 'procfs', 'debugfs' or 'unavailable'."""

    def __init__(self, kind, path, reason=None):
        self.kind = kind
        self.path = path
        self.reason = reason

    @property
    def available(self):
        return self.kind != 'unavailable'


def proc_path(key):
    return '%s/%s' % (PROC_SYS, key.replace('.', '/'))


def key_for_path(path):
    """The sysctl name for a runtime path we may have written (reverse of locate())."""
    if path.startswith(PROC_SYS + '/'):
        return path[len(PROC_SYS) + 1:].replace('/', '.')
    if path.startswith(DEBUG_SCHED + '/'):
        name = path[len(DEBUG_SCHED) + 1:]
        for key, names in sorted(SCHED_DEBUGFS.items()):
            if name in names:
                return key
    return path


def _file_location(key, path):
    if _host.isdir(path):
        return Location('unavailable', path, '%s: %s names a group of settings, not a setting' % (UNAVAILABLE, path))
    if _host.exists(path):
        return Location('procfs' if path.startswith(PROC_SYS) else 'debugfs', path)
    return None


def locate(key, version):
    """Location of ``key`` on a kernel of ``version`` ((major, minor); (0, 0) = unknown)."""
    proc = proc_path(key)
    if key not in SCHED_DEBUGFS or (version != (0, 0) and version < SCHED_DEBUGFS_SINCE):
        found = _file_location(key, proc)
        if found:
            return found
        return Location('unavailable', proc, '%s: %s does not exist' % (UNAVAILABLE, proc))
    old, new = SCHED_DEBUGFS[key]
    if version == (0, 0):
        # Unknown release: probe every place the knob has lived.
        for path in (proc,) + tuple('%s/%s' % (DEBUG_SCHED, n) for n in (new, old) if n):
            found = _file_location(key, path)
            if found:
                return found
        return Location('unavailable', None, '%s: neither %s nor debugfs has %s' % (UNAVAILABLE, proc, key))
    name = new if version >= EEVDF_SINCE else old
    if name is None:
        return Location('unavailable', None, '%s: %s was removed by the EEVDF scheduler (Linux 6.6)' % (UNAVAILABLE, key))
    path = '%s/%s' % (DEBUG_SCHED, name)
    found = _file_location(key, path)
    if found:
        return found
    return Location('unavailable', path, (
        '%s: %s lives in debugfs since Linux 5.13 and %s does not exist (debugfs not mounted on '
        '/sys/kernel/debug, not readable, or a kernel without CONFIG_SCHED_DEBUG)' % (UNAVAILABLE, key, path)))


# -- boot precedence ---------------------------------------------------------------

def parse_conf(text):
    """[(key, value)] assignments of a sysctl.d file, in order (globs are skipped)."""
    out = []
    for raw in (text or '').splitlines():
        line = raw.strip()
        if not line or line[0] in '#;':
            continue
        key, sep, value = line.partition('=')
        if not sep:
            continue
        key = key.strip().lstrip('-').strip()
        # sysctl.d(5): when the first separator is "/", "/" and "." swap roles.
        m = re.search(r'[./]', key)
        if m and m.group(0) == '/':
            key = key.replace('.', '\0').replace('/', '.').replace('\0', '/')
        if not key or '*' in key or '?' in key:
            continue
        out.append((key, normalize(value)))
    return out


def _real(path):
    return os.path.realpath(_host.host_path(path))


def config_files(own_path=None):
    """The files ``sysctl --system`` applies, in order, as dicts {path, aliases, own}.

    ``own_path`` is placed where it will be at boot even when it does not exist yet;
    same-basename files it shadows (or that shadow it) are resolved the way
    systemd-sysctl does.  A file masked by a link to /dev/null is left out, and a
    file reached twice (Debian's /etc/sysctl.d/99-sysctl.conf -> ../sysctl.conf)
    is listed once, at its last position, with the other name in ``aliases``.
    """
    chosen = {}
    for d in SYSCTL_DIRS:
        for name in _host.listdir(d):
            if name.endswith('.conf') and not _host.isdir('%s/%s' % (d, name)):
                chosen.setdefault(name, '%s/%s' % (d, name))
    own_dir, own_base = os.path.dirname(own_path or ''), os.path.basename(own_path or '')
    if own_dir in SYSCTL_DIRS:
        other = chosen.get(own_base)
        if other is None or SYSCTL_DIRS.index(own_dir) <= SYSCTL_DIRS.index(os.path.dirname(other)):
            chosen[own_base] = own_path
    ordered = [chosen[n] for n in sorted(chosen)]
    if _host.exists(SYSCTL_CONF) or own_path == SYSCTL_CONF:
        ordered.append(SYSCTL_CONF)
    devnull = os.path.realpath(os.devnull)
    entries = []
    for path in ordered:
        own = path == own_path
        real = _real(path)
        if not own and (real == devnull or real == _real('/dev/null')):
            continue
        entry = {'path': path, 'aliases': [], 'own': own, 'real': real}
        for prev in list(entries):
            if prev['real'] == real and not prev['own']:
                entries.remove(prev)
                entry['aliases'].extend([prev['path']] + prev['aliases'])
        entries.append(entry)
    return entries


def boot_values():
    """{key: (value, path)}: what systemd-sysctl applies at the next boot, the last file that sets a key winning."""
    out = {}
    for entry in config_files():
        for key, value in parse_conf(_host.read_lenient(entry['path'], '')):
            out[key] = (value, entry['path'])
    return out


def file_label(path, aliases=()):
    if aliases:
        return '%s (also read as %s)' % (path, ', '.join(aliases))
    return path


def precedence(own_path, persisted):
    """Which other files set our keys at boot.

    ``persisted``: {key: (value we persist, raise-only floor or None)}.
    Returns (conflicts, overridden, notes): a conflict is a file applied after ours
    whose value differs (for raise-only keys: is below our floor), the last such file
    being the one that wins; ``overridden`` lists files applied before ours (ours wins);
    ``notes`` are messages about our own file (not read at boot, shadowed).
    """
    notes = []
    entries = config_files(own_path)
    own_index = None
    for i, e in enumerate(entries):
        if e['own']:
            own_index = i
    if own_index is None:
        if os.path.dirname(own_path) in SYSCTL_DIRS:
            shadow = [e['path'] for e in entries if os.path.basename(e['path']) == os.path.basename(own_path)]
            notes.append('%s is shadowed by %s (same file name in a directory read first), so it is not '
                         'applied at boot' % (own_path, ', '.join(shadow)))
        else:
            notes.append('%s is not in a directory that systemd-sysctl reads (%s), so it is not applied at '
                         'boot' % (own_path, ', '.join(SYSCTL_DIRS)))
        return [], [], notes
    conflicts, overridden = [], []
    for i, entry in enumerate(entries):
        if entry['own']:
            continue
        values = dict(parse_conf(_host.read_lenient(entry['path'], '')))
        for key in sorted(persisted):
            if key not in values:
                continue
            ours, floor = persisted[key]
            theirs = values[key]
            rec = {'key': key, 'file': entry['path'], 'aliases': list(entry['aliases']),
                   'value': theirs, 'ours': ours}
            if i < own_index:
                overridden.append(rec)
                continue
            if floor is not None:
                same = is_int(theirs) and int(theirs) >= floor
            else:
                same = theirs == ours
            # the last file applied decides: it replaces what an earlier one said
            conflicts = [c for c in conflicts if c['key'] != key]
            if not same:
                conflicts.append(rec)
    return conflicts, overridden, notes


# -- rendering ---------------------------------------------------------------------

def _one_line(text):
    return ' '.join(('%s' % (text,)).split())


def render_sysctl(header, entries):
    """The sysctl.d file: header, then per key (sorted) a ``# why`` line and ``key = value``."""
    if not entries:
        return None
    lines = [header.rstrip('\n')]
    for key, value, why in sorted(entries):
        lines.append('')
        lines.extend(_formats.comment_lines(_one_line(why)))
        lines.append(_formats.sysctl_line(key, value, 'settings'))
    return '\n'.join(lines) + '\n'


_TMPFILES_NOTE = ('# Scheduler tunables in debugfs cannot be set through sysctl.d; systemd-tmpfiles writes them '
                  'at boot.\n')


def render_tmpfiles(header, entries):
    """The tmpfiles.d file writing debugfs knobs at boot: header, a note, then per (key, path, value, why)
    (sorted) a ``# key: why`` line and ``w PATH - - - - VALUE``; None (no file) when there is nothing."""
    return _formats.tmpfiles_writes(
        header.rstrip('\n') + '\n' + _TMPFILES_NOTE,
        [(path, value, '%s: %s' % (key, _one_line(why))) for key, path, value, why in sorted(entries)],
        'settings')
