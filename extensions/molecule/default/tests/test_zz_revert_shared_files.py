# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""revert.yml after other tools edited the shared files the collection changed: only our change is taken back.

Runs last in the scenario (file order; it reverts the host), once, on Debian 12 - whose daemon.json predates the
converge (prepare.yml) and whose swap line the converge commented out (base_swap_force):
1. as the NVIDIA container toolkit would, `runtimes.nvidia` is added to /etc/docker/daemon.json (rewritten with
   another indentation), and an operator adds an NFS mount to /etc/fstab;
2. revert.yml --check predicts exactly the changes the real revert.yml makes (change reports);
3. after the revert, daemon.json is the prepared file plus the toolkit's runtime (our memlock ulimit gone), fstab
   the prepared file plus the mount (our swap line back), the operator is told, and no ledger is left.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', '..', 'tests', 'molecule'))
from iht_verify import REPO  # noqa: E402 pylint: disable=wrong-import-position

HOST = 'iht-default-debian12'
DAEMON_JSON = '/etc/docker/daemon.json'
PREPARED_DAEMON = {'log-driver': 'journald', 'data-root': '/srv/docker'}
RUNTIME = {'nvidia': {'path': 'nvidia-container-runtime', 'runtimeArgs': []}}
NFS = 'nfs:/models  /models  nfs  ro,nofail  0  0'


def _exec(script):
    return subprocess.run(['podman', 'exec', HOST, 'sh', '-c', script], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True, check=True).stdout


def _revert(reports, *extra):
    env = dict(os.environ, INFERENCE_CHANGE_REPORT_DIR=reports, ANSIBLE_NOCOLOR='1')
    run = subprocess.run(['ansible-playbook', '-i', os.environ['MOLECULE_INVENTORY_FILE'], '--limit', HOST,
                          os.path.join(REPO, 'playbooks', 'revert.yml')] + list(extra),
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, env=env,
                         check=False)
    assert run.returncode == 0, run.stdout[-4000:]
    with open(os.path.join(reports, 'revert-%s.json' % ('check' if '--check' in extra else 'run'))) as f:
        return run.stdout, json.load(f)[HOST]


def test_revert_takes_back_only_our_change_to_shared_files():
    converged = json.loads(_exec('cat %s' % DAEMON_JSON))
    assert converged['default-ulimits']['memlock']['Hard'] == -1, 'nothing of ours in daemon.json: proves nothing'
    fstab = _exec('cat /etc/fstab')
    assert '# inference.host_tuning: UUID=5a5a-0001' in fstab, 'our swap line is not commented: proves nothing'
    toolkit = dict(converged, runtimes=RUNTIME)
    _exec("printf '%%s\\n' '%s' > %s" % (json.dumps(toolkit, indent=4).replace("'", ''), DAEMON_JSON))
    _exec("echo '%s' >> /etc/fstab" % NFS)

    kept_before = _exec('ls /var/lib/inference_host_tuning/edited 2>/dev/null || true')
    reports = tempfile.mkdtemp(prefix='iht-revert-')
    _out, check = _revert(reports, '--check')
    out, run = _revert(reports, '--diff')
    assert run['changed'] and sorted(check['changed']) == sorted(run['changed']), (check, run)
    assert not check['failed'] and not run['failed']

    assert json.loads(_exec('cat %s' % DAEMON_JSON)) == dict(PREPARED_DAEMON, runtimes=RUNTIME)
    lines = _exec('cat /etc/fstab').splitlines()
    assert 'UUID=5a5a-0001  none   swap  sw                 0  0' in lines and lines[-1] == NFS, lines
    assert not any(line.startswith('# inference.host_tuning:') for line in lines), lines
    told = ' '.join(out.split())
    for path in (DAEMON_JSON, '/etc/fstab'):
        assert "%s was changed by something else since inference.host_tuning edited it; only the collection's " \
               'own change is taken back' % path in told, out[-3000:]
    # the ledger is gone; nothing of the other tools had to be set aside (hand-edit copies of files of ours, kept
    # by the earlier tests' converges, stay: they are the operator's data)
    assert _exec('ls /var/lib/inference_host_tuning/ledger.json 2>/dev/null || echo gone').strip() == 'gone'
    assert _exec('ls /var/lib/inference_host_tuning/edited 2>/dev/null || true') == kept_before
