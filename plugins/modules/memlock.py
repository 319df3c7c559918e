#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: memlock
short_description: Lift the locked-memory limit (memlock) where inference servers inherit it
description:
  - Inference servers pin host memory (CUDA pinned buffers, RDMA, C(mlock)ed KV-cache offload); the default
    C(RLIMIT_MEMLOCK) of 8 MiB makes that fail. This module sets memlock to unlimited in each place a serving
    process can inherit it from.
  - O(limits_d) - C(/etc/security/limits.d/90-inference-memlock.conf) for PAM logins (C(*) and, since C(*)
    does not match root in pam_limits, C(root)), soft and hard.
  - O(systemd) - C(/etc/systemd/system.conf.d/90-inference-memlock.conf) with C(DefaultLimitMEMLOCK=infinity)
    for every systemd service. The manager reads it at boot or on C(systemctl daemon-reexec), which the module
    does not run - RV(reexec_required) says when it is needed.
  - O(container_runtimes) - for docker, C(default-ulimits.memlock) (soft and hard -1) merged into
    C(/etc/docker/daemon.json) keeping every other key; for containerd, the drop-in
    C(/etc/systemd/system/containerd.service.d/90-inference-memlock.conf) with C(LimitMEMLOCK=infinity)
    (containers inherit containerd's limit). The module never restarts a runtime - RV(restart_required)
    lists those whose configuration changed.
  - Every file's original is recorded in the restore ledger (C(/var/lib/inference_host_tuning/ledger.json))
    before it is first changed; O(state=absent) restores them.
version_added: 0.1.0
author:
  - inference.host_tuning contributors (@inference-host-tuning)
options:
  state:
    description:
      - V(present) writes the configuration; V(absent) restores every file this module recorded
        (O(limits_d), O(systemd) and O(container_runtimes) are then ignored).
      - When C(/etc/docker/daemon.json) was edited by someone else since, V(absent) puts back only its
        C(default-ulimits.memlock) and keeps the other edits.
    type: str
    choices: [present, absent]
    default: present
  limits_d:
    description:
      - Manage the pam_limits file. V(false) leaves it as it is.
    type: bool
    default: true
  systemd:
    description:
      - Manage the systemd manager default. V(false) leaves it as it is.
    type: bool
    default: true
  container_runtimes:
    description:
      - V(auto) configures the runtimes found on the host - docker when C(dockerd) is on the C(PATH) or
        C(/etc/docker) exists, containerd when C(containerd) is on the C(PATH) or C(containerd.service) is
        installed.
      - V(none) configures none.
      - A list of V(docker) and V(containerd) configures those, found or not (with a warning when not found).
    type: list
    elements: str
    choices: [auto, none, docker, containerd]
    default: [auto]
attributes:
  platform:
    support: full
    details:
      - Linux with pam_limits and systemd. Running processes keep their limit; it applies to new logins,
        services started after a C(daemon-reexec) and containers started after the runtime restarts.
extends_documentation_fragment:
  - inference.host_tuning.attributes
  - inference.host_tuning.attributes.changes
  - inference.host_tuning.attributes.recorded
'''

EXAMPLES = r'''
- name: Unlimited memlock for logins, services and the container runtimes found
  inference.host_tuning.memlock:
  notify: Restart container runtimes

- name: Only docker, not the systemd default
  inference.host_tuning.memlock:
    systemd: false
    container_runtimes: [docker]

- name: Put everything back
  inference.host_tuning.memlock:
    state: absent
'''

RETURN = r'''
files:
  description: Each file this run manages, and whether it changed (or would in check mode).
  returned: always
  type: dict
  sample:
    /etc/security/limits.d/90-inference-memlock.conf: true
    /etc/systemd/system.conf.d/90-inference-memlock.conf: true
    /etc/docker/daemon.json: false
runtimes:
  description: The container runtimes found on the host.
  returned: always
  type: list
  elements: str
  sample: [docker]
restart_required:
  description: Runtimes whose configuration changed; restart them for new containers to get the limit.
  returned: always
  type: list
  elements: str
  sample: [docker]
reexec_required:
  description: True when the systemd manager default changed; C(systemctl daemon-reexec) (or a boot) applies it.
  returned: always
  type: bool
  sample: true
systemd_running:
  description:
    - True when systemd is PID 1 and C(systemctl) is there, so that RV(reexec_required) can be acted on
      with C(systemctl daemon-reexec); false in a chroot or a container without systemd.
  returned: always
  type: bool
  sample: true
diff:
  description: The file changes (in diff mode).
  returned: when changed and diff mode is on
  type: list
  elements: dict
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.inference.host_tuning.plugins.module_utils import _change
from ansible_collections.inference.host_tuning.plugins.module_utils import _files
from ansible_collections.inference.host_tuning.plugins.module_utils import _ledger
from ansible_collections.inference.host_tuning.plugins.module_utils import _limits
from ansible_collections.inference.host_tuning.plugins.module_utils import _systemd

OWNER = 'memlock'
LIMITS_PATH = _limits.LIMITS_D + '/90-inference-memlock.conf'
MANAGER_PATH = _limits.SYSTEM_CONF_D + '/90-inference-memlock.conf'
DOCKER_PATH = _limits.DOCKER_DAEMON_JSON
CONTAINERD_PATH = _systemd.dropin_path('containerd.service', '90-inference-memlock')

#: path -> what it configures ('limits', 'systemd' or a runtime name)
PATHS = ((LIMITS_PATH, 'limits'), (MANAGER_PATH, 'systemd'), (DOCKER_PATH, 'docker'),
         (CONTAINERD_PATH, 'containerd'))


class Memlock(object):

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.runtimes = _limits.detect_runtimes(module)
        self.files = []         # [(tag, ManagedFile)]
        self.result = dict(changed=False, diff=[])

    def selected_runtimes(self):
        wanted = self.params['container_runtimes']
        if ('auto' in wanted or 'none' in wanted) and len(wanted) != 1:
            self.module.fail_json(msg='container_runtimes is auto, none, or a list of docker and containerd; '
                                      'got %s.' % ', '.join(wanted))
        if wanted == ['auto']:
            return list(self.runtimes)
        if wanted == ['none']:
            return []
        selected = [r for r in _limits.RUNTIMES if r in wanted]
        for runtime in selected:
            if runtime not in self.runtimes:
                self.module.warn('%s was not found on this host; its configuration is written anyway.' % runtime)
        return selected

    # -- present -------------------------------------------------------------
    def plan_present(self):
        runtimes = self.selected_runtimes()
        if self.params['limits_d']:
            self.files.append(('limits', _files.ManagedFile(
                LIMITS_PATH, _limits.render_limits(OWNER, 'memlock', 'unlimited'))))
        if self.params['systemd']:
            self.files.append(('systemd', _files.ManagedFile(
                MANAGER_PATH, _limits.render_dropin(OWNER, 'Manager', [('DefaultLimitMEMLOCK', 'infinity')]))))
        if 'docker' in runtimes:
            try:
                text, data = _limits.load_json_object(DOCKER_PATH)
                desired = _limits.merge_docker_ulimit(text, data, 'memlock', -1, -1)
            except ValueError as e:
                self.module.fail_json(msg='%s. Fix or remove it and run again; nothing was written.' % e)
            self.files.append(('docker', _files.ManagedFile(DOCKER_PATH, desired)))
        if 'containerd' in runtimes:
            self.files.append(('containerd', _files.ManagedFile(
                CONTAINERD_PATH, _limits.render_dropin(OWNER, 'Service', [('LimitMEMLOCK', 'infinity')]))))

    # -- absent --------------------------------------------------------------
    def plan_absent(self, ledger):
        """Files to put back: (tag, ManagedFile, restore from the ledger?). A daemon.json that others edited
        since (a runtime the NVIDIA container toolkit added) gets only our default-ulimits.memlock taken back:
        the ledger's restore of a shared file (_ledger.restore_target)."""
        plan = []
        for path, tag in PATHS:
            f = _change.absent_file(ledger, path, OWNER)
            if f.recorded or f.changed:
                plan.append((tag, f, f.recorded))
        return plan

    # -- both ----------------------------------------------------------------
    def run(self):
        absent = self.params['state'] == 'absent'
        ledger = _ledger.Ledger(self.module)
        if absent:
            plan = self.plan_absent(ledger)
        else:
            self.plan_present()
            plan = [(tag, f, False) for tag, f in self.files]

        changed_tags = [tag for tag, f, _r in plan if f.changed]
        self.result['files'] = dict((f.path, f.changed) for _t, f, _r in plan)
        self.result['restart_required'] = [t for t in _limits.RUNTIMES if t in changed_tags]
        self.result['reexec_required'] = 'systemd' in changed_tags
        self.result['systemd_running'] = _systemd.booted(self.module)
        self.result['diff'] = [f.diff() for _t, f, _r in plan if f.changed]
        self.result['changed'] = bool(changed_tags)
        if self.module.check_mode:
            return

        for _tag, f, _recorded in plan:
            if absent:
                _change.restore_file(self.module, ledger, f)
            elif f.changed:
                f.apply(self.module, ledger, OWNER)
        ledger.save()
        if 'containerd' in changed_tags and _systemd.booted(self.module):
            _systemd.Systemctl(self.module).daemon_reload()

    def report(self):
        out = dict(self.result, runtimes=self.runtimes)
        return _change.diff_result(self.module, out)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            state=dict(type='str', default='present', choices=['present', 'absent']),
            limits_d=dict(type='bool', default=True),
            systemd=dict(type='bool', default=True),
            container_runtimes=dict(type='list', elements='str', default=['auto'],
                                    choices=['auto', 'none', 'docker', 'containerd']),
        ),
        supports_check_mode=True,
    )
    with _files.refusals(module):
        request = _change.pick(module.params, ('limits_d', 'systemd', 'container_runtimes'))
        _change.record_request(module, OWNER, request,
                               present=module.params['state'] == 'present')
        memlock = Memlock(module)
        memlock.run()
        module.exit_json(**memlock.report())


if __name__ == '__main__':
    main()
