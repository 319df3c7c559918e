# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""npu_health: one npu-smi call per NPU id (an argv, also in check mode), every NPU with its health, the
unhealthy ones in the shape of the ascend role's ascend_unhealthy_npus; bad options fail before npu-smi runs."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno

import pytest

from ansible_collections.inference.host_tuning.plugins.modules import npu_health
from ansible_collections.inference.host_tuning.tests.unit.fakehost import FakeCommands
from ansible_collections.inference.host_tuning.tests.unit.plugins.modules.utils import fail_module, run_module

NPU_SMI = '/usr/bin/npu-smi'


def detected(count=8):
    """NPUs as inference_host_info returns them (the fake Atlas 800T A2: 4 per NUMA node)."""
    return [{'kind': 'ascend', 'index': i, 'id': '/dev/davinci%d' % i, 'model': '910B3', 'npu_id': i,
             'numa_node': i // 4, 'pci_bus_id': '0000:%02x:00.0' % ((0x01 if i < 4 else 0x7d) + i),
             'source': 'dev'} for i in range(count)]


def report(status, code='NA', info='NA'):
    return ('        Health Status                  : %s\n'
            '        Error Code                     : %s\n'
            '        Error Information              : %s\n' % (status, code, info))


def entry(npu, health='OK', detail=''):
    return {'npu_id': npu['npu_id'], 'device': npu['id'], 'pci_bus_id': npu['pci_bus_id'],
            'numa_node': npu['numa_node'], 'health': health, 'detail': detail}


class NpuSmi(object):
    """The fake npu-smi: {npu id: (rc, out, err)}, OK for an id not given; an OSError is raised."""

    def __init__(self, monkeypatch, answers=None, bins=('npu-smi',)):
        self.answers = dict(answers or {})
        self.commands = FakeCommands(bins=bins, handlers={'npu-smi': self.run}).install(monkeypatch)

    def run(self, argv):
        assert argv[1:5] == ['info', '-t', 'health', '-i'] and len(argv) == 6, argv
        answer = self.answers.get(int(argv[5]), (0, report('OK'), ''))
        if isinstance(answer, OSError):
            raise answer
        return answer

    @property
    def calls(self):
        return self.commands.calls


@pytest.mark.parametrize('check', [False, True])
def test_healthy_npus(monkeypatch, check):
    """Every NPU asked about once, with its own id, in check mode too (it only reads)."""
    smi = NpuSmi(monkeypatch)
    npus = detected()
    r = run_module(npu_health, {'npus': npus}, check=check)
    assert r['changed'] is False
    assert r['npus'] == [entry(n) for n in npus]
    assert r['unhealthy'] == []
    assert smi.calls == [[NPU_SMI, 'info', '-t', 'health', '-i', str(i)] for i in range(8)]
    assert smi.commands.warnings == []


@pytest.mark.parametrize('status', ['Warning', 'Alarm', 'Critical', 'General'])
def test_a_status_other_than_ok_is_unhealthy(monkeypatch, status):
    NpuSmi(monkeypatch, {3: (0, report(status), '')})
    npus = detected()
    r = run_module(npu_health, {'npus': npus})
    assert r['unhealthy'] == [entry(npus[3], status)]
    assert r['npus'][3] == entry(npus[3], status) and r['npus'][2] == entry(npus[2])


def test_error_code_and_information(monkeypatch):
    """What the fake npu-smi of the Molecule scenario answers for its unhealthy NPU 5, and what the role's
    message (and test_ascend.py) reads: health Critical - error code 0x80E01801: HBM multi-bit ECC error."""
    NpuSmi(monkeypatch, {5: (0, report('Critical', '0x80E01801', 'HBM multi-bit ECC error'), ''),
                         6: (0, report('Warning', '80CD8008'), '')})
    npus = detected()
    r = run_module(npu_health, {'npus': npus})
    assert r['unhealthy'] == [
        {'npu_id': 5, 'device': '/dev/davinci5', 'pci_bus_id': '0000:82:00.0', 'numa_node': 1,
         'health': 'Critical', 'detail': 'error code 0x80E01801: HBM multi-bit ECC error'},
        entry(npus[6], 'Warning', 'error code 80CD8008: NA')]


def test_npu_smi_failing(monkeypatch):
    """A non-zero exit: unreadable, with the command line, the exit status and npu-smi's message."""
    NpuSmi(monkeypatch, {1: (-1, '', 'dcmi module initialize failed. ret is -8005\n'),
                         2: (2, 'The device id 2 does not exist.\n', '')})
    npus = detected(3)
    r = run_module(npu_health, {'npus': npus})
    assert r['unhealthy'] == [
        entry(npus[1], 'unreadable',
              '/usr/bin/npu-smi info -t health -i 1 failed (rc=-1): dcmi module initialize failed. ret is -8005'),
        entry(npus[2], 'unreadable',
              '/usr/bin/npu-smi info -t health -i 2 failed (rc=2): The device id 2 does not exist.')]
    assert r['npus'][0] == entry(npus[0])


def test_npu_smi_missing(monkeypatch):
    """Not found on PATH: the name is run, and its failure is the NPUs' detail (the module does not fail)."""
    smi = NpuSmi(monkeypatch, dict((i, OSError(errno.ENOENT, 'No such file or directory')) for i in range(2)),
                 bins=())
    npus = detected(2)
    r = run_module(npu_health, {'npus': npus})
    assert [c[0] for c in smi.calls] == ['npu-smi', 'npu-smi']
    assert r['unhealthy'] == [
        entry(n, 'unreadable', 'npu-smi info -t health -i %d failed (rc=2): [Errno 2] No such file or directory'
              % n['npu_id']) for n in npus]


def test_unparseable_output(monkeypatch):
    NpuSmi(monkeypatch, {0: (0, 'Error: the tool was updated\n', ''), 1: (0, '', '')})
    npus = detected(2)
    r = run_module(npu_health, {'npus': npus})
    assert r['unhealthy'] == [entry(npus[0], 'unreadable'), entry(npus[1], 'unreadable')]


def test_absolute_path_is_run_as_given(monkeypatch):
    smi = NpuSmi(monkeypatch, bins=())
    r = run_module(npu_health, {'npu_smi': '/usr/local/Ascend/driver/tools/npu-smi', 'npus': detected(1)})
    assert r['unhealthy'] == []
    assert smi.calls == [['/usr/local/Ascend/driver/tools/npu-smi', 'info', '-t', 'health', '-i', '0']]


def test_npu_id_else_index_and_chips_of_one_npu(monkeypatch):
    """Two chips of NPU 0 (davinci0, davinci1) are asked about once and both get its health; without an npu_id
    (npu-smi listed nothing) the device number is the id. Keys may be null, or left out by hand."""
    smi = NpuSmi(monkeypatch, {0: (0, report('Alarm', '0x1', 'x'), '')})
    npus = [{'index': 0, 'npu_id': 0, 'id': '/dev/davinci0', 'pci_bus_id': None, 'numa_node': None},
            {'index': 1, 'npu_id': 0, 'id': '/dev/davinci1', 'pci_bus_id': None, 'numa_node': None},
            {'index': 2, 'npu_id': None, 'id': '/dev/davinci2', 'pci_bus_id': '0000:03:00.0', 'numa_node': '0'},
            {'index': '3', 'id': '/dev/davinci3'}]
    r = run_module(npu_health, {'npus': npus})
    assert smi.calls == [[NPU_SMI, 'info', '-t', 'health', '-i', i] for i in ('0', '2', '3')]
    assert r['npus'] == [
        {'npu_id': 0, 'device': '/dev/davinci0', 'pci_bus_id': None, 'numa_node': None, 'health': 'Alarm',
         'detail': 'error code 0x1: x'},
        {'npu_id': 0, 'device': '/dev/davinci1', 'pci_bus_id': None, 'numa_node': None, 'health': 'Alarm',
         'detail': 'error code 0x1: x'},
        {'npu_id': 2, 'device': '/dev/davinci2', 'pci_bus_id': '0000:03:00.0', 'numa_node': 0, 'health': 'OK',
         'detail': ''},
        {'npu_id': 3, 'device': '/dev/davinci3', 'pci_bus_id': None, 'numa_node': None, 'health': 'OK',
         'detail': ''}]
    assert r['unhealthy'] == r['npus'][:2]


def test_no_npus(monkeypatch):
    smi = NpuSmi(monkeypatch)
    r = run_module(npu_health, {'npus': []})
    assert (r['npus'], r['unhealthy'], smi.calls) == ([], [], [])


GOOD = {'npu_id': 0, 'index': 0, 'id': '/dev/davinci0', 'pci_bus_id': '0000:01:00.0', 'numa_node': 0}


@pytest.mark.parametrize('args, words', [
    ({'npu_smi': ''}, ['npu_smi: must not be empty']),
    ({'npu_smi': 'bin/npu-smi'}, ['npu_smi:', 'neither an absolute path nor a command name']),
    ({'npu_smi': './npu-smi'}, ['npu_smi:', 'neither an absolute path nor a command name']),
    ({'npu_smi': '..'}, ['npu_smi:', 'neither an absolute path nor a command name']),
    ({'npu_smi': 'npu-smi\n--help'}, ['npu_smi:', 'U+000A']),
    ({'npu_smi': '/usr/bin/npu-smi\x7f'}, ['npu_smi:', 'U+007F']),
    ({'npus': [dict(GOOD, npu_id=-1)]}, ['npus[0].npu_id: -1 is not an integer of at least 0']),
    ({'npus': [dict(GOOD, npu_id=True)]}, ['npus[0].npu_id: True is not an integer of at least 0']),
    ({'npus': [dict(GOOD, npu_id='0; reboot')]}, ['npus[0].npu_id:', 'not an integer of at least 0']),
    ({'npus': [dict(GOOD, npu_id=1.5)]}, ['npus[0].npu_id: 1.5 is not an integer']),
    ({'npus': [GOOD, dict(GOOD, npu_id=None, index=-2)]}, ['npus[1].index: -2 is not an integer of at least 0']),
    ({'npus': [dict(GOOD, index='x')]}, ["npus[0].index: 'x' is not an integer of at least 0"]),
    ({'npus': [{'id': '/dev/davinci0'}]}, ['npus[0]: has no npu_id and no index']),
    ({'npus': [{'index': 0}]}, ['npus[0]: has no id']),
    ({'npus': [dict(GOOD, id='')]}, ['npus[0].id: must not be empty']),
    ({'npus': [dict(GOOD, id='/dev/davinci0\r')]}, ['npus[0].id:', 'U+000D']),
    ({'npus': [dict(GOOD, pci_bus_id='0000:01:00.0\x1b[2J')]}, ['npus[0].pci_bus_id:', 'U+001B']),
    ({'npus': [dict(GOOD, numa_node=-1)]}, ['npus[0].numa_node: -1 is not an integer of at least 0']),
    # every problem at once
    ({'npu_smi': 'a/b', 'npus': [dict(GOOD, npu_id=-1), dict(GOOD, numa_node='x')]},
     ['npu_smi:', 'npus[0].npu_id:', 'npus[1].numa_node:']),
])
def test_bad_options_fail_before_npu_smi_runs(monkeypatch, args, words):
    smi = NpuSmi(monkeypatch)
    result = fail_module(npu_health, dict({'npus': [GOOD]}, **args))
    assert result['msg'].startswith('Nothing was changed: '), result['msg']
    for word in words:
        assert word in result['msg'], (word, result['msg'])
    assert smi.calls == []


def test_npus_is_required(monkeypatch):
    NpuSmi(monkeypatch)
    assert 'npus' in fail_module(npu_health, {})['msg']


def test_no_reserved_return_keys(monkeypatch):
    """Nothing Ansible reads itself (changed, failed, skipped...) or a dict method name among the results."""
    NpuSmi(monkeypatch)
    r = run_module(npu_health, {'npus': detected(1)})
    assert sorted(r) == ['changed', 'npus', 'unhealthy']
