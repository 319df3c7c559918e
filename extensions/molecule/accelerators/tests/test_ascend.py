# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Verify playbooks/site.yml on a fake Ascend host from the container itself: the serving unit's
environment, allocator and NUMA drop-ins, the running process, the health gate (an unhealthy NPU
stops the play naming it), then the audit report and the exact revert. Tests run in file order."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', '..', 'tests', 'molecule'))
from iht_verify import environ as _environ, playbook as _playbook, report as _report, proc as _proc  # noqa: E402 pylint: disable=wrong-import-position
from iht_verify import modules_ran as _modules_ran  # noqa: E402 pylint: disable=wrong-import-position
from iht_verify import check_predicted_converge as _check_predicted_converge, only_on as _only_on  # noqa: E402 pylint: disable=wrong-import-position

# The accelerators scenario has an Ascend and a TPU host: these tests are the Ascend host's, and every playbook they run
# is limited to it.
HOST = 'iht-ascend-debian12'

_only_here = _only_on(HOST)


UNIT_FILE = '/etc/systemd/system/vllm.service'
NUMA_DROPIN = '/etc/systemd/system/vllm.service.d/90-inference-numa.conf'
ALLOC_DROPIN = '/etc/systemd/system/vllm.service.d/90-inference-allocator.conf'
UNHEALTHY = '/etc/fake-npu-smi/unhealthy'
LEDGER = '/var/lib/inference_host_tuning/ledger.json'
ASCEND_ENV = {
    'HCCL_OP_EXPANSION_MODE': 'AIV',
    'TASK_QUEUE_ENABLE': '2',
    'CPU_AFFINITY_CONF': '1',
    'PYTORCH_NPU_ALLOC_CONF': 'expandable_segments:True',
    'HCCL_BUFFSIZE': '512',
    'HCCL_RDMA_TC': '132',
    'ASCEND_RT_VISIBLE_DEVICES': '0,1,2,3',
}


def test_check_mode_predicted_exactly_the_real_changes(host):
    _check_predicted_converge(HOST)


def test_fake_npu_smi_lists_eight_npus(host):
    out = host.check_output('npu-smi info -l')
    assert out.count('NPU ID') == 8


def test_unit_has_the_ascend_environment(host):
    unit = host.file(UNIT_FILE).content_string
    for key, value in ASCEND_ENV.items():
        # the unit writer quotes an assignment only when it holds white space, quotes or backslashes
        assert ('Environment=%s=%s\n' % (key, value) in unit or 'Environment="%s=%s"\n' % (key, value) in unit), unit
    assert 'HCCL_INTRA_ROCE_ENABLE' not in unit and 'HCCL_RDMA_SL' not in unit


def test_running_server_has_the_ascend_environment(host):
    env = _environ(host)
    for key, value in ASCEND_ENV.items():
        assert env.get(key) == value, key


def test_allocator_dropin_preloads_jemalloc(host):
    dropin = host.file(ALLOC_DROPIN).content_string
    assert 'LD_PRELOAD' in dropin and 'libjemalloc.so.2' in dropin
    assert 'libjemalloc.so.2' in _proc(host, 'maps')


def test_numa_dropin_binds_to_the_npus_node(host):
    """NPUs 0-3 are on node 0 in the fake tree (4-7 on node 1): the server is bound to node 0."""
    dropin = host.file(NUMA_DROPIN).content_string
    assert 'NUMAPolicy=bind' in dropin, dropin
    assert 'NUMAMask=0' in dropin, dropin
    node0 = host.file('/sys/devices/system/node/node0/cpulist').content_string.strip()
    assert 'CPUAffinity=%s' % node0.replace(',', ' ') in dropin or 'CPUAffinity=%s' % node0 in dropin, dropin
    assert 'bind:0' in _proc(host, 'numa_maps')


def test_sched_migration_cost_is_asked_for_where_the_kernel_has_it(host):
    """50000 ns replaces the latency profile's 5 ms: persisted in sysctl.d (procfs kernels) or tmpfiles.d
    (debugfs, Linux 5.13+); where the kernel does not expose it (debugfs not mounted, as in this
    container) it is reported as not applied and nothing is persisted for it."""
    files = host.check_output('grep -rl "migration_cost" /etc/sysctl.d /etc/tmpfiles.d 2>/dev/null || true').split()
    text = ''.join(host.file(f).content_string for f in files)
    assert '5000000' not in text, text
    if host.file('/sys/kernel/debug/sched/migration_cost_ns').exists or \
            host.file('/proc/sys/kernel/sched_migration_cost_ns').exists:
        assert '50000' in text, text
    else:
        warnings = ' '.join(' '.join(_report('run')[HOST]['warnings']).split())
        assert 'kernel.sched_migration_cost_ns: unavailable on this kernel' in warnings, warnings


def test_unhealthy_npu_stops_the_play_naming_it(host):
    before = host.file(UNIT_FILE).content_string
    host.check_output('mkdir -p /etc/fake-npu-smi && echo 5 > %s' % UNHEALTHY)
    try:
        result = _playbook('site.yml', '--limit', HOST)
        assert result.returncode != 0, result.stdout
        assert ('NPU 5 (/dev/davinci5, PCI 0000:82:00.0, NUMA node 1) health Critical - error code 0x80E01801: '
                'HBM multi-bit ECC error') in ' '.join(result.stdout.split()), result.stdout
        assert 'ascend_allow_unhealthy' in result.stdout
        # stopped before anything was changed
        assert 'changed=0' in result.stdout, result.stdout
        assert host.file(UNIT_FILE).content_string == before

        allowed = _playbook('site.yml', '--limit', HOST, '-e', 'ascend_allow_unhealthy=true')
        assert allowed.returncode == 0, allowed.stdout
        assert 'WARNING: 1 Ascend NPU(s)' in allowed.stdout and 'NPU 5' in allowed.stdout
    finally:
        host.check_output('rm -f %s' % UNHEALTHY)


@pytest.mark.parametrize('mode', ['check', 'run'])
def test_ascend_tags_select_only_their_tasks(host, mode):
    """--tags ascend and --tags health: detection and the ascend role's own tasks, nothing of base or the service."""
    extra = ['--check'] if mode == 'check' else []
    expect = ['inference.host_tuning.inference_host_info', 'inference.host_tuning.npu_health']  # npu_health: the gate
    for tag in ('ascend', 'health'):
        ran = _modules_ran('site.yml', '--limit', HOST, '--tags', tag, *extra, everything=True)[HOST]
        ours = [m for m in ran if m.startswith('inference.host_tuning.')]
        assert ours == expect, (tag, mode, ran)


def test_audit_report(host, tmp_path):
    out = str(tmp_path / 'report')
    result = _playbook('audit.yml', '--limit', HOST, '-e', 'audit_output_dir=%s' % out)
    assert result.returncode == 0, result.stdout
    assert 'changed=0' in result.stdout, result.stdout   # an audit changes no host
    assert 'HTML report: %s/fleet-audit.html' % out in result.stdout
    with open(os.path.join(out, 'fleet-audit.json')) as f:
        fleet = json.load(f)
    report = fleet['hosts'][HOST]
    assert report['kind'] == 'ascend'
    by_setting = dict((i['setting'], i) for i in report['audit'])
    assert by_setting['kernel.sched_migration_cost_ns']['desired'] == '50000'
    assert by_setting['enabled']['status'] == 'unavailable' or by_setting['enabled']['desired'] == 'madvise'
    assert by_setting['vllm.service running']['status'] == 'ok'
    # placed as its unit asks: the process's Cpus_allowed_list is the drop-in's CPUAffinity= (node 0)
    node0 = host.file('/sys/devices/system/node/node0/cpulist').content_string.strip()
    assert by_setting['vllm.service cpus']['status'] == 'ok', by_setting['vllm.service cpus']
    assert by_setting['vllm.service cpus']['desired'] == node0
    # jemalloc from the unit's LD_PRELOAD; root reads the server's maps only with CAP_SYS_PTRACE, which an
    # unprivileged container does not give it
    allocator = by_setting['vllm.service allocator_library']
    assert 'libjemalloc' in allocator['desired'], allocator
    readable = host.run('cat /proc/%s/maps' % host.check_output('systemctl show -p MainPID --value vllm.service')).rc == 0
    assert allocator['status'] == ('ok' if readable else 'unavailable'), allocator
    # a container cannot apply kernel values: the report shows drift, and the switch makes it fail
    assert fleet['summary']['drift'] > 0
    with open(os.path.join(out, 'fleet-audit.html')) as f:
        html = f.read()
    assert 'iht-ascend-debian12' in html and '<style>' in html
    assert '<script' not in html and '<link' not in html and 'src=' not in html   # self-contained
    failing = _playbook('audit.yml', '--limit', HOST, '-e', 'audit_output_dir=%s' % out, '-e', 'audit_fail_on_drift=true')
    assert failing.returncode != 0 and 'Drift on iht-ascend-debian12:' in failing.stdout, failing.stdout
    assert 'failed=1' in failing.stdout, failing.stdout


def test_revert_restores_everything_and_is_idempotent(host):
    first = _playbook('revert.yml', '--limit', HOST)
    assert first.returncode == 0, first.stdout
    assert not host.file(UNIT_FILE).exists
    assert not host.file(NUMA_DROPIN).exists and not host.file(ALLOC_DROPIN).exists
    assert not host.file('/etc/sysctl.d/90-inference-host-tuning.conf').exists
    ledger = json.loads(host.file(LEDGER).content_string) if host.file(LEDGER).exists else {}
    # only runtime values a container cannot write stay recorded, for a writable host to finish
    assert not ledger.get('files'), ledger.get('files')
    second = _playbook('revert.yml', '--limit', HOST)
    assert second.returncode == 0, second.stdout
    assert 'changed=0' in second.stdout, second.stdout
