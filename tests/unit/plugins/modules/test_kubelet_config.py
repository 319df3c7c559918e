# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""kubelet_config: the kubelet drop-in as YAML through the ledger; nothing a value says can add a key."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

import pytest
import yaml

from ansible_collections.inference.host_tuning.plugins.module_utils import _host
from ansible_collections.inference.host_tuning.plugins.module_utils import _ledger
from ansible_collections.inference.host_tuning.plugins.modules import kubelet_config
from ansible_collections.inference.host_tuning.plugins.modules import revert
from ansible_collections.inference.host_tuning.tests.unit.fakehost import FakeCommands
from ansible_collections.inference.host_tuning.tests.unit.plugins.modules.utils import fail_module, run_module

DIR = '/etc/kubernetes/kubelet.conf.d'
DROPIN = DIR + '/90-inference.conf'
HEADER = ('# Managed by Ansible (inference.host_tuning.kubelet_config). Local edits are overwritten;\n'
          '# remove with state=absent or playbooks/revert.yml to restore what was here before.\n'
          '# A kubelet drop-in (--config-dir, kubelet 1.28+): only these fields; the rest of the configuration is '
          'untouched.\n')


@pytest.fixture
def node(fake_host, monkeypatch):
    """A Kubernetes node: the kubelet's --config-dir exists, with the main configuration beside it."""
    FakeCommands().install(monkeypatch)
    fake_host.mkdir(DIR)
    fake_host.mkdir('/var/lib')
    fake_host.write('/etc/kubernetes/kubelet.conf', 'apiVersion: kubelet.config.k8s.io/v1beta1\n'
                                                    'kind: KubeletConfiguration\n')
    return fake_host


def tree(host):
    """The fake host byte for byte (FakeHost.tree)."""
    return host.tree()


def test_dropin_exact_parsed_recorded_idempotent(node):
    r = run_module(kubelet_config, {'reserved_system_cpus': '0,16'})
    assert r['changed'] is True and r['config_dir_found'] is True and r['path'] == DROPIN
    content = node.read(DROPIN)
    assert content.startswith(HEADER)
    # YAML 1.1 (the kubelet's sigs.k8s.io/yaml, PyYAML here) reads exactly these keys and strings
    assert yaml.safe_load(content) == {
        'apiVersion': 'kubelet.config.k8s.io/v1beta1', 'kind': 'KubeletConfiguration', 'cpuManagerPolicy': 'static',
        'topologyManagerPolicy': 'single-numa-node', 'topologyManagerScope': 'container', 'reservedSystemCPUs': '0,16'}
    rec = json.loads(node.read(_ledger.LEDGER_PATH))['files'][DROPIN]
    assert (rec['owner'], rec['existed']) == ('kubelet_config', False)
    assert run_module(kubelet_config, {'reserved_system_cpus': '0,16'})['changed'] is False
    r = run_module(kubelet_config, {'reserved_system_cpus': '0,16', 'topology_manager_policy': 'best-effort'},
                   check=True)
    assert r['changed'] is True and '"best-effort"' in r['diff']['after']
    assert '"single-numa-node"' in node.read(DROPIN)


def test_without_reserved_cpus_the_key_is_absent(node):
    run_module(kubelet_config, {'cpu_manager_policy': 'none', 'topology_manager_scope': 'pod'})
    data = yaml.safe_load(node.read(DROPIN))
    assert 'reservedSystemCPUs' not in data
    assert (data['cpuManagerPolicy'], data['topologyManagerScope']) == ('none', 'pod')


def test_no_config_dir_writes_nothing(fake_host, monkeypatch):
    FakeCommands().install(monkeypatch)
    before = tree(fake_host)
    r = run_module(kubelet_config, {})
    assert r['changed'] is False and r['config_dir_found'] is False
    assert tree(fake_host) == before
    r = run_module(kubelet_config, {'config_dir': '/var/lib/kubelet/conf.d'})
    assert r['changed'] is False and r['config_dir_found'] is False
    assert tree(fake_host) == before


def test_var_lib_kubelet_config_dir(node):
    node.mkdir('/var/lib/kubelet/config.d')
    r = run_module(kubelet_config, {'config_dir': '/var/lib/kubelet/config.d'})
    assert r['changed'] is True and node.exists('/var/lib/kubelet/config.d/90-inference.conf')


def test_absent_and_revert_restore_an_existing_dropin_byte_for_byte(node):
    original = '# the operator\'s own\ncpuManagerPolicy: none\n'
    node.write(DROPIN, original, mode=0o600)
    before = tree(node)
    run_module(kubelet_config, {})
    assert node.read(DROPIN).startswith(HEADER)
    r = run_module(kubelet_config, {'state': 'absent'}, check=True)
    assert r['changed'] is True and r['diff']['after'] == original
    r = run_module(kubelet_config, {'state': 'absent'})
    assert r['changed'] is True
    assert tree(node) == before
    assert run_module(kubelet_config, {'state': 'absent'})['changed'] is False
    run_module(kubelet_config, {})
    r = run_module(revert, {})
    assert {'path': DROPIN, 'owner': 'kubelet_config', 'action': 'restored'} in r['files']
    assert tree(node) == before


def test_absent_removes_what_it_created(node):
    before = tree(node)
    run_module(kubelet_config, {'reserved_system_cpus': '0'})
    r = run_module(kubelet_config, {'state': 'absent'})
    assert r['changed'] is True
    assert tree(node) == before


def test_absent_after_a_lost_ledger_removes_our_old_dropin_and_leaves_a_foreign_one(node):
    before = tree(node)
    run_module(kubelet_config, {'reserved_system_cpus': '0'})
    old = node.read(DROPIN)
    node.remove(_ledger.LEDGER_PATH)                         # the record is lost
    run_module(kubelet_config, {'reserved_system_cpus': '1'})  # our old drop-in: its original is "no file"
    r = run_module(kubelet_config, {'state': 'absent'}, check=True)
    assert r['changed'] is True and r['diff']['after'] == ''
    r = run_module(kubelet_config, {'state': 'absent'})
    assert r['changed'] is True and not node.exists(DROPIN)
    after = tree(node)
    kept = [path for path in after if path.startswith(_ledger.EDITED_DIR + '/')]
    assert len(kept) == 1 and node.read(kept[0]) == old      # the old drop-in's bytes, kept beside the ledger
    assert dict((k, v) for k, v in after.items() if not k.startswith(_host.STATE_DIR)) == before
    node.write(DROPIN, 'cpuManagerPolicy: none\n')            # the operator's, no record
    r = run_module(kubelet_config, {'state': 'absent'})
    assert r['changed'] is False and node.read(DROPIN) == 'cpuManagerPolicy: none\n'


BAD = [
    # the finding: a quote and a line break add keys to the kubelet configuration
    ('reserved_system_cpus', {'reserved_system_cpus': '0"\nstaticPodPath: /tmp/pods\nx: "'}),
    ('reserved_system_cpus', {'reserved_system_cpus': '0\nstaticPodPath: /tmp/pods'}),
    ('reserved_system_cpus', {'reserved_system_cpus': '0\rstaticPodPath: /tmp/pods'}),
    # (no_log: Ansible itself refuses to log a NUL to syslog before the module runs; nothing changes either way)
    ('reserved_system_cpus', {'reserved_system_cpus': '0\x00', '_ansible_no_log': True}),
    ('reserved_system_cpus', {'reserved_system_cpus': '0\u2028staticPodPath: /x'}),
    ('reserved_system_cpus', {'reserved_system_cpus': '0\x85staticPodPath: /x'}),
    ('reserved_system_cpus', {'reserved_system_cpus': '0\t1'}),
    ('reserved_system_cpus', {'reserved_system_cpus': '0\n'}),
    ('reserved_system_cpus', {'reserved_system_cpus': '"0"'}),
    ('reserved_system_cpus', {'reserved_system_cpus': "0'"}),
    ('reserved_system_cpus', {'reserved_system_cpus': '0\\'}),
    ('reserved_system_cpus', {'reserved_system_cpus': '%0'}),
    ('reserved_system_cpus', {'reserved_system_cpus': '$CPUS'}),
    ('reserved_system_cpus', {'reserved_system_cpus': '0-'}),
    ('reserved_system_cpus', {'reserved_system_cpus': '-1'}),
    ('reserved_system_cpus', {'reserved_system_cpus': '5-1'}),
    ('reserved_system_cpus', {'reserved_system_cpus': '0-8192'}),
    ('reserved_system_cpus', {'reserved_system_cpus': '99999'}),
    ('reserved_system_cpus', {'reserved_system_cpus': '0,,1'}),
    ('reserved_system_cpus', {'reserved_system_cpus': '0,'}),
    ('reserved_system_cpus', {'reserved_system_cpus': ' 0'}),
    ('reserved_system_cpus', {'reserved_system_cpus': '0, 1'}),
    ('reserved_system_cpus', {'reserved_system_cpus': 'all'}),
    ('reserved_system_cpus', {'reserved_system_cpus': '0-31:2/4'}),
    ('reserved_system_cpus', {'reserved_system_cpus': '{0}'}),
    ('config_dir', {'config_dir': '/etc'}),
    ('config_dir', {'config_dir': '/tmp/kubelet.conf.d'}),
    ('config_dir', {'config_dir': '/etc/kubernetes/../../tmp'}),
    ('config_dir', {'config_dir': '/etc/kubernetes/kubelet.conf.d/'}),
    ('config_dir', {'config_dir': '/etc/kubernetes/./kubelet.conf.d'}),
    ('config_dir', {'config_dir': '//etc/kubernetes/kubelet.conf.d'}),
    ('config_dir', {'config_dir': 'etc/kubernetes/kubelet.conf.d'}),
    ('config_dir', {'config_dir': '/etc/kubernetes2'}),
    ('config_dir', {'config_dir': '/etc/kubernetes/kubelet.conf.d\n'}),
    ('config_dir', {'config_dir': '/etc/kubernetes/x\u2028y'}),
    ('config_dir', {'config_dir': ''}),
    ('config_dir', {'config_dir': '/var/lib/kubeletx'}),
    ('cpu_manager_policy', {'cpu_manager_policy': 'static\nstaticPodPath: /x'}),
    ('cpu_manager_policy', {'cpu_manager_policy': 'Static'}),
    ('topology_manager_policy', {'topology_manager_policy': 'single-numa-node"'}),
    ('topology_manager_scope', {'topology_manager_scope': 'node'}),
    ('state', {'state': 'gone'}),
]


@pytest.mark.parametrize('option, args', BAD, ids=['%s-%d' % (b[0], i) for i, b in enumerate(BAD)])
def test_bad_input_changes_nothing(node, option, args):
    run_module(kubelet_config, {'reserved_system_cpus': '0'})       # a drop-in and a ledger, which must stay
    before = tree(node)
    for check in (False, True):
        r = fail_module(kubelet_config, args, check=check)
        assert option in r['msg'], r['msg']
        if option.startswith(('reserved', 'config')):
            assert r['msg'].startswith('Nothing was changed: %s' % option), r['msg']
        assert tree(node) == before


def test_absent_with_a_bad_config_dir_changes_nothing(node):
    run_module(kubelet_config, {})
    before = tree(node)
    r = fail_module(kubelet_config, {'state': 'absent', 'config_dir': '/etc/../tmp'})
    assert r['msg'].startswith('Nothing was changed: config_dir')
    assert tree(node) == before
