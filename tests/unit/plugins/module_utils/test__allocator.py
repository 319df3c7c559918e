# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""_allocator: finding the library (ldconfig cache, then the library directories of the fake root), the environment
of each allocator and its refusals, the edits of an environment file and of /etc/ld.so.preload, and the probe.

The probe never runs: ``Probe`` answers with the /proc/self/maps text a test gives it.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import sys

import pytest

from ansible_collections.inference.host_tuning.plugins.module_utils import _allocator
from ansible_collections.inference.host_tuning.plugins.module_utils import _files
from ansible_collections.inference.host_tuning.plugins.module_utils import _formats
from ansible_collections.inference.host_tuning.tests.unit.fakehost import FakeModule

JE = '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2'
TC = '/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4'
JE_CONF = 'background_thread:true,metadata_thp:auto,dirty_decay_ms:30000,muzzy_decay_ms:30000'
OWNER = 'allocator_preload'
HEADER = _files.header(OWNER)

LDCONFIG = (
    '1234 libs found in cache `/etc/ld.so.cache\'\n'
    '\tlibjemalloc.so.2 (libc6) => /usr/lib/i386-linux-gnu/libjemalloc.so.2\n'
    '\tlibjemalloc.so.2 (libc6,x86-64) => /lib/x86_64-linux-gnu/libjemalloc.so.2\n'
    '\tlibjemalloc.so.2 (libc6,x86-64) => /usr/local/lib/libjemalloc.so.2\n'
    '\tlibjemalloc.so.2 (libc6,AArch64) => /lib/aarch64-linux-gnu/libjemalloc.so.2\n'
    '\tlibtcmalloc.so.4 (libc6,x86-64) => /lib/x86_64-linux-gnu/libtcmalloc.so.4\n'
    '\tlibtcmalloc_minimal.so.4 (libc6,x86-64, OS ABI: Linux 3.2.0) => '
    '/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4\n'
    '\tlibjemalloc.so.2 (libc6,x86-64) => /opt/with space/libjemalloc.so.2\n'
    'libjemalloc.so.2 => /no/flags/libjemalloc.so.2\n')


class Probe(FakeModule):
    """A module whose run_command answers the probe with ``maps`` (and ``rc``, ``err``), recording the environment."""

    def __init__(self, maps='', rc=0, err='', bins=('cat',)):
        super(Probe, self).__init__(bins=bins)
        self.maps, self.probe_rc, self.err = maps, rc, err
        self.environ = []

    def run_command(self, argv, environ_update=None):
        self.calls.append(argv)
        self.environ.append(environ_update)
        return self.probe_rc, self.maps, self.err


def maps_of(*paths):
    lines = ['55d0c0a00000-55d0c0a02000 r--p 00000000 08:01 131                        /usr/bin/cat',
             '7ffd1c000000-7ffd1c021000 rw-p 00000000 00:00 0                          [stack]',
             '7ffd1c021000-7ffd1c022000 rw-p 00000000 00:00 0']
    lines += ['7f5e1c000000-7f5e1c021000 r-xp 00000000 08:01 4242                       %s' % p for p in paths]
    return '\n'.join(lines) + '\n'


# -- finding the library ------------------------------------------------------------------------------------------
@pytest.mark.parametrize('arch, dirs', [
    ('x86_64', ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib']),
    ('aarch64', ['/usr/lib/aarch64-linux-gnu', '/usr/lib/x86_64-linux-gnu', '/usr/lib64', '/usr/lib']),
    ('riscv64', ['/usr/lib/aarch64-linux-gnu', '/usr/lib/x86_64-linux-gnu', '/usr/lib64', '/usr/lib']),
])
def test_search_dirs(arch, dirs, monkeypatch):
    assert _allocator.search_dirs(arch) == dirs
    monkeypatch.setattr(_allocator, 'machine', lambda: arch)
    assert _allocator.search_dirs() == dirs


@pytest.mark.parametrize('names, arch, paths', [
    (['libjemalloc.so.2'], 'x86_64', ['/lib/x86_64-linux-gnu/libjemalloc.so.2']),
    (['libjemalloc.so.2'], 'aarch64', ['/lib/aarch64-linux-gnu/libjemalloc.so.2']),
    (['libtcmalloc_minimal.so.4', 'libtcmalloc.so.4'], 'x86_64',
     ['/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4', '/lib/x86_64-linux-gnu/libtcmalloc.so.4']),
    (['libtcmalloc.so.4', 'libtcmalloc_minimal.so.4'], 'x86_64',
     ['/lib/x86_64-linux-gnu/libtcmalloc.so.4', '/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4']),
    (['libtcmalloc_minimal.so.4'], 'aarch64', []),
    # an architecture without a known tag takes the first entry of any ABI
    (['libjemalloc.so.2'], 'riscv64', ['/usr/lib/i386-linux-gnu/libjemalloc.so.2']),
    (['libnothere.so'], 'x86_64', []),
])
def test_parse_ldconfig(names, arch, paths):
    assert _allocator.parse_ldconfig(LDCONFIG, names, arch) == paths


def test_parse_ldconfig_of_nothing():
    assert _allocator.parse_ldconfig(None, ['libjemalloc.so.2'], 'x86_64') == []
    assert _allocator.parse_ldconfig('', ['libjemalloc.so.2'], 'x86_64') == []


def test_find_library_prefers_the_ldconfig_cache_that_exists_in_the_root(fake_host):
    fake_host.write(JE, 'ELF')
    fake_host.write('/lib/x86_64-linux-gnu/libjemalloc.so.2', 'ELF')
    assert _allocator.find_library('jemalloc', LDCONFIG, 'x86_64') == (
        '/lib/x86_64-linux-gnu/libjemalloc.so.2', ['the ldconfig cache (ldconfig -p)'])
    # the cache names one path per library (the one the loader takes): when that file is gone, the directories
    fake_host.remove('/lib/x86_64-linux-gnu/libjemalloc.so.2')
    fake_host.write('/usr/local/lib/libjemalloc.so.2', 'ELF')
    assert _allocator.find_library('jemalloc', LDCONFIG, 'x86_64') == (
        JE, ['the ldconfig cache (ldconfig -p)', JE])


def test_find_library_in_the_directories(fake_host):
    fake_host.write('/usr/lib64/libjemalloc.so.2', 'ELF')
    assert _allocator.find_library('jemalloc', None, 'x86_64') == (
        '/usr/lib64/libjemalloc.so.2',
        [JE, '/usr/lib/aarch64-linux-gnu/libjemalloc.so.2', '/usr/lib64/libjemalloc.so.2'])
    fake_host.write('/usr/lib/aarch64-linux-gnu/libjemalloc.so.2', 'ELF')
    assert _allocator.find_library('jemalloc', None, 'aarch64')[0] == '/usr/lib/aarch64-linux-gnu/libjemalloc.so.2'
    # the first name of tcmalloc wins over the second in a directory searched earlier
    fake_host.write('/usr/lib/x86_64-linux-gnu/libtcmalloc.so.4', 'ELF')
    fake_host.write('/usr/lib/libtcmalloc_minimal.so.4', 'ELF')
    assert _allocator.find_library('tcmalloc', None, 'x86_64')[0] == '/usr/lib/libtcmalloc_minimal.so.4'


def test_find_library_that_is_nowhere(fake_host):
    with pytest.raises(_allocator.AllocatorError) as exc:
        _allocator.find_library('tcmalloc', LDCONFIG, 'x86_64')
    msg = str(exc.value)
    assert msg.startswith('libtcmalloc_minimal.so.4 or libtcmalloc.so.4 was not found (searched the ldconfig cache '
                          '(ldconfig -p), /usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4, ')
    assert '/usr/lib/libtcmalloc.so.4). Install it: ' in msg and msg.endswith('; or give its path in library.')
    assert _allocator.PACKAGES['tcmalloc'] in msg


# -- the environment ----------------------------------------------------------------------------------------------
def test_environment_defaults():
    assert _allocator.environment('jemalloc', JE) == [('LD_PRELOAD', JE), ('MALLOC_CONF', JE_CONF)]
    assert _allocator.environment('tcmalloc', TC, {}) == [
        ('LD_PRELOAD', TC), ('TCMALLOC_MAX_TOTAL_THREAD_CACHE_BYTES', '268435456'),
        ('TCMALLOC_LARGE_ALLOC_REPORT_THRESHOLD', '107374182400')]


def test_environment_tunables_override_remove_and_add():
    env = _allocator.environment('jemalloc', JE, {'dirty_decay_ms': 0, 'metadata_thp': None, 'narenas': 8,
                                                  'background_thread': False, 'abort_conf': True})
    assert env == [('LD_PRELOAD', JE), ('MALLOC_CONF', 'background_thread:false,dirty_decay_ms:0,'
                                                       'muzzy_decay_ms:30000,abort_conf:true,narenas:8')]
    nothing = dict((k, None) for k, _v in _allocator.JEMALLOC_DEFAULTS)
    assert _allocator.environment('jemalloc', JE, nothing) == [('LD_PRELOAD', JE)]
    env = _allocator.environment('tcmalloc', TC, {'TCMALLOC_RELEASE_RATE': 0,
                                                  'TCMALLOC_LARGE_ALLOC_REPORT_THRESHOLD': None})
    assert env == [('LD_PRELOAD', TC), ('TCMALLOC_MAX_TOTAL_THREAD_CACHE_BYTES', '268435456'),
                   ('TCMALLOC_RELEASE_RATE', '0')]


@pytest.mark.parametrize('allocator, tunables, message', [
    ('jemalloc', {'dirty-decay': 1}, "tunables: 'dirty-decay' is not a jemalloc option name"),
    ('jemalloc', {'a:b': 1}, "tunables: 'a:b' is not a jemalloc option name"),
    ('jemalloc', {'1st': 1}, "tunables: '1st' is not a jemalloc option name"),
    ('jemalloc', {'narenas\n': 1}, 'is not a jemalloc option name'),
    ('jemalloc', {'narenas': '4,abort:true'}, 'tunables: the value of narenas must not contain commas or white'),
    ('jemalloc', {'narenas': '4 5'}, 'must not contain commas or white space'),
    ('jemalloc', {'narenas': '4\n'}, 'must not contain commas or white space'),
    ('tcmalloc', {'MALLOC_CONF': 'x'}, "tunables: 'MALLOC_CONF' is not a tcmalloc environment variable"),
    ('tcmalloc', {'TCMALLOC_A-B': 1}, 'is not a tcmalloc environment variable'),
    ('tcmalloc', {'LD_PRELOAD': '/tmp/evil.so'}, 'is not a tcmalloc environment variable'),
    ('tcmalloc', {'TCMALLOC_X': 'a\nLD_PRELOAD=/tmp/evil.so'}, 'tunables: the value of TCMALLOC_X must be one line'),
    ('tcmalloc', {'TCMALLOC_X': 'a\r'}, 'must be one line'),
    ('mimalloc', {}, "unknown allocator 'mimalloc'"),
])
def test_environment_refusals(allocator, tunables, message):
    with pytest.raises(_allocator.AllocatorError) as exc:
        _allocator.environment(allocator, JE, tunables)
    assert message in str(exc.value)


@pytest.mark.parametrize('name, owned', [
    ('LD_PRELOAD', True), ('MALLOC_CONF', True), ('TCMALLOC_RELEASE_RATE', True),
    ('PATH', False), ('LD_LIBRARY_PATH', False), ('MALLOC_ARENA_MAX', False), ('ld_preload', False),
])
def test_owned_variable(name, owned):
    assert _allocator.owned_variable(name) is owned


# -- environment files --------------------------------------------------------------------------------------------
USER = ('# site settings\n'
        'PATH=/usr/local/bin:/usr/bin\n'
        'export LD_PRELOAD=/usr/lib/libold.so\n'
        '#LD_PRELOAD=/usr/lib/commented.so\n'
        '\n'
        'MALLOC_CONF=narenas:1\n'
        'TCMALLOC_RELEASE_RATE=5\n'
        'HF_HOME=/srv/hf\n')


def test_env_file_content_keeps_the_rest_and_is_idempotent():
    env = _allocator.environment('jemalloc', JE)
    got = _allocator.env_file_content(USER, env, OWNER)
    assert got == ('# site settings\nPATH=/usr/local/bin:/usr/bin\n#LD_PRELOAD=/usr/lib/commented.so\n\n'
                   'HF_HOME=/srv/hf\n' + HEADER + 'LD_PRELOAD=%s\nMALLOC_CONF=%s\n' % (JE, JE_CONF))
    assert _allocator.env_file_content(got, env, OWNER) == got
    assert _allocator.env_file_content(None, env, OWNER) == HEADER + 'LD_PRELOAD=%s\nMALLOC_CONF=%s\n' % (JE, JE_CONF)


@pytest.mark.parametrize('library', ['/opt/my lib/libjemalloc.so.2', '/opt/lib"x/libjemalloc.so.2',
                                     '/opt/$HOME/libjemalloc.so.2', '/opt/x\n/libjemalloc.so.2'])
def test_env_file_content_refuses_what_an_environment_file_cannot_hold(library):
    with pytest.raises(_formats.FormatError):
        _allocator.env_file_content(USER, [('LD_PRELOAD', library)], OWNER)


def test_env_file_strip():
    assert _allocator.env_file_strip(None, OWNER) is None
    # no header of ours: someone else's file, even with an LD_PRELOAD, is left as it is
    assert _allocator.env_file_strip(USER, OWNER) == USER
    assert _allocator.env_file_strip(USER, 'other_owner') == USER
    ours = _allocator.env_file_content(None, _allocator.environment('jemalloc', JE), OWNER)
    assert _allocator.env_file_strip(ours, OWNER) is None
    assert _allocator.env_file_strip(ours + '\n\n', OWNER) is None
    shared = _allocator.env_file_content(USER, _allocator.environment('tcmalloc', TC), OWNER)
    assert _allocator.env_file_strip(shared, OWNER) == ('# site settings\nPATH=/usr/local/bin:/usr/bin\n'
                                                        '#LD_PRELOAD=/usr/lib/commented.so\n\nHF_HOME=/srv/hf\n')


# -- /etc/ld.so.preload -------------------------------------------------------------------------------------------
@pytest.mark.parametrize('current, expected', [
    (None, JE + '\n'),
    ('', JE + '\n'),
    (JE + '\n', JE + '\n'),
    ('/usr/lib/libaudit-hook.so\n', '/usr/lib/libaudit-hook.so\n' + JE + '\n'),
    ('/usr/lib64/libjemalloc.so.2\n', JE + '\n'),
    (TC + '\n/usr/lib/libaudit-hook.so\n', '/usr/lib/libaudit-hook.so\n' + JE + '\n'),
    ('/usr/lib/libaudit-hook.so /usr/lib/libtcmalloc.so.4\n', '/usr/lib/libaudit-hook.so\n' + JE + '\n'),
    ('/usr/lib/libaudit-hook.so\n\n' + JE + '\n', '/usr/lib/libaudit-hook.so\n\n' + JE + '\n'),
], ids=['absent', 'empty', 'already there', 'another library kept', 'same allocator elsewhere replaced',
        'other allocator replaced', 'other allocator taken off a shared line', 'blank line kept'])
def test_preload_file_content(current, expected):
    assert _allocator.preload_file_content(current, JE) == expected
    assert _allocator.preload_file_content(expected, JE) == expected


def test_preload_file_content_drops_another_allocator_on_the_line_of_the_library():
    got = _allocator.preload_file_content('%s %s\n' % (TC, JE), JE)
    assert TC not in got.split() and JE in got.split()


# -- the probe ----------------------------------------------------------------------------------------------------
def test_verify_finds_the_library_in_the_maps(fake_host):
    fake_host.write(JE, 'ELF')
    m = Probe(maps_of(JE))
    assert _allocator.verify(m, JE) == (True, '')
    assert m.calls == [['/usr/bin/cat', '/proc/self/maps']] and m.environ == [{'LD_PRELOAD': JE}]


def test_verify_knows_the_real_path_of_a_linked_library(fake_host):
    """/proc/self/maps names the file a link leads to (libtcmalloc_minimal.so.4 -> ...so.4.5.9)."""
    fake_host.write(TC + '.5.9', 'ELF')
    fake_host.symlink('libtcmalloc_minimal.so.4.5.9', TC)
    assert _allocator.verify(Probe(maps_of(TC + '.5.9')), TC) == (True, '')
    assert _allocator.verify(Probe(maps_of('/usr/lib/libtcmalloc_minimal.so.4.5.9')), TC)[0] is False


@pytest.mark.parametrize('maps, rc, err, detail', [
    (maps_of(), 0, "ERROR: ld.so: object '%s' from LD_PRELOAD cannot be preloaded (wrong ELF class: ELFCLASS32): "
                   'ignored.\n' % JE, "ERROR: ld.so: object '%s' from LD_PRELOAD cannot be preloaded" % JE),
    (maps_of(), 0, '', 'the library is not in /proc/self/maps'),
    (maps_of(JE + '.bak'), 0, '', 'the library is not in /proc/self/maps'),
    (maps_of(JE), 1, '', 'exit status 1'),
    ('', 127, 'cat: not found\n', 'cat: not found'),
], ids=['loader refused', 'not mapped', 'another file mapped', 'probe failed', 'probe failed with a message'])
def test_verify_failures(fake_host, maps, rc, err, detail):
    fake_host.write(JE, 'ELF')
    mapped, got = _allocator.verify(Probe(maps, rc, err), JE)
    assert mapped is False and got.startswith(detail)


def test_verify_without_cat_uses_this_python(fake_host):
    m = Probe(maps_of(JE), bins=())
    assert _allocator.verify(m, JE) == (True, '')
    assert m.calls == [[sys.executable, '-c', 'print(open("/proc/self/maps").read())']]
    assert m.environ == [{'LD_PRELOAD': JE}]
