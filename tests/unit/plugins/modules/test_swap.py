# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os

import pytest

from ansible_collections.inference.host_tuning.plugins.module_utils import _ledger
from ansible_collections.inference.host_tuning.plugins.module_utils import _swap
from ansible_collections.inference.host_tuning.plugins.modules import swap
from ansible_collections.inference.host_tuning.tests.unit.fakehost import FakeCommands
from ansible_collections.inference.host_tuning.tests.unit.plugins.modules.utils import fail_module, refused, run_module

FSTAB = (
    '# /etc/fstab: static file system information.\n'
    'UUID=0d3c-feed  /      ext4  errors=remount-ro  0  1\n'
    'UUID=5a5a-0001  none   swap  sw                 0  0\n')
SWAPS_HEADER = 'Filename\tType\tSize\tUsed\tPriority\n'
EPERM = 'swapoff: %s: swapoff failed: Operation not permitted'


def swap_line(name, prio=-2):
    return '%-40s partition\t8388604\t0\t%d\n' % (name, prio)


@pytest.fixture
def cmds(fake_host, monkeypatch):
    """swapoff/swapon that edit the fake /proc/swaps as the kernel would."""

    def swapoff(argv):
        lines = fake_host.read('/proc/swaps').splitlines(True)
        fake_host.write('/proc/swaps', ''.join(
            l for l in lines if not l.startswith(argv[-1] + ' ') and not l.startswith(argv[-1] + '\t')))
        return 0, '', ''

    def swapon(argv):
        prio = int(argv[argv.index('-p') + 1]) if '-p' in argv else -2
        fake_host.write('/proc/swaps', fake_host.read('/proc/swaps') + swap_line(argv[-1], prio))
        return 0, '', ''

    return FakeCommands(bins=['swapoff', 'swapon'],
                        handlers={'swapoff': swapoff, 'swapon': swapon}).install(monkeypatch)


def ledger(fake_host):
    return json.loads(fake_host.read(_ledger.LEDGER_PATH))


def test_off_comments_fstab_and_swaps_off(fake_host, cmds):
    r = run_module(swap, {})
    assert r['changed'] is True
    assert cmds.names() == ['swapoff /dev/nvme0n1p3']
    assert fake_host.read('/etc/fstab') == FSTAB.replace(
        'UUID=5a5a-0001', '# inference.host_tuning: UUID=5a5a-0001')
    assert r['fstab_lines_commented'] == ['UUID=5a5a-0001  none   swap  sw                 0  0']
    assert [s['name'] for s in r['swaps_before']] == ['/dev/nvme0n1p3']
    assert r['swaps_after'] == []
    assert r['ram_gib'] == 1007.1
    assert r['runtime_skipped'] is False
    assert r['diff'][0]['before'] == FSTAB
    data = ledger(fake_host)
    assert data['files']['/etc/fstab']['owner'] == 'swap'
    assert data['extra']['swap']['swapped_off'] == [
        {'name': '/dev/nvme0n1p3', 'type': 'partition', 'priority': -2}]
    assert not fake_host.exists('/etc/fstab.inference-host-tuning.bak')


def test_check_mode_predicts_and_writes_nothing(fake_host, cmds):
    before = fake_host.snapshot()
    r = run_module(swap, {}, check=True)
    assert r['changed'] is True
    assert r['swaps_after'] == []
    assert r['fstab_lines_commented']
    assert cmds.calls == []
    assert fake_host.snapshot() == before


def test_idempotent(fake_host, cmds):
    run_module(swap, {})
    cmds.calls[:] = []
    assert run_module(swap, {}, check=True)['changed'] is False
    r = run_module(swap, {})
    assert r['changed'] is False
    assert 'diff' not in r
    assert cmds.calls == []


def test_on_restores_byte_for_byte(fake_host, cmds):
    fake_host.write('/proc/swaps', SWAPS_HEADER + swap_line('/dev/nvme0n1p3', 5))
    run_module(swap, {})
    cmds.calls[:] = []
    check = run_module(swap, {'state': 'on'}, check=True)
    assert check['changed'] is True and check['swapped_on'] == ['/dev/nvme0n1p3']
    assert cmds.calls == []
    r = run_module(swap, {'state': 'on'})
    assert r['changed'] is True
    assert cmds.names() == ['swapon -p 5 /dev/nvme0n1p3']
    assert r['fstab_lines_restored'] == ['UUID=5a5a-0001  none   swap  sw                 0  0']
    assert fake_host.read('/etc/fstab') == FSTAB
    assert [s['name'] for s in r['swaps_after']] == ['/dev/nvme0n1p3']
    assert not fake_host.exists(_ledger.LEDGER_PATH)
    assert run_module(swap, {'state': 'on'})['changed'] is False


@pytest.mark.parametrize('how', ['swap on', 'revert'])
def test_fstab_edited_by_another_tool_keeps_its_edit(fake_host, cmds, how):
    """A mount added to /etc/fstab after our converge survives swap state=on and revert.yml: only our commented
    line is put back; check mode shows exactly that."""
    from ansible_collections.inference.host_tuning.plugins.modules import revert
    run_module(swap, {})
    nfs = 'nfs:/models  /models  nfs  ro  0  0\n'
    fake_host.write('/etc/fstab', fake_host.read('/etc/fstab') + nfs)
    module, args = (swap, {'state': 'on'}) if how == 'swap on' else (revert, {})
    check = run_module(module, args, check=True)
    diff = check['diff'][0] if isinstance(check['diff'], list) else check['diff']
    assert diff['after'] == FSTAB + nfs
    r = run_module(module, args)
    assert r['changed'] is True and fake_host.read('/etc/fstab') == FSTAB + nfs
    assert any('only the collection' in w for w in cmds.warnings)
    # nothing of theirs was set aside: no edited copy
    assert not fake_host.exists(_ledger.EDITED_DIR)


def test_fstab_our_line_edited_since_falls_back_to_the_original_and_keeps_the_edit(fake_host, cmds):
    run_module(swap, {})
    edited = fake_host.read('/etc/fstab').replace('sw    ', 'sw,pri=3')
    fake_host.write('/etc/fstab', edited)
    run_module(swap, {'state': 'on'})
    assert fake_host.read('/etc/fstab') == FSTAB
    kept = os.listdir(fake_host.path(_ledger.EDITED_DIR))
    assert edited != fake_host.read('/etc/fstab') and len(kept) == 1 and fake_host.read(_ledger.EDITED_DIR + '/' + kept[0]) == edited


def test_on_without_ledger_uncomments_our_lines(fake_host, cmds):
    fake_host.write('/etc/fstab', FSTAB.replace('UUID=5a5a', _swap.COMMENT_PREFIX + 'UUID=5a5a')
                    + '#UUID=other none swap sw 0 0\n')
    r = run_module(swap, {'state': 'on'})
    assert r['changed'] is True
    assert fake_host.read('/etc/fstab') == FSTAB + '#UUID=other none swap sw 0 0\n'
    assert cmds.calls == []


@pytest.mark.parametrize('args, mem_kb, ok', [
    ({}, 16 * 1024 * 1024, False),
    ({}, 32 * 1024 * 1024, True),
    ({'min_ram_gib': 8}, 16 * 1024 * 1024, True),
    ({'force': True}, 4 * 1024 * 1024, True),
])
def test_small_host_refusal(fake_host, cmds, args, mem_kb, ok):
    fake_host.write('/proc/meminfo', 'MemTotal:       %d kB\nMemFree:  1 kB\n' % mem_kb)
    before = fake_host.snapshot()
    if ok:
        assert run_module(swap, args)['changed'] is True
        return
    r = fail_module(swap, args)
    assert '16.0 GiB' in r['msg'] and 'force=true' in r['msg'] and 'swap to survive' in r['msg']
    assert fake_host.snapshot() == before
    assert cmds.calls == []


def test_unreadable_meminfo_needs_force(fake_host, cmds):
    fake_host.remove('/proc/meminfo')
    assert 'MemTotal' in fail_module(swap, {})['msg']
    assert run_module(swap, {'force': True})['ram_gib'] is None


@pytest.mark.parametrize('args, words', [
    ({'state': 'maybe'}, ['state', 'off, on']),
    ({'min_ram_gib': -1}, ['min_ram_gib']),
    ({'runtime': 'sometimes'}, ['runtime']),
])
def test_bad_input_writes_nothing(fake_host, cmds, args, words):
    refused(fake_host, swap, args, words)


def test_container_eperm_is_skipped_with_warning(fake_host, cmds):
    cmds.handlers['swapoff'] = lambda argv: (4, '', EPERM % argv[-1])
    r = run_module(swap, {})
    assert r['changed'] is True          # fstab
    assert r['runtime_skipped'] is True
    assert any('not permitted' in w for w in cmds.warnings)
    assert [s['name'] for s in r['swaps_after']] == ['/dev/nvme0n1p3']
    assert 'swap' not in ledger(fake_host).get('extra', {})
    assert _swap.COMMENT_PREFIX in fake_host.read('/etc/fstab')
    r = run_module(swap, {})
    assert r['changed'] is False and r['runtime_skipped'] is True


def test_container_predicted_from_capabilities(fake_host, cmds):
    # CapEff of a default podman/docker container: no CAP_SYS_ADMIN
    fake_host.write('/proc/self/status', 'Name:\tpython\nCapEff:\t00000000a80425fb\n')
    r = run_module(swap, {}, check=True)
    assert r['changed'] is True and r['runtime_skipped'] is True
    assert r['swaps_after'] == r['swaps_before']
    run_module(swap, {})
    assert cmds.calls == []
    assert 'CAP_SYS_ADMIN' in fail_module(swap, {'runtime': 'required'})['msg']


def test_runtime_required_fails_on_eperm(fake_host, cmds):
    cmds.handlers['swapoff'] = lambda argv: (4, '', EPERM % argv[-1])
    r = fail_module(swap, {'runtime': 'required'})
    assert 'runtime=required' in r['msg']


def test_other_swapoff_failure_is_a_failure(fake_host, cmds):
    cmds.handlers['swapoff'] = lambda argv: (2, '', 'swapoff: /dev/nvme0n1p3: Cannot allocate memory')
    r = fail_module(swap, {})
    assert 'Cannot allocate memory' in r['msg']
    assert fake_host.read('/etc/fstab') == FSTAB       # swapoff runs before fstab is touched


def test_zram_and_zswap(fake_host, cmds):
    fake_host.write('/sys/block/zram0/disksize', '8589934592\n')
    fake_host.write('/proc/swaps', SWAPS_HEADER + swap_line('/dev/nvme0n1p3') + swap_line('/dev/zram0', 100))
    fake_host.write(_swap.ZSWAP_ENABLED, 'Y\n')
    r = run_module(swap, {'disable_zswap': True})
    assert r['zram'] == [{'name': 'zram0', 'swap': True}]
    assert r['zram_devices'] == ['zram0']
    assert r['zswap'] == {'available': True, 'enabled_before': True, 'enabled_after': False}
    assert r['zswap_enabled'] is False
    assert cmds.names() == ['swapoff /dev/nvme0n1p3', 'swapoff /dev/zram0']
    assert fake_host.read(_swap.ZSWAP_ENABLED) == 'N\n'
    assert ledger(fake_host)['runtime'][_swap.ZSWAP_ENABLED]['value'] == 'Y'
    assert run_module(swap, {'disable_zswap': True})['changed'] is False
    cmds.calls[:] = []
    r = run_module(swap, {'state': 'on'})
    assert cmds.names() == ['swapon /dev/nvme0n1p3', 'swapon -p 100 /dev/zram0']
    assert fake_host.read(_swap.ZSWAP_ENABLED) == 'Y\n'
    assert r['zswap_enabled'] is True


def test_zswap_reported_without_disabling(fake_host, cmds):
    fake_host.write(_swap.ZSWAP_ENABLED, 'Y\n')
    r = run_module(swap, {})
    assert r['zswap_enabled'] is True and r['zram_devices'] == []
    assert fake_host.read(_swap.ZSWAP_ENABLED) == 'Y\n'
    fake_host.remove(_swap.ZSWAP_ENABLED)
    assert run_module(swap, {})['zswap'] == {'available': False, 'enabled_before': None, 'enabled_after': None}


def test_readonly_sys_skips_zswap_with_warning(fake_host, cmds):
    fake_host.write(_swap.ZSWAP_ENABLED, 'Y\n')
    fake_host.make_readonly('/sys')
    r = run_module(swap, {'disable_zswap': True})
    assert r['runtime_skipped'] is True and r['zswap_enabled'] is True
    assert fake_host.read(_swap.ZSWAP_ENABLED) == 'Y\n'
    assert any('read-only' in w for w in cmds.warnings)
    assert 'read-only' in fail_module(swap, {'disable_zswap': True, 'runtime': 'required'})['msg']


def test_no_swap_anywhere_is_a_no_op(fake_host, cmds):
    fake_host.write('/proc/swaps', SWAPS_HEADER)
    fake_host.write('/etc/fstab', '# nothing\n')
    r = run_module(swap, {})
    assert r['changed'] is False and cmds.calls == []
    # no record of anything changed: only what the module was asked, for the audit
    ledger = json.loads(fake_host.read(_ledger.LEDGER_PATH))
    assert ledger['files'] == {} and ledger['runtime'] == {} and ledger['extra'] == {}
    assert ledger['requests'] == {'swap': {'': {'min_ram_gib': 32, 'force': False, 'disable_zswap': False}}}
    run_module(swap, {'state': 'on'})
    assert not fake_host.exists(_ledger.LEDGER_PATH)     # state=on forgets the request: nothing is left


def test_paths_with_spaces_are_unescaped(fake_host, cmds):
    fake_host.write('/proc/swaps', SWAPS_HEADER + swap_line('/swap\\040file'))
    r = run_module(swap, {}, check=True)
    assert r['swaps_before'][0]['name'] == '/swap file'


def test_unquoted_yaml_off_and_on(fake_host, cmds):
    """``state: off`` unquoted is YAML false; the module still understands it."""
    assert run_module(swap, {'state': False})['fstab_lines_commented']
    assert run_module(swap, {'state': True})['fstab_lines_restored']
    assert fake_host.read('/etc/fstab') == FSTAB


def test_low_ram_skip_warns_and_changes_nothing(fake_host, cmds):
    """The base role's way: a small host keeps its swap, the run goes on and says why."""
    fake_host.write('/proc/meminfo', 'MemTotal:       16318084 kB\nMemFree:        8000000 kB\n')
    before = fake_host.snapshot('/etc', '/var')
    result = run_module(swap, {'state': 'off', 'low_ram': 'skip'})
    assert result['refused'] is True and result['changed'] is False
    assert any('15.6 GiB' in w for w in cmds.warnings)
    after = fake_host.snapshot('/etc', '/var')
    ledger = json.loads(after.pop(_ledger.LEDGER_PATH))
    assert after == before      # only the request (the audit says why swap is left on: too little RAM)
    assert ledger['requests'] == {'swap': {'': {'min_ram_gib': 32, 'force': False, 'disable_zswap': False}}}


# -- the runtime policy's texts, and state=on turning areas on as revert does ---------------------------
SKIPPED = ': skipped the runtime part (the persistent part is done).'
REQUIRED = (', and runtime=required. Run on a host (or a privileged context) that permits it, or use '
            'runtime=best_effort to skip it.')
NO_CAP = 'is not permitted here (no CAP_SYS_ADMIN, as in an unprivileged container)'
SWAPON_EPERM = 'swapon: /dev/nvme0n1p3: swapon failed: Operation not permitted'


def test_policy_texts_are_exact(fake_host, cmds):
    cmds.handlers['swapoff'] = lambda argv: (4, '', EPERM % argv[-1])
    run_module(swap, {})
    assert cmds.warnings == ['swapoff /dev/nvme0n1p3 is not permitted here (%s)%s' % (EPERM % '/dev/nvme0n1p3',
                                                                                      SKIPPED)]
    r = fail_module(swap, {'runtime': 'required'})
    assert r['msg'] == 'swapoff /dev/nvme0n1p3 is not permitted here (%s)%s' % (EPERM % '/dev/nvme0n1p3', REQUIRED)
    assert r['runtime_skipped'] is False and r['swaps_before'] == r['swaps_after']


def test_on_refused_keeps_the_record_for_a_later_run(fake_host, cmds):
    fake_host.write('/proc/swaps', SWAPS_HEADER + swap_line('/dev/nvme0n1p3', 5))
    run_module(swap, {})
    swapon = cmds.handlers['swapon']
    cmds.handlers['swapon'] = lambda argv: (255, '', SWAPON_EPERM)
    cmds.calls[:] = []
    r = run_module(swap, {'state': 'on'})
    assert cmds.names() == ['swapon -p 5 /dev/nvme0n1p3']
    assert r['changed'] is True and r['swapped_on'] == [] and r['runtime_skipped'] is True   # fstab
    assert cmds.warnings[-1] == 'swapon /dev/nvme0n1p3 is not permitted here (%s)%s' % (SWAPON_EPERM, SKIPPED)
    assert ledger(fake_host)['extra']['swap']['swapped_off'] == [
        {'name': '/dev/nvme0n1p3', 'type': 'partition', 'priority': 5}]
    r = fail_module(swap, {'state': 'on', 'runtime': 'required'})
    assert r['msg'] == 'swapon /dev/nvme0n1p3 is not permitted here (%s)%s' % (SWAPON_EPERM, REQUIRED)
    assert ledger(fake_host)['extra']['swap']['swapped_off'][0]['name'] == '/dev/nvme0n1p3'
    # a later run where it is permitted turns it on and drops the record
    cmds.handlers['swapon'] = swapon
    assert run_module(swap, {'state': 'on'})['swapped_on'] == ['/dev/nvme0n1p3']
    assert not fake_host.exists(_ledger.LEDGER_PATH)


def test_on_other_swapon_failure_is_warned_and_forgotten(fake_host, cmds):
    run_module(swap, {})
    cmds.handlers['swapon'] = lambda argv: (255, '', 'swapon: /dev/nvme0n1p3: read swap header failed')
    r = run_module(swap, {'state': 'on'})
    assert r['runtime_skipped'] is False and r['swapped_on'] == []
    assert cmds.warnings == ['swapon /dev/nvme0n1p3 failed (rc=255): swapon: /dev/nvme0n1p3: read swap header '
                             'failed; it is no longer tracked.']
    assert not fake_host.exists(_ledger.LEDGER_PATH)


@pytest.mark.parametrize('where', ['container', 'no swapon'])
def test_on_where_swapon_cannot_run_keeps_the_record(fake_host, cmds, where):
    run_module(swap, {})
    if where == 'container':
        fake_host.write('/proc/self/status', 'Name:\tpython\nCapEff:\t00000000a80425fb\n')
        why = 'swapon ' + NO_CAP
    else:
        del cmds.bins['swapon']
        why = 'swapon was not found'
    cmds.calls[:] = []
    check = run_module(swap, {'state': 'on'}, check=True)
    assert check['swapped_on'] == [] and check['runtime_skipped'] is True
    r = run_module(swap, {'state': 'on'})
    assert cmds.calls == [] and r['swapped_on'] == [] and r['changed'] is True   # fstab
    assert cmds.warnings[-1] == why + SKIPPED
    assert ledger(fake_host)['extra']['swap']['swapped_off'][0]['name'] == '/dev/nvme0n1p3'
    assert fail_module(swap, {'state': 'on', 'runtime': 'required'})['msg'] == why + REQUIRED


def test_on_plans_the_swapon_revert_plans(fake_host, cmds):
    from ansible_collections.inference.host_tuning.plugins.modules import revert
    fake_host.write('/proc/swaps', SWAPS_HEADER + swap_line('/dev/nvme0n1p3', 5) + swap_line('/swapfile'))
    run_module(swap, {})
    cmds.calls[:] = []
    assert run_module(swap, {'state': 'on'}, check=True)['swapped_on'] == ['/dev/nvme0n1p3', '/swapfile']
    assert [c for c in run_module(revert, {}, check=True)['commands'] if c.startswith('swapon')] == [
        'swapon -p 5 /dev/nvme0n1p3', 'swapon /swapfile']
    run_module(swap, {'state': 'on'})
    assert cmds.names() == ['swapon -p 5 /dev/nvme0n1p3', 'swapon /swapfile']


def test_on_puts_zswap_back_only_where_writable(fake_host, cmds):
    fake_host.write(_swap.ZSWAP_ENABLED, 'Y\n')
    run_module(swap, {'disable_zswap': True})
    fake_host.make_readonly('/sys')
    r = run_module(swap, {'state': 'on'})
    assert r['runtime_skipped'] is True and r['zswap_enabled'] is False
    assert cmds.warnings[-1] == '%s is read-only%s' % (_swap.ZSWAP_ENABLED, SKIPPED)
    assert _swap.ZSWAP_ENABLED in ledger(fake_host)['runtime']
    assert fail_module(swap, {'state': 'on', 'runtime': 'required'})['msg'] == \
        '%s is read-only%s' % (_swap.ZSWAP_ENABLED, REQUIRED)
