# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Verify the base role from the containers themselves: files, units, limits, and the report."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import json
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', '..', 'tests', 'molecule'))
from iht_verify import playbook as _playbook  # noqa: E402 pylint: disable=wrong-import-position
from iht_verify import report as _report, check_predicted_converge as _check_predicted_converge  # noqa: E402 pylint: disable=wrong-import-position

LEDGER = '/var/lib/inference_host_tuning/ledger.json'
SYSCTL_FILE = '/etc/sysctl.d/90-inference-host-tuning.conf'
HUGEPAGES_FILE = '/etc/tmpfiles.d/90-inference-host-tuning-hugepages.conf'
PREPARED_FSTAB = (
    '# /etc/fstab: static file system information.\n'
    'UUID=0d3c-feed  /      ext4  errors=remount-ro  0  1\n'
    'UUID=5a5a-0001  none   swap  sw                 0  0\n'
)


def _name(host):
    return host.backend.get_hostname()


def _sysctl_file(host):
    values = {}
    for line in host.file(SYSCTL_FILE).content_string.splitlines():
        line = line.strip()
        if line and not line.startswith(('#', ';')):
            key, _sep, value = line.partition('=')
            values[key.strip()] = value.strip()
    return values


def _ledger(host):
    return json.loads(host.file(LEDGER).content_string)


def test_check_mode_predicted_exactly_the_real_changes(host):
    _check_predicted_converge(_name(host))


def test_sysctl_profile_persisted(host):
    f = host.file(SYSCTL_FILE)
    assert f.exists and f.user == 'root' and f.mode == 0o644
    values = _sysctl_file(host)
    assert values['kernel.numa_balancing'] == '0'
    assert int(values['vm.swappiness']) <= 1
    assert int(values['vm.max_map_count']) >= 1048576


def test_read_only_proc_sys_reported_honestly(host):
    """The container's /proc/sys is read-only: values stay as they were and the run says so."""
    swappiness = host.file('/proc/sys/vm/swappiness').content_string.strip()
    assert host.run('sh -c "echo 1 > /proc/sys/vm/swappiness"').rc != 0, '/proc/sys must be read-only here'
    assert host.file('/proc/sys/vm/swappiness').content_string.strip() == swappiness
    warnings = '\n'.join(_report('run')[_name(host)]['warnings'])
    assert 'read-only' in warnings
    # Nothing was changed at runtime, so nothing runtime is recorded to restore.
    ledger = _ledger(host)
    assert not [p for p in ledger.get('runtime', {}) if p.startswith('/proc/sys/')]


def test_conflicting_sysctl_file_named(host):
    warnings = '\n'.join(_report('run')[_name(host)]['warnings'])
    assert '99-zz-site.conf' in warnings


def test_thp_persisted_through_tmpfiles(host):
    content = host.file(HUGEPAGES_FILE).content_string
    assert 'w /sys/kernel/mm/transparent_hugepage/enabled - - - - madvise' in content
    assert 'w /sys/kernel/mm/transparent_hugepage/defrag - - - - madvise' in content


def test_swap(host):
    fstab = host.file('/etc/fstab').content_string
    ledger = _ledger(host)
    if 'debian12' in _name(host):
        # forced: the swap line is commented and the original kept byte for byte
        swap_lines = [line for line in fstab.splitlines() if ' swap ' in line]
        assert swap_lines and all(line.lstrip().startswith('#') for line in swap_lines)
        original = base64.b64decode(ledger['files']['/etc/fstab']['content']).decode()
        assert original == PREPARED_FSTAB
    else:
        # this machine has less than 32 GiB of RAM: the role refuses and says so
        assert fstab.rstrip('\n') == PREPARED_FSTAB.rstrip('\n')
        warnings = '\n'.join(_report('run')[_name(host)]['warnings'])
        assert 'GiB' in warnings


@pytest.fixture(scope='module')
def audit(tmp_path_factory):
    """playbooks/audit.yml over both hosts, once: the fleet JSON."""
    out = str(tmp_path_factory.mktemp('audit'))
    result = _playbook('audit.yml', '-e', 'audit_output_dir=%s' % out)
    assert result.returncode == 0, result.stdout
    assert 'changed=0' in result.stdout, result.stdout
    with open(os.path.join(out, 'fleet-audit.json')) as f:
        return json.load(f)


def test_audit_follows_each_hosts_swap_policy(host, audit):
    """The swap items read the container's own /etc/fstab, /proc/swaps and zswap, against the host's
    group variables (base_swap_force true on debian12, false on debian13)."""
    report = audit['hosts'][_name(host)]
    items = [i for i in report['audit'] if i['concern'] == 'swap']
    by_setting = dict((i['setting'], i) for i in items)
    active = [line.split()[0] for line in host.file('/proc/swaps').content_string.splitlines()[1:] if line.strip()]
    if 'debian12' in _name(host):
        assert report['desired']['swap'] == {'min_ram_gib': 32, 'force': True, 'disable_zswap': True}
        # the converge commented the swap line: read back from the file by the audit
        assert by_setting['fstab']['status'] == 'ok' and by_setting['fstab']['actual'] == 'none', items
        # swapoff is not permitted in an unprivileged container: what /proc/swaps lists stays drift
        assert by_setting['swap areas']['status'] == ('drift' if active else 'ok'), items
        zswap = host.file('/sys/module/zswap/parameters/enabled')
        on = zswap.exists and zswap.content_string.strip() in ('Y', '1')
        assert by_setting['zswap']['actual'] == ('on' if on else 'off'), items
    else:
        # this machine has less than 32 GiB of RAM and the host is not forced: swap is left as it is
        assert report['desired']['swap'] == {'min_ram_gib': 32, 'force': False, 'disable_zswap': True}
        assert [i['setting'] for i in items] == ['swap areas'], items
        assert items[0]['status'] == 'ok' and items[0]['desired'] == 'left on', items
        assert 'less than min_ram_gib=32' in items[0]['detail'], items
        assert items[0]['actual'] == (', '.join(active) or 'off'), items
        # the fstab line the audit would flag on a forced host is still there
        assert 'UUID=5a5a-0001  none   swap' in host.file('/etc/fstab').content_string


def test_memlock_unlimited_takes_effect(host):
    limits = host.file('/etc/security/limits.d/90-inference-memlock.conf').content_string
    entries = set(tuple(line.split()) for line in limits.splitlines() if line.strip() and not line.startswith('#'))
    for who in ('*', 'root'):
        for kind in ('soft', 'hard'):
            assert (who, kind, 'memlock', 'unlimited') in entries
    assert 'DefaultLimitMEMLOCK=infinity' in host.file('/etc/systemd/system.conf.d/90-inference-memlock.conf').content_string
    # the running manager picked it up (the role re-executed systemd)
    out = host.check_output('systemctl show --property=DefaultLimitMEMLOCK')
    assert out.strip() == 'DefaultLimitMEMLOCK=infinity'


def test_docker_daemon_json_merged_not_clobbered(host):
    f = host.file('/etc/docker/daemon.json')
    if 'debian12' not in _name(host):
        assert not f.exists
        return
    data = json.loads(f.content_string)
    assert data['log-driver'] == 'journald' and data['data-root'] == '/srv/docker'
    assert data['default-ulimits']['memlock']['Soft'] == -1
    assert data['default-ulimits']['memlock']['Hard'] == -1


def test_nvme_scheduler_udev_rule(host):
    rule = host.file('/etc/udev/rules.d/60-inference-io-scheduler.rules').content_string
    assert 'ATTR{queue/scheduler}="none"' in rule
    assert 'KERNEL=="nvme' in rule


def test_cpu_governor_skipped_without_cpufreq(host):
    if host.file('/sys/devices/system/cpu/cpu0/cpufreq').exists:
        pytest.skip('this machine has cpufreq')
    assert not host.file('/etc/systemd/system/inference-cpu-governor.service').exists


def test_files_recorded_for_exact_restore(host):
    ledger = _ledger(host)
    for path in (SYSCTL_FILE, HUGEPAGES_FILE, '/etc/security/limits.d/90-inference-memlock.conf'):
        assert ledger['files'][path]['existed'] is False
