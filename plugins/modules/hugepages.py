#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: hugepages
short_description: Transparent huge pages and static huge page pools, at runtime and across reboots
version_added: 0.1.0
description:
  - Sets the transparent huge pages (THP) modes C(enabled) and C(defrag) in
    C(/sys/kernel/mm/transparent_hugepage/) and reserves static HugeTLB pools of 2M
    or 1G pages, in total or per NUMA node.
  - Runtime values are written to sysfs; after each pool write the module reads
    C(nr_hugepages) back, because the kernel may allocate fewer pages than asked
    (fragmented memory). A shortfall is a warning, or a failure below O(pools[].min_count).
  - Persistence across reboots is one tmpfiles.d file of the collection,
    C(/etc/tmpfiles.d/90-inference-host-tuning-hugepages.conf), with
    C(w PATH - - - - VALUE) lines for the THP modes and the runtime pools.
  - Boot pools (O(pools[].boot), the default for 1G pages) are reserved through the kernel
    command line (C(hugepagesz=1G hugepages=N); per node C(hugepages=0:N,1:M), which
    the kernel accepts since Linux 5.16). Only the module's own parameters are added
    or removed; other parameters are never touched. The pool exists after the next boot;
    until the running kernel was booted with the parameters, RV(reboot_required) is V(true),
    on every run.
  - Before its first change of a runtime value or file the module records the original in the
    collection's restore ledger (C(/var/lib/inference_host_tuning/ledger.json)), so that
    O(state=absent) puts back exactly what was there.
author:
  - inference.host_tuning contributors (@inference-host-tuning)
options:
  thp_enabled:
    description:
      - Transparent huge pages mode (C(/sys/kernel/mm/transparent_hugepage/enabled)).
      - The value must be one the running kernel offers in that file.
      - Left as it is when not set.
    type: str
    choices: [always, madvise, never]
  thp_defrag:
    description:
      - THP defragmentation mode (C(/sys/kernel/mm/transparent_hugepage/defrag)).
      - The value must be one the running kernel offers in that file.
      - Left as it is when not set.
    type: str
    choices: [always, defer, defer+madvise, madvise, never]
  pools:
    description:
      - Static huge page pools. One pool per size and node; for one size use either a total
        (no O(pools[].node)) or per-node pools, not both.
    type: list
    elements: dict
    default: []
    suboptions:
      size:
        description:
          - Page size. V(1G) needs the C(pdpe1gb) CPU flag on x86 (and the kernel's
            C(hugepages-1048576kB) pool elsewhere).
        type: str
        required: true
        choices: ['2M', '1G']
      count:
        description:
          - Number of pages; the total across nodes when O(pools[].node) is omitted.
          - V(0) releases the pool.
        type: int
        required: true
      node:
        description:
          - NUMA node of the pool (a C(/sys/devices/system/node/nodeN) that exists).
          - A per-node boot pool needs Linux 5.16 or later.
        type: int
      min_count:
        description:
          - Fail when the kernel allocates fewer pages than this (at runtime, or for a
            boot pool once the host runs with the parameters). Between 0 and O(pools[].count).
          - Without it a shortfall is only a warning.
        type: int
      boot:
        description:
          - Reserve the pool through the kernel command line at boot instead of at runtime.
          - Defaults to V(true) for V(1G) pages (they can seldom be found at runtime) and
            V(false) for V(2M) pages.
          - A boot pool is not written at runtime; it takes effect after a reboot.
        type: bool
  default_size:
    description:
      - Adds C(default_hugepagesz=SIZE) to the kernel command line, the size of
        C(MAP_HUGETLB) mappings and of C(hugetlbfs) mounts without a C(pagesize) option.
      - Not set by default; set it only when the server maps huge pages without naming a size.
    type: str
    choices: ['2M', '1G']
  cmdline_method:
    description:
      - How the kernel command line is changed, when boot pools or O(default_size) need it.
      - V(grub_d) writes C(/etc/default/grub.d/90-inference-host-tuning.cfg) (appending to
        C(GRUB_CMDLINE_LINUX_DEFAULT)) and runs C(update-grub) (or C(grub-mkconfig)) when it changed.
      - V(grubby) runs C(grubby --update-kernel=ALL --args=...) and C(--remove-args=...) with
        the module's own parameters only.
      - V(file) writes the parameters, on one line, to O(cmdline_file) (a stand-in boot loader
        for a VM that boots a kernel with them).
      - V(auto) is V(grubby) where C(grubby) is installed, else V(grub_d) where C(update-grub) is;
        otherwise the module fails and asks for a method.
    type: str
    default: auto
    choices: [auto, grub_d, grubby, file]
  force:
    description:
      - Pools (runtime and boot) may together take at most 90% of the memory of the host, or of their NUMA
        node for per-node pools (C(MemTotal) in C(/proc/meminfo) and C(/sys/devices/system/node/nodeN/meminfo));
        huge pages are taken from everything else, and a boot pool beyond the memory leaves a host that does not
        come up. A request beyond that fails before anything is written, naming the limit and the host's memory.
      - V(true) allows more (a dedicated host that knows what it reserves).
    type: bool
    default: false
  cmdline_file:
    description:
      - The file for O(cmdline_method=file). Must be an absolute path.
    type: path
    default: /etc/inference-host-tuning/cmdline
  state:
    description:
      - V(present) applies the settings.
      - V(absent) removes the module's files and kernel parameters and restores the runtime
        values that were there before this module first changed them.
    type: str
    default: present
    choices: [present, absent]
  runtime:
    description:
      - What to do with the running kernel's values.
      - V(best_effort) writes them; where sysfs is read-only (an unprivileged container) it
        persists the settings, warns and reports the runtime part as skipped.
      - V(required) fails, before writing anything, when a runtime value cannot be written.
      - V(skip) only persists (or, with O(state=absent), leaves runtime values as they are).
    type: str
    default: best_effort
    choices: [best_effort, required, skip]
attributes:
  check_mode:
    support: full
    details:
      - Check mode writes nothing. It cannot know whether the kernel will find all the pages
        of a pool, so a pool the kernel cannot grow is predicted as changed while a real run
        reports it unchanged.
  diff_mode:
    support: full
    details:
      - The diff is a list of file diffs (the tmpfiles.d file, the GRUB drop-in or
        O(cmdline_file)); with grubby, the arguments of each boot entry before and after.
  platform:
    support: full
    platforms: linux
  idempotent:
    support: partial
    details:
      - A second run with the same options changes nothing, except that a pool the kernel
        could not fill is written again (the kernel may find the pages now); it is reported
        changed only when the number of pages actually moved.
extends_documentation_fragment:
  - inference.host_tuning.attributes
  - inference.host_tuning.attributes.recorded
notes:
  - 1G pages usually need a boot pool; at runtime the kernel rarely finds 1G of contiguous memory.
  - The kernel parameters take effect after a reboot, which this module never does;
    use RV(reboot_required).
  - On a read-only sysfs the THP modes and runtime pools still go to the tmpfiles.d file, so they
    apply at the next boot of a host where sysfs is writable.
  - O(state=absent) reports RV(reboot_required) for the parameters it removed only on the run that
    removed them.
seealso:
  - name: HugeTLB pages (kernel documentation)
    description: Pools, per-node pools and the boot parameters.
    link: https://docs.kernel.org/admin-guide/mm/hugetlbpage.html
  - name: Transparent Hugepage Support (kernel documentation)
    description: THP C(enabled) and C(defrag) modes.
    link: https://docs.kernel.org/admin-guide/mm/transhuge.html
'''

EXAMPLES = r'''
- name: THP on request only, 2M pools per node at runtime, 1G pages at boot
  inference.host_tuning.hugepages:
    thp_enabled: madvise
    thp_defrag: defer+madvise
    pools:
      - size: 2M
        count: 1024
        node: 0
        min_count: 512
      - size: 2M
        count: 1024
        node: 1
      - size: 1G
        count: 16
  register: hugepages

- name: Tell the operator a reboot is needed for the 1G pool
  ansible.builtin.debug:
    msg: "Reboot needed for {{ hugepages.cmdline.params | join(' ') }}"
  when: hugepages.reboot_required

- name: Boot-time 1G pool on a Debian host, default huge page size 1G
  inference.host_tuning.hugepages:
    pools:
      - size: 1G
        count: 32
    default_size: 1G
    cmdline_method: grub_d

- name: A VM test loop reads the kernel parameters from a file
  inference.host_tuning.hugepages:
    pools:
      - size: 1G
        count: 2
        node: 0
    cmdline_method: file
    cmdline_file: /etc/inference-host-tuning/cmdline

- name: In a container, persist only
  inference.host_tuning.hugepages:
    thp_enabled: never
    runtime: skip

- name: Put everything back as it was
  inference.host_tuning.hugepages:
    state: absent
'''

RETURN = r'''
thp:
  description:
    - The THP modes before and after the run (predicted in check mode), and why the runtime
      write was skipped (V(null) when it was not).
    - C(before) and C(after) are V(null) where the kernel has no THP.
  returned: always
  type: dict
  sample:
    enabled: {before: always, after: madvise, runtime_skipped: null}
    defrag: {before: madvise, after: defer+madvise, runtime_skipped: null}
pools:
  description:
    - One entry per requested pool (empty with O(state=absent)).
    - C(size), C(node) (V(null) for a total), C(requested) pages, C(min_count), C(boot).
    - C(before) and C(allocated), the C(nr_hugepages) before and after the run
      (C(allocated) is V(null) in check mode when the pool would be written).
    - C(shortfall), the pages the kernel did not allocate (V(null) when unknown, for example
      for a boot pool before the reboot).
    - C(persisted), V(tmpfiles) or V(cmdline); C(runtime_skipped), why the runtime was not
      written, or V(null).
  returned: always
  type: list
  elements: dict
  sample:
    - size: 2M
      node: 0
      requested: 1024
      min_count: 512
      boot: false
      before: 0
      allocated: 1000
      shortfall: 24
      persisted: tmpfiles
      runtime_skipped: null
    - size: 1G
      node: null
      requested: 16
      min_count: null
      boot: true
      before: 0
      allocated: 0
      shortfall: null
      persisted: cmdline
      runtime_skipped: "boot pool: reserved by the kernel command line at the next boot"
restored:
  description: Runtime values put back by O(state=absent) (C(path), C(before), C(after), C(runtime_skipped)).
  returned: when O(state=absent)
  type: list
  elements: dict
  sample:
    - path: /sys/kernel/mm/transparent_hugepage/enabled
      before: madvise
      after: always
      runtime_skipped: null
cmdline:
  description:
    - The module's kernel command line parameters (C(params), empty when none are needed),
      whether the boot loader holds them after the run (C(configured), predicted in check mode),
      whether the running kernel was booted with them (C(running), from C(/proc/cmdline)), and
      the boot loader C(method) used (V(null) when none was needed).
  returned: always
  type: dict
  sample:
    params: [hugepagesz=1G, hugepages=16]
    configured: true
    running: false
    method: grub_d
reboot_required:
  description:
    - V(true) while the running kernel was not booted with the module's parameters as configured
      (also on later runs until the reboot), or when this run removed parameters the running kernel has.
  returned: always
  type: bool
  sample: true
diff:
  description: File diffs (C(before_header), C(after_header), C(before), C(after)) of what changed.
  returned: when diff mode is on
  type: list
  elements: dict
  sample:
    - before_header: /etc/tmpfiles.d/90-inference-host-tuning-hugepages.conf (absent)
      after_header: /etc/tmpfiles.d/90-inference-host-tuning-hugepages.conf
      before: ''
      after: "w /sys/kernel/mm/transparent_hugepage/enabled - - - - madvise\n"
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.inference.host_tuning.plugins.module_utils import _bootloader
from ansible_collections.inference.host_tuning.plugins.module_utils import _change
from ansible_collections.inference.host_tuning.plugins.module_utils import _files
from ansible_collections.inference.host_tuning.plugins.module_utils import _host
from ansible_collections.inference.host_tuning.plugins.module_utils import _hugepages
from ansible_collections.inference.host_tuning.plugins.module_utils import _ledger
from ansible_collections.inference.host_tuning.plugins.module_utils import _restore

OWNER = 'hugepages'
PERSIST_ONLY = 'Use runtime=best_effort or skip to only persist the settings.'
BOOT_SKIPPED = 'boot pool: reserved by the kernel command line at the next boot'


class Write(object):
    """A planned runtime write of ``value`` to ``path``, reported in ``entry`` (a THP mode named ``thp``, or a
    pool when ``thp`` is None)."""

    __slots__ = ('entry', 'thp', 'path', 'value')

    def __init__(self, entry, thp, path, value):
        self.entry = entry
        self.thp = thp
        self.path = path
        self.value = value


class Plan(object):
    """What state=present found and will do: the ``thp`` and ``pools`` results, the runtime ``writes``, the
    tmpfiles entries (``persist``) and file, and the kernel command line (``boot`` methods, ``params``)."""

    def __init__(self, pools):
        self.pools = pools
        self.thp = {}
        self.results = []
        self.writes = []
        self.persist = []
        self.tmpfiles = None
        self.boot = []
        self.method = None
        self.params = []
        self.prev_params = []
        self.running = False
        self.files_changed = False
        self.readonly = []      # paths of runtime values the read-only runtime cannot take


class HugePages(object):

    def __init__(self, module):
        self.module = module
        self.p = module.params
        self.check = module.check_mode
        self.ledger = _ledger.Ledger(module)
        self.changed = False
        self.diffs = []
        self.reboot_required = False
        self._gigantic = None

    # -- helpers ---------------------------------------------------------------
    def fail(self, msg, **kwargs):
        """Fail; keep what was recorded so far (a real run may already have changed something)."""
        if not self.check:
            self.ledger.save()
        self.module.fail_json(msg=msg, **kwargs)

    def policy(self, persisted='the settings are persisted for the next boot', step='write', fix=PERSIST_ONLY):
        """The runtime policy of this run; a failure keeps what was recorded."""
        return _change.RuntimePolicy(self.module, self.p['runtime'], persisted, fix, step,
                                     ledger=self.ledger)

    def write(self, path, value):
        """Write a runtime value; None when written, else why it was skipped (best_effort)."""
        try:
            _host.write_runtime(path, value)
        except _host.RuntimeWriteError as e:
            why = 'writing %s to %s failed: %s' % (value, path, e)
            self.policy('the value is persisted for the next boot', fix='What was written before is recorded '
                        'in the ledger (state=absent restores it).').skip(why)
            return 'write failed: %s' % e
        return None

    def blocked(self, path, readonly):
        """Why the runtime value at ``path`` is not written (runtime=skip; a read-only runtime, its path then
        added to ``readonly``), or None."""
        why = self.policy().blocked(path)
        if why and why != _change.RUNTIME_SKIP:
            readonly.append(path)
        return why

    def refuse_readonly(self, paths, persisted, step='write', fix=PERSIST_ONLY):
        """The runtime values that cannot be written because the runtime is read-only, through the policy: a
        warning, or with runtime=required a failure, before anything is written."""
        if paths:
            self.policy(persisted, step, fix).refuse('the running kernel cannot be changed here, the runtime is '
                                                     'read-only (an unprivileged container?)', paths)

    def gigantic_error(self):
        """Why 1G pages cannot be had here ('' when they can), read once."""
        if self._gigantic is None:
            self._gigantic = _hugepages.gigantic_error() or ''
        return self._gigantic

    # -- validation --------------------------------------------------------------
    def validate(self):
        self.check_cmdline_file()
        self.check_thp()
        nodes = _hugepages.nodes()
        seen = {}
        pools = [self.check_pool(i, raw, nodes, seen) for i, raw in enumerate(self.p['pools'])]
        self.check_pool_sets(pools)
        self.check_memory(pools)
        if self.p['default_size'] == '1G' and self.gigantic_error():
            self.fail('default_size=1G: %s' % self.gigantic_error())
        return pools

    def check_cmdline_file(self):
        path = self.p['cmdline_file']
        if not (path or '').startswith('/'):
            self.fail('cmdline_file must be an absolute path, got %r' % (path,))
        if not path.startswith('/etc/inference-host-tuning/') or \
                _ledger.location_error(OWNER, path, 'cmdline_file'):
            self.fail('cmdline_file=%s must be a file under /etc/inference-host-tuning/ (the stand-in boot loader '
                      'file is ours alone)' % (path,))

    def check_thp(self):
        for name in _hugepages.THP_SETTINGS:
            value = self.p['thp_' + name]
            if value is None:
                continue
            offer = _hugepages.thp_offer(name)
            if not offer:
                self.fail('thp_%s=%s: this kernel has no %s (built without transparent huge pages?); '
                          'leave thp_%s unset' % (name, value, _hugepages.thp_path(name), name))
            if value not in offer:
                self.fail('thp_%s=%s is not offered by this kernel; %s offers: %s'
                          % (name, value, _hugepages.thp_path(name), ', '.join(offer)))

    def check_pool(self, i, raw, nodes, seen):
        """pools[i] checked; returns it with ``boot`` decided and its ``path``. ``seen``: (size, node) -> index."""
        pool = dict(raw)
        where = 'pools[%d] (size %s%s)' % (i, pool['size'],
                                           '' if pool['node'] is None else ', node %d' % pool['node'])
        if pool['count'] < 0:
            self.fail('%s: count=%d is negative; give the number of pages, 0 or more' % (where, pool['count']))
        if pool['min_count'] is not None and not 0 <= pool['min_count'] <= pool['count']:
            self.fail('%s: min_count=%d must be between 0 and count (%d)' % (where, pool['min_count'], pool['count']))
        if pool['node'] is not None and pool['node'] not in nodes:
            self.fail('%s: NUMA node %d does not exist; nodes here: %s'
                      % (where, pool['node'], ', '.join(str(n) for n in nodes) or 'none'))
        if pool['size'] == '1G' and self.gigantic_error():
            self.fail('%s: %s' % (where, self.gigantic_error()))
        path = _hugepages.pool_path(pool['size'], pool['node'])
        if not _host.exists(path):
            self.fail('%s: the kernel offers no such pool (%s is missing)' % (where, path))
        key = (pool['size'], pool['node'])
        if key in seen:
            self.fail('%s: duplicates pools[%d]; give one pool per size and node' % (where, seen[key]))
        seen[key] = i
        if pool['boot'] is None:
            pool['boot'] = pool['size'] == '1G'
        pool['path'] = path
        return pool

    def check_pool_sets(self, pools):
        """Per size either one total or per-node pools, all boot or all runtime; per-node boot pools need 5.16."""
        for size in _hugepages.SIZE_ORDER:
            mine = [q for q in pools if q['size'] == size]
            if any(q['node'] is None for q in mine) and any(q['node'] is not None for q in mine):
                self.fail('pools: size %s has both a total pool (no node) and per-node pools; use one or the other'
                          % size)
            if len(set(q['boot'] for q in mine)) > 1 and any(q['node'] is not None for q in mine):
                self.fail('pools: the per-node pools of size %s mix boot true and false; use one for all nodes' % size)
        if any(q['boot'] and q['node'] is not None for q in pools):
            version = _host.kernel_version()
            if version < _hugepages.NODE_BOOT_KERNEL:
                self.fail('pools: per-node boot pools (hugepages=NODE:COUNT) need Linux %d.%d or later, the '
                          'running kernel is %s; give a total count (no node) for the boot pool or set boot: false'
                          % (_hugepages.NODE_BOOT_KERNEL + (_host.kernel_release(),)))

    def check_memory(self, pools):
        """Refuse pools that would take more than MAX_MEMORY_SHARE of the host's (or node's) memory."""
        if self.p['force']:
            return
        wanted = {}
        for pool in pools:
            wanted[pool['node']] = wanted.get(pool['node'], 0) + pool['count'] * _hugepages.SIZES[pool['size']]
        for node in sorted(wanted, key=lambda n: -1 if n is None else n):
            total = _hugepages.mem_total_kib(node)
            if total is None:
                continue
            if wanted[node] > total * _hugepages.MAX_MEMORY_SHARE:
                self.fail('pools: %s of huge pages%s is more than %d%% of the %s of memory %s has; lower the counts, '
                          'or set force=true on a host meant to give that much to huge pages'
                          % (_hugepages.human_kib(wanted[node]), '' if node is None else ' on NUMA node %d' % node,
                             int(_hugepages.MAX_MEMORY_SHARE * 100), _hugepages.human_kib(total),
                             'this host' if node is None else 'node %d' % node))

    # -- kernel command line -----------------------------------------------------
    def plan_cmdline(self, groups):
        """Plan the boot loader change(s); returns (methods to apply, method name)."""
        params = _bootloader.flatten(groups)
        prev = self.ledger.get_extra(OWNER, 'cmdline') or {}
        prev_params = prev.get('params') or []
        prev_method = prev.get('method')
        prev_file = prev.get('file')
        if not params and not prev_params:
            return [], None, params, prev_params
        method = self.p['cmdline_method']
        if method == 'auto':
            method = _bootloader.detect(self.module) if params else prev_method
            if method is None:
                self.fail('cmdline_method=auto found neither grubby nor update-grub to change the kernel command '
                          'line for %s; set cmdline_method to grub_d, grubby or file' % ' '.join(params))
        path = self.p['cmdline_file'] if method == 'file' else None
        same = prev_method == method and (method != 'file' or prev_file == path)
        plans = []
        if prev_params and prev_method and not same:
            old = _bootloader.make(self.module, prev_method, prev_file)
            old.plan([], prev_params)
            plans.append(old)
        current = _bootloader.make(self.module, method, path)
        current.plan(params, prev_params if same else [])
        plans.append(current)
        return plans, method, params, prev_params

    # -- state=present -----------------------------------------------------------
    def plan_thp(self, plan):
        """Each THP mode: reported, persisted when set, written where it differs (unless skipped)."""
        for name in _hugepages.THP_SETTINGS:
            path = _hugepages.thp_path(name)
            before = _hugepages.thp_current(name)
            want = self.p['thp_' + name]
            entry = plan.thp[name] = {'before': before, 'after': before, 'runtime_skipped': None}
            if want is None:
                continue
            plan.persist.append((path, want))
            if before == want:
                continue
            reason = self.blocked(path, plan.readonly)
            if reason:
                entry['runtime_skipped'] = reason
            else:
                entry['after'] = want
                plan.writes.append(Write(entry, name, path, want))

    def plan_pools(self, plan):
        """Each pool: a boot pool goes to the kernel command line; a runtime pool is persisted and written
        where its count differs (unless skipped)."""
        for pool in plan.pools:
            before = _hugepages.read_count(pool['path'])
            entry = {'size': pool['size'], 'node': pool['node'], 'requested': pool['count'],
                     'min_count': pool['min_count'], 'boot': pool['boot'], 'before': before,
                     'allocated': before, 'shortfall': None,
                     'persisted': 'cmdline' if pool['boot'] else 'tmpfiles', 'runtime_skipped': None}
            plan.results.append(entry)
            if pool['boot']:
                entry['runtime_skipped'] = BOOT_SKIPPED
                continue
            plan.persist.append((pool['path'], pool['count']))
            if before == pool['count']:
                entry['shortfall'] = 0
                continue
            reason = self.blocked(pool['path'], plan.readonly)
            if reason:
                entry['runtime_skipped'] = reason
            else:
                entry['allocated'] = None
                plan.writes.append(Write(entry, None, pool['path'], pool['count']))

    def plan_files(self, plan):
        """The tmpfiles.d file and the kernel command line (still read-only): changed, diffs, reboot_required."""
        plan.tmpfiles = _files.ManagedFile(_hugepages.TMPFILES_PATH, _hugepages.render_tmpfiles(OWNER, plan.persist))
        groups = _hugepages.boot_groups([q for q in plan.pools if q['boot']], self.p['default_size'])
        plan.boot, plan.method, plan.params, plan.prev_params = self.plan_cmdline(groups)
        boot_changed = any(b.changed for b in plan.boot)
        plan.files_changed = plan.tmpfiles.changed or boot_changed
        self.changed = plan.files_changed or bool(plan.writes)
        if plan.tmpfiles.changed:
            self.diffs.append(plan.tmpfiles.diff())
        for b in plan.boot:
            if b.changed:
                d = b.diff()
                if d:
                    self.diffs.append(d)
        running_tokens = _bootloader.running_tokens()
        plan.running = _bootloader.groups_present(groups, running_tokens)
        removed = [t for t in plan.prev_params if t not in plan.params and boot_changed]
        self.reboot_required = (bool(groups) and not plan.running) or any(t in running_tokens for t in removed)

    def apply_present(self, plan):
        """Files and boot loader first (each original recorded), then the runtime writes, read back."""
        plan.tmpfiles.apply(self.module, self.ledger, OWNER)
        for b in plan.boot:
            b.apply(self.ledger, OWNER)
        if plan.params:
            self.ledger.set_extra(OWNER, 'cmdline', {'method': plan.method, 'params': plan.params,
                                                     'file': self.p['cmdline_file'] if plan.method == 'file' else None},
                                  overwrite=True)
        elif plan.prev_params:
            self.ledger.forget_extra(OWNER)
        moved = False
        for w in plan.writes:
            before = w.entry['before']
            self.ledger.remember_runtime(w.path, None if before is None else str(before), OWNER)
            w.entry['runtime_skipped'] = self.write(w.path, w.value)
            if w.thp:
                w.entry['after'] = _hugepages.thp_current(w.thp)
                moved = moved or w.entry['after'] != before
            else:
                w.entry['allocated'] = _hugepages.read_count(w.path)
                moved = moved or w.entry['allocated'] != before
        self.changed = plan.files_changed or moved
        self.ledger.save()

    def shortfalls(self, plan):
        """Runtime pools just read back, boot pools once the host runs with them: a shortfall warns, or is a
        failure (returned) below min_count."""
        failures = []
        for pool, entry in zip(plan.pools, plan.results):
            if (entry['runtime_skipped'] and not pool['boot']) or (pool['boot'] and not plan.running) \
                    or entry['allocated'] is None:
                continue
            entry['shortfall'] = max(0, pool['count'] - entry['allocated'])
            if not entry['shortfall']:
                continue
            where = 'total' if pool['node'] is None else 'node %d' % pool['node']
            text = ('%s pool (%s): the kernel allocated %d of %d pages, %d short'
                    % (pool['size'], where, entry['allocated'], pool['count'], entry['shortfall']))
            if pool['min_count'] is not None and entry['allocated'] < pool['min_count']:
                failures.append('%s, below min_count %d' % (text, pool['min_count']))
            else:
                self.module.warn(text + ' (memory too fragmented? reserve it at boot with boot: true).')
        return failures

    def present(self):
        plan = Plan(self.validate())
        self.plan_thp(plan)
        self.plan_pools(plan)
        self.refuse_readonly(plan.readonly, 'the settings are persisted for the next boot')
        self.plan_files(plan)
        if not self.check:
            self.apply_present(plan)
        failures = self.shortfalls(plan)
        cmdline = {'params': plan.params,
                   'configured': all(b.configured() for b in plan.boot) if plan.boot else True,
                   'running': plan.running,
                   'method': plan.method}
        result = dict(changed=self.changed, thp=plan.thp, pools=plan.results, cmdline=cmdline,
                      reboot_required=self.reboot_required)
        if failures:
            self.fail('; '.join(failures) + '. Free memory (drop caches, compact) or reserve the pool at boot.',
                      **result)
        return result

    # -- state=absent -------------------------------------------------------------
    def plan_absent_files(self):
        """The recorded files put back; our tmpfiles.d file and GRUB drop-in, when the ledger does not know them,
        removed only when our header says we wrote them (_change.absent_file). A GRUB drop-in that changes
        needs a tool to regenerate grub.cfg: returns (files, GrubD or None)."""
        files = [_change.RecordedFile(self.ledger, path) for path in self.ledger.files_of(OWNER)]
        files += [_change.absent_file(self.ledger, path, OWNER)
                  for path in (_hugepages.TMPFILES_PATH, _bootloader.GRUB_D_PATH)
                  if path not in self.ledger.files and _host.exists(path)]
        regen = None
        for f in files:
            if not f.changed:
                continue
            self.changed = True
            self.diffs.append(f.diff())
            if f.path == _bootloader.GRUB_D_PATH:
                regen = _bootloader.GrubD(self.module)
                if regen.regenerate_argv() is None:
                    self.fail('removing %s needs update-grub or grub-mkconfig to regenerate the GRUB '
                              'configuration, and neither was found' % f.path)
        return files, regen

    def plan_kernel_args(self, record):
        """The parameters grubby added, removed as revert removes them (_restore.KernelArgs); their diff."""
        if record.get('method') == 'grubby' and record.get('params') and self.module.get_bin_path('grubby') is None:
            # fail as this module always did ("grubby was not found"); revert keeps the record and warns instead
            _bootloader.Grubby(self.module).info()
        policy = _change.RuntimePolicy(self.module, self.p['runtime'])
        restoration = _restore.Restoration(self.module, self.ledger, policy)
        owner, key = _change.KERNEL_ARGS
        kernel_args = _restore.KernelArgs(owner, key, record)
        kernel_args.plan(restoration)
        self.changed = self.changed or restoration.changed
        self.diffs.extend(restoration.diffs)
        return restoration, kernel_args

    def plan_runtime_restores(self):
        """The recorded runtime values (per-node pools first), each put back unless right already or skipped."""
        restores, readonly = [], []
        paths = sorted(self.ledger.runtime_of(OWNER), key=_change.restore_order)
        for path in paths:
            original = self.ledger.original_value(path)
            current = _host.read_selected(path)
            entry = {'path': path, 'before': current, 'after': current, 'runtime_skipped': None}
            restores.append(entry)
            if current is None or current == original:
                continue
            entry['runtime_skipped'] = self.blocked(path, readonly)
            if not entry['runtime_skipped']:
                entry['after'] = original
                self.changed = True
        self.refuse_readonly(readonly, 'the originals stay in the ledger to restore on a writable host', 'restore',
                             'Use runtime=best_effort or skip to leave the runtime values as they are.')
        return restores

    def restore_runtime(self, restores):
        for e in restores:
            if e['runtime_skipped']:
                continue
            try:
                self.ledger.restore_runtime(e['path'])
            except _host.RuntimeWriteError as err:
                self.policy('the original stays in the ledger', 'restore', fix='What was restored before is '
                            'done.').skip('restoring %s failed: %s' % (e['path'], err))
                e['runtime_skipped'] = 'write failed: %s' % err
            e['after'] = _host.read_selected(e['path'])

    def apply_absent(self, files, regen, kernel_args, restoration, restores):
        """Files, grub.cfg, the grubby parameters, the ledger's extra records, then the runtime values."""
        for f in files:
            _change.restore_file(self.module, self.ledger, f)
        if regen is not None:
            regen.regen = regen.regenerate_argv()
            rc, out, err = regen.regenerate()
            if rc != 0:
                self.fail('%s failed (rc=%d): %s' % (' '.join(regen.regen), rc, (err or out).strip()),
                          rc=rc, stdout=out, stderr=err)
        kernel_args.apply(restoration)
        self.ledger.forget_extra(OWNER)
        self.restore_runtime(restores)
        self.ledger.save()

    def absent(self):
        thp = dict((name, {'before': _hugepages.thp_current(name), 'after': _hugepages.thp_current(name),
                           'runtime_skipped': None}) for name in _hugepages.THP_SETTINGS)
        record = self.ledger.get_extra(OWNER, 'cmdline') or {}
        files, regen = self.plan_absent_files()
        restoration, kernel_args = self.plan_kernel_args(record)
        restores = self.plan_runtime_restores()
        removing = any(f.changed and f.path in (_bootloader.GRUB_D_PATH, record.get('file')) for f in files)
        removing = removing or kernel_args.grubby is not None
        running_tokens = _bootloader.running_tokens()
        self.reboot_required = removing and any(t in running_tokens for t in record.get('params') or [])
        if not self.check:
            self.apply_absent(files, regen, kernel_args, restoration, restores)
        for e in restores:
            for name in _hugepages.THP_SETTINGS:
                if e['path'] == _hugepages.thp_path(name):
                    thp[name] = {'before': e['before'], 'after': e['after'], 'runtime_skipped': e['runtime_skipped']}
        cmdline = {'params': [], 'configured': True, 'running': not self.reboot_required,
                   'method': record.get('method')}
        return dict(changed=self.changed, thp=thp, pools=[], restored=restores, cmdline=cmdline,
                    reboot_required=self.reboot_required)

    def run(self):
        result = self.present() if self.p['state'] == 'present' else self.absent()
        if self.module._diff:
            result['diff'] = self.diffs
        return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            thp_enabled=dict(type='str', choices=['always', 'madvise', 'never']),
            thp_defrag=dict(type='str', choices=['always', 'defer', 'defer+madvise', 'madvise', 'never']),
            pools=dict(type='list', elements='dict', default=[], options=dict(
                size=dict(type='str', required=True, choices=['2M', '1G']),
                count=dict(type='int', required=True),
                node=dict(type='int'),
                min_count=dict(type='int'),
                boot=dict(type='bool'),
            )),
            default_size=dict(type='str', choices=['2M', '1G']),
            cmdline_method=dict(type='str', default='auto', choices=['auto', 'grub_d', 'grubby', 'file']),
            cmdline_file=dict(type='path', default='/etc/inference-host-tuning/cmdline'),
            state=dict(type='str', default='present', choices=['present', 'absent']),
            runtime=dict(type='str', default='best_effort', choices=list(_change.RUNTIME_CHOICES_SKIP)),
            force=dict(type='bool', default=False),
        ),
        supports_check_mode=True,
    )
    with _files.refusals(module):
        _change.record_request(module, OWNER, _change.pick(module.params, ('thp_enabled', 'thp_defrag', 'pools')),
                               present=module.params['state'] == 'present')
        module.exit_json(**HugePages(module).run())


if __name__ == '__main__':
    main()
