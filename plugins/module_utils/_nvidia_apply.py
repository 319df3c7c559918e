# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Re-apply the NVIDIA GPU settings of inference.host_tuning at boot (a standalone program).

The nvidia_gpu module (boot_apply=true) installs this file's own text as
/usr/local/libexec/inference-host-tuning/nvidia-apply, run by inference-nvidia-settings.service;
it imports nothing from Ansible. It reads the settings the module wrote
(/etc/inference-host-tuning/nvidia.json, or the path given as the only argument) and applies
them through NVML (the pynvml bindings of nvidia-ml-py); it never parses nvidia-smi output.

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
COMPUTE_MODES = {'default': 0, 'prohibited': 2, 'exclusive_process': 3}


def log(message):
    # stdout goes to the journal (the unit's output); flushed per line so the order holds
    sys.stdout.write(message + '\n')
    sys.stdout.flush()


def text(value):
    return value.decode('utf-8', 'replace') if isinstance(value, bytes) else value


class Gpu(object):

    def __init__(self, nvml, index):
        self.nvml = nvml
        self.index = index
        self.handle = nvml.nvmlDeviceGetHandleByIndex(index)
        self.uuid = text(nvml.nvmlDeviceGetUUID(self.handle))

    def __str__(self):
        return 'GPU %d (%s)' % (self.index, self.uuid)

    def get(self, name, *args):
        return getattr(self.nvml, name)(self.handle, *args)

    def set(self, name, *args):
        getattr(self.nvml, name)(self.handle, *args)


ORDER = ('persistence_mode', 'power_limit', 'compute_mode', 'application_clocks', 'locked_clocks')


def plan(gpu, setting, value):
    """(before, after, NVML call, args) of one setting; before is None where NVML cannot read it."""
    if setting == 'persistence_mode':
        wanted = bool(value)
        return bool(gpu.get('nvmlDeviceGetPersistenceMode')), wanted, 'nvmlDeviceSetPersistenceMode', (int(wanted),)
    if setting == 'power_limit':
        low, high = gpu.get('nvmlDeviceGetPowerManagementLimitConstraints')
        if value == 'max':
            target = high
        elif value == 'default':
            target = gpu.get('nvmlDeviceGetPowerManagementDefaultLimit')
        else:
            target = int(value) * 1000
            if not low <= target <= high:
                raise ValueError('power_limit %s W is outside the range %s allows: %g to %g W'
                                 % (value, gpu, low / 1000.0, high / 1000.0))
        current = gpu.get('nvmlDeviceGetPowerManagementLimit')
        return '%g W' % (current / 1000.0), '%g W' % (target / 1000.0), 'nvmlDeviceSetPowerManagementLimit', (target,)
    if setting == 'compute_mode':
        current = gpu.get('nvmlDeviceGetComputeMode')
        names = dict((v, k) for k, v in COMPUTE_MODES.items())
        return names.get(current, str(current)), value, 'nvmlDeviceSetComputeMode', (COMPUTE_MODES[value],)
    if setting == 'application_clocks':
        current = (gpu.get('nvmlDeviceGetApplicationsClock', NVML_CLOCK_MEM),
                   gpu.get('nvmlDeviceGetApplicationsClock', NVML_CLOCK_GRAPHICS))
        if value == 'reset':
            wanted = (gpu.get('nvmlDeviceGetDefaultApplicationsClock', NVML_CLOCK_MEM),
                      gpu.get('nvmlDeviceGetDefaultApplicationsClock', NVML_CLOCK_GRAPHICS))
            return current, wanted, 'nvmlDeviceResetApplicationsClocks', ()
        wanted = (int(value['mem']), int(value['sm']))
        return current, wanted, 'nvmlDeviceSetApplicationsClocks', wanted
    if setting == 'locked_clocks':
        # NVML cannot read locked clocks back: they are set (or reset) every time.
        if value == 'reset':
            return None, 'unlocked', 'nvmlDeviceResetGpuLockedClocks', ()
        wanted = (int(value['min']), int(value['max']))
        return None, wanted, 'nvmlDeviceSetGpuLockedClocks', wanted
    raise ValueError('unknown setting %r' % setting)


def apply_gpu(nvml, gpu, settings, unsupported):
    """Apply the settings to one GPU, setting by setting; the number of failures."""
    failures = 0
    for setting in ORDER:
        if setting not in settings:
            continue
        try:
            before, after, call, args = plan(gpu, setting, settings[setting])
            if before == after:
                log('%s: %s already %s' % (gpu, setting, after))
                continue
            gpu.set(call, *args)
        except ValueError as e:
            log('%s: %s' % (gpu, e))
            failures += 1
            continue
        except nvml.NVMLError as e:
            if getattr(e, 'value', None) in NOT_SUPPORTED and unsupported == 'skip':
                log('%s: %s is not supported, left alone: %s' % (gpu, setting, e))
            else:
                log('%s: %s could not be applied: %s' % (gpu, setting, e))
                failures += 1
            continue
        log('%s: %s %s -> %s' % (gpu, setting, 'unknown' if before is None else before, after))
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
