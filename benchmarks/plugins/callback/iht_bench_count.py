# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark-only callback: count tasks and module invocations per host.

Writes a JSON file (IHT_BENCH_COUNT_FILE) at the end of the run:
``{host: {tasks, skipped, changed, failed, invocations, remote_invocations, actions}}``.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: iht_bench_count
type: aggregate
short_description: Count tasks and module invocations per host (benchmarks only)
description:
  - Counts per host the tasks that ran (not skipped), the tasks that changed, and the module invocations
    (one per loop item); C(remote_invocations) leaves out actions that run on the controller only
    (set_fact, include_role, include_tasks, meta, debug, assert).
  - Writes them as JSON to the file named by E(IHT_BENCH_COUNT_FILE).
author:
  - inference.host_tuning contributors
requirements:
  - enabled in callbacks_enabled
'''

import json
import os

from ansible.plugins.callback import CallbackBase

CONTROLLER_ONLY = frozenset(
    '%s%s' % (prefix, name)
    for prefix in ('', 'ansible.builtin.', 'ansible.legacy.')
    for name in ('set_fact', 'include_role', 'include_tasks', 'import_role', 'import_tasks', 'meta',
                 'debug', 'assert', 'fail', 'add_host', 'group_by', 'include_vars')
)


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'iht_bench_count'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super(CallbackModule, self).__init__(*args, **kwargs)
        self.hosts = {}

    def _host(self, result):
        name = result._host.get_name()
        return self.hosts.setdefault(name, {'tasks': 0, 'skipped': 0, 'changed': 0, 'failed': 0,
                                            'invocations': 0, 'remote_invocations': 0, 'actions': {}})

    def _invoked(self, result):
        h = self._host(result)
        action = result._task.action
        h['invocations'] += 1
        if action not in CONTROLLER_ONLY:
            h['remote_invocations'] += 1
        h['actions'][action] = h['actions'].get(action, 0) + 1

    def _task_done(self, result, failed=False):
        h = self._host(result)
        h['tasks'] += 1
        if result._result.get('changed'):
            h['changed'] += 1
        if failed:
            h['failed'] += 1
        if not result._task.loop:
            self._invoked(result)

    def v2_runner_on_ok(self, result, **kwargs):
        self._task_done(result)

    def v2_runner_on_failed(self, result, ignore_errors=False, **kwargs):
        self._task_done(result, failed=True)

    def v2_runner_on_unreachable(self, result, **kwargs):
        self._task_done(result, failed=True)

    def v2_runner_on_skipped(self, result, **kwargs):
        self._host(result)['skipped'] += 1

    def v2_runner_item_on_ok(self, result, **kwargs):
        self._invoked(result)

    def v2_runner_item_on_failed(self, result, **kwargs):
        self._invoked(result)

    def v2_playbook_on_include(self, included_file):
        for host in included_file._hosts:
            name = host.get_name()
            h = self.hosts.setdefault(name, {'tasks': 0, 'skipped': 0, 'changed': 0, 'failed': 0,
                                             'invocations': 0, 'remote_invocations': 0, 'actions': {}})
            h['includes'] = h.get('includes', 0) + 1

    def v2_playbook_on_stats(self, stats):
        path = os.environ.get('IHT_BENCH_COUNT_FILE')
        if path:
            with open(path, 'w') as f:
                json.dump(self.hosts, f, indent=1, sort_keys=True)
