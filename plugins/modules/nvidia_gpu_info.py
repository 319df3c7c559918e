#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: nvidia_gpu_info
short_description: Read NVIDIA GPU identity, settings and NUMA placement through NVML
version_added: 0.1.0
description:
  - Reads, per NVIDIA GPU, its index, UUID, name, PCI bus id, NUMA node, memory, persistence mode,
    power limits, MIG mode, compute mode, clocks and ECC mode through NVML (the C(pynvml) bindings of
    C(nvidia-ml-py)), plus the driver and CUDA driver versions, and a GPU index to NUMA node map.
  - The NUMA node comes from NVML where the driver reports it, else from
    C(/sys/bus/pci/devices/<bus id>/numa_node); a node of V(-1) (no NUMA affinity) is returned as V(null).
  - Changes nothing.
author:
  - inference.host_tuning contributors (@inference-host-tuning)
requirements:
  - The NVIDIA driver (it provides C(libnvidia-ml.so.1)) on the managed host.
  - nvidia-ml-py (the C(pynvml) module) on the managed host.
options:
  gpus:
    description:
      - The GPUs to report. V(all), or a list of GPU indexes, UUIDs or PCI bus ids (V(17:00.0),
        V(0000:17:00.0) or V(00000000:17:00.0)).
    type: list
    elements: str
    default: [all]
seealso:
  - module: inference.host_tuning.nvidia_gpu
attributes:
  check_mode:
    support: full
    details: The module only reads.
  platform:
    support: partial
    details: Linux hosts with NVIDIA GPUs, the NVIDIA driver and nvidia-ml-py.
extends_documentation_fragment:
  - inference.host_tuning.attributes
  - inference.host_tuning.attributes.read_only
'''

EXAMPLES = r'''
- name: Read the GPUs
  inference.host_tuning.nvidia_gpu_info:
  register: gpu_info

- name: Start one server per GPU on the GPU's own NUMA node
  ansible.builtin.debug:
    msg: "GPU {{ item.index }} ({{ item.name }}) is on NUMA node {{ item.numa_node }}"
  loop: "{{ gpu_info.gpus }}"

- name: The GPUs on NUMA node 1
  ansible.builtin.debug:
    msg: "{{ gpu_info.numa_map | dict2items | selectattr('value', 'equalto', 1) | map(attribute='key') | list }}"
'''

RETURN = r'''
driver_version:
  description: The NVIDIA driver version.
  returned: always
  type: str
  sample: 550.90.07
cuda_driver_version:
  description: The newest CUDA version the driver supports.
  returned: always
  type: str
  sample: '12.4'
count:
  description: The number of GPUs reported.
  returned: always
  type: int
  sample: 3
numa_map:
  description: GPU index (as a string key) to NUMA node (V(null) when unknown).
  returned: always
  type: dict
  sample: {'0': 0, '1': 0, '2': 1}
gpus:
  description:
    - One entry per GPU, in index order. A value NVML does not support on that GPU is V(null).
    - C(power_limit) values are in watts; C(memory_total) and C(memory_used) in bytes; clocks in MHz.
  returned: always
  type: list
  elements: dict
  sample:
    - index: 1
      uuid: GPU-8a3e1f07-0000-4c2d-8b5e-00000000a1b2
      name: NVIDIA H100 80GB HBM3
      pci_bus_id: 00000000:2A:00.0
      numa_node: 0
      memory_total: 85520809984
      memory_used: 0
      persistence_mode: true
      power_limit: {current: 700, default: 700, min: 200, max: 700}
      mig: {capable: true, current: disabled, pending: disabled}
      compute_mode: default
      clocks:
        current: {sm: 345, mem: 2619}
        applications: {sm: 1980, mem: 2619}
        default_applications: {sm: 1980, mem: 2619}
      ecc: {current: true, pending: true}
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.inference.host_tuning.plugins.module_utils import _nvml


def main():
    module = AnsibleModule(
        argument_spec=dict(gpus=dict(type='list', elements='str', default=['all'])),
        supports_check_mode=True,
    )
    with _nvml.Session(module) as nvml:
        try:
            gpus = nvml.select(module.params['gpus'])
            facts = [gpu.facts() for gpu in gpus]
            driver = nvml.driver_version()
            cuda = nvml.cuda_driver_version()
        except _nvml.SelectionError as e:
            module.fail_json(msg=str(e))
        except _nvml.NvmlError as e:
            module.fail_json(msg=str(e), nvml_error=e.text, failed_gpu=e.gpu.ident() if e.gpu else None)
    module.exit_json(
        changed=False,
        driver_version=driver,
        cuda_driver_version=cuda,
        count=len(facts),
        gpus=facts,
        numa_map=dict((str(f['index']), f['numa_node']) for f in facts),
    )


if __name__ == '__main__':
    main()
