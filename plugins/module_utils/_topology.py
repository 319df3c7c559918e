# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""NUMA and PCI topology: nodes and their CPUs, a PCI device's node, GPU -> node.

Everything is read from sysfs through ``_host`` so unit tests can use a fake tree:

* ``/sys/devices/system/cpu/online`` -- the online CPUs;
* ``/sys/devices/system/node/online`` and ``nodeN/cpulist`` -- NUMA nodes and
  their CPUs (a node with an empty cpulist is a memory-only node: CXL, HBM);
* ``/sys/bus/pci/devices/BDF/numa_node`` -- a device's node (``-1``: the
  firmware did not say) and ``local_cpulist`` (used as the fallback);
* ``/sys/class/net/NAME/device`` -- a network interface's PCI device.

GPU indexes found from sysfs are NVIDIA devices (vendor 0x10de, display class
0x03xxxx) sorted by PCI bus id.  That is NVML's order and, with
``CUDA_DEVICE_ORDER=PCI_BUS_ID``, CUDA's; CUDA's default order (fastest
first) can differ, and ``CUDA_VISIBLE_DEVICES`` renumbers what a process sees.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import re

from ansible_collections.inference.host_tuning.plugins.module_utils import _host

NODE_DIR = _host.NODE_DIR
CPU_ONLINE = '/sys/devices/system/cpu/online'
PCI_DIR = '/sys/bus/pci/devices'
NET_DIR = '/sys/class/net'

NVIDIA_VENDOR = '0x10de'

_RANGE = re.compile(r'^(\d+)(?:-(\d+)(?::(\d+)/(\d+))?)?\Z')
_BDF = re.compile(r'^(?:([0-9a-fA-F]{1,8}):)?([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2})\.([0-7])\Z')


class TopologyError(Exception):
    """Something asked of the topology that the host does not have."""


# -- cpulists ------------------------------------------------------------------
#: The kernel's largest NR_CPUS (x86-64 MAXSMP): no CPU number can be higher.
MAX_CPU = 8191


def highest_possible_cpu():
    """The highest CPU number this host can ever have (/sys/devices/system/cpu/possible), else MAX_CPU."""
    text = (_host.read_value('/sys/devices/system/cpu/possible') or '').strip()
    m = re.match(r'(?:\d+-)?(\d+)\Z', text.split(',')[-1]) if text else None
    return min(int(m.group(1)), MAX_CPU) if m else MAX_CPU


def parse_cpulist(text, highest=MAX_CPU):
    """``'0-3,8,10-15'`` -> ``[0, 1, 2, 3, 8, 10, ...]``; raises ValueError when malformed.

    The kernel's list format (cpuset(7)), including the ``0-31:2/4`` stride form.
    An empty string is an empty list.  Every number is checked against ``highest`` (MAX_CPU, or the
    host's ``highest_possible_cpu()`` for input from an option) before a range is expanded, so an
    absurd range fails at once instead of filling memory.
    """
    cpus = set()
    text = (text or '').strip()
    if not text:
        return []
    for part in text.split(','):
        part = part.strip()
        m = _RANGE.match(part)
        if not m:
            raise ValueError('%r is not a CPU list entry (use N, N-M or N-M:USED/GROUP)' % (part,))
        first = int(m.group(1))
        last = int(m.group(2)) if m.group(2) is not None else first
        if last < first:
            raise ValueError('%r: the range ends before it starts' % (part,))
        if last > highest:
            raise ValueError('%r: CPU %d is beyond the highest CPU this host can have (%d)' % (part, last, highest))
        used, group = (int(m.group(3)), int(m.group(4))) if m.group(3) else (1, 1)
        if group == 0 or used == 0 or used > group:
            raise ValueError('%r: the stride must be USED/GROUP with 0 < USED <= GROUP' % (part,))
        for base in range(first, last + 1, group):
            cpus.update(c for c in range(base, min(base + used, last + 1)))
    return sorted(cpus)


def format_cpulist(cpus):
    """``[0, 1, 2, 3, 8]`` -> ``'0-3,8'`` (the compact form sysfs and systemd use)."""
    out = []
    start = prev = None
    for c in sorted(set(cpus)):
        if start is None:
            start = prev = c
        elif c == prev + 1:
            prev = c
        else:
            out.append(_range_text(start, prev))
            start = prev = c
    if start is not None:
        out.append(_range_text(start, prev))
    return ','.join(out)


def _range_text(first, last):
    return str(first) if first == last else '%d-%d' % (first, last)


# -- PCI -----------------------------------------------------------------------
def parse_bdf(text):
    """(domain, bus, device, function) of ``17:00.0``, ``0000:17:00.0`` or ``00000000:17:00.0`` (NVML's form);
    None when the text is not a PCI address."""
    m = _BDF.match((text or '').strip())
    if not m:
        return None
    return (int(m.group(1) or '0', 16), int(m.group(2), 16), int(m.group(3), 16), int(m.group(4), 16))


def bdf_text(parts):
    """The kernel's form of a PCI address: ``0000:17:00.0`` (lower case, 4-digit domain)."""
    return '%04x:%02x:%02x.%x' % parts


def normalize_bdf(text):
    """``'17:00.0'``, ``'00000000:17:00.0'`` (NVML) or ``'0000:17:00.0'`` -> ``'0000:17:00.0'``.

    Returns None when the text is not a PCI address.
    """
    parts = parse_bdf(text)
    return None if parts is None else bdf_text(parts)


def netdev_bdf(name):
    """The PCI address behind a network interface name, or None (virtual devices)."""
    if not name or '/' in name or name in ('.', '..'):
        return None
    link = _host.host_path('%s/%s/device' % (NET_DIR, name))
    if not os.path.exists(link):
        return None
    return normalize_bdf(os.path.basename(os.path.realpath(link)))


def pci_exists(bdf):
    return _host.isdir('%s/%s' % (PCI_DIR, bdf))


def pci_raw_node(bdf, pci_dir=PCI_DIR):
    """The device's ``numa_node`` as an int (``-1`` when unknown), None when unreadable. ``pci_dir``: where the
    PCI devices are (a fake sysfs root's, for detection in tests)."""
    value = _host.read_value('%s/%s/numa_node' % (pci_dir, bdf))
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def pci_numa_node(bdf, pci_dir=PCI_DIR):
    """The device's NUMA node; None when unknown (``-1``) or unreadable."""
    node = pci_raw_node(bdf, pci_dir)
    return node if node is not None and node >= 0 else None


def node_mem_total_kib(node):
    """MemTotal in KiB of one NUMA node (``Node N MemTotal: X kB``); None when it cannot be read."""
    for line in (_host.read('%s/node%d/meminfo' % (NODE_DIR, node)) or '').splitlines():
        fields = line.replace(':', ' ').split()
        if 'MemTotal' in fields:
            i = fields.index('MemTotal')
            if i + 1 < len(fields) and fields[i + 1].isdigit():
                return int(fields[i + 1])
    return None


def pci_devices(vendor, pci_dir=PCI_DIR):
    """PCI functions of a vendor, sorted by bus id: ``{bdf, entry, device, class, subsystem_device}``."""
    found = []
    for entry in _host.listdir(pci_dir):
        bdf = normalize_bdf(entry)
        if bdf is None:
            continue
        base = '%s/%s' % (pci_dir, entry)
        if (_host.read_value(base + '/vendor') or '').lower() != vendor:
            continue
        found.append({
            'bdf': bdf,
            'entry': entry,
            'device': (_host.read_value(base + '/device') or '').lower(),
            'class': (_host.read_value(base + '/class') or '').lower(),
            'subsystem_device': (_host.read_value(base + '/subsystem_device') or '').lower(),
        })
    return sorted(found, key=lambda d: d['bdf'])


def nvidia_gpus(pci_dir=PCI_DIR):
    """Bus ids of the NVIDIA GPUs on PCI (vendor 0x10de, class 0x03xxxx: 0x0300 VGA, 0x0302 3D controller; not the
    HDMI audio function or NVSwitches), sorted (NVML's order)."""
    return [d['bdf'] for d in pci_devices(NVIDIA_VENDOR, pci_dir) if d['class'].startswith('0x03')]


# -- the host ------------------------------------------------------------------
class Topology(object):
    """A snapshot of the host's NUMA nodes, their CPUs and the online CPUs."""

    def __init__(self):
        self.online = self._online_cpus()
        self.nodes = self._nodes()

    @staticmethod
    def _online_cpus():
        text = _host.read_value(CPU_ONLINE)
        if text:
            try:
                return parse_cpulist(text)
            except ValueError:
                pass
        return list(range(os.cpu_count() or 1))

    def _nodes(self):
        ids = None
        online = _host.read_value(NODE_DIR + '/online')
        if online:
            try:
                ids = parse_cpulist(online)
            except ValueError:
                ids = None
        if ids is None:
            ids = sorted(int(e[4:]) for e in _host.listdir(NODE_DIR) if re.match(r'^node\d+\Z', e))
        nodes = {}
        for n in ids:
            text = _host.read_value('%s/node%d/cpulist' % (NODE_DIR, n))
            if text is None:
                continue
            try:
                cpus = [c for c in parse_cpulist(text) if c in self._online_set]
            except ValueError:
                cpus = []
            nodes[n] = cpus
        if not nodes:
            # A kernel without CONFIG_NUMA (or a container hiding /sys/devices/system/node):
            # one node holding every online CPU.
            nodes[0] = list(self.online)
        return nodes

    @property
    def _online_set(self):
        return set(self.online)

    def as_dict(self):
        """``{node: {'cpus': [...], 'cpulist': '...'}}`` (the modules' ``topology`` return)."""
        return dict((n, {'cpus': list(c), 'cpulist': format_cpulist(c)}) for n, c in sorted(self.nodes.items()))

    def node_of_cpu(self, cpu):
        for n, cpus in self.nodes.items():
            if cpu in cpus:
                return n
        return None

    def nodes_of_cpus(self, cpus):
        return sorted(set(n for n in (self.node_of_cpu(c) for c in cpus) if n is not None))

    def cpus_of(self, nodes):
        out = set()
        for n in nodes:
            out.update(self.nodes.get(n, []))
        return sorted(out)

    def check_cpus(self, cpus):
        """Raise TopologyError naming the CPUs that are not online."""
        missing = sorted(set(cpus) - self._online_set)
        if missing:
            raise TopologyError('CPU(s) %s do not exist or are offline; online CPUs are %s'
                                % (format_cpulist(missing), format_cpulist(self.online)))

    def check_nodes(self, nodes):
        missing = sorted(set(nodes) - set(self.nodes))
        if missing:
            raise TopologyError('NUMA node(s) %s do not exist; this host has node(s) %s'
                                % (', '.join(str(n) for n in missing),
                                   ', '.join(str(n) for n in sorted(self.nodes))))

    def pci_node(self, device):
        """The NUMA node of a PCI device (BDF) or network interface name.

        ``numa_node`` of ``-1`` means the firmware did not tell.  Fallback, in order:
        a single-node host -> node 0; the device's ``local_cpulist`` lies within
        exactly one node -> that node; otherwise TopologyError (give the node).
        """
        bdf = normalize_bdf(device)
        if bdf is None:
            bdf = netdev_bdf(device)
            if bdf is None:
                raise TopologyError('%r is neither a PCI address (0000:17:00.0) nor a network interface '
                                    'backed by a PCI device' % (device,))
        if not pci_exists(bdf):
            raise TopologyError('PCI device %s was not found under %s' % (bdf, PCI_DIR))
        node = pci_raw_node(bdf)
        if node is not None and node >= 0:
            if node not in self.nodes:
                raise TopologyError('PCI device %s reports NUMA node %d, which is not online' % (bdf, node))
            return node
        if len(self.nodes) == 1:
            return sorted(self.nodes)[0]
        local = _host.read_value('%s/%s/local_cpulist' % (PCI_DIR, bdf))
        try:
            local_nodes = self.nodes_of_cpus(parse_cpulist(local)) if local else []
        except ValueError:
            local_nodes = []
        if len(local_nodes) == 1:
            return local_nodes[0]
        raise TopologyError('PCI device %s does not report its NUMA node (numa_node is -1) and its '
                            'local_cpulist does not point to one node; give the node explicitly' % (bdf,))

    def gpu_node(self, ref, gpu_map=None):
        """The NUMA node of a GPU given by index, UUID or PCI bus id.

        With ``gpu_map`` (``{index|uuid|bus id: node}`` or ``{key: {numa_node: N,
        uuid: ..., pci_bus_id: ..., index: ...}}``, as exported by an NVML
        inventory) the map answers; a GPU it knows without a node (``null`` or
        ``-1``) is looked up in sysfs.  Without it, indexes are NVIDIA PCI devices
        in bus order and UUIDs cannot be resolved.
        """
        ref = str(ref).strip()
        if gpu_map:
            found, node, bdf = _lookup_gpu_map(ref, gpu_map)
            if not found:
                raise TopologyError('GPU %r is not in gpu_numa_map (it has %s)'
                                    % (ref, ', '.join(sorted(str(k) for k in gpu_map))))
            if node is not None and node >= 0:
                self.check_nodes([node])
                return node
            # the map knows the GPU but not its node (NVML reports none): ask sysfs
            if bdf is not None and pci_exists(bdf):
                return self.pci_node(bdf)
            if not re.match(r'^\d+\Z', ref) and normalize_bdf(ref) is None:
                raise TopologyError('gpu_numa_map has no NUMA node for GPU %r; give the node explicitly' % (ref,))
        gpus = nvidia_gpus()
        if re.match(r'^\d+\Z', ref):
            idx = int(ref)
            if idx >= len(gpus):
                raise TopologyError('GPU %d was not found: %d NVIDIA GPU(s) on PCI (indexes in bus order)'
                                    % (idx, len(gpus)))
            return self.pci_node(gpus[idx])
        bdf = normalize_bdf(ref)
        if bdf is not None:
            if not pci_exists(bdf):
                raise TopologyError('GPU %s was not found on PCI' % (bdf,))
            return self.pci_node(bdf)
        raise TopologyError('GPU %r: a UUID can only be resolved through gpu_numa_map (use an index or '
                            'a PCI bus id, or pass the map exported by the accelerator role)' % (ref,))


def _as_node(value):
    if isinstance(value, dict):
        value = value.get('numa_node', value.get('node'))
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _lookup_gpu_map(ref, gpu_map):
    """(found, node or None, bus id or None) of a GPU in the map."""
    wanted = set([ref, ref.lower()])
    if normalize_bdf(ref):
        wanted.add(normalize_bdf(ref))
    for key, value in gpu_map.items():
        keys = set([str(key), str(key).lower()])
        bdf = None
        if isinstance(value, dict):
            for alias in ('index', 'uuid', 'pci_bus_id', 'bus_id'):
                if value.get(alias) is not None:
                    keys.add(str(value[alias]))
                    keys.add(str(value[alias]).lower())
            bdf = normalize_bdf(str(value.get('pci_bus_id') or value.get('bus_id') or ''))
        keys.update(normalize_bdf(k) for k in list(keys) if normalize_bdf(k))
        bdf = bdf or normalize_bdf(str(key))
        if wanted & keys:
            return True, _as_node(value), bdf
    return False, None, None
