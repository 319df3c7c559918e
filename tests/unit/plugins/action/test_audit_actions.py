# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The audit actions on the controller: host_audit resolves the host's variables into one module call,
audit_report writes the fleet report from hostvars."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os

import pytest

from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

from ansible_collections.inference.host_tuning.plugins.action import audit_report
from ansible_collections.inference.host_tuning.plugins.action import host_audit

try:
    from ansible.template import trust_as_template
except ImportError:  # ansible-core < 2.19: every string is a template
    def trust_as_template(value):
        return value


class _Shell(object):
    tmpdir = None


class _Connection(object):
    _shell = _Shell()


class _Task(object):
    def __init__(self, action, args, check_mode=False):
        self.action = action
        self.args = args
        self.check_mode = check_mode
        self.async_val = 0
        self.diff = False


def _action(cls, name, args, task_vars, check_mode=False):
    templar = Templar(loader=DataLoader(), variables=task_vars)
    return cls(_Task('inference.host_tuning.' + name, args, check_mode), _Connection(), None, DataLoader(),
               templar, None)


# -- host_audit ---------------------------------------------------------------------------
INFO = {'changed': False, 'host_kind': 'nvidia', 'accelerator_kind': 'nvidia',
        'accelerator_counts': {'nvidia': 4, 'ascend': 0, 'tpu': 0}, 'accelerators': [],
        'kernel': {'release': '6.1.0-27-amd64', 'version': [6, 1]}, 'numa': {'nodes': {}}, 'notes': [],
        'desired': {'memlock': 'unlimited'}, 'summary': {'drift': 1},
        'audit': [{'concern': 'memlock', 'setting': 'services', 'desired': 'unlimited', 'actual': 65536,
                   'status': 'drift', 'detail': 'systemd'}]}


@pytest.fixture
def executed(monkeypatch):
    calls = []

    def execute(self, module_name=None, module_args=None, task_vars=None, **kwargs):
        calls.append((module_name, module_args))
        return dict(INFO)
    monkeypatch.setattr(host_audit.ActionModule, '_execute_module', execute)
    monkeypatch.setattr(host_audit.ActionModule, '_remove_tmp_path', lambda self, path: None)
    return calls


def _host_vars(**extra):
    task_vars = {'inventory_hostname': 'gpu-01', 'gpu_watts': 500}
    task_vars.update(extra)
    return task_vars


def test_host_audit_audits_what_was_applied_in_one_call(executed):
    """No desired profile given: one inference_host_info call audits the host against the requests its modules
    recorded; the role variables are not read (a wrong one does not matter to the audit)."""
    task_vars = _host_vars(base_sysctl_settings=[0], nvidia_power_limit=trust_as_template('{{ undefined_watts }}'),
                           inference_sysfs_root='/opt/fake-sysfs', inference_accelerator_kind='NVIDIA')
    result = _action(host_audit.ActionModule, 'host_audit', {}, task_vars).run(task_vars=task_vars)
    assert len(executed) == 1
    name, args = executed[0]
    assert name == 'inference.host_tuning.inference_host_info'
    assert args == {'kind': 'nvidia', 'use_nvml': 'auto', 'sysfs_root': '/opt/fake-sysfs', 'devfs_root': '/dev',
                    'desired_recorded': True}
    assert result['kind'] == 'nvidia' and result['kernel'] == '6.1.0-27-amd64'
    assert result['desired'] == INFO['desired']
    assert result['summary'] == {'ok': 0, 'drift': 1, 'pending_reboot': 0, 'unavailable': 0}
    assert result['audit'] == INFO['audit'] and result['changed'] is False and not result.get('failed')


def test_host_audit_options_win_over_variables(executed):
    task_vars = _host_vars(inference_accelerator_kind='tpu', inference_devfs_root='/opt/fake-dev')
    args = {'kind': 'none', 'devfs_root': '/srv/dev', 'desired': {'governor': 'performance'}}
    _action(host_audit.ActionModule, 'host_audit', args, task_vars).run(task_vars=task_vars)
    module_args = executed[0][1]
    assert module_args['kind'] == 'none' and module_args['devfs_root'] == '/srv/dev'
    assert module_args['desired'] == {'governor': 'performance'} and 'desired_recorded' not in module_args


@pytest.mark.parametrize('extra, message', [
    ({'inference_accelerator_kind': 'gpu'}, "inference_accelerator_kind is 'gpu'; use auto, nvidia, ascend, tpu, none"),
    ({'kind': 'gpu'}, "kind is 'gpu'; use auto, nvidia"),
    ({'inference_sysfs_root': trust_as_template('{{ undefined_root }}')}, 'inference_sysfs_root cannot be resolved'),
])
def test_host_audit_bad_variables_fail_before_the_host_is_read(executed, extra, message):
    args = {'kind': extra.pop('kind')} if 'kind' in extra else {}
    task_vars = _host_vars(**extra)
    result = _action(host_audit.ActionModule, 'host_audit', args, task_vars).run(task_vars=task_vars)
    assert result['failed'] and message in result['msg'] and 'gpu-01' in result['msg']
    assert executed == []


def test_host_audit_passes_a_module_failure_on(monkeypatch):
    monkeypatch.setattr(host_audit.ActionModule, '_execute_module',
                        lambda self, **kw: {'failed': True, 'msg': 'Invalid desired profile: x'})
    monkeypatch.setattr(host_audit.ActionModule, '_remove_tmp_path', lambda self, path: None)
    result = _action(host_audit.ActionModule, 'host_audit', {}, _host_vars()).run(task_vars=_host_vars())
    assert result['failed'] and result['msg'] == 'Invalid desired profile: x'


# -- audit_report ---------------------------------------------------------------------------
def _audit(kind, drift=0, ok=3):
    items = [{'concern': 'sysctl', 'setting': 'k%d' % i, 'desired': '1', 'actual': '0', 'status': 'drift',
              'detail': ''} for i in range(drift)]
    return {'changed': False, 'kind': kind, 'kernel': '6.1', 'summary': {'ok': ok, 'drift': drift, 'unavailable': 0},
            'audit': items, 'notes': []}


def _report_vars(hosts):
    return {'ansible_play_hosts_all': sorted(hosts),
            'hostvars': dict((h, {'audit_report': r} if r is not None else {}) for h, r in hosts.items())}


def test_audit_report_writes_both_files(tmp_path):
    task_vars = _report_vars({'gpu-01': _audit('nvidia'), 'gpu-02': _audit('nvidia', drift=2), 'npu-01': None})
    dest = str(tmp_path / 'reports' / 'today')
    result = _action(audit_report.ActionModule, 'audit_report', {'dest': dest}, task_vars).run(task_vars=task_vars)
    assert not result.get('failed') and result['changed'] is False
    assert result['written'] == [os.path.join(dest, 'fleet-audit.json'), os.path.join(dest, 'fleet-audit.html')]
    with open(os.path.join(dest, 'fleet-audit.json')) as f:
        report = json.load(f)
    assert sorted(report['hosts']) == ['gpu-01', 'gpu-02', 'npu-01']
    assert report['hosts']['npu-01']['unreachable'] is True
    assert report['summary'] == result['summary'] == {'hosts': 3, 'hosts_with_drift': 1, 'hosts_pending_reboot': 0,
                                                      'hosts_unreachable': 1, 'ok': 6, 'drift': 2,
                                                      'pending_reboot': 0, 'unavailable': 0}
    with open(os.path.join(dest, 'fleet-audit.html')) as f:
        assert 'gpu-02' in f.read()
    assert 'gpu-02 (nvidia): 3 ok, 2 drift, 0 pending reboot, 0 unavailable - drift: k0, k1' in result['msg']
    assert 'HTML report: %s/fleet-audit.html' % dest in result['msg']


def test_audit_report_fails_on_drift_after_writing(tmp_path):
    task_vars = _report_vars({'gpu-01': _audit('nvidia', drift=1)})
    args = {'dest': str(tmp_path), 'fail_on_drift': True}
    result = _action(audit_report.ActionModule, 'audit_report', args, task_vars).run(task_vars=task_vars)
    assert result['failed'] and 'Drift on 1 host(s) (1 setting(s)), 0 host(s) not audited' in result['msg'][-1]
    assert os.path.exists(str(tmp_path / 'fleet-audit.html'))
    clean = _report_vars({'gpu-01': _audit('nvidia')})
    assert not _action(audit_report.ActionModule, 'audit_report', args, clean).run(task_vars=clean).get('failed')


def test_audit_report_check_mode_writes_nothing(tmp_path):
    task_vars = _report_vars({'gpu-01': _audit('nvidia')})
    dest = str(tmp_path / 'r')
    result = _action(audit_report.ActionModule, 'audit_report', {'dest': dest}, task_vars,
                     check_mode=True).run(task_vars=task_vars)
    assert result['changed'] is False and result['written'] == [] and not os.path.exists(dest)
    assert result['summary']['ok'] == 3


def test_audit_report_cannot_write(tmp_path):
    blocker = tmp_path / 'file'
    blocker.write_text(u'not a directory')
    task_vars = _report_vars({'gpu-01': _audit('nvidia')})
    result = _action(audit_report.ActionModule, 'audit_report', {'dest': str(blocker / 'r')},
                     task_vars).run(task_vars=task_vars)
    assert result['failed'] and 'Cannot write the fleet report in' in result['msg']
    assert blocker.read_text() == u'not a directory'
