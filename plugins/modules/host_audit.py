#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: host_audit
short_description: Audit a host against the tuning its role variables ask for, in one call
version_added: 0.1.0
description:
  - Builds, on the controller, what C(playbooks/site.yml) would apply to the host - from the same role
    variables (the host's inventory, group and extra vars where set, else the defaults of the C(base),
    C(nvidia), C(ascend), C(tpu) and C(inference_service) roles) - as one desired profile per kind of host.
  - Then runs M(inference.host_tuning.inference_host_info) once on the host, which detects its accelerators
    and audits it against the profile of its kind. One round trip per host; nothing is changed.
  - What is audited per kind, as C(site.yml) applies it - on every kind unless C(base_state=absent) or the
    accelerator role's C(*_include_base) is false - the sysctl profile (C(base_sysctl_profile)) and
    C(base_sysctl_settings) (on Ascend hosts also C(ascend_sched_migration_cost_ns)), THP and static hugepage
    pools (C(tpu_thp_*) and C(tpu_hugepages_pools) on TPU hosts, else C(base_thp_*) and
    C(base_hugepages_pools)), C(base_cpu_governor), memlock unlimited (C(base_memlock_unlimited)) and
    C(base_io_scheduler) on C(base_io_scheduler_devices); on NVIDIA hosts the GPU persistence mode, power
    limit and compute mode (C(nvidia_persistence_mode), C(nvidia_power_limit), C(nvidia_compute_mode)); and
    where a service is defined (C(inference_service_model) or C(inference_service_command)), that
    C(inference_service_name) runs and has C(inference_service_allocator_library) mapped when one is set.
  - This is the per-host half of C(playbooks/audit.yml); M(inference.host_tuning.audit_report) writes the fleet
    report from the results.
author:
  - inference.host_tuning contributors (@inference-host-tuning)
options:
  kind:
    description:
      - The kind to treat the host as - V(auto) (detected), V(nvidia), V(ascend), V(tpu) or V(none).
      - Defaults to the host's C(inference_accelerator_kind), else V(auto), as in C(site.yml).
    type: str
  sysfs_root:
    description:
      - Where detection reads the PCI tree (see M(inference.host_tuning.inference_host_info)).
      - Defaults to the host's C(inference_sysfs_root), else C(/sys).
    type: path
  devfs_root:
    description:
      - Where detection looks for device files.
      - Defaults to the host's C(inference_devfs_root), else C(/dev).
    type: path
  use_nvml:
    description: As O(inference.host_tuning.inference_host_info#module:use_nvml).
    type: str
    choices: [auto, never]
    default: auto
  desired:
    description:
      - Audit against this profile (the format of O(inference.host_tuning.inference_host_info#module:desired))
        whatever the host's kind, instead of the one its role variables ask for.
    type: dict
attributes:
  check_mode:
    support: full
    details: The host is only read; check mode and a normal run are the same.
  diff_mode:
    support: none
  idempotent:
    support: full
  platform:
    support: full
    details:
      - Linux, as M(inference.host_tuning.inference_host_info).
extends_documentation_fragment:
  - inference.host_tuning.attributes
  - inference.host_tuning.attributes.action
notes:
  - A role variable of the wrong type (for example a string for C(base_sysctl_settings)), an unknown
    C(inference_accelerator_kind) or a desired profile the module rejects fails the task with a message
    naming the variable; the host is not read.
seealso:
  - module: inference.host_tuning.inference_host_info
  - module: inference.host_tuning.audit_report
'''

EXAMPLES = r'''
- name: Audit every host against what site.yml would apply to it
  inference.host_tuning.host_audit:
  register: audit_report

- name: Write the fleet report (JSON and HTML) on the controller
  inference.host_tuning.audit_report:
    dest: /srv/reports/inference
  run_once: true

- name: Audit against a profile of our own instead
  inference.host_tuning.host_audit:
    desired:
      sysctl_profile: inference_throughput
      memlock: unlimited
  register: audit_report
'''

RETURN = r'''
kind:
  description: The kind the host was audited as (detected, or forced by O(kind) / C(inference_accelerator_kind)).
  returned: success
  type: str
  sample: nvidia
accelerator_kind:
  description: The kind detected (the most devices), V(none) without accelerators.
  returned: success
  type: str
  sample: nvidia
accelerator_counts:
  description: The number of devices of each kind.
  returned: success
  type: dict
  sample: {nvidia: 8, ascend: 0, tpu: 0}
accelerators:
  description: The accelerators found, as RV(inference.host_tuning.inference_host_info#module:accelerators).
  returned: success
  type: list
  elements: dict
kernel:
  description: The running kernel's release.
  returned: success
  type: str
  sample: 6.1.0-27-amd64
numa:
  description: The NUMA nodes with their CPUs and memory, as RV(inference.host_tuning.inference_host_info#module:numa).
  returned: success
  type: dict
desired:
  description: The profile the host was audited against.
  returned: success
  type: dict
  sample: {sysctl_profile: inference_latency, memlock: unlimited, gpu: {persistence_mode: true, power_limit: max}}
summary:
  description: The number of items per status (every status present, V(0) where none).
  returned: success
  type: dict
  sample: {ok: 27, drift: 2, pending_reboot: 0, unavailable: 1}
audit:
  description:
    - One item per audited setting - C(concern), C(setting), C(desired), C(actual), C(status) (V(ok), V(drift) or
      V(unavailable)) and C(detail).
  returned: success
  type: list
  elements: dict
  sample:
    - {concern: sysctl, setting: vm.swappiness, desired: '1', actual: '60', status: drift,
       detail: /proc/sys/vm/swappiness}
notes:
  description: What detection could not do.
  returned: success
  type: list
  elements: str
'''
