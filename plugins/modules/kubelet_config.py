#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: kubelet_config
short_description: The kubelet's CPU and topology managers for inference pods, through a kubelet config drop-in
version_added: 0.1.0
description:
  - Writes C(CONFIG_DIR/90-inference.conf), a KubeletConfiguration drop-in (kubelet 1.28 or later started with
    C(--config-dir)) with C(cpuManagerPolicy), C(topologyManagerPolicy), C(topologyManagerScope) and optionally
    C(reservedSystemCPUs). The rest of the kubelet's configuration is not touched.
  - Writes only where O(config_dir) exists as a directory (a kubelet started with C(--config-dir) there); elsewhere
    it changes nothing and returns RV(config_dir_found=false).
  - Every value is validated before anything is read or written; the file is YAML emitted by the collection's
    writer (JSON, which the kubelet reads as YAML), never a template, so no value can add a key.
  - The drop-in's previous state is recorded in the restore ledger (C(/var/lib/inference_host_tuning/ledger.json));
    O(state=absent) and M(inference.host_tuning.revert) restore it byte for byte.
  - Does not restart the kubelet (the role C(inference.host_tuning.kubelet) does, with C(kubelet_restart_ok)).
author:
  - inference.host_tuning contributors (@inference-host-tuning)
options:
  state:
    description: V(present) writes the drop-in; V(absent) restores what this module changed there.
    type: str
    choices: [present, absent]
    default: present
  config_dir:
    description:
      - The kubelet's C(--config-dir); an absolute, normalised path under C(/etc/kubernetes/) or C(/var/lib/kubelet/).
    type: str
    default: /etc/kubernetes/kubelet.conf.d
  cpu_manager_policy:
    description: C(cpuManagerPolicy); V(static) gives Guaranteed pods with integer CPU requests exclusive CPUs.
    type: str
    choices: [none, static]
    default: static
  topology_manager_policy:
    description:
      - C(topologyManagerPolicy); V(single-numa-node) admits a pod only when its CPUs and devices fit on one node.
    type: str
    choices: [none, best-effort, restricted, single-numa-node]
    default: single-numa-node
  topology_manager_scope:
    description: C(topologyManagerScope).
    type: str
    choices: [container, pod]
    default: container
  reserved_system_cpus:
    description:
      - C(reservedSystemCPUs), a CPU list such as V(0,32) or V(0-1,64-65) (CPU numbers 0 to 8191, ranges low to
        high); empty keeps the main configuration's reservation.
    type: str
    default: ""
attributes:
  platform:
    support: full
    details: Linux; a kubelet 1.28 or later with C(--config-dir).
extends_documentation_fragment:
  - inference.host_tuning.attributes
  - inference.host_tuning.attributes.changes
seealso:
  - module: inference.host_tuning.revert
  - name: Kubelet configuration drop-in directory
    description: How the kubelet merges the files of C(--config-dir).
    link: https://kubernetes.io/docs/tasks/administer-cluster/kubelet-config-file/
'''

EXAMPLES = r'''
- name: Static CPU manager, single-NUMA-node topology manager, CPUs 0 and 32 for the system
  inference.host_tuning.kubelet_config:
    reserved_system_cpus: "0,32"

- name: Remove the drop-in (restore what was there)
  inference.host_tuning.kubelet_config:
    state: absent
'''

RETURN = r'''
path:
  description: The drop-in file.
  returned: always
  type: str
  sample: /etc/kubernetes/kubelet.conf.d/90-inference.conf
config_dir_found:
  description: Whether O(config_dir) is a directory here; the drop-in is written only then.
  returned: always
  type: bool
  sample: true
settings:
  description: The KubeletConfiguration fields written.
  returned: when O(state=present)
  type: dict
  sample: {"cpuManagerPolicy": "static", "topologyManagerPolicy": "single-numa-node", "topologyManagerScope": "container"}
'''

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.inference.host_tuning.plugins.module_utils import _change
from ansible_collections.inference.host_tuning.plugins.module_utils import _files
from ansible_collections.inference.host_tuning.plugins.module_utils import _formats
from ansible_collections.inference.host_tuning.plugins.module_utils import _host
from ansible_collections.inference.host_tuning.plugins.module_utils import _ledger

OWNER = 'kubelet_config'
FILENAME = '90-inference.conf'
PREFIXES = ('/etc/kubernetes/', '/var/lib/kubelet/')
MAX_CPU = 8191
_CPULIST = r'[0-9]{1,4}(-[0-9]{1,4})?(,[0-9]{1,4}(-[0-9]{1,4})?)*'


def header_text():
    return '\n'.join(line[2:] for line in _files.header(OWNER).splitlines()) + (
        '\nA kubelet drop-in (--config-dir, kubelet 1.28+): only these fields; the rest of the configuration is '
        'untouched.')


def config_dir(value):
    value = _formats.text(value, 'config_dir', allow_empty=False)
    if os.path.normpath(value) != value or not value.startswith('/') or value.startswith('//'):
        raise _formats.FormatError('config_dir', '%r is not a normalised absolute path (no ".", ".." or "//" parts, '
                                                 'no "/" at the end)' % (value,))
    if not any((value + '/').startswith(p) for p in PREFIXES):
        raise _formats.FormatError('config_dir', '%r is outside %s, where the kubelet keeps its configuration'
                                   % (value, ' and '.join(PREFIXES)))
    return value


def cpu_list(value):
    """``reservedSystemCPUs``: the whole value a CPU list, every range low to high, CPUs 0 to MAX_CPU."""
    value = _formats.text(value, 'reserved_system_cpus')
    if not _formats.fullmatch(_CPULIST, value):
        raise _formats.FormatError('reserved_system_cpus', '%r is not a CPU list; use numbers and ranges separated by '
                                                           'commas, such as 0,32 or 0-1,64-65' % (value,))
    for part in value.split(','):
        low, _sep, high = part.partition('-')
        low, high = int(low), int(high or low)
        if high < low or high > MAX_CPU:
            raise _formats.FormatError('reserved_system_cpus', '%r: the range %s is not from a lower to a higher CPU '
                                                               'number within 0-%d' % (value, part, MAX_CPU))
    return value


def settings(p):
    data = {
        'apiVersion': 'kubelet.config.k8s.io/v1beta1',
        'kind': 'KubeletConfiguration',
        'cpuManagerPolicy': p['cpu_manager_policy'],
        'topologyManagerPolicy': p['topology_manager_policy'],
        'topologyManagerScope': p['topology_manager_scope'],
    }
    if p['reserved_system_cpus']:
        data['reservedSystemCPUs'] = cpu_list(p['reserved_system_cpus'])
    return data


def present(module, path, found, data, content):
    result = dict(changed=False, path=path, config_dir_found=found, settings=data)
    if not found:
        module.exit_json(**result)
    try:
        mf = _files.ManagedFile(path, content)
    except _host.FileError as e:
        module.fail_json(msg='Nothing was changed: %s' % e)
    result['changed'] = mf.changed
    _change.write_file(module, mf, OWNER, result)
    module.exit_json(**result)


def absent(module, path, found):
    """The one plan for taking the drop-in away (_change.absent_file): the recorded original put back exactly,
    else removal when the file is ours."""
    ledger = _ledger.Ledger(module)
    try:
        plan = _change.absent_file(ledger, path, OWNER)
    except _host.FileError as e:
        module.fail_json(msg='Nothing was changed: %s' % e)
    result = dict(changed=plan.changed, path=path, config_dir_found=found)
    if module._diff:
        result['diff'] = plan.diff()
    if module.check_mode:
        module.exit_json(**result)
    result['changed'] = _change.restore_file(module, ledger, plan) or plan.changed
    ledger.save()
    module.exit_json(**result)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            state=dict(type='str', choices=['present', 'absent'], default='present'),
            config_dir=dict(type='str', default='/etc/kubernetes/kubelet.conf.d'),
            cpu_manager_policy=dict(type='str', choices=['none', 'static'], default='static'),
            topology_manager_policy=dict(type='str', choices=['none', 'best-effort', 'restricted', 'single-numa-node'],
                                         default='single-numa-node'),
            topology_manager_scope=dict(type='str', choices=['container', 'pod'], default='container'),
            reserved_system_cpus=dict(type='str', default=''),
        ),
        supports_check_mode=True,
    )
    p = module.params
    try:
        directory = config_dir(p['config_dir'])
        data = settings(p) if p['state'] == 'present' else None
        content = _formats.yaml_text(data, header=header_text(), what='kubelet configuration') if data else None
    except _formats.FormatError as e:
        module.fail_json(msg='Nothing was changed: %s' % e)
    path = '%s/%s' % (directory, FILENAME)
    found = _host.isdir(directory)
    if p['state'] == 'absent':
        absent(module, path, found)
    present(module, path, found, data, content)


if __name__ == '__main__':
    main()
