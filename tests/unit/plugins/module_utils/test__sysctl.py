# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.inference.host_tuning.plugins.module_utils import _sysctl
from ansible_collections.inference.host_tuning.tests.unit.fakehost import DEBUG_SCHED

OURS = _sysctl.DEFAULT_PATH


# -- the profile table ----------------------------------------------------------------

REQUIRED_KEYS = ('vm.swappiness', 'kernel.numa_balancing', 'kernel.sched_migration_cost_ns', 'vm.dirty_ratio',
                 'vm.dirty_background_ratio', 'kernel.shmmax', 'kernel.shmall', 'vm.max_map_count',
                 'vm.min_free_kbytes', 'net.core.somaxconn', 'vm.zone_reclaim_mode',
                 'net.core.netdev_max_backlog', 'net.ipv4.tcp_max_syn_backlog', 'fs.inotify.max_user_watches')


@pytest.mark.parametrize('name', sorted(_sysctl.PROFILES))
def test_profiles_are_complete_valid_and_explained(name):
    settings = _sysctl.PROFILES[name]['settings']
    assert set(REQUIRED_KEYS) <= set(settings)
    for key, entry in settings.items():
        assert _sysctl.key_error(key) is None
        assert _sysctl.parse_value(key, entry['value']) == (entry['value'], None)
        assert len(entry['why']) > 20 and '\n' not in entry['why']
    assert settings['vm.swappiness']['value'] in ('0', '1')
    assert settings['kernel.numa_balancing']['value'] == '0'
    assert settings['vm.max_map_count']['value'] == '>1048576'
    assert settings['fs.inotify.max_user_watches']['value'].startswith('>')


def test_profiles_differ_where_they_should():
    lat = _sysctl.PROFILES['inference_latency']['settings']
    thr = _sysctl.PROFILES['inference_throughput']['settings']
    assert lat['kernel.sched_migration_cost_ns']['value'] == '5000000'
    assert thr['kernel.sched_migration_cost_ns']['value'] == '50000'
    assert int(lat['vm.dirty_ratio']['value']) < int(thr['vm.dirty_ratio']['value'])


def test_profile_requests():
    reqs = _sysctl.profile_requests('inference_latency')
    assert reqs['vm.max_map_count'].floor == 1048576 and reqs['vm.max_map_count'].source == 'profile'
    with pytest.raises(KeyError):
        _sysctl.profile_requests('nope')


# -- validation -----------------------------------------------------------------------

@pytest.mark.parametrize('key, ok', [
    ('vm.swappiness', True),
    ('fs.file-max', True),
    ('net.ipv4.conf.eth0.rp_filter', True),
    ('net.ipv4.conf.enp3s0_1.rp_filter', True),
    ('kernel', True),
    ('vm/swappiness', False),
    ('vm..swappiness', False),
    ('..', False),
    ('.vm', False),
    ('vm.', False),
    ('', False),
    ('-vm.swappiness', False),
    ('vm.swap piness', False),
    ('vm.swappiness\n', False),
    ('net.ipv4.conf.*.rp_filter', False),
    ('vm.swappiness=1', False),
    (u'vm.swäppiness', False),
    (1, False),
])
def test_key_error(key, ok):
    err = _sysctl.key_error(key)
    assert (err is None) is ok
    if not ok:
        assert repr(key) in err and 'vm.swappiness' in err


@pytest.mark.parametrize('value, text, error', [
    (1, '1', None),
    (-1, '-1', None),
    (0, '0', None),
    ('60', '60', None),
    (' 4096  87380 6291456 ', '4096  87380 6291456', None),
    ('>1048576', '>1048576', None),
    ('> 1048576', '> 1048576', None),
    ('|/usr/lib/systemd/systemd-coredump %P', '|/usr/lib/systemd/systemd-coredump %P', None),
    (True, None, 'boolean'),
    (1.5, None, 'float'),
    (None, None, 'NoneType'),
    ([1], None, 'list'),
    ({'a': 1}, None, 'dict'),
    ('', None, 'empty'),
    ('  ', None, 'empty'),
    ('1\n2', None, 'control character'),
    ('1\r', None, 'control character'),
    ('1\t2', None, 'control character'),
    ('a\x00', None, 'control character'),
    ('a\x7f', None, 'control character'),
    ('>', None, 'raise-only'),
    ('>x', None, 'raise-only'),
    ('>-5', None, 'raise-only'),
    ('>1.5', None, 'raise-only'),
    ('>1 2', None, 'raise-only'),
])
def test_parse_value(value, text, error):
    got_text, got_error = _sysctl.parse_value('vm.k', value)
    assert got_text == text
    if error is None:
        assert got_error is None
    else:
        assert error in got_error and 'settings.vm.k' in got_error


@pytest.mark.parametrize('value, expected', [
    ('32768\t60999', '32768 60999'),
    (' 4096   87380\t6291456\n', '4096 87380 6291456'),
    ('1', '1'),
    (None, None),
    (5, '5'),
])
def test_normalize(value, expected):
    assert _sysctl.normalize(value) == expected


@pytest.mark.parametrize('value, current, target', [
    ('1', '60', '1'),
    ('32768  60999', '32768 60999', '32768 60999'),
    ('>1048576', '65530', '1048576'),
    ('>1048576', '2000000', '2000000'),
    ('>1048576', '1048576', '1048576'),
    ('>16777216', '18446744073692774399', '18446744073692774399'),
    ('>10', None, '10'),
])
def test_request_target(value, current, target):
    assert _sysctl.Request('k', value, 'why', 'settings').target(current) == target


# -- where knobs live -----------------------------------------------------------------

@pytest.mark.parametrize('release, key, kind, path', [
    ('6.1.0-27-amd64', 'vm.swappiness', 'procfs', '/proc/sys/vm/swappiness'),
    ('6.1.0-27-amd64', 'kernel.sched_migration_cost_ns', 'debugfs', DEBUG_SCHED + '/migration_cost_ns'),
    ('6.1.0-27-amd64', 'kernel.sched_min_granularity_ns', 'debugfs', DEBUG_SCHED + '/min_granularity_ns'),
    ('6.1.0-27-amd64', 'kernel.sched_wakeup_granularity_ns', 'debugfs', DEBUG_SCHED + '/wakeup_granularity_ns'),
    ('6.1.0-27-amd64', 'kernel.sched_latency_ns', 'debugfs', DEBUG_SCHED + '/latency_ns'),
    ('6.1.0-27-amd64', 'kernel.sched_nr_migrate', 'unavailable', DEBUG_SCHED + '/nr_migrate'),
    ('5.10.0-28-amd64', 'kernel.sched_migration_cost_ns', 'procfs', '/proc/sys/kernel/sched_migration_cost_ns'),
    ('5.13.0-1-generic', 'kernel.sched_migration_cost_ns', 'debugfs', DEBUG_SCHED + '/migration_cost_ns'),
    ('6.8.0-45-generic', 'kernel.sched_migration_cost_ns', 'debugfs', DEBUG_SCHED + '/migration_cost_ns'),
    ('6.8.0-45-generic', 'kernel.sched_min_granularity_ns', 'debugfs', DEBUG_SCHED + '/base_slice_ns'),
    ('6.8.0-45-generic', 'kernel.sched_latency_ns', 'unavailable', None),
    ('6.8.0-45-generic', 'kernel.sched_wakeup_granularity_ns', 'unavailable', None),
    ('unknown', 'kernel.sched_migration_cost_ns', 'debugfs', DEBUG_SCHED + '/migration_cost_ns'),
    ('unknown', 'kernel.sched_min_granularity_ns', 'debugfs', DEBUG_SCHED + '/base_slice_ns'),
    ('6.1.0-27-amd64', 'vm.no_such_knob', 'unavailable', '/proc/sys/vm/no_such_knob'),
    ('6.1.0-27-amd64', 'vm', 'unavailable', '/proc/sys/vm'),
])
def test_locate(fake_host, release, key, kind, path):
    fake_host.sysctl('kernel.sched_migration_cost_ns', 500000)  # as a 5.10 kernel has it
    if release.startswith('6.8') or release == 'unknown':
        fake_host.remove(DEBUG_SCHED + '/min_granularity_ns')
        fake_host.write(DEBUG_SCHED + '/base_slice_ns', '3000000\n')
        fake_host.remove('/proc/sys/kernel/sched_migration_cost_ns')
    from ansible_collections.inference.host_tuning.plugins.module_utils import _host
    loc = _sysctl.locate(key, _host.kernel_version(release))
    assert (loc.kind, loc.path) == (kind, path)
    assert loc.available is (kind != 'unavailable')
    if not loc.available:
        assert loc.reason.startswith(_sysctl.UNAVAILABLE)


@pytest.mark.parametrize('path, key', [
    ('/proc/sys/vm/swappiness', 'vm.swappiness'),
    ('/proc/sys/net/ipv4/ip_local_port_range', 'net.ipv4.ip_local_port_range'),
    (DEBUG_SCHED + '/migration_cost_ns', 'kernel.sched_migration_cost_ns'),
    (DEBUG_SCHED + '/base_slice_ns', 'kernel.sched_min_granularity_ns'),
    (DEBUG_SCHED + '/min_granularity_ns', 'kernel.sched_min_granularity_ns'),
    ('/sys/other', '/sys/other'),
])
def test_key_for_path(path, key):
    assert _sysctl.key_for_path(path) == key


# -- boot precedence ------------------------------------------------------------------

def test_parse_conf():
    text = ('# comment\n; comment\n\nvm.swappiness = 10\n  vm.dirty_ratio=5  \n-net/ipv4/conf/eth0.100/rp_filter = 2\n'
            'net.ipv4.conf.*.rp_filter = 1\nno separator\nvm.swappiness =  20 \nnet.ipv4.ip_local_port_range = 1\t2\n')
    assert _sysctl.parse_conf(text) == [
        ('vm.swappiness', '10'), ('vm.dirty_ratio', '5'), ('net.ipv4.conf.eth0/100.rp_filter', '2'),
        ('vm.swappiness', '20'), ('net.ipv4.ip_local_port_range', '1 2')]
    assert _sysctl.parse_conf(None) == []


def test_config_files_order(fake_host):
    fake_host.write('/run/sysctl.d/50-default.conf', 'x = 1\n')       # shadows /usr/lib's 50-default
    fake_host.write('/etc/sysctl.d/50-pid-max.conf', 'x = 1\n')       # shadows /usr/lib's 50-pid-max
    fake_host.write('/usr/local/lib/sysctl.d/95-local.conf', 'x = 1\n')
    fake_host.write('/lib/sysctl.d/10-lib.conf', 'x = 1\n')
    fake_host.write('/etc/sysctl.d/README', 'not a conf file\n')
    fake_host.symlink('/dev/null', '/etc/sysctl.d/60-masked.conf')
    fake_host.write('/usr/lib/sysctl.d/60-masked.conf', 'vm.swappiness = 99\n')
    entries = _sysctl.config_files(OURS)
    assert [e['path'] for e in entries] == [
        '/lib/sysctl.d/10-lib.conf',
        '/run/sysctl.d/50-default.conf',
        '/etc/sysctl.d/50-pid-max.conf',
        OURS,
        '/usr/local/lib/sysctl.d/95-local.conf',
        '/etc/sysctl.conf',  # Debian's 99-sysctl.conf link: listed once, last
    ]
    assert entries[-1]['aliases'] == ['/etc/sysctl.d/99-sysctl.conf']
    assert [e['own'] for e in entries].count(True) == 1


def test_config_files_without_sysctl_conf_link(fake_host):
    fake_host.remove('/etc/sysctl.d/99-sysctl.conf')
    fake_host.remove('/etc/sysctl.conf')
    assert [e['path'] for e in _sysctl.config_files(OURS)][-1] == OURS


@pytest.mark.parametrize('files, conflicts', [
    # later file wins
    ({'/etc/sysctl.d/95-a.conf': 'vm.swappiness = 10\n'}, [('vm.swappiness', '/etc/sysctl.d/95-a.conf', '10')]),
    # the last of two later files decides
    ({'/etc/sysctl.d/95-a.conf': 'vm.swappiness = 10\n', '/etc/sysctl.d/96-b.conf': 'vm.swappiness = 20\n'},
     [('vm.swappiness', '/etc/sysctl.d/96-b.conf', '20')]),
    # ...also when it sets our value again
    ({'/etc/sysctl.d/95-a.conf': 'vm.swappiness = 10\n', '/etc/sysctl.d/96-b.conf': 'vm.swappiness = 1\n'}, []),
    # a later file with our value, an earlier one with another
    ({'/etc/sysctl.d/95-a.conf': 'vm.swappiness = 1\n', '/etc/sysctl.d/10-a.conf': 'vm.swappiness = 30\n'}, []),
    # raise-only: below the floor conflicts, at or above does not
    ({'/etc/sysctl.d/95-a.conf': 'vm.max_map_count = 65530\n'}, [('vm.max_map_count', '/etc/sysctl.d/95-a.conf', '65530')]),
    ({'/etc/sysctl.d/95-a.conf': 'vm.max_map_count = 1048576\n'}, []),
    ({'/etc/sysctl.d/95-a.conf': 'vm.max_map_count = lots\n'}, [('vm.max_map_count', '/etc/sysctl.d/95-a.conf', 'lots')]),
    # a same-name file in /usr/lib is shadowed by ours in /etc
    ({'/usr/lib/sysctl.d/90-inference-host-tuning.conf': 'vm.swappiness = 10\n'}, []),
    # /etc/sysctl.conf is read last
    ({'/etc/sysctl.conf': 'vm.swappiness=10\n'}, [('vm.swappiness', '/etc/sysctl.conf', '10')]),
])
def test_precedence(fake_host, files, conflicts):
    for path, content in files.items():
        fake_host.write(path, content)
    got, _overridden, notes = _sysctl.precedence(OURS, {'vm.swappiness': ('1', None),
                                                        'vm.max_map_count': ('1048576', 1048576)})
    assert [(c['key'], c['file'], c['value']) for c in got] == conflicts
    assert notes == []


def test_precedence_overridden_and_notes(fake_host):
    fake_host.write('/etc/sysctl.d/10-a.conf', 'vm.swappiness = 30\n')
    _c, overridden, _n = _sysctl.precedence(OURS, {'vm.swappiness': ('1', None)})
    assert overridden == [{'key': 'vm.swappiness', 'file': '/etc/sysctl.d/10-a.conf', 'aliases': [],
                           'value': '30', 'ours': '1'}]
    # our path shadowed by a same-name file in a directory read first
    fake_host.write('/etc/sysctl.d/90-x.conf', 'vm.swappiness = 30\n')
    conflicts, _o, notes = _sysctl.precedence('/usr/lib/sysctl.d/90-x.conf', {'vm.swappiness': ('1', None)})
    assert conflicts == [] and 'shadowed by /etc/sysctl.d/90-x.conf' in notes[0]
    # a directory nobody reads at boot
    _c, _o, notes = _sysctl.precedence('/opt/x.conf', {'vm.swappiness': ('1', None)})
    assert 'not in a directory that systemd-sysctl reads' in notes[0]


def test_file_label():
    assert _sysctl.file_label('/etc/sysctl.conf', ['/etc/sysctl.d/99-sysctl.conf']) == \
        '/etc/sysctl.conf (also read as /etc/sysctl.d/99-sysctl.conf)'
    assert _sysctl.file_label('/etc/sysctl.d/99-zz.conf') == '/etc/sysctl.d/99-zz.conf'


# -- rendering ------------------------------------------------------------------------

def test_render_sysctl_sorted_with_why():
    text = _sysctl.render_sysctl('# head\n', [('vm.swappiness', '1', 'keep it\nin RAM'), ('fs.a', '2', 'b')])
    assert text == '# head\n\n# b\nfs.a = 2\n\n# keep it in RAM\nvm.swappiness = 1\n'
    assert _sysctl.render_sysctl('# head\n', []) is None


def test_render_tmpfiles():
    text = _sysctl.render_tmpfiles('# head\n', [
        ('kernel.sched_migration_cost_ns', DEBUG_SCHED + '/migration_cost_ns', '50000', 'why'),
        ('kernel.x', DEBUG_SCHED + '/x', '5%', 'y')])
    assert 'w %s/migration_cost_ns - - - - 50000\n' % DEBUG_SCHED in text
    assert text.index('migration_cost_ns - -') < text.index('/x - -')
    assert text.endswith('w %s/x - - - - 5%%%%\n' % DEBUG_SCHED)
    assert _sysctl.render_tmpfiles('# head\n', []) is None
