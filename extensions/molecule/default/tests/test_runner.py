# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/site.yml run the way AWX / Automation Platform runs a job: through ansible-runner, from a
project whose playbook imports the collection's, with the project's ansible.cfg enabling the collection's
change_report callback, against the scenario's containers. The job's events must carry the per-host
changed counts and the change report.

It runs once (no testinfra host fixture), after test_default.py, on the converged hosts: one host is made
to drift first (its sysctl file edited), so the job has a change to report on one host and none on the
other.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import subprocess

import ansible_runner
import pytest

SYSCTL_FILE = '/etc/sysctl.d/90-inference-host-tuning.conf'
EDITED = '/var/lib/inference_host_tuning/edited'
DRIFTED = 'iht-default-debian12'
UNTOUCHED = 'iht-default-debian13'
PROJECT_PLAYBOOK = '''---
# An AWX project's playbook: the collection's own, installed in the execution environment.
- name: Tune the inference hosts
  ansible.builtin.import_playbook: inference.host_tuning.site
'''
PROJECT_CFG = '''[defaults]
callbacks_enabled = inference.host_tuning.change_report
interpreter_python = /usr/bin/python3
'''


def _exec(container, script):
    return subprocess.run(['podman', 'exec', container, 'sh', '-c', script], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True, check=True).stdout


@pytest.fixture(scope='module')
def job(tmp_path_factory):
    """The ansible-runner job of site.yml, after DRIFTED's sysctl file was edited: (runner, converged file)."""
    converged = _exec(DRIFTED, 'cat %s' % SYSCTL_FILE)
    _exec(DRIFTED, "sed -i 's/^vm.swappiness = .*/vm.swappiness = 60/' %s" % SYSCTL_FILE)
    _exec(DRIFTED, 'mkdir -p %s && ls %s > /run/iht-kept-before' % (EDITED, EDITED))
    assert _exec(DRIFTED, 'cat %s' % SYSCTL_FILE) != converged, 'the drift was not made: the test proves nothing'

    data = tmp_path_factory.mktemp('runner')
    project = data / 'project'
    project.mkdir()
    (project / 'site.yml').write_text(PROJECT_PLAYBOOK)
    (project / 'ansible.cfg').write_text(PROJECT_CFG)
    reports = data / 'reports'
    # As in a job: the project's ansible.cfg, not Molecule's; the collections of the "execution environment".
    saved = os.environ.pop('ANSIBLE_CONFIG', None)
    try:
        runner = ansible_runner.run(
            private_data_dir=str(data),
            playbook='site.yml',
            inventory=os.environ['MOLECULE_INVENTORY_FILE'],
            envvars={
                'ANSIBLE_COLLECTIONS_PATH': os.environ['ANSIBLE_COLLECTIONS_PATH'],
                'INFERENCE_CHANGE_REPORT_DIR': str(reports),
            },
            quiet=True,
            timeout=600,
        )
    finally:
        if saved is not None:
            os.environ['ANSIBLE_CONFIG'] = saved
    return runner, converged, reports


def test_job_succeeds(job):
    runner = job[0]
    stdout = runner.stdout.read()
    assert runner.status == 'successful' and runner.rc == 0, stdout


def test_job_events_carry_per_host_changed_counts(job):
    runner = job[0]
    stats = [e['event_data'] for e in runner.events if e['event'] == 'playbook_on_stats']
    assert len(stats) == 1, 'no playbook_on_stats event'
    stats = stats[0]
    assert set(stats['ok']) == {DRIFTED, UNTOUCHED}
    assert stats['changed'].get(DRIFTED, 0) >= 1, stats
    assert stats['changed'].get(UNTOUCHED, 0) == 0, stats
    assert not stats['failures'] and not stats['dark'], stats
    # the change itself is an event of its own, on the drifted host only
    changed = [e['event_data'] for e in runner.events
               if e['event'] == 'runner_on_ok' and e['event_data'].get('res', {}).get('changed')]
    assert {(c['host'], c['task']) for c in changed} == {(DRIFTED, 'Apply the sysctl profile')}, changed


def test_job_output_has_the_change_report(job):
    runner, _converged, reports = job
    text = ''.join(e.get('stdout', '') for e in runner.events)
    assert 'CHANGE REPORT' in text, text[-3000:]
    report = text[text.index('CHANGE REPORT'):]
    assert '%s: ok, 1 changed' % DRIFTED in report, report
    assert '%s: ok, 0 changed' % UNTOUCHED in report, report
    assert 'Apply the sysctl profile' in report[report.index('changed: '):], report
    # and the callback's JSON, written where the job's environment says
    with open(str(reports / 'site-run.json')) as f:
        data = json.load(f)
    assert [t.split(' : ')[-1] for t in data[DRIFTED]['changed']] == ['Apply the sysctl profile'], data
    assert data[UNTOUCHED]['changed'] == [], data


def test_job_put_the_drifted_file_back(job):
    _runner, converged, _reports = job
    assert _exec(DRIFTED, 'cat %s' % SYSCTL_FILE) == converged


def test_job_told_of_the_hand_edit_and_kept_the_edited_file(job):
    """The edit of a file of ours is never dropped in silence: the job's output warns naming the lines, and the
    edited file is kept beside the ledger (0600) before the converge replaced it."""
    runner, converged, _reports = job
    text = ' '.join(''.join(e.get('stdout', '') for e in runner.events).split())
    assert '%s was edited by hand since inference.host_tuning wrote it' % SYSCTL_FILE in text, text[-3000:]
    assert "lines added: 'vm.swappiness = 60'" in text, text[-3000:]
    before = set(_exec(DRIFTED, 'cat /run/iht-kept-before').split())
    new = sorted(set(_exec(DRIFTED, 'ls %s' % EDITED).split()) - before)
    assert len(new) == 1 and new[0].startswith('etc_sysctl.d_90-inference-host-tuning.conf.'), new
    kept = '%s/%s' % (EDITED, new[0])
    assert 'vm.swappiness = 60' in _exec(DRIFTED, 'cat %s' % kept) and _exec(DRIFTED, 'cat %s' % kept) != converged
    assert _exec(DRIFTED, 'stat -c %%a %s' % kept).strip() == '600'
