# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Accelerator detection: NVIDIA GPUs, Huawei Ascend NPUs and Google TPUs.

Everything is read through ``_host`` (so unit tests use a fake PCI tree) and
commands run through ``module.run_command`` with argv lists.

* NVIDIA: NVML (``_nvml``) when ``pynvml`` imports and ``libnvidia-ml.so.1``
  loads; otherwise PCI vendor 0x10de with a display class.
* Ascend: ``/dev/davinciN`` character devices (``davinci_manager`` and
  ``devmm_svm`` are control devices, not NPUs), ``npu-smi info -l`` for the
  NPU ids and chip counts where the tool is installed, and PCI vendor 0x19e5
  (processing accelerator class 0x12 or a known Ascend device id) for the
  NUMA node.
* TPU: PCI vendor 0x1ae0 with a TPU device id (Google's other PCI functions,
  gVNIC and NVMe, are left out) and ``/dev/accelN`` (v2-v4) or
  ``/dev/vfio/N`` (v5e and later, N is the device's IOMMU group).

Every accelerator is a dict ``{kind, index, id, model, numa_node, pci_bus_id, source}``.

``detect()`` takes ``sysfs_root`` and ``devfs_root`` (default ``/sys`` and
``/dev``): the PCI tree and the device files are read there instead, so a
container (whose real /sys is the host's, read-only) can be given a fake PCI
tree.  They are used for accelerator detection only.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import re

from ansible_collections.inference.host_tuning.plugins.module_utils import _host
from ansible_collections.inference.host_tuning.plugins.module_utils import _nvml
from ansible_collections.inference.host_tuning.plugins.module_utils import _topology

KINDS = ('nvidia', 'ascend', 'tpu')
PCI_DIR = _topology.PCI_DIR
SYSFS = '/sys'
DEVFS = '/dev'
NVIDIA_VENDOR = _topology.NVIDIA_VENDOR
HUAWEI_VENDOR = '0x19e5'
GOOGLE_VENDOR = '0x1ae0'

#: PCI class 0x12xxxx: processing accelerators.
ACCELERATOR_CLASS = '0x12'

#: Ascend device ids (vendor 0x19e5) whose model is known.
ASCEND_MODELS = {
    '0xd100': 'Ascend 310',
    '0xd500': 'Ascend 310P',
    '0xd801': 'Ascend 910',
    '0xd802': 'Ascend 910B',
}

#: TPU device ids (vendor 0x1ae0); 0x0027 is v2 or v3, told apart by subsystem_device.
TPU_MODELS = {
    '0x005e': 'TPU v4',
    '0x0062': 'TPU v5p',
    '0x0063': 'TPU v5e',
    '0x006f': 'TPU v6e',
    '0x0076': 'TPU7x',
}
TPU_V2_V3 = '0x0027'
TPU_V2_V3_SUBSYSTEMS = {'0x004e': 'TPU v2', '0x004f': 'TPU v3'}

_DAVINCI = re.compile(r'^davinci(\d+)\Z')
_ACCEL = re.compile(r'^accel(\d+)\Z')
_NUMBER = re.compile(r'^(\d+)\Z')


class _Roots(object):
    """Where detection reads sysfs and /dev (``detect()`` sets them for one call)."""
    sysfs = SYSFS
    devfs = DEVFS


_ROOTS = _Roots()


def _under(path, mount, root):
    if root in (None, '', mount) or not (path == mount or path.startswith(mount + '/')):
        return path
    return root.rstrip('/') + path[len(mount):]


def sys_path(path):
    """A /sys path under the sysfs root detection reads (``/sys`` on a real host)."""
    return _under(path, SYSFS, _ROOTS.sysfs)


def dev_path(path):
    """A /dev path under the devfs root detection reads (``/dev`` on a real host)."""
    return _under(path, DEVFS, _ROOTS.devfs)


def _entry(kind, index, ident, model=None, numa_node=None, pci_bus_id=None, source=None):
    return {'kind': kind, 'index': index, 'id': ident, 'model': model, 'numa_node': numa_node,
            'pci_bus_id': pci_bus_id, 'source': source}


# -- PCI -----------------------------------------------------------------------
def pci_numa_node(bdf):
    """A PCI device's NUMA node (under the sysfs root detection reads), None when unknown or unreadable."""
    return _topology.pci_numa_node(bdf, sys_path(PCI_DIR))


def pci_devices(vendor):
    """PCI functions of a vendor under the sysfs root detection reads, sorted by bus id."""
    return _topology.pci_devices(vendor, sys_path(PCI_DIR))


def _dev_numbers(directory, pattern):
    """Sorted numbers N of /dev entries matching ``pattern`` (a regex with one group)."""
    out = []
    for name in _host.listdir(dev_path(directory)):
        m = pattern.match(name)
        if m:
            out.append(int(m.group(1)))
    return sorted(out)


def _link_target_name(path):
    """Basename of a sysfs symlink's target, or None when it is not there."""
    full = _host.host_path(sys_path(path))
    if not os.path.lexists(full):
        return None
    return os.path.basename(os.path.realpath(full))


# -- NVIDIA --------------------------------------------------------------------
def nvidia_from_pci():
    """NVIDIA GPUs on PCI (vendor 0x10de, display class 0x03xxxx: not the audio function or NVSwitches)."""
    gpus = _topology.nvidia_gpus(sys_path(PCI_DIR))
    return [_entry('nvidia', i, bdf, None, pci_numa_node(bdf), bdf, 'pci') for i, bdf in enumerate(gpus)]


def nvidia_from_nvml(module):
    """(accelerators, None) through NVML, or (None, why NVML could not be used)."""
    if not _nvml.HAS_PYNVML:
        return None, 'pynvml (nvidia-ml-py) is not installed'
    try:
        _nvml.call('nvmlInit')
    except _nvml.NvmlError as e:
        return None, 'NVML could not be initialised: %s' % e
    except OSError as e:  # pragma: no cover - a broken library on disk
        return None, 'NVML could not be loaded: %s' % e
    session = _nvml.Session(module)
    try:
        out = []
        for gpu in session.gpus():
            bdf = _nvml.sysfs_bus_id(gpu.bus_parts) if gpu.bus_parts else None
            out.append(_entry('nvidia', gpu.index, bdf, gpu.name, gpu.numa_node(), bdf, 'nvml'))
        return out, None
    except _nvml.NvmlError as e:
        return None, 'NVML failed while listing GPUs: %s' % e
    finally:
        session.__exit__(None, None, None)


def nvidia(module, use_nvml='auto'):
    """(accelerators, notes): through NVML when possible, else from PCI."""
    notes = []
    if use_nvml == 'auto':
        gpus, why = nvidia_from_nvml(module)
        if gpus is not None:
            return gpus, notes
        notes.append('nvidia: %s; GPUs were read from PCI (vendor 0x10de) instead' % why)
    return nvidia_from_pci(), notes


# -- Ascend --------------------------------------------------------------------
def parse_npu_smi_list(text):
    """NPUs of ``npu-smi info -l``: ``[{npu_id, chip_count, name}]``.

    The output is blocks of ``Key : Value`` lines, one block per NPU starting at
    ``NPU ID``.  Unknown keys are ignored, a missing ``Chip Count`` is 1, and
    lines that are not ``Key : Value`` (banners, tables) are skipped.
    """
    npus = []
    current = None
    for line in (text or '').splitlines():
        key, sep, value = line.partition(':')
        if not sep:
            continue
        key = ' '.join(key.split()).lower()
        value = value.strip()
        if key == 'npu id':
            try:
                current = {'npu_id': int(value), 'chip_count': 1, 'name': None}
            except ValueError:
                current = None
                continue
            npus.append(current)
        elif current is None:
            continue
        elif key == 'chip count':
            try:
                current['chip_count'] = max(1, int(value))
            except ValueError:
                pass
        elif key in ('product name', 'name') and value:
            current['name'] = value
    return sorted(npus, key=lambda n: n['npu_id'])


def ascend_pci():
    """Ascend NPUs on PCI (vendor 0x19e5, accelerator class or a known device id)."""
    return [d for d in pci_devices(HUAWEI_VENDOR)
            if d['device'] in ASCEND_MODELS or d['class'].startswith(ACCELERATOR_CLASS)]


def npu_smi(module):
    """(npus, note): the parsed ``npu-smi info -l``; ([], note) when unavailable or failing."""
    tool = module.get_bin_path('npu-smi', opt_dirs=['/usr/local/sbin', '/usr/local/bin'])
    if tool is None:
        return [], None
    rc, out, err = module.run_command([tool, 'info', '-l'])
    if rc != 0:
        return [], 'ascend: npu-smi info -l failed (rc=%d): %s' % (rc, (err or out or '').strip())
    npus = parse_npu_smi_list(out)
    if not npus:
        return [], 'ascend: npu-smi info -l listed no NPU that could be parsed'
    return npus, None


def ascend(module):
    """(accelerators, notes).

    One entry per ``/dev/davinciN``; without device files (driver not loaded,
    or a container without them) one per Ascend PCI function.  The NUMA node
    comes from the PCI function in the same position (davinci devices and PCI
    functions both in order) when the counts agree, or from the only node all
    Ascend functions share; otherwise it is null.
    """
    notes = []
    davinci = _dev_numbers('/dev', _DAVINCI)
    pci = ascend_pci()
    npus, note = npu_smi(module)
    if note:
        notes.append(note)
    chips = []      # (npu_id, name) per chip, in npu-smi order
    for npu in npus:
        chips.extend([(npu['npu_id'], npu['name'])] * npu['chip_count'])

    nodes = set(pci_numa_node(d['bdf']) for d in pci)
    shared_node = nodes.pop() if len(nodes) == 1 else None
    out = []
    if davinci:
        for pos, n in enumerate(davinci):
            dev = pci[pos] if len(pci) == len(davinci) else None
            model = chips[pos][1] if len(chips) == len(davinci) and chips[pos][1] else None
            if model is None and dev is not None:
                model = ASCEND_MODELS.get(dev['device'])
            entry = _entry('ascend', n, '/dev/davinci%d' % n, model,
                           pci_numa_node(dev['bdf']) if dev else shared_node,
                           dev['bdf'] if dev else None, 'dev')
            if len(chips) == len(davinci):
                entry['npu_id'] = chips[pos][0]
            out.append(entry)
        if pci and len(pci) != len(davinci):
            notes.append('ascend: %d /dev/davinci devices but %d Ascend PCI functions; NUMA nodes are not '
                         'matched per device' % (len(davinci), len(pci)))
        if chips and len(chips) != len(davinci):
            notes.append('ascend: npu-smi lists %d chip(s) but there are %d /dev/davinci devices'
                         % (len(chips), len(davinci)))
    else:
        for pos, dev in enumerate(pci):
            out.append(_entry('ascend', pos, dev['bdf'], ASCEND_MODELS.get(dev['device']),
                              pci_numa_node(dev['bdf']), dev['bdf'], 'pci'))
        if pci:
            notes.append('ascend: Ascend PCI functions but no /dev/davinci devices (is the Ascend driver loaded?)')
    return out, notes


# -- Ascend health (npu-smi info -t health -i N) --------------------------------
#: Where a bare ``npu-smi`` is looked for besides PATH (as ``npu_smi()`` looks).
NPU_SMI_DIRS = ('/usr/local/sbin', '/usr/local/bin')
#: The health of an NPU whose ``Health Status`` npu-smi printed none of (or that npu-smi could not report).
HEALTH_UNREADABLE = 'unreadable'
HEALTH_OK = 'OK'
#: What npu-smi prints for "no error code" / "no error information".
NO_VALUE = 'NA'
# The first match of each (``Key : Value`` lines; white space before the colon may be spaces only).
_HEALTH_STATUS = re.compile(r'Health Status *: *([A-Za-z]+)')
_ERROR_CODE = re.compile(r'Error Code *: *([^ \r\n]+)')
_ERROR_INFORMATION = re.compile(r'Error Information *: *(.+)')


def _first(pattern, text):
    m = pattern.search(text)
    value = m.group(1).strip() if m else ''
    return value or None


def parse_npu_health(text):
    """The health of one NPU from ``npu-smi info -t health -i N``:
    ``{health, error_code, error_information, detail}``.

    ``health`` is the word after ``Health Status`` (``OK``, ``Warning``, ``Alarm``, ``Critical``...), or
    ``unreadable`` when there is none.  ``error_code`` and ``error_information`` are None where npu-smi
    prints ``NA`` or nothing.  ``detail`` is ``error code CODE: INFORMATION`` when there is an error code
    (``NA`` standing for missing information), else empty.
    """
    text = text or ''
    health = _first(_HEALTH_STATUS, text) or HEALTH_UNREADABLE
    code = _first(_ERROR_CODE, text)
    info = _first(_ERROR_INFORMATION, text)
    code = None if code == NO_VALUE else code
    info = None if info == NO_VALUE else info
    detail = 'error code %s: %s' % (code, info or NO_VALUE) if code else ''
    return {'health': health, 'error_code': code, 'error_information': info, 'detail': detail}


def npu_health_failed(argv, rc, out, err):
    """The health of an NPU that ``argv`` (npu-smi) could not report: exit status ``rc`` (or an errno)."""
    return {'health': HEALTH_UNREADABLE, 'error_code': None, 'error_information': None,
            'detail': '%s failed (rc=%s): %s' % (' '.join(argv), rc, (err or out or '').strip())}


# -- TPU -----------------------------------------------------------------------
def tpu_model(dev):
    if dev['device'] == TPU_V2_V3:
        return TPU_V2_V3_SUBSYSTEMS.get(dev['subsystem_device'], 'TPU v2/v3')
    return TPU_MODELS.get(dev['device'])


def tpu_pci():
    """Google TPU functions on PCI (a known TPU device id, or the accelerator class)."""
    return [d for d in pci_devices(GOOGLE_VENDOR)
            if d['device'] in TPU_MODELS or d['device'] == TPU_V2_V3 or d['class'].startswith(ACCELERATOR_CLASS)]


def _tpu_device_path(dev):
    """The /dev path of a TPU function: /dev/vfio/GROUP or /dev/accelN, from sysfs links."""
    group = _link_target_name('%s/%s/iommu_group' % (PCI_DIR, dev['entry']))
    if group and _NUMBER.match(group) and _host.exists(dev_path('/dev/vfio/%s' % group)):
        return '/dev/vfio/%s' % group
    for name in _host.listdir(sys_path('%s/%s/accel' % (PCI_DIR, dev['entry']))):
        if _ACCEL.match(name) and _host.exists(dev_path('/dev/%s' % name)):
            return '/dev/%s' % name
    return None


def tpu(module=None):
    """(accelerators, notes): TPUs from PCI, their device files where sysfs links them.

    A function whose /dev path cannot be found through its ``iommu_group`` or
    ``accel`` link gets the device file in the same position when the number of
    ``/dev/accelN`` (or else ``/dev/vfio/N``) files equals the number of TPUs;
    otherwise its id is the PCI bus id.  Without TPU PCI functions (a container
    hiding sysfs) the device files alone are listed.
    """
    notes = []
    pci = tpu_pci()
    accel = ['/dev/accel%d' % n for n in _dev_numbers('/dev', _ACCEL)]
    vfio = ['/dev/vfio/%d' % n for n in _dev_numbers('/dev/vfio', _NUMBER)]
    files = accel or vfio
    out = []
    if pci:
        for pos, dev in enumerate(pci):
            path = _tpu_device_path(dev)
            if path is None and len(files) == len(pci):
                path = files[pos]
            out.append(_entry('tpu', pos, path or dev['bdf'], tpu_model(dev), pci_numa_node(dev['bdf']),
                              dev['bdf'], 'pci'))
    else:
        for pos, path in enumerate(accel):
            out.append(_entry('tpu', pos, path, None, None, None, 'dev'))
        if vfio and not accel:
            notes.append('tpu: /dev/vfio groups but no Google TPU on PCI; VFIO groups alone are not '
                         'counted as TPUs')
    return out, notes


# -- all -----------------------------------------------------------------------
def detect(module, kinds=KINDS, use_nvml='auto', sysfs_root=SYSFS, devfs_root=DEVFS):
    """(accelerators, notes) for the kinds asked, NVIDIA first, then Ascend, then TPU.

    PCI functions are read under ``sysfs_root`` and device files under ``devfs_root``;
    the ids reported stay host paths (``/dev/davinci0``).
    """
    accelerators, notes = [], []
    _ROOTS.sysfs, _ROOTS.devfs = sysfs_root or SYSFS, devfs_root or DEVFS
    try:
        for kind in KINDS:
            if kind not in kinds:
                continue
            if kind == 'nvidia':
                found, more = nvidia(module, use_nvml)
            elif kind == 'ascend':
                found, more = ascend(module)
            else:
                found, more = tpu(module)
            accelerators.extend(found)
            notes.extend(more)
    finally:
        _ROOTS.sysfs, _ROOTS.devfs = SYSFS, DEVFS
    return accelerators, notes


def dominant_kind(accelerators):
    """The kind with the most devices (ties: nvidia, ascend, tpu order); ``none`` without any."""
    best, count = 'none', 0
    for kind in KINDS:
        n = len([a for a in accelerators if a['kind'] == kind])
        if n > count:
            best, count = kind, n
    return best
