#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: audit_report
short_description: Write the fleet drift report from every host's audit, on the controller
version_added: 0.1.0
description:
  - Reads each play host's M(inference.host_tuning.host_audit) result (a registered variable) and writes, on the
    controller, C(fleet-audit.json) (every host's kind, accelerators, kernel, summary, audit items and notes, and the
    fleet summary) and C(fleet-audit.html) (one self-contained page - inline CSS, no scripts, no external
    assets - with a table per host, drift first).
  - A host without a result (unreachable, failed or skipped before the audit) is in the report as not audited,
    with the reason where known.
  - Runs once for the whole play (it bypasses the host loop) and never connects to a host. Each file is written
    through a temporary file in the same directory and renamed, so a reader never sees half a report.
  - Prints one line per host and the fleet summary.
  - C(changed) is always V(false) - the report is output on the controller, not a change to any host, so an
    audit run's recap stays C(changed=0). RV(written) lists the files that were written.
author:
  - inference.host_tuning contributors (@inference-host-tuning)
options:
  dest:
    description:
      - The directory on the controller to write the two files to; created (mode C(0755)) when missing.
        A relative path is relative to the directory C(ansible-playbook) runs in.
    type: path
    default: audit-report
  hosts:
    description: The hosts to report. Defaults to every host of the play (C(ansible_play_hosts_all)).
    type: list
    elements: str
  result_var:
    description: The name each host's M(inference.host_tuning.host_audit) result is registered under.
    type: str
    default: audit_report
  fail_on_drift:
    description:
      - Fail (after writing the report) when a setting is in drift or a host could not be audited, so that a
        scheduled audit exits non-zero.
    type: bool
    default: false
attributes:
  bypass_host_loop:
    support: full
    description: Forces a 'global' task that does not execute per host, this bypasses per host templating and serial,
      throttle and other loop considerations.
  check_mode:
    support: full
    details: Nothing is written; the summary and the host lines are computed as in a normal run.
  diff_mode:
    support: none
  idempotent:
    support: full
    details: The report carries the time it was generated, so each run writes the files anew (RV(written)); no host
      is changed and C(changed) is V(false).
  platform:
    support: full
    details: Writes on the controller only.
extends_documentation_fragment:
  - inference.host_tuning.attributes
  - inference.host_tuning.attributes.action
seealso:
  - module: inference.host_tuning.host_audit
  - module: inference.host_tuning.inference_host_info
'''

EXAMPLES = r'''
- name: Audit each host
  inference.host_tuning.host_audit:
  register: audit_report

- name: Write the fleet report, and fail the run on drift
  inference.host_tuning.audit_report:
    dest: /srv/reports/inference
    fail_on_drift: true
'''

RETURN = r'''
summary:
  description: The fleet summary - hosts, hosts_with_drift, hosts_pending_reboot, hosts_unreachable (not audited), and
    the items per status.
  returned: unless the report cannot be written
  type: dict
  sample: {hosts: 20, hosts_with_drift: 1, hosts_pending_reboot: 2, hosts_unreachable: 0, ok: 540, drift: 2,
           pending_reboot: 2, unavailable: 40}
html:
  description: The path of the HTML report.
  returned: unless the report cannot be written
  type: str
  sample: /srv/reports/inference/fleet-audit.html
json:
  description: The path of the JSON report.
  returned: unless the report cannot be written
  type: str
  sample: /srv/reports/inference/fleet-audit.json
written:
  description: The files written (both on a normal run; none in check mode or when a file already held the same text).
  returned: unless the report cannot be written
  type: list
  elements: str
  sample: [/srv/reports/inference/fleet-audit.json, /srv/reports/inference/fleet-audit.html]
msg:
  description: One line per host, the fleet summary and where the report is.
  returned: unless the report cannot be written
  type: list
  elements: str
'''
