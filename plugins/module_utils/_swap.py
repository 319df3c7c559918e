# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Swap surface: /proc/swaps, MemTotal, swap lines in /etc/fstab, zram and zswap.

Swap lines in fstab are never deleted: they are commented out with a
recognisable prefix (``COMMENT_PREFIX``) so a reader sees what was there, and
so they can be put back even when the restore ledger has been lost.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

from ansible_collections.inference.host_tuning.plugins.module_utils import _host

SWAPS = '/proc/swaps'
MEMINFO = '/proc/meminfo'
FSTAB = '/etc/fstab'
ZSWAP_ENABLED = '/sys/module/zswap/parameters/enabled'
SELF_STATUS = '/proc/self/status'
COMMENT_PREFIX = '# inference.host_tuning: '

#: CAP_SYS_ADMIN (swapon(2)/swapoff(2) need it); bit 21 of CapEff.
CAP_SYS_ADMIN = 21

_OCTAL = re.compile(r'\\([0-7]{3})')


def _unescape(field):
    """/proc/swaps escapes white space in paths as octal (``\\040``)."""
    return _OCTAL.sub(lambda m: chr(int(m.group(1), 8)), field)


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def active_swaps():
    """Active swap areas from /proc/swaps, in kernel order.

    Each is ``{'name', 'type', 'size_kib', 'used_kib', 'priority'}``.
    """
    text = _host.read(SWAPS, '') or ''
    swaps = []
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 5:
            continue
        swaps.append({
            'name': _unescape(fields[0]),
            'type': fields[1],
            'size_kib': _int(fields[2]),
            'used_kib': _int(fields[3]),
            'priority': _int(fields[4]),
        })
    return swaps


def mem_total_kib():
    """MemTotal from /proc/meminfo in KiB; None when it cannot be read."""
    for line in (_host.read(MEMINFO, '') or '').splitlines():
        key, sep, rest = line.partition(':')
        if sep and key.strip() == 'MemTotal':
            return _int(rest.split()[0]) if rest.split() else None
    return None


def ram_gib():
    """MemTotal in GiB, rounded to 0.1 as the messages show it; None when it cannot be read.

    What O(min_ram_gib) of the swap module (and the audit of swap) compares with.
    """
    kib = mem_total_kib()
    return None if kib is None else round(float(kib) / (1024 * 1024), 1)


def fstab_swap_lines(text):
    """The active swap lines of an fstab text (what would turn swap on at boot)."""
    return [line.strip() for line in (text or '').splitlines() if is_swap_entry(line)]


def zram_devices():
    """Names of zram block devices (``zram0``...)."""
    return [name for name in _host.listdir('/sys/block') if re.match(r'^zram\d+\Z', name)]


def zswap_enabled():
    """True/False from the zswap module parameter; None when zswap is not built in."""
    value = _host.read_value(ZSWAP_ENABLED)
    if value is None:
        return None
    return value in ('Y', 'y', '1')


def can_swapoff():
    """Whether this process holds CAP_SYS_ADMIN; None when it cannot be told.

    A default (unprivileged) container lacks it, so swapoff fails with EPERM
    there: check mode uses this to predict that honestly.
    """
    for line in (_host.read(SELF_STATUS, '') or '').splitlines():
        if line.startswith('CapEff:'):
            try:
                return bool(int(line.split(':', 1)[1].strip(), 16) & (1 << CAP_SYS_ADMIN))
            except ValueError:
                return None
    return None


def is_permission_error(text):
    """True when a swapon/swapoff message says the kernel refused permission."""
    text = (text or '').lower()
    return 'not permitted' in text or 'permission denied' in text


def plan_swapon(module, records):
    """The recorded swap areas ([{'name', 'type', 'priority'}]) that are off now: (areas, swapon path, why not).

    ``why`` is set (and ``areas`` still listed) when they cannot be turned on here: no swapon, or no
    CAP_SYS_ADMIN (an unprivileged container)."""
    active = set(s['name'] for s in active_swaps())
    areas = [r for r in records or [] if r.get('name') not in active]
    if not areas:
        return [], None, None
    swapon = module.get_bin_path('swapon')
    if swapon is None:
        return areas, None, 'swapon was not found'
    if can_swapoff() is False:
        return areas, swapon, 'swapon is not permitted here (no CAP_SYS_ADMIN, as in an unprivileged container)'
    return areas, swapon, None


def swapon_argv(swapon, area):
    """swapon argv for a recorded area, with its priority when it had one."""
    argv = [swapon or 'swapon']
    if area.get('priority') is not None and area['priority'] >= 0:
        argv += ['-p', str(area['priority'])]
    return argv + [area['name']]


def swapon_areas(module, swapon, areas, warn):
    """Turn the areas on: (names turned on, [(area, message)] not permitted here). Another failure is warned
    about and the area is no longer tracked."""
    done, refused = [], []
    for area in areas:
        rc, out, err = module.run_command(swapon_argv(swapon, area))
        msg = (err or out or '').strip()
        if rc == 0:
            done.append(area['name'])
        elif is_permission_error(msg):
            refused.append((area, msg))
        else:
            warn('swapon %s failed (rc=%d): %s; it is no longer tracked.' % (area['name'], rc, msg))
    return done, refused


def is_swap_entry(line):
    """True for an active fstab line whose type (third field) is ``swap``."""
    stripped = line.strip()
    if not stripped or stripped.startswith('#'):
        return False
    fields = stripped.split()
    return len(fields) >= 3 and fields[2] == 'swap'


def comment_swap_lines(text):
    """(new text, [lines commented]) with every active swap line commented out."""
    out = []
    commented = []
    for line in (text or '').splitlines(True):
        if is_swap_entry(line):
            commented.append(line.rstrip('\r\n'))
            line = COMMENT_PREFIX + line
        out.append(line)
    return ''.join(out), commented


def uncomment_ours(text):
    """(new text, [lines restored]) with the lines this collection commented put back."""
    out = []
    restored = []
    for line in (text or '').splitlines(True):
        if line.startswith(COMMENT_PREFIX):
            line = line[len(COMMENT_PREFIX):]
            restored.append(line.rstrip('\r\n'))
        out.append(line)
    return ''.join(out), restored
