#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: system_packages
short_description: Install the distribution packages a tuning relies on, recorded so that revert removes them again
version_added: 0.2.0
description:
  - Installs packages with the host's package manager (C(apt-get) on Debian and Ubuntu, C(dnf) on the RHEL family)
    and records in the restore ledger (C(/var/lib/inference_host_tuning/ledger.json)) every package the install
    added - the asked ones and their dependencies, from the installed set before and after.
  - A package that was installed before is never recorded, so O(state=absent) and M(inference.host_tuning.revert)
    remove only what this collection added.
  - O(allocator) picks the allocator library's package for the host (C(libjemalloc2), C(libtcmalloc-minimal4t64)
    or C(libtcmalloc-minimal4), C(jemalloc), C(gperftools-libs)) - the first one installed, else the first one the
    package manager knows.
  - On apt hosts C(apt-get update) runs once when a package is not in the package lists (a fresh host or
    container has none).
author:
  - inference.host_tuning contributors (@inference-host-tuning)
options:
  state:
    description:
      - V(present) installs what is missing and records what the install added.
      - V(absent) removes the packages of O(names) (every package recorded, without O(names) or O(allocator)) that
        this collection installed, and forgets them.
    type: str
    choices: [present, absent]
    default: present
  names:
    description: Package names (letters, digits and C(+ . _ -)).
    type: list
    elements: str
    default: []
  allocator:
    description: The allocator whose library package to install (added to O(names)); V(none) adds nothing.
    type: str
    choices: [jemalloc, tcmalloc, none]
    default: none
attributes:
  platform:
    support: full
    details: Debian and Ubuntu (apt), the RHEL family (dnf).
extends_documentation_fragment:
  - inference.host_tuning.attributes
  - inference.host_tuning.attributes.changes
notes:
  - Needs a reachable package mirror for O(state=present) when something is missing.
'''

EXAMPLES = r'''
- name: Install the allocator the serving process preloads
  inference.host_tuning.system_packages:
    allocator: jemalloc

- name: Install numactl
  inference.host_tuning.system_packages:
    names: [numactl]

- name: Remove every package the collection installed
  inference.host_tuning.system_packages:
    state: absent
'''

RETURN = r'''
manager:
  description: The host's package manager (V(apt) or V(dnf)).
  returned: always
  type: str
  sample: apt
packages:
  description: The packages asked for (with O(allocator)'s package for this host).
  returned: always
  type: list
  elements: str
  sample: [libjemalloc2]
installed:
  description: The packages the install added (dependencies included); in check mode the missing ones asked for.
  returned: always
  type: list
  elements: str
  sample: [libjemalloc2]
removed:
  description: The packages removed (O(state=absent)); in check mode those that would be.
  returned: always
  type: list
  elements: str
  sample: []
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.inference.host_tuning.plugins.module_utils import _change
from ansible_collections.inference.host_tuning.plugins.module_utils import _files
from ansible_collections.inference.host_tuning.plugins.module_utils import _formats
from ansible_collections.inference.host_tuning.plugins.module_utils import _ledger
from ansible_collections.inference.host_tuning.plugins.module_utils import _packages

OWNER = _packages.OWNER


def _lines(names):
    return ''.join('%s\n' % n for n in sorted(names))


def present(module, pm, asked, result):
    installed = pm.installed()
    missing = [pkg for pkg in asked if pkg not in installed]
    if not module.check_mode:
        unknown = [pkg for pkg in missing if not pm.known(pkg)]
        if unknown:
            raise _packages.PackageError('%s not known to %s on this host%s' % (
                ', '.join(unknown), pm.kind, ' (after apt-get update)' if pm.kind == 'apt' else ''))
    result['changed'] = bool(missing)
    if module._diff:
        result['diff'] = {'before': _lines(p for p in asked if p in installed), 'after': _lines(asked),
                          'before_header': 'installed packages', 'after_header': 'installed packages'}
    if not missing:
        return
    if module.check_mode:
        result['installed'] = missing
        return
    ledger = _ledger.Ledger(module)
    # Recorded before the install, so that an interrupted one is still undone.
    for pkg in missing:
        ledger.set_extra(OWNER, pkg, {'manager': pm.kind, 'recorded': _ledger._now()})
    ledger.save()
    result['started'] = True
    try:
        added = pm.install(missing)
    finally:
        now = pm.installed()
        for pkg in missing:
            if pkg not in now:
                ledger.forget_extra_key(OWNER, pkg)
        ledger.save()
    for pkg in added:
        ledger.set_extra(OWNER, pkg, {'manager': pm.kind, 'recorded': _ledger._now()})
    ledger.save()
    result['installed'] = added


def absent(module, names, result):
    ledger = _ledger.Ledger(module)
    records = ledger.extra.get(OWNER, {})
    plan = _packages.plan_restore(module, records, names or None)
    remove = [pkg for pkg, action in plan if action == 'remove']
    result['removed'] = remove
    result['changed'] = bool(plan)
    if module._diff:
        result['diff'] = {'before': _lines(remove), 'after': '',
                          'before_header': 'packages installed by inference.host_tuning',
                          'after_header': 'packages installed by inference.host_tuning'}
    if module.check_mode or not plan:
        return
    result['started'] = True
    _packages.restore(module, ledger, plan)
    ledger.save()


def main():
    module = AnsibleModule(
        argument_spec=dict(
            state=dict(type='str', choices=['present', 'absent'], default='present'),
            names=dict(type='list', elements='str', default=[]),
            allocator=dict(type='str', choices=['jemalloc', 'tcmalloc', 'none'], default='none'),
        ),
        supports_check_mode=True,
    )
    p = module.params
    with _files.refusals(module):
        try:
            names = [_packages.name(n) for n in p['names']]
        except _formats.FormatError as e:
            module.fail_json(msg='Nothing was changed: %s' % e)
        kind = _packages.manager()
        result = dict(changed=False, manager=kind or '', packages=[], installed=[], removed=[])
        if kind is None:
            if p['state'] == 'absent' and not _ledger.Ledger(module).extra.get(OWNER):
                module.exit_json(**result)
            if p['state'] == 'present' and not names and p['allocator'] == 'none':
                module.exit_json(**result)
            module.fail_json(msg='Nothing was changed: no apt-get or dnf on this host to %s packages%s' % (
                'install' if p['state'] == 'present' else 'remove the recorded',
                '; install them by hand' if p['state'] == 'present' else ''), **result)
        pm = _packages.Packages(module, kind)
        with _change.steps(module, result, _packages.PackageError):
            if p['allocator'] != 'none':
                alternatives = _packages.ALLOCATOR_PACKAGES[kind][p['allocator']]
                if p['state'] == 'present':
                    names.append(pm.choose(alternatives, pm.installed(), refresh=not module.check_mode))
                else:
                    names.extend(alternatives)
            result['packages'] = names
            if p['state'] == 'present':
                present(module, pm, names, result)
            else:
                absent(module, names, result)
        module.exit_json(**result)


if __name__ == '__main__':
    main()
