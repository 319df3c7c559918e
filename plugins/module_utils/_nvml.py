# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""NVIDIA GPUs through NVML (the ``pynvml`` bindings of the nvidia-ml-py package).

``pynvml`` is imported here inside ``try``: hosts without it (and the sanity
import test) load this file fine; ``Session`` fails with ``missing_required_lib``
only when a module really talks to a GPU.  NVML itself (``libnvidia-ml.so.1``,
shipped with the NVIDIA driver) is loaded by ``pynvml`` on ``nvmlInit``.

Everything a module reads comes back in plain Python types; NVML units are
kept at this layer's edge: power in milliwatts from NVML, watts in results.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import traceback

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.inference.host_tuning.plugins.module_utils import _host
from ansible_collections.inference.host_tuning.plugins.module_utils import _nvidia_apply
from ansible_collections.inference.host_tuning.plugins.module_utils import _topology

try:
    import pynvml
    HAS_PYNVML = True
    PYNVML_IMPORT_ERROR = None
except ImportError:
    pynvml = None
    HAS_PYNVML = False
    PYNVML_IMPORT_ERROR = traceback.format_exc()

LIBRARY = 'libnvidia-ml.so.1'
LEDGER_OWNER = 'nvidia_gpu'

# NVML constants (nvml.h); kept here so this file also loads without pynvml.
NVML_ERROR_INVALID_ARGUMENT = 2
NVML_ERROR_NOT_SUPPORTED = 3
NVML_ERROR_NO_PERMISSION = 4
NVML_ERROR_DRIVER_NOT_LOADED = 9
NVML_ERROR_LIBRARY_NOT_FOUND = 12
NVML_ERROR_FUNCTION_NOT_FOUND = 13

NVML_CLOCK_GRAPHICS = 0
NVML_CLOCK_SM = 1
NVML_CLOCK_MEM = 2

COMPUTE_MODES = {0: 'default', 1: 'exclusive_thread', 2: 'prohibited', 3: 'exclusive_process'}
COMPUTE_MODE_VALUES = dict((v, k) for k, v in COMPUTE_MODES.items())
MIG_MODES = {0: 'disabled', 1: 'enabled'}
MIG_MODE_VALUES = {'disabled': 0, 'enabled': 1}


class NvmlError(Exception):
    """An NVML call failed; ``code`` is the NVML return code, ``gpu`` a Gpu or None."""

    def __init__(self, call, code, text, gpu=None):
        self.call = call
        self.code = code
        self.text = text
        self.gpu = gpu
        where = ' on %s' % gpu.label if gpu is not None else ''
        hint = ''
        if code == NVML_ERROR_NO_PERMISSION:
            hint = ' (NVML settings need root: run the task with become: true)'
        super(NvmlError, self).__init__('NVML %s failed%s: %s (NVML error %s)%s' % (call, where, text, code, hint))

    @property
    def unsupported(self):
        return self.code in (NVML_ERROR_NOT_SUPPORTED, NVML_ERROR_FUNCTION_NOT_FOUND)


class SelectionError(Exception):
    pass


def call(name, *args, **kwargs):
    """Call ``pynvml.<name>(*args)``, turning NVMLError into NvmlError (``gpu=`` for context)."""
    gpu = kwargs.pop('gpu', None)
    try:
        return getattr(pynvml, name)(*args)
    except pynvml.NVMLError as e:
        code = getattr(e, 'value', None)
        try:
            text = str(e)
        except Exception:  # pylint: disable=broad-except
            text = 'NVML error %s' % code
        raise NvmlError(name, code, text, gpu)


def optional(name, *args, **kwargs):
    """Like ``call`` but None when the GPU or driver does not support the query."""
    try:
        return call(name, *args, **kwargs)
    except NvmlError as e:
        if e.unsupported:
            return None
        raise


def _text(value):
    if isinstance(value, bytes):
        return value.decode('utf-8', 'replace')
    return value


def watts(mw):
    """Milliwatts to watts: an int when exact, else a float (350500 -> 350.5)."""
    if mw is None:
        return None
    return mw // 1000 if mw % 1000 == 0 else mw / 1000.0


# -- PCI bus ids (the parsing and the kernel's form are _topology's) -------------------------
parse_bus_id = _topology.parse_bdf
sysfs_bus_id = _topology.bdf_text


def nvml_bus_id(parts):
    """NVML's form: ``00000000:17:00.0``."""
    return '%08X:%02X:%02X.%X' % parts


def sysfs_numa_node(parts):
    """NUMA node of a PCI device from sysfs; None when unknown (-1 or missing)."""
    return _topology.pci_numa_node(sysfs_bus_id(parts))


# -- GPUs --------------------------------------------------------------------
class Gpu(_nvidia_apply.SettingReaders):
    """One GPU: its index, handle and identity, and readers for its settings."""

    def __init__(self, index, handle, uuid, name, bus_parts):
        self.index = index
        self.handle = handle
        self.uuid = uuid
        self.name = name
        self.bus_parts = bus_parts

    @property
    def bus_id(self):
        return nvml_bus_id(self.bus_parts) if self.bus_parts else None

    @property
    def label(self):
        return 'GPU %d (%s, %s)' % (self.index, self.uuid, self.name)

    def ident(self):
        return {'index': self.index, 'uuid': self.uuid, 'name': self.name, 'pci_bus_id': self.bus_id}

    def _get(self, name, *args):
        return call(name, self.handle, *args, gpu=self)

    def _opt(self, name, *args):
        return optional(name, self.handle, *args, gpu=self)

    # readers (None: not supported on this GPU / driver)
    def mig_mode(self):
        """(current, pending) as 'enabled'/'disabled', or None when the GPU has no MIG."""
        value = self._opt('nvmlDeviceGetMigMode')
        if value is None:
            return None
        return MIG_MODES.get(value[0], str(value[0])), MIG_MODES.get(value[1], str(value[1]))

    def clocks(self):
        return {'sm': self._opt('nvmlDeviceGetClockInfo', NVML_CLOCK_SM),
                'mem': self._opt('nvmlDeviceGetClockInfo', NVML_CLOCK_MEM)}

    def ecc(self):
        value = self._opt('nvmlDeviceGetEccMode')
        if value is None:
            return None
        return {'current': bool(value[0]), 'pending': bool(value[1])}

    def numa_node(self):
        """From NVML where the driver has it, else from sysfs; None when unknown."""
        node = self._opt('nvmlDeviceGetNumaNodeId')
        if node is not None and 0 <= node < 0xffffffff:
            return node
        return sysfs_numa_node(self.bus_parts) if self.bus_parts else None

    def memory(self):
        info = self._opt('nvmlDeviceGetMemoryInfo')
        if info is None:
            return None
        return {'total': info.total, 'used': info.used, 'free': info.free}

    def facts(self):
        power = self.power()
        mig = self.mig_mode()
        memory = self.memory()
        facts = self.ident()
        facts.update({
            'numa_node': self.numa_node(),
            'memory_total': memory and memory['total'],
            'memory_used': memory and memory['used'],
            'persistence_mode': self.persistence_mode(),
            'power_limit': dict((k, watts(v)) for k, v in power.items()),
            'mig': {'capable': mig is not None,
                    'current': mig and mig[0], 'pending': mig and mig[1]},
            'compute_mode': self.compute_mode(),
            'clocks': {'current': self.clocks(),
                       'applications': self.applications_clocks(),
                       'default_applications': self.applications_clocks(default=True)},
            'ecc': self.ecc(),
        })
        return facts


class Session(object):
    """``with Session(module) as nvml:`` -- nvmlInit ... nvmlShutdown, with clear failures."""

    def __init__(self, module):
        self.module = module
        self._gpus = None

    def __enter__(self):
        if not HAS_PYNVML:
            self.module.fail_json(msg=missing_required_lib('nvidia-ml-py'), exception=PYNVML_IMPORT_ERROR)
        try:
            call('nvmlInit')
        except NvmlError as e:
            if e.code == NVML_ERROR_LIBRARY_NOT_FOUND:
                self.module.fail_json(
                    msg='The NVML library %s could not be loaded: install the NVIDIA driver (its user-space '
                        'part provides %s; with a driver already installed, check that the dynamic loader '
                        'finds it with "ldconfig -p | grep libnvidia-ml").' % (LIBRARY, LIBRARY),
                    nvml_error=e.text)
            if e.code == NVML_ERROR_DRIVER_NOT_LOADED:
                self.module.fail_json(
                    msg='NVML found no loaded NVIDIA kernel driver (%s): install the NVIDIA driver or load '
                        'its kernel module (modprobe nvidia), then run again.' % e.text, nvml_error=e.text)
            self.module.fail_json(msg=str(e), nvml_error=e.text)
        return self

    def __exit__(self, exc_type, exc, tb):
        try:
            pynvml.nvmlShutdown()
        except pynvml.NVMLError:
            pass
        return False

    def driver_version(self):
        return _text(optional('nvmlSystemGetDriverVersion'))

    def cuda_driver_version(self):
        """'12.4' from NVML's 12040."""
        try:
            value = call('nvmlSystemGetCudaDriverVersion_v2')
        except NvmlError as e:
            if not e.unsupported:
                raise
            value = optional('nvmlSystemGetCudaDriverVersion')
        if value is None:
            return None
        return '%d.%d' % (value // 1000, (value % 1000) // 10)

    def gpus(self):
        """All GPUs NVML sees, in index order."""
        if self._gpus is None:
            self._gpus = []
            for index in range(call('nvmlDeviceGetCount')):
                handle = call('nvmlDeviceGetHandleByIndex', index)
                gpu = Gpu(index, handle, None, None, None)
                gpu.uuid = _text(call('nvmlDeviceGetUUID', handle, gpu=gpu))
                gpu.name = _text(call('nvmlDeviceGetName', handle, gpu=gpu))
                pci = call('nvmlDeviceGetPciInfo_v3', handle, gpu=gpu)
                gpu.bus_parts = parse_bus_id(_text(pci.busId)) or (pci.domain, pci.bus, pci.device, 0)
                self._gpus.append(gpu)
        return self._gpus

    def select(self, selectors):
        """GPUs chosen by ``all`` or by indexes, UUIDs and PCI bus ids (any form); raises SelectionError."""
        gpus = self.gpus()
        selectors = [str(s).strip() for s in (selectors or ['all'])]
        if 'all' in selectors:
            if len(selectors) > 1:
                raise SelectionError('gpus: "all" cannot be combined with other GPU ids (got %s)' % ', '.join(selectors))
            return list(gpus)
        chosen = []
        for sel in selectors:
            gpu = self._match(gpus, sel)
            if gpu is None:
                raise SelectionError(
                    'gpus: no GPU matches %r. This host has %s. Use "all", an index, a UUID (GPU-...) '
                    'or a PCI bus id (17:00.0, 0000:17:00.0 or 00000000:17:00.0).'
                    % (sel, '; '.join('%d: %s %s' % (g.index, g.uuid, g.bus_id) for g in gpus) or 'no GPUs'))
            if gpu not in chosen:
                chosen.append(gpu)
        return sorted(chosen, key=lambda g: g.index)

    @staticmethod
    def _match(gpus, sel):
        if sel.isdigit():
            index = int(sel)
            return next((g for g in gpus if g.index == index), None)
        if sel.upper().startswith(('GPU-', 'MIG-')):
            return next((g for g in gpus if (g.uuid or '').lower() == sel.lower()), None)
        parts = parse_bus_id(sel)
        if parts is not None:
            return next((g for g in gpus if g.bus_parts == parts), None)
        return None


# -- ledger helpers ------------------------------------------------------------
def boot_id():
    return _host.read_value('/proc/sys/kernel/random/boot_id')


def forget_gpu(ledger, uuid):
    """Drop one GPU's record from the ledger's 'nvidia_gpu' bucket."""
    ledger.forget_extra_key(LEDGER_OWNER, uuid)
