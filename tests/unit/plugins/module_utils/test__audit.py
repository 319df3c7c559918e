# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""_audit: desired profile against what the host has now and what its next boot applies.

The audit functions are pure (the caller reads the host), so the cases are tables of
(desired, actual[, boot or pending]) -> the exact items.  A runtime value that is right but lost
or changed at the next boot is ``drift`` naming the file; a boot pool that only a reboot brings
is ``pending_reboot``.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.inference.host_tuning.plugins.module_utils import _audit
from ansible_collections.inference.host_tuning.plugins.module_utils import _host
from ansible_collections.inference.host_tuning.plugins.module_utils import _sysctl

OK, DRIFT, PENDING, UNAVAILABLE = 'ok', 'drift', 'pending_reboot', 'unavailable'
CONCERNS = 'sysctl, sysctl_profile, thp, hugepages, governor, memlock, swap, io_scheduler, gpu, service'


def item(concern, setting, desired, actual, status, detail=None):
    return {'concern': concern, 'setting': setting, 'desired': desired, 'actual': actual, 'status': status,
            'detail': detail}


# -- validate --------------------------------------------------------------------------------------------------
POOL_RULE = ('must be {size: 2M or 1G, count: N >= 0, node: N, boot: true/false, min_count: N (the last three '
             'optional)}')
SCHED_DICT = 'desired.io_scheduler: give a scheduler name, or {scheduler: NAME, devices: [GLOBS]}'
SWAP_DICT = ('desired.swap must be a dictionary with min_ram_gib, force and/or disable_zswap '
             '(as the swap module takes them; {} for the defaults)')
MEMLOCK_RULE = 'is not unlimited (infinity) or a number of bytes'
SERVICE_DICT = 'desired.service must be a dictionary with unit and optionally cpus, allocator_library'

VALIDATE = [
    ('not a dict', ['sysctl'], ['desired must be a dictionary of concerns (%s)' % CONCERNS]),
    ('unknown keys sorted', {'sysctls': {}, 'bogus': 1, 'thp': {}},
     ['desired: unknown key(s) bogus, sysctls; allowed: %s' % CONCERNS]),
    ('unknown profile', {'sysctl_profile': 'fast'},
     ["desired.sysctl_profile: 'fast' is not a profile; use one of inference_latency, inference_throughput"]),
    ('sysctl not a dict', {'sysctl': ['vm.swappiness=1']},
     ['desired.sysctl must be a dictionary of sysctl names and values']),
    ('sysctl bad key', {'sysctl': {'vm/swappiness': 1}},
     ['desired.sysctl: ' + _sysctl.key_error('vm/swappiness')]),
    ('sysctl boolean value', {'sysctl': {'vm.swappiness': True}},
     ['desired.sysctl: ' + _sysctl.parse_value('vm.swappiness', True)[1]]),
    ('sysctl bad raise-only', {'sysctl': {'vm.max_map_count': '>lots'}},
     ['desired.sysctl: settings.vm.max_map_count: raise-only value \'>lots\' must be ">" followed by a '
      'non-negative integer, for example ">1048576"']),
    ('sysctl errors sorted by key', {'sysctl': {'z.z': '', 'a.a': 'x\ny'}},
     ['desired.sysctl: ' + _sysctl.parse_value('a.a', 'x\ny')[1],
      'desired.sysctl: ' + _sysctl.parse_value('z.z', '')[1]]),
    ('thp unknown setting', {'thp': {'enabled': 'never', 'khugepaged': 'on'}},
     ['desired.thp must be a dictionary with enabled and/or defrag']),
    ('thp a word', {'thp': 'never'}, ['desired.thp must be a dictionary with enabled and/or defrag']),
    ('hugepages not a list', {'hugepages': {'size': '2M', 'count': 1}},
     ['desired.hugepages must be a list of {size, count, node}']),
    ('hugepages bad size', {'hugepages': [{'size': '2M', 'count': 1}, {'size': '4M', 'count': 1}]},
     ["desired.hugepages[1]: {'size': '4M', 'count': 1} " + POOL_RULE]),
    ('hugepages negative count', {'hugepages': [{'size': '2M', 'count': -1}]},
     ["desired.hugepages[0]: {'size': '2M', 'count': -1} " + POOL_RULE]),
    ('hugepages boolean count', {'hugepages': [{'size': '2M', 'count': True}]},
     ["desired.hugepages[0]: {'size': '2M', 'count': True} " + POOL_RULE]),
    ('hugepages word count', {'hugepages': [{'size': '2M', 'count': 'many'}]},
     ["desired.hugepages[0]: {'size': '2M', 'count': 'many'} " + POOL_RULE]),
    ('hugepages bad node', {'hugepages': [{'size': '1G', 'count': 1, 'node': 'first'}]},
     ["desired.hugepages[0]: {'size': '1G', 'count': 1, 'node': 'first'} " + POOL_RULE]),
    ('hugepages not a dict', {'hugepages': ['2M:512']}, ["desired.hugepages[0]: '2M:512' " + POOL_RULE]),
    ('memlock a word', {'memlock': 'lots'}, ["desired.memlock: 'lots' " + MEMLOCK_RULE]),
    ('memlock a unit', {'memlock': '64K'}, ["desired.memlock: '64K' " + MEMLOCK_RULE]),
    ('memlock a boolean', {'memlock': True}, ['desired.memlock: True ' + MEMLOCK_RULE]),
    ('swap not a dict', {'swap': 'off'}, [SWAP_DICT]),
    ('swap unknown option', {'swap': {'swappiness': 0}}, [SWAP_DICT]),
    ('swap negative RAM', {'swap': {'min_ram_gib': -1}},
     ['desired.swap.min_ram_gib: -1 must be a whole number of GiB, 0 or more']),
    ('swap fractional RAM', {'swap': {'min_ram_gib': '1.5'}},
     ["desired.swap.min_ram_gib: '1.5' must be a whole number of GiB, 0 or more"]),
    ('swap force a word', {'swap': {'force': 'yes', 'disable_zswap': 1}},
     ["desired.swap.force: 'yes' must be true or false", 'desired.swap.disable_zswap: 1 must be true or false']),
    ('io_scheduler no name', {'io_scheduler': {'devices': ['sd*']}}, [SCHED_DICT]),
    ('io_scheduler devices a string', {'io_scheduler': {'scheduler': 'none', 'devices': 'sd*'}}, [SCHED_DICT]),
    ('io_scheduler a number', {'io_scheduler': 5}, ['desired.io_scheduler: give a scheduler name such as none']),
    ('gpu unknown setting', {'gpu': {'clocks': 1410}},
     ['desired.gpu must be a dictionary with persistence_mode, power_limit, compute_mode']),
    ('service without unit', {'service': {'cpus': '0-3'}}, [SERVICE_DICT]),
    ('service unknown key', {'service': {'unit': 'vllm.service', 'nice': -5}}, [SERVICE_DICT]),
    ('service a string', {'service': 'vllm.service'}, [SERVICE_DICT]),
    ('service bad cpus', {'service': {'unit': 'vllm.service', 'cpus': '0-3,x'}},
     ["desired.service.cpus: 'x' is not a CPU list entry (use N, N-M or N-M:USED/GROUP) "
      '(or unit: the CPUAffinity= of the unit)']),
    ('service relative library', {'service': {'unit': 'vllm.service', 'allocator_library': 'libjemalloc.so.2'}},
     ["desired.service.allocator_library: 'libjemalloc.so.2' must be an absolute path, or unit (the LD_PRELOAD "
      "of the unit's environment)"]),
    ('every error, in concern order', {'memlock': 'x', 'thp': 'y', 'sysctl_profile': 'z'},
     ["desired.sysctl_profile: 'z' is not a profile; use one of inference_latency, inference_throughput",
      'desired.thp must be a dictionary with enabled and/or defrag',
      "desired.memlock: 'x' is not unlimited (infinity) or a number of bytes"]),
    ('empty is fine', {}, []),
    ('a full valid profile', {
        'sysctl_profile': 'inference_latency', 'sysctl': {'vm.swappiness': 10, 'vm.max_map_count': '>2097152'},
        'thp': {'enabled': 'madvise', 'defrag': 'defer+madvise'},
        'hugepages': [{'size': '2M', 'count': '512'}, {'size': '1G', 'count': 4, 'node': 1}],
        'governor': 'performance', 'memlock': 'unlimited',
        'swap': {'min_ram_gib': '64', 'force': True, 'disable_zswap': False},
        'io_scheduler': {'scheduler': 'none', 'devices': ['nvme*n*']},
        'gpu': {'persistence_mode': True, 'power_limit': 'max', 'compute_mode': 'default'},
        'service': {'unit': 'vllm.service', 'cpus': 'unit', 'allocator_library': '/usr/lib/libjemalloc.so.2'}}, []),
    ('memlock bytes as text', {'memlock': '68719476736'}, []),
    ('io_scheduler a name', {'io_scheduler': 'mq-deadline'}, []),
    ('swap defaults', {'swap': {}}, []),
]


@pytest.mark.parametrize('desired, errors', [pytest.param(d, e, id=i) for i, d, e in VALIDATE])
def test_validate(desired, errors):
    assert _audit.validate(desired) == errors


@pytest.mark.parametrize('profile', [['inference_latency'], {'name': 'inference_latency'}])
def test_validate_unhashable_profile_is_a_message(profile):
    errors = _audit.validate({'sysctl_profile': profile})
    assert len(errors) == 1 and errors[0].startswith('desired.sysctl_profile: ')


@pytest.mark.parametrize('unit', ['--host=other', '-Hroot@other', 'vllm service'])
def test_validate_refuses_a_service_unit_that_is_not_a_unit_name(unit):
    errors = _audit.validate({'service': {'unit': unit}})
    assert len(errors) == 1 and 'unit' in errors[0]


@pytest.mark.parametrize('desired', [
    {'io_scheduler': {'scheduler': 'none', 'device': ['sda']}},
    {'hugepages': [{'size': '2M', 'count': 512, 'nod': 1}]},
], ids=['io_scheduler device', 'hugepages nod'])
def test_validate_refuses_unknown_keys_everywhere(desired):
    assert len(_audit.validate(desired)) == 1


@pytest.mark.parametrize('gpu', [{'power_limit': 'maximum'}, {'persistence_mode': 'false'}],
                         ids=['power_limit typo', 'persistence_mode as text'])
def test_validate_checks_gpu_values(gpu):
    facts = [{'index': 0, 'persistence_mode': False, 'power_limit': {'current': 700, 'max': 700, 'default': 700},
              'compute_mode': 'default'}]
    items = _audit.audit_gpu(gpu, facts)
    # either the value is refused up front, or the audit reads it the way the nvidia_gpu module does
    assert _audit.validate({'gpu': gpu}) != [] or [i['status'] for i in items] == [OK]


# -- summary -----------------------------------------------------------------------------------------------------
def test_summary_counts_every_status():
    items = [item('a', 'x', 1, 1, OK), item('a', 'y', 1, 2, DRIFT), item('b', 'z', 1, 0, PENDING),
             item('b', 'w', 1, 0, PENDING),
             item('c', 'v', 1, None, UNAVAILABLE), item('c', 'u', 1, 1, OK)]
    assert _audit.summary(items) == {'ok': 2, 'drift': 1, 'pending_reboot': 2, 'unavailable': 1}
    assert _audit.summary([]) == {'ok': 0, 'drift': 0, 'pending_reboot': 0, 'unavailable': 0}


# -- sysctl -------------------------------------------------------------------------------------------------------
SWAPPINESS = '/proc/sys/vm/swappiness'
MAP_COUNT = '/proc/sys/vm/max_map_count'
PORTS = '/proc/sys/net/ipv4/ip_local_port_range'
OURS = '/etc/sysctl.d/90-inference-host-tuning.conf'
NOTHING = ('nothing persists it (sysctl.d; tmpfiles.d for a debugfs knob): the kernel default comes back at the '
           'next boot')
REQUESTS = _audit.sysctl_requests({'sysctl': {'vm.swappiness': 1, 'vm.max_map_count': '>1048576',
                                              'net.ipv4.ip_local_port_range': '1024 65000'}})

SYSCTL = [
    # (id, key, actual, boot, expected item without concern/setting/desired)
    ('equal', 'vm.swappiness', ('1', SWAPPINESS), None, ('1', OK, SWAPPINESS)),
    ('different', 'vm.swappiness', ('60', SWAPPINESS), None, ('60', DRIFT, SWAPPINESS)),
    ('white space normalised', 'net.ipv4.ip_local_port_range', ('1024\t65000', PORTS), None,
     ('1024 65000', OK, PORTS)),
    ('unavailable', 'vm.swappiness', (None, 'unavailable on this kernel'), None,
     (None, UNAVAILABLE, 'unavailable on this kernel')),
    ('raise-only above', 'vm.max_map_count', ('2097152', MAP_COUNT), None,
     ('2097152', OK, 'raise-only: 2097152 >= 1048576')),
    ('raise-only at', 'vm.max_map_count', ('1048576', MAP_COUNT), None,
     ('1048576', OK, 'raise-only: 1048576 >= 1048576')),
    ('raise-only below', 'vm.max_map_count', ('65530', MAP_COUNT), None,
     ('65530', DRIFT, 'raise-only: 65530 < 1048576')),
    ('raise-only not an integer', 'vm.max_map_count', ('lots', MAP_COUNT), None,
     ('lots', DRIFT, "raise-only value needs an integer, %s holds 'lots'" % MAP_COUNT)),
    # with what the next boot applies
    ('right now and at boot', 'vm.swappiness', ('1', SWAPPINESS), {'vm.swappiness': ('1', OURS)},
     ('1', OK, SWAPPINESS)),
    ('right now, lost at boot', 'vm.swappiness', ('1', SWAPPINESS), {},
     ('1', DRIFT, '%s; %s' % (SWAPPINESS, NOTHING))),
    ('right now, lost at boot (None)', 'vm.swappiness', ('1', SWAPPINESS), {'vm.swappiness': (None, None)},
     ('1', DRIFT, '%s; %s' % (SWAPPINESS, NOTHING))),
    ('right now, changed at boot', 'vm.swappiness', ('1', SWAPPINESS),
     {'vm.swappiness': ('60', '/etc/sysctl.d/99-sysctl.conf')},
     ('1', DRIFT, '%s; at the next boot /etc/sysctl.d/99-sysctl.conf sets 60' % SWAPPINESS)),
    ('wrong now, right at boot', 'vm.swappiness', ('60', SWAPPINESS), {'vm.swappiness': ('1', OURS)},
     ('60', DRIFT, SWAPPINESS)),
    ('wrong now and at boot', 'vm.swappiness', ('60', SWAPPINESS), {'vm.swappiness': ('30', OURS)},
     ('60', DRIFT, '%s; at the next boot %s sets 30' % (SWAPPINESS, OURS))),
    ('vector at boot with tabs', 'net.ipv4.ip_local_port_range', ('1024 65000', PORTS),
     {'net.ipv4.ip_local_port_range': ('1024\t65000', OURS)}, ('1024 65000', OK, PORTS)),
    ('raise-only, boot at the floor', 'vm.max_map_count', ('2097152', MAP_COUNT),
     {'vm.max_map_count': ('1048576', OURS)}, ('2097152', OK, 'raise-only: 2097152 >= 1048576')),
    ('raise-only, boot below the floor', 'vm.max_map_count', ('2097152', MAP_COUNT),
     {'vm.max_map_count': ('65530', '/usr/lib/sysctl.d/50-default.conf')},
     ('2097152', DRIFT,
      'raise-only: 2097152 >= 1048576; at the next boot /usr/lib/sysctl.d/50-default.conf sets 65530')),
    ('raise-only, nothing at boot', 'vm.max_map_count', ('2097152', MAP_COUNT), {},
     ('2097152', DRIFT, 'raise-only: 2097152 >= 1048576; ' + NOTHING)),
    ('unavailable whatever the boot', 'vm.swappiness', (None, 'cannot be read'), {},
     (None, UNAVAILABLE, 'cannot be read')),
]


@pytest.mark.parametrize('key, actual, boot, expected', [pytest.param(k, a, b, e, id=i) for i, k, a, b, e in SYSCTL])
def test_audit_sysctl(key, actual, boot, expected):
    requests = {key: REQUESTS[key]}
    value, status, detail = expected
    assert _audit.audit_sysctl(requests, {key: actual}, boot) == [
        item('sysctl', key, REQUESTS[key].value, value, status, detail)]


def test_audit_sysctl_sorted_and_not_read():
    items = _audit.audit_sysctl(REQUESTS, {'vm.swappiness': ('1', SWAPPINESS)})
    assert [i['setting'] for i in items] == ['net.ipv4.ip_local_port_range', 'vm.max_map_count', 'vm.swappiness']
    assert items[0] == item('sysctl', 'net.ipv4.ip_local_port_range', '1024 65000', None, UNAVAILABLE, 'not read')
    assert [i['status'] for i in items] == [UNAVAILABLE, UNAVAILABLE, OK]


def test_audit_sysctl_against_the_fake_host(fake_host):
    """The caller's reads of the fake tree, as inference_host_info makes them: runtime and sysctl.d."""
    fake_host.write('/etc/sysctl.d/90-inference-host-tuning.conf', 'vm.swappiness = 1\n')
    fake_host.sysctl('vm.swappiness', 1)
    actual = dict((k, (fake_host.read('/proc/sys/' + k.replace('.', '/')).strip(), '/proc/sys/' + k.replace('.', '/')))
                  for k in REQUESTS)
    items = _audit.audit_sysctl(REQUESTS, actual, _sysctl.boot_values())
    by_key = dict((i['setting'], i) for i in items)
    assert by_key['vm.swappiness']['status'] == OK
    assert by_key['vm.max_map_count'] == item('sysctl', 'vm.max_map_count', '>1048576', '65530', DRIFT,
                                              'raise-only: 65530 < 1048576; ' + NOTHING)
    assert by_key['net.ipv4.ip_local_port_range'] == item(
        'sysctl', 'net.ipv4.ip_local_port_range', '1024 65000', '32768 60999', DRIFT, PORTS + '; ' + NOTHING)


def test_sysctl_requests_profile_and_settings_on_top(fake_host):
    requests = _audit.sysctl_requests({'sysctl_profile': 'inference_latency',
                                       'sysctl': {'vm.swappiness': 10, 'kernel.pid_max': '4194304'}})
    assert set(requests) == set(_sysctl.PROFILES['inference_latency']['settings']) | {'kernel.pid_max'}
    assert (requests['vm.swappiness'].value, requests['vm.swappiness'].source) == ('10', 'settings')
    assert requests['vm.swappiness'].why == _sysctl.SETTINGS_WHY
    assert (requests['vm.dirty_ratio'].value, requests['vm.dirty_ratio'].source) == ('10', 'profile')
    assert requests['vm.max_map_count'].floor == 1048576
    assert _audit.sysctl_requests({}) == {}


def test_sysctl_requests_size_the_reserve_to_the_fake_host(fake_host):
    """A 1 GiB host: the profile's 1 GiB vm.min_free_kbytes floor is capped at 1/32 of its RAM."""
    fake_host.write('/proc/meminfo', 'MemTotal:        1048576 kB\n')
    requests = _audit.sysctl_requests({'sysctl_profile': 'inference_latency'})
    assert requests['vm.min_free_kbytes'].value == '>32768'
    items = _audit.audit_sysctl({'vm.min_free_kbytes': requests['vm.min_free_kbytes']},
                                {'vm.min_free_kbytes': ('67584', '/proc/sys/vm/min_free_kbytes')})
    assert items == [item('sysctl', 'vm.min_free_kbytes', '>32768', '67584', OK, 'raise-only: 67584 >= 32768')]


# -- THP ----------------------------------------------------------------------------------------------------------
TMPFILES = '/etc/tmpfiles.d/90-inference-host-tuning-thp.conf'
THP_NOTHING = 'no tmpfiles.d line or kernel parameter sets it: the kernel default comes back at the next boot'
THP_ACTUAL = {'enabled': 'madvise', 'defrag': 'defer+madvise'}

THP = [
    ('equal', {'enabled': 'madvise'}, THP_ACTUAL, None, [item('thp', 'enabled', 'madvise', 'madvise', OK)]),
    ('different', {'enabled': 'never'}, THP_ACTUAL, None, [item('thp', 'enabled', 'never', 'madvise', DRIFT)]),
    ('both, in order', {'defrag': 'never', 'enabled': 'madvise'}, THP_ACTUAL, None,
     [item('thp', 'enabled', 'madvise', 'madvise', OK), item('thp', 'defrag', 'never', 'defer+madvise', DRIFT)]),
    ('kernel without THP', {'enabled': 'never'}, {'enabled': None, 'defrag': None}, {},
     [item('thp', 'enabled', 'never', None, UNAVAILABLE,
           '/sys/kernel/mm/transparent_hugepage/enabled is missing (kernel without THP)')]),
    ('right now and at boot', {'enabled': 'madvise'}, THP_ACTUAL, {'enabled': ('madvise', TMPFILES)},
     [item('thp', 'enabled', 'madvise', 'madvise', OK)]),
    ('right now, nothing at boot', {'enabled': 'madvise'}, THP_ACTUAL, {'enabled': (None, None)},
     [item('thp', 'enabled', 'madvise', 'madvise', DRIFT, THP_NOTHING)]),
    ('right now, boot not read for it', {'enabled': 'madvise'}, THP_ACTUAL, {},
     [item('thp', 'enabled', 'madvise', 'madvise', DRIFT, THP_NOTHING)]),
    ('right now, changed at boot', {'enabled': 'madvise'}, THP_ACTUAL,
     {'enabled': ('never', 'transparent_hugepage=never on the kernel command line')},
     [item('thp', 'enabled', 'madvise', 'madvise', DRIFT,
           'at the next boot transparent_hugepage=never on the kernel command line sets never')]),
    ('wrong now, right at boot', {'defrag': 'madvise'}, THP_ACTUAL, {'defrag': ('madvise', TMPFILES)},
     [item('thp', 'defrag', 'madvise', 'defer+madvise', DRIFT)]),
    ('nothing asked', {}, THP_ACTUAL, {}, []),
    ('None asked', None, THP_ACTUAL, {}, []),
]


@pytest.mark.parametrize('desired, actual, boot, expected', [pytest.param(d, a, b, e, id=i) for i, d, a, b, e in THP])
def test_audit_thp(desired, actual, boot, expected):
    assert _audit.audit_thp(desired, actual, boot) == expected


# -- huge pages ---------------------------------------------------------------------------------------------------
BOOT_PARAMS = ['hugepagesz=1G', 'hugepages=8', 'default_hugepagesz=1G', 'isolcpus=2-7', 'hugepages_extra=1']
NO_POOL = 'no such pool on this host (page size or NUMA node missing)'
WAITING = 'the kernel parameters hugepagesz=1G hugepages=8 default_hugepagesz=1G are set for the next boot'

HUGEPAGES = [
    ('total equal', [{'size': '2M', 'count': 512}], {('2M', None): 512}, (),
     [item('hugepages', '2M total', 512, 512, OK)]),
    ('count as text', [{'size': '2M', 'count': '512'}], {('2M', None): 512}, (),
     [item('hugepages', '2M total', 512, 512, OK)]),
    ('short', [{'size': '2M', 'count': 512}], {('2M', None): 100}, (),
     [item('hugepages', '2M total', 512, 100, DRIFT, '412 page(s) short')]),
    ('too many', [{'size': '2M', 'count': 0}], {('2M', None): 3}, (),
     [item('hugepages', '2M total', 0, 3, DRIFT, '3 page(s) too many')]),
    ('per node', [{'size': '1G', 'count': 4, 'node': 1}, {'size': '1G', 'count': 4, 'node': '0'}],
     {('1G', 1): 4, ('1G', 0): 2}, (),
     [item('hugepages', '1G node1', 4, 4, OK), item('hugepages', '1G node0', 4, 2, DRIFT, '2 page(s) short')]),
    ('no such pool', [{'size': '1G', 'count': 4, 'node': 3}], {('1G', 3): None}, (),
     [item('hugepages', '1G node3', 4, None, UNAVAILABLE, NO_POOL)]),
    ('pool not read', [{'size': '1G', 'count': 4}], {}, (),
     [item('hugepages', '1G total', 4, None, UNAVAILABLE, NO_POOL)]),
    ('boot pool waiting for a reboot', [{'size': '1G', 'count': 8, 'boot': True}], {('1G', None): 0}, BOOT_PARAMS,
     [item('hugepages', '1G total', 8, 0, PENDING, WAITING)]),
    ('boot pool, nothing pending', [{'size': '1G', 'count': 8, 'boot': True}], {('1G', None): 0}, (),
     [item('hugepages', '1G total', 8, 0, DRIFT, '8 page(s) short')]),
    ('boot pool, only other parameters pending', [{'size': '1G', 'count': 8, 'boot': True}], {('1G', None): 0},
     ['isolcpus=2-7', 'hugepages_extra=1'], [item('hugepages', '1G total', 8, 0, DRIFT, '8 page(s) short')]),
    ('boot pool already there', [{'size': '1G', 'count': 8, 'boot': True}], {('1G', None): 8}, BOOT_PARAMS,
     [item('hugepages', '1G total', 8, 8, OK)]),
    ('runtime pool is not pending', [{'size': '2M', 'count': 512, 'boot': False}], {('2M', None): 0}, BOOT_PARAMS,
     [item('hugepages', '2M total', 512, 0, DRIFT, '512 page(s) short')]),
    ('no pools', None, {}, BOOT_PARAMS, []),
]


@pytest.mark.parametrize('pools, actual, pending, expected',
                         [pytest.param(p, a, w, e, id=i) for i, p, a, w, e in HUGEPAGES])
def test_audit_hugepages(pools, actual, pending, expected):
    assert _audit.audit_hugepages(pools, actual, pending) == expected


def test_audit_hugepages_pending_counts_in_the_summary():
    items = _audit.audit_hugepages([{'size': '1G', 'count': 8, 'boot': True}, {'size': '2M', 'count': 512}],
                                   {('1G', None): 0, ('2M', None): 512}, BOOT_PARAMS)
    assert _audit.summary(items) == {'ok': 1, 'drift': 0, 'pending_reboot': 1, 'unavailable': 0}


def test_audit_hugepages_1g_pool_is_a_boot_pool_by_default():
    items = _audit.audit_hugepages([{'size': '1G', 'count': 8}], {('1G', None): 0}, ['hugepagesz=1G', 'hugepages=8'])
    assert [i['status'] for i in items] == [PENDING]


@pytest.mark.parametrize('size, node, label', [
    ('2M', None, '2M total'), ('1G', 0, '1G node0'), ('1G', '1', '1G node1')])
def test_pool_label(size, node, label):
    assert _audit.pool_label(size, node) == label


# -- governor -----------------------------------------------------------------------------------------------------
GOVERNOR = [
    ('no cpufreq', {}, [item('governor', 'scaling_governor', 'performance', None, UNAVAILABLE,
                             'no cpufreq on this host (/sys/devices/system/cpu/cpu*/cpufreq is missing: a VM or a '
                             'container)')]),
    ('all right', dict((c, 'performance') for c in range(32)),
     [item('governor', 'scaling_governor', 'performance', 'performance', OK, '32 CPU(s)')]),
    ('all wrong', dict((c, 'powersave') for c in range(32)),
     [item('governor', 'scaling_governor', 'performance', 'powersave', DRIFT, 'CPU(s) 0-31 not on performance')]),
    ('mixed', {0: 'performance', 1: 'performance', 2: 'powersave', 3: 'powersave', 4: 'performance', 7: 'schedutil'},
     [item('governor', 'scaling_governor', 'performance', ['performance', 'powersave', 'schedutil'], DRIFT,
           'CPU(s) 2-3,7 not on performance')]),
    ('one unreadable', {0: 'performance', 1: None},
     [item('governor', 'scaling_governor', 'performance', 'performance', DRIFT, 'CPU(s) 1 not on performance')]),
]


@pytest.mark.parametrize('actual, expected', [pytest.param(a, e, id=i) for i, a, e in GOVERNOR])
def test_audit_governor(actual, expected):
    assert _audit.audit_governor('performance', actual) == expected


def test_audit_governor_of_the_fake_host(fake_host):
    """The fake host's 32 CPUs are on powersave; two moved to performance are still drift for the rest."""
    def read():
        return dict((c, fake_host.read('/sys/devices/system/cpu/cpu%d/cpufreq/scaling_governor' % c).strip())
                    for c in range(32))
    assert _audit.audit_governor('powersave', read())[0]['status'] == OK
    fake_host.write('/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor', 'performance\n')
    fake_host.write('/sys/devices/system/cpu/cpu1/cpufreq/scaling_governor', 'performance\n')
    assert _audit.audit_governor('performance', read())[0]['detail'] == 'CPU(s) 2-31 not on performance'


# -- memlock ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize('value, limit', [
    ('unlimited', -1), ('Infinity', -1), (' -1 ', -1), (-1, -1), (-5, -1), (0, 0), (65536, 65536), ('65536', 65536),
    (' 8388608\n', 8388608), (True, None), (False, None), ('64K', None), ('1.5', None), (1.5, None), ('', None),
    (None, None), ('-2', None),
])
def test_parse_limit(value, limit):
    assert _audit.parse_limit(value) == limit


@pytest.mark.parametrize('want, have, ok', [
    (-1, -1, True), (-1, 1 << 40, False), (65536, -1, True), (65536, 65536, True), (65536, 65535, False),
    (0, 0, True), (None, -1, False), (65536, None, False),
])
def test_limit_ok(want, have, ok):
    assert _audit.limit_ok(want, have) is ok


SERVICES = 'systemd DefaultLimitMEMLOCK (systemctl show)'
LOGINS = 'pam_limits: /etc/security/limits.d/90-inference-host-tuning.conf (KiB there)'

MEMLOCK = [
    ('unlimited everywhere', 'unlimited',
     {'services': {'soft': -1, 'hard': -1, 'source': SERVICES}, 'logins': {'soft': -1, 'hard': -1, 'source': LOGINS}},
     [item('memlock', 'services', 'unlimited', 'unlimited', OK, SERVICES),
      item('memlock', 'logins', 'unlimited', 'unlimited', OK, LOGINS)]),
    ('soft below', 'infinity',
     {'services': {'soft': 8388608, 'hard': -1, 'source': SERVICES}, 'logins': {'soft': 65536, 'hard': 65536,
                                                                                'source': LOGINS}},
     [item('memlock', 'services', 'unlimited', {'soft': 8388608, 'hard': 'unlimited'}, DRIFT, SERVICES),
      item('memlock', 'logins', 'unlimited', 65536, DRIFT, LOGINS)]),
    ('bytes reached', '68719476736',
     {'services': {'soft': -1, 'hard': -1, 'source': SERVICES},
      'logins': {'soft': 68719476736, 'hard': 137438953472, 'source': LOGINS}},
     [item('memlock', 'services', 68719476736, 'unlimited', OK, SERVICES),
      item('memlock', 'logins', 68719476736, {'soft': 68719476736, 'hard': 137438953472}, OK, LOGINS)]),
    ('hard below', 68719476736,
     {'services': {'soft': 68719476736, 'hard': 8388608, 'source': SERVICES}},
     [item('memlock', 'services', 68719476736, {'soft': 68719476736, 'hard': 8388608}, DRIFT, SERVICES),
      item('memlock', 'logins', 68719476736, None, UNAVAILABLE, None)]),
    ('nothing readable', 'unlimited',
     {'services_reason': 'systemd is not running and /proc/1/limits cannot be read', 'logins': None,
      'logins_reason': 'no /etc/security (pam_limits is not installed)'},
     [item('memlock', 'services', 'unlimited', None, UNAVAILABLE,
           'systemd is not running and /proc/1/limits cannot be read'),
      item('memlock', 'logins', 'unlimited', None, UNAVAILABLE, 'no /etc/security (pam_limits is not installed)')]),
    ('no memlock line', 'unlimited',
     {'services': {'soft': -1, 'hard': -1, 'source': SERVICES},
      'logins': {'soft': None, 'hard': None, 'source': 'no "*" memlock line'}},
     [item('memlock', 'services', 'unlimited', 'unlimited', OK, SERVICES),
      item('memlock', 'logins', 'unlimited', None, DRIFT, 'no "*" memlock line')]),
]


@pytest.mark.parametrize('desired, actual, expected', [pytest.param(d, a, e, id=i) for i, d, a, e in MEMLOCK])
def test_audit_memlock(desired, actual, expected):
    assert _audit.audit_memlock(desired, actual) == expected


# -- swap ---------------------------------------------------------------------------------------------------------
FSTAB_LINE = 'UUID=5a5a-0001  none   swap  sw                 0  0'
NVME = {'name': '/dev/nvme0n1p3', 'size_kib': 8388604}
ZRAM = {'name': '/dev/zram0', 'size_kib': 4194300}
BIG = {'swaps': [NVME], 'ram_gib': 1007.1, 'fstab': [FSTAB_LINE], 'zswap': True}
OFF = {'swaps': [], 'ram_gib': 1007.1, 'fstab': [], 'zswap': False}
AREAS_ON = item('swap', 'swap areas', 'none', '/dev/nvme0n1p3', DRIFT, '1 active in /proc/swaps (8388604 KiB)')
AREAS_OFF = item('swap', 'swap areas', 'none', 'none', OK, '/proc/swaps')
FSTAB_ON = item('swap', 'fstab', 'none', [FSTAB_LINE], DRIFT, '1 swap line(s) in /etc/fstab turn swap on at boot')
FSTAB_OFF = item('swap', 'fstab', 'none', 'none', OK, 'no active swap line in /etc/fstab')
ZSWAP = '/sys/module/zswap/parameters/enabled'


def with_(base, **changes):
    out = dict(base)
    out.update(changes)
    return out


SWAP = [
    ('swap on, defaults', {}, BIG, [AREAS_ON, FSTAB_ON]),
    ('desired None is the defaults', None, BIG, [AREAS_ON, FSTAB_ON]),
    ('swap off', {}, OFF, [AREAS_OFF, FSTAB_OFF]),
    ('off now, back at boot', {}, with_(OFF, fstab=[FSTAB_LINE]), [AREAS_OFF, FSTAB_ON]),
    ('two areas', {}, with_(OFF, swaps=[NVME, ZRAM]),
     [item('swap', 'swap areas', 'none', '/dev/nvme0n1p3, /dev/zram0', DRIFT,
           '2 active in /proc/swaps (8388604 + 4194300 KiB)'),
      FSTAB_OFF]),
    ('fstab unreadable', {}, with_(OFF, fstab=None),
     [AREAS_OFF, item('swap', 'fstab', 'none', None, UNAVAILABLE, '/etc/fstab cannot be read')]),
    ('zswap on', {'disable_zswap': True}, with_(OFF, zswap=True),
     [AREAS_OFF, FSTAB_OFF, item('swap', 'zswap', 'off', 'on', DRIFT, ZSWAP)]),
    ('zswap off', {'disable_zswap': True}, OFF,
     [AREAS_OFF, FSTAB_OFF, item('swap', 'zswap', 'off', 'off', OK, ZSWAP)]),
    ('no zswap', {'disable_zswap': True}, with_(OFF, zswap=None),
     [AREAS_OFF, FSTAB_OFF, item('swap', 'zswap', 'off', 'off', OK, 'the kernel has no zswap')]),
    ('small host keeps its swap', {}, with_(BIG, ram_gib=15.5),
     [item('swap', 'swap areas', 'left on', '/dev/nvme0n1p3', OK,
           '15.5 GiB of RAM, less than min_ram_gib=32: swap is left as it is (force turns it off)')]),
    ('small host without swap', {'min_ram_gib': '64'}, with_(OFF, ram_gib=48),
     [item('swap', 'swap areas', 'left on', 'off', OK,
           '48.0 GiB of RAM, less than min_ram_gib=64: swap is left as it is (force turns it off)')]),
    ('small host forced', {'force': True}, with_(BIG, ram_gib=15.5), [AREAS_ON, FSTAB_ON]),
    ('min_ram_gib as text', {'min_ram_gib': '8'}, with_(BIG, ram_gib=15.5), [AREAS_ON, FSTAB_ON]),
    ('RAM unknown', {}, with_(BIG, ram_gib=None),
     [item('swap', 'swap areas', 'none', None, UNAVAILABLE,
           'MemTotal cannot be read, so whether this host should keep its swap cannot be told '
           '(force turns swap off whatever the RAM)')]),
    ('RAM unknown, forced', {'force': True}, with_(BIG, ram_gib=None), [AREAS_ON, FSTAB_ON]),
]


@pytest.mark.parametrize('desired, actual, expected', [pytest.param(d, a, e, id=i) for i, d, a, e in SWAP])
def test_audit_swap(desired, actual, expected):
    assert _audit.audit_swap(desired, actual) == expected


def test_swap_wanted():
    assert _audit.swap_wanted(None) == {'min_ram_gib': 32, 'force': False, 'disable_zswap': False}
    assert _audit.swap_wanted({'min_ram_gib': '8', 'force': True}) == {'min_ram_gib': 8, 'force': True,
                                                                       'disable_zswap': False}
    assert _audit.SWAP_DEFAULTS == {'min_ram_gib': 32, 'force': False, 'disable_zswap': False}    # not changed


# -- I/O scheduler ------------------------------------------------------------------------------------------------
def test_io_scheduler_wanted():
    assert _audit.io_scheduler_wanted('none') == ('none', ['nvme*n*'])
    assert _audit.io_scheduler_wanted({'scheduler': 'mq-deadline', 'devices': ['sd*', 'vd*']}) == (
        'mq-deadline', ['sd*', 'vd*'])
    assert _audit.io_scheduler_wanted({'scheduler': 'kyber', 'devices': []}) == ('kyber', ['nvme*n*'])
    assert _audit.io_scheduler_wanted({'scheduler': 'kyber'}) == ('kyber', ['nvme*n*'])
    wanted = _audit.io_scheduler_wanted('none')[1]
    wanted.append('x')
    assert _audit.DEFAULT_NVME == ['nvme*n*']     # the default list is not shared


IO = [
    ('per device', 'none', {'nvme1n1': 'mq-deadline', 'nvme0n1': 'none', 'nvme2n1': None},
     [item('io_scheduler', 'nvme0n1', 'none', 'none', OK),
      item('io_scheduler', 'nvme1n1', 'none', 'mq-deadline', DRIFT),
      item('io_scheduler', 'nvme2n1', 'none', None, UNAVAILABLE, 'no queue/scheduler')]),
    ('no device', 'none', {},
     [item('io_scheduler', 'nvme*n*', 'none', None, UNAVAILABLE, 'no block device matches nvme*n*')]),
    ('globs given', {'scheduler': 'mq-deadline', 'devices': ['sd*', 'vd*']}, {},
     [item('io_scheduler', 'sd* vd*', 'mq-deadline', None, UNAVAILABLE, 'no block device matches sd* vd*')]),
    ('dict form', {'scheduler': 'mq-deadline', 'devices': ['sd*']}, {'sda': 'mq-deadline'},
     [item('io_scheduler', 'sda', 'mq-deadline', 'mq-deadline', OK)]),
]


@pytest.mark.parametrize('desired, actual, expected', [pytest.param(d, a, e, id=i) for i, d, a, e in IO])
def test_audit_io_scheduler(desired, actual, expected):
    assert _audit.audit_io_scheduler(desired, actual) == expected


def test_audit_io_scheduler_of_the_fake_host(fake_host):
    actual = dict((d, _host.read_selected('/sys/block/%s/queue/scheduler' % d)) for d in ('nvme0n1', 'nvme1n1'))
    assert [i['status'] for i in _audit.audit_io_scheduler('none', actual)] == [OK, DRIFT]


# -- GPU ----------------------------------------------------------------------------------------------------------
GPU0 = {'index': 0, 'persistence_mode': True, 'power_limit': {'current': 700, 'default': 700, 'max': 700, 'min': 200},
        'compute_mode': 'default'}
GPU1 = {'index': 1, 'persistence_mode': False,
        'power_limit': {'current': 350.5, 'default': 700, 'max': 700, 'min': 200},
        'compute_mode': 'exclusive_process'}
OLD = {'index': 2, 'persistence_mode': None, 'power_limit': {'current': None, 'default': None, 'max': None},
       'compute_mode': None}

GPU = [
    ('all three, one GPU right and one not',
     {'compute_mode': 'default', 'power_limit': 'max', 'persistence_mode': True},
     [GPU0, GPU1],
     [item('gpu', 'GPU 0 persistence_mode', True, True, OK, 'GPU 0'),
      item('gpu', 'GPU 0 power_limit', 'max', 700, OK, 'GPU 0: 700 W is the max limit'),
      item('gpu', 'GPU 0 compute_mode', 'default', 'default', OK, 'GPU 0'),
      item('gpu', 'GPU 1 persistence_mode', True, False, DRIFT, 'GPU 1'),
      item('gpu', 'GPU 1 power_limit', 'max', 350.5, DRIFT, 'GPU 1: 700 W is the max limit'),
      item('gpu', 'GPU 1 compute_mode', 'default', 'exclusive_process', DRIFT, 'GPU 1')]),
    ('watts as text and a number', {'power_limit': '350.5'}, [GPU0, GPU1],
     [item('gpu', 'GPU 0 power_limit', '350.5', 700, DRIFT, 'GPU 0'),
      item('gpu', 'GPU 1 power_limit', '350.5', 350.5, OK, 'GPU 1')]),
    ('watts as an integer', {'power_limit': 700}, [GPU0], [item('gpu', 'GPU 0 power_limit', 700, 700, OK, 'GPU 0')]),
    ('default limit, word any case', {'power_limit': ' Default '}, [GPU1],
     [item('gpu', 'GPU 1 power_limit', 'default', 350.5, DRIFT, 'GPU 1: 700 W is the default limit')]),
    ('persistence off', {'persistence_mode': False}, [GPU1],
     [item('gpu', 'GPU 1 persistence_mode', False, False, OK, 'GPU 1')]),
    ('not supported', {'persistence_mode': True, 'power_limit': 'max', 'compute_mode': 'default'}, [OLD],
     [item('gpu', 'GPU 2 persistence_mode', True, None, UNAVAILABLE, 'GPU 2: not supported by this GPU or driver'),
      item('gpu', 'GPU 2 power_limit', 'max', None, UNAVAILABLE, 'GPU 2: not supported by this GPU or driver'),
      item('gpu', 'GPU 2 compute_mode', 'default', None, UNAVAILABLE, 'GPU 2: not supported by this GPU or driver')]),
    ('no power facts', {'power_limit': 300}, [{'index': 3}],
     [item('gpu', 'GPU 3 power_limit', 300, None, UNAVAILABLE, 'GPU 3: not supported by this GPU or driver')]),
    ('NVML lists none', {'persistence_mode': True, 'compute_mode': 'default'}, [],
     [item('gpu', 'persistence_mode', True, None, UNAVAILABLE, 'NVML lists no GPU'),
      item('gpu', 'compute_mode', 'default', None, UNAVAILABLE, 'NVML lists no GPU')]),
]


@pytest.mark.parametrize('desired, gpus, expected', [pytest.param(d, g, e, id=i) for i, d, g, e in GPU])
def test_audit_gpu(desired, gpus, expected):
    assert _audit.audit_gpu(desired, gpus) == expected


def test_audit_gpu_without_nvml():
    reason = 'pynvml (nvidia-ml-py) is not installed: GPU settings are read through NVML only'
    assert _audit.audit_gpu({'power_limit': 'max', 'persistence_mode': True}, None, reason) == [
        item('gpu', 'persistence_mode', True, None, UNAVAILABLE, reason),
        item('gpu', 'power_limit', 'max', None, UNAVAILABLE, reason)]
    assert _audit.audit_gpu({}, None, reason) == []


# -- service ------------------------------------------------------------------------------------------------------
UNIT = 'vllm.service'
WHERE = 'vllm.service MainPID 4242'
JE = '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2'
TC = '/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4'
MAPS = ['/usr/bin/python3.11', '/usr/lib/x86_64-linux-gnu/libc.so.6', JE]


def running(**kw):
    actual = {'pid': 4242, 'state': 'active', 'cpus_allowed': '0-15', 'maps': MAPS, 'libraries_real': {},
              'unit_cpus': None, 'unit_preload': []}
    actual.update(kw)
    return actual


SERVICE = [
    ('no systemd', {'unit': UNIT, 'cpus': '0-15', 'allocator_library': JE},
     {'pid': None, 'reason': 'systemd is not running here, so vllm.service has no MainPID to read'},
     [item('service', 'vllm.service running', 'running', None, UNAVAILABLE,
           'systemd is not running here, so vllm.service has no MainPID to read'),
      item('service', 'vllm.service cpus', '0-15', None, UNAVAILABLE,
           'systemd is not running here, so vllm.service has no MainPID to read'),
      item('service', 'vllm.service allocator_library', JE, None, UNAVAILABLE,
           'systemd is not running here, so vllm.service has no MainPID to read')]),
    ('not running', {'unit': UNIT, 'cpus': 'unit'}, {'pid': None, 'state': 'failed'},
     [item('service', 'vllm.service running', 'running', 'failed', DRIFT, 'vllm.service has no running main process'),
      item('service', 'vllm.service cpus', 'unit', None, UNAVAILABLE, 'vllm.service has no running main process')]),
    ('running, nothing else asked', {'unit': UNIT, 'cpus': None}, running(),
     [item('service', 'vllm.service running', 'running', 'running', OK, WHERE)]),
    ('cpus right', {'unit': UNIT, 'cpus': '0-15'}, running(),
     [item('service', 'vllm.service running', 'running', 'running', OK, WHERE),
      item('service', 'vllm.service cpus', '0-15', '0-15', OK, WHERE)]),
    ('cpus written another way', {'unit': UNIT, 'cpus': '0,1,2,3'}, running(cpus_allowed='0-3\n'),
     [item('service', 'vllm.service running', 'running', 'running', OK, WHERE),
      item('service', 'vllm.service cpus', '0-3', '0-3', OK, WHERE)]),
    ('cpus wrong', {'unit': UNIT, 'cpus': '0-15'}, running(cpus_allowed='0-31'),
     [item('service', 'vllm.service running', 'running', 'running', OK, WHERE),
      item('service', 'vllm.service cpus', '0-15', '0-31', DRIFT, WHERE)]),
    ('cpus unreadable', {'unit': UNIT, 'cpus': '0-15'}, running(cpus_allowed=None),
     [item('service', 'vllm.service running', 'running', 'running', OK, WHERE),
      item('service', 'vllm.service cpus', '0-15', None, UNAVAILABLE,
           WHERE + ': /proc/4242/status has no Cpus_allowed_list')]),
    ('cpus garbled', {'unit': UNIT, 'cpus': '0-15'}, running(cpus_allowed='zz'),
     [item('service', 'vllm.service running', 'running', 'running', OK, WHERE),
      item('service', 'vllm.service cpus', '0-15', 'zz', DRIFT, WHERE)]),
    ('cpus of the unit, old systemd list', {'unit': UNIT, 'cpus': 'unit'}, running(unit_cpus='0 1 2 3',
                                                                                   cpus_allowed='0-3'),
     [item('service', 'vllm.service running', 'running', 'running', OK, WHERE),
      item('service', 'vllm.service cpus', '0-3', '0-3', OK, WHERE + '; CPUAffinity= of vllm.service')]),
    ('cpus of the unit, process elsewhere', {'unit': UNIT, 'cpus': 'unit'},
     running(unit_cpus='0-3', cpus_allowed='0-31'),
     [item('service', 'vllm.service running', 'running', 'running', OK, WHERE),
      item('service', 'vllm.service cpus', '0-3', '0-31', DRIFT,
           WHERE + '; CPUAffinity= of vllm.service (the process runs with another affinity: restart the unit, or '
                   'something changed it)')]),
    ('unit sets no CPUAffinity', {'unit': UNIT, 'cpus': 'unit'}, running(unit_cpus=' '),
     [item('service', 'vllm.service running', 'running', 'running', OK, WHERE),
      item('service', 'vllm.service cpus', 'CPUAffinity= of vllm.service', '0-15', DRIFT,
           "vllm.service sets no CPUAffinity= (numa_bind's drop-in is missing, or systemd has not loaded it: "
           'systemctl daemon-reload, then restart the unit)')]),
    ('unit CPUAffinity unreadable', {'unit': UNIT, 'cpus': 'unit'}, running(unit_cpus='x-y'),
     [item('service', 'vllm.service running', 'running', 'running', OK, WHERE),
      item('service', 'vllm.service cpus', 'x-y', '0-15', UNAVAILABLE,
           'vllm.service: CPUAffinity=x-y cannot be read as a CPU list')]),
    ('library mapped', {'unit': UNIT, 'allocator_library': JE}, running(),
     [item('service', 'vllm.service running', 'running', 'running', OK, WHERE),
      item('service', 'vllm.service allocator_library', JE, JE, OK, WHERE)]),
    ('library mapped by its real path', {'unit': UNIT, 'allocator_library': JE},
     running(maps=['/usr/lib/x86_64-linux-gnu/libjemalloc.so.2.0.0'],
             libraries_real={JE: '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2.0.0'}),
     [item('service', 'vllm.service running', 'running', 'running', OK, WHERE),
      item('service', 'vllm.service allocator_library', JE, '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2.0.0', OK,
           WHERE)]),
    ('another copy mapped', {'unit': UNIT, 'allocator_library': JE},
     running(maps=['/usr/bin/python3.11', '/opt/conda/lib/libjemalloc.so.1']),
     [item('service', 'vllm.service running', 'running', 'running', OK, WHERE),
      item('service', 'vllm.service allocator_library', JE, '/opt/conda/lib/libjemalloc.so.1', DRIFT,
           WHERE + ' does not map %s (maps /opt/conda/lib/libjemalloc.so.1)' % JE)]),
    ('library not mapped', {'unit': UNIT, 'allocator_library': JE}, running(maps=['/usr/bin/python3.11']),
     [item('service', 'vllm.service running', 'running', 'running', OK, WHERE),
      item('service', 'vllm.service allocator_library', JE, None, DRIFT, WHERE + ' does not map ' + JE)]),
    ('maps unreadable', {'unit': UNIT, 'allocator_library': JE}, running(maps=None),
     [item('service', 'vllm.service running', 'running', 'running', OK, WHERE),
      item('service', 'vllm.service allocator_library', JE, None, UNAVAILABLE,
           WHERE + ": /proc/4242/maps cannot be read (reading another user's maps needs CAP_SYS_PTRACE)")]),
    ('LD_PRELOAD of the unit, both mapped', {'unit': UNIT, 'allocator_library': 'unit'},
     running(unit_preload=[JE, TC], maps=MAPS + [TC]),
     [item('service', 'vllm.service running', 'running', 'running', OK, WHERE),
      item('service', 'vllm.service allocator_library', JE + ' ' + TC, JE + ' ' + TC, OK,
           WHERE + "; LD_PRELOAD of vllm.service's environment")]),
    ('LD_PRELOAD of the unit, one missing', {'unit': UNIT, 'allocator_library': 'unit'},
     running(unit_preload=[JE, TC]),
     [item('service', 'vllm.service running', 'running', 'running', OK, WHERE),
      item('service', 'vllm.service allocator_library', JE + ' ' + TC, JE, DRIFT,
           WHERE + "; LD_PRELOAD of vllm.service's environment does not map " + TC)]),
    ('unit without LD_PRELOAD', {'unit': UNIT, 'allocator_library': 'unit'}, running(unit_preload=[]),
     [item('service', 'vllm.service running', 'running', 'running', OK, WHERE),
      item('service', 'vllm.service allocator_library', 'LD_PRELOAD of vllm.service', None, DRIFT,
           "vllm.service has no LD_PRELOAD in its environment (allocator_preload's drop-in is missing, or systemd has "
           'not loaded it: systemctl daemon-reload, then restart the unit)')]),
]


@pytest.mark.parametrize('desired, actual, expected', [pytest.param(d, a, e, id=i) for i, d, a, e in SERVICE])
def test_audit_service(desired, actual, expected):
    assert _audit.audit_service(desired, actual) == expected


def test_unit_cpulist():
    assert _audit.unit_cpulist('0-3') == [0, 1, 2, 3]
    assert _audit.unit_cpulist('0 1 2 8') == [0, 1, 2, 8]
    assert _audit.unit_cpulist('') == []
    assert _audit.unit_cpulist(None) == []
    with pytest.raises(ValueError):
        _audit.unit_cpulist('x')


# -- desired_from_requests: the audit's profile from what the modules were asked ---------------------
def test_desired_from_requests_maps_every_owner():
    requests = {
        'sysctl_profile': {'': {'profile': 'inference_latency', 'settings': {'vm.swappiness': 1}}},
        'hugepages': {'': {'thp_enabled': 'madvise', 'thp_defrag': None,
                           'pools': [{'size': '2M', 'count': 512, 'node': None, 'min_count': None, 'boot': None}]}},
        'cpu_governor': {'': {'governor': 'performance'}},
        'memlock': {'': {'limits_d': True, 'systemd': True, 'container_runtimes': ['auto']}},
        'swap': {'': {'min_ram_gib': 32, 'force': True, 'disable_zswap': False}},
        'io_scheduler': {'': {'scheduler': 'none', 'devices': ['nvme*n*']}},
        'nvidia_gpu': {'': {'persistence_mode': True, 'power_limit': 'max', 'compute_mode': None}},
        'service_unit': {'vllm.service': {'unit': 'vllm.service'}},
        'numa_bind': {'vllm.service': {'unit': 'vllm.service'}},
        'allocator_preload': {'vllm.service': {'allocator': 'jemalloc', 'scope': 'service', 'library': None}},
    }
    desired, notes = _audit.desired_from_requests(requests)
    assert desired == {
        'sysctl_profile': 'inference_latency', 'sysctl': {'vm.swappiness': 1}, 'thp': {'enabled': 'madvise'},
        'hugepages': [{'size': '2M', 'count': 512}], 'governor': 'performance', 'memlock': 'unlimited',
        'swap': {'min_ram_gib': 32, 'force': True, 'disable_zswap': False},
        'io_scheduler': {'scheduler': 'none', 'devices': ['nvme*n*']},
        'gpu': {'persistence_mode': True, 'power_limit': 'max'},
        'service': {'unit': 'vllm.service', 'cpus': _audit.FROM_UNIT, 'allocator_library': _audit.FROM_UNIT}}
    assert notes == [] and _audit.validate(desired) == []


def test_desired_from_requests_service_details():
    library = '/usr/lib/x86_64-linux-gnu/libtcmalloc.so.4'
    desired, notes = _audit.desired_from_requests({
        'service_unit': {'b.service': {'unit': 'b.service'}, 'a.service': {'unit': 'a.service'}},
        'allocator_preload': {'a.service': {'allocator': 'tcmalloc', 'scope': 'service', 'library': library}}})
    assert desired == {'service': {'unit': 'a.service', 'allocator_library': library}}
    assert notes == ['the audit checks one serving unit, a.service; also recorded: b.service']
    assert _audit.desired_from_requests({}) == ({}, [])
