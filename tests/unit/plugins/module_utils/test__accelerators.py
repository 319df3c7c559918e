# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Accelerator detection against the fake host tree (NVIDIA on PCI, Ascend and TPU fakes)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.inference.host_tuning.plugins.module_utils import _accelerators
from ansible_collections.inference.host_tuning.plugins.module_utils import _nvml
from ansible_collections.inference.host_tuning.tests.unit.fakehost import FakeCommands

PCI = '/sys/bus/pci/devices'

NPU_SMI_LIST = '''
        Total Count                    : 8

        NPU ID                         : 0
        Product Name                   : Ascend 910B3
        Serial Number                  : 033KXX10N7000134
        Chip Count                     : 1

        NPU ID                         : 1
        Product Name                   : Ascend 910B3
        Chip Count                     : 1
'''


class _Module(object):
    """Just what detection calls on a module: get_bin_path and run_command (through FakeCommands)."""

    def __init__(self, commands):
        self.commands = commands

    def get_bin_path(self, name, required=False, opt_dirs=None):
        return self.commands.bins.get(name)

    def run_command(self, argv, **kwargs):
        assert isinstance(argv, list)
        self.commands.calls.append(argv)
        handler = self.commands.handlers.get(argv[0].rsplit('/', 1)[-1])
        return handler(argv) if handler else (0, '', '')


@pytest.fixture
def no_nvml(monkeypatch):
    monkeypatch.setattr(_nvml, 'HAS_PYNVML', False)


def remove_nvidia(host):
    for g in range(8):
        bdf = '0000:%02x:00.0' % (0x17 + g * 0x10)
        for f in ('vendor', 'device', 'class', 'numa_node', 'local_cpulist'):
            host.remove('%s/%s/%s' % (PCI, bdf, f))


def add_ascend(host, count=8, per_node=4, device='0xd802'):
    for i in range(count):
        host.write('/dev/davinci%d' % i, '')
        base = '%s/0000:%02x:00.0' % (PCI, 0xc1 + i)
        host.write(base + '/vendor', '0x19e5\n')
        host.write(base + '/device', device + '\n')
        host.write(base + '/class', '0x120000\n')
        host.write(base + '/numa_node', '%d\n' % (i // per_node))
    host.write('/dev/davinci_manager', '')
    host.write('/dev/devmm_svm', '')
    # a Huawei NIC is not an NPU
    host.write(PCI + '/0000:3b:00.0/vendor', '0x19e5\n')
    host.write(PCI + '/0000:3b:00.0/device', '0x1822\n')
    host.write(PCI + '/0000:3b:00.0/class', '0x020000\n')


def add_tpu(host, count=4, device='0x005e', dev='accel'):
    for i in range(count):
        base = '%s/0000:%02x:05.0' % (PCI, i)
        host.write(base + '/vendor', '0x1ae0\n')
        host.write(base + '/device', device + '\n')
        host.write(base + '/class', '0x120000\n')
        host.write(base + '/numa_node', '%d\n' % (i // 2))
        if dev == 'accel':
            host.write('/dev/accel%d' % i, '')
        else:
            group = 20 + i
            host.write('/dev/vfio/%d' % group, '')
            host.symlink('../../../../kernel/iommu_groups/%d' % group, base + '/iommu_group')
            host.mkdir('/sys/kernel/iommu_groups/%d' % group)
    host.write('/dev/vfio/vfio', '')
    # gVNIC: Google, but not a TPU
    host.write(PCI + '/0000:00:04.0/vendor', '0x1ae0\n')
    host.write(PCI + '/0000:00:04.0/device', '0x0042\n')
    host.write(PCI + '/0000:00:04.0/class', '0x020000\n')


def detect(kinds=_accelerators.KINDS, commands=None):
    return _accelerators.detect(_Module(commands or FakeCommands()), kinds)


def test_nvidia_from_pci(fake_host, no_nvml):
    found, notes = detect(['nvidia'])
    assert [a['id'] for a in found] == ['0000:%02x:00.0' % (0x17 + g * 0x10) for g in range(8)]
    assert [a['numa_node'] for a in found] == [0] * 4 + [1] * 4
    assert [a['index'] for a in found] == list(range(8))
    assert all(a['kind'] == 'nvidia' and a['source'] == 'pci' for a in found)
    assert 'pynvml' in notes[0]
    assert _accelerators.dominant_kind(found) == 'nvidia'


def test_unknown_numa_node_is_null(fake_host, no_nvml):
    fake_host.write(PCI + '/0000:17:00.0/numa_node', '-1\n')
    found, _notes = detect(['nvidia'])
    assert found[0]['numa_node'] is None


@pytest.mark.parametrize('text, expected', [
    (NPU_SMI_LIST, [{'npu_id': 0, 'chip_count': 1, 'name': 'Ascend 910B3'},
                    {'npu_id': 1, 'chip_count': 1, 'name': 'Ascend 910B3'}]),
    ('NPU ID : 8\nChip Count : 2\nName: 310P3\n\nNPU ID : 3\n',
     [{'npu_id': 3, 'chip_count': 1, 'name': None}, {'npu_id': 8, 'chip_count': 2, 'name': '310P3'}]),
    ('+-----+\n| npu-smi 23.0 |\nNPU ID : x\nChip Count : 4\n', []),
    ('', []),
])
def test_parse_npu_smi_list(text, expected):
    assert _accelerators.parse_npu_smi_list(text) == expected


def test_ascend_with_npu_smi(fake_host, no_nvml):
    remove_nvidia(fake_host)
    add_ascend(fake_host)
    out = ''.join('NPU ID : %d\nProduct Name : Ascend 910B3\nChip Count : 1\n\n' % i for i in range(8))
    commands = FakeCommands(bins=['npu-smi'], handlers={'npu-smi': lambda argv: (0, out, '')})
    found, notes = detect(commands=commands)
    assert commands.calls == [['/usr/bin/npu-smi', 'info', '-l']]
    assert [a['id'] for a in found] == ['/dev/davinci%d' % i for i in range(8)]
    assert [a['numa_node'] for a in found] == [0] * 4 + [1] * 4
    assert [a['npu_id'] for a in found] == list(range(8))
    assert all(a['model'] == 'Ascend 910B3' and a['kind'] == 'ascend' for a in found)
    assert found[0]['pci_bus_id'] == '0000:c1:00.0'
    assert _accelerators.dominant_kind(found) == 'ascend'
    assert not [n for n in notes if n.startswith('ascend')]


def test_ascend_without_npu_smi_uses_pci_model(fake_host, no_nvml):
    add_ascend(fake_host, count=2, per_node=1)
    found, _notes = detect(['ascend'])
    assert [(a['id'], a['model'], a['numa_node']) for a in found] == [
        ('/dev/davinci0', 'Ascend 910B', 0), ('/dev/davinci1', 'Ascend 910B', 1)]


def test_ascend_npu_smi_failing_is_a_note(fake_host, no_nvml):
    add_ascend(fake_host, count=2, per_node=2)
    commands = FakeCommands(bins=['npu-smi'], handlers={'npu-smi': lambda argv: (-1, '', 'dcmi init failed')})
    found, notes = detect(['ascend'], commands)
    assert len(found) == 2
    assert any('npu-smi info -l failed' in n and 'dcmi init failed' in n for n in notes)


def test_ascend_counts_that_do_not_match(fake_host, no_nvml):
    add_ascend(fake_host, count=4, per_node=2)
    fake_host.remove('/dev/davinci3')
    found, notes = detect(['ascend'])
    assert len(found) == 3
    assert all(a['numa_node'] is None and a['pci_bus_id'] is None for a in found)
    assert any('3 /dev/davinci devices but 4' in n for n in notes)


def test_ascend_pci_only(fake_host, no_nvml):
    add_ascend(fake_host, count=2, per_node=1)
    for i in range(2):
        fake_host.remove('/dev/davinci%d' % i)
    found, notes = detect(['ascend'])
    assert [(a['id'], a['source']) for a in found] == [('0000:c1:00.0', 'pci'), ('0000:c2:00.0', 'pci')]
    assert any('driver' in n for n in notes)


def test_tpu_v4_accel(fake_host, no_nvml):
    remove_nvidia(fake_host)
    add_tpu(fake_host)
    found, _notes = detect()
    assert [(a['id'], a['model'], a['numa_node']) for a in found] == [
        ('/dev/accel%d' % i, 'TPU v4', i // 2) for i in range(4)]
    assert _accelerators.dominant_kind(found) == 'tpu'


def test_tpu_v5e_vfio_groups(fake_host, no_nvml):
    add_tpu(fake_host, count=2, device='0x0063', dev='vfio')
    found, _notes = detect(['tpu'])
    assert [(a['id'], a['model'], a['pci_bus_id']) for a in found] == [
        ('/dev/vfio/20', 'TPU v5e', '0000:00:05.0'), ('/dev/vfio/21', 'TPU v5e', '0000:01:05.0')]


@pytest.mark.parametrize('device, subsystem, model', [
    ('0x0027', '0x004e', 'TPU v2'), ('0x0027', '0x004f', 'TPU v3'), ('0x0062', '', 'TPU v5p'),
    ('0x006f', '', 'TPU v6e'), ('0x1234', '', None),
])
def test_tpu_models(device, subsystem, model):
    assert _accelerators.tpu_model({'device': device, 'subsystem_device': subsystem}) == model


def test_plain_host(fake_host, no_nvml):
    remove_nvidia(fake_host)
    found, _notes = detect()
    assert found == []
    assert _accelerators.dominant_kind(found) == 'none'


def test_dominant_kind_ties_prefer_nvidia():
    accs = [{'kind': 'tpu'}, {'kind': 'nvidia'}]
    assert _accelerators.dominant_kind(accs) == 'nvidia'


def _fake_tree(host, sysfs, devfs):
    """Ascend NPUs and TPUs under another sysfs and devfs root (a test container's fake tree)."""
    for i in range(8):
        base = '%s/bus/pci/devices/0000:%02x:00.0' % (sysfs, 0xc1 + i)
        host.write(base + '/vendor', '0x19e5\n')
        host.write(base + '/device', '0xd802\n')
        host.write(base + '/class', '0x120000\n')
        host.write(base + '/numa_node', '%d\n' % (i // 4))
        host.write('%s/davinci%d' % (devfs, i), '')
    for i in range(2):
        base = '%s/bus/pci/devices/0000:%02x:05.0' % (sysfs, i)
        host.write(base + '/vendor', '0x1ae0\n')
        host.write(base + '/device', '0x0063\n')
        host.write(base + '/class', '0x120000\n')
        host.write(base + '/numa_node', '1\n')
        host.write(base + '/accel/accel%d/dev' % i, '')
        host.write('%s/accel%d' % (devfs, i), '')


def test_roots_move_detection_to_a_fake_tree(fake_host, no_nvml):
    remove_nvidia(fake_host)
    _fake_tree(fake_host, '/opt/fake-sysfs', '/opt/fake-dev')
    # the real /sys and /dev of the fake host hold nothing of these
    assert detect(['ascend', 'tpu'])[0] == []
    found, notes = _accelerators.detect(_Module(FakeCommands()), ['ascend', 'tpu'],
                                        sysfs_root='/opt/fake-sysfs', devfs_root='/opt/fake-dev/')
    ascend = [a for a in found if a['kind'] == 'ascend']
    tpu = [a for a in found if a['kind'] == 'tpu']
    assert [a['id'] for a in ascend] == ['/dev/davinci%d' % i for i in range(8)]
    assert [a['numa_node'] for a in ascend] == [0] * 4 + [1] * 4
    assert [a['model'] for a in ascend] == ['Ascend 910B'] * 8
    assert [(a['id'], a['model'], a['numa_node']) for a in tpu] == [
        ('/dev/accel0', 'TPU v5e', 1), ('/dev/accel1', 'TPU v5e', 1)]
    assert notes == []
    # and the roots are back to /sys and /dev for the next caller
    assert _accelerators.sys_path('/sys/bus/pci/devices') == '/sys/bus/pci/devices'
    assert _accelerators.dev_path('/dev/accel0') == '/dev/accel0'


@pytest.mark.parametrize('path, mount, root, expected', [
    ('/sys/bus/pci/devices', '/sys', '/opt/s', '/opt/s/bus/pci/devices'),
    ('/sys', '/sys', '/opt/s/', '/opt/s'),
    ('/sysfoo/x', '/sys', '/opt/s', '/sysfoo/x'),
    ('/dev/vfio/3', '/dev', '/dev', '/dev/vfio/3'),
    ('/dev/vfio/3', '/dev', None, '/dev/vfio/3'),
])
def test_under(path, mount, root, expected):
    assert _accelerators._under(path, mount, root) == expected  # pylint: disable=protected-access
