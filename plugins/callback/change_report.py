# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
name: change_report
type: aggregate
short_description: Summarise per host what a run changed and what it could not
description:
  - At the end of a playbook run, prints per host the tasks that changed something, the
    warnings modules raised (for example a runtime value skipped on a read-only C(/proc/sys)),
    the tasks that failed, and hosts that were unreachable.
  - Optionally writes the same report as JSON, one file per playbook and mode
    (C(<playbook>-check.json) or C(<playbook>-run.json)), keeping the first file of a
    directory so that a later idempotence run does not overwrite it. The Molecule scenarios
    use this to prove that a C(--check) run predicts exactly the changes of the real run.
  - Per host, the JSON also lists the modules that ran (C(modules), in the order they first ran; skipped
    tasks are not counted), so that what a C(--tags) selection ran can be checked.
version_added: 0.1.0
requirements:
  - enable in configuration (C(callbacks_enabled = inference.host_tuning.change_report))
options:
  report_dir:
    description: Directory to write the JSON reports to; nothing is written when unset.
    type: path
    env:
      - name: INFERENCE_CHANGE_REPORT_DIR
    ini:
      - section: inference_change_report
        key: report_dir
"""

import json
import os

from ansible import context
from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'inference.host_tuning.change_report'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super(CallbackModule, self).__init__(*args, **kwargs)
        self.hosts = {}
        self.playbook = 'playbook'

    def _host(self, name):
        return self.hosts.setdefault(name, {'changed': [], 'warnings': [], 'failed': [], 'unreachable': False,
                                            'modules': []})

    @staticmethod
    def _record_module(host, result):
        task = result._task
        action = getattr(task, 'resolved_action', None) or task.action
        if action and action not in host['modules']:
            host['modules'].append(action)

    @staticmethod
    def _task_name(result):
        task = result._task
        return task.get_name().strip()

    def v2_playbook_on_start(self, playbook):
        self.playbook = os.path.splitext(os.path.basename(playbook._file_name))[0]

    def _record_warnings(self, host, result):
        for w in result._result.get('warnings', []) or []:
            text = w if isinstance(w, str) else getattr(w, 'msg', str(w))
            entry = '%s: %s' % (self._task_name(result), text)
            if entry not in host['warnings']:
                host['warnings'].append(entry)

    def v2_runner_on_ok(self, result):
        host = self._host(result._host.get_name())
        self._record_module(host, result)
        if result._result.get('changed', False):
            name = self._task_name(result)
            if name not in host['changed']:
                host['changed'].append(name)
        self._record_warnings(host, result)

    def v2_runner_item_on_ok(self, result):
        self.v2_runner_on_ok(result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        host = self._host(result._host.get_name())
        self._record_module(host, result)
        if not ignore_errors:
            host['failed'].append('%s: %s' % (self._task_name(result), result._result.get('msg', 'failed')))
        self._record_warnings(host, result)

    def v2_runner_on_unreachable(self, result):
        self._host(result._host.get_name())['unreachable'] = True

    def v2_playbook_on_stats(self, stats):
        check = bool(context.CLIARGS.get('check'))
        self._display.banner('CHANGE REPORT%s' % (' (check mode: predicted)' if check else ''))
        for name in sorted(self.hosts):
            h = self.hosts[name]
            state = 'UNREACHABLE' if h['unreachable'] else ('FAILED' if h['failed'] else 'ok')
            self._display.display('%s: %s, %d changed, %d could not (warnings)' % (
                name, state, len(h['changed']), len(h['warnings'])))
            for task in h['changed']:
                self._display.display('    changed: %s' % task)
            for warning in h['warnings']:
                self._display.display('    could not: %s' % warning)
            for failure in h['failed']:
                self._display.display('    FAILED: %s' % failure)
        report_dir = self.get_option('report_dir')
        if report_dir:
            path = os.path.join(report_dir, '%s-%s.json' % (self.playbook, 'check' if check else 'run'))
            if not os.path.exists(path):
                if not os.path.isdir(report_dir):
                    os.makedirs(report_dir)
                with open(path, 'w') as f:
                    json.dump(self.hosts, f, indent=2, sort_keys=True)
