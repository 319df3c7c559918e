# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""_swap: /proc/swaps, MemTotal, CapEff and zswap of the fake root, the fstab swap lines commented and put back, and
turning recorded swap areas on again (swapon never runs: ``Swapon`` answers per area)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.inference.host_tuning.plugins.module_utils import _swap
from ansible_collections.inference.host_tuning.tests.unit.fakehost import FakeModule

SWAPS_HEADER = 'Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n'
FSTAB_SWAP = 'UUID=5a5a-0001  none   swap  sw                 0  0'


class Swapon(FakeModule):
    """swapon answering (rc, out, err) per area name (the last argv word); (0, '', '') otherwise."""

    def __init__(self, answers=None, bins=('swapon',)):
        super(Swapon, self).__init__(bins=bins)
        self.answers = answers or {}

    def run_command(self, argv):
        self.calls.append(argv)
        return self.answers.get(argv[-1], (0, '', ''))


# -- reading the host ---------------------------------------------------------------------------------------------
def test_active_swaps_of_the_fake_host(fake_host):
    assert _swap.active_swaps() == [{'name': '/dev/nvme0n1p3', 'type': 'partition', 'size_kib': 8388604,
                                     'used_kib': 0, 'priority': -2}]


def test_active_swaps_unescapes_names_and_skips_what_is_not_a_row(fake_host):
    fake_host.write('/proc/swaps', SWAPS_HEADER +
                    '/swap\\040file\tfile\t1048572\t512\t10\n'
                    '/srv/a\\011b\\134c\tfile\t4\tx\t-3\n'
                    '/dev/zram0\tpartition\t100\n'
                    '\n')
    assert _swap.active_swaps() == [
        {'name': '/swap file', 'type': 'file', 'size_kib': 1048572, 'used_kib': 512, 'priority': 10},
        {'name': '/srv/a\tb\\c', 'type': 'file', 'size_kib': 4, 'used_kib': None, 'priority': -3}]
    fake_host.write('/proc/swaps', SWAPS_HEADER)
    assert _swap.active_swaps() == []
    fake_host.remove('/proc/swaps')
    assert _swap.active_swaps() == []


@pytest.mark.parametrize('meminfo, kib, gib', [
    (None, 1056000000, 1007.1),                        # the fake host's 1 TiB
    ('MemTotal:       16777216 kB\n', 16777216, 16.0),
    ('MemFree: 1 kB\nMemTotal: 1572864 kB\n', 1572864, 1.5),
    ('MemTotal:\n', None, None),
    ('MemTotal: lots kB\n', None, None),
    ('MemTotalish: 5 kB\n', None, None),
    ('', None, None),
])
def test_mem_total_and_ram_gib(fake_host, meminfo, kib, gib):
    if meminfo is not None:
        fake_host.write('/proc/meminfo', meminfo)
    assert _swap.mem_total_kib() == kib
    assert _swap.ram_gib() == gib


def test_mem_total_without_meminfo(fake_host):
    fake_host.remove('/proc/meminfo')
    assert _swap.mem_total_kib() is None and _swap.ram_gib() is None


def test_zram_devices(fake_host):
    assert _swap.zram_devices() == []
    for dev in ('zram1', 'zram0', 'zramx', 'zram0p1'):
        fake_host.write('/sys/block/%s/size' % dev, '0\n')
    assert _swap.zram_devices() == ['zram0', 'zram1']


@pytest.mark.parametrize('value, enabled', [
    (None, None), ('Y\n', True), ('y\n', True), ('1\n', True), ('N\n', False), ('0\n', False), ('\n', False),
])
def test_zswap_enabled(fake_host, value, enabled):
    if value is not None:
        fake_host.write(_swap.ZSWAP_ENABLED, value)
    assert _swap.zswap_enabled() is enabled


@pytest.mark.parametrize('status, can', [
    (None, None),                                                      # read under the fake root, never our own
    ('Name:\tansible\nCapEff:\t000001ffffffffff\n', True),
    ('CapEff:\t0000000000200000\n', True),                             # bit 21 alone
    ('CapEff:\t00000000a80425fb\n', False),                            # Docker's default set: no CAP_SYS_ADMIN
    ('CapEff:\t0000000000000000\n', False),
    ('CapEff:\tzz\n', None),
    ('CapPrm:\t000001ffffffffff\n', None),
])
def test_can_swapoff(fake_host, status, can):
    if status is not None:
        fake_host.write(_swap.SELF_STATUS, status)
    assert _swap.can_swapoff() is can


@pytest.mark.parametrize('text, refused', [
    ('swapoff: /dev/sda2: swapoff failed: Operation not permitted', True),
    ('swapon: /swapfile: swapon failed: Permission denied', True),
    ('PERMISSION DENIED', True),
    ('swapon: /swapfile: swapon failed: Invalid argument', False),
    ('swapoff: /dev/sda2: swapoff failed: Cannot allocate memory', False),
    ('', False),
    (None, False),
])
def test_is_permission_error(text, refused):
    assert _swap.is_permission_error(text) is refused


# -- fstab ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize('line, swap', [
    (FSTAB_SWAP, True),
    ('  /swapfile none swap sw,pri=5 0 0\n', True),
    ('/dev/sda2\tnone\tswap\tdefaults', True),
    ('/dev/sda2 none swap', True),
    ('# UUID=x none swap sw 0 0', False),
    ('   # /swapfile none swap sw 0 0', False),
    (_swap.COMMENT_PREFIX + FSTAB_SWAP, False),
    ('UUID=0d3c-feed / ext4 errors=remount-ro 0 1', False),
    ('/swap /mnt/swap ext4 defaults 0 0', False),
    ('swap /srv/scratch tmpfs size=1G 0 0', False),
    ('/dev/sda2 none', False),
    ('', False),
    ('   \n', False),
])
def test_is_swap_entry(line, swap):
    assert _swap.is_swap_entry(line) is swap


def test_fstab_swap_lines(fake_host):
    assert _swap.fstab_swap_lines(fake_host.read('/etc/fstab')) == [FSTAB_SWAP]
    assert _swap.fstab_swap_lines(None) == [] and _swap.fstab_swap_lines('') == []
    assert _swap.fstab_swap_lines('\t/swapfile none swap sw 0 0 \n#/x none swap sw\n') == ['/swapfile none swap sw 0 0']


def test_comment_and_uncomment_give_back_every_byte(fake_host):
    text = (fake_host.read('/etc/fstab') +
            '  /swapfile none swap sw,pri=5 0 0\r\n# /old none swap sw 0 0\n/dev/sdb1 none swap')
    commented, lines = _swap.comment_swap_lines(text)
    assert lines == [FSTAB_SWAP, '  /swapfile none swap sw,pri=5 0 0', '/dev/sdb1 none swap']
    assert commented == (fake_host.read('/etc/fstab').replace(FSTAB_SWAP, _swap.COMMENT_PREFIX + FSTAB_SWAP) +
                         _swap.COMMENT_PREFIX + '  /swapfile none swap sw,pri=5 0 0\r\n'
                         '# /old none swap sw 0 0\n' + _swap.COMMENT_PREFIX + '/dev/sdb1 none swap')
    assert _swap.fstab_swap_lines(commented) == []
    # a second pass finds nothing more to comment
    assert _swap.comment_swap_lines(commented) == (commented, [])
    restored, back = _swap.uncomment_ours(commented)
    assert restored == text and back == lines
    assert _swap.uncomment_ours(restored) == (text, [])


def test_uncomment_takes_back_only_our_prefix():
    text = ('# inference.host_tuning:/x none swap sw 0 0\n'
            ' ' + _swap.COMMENT_PREFIX + '/y none swap sw 0 0\n'
            '# /z none swap sw 0 0\n')
    assert _swap.uncomment_ours(text) == (text, [])
    assert _swap.uncomment_ours(None) == ('', [])
    assert _swap.comment_swap_lines(None) == ('', [])


# -- turning recorded areas on again ---------------------------------------------------------------------------------
AREAS = [{'name': '/dev/nvme0n1p3', 'type': 'partition', 'priority': -2},
         {'name': '/swapfile', 'type': 'file', 'priority': 5},
         {'name': '/dev/sdb2', 'type': 'partition', 'priority': None}]


def test_plan_swapon_lists_what_is_off(fake_host):
    fake_host.write(_swap.SELF_STATUS, 'CapEff:\t000001ffffffffff\n')
    m = Swapon()
    assert _swap.plan_swapon(m, AREAS) == (AREAS[1:], '/usr/bin/swapon', None)
    assert _swap.plan_swapon(m, AREAS[:1]) == ([], None, None)      # still on: nothing to do, swapon not needed
    assert _swap.plan_swapon(m, None) == ([], None, None) and _swap.plan_swapon(m, []) == ([], None, None)
    assert m.calls == []


def test_plan_swapon_says_why_not(fake_host):
    assert _swap.plan_swapon(Swapon(bins=()), AREAS) == (AREAS[1:], None, 'swapon was not found')
    fake_host.write(_swap.SELF_STATUS, 'CapEff:\t00000000a80425fb\n')
    assert _swap.plan_swapon(Swapon(), AREAS) == (
        AREAS[1:], '/usr/bin/swapon',
        'swapon is not permitted here (no CAP_SYS_ADMIN, as in an unprivileged container)')
    # unknown capabilities: it is tried
    fake_host.remove(_swap.SELF_STATUS)
    assert _swap.plan_swapon(Swapon(), AREAS)[2] is None


@pytest.mark.parametrize('swapon, area, argv', [
    ('/sbin/swapon', AREAS[1], ['/sbin/swapon', '-p', '5', '/swapfile']),
    ('/sbin/swapon', AREAS[0], ['/sbin/swapon', '/dev/nvme0n1p3']),      # a kernel-assigned (negative) priority
    ('/sbin/swapon', AREAS[2], ['/sbin/swapon', '/dev/sdb2']),
    ('/sbin/swapon', {'name': '/s', 'priority': 0}, ['/sbin/swapon', '-p', '0', '/s']),
    (None, {'name': '/s'}, ['swapon', '/s']),
])
def test_swapon_argv(swapon, area, argv):
    assert _swap.swapon_argv(swapon, area) == argv


def test_swapon_areas(fake_host):
    m = Swapon({'/swapfile': (255, '', 'swapon: /swapfile: swapon failed: Operation not permitted\n'),
                '/dev/sdb2': (255, 'swapon: /dev/sdb2: read swap header failed\n', '')})
    warnings = []
    areas = AREAS + [{'name': '/dev/sdc1', 'priority': 1}]
    done, refused = _swap.swapon_areas(m, '/usr/bin/swapon', areas, warnings.append)
    assert done == ['/dev/nvme0n1p3', '/dev/sdc1']
    assert refused == [(AREAS[1], 'swapon: /swapfile: swapon failed: Operation not permitted')]
    assert warnings == ['swapon /dev/sdb2 failed (rc=255): swapon: /dev/sdb2: read swap header failed; it is no '
                        'longer tracked.']
    assert m.calls == [['/usr/bin/swapon', '/dev/nvme0n1p3'], ['/usr/bin/swapon', '-p', '5', '/swapfile'],
                       ['/usr/bin/swapon', '/dev/sdb2'], ['/usr/bin/swapon', '-p', '1', '/dev/sdc1']]
