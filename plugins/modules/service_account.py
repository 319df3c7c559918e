#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: service_account
short_description: The serving process's system user, group and home, recorded so that revert removes what it created
version_added: 0.2.0
description:
  - Creates the system group O(group), the system user O(user) (primary group O(group), home O(home), shell O(shell),
    no password) and its home directory (mode 0750, owned by the user), and adds the user to O(groups), with
    C(groupadd), C(useradd) and C(usermod) (argv lists, no shell).
  - Records in the restore ledger (C(/var/lib/inference_host_tuning/ledger.json)) what it created - the user, the group,
    the home, and the supplementary groups it added to a user that existed before - with the uid and gid they got.
    O(state=absent) and M(inference.host_tuning.revert) remove exactly that, and only while it is still what the
    collection created (same uid and gid; a home that is a directory owned by that uid). A user or group that existed
    before is never removed; a group that became another user's group is kept, with an error that says so.
  - A user that existed before keeps its home, shell and primary group (a warning names what differs); a user the
    collection created follows the options (C(usermod)).
  - Names of the base system (C(root), C(nobody), C(video), ...) are refused for O(user) and O(group).
author:
  - inference.host_tuning contributors (@inference-host-tuning)
options:
  state:
    description:
      - V(present) creates what is missing.
      - V(absent) removes what the ledger records as created for O(user) (the home too, unless O(keep_home)), and
        takes the user out of the groups it was added to.
    type: str
    choices: [present, absent]
    default: present
  user:
    description: The user name (lower-case letters, digits, C(_) and C(-); at most 32).
    type: str
    required: true
  group:
    description: The primary group. Default - O(user).
    type: str
  home:
    description: The home and working directory; an absolute path strictly below C(/var/lib/), C(/srv/), C(/opt/) or
      C(/home/).
    type: str
    default: /var/lib/inference
  groups:
    description: Supplementary groups (they must exist), such as V(video) and V(render) for GPU device files.
    type: list
    elements: str
    default: []
  shell:
    description: The login shell.
    type: str
    choices: [/usr/sbin/nologin, /sbin/nologin, /bin/false, /usr/bin/false, /bin/bash, /bin/sh]
    default: /usr/sbin/nologin
  comment:
    description: The GECOS comment (no C(:) or C(,)).
    type: str
    default: inference server
  keep_home:
    description: With O(state=absent), keep the home directory (model caches) even when the collection created it;
      its record stays in the ledger, so a later revert can still remove it.
    type: bool
    default: false
attributes:
  platform:
    support: full
    details: Linux with the shadow tools (groupadd, useradd, usermod, userdel, groupdel, gpasswd).
extends_documentation_fragment:
  - inference.host_tuning.attributes
  - inference.host_tuning.attributes.changes
'''

EXAMPLES = r'''
- name: The serving account
  inference.host_tuning.service_account:
    user: inference
    home: /var/lib/inference
    groups: [video, render]

- name: Remove what the collection created for it
  inference.host_tuning.service_account:
    user: inference
    state: absent
'''

RETURN = r'''
steps:
  description: What was done (in check mode, what would be), in order.
  returned: always
  type: list
  elements: str
  sample: ['create group inference', 'create user inference (home /var/lib/inference, shell /usr/sbin/nologin)',
           'create home /var/lib/inference (0750)']
created:
  description: What the ledger records as created by the collection for this user after the run (empty when nothing).
  returned: always
  type: dict
  sample: {user: inference, group: inference, home: /var/lib/inference, uid: 998, gid: 998}
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.inference.host_tuning.plugins.module_utils import _change
from ansible_collections.inference.host_tuning.plugins.module_utils import _accounts
from ansible_collections.inference.host_tuning.plugins.module_utils import _files
from ansible_collections.inference.host_tuning.plugins.module_utils import _formats
from ansible_collections.inference.host_tuning.plugins.module_utils import _ledger

OWNER = _accounts.OWNER


def runner(module):
    def run(argv):
        rc, out, err = module.run_command(argv, environ_update={'LC_ALL': 'C'})
        if rc != 0:
            raise _accounts.AccountError('%s failed (rc=%s): %s' % (' '.join(argv), rc, (err or out).strip()))
    return run


def validated(p):
    user = _accounts.name(p['user'], 'user')
    return dict(user=user, group=_accounts.name(p['group'] or user, 'group'), home=_accounts.home(p['home']),
                groups=[_accounts.group_name(g, 'groups') for g in p['groups']], shell=p['shell'],
                comment=_accounts.comment(p['comment']))


def _diff(steps):
    return {'before': '', 'after': ''.join('%s\n' % s.text for s in steps),
            'before_header': 'service account', 'after_header': 'service account (changes)'}


def present(module, v, result):
    ledger = _ledger.Ledger(module)
    old = ledger.get_extra(OWNER, v['user'])
    steps, record, notes = _accounts.plan_present(v, old)
    for note in notes:
        module.warn(note)
    result.update(changed=bool(steps), steps=[s.text for s in steps], created=old or {})
    if module._diff:
        result['diff'] = _diff(steps)
    if not steps or module.check_mode:
        return
    if record is not None:
        # Recorded before the first change (ids once they exist), so that an interrupted run is still undone.
        ledger.set_extra(OWNER, v['user'], record, overwrite=True)
        ledger.save()
    result['started'] = True
    _accounts.run_steps(v['user'], steps, runner(module))
    if record is not None:
        record = _accounts.ids(record)
        ledger.set_extra(OWNER, v['user'], record, overwrite=True)
        ledger.save()
        result['created'] = record


def absent(module, v, result):
    ledger = _ledger.Ledger(module)
    rec = ledger.get_extra(OWNER, v['user'])
    if rec is None:
        return
    steps = _accounts.plan_restore(v['user'], rec, keep_home=module.params['keep_home'])
    result.update(changed=bool(steps), steps=[s.text for s in steps])
    if module._diff:
        result['diff'] = _diff(steps)
    if module.check_mode:
        result['created'] = rec
        return
    result['started'] = True
    run = runner(module)
    if module.params['keep_home'] and 'home' in rec:
        # The home stays recorded: a later revert (without keep_home) may remove it.
        _accounts.run_restore(steps, run)
        kept = dict((k, rec[k]) for k in ('home', 'uid') if k in rec)
        ledger.set_extra(OWNER, v['user'], kept, overwrite=True)
        result['created'] = kept
    else:
        _accounts.restore(ledger, v['user'], steps, run)
    ledger.save()


def main():
    module = AnsibleModule(
        argument_spec=dict(
            state=dict(type='str', choices=['present', 'absent'], default='present'),
            user=dict(type='str', required=True),
            group=dict(type='str'),
            home=dict(type='str', default='/var/lib/inference'),
            groups=dict(type='list', elements='str', default=[]),
            shell=dict(type='str', choices=list(_accounts.SHELLS), default='/usr/sbin/nologin'),
            comment=dict(type='str', default='inference server'),
            keep_home=dict(type='bool', default=False),
        ),
        supports_check_mode=True,
    )
    with _files.refusals(module):
        try:
            v = validated(module.params)
        except _formats.FormatError as e:
            module.fail_json(msg='Nothing was changed: %s' % e)
        result = dict(changed=False, steps=[], created={})
        with _change.steps(module, result, (_accounts.AccountError, OSError)):
            if module.params['state'] == 'present':
                present(module, v, result)
            else:
                absent(module, v, result)
        module.exit_json(**result)


if __name__ == '__main__':
    main()
