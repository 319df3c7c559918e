#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: nvidia_gpu
short_description: Apply NVIDIA GPU settings for inference serving through NVML
version_added: 0.1.0
description:
  - Sets persistence mode, the power limit, MIG mode, the compute mode, application clocks and locked
    GPU clocks on NVIDIA GPUs through NVML (the C(pynvml) bindings of C(nvidia-ml-py)); it never parses
    C(nvidia-smi) output.
  - Reads every chosen GPU first and validates all requested values against each GPU's own limits
    before changing anything. Settings are then applied GPU by GPU; when NVML refuses one midway, the
    module fails and returns in RV(applied) what was already applied and in RV(failed_gpu) where it stopped.
  - Before the first change of a GPU it records the GPU's original persistence mode, power limit,
    compute mode and application clocks in the restore ledger (owner C(nvidia_gpu)), so O(state=absent)
    puts them back.
  - NVML settings do not survive a reboot or a driver reload (except a pending MIG mode).
    With O(boot_apply=true) the module keeps them. It installs a oneshot unit, C(inference-nvidia-settings.service),
    that re-applies the same settings through NVML at every boot, with the small program it runs and the
    settings file it reads. Those files, the O(numa_map_file) and the unit's enablement link are recorded
    in the restore ledger before they are first written, so O(state=absent) and C(playbooks/revert.yml)
    remove them (and the directories their writes created) or put back what was there.
  - The module never resets a GPU and never reboots; it reports RV(reset_required) and RV(reboot_required)
    while a GPU's pending MIG mode differs from its current one.
author:
  - inference.host_tuning contributors (@inference-host-tuning)
requirements:
  - The NVIDIA driver (it provides C(libnvidia-ml.so.1)) on the managed host.
  - nvidia-ml-py (the C(pynvml) module) on the managed host.
  - Root privileges to change settings (C(become=true)); reading works as any user.
options:
  gpus:
    description:
      - The GPUs to configure. V(all), or a list of GPU indexes (V(0)), UUIDs (V(GPU-5d1b...)) or PCI
        bus ids in short (V(17:00.0)), kernel (V(0000:17:00.0)) or NVML (V(00000000:17:00.0)) form.
      - An id that matches no GPU fails the module and lists the GPUs the host has.
    type: list
    elements: str
    default: [all]
  state:
    description:
      - V(present) applies the settings given.
      - V(absent) restores what the ledger recorded for the chosen GPUs before this module first
        changed them (persistence mode, power limit, compute mode, application clocks, and unlocks GPU
        clocks the module locked since the last boot), then forgets the records. The settings options
        are ignored. A MIG mode is not restored (that needs a GPU reset); set O(mig_mode) explicitly.
    type: str
    choices: [present, absent]
    default: present
  persistence_mode:
    description:
      - Keep the driver loaded while no client uses the GPU (C(nvidia-smi -pm)). Recommended for serving.
      - On hosts that run C(nvidia-persistenced), prefer that daemon; this setting and the daemon agree.
    type: bool
  power_limit:
    description:
      - The GPU power limit, in watts (an integer), or V(max) for the highest limit the GPU allows,
        or V(default) for the GPU's default limit.
      - A number of watts is checked against each GPU's own minimum and maximum; outside that range
        the module fails before changing anything and names the GPU and the allowed range.
    type: str
  mig_mode:
    description:
      - Multi-Instance GPU mode. A change becomes pending and takes effect after a GPU reset or a
        reboot (see RV(reset_required)); it is compared with the pending mode, so a second run does
        not change anything.
      - GPUs without MIG (for example L40S) are handled by O(unsupported).
    type: str
    choices: [enabled, disabled]
  compute_mode:
    description:
      - The compute mode. V(exclusive_process) allows one process (for example one vLLM server) per GPU.
    type: str
    choices: [default, exclusive_process, prohibited]
  application_clocks:
    description:
      - Application clocks as a dictionary with C(mem) and C(sm) in MHz (a supported memory clock and
        a graphics clock the GPU allows; NVML checks the pair), or V(reset) for the GPU's defaults.
    type: raw
  locked_clocks:
    description:
      - Lock the GPU (SM) clock between C(min) and C(max) MHz (a dictionary), or V(reset) to unlock.
      - NVML cannot read locked clocks back, so the module remembers the clocks it locked (and the boot
        they were locked in) in the restore ledger and compares with that. Clocks locked by other tools,
        or unlocked by a driver reload, are not seen.
    type: raw
  unsupported:
    description:
      - What to do when a GPU does not support a requested setting (MIG on an L40S, application clocks
        on a GPU without them).
      - V(fail) fails before anything is changed; V(skip) leaves that setting alone on that GPU and
        reports it in RV(skipped_settings).
    type: str
    choices: [fail, skip]
    default: fail
  boot_apply:
    description:
      - V(true) installs and enables C(/etc/systemd/system/inference-nvidia-settings.service), which runs
        C(/usr/local/libexec/inference-host-tuning/nvidia-apply) with O(boot_python) at boot to re-apply
        the settings given here, except O(mig_mode) (the GPU keeps a pending MIG mode itself), from
        C(/etc/inference-host-tuning/nvidia.json). The unit is ordered after C(nvidia-persistenced).
      - V(false) removes those files and the enablement link when this module wrote them (restored from
        the ledger), and leaves files it did not write alone.
      - The unit is enabled by its C(multi-user.target.wants) link, as C(systemctl enable) does, so that
        check mode predicts it before the unit exists; C(systemctl daemon-reload) runs when the unit file
        changed on a host booted with systemd.
    type: bool
    default: false
  boot_python:
    description:
      - The Python interpreter the boot unit runs the program with; it must import C(pynvml)
        (nvidia-ml-py). Used with O(boot_apply=true).
    type: path
    default: /usr/bin/python3
  persistenced:
    description:
      - V(true) enables and starts C(nvidia-persistenced.service) where the driver installed its unit (see
        RV(persistenced_unit)) on a host booted with systemd. Its state before (enabled, active) is recorded
        in the restore ledger, so O(state=absent) and C(playbooks/revert.yml) disable and stop it again only
        if it was so before.
      - V(false) leaves the daemon as it is.
    type: bool
    default: false
  numa_map_file:
    description:
      - Write the map of every GPU index (a string key) to its NUMA node (V(null) when unknown) as JSON to
        this path, for placing serving processes
        (O(inference.host_tuning.numa_bind#module:gpu_numa_map)). Recorded in the ledger like the boot files.
      - Unset leaves any existing map alone; RV(numa_map) is returned either way.
    type: path
notes:
  - NVML power limits are in milliwatts; this module takes and returns watts.
seealso:
  - module: inference.host_tuning.nvidia_gpu_info
  - name: NVML API reference (device commands)
    description: The NVML calls this module makes.
    link: https://docs.nvidia.com/deploy/nvml-api/group__nvmlDeviceCommands.html
attributes:
  check_mode:
    support: full
    details: Reads the GPUs and predicts C(changed), RV(reset_required) and the diff without calling any NVML set function.
  diff_mode:
    support: full
    details: One before/after text per GPU listing the managed settings, and one per file written or removed.
  idempotent:
    support: partial
    details:
      - Every setting is compared with what NVML reports, except O(locked_clocks), which NVML cannot
        read back and which is compared with what the module recorded in the restore ledger.
  platform:
    support: partial
    details: Linux hosts with NVIDIA GPUs, the NVIDIA driver and nvidia-ml-py.
extends_documentation_fragment:
  - inference.host_tuning.attributes
  - inference.host_tuning.attributes.recorded
'''

EXAMPLES = r'''
- name: Inference defaults on every GPU
  become: true
  inference.host_tuning.nvidia_gpu:
    gpus: all
    persistence_mode: true
    power_limit: max

- name: One vLLM process per GPU, capped at 500 W, on two GPUs chosen by PCI bus id
  become: true
  inference.host_tuning.nvidia_gpu:
    gpus: ['17:00.0', '0000:27:00.0']
    compute_mode: exclusive_process
    power_limit: 500

- name: Enable MIG where the GPU has it, skip the others
  become: true
  inference.host_tuning.nvidia_gpu:
    mig_mode: enabled
    unsupported: skip
  register: mig

- name: Say when a GPU reset is needed
  ansible.builtin.debug:
    msg: "Pending MIG mode: reset GPUs {{ mig.gpus | selectattr('reset_required') | map(attribute='index') | list }}"
  when: mig.reset_required

- name: Lock SM clocks for steady latency
  become: true
  inference.host_tuning.nvidia_gpu:
    gpus: [0]
    locked_clocks: {min: 1755, max: 1755}

- name: Keep the settings across reboots, run nvidia-persistenced, and write the GPU NUMA map for numa_bind
  become: true
  inference.host_tuning.nvidia_gpu:
    persistence_mode: true
    power_limit: max
    boot_apply: true
    persistenced: true
    numa_map_file: /etc/inference-host-tuning/gpu-numa.json

- name: Put back what the module changed (GPU settings, boot unit, NUMA map, nvidia-persistenced)
  become: true
  inference.host_tuning.nvidia_gpu:
    state: absent
'''

RETURN = r'''
gpus:
  description: Per chosen GPU, its identity, each managed setting before and after, and what was skipped.
  returned: always
  type: list
  elements: dict
  sample:
    - index: 0
      uuid: GPU-5d1b3c2a-0000-4a6e-9c1f-0000000017a0
      name: NVIDIA H100 80GB HBM3
      pci_bus_id: 00000000:17:00.0
      changed: true
      settings:
        persistence_mode: {before: false, after: true}
        power_limit: {before: 500, after: 700}
      skipped: []
      mig: {current: disabled, pending: disabled}
      reset_required: false
applied:
  description:
    - Per GPU, the settings this run applied (empty in check mode).
    - Also returned with a failure, naming what succeeded before NVML refused a setting.
  returned: always
  type: list
  elements: dict
  sample: [{index: 0, uuid: GPU-5d1b3c2a-0000-4a6e-9c1f-0000000017a0, settings: [persistence_mode, power_limit]}]
failed_gpu:
  description: The GPU on which applying a setting failed, and the setting.
  returned: failure while applying
  type: dict
  sample: {index: 1, uuid: GPU-0b9e6f1d-7c2a-4f35-8e0d-3a1c5b7d9e21, name: NVIDIA L40S,
           pci_bus_id: 00000000:27:00.0, setting: power_limit}
skipped_settings:
  description:
    - Settings left alone because a GPU does not support them (with O(unsupported=skip)).
    - The task still reports C(changed) when another setting or another GPU changed (a top-level C(skipped)
      would be read by Ansible as the task's own status).
  returned: always
  type: list
  elements: dict
  sample: [{index: 1, uuid: GPU-0b9e6f1d-7c2a-4f35-8e0d-3a1c5b7d9e21, setting: mig_mode,
            reason: "NVML nvmlDeviceGetMigMode failed on GPU 1 (...): Not Supported (NVML error 3)"}]
reset_required:
  description: True while a chosen GPU's pending MIG mode differs from its current one; a GPU reset applies it.
  returned: always
  type: bool
  sample: true
reboot_required:
  description:
    - True in the same cases as RV(reset_required). A reboot applies a pending MIG mode where a GPU
      reset is not possible (a GPU in use, some virtual machines). The module never reboots.
  returned: always
  type: bool
  sample: false
numa_map:
  description: Every GPU index (as a string key) to its NUMA node (V(null) when unknown).
  returned: always
  type: dict
  sample: {'0': 0, '1': 0, '2': 1, '3': 1}
files:
  description: The files (and the enablement link) this run wrote, would write, or removed, with the action.
  returned: always
  type: list
  elements: dict
  sample:
    - {path: /etc/systemd/system/inference-nvidia-settings.service, action: written}
    - {path: /etc/systemd/system/multi-user.target.wants/inference-nvidia-settings.service, action: linked}
boot_unit_enabled:
  description: Whether C(inference-nvidia-settings.service) is enabled (its wants link exists) after the run.
  returned: always
  type: bool
  sample: true
persistenced:
  description: C(nvidia-persistenced.service) after the run (predicted in check mode); V(null) where its unit is not installed.
  returned: always
  type: dict
  sample: {unit: nvidia-persistenced.service, enabled: true, active: true, changed: true}
persistenced_unit:
  description:
    - The unit file of C(nvidia-persistenced.service) where the driver installed one, else V(null).
  returned: always
  type: str
  sample: /usr/lib/systemd/system/nvidia-persistenced.service
'''

import os
import pkgutil

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_text

from ansible_collections.inference.host_tuning.plugins.module_utils import _change
from ansible_collections.inference.host_tuning.plugins.module_utils import _files
from ansible_collections.inference.host_tuning.plugins.module_utils import _formats
from ansible_collections.inference.host_tuning.plugins.module_utils import _host
from ansible_collections.inference.host_tuning.plugins.module_utils import _ledger
from ansible_collections.inference.host_tuning.plugins.module_utils import _nvidia_apply
from ansible_collections.inference.host_tuning.plugins.module_utils import _nvml
from ansible_collections.inference.host_tuning.plugins.module_utils import _systemd
from ansible_collections.inference.host_tuning.plugins.module_utils._ledger import Ledger

OWNER = _nvml.LEDGER_OWNER
SETTINGS = ('persistence_mode', 'mig_mode', 'compute_mode', 'power_limit', 'application_clocks', 'locked_clocks')

BOOT_UNIT = 'inference-nvidia-settings.service'
BOOT_UNIT_PATH = _systemd.unit_path(BOOT_UNIT)
BOOT_LINK = _systemd.wants_link(BOOT_UNIT)
BOOT_SETTINGS = '/etc/inference-host-tuning/nvidia.json'
BOOT_PROGRAM = '/usr/local/libexec/inference-host-tuning/nvidia-apply'
BOOT_FILES = (BOOT_SETTINGS, BOOT_PROGRAM, BOOT_UNIT_PATH)
# The settings the boot program re-applies (a pending MIG mode is kept by the GPU itself).
BOOT_KEYS = _nvidia_apply.ORDER
PERSISTENCED = 'nvidia-persistenced.service'
UNITS_KEY = _change.UNIT_STATES[1]  # ledger extra nvidia_gpu/units: {unit: {'enabled', 'active'}} before

ARGUMENT_SPEC = dict(
    gpus=dict(type='list', elements='str', default=['all']),
    state=dict(type='str', choices=['present', 'absent'], default='present'),
    persistence_mode=dict(type='bool'),
    power_limit=dict(type='str'),
    mig_mode=dict(type='str', choices=['enabled', 'disabled']),
    compute_mode=dict(type='str', choices=['default', 'exclusive_process', 'prohibited']),
    application_clocks=dict(type='raw'),
    locked_clocks=dict(type='raw'),
    unsupported=dict(type='str', choices=['fail', 'skip'], default='fail'),
    boot_apply=dict(type='bool', default=False),
    persistenced=dict(type='bool', default=False),
    boot_python=dict(type='path', default='/usr/bin/python3'),
    numa_map_file=dict(type='path'),
)


class Change(object):
    """One setting to change on one GPU: what it is, and the NVML call that makes it."""

    def __init__(self, setting, before, after, fn, *args):
        self.setting = setting
        self.before = before
        self.after = after
        self.fn = fn
        self.args = args
        self.done = None  # called after a successful apply

    def apply(self, gpu):
        _nvml.call(self.fn, gpu.handle, *self.args, gpu=gpu)
        if self.done is not None:
            self.done()


class Plan(object):

    def __init__(self, gpu):
        self.gpu = gpu
        self.values = {}    # setting -> (before, after) for every managed setting
        self.changes = []
        self.skipped = []
        self.original = None
        self.mig = None

    def add(self, setting, before, after, fn=None, *args):
        self.values[setting] = (before, after)
        if before != after:
            self.changes.append(Change(setting, before, after, fn, *args))
            return self.changes[-1]
        return None

    def skip(self, setting, reason):
        self.skipped.append({'index': self.gpu.index, 'uuid': self.gpu.uuid, 'setting': setting, 'reason': reason})


# -- input validation ----------------------------------------------------------
def _positive_int(value):
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def validate(module):
    """The requested settings in canonical form; fail_json for what argument_spec cannot say."""
    p = module.params
    want = {}
    if p['persistence_mode'] is not None:
        want['persistence_mode'] = p['persistence_mode']
    if p['power_limit'] is not None:
        value = p['power_limit'].strip().lower()
        if value not in ('max', 'default') and _positive_int(value) is None:
            module.fail_json(msg='power_limit: %r is not a number of watts (a positive integer), max or default'
                                 % (p['power_limit'],))
        want['power_limit'] = value if value in ('max', 'default') else _positive_int(value)
    if p['mig_mode'] is not None:
        want['mig_mode'] = p['mig_mode']
    if p['compute_mode'] is not None:
        want['compute_mode'] = p['compute_mode']
    for option, keys in (('application_clocks', ('mem', 'sm')), ('locked_clocks', ('min', 'max'))):
        value = p[option]
        if value is None:
            continue
        if isinstance(value, str) and value.strip().lower() == 'reset':
            want[option] = 'reset'
            continue
        if not isinstance(value, dict) or set(value) != set(keys) or any(_positive_int(value[k]) is None for k in keys):
            module.fail_json(msg='%s: %r is not valid: give reset or a dictionary with exactly %s, each a positive '
                                 'integer in MHz' % (option, value, ' and '.join(keys)))
        want[option] = dict((k, _positive_int(value[k])) for k in keys)
    if 'locked_clocks' in want and want['locked_clocks'] != 'reset' \
            and want['locked_clocks']['min'] > want['locked_clocks']['max']:
        module.fail_json(msg='locked_clocks: min (%d MHz) is above max (%d MHz)'
                             % (want['locked_clocks']['min'], want['locked_clocks']['max']))
    return want


def validate_paths(module):
    """boot_python and numa_map_file: absolute, normalised, a valid ExecStart word, in the allowed places."""
    for option in ('boot_python', 'numa_map_file'):
        value = module.params[option]
        if value is not None and not os.path.isabs(value):
            module.fail_json(msg='%s: %r is not an absolute path; give the full path (for example %s).'
                                 % (option, value, '/usr/bin/python3' if option == 'boot_python'
                                    else '/etc/inference-host-tuning/gpu-numa.json'))
    boot_python = module.params['boot_python']
    if boot_python is not None and os.path.normpath(boot_python) != boot_python:
        module.fail_json(msg='Nothing was changed: boot_python: %r is not a normalised absolute path (no "." or '
                             '".." parts, no double or trailing slashes)' % (boot_python,))
    try:
        render_unit(boot_python)
    except _formats.FormatError as e:
        module.fail_json(msg='Nothing was changed: %s' % e)
    where = module.params['numa_map_file']
    error = _ledger.location_error(OWNER, where, 'numa_map_file') if where else None
    if error:
        module.fail_json(msg='Nothing was changed: %s' % error)


# -- planning ------------------------------------------------------------------
def originals(gpu):
    """What the ledger records before the first change of a GPU."""
    power = gpu.power()
    return {'index': gpu.index, 'name': gpu.name, 'pci_bus_id': gpu.bus_id,
            'persistence_mode': gpu.persistence_mode(), 'power_limit_mw': power['current'],
            'compute_mode': gpu.compute_mode(), 'applications_clocks': gpu.applications_clocks()}


def locked_in_ledger(ledger, gpu):
    """The locked clocks the module set in this boot ({'min','max'}), or None (unlocked as far as known)."""
    rec = ledger.get_extra(OWNER, gpu.uuid) or {}
    locked = rec.get('locked_clocks')
    if not locked or locked.get('boot_id') != _nvml.boot_id():
        return None
    return {'min': locked['min'], 'max': locked['max']}


def remember_locked(ledger, gpu, clocks):
    rec = dict(ledger.get_extra(OWNER, gpu.uuid) or {})
    if clocks is None:
        rec.pop('locked_clocks', None)
    else:
        rec['locked_clocks'] = {'min': clocks['min'], 'max': clocks['max'], 'boot_id': _nvml.boot_id()}
    ledger.set_extra(OWNER, gpu.uuid, rec, overwrite=True)


def plan_present(gpu, want, ledger):
    plan = Plan(gpu)
    plan.original = originals(gpu)
    for setting in SETTINGS:
        if setting not in want:
            continue
        try:
            _plan_setting(plan, setting, want[setting], ledger)
        except _nvml.NvmlError as e:
            if not e.unsupported:
                raise
            plan.values.pop(setting, None)
            plan.skip(setting, str(e))
        except _nvidia_apply.Unsupported as e:
            plan.skip(setting, str(e))
    return plan


def _plan_setting(plan, setting, value, ledger):
    """One requested setting: the MIG mode here, the others by the planner the boot program uses."""
    gpu = plan.gpu
    if setting == 'mig_mode':
        _plan_mig(plan, value)
        return
    locked = locked_in_ledger(ledger, gpu) if setting == 'locked_clocks' else None
    before, after, fn, args = _nvidia_apply.plan(gpu, setting, value, locked)
    change = plan.add(setting, before, after, fn, *args)
    if change is not None and setting == 'locked_clocks':
        change.done = lambda: remember_locked(ledger, gpu, after)


def _plan_mig(plan, value):
    """MIG: compared with the pending mode (a change is pending until a GPU reset)."""
    gpu = plan.gpu
    mig = _nvml.call('nvmlDeviceGetMigMode', gpu.handle, gpu=gpu)
    current, pending = (_nvml.MIG_MODES.get(v, str(v)) for v in mig)
    plan.mig = [current, pending]
    change = plan.add('mig_mode', pending, value, 'nvmlDeviceSetMigMode', _nvml.MIG_MODE_VALUES[value])
    if change is not None:
        plan.mig = [current, value]


def plan_absent(gpu, ledger):
    plan = Plan(gpu)
    rec = ledger.get_extra(OWNER, gpu.uuid)
    if not rec:
        return plan
    if rec.get('persistence_mode') is not None:
        current = gpu.persistence_mode()
        if current is not None:
            plan.add('persistence_mode', current, rec['persistence_mode'],
                     'nvmlDeviceSetPersistenceMode', 1 if rec['persistence_mode'] else 0)
    if rec.get('power_limit_mw') is not None:
        current = gpu.power()['current']
        if current is not None:
            plan.add('power_limit', _nvml.watts(current), _nvml.watts(rec['power_limit_mw']),
                     'nvmlDeviceSetPowerManagementLimit', rec['power_limit_mw'])
    mode = rec.get('compute_mode')
    if mode in _nvml.COMPUTE_MODE_VALUES:
        current = gpu.compute_mode()
        if current is not None:
            plan.add('compute_mode', current, mode, 'nvmlDeviceSetComputeMode', _nvml.COMPUTE_MODE_VALUES[mode])
    clocks = rec.get('applications_clocks')
    if clocks:
        current = gpu.applications_clocks()
        if current is not None:
            if clocks == gpu.applications_clocks(default=True):
                plan.add('application_clocks', current, clocks, 'nvmlDeviceResetApplicationsClocks')
            else:
                plan.add('application_clocks', current, clocks, 'nvmlDeviceSetApplicationsClocks',
                         clocks['mem'], clocks['sm'])
    locked = locked_in_ledger(ledger, gpu)
    plan.add('locked_clocks', locked, None, 'nvmlDeviceResetGpuLockedClocks')
    return plan


# -- reporting -----------------------------------------------------------------
def diff_of(plan):
    show = _nvidia_apply.show
    before = ''.join('%s: %s\n' % (s, show(s, plan.values[s][0])) for s in SETTINGS if s in plan.values)
    after = ''.join('%s: %s\n' % (s, show(s, plan.values[s][1])) for s in SETTINGS if s in plan.values)
    header = 'GPU %d %s (%s)' % (plan.gpu.index, plan.gpu.uuid, plan.gpu.bus_id)
    return {'before_header': header, 'after_header': header, 'before': before, 'after': after}


def gpu_result(plan):
    result = plan.gpu.ident()
    result.update(
        changed=bool(plan.changes),
        settings=dict((s, {'before': b, 'after': a}) for s, (b, a) in plan.values.items()),
        skipped=[dict((k, v) for k, v in s.items() if k in ('setting', 'reason')) for s in plan.skipped],
        mig=None if plan.mig is None else {'current': plan.mig[0], 'pending': plan.mig[1]},
        reset_required=plan.mig is not None and plan.mig[0] != plan.mig[1],
    )
    return result


# -- boot files ----------------------------------------------------------------
def program_text(module):
    """The boot program: the text of module_utils/_nvidia_apply.py, shipped inside this module."""
    path = getattr(_nvidia_apply, '__file__', None) or ''
    if path.endswith('.py') and os.path.isfile(path):
        with open(path, 'rb') as f:
            return to_text(f.read())
    package, _sep, name = _nvidia_apply.__name__.rpartition('.')
    data = pkgutil.get_data(package, name + '.py')  # inside the AnsiballZ zip
    if data is None:
        module.fail_json(msg='The boot program (module_utils/_nvidia_apply.py) could not be read from the module '
                             'payload (%s); nothing was changed. Reinstall the collection.' % path)
    return to_text(data)


def render_unit(python):
    return _formats.unit([
        ('Unit', [
            ('Description', 'Re-apply inference.host_tuning NVIDIA GPU settings through NVML'),
            ('After', 'nvidia-persistenced.service systemd-modules-load.service'),
            ('ConditionPathExists', BOOT_SETTINGS),
        ]),
        ('Service', [
            ('Type', 'oneshot'),
            ('RemainAfterExit', 'yes'),
            ('ExecStart', _formats.exec_line([python, BOOT_PROGRAM, BOOT_SETTINGS], 'boot_python')),
        ]),
        ('Install', [('WantedBy', 'multi-user.target')]),
    ], header=_files.header(OWNER) + (
        'Re-applies the NVIDIA GPU settings at boot through NVML (NVML forgets them when the driver\n'
        'is reloaded or the host boots). After= is ordering only: without nvidia-persistenced it does nothing.'))


def render_settings(selectors, gpus, want, unsupported):
    data = {
        'managed_by': 'inference.host_tuning.nvidia_gpu',
        'gpus': 'all' if [str(s).strip() for s in selectors] == ['all'] else [g.uuid for g in gpus],
        'unsupported': unsupported,
        'settings': dict((k, v) for k, v in want.items() if k in BOOT_KEYS),
    }
    return _formats.json_text(data, BOOT_SETTINGS)


def render_numa_map(numa_map):
    return _formats.json_text(numa_map, 'numa_map_file')


class BootFiles(object):
    """The boot unit, its program and settings, the enablement link and the NUMA map: planned, then applied."""

    def __init__(self, module, ledger):
        self.module = module
        self.ledger = ledger
        self.files = []       # ManagedFile to write, or an absent_file() plan (it has ``recorded``)
        self.link = None      # 'link' | 'unlink' | None
        self.actions = []
        self.diff = []

    def plan_present(self, selectors, gpus, want, numa_map):
        p = self.module.params
        if p['boot_apply']:
            self.files = [_files.ManagedFile(BOOT_SETTINGS, render_settings(selectors, gpus, want, p['unsupported'])),
                          _files.ManagedFile(BOOT_PROGRAM, program_text(self.module)),
                          _files.ManagedFile(BOOT_UNIT_PATH, render_unit(p['boot_python']))]
            if not _systemd.is_linked(BOOT_UNIT):
                self.link = 'link'
        else:
            self.files = [_change.absent_file(self.ledger, path, OWNER) for path in BOOT_FILES]
            self._plan_unlink()
        if p['numa_map_file']:
            self.files.append(_files.ManagedFile(p['numa_map_file'], render_numa_map(numa_map)))
        self._plan_diff()

    def plan_absent(self):
        paths = [path for path in self.ledger.files_of(OWNER) if path != BOOT_LINK]
        paths += [path for path in BOOT_FILES if path not in paths]
        self.files = [_change.absent_file(self.ledger, path, OWNER) for path in paths]
        self._plan_unlink()
        self._plan_diff()

    def _plan_unlink(self):
        if not _systemd.is_linked(BOOT_UNIT):
            return
        if BOOT_LINK in self.ledger.files_of(OWNER) \
                or _files.is_ours(_host.read_text_file(BOOT_UNIT_PATH), OWNER):
            self.link = 'unlink'

    def _plan_diff(self):
        for f in self.files:
            if f.changed:
                self.diff.append(f.diff())
        if self.link:
            target = 'symlink to %s\n' % BOOT_UNIT_PATH
            self.diff.append(_files.file_diff(BOOT_LINK, None if self.link == 'link' else target,
                                              target if self.link == 'link' else None))

    @property
    def changed(self):
        return bool(self.link) or any(f.changed for f in self.files)

    def predicted_actions(self):
        actions = [{'path': f.path, 'action': 'removed' if f.desired is None else 'written'}
                   for f in self.files if f.changed]
        if self.link:
            actions.append({'path': BOOT_LINK, 'action': self.link + 'ed'})
        return actions

    def apply(self):
        """Write (recording originals first), remove or restore; stop and reload systemd as needed."""
        unit_changed = any(f.changed and f.path == BOOT_UNIT_PATH for f in self.files)
        booted = _systemd.booted(self.module)
        systemctl = _systemd.Systemctl(self.module) if booted else None
        if self.link == 'unlink' and systemctl is not None and systemctl.is_active(BOOT_UNIT):
            # Stopping the oneshot changes no GPU setting (it has no ExecStop); it only unloads cleanly.
            systemctl.run('stop', BOOT_UNIT, check=False)
        if self.link == 'unlink':
            if BOOT_LINK in self.ledger.files_of(OWNER):
                self.ledger.restore_file(BOOT_LINK)
            else:
                _files.remove(BOOT_LINK)
        for f in self.files:
            if f.changed:
                self._apply_file(f)
        if self.link == 'link':
            self._link()
        self.actions = self.predicted_actions()
        if unit_changed and systemctl is not None:
            systemctl.daemon_reload()

    def _apply_file(self, f):
        if hasattr(f, 'recorded'):
            _change.restore_file(self.module, self.ledger, f)
        elif f.path in self.ledger.files_of(OWNER) and f.desired == self.ledger.original_content(f.path):
            self.ledger.restore_file(f.path)  # written back to what was there before us
        else:
            f.apply(self.module, self.ledger, OWNER)
        self.ledger.save()

    def _link(self):
        self.ledger.remember_file(BOOT_LINK, OWNER)
        self.ledger.save()
        full = _host.host_path(BOOT_LINK)
        if not os.path.isdir(os.path.dirname(full)):
            os.makedirs(os.path.dirname(full), 0o755)
        os.symlink(BOOT_UNIT_PATH, full)


class Persistenced(object):
    """nvidia-persistenced.service: enabled and started on request, put back as recorded (the steps revert's
    UnitStates takes, _systemd.restore_steps)."""

    def __init__(self, module, ledger):
        self.module = module
        self.ledger = ledger
        self.unit_file = _systemd.find_unit(PERSISTENCED)
        self.systemctl = _systemd.Systemctl(module) if self.unit_file and _systemd.booted(module) else None
        self.now = _systemd.unit_state(self.systemctl, PERSISTENCED) if self.systemctl else None
        self.target = self.now
        self.steps = []

    def recorded(self):
        return (self.ledger.get_extra(OWNER, UNITS_KEY) or {}).get(PERSISTENCED)

    def plan_present(self):
        if not self.module.params['persistenced'] or not self.unit_file:
            return
        if self.systemctl is None:
            self.module.warn('%s is installed but systemd is not running here: not enabled or started.' % PERSISTENCED)
            return
        self.target = {'enabled': True, 'active': True}
        self.steps = _systemd.steps_to(self.target, self.now, PERSISTENCED)

    def plan_absent(self):
        before = self.recorded()
        if before is None or self.systemctl is None:
            return
        self.target = {'enabled': bool(before.get('enabled')), 'active': bool(before.get('active'))}
        self.steps = _systemd.restore_steps(self.systemctl, {PERSISTENCED: before})

    def apply(self, state):
        if state == 'present' and self.steps:
            units = dict(self.ledger.get_extra(OWNER, UNITS_KEY) or {})
            units.setdefault(PERSISTENCED, self.now)
            self.ledger.set_extra(OWNER, UNITS_KEY, units, overwrite=True)
            self.ledger.save()
        for step in self.steps:
            self.systemctl.run(*step)
        if state == 'absent' and self.recorded() is not None and self.systemctl is not None:
            units = dict(self.ledger.get_extra(OWNER, UNITS_KEY) or {})
            units.pop(PERSISTENCED, None)
            if units:
                self.ledger.set_extra(OWNER, UNITS_KEY, units, overwrite=True)
            else:
                self.ledger.forget_extra_key(OWNER, UNITS_KEY)

    def report(self):
        if not self.unit_file:
            return None
        out = {'unit': PERSISTENCED, 'changed': bool(self.steps)}
        out.update(self.target or {'enabled': None, 'active': None})
        return out


# -- the run -------------------------------------------------------------------
class Run(object):
    """One run: validate -> plan from the GPUs and the host -> apply (not in check mode) -> result."""

    def __init__(self, module):
        self.module = module
        self.state = module.params['state']
        self.want = {}
        self.gpus = []
        self.plans = []
        self.numa_map = {}
        self.ledger = None
        self.boot = None
        self.daemon = None
        self.files = []
        self.boot_changed = False
        self.applied = []

    def validate(self):
        self.want = validate(self.module) if self.state == 'present' else {}
        validate_paths(self.module)

    def plan(self, nvml):
        """Read every chosen GPU and plan it, then the boot files and the daemon; nothing is changed."""
        module = self.module
        try:
            self.gpus = nvml.select(module.params['gpus'])
        except _nvml.SelectionError as e:
            module.fail_json(msg=str(e))
        except _nvml.NvmlError as e:
            module.fail_json(msg=str(e), nvml_error=e.text)
        self.ledger = Ledger(module)
        try:
            self.plans = [self._plan_gpu(gpu) for gpu in self.gpus]
            self.numa_map = dict((str(gpu.index), gpu.numa_node()) for gpu in nvml.gpus())
        except _nvidia_apply.Invalid as e:
            module.fail_json(msg=str(e))
        except _nvml.NvmlError as e:
            module.fail_json(msg=str(e), nvml_error=e.text, failed_gpu=e.gpu.ident() if e.gpu else None)
        self._plan_host()
        self._refuse_unsupported()
        self.files = self.boot.predicted_actions()
        self.boot_changed = self.boot.changed

    def _plan_gpu(self, gpu):
        if self.state == 'absent':
            return plan_absent(gpu, self.ledger)
        plan = plan_present(gpu, self.want, self.ledger)
        if plan.mig is None:
            mig = gpu.mig_mode()
            plan.mig = list(mig) if mig else None
        return plan

    def _plan_host(self):
        self.boot = BootFiles(self.module, self.ledger)
        self.daemon = Persistenced(self.module, self.ledger)
        if self.state == 'present':
            self.boot.plan_present(self.module.params['gpus'], self.gpus, self.want, self.numa_map)
            self.daemon.plan_present()
        else:
            self.boot.plan_absent()
            self.daemon.plan_absent()

    def _refuse_unsupported(self):
        skipped = [s for p in self.plans for s in p.skipped]
        if skipped and self.module.params['unsupported'] == 'fail':
            self.module.fail_json(
                msg='Not supported, nothing was changed: %s. Set unsupported=skip to leave such settings '
                    'alone on the GPUs that lack them.' % '; '.join(
                        '%s on GPU %d' % (s['setting'], s['index']) for s in skipped),
                unsupported_settings=skipped, applied=[])

    def apply(self):
        """GPU by GPU (a refusal stops the run, see apply_plan), then the boot files and the daemon."""
        for plan in self.plans:
            apply_plan(self.module, plan, self.ledger, self.state, self.applied, self.plans)
            if self.state == 'absent':
                _nvml.forget_gpu(self.ledger, plan.gpu.uuid)
        for plan in self.plans:
            if plan.mig is not None:
                mig = plan.gpu.mig_mode()
                plan.mig = list(mig) if mig else None
        self.ledger.save()
        # The boot files follow the GPU settings: the unit never re-applies what NVML refused.
        if self.boot_changed:
            self.boot.apply()
        self.daemon.apply(self.state)
        self.ledger.save()

    def result(self):
        results = [gpu_result(p) for p in self.plans]
        reset_required = any(r['reset_required'] for r in results)
        linked = _systemd.is_linked(BOOT_UNIT)
        if self.module.check_mode and self.boot.link:
            linked = self.boot.link == 'link'
        return dict(
            changed=any(r['changed'] for r in results) or self.boot_changed or bool(self.daemon.steps),
            gpus=results,
            applied=self.applied,
            skipped_settings=[s for p in self.plans for s in p.skipped],
            reset_required=reset_required,
            reboot_required=reset_required,
            numa_map=self.numa_map,
            files=self.files,
            boot_unit_enabled=linked,
            persistenced=self.daemon.report(),
            persistenced_unit=self.daemon.unit_file,
            diff=[diff_of(p) for p in self.plans if p.values] + self.boot.diff,
        )


def apply_plan(module, plan, ledger, state, applied, plans):
    gpu = plan.gpu
    done = []
    if plan.changes and state == 'present':
        ledger.set_extra(OWNER, gpu.uuid, plan.original)
    for change in list(plan.changes):
        try:
            change.apply(gpu)
        except _nvml.NvmlError as e:
            if e.unsupported and module.params['unsupported'] == 'skip':
                plan.skip(change.setting, str(e))
                plan.changes.remove(change)
                plan.values.pop(change.setting, None)
                continue
            if done:
                applied.append({'index': gpu.index, 'uuid': gpu.uuid, 'settings': done})
            ledger.save()
            failed = gpu.ident()
            failed['setting'] = change.setting
            module.fail_json(
                msg='%s while setting %s. %s' % (
                    e, change.setting,
                    'Applied before the failure: %s.' % '; '.join(
                        'GPU %d: %s' % (a['index'], ', '.join(a['settings'])) for a in applied)
                    if applied else 'Nothing was applied before the failure.'),
                nvml_error=e.text, applied=applied, failed_gpu=failed,
                gpus=[gpu_result(p) for p in plans])
        done.append(change.setting)
    if done:
        applied.append({'index': gpu.index, 'uuid': gpu.uuid, 'settings': done})


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    with _files.refusals(module):
        run = Run(module)
        run.validate()
        _change.record_request(module, OWNER, _change.pick(module.params, _nvidia_apply.ORDER + ('mig_mode',)),
                               present=module.params['state'] == 'present')
        with _nvml.Session(module) as nvml:
            run.plan(nvml)
            if not module.check_mode:
                run.apply()
        module.exit_json(**run.result())


if __name__ == '__main__':
    main()
