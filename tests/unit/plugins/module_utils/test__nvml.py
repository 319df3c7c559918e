# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.inference.host_tuning.plugins.module_utils import _nvml
from ansible_collections.inference.host_tuning.tests.fake_nvml.harness import fake_nvml, fake_nvml_lib  # noqa: F401  pylint: disable=unused-import
from ansible_collections.inference.host_tuning.tests.unit.fakehost import FakeModule


@pytest.mark.parametrize('text, parts', [
    ('17:00.0', (0, 0x17, 0, 0)),
    ('0000:17:00.0', (0, 0x17, 0, 0)),
    ('00000000:B1:00.1', (0, 0xb1, 0, 1)),
    ('0001:b1:1f.7', (1, 0xb1, 0x1f, 7)),
    ('b1:00', None),
    ('GPU-1234', None),
    ('', None),
])
def test_parse_bus_id(text, parts):
    assert _nvml.parse_bus_id(text) == parts


def test_bus_id_forms():
    parts = (0, 0xb1, 0, 0)
    assert _nvml.nvml_bus_id(parts) == '00000000:B1:00.0'
    assert _nvml.sysfs_bus_id(parts) == '0000:b1:00.0'


@pytest.mark.parametrize('mw, w', [(700000, 700), (350500, 350.5), (None, None)])
def test_watts(mw, w):
    assert _nvml.watts(mw) == w


def test_sysfs_numa_node(fake_host):
    assert _nvml.sysfs_numa_node((0, 0x57, 0, 0)) == 1
    fake_host.write('/sys/bus/pci/devices/0000:17:00.0/numa_node', '-1\n')
    assert _nvml.sysfs_numa_node((0, 0x17, 0, 0)) is None
    assert _nvml.sysfs_numa_node((0, 0xee, 0, 0)) is None


def test_session_reads_the_fake(fake_host, fake_nvml):  # noqa: F811  pylint: disable=redefined-outer-name
    with _nvml.Session(FakeModule()) as nvml:
        gpus = nvml.gpus()
        assert [g.name for g in gpus] == ['NVIDIA H100 80GB HBM3', 'NVIDIA L40S', 'NVIDIA A100-SXM4-80GB']
        assert gpus[2].bus_id == '00000000:57:00.0'
        assert gpus[0].mig_mode() == ('disabled', 'disabled')
        assert gpus[1].mig_mode() is None
        assert gpus[0].power() == {'current': 700000, 'default': 700000, 'min': 200000, 'max': 700000}
        with pytest.raises(_nvml.NvmlError) as err:
            _nvml.call('nvmlDeviceSetPowerManagementLimit', gpus[0].handle, 1, gpu=gpus[0])
        assert err.value.code == _nvml.NVML_ERROR_INVALID_ARGUMENT
        assert 'GPU 0 (GPU-5d1b3c2a' in str(err.value) and 'Invalid Argument' in str(err.value)
        with pytest.raises(_nvml.SelectionError):
            nvml.select(['GPU-nope'])
    # the state file is read again on every init
    fake_nvml.update(gpu=1, name='NVIDIA L4')
    with _nvml.Session(FakeModule()) as nvml:
        assert nvml.gpus()[1].name == 'NVIDIA L4'


def test_forget_gpu(fake_host):
    from ansible_collections.inference.host_tuning.plugins.module_utils._ledger import Ledger
    ledger = Ledger(FakeModule())
    ledger.set_extra('nvidia_gpu', 'GPU-a', {'x': 1})
    ledger.set_extra('nvidia_gpu', 'GPU-b', {'x': 2})
    _nvml.forget_gpu(ledger, 'GPU-a')
    assert ledger.get_extra('nvidia_gpu', 'GPU-b') == {'x': 2}
    _nvml.forget_gpu(ledger, 'GPU-b')
    assert 'nvidia_gpu' not in ledger.extra
