# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""inference_host_info: detection on the fake host, and the drift audit (_audit) table by table."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os

import pytest

from ansible_collections.inference.host_tuning.plugins.module_utils import _audit
from ansible_collections.inference.host_tuning.plugins.module_utils import _block
from ansible_collections.inference.host_tuning.plugins.module_utils import _cpu
from ansible_collections.inference.host_tuning.plugins.module_utils import _nvml
from ansible_collections.inference.host_tuning.plugins.module_utils import _swap
from ansible_collections.inference.host_tuning.plugins.module_utils import _sysctl
from ansible_collections.inference.host_tuning.plugins.module_utils import _topology
from ansible_collections.inference.host_tuning.plugins.modules import inference_host_info
from ansible_collections.inference.host_tuning.tests.fake_nvml.harness import fake_nvml, fake_nvml_lib  # noqa: F401  pylint: disable=unused-import
from ansible_collections.inference.host_tuning.tests.unit.fakehost import FakeCommands
from ansible_collections.inference.host_tuning.tests.unit.plugins.module_utils.test__accelerators import (
    add_ascend, add_tpu, remove_nvidia)
from ansible_collections.inference.host_tuning.tests.unit.plugins.modules.utils import fail_module, run_module

PID = 4242
JEMALLOC = '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2'


@pytest.fixture
def no_nvml(monkeypatch):
    monkeypatch.setattr(_nvml, 'HAS_PYNVML', False)


def systemd(host, monkeypatch, main_pid=PID, memlock='infinity', memlock_soft=None, booted=True,
            unit_props=None):
    """A host booted with systemd; ``systemctl show`` answers from the arguments (``unit_props``: the
    unit's other properties, printed when asked for, as systemctl prints an unset one: empty)."""
    if booted:
        host.mkdir('/run/systemd/system')

    def systemctl(argv):
        if argv[1:2] == ['show'] and '-p' in argv:
            return 0, 'DefaultLimitMEMLOCK=%s\nDefaultLimitMEMLOCKSoft=%s\n' % (memlock, memlock_soft or memlock), ''
        if argv[1:2] == ['show']:
            out = 'MainPID=%d\nActiveState=%s\n' % (main_pid, 'active' if main_pid else 'inactive')
            asked = [a for a in argv if a.startswith('--property=')][0][len('--property='):].split(',')
            for prop in asked:
                if prop not in ('MainPID', 'ActiveState'):
                    out += '%s=%s\n' % (prop, (unit_props or {}).get(prop, ''))
            return 0, out, ''
        return 0, '', ''
    return FakeCommands(bins=['systemctl'], handlers={'systemctl': systemctl}).install(monkeypatch)


def service_process(host, cpus='0-15', libs=(JEMALLOC,)):
    host.write('/proc/%d/status' % PID, 'Name:\tvllm\nCpus_allowed:\tffff\nCpus_allowed_list:\t%s\n' % cpus)
    lines = ['55d0c0a00000-55d0c0a01000 r--p 00000000 08:01 131 /usr/bin/python3.11',
             '7f1c00000000-7f1c00021000 rw-p 00000000 00:00 0 ',
             '7f1c10000000-7f1c10100000 r-xp 00000000 00:00 0                          [heap]']
    lines += ['7f1c2%07x-7f1c3%07x r-xp 00000000 08:01 200 %s' % (i, i, lib) for i, lib in enumerate(libs)]
    host.write('/proc/%d/maps' % PID, '\n'.join(lines) + '\n')
    host.write(JEMALLOC, 'ELF')


def swap_off(host):
    """What the swap module leaves: no active area, the fstab line commented."""
    host.write('/proc/swaps', 'Filename\tType\tSize\tUsed\tPriority\n')
    host.write('/etc/fstab', host.read('/etc/fstab').replace('UUID=5a5a', _swap.COMMENT_PREFIX + 'UUID=5a5a'))


# -- detection through the module ------------------------------------------------------
def test_nvidia_host_from_pci(fake_host, no_nvml):
    result = run_module(inference_host_info, {})
    assert result['changed'] is False
    assert result['accelerator_kind'] == 'nvidia'
    assert result['accelerator_counts'] == {'nvidia': 8, 'ascend': 0, 'tpu': 0}
    assert [a['numa_node'] for a in result['accelerators']] == [0] * 4 + [1] * 4
    assert result['numa'] == {'nodes': {'0': {'cpus': '0-15', 'memory_kb': 528000000},
                                        '1': {'cpus': '16-31', 'memory_kb': 528000000}}}
    assert result['kernel'] == {'release': '6.1.0-27-amd64', 'version': [6, 1]}
    assert 'audit' not in result and 'summary' not in result


def test_nvidia_through_nvml(fake_host, fake_nvml):  # noqa: F811  pylint: disable=redefined-outer-name
    result = run_module(inference_host_info, {'detect': ['nvidia']})
    assert [(a['id'], a['model'], a['numa_node'], a['source']) for a in result['accelerators']] == [
        ('0000:17:00.0', 'NVIDIA H100 80GB HBM3', 0, 'nvml'),
        ('0000:27:00.0', 'NVIDIA L40S', 0, 'nvml'),
        ('0000:57:00.0', 'NVIDIA A100-SXM4-80GB', 1, 'nvml')]
    assert result['notes'] == []


def test_use_nvml_never_reads_pci(fake_host, fake_nvml):  # noqa: F811  pylint: disable=redefined-outer-name
    result = run_module(inference_host_info, {'detect': ['nvidia'], 'use_nvml': 'never'})
    assert len(result['accelerators']) == 8 and result['accelerators'][0]['source'] == 'pci'


def test_ascend_host(fake_host, no_nvml, monkeypatch):
    remove_nvidia(fake_host)
    add_ascend(fake_host)
    out = ''.join('NPU ID : %d\nProduct Name : Ascend 910B3\nChip Count : 1\n\n' % i for i in range(8))
    commands = FakeCommands(bins=['npu-smi'], handlers={'npu-smi': lambda argv: (0, out, '')}).install(monkeypatch)
    result = run_module(inference_host_info, {})
    assert result['accelerator_kind'] == 'ascend'
    assert result['accelerator_counts'] == {'nvidia': 0, 'ascend': 8, 'tpu': 0}
    assert [a['numa_node'] for a in result['accelerators']] == [0] * 4 + [1] * 4
    assert commands.names() == ['npu-smi info -l']


def test_fake_pci_tree_roots(fake_host, no_nvml):
    remove_nvidia(fake_host)
    for i in range(4):
        base = '/opt/fake-sysfs/bus/pci/devices/0000:%02x:05.0' % i
        fake_host.write(base + '/vendor', '0x1ae0\n')
        fake_host.write(base + '/device', '0x005e\n')
        fake_host.write(base + '/class', '0x120000\n')
        fake_host.write(base + '/numa_node', '%d\n' % (i // 2))
        fake_host.write('/opt/fake-dev/accel%d' % i, '')
    assert run_module(inference_host_info, {})['accelerator_kind'] == 'none'
    result = run_module(inference_host_info, {'sysfs_root': '/opt/fake-sysfs', 'devfs_root': '/opt/fake-dev'})
    assert result['accelerator_kind'] == 'tpu'
    assert [(a['id'], a['numa_node']) for a in result['accelerators']] == [
        ('/dev/accel0', 0), ('/dev/accel1', 0), ('/dev/accel2', 1), ('/dev/accel3', 1)]
    # the NUMA inventory is still the host's own
    assert sorted(result['numa']['nodes']) == ['0', '1']


def test_tpu_host(fake_host, no_nvml):
    remove_nvidia(fake_host)
    add_tpu(fake_host)
    result = run_module(inference_host_info, {})
    assert result['accelerator_kind'] == 'tpu'
    assert [a['id'] for a in result['accelerators']] == ['/dev/accel%d' % i for i in range(4)]


def test_plain_host(fake_host, no_nvml):
    remove_nvidia(fake_host)
    result = run_module(inference_host_info, {})
    assert result['accelerator_kind'] == 'none' and result['accelerators'] == []


def test_detect_restricts_kinds(fake_host, no_nvml):
    add_tpu(fake_host)
    result = run_module(inference_host_info, {'detect': ['tpu']})
    assert result['accelerator_counts'] == {'tpu': 4}
    assert result['accelerator_kind'] == 'tpu'


def test_read_only_even_in_a_normal_run(fake_host, no_nvml):
    before = fake_host.snapshot()
    run_module(inference_host_info, {'desired': {'sysctl_profile': 'inference_latency', 'governor': 'performance'}})
    assert fake_host.snapshot() == before


# -- the audit through the module: one table per concern --------------------------------
def _statuses(result):
    return [(i['setting'], i['status']) for i in result['audit']]


def persisted(key, value, name='90-inference-host-tuning.conf'):
    """The value in a sysctl.d file (what the next boot applies)."""
    return lambda h: h.write('/etc/sysctl.d/' + name, '%s = %s\n' % (key, value))


def sysctl_now_and_at_boot(key, value):
    return lambda h: (h.sysctl(key, value), persisted(key, value)(h))


def thp_at_boot(lines, name='90-inference-host-tuning-hugepages.conf'):
    return lambda h: h.write('/etc/tmpfiles.d/' + name, ''.join(
        'w /sys/kernel/mm/transparent_hugepage/%s - - - - %s\n' % kv for kv in lines))


def governor_unit(governor='performance', enabled=True):
    """cpu_governor's boot unit for ``governor`` (and its wants link): what sets the governor at the next boot."""
    def setup(h):
        h.write('/etc/systemd/system/inference-cpu-governor.service', _cpu.render_governor_unit(governor, 'cpu_governor'))
        if enabled:
            h.symlink('/etc/systemd/system/inference-cpu-governor.service',
                      '/etc/systemd/system/multi-user.target.wants/inference-cpu-governor.service')
    return setup


def scheduler_rule(scheduler, globs):
    return lambda h: h.write(_block.RULE_PATH, _block.render_scheduler_rule('io_scheduler', scheduler, globs))


def all_cpus_on(governor):
    return lambda h: [h.write('/sys/devices/system/cpu/cpu%d/cpufreq/scaling_governor' % c, governor + '\n')
                      for c in range(32)]


def ledger_cmdline(params):
    return lambda h: h.write('/var/lib/inference_host_tuning/ledger.json', json.dumps(
        {'version': 1, 'extra': {'hugepages': {'cmdline': {'params': params, 'method': 'file'}}}}), mode=0o600)


AUDIT_CASES = [
    # (id, desired, setup(host), expected [(setting, status)])
    ('sysctl-drift', {'sysctl': {'vm.swappiness': 1}}, None, [('vm.swappiness', 'drift')]),
    ('sysctl-ok', {'sysctl': {'vm.swappiness': 1}}, sysctl_now_and_at_boot('vm.swappiness', 1),
     [('vm.swappiness', 'ok')]),
    # right now but not persisted, or persisted but overridden by a file read later: lost at the next boot
    ('sysctl-not-persisted', {'sysctl': {'vm.swappiness': 1}}, lambda h: h.sysctl('vm.swappiness', 1),
     [('vm.swappiness', 'drift')]),
    ('sysctl-persisted-edited', {'sysctl': {'vm.swappiness': 1}},
     lambda h: (h.sysctl('vm.swappiness', 1), persisted('vm.swappiness', 10)(h)), [('vm.swappiness', 'drift')]),
    ('sysctl-overridden-at-boot', {'sysctl': {'vm.swappiness': 1}},
     lambda h: (sysctl_now_and_at_boot('vm.swappiness', 1)(h), persisted('vm.swappiness', 60, '99-sysctl.conf')(h)),
     [('vm.swappiness', 'drift')]),
    ('sysctl-persisted-not-applied', {'sysctl': {'vm.swappiness': 1}}, persisted('vm.swappiness', 1),
     [('vm.swappiness', 'drift')]),
    ('sysctl-raise-only-above', {'sysctl': {'vm.max_map_count': '>1048576'}},
     sysctl_now_and_at_boot('vm.max_map_count', 2097152), [('vm.max_map_count', 'ok')]),
    ('sysctl-raise-only-boot-below', {'sysctl': {'vm.max_map_count': '>1048576'}},
     lambda h: (h.sysctl('vm.max_map_count', 2097152), persisted('vm.max_map_count', 65530)(h)),
     [('vm.max_map_count', 'drift')]),
    ('sysctl-raise-only-below', {'sysctl': {'vm.max_map_count': '>1048576'}}, None,
     [('vm.max_map_count', 'drift')]),
    ('sysctl-missing', {'sysctl': {'net.ipv4.tcp_fastopen': 3}}, None, [('net.ipv4.tcp_fastopen', 'unavailable')]),
    ('sysctl-tabs', {'sysctl': {'net.ipv4.ip_local_port_range': '32768 60999'}},
     persisted('net.ipv4.ip_local_port_range', '32768\t60999'), [('net.ipv4.ip_local_port_range', 'ok')]),
    # debugfs knobs are persisted by a tmpfiles.d line, as sysctl_profile writes it
    ('sched-debugfs', {'sysctl': {'kernel.sched_migration_cost_ns': 500000}},
     lambda h: h.write('/etc/tmpfiles.d/90-inference-host-tuning-sched.conf',
                       'w /sys/kernel/debug/sched/migration_cost_ns - - - - 500000\n'),
     [('kernel.sched_migration_cost_ns', 'ok')]),
    ('sched-debugfs-not-persisted', {'sysctl': {'kernel.sched_migration_cost_ns': 500000}}, None,
     [('kernel.sched_migration_cost_ns', 'drift')]),
    ('sched-debugfs-missing', {'sysctl': {'kernel.sched_migration_cost_ns': 500000}},
     lambda h: h.remove('/sys/kernel/debug/sched/migration_cost_ns'), [('kernel.sched_migration_cost_ns', 'unavailable')]),
    ('thp', {'thp': {'enabled': 'madvise', 'defrag': 'madvise'}},
     thp_at_boot([('enabled', 'madvise'), ('defrag', 'madvise')]), [('enabled', 'drift'), ('defrag', 'ok')]),
    ('thp-not-persisted', {'thp': {'defrag': 'madvise'}}, None, [('defrag', 'drift')]),
    ('thp-tmpfiles-edited', {'thp': {'defrag': 'madvise'}}, thp_at_boot([('defrag', 'always')]), [('defrag', 'drift')]),
    # an earlier file name wins in tmpfiles.d
    ('thp-tmpfiles-shadowed', {'thp': {'defrag': 'madvise'}},
     lambda h: (thp_at_boot([('defrag', 'madvise')])(h), thp_at_boot([('defrag', 'never')], '10-vendor.conf')(h)),
     [('defrag', 'drift')]),
    ('thp-kernel-parameter', {'thp': {'enabled': 'always'}},
     lambda h: h.write('/proc/cmdline', 'root=/dev/sda1 transparent_hugepage=always\n'), [('enabled', 'ok')]),
    ('thp-missing', {'thp': {'enabled': 'never'}},
     lambda h: h.remove('/sys/kernel/mm/transparent_hugepage/enabled'), [('enabled', 'unavailable')]),
    ('hugepages', {'hugepages': [{'size': '2M', 'count': 512, 'node': 0}, {'size': '2M', 'count': 0, 'node': 1},
                                 {'size': '1G', 'count': 4}, {'size': '2M', 'count': 1, 'node': 7}]},
     lambda h: h.write('/sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages', '512\n'),
     [('2M node0', 'ok'), ('2M node1', 'ok'), ('1G total', 'drift'), ('2M node7', 'unavailable')]),
    # a boot pool whose kernel parameters are written for the next boot: only a reboot brings it
    ('hugepages-boot-pending', {'hugepages': [{'size': '1G', 'count': 4, 'boot': True}]},
     ledger_cmdline(['hugepagesz=1G', 'hugepages=4']), [('1G total', 'pending_reboot')]),
    ('hugepages-boot-booted-but-short', {'hugepages': [{'size': '1G', 'count': 4, 'boot': True}]},
     lambda h: (ledger_cmdline(['hugepagesz=1G', 'hugepages=4'])(h),
                h.write('/proc/cmdline', 'root=/dev/sda1 hugepagesz=1G hugepages=4\n')), [('1G total', 'drift')]),
    ('governor-drift', {'governor': 'performance'}, None, [('scaling_governor', 'drift')]),
    ('governor-ok', {'governor': 'performance'},
     lambda h: (all_cpus_on('performance')(h), governor_unit()(h)), [('scaling_governor', 'ok')]),
    # right now, but nothing (or another governor, or a unit that is not enabled) sets it at the next boot
    ('governor-not-persisted', {'governor': 'performance'}, all_cpus_on('performance'),
     [('scaling_governor', 'drift')]),
    ('governor-unit-for-another', {'governor': 'performance'},
     lambda h: (all_cpus_on('performance')(h), governor_unit('schedutil')(h)), [('scaling_governor', 'drift')]),
    ('governor-unit-not-enabled', {'governor': 'performance'},
     lambda h: (all_cpus_on('performance')(h), governor_unit(enabled=False)(h)), [('scaling_governor', 'drift')]),
    # the fake host: 512 GiB of RAM, /dev/nvme0n1p3 active and in /etc/fstab
    ('swap-on', {'swap': {}}, None, [('swap areas', 'drift'), ('fstab', 'drift')]),
    ('swap-off', {'swap': {'disable_zswap': True}}, swap_off,
     [('swap areas', 'ok'), ('fstab', 'ok'), ('zswap', 'ok')]),
    ('swap-zswap-on', {'swap': {'disable_zswap': True}},
     lambda h: [swap_off(h), h.write('/sys/module/zswap/parameters/enabled', 'Y\n')],
     [('swap areas', 'ok'), ('fstab', 'ok'), ('zswap', 'drift')]),
    ('swap-small-host', {'swap': {'min_ram_gib': 1024}}, None, [('swap areas', 'ok')]),
    ('swap-small-host-forced', {'swap': {'min_ram_gib': 1024, 'force': True}}, None,
     [('swap areas', 'drift'), ('fstab', 'drift')]),
    ('swap-no-meminfo', {'swap': {}}, lambda h: h.remove('/proc/meminfo'), [('swap areas', 'unavailable')]),
    ('swap-no-fstab', {'swap': {}}, lambda h: [swap_off(h), h.remove('/etc/fstab')],
     [('swap areas', 'ok'), ('fstab', 'unavailable')]),
    ('io-scheduler', {'io_scheduler': 'none'}, scheduler_rule('none', ['nvme*n*']),
     [('nvme0n1', 'ok'), ('nvme1n1', 'drift')]),
    ('io-scheduler-not-persisted', {'io_scheduler': 'none'}, None, [('nvme0n1', 'drift'), ('nvme1n1', 'drift')]),
    ('io-scheduler-rule-for-other-devices', {'io_scheduler': 'none'}, scheduler_rule('none', ['nvme0n1']),
     [('nvme0n1', 'drift'), ('nvme1n1', 'drift')]),
    ('io-scheduler-globs', {'io_scheduler': {'scheduler': 'mq-deadline', 'devices': ['sd*']}},
     scheduler_rule('mq-deadline', ['sd*']), [('sda', 'ok')]),
    ('io-scheduler-none-match', {'io_scheduler': {'scheduler': 'none', 'devices': ['vd*']}}, None,
     [('vd*', 'unavailable')]),
]


@pytest.mark.parametrize('desired, setup, expected', [c[1:] for c in AUDIT_CASES], ids=[c[0] for c in AUDIT_CASES])
def test_audit_table(fake_host, no_nvml, desired, setup, expected):
    if setup:
        setup(fake_host)
    result = run_module(inference_host_info, {'detect': [], 'desired': desired})
    assert _statuses(result) == expected
    assert result['summary'] == dict((s, len([e for e in expected if e[1] == s])) for s in _audit.STATUSES)


def test_audit_profile_expands_and_settings_override(fake_host, no_nvml):
    persisted('vm.swappiness', 60)(fake_host)
    fake_host.write('/etc/sysctl.d/10-shm.conf', 'kernel.shmmax = 18446744073692774399\n')
    result = run_module(inference_host_info, {'detect': [], 'desired': {
        'sysctl_profile': 'inference_latency', 'sysctl': {'vm.swappiness': 60}}})
    by_key = dict((i['setting'], i) for i in result['audit'])
    assert set(by_key) == set(_sysctl.PROFILES['inference_latency']['settings'])
    assert by_key['vm.swappiness']['status'] == 'ok' and by_key['vm.swappiness']['desired'] == '60'
    assert by_key['kernel.shmmax']['status'] == 'ok'   # raise-only, the 64-bit default is far above
    assert by_key['vm.dirty_ratio']['status'] == 'drift'
    # right at runtime, but nothing persists it: the detail says what the next boot brings
    assert by_key['kernel.sched_migration_cost_ns']['status'] == 'drift'
    assert by_key['kernel.sched_migration_cost_ns']['detail'] == (
        '/sys/kernel/debug/sched/migration_cost_ns; nothing persists it (sysctl.d; tmpfiles.d for a debugfs knob): '
        'the kernel default comes back at the next boot')


def test_audit_sched_knob_removed_by_eevdf(fake_host, no_nvml):
    fake_host.kernel('6.8.0-45-generic')
    result = run_module(inference_host_info, {'detect': [], 'desired': {'sysctl': {'kernel.sched_latency_ns': 1}}})
    assert result['audit'][0]['status'] == 'unavailable' and 'EEVDF' in result['audit'][0]['detail']


def test_audit_governor_without_cpufreq(fake_host, no_nvml):
    for c in range(32):
        fake_host.remove('/sys/devices/system/cpu/cpu%d/cpufreq/scaling_governor' % c)
    result = run_module(inference_host_info, {'detect': [], 'desired': {'governor': 'performance'}})
    assert _statuses(result) == [('scaling_governor', 'unavailable')]


@pytest.mark.parametrize('memlock, soft, expected', [
    ('infinity', None, 'ok'),
    ('8388608', None, 'drift'),
    ('infinity', '8388608', 'drift'),
])
def test_audit_memlock_systemd(fake_host, no_nvml, monkeypatch, memlock, soft, expected):
    commands = systemd(fake_host, monkeypatch, memlock=memlock, memlock_soft=soft)
    fake_host.write(MANAGER_DROPIN, '[Manager]\nDefaultLimitMEMLOCK=infinity\n')
    fake_host.write('/etc/security/limits.d/90-inference-memlock.conf',
                    '*      soft  memlock  unlimited\n*      hard  memlock  unlimited\n')
    result = run_module(inference_host_info, {'detect': [], 'desired': {'memlock': 'unlimited'}})
    assert _statuses(result) == [('services', expected), ('logins', 'ok')]
    assert 'systemctl show -p DefaultLimitMEMLOCK -p DefaultLimitMEMLOCKSoft' in commands.names()


@pytest.mark.parametrize('limits, limits_d, expected', [
    ('Max locked memory         unlimited            unlimited            bytes\n', None,
     [('services', 'ok'), ('logins', 'drift')]),
    ('Max locked memory         8388608              8388608              bytes\n',
     '* - memlock 1048576\n', [('services', 'drift'), ('logins', 'ok')]),
    (None, '*  soft memlock 8192 # KiB\n*  hard memlock unlimited\n',
     [('services', 'unavailable'), ('logins', 'drift')]),
])
def test_audit_memlock_without_systemd(fake_host, no_nvml, limits, limits_d, expected):
    if limits:
        fake_host.write('/proc/1/limits', 'Limit                     Soft Limit           Hard Limit           Units\n'
                                          + limits)
    fake_host.write('/etc/security/limits.conf', '# /etc/security/limits.conf\n#*  soft core 0\n')
    if limits_d:
        fake_host.write('/etc/security/limits.d/10-site.conf', limits_d)
    desired = {'memlock': 1024 * 1024 * 1024}
    result = run_module(inference_host_info, {'detect': [], 'desired': desired})
    assert _statuses(result) == expected


@pytest.mark.parametrize('own, expected', [
    ('Max locked memory         8388608              8388608              bytes\n', 'drift'),
    ('Max locked memory         unlimited            unlimited            bytes\n', 'ok'),
])
def test_audit_memlock_of_services_is_the_running_servers_own(fake_host, no_nvml, monkeypatch, own, expected):
    """The manager's default says unlimited, but what the server got is in its /proc/PID/limits."""
    systemd(fake_host, monkeypatch, memlock='infinity')
    fake_host.write(MANAGER_DROPIN, '[Manager]\nDefaultLimitMEMLOCK=infinity\n')
    service_process(fake_host)
    fake_host.write('/proc/%d/limits' % PID, 'Limit                     Soft Limit           Hard Limit           Units\n'
                    + own)
    result = run_module(inference_host_info, {'detect': [], 'desired': {
        'memlock': 'unlimited', 'service': {'unit': 'vllm.service'}}})
    services = [i for i in result['audit'] if i['concern'] == 'memlock' and i['setting'] == 'services'][0]
    assert services['status'] == expected, services
    assert '/proc/%d/limits' % PID in services['detail']


MANAGER_DROPIN = '/etc/systemd/system.conf.d/90-inference-memlock.conf'
UNIT_FILE = '/etc/systemd/system/vllm.service'
UNIT_DROPIN = '/etc/systemd/system/vllm.service.d/50-operator.conf'
UNLIMITED = 'Max locked memory         unlimited            unlimited            bytes\n'


@pytest.mark.parametrize('files, expected, named', [
    # the manager's default as the memlock module writes it: the same after a reboot
    ({MANAGER_DROPIN: '[Manager]\nDefaultLimitMEMLOCK=infinity\n'}, 'ok', None),
    # the running manager says infinity, but no file does: the next boot gets systemd's built-in default
    ({}, 'drift', "built-in default"),
    # the drop-in edited since, and a later file lowers it again
    ({MANAGER_DROPIN: '[Manager]\nDefaultLimitMEMLOCK=8M\n'}, 'drift', MANAGER_DROPIN),
    ({MANAGER_DROPIN: '[Manager]\nDefaultLimitMEMLOCK=infinity\n',
      '/etc/systemd/system.conf.d/95-site.conf': '[Manager]\n#x\nDefaultLimitMEMLOCK=65536:infinity\n'},
     'drift', '95-site.conf'),
    # /etc/systemd/system.conf is read first: the drop-in still wins
    ({'/etc/systemd/system.conf': '[Manager]\nDefaultLimitMEMLOCK=64K\n',
      MANAGER_DROPIN: '[Manager]\nDefaultLimitMEMLOCK=infinity\n'}, 'ok', None),
])
def test_audit_memlock_of_services_after_the_next_boot(fake_host, no_nvml, monkeypatch, files, expected, named):
    """systemctl show gives the running manager's default; the files give the next boot's."""
    systemd(fake_host, monkeypatch, memlock='infinity')
    for path, text in files.items():
        fake_host.write(path, text)
    result = run_module(inference_host_info, {'detect': [], 'desired': {'memlock': 'unlimited'}})
    services = [i for i in result['audit'] if i['concern'] == 'memlock' and i['setting'] == 'services'][0]
    assert services['status'] == expected, services
    if named:
        assert 'after the next boot' in services['detail'] and named in services['detail'], services


@pytest.mark.parametrize('unit, dropin, expected, named', [
    # the serving unit's own LimitMEMLOCK= beats a manager default that is too low
    ('[Service]\nLimitMEMLOCK=infinity\n', None, 'ok', None),
    # an operator's drop-in lowers it for the next start (read from the disk: no daemon-reload needed)
    ('[Service]\nLimitMEMLOCK=infinity\n', '[Service]\nLimitMEMLOCK=64M\n', 'drift', UNIT_DROPIN),
    # no LimitMEMLOCK= of its own: the manager's default from the files
    ('[Service]\nExecStart=/bin/true\n', None, 'drift', MANAGER_DROPIN),
])
def test_audit_memlock_of_the_serving_unit_after_the_next_boot(fake_host, no_nvml, monkeypatch,
                                                               unit, dropin, expected, named):
    systemd(fake_host, monkeypatch, memlock='infinity')
    service_process(fake_host)
    fake_host.write('/proc/%d/limits' % PID, 'Limit                     Soft Limit           Hard Limit           Units\n'
                    + UNLIMITED)
    fake_host.write(MANAGER_DROPIN, '[Manager]\nDefaultLimitMEMLOCK=8M\n')
    fake_host.write(UNIT_FILE, unit)
    if dropin:
        fake_host.write(UNIT_DROPIN, dropin)
    result = run_module(inference_host_info, {'detect': [], 'desired': {
        'memlock': 'unlimited', 'service': {'unit': 'vllm.service'}}})
    services = [i for i in result['audit'] if i['concern'] == 'memlock' and i['setting'] == 'services'][0]
    assert services['status'] == expected, services
    assert '/proc/%d/limits' % PID in services['detail']
    if named:
        assert 'after the next boot' in services['detail'] and named in services['detail'], services


def test_audit_memlock_without_pam_limits(fake_host, no_nvml):
    result = run_module(inference_host_info, {'detect': [], 'desired': {'memlock': 'unlimited'}})
    assert _statuses(result) == [('services', 'unavailable'), ('logins', 'unavailable')]


@pytest.mark.parametrize('cpus, libs, expected', [
    ('0-15', (JEMALLOC,), [('vllm.service running', 'ok'), ('vllm.service cpus', 'ok'),
                           ('vllm.service allocator_library', 'ok')]),
    ('0-31', (JEMALLOC,), [('vllm.service running', 'ok'), ('vllm.service cpus', 'drift'),
                           ('vllm.service allocator_library', 'ok')]),
    ('0-7,8-15', ('/usr/lib/x86_64-linux-gnu/libtcmalloc.so.4',),
     [('vllm.service running', 'ok'), ('vllm.service cpus', 'ok'), ('vllm.service allocator_library', 'drift')]),
])
def test_audit_service(fake_host, no_nvml, monkeypatch, cpus, libs, expected):
    systemd(fake_host, monkeypatch)
    service_process(fake_host, cpus, libs)
    result = run_module(inference_host_info, {'detect': [], 'desired': {'service': {
        'unit': 'vllm.service', 'cpus': '0-15', 'allocator_library': JEMALLOC}}})
    assert _statuses(result) == expected


def test_audit_service_not_running(fake_host, no_nvml, monkeypatch):
    systemd(fake_host, monkeypatch, main_pid=0)
    result = run_module(inference_host_info, {'detect': [], 'desired': {'service': {
        'unit': 'vllm.service', 'cpus': '0-15'}}})
    assert _statuses(result) == [('vllm.service running', 'drift'), ('vllm.service cpus', 'unavailable')]
    assert result['audit'][0]['actual'] == 'inactive'
    assert 'not running' in result['audit'][0]['detail'] and 'not running' in result['audit'][1]['detail']


def test_audit_service_without_systemd(fake_host, no_nvml):
    result = run_module(inference_host_info, {'detect': [], 'desired': {'service': {'unit': 'vllm.service'}}})
    assert _statuses(result) == [('vllm.service running', 'unavailable')]


def test_audit_gpu_through_nvml(fake_host, fake_nvml):  # noqa: F811  pylint: disable=redefined-outer-name
    fake_nvml.update(gpu=1, persistence_mode=True, power_limit=300000)
    result = run_module(inference_host_info, {'detect': [], 'desired': {'gpu': {
        'persistence_mode': True, 'power_limit': 'max'}}})
    assert _statuses(result) == [
        ('GPU 0 persistence_mode', 'drift'), ('GPU 0 power_limit', 'ok'),
        ('GPU 1 persistence_mode', 'ok'), ('GPU 1 power_limit', 'drift'),
        ('GPU 2 persistence_mode', 'drift'), ('GPU 2 power_limit', 'ok')]
    assert result['audit'][3]['actual'] == 300 and result['audit'][3]['detail'] == 'GPU 1: 350 W is the max limit'


def test_audit_gpu_without_nvml(fake_host, no_nvml):
    result = run_module(inference_host_info, {'detect': [], 'desired': {'gpu': {'persistence_mode': True}}})
    assert _statuses(result) == [('persistence_mode', 'unavailable')]
    assert 'pynvml' in result['audit'][0]['detail']


@pytest.mark.parametrize('desired, message', [
    ({'sysctl_profile': 'fastest'}, "'fastest' is not a profile"),
    ({'sysctl': {'vm/../x': 1}}, 'not a valid sysctl name'),
    ({'hugepages': [{'size': '4M', 'count': 1}]}, 'desired.hugepages[0]'),
    ({'memlock': 'lots'}, 'desired.memlock'),
    ({'gpu': {'clocks': 'max'}}, 'desired.gpu'),
    ({'service': {'cpus': '0-3'}}, 'desired.service'),
    ({'service': {'unit': 'x.service', 'cpus': '3-1'}}, 'desired.service.cpus'),
    ({'service': {'unit': 'x.service', 'allocator_library': 'libjemalloc.so.2'}},
     'desired.service.allocator_library'),
    ({'clocks': 'max'}, 'unknown key(s) clocks'),
    ({'swap': 'off'}, 'desired.swap must be a dictionary'),
    ({'swap': {'state': 'off'}}, 'desired.swap must be a dictionary'),
    ({'swap': {'min_ram_gib': -4}}, 'desired.swap.min_ram_gib'),
    ({'swap': {'force': 'yes'}}, 'desired.swap.force'),
])
def test_invalid_desired_fails(fake_host, no_nvml, desired, message):
    assert message in fail_module(inference_host_info, {'detect': [], 'desired': desired})['msg']


# -- desired_by_kind: detect and audit in one call ------------------------------------------
BY_KIND = {
    'nvidia': {'governor': 'performance', 'memlock': 'unlimited'},
    'tpu': {'thp': {'enabled': 'always'}},
    'none': {'sysctl': {'vm.swappiness': 1}},
}


def test_desired_by_kind_audits_the_kind_found(fake_host, no_nvml):
    result = run_module(inference_host_info, {'desired_by_kind': BY_KIND})
    assert result['accelerator_kind'] == result['host_kind'] == 'nvidia'
    assert result['desired'] == BY_KIND['nvidia']
    assert sorted(set(i['concern'] for i in result['audit'])) == ['governor', 'memlock']
    assert sum(result['summary'].values()) == len(result['audit'])


def test_desired_by_kind_plain_and_tpu_hosts(fake_host, no_nvml):
    remove_nvidia(fake_host)
    fake_host.write('/proc/sys/vm/swappiness', '1\n')
    persisted('vm.swappiness', 1)(fake_host)
    plain = run_module(inference_host_info, {'desired_by_kind': BY_KIND})
    assert plain['host_kind'] == 'none'
    assert _statuses(plain) == [('vm.swappiness', 'ok')]
    add_tpu(fake_host)
    tpu = run_module(inference_host_info, {'desired_by_kind': BY_KIND})
    assert tpu['host_kind'] == 'tpu' and [i['concern'] for i in tpu['audit']] == ['thp']


def test_kind_forces_the_profile(fake_host, no_nvml):
    result = run_module(inference_host_info, {'desired_by_kind': BY_KIND, 'kind': 'none'})
    assert result['accelerator_kind'] == 'nvidia' and result['host_kind'] == 'none'
    assert [i['setting'] for i in result['audit']] == ['vm.swappiness']


def test_kind_without_a_profile_audits_nothing(fake_host, no_nvml):
    result = run_module(inference_host_info, {'desired_by_kind': BY_KIND, 'kind': 'ascend'})
    assert result['desired'] == {} and result['audit'] == []
    assert result['summary'] == {'ok': 0, 'drift': 0, 'pending_reboot': 0, 'unavailable': 0}


@pytest.mark.parametrize('by_kind, message', [
    ({'gpu': {}}, 'desired_by_kind: unknown kind(s) gpu; use nvidia, ascend, tpu, none'),
    # a bad profile fails even where the host is not of that kind (here: an NVIDIA host)
    ({'tpu': {'sysctl_profile': 'fastest'}}, "desired_by_kind.tpu: desired.sysctl_profile: 'fastest' is not"),
])
def test_invalid_desired_by_kind_fails(fake_host, no_nvml, by_kind, message):
    before = fake_host.snapshot()
    assert message in fail_module(inference_host_info, {'desired_by_kind': by_kind})['msg']
    assert fake_host.snapshot() == before


def test_desired_and_desired_by_kind_are_exclusive(fake_host, no_nvml):
    msg = fail_module(inference_host_info, {'desired': {}, 'desired_by_kind': {}})['msg']
    assert 'mutually exclusive' in msg


# -- desired_recorded: the audit from what the modules were asked to apply -----------------------
def test_a_host_never_converged_says_so(fake_host, no_nvml):
    result = run_module(inference_host_info, {'desired_recorded': True})
    assert result['desired'] == {}
    [item] = result['audit']
    assert (item['concern'], item['setting'], item['status']) == ('host', 'converged', 'drift')
    assert 'never converged' in item['detail'] and '/var/lib/inference_host_tuning/ledger.json' in item['detail']
    assert not fake_host.exists('/var/lib/inference_host_tuning')   # read only: nothing created


def test_the_audit_follows_the_recorded_requests(fake_host, no_nvml, monkeypatch):
    from ansible_collections.inference.host_tuning.plugins.modules import cpu_governor, io_scheduler
    FakeCommands().install(monkeypatch)             # no systemctl: the governor unit is written, not enabled
    run_module(cpu_governor, {'governor': 'performance'})
    run_module(io_scheduler, {'scheduler': 'none', 'devices': ['nvme*n*']})
    ledger = '/var/lib/inference_host_tuning/ledger.json'
    result = run_module(inference_host_info, {'desired_recorded': True})
    assert result['desired'] == {'governor': 'performance',
                                 'io_scheduler': {'scheduler': 'none', 'devices': ['nvme*n*']}}
    assert sorted(set(i['concern'] for i in result['audit'])) == ['governor', 'io_scheduler']
    status = dict((i['concern'], i['status']) for i in result['audit'])
    # the governor unit is not enabled (no systemctl here): right now, lost at the next boot
    assert status == {'governor': 'drift', 'io_scheduler': 'ok'}, result['audit']
    # check mode records nothing; state=absent forgets the request
    run_module(cpu_governor, {'governor': 'powersave'}, check=True)
    assert json.loads(fake_host.read(ledger))['requests']['cpu_governor'] == {'': {'governor': 'performance'}}
    run_module(cpu_governor, {'state': 'absent'})
    result = run_module(inference_host_info, {'desired_recorded': True})
    assert list(result['desired']) == ['io_scheduler']


@pytest.mark.parametrize('requests, message', [
    ({'io_scheduler': {'': {'scheduler': 'none', 'devices': 'nvme0n1'}}}, 'desired.io_scheduler'),
    ({'sysctl_profile': {'': {'profile': 'fastest'}}}, "desired.sysctl_profile: 'fastest' is not"),
    ({'hugepages': {'': {'pools': ['2M']}}}, 'AttributeError'),
])
def test_tampered_requests_fail_the_audit_by_name(fake_host, no_nvml, requests, message):
    fake_host.write('/var/lib/inference_host_tuning/ledger.json', json.dumps({'version': 1, 'requests': requests}),
                    mode=0o600)
    os.chmod(fake_host.path('/var/lib/inference_host_tuning'), 0o700)
    msg = fail_module(inference_host_info, {'desired_recorded': True})['msg']
    assert 'do not make a profile to audit against' in msg and message in msg, msg


def test_desired_recorded_is_exclusive(fake_host, no_nvml):
    msg = fail_module(inference_host_info, {'desired': {}, 'desired_recorded': True})['msg']
    assert 'mutually exclusive' in msg


# -- _audit pure functions --------------------------------------------------------------
def _req(value):
    return {'k': _sysctl.Request('k', value, 'why', 'settings')}


@pytest.mark.parametrize('desired, actual, status', [
    ('1', '1', 'ok'), ('1', '0', 'drift'), ('>10', '10', 'ok'), ('>10', '11', 'ok'), ('>10', '9', 'drift'),
    ('>10', 'abc', 'drift'), ('1 2', '1\t2', 'ok'), ('1', None, 'unavailable'),
])
def test_audit_sysctl_values(desired, actual, status):
    assert _audit.audit_sysctl(_req(desired), {'k': (actual, '/proc/sys/k')})[0]['status'] == status


@pytest.mark.parametrize('value, parsed', [
    ('unlimited', -1), ('infinity', -1), (-1, -1), ('8388608', 8388608), (65536, 65536), ('8M', None), (True, None),
])
def test_parse_limit(value, parsed):
    assert _audit.parse_limit(value) == parsed


@pytest.mark.parametrize('want, have, ok', [
    (-1, -1, True), (-1, 8388608, False), (1024, 2048, True), (2048, 1024, False), (1024, -1, True),
    (1024, None, False),
])
def test_limit_ok(want, have, ok):
    assert _audit.limit_ok(want, have) is ok


def test_audit_gpu_unsupported_setting_is_unavailable():
    gpus = [{'index': 0, 'persistence_mode': None, 'power_limit': {'current': 300, 'max': None}}]
    items = _audit.audit_gpu({'persistence_mode': True, 'power_limit': 'max'}, gpus)
    assert [i['status'] for i in items] == ['unavailable', 'unavailable']


def test_audit_gpu_watts():
    gpus = [{'index': 0, 'power_limit': {'current': 350, 'max': 700, 'default': 350}}]
    items = _audit.audit_gpu({'power_limit': 350}, gpus) + _audit.audit_gpu({'power_limit': 'default'}, gpus)
    assert [i['status'] for i in items] == ['ok', 'ok']


def test_summary():
    items = [{'status': s} for s in ('ok', 'ok', 'drift', 'pending_reboot', 'unavailable')]
    assert _audit.summary(items) == {'ok': 2, 'drift': 1, 'pending_reboot': 1, 'unavailable': 1}


def test_audit_swap_says_what_is_on_and_why_a_small_host_keeps_it(fake_host, no_nvml):
    on = run_module(inference_host_info, {'detect': [], 'desired': {'swap': {}}})['audit']
    assert on[0]['actual'] == '/dev/nvme0n1p3' and '1 active in /proc/swaps (8388604 KiB)' in on[0]['detail']
    assert on[1]['actual'] == ['UUID=5a5a-0001  none   swap  sw                 0  0']
    assert 'turn swap on at boot' in on[1]['detail']
    small = run_module(inference_host_info, {'detect': [], 'desired': {'swap': {'min_ram_gib': 2048}}})['audit']
    assert small == [{'concern': 'swap', 'setting': 'swap areas', 'desired': 'left on', 'actual': '/dev/nvme0n1p3',
                      'status': 'ok',
                      'detail': '1007.1 GiB of RAM, less than min_ram_gib=2048: swap is left as it is '
                                '(force turns it off)'}]


UNIT_ENV = ('CUDA_DEVICE_ORDER=PCI_BUS_ID "MALLOC_CONF=background_thread:true,dirty_decay_ms:10000" '
            'LD_PRELOAD=%s' % JEMALLOC)


@pytest.mark.parametrize('props, cpus, libs, expected', [
    # what the unit asks for, and the process has it (systemd 245+ prints ranges)
    ({'CPUAffinity': '0-15', 'Environment': UNIT_ENV}, '0-15', (JEMALLOC,), ['ok', 'ok', 'ok']),
    # older systemd prints every CPU
    ({'CPUAffinity': ' '.join(str(c) for c in range(16)), 'Environment': UNIT_ENV}, '0-15', (JEMALLOC,),
     ['ok', 'ok', 'ok']),
    # the drop-ins changed but the process was not restarted
    ({'CPUAffinity': '16-31', 'Environment': UNIT_ENV}, '0-15', (), ['ok', 'drift', 'drift']),
    # the drop-ins are gone (or not loaded)
    ({}, '0-31', (JEMALLOC,), ['ok', 'drift', 'drift']),
])
def test_audit_service_against_its_unit(fake_host, no_nvml, monkeypatch, props, cpus, libs, expected):
    systemd(fake_host, monkeypatch, unit_props=props)
    service_process(fake_host, cpus, libs)
    result = run_module(inference_host_info, {'detect': [], 'desired': {'service': {
        'unit': 'vllm.service', 'cpus': 'unit', 'allocator_library': 'unit'}}})
    assert [s for _k, s in _statuses(result)] == expected
    items = result['audit']
    if props:
        assert items[1]['desired'] == _topology.format_cpulist(_audit.unit_cpulist(props['CPUAffinity']))
        assert items[2]['desired'] == JEMALLOC
        assert 'CPUAffinity= of vllm.service' in items[1]['detail']
    else:
        assert 'sets no CPUAffinity=' in items[1]['detail'] and 'no LD_PRELOAD' in items[2]['detail']
    if expected[1] == 'drift' and props:
        assert 'restart the unit' in items[1]['detail']


def test_audit_service_maps_unreadable(fake_host, no_nvml, monkeypatch):
    """Root without CAP_SYS_PTRACE (an unprivileged container) cannot read the server's maps."""
    systemd(fake_host, monkeypatch, unit_props={'CPUAffinity': '0-15', 'Environment': UNIT_ENV})
    service_process(fake_host)
    fake_host.remove('/proc/%d/maps' % PID)
    items = run_module(inference_host_info, {'detect': [], 'desired': {'service': {
        'unit': 'vllm.service', 'allocator_library': 'unit'}}})['audit']
    assert _statuses({'audit': items}) == [('vllm.service running', 'ok'),
                                           ('vllm.service allocator_library', 'unavailable')]
    assert 'CAP_SYS_PTRACE' in items[1]['detail']


@pytest.mark.parametrize('environment, libs', [
    ('', []),
    ('A=1 B=2', []),
    ('LD_PRELOAD=/a.so', ['/a.so']),
    ('"LD_PRELOAD=/a.so /b.so" X=1', ['/a.so', '/b.so']),
    ('LD_PRELOAD=/a.so:/b.so', ['/a.so', '/b.so']),
    ('unbalanced "quote LD_PRELOAD=/a.so', ['/a.so']),
])
def test_unit_preload(environment, libs):
    assert inference_host_info.unit_preload(environment) == libs
