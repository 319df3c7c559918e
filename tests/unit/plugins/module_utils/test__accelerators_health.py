# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The npu-smi health parser (``npu-smi info -t health -i N``): a table of outputs -> health and detail,
and the fake npu-smi of the Molecule scenarios read the way the role's health gate reads it."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import importlib.util
import os

import pytest

from ansible_collections.inference.host_tuning.plugins.module_utils import _accelerators

FAKE_NPU_SMI = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', 'fake_npu_smi', 'npu_smi.py')


def report(status, code='NA', info='NA'):
    """What npu-smi 23.x prints (keys padded to one column)."""
    return ('        Health Status                  : %s\n'
            '        Error Code                     : %s\n'
            '        Error Information              : %s\n' % (status, code, info))


@pytest.mark.parametrize('text, health, code, info, detail', [
    (report('OK'), 'OK', None, None, ''),
    (report('Warning'), 'Warning', None, None, ''),
    (report('Alarm', '80E18008', 'node type=HBM, sensor type=ECC'), 'Alarm', '80E18008',
     'node type=HBM, sensor type=ECC', 'error code 80E18008: node type=HBM, sensor type=ECC'),
    (report('Critical', '0x80E01801', 'HBM multi-bit ECC error'), 'Critical', '0x80E01801', 'HBM multi-bit ECC error',
     'error code 0x80E01801: HBM multi-bit ECC error'),
    # an error code without information: NA stands for it, as it always has
    (report('Warning', '80CD8008'), 'Warning', '80CD8008', None, 'error code 80CD8008: NA'),
    ('        Health Status : Critical\n        Error Code : 0x1\n', 'Critical', '0x1', None, 'error code 0x1: NA'),
    # several codes on the line: the first one (the health gate has always named one)
    (report('Critical', '80E01801 80E18008', 'HBM multi-bit ECC error'), 'Critical', '80E01801',
     'HBM multi-bit ECC error', 'error code 80E01801: HBM multi-bit ECC error'),
    # an OK NPU with a code: its detail says so (the gate looks only at the health)
    (report('OK', '0x8', 'informational'), 'OK', '0x8', 'informational', 'error code 0x8: informational'),
    # surrounding text (a banner, a table, CRLF line ends) does not matter
    ('+----+\n| npu-smi 23.0.6 |\r\n' + report('OK').replace('\n', '\r\n'), 'OK', None, None, ''),
    # no Health Status: unreadable
    ('', 'unreadable', None, None, ''),
    (None, 'unreadable', None, None, ''),
    ('The device id 9 does not exist.\n', 'unreadable', None, None, ''),
    ('        Health Status                  :\n', 'unreadable', None, None, ''),
    ('        Health Status                  : 42\n', 'unreadable', None, None, ''),
    # an empty Error Code is no code (it never reaches into the next line)
    ('Health Status : Warning\nError Code :\nError Information : x\n', 'Warning', None, 'x', ''),
    ('Health Status : Warning\nError Code :   \n', 'Warning', None, None, ''),
    # the status word only: what follows it on the line is not part of it
    ('Health Status : Warning (2 alarms)\n', 'Warning', None, None, ''),
])
def test_parse_npu_health(text, health, code, info, detail):
    assert _accelerators.parse_npu_health(text) == {
        'health': health, 'error_code': code, 'error_information': info, 'detail': detail}


@pytest.mark.parametrize('argv, rc, out, err, detail', [
    (['/usr/local/bin/npu-smi', 'info', '-t', 'health', '-i', '9'], 2, 'The device id 9 does not exist.\n', '',
     '/usr/local/bin/npu-smi info -t health -i 9 failed (rc=2): The device id 9 does not exist.'),
    (['npu-smi', 'info', '-t', 'health', '-i', '0'], -1, 'ignored', '  dcmi module initialize failed. ret is -8005\n',
     'npu-smi info -t health -i 0 failed (rc=-1): dcmi module initialize failed. ret is -8005'),
    (['npu-smi', 'info', '-t', 'health', '-i', '0'], 1, '', '', 'npu-smi info -t health -i 0 failed (rc=1): '),
    (['npu-smi', 'info', '-t', 'health', '-i', '0'], None, None, None,
     'npu-smi info -t health -i 0 failed (rc=None): '),
])
def test_npu_health_failed(argv, rc, out, err, detail):
    assert _accelerators.npu_health_failed(argv, rc, out, err) == {
        'health': 'unreadable', 'error_code': None, 'error_information': None, 'detail': detail}


@pytest.fixture
def fake_npu_smi(monkeypatch):
    """The fake npu-smi of the Molecule scenarios (tests/fake_npu_smi/npu_smi.py), NPU 5 unhealthy."""
    spec = importlib.util.spec_from_file_location('iht_fake_npu_smi', FAKE_NPU_SMI)
    fake = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fake)
    monkeypatch.setenv('FAKE_NPU_SMI_UNHEALTHY', '5')
    return fake


def test_the_fake_npu_smi_reads_as_the_health_gate_read_it(fake_npu_smi):
    """What test_ascend.py (Molecule accelerators) asserts: NPU 5 Critical with its code and information,
    every other NPU OK without a detail."""
    for npu_id, _bus, _node in fake_npu_smi.NPUS:
        parsed = _accelerators.parse_npu_health(fake_npu_smi.health_report(npu_id))
        if npu_id == 5:
            assert parsed == {'health': 'Critical', 'error_code': '0x80E01801',
                              'error_information': 'HBM multi-bit ECC error',
                              'detail': 'error code 0x80E01801: HBM multi-bit ECC error'}
        else:
            assert parsed == {'health': 'OK', 'error_code': None, 'error_information': None, 'detail': ''}
