#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: numa_bind
short_description: Bind a systemd service's CPUs and memory to the NUMA node(s) of its accelerators
version_added: 0.1.0
description:
  - Reads the host's NUMA topology from sysfs (nodes, their CPUs, the online CPUs, a PCI device's node)
    and places a serving process next to its GPUs, NPU or NIC.
  - Writes the drop-in C(/etc/systemd/system/UNIT.d/90-inference-numa.conf) with C(CPUAffinity=),
    C(NUMAPolicy=) and C(NUMAMask=) (systemd 243 or later).
  - On older systemd, which lacks C(NUMAPolicy=), the drop-in keeps C(CPUAffinity=) and replaces
    C(ExecStart=) by the same command run under C(numactl) (C(--membind), C(--preferred) or C(--interleave)).
    That needs the service's command, from O(exec_start) or read with C(systemctl show -p ExecStart).
  - Runs C(systemctl daemon-reload) when the drop-in changed (never in check mode) and restarts the service
    only with O(restart=true).
  - Validates everything (unit name, nodes, CPUs, GPUs, devices) before it writes anything.
  - Records the drop-in's previous state in the restore ledger; O(state=absent) restores it exactly.
author:
  - inference.host_tuning contributors (@inference-host-tuning)
options:
  unit:
    description:
      - The systemd service to place, for example V(vllm.service).
    type: str
    required: true
  state:
    description:
      - V(present) writes the drop-in; V(absent) restores what this module changed for O(unit).
    type: str
    choices: [present, absent]
    default: present
  node:
    description:
      - The NUMA node(s) to use, given explicitly.
      - Mutually exclusive with O(gpu) and O(pci_device).
    type: list
    elements: int
  gpu:
    description:
      - The GPU(s) the service uses, by index, UUID (C(GPU-...)) or PCI bus id; a list for tensor parallelism.
      - Without O(gpu_numa_map), indexes are the NVIDIA PCI devices (vendor 0x10de, display class) sorted by
        bus id. That is NVML's order, and CUDA's only with C(CUDA_DEVICE_ORDER=PCI_BUS_ID); CUDA's default
        order (fastest first) can differ, and C(CUDA_VISIBLE_DEVICES) renumbers what the process sees.
        UUIDs need O(gpu_numa_map).
    type: list
    elements: str
  gpu_numa_map:
    description:
      - GPU to NUMA node map. When given, O(gpu) is resolved through it.
      - A dictionary of index, UUID or bus id to node, such as RV(inference.host_tuning.nvidia_gpu_info#module:numa_map);
        values may also be dictionaries with C(numa_node) and optionally C(index), C(uuid) and C(pci_bus_id),
        each of which O(gpu) may name.
      - Or a list of such dictionaries, such as RV(inference.host_tuning.nvidia_gpu_info#module:gpus) (which
        lets O(gpu) name UUIDs).
      - A GPU the map knows without a node (V(null), V(-1)) is looked up in sysfs by its bus id or index.
    type: raw
  pci_device:
    description:
      - A PCI device (C(0000:3b:00.0)) or network interface name (C(ens1f0)) whose node to use, for example
        an NPU or a NIC.
      - A device whose C(numa_node) is V(-1) (firmware did not say) falls back to node 0 on a single-node
        host, else to the one node holding all of the device's C(local_cpulist); otherwise the module fails
        and asks for O(node).
    type: str
  cpus:
    description:
      - The CPUs for C(CPUAffinity=) as a CPU list (V(0-15,32-47)), instead of all CPUs of the node(s).
      - Every CPU must be online. Without O(node), O(gpu) or O(pci_device) the memory node(s) are the nodes
        of these CPUs.
      - The way to bind a memory-only node (a node without CPUs, for example CXL memory) is O(node) naming it and
        O(cpus) giving the CPUs.
    type: str
  reserve_cpus:
    description:
      - CPUs kept out of C(CPUAffinity=) for housekeeping (interrupts, system services).
      - A number V(N) keeps the first N CPUs of each chosen node free; a CPU list keeps exactly those CPUs free.
      - Mutually exclusive with O(cpus).
    type: str
  policy:
    description:
      - The memory policy. V(bind) allocates only on the node(s) (the process gets out-of-memory errors
        rather than using a remote node); V(preferred) prefers one node and falls back to others;
        V(interleave) spreads pages round-robin over the nodes.
      - Defaults to V(bind) for one node and V(interleave) when the selection spans several nodes.
      - V(preferred) takes exactly one node.
    type: str
    choices: [bind, preferred, interleave]
  multi_node:
    description:
      - What to do when the selection spans several nodes, for example tensor parallelism over GPUs on both
        sockets (O(gpu=[0, 4])).
      - V(interleave) binds the CPUs to the union of the nodes' CPUs and (unless O(policy) says otherwise)
        interleaves memory over those nodes.
      - V(first) uses only the node of the first GPU or node given.
      - V(fail) fails.
    type: str
    choices: [interleave, first, fail]
    default: interleave
  exec_start:
    description:
      - The service's command line, used only on systemd older than 243 for the C(numactl)-wrapped
        C(ExecStart=).
      - When omitted there, it is read with C(systemctl show -p ExecStart), which loses the quoting of
        arguments that contain spaces; give it explicitly then.
    type: str
  restart:
    description:
      - Restart the service (C(systemctl try-restart), so only when it runs) after the drop-in changed.
      - The roles restart through their handlers, so the default is not to.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    details: Reads topology and systemd's version, computes the drop-in and the diff, writes nothing.
  diff_mode:
    support: full
    details: Returns the file diff, in check mode too.
  platform:
    support: full
    details: Linux with sysfs; the service is managed by systemd.
  idempotent:
    support: full
extends_documentation_fragment:
  - inference.host_tuning.attributes
  - inference.host_tuning.attributes.recorded
notes:
  - NIC interrupt affinity is not handled by this module.
  - The drop-in is read by systemd at the next start of the service; with O(restart=false) the role's
    handler restarts it.
seealso:
  - module: inference.host_tuning.allocator_preload
  - name: systemd.exec(5), CPUAffinity and NUMAPolicy
    description: The systemd settings this module writes.
    link: https://www.freedesktop.org/software/systemd/man/latest/systemd.exec.html
'''

EXAMPLES = r'''
- name: Place vLLM next to GPU 0, keep two CPUs per node for housekeeping
  inference.host_tuning.numa_bind:
    unit: vllm.service
    gpu: [0]
    reserve_cpus: "2"

- name: Tensor parallel over GPUs on both sockets (CPUs of both nodes, memory interleaved)
  inference.host_tuning.numa_bind:
    unit: vllm.service
    gpu: [0, 4]

- name: Read the GPUs through NVML
  inference.host_tuning.nvidia_gpu_info:
  register: gpu_info

- name: Place by GPU UUID, through NVML's view of the GPUs
  inference.host_tuning.numa_bind:
    unit: vllm.service
    gpu: ["GPU-5e8b8a4e-0c3e-4f7d-9b1d-1f2a3b4c5d6e"]
    gpu_numa_map: "{{ gpu_info.gpus }}"

- name: Place a service next to the NPU at 0000:c1:00.0, memory preferred there
  inference.host_tuning.numa_bind:
    unit: mindie.service
    pci_device: "0000:c1:00.0"
    policy: preferred

- name: Remove the placement
  inference.host_tuning.numa_bind:
    unit: vllm.service
    state: absent
'''

RETURN = r'''
dropin:
  description: The drop-in path.
  returned: always
  type: str
  sample: /etc/systemd/system/vllm.service.d/90-inference-numa.conf
topology:
  description: The NUMA nodes found, with their online CPUs (an empty list for a memory-only node).
  returned: when O(state=present)
  type: dict
  sample: {"0": {"cpus": [0, 1, 2, 3], "cpulist": "0-3"}, "1": {"cpus": [4, 5, 6, 7], "cpulist": "4-7"}}
node:
  description: The chosen node (the first of RV(nodes)).
  returned: when O(state=present)
  type: int
  sample: 0
nodes:
  description: All nodes in the memory policy's mask.
  returned: when O(state=present)
  type: list
  elements: int
  sample: [0, 1]
cpus:
  description: The CPU list written to C(CPUAffinity=).
  returned: when O(state=present)
  type: str
  sample: 2-15
policy:
  description: The memory policy used.
  returned: when O(state=present)
  type: str
  sample: bind
method:
  description: V(systemd) (C(NUMAPolicy=)/C(NUMAMask=)) or V(numactl) (wrapped C(ExecStart=), systemd before 243).
  returned: when O(state=present)
  type: str
  sample: systemd
systemd_version:
  description: systemd's version; 0 when systemctl is not available (then systemd 243 or later is assumed).
  returned: when O(state=present)
  type: int
  sample: 252
daemon_reloaded:
  description: Whether C(systemctl daemon-reload) ran.
  returned: always
  type: bool
  sample: true
restarted:
  description: Whether the service was restarted.
  returned: always
  type: bool
  sample: false
'''

import os
import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.inference.host_tuning.plugins.module_utils import _change
from ansible_collections.inference.host_tuning.plugins.module_utils import _files
from ansible_collections.inference.host_tuning.plugins.module_utils import _formats
from ansible_collections.inference.host_tuning.plugins.module_utils import _host
from ansible_collections.inference.host_tuning.plugins.module_utils import _ledger
from ansible_collections.inference.host_tuning.plugins.module_utils import _systemd
from ansible_collections.inference.host_tuning.plugins.module_utils import _topology

OWNER = 'numa_bind'
DROPIN = '90-inference-numa'
MIN_NUMA_SYSTEMD = 243
ORIGINAL_MARK = '# ExecStart before numa_bind: '


class Placement(object):
    """The nodes, CPUs and memory policy computed from the module's options."""

    def __init__(self, module, topo):
        self.module = module
        self.topo = topo
        p = module.params
        try:
            nodes = self._nodes(p)
        except _topology.TopologyError as e:
            module.fail_json(msg='Nothing was changed: %s: %s' % (self._option(p), e))
        if len(nodes) > 1:
            if p['multi_node'] == 'fail':
                module.fail_json(msg='The selection spans NUMA nodes %s and multi_node=fail; choose GPUs on one '
                                     'node, or set multi_node to interleave or first' % (nodes,))
            if p['multi_node'] == 'first':
                nodes = nodes[:1]
        self.nodes = nodes
        self.cpus = self._cpus(p, nodes)
        policy = p['policy'] or ('bind' if len(nodes) == 1 else 'interleave')
        if policy == 'preferred' and len(nodes) != 1:
            module.fail_json(msg='policy=preferred takes exactly one node, the selection has %s; use bind or '
                                 'interleave, or multi_node=first' % (nodes,))
        self.policy = policy

    @staticmethod
    def _option(p):
        """The option the NUMA nodes come from, for messages."""
        if p['node']:
            return 'node'
        if p['gpu']:
            return 'gpu_numa_map' if p['gpu_numa_map'] else 'gpu'
        return 'pci_device' if p['pci_device'] else 'cpus'

    def _nodes(self, p):
        topo = self.topo
        if p['node']:
            nodes = _unique(p['node'])
            topo.check_nodes(nodes)
            return nodes
        if p['gpu']:
            return _unique(topo.gpu_node(g, p['gpu_numa_map']) for g in p['gpu'])
        if p['pci_device']:
            return [topo.pci_node(p['pci_device'])]
        return topo.nodes_of_cpus(self._explicit_cpus(p['cpus']))

    def _explicit_cpus(self, text):
        try:
            cpus = _topology.parse_cpulist(text, _topology.highest_possible_cpu())
        except ValueError as e:
            self.module.fail_json(msg='cpus=%r is not a CPU list: %s' % (text, e))
        if not cpus:
            self.module.fail_json(msg='cpus is empty; give a CPU list such as 0-15,32-47')
        try:
            self.topo.check_cpus(cpus)
        except _topology.TopologyError as e:
            self.module.fail_json(msg='cpus=%s: %s' % (text, e))
        return cpus

    def _cpus(self, p, nodes):
        topo = self.topo
        if p['cpus']:
            return self._explicit_cpus(p['cpus'])
        cpus = topo.cpus_of(nodes)
        if not cpus:
            self.module.fail_json(
                msg='NUMA node(s) %s have no CPUs (memory-only nodes, for example CXL or HBM memory): '
                    'CPUAffinity cannot come from them; give cpus explicitly, or choose a node with CPUs'
                    % (nodes,))
        reserve = (p['reserve_cpus'] or '').strip()
        if not reserve:
            return cpus
        if reserve.isdigit():
            count = int(reserve)
            kept = []
            for n in nodes:
                node_cpus = topo.nodes[n]
                if node_cpus and count >= len(node_cpus):
                    self.module.fail_json(msg='reserve_cpus=%d leaves no CPUs on node %d (it has %d)'
                                              % (count, n, len(node_cpus)))
                kept.extend(node_cpus[count:])
            return sorted(kept)
        try:
            reserved = _topology.parse_cpulist(reserve, _topology.highest_possible_cpu())
            topo.check_cpus(reserved)
        except (ValueError, _topology.TopologyError) as e:
            self.module.fail_json(msg='reserve_cpus=%r: %s; give a number of CPUs per node or a CPU list'
                                      % (reserve, e))
        kept = sorted(set(cpus) - set(reserved))
        if not kept:
            self.module.fail_json(msg='reserve_cpus=%s leaves none of the CPUs of node(s) %s (%s)'
                                      % (reserve, nodes, _topology.format_cpulist(cpus)))
        return kept


def _unique(items):
    out = []
    for i in items:
        if i not in out:
            out.append(i)
    return out


def _numactl_args(policy, nodes):
    mask = _topology.format_cpulist(nodes)
    return {'bind': '--membind=', 'preferred': '--preferred=', 'interleave': '--interleave='}[policy] + mask


def _parse_exec_start(value):
    """The argv of ``systemctl show -p ExecStart`` output (``{ path=... ; argv[]=... ; ... }``)."""
    commands = re.findall(r'argv\[\]=(.*?) ; ', value or '')
    return commands


def original_exec_start(module, systemctl, unit, path):
    if module.params['exec_start']:
        return module.params['exec_start']
    for line in (_host.read_text_file(path) or '').splitlines():
        if line.startswith(ORIGINAL_MARK):
            return line[len(ORIGINAL_MARK):]
    commands = _parse_exec_start(systemctl.show(unit, 'ExecStart').get('ExecStart')) if systemctl.bin else []
    if len(commands) != 1:
        module.fail_json(msg='systemd on this host is older than %d (no NUMAPolicy=), so the drop-in must wrap '
                             'ExecStart in numactl, and the command of %s could not be read (%d ExecStart '
                             'found); give exec_start' % (MIN_NUMA_SYSTEMD, unit, len(commands)))
    return commands[0]


def render(module, placement, method, systemctl, unit, path):
    cpulist = _topology.format_cpulist(placement.cpus)
    mask = _topology.format_cpulist(placement.nodes)
    # Empty assignments first: systemd merges CPUAffinity=/NUMAMask= lines, an empty one resets.
    items = [('CPUAffinity', ''), ('CPUAffinity', cpulist)]
    if method == 'systemd':
        items += [('NUMAPolicy', placement.policy), ('NUMAMask', ''), ('NUMAMask', mask)]
        return _systemd.render_section('Service', items, _files.header(OWNER))
    numactl = module.get_bin_path('numactl')
    if numactl is None:
        module.fail_json(msg='systemd on this host is older than %d (no NUMAPolicy=) and numactl was not found; '
                             'install numactl (package numactl) or upgrade systemd' % MIN_NUMA_SYSTEMD)
    command = original_exec_start(module, systemctl, unit, path)
    # The command is systemd command-line text already (the unit's own ExecStart, or exec_start given
    # in that syntax): it goes in as it is, after the unit writer has checked it is one clean line.
    items += [('ExecStart', ''),
              ('ExecStart', _formats.Verbatim('%s %s %s' % (numactl, _numactl_args(placement.policy, placement.nodes),
                                                            command)))]
    header = _files.header(OWNER) + ORIGINAL_MARK + command + '\n'
    return _systemd.render_section('Service', items, header)


def reload_and_restart(module, systemctl, unit, restart):
    reloaded = restarted = False
    if systemctl.bin is not None and _systemd.booted(module):
        systemctl.daemon_reload()
        reloaded = True
        if restart:
            systemctl.run('try-restart', unit)
            restarted = True
    return reloaded, restarted


def present(module, unit, path):
    topo = _topology.Topology()
    placement = Placement(module, topo)
    systemctl = _systemd.Systemctl(module)
    version = systemctl.version() if systemctl.bin else 0
    method = 'systemd' if version == 0 or version >= MIN_NUMA_SYSTEMD else 'numactl'
    content = render(module, placement, method, systemctl, unit, path)
    mf = _files.ManagedFile(path, content)
    result = dict(changed=mf.changed, unit=unit, state='present', dropin=path, topology=topo.as_dict(),
                  node=placement.nodes[0], nodes=placement.nodes,
                  cpus=_topology.format_cpulist(placement.cpus), policy=placement.policy,
                  method=method, systemd_version=version, daemon_reloaded=False, restarted=False)
    if _change.write_file(module, mf, OWNER, result):
        result['daemon_reloaded'], result['restarted'] = reload_and_restart(
            module, systemctl, unit, module.params['restart'])
    module.exit_json(**result)


def absent(module, unit, path):
    ledger = _ledger.Ledger(module)
    plan = _change.absent_file(ledger, path, OWNER)     # ours without a record (a lost ledger) goes too
    result = dict(changed=plan.changed, unit=unit, state='absent', dropin=path, daemon_reloaded=False,
                  restarted=False)
    if module._diff:
        result['diff'] = plan.diff()
    if not module.check_mode and (plan.changed or plan.recorded):
        _change.restore_file(module, ledger, plan)      # a record already right is dropped as well
        ledger.save()
        if plan.changed:
            _remove_empty_dir(path)
            result['daemon_reloaded'], result['restarted'] = reload_and_restart(
                module, _systemd.Systemctl(module), unit, module.params['restart'])
    module.exit_json(**result)


def _remove_empty_dir(path):
    directory = _host.host_path(path.rsplit('/', 1)[0])
    try:
        if os.path.isdir(directory) and not os.listdir(directory):
            os.rmdir(directory)
    except OSError:
        pass


def gpu_map(module, value):
    """gpu_numa_map as a dictionary (a list of GPU entries is keyed by their index)."""
    if value is None or isinstance(value, dict):
        return value
    if isinstance(value, list) and all(isinstance(e, dict) for e in value):
        return dict((str(e.get('index', i)), e) for i, e in enumerate(value))
    module.fail_json(msg='gpu_numa_map must be a dictionary (GPU -> node) or a list of GPU dictionaries '
                         '(with numa_node), not %s' % type(value).__name__)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            unit=dict(type='str', required=True),
            state=dict(type='str', choices=['present', 'absent'], default='present'),
            node=dict(type='list', elements='int'),
            gpu=dict(type='list', elements='str'),
            gpu_numa_map=dict(type='raw'),
            pci_device=dict(type='str'),
            cpus=dict(type='str'),
            reserve_cpus=dict(type='str'),
            policy=dict(type='str', choices=['bind', 'preferred', 'interleave']),
            multi_node=dict(type='str', choices=['interleave', 'first', 'fail'], default='interleave'),
            exec_start=dict(type='str'),
            restart=dict(type='bool', default=False),
        ),
        mutually_exclusive=[('node', 'gpu', 'pci_device'), ('cpus', 'reserve_cpus')],
        required_if=[('state', 'present', ('node', 'gpu', 'pci_device', 'cpus'), True)],
        supports_check_mode=True,
    )
    with _files.refusals(module):
        module.params['gpu_numa_map'] = gpu_map(module, module.params['gpu_numa_map'])
        unit = module.params['unit']
        err = _systemd.unit_error(unit)
        if err:
            module.fail_json(msg=err)
        path = _systemd.dropin_path(unit, DROPIN)
        _change.record_request(module, OWNER, {'unit': unit}, unit, module.params['state'] == 'present')
        if module.params['state'] == 'absent':
            absent(module, unit, path)
        present(module, unit, path)


if __name__ == '__main__':
    main()
