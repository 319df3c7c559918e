# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A fake host tree (/proc, /sys, /etc, /usr/lib) for unit tests.

``FakeHost.two_socket()`` looks like a two-socket inference server: 2 NUMA
nodes with 16 CPUs each, 8 NVIDIA GPUs (4 per node), an NVMe and a SATA disk,
1 TiB of RAM, THP ``always``, Debian's sysctl.d layout and a swap line in
fstab.  Tests change what they need with ``write()``.

The tree is pointed to through INFERENCE_HOST_TUNING_ROOT; read-only areas are
emulated by ``make_readonly()`` (the conftest patches _host so writes there fail
with EROFS, as they do on an unprivileged container's /proc/sys).

``FakeCommands`` stands in for the host's commands under a real AnsibleModule;
``FakeModule`` is a whole stand-in module for module_utils tests that pass one.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import stat

from ansible_collections.inference.host_tuning.plugins.module_utils import _bootloader

DEBUG_SCHED = '/sys/kernel/debug/sched'


class FakeHost(object):

    def __init__(self, root):
        self.root = str(root)
        self.readonly = []

    # -- primitives ----------------------------------------------------------
    def path(self, path):
        return os.path.join(self.root, path.lstrip('/'))

    def write(self, path, content, mode=None):
        full = self.path(path)
        d = os.path.dirname(full)
        if not os.path.isdir(d):
            os.makedirs(d)
        with open(full, 'w') as f:
            f.write(content)
        if mode is not None:
            os.chmod(full, mode)
        return full

    def mkdir(self, path):
        full = self.path(path)
        if not os.path.isdir(full):
            os.makedirs(full)
        return full

    def symlink(self, target, path):
        full = self.path(path)
        d = os.path.dirname(full)
        if not os.path.isdir(d):
            os.makedirs(d)
        os.symlink(target, full)

    def tree(self):
        """Every file, link and directory under the root with its bytes (or link target), mode and owner:
        equal trees prove that nothing changed, byte for byte. (One lstat per entry: the tests call it often.)"""
        out = {}
        root = self.root.rstrip('/')
        for dirpath, dirs, files in os.walk(root):
            rel = dirpath[len(root):]
            for name in dirs + files:
                full = dirpath + '/' + name
                st = os.lstat(full)
                if stat.S_ISLNK(st.st_mode):
                    data = 'link:' + os.readlink(full)
                elif stat.S_ISDIR(st.st_mode):
                    data = 'dir'
                else:
                    with open(full, 'rb') as f:
                        data = f.read()
                out[rel + '/' + name] = (data, st.st_mode, st.st_uid, st.st_gid)
        return out

    def read(self, path):
        with open(self.path(path)) as f:
            return f.read()

    def exists(self, path):
        return os.path.lexists(self.path(path))

    def remove(self, path):
        os.unlink(self.path(path))

    def make_readonly(self, prefix):
        self.readonly.append(prefix.rstrip('/') + '/')

    def is_readonly(self, path):
        return any((path.rstrip('/') + '/').startswith(p) for p in self.readonly)

    def snapshot(self, *prefixes):
        """{host path: content} of every file under the prefixes (for 'nothing changed' checks)."""
        out = {}
        for prefix in prefixes or ('/',):
            base = self.path(prefix)
            for dirpath, _dirs, files in os.walk(base):
                for name in files:
                    full = os.path.join(dirpath, name)
                    rel = '/' + os.path.relpath(full, self.root)
                    try:
                        with open(full) as f:
                            out[rel] = f.read()
                    except (IOError, OSError):
                        out[rel] = None
        return out

    # -- builders ------------------------------------------------------------
    def sysctl(self, key, value):
        self.write('/proc/sys/' + key.replace('.', '/'), '%s\n' % value)

    def kernel(self, release):
        self.write('/proc/sys/kernel/osrelease', release + '\n')

    @classmethod
    def two_socket(cls, root, kernel='6.1.0-27-amd64', cpus_per_node=16, gpus_per_node=4,
                   mem_kb=1056000000):
        h = cls(root)
        h.kernel(kernel)
        for key, value in {
            'vm.swappiness': 60,
            'vm.dirty_ratio': 20,
            'vm.dirty_background_ratio': 10,
            'vm.max_map_count': 65530,
            'vm.min_free_kbytes': 67584,
            'vm.overcommit_memory': 0,
            'vm.nr_hugepages': 0,
            'vm.zone_reclaim_mode': 0,
            'kernel.numa_balancing': 1,
            'kernel.shmmax': 18446744073692774399,
            'kernel.shmall': 18446744073692774399,
            'kernel.sched_autogroup_enabled': 1,
            'kernel.pid_max': 4194304,
            'fs.file-max': 9223372036854775807,
            'fs.inotify.max_user_watches': 65536,
            'net.core.somaxconn': 4096,
            'net.core.netdev_max_backlog': 1000,
            'net.core.rmem_max': 212992,
            'net.core.wmem_max': 212992,
            'net.ipv4.tcp_max_syn_backlog': 1024,
            'net.ipv4.ip_local_port_range': '32768\t60999',
        }.items():
            h.sysctl(key, value)
        # Scheduler knobs in debugfs (5.13+) -- EEVDF (6.6+) kernels drop some.
        h.write(DEBUG_SCHED + '/migration_cost_ns', '500000\n')
        h.write(DEBUG_SCHED + '/min_granularity_ns', '3000000\n')
        h.write(DEBUG_SCHED + '/wakeup_granularity_ns', '4000000\n')
        h.write(DEBUG_SCHED + '/latency_ns', '24000000\n')
        h.write('/proc/cmdline', 'BOOT_IMAGE=/boot/vmlinuz-%s root=UUID=0d3c-feed ro quiet\n' % kernel)
        nodes = 2
        ncpu = nodes * cpus_per_node
        flags = 'fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush ' \
                'mmx fxsr sse sse2 ht syscall nx pdpe1gb rdtscp lm constant_tsc avx avx2 avx512f'
        h.write('/proc/cpuinfo', ''.join(
            'processor\t: %d\nmodel name\t: Fake Xeon Platinum 8480+\nflags\t\t: %s\n\n' % (i, flags)
            for i in range(ncpu)))
        h.write('/proc/meminfo', (
            'MemTotal:       %d kB\nMemFree:        %d kB\nSwapTotal:       8388604 kB\n'
            'HugePages_Total:       0\nHugePages_Free:        0\nHugepagesize:       2048 kB\n') % (mem_kb, mem_kb // 2))
        h.write('/proc/swaps', 'Filename\tType\tSize\tUsed\tPriority\n'
                               '/dev/nvme0n1p3                          partition\t8388604\t0\t-2\n')
        # THP
        h.write('/sys/kernel/mm/transparent_hugepage/enabled', '[always] madvise never\n')
        h.write('/sys/kernel/mm/transparent_hugepage/defrag', 'always defer defer+madvise [madvise] never\n')
        for size in ('2048kB', '1048576kB'):
            for f in ('nr_hugepages', 'free_hugepages', 'resv_hugepages', 'surplus_hugepages'):
                h.write('/sys/kernel/mm/hugepages/hugepages-%s/%s' % (size, f), '0\n')
        # NUMA nodes and CPUs
        h.write('/sys/devices/system/node/online', '0-%d\n' % (nodes - 1))
        h.write('/sys/devices/system/node/possible', '0-%d\n' % (nodes - 1))
        h.write('/sys/devices/system/cpu/online', '0-%d\n' % (ncpu - 1))
        for n in range(nodes):
            first = n * cpus_per_node
            base = '/sys/devices/system/node/node%d' % n
            h.write(base + '/cpulist', '%d-%d\n' % (first, first + cpus_per_node - 1))
            h.write(base + '/meminfo', 'Node %d MemTotal:       %d kB\n' % (n, mem_kb // nodes))
            for size in ('2048kB', '1048576kB'):
                for f in ('nr_hugepages', 'free_hugepages', 'surplus_hugepages'):
                    h.write(base + '/hugepages/hugepages-%s/%s' % (size, f), '0\n')
        for c in range(ncpu):
            base = '/sys/devices/system/cpu/cpu%d/cpufreq' % c
            h.write(base + '/scaling_governor', 'powersave\n')
            h.write(base + '/scaling_available_governors', 'performance powersave\n')
        # Block devices
        h.write('/sys/block/nvme0n1/queue/scheduler', '[none] mq-deadline kyber bfq\n')
        h.write('/sys/block/nvme1n1/queue/scheduler', 'none [mq-deadline] kyber bfq\n')
        h.write('/sys/block/sda/queue/scheduler', '[mq-deadline] kyber bfq none\n')
        # PCI: 8 NVIDIA GPUs, 4 per node, and one NIC per node
        bus = 0x17
        for g in range(nodes * gpus_per_node):
            node = g // gpus_per_node
            bdf = '0000:%02x:00.0' % (bus + g * 0x10)
            base = '/sys/bus/pci/devices/' + bdf
            h.write(base + '/vendor', '0x10de\n')
            h.write(base + '/device', '0x2330\n')
            h.write(base + '/class', '0x030200\n')
            h.write(base + '/numa_node', '%d\n' % node)
            h.write(base + '/local_cpulist', '%d-%d\n' % (node * cpus_per_node, (node + 1) * cpus_per_node - 1))
        for n in range(nodes):
            base = '/sys/bus/pci/devices/0000:%02x:00.0' % (0x0c + n * 0x80)
            h.write(base + '/vendor', '0x15b3\n')
            h.write(base + '/class', '0x020000\n')
            h.write(base + '/numa_node', '%d\n' % n)
        # /etc and the vendor sysctl directories (Debian 12 layout)
        h.write('/etc/sysctl.conf', '#kernel.domainname = example.com\n')
        h.symlink('../sysctl.conf', '/etc/sysctl.d/99-sysctl.conf')
        h.write('/usr/lib/sysctl.d/50-default.conf', 'kernel.core_uses_pid = 1\nnet.ipv4.conf.default.rp_filter = 2\n')
        h.write('/usr/lib/sysctl.d/50-pid-max.conf', 'kernel.pid_max = 4194304\n')
        h.write('/etc/fstab', (
            '# /etc/fstab: static file system information.\n'
            'UUID=0d3c-feed  /      ext4  errors=remount-ro  0  1\n'
            'UUID=5a5a-0001  none   swap  sw                 0  0\n'))
        h.write('/etc/os-release', 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n')
        return h


class FakeCommands(object):
    """Stand-in for the host's commands: records every argv, never runs anything.

    ``bins`` maps a command name to the path ``get_bin_path()`` returns (a name
    that is missing returns None); ``handlers`` maps a name to a function of the
    argv returning ``(rc, out, err)`` (default ``(0, '', '')``).  A handler can
    change the fake tree to play the command's effect (swapoff edits
    /proc/swaps, systemctl enable makes the wants link).  ``module.warn()``
    messages are collected in ``warnings``.
    """

    def __init__(self, bins=(), handlers=None):
        self.bins = dict((name, '/usr/bin/' + name) for name in bins)
        self.handlers = dict(handlers or {})
        self.calls = []
        self.warnings = []

    def install(self, monkeypatch):
        from ansible.module_utils import basic
        fake = self

        def get_bin_path(module, arg, required=False, opt_dirs=None):
            path = fake.bins.get(arg)
            if path is None and required:
                module.fail_json(msg='Failed to find required executable "%s"' % arg)
            return path

        def run_command(module, args, **kwargs):
            if isinstance(args, str) or kwargs.get('use_unsafe_shell'):
                raise AssertionError('commands must be argv lists without a shell: %r' % (args,))
            argv = list(args)
            fake.calls.append(argv)
            handler = fake.handlers.get(os.path.basename(argv[0]))
            return handler(argv) if handler else (0, '', '')

        def warn(module, warning, **kwargs):
            fake.warnings.append(warning)

        monkeypatch.setattr(basic.AnsibleModule, 'get_bin_path', get_bin_path)
        monkeypatch.setattr(basic.AnsibleModule, 'run_command', run_command)
        monkeypatch.setattr(basic.AnsibleModule, 'warn', warn)
        return self

    def names(self):
        """The calls as 'cmd arg arg' strings without the directory of cmd."""
        return [' '.join([os.path.basename(c[0])] + c[1:]) for c in self.calls]


class FakeModule(object):
    """Stand-in for the AnsibleModule that module_utils functions take (the ledger, _files, bootloaders, NVML).

    ``atomic_move`` is a bare rename (whatever mode the file ends with is the caller's doing), ``fail_json``
    raises AssertionError with the message, ``warn()`` messages are collected in ``warnings``.
    ``get_bin_path()`` finds the commands named in ``bins`` (as /usr/bin/NAME); ``run_command()`` records
    each argv in ``calls`` and answers ``(rc, out, 'err' if rc else '')``.
    """
    check_mode = False

    def __init__(self, bins=(), rc=0, out=''):
        self.bins = set(bins)
        self.rc = rc
        self.out = out
        self.calls = []
        self.warnings = []

    def get_bin_path(self, name, required=False):
        return '/usr/bin/' + name if name in self.bins else None

    def run_command(self, argv):
        self.calls.append(argv)
        return self.rc, self.out, 'err' if self.rc else ''

    def atomic_move(self, src, dest, unsafe_writes=False):
        os.rename(src, dest)

    def warn(self, msg):
        self.warnings.append(msg)

    def fail_json(self, msg=None, **kwargs):
        raise AssertionError(msg)


class FakeGrubby(object):
    """grubby with one boot entry whose arguments live here."""

    def __init__(self, args):
        self.args = args.split()

    def __call__(self, argv):
        if argv[1] == '--info=ALL':
            return 0, 'index=0\nkernel="/boot/vmlinuz-6.1.0"\nargs="%s"\n' % ' '.join(self.args), ''
        add = remove = []
        for a in argv[2:]:
            if a.startswith('--args='):
                add = a[len('--args='):].split()
            if a.startswith('--remove-args='):
                remove = a[len('--remove-args='):].split()
        self.args = _bootloader.grubby_edit(self.args, add, remove)
        return 0, '', ''


class FakeAccountFiles(object):
    """/etc/passwd and /etc/group of the fake host as rows, for the fake shadow tools of the account tests
    (``host``: the FakeHost)."""

    def rows(self, path):
        return [line.split(':') for line in self.host.read(path).splitlines()]

    def save(self, path, rows):
        self.host.write(path, ''.join(':'.join(r) + '\n' for r in rows))

    def gid(self, name):
        return [r[2] for r in self.rows('/etc/group') if r[0] == name][0]
