# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import shutil

import pytest

from ansible_collections.inference.host_tuning.plugins.module_utils import _topology
from ansible_collections.inference.host_tuning.plugins.module_utils._topology import (
    Topology, TopologyError, format_cpulist, normalize_bdf, parse_cpulist)


@pytest.mark.parametrize('text, cpus, compact', [
    ('', [], ''),
    ('0', [0], '0'),
    ('0-3', [0, 1, 2, 3], '0-3'),
    ('0-1,4,6-7', [0, 1, 4, 6, 7], '0-1,4,6-7'),
    (' 8-9, 0 ', [0, 8, 9], '0,8-9'),
    ('0-7:2/4', [0, 1, 4, 5], '0-1,4-5'),
    ('3,1,2', [1, 2, 3], '1-3'),
])
def test_cpulist_round_trip(text, cpus, compact):
    assert parse_cpulist(text) == cpus
    assert format_cpulist(cpus) == compact


@pytest.mark.parametrize('text', ['a', '3-1', '1-', '-1', '0-7:0/4', '0-7:5/4', '1;2'])
def test_cpulist_rejects(text):
    with pytest.raises(ValueError):
        parse_cpulist(text)


@pytest.mark.parametrize('text, bdf', [
    ('0000:17:00.0', '0000:17:00.0'),
    ('17:00.0', '0000:17:00.0'),
    ('00000000:17:00.0', '0000:17:00.0'),
    ('0000:AB:1f.7', '0000:ab:1f.7'),
    ('ens1f0', None),
    ('GPU-5e8b', None),
    ('0000:17:00.8', None),
])
def test_normalize_bdf(text, bdf):
    assert normalize_bdf(text) == bdf


def test_two_socket_topology(fake_host):
    topo = Topology()
    assert sorted(topo.nodes) == [0, 1]
    assert topo.as_dict()[1] == {'cpus': list(range(16, 32)), 'cpulist': '16-31'}
    assert topo.nodes_of_cpus([3, 17]) == [0, 1]
    assert topo.pci_node('0000:0c:00.0') == 0
    assert topo.pci_node('8c:00.0') == 1


def test_gpus_in_bus_order_skip_other_functions(fake_host):
    # the HDMI audio function of a GPU and an NVSwitch (bridge class) are not GPUs
    fake_host.write('/sys/bus/pci/devices/0000:17:00.1/vendor', '0x10de\n')
    fake_host.write('/sys/bus/pci/devices/0000:17:00.1/class', '0x040300\n')
    fake_host.write('/sys/bus/pci/devices/0000:05:00.0/vendor', '0x10de\n')
    fake_host.write('/sys/bus/pci/devices/0000:05:00.0/class', '0x068000\n')
    gpus = _topology.nvidia_gpus()
    assert gpus == ['0000:%02x:00.0' % (0x17 + g * 0x10) for g in range(8)]
    topo = Topology()
    assert [topo.gpu_node(i) for i in range(8)] == [0, 0, 0, 0, 1, 1, 1, 1]
    assert topo.gpu_node('0000:67:00.0') == 1


@pytest.mark.parametrize('gpu_map, ref, node', [
    ({'0': 1}, '0', 1),
    ({'GPU-AAA': 1}, 'gpu-aaa', 1),
    ({'0': {'numa_node': 1, 'uuid': 'GPU-aaa', 'pci_bus_id': '00000000:17:00.0'}}, 'GPU-aaa', 1),
    ({'0': {'numa_node': 1, 'uuid': 'GPU-aaa', 'pci_bus_id': '00000000:17:00.0'}}, '0000:17:00.0', 1),
    ({'GPU-aaa': {'node': 0, 'index': 3}}, '3', 0),
])
def test_gpu_map(fake_host, gpu_map, ref, node):
    assert Topology().gpu_node(ref, gpu_map) == node


@pytest.mark.parametrize('ref, gpu_map, words', [
    ('8', None, '8 NVIDIA GPU'),
    ('GPU-5e8b', None, 'gpu_numa_map'),
    ('0000:ff:00.0', None, 'not found'),
    ('1', {'0': 0}, 'not in gpu_numa_map'),
    ('0', {'0': 7}, 'do not exist'),
])
def test_gpu_errors(fake_host, ref, gpu_map, words):
    with pytest.raises(TopologyError) as exc:
        Topology().gpu_node(ref, gpu_map)
    assert words in str(exc.value)


def test_unknown_numa_node_falls_back_to_local_cpulist(fake_host):
    bdf = '0000:57:00.0'    # GPU 4, node 1
    fake_host.write('/sys/bus/pci/devices/%s/numa_node' % bdf, '-1\n')
    assert Topology().pci_node(bdf) == 1
    fake_host.write('/sys/bus/pci/devices/%s/local_cpulist' % bdf, '0-31\n')
    with pytest.raises(TopologyError) as exc:
        Topology().pci_node(bdf)
    assert 'numa_node is -1' in str(exc.value)


def test_single_node_and_no_numa(fake_host):
    shutil.rmtree(fake_host.path('/sys/devices/system/node/node1'))
    fake_host.write('/sys/devices/system/node/online', '0\n')
    fake_host.write('/sys/bus/pci/devices/0000:57:00.0/numa_node', '-1\n')
    topo = Topology()
    assert topo.nodes == {0: list(range(0, 16))}
    assert topo.pci_node('0000:57:00.0') == 0
    # a kernel without CONFIG_NUMA: one node with every online CPU
    shutil.rmtree(fake_host.path('/sys/devices/system/node'))
    assert Topology().nodes == {0: list(range(32))}


def test_memory_only_node_and_offline_cpus(fake_host):
    fake_host.write('/sys/devices/system/node/online', '0-2\n')
    fake_host.write('/sys/devices/system/node/node2/cpulist', '\n')
    fake_host.write('/sys/devices/system/cpu/online', '0-29\n')
    topo = Topology()
    assert topo.nodes[2] == []
    assert topo.nodes[1] == list(range(16, 30))
    with pytest.raises(TopologyError) as exc:
        topo.check_cpus([29, 30, 31])
    assert '30-31' in str(exc.value)


def test_netdev_name(fake_host):
    fake_host.write('/sys/devices/pci0000:80/0000:80:01.0/0000:8c:00.0/vendor', '0x15b3\n')
    fake_host.symlink('../../../devices/pci0000:80/0000:80:01.0/0000:8c:00.0', '/sys/class/net/ens2np0/device')
    assert _topology.netdev_bdf('ens2np0') == '0000:8c:00.0'
    assert Topology().pci_node('ens2np0') == 1
    with pytest.raises(TopologyError):
        Topology().pci_node('eth9')
