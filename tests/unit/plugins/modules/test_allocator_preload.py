# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import platform

import pytest

from ansible.module_utils import basic

from ansible_collections.inference.host_tuning.plugins.module_utils import _allocator
from ansible_collections.inference.host_tuning.plugins.module_utils import _formats
from ansible_collections.inference.host_tuning.plugins.module_utils import _ledger
from ansible_collections.inference.host_tuning.plugins.modules import allocator_preload
from ansible_collections.inference.host_tuning.tests.unit.plugins.modules.utils import (
    fail_module, install_commands, refused, run_module)

DROPIN = '/etc/systemd/system/vllm.service.d/90-inference-allocator.conf'
HEADER = ('# Managed by Ansible (inference.host_tuning.allocator_preload). Local edits are overwritten;\n'
          '# remove with state=absent or playbooks/revert.yml to restore what was here before.\n')
JE_X86 = '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2'
JE_CONF = 'background_thread:true,metadata_thp:auto,dirty_decay_ms:30000,muzzy_decay_ms:30000'

LDCONFIG = (
    '1234 libs found in cache `/etc/ld.so.cache\'\n'
    '\tlibjemalloc.so.2 (libc6) => /usr/lib/i386-linux-gnu/libjemalloc.so.2\n'
    '\tlibjemalloc.so.2 (libc6,x86-64) => /lib/x86_64-linux-gnu/libjemalloc.so.2\n'
    '\tlibjemalloc.so.2 (libc6,AArch64) => /lib/aarch64-linux-gnu/libjemalloc.so.2\n'
    '\tlibtcmalloc.so.4 (libc6,x86-64) => /lib/x86_64-linux-gnu/libtcmalloc.so.4\n'
    '\tlibtcmalloc_minimal.so.4 (libc6,x86-64) => /lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4\n'
    '\tlibc.so.6 (libc6,x86-64, OS ABI: Linux 3.2.0) => /lib/x86_64-linux-gnu/libc.so.6\n')

REAL_RUN_COMMAND = basic.AnsibleModule.run_command


class Commands(object):
    """Fake ldconfig/systemctl and, unless ``real_probe``, a fake probe that maps the preload."""

    def __init__(self):
        self.calls = []
        self.ldconfig = ''
        self.probe_maps = True
        self.real_probe = False
        self.bins = {'systemctl': '/usr/bin/systemctl', 'ldconfig': '/sbin/ldconfig', 'cat': '/usr/bin/cat'}

    def run_command(self, module, args, **kw):
        assert isinstance(args, list), 'argv lists only'
        self.calls.append((args, kw.get('environ_update')))
        name = os.path.basename(args[0])
        if name == 'ldconfig':
            return 0, self.ldconfig, ''
        if name == 'systemctl':
            return 0, '', ''
        if name == 'cat':
            if self.real_probe:
                return REAL_RUN_COMMAND(module, args, **kw)
            lib = kw['environ_update']['LD_PRELOAD']
            maps = '55d0c0a00000-55d0c0a02000 r--p 00000000 08:01 131 /usr/bin/cat\n'
            if self.probe_maps:
                maps += '7f5e1c000000-7f5e1c021000 r-xp 00000000 08:01 4242 %s\n' % lib
            err = '' if self.probe_maps else (
                "ERROR: ld.so: object '%s' from LD_PRELOAD cannot be preloaded "
                "(wrong ELF class: ELFCLASS32): ignored.\n" % lib)
            return 0, maps, err
        raise AssertionError('unexpected command %r' % (args,))

    def verbs(self):
        return [a[1] for a, _env in self.calls if os.path.basename(a[0]) == 'systemctl']

    def probes(self):
        return [env for a, env in self.calls if os.path.basename(a[0]) == 'cat']


@pytest.fixture
def cmds(fake_host, monkeypatch):
    fake = Commands()
    os.makedirs(fake_host.path('/run/systemd/system'))
    install_commands(monkeypatch, fake)
    monkeypatch.setattr(_allocator, 'machine', lambda: 'x86_64')
    return fake


def run(args, **kw):
    a = {'unit': 'vllm.service'}
    a.update(args)
    return run_module(allocator_preload, dict((k, v) for k, v in a.items() if v is not None), **kw)


def fail(args, **kw):
    a = {'unit': 'vllm.service'}
    a.update(args)
    return fail_module(allocator_preload, dict((k, v) for k, v in a.items() if v is not None), **kw)


def test_jemalloc_from_ldconfig_exact_dropin_idempotent_absent(fake_host, cmds):
    before = fake_host.snapshot()
    cmds.ldconfig = LDCONFIG
    fake_host.write('/lib/x86_64-linux-gnu/libjemalloc.so.2', 'ELF')
    fake_host.write('/lib/aarch64-linux-gnu/libjemalloc.so.2', 'ELF')
    r = run({})
    lib = '/lib/x86_64-linux-gnu/libjemalloc.so.2'
    assert (r['changed'], r['library'], r['allocator'], r['scope'], r['verified']) == (
        True, lib, 'jemalloc', 'service', True)
    assert r['environment'] == {'LD_PRELOAD': lib, 'MALLOC_CONF': JE_CONF}
    assert r['path'] == DROPIN
    content = HEADER + '[Service]\nEnvironment=LD_PRELOAD=%s\nEnvironment=MALLOC_CONF=%s\n' % (lib, JE_CONF)
    assert fake_host.read(DROPIN) == content
    assert r['diff']['after'] == content
    assert cmds.probes() == [{'LD_PRELOAD': lib}]
    assert cmds.verbs() == ['daemon-reload'] and r['daemon_reloaded'] is True
    assert json.loads(fake_host.read(_ledger.LEDGER_PATH))['files'][DROPIN]['owner'] == 'allocator_preload'

    cmds.calls[:] = []
    r = run({})
    assert r['changed'] is False and cmds.verbs() == []

    r = run({'state': 'absent'})
    assert r['changed'] is True and cmds.verbs() == ['daemon-reload']
    assert r['diff']['before'] == content and r['library'] is None
    fake_host.remove('/lib/x86_64-linux-gnu/libjemalloc.so.2')
    fake_host.remove('/lib/aarch64-linux-gnu/libjemalloc.so.2')
    os.rmdir(fake_host.path('/lib/x86_64-linux-gnu'))
    os.rmdir(fake_host.path('/lib/aarch64-linux-gnu'))
    os.rmdir(fake_host.path('/lib'))
    assert fake_host.snapshot() == before
    assert not fake_host.exists('/etc/systemd/system/vllm.service.d')


@pytest.mark.parametrize('arch, files, allocator, expected', [
    ('x86_64', [JE_X86, '/usr/lib64/libjemalloc.so.2'], 'jemalloc', JE_X86),
    ('aarch64', ['/usr/lib/aarch64-linux-gnu/libjemalloc.so.2', '/usr/lib64/libjemalloc.so.2'], 'jemalloc',
     '/usr/lib/aarch64-linux-gnu/libjemalloc.so.2'),
    ('aarch64', ['/usr/lib64/libjemalloc.so.2'], 'jemalloc', '/usr/lib64/libjemalloc.so.2'),
    ('x86_64', ['/usr/lib/libjemalloc.so.2'], 'jemalloc', '/usr/lib/libjemalloc.so.2'),
    ('x86_64', ['/usr/lib64/libtcmalloc.so.4', '/usr/lib64/libtcmalloc_minimal.so.4'], 'tcmalloc',
     '/usr/lib64/libtcmalloc_minimal.so.4'),
    ('x86_64', ['/usr/lib/x86_64-linux-gnu/libtcmalloc.so.4'], 'tcmalloc',
     '/usr/lib/x86_64-linux-gnu/libtcmalloc.so.4'),
])
def test_distro_paths_in_fake_tree(fake_host, cmds, monkeypatch, arch, files, allocator, expected):
    monkeypatch.setattr(_allocator, 'machine', lambda: arch)
    cmds.ldconfig = LDCONFIG        # its paths do not exist in the tree: fall through to the directories
    for f in files:
        fake_host.write(f, 'ELF')
    r = run({'allocator': allocator})
    assert r['library'] == expected
    assert 'LD_PRELOAD=%s\n' % expected in fake_host.read(DROPIN)


def test_ldconfig_prefers_host_architecture(fake_host, cmds):
    paths = _allocator.parse_ldconfig(LDCONFIG, ['libjemalloc.so.2'], 'aarch64')
    assert paths == ['/lib/aarch64-linux-gnu/libjemalloc.so.2']
    paths = _allocator.parse_ldconfig(LDCONFIG, _allocator.LIBRARIES['tcmalloc'], 'x86_64')
    assert paths == ['/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4', '/lib/x86_64-linux-gnu/libtcmalloc.so.4']


@pytest.mark.parametrize('allocator, words', [
    ('jemalloc', ['libjemalloc2', 'jemalloc (from EPEL)', '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2',
                  '/usr/lib/aarch64-linux-gnu/libjemalloc.so.2', '/usr/lib64/libjemalloc.so.2',
                  '/usr/lib/libjemalloc.so.2', 'ldconfig cache']),
    ('tcmalloc', ['libtcmalloc-minimal4', 'libtcmalloc-minimal4t64', 'gperftools-libs',
                  '/usr/lib64/libtcmalloc_minimal.so.4', '/usr/lib/libtcmalloc.so.4']),
])
def test_missing_library_lists_paths_and_package(fake_host, cmds, allocator, words):
    before = fake_host.snapshot()
    r = fail({'allocator': allocator})
    for w in words:
        assert w in r['msg']
    assert fake_host.snapshot() == before
    assert cmds.probes() == []


def test_verification_failure_writes_nothing(fake_host, cmds):
    fake_host.write(JE_X86, 'ELF')
    cmds.probe_maps = False
    before = fake_host.snapshot()
    for check in (False, True):
        r = fail({}, check=check)
        assert 'did not map the library' in r['msg'] and 'wrong ELF class' in r['msg']
        assert 'nothing was written' in r['msg']
    assert fake_host.snapshot() == before
    assert cmds.verbs() == []


@pytest.mark.skipif(not os.path.isfile('/usr/lib/x86_64-linux-gnu/libm.so.6') or platform.machine() != 'x86_64',
                    reason='needs an x86_64 glibc with libm for a real LD_PRELOAD probe')
def test_real_probe(fake_host, cmds):
    """A real short process (cat /proc/self/maps) with LD_PRELOAD: harmless, changes nothing."""
    cmds.real_probe = True
    fake_host.write('/usr/lib/x86_64-linux-gnu/libm.so.6', 'ELF')
    r = run({'library': '/usr/lib/x86_64-linux-gnu/libm.so.6'}, check=True)
    assert r['verified'] is True and r['changed'] is True
    fake_host.write('/usr/lib/x86_64-linux-gnu/libiht-absent.so.1', 'ELF')
    r = fail({'library': '/usr/lib/x86_64-linux-gnu/libiht-absent.so.1'}, check=True)
    assert 'did not map the library' in r['msg']


def test_check_mode_probes_and_writes_nothing(fake_host, cmds):
    fake_host.write(JE_X86, 'ELF')
    before = fake_host.snapshot()
    r = run({}, check=True)
    assert r['changed'] is True and r['verified'] is True
    assert cmds.probes() == [{'LD_PRELOAD': JE_X86}]
    assert fake_host.snapshot() == before and cmds.verbs() == []
    run({})
    assert run({}, check=True)['changed'] is False


@pytest.mark.parametrize('allocator, tunables, env', [
    ('jemalloc', {'dirty_decay_ms': 5000, 'muzzy_decay_ms': None, 'narenas': 8},
     {'MALLOC_CONF': 'background_thread:true,metadata_thp:auto,dirty_decay_ms:5000,narenas:8'}),
    ('jemalloc', {'background_thread': False}, {'MALLOC_CONF': JE_CONF.replace(
        'background_thread:true', 'background_thread:false')}),
    ('tcmalloc', None, {'TCMALLOC_MAX_TOTAL_THREAD_CACHE_BYTES': '268435456',
                        'TCMALLOC_LARGE_ALLOC_REPORT_THRESHOLD': '107374182400'}),
    ('tcmalloc', {'TCMALLOC_RELEASE_RATE': '0.5', 'TCMALLOC_LARGE_ALLOC_REPORT_THRESHOLD': None},
     {'TCMALLOC_MAX_TOTAL_THREAD_CACHE_BYTES': '268435456', 'TCMALLOC_RELEASE_RATE': '0.5'}),
])
def test_tunables(fake_host, cmds, allocator, tunables, env):
    lib = '/usr/lib64/lib%s' % ('jemalloc.so.2' if allocator == 'jemalloc' else 'tcmalloc_minimal.so.4')
    fake_host.write(lib, 'ELF')
    r = run({'allocator': allocator, 'tunables': tunables})
    env = dict(env, LD_PRELOAD=lib)
    assert r['environment'] == env
    body = fake_host.read(DROPIN).split('[Service]\n')[1]
    assert sorted(body.splitlines()) == sorted('Environment=%s=%s' % kv for kv in env.items())


@pytest.mark.parametrize('args, words', [
    ({'unit': 'vllm'}, 'not a valid systemd unit name'),
    ({'unit': None}, 'scope is service but all of the following are missing: unit'),
    ({'scope': 'env_file'}, 'missing: env_file'),
    ({'scope': 'env_file', 'env_file': 'relative.env'}, 'absolute file path'),
    ({'tunables': {'bad key': 1}}, 'not a jemalloc option name'),
    ({'tunables': {'narenas': '1,2'}}, 'must not contain commas'),
    ({'allocator': 'tcmalloc', 'library': JE_X86, 'tunables': {'MALLOC_CONF': 'x'}}, 'TCMALLOC_'),
    ({'library': 'lib/libjemalloc.so.2'}, 'must be an absolute path'),
    ({'library': '/opt/jemalloc/lib/libjemalloc.so.2'}, 'does not exist'),
])
def test_bad_input_writes_nothing(fake_host, cmds, args, words):
    fake_host.write(JE_X86, 'ELF')
    args = dict({'unit': 'vllm.service'}, **args)
    refused(fake_host, allocator_preload, dict((k, v) for k, v in args.items() if v is not None), words)


def test_env_file_keeps_other_lines_and_restores(fake_host, cmds):
    path = '/etc/inference/sglang.env'
    original = 'HF_HOME=/models\nLD_PRELOAD=/opt/other.so\n# keep\nMALLOC_CONF=narenas:2\nOMP_NUM_THREADS=8'
    fake_host.write(path, original, mode=0o600)
    fake_host.write(JE_X86, 'ELF')
    fake_host.write('/usr/lib64/libtcmalloc_minimal.so.4', 'ELF')
    r = run({'scope': 'env_file', 'env_file': path, 'unit': None})
    expected = ('HF_HOME=/models\n# keep\nOMP_NUM_THREADS=8\n' + HEADER
                + 'LD_PRELOAD=%s\nMALLOC_CONF=%s\n' % (JE_X86, JE_CONF))
    assert fake_host.read(path) == expected and r['path'] == path
    assert cmds.verbs() == []           # no systemd for an env file
    assert run({'scope': 'env_file', 'env_file': path})['changed'] is False
    # switching allocators replaces the lines, it does not pile them up
    run({'scope': 'env_file', 'env_file': path, 'allocator': 'tcmalloc'})
    content = fake_host.read(path)
    assert 'MALLOC_CONF' not in content and content.count('LD_PRELOAD=') == 1
    assert 'LD_PRELOAD=/usr/lib64/libtcmalloc_minimal.so.4\n' in content
    r = run({'scope': 'env_file', 'env_file': path, 'allocator': 'none'})
    assert r['changed'] is True
    assert fake_host.read(path) == original
    assert os.stat(fake_host.path(path)).st_mode & 0o777 == 0o600


def test_env_file_new_file_and_absent_without_ledger(fake_host, cmds):
    path = '/etc/inference/vllm.env'
    fake_host.write(JE_X86, 'ELF')
    run({'scope': 'env_file', 'env_file': path})
    assert fake_host.read(path) == HEADER + 'LD_PRELOAD=%s\nMALLOC_CONF=%s\n' % (JE_X86, JE_CONF)
    fake_host.write(path, 'A=1\n' + fake_host.read(path))
    fake_host.remove(_ledger.LEDGER_PATH)
    assert run({'scope': 'env_file', 'env_file': path, 'state': 'absent'})['changed'] is True
    assert fake_host.read(path) == 'A=1\n'


def test_system_scope_restores_ld_so_preload_byte_for_byte(fake_host, cmds):
    original = '/usr/lib/x86_64-linux-gnu/libfoo.so  \n/usr/lib64/libtcmalloc.so.4\n\n'
    fake_host.write('/etc/ld.so.preload', original, mode=0o600)
    fake_host.write(JE_X86, 'ELF')
    before = fake_host.snapshot()
    r = run({'scope': 'system', 'unit': None, 'tunables': {'narenas': 4}})
    assert r['path'] == '/etc/ld.so.preload' and r['environment'] == {'LD_PRELOAD': JE_X86}
    assert fake_host.read('/etc/ld.so.preload') == '/usr/lib/x86_64-linux-gnu/libfoo.so  \n\n%s\n' % JE_X86
    assert cmds.verbs() == []
    assert run({'scope': 'system'})['changed'] is False
    r = run({'scope': 'system', 'state': 'absent'})
    assert r['changed'] is True
    assert fake_host.snapshot() == before
    assert os.stat(fake_host.path('/etc/ld.so.preload')).st_mode & 0o777 == 0o600


def test_system_scope_new_file_removed_on_absent(fake_host, cmds):
    fake_host.write(JE_X86, 'ELF')
    before = fake_host.snapshot()
    run({'scope': 'system'}, check=True)
    assert fake_host.snapshot() == before
    run({'scope': 'system'})
    assert fake_host.read('/etc/ld.so.preload') == JE_X86 + '\n'
    assert run({'scope': 'system', 'state': 'absent'}, check=True)['changed'] is True
    run({'scope': 'system', 'state': 'absent'})
    assert fake_host.snapshot() == before
    # without a ledger record the module does not touch a preload file it did not write
    fake_host.write('/etc/ld.so.preload', JE_X86 + '\n')
    assert run({'scope': 'system', 'state': 'absent'})['changed'] is False


def test_systemd_environment_quoting():
    assert _formats.environment('A', 'b', 'tunables') == 'A=b'
    assert _formats.environment('A', 'b c', 'tunables') == '"A=b c"'
    assert _formats.environment('A', '50%', 'tunables') == 'A=50%%'
    assert _formats.environment('A', 'x"y\\', 'tunables') == '"A=x\\"y\\\\"'
