# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""_restore: the restorers of the extra ledger records (kernel parameters, swap areas, unit states, accounts,
packages, records kept) - each checked on the fake host tree and on the ledger read back from it."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.inference.host_tuning.plugins.module_utils import _change
from ansible_collections.inference.host_tuning.plugins.module_utils import _ledger
from ansible_collections.inference.host_tuning.plugins.module_utils import _restore
from ansible_collections.inference.host_tuning.tests.unit.fakehost import FakeGrubby
from ansible_collections.inference.host_tuning.tests.unit.plugins.module_utils.test__change import (
    Failed, Module, ledger_data, saved_ledger)

PARAMS = ['hugepagesz=1G', 'hugepages=4']
SWAPS_HEADER = 'Filename\tType\tSize\tUsed\tPriority\n'
AREA = {'name': '/dev/nvme0n1p3', 'type': 'partition', 'priority': 5}
EPERM = 'swapon: /dev/nvme0n1p3: swapon failed: Operation not permitted'


def test_restorers_by_kind():
    cmdline = {'method': 'grubby', 'params': PARAMS}
    [k] = _restore.restorers('hugepages', {'cmdline': cmdline})
    assert isinstance(k, _restore.KernelArgs)
    assert (k.owner, k.key, k.record, k.stage) == ('hugepages', 'cmdline', cmdline, 0)
    [s] = _restore.restorers('swap', {'swapped_off': [AREA]})
    assert isinstance(s, _restore.SwapAreas) and (s.key, s.record, s.stage) == ('swapped_off', [AREA], 1)
    [a] = _restore.restorers('service_account', {'vllm': {'user': True}})
    assert isinstance(a, _restore.Account) and (a.key, a.record, a.stage) == ('vllm', {'user': True}, 2)
    bucket = {'numactl': {'installed': True}, 'libjemalloc2': {'installed': True}}
    [p] = _restore.restorers('system_packages', bucket)
    assert isinstance(p, _restore.Packages) and (p.key, p.record, p.stage) == (None, bucket, 2)
    assert _restore.restorers('system_packages', {}) == []
    assert _restore.restorers('swap', None) == []


def test_restorers_of_nvidia_gpu_and_unknown_records(fake_host):
    gpu = 'GPU-5d1b3c2a-0000-4a6e-9c1f-0000000017a0'
    found = _restore.restorers('nvidia_gpu', {'units': {'nvidia-persistenced.service': {}}, gpu: {'pl': 1}})
    assert [x.__class__.__name__ for x in found] == ['Kept', 'UnitStates']
    assert found[0].key == gpu and found[0].reason == _change.GPU_REASON and found[0].warn is None
    [unknown] = _restore.restorers('sysctl_profile', {'mystery': 1})
    [swap_other] = _restore.restorers('swap', {'other': 1})
    assert isinstance(unknown, _restore.Kept) and isinstance(swap_other, _restore.Kept)
    m = Module()
    r = _restore.Restoration(m, _ledger.Ledger(m), _change.RuntimePolicy(m, 'best_effort'))
    found[0].plan(r)
    unknown.plan(r)
    assert r.kept == [
        {'owner': 'nvidia_gpu', 'record': gpu, 'reason': _change.GPU_REASON},
        {'owner': 'sysctl_profile', 'record': 'mystery',
         'reason': 'revert does not know how to restore this record; run sysctl_profile with state=absent'}]
    assert m.warnings == ['ledger record sysctl_profile/mystery is not restored by revert; run '
                          'inference.host_tuning.sysctl_profile with state=absent']
    assert r.changed is False


# -- KernelArgs ---------------------------------------------------------------------------------------
def restoration(m, runtime='best_effort', record=None, owner='hugepages', key='cmdline'):
    """(Restoration, restorer) over a saved ledger holding one extra record."""
    ledger = saved_ledger(m, extra=[(owner, key, record)])
    r = _restore.Restoration(m, ledger, _change.RuntimePolicy(m, runtime))
    [restorer] = _restore.restorers(owner, ledger.extra[owner])
    return r, restorer


@pytest.mark.parametrize('method', ['file', 'grub_d'])
def test_kernel_args_of_a_file_method_are_forgotten_without_a_command(fake_host, method):
    m = Module(bins=['grubby'])
    r, k = restoration(m, record={'method': method, 'params': PARAMS})
    k.plan(r)
    assert r.commands == [] and r.changed is False and r.kept == []
    assert r.reboot_params == PARAMS
    k.apply(r)
    r.ledger.save()
    assert m.calls == [] and ledger_data(fake_host) is None


def test_kernel_args_without_grubby_are_kept(fake_host):
    m = Module()
    r, k = restoration(m, record={'method': 'grubby', 'params': PARAMS})
    k.plan(r)
    assert r.reboot_params == [] and r.changed is False and r.commands == []
    assert r.kept == [{'owner': 'hugepages', 'record': 'cmdline',
                       'reason': 'grubby was not found to remove hugepagesz=1G hugepages=4'}]
    assert m.warnings == ['grubby was not found: the kernel parameters hugepagesz=1G hugepages=4 stay in the boot '
                          'entries and in the ledger']
    k.apply(r)
    r.ledger.save()
    assert ledger_data(fake_host)['extra'] == {'hugepages': {'cmdline': {'method': 'grubby', 'params': PARAMS}}}


def test_kernel_args_are_removed_with_grubby(fake_host):
    grubby = FakeGrubby('ro quiet hugepagesz=1G hugepages=4')
    m = Module(bins=['grubby'], handlers={'grubby': grubby})
    r, k = restoration(m, record={'method': 'grubby', 'params': PARAMS})
    k.plan(r)
    assert r.changed is True and r.reboot_params == PARAMS
    assert r.commands == [['grubby', '--update-kernel=ALL', '--remove-args=hugepagesz=1G hugepages=4']]
    assert r.diffs[0]['before'] == 'ro quiet hugepagesz=1G hugepages=4\n' and r.diffs[0]['after'] == 'ro quiet\n'
    assert grubby.args == ['ro', 'quiet', 'hugepagesz=1G', 'hugepages=4']     # planned only
    assert m.calls == [['/usr/bin/grubby', '--info=ALL']]
    k.apply(r)
    r.ledger.save()
    assert grubby.args == ['ro', 'quiet']
    assert m.calls[-1] == ['/usr/bin/grubby', '--update-kernel=ALL', '--remove-args=hugepagesz=1G hugepages=4']
    assert ledger_data(fake_host) is None


def test_kernel_args_already_gone_from_the_entries_are_forgotten(fake_host):
    grubby = FakeGrubby('ro quiet')
    m = Module(bins=['grubby'], handlers={'grubby': grubby})
    r, k = restoration(m, record={'method': 'grubby', 'params': PARAMS})
    k.plan(r)
    assert r.changed is False and r.commands == [] and r.diffs == []
    assert r.reboot_params == PARAMS         # the running kernel may still have them
    k.apply(r)
    r.ledger.save()
    assert m.calls == [['/usr/bin/grubby', '--info=ALL']] and ledger_data(fake_host) is None


# -- SwapAreas ----------------------------------------------------------------------------------------
def test_swap_areas_already_active_need_nothing(fake_host):
    m = Module()
    r, s = restoration(m, record=[AREA], owner='swap', key='swapped_off')
    s.plan(r)
    assert r.commands == [] and r.changed is False and r.kept == [] and m.warnings == []
    s.apply(r)
    r.ledger.save()
    assert m.calls == [] and r.swapped_on == [] and ledger_data(fake_host) is None


def test_swap_areas_without_swapon_are_kept_with_a_warning(fake_host):
    fake_host.write('/proc/swaps', SWAPS_HEADER)
    m = Module()
    r, s = restoration(m, record=[AREA], owner='swap', key='swapped_off')
    s.plan(r)
    assert r.kept == [{'owner': 'swap', 'record': 'swapped_off', 'reason': 'swapon was not found'}]
    assert m.warnings == ['swapon was not found to turn /dev/nvme0n1p3 on again; the record is kept in the '
                          'ledger for a later run.']
    assert r.commands == [] and r.changed is False
    s.apply(r)
    r.ledger.save()
    assert m.calls == [] and ledger_data(fake_host)['extra'] == {'swap': {'swapped_off': [AREA]}}


def test_swap_areas_without_cap_sys_admin_fail_with_required(fake_host):
    fake_host.write('/proc/swaps', SWAPS_HEADER)
    # CapEff of a default podman/docker container: no CAP_SYS_ADMIN
    fake_host.write('/proc/self/status', 'Name:\tpython\nCapEff:\t00000000a80425fb\n')
    m = Module(bins=['swapon'])
    r, s = restoration(m, runtime='required', record=[AREA], owner='swap', key='swapped_off')
    with pytest.raises(Failed):
        s.plan(r)
    assert m.failed['msg'] == (
        'swapon is not permitted here (no CAP_SYS_ADMIN, as in an unprivileged container) to turn /dev/nvme0n1p3 '
        'on again, and runtime=required. Nothing was changed. Run where it is permitted or use runtime=best_effort.')
    assert m.calls == [] and ledger_data(fake_host)['extra'] == {'swap': {'swapped_off': [AREA]}}


def test_swap_areas_are_turned_on_with_their_priority(fake_host):
    fake_host.write('/proc/swaps', SWAPS_HEADER)
    other = {'name': '/swapfile', 'type': 'file', 'priority': -2}

    def swapon(argv):
        fake_host.write('/proc/swaps', fake_host.read('/proc/swaps') + '%s\tpartition\t8388604\t0\t5\n' % argv[-1])
        return 0, '', ''
    m = Module(bins=['swapon'], handlers={'swapon': swapon})
    r, s = restoration(m, record=[AREA, other], owner='swap', key='swapped_off')
    s.plan(r)
    argv = [['/usr/bin/swapon', '-p', '5', '/dev/nvme0n1p3'], ['/usr/bin/swapon', '/swapfile']]
    assert r.commands == argv and r.changed is True and m.calls == []
    s.apply(r)
    r.ledger.save()
    assert m.calls == argv and r.swapped_on == ['/dev/nvme0n1p3', '/swapfile']
    assert '/dev/nvme0n1p3\tpartition' in fake_host.read('/proc/swaps')
    assert ledger_data(fake_host) is None


def test_swap_area_refused_stays_in_the_ledger(fake_host):
    fake_host.write('/proc/swaps', SWAPS_HEADER)
    other = {'name': '/swapfile', 'type': 'file', 'priority': -2}

    def swapon(argv):
        return (255, '', EPERM) if argv[-1] == '/dev/nvme0n1p3' else (0, '', '')
    m = Module(bins=['swapon'], handlers={'swapon': swapon})
    r, s = restoration(m, record=[AREA, other], owner='swap', key='swapped_off')
    s.plan(r)
    s.apply(r)
    r.ledger.save()
    assert r.swapped_on == ['/swapfile']
    assert r.kept == [{'owner': 'swap', 'record': '/dev/nvme0n1p3', 'reason': EPERM}]
    assert m.warnings == ['swapon /dev/nvme0n1p3 is not permitted here (%s); kept in the ledger' % EPERM]
    assert ledger_data(fake_host)['extra'] == {'swap': {'swapped_off': [AREA]}}


def test_swap_area_that_fails_otherwise_is_dropped_with_a_warning(fake_host):
    fake_host.write('/proc/swaps', SWAPS_HEADER)
    m = Module(bins=['swapon'], handlers={'swapon': lambda argv: (1, '', 'swapon: /dev/nvme0n1p3: invalid')})
    r, s = restoration(m, record=[AREA], owner='swap', key='swapped_off')
    s.plan(r)
    s.apply(r)
    r.ledger.save()
    assert r.swapped_on == [] and r.kept == []
    assert m.warnings == ['swapon /dev/nvme0n1p3 failed (rc=1): swapon: /dev/nvme0n1p3: invalid; it is no longer '
                          'tracked.']
    assert ledger_data(fake_host) is None


# -- UnitStates ---------------------------------------------------------------------------------------
UNITS = {'nvidia-persistenced.service': {'enabled': False, 'active': False}}


@pytest.mark.parametrize('bins', [['systemctl'], []])
def test_unit_states_without_systemd_are_kept(fake_host, bins):
    m = Module(bins=bins)
    r, u = restoration(m, record=UNITS, owner='nvidia_gpu', key='units')
    u.plan(r)
    assert r.kept == [{'owner': 'nvidia_gpu', 'record': 'units',
                       'reason': 'systemd is not running here to put back nvidia-persistenced.service'}]
    assert m.warnings == ['systemd is not running here to put back nvidia-persistenced.service; the record is '
                          'kept in the ledger for a later run.']
    u.apply(r)
    r.ledger.save()
    assert m.calls == [] and ledger_data(fake_host)['extra'] == {'nvidia_gpu': {'units': UNITS}}


def test_unit_states_without_systemd_fail_with_required(fake_host):
    m = Module()
    r, u = restoration(m, runtime='required', record=UNITS, owner='nvidia_gpu', key='units')
    with pytest.raises(Failed):
        u.plan(r)
    assert m.failed['msg'].startswith('systemd is not running here to put back nvidia-persistenced.service, and '
                                      'runtime=required. Nothing was changed.')


def test_unit_states_are_put_back_with_systemctl(fake_host):
    fake_host.mkdir('/run/systemd/system')

    def systemctl(argv):
        if argv[1] == 'is-enabled':
            return 0, 'enabled\n', ''
        return 0, '', ''            # is-active: active; stop/disable: done
    m = Module(bins=['systemctl'], handlers={'systemctl': systemctl})
    r, u = restoration(m, record=UNITS, owner='nvidia_gpu', key='units')
    u.plan(r)
    assert r.commands == [['systemctl', 'disable', 'nvidia-persistenced.service'],
                          ['systemctl', 'stop', 'nvidia-persistenced.service']]
    assert r.changed is True
    del m.calls[:]
    u.apply(r)
    r.ledger.save()
    assert m.calls == [['/usr/bin/systemctl', 'disable', 'nvidia-persistenced.service'],
                       ['/usr/bin/systemctl', 'stop', 'nvidia-persistenced.service']]
    assert ledger_data(fake_host) is None
