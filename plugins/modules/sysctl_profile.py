#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: sysctl_profile
short_description: Apply a kernel tuning profile for LLM inference serving (sysctl, at runtime and persisted)
version_added: 0.1.0
description:
  - Applies a whole set of kernel tunables in one call, either a built-in O(profile), your own
    O(settings), or a profile with O(settings) overriding or adding keys.
  - Each value is written at runtime (C(/proc/sys), or debugfs for scheduler knobs, see below)
    and persisted in one file of ours in C(/etc/sysctl.d) (O(path)), keys sorted, each with a
    C(# why) comment line above it.
  - Kernel-version aware. Since Linux 5.13 the scheduler tunables C(kernel.sched_migration_cost_ns),
    C(kernel.sched_min_granularity_ns), C(kernel.sched_wakeup_granularity_ns), C(kernel.sched_latency_ns)
    and C(kernel.sched_nr_migrate) live in debugfs (C(/sys/kernel/debug/sched/migration_cost_ns) and so
    on); since Linux 6.6 (EEVDF) C(min_granularity_ns) is C(base_slice_ns) and C(wakeup_granularity_ns)
    and C(latency_ns) are gone. The module writes each knob where it lives on the running kernel, or
    reports it as C(unavailable on this kernel) following O(missing) (also when debugfs is not mounted
    or not readable).
  - Debugfs knobs cannot be persisted through sysctl.d; they are persisted in a tmpfiles.d file of ours
    (O(tmpfiles_path), lines such as C(w /sys/kernel/debug/sched/migration_cost_ns - - - - 50000)) and
    are kept out of the sysctl.d file.
  - Boot precedence is checked. systemd-sysctl and C(sysctl --system) read C(/etc/sysctl.d),
    C(/run/sysctl.d), C(/usr/local/lib/sysctl.d), C(/usr/lib/sysctl.d) and C(/lib/sysctl.d) (for the same
    file name the first directory wins), apply the files sorted by file name, a later file overriding an
    earlier one, and C(sysctl --system) reads C(/etc/sysctl.conf) last (Debian also links it as
    C(/etc/sysctl.d/99-sysctl.conf); it is reported once). When a file applied after ours sets one of our
    keys to another value, that file wins at boot; this is reported in RV(conflicts) and handled by
    O(on_conflict). Files applied before ours are reported in RV(overridden) for information.
  - The value each key had before this collection first changed it is recorded in the restore ledger
    (C(/var/lib/inference_host_tuning/ledger.json)); O(state=absent) restores those values and removes
    (or restores) our files.
  - Keys dropped from the profile or O(settings) between runs are removed from our file but keep their
    runtime value until O(state=absent) restores it.
author:
  - inference.host_tuning contributors (@inference-host-tuning)
options:
  state:
    description:
      - V(present) applies and persists the settings.
      - V(absent) removes our files (or restores what was at their place) and writes back the runtime
        values recorded before this module first changed them. With nothing recorded it changes nothing.
        O(profile) and O(settings) are ignored.
    type: str
    choices: [present, absent]
    default: present
  profile:
    description:
      - A built-in profile. Every value and the reason for it is listed here and in the module_utils
        data table (C(plugins/module_utils/_sysctl.py)).
      - May be omitted when O(settings) is given. One of O(profile) or O(settings) is required with
        O(state=present).
      - >-
        Both profiles set the following (a value written C(>N) is raise-only, see O(settings)).
      - >-
        C(fs.inotify.max_user_watches = >524288): raise-only: model caches with many files, log shippers and
        file-watching sidecars exhaust the default ("No space left on device" from inotify_add_watch).
      - >-
        C(kernel.numa_balancing = 0): automatic NUMA balancing unmaps pages to sample access (NUMA hinting
        faults) and migrates them: latency jitter for processes already pinned next to their GPUs.
      - >-
        C(kernel.sched_autogroup_enabled = 0): autogroup shares CPU per session (a desktop feature); on a
        server it makes CPU shares depend on how a process was started; use cgroups (systemd slices) to
        share CPU.
      - >-
        C(kernel.shmall = >16777216): raise-only 16777216 pages (64 GiB with 4 KiB pages), the total
        matching kernel.shmmax; the 64-bit kernel default is kept.
      - >-
        C(kernel.shmmax = >68719476736): raise-only 64 GiB: SysV shared memory segments large enough for a
        model shard; the 64-bit kernel default (about 16 EiB) is kept.
      - >-
        C(net.core.netdev_max_backlog = >16384): raise-only: per-CPU queue of received packets; bursts on
        100/200/400 GbE front-end and KV-transfer links drop at the default of 1000, and a drop costs a TCP
        retransmit.
      - >-
        C(net.core.rmem_max = >16777216): raise-only 16 MiB: the cap for SO_RCVBUF that gRPC, NCCL/Gloo
        socket transports and KV-cache transfer request on high bandwidth-delay links.
      - >-
        C(net.core.somaxconn = >65535): raise-only: the listen() backlog cap; bursts of client or
        load-balancer connections to the API server overflow a small accept queue and are dropped or retried
        after 1 s.
      - >-
        C(net.core.wmem_max = >16777216): raise-only 16 MiB: the cap for SO_SNDBUF, as net.core.rmem_max for
        sending.
      - >-
        C(net.ipv4.tcp_max_syn_backlog = >8192): raise-only: half-open connections during connection bursts;
        an overflow falls back to SYN cookies or drops SYNs (a client retries after 1 s).
      - >-
        C(vm.max_map_count = >1048576): raise-only: mmap-ed safetensors shards, the CUDA host allocator,
        allocator arenas and thousands of threads exceed the old default of 65530 mappings (mmap fails with
        ENOMEM); distributions that already set 1048576 or more keep their value.
      - >-
        C(vm.swappiness = 1): keep model weights, pinned staging buffers and the KV-cache offload pool in
        RAM: a swapped-out page costs a major fault of milliseconds in the request path; 1 rather than 0
        leaves swap as a last resort before the OOM killer.
      - >-
        C(vm.zone_reclaim_mode = 0): never stall an allocation to reclaim page cache on the local NUMA node;
        the serving process is bound to its GPU-local node explicitly, a remote page is cheaper than a
        reclaim stall.
      - >-
        V(inference_latency) (interactive serving: lowest and steadiest time to first token and inter-token
        latency) adds:
      - >-
        C(kernel.sched_migration_cost_ns = 5000000): 5 ms: a thread that ran within 5 ms counts as cache-hot
        and is not migrated by the load balancer, and a CPU about to idle skips costly newidle balancing;
        the few latency-critical threads (engine loop, GPU workers, HTTP front end) keep their warm CPU and
        caches.
      - >-
        C(vm.dirty_background_ratio = 3): start background writeback early (3% of RAM) so dirty pages never
        pile up to the throttling limit.
      - >-
        C(vm.dirty_ratio = 10): cap dirty page cache at 10% of RAM so a writer (logs, a model download) is
        throttled early instead of the whole host stalling in a long writeback storm.
      - >-
        C(vm.min_free_kbytes = >1048576): raise-only 1 GiB reserve: kswapd starts reclaiming earlier, so
        allocations in the request path (pinned buffers, network receive) rarely fall into direct reclaim or
        fail atomically.
      - >-
        V(inference_throughput) (batch and offline serving: most tokens per second per host) adds:
      - >-
        C(kernel.sched_migration_cost_ns = 50000): 50 us: tasks are treated as cache-cold almost at once, so
        the load balancer spreads CPU-bound workers (tokenizers, detokenizers, pre-processing, many worker
        processes) onto idle CPUs quickly: more aggregate throughput for some cache locality.
      - >-
        C(kernel.sched_min_granularity_ns = 10000000): 10 ms minimum slice: fewer preemptions and context
        switches for CPU-bound batch work (debugfs min_granularity_ns; base_slice_ns on EEVDF kernels 6.6+).
      - >-
        C(vm.dirty_background_ratio = 10): background writeback at 10% of RAM: large enough to batch, early
        enough to stay below vm.dirty_ratio.
      - >-
        C(vm.dirty_ratio = 40): let large sequential writes (model downloads, checkpoint shards, spill
        files) collect in page cache and go out in big I/Os; the serving path itself hardly writes.
      - >-
        C(vm.min_free_kbytes = >524288): raise-only 512 MiB reserve: fewer direct-reclaim stalls and failed
        atomic allocations under memory pressure, at a smaller cost in usable RAM than the latency profile.
    type: str
    choices: [inference_latency, inference_throughput]
  settings:
    description:
      - Keys to set, or to override in O(profile). Keys are sysctl names with dots, for example
        C(vm.swappiness), made of segments of letters, digits, C(_) and C(-); C(/), C(..), empty segments
        and a leading C(-) are refused.
      - Values are integers or strings on one line (no newline or other control character, fields
        separated by white space, which is compared collapsed, so C(32768 60999) matches the kernel's
        tab-separated value).
      - A value written C(>N) (N an integer) is raise-only. A key the host already sets higher keeps its
        value at runtime, and the persisted file records the larger of the current value and N, so that
        the boot does not lower a value another file or the kernel default sets higher either.
      - All keys and values are validated before anything is written.
    type: dict
  path:
    description:
      - Our sysctl.d file. It must be an absolute path ending in C(.conf).
      - Keys that live in debugfs and keys this kernel does not have are not written to it
        (C(sysctl --system) would report an error for a key the kernel lacks).
    type: path
    default: /etc/sysctl.d/90-inference-host-tuning.conf
  tmpfiles_path:
    description:
      - Our tmpfiles.d file persisting debugfs scheduler knobs (written at boot by systemd-tmpfiles).
      - It must be an absolute path ending in C(.conf). It is removed when no debugfs knob is set.
    type: path
    default: /etc/tmpfiles.d/90-inference-host-tuning-sched.conf
  runtime:
    description:
      - How to treat the runtime values.
      - V(best_effort) writes them; where C(/proc/sys) (or the knob) is read-only, as in an unprivileged
        container, the value is still persisted, a warning is given, and the key's runtime is reported as
        skipped. A second run reports no change.
      - V(required) fails, before writing anything, when a runtime value cannot be written.
      - V(skip) only persists (or, with O(state=absent), only restores files).
    type: str
    choices: [best_effort, required, skip]
    default: best_effort
  missing:
    description:
      - What to do with a key this kernel does not have (no C(/proc/sys) file, a scheduler knob removed
        by EEVDF, debugfs not mounted). Such a key is never persisted.
      - V(ignore) skips it quietly, V(warn) skips it with a warning, V(fail) fails before writing anything.
    type: str
    choices: [ignore, warn, fail]
    default: warn
  on_conflict:
    description:
      - What to do when another sysctl file applied after ours at boot sets one of our keys to another
        value (or, for a raise-only key, to a value below the floor), or when O(path) is not read at boot.
      - V(warn) warns naming the winning file, V(fail) fails before writing anything, V(ignore) only
        reports conflicts in RV(conflicts) and says nothing about O(path).
    type: str
    choices: [ignore, warn, fail]
    default: warn
attributes:
  check_mode:
    support: full
    details: Nothing is written (neither the host nor the ledger); C(changed) is what a real run reports.
  diff_mode:
    support: full
    details: A list of diffs, one per file of ours that changes, and one for the runtime values.
  platform:
    support: full
    details: Linux only.
  idempotent:
    support: full
    details: A second run with the same options reports no change, also where the runtime is read-only.
extends_documentation_fragment:
  - inference.host_tuning.attributes
  - inference.host_tuning.attributes.recorded
notes:
  - A value the kernel rejects (for example out of range) cannot be predicted; it is reported as skipped
    with the kernel's error and still persisted.
  - The sysctl.d file is applied at boot by systemd-sysctl; this module does not run C(sysctl --system).
seealso:
  - name: sysctl.d(5)
    description: Configure kernel parameters at boot.
    link: https://man7.org/linux/man-pages/man5/sysctl.d.5.html
  - name: tmpfiles.d(5)
    description: The C(w) line type used to persist debugfs scheduler knobs.
    link: https://man7.org/linux/man-pages/man5/tmpfiles.d.5.html
  - module: ansible.posix.sysctl
    description: Set one sysctl key.
'''

EXAMPLES = r'''
- name: Tune an interactive inference server
  inference.host_tuning.sysctl_profile:
    profile: inference_latency

- name: Throughput profile, with a smaller dirty ratio and a wider local port range
  inference.host_tuning.sysctl_profile:
    profile: inference_throughput
    settings:
      vm.dirty_ratio: 20
      net.ipv4.ip_local_port_range: "32768 65000"
    on_conflict: fail

- name: Only raise a limit, never lower it
  inference.host_tuning.sysctl_profile:
    settings:
      vm.max_map_count: ">2097152"

- name: In a container (read-only /proc/sys) only persist the file
  inference.host_tuning.sysctl_profile:
    profile: inference_latency
    runtime: skip

- name: Undo everything this module changed
  inference.host_tuning.sysctl_profile:
    state: absent
'''

RETURN = r'''
path:
  description: Our sysctl.d file.
  returned: always
  type: str
  sample: /etc/sysctl.d/90-inference-host-tuning.conf
tmpfiles_path:
  description: Our tmpfiles.d file for debugfs scheduler knobs.
  returned: always
  type: str
  sample: /etc/tmpfiles.d/90-inference-host-tuning-sched.conf
profile:
  description: The profile applied (null without one, or with O(state=absent)).
  returned: always
  type: str
  sample: inference_latency
kernel:
  description: The running kernel's release, which decides where scheduler knobs live.
  returned: always
  type: str
  sample: 6.1.0-27-amd64
sysctl_keys:
  description:
    - Per sysctl name, what was requested, found and done.
    - With O(state=absent), the keys whose recorded value was restored (RV(sysctl_keys.KEY.desired) is the
      recorded original).
  returned: always
  type: dict
  sample:
    vm.swappiness:
      requested: "1"
      desired: "1"
      before: "60"
      after: "1"
      location: /proc/sys/vm/swappiness
      persisted_in: /etc/sysctl.d/90-inference-host-tuning.conf
      applied: {runtime: true, persisted: true}
      changed: true
      skipped: null
      raise_only: false
      source: profile
      why: "keep model weights ... in RAM"
  contains:
    KEY:
      description: One entry per sysctl name.
      type: dict
      returned: always
      contains:
        requested:
          description: The value as requested (C(>N) for raise-only); null with O(state=absent).
          type: str
          returned: always
          sample: ">1048576"
        desired:
          description: The value the key should hold (for raise-only the larger of the current value and N).
          type: str
          returned: always
          sample: "1048576"
        before:
          description: The runtime value found, white space collapsed (null when unavailable).
          type: str
          returned: always
          sample: "65530"
        after:
          description: The runtime value after the run (predicted in check mode).
          type: str
          returned: always
          sample: "1048576"
        location:
          description: The runtime path used (C(/proc/sys/...) or the debugfs file); null when unavailable.
          type: str
          returned: always
          sample: /sys/kernel/debug/sched/migration_cost_ns
        persisted_in:
          description: The file of ours that persists the key (sysctl.d or tmpfiles.d), or null.
          type: str
          returned: always
          sample: /etc/tmpfiles.d/90-inference-host-tuning-sched.conf
        applied:
          description: Whether the runtime holds the desired value, and whether the key is persisted.
          type: dict
          returned: always
          sample: {runtime: false, persisted: true}
        changed:
          description: Whether the runtime value was (or in check mode would be) written.
          type: bool
          returned: always
          sample: true
        skipped:
          description: >-
            Why the runtime value was not applied (C(read-only ...), C(runtime: skip),
            C(unavailable on this kernel ...), a write error), or null.
          type: str
          returned: always
          sample: "read-only: /proc/sys/vm/swappiness cannot be written (an unprivileged container?)"
        raise_only:
          description: Whether the value is raise-only (C(>N)).
          type: bool
          returned: always
          sample: false
        source:
          description: Where the value comes from, V(profile), V(settings) or V(ledger) (O(state=absent)).
          type: str
          returned: always
          sample: profile
        why:
          description: Why the value is set (written above the key in the file).
          type: str
          returned: always
          sample: "automatic NUMA balancing unmaps pages ..."
conflicts:
  description:
    - Files applied after ours at boot that set one of our keys to another value, so they win.
      One entry per key, naming the file that wins.
  returned: always
  type: list
  elements: dict
  sample:
    - key: vm.swappiness
      file: /etc/sysctl.conf
      aliases: [/etc/sysctl.d/99-sysctl.conf]
      value: "10"
      ours: "1"
  contains:
    key:
      description: The sysctl name.
      type: str
      returned: always
      sample: vm.swappiness
    file:
      description: The file that wins at boot.
      type: str
      returned: always
      sample: /etc/sysctl.d/99-zz.conf
    aliases:
      description: Other names of the same file (a symbolic link read as well).
      type: list
      elements: str
      returned: always
      sample: [/etc/sysctl.d/99-sysctl.conf]
    value:
      description: The value that file sets.
      type: str
      returned: always
      sample: "10"
    ours:
      description: The value our file sets.
      type: str
      returned: always
      sample: "1"
overridden:
  description: Files applied before ours that set one of our keys (ours wins; for information).
  returned: always
  type: list
  elements: dict
  sample:
    - key: kernel.pid_max
      file: /usr/lib/sysctl.d/50-pid-max.conf
      aliases: []
      value: "4194304"
      ours: "4194304"
reboot_required:
  description:
    - True when a persisted value is not in effect at runtime because the runtime could not take it here (read-only,
      O(runtime=skip)), so that a boot applies it.
    - A value the kernel refuses (a write error, or the kernel holds another value after the write) is warned about
      and never makes this true, as a boot would refuse it as well.
  returned: always
  type: bool
  sample: false
diff:
  description: With diff mode, one diff per file of ours that changes, and one for the runtime values.
  returned: when diff mode is on
  type: list
  elements: dict
  sample:
    - before_header: /etc/sysctl.d/90-inference-host-tuning.conf (absent)
      after_header: /etc/sysctl.d/90-inference-host-tuning.conf
      before: ""
      after: "# Managed by Ansible ..."
'''

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_text

from ansible_collections.inference.host_tuning.plugins.module_utils import _change
from ansible_collections.inference.host_tuning.plugins.module_utils import _files
from ansible_collections.inference.host_tuning.plugins.module_utils import _formats
from ansible_collections.inference.host_tuning.plugins.module_utils import _host
from ansible_collections.inference.host_tuning.plugins.module_utils import _ledger
from ansible_collections.inference.host_tuning.plugins.module_utils import _sysctl

OWNER = _sysctl.OWNER
RUNTIME_DIFF_HEADER = 'runtime values (/proc/sys, debugfs)'
WRITABLE = 'Run where /proc/sys is writable or use runtime=best_effort.'


#: Each path option stays in its own directory: sysctl.d files for path, tmpfiles.d for tmpfiles_path.
PATH_DIRS = {'path': '/etc/sysctl.d/', 'tmpfiles_path': '/etc/tmpfiles.d/'}


def _check_path(module, name, path):
    if _ledger.path_error(path) or not path.startswith(PATH_DIRS[name]) or not path.endswith('.conf') \
            or '/' in path[len(PATH_DIRS[name]):]:
        module.fail_json(msg='Nothing was changed: %s=%r: use a file directly in %s whose name ends in .conf '
                             '(for example %s)' % (name, path, PATH_DIRS[name], module.argument_spec[name]['default']))


class Key(object):
    """One key of a run: what was asked, what the kernel has, and what the run does with it; ``entry()`` is
    its ``sysctl_keys`` result."""

    __slots__ = ('key', 'requested', 'desired', 'before', 'after', 'location', 'persisted_in', 'runtime',
                 'persisted', 'changed', 'skipped', 'raise_only', 'source', 'why', 'raw', 'floor', 'path',
                 'missing', 'readonly', 'rejected', 'restore')

    def __init__(self, key, requested, before, source, why, raise_only=False):
        self.key = key
        self.requested = requested
        self.desired = None
        self.before = self.after = before
        self.location = self.persisted_in = self.skipped = self.raw = self.floor = self.path = None
        self.runtime = self.persisted = self.changed = False     # applied at runtime / persisted; changed now
        self.raise_only = raise_only
        self.source = source
        self.why = why
        self.missing = self.readonly = False    # unavailable on this kernel / skipped: the runtime is read-only
        self.rejected = False                   # the kernel refused the value: a reboot does not bring it
        self.restore = False                    # state=absent: restore the recorded value

    def entry(self):
        return {'requested': self.requested, 'desired': self.desired, 'before': self.before, 'after': self.after,
                'location': self.location, 'persisted_in': self.persisted_in,
                'applied': {'runtime': self.runtime, 'persisted': self.persisted}, 'changed': self.changed,
                'skipped': self.skipped, 'raise_only': self.raise_only, 'source': self.source, 'why': self.why}


def _keys(items):
    """The ``sysctl_keys`` result."""
    return dict((i.key, i.entry()) for i in items)


def _runtime_diff(items):
    before = ''.join('%s = %s\n' % (i.key, i.before) for i in items if i.changed)
    after = ''.join('%s = %s\n' % (i.key, i.desired) for i in items if i.changed)
    return {'before_header': RUNTIME_DIFF_HEADER, 'after_header': RUNTIME_DIFF_HEADER,
            'before': before, 'after': after}


def _plan_runtime(policy, item, path):
    """Whether the runtime value at ``path`` is written (``changed``), already right, or skipped and why."""
    if item.before == item.desired:
        item.runtime = True
        return
    item.skipped = policy.blocked(path)
    item.readonly = item.skipped not in (None, _change.RUNTIME_SKIP)
    if item.skipped is None:
        item.changed = True
        item.after = item.desired
        item.runtime = True


def _policy(module, items, **texts):
    """The runtime policy of this run; a failure reports the keys planned so far."""
    return _change.RuntimePolicy(module, module.params['runtime'], report=lambda: {'sysctl_keys': _keys(items)},
                                 **texts)


def _value_error(key, text):
    """A message when a value holds what the sysctl.d writer refuses (line and paragraph separators, C1
    controls such as U+0085, invisible format characters), or None; checked before anything is read."""
    try:
        _formats.text(text, 'settings.%s' % key)
    except _formats.FormatError as e:
        return '%s; write the value on one line without it' % e
    return None


def _requests(module, p):
    """Validated requests {key: Request}; fails naming every bad key, before anything is read."""
    requests = {}
    if p['profile']:
        requests.update(_sysctl.profile_requests(p['profile']))
    errors = []
    settings = p['settings'] or {}
    for raw_key in sorted(settings, key=to_text):
        key = raw_key if isinstance(raw_key, str) else to_text(raw_key)
        err = _sysctl.key_error(key)
        if err:
            errors.append(err)
            continue
        text, err = _sysctl.parse_value(key, settings[raw_key])
        if err is None:
            err = _value_error(key, text)
        if err:
            errors.append(err)
            continue
        why = _sysctl.SETTINGS_WHY
        if key in requests:
            why = '%s (profile %s had %s: %s)' % (why, p['profile'], requests[key].value, requests[key].why)
        requests[key] = _sysctl.Request(key, text, why, 'settings')
    if errors:
        module.fail_json(msg='Invalid settings, nothing was changed: %s' % '; '.join(errors), errors=errors)
    if not requests:
        module.fail_json(msg='Nothing to apply: give profile (one of %s) or settings with state=present.'
                             % ', '.join(sorted(_sysctl.PROFILES)))
    return requests


# -- state=present ------------------------------------------------------------------------
def _plan_key(p, policy, req, version):
    """Where the requested key lives on this kernel and what the run does with it: (Key, error or None)."""
    loc = _sysctl.locate(req.key, version)
    raw = _host.read_value(loc.path) if loc.available else None
    if loc.available and raw is None:
        loc = _sysctl.Location('unavailable', loc.path, '%s: %s cannot be read' % (_sysctl.UNAVAILABLE, loc.path))
    item = Key(req.key, req.value, _sysctl.normalize(raw), req.source, req.why, req.raise_only)
    item.raw, item.floor = raw, req.floor
    if not loc.available:
        item.skipped = loc.reason
        item.missing = True
        return item, None
    item.location = loc.path
    if req.raise_only and not _sysctl.is_int(item.before):
        return item, ('%s: raise-only value %s needs an integer current value, the kernel has %r'
                      % (req.key, req.value, item.before))
    item.desired = req.target(item.before)
    item.persisted_in = p['path'] if loc.kind == 'procfs' else p['tmpfiles_path']
    item.persisted = True
    _plan_runtime(policy, item, loc.path)
    return item, None


def _plan_keys(module, p, requests):
    """Every requested key planned; fails (nothing changed) on a raise-only key without an integer value, a
    missing key with missing=fail, a read-only value with runtime=required."""
    version = _host.kernel_version()
    items, errors = [], []
    policy = _policy(module, items, persisted='persisted, they take effect at boot', fix=WRITABLE)
    for key in sorted(requests):
        item, error = _plan_key(p, policy, requests[key], version)
        items.append(item)
        if error:
            errors.append(error)
    if errors:
        module.fail_json(msg='Nothing was changed: %s' % '; '.join(errors), errors=errors)
    missing = [i for i in items if i.missing]
    if missing and p['missing'] == 'fail':
        module.fail_json(msg='Nothing was changed: keys unavailable on this kernel (missing=fail): %s'
                             % '; '.join('%s (%s)' % (i.key, i.skipped) for i in missing),
                         sysctl_keys=_keys(items))
    readonly = ['%s (%s)' % (i.key, i.location) for i in items if i.readonly]
    if readonly:
        policy.refuse('the runtime is read-only, so these values are not applied', readonly)
    return items


def _precedence(module, p, sysctl_items):
    """(conflicts, overridden, problems): the boot order of the sysctl.d files against ours; fails with
    on_conflict=fail when a later file wins."""
    conflicts, overridden, notes = [], [], []
    if sysctl_items:
        conflicts, overridden, notes = _sysctl.precedence(
            p['path'], dict((i.key, (i.desired, i.floor)) for i in sysctl_items))
    problems = notes + [
        '%s: %s sets %s and is applied after %s at boot, so %s wins over our %s'
        % (c['key'], _sysctl.file_label(c['file'], c['aliases']), c['value'], p['path'], c['value'], c['ours'])
        for c in conflicts]
    if problems and p['on_conflict'] == 'fail':
        module.fail_json(msg='Nothing was changed (on_conflict=fail): %s' % '; '.join(problems),
                         conflicts=conflicts)
    return conflicts, overridden, problems


def _plan_files(p, sysctl_items, debugfs_items):
    """The sysctl.d and tmpfiles.d files; a file with nothing left to hold is removed only when it is ours."""
    header = _files.header(OWNER)
    if p['profile']:
        header += '# Profile: %s.\n' % p['profile']
    files = []
    for fpath, content in (
            (p['path'], _sysctl.render_sysctl(header, [(i.key, i.desired, i.why) for i in sysctl_items])),
            (p['tmpfiles_path'], _sysctl.render_tmpfiles(
                header, [(i.key, i.location, i.desired, i.why) for i in debugfs_items]))):
        f = _files.ManagedFile(fpath, content)
        if content is None and not _files.is_ours(f.current, OWNER):
            continue  # never remove a file that is not ours
        files.append(f)
    return files


def _write_key(module, ledger, item):
    """Record the original, write, read back; False when the write failed (the record is taken back)."""
    new_record = ledger.remember_runtime(item.location, item.raw, OWNER)
    failed = False
    try:
        _host.write_runtime(item.location, item.desired)
    except _host.RuntimeWriteError as e:
        if new_record:
            ledger.forget_runtime(item.location)
        item.changed = False
        item.runtime = False
        item.skipped = ('read-only: %s' if e.readonly else 'write failed: %s') % e
        # a value the kernel refuses now is refused at boot too: no reason to reboot for it
        item.rejected = not e.readonly
        failed = True
    item.after = _sysctl.normalize(_host.read_value(item.location))
    if item.changed and item.after != item.desired:
        item.runtime = False
        item.rejected = True
        module.warn('%s: wrote %s but the kernel holds %s; a reboot does not change that'
                    % (item.key, item.desired, item.after))
    return not failed


def _apply(module, p, items, files):
    """Write the runtime values, then the files (the ledger records each original first)."""
    ledger = _ledger.Ledger(module)
    failed = ['%s (%s)' % (i.key, i.skipped) for i in items if i.changed and not _write_key(module, ledger, i)]
    if failed:
        _policy(module, items, persisted='the value is still persisted', ledger=ledger,
                fix='Values written before are recorded in the ledger (state=absent restores them); the files '
                    'were not written.').skip('writing failed', failed)
    for f in files:
        f.apply(module, ledger, OWNER)
    ledger.save()


def _warn_skipped(module, p, items, problems):
    if p['missing'] == 'warn':
        for i in items:
            if i.missing:
                module.warn('%s: %s; not applied and not persisted.' % (i.key, i.skipped))
    if p['on_conflict'] == 'warn':
        for msg in problems:
            module.warn(msg)


def present(module, p):
    items = _plan_keys(module, p, _requests(module, p))
    sysctl_items = [i for i in items if i.persisted_in == p['path']]
    debugfs_items = [i for i in items if i.persisted_in == p['tmpfiles_path']]
    conflicts, overridden, problems = _precedence(module, p, sysctl_items)
    files = _plan_files(p, sysctl_items, debugfs_items)
    diff = [f.diff() for f in files if f.changed]
    if any(i.changed for i in items):
        diff.append(_runtime_diff(items))
    if not module.check_mode:
        _apply(module, p, items, files)
    _warn_skipped(module, p, items, problems)
    result = dict(
        changed=any(f.changed for f in files) or any(i.changed for i in items), state='present', path=p['path'],
        tmpfiles_path=p['tmpfiles_path'], profile=p['profile'], kernel=_host.kernel_release(),
        sysctl_keys=_keys(items), conflicts=conflicts, overridden=overridden,
        reboot_required=any(i.persisted and not i.runtime and not i.rejected for i in items))
    if module._diff:
        result['diff'] = diff
    module.exit_json(**result)


# -- state=absent -------------------------------------------------------------------------

def _plan_restore(policy, ledger, path):
    """A recorded runtime value: put back unless it is right already, gone, skipped or read-only."""
    original = _sysctl.normalize(ledger.original_value(path))
    exists = _host.exists(path)
    item = Key(_sysctl.key_for_path(path), None, _sysctl.normalize(_host.read_value(path)) if exists else None,
               'ledger', 'restore the value recorded before %s first changed it' % OWNER)
    item.path = path
    item.desired = original
    if not exists:
        item.skipped = '%s: %s no longer exists' % (_sysctl.UNAVAILABLE, path)
        item.runtime = item.before == original
        item.restore = True      # the record goes
        return item
    item.location = path
    _plan_runtime(policy, item, path)
    item.restore = item.skipped is None
    return item


def _absent_files(ledger, paths):
    """The recorded files put back, then each of ``paths`` the ledger does not know removed when it is ours."""
    recorded = ledger.files_of(OWNER)
    return [_change.RecordedFile(ledger, path) for path in recorded] + [
        _change.absent_file(ledger, path, OWNER) for path in paths if path not in recorded]


def _restore_key(module, ledger, item):
    try:
        ledger.restore_runtime(item.path)
    except _host.RuntimeWriteError as e:
        item.changed = False
        item.runtime = False
        item.skipped = ('read-only: %s' if e.readonly else 'write failed: %s') % e
        module.warn('%s: could not restore %s: %s; it stays recorded in the ledger' % (item.key, item.desired, e))
        return
    if item.location:
        item.after = _sysctl.normalize(_host.read_value(item.path))


def absent(module, p):
    ledger = _ledger.Ledger(module)
    items = []
    policy = _policy(module, items, persisted='the originals stay recorded in the ledger', step='restore',
                     fix=WRITABLE)
    items.extend(_plan_restore(policy, ledger, path) for path in ledger.runtime_of(OWNER))
    readonly = ['%s (%s)' % (i.key, i.path) for i in items if i.readonly]
    if readonly:
        policy.refuse('the runtime is read-only, so these values are not restored', readonly)
    files = _absent_files(ledger, (p['path'], p['tmpfiles_path']))
    diff = [f.diff() for f in files if f.changed]
    if any(i.changed for i in items):
        diff.append(_runtime_diff(items))
    if not module.check_mode:
        for item in items:
            if item.restore:
                _restore_key(module, ledger, item)
        for f in files:
            _change.restore_file(module, ledger, f)
        ledger.save()
    result = dict(
        changed=bool(diff) or any(i.changed for i in items), state='absent',
        path=p['path'], tmpfiles_path=p['tmpfiles_path'], profile=None, kernel=_host.kernel_release(),
        sysctl_keys=_keys(items), conflicts=[], overridden=[], reboot_required=False)
    if module._diff:
        result['diff'] = diff
    module.exit_json(**result)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            state=dict(type='str', default='present', choices=['present', 'absent']),
            profile=dict(type='str', choices=sorted(_sysctl.PROFILES)),
            settings=dict(type='dict'),
            path=dict(type='path', default=_sysctl.DEFAULT_PATH),
            tmpfiles_path=dict(type='path', default=_sysctl.DEFAULT_TMPFILES_PATH),
            runtime=dict(type='str', default='best_effort', choices=list(_change.RUNTIME_CHOICES_SKIP)),
            missing=dict(type='str', default='warn', choices=['ignore', 'warn', 'fail']),
            on_conflict=dict(type='str', default='warn', choices=['ignore', 'warn', 'fail']),
        ),
        supports_check_mode=True,
    )
    with _files.refusals(module):
        p = module.params
        _check_path(module, 'path', p['path'])
        _check_path(module, 'tmpfiles_path', p['tmpfiles_path'])
        if p['path'] == p['tmpfiles_path']:
            module.fail_json(msg='path and tmpfiles_path must be different files (both are %s)' % p['path'])
        _change.record_request(module, OWNER, _change.pick(p, ('profile', 'settings')), present=p['state'] == 'present')
        if p['state'] == 'absent':
            absent(module, p)
        present(module, p)


if __name__ == '__main__':
    main()
