# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os

import pytest

from ansible_collections.inference.host_tuning.plugins.module_utils import _ledger
from ansible_collections.inference.host_tuning.plugins.modules import memlock
from ansible_collections.inference.host_tuning.tests.unit.fakehost import FakeCommands
from ansible_collections.inference.host_tuning.tests.unit.plugins.modules.utils import fail_module, refused, run_module

LIMITS = '/etc/security/limits.d/90-inference-memlock.conf'
MANAGER = '/etc/systemd/system.conf.d/90-inference-memlock.conf'
DOCKER = '/etc/docker/daemon.json'
CONTAINERD = '/etc/systemd/system/containerd.service.d/90-inference-memlock.conf'
MEMLOCK = {'Name': 'memlock', 'Soft': -1, 'Hard': -1}
DAEMON_JSON = '{\n    "log-driver": "json-file",\n    "default-ulimits": {"nofile": {"Name": "nofile", ' \
              '"Soft": 65536, "Hard": 65536}},\n    "runtimes": {"nvidia": {"path": "nvidia-container-runtime"}}\n}\n'


@pytest.fixture
def cmds(fake_host, monkeypatch):
    return FakeCommands(bins=['systemctl']).install(monkeypatch)


def with_docker(fake_host):
    fake_host.write(DOCKER, DAEMON_JSON)


def with_containerd(fake_host, cmds):
    cmds.bins['containerd'] = '/usr/bin/containerd'
    fake_host.mkdir('/run/systemd/system')


def test_limits_and_systemd_without_runtimes(fake_host, cmds):
    r = run_module(memlock, {})
    assert r['changed'] is True
    assert r['files'] == {LIMITS: True, MANAGER: True}
    assert r['runtimes'] == [] and r['restart_required'] == [] and r['reexec_required'] is True
    limits = [l.split() for l in fake_host.read(LIMITS).splitlines() if not l.startswith('#')]
    assert limits == [['*', 'soft', 'memlock', 'unlimited'], ['*', 'hard', 'memlock', 'unlimited'],
                      ['root', 'soft', 'memlock', 'unlimited'], ['root', 'hard', 'memlock', 'unlimited']]
    assert fake_host.read(MANAGER).endswith('[Manager]\nDefaultLimitMEMLOCK=infinity\n')
    assert not fake_host.exists(DOCKER) and not fake_host.exists(CONTAINERD)
    assert cmds.calls == []
    data = json.loads(fake_host.read(_ledger.LEDGER_PATH))
    assert sorted(data['files']) == [LIMITS, MANAGER]
    assert len(r['diff']) == 2


def test_docker_merge_keeps_other_keys(fake_host, cmds):
    with_docker(fake_host)
    r = run_module(memlock, {})
    assert r['runtimes'] == ['docker'] and r['restart_required'] == ['docker'] and r['files'][DOCKER] is True
    data = json.loads(fake_host.read(DOCKER))
    assert data['log-driver'] == 'json-file'
    assert data['runtimes'] == {'nvidia': {'path': 'nvidia-container-runtime'}}
    assert data['default-ulimits'] == {'nofile': {'Name': 'nofile', 'Soft': 65536, 'Hard': 65536},
                                       'memlock': MEMLOCK}
    assert list(data) == ['log-driver', 'default-ulimits', 'runtimes']      # key order kept
    assert cmds.calls == []          # never restarts docker
    r = run_module(memlock, {})
    assert r['changed'] is False and r['restart_required'] == [] and r['reexec_required'] is False


def test_docker_detected_by_binary_creates_daemon_json(fake_host, cmds):
    cmds.bins['dockerd'] = '/usr/bin/dockerd'
    r = run_module(memlock, {'limits_d': False, 'systemd': False})
    assert r['files'] == {DOCKER: True}
    assert json.loads(fake_host.read(DOCKER)) == {'default-ulimits': {'memlock': MEMLOCK}}
    run_module(memlock, {'state': 'absent'})
    assert not fake_host.exists(DOCKER)


def test_containerd_dropin_and_daemon_reload(fake_host, cmds):
    with_containerd(fake_host, cmds)
    r = run_module(memlock, {})
    assert r['runtimes'] == ['containerd'] and r['restart_required'] == ['containerd']
    assert fake_host.read(CONTAINERD).endswith('[Service]\nLimitMEMLOCK=infinity\n')
    assert cmds.names() == ['systemctl daemon-reload']
    cmds.calls[:] = []
    assert run_module(memlock, {})['changed'] is False
    assert cmds.calls == []


def test_containerd_detected_by_unit(fake_host, cmds):
    fake_host.write('/lib/systemd/system/containerd.service', '[Service]\nExecStart=/usr/bin/containerd\n')
    assert run_module(memlock, {}, check=True)['runtimes'] == ['containerd']


def test_check_mode_writes_nothing(fake_host, cmds):
    with_docker(fake_host)
    with_containerd(fake_host, cmds)
    before = fake_host.snapshot()
    r = run_module(memlock, {}, check=True)
    assert r['changed'] is True
    assert r['files'] == {LIMITS: True, MANAGER: True, DOCKER: True, CONTAINERD: True}
    assert r['restart_required'] == ['docker', 'containerd'] and r['reexec_required'] is True
    assert fake_host.snapshot() == before and cmds.calls == []


def test_absent_restores_byte_for_byte(fake_host, cmds):
    with_docker(fake_host)
    with_containerd(fake_host, cmds)
    fake_host.write(LIMITS, '# the admin had this\n', mode=0o600)
    pristine = fake_host.snapshot('/etc')
    run_module(memlock, {})
    cmds.calls[:] = []
    check = run_module(memlock, {'state': 'absent'}, check=True)
    assert check['changed'] is True and cmds.calls == []
    r = run_module(memlock, {'state': 'absent'})
    assert r['changed'] is True and r['restart_required'] == ['docker', 'containerd'] and r['reexec_required']
    assert fake_host.snapshot('/etc') == pristine
    assert oct(os.stat(fake_host.path(LIMITS)).st_mode & 0o777) == oct(0o600)
    assert cmds.names() == ['systemctl daemon-reload']
    assert not fake_host.exists(_ledger.LEDGER_PATH)
    assert run_module(memlock, {'state': 'absent'})['changed'] is False


def test_absent_keeps_later_daemon_json_edits(fake_host, cmds):
    with_docker(fake_host)
    run_module(memlock, {})
    data = json.loads(fake_host.read(DOCKER))
    data['debug'] = True
    fake_host.write(DOCKER, json.dumps(data))
    run_module(memlock, {'state': 'absent'})
    after = json.loads(fake_host.read(DOCKER))
    assert after['debug'] is True
    assert after['default-ulimits'] == {'nofile': {'Name': 'nofile', 'Soft': 65536, 'Hard': 65536}}
    assert any(DOCKER in w and 'only the collection' in w for w in cmds.warnings)


def test_invalid_daemon_json_fails_and_writes_nothing(fake_host, cmds):
    fake_host.write(DOCKER, '{"log-driver": "json-file",}\n')
    before = fake_host.snapshot()
    r = fail_module(memlock, {})
    assert DOCKER in r['msg'] and 'not valid JSON' in r['msg'] and 'nothing was written' in r['msg']
    assert fake_host.snapshot() == before


@pytest.mark.parametrize('content', ['[1, 2]\n', '{"default-ulimits": []}\n'])
def test_daemon_json_of_wrong_shape_fails(fake_host, cmds, content):
    fake_host.write(DOCKER, content)
    before = fake_host.snapshot()
    assert 'not' in fail_module(memlock, {})['msg']
    assert fake_host.snapshot() == before


def test_explicit_runtime_list_and_none(fake_host, cmds):
    r = run_module(memlock, {'container_runtimes': ['containerd'], 'limits_d': False, 'systemd': False})
    assert r['files'] == {CONTAINERD: True} and r['runtimes'] == []
    assert any('containerd was not found' in w for w in cmds.warnings)
    with_docker(fake_host)
    r = run_module(memlock, {'container_runtimes': 'none'})
    assert DOCKER not in r['files'] and json.loads(fake_host.read(DOCKER)) == json.loads(DAEMON_JSON)


@pytest.mark.parametrize('args, words', [
    ({'container_runtimes': ['auto', 'docker']}, ['auto, none, or a list']),
    ({'container_runtimes': ['podman']}, ['container_runtimes', 'podman']),
    ({'state': 'gone'}, ['state']),
])
def test_bad_input_writes_nothing(fake_host, cmds, args, words):
    refused(fake_host, memlock, args, words)


def test_absent_without_ledger_removes_only_our_files(fake_host, cmds):
    run_module(memlock, {})
    fake_host.remove(_ledger.LEDGER_PATH)          # record lost
    fake_host.write(MANAGER, '[Manager]\nDefaultLimitNOFILE=1048576\n')   # the admin's, same name
    r = run_module(memlock, {'state': 'absent'})
    assert r['files'] == {LIMITS: True}
    assert not fake_host.exists(LIMITS) and fake_host.exists(MANAGER)


def test_says_whether_systemd_runs_to_act_on_reexec_required(fake_host, cmds):
    """The base role's handler re-executes systemd on this return, without gathered facts."""
    r = run_module(memlock, {}, check=True)
    assert r['reexec_required'] is True and r['systemd_running'] is False  # no /run/systemd/system
    cmds.bins['systemctl'] = '/usr/bin/systemctl'
    fake_host.mkdir('/run/systemd/system')
    r = run_module(memlock, {}, check=True)
    assert r['reexec_required'] is True and r['systemd_running'] is True
