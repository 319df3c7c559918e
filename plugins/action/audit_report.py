# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Action of inference.host_tuning.audit_report (documented in plugins/modules/audit_report.py).

Runs on the controller only: reads every play host's host_audit result from hostvars and writes
the fleet report (JSON and a self-contained HTML page) with atomic writes.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import time

from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase

from ansible_collections.inference.host_tuning.plugins.plugin_utils import _audit_report

JSON_NAME = 'fleet-audit.json'
HTML_NAME = 'fleet-audit.html'


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    BYPASS_HOST_LOOP = True
    _requires_connection = False
    _VALID_ARGS = frozenset(('dest', 'hosts', 'result_var', 'fail_on_drift'))

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        _validation, args = self.validate_argument_spec(argument_spec=dict(
            dest=dict(type='path', default='audit-report'),
            hosts=dict(type='list', elements='str'),
            result_var=dict(type='str', default='audit_report'),
            fail_on_drift=dict(type='bool', default=False),
        ))
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp

        names = args['hosts'] if args['hosts'] is not None else list(task_vars.get('ansible_play_hosts_all') or [])
        hostvars = task_vars.get('hostvars') or {}
        results = {}
        for name in names:
            try:
                host = hostvars[name]
            except KeyError:
                results[name] = None
                continue
            try:
                results[name] = host.get(args['result_var']) if hasattr(host, 'get') else None
            except AnsibleError as e:
                results[name] = {'failed': True, 'msg': to_text(e)}
        report = _audit_report.fleet(results, time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()))

        dest = os.path.abspath(args['dest'])
        paths = {'json': os.path.join(dest, JSON_NAME), 'html': os.path.join(dest, HTML_NAME)}
        lines = [_audit_report.host_line(n, report['hosts'][n]) for n in sorted(report['hosts'])]
        lines.append(_audit_report.summary_line(report))
        written = []
        if self._task.check_mode:
            lines.append('Check mode: the report would be written to %s and %s' % (paths['html'], paths['json']))
        else:
            try:
                if not os.path.isdir(dest):
                    os.makedirs(dest, 0o755)
                for path, text in ((paths['json'], _audit_report.to_json(report)),
                                   (paths['html'], _audit_report.to_html(report))):
                    if _audit_report.write_atomic(path, text):
                        written.append(path)
            except (IOError, OSError) as e:
                result.update(failed=True, msg='Cannot write the fleet report in %s: %s; set dest (audit_output_dir '
                                               'in audit.yml) to a directory you can write' % (dest, to_text(e)))
                return result
            lines += ['HTML report: %s' % paths['html'], 'JSON: %s' % paths['json']]

        s = report['summary']
        # The report is output on the controller, as a debug message is: no host changes, so the
        # recap and change reports of an audit run stay changed=0.
        result.update(changed=False, written=written, summary=s, html=paths['html'], json=paths['json'],
                      msg=lines, _ansible_verbose_always=True)
        if args['fail_on_drift'] and (s['drift'] or s['hosts_unreachable']):
            result.update(failed=True, msg=lines + [
                'Drift on %d host(s) (%d setting(s)), %d host(s) not audited; see %s'
                % (s['hosts_with_drift'], s['drift'], s['hosts_unreachable'], paths['html'])])
        return result
