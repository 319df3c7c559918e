#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: inference_host_info
short_description: Detect a host's accelerators and report drift from a desired tuning profile
version_added: 0.1.0
description:
  - Reads, in one call, what a playbook needs to choose how to tune an inference host - the accelerators
    (NVIDIA GPUs, Huawei Ascend NPUs, Google TPUs) with their NUMA nodes, the NUMA nodes with their CPUs and
    memory, and the running kernel.
  - NVIDIA GPUs are listed through NVML when the C(pynvml) bindings import and C(libnvidia-ml.so.1) loads,
    otherwise from PCI (vendor C(0x10de), display class C(0x0300)/C(0x0302)). Ascend NPUs are the
    C(/dev/davinciN) devices, with C(npu-smi info -l) for NPU ids and names where the tool is installed
    and PCI (vendor C(0x19e5)) for NUMA nodes. TPUs are Google (C(0x1ae0)) PCI functions with a TPU device
    id, with their C(/dev/accelN) or C(/dev/vfio/N) device files.
  - With O(desired), compares the host with a desired profile and returns RV(audit), one item per setting
    with status V(ok), V(drift), V(pending_reboot) or V(unavailable) (the host has no such surface, or it
    cannot be read), and RV(summary). This is the fleet drift report; nothing is changed.
  - What the next boot applies counts as much as the runtime - for C(sysctl) the sysctl.d files in
    systemd-sysctl's order (the tmpfiles.d line for a debugfs scheduler knob), for C(thp) the first tmpfiles.d
    line for the THP file (else C(transparent_hugepage=) on the kernel command line), for C(governor) the boot
    unit of M(inference.host_tuning.cpu_governor) as it writes it and enabled, for C(io_scheduler) the udev rule of
    M(inference.host_tuning.io_scheduler) as it writes it. A value that is right now
    but would be lost or changed at the next boot is V(drift), with the file that sets it in C(detail). A boot-time
    huge page pool (C(boot) true) whose kernel parameters the collection wrote for the next boot, that the running
    kernel was not booted with, is V(pending_reboot).
  - Never changes the host.
author:
  - inference.host_tuning contributors (@inference-host-tuning)
options:
  detect:
    description:
      - The accelerator kinds to look for.
    type: list
    elements: str
    choices: [nvidia, ascend, tpu]
    default: [nvidia, ascend, tpu]
  use_nvml:
    description:
      - V(auto) lists NVIDIA GPUs and reads GPU settings through NVML when it is usable, and falls back to
        PCI (GPU settings are then V(unavailable) in RV(audit)).
      - V(never) does not load NVML.
    type: str
    choices: [auto, never]
    default: auto
  sysfs_root:
    description:
      - Where accelerator detection reads the PCI tree (C(SYSFS_ROOT/bus/pci/devices)) instead of C(/sys).
      - For a container or a test host given a fake PCI tree (a container's own C(/sys) is the host's,
        read-only). Used for accelerator detection only; RV(numa), RV(audit) and the kernel values are always
        read from C(/sys) and C(/proc).
    type: path
    default: /sys
  devfs_root:
    description:
      - Where accelerator detection looks for device files (C(davinciN), C(accelN), C(vfio/N)) instead of C(/dev).
      - Used for accelerator detection only; the ids reported stay C(/dev/...) paths.
    type: path
    default: /dev
  desired:
    description:
      - The desired profile to audit against. Each key is optional; only the keys given are audited.
      - C(sysctl) - a dictionary of sysctl names and values. A value C(>N) is raise-only - V(ok) when the
        kernel holds N or more. Scheduler knobs are read where the running kernel has them (debugfs since
        Linux 5.13, see M(inference.host_tuning.sysctl_profile)).
      - C(sysctl_profile) - a built-in profile name of M(inference.host_tuning.sysctl_profile)
        (V(inference_latency) or V(inference_throughput)), expanded to its settings; C(sysctl) entries
        override it.
      - C(thp) - C(enabled) and/or C(defrag) modes of transparent huge pages.
      - C(hugepages) - a list of C({size, count, node}) pools (C(size) V(2M) or V(1G); without C(node) the
        total pool of that size).
      - C(governor) - the cpufreq governor every CPU must have (V(unavailable) without cpufreq).
      - C(memlock) - V(unlimited) or a number of bytes; V(ok) when both the soft and hard limits reach it.
        Two items - C(services), the running serving process's own limit (C(/proc/PID/limits)) with a
        C(service), else the limit systemd gives every service (C(DefaultLimitMEMLOCK) from C(systemctl show))
        on a host booted with systemd, else the limit of PID 1 from C(/proc/1/limits), which its children
        inherit; and C(logins), the last C(*) memlock line of C(/etc/security/limits.conf) and
        C(/etc/security/limits.d/*.conf) (pam_limits).
      - With systemd, C(services) is also compared with what the next boot gives - the serving unit's own last
        C(LimitMEMLOCK=) (its file and drop-ins), else the last C(DefaultLimitMEMLOCK=) of
        C(/etc/systemd/system.conf) and the C(system.conf.d) directories, else systemd's built-in default - and
        is V(drift), naming the file, when that falls short while the running value does not.
      - C(swap) - swap off as M(inference.host_tuning.swap) turns it off, a dictionary of that module's
        C(min_ram_gib) (default V(32)), C(force) (default V(false)) and C(disable_zswap) (default V(false));
        V({}) for the defaults. Items - C(swap areas) (none active in C(/proc/swaps)), C(fstab) (no active
        swap line left in C(/etc/fstab), which would turn swap on at boot) and with C(disable_zswap)
        C(zswap) (off, or a kernel without zswap). A host with less RAM than C(min_ram_gib) keeps its swap
        unless C(force), and is then one V(ok) item that says so.
      - C(io_scheduler) - a scheduler name for the NVMe disks (C(nvme*n*)), or C({scheduler, devices}) with
        kernel-name globs.
      - C(gpu) - C(persistence_mode) (bool), C(power_limit) (watts, V(max) or V(default)) and
        C(compute_mode), read per GPU through NVML.
      - C(service) - C(unit) (required), C(cpus) (the CPU list the main process must be allowed on, compared
        with C(Cpus_allowed_list) of C(/proc/PID/status)) and C(allocator_library) (a library the main
        process must have mapped, from C(/proc/PID/maps)); the main PID comes from
        C(systemctl show -p MainPID). V(unit) for either takes what the unit itself asks for - its
        C(CPUAffinity=) (the drop-in of M(inference.host_tuning.numa_bind)) or the C(LD_PRELOAD) of its
        environment (M(inference.host_tuning.allocator_preload)) - so the audit tells whether the running
        process really has it; a unit without one is V(drift). An item C(<unit> running) comes first,
        V(drift) when the unit has no main process (then the other items are V(unavailable)).
      - Mutually exclusive with O(desired_by_kind).
    type: dict
  desired_by_kind:
    description:
      - A desired profile (as O(desired)) per kind of host - keys V(nvidia), V(ascend), V(tpu) and V(none).
        The profile of the host's kind (RV(host_kind)) is audited, so that one call detects and audits a
        host whose desired tuning depends on what it has. A kind without a key is audited against nothing
        (no items).
      - Every profile given is validated, whichever kind the host turns out to be.
      - Mutually exclusive with O(desired).
    type: dict
  desired_recorded:
    description:
      - Audit against what this collection's modules were last asked to apply on this host (the requests they
        record, on every successful run that is not in check mode, in the restore ledger
        C(/var/lib/inference_host_tuning/ledger.json); a module's C(state=absent) and C(revert) forget them) -
        the sysctl profile and settings, THP and hugepage pools, the governor, memlock, swap, the I/O scheduler,
        the GPU settings and the serving unit with its placement and allocator. So the audit follows what
        C(site.yml), or an operator's own playbook, applied, with no copy of the roles' logic.
      - A host with no recorded request (never converged, or reverted) gets one V(drift) item, C(converged),
        that says so.
      - The ledger is read as root (C(become)); it is never written.
      - Mutually exclusive with O(desired) and O(desired_by_kind).
    type: bool
    default: false
  kind:
    description:
      - The kind to treat the host as, for RV(host_kind) and O(desired_by_kind). V(auto) is the detected
        RV(accelerator_kind); another value forces it (as C(inference_accelerator_kind) does in the playbooks).
    type: str
    choices: [auto, nvidia, ascend, tpu, none]
    default: auto
attributes:
  check_mode:
    support: full
    details:
      - The module only reads; check mode and a normal run are the same.
  platform:
    support: full
    details:
      - Linux. Reading C(/proc/1/limits), debugfs and other processes' C(/proc/PID/maps) may need root.
extends_documentation_fragment:
  - inference.host_tuning.attributes
  - inference.host_tuning.attributes.read_only
requirements:
  - nvidia-ml-py (C(pynvml)) and the NVIDIA driver for NVML data; without them NVIDIA GPUs come from PCI.
seealso:
  - module: inference.host_tuning.revert
  - module: inference.host_tuning.nvidia_gpu_info
'''

EXAMPLES = r'''
- name: Detect the accelerators
  inference.host_tuning.inference_host_info:
  register: host

- name: Tune for the accelerator found
  ansible.builtin.include_role:
    name: "inference.host_tuning.{{ host.accelerator_kind }}"
  when: host.accelerator_kind != 'none'

- name: Detect against a fake PCI tree and device files (a test container)
  inference.host_tuning.inference_host_info:
    detect: [ascend, tpu]
    sysfs_root: /opt/fake-sysfs
    devfs_root: /opt/fake-dev
  register: host

- name: Drift report against the latency profile
  inference.host_tuning.inference_host_info:
    detect: [nvidia]
    desired:
      sysctl_profile: inference_latency
      sysctl:
        vm.swappiness: 1
      thp: {enabled: madvise, defrag: madvise}
      hugepages:
        - {size: 2M, count: 1024, node: 0}
      governor: performance
      memlock: unlimited
      io_scheduler: none
      gpu: {persistence_mode: true, power_limit: max}
      service:
        unit: vllm.service
        cpus: 0-15
        allocator_library: /usr/lib/x86_64-linux-gnu/libjemalloc.so.2
  register: drift

- name: Detect and audit in one call, against the profile of the kind found
  inference.host_tuning.inference_host_info:
    desired_by_kind:
      none: {sysctl_profile: inference_throughput}
      nvidia: {sysctl_profile: inference_latency, gpu: {persistence_mode: true}}
      ascend: {sysctl_profile: inference_latency, sysctl: {kernel.sched_migration_cost_ns: 50000}}
      tpu: {sysctl_profile: inference_latency, thp: {enabled: always}}
  register: drift

- name: Fail on drift
  ansible.builtin.assert:
    that: drift.summary.drift == 0
    fail_msg: "{{ drift.audit | selectattr('status', 'equalto', 'drift') | list }}"
'''

RETURN = r'''
accelerators:
  description:
    - The accelerators found, NVIDIA first, then Ascend, then TPU.
    - C(id) is the PCI bus id for NVIDIA GPUs and PCI-only devices, the device file (C(/dev/davinci0),
      C(/dev/accel0), C(/dev/vfio/12)) otherwise. C(model) and C(numa_node) are null when not known.
      C(source) says where the device was found (V(nvml), V(pci) or V(dev)). Ascend entries have C(npu_id)
      when C(npu-smi) lists as many chips as there are device files.
  returned: always
  type: list
  elements: dict
  sample:
    - {kind: nvidia, index: 0, id: '0000:17:00.0', model: NVIDIA H100 80GB HBM3, numa_node: 0,
       pci_bus_id: '0000:17:00.0', source: nvml}
accelerator_kind:
  description: The kind with the most devices (V(nvidia), V(ascend), V(tpu)), or V(none).
  returned: always
  type: str
  sample: nvidia
host_kind:
  description: The kind the host is treated as - RV(accelerator_kind), or O(kind) when that is not V(auto).
  returned: always
  type: str
  sample: nvidia
accelerator_counts:
  description: The number of devices of each kind looked for.
  returned: always
  type: dict
  sample: {nvidia: 8, ascend: 0, tpu: 0}
notes:
  description: What detection could not do (NVML not usable, device files and PCI functions that do not match).
  returned: always
  type: list
  elements: str
  sample: ['nvidia: pynvml (nvidia-ml-py) is not installed; GPUs were read from PCI (vendor 0x10de) instead']
numa:
  description: The online NUMA nodes, by node number, with their online CPUs (a CPU list) and memory in kB.
  returned: always
  type: dict
  sample: {nodes: {'0': {cpus: 0-15, memory_kb: 528000000}, '1': {cpus: 16-31, memory_kb: 528000000}}}
kernel:
  description: The running kernel's release and (major, minor) version.
  returned: always
  type: dict
  sample: {release: 6.1.0-27-amd64, version: [6, 1]}
audit:
  description:
    - One item per audited setting - C(concern) (the O(desired) key), C(setting), C(desired), C(actual),
      C(status) (V(ok), V(drift), V(pending_reboot) or V(unavailable)) and C(detail) (where it was read, what the
      next boot applies where that differs, or why it is unavailable).
  returned: when O(desired) or O(desired_by_kind) is given
  type: list
  elements: dict
  sample:
    - {concern: sysctl, setting: vm.swappiness, desired: '1', actual: '60', status: drift,
       detail: /proc/sys/vm/swappiness}
summary:
  description: The number of audit items per status.
  returned: when O(desired) or O(desired_by_kind) is given
  type: dict
  sample: {ok: 20, drift: 3, pending_reboot: 0, unavailable: 1}
desired:
  description: The profile audited - O(desired), or the entry of O(desired_by_kind) for RV(host_kind).
  returned: when O(desired) or O(desired_by_kind) is given
  type: dict
  sample: {sysctl_profile: inference_latency, gpu: {persistence_mode: true}}
'''

import os
import json
import re
import shlex

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.inference.host_tuning.plugins.module_utils import _files
from ansible_collections.inference.host_tuning.plugins.module_utils import _accelerators
from ansible_collections.inference.host_tuning.plugins.module_utils import _audit
from ansible_collections.inference.host_tuning.plugins.module_utils import _block
from ansible_collections.inference.host_tuning.plugins.module_utils import _bootloader
from ansible_collections.inference.host_tuning.plugins.module_utils import _cpu
from ansible_collections.inference.host_tuning.plugins.module_utils import _host
from ansible_collections.inference.host_tuning.plugins.module_utils import _hugepages
from ansible_collections.inference.host_tuning.plugins.module_utils import _ledger
from ansible_collections.inference.host_tuning.plugins.module_utils import _limits
from ansible_collections.inference.host_tuning.plugins.module_utils import _nvml
from ansible_collections.inference.host_tuning.plugins.module_utils import _swap
from ansible_collections.inference.host_tuning.plugins.module_utils import _sysctl
from ansible_collections.inference.host_tuning.plugins.module_utils import _systemd
from ansible_collections.inference.host_tuning.plugins.module_utils import _topology

LIMITS_CONF = '/etc/security/limits.conf'
LIMITS_D = '/etc/security/limits.d'
PID1_LIMITS = '/proc/1/limits'
#: The kinds of host: one per accelerator, and none.
KINDS = tuple(_accelerators.KINDS) + ('none',)


# -- inventory -----------------------------------------------------------------
def numa_inventory():
    topo = _topology.Topology()
    return {'nodes': dict((str(n), {'cpus': _topology.format_cpulist(cpus),
                                    'memory_kb': _topology.node_mem_total_kib(n)})
                          for n, cpus in sorted(topo.nodes.items()))}


def kernel_inventory():
    return {'release': _host.kernel_release(), 'version': list(_host.kernel_version())}


# -- reading actual state for the audit ----------------------------------------------
def read_sysctls(requests):
    version = _host.kernel_version()
    actual = {}
    for key in requests:
        loc = _sysctl.locate(key, version)
        if not loc.available:
            actual[key] = (None, loc.reason)
            continue
        raw = _host.read_value(loc.path)
        actual[key] = (raw, loc.path) if raw is not None else (None, '%s cannot be read' % loc.path)
    return actual


def boot_sysctls(requests):
    """{key: (value, file)} that the next boot applies: sysctl.d for /proc/sys keys, tmpfiles.d for the
    debugfs scheduler knobs (how sysctl_profile persists each)."""
    version = _host.kernel_version()
    in_sysctl_d = _sysctl.boot_values()
    boot = {}
    for key in requests:
        loc = _sysctl.locate(key, version)
        if not loc.available:
            continue
        if loc.kind == 'procfs':
            boot[key] = in_sysctl_d.get(key, (None, None))
        else:
            boot[key] = _host.tmpfiles_value(loc.path)
    return boot


def governor_at_boot(governor):
    """None when cpu_governor's boot unit is in place for ``governor`` and enabled, else what is wrong."""
    path = _systemd.unit_path(_cpu.GOVERNOR_UNIT)
    content = _host.read_lenient(path)
    if content is None:
        return '%s does not exist: the kernel default governor comes back' % path
    if content != _cpu.render_governor_unit(governor, 'cpu_governor'):
        return '%s is not the unit that sets %s (edited, or for another governor)' % (path, governor)
    if not _systemd.is_linked(_cpu.GOVERNOR_UNIT):
        return '%s is not enabled' % _cpu.GOVERNOR_UNIT
    return None


def scheduler_at_boot(desired):
    """None when io_scheduler's udev rule is in place for these devices and scheduler, else what is wrong."""
    scheduler, globs = _audit.io_scheduler_wanted(desired)
    content = _host.read_lenient(_block.RULE_PATH)
    if content is None:
        return '%s does not exist: the kernel default scheduler comes back' % _block.RULE_PATH
    try:
        wanted = _block.render_scheduler_rule('io_scheduler', scheduler, globs)
    except ValueError:
        return None
    if content != wanted:
        return '%s does not select %s on %s (edited, or for other devices)' % (
            _block.RULE_PATH, scheduler, ' '.join(globs))
    return None


def pending_kernel_parameters():
    """The kernel parameters the collection wrote for the next boot (the ledger's record) that the running
    kernel was not booted with."""
    try:
        data = json.loads(_host.read_lenient(_ledger.LEDGER_PATH, '') or '{}')
        params = data.get('extra', {}).get('hugepages', {}).get('cmdline', {}).get('params') or []
    except (ValueError, AttributeError):
        return []
    running = _bootloader.running_tokens()
    return [t for t in params if isinstance(t, str) and t not in running]


def read_pools(pools):
    actual = {}
    for pool in pools or []:
        node = None if pool.get('node') is None else int(pool['node'])
        actual[(pool['size'], node)] = _hugepages.read_count(_hugepages.pool_path(pool['size'], node))
    return actual


def parse_proc_limit(text, name='Max locked memory'):
    """(soft, hard) of one /proc/PID/limits line as parse_limit values; None when absent."""
    for line in (text or '').splitlines():
        if line.startswith(name):
            fields = line[len(name):].split()
            if len(fields) >= 2:
                return _audit.parse_limit(fields[0]), _audit.parse_limit(fields[1])
    return None


def _kib_limit(value):
    limit = _audit.parse_limit(value)
    return limit * 1024 if limit is not None and limit > 0 else limit


def read_limits_d():
    """{soft, hard, source} of the last ``*`` memlock lines pam_limits reads; None without pam_limits files."""
    files = []
    if _host.exists(LIMITS_CONF):
        files.append(LIMITS_CONF)
    files.extend('%s/%s' % (LIMITS_D, n) for n in _host.listdir(LIMITS_D) if n.endswith('.conf'))
    if not files and not _host.isdir('/etc/security'):
        return None
    soft = hard = None
    source = []
    for path in files:
        for raw in (_host.read_lenient(path) or '').splitlines():
            fields = raw.split('#', 1)[0].split()
            if len(fields) != 4 or fields[0] != '*' or fields[2] != 'memlock':
                continue
            value = _kib_limit(fields[3])
            if fields[1] in ('soft', '-'):
                soft = value
            if fields[1] in ('hard', '-'):
                hard = value
            if path not in source:
                source.append(path)
    if not source:
        return {'soft': None, 'hard': None,
                'source': 'no "*" memlock line in %s or %s/*.conf: logins keep the inherited limit'
                          % (LIMITS_CONF, LIMITS_D)}
    return {'soft': soft, 'hard': hard, 'source': 'pam_limits: ' + ', '.join(source) + ' (KiB there)'}


def read_memlock(module, service=None):
    """Services: the running serving process's own limit (/proc/PID/limits) where there is one, since that is
    what the server gets (a unit's own LimitMEMLOCK= or a drop-in beats the manager's default); else systemd's
    DefaultLimitMEMLOCK, else PID 1's limit. With systemd, ``next``: what the unit (or any unit) gets after the
    next boot, from the unit's files and system.conf(.d)."""
    actual = {}
    pid = (service or {}).get('pid')
    if pid:
        own = parse_proc_limit(_host.read('/proc/%d/limits' % pid))
        if own is not None:
            actual['services'] = {'soft': own[0], 'hard': own[1],
                                  'source': '/proc/%d/limits (the running %s)' % (pid, service.get('unit')),
                                  'next': _limits.next_memlock(_systemd.unit_files(service['unit']))}
    if 'services' not in actual and _systemd.booted(module):
        _rc, out, _err = _systemd.Systemctl(module).run(
            'show', '-p', 'DefaultLimitMEMLOCK', '-p', 'DefaultLimitMEMLOCKSoft', check=False)
        values = dict(line.split('=', 1) for line in (out or '').splitlines() if '=' in line)
        hard = _audit.parse_limit(values.get('DefaultLimitMEMLOCK', ''))
        soft = _audit.parse_limit(values.get('DefaultLimitMEMLOCKSoft', values.get('DefaultLimitMEMLOCK', '')))
        if hard is not None and soft is not None:
            actual['services'] = {'soft': soft, 'hard': hard,
                                  'source': 'systemd DefaultLimitMEMLOCK (systemctl show)',
                                  'next': _limits.next_memlock([])}
    if 'services' not in actual:
        pid1 = parse_proc_limit(_host.read(PID1_LIMITS))
        if pid1 is not None:
            actual['services'] = {'soft': pid1[0], 'hard': pid1[1],
                                  'source': '%s (systemd not running: the limit PID 1 passes on)' % PID1_LIMITS}
        else:
            actual['services_reason'] = ('systemd is not running and %s cannot be read (it needs root in some '
                                         'containers)' % PID1_LIMITS)
    actual['logins'] = read_limits_d()
    if actual['logins'] is None:
        actual['logins_reason'] = 'no /etc/security (pam_limits is not installed)'
    return actual


def read_swap():
    fstab = _host.read_lenient(_swap.FSTAB)
    return {'swaps': _swap.active_swaps(), 'ram_gib': _swap.ram_gib(),
            'fstab': None if fstab is None else _swap.fstab_swap_lines(fstab), 'zswap': _swap.zswap_enabled()}


def read_schedulers(desired):
    _scheduler, globs = _audit.io_scheduler_wanted(desired)
    return dict((dev, _host.read_selected(_block.scheduler_path(dev))) for dev in _block.matching_devices(globs))


def read_gpus(module, use_nvml):
    """(facts per GPU, None) through NVML, or (None, why not)."""
    if use_nvml == 'never':
        return None, 'use_nvml=never: GPU settings are read through NVML only'
    if not _nvml.HAS_PYNVML:
        return None, 'pynvml (nvidia-ml-py) is not installed: GPU settings are read through NVML only'
    try:
        _nvml.call('nvmlInit')
    except _nvml.NvmlError as e:
        return None, 'NVML could not be initialised: %s' % e
    session = _nvml.Session(module)
    try:
        facts = []
        for gpu in session.gpus():
            power = gpu.power()
            facts.append({'index': gpu.index, 'uuid': gpu.uuid,
                          'persistence_mode': gpu.persistence_mode(),
                          'power_limit': dict((k, _nvml.watts(v)) for k, v in power.items()),
                          'compute_mode': gpu.compute_mode()})
        return facts, None
    except _nvml.NvmlError as e:
        return None, 'NVML failed: %s' % e
    finally:
        session.__exit__(None, None, None)


def _strip_root(path):
    base = _host.root()
    if base == '/':
        return path
    base = os.path.realpath(base)
    return '/' + os.path.relpath(path, base) if path.startswith(base + os.sep) else path


def unit_preload(environment):
    """The LD_PRELOAD libraries of ``systemctl show -p Environment`` (assignments separated by spaces,
    quoted where they hold one)."""
    try:
        words = shlex.split(environment or '')
    except ValueError:
        words = (environment or '').split()
    libs = []
    for word in words:
        name, sep, value = word.partition('=')
        if sep and name == 'LD_PRELOAD':
            libs = [lib for lib in re.split(r'[:\s]+', value) if lib]
    return libs


def read_service(module, desired):
    unit = desired['unit']
    if not _systemd.booted(module):
        return {'pid': None, 'reason': 'systemd is not running here, so %s has no MainPID to read' % unit}
    props = ['MainPID', 'ActiveState']
    if desired.get('cpus') == _audit.FROM_UNIT:
        props.append('CPUAffinity')
    if desired.get('allocator_library') == _audit.FROM_UNIT:
        props.append('Environment')
    values = _systemd.Systemctl(module).show(unit, *props)
    try:
        pid = int(values.get('MainPID', '0'))
    except ValueError:
        pid = 0
    if pid <= 0:
        return {'pid': None, 'state': values.get('ActiveState') or 'unknown',
                'reason': '%s is not running (ActiveState=%s, MainPID=%s)'
                          % (unit, values.get('ActiveState', 'unknown'), values.get('MainPID'))}
    actual = {'pid': pid, 'state': values.get('ActiveState'), 'cpus_allowed': None, 'maps': None, 'libraries_real': {},
              'unit_cpus': values.get('CPUAffinity'), 'unit_preload': unit_preload(values.get('Environment'))}
    for line in (_host.read('/proc/%d/status' % pid) or '').splitlines():
        key, sep, value = line.partition(':')
        if sep and key == 'Cpus_allowed_list':
            actual['cpus_allowed'] = value.strip()
    maps = _host.read('/proc/%d/maps' % pid)
    if maps is not None:
        paths = []
        for line in maps.splitlines():
            fields = line.split(None, 5)
            if len(fields) == 6 and fields[5].startswith('/') and fields[5] not in paths:
                paths.append(fields[5].strip())
        actual['maps'] = paths
    wanted = desired.get('allocator_library')
    libs = actual['unit_preload'] if wanted == _audit.FROM_UNIT else [wanted] if wanted else []
    for lib in libs:
        if lib.startswith('/'):
            actual['libraries_real'][lib] = _strip_root(os.path.realpath(_host.host_path(lib)))
    return actual


def validate_desired(module):
    """Fail on a bad O(desired) or any bad profile of O(desired_by_kind), before anything is read."""
    p = module.params
    if p['desired'] is not None:
        errors = _audit.validate(p['desired'])
    elif p['desired_by_kind'] is not None:
        errors = []
        unknown = sorted(str(k) for k in p['desired_by_kind'] if k not in KINDS)
        if unknown:
            errors.append('desired_by_kind: unknown kind(s) %s; use %s' % (', '.join(unknown), ', '.join(KINDS)))
        for kind in KINDS:
            if p['desired_by_kind'].get(kind) is not None:
                errors += ['desired_by_kind.%s: %s' % (kind, e) for e in _audit.validate(p['desired_by_kind'][kind])]
    else:
        return
    if errors:
        module.fail_json(msg='Invalid desired profile: %s' % '; '.join(errors), errors=errors)


def recorded_desired(module, notes):
    """The profile the modules were last asked to apply here (the ledger's requests), and the ``converged``
    item when there is none."""
    requests = _ledger.Ledger(module, readonly=True).requests
    try:
        desired, more = _audit.desired_from_requests(requests)
        errors = _audit.validate(desired)
    except (AttributeError, KeyError, TypeError, ValueError) as e:
        desired, errors = {}, ['%s: %s' % (type(e).__name__, e)]
    if errors:
        module.fail_json(msg='The requests recorded in %s do not make a profile to audit against: %s. Converge '
                             'the host again (site.yml) or repair the ledger' % (_ledger.LEDGER_PATH, '; '.join(errors)))
    notes.extend(more)
    if requests:
        return desired, []
    return desired, [_audit.item('host', 'converged', 'tuned by this collection', 'no recorded request', _audit.DRIFT,
                                 'nothing recorded in %s: this host was never converged by site.yml (or was '
                                 'reverted); run site.yml, then audit it' % _ledger.LEDGER_PATH)]


def run_audit(module, desired):
    items = []
    if desired.get('sysctl_profile') or desired.get('sysctl'):
        requests = _audit.sysctl_requests(desired)
        items += _audit.audit_sysctl(requests, read_sysctls(requests), boot_sysctls(requests))
    if desired.get('thp'):
        items += _audit.audit_thp(desired['thp'], dict((n, _hugepages.thp_current(n)) for n in _audit.THP_SETTINGS),
                                  dict((n, _hugepages.thp_boot(n)) for n in _audit.THP_SETTINGS))
    if desired.get('hugepages'):
        items += _audit.audit_hugepages(desired['hugepages'], read_pools(desired['hugepages']),
                                        pending_kernel_parameters())
    if desired.get('governor'):
        cpus = _cpu.cpufreq_cpus()
        items += _audit.audit_governor(desired['governor'],
                                       dict((c, _host.read_value(_cpu.governor_path(c))) for c in cpus),
                                       governor_at_boot(desired['governor']) if cpus else None)
    service = read_service(module, desired['service']) if desired.get('service') else None
    if service is not None:
        service.setdefault('unit', desired['service'].get('unit'))
    if desired.get('memlock') is not None:
        items += _audit.audit_memlock(desired['memlock'], read_memlock(module, service))
    if desired.get('swap') is not None:
        items += _audit.audit_swap(desired['swap'], read_swap())
    if desired.get('io_scheduler'):
        items += _audit.audit_io_scheduler(desired['io_scheduler'], read_schedulers(desired['io_scheduler']),
                                           scheduler_at_boot(desired['io_scheduler']))
    if desired.get('gpu'):
        gpus, reason = read_gpus(module, module.params['use_nvml'])
        items += _audit.audit_gpu(desired['gpu'], gpus, reason)
    if service is not None:
        items += _audit.audit_service(desired['service'], service)
    return items


def main():
    module = AnsibleModule(
        argument_spec=dict(
            detect=dict(type='list', elements='str', choices=list(_accelerators.KINDS),
                        default=list(_accelerators.KINDS)),
            use_nvml=dict(type='str', choices=['auto', 'never'], default='auto'),
            sysfs_root=dict(type='path', default='/sys'),
            devfs_root=dict(type='path', default='/dev'),
            desired=dict(type='dict'),
            desired_by_kind=dict(type='dict'),
            desired_recorded=dict(type='bool', default=False),
            kind=dict(type='str', choices=['auto'] + list(KINDS), default='auto'),
        ),
        mutually_exclusive=[('desired', 'desired_by_kind', 'desired_recorded')],
        supports_check_mode=True,
    )
    with _files.refusals(module):
        p = module.params
        for name in ('sysfs_root', 'devfs_root'):
            if not p[name].startswith('/'):
                module.fail_json(msg='%s must be an absolute path, not %r' % (name, p[name]))
        validate_desired(module)
        accelerators, notes = _accelerators.detect(module, p['detect'], p['use_nvml'],
                                                   sysfs_root=p['sysfs_root'], devfs_root=p['devfs_root'])
        dominant = _accelerators.dominant_kind(accelerators)
        result = dict(
            changed=False,
            accelerators=accelerators,
            accelerator_kind=dominant,
            host_kind=dominant if p['kind'] == 'auto' else p['kind'],
            accelerator_counts=dict((k, len([a for a in accelerators if a['kind'] == k])) for k in p['detect']),
            notes=notes,
            numa=numa_inventory(),
            kernel=kernel_inventory(),
        )
        desired, items = p['desired'], []
        if p['desired_by_kind'] is not None:
            desired = p['desired_by_kind'].get(result['host_kind']) or {}
        if p['desired_recorded']:
            desired, items = recorded_desired(module, notes)
        if desired is not None:
            items = items + run_audit(module, desired)
            result['desired'] = desired
            result['audit'] = items
            result['summary'] = _audit.summary(items)
        module.exit_json(**result)


if __name__ == '__main__':
    main()
