# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""revert: the ledger is built by running the other modules for real on the fake host, then undone."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import re
import stat

import pytest

from ansible_collections.inference.host_tuning.plugins.module_utils import _ledger
from ansible_collections.inference.host_tuning.plugins.modules import cpu_governor
from ansible_collections.inference.host_tuning.plugins.modules import hugepages
from ansible_collections.inference.host_tuning.plugins.modules import revert
from ansible_collections.inference.host_tuning.plugins.modules import swap
from ansible_collections.inference.host_tuning.plugins.modules import sysctl_profile
from ansible_collections.inference.host_tuning.tests.unit.fakehost import FakeCommands, FakeGrubby
from ansible_collections.inference.host_tuning.tests.unit.plugins.modules.utils import fail_module, run_module

LEDGER = _ledger.LEDGER_PATH
SYSCTL_FILE = '/etc/sysctl.d/90-inference-host-tuning.conf'
GOV_UNIT = '/etc/systemd/system/inference-cpu-governor.service'
WANTS = '/etc/systemd/system/multi-user.target.wants/inference-cpu-governor.service'
HUGEPAGES_ARGS = {'thp_enabled': 'madvise',
                  'pools': [{'size': '2M', 'count': 512, 'node': 0}, {'size': '2M', 'count': 256, 'node': 1}]}


def state(host):
    """The whole tree as {path: content}, sysfs choice files as the selected word.

    A real choice file (THP ``always [madvise] never``) reads back with brackets after
    a write of one word; the fake tree keeps the word written, so compare the selection.
    """
    out = {}
    for path, content in host.snapshot().items():
        m = re.search(r'\[([^\]]+)\]', content or '') if path.startswith('/sys/') else None
        out[path] = m.group(1) + '\n' if m else content
    return out


def tune(host):
    """sysctl_profile and hugepages, for real: the ledger records what they changed."""
    run_module(sysctl_profile, {'profile': 'inference_latency'})
    run_module(hugepages, HUGEPAGES_ARGS)
    assert host.exists(LEDGER)


def ledger(host):
    return json.loads(host.read(LEDGER)) if host.exists(LEDGER) else None


def test_revert_restores_the_host_byte_for_byte(fake_host):
    before = state(fake_host)
    tune(fake_host)
    assert fake_host.read('/proc/sys/vm/swappiness') == '1\n'
    assert state(fake_host) != before

    result = run_module(revert, {})
    assert result['changed'] is True
    assert state(fake_host) == before          # every file, /proc/sys and /sys value; no ledger left
    assert not fake_host.exists(LEDGER)
    actions = dict((f['path'], (f['owner'], f['action'])) for f in result['files'])
    assert actions[SYSCTL_FILE] == ('sysctl_profile', 'removed')
    assert actions['/etc/tmpfiles.d/90-inference-host-tuning-hugepages.conf'] == ('hugepages', 'removed')
    runtime = dict((r['path'], r) for r in result['runtime'])
    assert runtime['/proc/sys/vm/swappiness'] == {'path': '/proc/sys/vm/swappiness', 'owner': 'sysctl_profile',
                                                  'before': '1', 'after': '60', 'skipped': None}
    assert runtime['/sys/kernel/debug/sched/migration_cost_ns']['after'] == '500000'
    assert runtime['/sys/kernel/mm/transparent_hugepage/enabled']['after'] == 'always'
    # per-node pools go back before anything else
    assert result['runtime'][0]['path'].startswith('/sys/devices/system/node/')
    assert result['reboot_required'] is False and result['kept'] == []

    again = run_module(revert, {})
    assert again['changed'] is False and again['files'] == [] and again['runtime'] == []
    assert state(fake_host) == before


def test_check_mode_reports_and_writes_nothing(fake_host):
    tune(fake_host)
    tuned = state(fake_host)
    result = run_module(revert, {}, check=True)
    assert result['changed'] is True
    assert state(fake_host) == tuned
    headers = [d['before_header'] for d in result['diff']]
    assert SYSCTL_FILE in headers and 'runtime values (/proc, /sys)' in headers
    sysctl_diff = result['diff'][headers.index(SYSCTL_FILE)]
    assert sysctl_diff['after_header'] == SYSCTL_FILE + ' (absent)' and 'vm.swappiness = 1' in sysctl_diff['before']
    runtime_diff = result['diff'][headers.index('runtime values (/proc, /sys)')]
    assert '/proc/sys/vm/swappiness = 1\n' in runtime_diff['before']
    assert '/proc/sys/vm/swappiness = 60\n' in runtime_diff['after']
    # check mode predicts what the real run does
    real = run_module(revert, {})
    assert real['files'] == result['files'] and real['runtime'] == result['runtime']


def test_restores_content_mode_and_owner_of_a_file_that_existed(fake_host):
    fake_host.write(SYSCTL_FILE, '# site file\nvm.swappiness = 10\n', mode=0o600)
    before = state(fake_host)
    run_module(sysctl_profile, {'profile': 'inference_latency', 'on_conflict': 'ignore'})
    os.chmod(fake_host.path(SYSCTL_FILE), 0o644)
    result = run_module(revert, {'owners': ['sysctl_profile']})
    assert {'path': SYSCTL_FILE, 'owner': 'sysctl_profile', 'action': 'restored'} in result['files']
    assert state(fake_host) == before
    assert stat.S_IMODE(os.stat(fake_host.path(SYSCTL_FILE)).st_mode) == 0o600


def test_owners_limits_what_is_restored(fake_host):
    tune(fake_host)
    result = run_module(revert, {'owners': ['hugepages']})
    assert set(f['owner'] for f in result['files']) == {'hugepages'}
    assert fake_host.read('/proc/sys/vm/swappiness') == '1\n'
    assert fake_host.read('/sys/kernel/mm/transparent_hugepage/enabled') == 'always\n'
    left = ledger(fake_host)
    assert set(r['owner'] for r in left['runtime'].values()) == {'sysctl_profile'}


def test_read_only_runtime_warns_and_keeps_the_record(fake_host, monkeypatch):
    tune(fake_host)
    commands = FakeCommands().install(monkeypatch)
    fake_host.make_readonly('/proc/sys')
    result = run_module(revert, {})
    assert result['changed'] is True
    skipped = [r for r in result['runtime'] if r['skipped']]
    assert skipped and all(r['path'].startswith('/proc/sys/') for r in skipped)
    assert all(r['skipped'].startswith('read-only') for r in skipped)
    assert any('read-only' in w for w in commands.warnings)
    assert fake_host.read('/proc/sys/vm/swappiness') == '1\n'
    assert not fake_host.exists(SYSCTL_FILE)                       # files are restored anyway
    assert fake_host.read('/sys/kernel/mm/transparent_hugepage/enabled') == 'always\n'
    left = ledger(fake_host)
    assert sorted(left['runtime']) == sorted(r['path'] for r in skipped)
    assert left['files'] == {}
    assert result['kept'] and all(k['reason'].startswith('read-only') for k in result['kept'])

    again = run_module(revert, {})
    assert again['changed'] is False and ledger(fake_host) == left

    fake_host.readonly = []                                        # a writable host finishes the job
    final = run_module(revert, {})
    assert final['changed'] is True and not fake_host.exists(LEDGER)
    assert fake_host.read('/proc/sys/vm/swappiness') == '60\n'


def test_runtime_required_fails_before_changing_anything(fake_host):
    tune(fake_host)
    fake_host.make_readonly('/proc/sys')
    tuned = state(fake_host)
    result = fail_module(revert, {'runtime': 'required'})
    assert 'runtime=required' in result['msg'] and 'Nothing was changed' in result['msg']
    assert state(fake_host) == tuned


def _systemctl(host):
    def handler(argv):
        if argv[1] == 'enable':
            host.symlink('/etc/systemd/system/%s' % argv[2], '/etc/systemd/system/multi-user.target.wants/' + argv[2])
        elif argv[1] == 'disable':
            os.unlink(host.path('/etc/systemd/system/multi-user.target.wants/' + argv[2]))
        return 0, '', ''
    return handler


def test_units_are_disabled_and_systemd_reloaded_once(fake_host, monkeypatch):
    fake_host.mkdir('/run/systemd/system')
    commands = FakeCommands(bins=['systemctl'], handlers={'systemctl': _systemctl(fake_host)}).install(monkeypatch)
    before = state(fake_host)
    run_module(cpu_governor, {'governor': 'performance'})
    run_module(sysctl_profile, {'profile': 'inference_throughput'})
    assert fake_host.exists(WANTS)
    assert fake_host.read('/sys/devices/system/cpu/cpu3/cpufreq/scaling_governor') == 'performance\n'
    del commands.calls[:]

    check = run_module(revert, {}, check=True)
    assert check['commands'] == ['systemctl disable inference-cpu-governor.service', 'systemctl daemon-reload']
    assert commands.calls == []

    result = run_module(revert, {})
    assert commands.names() == ['systemctl disable inference-cpu-governor.service', 'systemctl daemon-reload']
    assert result['commands'] == check['commands']
    assert not fake_host.exists(WANTS) and not fake_host.exists(GOV_UNIT)
    assert state(fake_host) == before
    assert run_module(revert, {})['changed'] is False


def test_units_without_systemctl_lose_their_wants_link(fake_host, monkeypatch):
    FakeCommands(bins=['systemctl'], handlers={'systemctl': _systemctl(fake_host)}).install(monkeypatch)
    run_module(cpu_governor, {'governor': 'performance'})
    assert fake_host.exists(WANTS)
    commands = FakeCommands().install(monkeypatch)
    run_module(revert, {})
    assert commands.calls == []
    assert not fake_host.exists(WANTS) and not fake_host.exists(GOV_UNIT)


def test_swap_areas_are_turned_on_again(fake_host, monkeypatch):
    swaps = fake_host.read('/proc/swaps')
    header = swaps.splitlines(True)[0]

    def swapoff(argv):
        fake_host.write('/proc/swaps', header)
        return 0, '', ''

    def swapon(argv):
        fake_host.write('/proc/swaps', swaps)
        return 0, '', ''
    commands = FakeCommands(bins=['swapoff', 'swapon'],
                            handlers={'swapoff': swapoff, 'swapon': swapon}).install(monkeypatch)
    before = state(fake_host)
    run_module(swap, {'state': 'off'})
    assert fake_host.read('/proc/swaps') == header
    del commands.calls[:]
    check = run_module(revert, {}, check=True)
    assert check['swapped_on'] == ['/dev/nvme0n1p3'] and commands.calls == []
    result = run_module(revert, {})
    assert commands.names() == ['swapon /dev/nvme0n1p3']
    assert result['swapped_on'] == ['/dev/nvme0n1p3']
    assert {'path': '/etc/fstab', 'owner': 'swap', 'action': 'restored'} in result['files']
    assert state(fake_host) == before
    assert run_module(revert, {})['changed'] is False


def test_grubby_parameters_are_removed_and_a_reboot_reported(fake_host, monkeypatch):
    grubby = FakeGrubby('ro quiet')
    commands = FakeCommands(bins=['grubby'], handlers={'grubby': grubby}).install(monkeypatch)
    run_module(hugepages, {'pools': [{'size': '1G', 'count': 4, 'boot': True}], 'cmdline_method': 'grubby'})
    assert grubby.args == ['ro', 'quiet', 'hugepagesz=1G', 'hugepages=4']
    # the host booted with them
    fake_host.write('/proc/cmdline', 'BOOT_IMAGE=/boot/vmlinuz root=UUID=0d3c-feed ro quiet hugepagesz=1G hugepages=4\n')
    del commands.calls[:]

    check = run_module(revert, {}, check=True)
    assert grubby.args == ['ro', 'quiet', 'hugepagesz=1G', 'hugepages=4']
    assert check['changed'] is True and check['reboot_required'] is True
    assert 'grubby --update-kernel=ALL --remove-args=hugepagesz=1G hugepages=4' in check['commands']

    result = run_module(revert, {})
    assert grubby.args == ['ro', 'quiet']
    assert result['reboot_required'] is True
    assert not fake_host.exists(LEDGER)
    again = run_module(revert, {})
    assert again['changed'] is False and again['reboot_required'] is False


def test_gpu_records_are_kept_with_the_reason_and_no_warning(fake_host, monkeypatch):
    record = {'version': 1, 'files': {}, 'runtime': {}, 'extra': {'nvidia_gpu': {
        'GPU-5d1b3c2a-0000-4a6e-9c1f-0000000017a0': {'persistence_mode': False, 'power_limit_mw': 700000}}}}
    fake_host.write(LEDGER, json.dumps(record))
    commands = FakeCommands().install(monkeypatch)
    result = run_module(revert, {})
    assert result['changed'] is False
    assert result['kept'][0]['owner'] == 'nvidia_gpu'
    assert 'nvidia_gpu with state=absent' in result['kept'][0]['reason']
    # revert.yml restores them through nvidia_gpu right before: a warning here would be false there
    assert not any('nvidia_gpu' in w for w in commands.warnings)
    assert json.loads(fake_host.read(LEDGER)) == record


def test_empty_ledger(fake_host):
    before = state(fake_host)
    result = run_module(revert, {})
    assert result == {'changed': False, 'files': [], 'runtime': [], 'commands': [], 'swapped_on': [], 'kept': [],
                      'extra': [], 'reboot_required': False, 'reexec_required': False}
    assert state(fake_host) == before


@pytest.mark.parametrize('runtime', ['best_effort', 'required'])
def test_runtime_value_that_disappeared_is_dropped(fake_host, runtime):
    run_module(sysctl_profile, {'settings': {'vm.swappiness': 5}})
    fake_host.remove('/proc/sys/vm/swappiness')
    result = run_module(revert, {'runtime': runtime})
    assert 'no longer exists' in result['runtime'][0]['skipped']
    assert not fake_host.exists(LEDGER)
