# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers shared by the Molecule scenarios' testinfra tests (extensions/molecule/*/tests/test_*.py).

A test file puts this directory on sys.path and imports what it needs: run a playbook of the
collection against the scenario's inventory, read the change_report callback's JSON of the converge
(check or real run), and read the serving process's /proc/PID files from inside the container.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import subprocess
import tempfile

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def playbook(name, *extra):
    """Run playbooks/NAME against the scenario's inventory; the CompletedProcess (output merged)."""
    return subprocess.run(
        ['ansible-playbook', '-i', os.environ['MOLECULE_INVENTORY_FILE'], os.path.join(REPO, 'playbooks', name)]
        + list(extra), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False)


NS = 'inference.host_tuning.'


def modules_ran(path, *extra, **kwargs):
    """Run the playbook at ``path`` (or playbooks/NAME) with ``extra``: {host: [the collection's modules that ran,
    in order, detection left out]} (with ``everything=True``: every module, full names), from the change_report
    callback's JSON of that run (its own directory). The run must succeed."""
    if not os.path.isabs(path):
        path = os.path.join(REPO, 'playbooks', path)
    reports = tempfile.mkdtemp(prefix='iht-modules-')
    env = dict(os.environ, INFERENCE_CHANGE_REPORT_DIR=reports, ANSIBLE_NOCOLOR='1')
    result = subprocess.run(['ansible-playbook', '-i', os.environ['MOLECULE_INVENTORY_FILE'], path] + list(extra),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, env=env,
                            check=False)
    assert result.returncode == 0, result.stdout[-4000:]
    name = os.path.splitext(os.path.basename(path))[0]
    with open(os.path.join(reports, '%s-%s.json' % (name, 'check' if '--check' in extra else 'run'))) as f:
        data = json.load(f)
    if kwargs.get('everything'):
        return dict((host, entry['modules']) for host, entry in data.items())
    return dict((host, [m[len(NS):] for m in entry['modules']
                        if m.startswith(NS) and m != NS + 'inference_host_info'])
                for host, entry in data.items())


def report(kind):
    """The change_report of the converge: kind 'check' (the --check run) or 'run'."""
    path = os.path.join(os.environ['MOLECULE_EPHEMERAL_DIRECTORY'], 'changes', 'converge-%s.json' % kind)
    with open(path) as f:
        return json.load(f)


def only_on(name):
    """An autouse fixture that skips a file's tests on every host of the scenario but ``name`` (assign it to a
    module-level name: ``_only_here = only_on(HOST)``)."""
    @pytest.fixture(autouse=True)
    def _only_on(host):
        if host.backend.get_hostname() != name:
            pytest.skip('these checks run on %s' % name)
    return _only_on


def check_predicted_converge(name):
    """Assert that the converge's --check run (Molecule's check step) reported exactly the changes the real converge
    made on host ``name`` (the start of a unit not installed yet included); the real run's entry."""
    check, run = report('check'), report('run')
    assert run[name]['changed'], 'the first converge changed nothing on %s: the test proves nothing' % name
    assert sorted(check[name]['changed']) == sorted(run[name]['changed'])
    assert not run[name]['failed'] and not check[name]['failed']
    return run[name]


def pid(host, unit='vllm.service'):
    """The MainPID of a running unit (the test fails when it does not run)."""
    main_pid = int(host.check_output('systemctl show --property=MainPID --value %s' % unit))
    assert main_pid > 0, '%s is not running' % unit
    return main_pid


def proc_of(host, process, name, user='inference'):
    """/proc/PID/NAME read as ``user`` with cat (testinfra's file reader stats first; /proc files have size 0):
    root in an unprivileged container lacks CAP_SYS_PTRACE, which reading another user's environ, maps and
    numa_maps needs, so the server's are read as its own user."""
    return host.check_output('runuser -u %s -- cat /proc/%d/%s' % (user, process, name))


def proc(host, name, unit='vllm.service', user='inference'):
    """/proc/PID/NAME of the server (see proc_of)."""
    return proc_of(host, pid(host, unit), name, user)


def environ(host, unit='vllm.service', user='inference'):
    """The server's environment from /proc/PID/environ, as a dict."""
    raw = proc(host, 'environ', unit, user).replace('\0', '\n')
    return dict(line.split('=', 1) for line in raw.splitlines() if '=' in line)
