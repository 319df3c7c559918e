# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

import pytest

from ansible_collections.inference.host_tuning.plugins.module_utils import _hugepages


def test_thp_offer_and_current(fake_host):
    assert _hugepages.thp_offer('enabled') == ['always', 'madvise', 'never']
    assert _hugepages.thp_offer('defrag') == ['always', 'defer', 'defer+madvise', 'madvise', 'never']
    assert _hugepages.thp_current('enabled') == 'always'
    assert _hugepages.thp_current('defrag') == 'madvise'
    fake_host.remove('/sys/kernel/mm/transparent_hugepage/enabled')
    assert _hugepages.thp_offer('enabled') == []
    assert _hugepages.thp_current('enabled') is None


@pytest.mark.parametrize('size, node, path', [
    ('2M', None, '/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages'),
    ('1G', None, '/sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages'),
    ('2M', 1, '/sys/devices/system/node/node1/hugepages/hugepages-2048kB/nr_hugepages'),
    ('1G', 0, '/sys/devices/system/node/node0/hugepages/hugepages-1048576kB/nr_hugepages'),
])
def test_pool_path(size, node, path):
    assert _hugepages.pool_path(size, node) == path


def test_nodes_and_counts(fake_host):
    assert _hugepages.nodes() == [0, 1]
    fake_host.write('/sys/devices/system/node/node1/hugepages/hugepages-2048kB/nr_hugepages', '12\n')
    assert _hugepages.read_count(_hugepages.pool_path('2M', 1)) == 12
    assert _hugepages.read_count('/sys/nope') is None
    fake_host.write('/sys/nope', 'x\n')
    assert _hugepages.read_count('/sys/nope') is None


def test_gigantic_pages(fake_host):
    assert 'pdpe1gb' in _hugepages.cpu_flags()
    assert _hugepages.gigantic_error() is None
    fake_host.write('/proc/cpuinfo', 'processor\t: 0\nflags\t\t: fpu sse2 avx2\n')
    assert 'pdpe1gb' in _hugepages.gigantic_error()


def test_gigantic_pages_without_x86_flags(fake_host):
    # arm64: no flags line; the kernel's 1G pool decides
    fake_host.write('/proc/cpuinfo', 'processor\t: 0\nFeatures\t: fp asimd\n')
    assert _hugepages.cpu_flags() is None
    assert _hugepages.gigantic_error() is None
    for f in ('nr_hugepages', 'free_hugepages', 'resv_hugepages', 'surplus_hugepages'):
        fake_host.remove('/sys/kernel/mm/hugepages/hugepages-1048576kB/' + f)
    os.rmdir(fake_host.path('/sys/kernel/mm/hugepages/hugepages-1048576kB'))
    assert 'no 1G huge pages' in _hugepages.gigantic_error()


def test_render_tmpfiles():
    assert _hugepages.render_tmpfiles('hugepages', []) is None
    text = _hugepages.render_tmpfiles('hugepages', [('/sys/a', 'madvise'), ('/sys/b', 12)])
    assert text.startswith('# Managed by Ansible (inference.host_tuning.hugepages).')
    assert text.endswith('w /sys/a - - - - madvise\nw /sys/b - - - - 12\n')


@pytest.mark.parametrize('pools, default, groups', [
    ([], None, []),
    ([], '1G', [('default_hugepagesz=1G',)]),
    ([{'size': '1G', 'count': 16, 'node': None}], None, [('hugepagesz=1G', 'hugepages=16')]),
    ([{'size': '1G', 'count': 4, 'node': 1}, {'size': '1G', 'count': 2, 'node': 0}], None,
     [('hugepagesz=1G', 'hugepages=0:2,1:4')]),
    ([{'size': '1G', 'count': 4, 'node': None}, {'size': '2M', 'count': 512, 'node': None}], '2M',
     [('hugepagesz=2M', 'hugepages=512'), ('hugepagesz=1G', 'hugepages=4'), ('default_hugepagesz=2M',)]),
])
def test_boot_groups(pools, default, groups):
    assert _hugepages.boot_groups(pools, default) == groups
