# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fleet use: the playbooks from an unprivileged SSH user with become, and a rollout in batches that the
audit gate stops.

It runs once (no testinfra host fixture), after test_default.py and test_runner.py, on the converged hosts.
The fleet is the scenario's inventory plus one host variable: DEPLOY is reached as the user `deploy`
(prepare.yml gives it passwordless sudo), the way a fleet's SSH user is, through the containers.podman
connection (`podman exec --user deploy`); ROOT is reached as root (become still runs sudo).

0. DEPLOY drifts: its sysctl file of ours is edited (a converge that runs there puts it back).
1. site.yml in batches of one host with the audit gate: ROOT, the first batch, converges and fails the
   gate (a container's /proc/sys is read-only, so its kernel values really drift); DEPLOY, the second
   batch, is never started: its drift stays and nothing under /etc, /usr/local or
   /var/lib/inference_host_tuning changes.
2. site.yml as `deploy` on DEPLOY: it puts the file back (root's, 0644; the ledger read and written as
   root), and a second run changes nothing.
(audit.yml with become runs in test_default.py, revert.yml in the fleet scenario.)
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import re
import subprocess

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
SYSCTL_FILE = '/etc/sysctl.d/90-inference-host-tuning.conf'
LEDGER = '/var/lib/inference_host_tuning/ledger.json'
ROOT = 'iht-default-debian12'
DEPLOY = 'iht-default-debian13'
MARKER = '/run/iht-before-rollout'
RECAP = re.compile(r'^(\S+)\s*: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)', re.M)
COLOUR = re.compile(r'\x1b\[[0-9;]*m')


def _exec(container, script, check=True):
    return subprocess.run(['podman', 'exec', container, 'sh', '-c', script], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True, check=check).stdout


def _recap(stdout):
    """PLAY RECAP per host: {host: {'ok': n, 'changed': n, 'unreachable': n, 'failed': n}}."""
    return dict((m[0], dict(zip(('ok', 'changed', 'unreachable', 'failed'), map(int, m[1:]))))
                for m in RECAP.findall(COLOUR.sub('', stdout)))


@pytest.fixture(scope='module')
def fleet(tmp_path_factory):
    """A function that runs playbooks/NAME against the fleet (DEPLOY as `deploy`): the CompletedProcess."""
    data = tmp_path_factory.mktemp('fleet')
    overlay = data / 'deploy.yml'
    overlay.write_text(json.dumps({'all': {'hosts': {DEPLOY: {'ansible_user': 'deploy'}}}}))
    env = dict(os.environ, INFERENCE_CHANGE_REPORT_DIR=str(data / 'changes'), ANSIBLE_NOCOLOR='1',
               ANSIBLE_FORCE_COLOR='0')

    def run(name, *extra):
        return subprocess.run(
            ['ansible-playbook', '-i', os.environ['MOLECULE_INVENTORY_FILE'], '-i', str(overlay),
             os.path.join(REPO, 'playbooks', name)] + list(extra),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False, env=env)
    return run


@pytest.fixture(scope='module')
def drifted():
    """DEPLOY's sysctl file of ours edited: (the converged content, the edited content)."""
    assert _exec(DEPLOY, 'runuser -u deploy -- id -u').strip() != '0'
    assert _exec(DEPLOY, 'runuser -u deploy -- sudo -n id -un').strip() == 'root', 'deploy cannot sudo'
    converged = _exec(DEPLOY, 'cat %s' % SYSCTL_FILE)
    _exec(DEPLOY, "sed -i 's/^vm.swappiness = .*/vm.swappiness = 60/' %s" % SYSCTL_FILE)
    edited = _exec(DEPLOY, 'cat %s' % SYSCTL_FILE)
    assert edited != converged, 'the drift was not made: the test proves nothing'
    return converged, edited


@pytest.fixture(scope='module')
def gated(fleet, drifted):
    _exec(DEPLOY, 'touch %s' % MARKER)
    result = fleet('site.yml', '-e', json.dumps({'site_serial': 1, 'site_audit_gate': True}))
    return result


@pytest.fixture(scope='module')
def converged(fleet, gated, drifted):
    first = fleet('site.yml', '--limit', DEPLOY)
    second = fleet('site.yml', '--limit', DEPLOY)
    return first, second, drifted[0]


def test_gate_fails_the_drifting_first_batch(gated):
    recap = _recap(gated.stdout)
    assert gated.returncode != 0, gated.stdout
    assert recap[ROOT]['failed'] == 1, gated.stdout
    assert 'Audit gate: drift on %s' % ROOT in gated.stdout, gated.stdout
    # the drift is real: the sysctl file asks for swappiness 1, the read-only /proc/sys keeps its own value
    assert 'vm.swappiness' in gated.stdout[gated.stdout.index('Audit gate: drift on'):], gated.stdout
    assert _exec(ROOT, 'cat /proc/sys/vm/swappiness').strip() != '1'


def test_gate_never_started_the_second_batch(gated, drifted):
    recap = _recap(gated.stdout)
    assert recap.get(DEPLOY, {}).get('ok', 0) == 0, gated.stdout
    assert _exec(DEPLOY, 'cat %s' % SYSCTL_FILE) == drifted[1], 'the second batch put the drift back'
    touched = _exec(DEPLOY, 'find /etc /usr/local /var/lib/inference_host_tuning -newer %s 2>/dev/null' % MARKER,
                    check=False)
    assert touched.strip() == '', touched


def test_site_as_deploy_with_become_converges(converged):
    first, second, content = converged
    assert first.returncode == 0, first.stdout
    assert _recap(first.stdout)[DEPLOY]['changed'] > 0, first.stdout
    assert _exec(DEPLOY, 'cat %s' % SYSCTL_FILE) == content
    owner = _exec(DEPLOY, 'stat -c "%%U %%a" %s %s' % (SYSCTL_FILE, LEDGER)).split('\n')
    assert owner[:2] == ['root 644', 'root 600'], owner
    assert second.returncode == 0, second.stdout
    assert _recap(second.stdout)[DEPLOY]['changed'] == 0, second.stdout
