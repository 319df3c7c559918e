# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""_limits: systemd limit values and what the next boot gets."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.inference.host_tuning.plugins.module_utils import _limits

M = 1024 * 1024


@pytest.mark.parametrize('text, expected', [
    ('infinity', (-1, -1)),
    ('Infinity', (-1, -1)),
    ('8M', (8 * M, 8 * M)),
    ('65536', (65536, 65536)),
    ('64K:infinity', (65536, -1)),
    ('1G', (1024 * M, 1024 * M)),
    ('', None),
    ('lots', None),
    ('8X', None),
    ('1:2:3', None),
    (':8M', None),
    ('-1', None),
])
def test_parse_systemd_limit(text, expected):
    assert _limits.parse_systemd_limit(text) == expected


def test_next_memlock_order(fake_host):
    """system.conf first, then the .conf.d files by name (a name in /etc hides the same name elsewhere), then the
    unit's own files: the last value read wins."""
    fake_host.write('/etc/systemd/system.conf', '[Manager]\nDefaultLimitMEMLOCK=64K\n')
    fake_host.write('/usr/lib/systemd/system.conf.d/50-vendor.conf', '[Manager]\nDefaultLimitMEMLOCK=1M\n')
    fake_host.write('/usr/lib/systemd/system.conf.d/90-x.conf', '[Manager]\nDefaultLimitMEMLOCK=2M\n')
    fake_host.write('/etc/systemd/system.conf.d/90-x.conf', '[Manager]\nDefaultLimitMEMLOCK=3M\n')
    got = _limits.next_memlock([])
    assert (got['soft'], got['hard']) == (3 * M, 3 * M) and '/etc/systemd/system.conf.d/90-x.conf' in got['source']
    fake_host.write('/etc/systemd/system/a.service', '[Unit]\nLimitMEMLOCK=5M\n[Service]\nLimitMEMLOCK=4M\n')
    fake_host.write('/etc/systemd/system/a.service.d/x.conf', '[Service]\n; LimitMEMLOCK=9M\n')
    got = _limits.next_memlock(['/etc/systemd/system/a.service', '/etc/systemd/system/a.service.d/x.conf'])
    assert (got['soft'], got['hard']) == (4 * M, 4 * M) and 'a.service' in got['source']


def test_next_memlock_builtin_and_unreadable(fake_host):
    got = _limits.next_memlock([])
    assert got['soft'] == _limits.BUILTIN_MEMLOCK and 'built-in' in got['source']
    fake_host.write('/etc/systemd/system.conf.d/90-x.conf', '[Manager]\nDefaultLimitMEMLOCK=plenty\n')
    assert _limits.next_memlock([]) is None
