# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import shutil

import pytest

from ansible_collections.inference.host_tuning.plugins.module_utils import _ledger
from ansible_collections.inference.host_tuning.plugins.modules import numa_bind
from ansible_collections.inference.host_tuning.tests.unit.plugins.modules.utils import (
    fail_module, install_commands, refused, run_module)

DROPIN = '/etc/systemd/system/vllm.service.d/90-inference-numa.conf'
HEADER = ('# Managed by Ansible (inference.host_tuning.numa_bind). Local edits are overwritten;\n'
          '# remove with state=absent or playbooks/revert.yml to restore what was here before.\n')


NVML_GPU0 = {'index': 0, 'uuid': 'GPU-x', 'pci_bus_id': '00000000:17:00.0', 'numa_node': 1}


def expected(cpus, policy, mask):
    return HEADER + ('[Service]\nCPUAffinity=\nCPUAffinity=%s\nNUMAPolicy=%s\nNUMAMask=\nNUMAMask=%s\n'
                     % (cpus, policy, mask))


class Systemd(object):
    """Fake systemctl/numactl: records argv, answers --version and show."""

    def __init__(self):
        self.calls = []
        self.version = 252
        self.exec_start = ('{ path=/opt/vllm/bin/vllm ; argv[]=/opt/vllm/bin/vllm serve /models/llama --port 8000 ; '
                           'ignore_errors=no ; start_time=[n/a] ; stop_time=[n/a] ; pid=0 ; code=(null) ; '
                           'status=0/0 }')
        self.bins = {'systemctl': '/usr/bin/systemctl', 'numactl': '/usr/bin/numactl'}

    def run_command(self, module, args, **kwargs):
        assert isinstance(args, list), 'argv lists only'
        self.calls.append(args)
        if args[0] != '/usr/bin/systemctl':
            raise AssertionError('unexpected command %r' % (args,))
        if args[1] == '--version':
            return 0, 'systemd %d (%d.1-1)\n+PAM +AUDIT\n' % (self.version, self.version), ''
        if args[1] == 'show':
            return 0, 'ExecStart=%s\n' % self.exec_start, ''
        return 0, '', ''

    def verbs(self):
        return [a[1] for a in self.calls if a[1] not in ('--version', 'show')]


@pytest.fixture
def systemd(fake_host, monkeypatch):
    fake = Systemd()
    os.makedirs(fake_host.path('/run/systemd/system'))
    install_commands(monkeypatch, fake)
    return fake


def run(args, **kw):
    a = {'unit': 'vllm.service'}
    a.update(args)
    return run_module(numa_bind, a, **kw)


def fail(args, **kw):
    a = {'unit': 'vllm.service'}
    a.update(args)
    return fail_module(numa_bind, a, **kw)


def test_gpu_zero_exact_dropin_reload_and_idempotence(fake_host, systemd):
    r = run({'gpu': [0]})
    assert r['changed'] is True
    assert (r['node'], r['nodes'], r['cpus'], r['policy'], r['method']) == (0, [0], '0-15', 'bind', 'systemd')
    assert r['dropin'] == DROPIN
    assert r['topology'][0] == {'cpus': list(range(16)), 'cpulist': '0-15'}
    assert fake_host.read(DROPIN) == expected('0-15', 'bind', '0')
    assert r['diff']['after'] == expected('0-15', 'bind', '0') and r['diff']['before'] == ''
    assert systemd.verbs() == ['daemon-reload']
    assert r['daemon_reloaded'] is True and r['restarted'] is False
    ledger = json.loads(fake_host.read(_ledger.LEDGER_PATH))
    assert ledger['files'][DROPIN]['owner'] == 'numa_bind'
    assert ledger['files'][DROPIN]['existed'] is False
    # second run: nothing to do, no reload
    systemd.calls[:] = []
    r = run({'gpu': ['0']})
    assert r['changed'] is False
    assert systemd.verbs() == []


@pytest.mark.parametrize('args, nodes, cpus, policy, mask', [
    ({'gpu': [5]}, [1], '16-31', 'bind', '1'),
    ({'gpu': ['0000:27:00.0']}, [0], '0-15', 'bind', '0'),
    # tensor parallel over both sockets: union of CPUs, memory interleaved (multi_node default)
    ({'gpu': [0, 4]}, [0, 1], '0-31', 'interleave', '0-1'),
    ({'gpu': [4, 0, 1]}, [1, 0], '0-31', 'interleave', '0-1'),
    ({'gpu': [0, 4], 'policy': 'bind'}, [0, 1], '0-31', 'bind', '0-1'),
    ({'gpu': [4, 0], 'multi_node': 'first'}, [1], '16-31', 'bind', '1'),
    ({'node': [1], 'reserve_cpus': '2'}, [1], '18-31', 'bind', '1'),
    ({'gpu': [0, 4], 'reserve_cpus': '2'}, [0, 1], '2-15,18-31', 'interleave', '0-1'),
    ({'node': [0, 1], 'reserve_cpus': '0-1,16'}, [0, 1], '2-15,17-31', 'interleave', '0-1'),
    ({'cpus': '4-7'}, [0], '4-7', 'bind', '0'),
    ({'cpus': '14-17'}, [0, 1], '14-17', 'interleave', '0-1'),
    ({'node': [0], 'cpus': '8-11'}, [0], '8-11', 'bind', '0'),
    ({'pci_device': '0000:8c:00.0'}, [1], '16-31', 'bind', '1'),
    ({'pci_device': '0c:00.0', 'policy': 'preferred'}, [0], '0-15', 'preferred', '0'),
    ({'node': [1], 'policy': 'interleave'}, [1], '16-31', 'interleave', '1'),
    ({'gpu': ['GPU-aaa'], 'gpu_numa_map': {'GPU-aaa': 1}}, [1], '16-31', 'bind', '1'),
    ({'gpu': ['00000000:17:00.0'], 'gpu_numa_map': {'0': NVML_GPU0}}, [1], '16-31', 'bind', '1'),
    # nvidia_gpu_info's gpus list: UUIDs resolve; numa_map with null asks sysfs (GPU 5 is on node 1)
    ({'gpu': ['GPU-x'], 'gpu_numa_map': [NVML_GPU0]}, [1], '16-31', 'bind', '1'),
    ({'gpu': ['5'], 'gpu_numa_map': {'5': None}}, [1], '16-31', 'bind', '1'),
    ({'gpu': ['GPU-y'], 'gpu_numa_map': [dict(NVML_GPU0, index=6, uuid='GPU-y', numa_node=None,
                                              pci_bus_id='00000000:77:00.0')]}, [1], '16-31', 'bind', '1'),
])
def test_placement_table(fake_host, systemd, args, nodes, cpus, policy, mask):
    r = run(args)
    assert (r['nodes'], r['cpus'], r['policy']) == (nodes, cpus, policy)
    assert r['node'] == nodes[0]
    assert fake_host.read(DROPIN) == expected(cpus, policy, mask)


@pytest.mark.parametrize('args, words', [
    ({'unit': 'vllm', 'gpu': [0]}, 'not a valid systemd unit name'),
    ({'unit': 'bad name.service', 'gpu': [0]}, 'not a valid systemd unit name'),
    ({'unit': '../../x.service', 'gpu': [0]}, 'not a valid systemd unit name'),
    ({'node': [3]}, 'node(s) 3 do not exist'),
    ({'cpus': '0-99'}, '32-99 do not exist'),
    ({'cpus': 'abc'}, 'not a CPU list'),
    ({'node': [0], 'cpus': ' '}, 'cpus is empty'),
    ({'node': [0], 'cpus': ','}, 'not a CPU list'),
    ({'gpu': [8]}, 'GPU 8 was not found'),
    ({'gpu': ['GPU-5e8b8a4e']}, 'gpu_numa_map'),
    ({'gpu': ['0000:ff:00.0']}, 'not found'),
    ({'gpu': ['GPU-bbb'], 'gpu_numa_map': {'GPU-aaa': 1}}, 'not in gpu_numa_map'),
    ({'gpu': [0, 4], 'multi_node': 'fail'}, 'multi_node=fail'),
    ({'gpu': [0, 4], 'policy': 'preferred'}, 'policy=preferred takes exactly one node'),
    ({'node': [0], 'reserve_cpus': '16'}, 'leaves no CPUs on node 0'),
    ({'node': [0], 'reserve_cpus': '0-15'}, 'leaves none of the CPUs'),
    ({'node': [0], 'reserve_cpus': '40'}, 'leaves no CPUs'),
    ({'node': [0], 'reserve_cpus': '0-40'}, 'do not exist'),
    ({'pci_device': 'eth9'}, 'neither a PCI address'),
    ({'pci_device': '0000:99:00.0'}, 'was not found'),
    ({}, 'any of the following are missing'),
    ({'gpu': [0], 'gpu_numa_map': 'x'}, 'gpu_numa_map must be a dictionary'),
    ({'gpu': ['GPU-z'], 'gpu_numa_map': {'GPU-z': None}}, 'has no NUMA node for GPU'),
    ({'node': [0], 'gpu': [0]}, 'mutually exclusive'),
])
def test_bad_input_writes_nothing(fake_host, systemd, args, words):
    refused(fake_host, numa_bind, dict({'unit': 'vllm.service'}, **args), words)
    assert systemd.verbs() == []


def test_check_mode_writes_nothing(fake_host, systemd):
    before = fake_host.snapshot()
    r = run({'gpu': [4]}, check=True)
    assert r['changed'] is True
    assert r['diff']['after'] == expected('16-31', 'bind', '1')
    assert fake_host.snapshot() == before
    assert systemd.verbs() == []
    run({'gpu': [4]})
    r = run({'gpu': [4]}, check=True)
    assert r['changed'] is False
    r = run({'state': 'absent'}, check=True)
    assert r['changed'] is True
    assert fake_host.exists(DROPIN)


def test_absent_restores_and_reloads(fake_host, systemd):
    before = fake_host.snapshot()
    run({'gpu': [0]})
    systemd.calls[:] = []
    r = run({'state': 'absent'})
    assert r['changed'] is True and r['daemon_reloaded'] is True
    assert systemd.verbs() == ['daemon-reload']
    assert r['diff']['before'] == expected('0-15', 'bind', '0') and r['diff']['after'] == ''
    assert not fake_host.exists(DROPIN)
    assert not fake_host.exists('/etc/systemd/system/vllm.service.d')
    assert fake_host.snapshot() == before       # the ledger is gone too
    systemd.calls[:] = []
    r = run({'state': 'absent'})
    assert r['changed'] is False and systemd.verbs() == []


def test_absent_restores_a_previous_file_byte_for_byte(fake_host, systemd):
    fake_host.write(DROPIN, '[Service]\nCPUAffinity=0-3\n\n# mine\n', mode=0o640)
    r = run({'node': [1]})
    assert r['diff']['before'] == '[Service]\nCPUAffinity=0-3\n\n# mine\n'
    run({'node': [0]})
    run({'state': 'absent'})
    assert fake_host.read(DROPIN) == '[Service]\nCPUAffinity=0-3\n\n# mine\n'
    assert os.stat(fake_host.path(DROPIN)).st_mode & 0o777 == 0o640


def test_absent_without_ledger_removes_only_our_dropin(fake_host, systemd):
    run({'gpu': [0]})
    fake_host.remove(_ledger.LEDGER_PATH)
    assert run({'state': 'absent'})['changed'] is True
    assert not fake_host.exists(DROPIN)
    fake_host.write(DROPIN, '[Service]\nCPUAffinity=1\n')
    assert run({'state': 'absent'})['changed'] is False
    assert fake_host.exists(DROPIN)


def test_restart_only_when_asked_and_changed(fake_host, systemd):
    run({'gpu': [0], 'restart': True})
    assert systemd.verbs() == ['daemon-reload', 'try-restart']
    systemd.calls[:] = []
    run({'gpu': [0], 'restart': True})
    assert systemd.verbs() == []


def test_not_booted_writes_without_reload(fake_host, systemd):
    shutil.rmtree(fake_host.path('/run/systemd'))
    r = run({'gpu': [0]})
    assert r['changed'] is True and r['daemon_reloaded'] is False
    assert systemd.verbs() == []


def test_single_node_machine_with_unknown_device_nodes(fake_host, systemd):
    shutil.rmtree(fake_host.path('/sys/devices/system/node/node1'))
    fake_host.write('/sys/devices/system/node/online', '0\n')
    fake_host.write('/sys/devices/system/cpu/online', '0-15\n')
    for g in range(8):
        fake_host.write('/sys/bus/pci/devices/0000:%02x:00.0/numa_node' % (0x17 + g * 0x10), '-1\n')
    r = run({'gpu': [6], 'reserve_cpus': '1'})
    assert (r['nodes'], r['cpus'], r['policy']) == ([0], '1-15', 'bind')
    assert list(r['topology']) == [0]
    assert fake_host.read(DROPIN) == expected('1-15', 'bind', '0')
    before = fake_host.snapshot()
    assert 'do not exist' in fail({'cpus': '16-17'})['msg']
    assert fake_host.snapshot() == before


def test_unknown_device_node_on_two_sockets(fake_host, systemd):
    bdf = '0000:67:00.0'        # GPU 5, node 1
    fake_host.write('/sys/bus/pci/devices/%s/numa_node' % bdf, '-1\n')
    assert run({'gpu': [5]})['nodes'] == [1]        # from local_cpulist
    fake_host.write('/sys/bus/pci/devices/%s/local_cpulist' % bdf, '0-31\n')
    before = fake_host.snapshot()
    assert 'numa_node is -1' in fail({'gpu': [5]})['msg']
    assert fake_host.snapshot() == before


@pytest.fixture
def memory_only_node2(fake_host):
    fake_host.write('/sys/devices/system/node/online', '0-2\n')
    fake_host.write('/sys/devices/system/node/node2/cpulist', '\n')
    fake_host.write('/sys/devices/system/node/node2/meminfo', 'Node 2 MemTotal:       268435456 kB\n')


def test_memory_only_node(fake_host, systemd, memory_only_node2):
    before = fake_host.snapshot()
    r = fail({'node': [2]})
    assert 'have no CPUs (memory-only' in r['msg'] and 'give cpus' in r['msg']
    assert fake_host.snapshot() == before
    r = run({'node': [2], 'cpus': '0-3'})
    assert r['topology'][2] == {'cpus': [], 'cpulist': ''}
    assert fake_host.read(DROPIN) == expected('0-3', 'bind', '2')
    r = run({'node': [0, 2], 'reserve_cpus': '2'})
    assert (r['cpus'], r['policy']) == ('2-15', 'interleave')
    assert fake_host.read(DROPIN) == expected('2-15', 'interleave', '0,2')


def test_old_systemd_wraps_exec_start_in_numactl(fake_host, systemd):
    systemd.version = 239
    r = run({'gpu': [4]})
    assert r['method'] == 'numactl'
    wanted = (HEADER + '# ExecStart before numa_bind: /opt/vllm/bin/vllm serve /models/llama --port 8000\n'
              '[Service]\nCPUAffinity=\nCPUAffinity=16-31\nExecStart=\n'
              'ExecStart=/usr/bin/numactl --membind=1 /opt/vllm/bin/vllm serve /models/llama --port 8000\n')
    assert fake_host.read(DROPIN) == wanted
    # systemd now reports the wrapped command: the module must not wrap it twice
    systemd.exec_start = ('{ path=/usr/bin/numactl ; argv[]=/usr/bin/numactl --membind=1 /opt/vllm/bin/vllm '
                          'serve /models/llama --port 8000 ; ignore_errors=no ; start_time=[n/a] }')
    assert run({'gpu': [4]})['changed'] is False
    r = run({'gpu': [0, 4], 'exec_start': '/usr/bin/python3 -m vllm.entrypoints.openai.api_server'})
    assert fake_host.read(DROPIN).endswith(
        'ExecStart=/usr/bin/numactl --interleave=0-1 /usr/bin/python3 -m vllm.entrypoints.openai.api_server\n')


@pytest.mark.parametrize('change, words', [
    ({'bins': {'systemctl': '/usr/bin/systemctl'}}, 'install numactl'),
    ({'exec_start': ''}, 'give exec_start'),
])
def test_old_systemd_failures_write_nothing(fake_host, systemd, change, words):
    systemd.version = 237
    for key, value in change.items():
        setattr(systemd, key, value)
    before = fake_host.snapshot()
    assert words in fail({'gpu': [0]})['msg']
    assert fake_host.snapshot() == before
