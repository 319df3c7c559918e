#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: npu_health
short_description: Read the health of Huawei Ascend NPUs with npu-smi
version_added: 0.2.0
description:
  - Runs C(npu-smi info -t health -i N) (an argv list, no shell) once per NPU id of O(npus) and reads its
    C(Health Status), C(Error Code) and C(Error Information).
  - Returns every NPU with its health (RV(npus)) and the NPUs whose health is not V(OK) (RV(unhealthy)). An NPU
    whose health cannot be read - npu-smi fails, cannot be run, or prints no C(Health Status) - has the health
    V(unreadable) and counts as unhealthy.
  - The module only reports; what to do about an unhealthy NPU is the caller's choice (the
    C(inference.host_tuning.ascend) role fails, or warns with C(ascend_allow_unhealthy)).
  - Changes nothing on the host.
author:
  - inference.host_tuning contributors (@inference-host-tuning)
requirements:
  - The Ascend driver and its C(npu-smi) tool on the managed host.
options:
  npu_smi:
    description:
      - The C(npu-smi) command - an absolute path, or a command name looked for on C(PATH), in C(/usr/local/sbin)
        and C(/usr/local/bin).
    type: str
    default: npu-smi
  npus:
    description:
      - The NPUs to ask about, as M(inference.host_tuning.inference_host_info) returns them in its C(accelerators)
        (the entries of kind C(ascend)); keys other than the ones below are ignored.
      - C(npu_id) is the NPU id npu-smi knows the NPU by (its C(-i)), an integer of at least 0. Without it (or when
        it is V(null)), C(index), the device number of C(/dev/davinciN), is the NPU id.
      - C(id) is the device, for example V(/dev/davinci3) (returned as C(device)); required.
      - C(pci_bus_id) is the PCI bus id and C(numa_node) the NUMA node (an integer of at least 0); either is
        V(null) or left out when unknown.
      - NPUs that share an NPU id (the chips of one card) are asked about once.
    type: list
    elements: dict
    required: true
seealso:
  - module: inference.host_tuning.inference_host_info
attributes:
  check_mode:
    support: full
    details: The module only reads (it runs npu-smi); it runs the same in check mode.
  platform:
    support: partial
    details: Linux hosts with Huawei Ascend NPUs, the Ascend driver and npu-smi.
extends_documentation_fragment:
  - inference.host_tuning.attributes
  - inference.host_tuning.attributes.read_only
notes:
  - A failing npu-smi does not fail the module; the NPU is V(unreadable), with npu-smi's command line, exit status
    and message in its C(detail).
'''

EXAMPLES = r'''
- name: Find the Ascend NPUs
  inference.host_tuning.inference_host_info:
    detect: [ascend]
  register: host_info

- name: Ask npu-smi for the health of every NPU
  inference.host_tuning.npu_health:
    npus: "{{ host_info.accelerators | selectattr('kind', 'equalto', 'ascend') | list }}"
  register: npu_health

- name: Stop on an unhealthy NPU
  ansible.builtin.fail:
    msg: "NPU {{ item.npu_id }} ({{ item.device }}) health {{ item.health }} {{ item.detail }}"
  loop: "{{ npu_health.unhealthy }}"

- name: A path of your own
  inference.host_tuning.npu_health:
    npu_smi: /usr/local/Ascend/driver/tools/npu-smi
    npus:
      - {npu_id: 0, id: /dev/davinci0, pci_bus_id: "0000:01:00.0", numa_node: 0}
'''

RETURN = r'''
npus:
  description: Every NPU of O(npus), in their order.
  returned: always
  type: list
  elements: dict
  contains:
    npu_id:
      description: The NPU id npu-smi was asked about.
      type: int
      returned: always
      sample: 5
    device:
      description: The device (the C(id) of the NPU in O(npus)).
      type: str
      returned: always
      sample: /dev/davinci5
    pci_bus_id:
      description: The PCI bus id, V(null) when unknown.
      type: str
      returned: always
      sample: '0000:82:00.0'
    numa_node:
      description: The NUMA node, V(null) when unknown.
      type: int
      returned: always
      sample: 1
    health:
      description:
        - npu-smi's C(Health Status) (V(OK), V(Warning), V(Alarm), V(Critical)...), or V(unreadable) when npu-smi
          failed, could not be run or printed none.
      type: str
      returned: always
      sample: Critical
    detail:
      description:
        - C(error code CODE) and the error information when npu-smi reports an error code.
        - When npu-smi failed or could not be run, its command line followed by C(failed), its exit status
          (C(rc=N)) and its message.
        - Else empty.
      type: str
      returned: always
      sample: 'error code 0x80E01801: HBM multi-bit ECC error'
  sample:
    - {npu_id: 0, device: /dev/davinci0, pci_bus_id: '0000:01:00.0', numa_node: 0, health: OK, detail: ''}
    - npu_id: 5
      device: /dev/davinci5
      pci_bus_id: '0000:82:00.0'
      numa_node: 1
      health: Critical
      detail: 'error code 0x80E01801: HBM multi-bit ECC error'
unhealthy:
  description: The entries of RV(npus) whose C(health) is not V(OK) (V(unreadable) included), same keys.
  returned: always
  type: list
  elements: dict
  sample:
    - {npu_id: 5, device: /dev/davinci5, pci_bus_id: '0000:82:00.0', numa_node: 1, health: Critical,
       detail: 'error code 0x80E01801: HBM multi-bit ECC error'}
'''

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.inference.host_tuning.plugins.module_utils import _accelerators
from ansible_collections.inference.host_tuning.plugins.module_utils import _formats


def _npu_number(value, what):
    """A non-negative integer (an int, or a string of digits), or FormatError naming ``what``."""
    if isinstance(value, str) and _formats.fullmatch('[0-9]+', value):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _formats.FormatError(what, '%r is not an integer of at least 0' % (value,))
    return value


def _optional_text(value, what):
    return None if value is None else _formats.text(value, what, allow_empty=False)


def npu_entry(npu, what):
    """One element of ``npus`` as ``{npu_id, device, pci_bus_id, numa_node}``, or FormatError."""
    numbers = [_npu_number(npu[key], '%s.%s' % (what, key))
               for key in ('npu_id', 'index') if npu.get(key) is not None]
    if not numbers:
        raise _formats.FormatError(what, 'has no npu_id and no index: which NPU npu-smi is asked about')
    npu_id = numbers[0]
    if npu.get('id') is None:
        raise _formats.FormatError(what, 'has no id (the device, for example /dev/davinci0)')
    node = npu.get('numa_node')
    return {
        'npu_id': npu_id,
        'device': _formats.text(npu['id'], what + '.id', allow_empty=False),
        'pci_bus_id': _optional_text(npu.get('pci_bus_id'), what + '.pci_bus_id'),
        'numa_node': None if node is None else _npu_number(node, what + '.numa_node'),
    }


def npu_smi_error(value):
    """Why ``value`` is not an absolute path or a bare command name, or None."""
    try:
        _formats.text(value, 'npu_smi', allow_empty=False)
    except _formats.FormatError as e:
        return str(e)
    if not value.startswith('/') and ('/' in value or value in ('.', '..')):
        return ('npu_smi: %r is neither an absolute path nor a command name (a relative path depends on the '
                'directory the module runs in)' % value)
    return None


def validate(module):
    """``(npu_smi, entries)`` once every option is right; else fail_json naming every wrong one."""
    problems = []
    error = npu_smi_error(module.params['npu_smi'])
    if error:
        problems.append(error)
    entries = []
    for i, npu in enumerate(module.params['npus']):
        try:
            entries.append(npu_entry(npu, 'npus[%d]' % i))
        except _formats.FormatError as e:
            problems.append(str(e))
    if problems:
        module.fail_json(msg='Nothing was changed: %s' % '; '.join(problems))
    return module.params['npu_smi'], entries


def resolve(module, npu_smi):
    """The command to run: an absolute path as it is; a name where get_bin_path finds it, else the name
    (running it then fails, and that failure is the NPU's detail)."""
    if npu_smi.startswith('/'):
        return npu_smi
    return module.get_bin_path(npu_smi, opt_dirs=list(_accelerators.NPU_SMI_DIRS)) or npu_smi


def ask(module, tool, npu_id):
    """``{health, error_code, error_information, detail}`` of NPU ``npu_id`` from npu-smi."""
    argv = [tool, 'info', '-t', 'health', '-i', str(npu_id)]
    try:
        rc, out, err = module.run_command(argv, expand_user_and_vars=False, handle_exceptions=False)
    except OSError as e:    # not there, not executable
        return _accelerators.npu_health_failed(argv, e.errno, '', to_native(e))
    if rc != 0:
        return _accelerators.npu_health_failed(argv, rc, out, err)
    return _accelerators.parse_npu_health(out)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            npu_smi=dict(type='str', default='npu-smi'),
            npus=dict(type='list', elements='dict', required=True),
        ),
        supports_check_mode=True,
    )
    npu_smi, entries = validate(module)
    tool = resolve(module, npu_smi)
    answers = {}
    for entry in entries:
        if entry['npu_id'] not in answers:
            answers[entry['npu_id']] = ask(module, tool, entry['npu_id'])
        answer = answers[entry['npu_id']]
        entry.update(health=answer['health'], detail=answer['detail'])
    module.exit_json(changed=False, npus=entries,
                     unhealthy=[e for e in entries if e['health'] != _accelerators.HEALTH_OK])


if __name__ == '__main__':
    main()
