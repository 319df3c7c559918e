# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno
import json
import os

import pytest

from ansible.module_utils import basic

from ansible_collections.inference.host_tuning.plugins.module_utils import _bootloader
from ansible_collections.inference.host_tuning.plugins.module_utils import _host
from ansible_collections.inference.host_tuning.plugins.module_utils import _hugepages
from ansible_collections.inference.host_tuning.plugins.module_utils import _ledger
from ansible_collections.inference.host_tuning.plugins.modules import hugepages
from ansible_collections.inference.host_tuning.tests.unit.plugins.modules.utils import ModuleFail, fail_module, run_module

TMPFILES = _hugepages.TMPFILES_PATH
GRUB_D = _bootloader.GRUB_D_PATH
THP_ENABLED = '/sys/kernel/mm/transparent_hugepage/enabled'
THP_DEFRAG = '/sys/kernel/mm/transparent_hugepage/defrag'
TOTAL_2M = '/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages'
TOTAL_1G = '/sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages'
NODE_2M = '/sys/devices/system/node/node%d/hugepages/hugepages-2048kB/nr_hugepages'
NODE_1G = '/sys/devices/system/node/node%d/hugepages/hugepages-1048576kB/nr_hugepages'
HEADER = ('# Managed by Ansible (inference.host_tuning.hugepages). Local edits are overwritten;\n'
          '# remove with state=absent or playbooks/revert.yml to restore what was here before.\n')
BOOT_CMDLINE = 'BOOT_IMAGE=/boot/vmlinuz-6.1.0-27-amd64 root=UUID=0d3c-feed ro quiet'


class Tools(object):
    """Fake boot loader tools and a kernel that keeps THP choice files and may allocate fewer pages."""

    def __init__(self):
        self.bins = set()
        self.calls = []
        self.warnings = []
        self.rc = 0
        self.caps = {}
        self.grubby_entries = [BOOT_CMDLINE.split()[1:], ['root=UUID=0d3c-feed', 'ro', 'single']]

    def get_bin_path(self, name, required=False, opt_dirs=None):
        return '/usr/sbin/' + name if name in self.bins else None

    def run_command(self, args, **kwargs):
        self.calls.append(list(args))
        tool = os.path.basename(args[0])
        if tool == 'grubby':
            if args[1] == '--info=ALL':
                out = ''.join('index=%d\nkernel="/boot/vmlinuz-%d"\nargs="%s"\nroot="UUID=0d3c-feed"\n'
                              % (i, i, ' '.join(e)) for i, e in enumerate(self.grubby_entries))
                return 0, out, ''
            add, remove = [], []
            for a in args[2:]:
                if a.startswith('--args='):
                    add = a[len('--args='):].split()
                elif a.startswith('--remove-args='):
                    remove = a[len('--remove-args='):].split()
            add_keys = set(t.split('=', maxsplit=1)[0] for t in add)
            self.grubby_entries = [[t for t in e if t not in remove and t.split('=', maxsplit=1)[0] not in add_keys] + add
                                   for e in self.grubby_entries]
            return 0, '', ''
        return self.rc, '', 'boom' if self.rc else ''


@pytest.fixture
def tools(fake_host, monkeypatch):
    t = Tools()
    monkeypatch.setattr(basic.AnsibleModule, 'get_bin_path', lambda self, *a, **kw: t.get_bin_path(*a, **kw))
    monkeypatch.setattr(basic.AnsibleModule, 'run_command', lambda self, args, **kw: t.run_command(args, **kw))
    monkeypatch.setattr(basic.AnsibleModule, 'warn', lambda self, msg: t.warnings.append(msg))

    # The kernel: a THP write moves the brackets (and refuses a word it does not offer);
    # an nr_hugepages write gets at most caps[path] pages.
    conftest_write = _host.write_runtime

    def write_runtime(path, value):
        if path.startswith(_hugepages.THP_DIR):
            words = [w.strip('[]') for w in fake_host.read(path).split()]
            if str(value) not in words:
                raise _host.RuntimeWriteError(path, OSError(errno.EINVAL, 'Invalid argument'))
            value = ' '.join('[%s]' % w if w == str(value) else w for w in words)
        elif path in t.caps:
            value = min(int(value), t.caps[path])
        return conftest_write(path, value)

    monkeypatch.setattr(_host, 'write_runtime', write_runtime)
    return t


def ledger(fake_host):
    return json.loads(fake_host.read(_ledger.LEDGER_PATH))


def count(fake_host, path):
    return int(fake_host.read(path))


# -- THP -----------------------------------------------------------------------
def test_thp_runtime_and_tmpfiles(fake_host, tools):
    r = run_module(hugepages, {'thp_enabled': 'madvise', 'thp_defrag': 'defer+madvise'})
    assert r['changed'] is True
    assert r['thp'] == {'enabled': {'before': 'always', 'after': 'madvise', 'runtime_skipped': None},
                        'defrag': {'before': 'madvise', 'after': 'defer+madvise', 'runtime_skipped': None}}
    assert fake_host.read(THP_ENABLED) == 'always [madvise] never\n'
    assert fake_host.read(THP_DEFRAG) == 'always defer [defer+madvise] madvise never\n'
    assert fake_host.read(TMPFILES) == HEADER + (
        'w /sys/kernel/mm/transparent_hugepage/enabled - - - - madvise\n'
        'w /sys/kernel/mm/transparent_hugepage/defrag - - - - defer+madvise\n')
    data = ledger(fake_host)
    assert data['runtime'][THP_ENABLED]['value'] == 'always'
    assert data['runtime'][THP_DEFRAG]['value'] == 'madvise'
    assert data['files'][TMPFILES]['existed'] is False
    assert r['cmdline'] == {'params': [], 'configured': True, 'running': True, 'method': None}
    assert r['reboot_required'] is False
    assert tools.calls == []


def test_thp_value_the_kernel_does_not_offer(fake_host, tools):
    fake_host.write(THP_DEFRAG, '[always] madvise never\n')
    before = fake_host.snapshot()
    r = fail_module(hugepages, {'thp_enabled': 'never', 'thp_defrag': 'defer+madvise'})
    assert 'thp_defrag=defer+madvise' in r['msg'] and 'always, madvise, never' in r['msg']
    assert fake_host.snapshot() == before


# -- pools ---------------------------------------------------------------------
def test_per_node_2m_pools(fake_host, tools):
    r = run_module(hugepages, {'pools': [{'size': '2M', 'count': 512, 'node': 0},
                                         {'size': '2M', 'count': 256, 'node': 1, 'min_count': 100}]})
    assert r['changed'] is True
    assert count(fake_host, NODE_2M % 0) == 512
    assert count(fake_host, NODE_2M % 1) == 256
    assert count(fake_host, TOTAL_2M) == 0
    assert fake_host.read(TMPFILES) == HEADER + (
        'w /sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages - - - - 512\n'
        'w /sys/devices/system/node/node1/hugepages/hugepages-2048kB/nr_hugepages - - - - 256\n')
    assert r['pools'] == [
        {'size': '2M', 'node': 0, 'requested': 512, 'min_count': None, 'boot': False, 'before': 0,
         'allocated': 512, 'shortfall': 0, 'persisted': 'tmpfiles', 'runtime_skipped': None},
        {'size': '2M', 'node': 1, 'requested': 256, 'min_count': 100, 'boot': False, 'before': 0,
         'allocated': 256, 'shortfall': 0, 'persisted': 'tmpfiles', 'runtime_skipped': None}]
    assert ledger(fake_host)['runtime'][NODE_2M % 0]['value'] == '0'
    assert r['reboot_required'] is False
    assert tools.warnings == []


def test_total_pool(fake_host, tools):
    r = run_module(hugepages, {'pools': [{'size': '2M', 'count': 1024}]})
    assert r['changed'] is True
    assert count(fake_host, TOTAL_2M) == 1024
    assert count(fake_host, NODE_2M % 0) == 0
    assert 'w %s - - - - 1024\n' % TOTAL_2M in fake_host.read(TMPFILES)
    assert r['pools'][0]['node'] is None and r['pools'][0]['allocated'] == 1024


def test_shortfall_is_a_warning(fake_host, tools):
    tools.caps[NODE_2M % 0] = 300
    r = run_module(hugepages, {'pools': [{'size': '2M', 'count': 512, 'node': 0}]})
    assert r['pools'][0]['allocated'] == 300
    assert r['pools'][0]['shortfall'] == 212
    assert len(tools.warnings) == 1
    assert 'allocated 300 of 512 pages, 212 short' in tools.warnings[0]
    # the persisted value is what was asked, for the next boot
    assert 'nr_hugepages - - - - 512\n' in fake_host.read(TMPFILES)
    # a second run retries, but nothing moved: not a change
    r = run_module(hugepages, {'pools': [{'size': '2M', 'count': 512, 'node': 0}]})
    assert r['changed'] is False
    assert r['pools'][0]['shortfall'] == 212


def test_shortfall_below_min_count_fails(fake_host, tools):
    tools.caps[TOTAL_2M] = 100
    r = fail_module(hugepages, {'pools': [{'size': '2M', 'count': 1024, 'min_count': 512}]})
    assert 'allocated 100 of 1024 pages' in r['msg'] and 'below min_count 512' in r['msg']
    assert r['pools'][0]['allocated'] == 100
    # what was changed is in the ledger, so state=absent can still restore it
    assert ledger(fake_host)['runtime'][TOTAL_2M]['value'] == '0'
    run_module(hugepages, {'state': 'absent'})
    assert count(fake_host, TOTAL_2M) == 0
    assert not fake_host.exists(TMPFILES)


# -- kernel command line ---------------------------------------------------------
@pytest.mark.parametrize('method', ['grub_d', 'auto'])
def test_1g_boot_pool_grub_d(fake_host, tools, method):
    tools.bins.add('update-grub')
    args = {'pools': [{'size': '1G', 'count': 8}], 'cmdline_method': method}
    r = run_module(hugepages, args)
    assert r['changed'] is True
    assert fake_host.read(GRUB_D) == HEADER + (
        'GRUB_CMDLINE_LINUX_DEFAULT="$GRUB_CMDLINE_LINUX_DEFAULT hugepagesz=1G hugepages=8"\n')
    assert tools.calls == [['/usr/sbin/update-grub']]
    assert r['cmdline'] == {'params': ['hugepagesz=1G', 'hugepages=8'], 'configured': True,
                            'running': False, 'method': 'grub_d'}
    assert r['reboot_required'] is True
    assert r['pools'][0]['persisted'] == 'cmdline'
    assert r['pools'][0]['shortfall'] is None
    assert count(fake_host, TOTAL_1G) == 0          # not written at runtime
    assert not fake_host.exists(TMPFILES)           # nothing for tmpfiles
    assert ledger(fake_host)['extra']['hugepages']['cmdline']['params'] == ['hugepagesz=1G', 'hugepages=8']
    # second run before the reboot: no change, no update-grub, still a reboot to do
    r = run_module(hugepages, args)
    assert r['changed'] is False
    assert r['reboot_required'] is True
    assert tools.calls == [['/usr/sbin/update-grub']]
    # after the reboot: the kernel allocated the pool
    fake_host.write('/proc/cmdline', BOOT_CMDLINE + ' hugepagesz=1G hugepages=8\n')
    fake_host.write(TOTAL_1G, '8\n')
    r = run_module(hugepages, args)
    assert r['changed'] is False
    assert r['reboot_required'] is False
    assert r['cmdline']['running'] is True
    assert r['pools'][0]['shortfall'] == 0


def test_boot_pool_shortfall_after_reboot_fails_below_min_count(fake_host, tools):
    fake_host.write('/proc/cmdline', BOOT_CMDLINE + ' hugepagesz=1G hugepages=8\n')
    fake_host.write(TOTAL_1G, '3\n')
    r = fail_module(hugepages, {'pools': [{'size': '1G', 'count': 8, 'min_count': 4}],
                                'cmdline_method': 'file'})
    assert 'allocated 3 of 8 pages' in r['msg']


def test_grub_d_failure_leaves_no_drop_in(fake_host, tools):
    tools.bins.add('update-grub')
    tools.rc = 1
    r = fail_module(hugepages, {'pools': [{'size': '1G', 'count': 8}]})
    assert 'update-grub failed (rc=1): boom' in r['msg']
    assert not fake_host.exists(GRUB_D)


def test_grubby(fake_host, tools):
    tools.bins.update(['grubby', 'update-grub'])    # auto prefers grubby
    args = {'pools': [{'size': '1G', 'count': 2, 'node': 0}, {'size': '1G', 'count': 4, 'node': 1},
                      {'size': '2M', 'count': 64, 'boot': True}]}
    r = run_module(hugepages, args)
    params = ['hugepagesz=2M', 'hugepages=64', 'hugepagesz=1G', 'hugepages=0:2,1:4']
    assert r['changed'] is True
    assert r['cmdline'] == {'params': params, 'configured': True, 'running': False, 'method': 'grubby'}
    assert tools.calls == [['/usr/sbin/grubby', '--info=ALL'],
                           ['/usr/sbin/grubby', '--update-kernel=ALL', '--args=' + ' '.join(params)]]
    assert tools.grubby_entries[0] == ['root=UUID=0d3c-feed', 'ro', 'quiet'] + params
    assert r['diff'][0]['after'].splitlines()[1] == ' '.join(['root=UUID=0d3c-feed', 'ro', 'single'] + params)
    assert not fake_host.exists(GRUB_D)
    del tools.calls[:]
    assert run_module(hugepages, args)['changed'] is False
    assert tools.calls == [['/usr/sbin/grubby', '--info=ALL']]
    # a smaller request: the 2M boot pool goes, its arguments are removed
    args['pools'] = args['pools'][:2]
    r = run_module(hugepages, args)
    assert r['changed'] is True
    assert tools.calls[-1] == ['/usr/sbin/grubby', '--update-kernel=ALL', '--remove-args=hugepagesz=2M hugepages=64']
    assert tools.grubby_entries[0] == ['root=UUID=0d3c-feed', 'ro', 'quiet', 'hugepagesz=1G', 'hugepages=0:2,1:4']
    # absent removes exactly ours
    r = run_module(hugepages, {'state': 'absent'})
    assert r['changed'] is True
    assert tools.calls[-1] == ['/usr/sbin/grubby', '--update-kernel=ALL',
                               '--remove-args=hugepagesz=1G hugepages=0:2,1:4']
    assert tools.grubby_entries == [['root=UUID=0d3c-feed', 'ro', 'quiet'], ['root=UUID=0d3c-feed', 'ro', 'single']]
    assert not fake_host.exists(_ledger.LEDGER_PATH)


def test_file_method_and_running(fake_host, tools):
    args = {'pools': [{'size': '1G', 'count': 4}], 'default_size': '1G', 'cmdline_method': 'file',
            'cmdline_file': '/etc/inference-host-tuning/boot/cmdline'}
    r = run_module(hugepages, args)
    assert fake_host.read('/etc/inference-host-tuning/boot/cmdline') == 'hugepagesz=1G hugepages=4 default_hugepagesz=1G\n'
    assert r['reboot_required'] is True and r['cmdline']['running'] is False
    assert tools.calls == []
    # the kernel runs with our parameters (others around them): no reboot needed
    fake_host.write('/proc/cmdline', BOOT_CMDLINE + ' hugepagesz=1G hugepages=4 default_hugepagesz=1G nosmt\n')
    r = run_module(hugepages, args)
    assert r['changed'] is False
    assert r['reboot_required'] is False and r['cmdline']['running'] is True
    # a different count is configured but not running yet
    args['pools'][0]['count'] = 6
    r = run_module(hugepages, args)
    assert r['changed'] is True and r['reboot_required'] is True
    assert fake_host.read('/etc/inference-host-tuning/boot/cmdline') == 'hugepagesz=1G hugepages=6 default_hugepagesz=1G\n'
    r = run_module(hugepages, {'state': 'absent'})
    assert r['changed'] is True
    assert r['reboot_required'] is True          # the running kernel still has what was removed
    assert not fake_host.exists('/etc/inference-host-tuning/boot/cmdline')


def test_1g_without_pdpe1gb_fails(fake_host, tools):
    fake_host.write('/proc/cpuinfo', fake_host.read('/proc/cpuinfo').replace(' pdpe1gb', ''))
    before = fake_host.snapshot()
    r = fail_module(hugepages, {'thp_enabled': 'madvise', 'pools': [{'size': '1G', 'count': 4}],
                                'cmdline_method': 'file'})
    assert 'pdpe1gb' in r['msg'] and 'pools[0]' in r['msg']
    assert fake_host.snapshot() == before


def test_auto_without_a_boot_loader_tool_fails(fake_host, tools):
    before = fake_host.snapshot()
    r = fail_module(hugepages, {'thp_enabled': 'never', 'pools': [{'size': '1G', 'count': 4}]})
    assert 'set cmdline_method to grub_d, grubby or file' in r['msg']
    assert fake_host.snapshot() == before


# -- check mode, diff, idempotence ---------------------------------------------------
FULL = {'thp_enabled': 'madvise', 'thp_defrag': 'defer+madvise',
        'pools': [{'size': '2M', 'count': 512, 'node': 0}, {'size': '2M', 'count': 512, 'node': 1},
                  {'size': '1G', 'count': 4}],
        'cmdline_method': 'grub_d'}


def test_check_mode_writes_nothing_and_predicts(fake_host, tools):
    tools.bins.add('update-grub')
    before = fake_host.snapshot()
    r = run_module(hugepages, FULL, check=True)
    assert fake_host.snapshot() == before
    assert tools.calls == []
    assert r['changed'] is True
    assert r['thp']['enabled']['after'] == 'madvise'
    assert r['pools'][0]['allocated'] is None
    assert r['reboot_required'] is True
    assert [d['after_header'] for d in r['diff']] == [TMPFILES, GRUB_D]
    real = run_module(hugepages, FULL)
    assert real['diff'] == r['diff']
    # nothing left to do: check mode and a real run agree
    assert run_module(hugepages, FULL, check=True)['changed'] is False
    after = fake_host.snapshot()
    r = run_module(hugepages, FULL)
    assert r['changed'] is False and r['diff'] == []
    assert fake_host.snapshot() == after
    assert tools.calls == [['/usr/sbin/update-grub']]


def test_diff_content(fake_host, tools):
    r = run_module(hugepages, {'thp_enabled': 'never'})
    assert r['diff'] == [{'before_header': TMPFILES + ' (absent)', 'after_header': TMPFILES, 'before': '',
                          'after': HEADER + 'w %s - - - - never\n' % THP_ENABLED}]
    r = run_module(hugepages, {'thp_enabled': 'madvise'})
    assert r['diff'][0]['before'].endswith('never\n') and r['diff'][0]['after'].endswith('madvise\n')


# -- absent ----------------------------------------------------------------------------
def test_absent_restores_exact_originals(fake_host, tools):
    tools.bins.add('update-grub')
    fake_host.write(NODE_2M % 1, '7\n')
    original = fake_host.snapshot('/sys', '/etc')
    run_module(hugepages, FULL)
    run_module(hugepages, dict(FULL, thp_enabled='never'))     # a second change keeps the first original
    assert fake_host.read(THP_ENABLED) == 'always madvise [never]\n'
    del tools.calls[:]
    r = run_module(hugepages, {'state': 'absent'}, check=True)
    assert r['changed'] is True and tools.calls == []
    r = run_module(hugepages, {'state': 'absent'})
    assert r['changed'] is True
    assert r['thp']['enabled'] == {'before': 'never', 'after': 'always', 'runtime_skipped': None}
    assert fake_host.snapshot('/sys', '/etc') == original
    assert not fake_host.exists(TMPFILES) and not fake_host.exists(GRUB_D)
    assert tools.calls == [['/usr/sbin/update-grub']]
    assert not fake_host.exists(_ledger.LEDGER_PATH)
    assert run_module(hugepages, {'state': 'absent'})['changed'] is False


@pytest.mark.parametrize('check', [True, False])
def test_absent_leaves_a_foreign_file_it_has_no_record_of(fake_host, tools, check):
    """No ledger record and no header of ours: someone else's file at our paths stays, and grub.cfg is not
    regenerated for it."""
    tools.bins.add('update-grub')
    fake_host.write(TMPFILES, 'w /sys/kernel/mm/transparent_hugepage/enabled - - - - never\n')
    fake_host.write(GRUB_D, 'GRUB_CMDLINE_LINUX_DEFAULT="$GRUB_CMDLINE_LINUX_DEFAULT nosmt"\n')
    before = fake_host.snapshot()
    r = run_module(hugepages, {'state': 'absent'}, check=check)
    assert r['changed'] is False and r['diff'] == [] and r['reboot_required'] is False
    assert fake_host.snapshot() == before
    assert tools.calls == [] and tools.warnings == []


def test_absent_removes_its_own_file_without_a_record(fake_host, tools):
    """Our header, no ledger record (a ledger lost or removed): the file is ours, it goes."""
    tools.bins.add('update-grub')
    fake_host.write(TMPFILES, HEADER + 'w /sys/kernel/mm/transparent_hugepage/enabled - - - - never\n')
    fake_host.write(GRUB_D, HEADER + 'GRUB_CMDLINE_LINUX_DEFAULT="$GRUB_CMDLINE_LINUX_DEFAULT hugepages=8"\n')
    r = run_module(hugepages, {'state': 'absent'}, check=True)
    assert r['changed'] is True and [d['before_header'] for d in r['diff']] == [TMPFILES, GRUB_D]
    assert fake_host.exists(TMPFILES) and tools.calls == []
    r = run_module(hugepages, {'state': 'absent'})
    assert r['changed'] is True
    assert not fake_host.exists(TMPFILES) and not fake_host.exists(GRUB_D)
    assert tools.calls == [['/usr/sbin/update-grub']]


def test_absent_without_grubby_fails_and_keeps_the_record(fake_host, tools):
    tools.bins.add('grubby')
    run_module(hugepages, {'pools': [{'size': '1G', 'count': 2}], 'cmdline_method': 'grubby'})
    tools.bins.discard('grubby')
    before = fake_host.snapshot()
    for check in (True, False):
        r = fail_module(hugepages, {'state': 'absent'}, check=check)
        assert 'grubby was not found' in r['msg']
    assert fake_host.snapshot() == before
    assert ledger(fake_host)['extra']['hugepages']['cmdline']['params'] == ['hugepagesz=1G', 'hugepages=2']


def test_absent_keeps_other_owners(fake_host, tools):
    run_module(hugepages, {'thp_enabled': 'never'})
    data = ledger(fake_host)
    data['runtime']['/proc/sys/vm/swappiness'] = {'value': '60', 'owner': 'sysctl_profile', 'recorded': 'x'}
    fake_host.write(_ledger.LEDGER_PATH, json.dumps(data))
    run_module(hugepages, {'state': 'absent'})
    assert list(ledger(fake_host)['runtime']) == ['/proc/sys/vm/swappiness']


# -- read-only sysfs (unprivileged container) ---------------------------------------------
def test_readonly_sys_persists_and_warns(fake_host, tools):
    fake_host.make_readonly('/sys')
    args = {'thp_enabled': 'madvise', 'pools': [{'size': '2M', 'count': 512, 'node': 0}]}
    r = run_module(hugepages, args, check=True)
    assert r['changed'] is True
    r = run_module(hugepages, args)
    assert r['changed'] is True
    assert r['thp']['enabled']['after'] == 'always'
    assert r['thp']['enabled']['runtime_skipped'].startswith('read-only')
    assert r['pools'][0]['runtime_skipped'].startswith('read-only')
    assert r['pools'][0]['allocated'] == 0 and r['pools'][0]['shortfall'] is None
    assert fake_host.read(THP_ENABLED) == '[always] madvise never\n'
    assert 'enabled - - - - madvise' in fake_host.read(TMPFILES)
    assert len(tools.warnings) == 2   # two runs, one warning naming both runtime values
    assert all(THP_ENABLED in w and 'nr_hugepages' in w for w in tools.warnings)
    assert list(ledger(fake_host)['runtime']) == []
    r = run_module(hugepages, args)
    assert r['changed'] is False


def test_readonly_sys_runtime_required_fails_before_writing(fake_host, tools):
    fake_host.make_readonly('/sys')
    before = fake_host.snapshot()
    r = fail_module(hugepages, {'thp_enabled': 'madvise', 'runtime': 'required'})
    assert 'runtime=required' in r['msg'] and THP_ENABLED in r['msg']
    assert fake_host.snapshot() == before


def test_runtime_skip_only_persists(fake_host, tools):
    r = run_module(hugepages, {'thp_enabled': 'never', 'pools': [{'size': '2M', 'count': 8}], 'runtime': 'skip'})
    assert r['changed'] is True
    assert fake_host.read(THP_ENABLED) == '[always] madvise never\n'
    assert count(fake_host, TOTAL_2M) == 0
    assert r['pools'][0]['runtime_skipped'] == 'runtime: skip'
    assert tools.warnings == []


# -- bad input ------------------------------------------------------------------------------
@pytest.mark.parametrize('args, expect', [
    ({'pools': [{'size': '2M', 'count': -1}]}, 'count=-1 is negative'),
    ({'pools': [{'size': '2M', 'count': 8, 'node': 5}]}, 'NUMA node 5 does not exist; nodes here: 0, 1'),
    ({'pools': [{'size': '4M', 'count': 8}]}, '4M'),
    ({'pools': [{'size': '2M', 'count': 8, 'min_count': 9}]}, 'min_count=9 must be between 0 and count (8)'),
    ({'pools': [{'size': '2M', 'count': 8}, {'size': '2M', 'count': 9}]}, 'duplicates pools[0]'),
    ({'pools': [{'size': '2M', 'count': 8}, {'size': '2M', 'count': 9, 'node': 1}]}, 'both a total pool'),
    ({'thp_enabled': 'sometimes'}, 'sometimes'),
    ({'pools': [{'size': '1G', 'count': 1}], 'cmdline_method': 'file', 'cmdline_file': 'relative/cmdline'},
     'cmdline_file must be an absolute path'),
])
def test_bad_input_changes_nothing(fake_host, tools, args, expect):
    before = fake_host.snapshot()
    r = fail_module(hugepages, dict(args, thp_defrag='never'))
    assert expect in r['msg']
    assert fake_host.snapshot() == before


def test_per_node_boot_pool_needs_5_16(fake_host, tools):
    fake_host.kernel('5.10.0-30-amd64')
    before = fake_host.snapshot()
    r = fail_module(hugepages, {'pools': [{'size': '1G', 'count': 2, 'node': 1}], 'cmdline_method': 'file'})
    assert 'Linux 5.16' in r['msg'] and '5.10.0-30-amd64' in r['msg']
    assert fake_host.snapshot() == before


def test_module_fail_is_raised_for_bad_spec(fake_host, tools):
    with pytest.raises(ModuleFail):
        run_module(hugepages, {'pools': [{'count': 1}]})
