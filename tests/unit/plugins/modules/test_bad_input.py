# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bad input, table-driven, for every module option and role variable that reaches a file.

One row per case, read as: module, input -> expected message fragments.  A row either

* fails: the module calls fail_json, every fragment is in the message (the option or role
  variable's option, and what to do), and the fake host tree is byte for byte what it was
  (content, link targets, modes and owners), or
* keeps: the module succeeds and what it wrote keeps the exact value (``keep`` checks it).

Role variables reach files through module options: a row whose id starts with a role variable
(``base_sysctl_settings->sysctl_profile.settings``) feeds that variable's value to the option
the role passes it to.  Tampered ledgers are run against a module that loads the ledger and
against ``revert``, which restores from it.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import re

import pytest

from ansible.module_utils import basic

from ansible_collections.inference.host_tuning.plugins.module_utils import _allocator
from ansible_collections.inference.host_tuning.plugins.module_utils import _ledger
from ansible_collections.inference.host_tuning.plugins.modules import (
    allocator_preload, cpu_governor, hugepages, io_scheduler, kubelet_config, memlock, numa_bind, nvidia_gpu,
    revert, service_account, service_health, service_unit, swap, sysctl_profile, system_packages)
from ansible_collections.inference.host_tuning.tests.fake_nvml.harness import fake_nvml, fake_nvml_lib  # noqa: F401  pylint: disable=unused-import
from ansible_collections.inference.host_tuning.tests.unit.plugins.modules.test_service_unit import settings, words as unit_words
from ansible_collections.inference.host_tuning.tests.unit.plugins.modules.utils import (
    ModuleFail, install_commands, run_module)

LEDGER = _ledger.LEDGER_PATH
STATE_DIR = os.path.dirname(LEDGER)
SYSCTL_FILE = '/etc/sysctl.d/90-inference-host-tuning.conf'
GOV_UNIT = '/etc/systemd/system/inference-cpu-governor.service'
UDEV_RULE = io_scheduler.RULE_PATH
LIMITS_FILE = memlock.LIMITS_PATH
DAEMON_JSON = memlock.DOCKER_PATH
TMPFILES_HP = '/etc/tmpfiles.d/90-inference-host-tuning-hugepages.conf'
NUMA_DROPIN = '/etc/systemd/system/vllm.service.d/90-inference-numa.conf'
ALLOC_DROPIN = '/etc/systemd/system/vllm.service.d/90-inference-allocator.conf'
VLLM_UNIT = '/etc/systemd/system/vllm.service'
KUBELET_DIR = '/etc/kubernetes/kubelet.conf.d'
KUBELET_DROPIN = KUBELET_DIR + '/' + kubelet_config.FILENAME
JEMALLOC = '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2'
LDCONFIG = '\tlibjemalloc.so.2 (libc6,x86-64) => %s\n' % JEMALLOC
LATIN1 = b'# caf\xe9 au lait\n'

MODULES = dict((m.__name__.rsplit('.', 1)[-1], m) for m in (
    allocator_preload, cpu_governor, hugepages, io_scheduler, kubelet_config, memlock, numa_bind, nvidia_gpu,
    revert, service_account, service_health, service_unit, swap, sysctl_profile, system_packages))

#: A valid call of each module; a row's args are laid over it (None removes an option).
BASE = {
    'sysctl_profile': {'profile': 'inference_latency'},
    'hugepages': {'thp_enabled': 'madvise'},
    'swap': {},
    'cpu_governor': {},
    'memlock': {'container_runtimes': ['none']},
    'io_scheduler': {},
    'nvidia_gpu': {'persistence_mode': True},
    'numa_bind': {'unit': 'vllm.service', 'node': [0]},
    'allocator_preload': {'unit': 'vllm.service'},
    'service_unit': {'name': 'vllm', 'model': '/models/llama', 'python': '/usr/bin/python3'},
    'kubelet_config': {},
    'service_health': {'unit': 'vllm.service', 'url': 'http://127.0.0.1:8000/health', 'retries': 1},
    'revert': {},
    'service_account': {'user': 'inference'},
    'system_packages': {'names': ['numactl']},
}

# Phrases of the messages, so the table reads as input -> what the operator is told.
NOTHING = 'Nothing was changed'
LEDGER_REFUSED = 'restore ledger'
MOVE_ASIDE = 'move'


# -- the fake host's tools ------------------------------------------------------------------------------
class Tools(object):
    """Every command the modules run, answering as an idle systemd host would; nothing runs."""

    BINS = ('systemctl', 'udevadm', 'swapoff', 'swapon', 'update-grub', 'ldconfig', 'cat', 'journalctl', 'numactl')

    def __init__(self):
        self.bins = dict((name, '/usr/bin/' + name) for name in self.BINS)
        self.calls = []
        self.version = 252

    def run_command(self, module, args, **kw):
        assert isinstance(args, list), 'argv lists only'
        self.calls.append(list(args))
        name = os.path.basename(args[0])
        if name == 'systemctl' and args[1:2] == ['--version']:
            return 0, 'systemd %d (%d.1-1)\n+PAM\n' % (self.version, self.version), ''
        if name == 'systemctl' and args[1:2] == ['is-enabled']:
            return 1, 'disabled\n', ''
        if name == 'systemctl' and args[1:2] == ['is-active']:
            return 3, 'inactive\n', ''
        if name == 'systemctl' and args[1:2] == ['show']:
            return 0, 'ExecStart={ path=/usr/bin/python3 ; argv[]=/usr/bin/python3 -m x ; ignore_errors=no }\n', ''
        if name == 'ldconfig':
            return 0, LDCONFIG, ''
        if name == 'cat':
            lib = (kw.get('environ_update') or {}).get('LD_PRELOAD', '')
            return 0, '7f5e1c000000-7f5e1c021000 r-xp 00000000 08:01 4242 %s\n' % lib, ''
        return 0, '', ''


@pytest.fixture
def host(fake_host, monkeypatch):
    """The two-socket fake host with systemd booted, jemalloc installed, a kubelet drop-in directory and a
    serving unit; commands are recorded, never run; no URL is ever opened."""
    tools = Tools()
    fake_host.mkdir('/run/systemd/system')
    fake_host.mkdir('/var/lib')
    fake_host.mkdir(KUBELET_DIR)
    fake_host.write(JEMALLOC, '\x7fELF fake\n')
    install_commands(monkeypatch, tools)
    monkeypatch.setattr(basic.AnsibleModule, 'warn', lambda self, msg, **kw: None)
    monkeypatch.setattr(_allocator, 'machine', lambda: 'x86_64')

    def no_url(*a, **kw):
        raise AssertionError('bad input must be refused before any URL is opened')

    monkeypatch.setattr(service_health, 'open_url', no_url)
    monkeypatch.setattr(service_health.time, 'sleep', lambda s: None)
    fake_host.tools = tools
    return fake_host


def tree(h):
    """The fake host byte for byte (FakeHost.tree)."""
    return h.tree()


# -- setups: what is on the host before the call ------------------------------------------------------
def write_bytes(h, path, data, mode=0o644):
    full = h.path(path)
    if not os.path.isdir(os.path.dirname(full)):
        os.makedirs(os.path.dirname(full))
    with open(full, 'wb') as f:
        f.write(data)
    os.chmod(full, mode)


def latin1(path):
    return lambda h: write_bytes(h, path, LATIN1)


def symlink(path, target='/etc/shadow'):
    """``path`` a link to ``target`` in the fake tree (a relative link: an absolute one would point at this
    machine's own file)."""
    def setup(h):
        h.write('/etc/shadow', 'root:*:19000:0:99999:7:::\n', mode=0o640)
        if not h.exists(target):
            h.write(target, '{}\n')
        h.symlink(os.path.relpath(target, os.path.dirname(path)), path)
    return setup


def directory(path):
    return lambda h: h.mkdir(path)


def dropin_dir_symlink(h):
    h.mkdir('/srv/elsewhere')
    h.symlink('../../../srv/elsewhere', '/etc/systemd/system/vllm.service.d')


def ledger(data, mode=0o600, dir_mode=0o700, uid=None, raw=None):
    """A ledger with ``data`` (or ``raw`` bytes) and the given permissions."""
    def setup(h):
        h.mkdir(STATE_DIR)
        os.chmod(h.path(STATE_DIR), dir_mode)
        write_bytes(h, LEDGER, raw if raw is not None else json.dumps(data).encode('ascii'), mode)
        if uid is not None:
            os.chown(h.path(LEDGER), uid, uid)
    return setup


def record(path, **rec):
    out = {'owner': 'sysctl_profile', 'existed': False, 'recorded': '2026-01-01T00:00:00Z'}
    out.update(rec)
    return {'version': 1, 'files': {path: out}}


GOOD_LEDGER = record(SYSCTL_FILE)


def ledger_link(h):
    h.mkdir(STATE_DIR)
    os.chmod(h.path(STATE_DIR), 0o700)
    write_bytes(h, '/root/ledger.json', json.dumps(GOOD_LEDGER).encode('ascii'), 0o600)
    h.symlink('../../../root/ledger.json', LEDGER)


def state_dir_link(h):
    h.mkdir('/tmp/state')
    os.chmod(h.path('/tmp/state'), 0o700)
    write_bytes(h, '/tmp/state/ledger.json', json.dumps(GOOD_LEDGER).encode('ascii'), 0o600)
    h.mkdir('/var/lib')
    h.symlink('../../tmp/state', STATE_DIR)


def both(*setups):
    def setup(h):
        for s in setups:
            s(h)
    return setup


# -- checks of what a successful call kept ----------------------------------------------------------
def unit_setting(section, key, expected):
    """The written unit holds ``key`` in ``section`` with exactly ``expected`` (after systemd's parsing)."""
    def check(h, result):
        found = [v for s, k, v in settings(h.read(VLLM_UNIT)) if (s, k) == (section, key)]
        assert expected in found, (expected, found)
    return check


def exec_words(*expected):
    """ExecStart= parses back to argv words that end with ``expected``, byte for byte."""
    def check(h, result):
        argv = [v for s, k, v in settings(h.read(VLLM_UNIT)) if k == 'ExecStart'][0]
        assert tuple(argv[-len(expected):]) == expected, argv
    return check


def core_pattern(h):
    h.sysctl('kernel.core_pattern', 'core')


def sysctl_kept(value):
    """The sysctl.d file holds ``kernel.core_pattern = value`` byte for byte."""
    def check(h, result):
        assert 'kernel.core_pattern = %s\n' % value in h.read(SYSCTL_FILE)
    return check


def dropin_has(path, line):
    def check(h, result):
        assert line in h.read(path)
    return check


def env_kept(path, name, value):
    """An Environment= line of the drop-in parses back (systemd's quoting and specifiers) to NAME=...value..."""
    def check(h, result):
        found = []
        for line in h.read(path).splitlines():
            if line.startswith('Environment='):
                found += unit_words(line[len('Environment='):])
        assert any(w.startswith(name + '=') and value in w for w in found), found
    return check


def power_after(watts):
    def check(h, result):
        assert result['gpus'][0]['settings']['power_limit']['after'] == watts, result['gpus'][0]
    return check


def old_systemd(h):
    h.tools.version = 239


#: (module, option, class) of the STRICT matrix that show a defect still open.
STRICT_DEFECTS = {}


# -- the table ------------------------------------------------------------------------------------------
class Case(object):
    def __init__(self, id_, module, args, words=None, setup=None, keep=None, xfail=None):
        self.id = id_
        self.module = module
        self.args = args
        self.words = words or []
        self.setup = setup
        self.keep = keep
        self.xfail = xfail


#: What the operator is told to do about a file the collection will not touch.
HINTS = {'symbolic link': 'replace the link', 'directory': 'move it aside', 'UTF-8': 'convert it to UTF-8'}


def C(id_, module, args, words, setup=None, xfail=None):
    words = list(words) + [HINTS[w] for w in words if w in HINTS]
    return Case(id_, module, args, words, setup=setup, xfail=xfail)


def K(id_, module, args, keep, setup=None, xfail=None):
    return Case(id_, module, args, keep=keep, setup=setup, xfail=xfail)


CHECK = '_ansible_check_mode'
NL, CR, NUL, TAB, ESC, DEL = '\n', '\r', '\x00', '\t', '\x1b', '\x7f'
LS, PS, NEL = u'\u2028', u'\u2029', u'\x85'

CASES = []

# sysctl_profile: path, tmpfiles_path, settings (base_sysctl_settings, ascend_sched_migration_cost_ns)
for name, ch in (('newline', NL), ('CR', CR), ('NUL', NUL), ('tab', TAB), ('ESC', ESC), ('DEL', DEL),
                 ('U+2028', LS), ('U+2029', PS), ('U+0085', NEL)):
    CASES.append(C('sysctl_profile.path: %s' % name, 'sysctl_profile',
                   {'path': '/etc/sysctl.d/90-x%s.conf' % ch}, ['path', '/etc/sysctl.d/', '.conf']))
    CASES.append(C('base_sysctl_settings->sysctl_profile.settings value: %s' % name, 'sysctl_profile',
                   {'settings': {'vm.swappiness': '1%skernel.modprobe = /tmp/x' % ch}}, ['vm.swappiness']))
CASES += [
    C('sysctl_profile.path: trailing newline', 'sysctl_profile', {'path': SYSCTL_FILE + NL}, ['path', '.conf']),
    C('sysctl_profile.path: .. traversal', 'sysctl_profile', {'path': '/etc/sysctl.d/../sysctl.conf'},
      ['path', '/etc/sysctl.d/']),
    C('sysctl_profile.path: /etc/sysctl.conf outside its directory', 'sysctl_profile', {'path': '/etc/sysctl.conf'},
      ['path', '/etc/sysctl.d/']),
    C('sysctl_profile.path: a subdirectory', 'sysctl_profile', {'path': '/etc/sysctl.d/x/y.conf'},
      ['path', 'directly in /etc/sysctl.d/']),
    C('sysctl_profile.path: /etc/shadow', 'sysctl_profile', {'path': '/etc/shadow'}, ['path', '/etc/sysctl.d/']),
    C('sysctl_profile.tmpfiles_path: /etc/passwd', 'sysctl_profile', {'tmpfiles_path': '/etc/passwd'},
      ['tmpfiles_path', '/etc/tmpfiles.d/']),
    C('sysctl_profile.tmpfiles_path: .. traversal', 'sysctl_profile',
      {'tmpfiles_path': '/etc/tmpfiles.d/../x.conf'}, ['tmpfiles_path', '/etc/tmpfiles.d/']),
    C('sysctl_profile.tmpfiles_path: newline', 'sysctl_profile',
      {'tmpfiles_path': '/etc/tmpfiles.d/x\n.conf'}, ['tmpfiles_path', '/etc/tmpfiles.d/']),
    C('base_sysctl_settings->sysctl_profile.settings key: newline', 'sysctl_profile',
      {'settings': {'vm.swappiness\nkernel.modprobe': '1'}}, ['settings']),
    C('base_sysctl_settings->sysctl_profile.settings key: .. traversal', 'sysctl_profile',
      {'profile': None, 'settings': {'net/../../../etc/shadow': '1'}}, ['settings', 'net/../../../etc/shadow']),
    C('base_sysctl_settings->sysctl_profile.settings key: absolute path', 'sysctl_profile',
      {'profile': None, 'settings': {'/etc/shadow': '1'}}, ['settings', '/etc/shadow']),
    C('base_sysctl_settings->sysctl_profile.settings key: %', 'sysctl_profile',
      {'profile': None, 'settings': {'vm.%n': '1'}}, ['settings', 'vm.%n']),
    C('base_sysctl_settings->sysctl_profile.settings value: trailing newline', 'sysctl_profile',
      {'settings': {'vm.swappiness': '1\n'}}, ['vm.swappiness']),
    # sysctl.d neither quotes, expands nor continues lines: a string value is written as it is
    K('base_sysctl_settings->sysctl_profile.settings value: trailing backslash kept', 'sysctl_profile',
      {'profile': None, 'settings': {'kernel.core_pattern': 'core\\'}}, sysctl_kept('core\\'), setup=core_pattern),
    K('base_sysctl_settings->sysctl_profile.settings value: quotes kept', 'sysctl_profile',
      {'profile': None, 'settings': {'kernel.core_pattern': '"core" \'%e\''}}, sysctl_kept('"core" \'%e\''),
      setup=core_pattern),
    K('base_sysctl_settings->sysctl_profile.settings value: $ and % kept', 'sysctl_profile',
      {'profile': None, 'settings': {'kernel.core_pattern': '|/usr/lib/x $HOME %p'}},
      sysctl_kept('|/usr/lib/x $HOME %p'), setup=core_pattern),
    C('base_sysctl_settings->sysctl_profile.settings value: empty', 'sysctl_profile',
      {'profile': None, 'settings': {'vm.swappiness': ''}}, ['vm.swappiness']),
    C('ascend_sched_migration_cost_ns->sysctl_profile.settings: newline', 'sysctl_profile',
      {'settings': {'kernel.sched_migration_cost_ns': '500000\nvm.swappiness=100'}},
      ['kernel.sched_migration_cost_ns']),
    C('sysctl_profile: target is a symlink', 'sysctl_profile', {}, ['symbolic link', SYSCTL_FILE],
      setup=symlink(SYSCTL_FILE)),
    C('sysctl_profile: target is a directory', 'sysctl_profile', {}, ['directory', SYSCTL_FILE, MOVE_ASIDE],
      setup=directory(SYSCTL_FILE)),
    C('sysctl_profile: target is not UTF-8', 'sysctl_profile', {}, ['UTF-8', SYSCTL_FILE],
      setup=latin1(SYSCTL_FILE)),
]

# hugepages: pools (base_hugepages_pools, tpu_hugepages_pools), cmdline_file (base_hugepages_cmdline_file)
CASES += [
    C('base_hugepages_pools->hugepages.pools: count far beyond memory', 'hugepages',
      {'pools': [{'size': '2M', 'count': 10 ** 12}]}, ['pools', 'lower the counts']),
    C('tpu_hugepages_pools->hugepages.pools: 1G count far beyond memory on a node', 'hugepages',
      {'pools': [{'size': '1G', 'count': 10 ** 9, 'node': 0}]}, ['pools', 'lower the counts']),
    C('base_hugepages_pools->hugepages.pools: negative count', 'hugepages',
      {'pools': [{'size': '2M', 'count': -1}]}, ['count']),
    C('base_hugepages_pools->hugepages.pools: node that does not exist', 'hugepages',
      {'pools': [{'size': '2M', 'count': 16, 'node': 7}]}, ['node']),
    C('base_hugepages_pools->hugepages.pools: negative node', 'hugepages',
      {'pools': [{'size': '2M', 'count': 16, 'node': -1}]}, ['node']),
    C('base_hugepages_pools->hugepages.pools: boot count far beyond memory', 'hugepages',
      {'pools': [{'size': '1G', 'count': 10 ** 9, 'boot': True}], 'cmdline_method': 'file'},
      ['pools', 'lower the counts']),
    C('base_hugepages_cmdline_file->hugepages.cmdline_file: /etc/default/grub', 'hugepages',
      {'pools': [{'size': '1G', 'count': 4, 'boot': True}], 'cmdline_method': 'file',
       'cmdline_file': '/etc/default/grub'}, ['cmdline_file', '/etc/default/grub']),
    C('base_hugepages_cmdline_file->hugepages.cmdline_file: .. traversal', 'hugepages',
      {'pools': [{'size': '1G', 'count': 4, 'boot': True}], 'cmdline_method': 'file',
       'cmdline_file': '/etc/inference-host-tuning/../shadow'}, ['cmdline_file']),
    C('base_hugepages_cmdline_file->hugepages.cmdline_file: newline', 'hugepages',
      {'pools': [{'size': '1G', 'count': 4, 'boot': True}], 'cmdline_method': 'file',
       'cmdline_file': '/etc/inference-host-tuning/cmd\nline'}, ['cmdline_file']),
    C('base_hugepages_cmdline_file->hugepages.cmdline_file: unused but outside', 'hugepages',
      {'cmdline_file': '/etc/default/grub'}, ['cmdline_file', '/etc/default/grub']),
    C('base_thp_enabled->hugepages.thp_enabled: newline', 'hugepages', {'thp_enabled': 'never\n'},
      ['thp_enabled']),
    C('hugepages: tmpfiles target is a symlink', 'hugepages', {}, ['symbolic link', TMPFILES_HP],
      setup=symlink(TMPFILES_HP)),
    C('hugepages: tmpfiles target is a directory', 'hugepages', {}, ['directory', TMPFILES_HP],
      setup=directory(TMPFILES_HP)),
    C('hugepages: tmpfiles target is not UTF-8', 'hugepages', {}, ['UTF-8', TMPFILES_HP],
      setup=latin1(TMPFILES_HP)),
]

# swap: /etc/fstab; min_ram_gib (base_swap_min_ram_gib)
CASES += [
    C('swap: /etc/fstab with a Latin-1 byte', 'swap', {}, ['/etc/fstab', 'UTF-8'],
      setup=lambda h: write_bytes(h, '/etc/fstab', b'# caf\xe9\nUUID=5a5a-0001  none   swap  sw  0  0\n')),
    C('swap: /etc/fstab is a symlink', 'swap', {}, ['/etc/fstab', 'symbolic link'],
      setup=lambda h: (h.write('/etc/fstab.real', h.read('/etc/fstab')), h.remove('/etc/fstab'),
                       h.symlink('fstab.real', '/etc/fstab'))),
    C('swap: /etc/fstab is a directory', 'swap', {}, ['/etc/fstab', 'directory'],
      setup=lambda h: (h.remove('/etc/fstab'), h.mkdir('/etc/fstab'))),
    C('base_swap_min_ram_gib->swap.min_ram_gib: negative', 'swap', {'min_ram_gib': -1}, ['min_ram_gib']),
]

# cpu_governor: governor (base_cpu_governor); its unit file
for name, value in (('newline', 'performance\nExecStartPre=/bin/id'), ('trailing newline', 'performance\n'),
                    ('NUL', 'perf\x00'), ('ESC', 'perf\x1b'), ('U+2028', u'perf\u2028x'), ('..', '../../x'),
                    ('/', 'a/b'), ('%', 'perf%n'), ('quote', 'perf"'), ("'", "perf'"), ('$', '$GOV'),
                    ('trailing backslash', 'performance\\'), ('space', 'perf ormance')):
    CASES.append(C('base_cpu_governor->cpu_governor.governor: %s' % name, 'cpu_governor', {'governor': value},
                   ['governor']))
CASES += [
    C('cpu_governor: unit file is a symlink', 'cpu_governor', {}, ['symbolic link', GOV_UNIT],
      setup=symlink(GOV_UNIT, '/dev/null')),
    C('cpu_governor: unit file is a directory', 'cpu_governor', {}, ['directory', GOV_UNIT],
      setup=directory(GOV_UNIT)),
    C('cpu_governor: unit file is not UTF-8', 'cpu_governor', {}, ['UTF-8', GOV_UNIT], setup=latin1(GOV_UNIT)),
]

# memlock: container_runtimes (base_memlock_container_runtimes); its files
CASES += [
    C('memlock: /etc/docker/daemon.json with a Latin-1 byte', 'memlock', {'container_runtimes': ['docker']},
      [DAEMON_JSON, 'UTF-8'], setup=lambda h: write_bytes(h, DAEMON_JSON, b'{"log-driver": "caf\xe9"}\n')),
    C('memlock: /etc/docker/daemon.json is a symlink', 'memlock', {'container_runtimes': ['docker']},
      [DAEMON_JSON, 'symbolic link'],
      setup=symlink(DAEMON_JSON, '/srv/daemon.json')),
    C('memlock: /etc/docker/daemon.json is a directory', 'memlock', {'container_runtimes': ['docker']},
      [DAEMON_JSON, 'directory'], setup=directory(DAEMON_JSON)),
    C('memlock: limits.d file is a symlink', 'memlock', {}, [LIMITS_FILE, 'symbolic link'],
      setup=symlink(LIMITS_FILE)),
    C('memlock: limits.d file is not UTF-8', 'memlock', {}, [LIMITS_FILE, 'UTF-8'], setup=latin1(LIMITS_FILE)),
    C('base_memlock_container_runtimes->memlock.container_runtimes: newline', 'memlock',
      {'container_runtimes': ['docker\n']}, ['container_runtimes']),
]

# io_scheduler: devices (base_io_scheduler_devices), scheduler (base_io_scheduler); its udev rule
for name, value in (('newline', 'nvme*n*\nRUN+="/bin/sh"'), ('trailing newline', 'nvme0n1\n'), ('CR', 'nvme\r'),
                    ('NUL', 'nvme\x00'), ('tab', 'nvme\t'), ('U+2029', u'nvme\u2029'), ('U+0085', u'nvme\x85'),
                    ('..', '../sda'), ('/', 'nvme0n1/../../sda'), ('%', 'nvme%k'), ('quote', 'nvme"'),
                    ("'", "nvme'"), ('$', 'nvme$kernel'), ('trailing backslash', 'nvme\\'), ('empty', '')):
    CASES.append(C('base_io_scheduler_devices->io_scheduler.devices: %s' % name, 'io_scheduler',
                   {'devices': [value]}, ['devices']))
CASES += [
    C('base_io_scheduler->io_scheduler.scheduler: newline', 'io_scheduler', {'scheduler': 'none\n'},
      ['scheduler']),
    C('io_scheduler: udev rule is a symlink', 'io_scheduler', {}, ['symbolic link', UDEV_RULE],
      setup=symlink(UDEV_RULE, '/dev/null')),
    C('io_scheduler: udev rule is a directory', 'io_scheduler', {}, ['directory', UDEV_RULE],
      setup=directory(UDEV_RULE)),
    C('io_scheduler: udev rule is not UTF-8', 'io_scheduler', {}, ['UTF-8', UDEV_RULE], setup=latin1(UDEV_RULE)),
]

# nvidia_gpu: numa_map_file (nvidia_numa_map_file), boot_python (nvidia_boot_python), power_limit, gpus
NV = 'nvidia_gpu'
CASES += [
    C('nvidia_numa_map_file->nvidia_gpu.numa_map_file: /etc/passwd', NV, {'numa_map_file': '/etc/passwd'},
      ['numa_map_file', '/etc/passwd']),
    C('nvidia_numa_map_file->nvidia_gpu.numa_map_file: .. traversal', NV,
      {'numa_map_file': '/etc/inference-host-tuning/../passwd'}, ['numa_map_file']),
    C('nvidia_numa_map_file->nvidia_gpu.numa_map_file: relative', NV, {'numa_map_file': 'gpu-numa.json'},
      ['numa_map_file', 'absolute']),
    C('nvidia_numa_map_file->nvidia_gpu.numa_map_file: newline', NV,
      {'numa_map_file': '/etc/inference-host-tuning/gpu\nnuma.json'}, ['numa_map_file']),
    C('nvidia_boot_python->nvidia_gpu.boot_python: relative', NV, {'boot_apply': True, 'boot_python': 'python3'},
      ['boot_python', 'absolute']),
    C('nvidia_boot_python->nvidia_gpu.boot_python: newline', NV,
      {'boot_apply': True, 'boot_python': '/usr/bin/python3\nExecStartPre=/bin/id'}, ['boot_python']),
    C('nvidia_boot_python->nvidia_gpu.boot_python: space', NV,
      {'boot_apply': True, 'boot_python': '/usr/bin/python3 -c id'}, ['boot_python']),
    C('nvidia_boot_python->nvidia_gpu.boot_python: %', NV, {'boot_apply': True, 'boot_python': '/usr/bin/%n'},
      ['boot_python']),
    C('nvidia_boot_python->nvidia_gpu.boot_python: $', NV, {'boot_apply': True, 'boot_python': '/usr/bin/$PY'},
      ['boot_python']),
    C('nvidia_boot_python->nvidia_gpu.boot_python: quote', NV, {'boot_apply': True, 'boot_python': '/usr/bin/py"'},
      ['boot_python']),
    C('nvidia_boot_python->nvidia_gpu.boot_python: trailing backslash', NV,
      {'boot_apply': True, 'boot_python': '/usr/bin/python3\\'}, ['boot_python']),
    K('nvidia_power_limit->nvidia_gpu.power_limit: trailing newline is stripped', NV, {'power_limit': 'max\n'},
      power_after(700)),
    C('nvidia_power_limit->nvidia_gpu.power_limit: absurd watts', NV, {'power_limit': '99999999'},
      ['power_limit']),
    C('nvidia_power_limit->nvidia_gpu.power_limit: zero', NV, {'power_limit': '0'}, ['power_limit']),
    C('nvidia_gpus->nvidia_gpu.gpus: newline', NV, {'gpus': ['0\n1']}, ['gpus', 'Use "all"']),
    C('nvidia_locked_clocks->nvidia_gpu.locked_clocks: absurd', NV, {'locked_clocks': [0, 30000000]},
      ['locked_clocks']),
]

# numa_bind: unit, cpus, reserve_cpus (inference_service_numa_reserve_cpus), node (inference_service_numa_nodes),
# pci_device (inference_service_numa_pci_device), gpu_numa_map (inference_service_gpu_numa_map)
NB = 'numa_bind'
for name, value in (('newline', 'vllm\n.service'), ('trailing newline', 'vllm.service\n'), ('NUL', 'v\x00.service'),
                    ('U+2028', u'v\u2028.service'), ('..', '../../etc/x.service'), ('/', 'a/b.service'),
                    ('%', 'vllm%i.service'), ('quote', 'v".service'), ('$', '$U.service'),
                    ('trailing backslash', 'vllm.service\\')):
    CASES.append(C('inference_service_name->numa_bind.unit: %s' % name, NB, {'unit': value}, ['unit name']))
CASES += [
    C('inference_service_numa_reserve_cpus->numa_bind.reserve_cpus: absurd range', NB,
      {'reserve_cpus': '0-30000000'}, ['reserve_cpus']),
    C('inference_service_numa_reserve_cpus->numa_bind.reserve_cpus: newline', NB,
      {'reserve_cpus': '0\nCPUAffinity=0-63'}, ['reserve_cpus']),
    C('numa_bind.cpus: absurd range', NB, {'node': None, 'cpus': '0-30000000'}, ['cpus']),
    C('numa_bind.cpus: newline', NB, {'node': None, 'cpus': '0-3\nNUMAPolicy=default'}, ['cpus']),
    C('numa_bind.cpus: reversed range', NB, {'node': None, 'cpus': '7-3'}, ['cpus']),
    C('inference_service_numa_nodes->numa_bind.node: node that does not exist', NB, {'node': [9]}, ['node']),
    C('inference_service_numa_nodes->numa_bind.node: negative', NB, {'node': [-1]}, ['node']),
    C('inference_service_numa_pci_device->numa_bind.pci_device: traversal', NB,
      {'node': None, 'pci_device': '../../../../etc'}, ['pci_device']),
    K('inference_service_numa_pci_device->numa_bind.pci_device: trailing newline is stripped', NB,
      {'node': None, 'pci_device': '0000:17:00.0\n'}, dropin_has(NUMA_DROPIN, 'CPUAffinity=0-15\n')),
    C('inference_service_gpu_numa_map->numa_bind.gpu_numa_map: absurd node', NB,
      {'node': None, 'gpu': ['0'], 'gpu_numa_map': {'0': 4096}}, ['gpu_numa_map']),
    C('numa_bind.exec_start: newline (systemd 239, numactl wrapper)', NB,
      {'exec_start': '/usr/bin/x\nExecStartPre=+/bin/id'}, ['ExecStart'], setup=old_systemd),
    C('numa_bind: drop-in is a symlink', NB, {}, ['symbolic link', NUMA_DROPIN], setup=symlink(NUMA_DROPIN)),
    C('numa_bind: drop-in is a directory', NB, {}, ['directory', NUMA_DROPIN], setup=directory(NUMA_DROPIN)),
    C('numa_bind: drop-in is not UTF-8', NB, {}, ['UTF-8', NUMA_DROPIN], setup=latin1(NUMA_DROPIN)),
    C('numa_bind: drop-in directory is a symlink out of /etc', NB, {}, ['symbolic link', 'vllm.service.d'],
      setup=dropin_dir_symlink),
]

# allocator_preload: env_file, unit, library (inference_service_allocator_library),
# tunables (inference_service_allocator_tunables)
AP = 'allocator_preload'
CASES += [
    C('allocator_preload.env_file: /etc/shadow', AP, {'scope': 'env_file', 'env_file': '/etc/shadow'},
      ['env_file', '/etc/shadow']),
    C('allocator_preload.env_file: .. traversal', AP,
      {'scope': 'env_file', 'env_file': '/etc/default/../shadow'}, ['env_file']),
    C('allocator_preload.env_file: relative', AP, {'scope': 'env_file', 'env_file': 'vllm.env'}, ['env_file']),
    C('allocator_preload.env_file: newline', AP,
      {'scope': 'env_file', 'env_file': '/etc/default/vllm\nx'}, ['env_file']),
    C('allocator_preload.env_file: target not UTF-8', AP, {'scope': 'env_file', 'env_file': '/etc/default/vllm'},
      ['/etc/default/vllm', 'UTF-8'], setup=latin1('/etc/default/vllm')),
    C('allocator_preload.env_file: target is a symlink', AP,
      {'scope': 'env_file', 'env_file': '/etc/default/vllm'}, ['/etc/default/vllm', 'symbolic link'],
      setup=symlink('/etc/default/vllm')),
    C('allocator_preload.env_file: target is a directory', AP,
      {'scope': 'env_file', 'env_file': '/etc/default/vllm'}, ['/etc/default/vllm', 'directory'],
      setup=directory('/etc/default/vllm')),
    C('allocator_preload scope=system: /etc/ld.so.preload is a symlink', AP, {'scope': 'system', 'unit': None},
      ['/etc/ld.so.preload', 'symbolic link'], setup=symlink('/etc/ld.so.preload')),
    C('allocator_preload scope=system: /etc/ld.so.preload not UTF-8', AP, {'scope': 'system', 'unit': None},
      ['/etc/ld.so.preload', 'UTF-8'], setup=latin1('/etc/ld.so.preload')),
    C('inference_service_name->allocator_preload.unit: newline', AP, {'unit': 'vllm\n.service'}, ['unit name']),
    C('inference_service_name->allocator_preload.unit: ..', AP, {'unit': '../x.service'}, ['unit name']),
    C('inference_service_name->allocator_preload.unit: %', AP, {'unit': 'v%i.service'}, ['unit name']),
    C('inference_service_allocator_library->allocator_preload.library: relative', AP,
      {'library': 'libjemalloc.so.2'}, ['library', 'absolute']),
    C('inference_service_allocator_library->allocator_preload.library: newline', AP,
      {'library': JEMALLOC + '\nExecStartPre=/bin/id'}, ['library']),
    C('inference_service_allocator_library->allocator_preload.library: space', AP,
      {'library': '/usr/lib/lib x.so'}, ['library']),
    C('inference_service_allocator_library->allocator_preload.library: $', AP,
      {'library': '/usr/lib/$LIB/libjemalloc.so.2'}, ['library']),
    C('inference_service_allocator_library->allocator_preload.library: quote', AP,
      {'library': '/usr/lib/lib"x.so'}, ['library']),
    K('inference_service_allocator_library->allocator_preload.library: % kept (escaped)', AP,
      {'library': '/usr/lib/x86_64-linux-gnu/lib%n.so'},
      env_kept(ALLOC_DROPIN, 'LD_PRELOAD', '/usr/lib/x86_64-linux-gnu/lib%n.so'),
      setup=lambda h: h.write('/usr/lib/x86_64-linux-gnu/lib%n.so', '\x7fELF fake\n')),
    C('inference_service_allocator_library->allocator_preload.library: trailing backslash', AP,
      {'library': '/usr/lib/libjemalloc.so.2\\'}, ['library']),
    C('inference_service_allocator_tunables->allocator_preload.tunables: newline in value', AP,
      {'tunables': {'background_thread': 'true\nExecStartPre=/bin/id'}}, ['tunables']),
    C('inference_service_allocator_tunables->allocator_preload.tunables: comma in value', AP,
      {'tunables': {'background_thread': 'true,narenas:1'}}, ['tunables']),
    C('inference_service_allocator_tunables->allocator_preload.tunables: key with :', AP,
      {'tunables': {'a:b': '1'}}, ['tunables']),
    K('inference_service_allocator_tunables->allocator_preload.tunables: quote kept (quoted)', AP,
      {'tunables': {'dirty_decay_ms': '1"'}}, env_kept(ALLOC_DROPIN, 'MALLOC_CONF', 'dirty_decay_ms:1"')),
    C('allocator_preload: drop-in is a symlink', AP, {}, ['symbolic link', ALLOC_DROPIN],
      setup=symlink(ALLOC_DROPIN)),
    C('allocator_preload: drop-in is not UTF-8', AP, {}, ['UTF-8', ALLOC_DROPIN], setup=latin1(ALLOC_DROPIN)),
    C('allocator_preload: drop-in directory is a symlink out of /etc', AP, {}, ['symbolic link', 'vllm.service.d'],
      setup=dropin_dir_symlink),
]

# service_unit (inference_service_* and the Ascend/TPU environment through inference_service_environment)
SU = 'service_unit'
CASES += [
    C('inference_service_name->service_unit.name: newline', SU, {'name': 'vllm\nx'}, ['name']),
    C('inference_service_name->service_unit.name: ..', SU, {'name': '../../etc/x'}, ['name']),
    C('inference_service_name->service_unit.name: /', SU, {'name': 'a/b'}, ['name']),
    C('inference_service_name->service_unit.name: %', SU, {'name': 'v%i'}, ['name']),
    C('inference_service_description->service_unit.description: newline', SU,
      {'description': 'x\nExecStartPre=+/bin/id'}, ['description']),
    C('inference_service_description->service_unit.description: trailing backslash', SU,
      {'description': 'LLM server \\'}, ['description', 'backslash']),
    C('inference_service_description->service_unit.description: U+2028', SU,
      {'description': u'x\u2028y'}, ['description']),
    C('inference_service_user->service_unit.user: newline', SU, {'user': 'inference\nUser=root'}, ['user']),
    C('inference_service_user->service_unit.user: space', SU, {'user': 'a b'}, ['user']),
    C('inference_service_user->service_unit.user: $', SU, {'user': '$USER'}, ['user']),
    C('inference_service_user->service_unit.user: %', SU, {'user': '%u'}, ['user']),
    C('inference_service_group->service_unit.group: newline', SU, {'group': 'inference\n'}, ['group']),
    C('inference_service_home->service_unit.working_directory: relative', SU,
      {'working_directory': 'var/lib/x'}, ['working_directory']),
    C('inference_service_home->service_unit.working_directory: ..', SU,
      {'working_directory': '/var/lib/../../etc'}, ['working_directory']),
    C('inference_service_home->service_unit.working_directory: newline', SU,
      {'working_directory': '/var/lib/x\n'}, ['working_directory']),
    C('inference_service_python->service_unit.python: relative', SU, {'python': 'python3'}, ['python']),
    C('inference_service_python->service_unit.python: space', SU, {'python': '/usr/bin/python3 -c id'},
      ['python']),
    C('inference_service_model->service_unit.model: newline', SU, {'model': '/m\nExecStartPre=+/bin/id'},
      ['model']),
    C('inference_service_host->service_unit.host: newline', SU, {'host': '127.0.0.1\n'}, ['host']),
    C('inference_service_host->service_unit.host: space', SU, {'host': '0.0.0.0 --api-key x'}, ['host']),
    C('inference_service_port->service_unit.port: 0', SU, {'port': 0}, ['port']),
    C('inference_service_port->service_unit.port: 70000', SU, {'port': 70000}, ['port']),
    C('inference_service_port->service_unit.port: negative', SU, {'port': -1}, ['port']),
    C('inference_service_gpu_memory_utilization->service_unit.gpu_memory_utilization: 1.5', SU,
      {'gpu_memory_utilization': 1.5}, ['gpu_memory_utilization']),
    C('inference_service_gpu_memory_utilization->service_unit.gpu_memory_utilization: 0', SU,
      {'gpu_memory_utilization': 0}, ['gpu_memory_utilization']),
    C('inference_service_tensor_parallel_size->service_unit.tensor_parallel_size: 0', SU,
      {'tensor_parallel_size': 0}, ['tensor_parallel_size']),
    C('inference_service_max_model_len->service_unit.max_model_len: negative', SU,
      {'max_model_len': -1}, ['max_model_len']),
    C('inference_service_limit_nofile->service_unit.limit_nofile: negative', SU, {'limit_nofile': -1},
      ['limit_nofile']),
    C('inference_service_restart_sec->service_unit.restart_sec: negative', SU, {'restart_sec': -5},
      ['restart_sec']),
    C('inference_service_timeout_stop_sec->service_unit.timeout_stop_sec: negative', SU,
      {'timeout_stop_sec': -5}, ['timeout_stop_sec']),
    C('inference_service_dtype->service_unit.dtype: newline', SU, {'dtype': 'auto\n'}, ['dtype']),
    C('inference_service_quantization->service_unit.quantization: tab', SU, {'quantization': 'awq\t'},
      ['quantization']),
    C('inference_service_shm_size->service_unit.shm_size: newline', SU, {'shm_size': '64G\n'}, ['shm_size']),
    C('inference_service_extra_args->service_unit.extra_args: DEL', SU, {'extra_args': ['a\x7fb']},
      ['extra_args[0]']),
    C('inference_service_command->service_unit.command: NUL', SU,
      {'model': None, 'command': ['/bin/server', 'a\x00b']}, ['command[1]']),
    C('ascend_hccl_buffsize->service_unit.environment: newline', SU,
      {'environment': {'HCCL_BUFFSIZE': '200\nExecStartPre=+/bin/id'}}, ['environment[HCCL_BUFFSIZE]']),
    C('tpu_xla_flags->service_unit.environment: U+0085', SU,
      {'environment': {'XLA_FLAGS': u'--x\x85y'}}, ['environment[XLA_FLAGS]']),
    C('ascend_extra_environment->service_unit.environment: bad name', SU,
      {'environment': {'A=B': 'x'}}, ['environment key']),
    C('tpu_extra_environment->service_unit.environment: ESC', SU,
      {'environment': {'TPU_X': 'a\x1b[2Jb'}}, ['environment[TPU_X]']),
    C('service_unit: unit file is a symlink', SU, {}, ['symbolic link', VLLM_UNIT],
      setup=symlink(VLLM_UNIT, '/dev/null')),
    C('service_unit: unit file is a directory', SU, {}, ['directory', VLLM_UNIT], setup=directory(VLLM_UNIT)),
    C('service_unit: unit file is not UTF-8', SU, {}, ['UTF-8', VLLM_UNIT], setup=latin1(VLLM_UNIT)),
    # values systemd would read differently unless encoded: written, and read back exactly
    K('inference_service_description->service_unit.description: % kept', SU, {'description': '100% GPU'},
      unit_setting('Unit', 'Description', '100% GPU (vllm)')),
    K('inference_service_extra_args->service_unit.extra_args: % kept', SU, {'extra_args': ['--x', '50%']},
      exec_words('--x', '50%')),
    K('inference_service_extra_args->service_unit.extra_args: $ kept', SU, {'extra_args': ['--key', '$SECRET']},
      exec_words('--key', '$SECRET')),
    K('inference_service_extra_args->service_unit.extra_args: quotes kept', SU,
      {'extra_args': ['--chat-template', 'a "b" \'c\'']}, exec_words('--chat-template', 'a "b" \'c\'')),
    K('inference_service_extra_args->service_unit.extra_args: trailing backslash kept', SU,
      {'extra_args': ['--sep', 'x\\']}, exec_words('--sep', 'x\\')),
    K('inference_service_environment->service_unit.environment: % $ quotes backslash kept', SU,
      {'environment': {'PYTORCH_NPU_ALLOC_CONF': 'a%b $c "d" e\\'}},
      unit_setting('Service', 'Environment', ['PYTORCH_NPU_ALLOC_CONF=a%b $c "d" e\\'])),
]

# kubelet_config: config_dir (kubelet_config_dir), reserved_system_cpus (kubelet_reserved_system_cpus)
KC = 'kubelet_config'
CASES += [
    C('kubelet_config_dir->kubelet_config.config_dir: /etc', KC, {'config_dir': '/etc'}, ['config_dir', '/etc']),
    C('kubelet_config_dir->kubelet_config.config_dir: .. traversal', KC,
      {'config_dir': '/etc/kubernetes/../systemd'}, ['config_dir']),
    C('kubelet_config_dir->kubelet_config.config_dir: relative', KC, {'config_dir': 'etc/kubernetes'},
      ['config_dir']),
    C('kubelet_config_dir->kubelet_config.config_dir: newline', KC, {'config_dir': KUBELET_DIR + '\n'},
      ['config_dir']),
    C('kubelet_config_dir->kubelet_config.config_dir: U+2029', KC, {'config_dir': KUBELET_DIR + u'\u2029x'},
      ['config_dir']),
    C('kubelet_reserved_system_cpus->kubelet_config.reserved_system_cpus: absurd range', KC,
      {'reserved_system_cpus': '0-30000000'}, ['reserved_system_cpus']),
    C('kubelet_reserved_system_cpus->kubelet_config.reserved_system_cpus: newline', KC,
      {'reserved_system_cpus': '0\ncpuManagerPolicy: none'}, ['reserved_system_cpus']),
    C('kubelet_reserved_system_cpus->kubelet_config.reserved_system_cpus: reversed', KC,
      {'reserved_system_cpus': '3-1'}, ['reserved_system_cpus']),
    C('kubelet_reserved_system_cpus->kubelet_config.reserved_system_cpus: quote', KC,
      {'reserved_system_cpus': '0"'}, ['reserved_system_cpus']),
    C('kubelet_config: drop-in is a symlink', KC, {}, ['symbolic link', KUBELET_DROPIN],
      setup=symlink(KUBELET_DROPIN)),
    C('kubelet_config: drop-in is a directory', KC, {}, ['directory', KUBELET_DROPIN],
      setup=directory(KUBELET_DROPIN)),
    C('kubelet_config: drop-in is not UTF-8', KC, {}, ['UTF-8', KUBELET_DROPIN], setup=latin1(KUBELET_DROPIN)),
]

# service_health: no file, but nothing may be polled either
CASES += [
    C('inference_service_health_url->service_health.url: file:// URL', 'service_health',
      {'url': 'file:///etc/shadow'}, ['url']),
    C('inference_service_health_retries->service_health.retries: 0', 'service_health', {'retries': 0},
      ['retries']),
    C('inference_service_health_delay->service_health.delay: negative', 'service_health', {'delay': -1},
      ['delay']),
    C('inference_service_name->service_health.unit: newline', 'service_health', {'unit': 'vllm\n.service'},
      ['unit']),
]

# revert: owners
CASES += [
    C('revert.owners: unknown owner', 'revert', {'owners': ['evil']}, ['owners', 'evil']),
    C('revert.owners: newline', 'revert', {'owners': ['sysctl_profile\n']}, ['owners']),
]

# The remaining role variables that reach a file, each through its option (choices and numbers included)
CASES += [
    C('base_sysctl_profile->sysctl_profile.profile: newline', 'sysctl_profile', {'profile': 'inference_latency\n'},
      ['profile', 'one of']),
    C('base_sysctl_missing->sysctl_profile.missing: unknown', 'sysctl_profile', {'missing': 'ignore\r'},
      ['missing', 'one of']),
    C('base_runtime->sysctl_profile.runtime: unknown', 'sysctl_profile', {'runtime': 'always'}, ['runtime', 'one of']),
    C('base_sysctl_on_conflict->sysctl_profile.on_conflict: unknown', 'sysctl_profile', {'on_conflict': 'override'},
      ['on_conflict', 'one of']),
    C('base_state->sysctl_profile.state: unknown', 'sysctl_profile', {'state': 'present\n'}, ['state', 'one of']),
    C('tpu_thp_enabled->hugepages.thp_enabled: unknown', 'hugepages', {'thp_enabled': '[always]'},
      ['thp_enabled', 'one of']),
    C('base_thp_defrag->hugepages.thp_defrag: newline', 'hugepages', {'thp_defrag': 'never\n'},
      ['thp_defrag', 'one of']),
    C('base_hugepages_cmdline_method->hugepages.cmdline_method: traversal', 'hugepages',
      {'cmdline_method': '../grub'}, ['cmdline_method', 'one of']),
    C('tpu_hugepages_pools->hugepages.pools: size not offered', 'hugepages',
      {'pools': [{'size': '2M\n', 'count': 4}]}, ['size', 'one of']),
    C('tpu_numa_node->numa_bind.node: absurd node', NB, {'node': [4096]}, ['node', '0, 1']),
    C('inference_service_numa_gpus->numa_bind.gpu: newline', NB, {'node': None, 'gpu': ['0\n1']}, ['GPU', 'use an index or a PCI bus id']),
    C('inference_service_numa_policy->numa_bind.policy: unknown', NB, {'policy': 'bind\n'}, ['policy', 'one of']),
    C('inference_service_numa_multi_node->numa_bind.multi_node: unknown', NB, {'multi_node': 'all'},
      ['multi_node', 'one of']),
    C('inference_service_allocator->allocator_preload.allocator: newline', AP, {'allocator': 'jemalloc\n'},
      ['allocator', 'one of']),
    C('ascend_allocator->allocator_preload.allocator: a path', AP, {'allocator': '/tmp/libevil.so'},
      ['allocator', 'one of']),
    C('inference_service_served_model_name->service_unit.served_model_name: newline', SU,
      {'served_model_name': 'llama\nExecStartPre=+/bin/id'}, ['served_model_name']),
    C('inference_service_served_model_name->service_unit.served_model_name: an option', SU,
      {'served_model_name': '--api-key'}, ['served_model_name']),
    C('inference_service_max_num_seqs->service_unit.max_num_seqs: negative', SU, {'max_num_seqs': -1},
      ['max_num_seqs']),
    C('inference_service_max_num_batched_tokens->service_unit.max_num_batched_tokens: negative', SU,
      {'max_num_batched_tokens': -8}, ['max_num_batched_tokens']),
    C('inference_service_tensor_parallel_size->service_unit.tensor_parallel_size: absurd', SU,
      {'tensor_parallel_size': 10 ** 6}, ['tensor_parallel_size']),
    C('inference_service_limit_nofile->service_unit.limit_nofile: beyond the kernel', SU, {'limit_nofile': 2 ** 31},
      ['limit_nofile']),
    C('inference_service_restart_sec->service_unit.restart_sec: absurd', SU, {'restart_sec': 10 ** 9},
      ['restart_sec']),
    C('inference_service_quantization->service_unit.quantization: an option', SU, {'quantization': '--x'},
      ['quantization']),
    C('inference_service_state->service_unit.state: unknown', SU, {'state': 'restarted'}, ['state', 'one of']),
    C('ascend_cpu_affinity_conf->service_unit.environment: newline', SU,
      {'environment': {'CPU_AFFINITY_CONF': '1\nExecStartPre=+/bin/id'}}, ['environment[CPU_AFFINITY_CONF]']),
    C('ascend_task_queue_enable->service_unit.environment: CR', SU,
      {'environment': {'TASK_QUEUE_ENABLE': '2\r'}}, ['environment[TASK_QUEUE_ENABLE]']),
    C('ascend_hccl_op_expansion_mode->service_unit.environment: NUL', SU,
      {'environment': {'HCCL_OP_EXPANSION_MODE': 'AIV\x00'}}, ['environment[HCCL_OP_EXPANSION_MODE]']),
    C('ascend_hccl_intra_roce_enable->service_unit.environment: U+2029', SU,
      {'environment': {'HCCL_INTRA_ROCE_ENABLE': u'1\u2029'}}, ['environment[HCCL_INTRA_ROCE_ENABLE]']),
    C('ascend_hccl_rdma_tc->service_unit.environment: ESC', SU,
      {'environment': {'HCCL_RDMA_TC': '\x1b[0m'}}, ['environment[HCCL_RDMA_TC]']),
    C('ascend_hccl_rdma_sl->service_unit.environment: trailing newline', SU,
      {'environment': {'HCCL_RDMA_SL': '3\n'}}, ['environment[HCCL_RDMA_SL]']),
    C('tpu_pjrt_device->service_unit.environment: tab', SU, {'environment': {'PJRT_DEVICE': 'TPU\t'}},
      ['environment[PJRT_DEVICE]']),
    C('tpu_libtpu_init_args->service_unit.environment: U+2028', SU,
      {'environment': {'LIBTPU_INIT_ARGS': u'--a\u2028--b'}}, ['environment[LIBTPU_INIT_ARGS]']),
    C('tpu_chips_per_process_bounds->service_unit.environment: DEL', SU,
      {'environment': {'TPU_CHIPS_PER_PROCESS_BOUNDS': '1,1,1\x7f'}}, ['environment[TPU_CHIPS_PER_PROCESS_BOUNDS]']),
    C('tpu_process_bounds->service_unit.environment: newline', SU,
      {'environment': {'TPU_PROCESS_BOUNDS': '1,1,1\n'}}, ['environment[TPU_PROCESS_BOUNDS]']),
    K('tpu_xla_flags->service_unit.environment: quotes, $ and % kept', SU,
      {'environment': {'XLA_FLAGS': '--xla_dump_to="/tmp/x $y" --p=50%'}},
      unit_setting('Service', 'Environment', ['XLA_FLAGS=--xla_dump_to="/tmp/x $y" --p=50%'])),
    C('kubelet_cpu_manager_policy->kubelet_config.cpu_manager_policy: newline', KC,
      {'cpu_manager_policy': 'static\n'}, ['cpu_manager_policy', 'one of']),
    C('kubelet_topology_manager_policy->kubelet_config.topology_manager_policy: unknown', KC,
      {'topology_manager_policy': 'single-numa-node\nfoo: bar'}, ['topology_manager_policy', 'one of']),
    C('kubelet_topology_manager_scope->kubelet_config.topology_manager_scope: unknown', KC,
      {'topology_manager_scope': 'node'}, ['topology_manager_scope', 'one of']),
    C('nvidia_mig_mode->nvidia_gpu.mig_mode: newline', NV, {'mig_mode': 'enabled\n'}, ['mig_mode', 'one of']),
    C('nvidia_compute_mode->nvidia_gpu.compute_mode: unknown', NV, {'compute_mode': 'shared'},
      ['compute_mode', 'one of']),
    C('nvidia_unsupported->nvidia_gpu.unsupported: unknown', NV, {'unsupported': 'ignore'},
      ['unsupported', 'one of']),
    C('nvidia_application_clocks->nvidia_gpu.application_clocks: absurd', NV,
      {'application_clocks': {'mem': -1, 'sm': 30000000}}, ['application_clocks']),
    C('nvidia_application_clocks->nvidia_gpu.application_clocks: a string', NV,
      {'application_clocks': '1593,1980\n'}, ['application_clocks']),
    C('nvidia_locked_clocks->nvidia_gpu.locked_clocks: min above max', NV,
      {'locked_clocks': {'min': 1980, 'max': 210}}, ['locked_clocks']),
    C('inference_service_journal_lines->service_health.journal_lines: negative', 'service_health',
      {'journal_lines': -1}, ['journal_lines']),
    C('inference_service_health_url->service_health.url: newline', 'service_health',
      {'url': 'http://127.0.0.1:8000/health\nX: y'}, ['url']),
    C('revert.runtime: unknown', 'revert', {'runtime': 'skip'}, ['runtime', 'one of']),
]

# Every class of hostile character in every option whose value has a strict syntax: all must be refused,
# naming the option.  (option's role variable or None, module, option, a valid value, extra args)
# Two exceptions, by design: a path option that is only the location of the file the module writes (never
# written into a file) takes "%", quotes, "$" and a trailing backslash as the file name they make, and the
# file is written at exactly that path (PATH_OPTIONS); a CPU list is parsed and written normalised, so a
# trailing newline around it is dropped (NORMALISED).
STRICT = [
    ('inference_service_user', SU, 'user', 'inference', {}),
    ('inference_service_group', SU, 'group', 'inference', {}),
    ('inference_service_host', SU, 'host', '127.0.0.1', {}),
    ('inference_service_home', SU, 'working_directory', '/var/lib/inference', {}),
    ('inference_service_python', SU, 'python', '/usr/bin/python3', {}),
    ('inference_service_shm_size', SU, 'shm_size', '64G', {}),
    ('inference_service_dtype', SU, 'dtype', 'bfloat16', {}),
    ('kubelet_config_dir', KC, 'config_dir', KUBELET_DIR, {}),
    ('kubelet_reserved_system_cpus', KC, 'reserved_system_cpus', '0-1', {}),
    ('inference_service_numa_reserve_cpus', NB, 'reserve_cpus', '0-1', {}),
    (None, NB, 'cpus', '0-3', {'node': None}),
    ('inference_service_allocator_library', AP, 'library', JEMALLOC, {}),
    (None, AP, 'env_file', '/etc/default/vllm', {'scope': 'env_file'}),
    ('nvidia_numa_map_file', NV, 'numa_map_file', '/etc/inference-host-tuning/gpu-numa.json', {}),
    ('nvidia_boot_python', NV, 'boot_python', '/usr/bin/python3', {'boot_apply': True}),
    ('base_hugepages_cmdline_file', 'hugepages', 'cmdline_file', '/etc/inference-host-tuning/cmdline',
     {'pools': [{'size': '1G', 'count': 4, 'boot': True}], 'cmdline_method': 'file'}),
    (None, 'sysctl_profile', 'tmpfiles_path', '/etc/tmpfiles.d/90-inference-host-tuning-sched.conf', {}),
]
HOSTILE = [('newline', NL), ('CR', CR), ('NUL', NUL), ('tab', TAB), ('ESC', ESC), ('DEL', DEL), ('U+2028', LS),
           ('U+2029', PS), ('U+0085', NEL), ('%', '%'), ('double quote', '"'), ('single quote', "'"), ('$', '$')]


def hostile_values(valid):
    """(class, value): each hostile character inside a valid value, then a trailing newline and backslash and
    a traversal."""
    middle = len(valid) - 2
    out = [(name, valid[:middle] + ch + valid[middle:]) for name, ch in HOSTILE]
    out += [('trailing newline', valid + NL), ('trailing backslash', valid + '\\')]
    out.append(('..', valid + '/../../../etc/passwd' if valid.startswith('/') else '../../' + valid))
    return out


PATH_OPTIONS = {
    ('kubelet_config', 'config_dir'): lambda value: value + '/' + kubelet_config.FILENAME,
    ('allocator_preload', 'env_file'): lambda value: value,
    ('nvidia_gpu', 'numa_map_file'): lambda value: value,
    ('hugepages', 'cmdline_file'): lambda value: value,
}
FILE_NAME_CLASSES = ('%', 'double quote', 'single quote', '$', 'trailing backslash')
NORMALISED = (('numa_bind', 'cpus'), ('numa_bind', 'reserve_cpus'))


def written_at(path):
    """The module wrote exactly ``path`` (the name byte for byte), and nothing under /etc with another name."""
    def check(h, result):
        assert h.exists(path), sorted(p for p in tree(h) if p.startswith('/etc/'))
    return check


def make_dir(path):
    return lambda h: h.mkdir(path)


def cpu_affinity_normalised(h, result):
    lines = [line for line in h.read(NUMA_DROPIN).splitlines() if line.startswith('CPUAffinity=')]
    assert lines[0] == 'CPUAffinity=' and re.match(r'CPUAffinity=[0-9][0-9,-]*\Z', lines[1]), lines


for variable, module, option, valid, extra in STRICT:
    for name, value in hostile_values(valid):
        args = dict(extra)
        args[option] = value
        label = '%s->%s.%s' % (variable, module, option) if variable else '%s.%s' % (module, option)
        target = PATH_OPTIONS.get((module, option))
        if target and name in FILE_NAME_CLASSES:
            setup = make_dir(value) if option == 'config_dir' else None
            CASES.append(K('%s: %s (every class) is a file name' % (label, name), module, args,
                           written_at(target(value)), setup=setup))
        elif (module, option) in NORMALISED and name == 'trailing newline':
            CASES.append(K('%s: %s (every class) is stripped' % (label, name), module, args,
                           cpu_affinity_normalised))
        else:
            CASES.append(C('%s: %s (every class)' % (label, name), module, args, [option],
                           xfail=STRICT_DEFECTS.get((module, option, name))))

# service_account (inference_service_user / _group / _home / _user_groups) and system_packages: every class
# of control character and separator, and the values that name the base system or leave the allowed places.
for name, ch in (('newline', NL), ('CR', CR), ('NUL', NUL), ('tab', TAB), ('ESC', ESC), ('DEL', DEL),
                 ('U+2028', LS), ('U+2029', PS), ('U+0085', NEL), (':', ':'), (',', ',')):
    for label, module, option, value in (
            ('inference_service_user', 'service_account', 'user', 'svc%sroot'),
            ('inference_service_group', 'service_account', 'group', 'svc%sroot'),
            ('inference_service_home', 'service_account', 'home', '/var/lib/x%s/y'),
            ('inference_service_user_groups', 'service_account', 'groups', ['video%sroot']),
            ('(comment)', 'service_account', 'comment', 'a%sb'),
            ('(names)', 'system_packages', 'names', ['numactl%sreboot'])):
        value = [v % ch for v in value] if isinstance(value, list) else value % ch
        if option == 'home' and ch in (',',):
            continue
        CASES.append(C('%s->%s.%s: %s' % (label, module, option, name), module, {option: value}, [option]))
CASES += [
    C('inference_service_user->service_account.user: root', 'service_account', {'user': 'root'}, ['user', 'root']),
    C('inference_service_group->service_account.group: sudo', 'service_account', {'group': 'sudo'},
      ['group', 'sudo']),
    C('inference_service_home->service_account.home: /etc', 'service_account', {'home': '/etc/x'}, ['home']),
    C('inference_service_home->service_account.home: a prefix itself', 'service_account', {'home': '/var/lib'},
      ['home']),
    C('inference_service_home->service_account.home: .. traversal', 'service_account',
      {'home': '/var/lib/../../root'}, ['home']),
    C('inference_service_user_groups->service_account.groups: root', 'service_account', {'groups': ['root']},
      ['groups']),
    C('service_account: home is a symlink', 'service_account', {'home': '/var/lib/inference'},
      ['home', 'symbolic link'], setup=symlink('/var/lib/inference', '/etc/shadow')),
    C('system_packages.names: an option', 'system_packages', {'names': ['-o=APT::x']}, ['names']),
    C('system_packages.names: a path', 'system_packages', {'names': ['../x.deb']}, ['names']),
    C('revert.exclude_owners: unknown owner', 'revert', {'exclude_owners': ['evil']}, ['owners', 'evil']),
]

# Tampered or malformed ledgers: each against a module that loads it and against revert.
TAMPERED = [
    ('a JSON list', ledger([]), ['JSON object']),
    ('not JSON', ledger(None, raw=b'{"version": 1,'), ['not valid JSON']),
    ('not UTF-8', ledger(None, raw=b'{"version": 1, "x": "\xe9"}'), ['UTF-8']),
    ('a record without content', ledger(record(SYSCTL_FILE, existed=True)), ['content', 'base64']),
    ('bad base64', ledger(record(SYSCTL_FILE, existed=True, content='!!not base64!!')), ['base64']),
    ('a relative path', ledger(record('etc/sysctl.d/90-x.conf')), ['etc/sysctl.d/90-x.conf']),
    ('a path with ..', ledger(record('/etc/sysctl.d/../shadow')), ['/etc/sysctl.d/../shadow']),
    ('/etc/shadow for sysctl_profile', ledger(record('/etc/shadow', existed=True, content='eA==')),
     ['/etc/shadow', 'sysctl_profile']),
    ('a runtime record for /etc/passwd',
     ledger({'version': 1, 'runtime': {'/etc/passwd': {'owner': 'sysctl_profile', 'value': 'x'}}}),
     ['/etc/passwd', '/proc/sys']),
    ('a runtime value with a newline',
     ledger({'version': 1, 'runtime': {'/proc/sys/vm/swappiness': {'owner': 'sysctl_profile',
                                                                   'value': '1\nkernel.modprobe'}}}),
     ['/proc/sys/vm/swappiness']),
    ('an unknown owner', ledger(record(SYSCTL_FILE, owner='evil')), ['evil']),
    ('an unknown top-level key', ledger({'version': 1, 'hooks': []}), ['hooks']),
    ('another version', ledger({'version': 2}), ['version']),
    ('a mode out of range', ledger(record(SYSCTL_FILE, existed=True, content='eA==', mode=0o177777)), ['mode']),
    ('a negative uid', ledger(record(SYSCTL_FILE, existed=True, content='eA==', uid=-1)), ['uid']),
    ('a link target with a newline', ledger(record(SYSCTL_FILE, existed=True, link='../x\ny')), ['link']),
    ('created_dirs outside the owner', ledger(record(SYSCTL_FILE, created_dirs=['/etc'])), ['created_dirs']),
    ('dirs naming /etc', ledger({'version': 1, 'dirs': ['/etc']}), ['/etc']),
    ('extra of an unknown owner', ledger({'version': 1, 'extra': {'evil': {}}}), ['evil']),
    ('a service account record naming root',
     ledger({'version': 1, 'extra': {'service_account': {'root': {'user': 'root', 'uid': 0}}}}), ['service_account']),
    ('a service account home of /etc',
     ledger({'version': 1, 'extra': {'service_account': {'svc': {'home': '/etc'}}}}), ['service_account', 'home']),
    ('a package record with an option as name',
     ledger({'version': 1, 'extra': {'system_packages': {'--purge': {'manager': 'apt'}}}}), ['system_packages']),
    ('a group-writable ledger', ledger(GOOD_LEDGER, mode=0o620), ['writable by group or others', 'chmod']),
    ('a world-writable ledger', ledger(GOOD_LEDGER, mode=0o606), ['writable by group or others', 'chmod']),
    ('a world-writable state directory', ledger(GOOD_LEDGER, dir_mode=0o777), ['writable by group or others']),
    ('a ledger owned by another uid', ledger(GOOD_LEDGER, uid=4242), ['uid 4242']),
    ('a ledger that is a symlink', ledger_link, ['not a file', MOVE_ASIDE]),
    ('a state directory that is a symlink', state_dir_link, ['not a directory', MOVE_ASIDE]),
    ('a ledger that is a directory', lambda h: (h.mkdir(STATE_DIR), os.chmod(h.path(STATE_DIR), 0o700),
                                                h.mkdir(LEDGER)), ['not a file', MOVE_ASIDE]),
]
#: (tampered ledger, module) rows that show a defect still open: none at the moment.
LEDGER_DEFECTS = {}
for name, setup, words in TAMPERED:
    for module, args in (('sysctl_profile', {}), ('revert', {}), ('sysctl_profile', {'state': 'absent'}),
                         ('revert', {'_ansible_check_mode': True})):
        label = module + (' state=absent' if 'state' in args else '') + (' --check' if CHECK in args else '')
        CASES.append(C('ledger: %s -> %s' % (name, label), module, args, [LEDGER_REFUSED, STATE_DIR] + words,
                       setup=setup, xfail=LEDGER_DEFECTS.get((name, label))))


def _params():
    out = []
    for case in CASES:
        marks = [pytest.mark.xfail(strict=True, reason='defect: ' + case.xfail)] if case.xfail else []
        out.append(pytest.param(case, id=case.id, marks=marks))
    return out


def call(case):
    args = dict(BASE[case.module])
    args.update(case.args)
    args = dict((k, v) for k, v in args.items() if v is not None)
    check = args.pop(CHECK, False)
    if '\\x00' in repr(args):
        # Where the module logs its invocation to syslog (ansible-test's units), Ansible itself refuses an
        # argument with a NUL before the module runs; without that logging the module's own check answers.
        args['_ansible_no_log'] = True
    return run_module(MODULES[case.module], args, check=check)


def _dump(case, outcome, msg, same):
    out = os.environ.get('BAD_INPUT_DUMP')
    if out:
        with open(out, 'a') as f:
            f.write(json.dumps([case.id, outcome, msg, same]) + '\n')


@pytest.mark.parametrize('case', _params())
def test_bad_input(case, host, request):
    nv = request.getfixturevalue('fake_nvml') if case.module == 'nvidia_gpu' else None
    if case.setup:
        case.setup(host)
    before = tree(host)
    gpus_before = nv.state() if nv else None
    try:
        result = call(case)
    except ModuleFail as e:
        msg = e.result['msg']
        _dump(case, 'FAIL', msg, tree(host) == before)
        assert case.keep is None, 'failed where the value must be kept: %s' % msg
        missing = [w for w in case.words if w not in msg and w.lower() not in msg.lower()]
        assert not missing, 'message lacks %r: %s' % (missing, msg)
        assert tree(host) == before, 'the host changed although the module failed: %s' % msg
        assert (nv.state() if nv else None) == gpus_before, 'a GPU setting changed'
        return
    _dump(case, 'OK', repr(result.get('changed')), tree(host) == before)
    assert case.keep is not None, 'accepted %r: %r' % (case.args, dict((k, result.get(k)) for k in ('changed',)))
    case.keep(host, result)
