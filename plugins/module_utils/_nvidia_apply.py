# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Re-apply the NVIDIA GPU settings of inference.host_tuning at boot (a standalone program), and the one
planner of those settings.

The nvidia_gpu module (boot_apply=true) installs this file's own text as
/usr/local/libexec/inference-host-tuning/nvidia-apply, run by inference-nvidia-settings.service;
it imports nothing from Ansible. It reads the settings the module wrote
(/etc/inference-host-tuning/nvidia.json, or the path given as the only argument) and applies
them through NVML (the pynvml bindings of nvidia-ml-py); it never parses nvidia-smi output.

``plan()`` is what both the module and this program decide for one setting of one GPU (the module reads the
GPU through ``_nvml.Gpu``, this program through ``Gpu`` below: the same readers), so the boot applies
exactly what the module applied.

NVML forgets persistence mode, power limits, compute mode and clocks when the driver is
reloaded or the host boots; a pending MIG mode is kept by the GPU and is not handled here.

Exit status: 0 when every setting holds, 1 when a setting could not be applied (or is not
supported and the settings say unsupported=fail), 2 when the settings file or NVML cannot
be used. Every GPU is tried even after a failure on another one.

Usage: python3 nvidia-apply [SETTINGS_JSON]   (the Python must import pynvml)
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import sys

DEFAULT_SETTINGS = '/etc/inference-host-tuning/nvidia.json'

NVML_CLOCK_GRAPHICS = 0
NVML_CLOCK_MEM = 2
NOT_SUPPORTED = (3, 13)  # NVML_ERROR_NOT_SUPPORTED, NVML_ERROR_FUNCTION_NOT_FOUND
COMPUTE_MODES = {'default': 0, 'exclusive_thread': 1, 'prohibited': 2, 'exclusive_process': 3}

# The settings plan() knows, in the order they are applied (a MIG mode is the module's alone).
ORDER = ('persistence_mode', 'power_limit', 'compute_mode', 'application_clocks', 'locked_clocks')
#: The locked clocks "before" when they were not read (NVML cannot read them back): always set or reset.
NOT_READ = 'unknown'


class Unsupported(Exception):
    """The GPU (or its driver) does not support a setting."""


class Invalid(ValueError):
    """A requested value this GPU does not allow."""


def log(message):
    # stdout goes to the journal (the unit's output); flushed per line so the order holds
    sys.stdout.write(message + '\n')
    sys.stdout.flush()


def text(value):
    return value.decode('utf-8', 'replace') if isinstance(value, bytes) else value


def watts(mw):
    """Milliwatts to watts: an int when exact, else a float (350500 -> 350.5)."""
    if mw is None:
        return None
    return mw // 1000 if mw % 1000 == 0 else mw / 1000.0


def show(setting, value):
    """A setting's value as the module's diff and this program's log show it."""
    if value is None:
        return 'unlocked' if setting == 'locked_clocks' else 'unknown'
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, dict):
        return ', '.join('%s=%s MHz' % (k, value[k]) for k in sorted(value))
    if setting == 'power_limit':
        return '%s W' % value
    return str(value)


# -- the planner ---------------------------------------------------------------------------------
def _unsupported(gpu, what):
    return Unsupported('%s does not support %s' % (gpu.label, what))


def _power_target(gpu, power, value):
    if value == 'max':
        return power['max']
    if value == 'default':
        return power['default'] if power['default'] is not None else power['max']
    target = int(value) * 1000
    if not power['min'] <= target <= power['max']:
        raise Invalid('power_limit: %s W is outside the range %s allows: %s to %s W'
                      % (value, gpu.label, watts(power['min']), watts(power['max'])))
    return target


def plan(gpu, setting, value, locked=NOT_READ):
    """(before, after, NVML set call, its args) of one setting of ``ORDER`` on one GPU; the change is needed
    when before != after. ``gpu`` has the readers of ``_nvml.Gpu`` (None: not supported) and ``label``;
    ``locked`` is what the caller knows of the locked clocks ({'min', 'max'}, None for unlocked).
    Raises Unsupported, or Invalid for a power limit outside the GPU's range."""
    if setting == 'persistence_mode':
        current = gpu.persistence_mode()
        if current is None:
            raise _unsupported(gpu, setting)
        return current, bool(value), 'nvmlDeviceSetPersistenceMode', (1 if value else 0,)
    if setting == 'power_limit':
        power = gpu.power()
        if power['current'] is None or power['min'] is None or power['max'] is None:
            raise _unsupported(gpu, 'setting a power limit')
        target = _power_target(gpu, power, value)
        return watts(power['current']), watts(target), 'nvmlDeviceSetPowerManagementLimit', (target,)
    if setting == 'compute_mode':
        current = gpu.compute_mode()
        if current is None:
            raise _unsupported(gpu, setting)
        return current, value, 'nvmlDeviceSetComputeMode', (COMPUTE_MODES[value],)
    if setting == 'application_clocks':
        current = gpu.applications_clocks()
        if current is None:
            raise _unsupported(gpu, 'application clocks')
        if value == 'reset':
            return current, gpu.applications_clocks(default=True), 'nvmlDeviceResetApplicationsClocks', ()
        wanted = {'mem': int(value['mem']), 'sm': int(value['sm'])}
        return current, wanted, 'nvmlDeviceSetApplicationsClocks', (wanted['mem'], wanted['sm'])
    if setting == 'locked_clocks':
        if value == 'reset':
            return locked, None, 'nvmlDeviceResetGpuLockedClocks', ()
        wanted = {'min': int(value['min']), 'max': int(value['max'])}
        return locked, wanted, 'nvmlDeviceSetGpuLockedClocks', (wanted['min'], wanted['max'])
    raise ValueError('unknown setting %r' % setting)


# -- the boot program ----------------------------------------------------------------------------
class SettingReaders(object):
    """The readers of the settings plan() decides on, for a GPU class with ``_opt(name, *args)`` (an NVML
    call on the GPU's handle, None where it is not supported): this program's Gpu and the module's
    ``_nvml.Gpu`` read the GPU with the same code."""

    def persistence_mode(self):
        value = self._opt('nvmlDeviceGetPersistenceMode')
        return None if value is None else bool(value)

    def power(self):
        """{'current', 'default', 'min', 'max'} in mW (values may be None)."""
        constraints = self._opt('nvmlDeviceGetPowerManagementLimitConstraints') or [None, None]
        return {'current': self._opt('nvmlDeviceGetPowerManagementLimit'),
                'default': self._opt('nvmlDeviceGetPowerManagementDefaultLimit'),
                'min': constraints[0], 'max': constraints[1]}

    def compute_mode(self):
        value = self._opt('nvmlDeviceGetComputeMode')
        names = dict((v, k) for k, v in COMPUTE_MODES.items())
        return None if value is None else names.get(value, str(value))

    def applications_clocks(self, default=False):
        fn = 'nvmlDeviceGetDefaultApplicationsClock' if default else 'nvmlDeviceGetApplicationsClock'
        mem = self._opt(fn, NVML_CLOCK_MEM)
        sm = self._opt(fn, NVML_CLOCK_GRAPHICS)
        if mem is None or sm is None:
            return None
        return {'mem': mem, 'sm': sm}


class Gpu(SettingReaders):
    """One GPU read through pynvml (None: not supported)."""

    def __init__(self, nvml, index):
        self.nvml = nvml
        self.index = index
        self.handle = nvml.nvmlDeviceGetHandleByIndex(index)
        self.uuid = text(nvml.nvmlDeviceGetUUID(self.handle))
        self.label = 'GPU %d (%s)' % (index, self.uuid)

    def __str__(self):
        return self.label

    def _opt(self, name, *args):
        try:
            return getattr(self.nvml, name)(self.handle, *args)
        except self.nvml.NVMLError as e:
            if getattr(e, 'value', None) in NOT_SUPPORTED:
                return None
            raise

    def set(self, name, *args):
        getattr(self.nvml, name)(self.handle, *args)


def apply_gpu(nvml, gpu, settings, unsupported):
    """Apply the settings to one GPU, setting by setting; the number of failures."""
    failures = 0
    for setting in ORDER:
        if setting not in settings:
            continue
        try:
            before, after, call, args = plan(gpu, setting, settings[setting])
            if before == after:
                log('%s: %s already %s' % (gpu, setting, show(setting, after)))
                continue
            gpu.set(call, *args)
        except ValueError as e:
            log('%s: %s' % (gpu, e))
            failures += 1
            continue
        except (Unsupported, nvml.NVMLError) as e:
            if (isinstance(e, Unsupported) or getattr(e, 'value', None) in NOT_SUPPORTED) and unsupported == 'skip':
                log('%s: %s is not supported, left alone: %s' % (gpu, setting, e))
            else:
                log('%s: %s could not be applied: %s' % (gpu, setting, e))
                failures += 1
            continue
        log('%s: %s %s -> %s' % (gpu, setting, show(setting, before), show(setting, after)))
    return failures


def main(argv):
    path = argv[1] if len(argv) > 1 else DEFAULT_SETTINGS
    try:
        with open(path) as f:
            config = json.load(f)
        settings = config.get('settings') or {}
        selected = config.get('gpus', 'all')
        unsupported = config.get('unsupported', 'fail')
    except (IOError, OSError, ValueError, AttributeError) as e:
        log('cannot read the settings %s: %s' % (path, e))
        return 2
    try:
        import pynvml
    except ImportError as e:
        log('cannot import pynvml (install nvidia-ml-py for %s): %s' % (sys.executable, e))
        return 2
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError as e:
        log('NVML could not be initialised (is the NVIDIA driver loaded?): %s' % e)
        return 2
    failures = 0
    try:
        gpus = [Gpu(pynvml, i) for i in range(pynvml.nvmlDeviceGetCount())]
        if selected != 'all':
            present = set(g.uuid.lower() for g in gpus)
            for uuid in selected:
                if uuid.lower() not in present:
                    log('GPU %s is not on this host any more: skipped' % uuid)
                    failures += 1 if unsupported == 'fail' else 0
            wanted = set(u.lower() for u in selected)
            gpus = [g for g in gpus if g.uuid.lower() in wanted]
        for gpu in gpus:
            failures += apply_gpu(pynvml, gpu, settings, unsupported)
    except pynvml.NVMLError as e:
        log('NVML failed: %s' % e)
        return 2
    finally:
        try:
            pynvml.nvmlShutdown()
        except pynvml.NVMLError:
            pass
    log('%d GPU(s): %s' % (len(gpus), 'settings applied' if not failures else '%d setting(s) failed' % failures))
    return 1 if failures else 0


if __name__ == '__main__':
    raise SystemExit(main(sys.argv))
