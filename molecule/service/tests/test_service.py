# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Prove the serving process's placement, allocator, environment and limits from /proc/PID."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

import pytest

SERVICES = {
    # host: (unit, port, model name, allocator library file name)
    'iht-service-vllm': ('vllm.service', 8000, 'llama3-8b', 'libjemalloc.so.2'),
    'iht-service-custom': ('tgi.service', 8080, 'custom-model', 'libtcmalloc_minimal.so.4'),
}


SERVICE_USER = 'inference'


def _svc(host):
    return SERVICES[host.backend.get_hostname()]


def _pid(host):
    unit = _svc(host)[0]
    pid = int(host.check_output('systemctl show --property=MainPID --value %s' % unit))
    assert pid > 0, '%s is not running' % unit
    return pid


def _cpulist(text):
    cpus = set()
    for part in text.strip().split(','):
        if '-' in part:
            lo, hi = part.split('-')
            cpus.update(range(int(lo), int(hi) + 1))
        elif part:
            cpus.add(int(part))
    return cpus


def _proc(host, pid, name):
    """Text of /proc/PID/NAME (read with cat: testinfra's file reader stats first, /proc files have size 0).

    maps, numa_maps and environ of another user's process need ptrace access, which root lacks in an
    unprivileged container (no CAP_SYS_PTRACE): those are read as the process's own user.
    """
    if name in ('maps', 'numa_maps', 'environ'):
        return host.check_output('runuser -u %s -- cat /proc/%d/%s' % (SERVICE_USER, pid, name))
    return host.check_output('cat /proc/%d/%s' % (pid, name))


def _status(host, pid):
    out = {}
    for line in _proc(host, pid, 'status').splitlines():
        key, _sep, value = line.partition(':')
        out[key] = value.strip()
    return out


def test_service_active_and_enabled(host):
    unit = _svc(host)[0]
    assert host.service(unit).is_running
    assert host.service(unit).is_enabled


def test_runs_as_non_root_user(host):
    status = _status(host, _pid(host))
    uid = int(status['Uid'].split()[0])
    assert uid != 0
    assert host.user(SERVICE_USER).uid == uid


def test_cpu_affinity_is_the_chosen_cpus(host):
    """Cpus_allowed_list of the running process equals the CPUs of the drop-in."""
    unit = _svc(host)[0]
    dropin = host.file('/etc/systemd/system/%s.d/90-inference-numa.conf' % unit).content_string
    chosen = [line.split('=', 1)[1] for line in dropin.splitlines() if line.startswith('CPUAffinity=') and line != 'CPUAffinity=']
    assert chosen, dropin
    node0 = _cpulist(host.file('/sys/devices/system/node/node0/cpulist').content_string)
    expected = node0 - {0} if 'vllm' in unit else node0   # vllm reserves CPU 0 for housekeeping
    if not expected:
        pytest.skip('this machine has a single CPU on node 0: nothing to reserve')
    assert _cpulist(chosen[-1].replace(' ', ',')) == expected
    assert _cpulist(_status(host, _pid(host))['Cpus_allowed_list']) == expected


def test_memory_policy_is_bound_to_the_node(host):
    numa_maps = _proc(host, _pid(host), 'numa_maps')
    assert 'bind:0' in numa_maps


def test_allocator_is_mapped_into_the_process(host):
    maps = _proc(host, _pid(host), 'maps')
    assert _svc(host)[3] in maps


def test_environment_of_the_process(host):
    raw = _proc(host, _pid(host), 'environ')
    env = dict(item.split('=', 1) for item in raw.split('\0') if '=' in item)
    assert env['CUDA_DEVICE_MAX_CONNECTIONS'] == '1'
    assert env['OMP_NUM_THREADS'] == '8'
    assert env['CUDA_DEVICE_ORDER'] == 'PCI_BUS_ID'
    assert _svc(host)[3] in env['LD_PRELOAD']
    if 'jemalloc' in _svc(host)[3]:
        assert 'background_thread:true' in env['MALLOC_CONF']


def _memlock(host, pid):
    for line in _proc(host, pid, 'limits').splitlines():
        if line.startswith('Max locked memory'):
            return line.split()[3:5]
    raise AssertionError('no memlock line')


def test_memlock_as_high_as_this_host_allows(host):
    """LimitMEMLOCK=infinity. An unprivileged container cannot raise its hard limit above the
    one podman got from this machine (root here lacks CAP_SYS_RESOURCE), so the process must reach
    that ceiling; where the container's ceiling is unlimited, the process must be unlimited.
    'unlimited unlimited' itself is proved from /proc/PID/limits on a real kernel by the vm
    scenario (molecule/vm/tasks/assert_service.yml), where systemd may raise the limit."""
    unit = _svc(host)[0]
    assert host.check_output('systemctl show --property=LimitMEMLOCK --value %s' % unit) == 'infinity'
    ceiling = _memlock(host, 1)[1]
    soft, hard = _memlock(host, _pid(host))
    assert hard == ceiling
    assert soft == ceiling
    if ceiling == 'unlimited':
        assert (soft, hard) == ('unlimited', 'unlimited')


def _get(host, path):
    port = _svc(host)[1]
    code = ('import json, urllib.request; r = urllib.request.urlopen("http://127.0.0.1:%d%s", timeout=5); '
            'print(json.dumps({"status": r.status, "body": r.read().decode()}))' % (port, path))
    return json.loads(host.check_output("python3 -c '%s'" % code))


def test_health_endpoint_answers(host):
    assert _get(host, '/health')['status'] == 200


def test_models_endpoint_serves_the_model(host):
    body = json.loads(_get(host, '/v1/models')['body'])
    assert [m['id'] for m in body['data']] == [_svc(host)[2]]


def test_vllm_flags_reach_the_process(host):
    if 'vllm' not in _svc(host)[0]:
        pytest.skip('custom command')
    argv = _proc(host, _pid(host), 'cmdline').split('\0')
    assert argv[1:3] == ['-m', 'vllm.entrypoints.openai.api_server']
    flags = ' '.join(argv)
    for flag in ('--model /models/Meta-Llama-3-8B-Instruct', '--served-model-name llama3-8b',
                 '--gpu-memory-utilization 0.9', '--max-model-len 4096', '--max-num-seqs 128',
                 '--enable-prefix-caching', '--tensor-parallel-size 1'):
        assert flag in flags
