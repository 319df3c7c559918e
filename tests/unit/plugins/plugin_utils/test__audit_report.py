# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""_audit_report: the fleet report from per-host results, its HTML page and the atomic write."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import re
import stat

from ansible_collections.inference.host_tuning.plugins.plugin_utils import _audit_report


def _item(setting, status, concern='sysctl', desired='1', actual='1'):
    return {'concern': concern, 'setting': setting, 'desired': desired, 'actual': actual, 'status': status,
            'detail': '/proc/sys/' + setting}


def _result(kind, items):
    summary = {}
    for i in items:
        summary[i['status']] = summary.get(i['status'], 0) + 1
    return {'changed': False, 'kind': kind, 'kernel': '6.1.0-27-amd64', 'summary': summary, 'audit': items,
            'notes': [], 'accelerator_counts': {'nvidia': 4, 'ascend': 0, 'tpu': 0}}


RESULTS = {
    'gpu-01': _result('nvidia', [_item('vm.swappiness', 'ok'), _item('persistence_mode', 'ok', 'gpu', True, True)]),
    'gpu-02': _result('nvidia', [_item('vm.swappiness', 'drift', actual='60'), _item('vm.dirty_ratio', 'ok'),
                                 _item('enabled', 'unavailable', 'thp', 'madvise', None)]),
    'gpu-06': _result('nvidia', [_item('1G total', 'pending_reboot', 'hugepages', 4, 0)]),
    'gpu-03': None,
    'gpu-04': {'failed': True, 'msg': 'Cannot build the desired state of gpu-04: base_sysctl_settings must be'},
    'gpu-05': {'unreachable': True, 'msg': 'ssh: connect to host gpu-05 port 22: No route to host'},
}


def test_fleet_summary_counts_every_host():
    report = _audit_report.fleet(RESULTS, '2026-12-01T00:00:00Z')
    assert report['summary'] == {'hosts': 6, 'hosts_with_drift': 1, 'hosts_pending_reboot': 1, 'hosts_unreachable': 3,
                                 'ok': 3, 'drift': 1, 'pending_reboot': 1, 'unavailable': 1}
    hosts = report['hosts']
    assert hosts['gpu-01']['summary'] == {'ok': 2, 'drift': 0, 'pending_reboot': 0, 'unavailable': 0}
    assert _audit_report.host_line('gpu-06', hosts['gpu-06']) == (
        'gpu-06 (nvidia): 0 ok, 0 drift, 1 pending reboot, 0 unavailable - pending reboot: 1G total')
    assert hosts['gpu-02']['kernel'] == '6.1.0-27-amd64' and hosts['gpu-02']['kind'] == 'nvidia'
    assert hosts['gpu-03']['unreachable'] and 'no audit result' in hosts['gpu-03']['reason']
    assert hosts['gpu-04']['reason'] == ('the audit failed: Cannot build the desired state of gpu-04: '
                                         'base_sysctl_settings must be')
    assert hosts['gpu-05']['reason'] == 'unreachable: ssh: connect to host gpu-05 port 22: No route to host'
    # JSON round trip
    assert json.loads(_audit_report.to_json(report)) == report


def test_lines():
    report = _audit_report.fleet(RESULTS, 'now')
    assert _audit_report.host_line('gpu-02', report['hosts']['gpu-02']) == (
        'gpu-02 (nvidia): 1 ok, 1 drift, 0 pending reboot, 1 unavailable - drift: vm.swappiness')
    assert _audit_report.host_line('gpu-01', report['hosts']['gpu-01']) == (
        'gpu-01 (nvidia): 2 ok, 0 drift, 0 pending reboot, 0 unavailable')
    assert _audit_report.host_line('gpu-05', report['hosts']['gpu-05']) == (
        'gpu-05: NOT AUDITED (unreachable: ssh: connect to host gpu-05 port 22: No route to host)')
    assert _audit_report.host_entry({'unreachable': True})['reason'] == 'unreachable'
    assert _audit_report.summary_line(report) == (
        'Fleet audit: 6 host(s), 3 ok, 1 drift (1 host(s)), 1 pending reboot (1 host(s)), 1 unavailable, 3 not audited')


def test_html_stands_alone_and_escapes():
    results = dict(RESULTS)
    results['<b>evil</b>'] = _result('none', [_item('x', 'drift', desired='<script>alert(1)</script>',
                                                    actual={'a': '<i>'})])
    html = _audit_report.to_html(_audit_report.fleet(results, '2026-12-01T00:00:00Z'))
    assert html.startswith('<!DOCTYPE html>') and '<style>' in html and html.count('<table>') == 5
    assert not re.search(r'<script|<link|src=|url\(https?:', html)
    assert '&lt;script&gt;alert(1)&lt;/script&gt;' in html and '&lt;b&gt;evil&lt;/b&gt;' in html
    assert '{&quot;a&quot;: &quot;&lt;i&gt;&quot;}' in html
    for name in ('gpu-01', 'gpu-02', 'gpu-03', 'gpu-04', 'gpu-05'):
        assert '>%s</a>' % name in html
    assert html.count('<span class="badge unreachable">not audited</span>') == 6   # 3 rows + 3 sections
    assert 'the audit failed: Cannot build the desired state of gpu-04' in html


def test_html_puts_drift_first_within_a_concern():
    html = _audit_report.to_html(_audit_report.fleet({'h': RESULTS['gpu-02']}, 'now'))
    rows = re.findall(r'<tr class="(ok|drift|unavailable)"><td>(\w+)</td><td class="v">([\w.]+)</td>', html)
    assert rows == [('drift', 'sysctl', 'vm.swappiness'), ('ok', 'sysctl', 'vm.dirty_ratio'),
                    ('unavailable', 'thp', 'enabled')]


def test_write_atomic(tmp_path):
    path = str(tmp_path / 'fleet-audit.json')
    assert _audit_report.write_atomic(path, u'{"a": 1}\n') is True
    with open(path) as f:
        assert f.read() == '{"a": 1}\n'
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644
    assert _audit_report.write_atomic(path, u'{"a": 1}\n') is False
    assert _audit_report.write_atomic(path, u'{"a": 2}\n') is True
    assert sorted(os.listdir(str(tmp_path))) == ['fleet-audit.json']   # no temporary file left
