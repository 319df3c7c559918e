#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: host_audit
short_description: Audit a host against the tuning that was applied to it, in one call
version_added: 0.1.0
description:
  - Runs M(inference.host_tuning.inference_host_info) once on the host, which detects its accelerators and
    audits it against what this collection's modules were last asked to apply there - the requests they
    record in the host's restore ledger on every successful run that is not in check mode (see
    O(inference.host_tuning.inference_host_info#module:desired_recorded)). One round trip per host; nothing
    is changed.
  - So the audit follows exactly what C(playbooks/site.yml), a C(--tags) run, or an operator's own playbook
    applied - the sysctl profile and settings, THP and hugepage pools, the governor, memlock, swap, the I/O
    scheduler, the GPU persistence mode, power limit and compute mode, and the serving unit (running, its
    CPUs from its C(CPUAffinity=), its allocator) - with no copy of the roles' logic. A changed inventory
    variable is reported once C(site.yml) has applied it; C(site.yml --check --diff) shows what it would
    change before that.
  - A host with no recorded request (never converged, or reverted) gets one V(drift) item, C(converged),
    that says so.
  - This is the per-host half of C(playbooks/audit.yml); M(inference.host_tuning.audit_report) writes the fleet
    report from the results. The ledger is root-only, so run it with C(become).
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
        whatever the host's kind, instead of what was applied to it.
    type: dict
attributes:
  check_mode:
    support: full
    details: The host is only read; check mode and a normal run are the same.
  platform:
    support: full
    details:
      - Linux, as M(inference.host_tuning.inference_host_info).
extends_documentation_fragment:
  - inference.host_tuning.attributes
  - inference.host_tuning.attributes.read_only
  - inference.host_tuning.attributes.action
notes:
  - An unknown C(inference_accelerator_kind) (or O(kind)), or a detection root that cannot be resolved, fails
    the task with a message naming it before the host is read; a desired profile the module rejects, or a
    ledger it cannot trust, fails it with the module's message.
seealso:
  - module: inference.host_tuning.inference_host_info
  - module: inference.host_tuning.audit_report
'''

EXAMPLES = r'''
- name: Audit every host against what was applied to it
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
