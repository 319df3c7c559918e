#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: allocator_preload
short_description: Preload jemalloc or tcmalloc into a serving process
version_added: 0.1.0
description:
  - Finds the allocator's shared library, checks that a process started with it in C(LD_PRELOAD) really
    maps it, and only then writes the environment that preloads it, with the allocator's tunables.
  - O(scope=service) writes the drop-in C(/etc/systemd/system/UNIT.d/90-inference-allocator.conf) with
    C(Environment=) lines and runs C(systemctl daemon-reload) when it changed (never in check mode).
    The service picks it up at its next start; the roles restart it through their handlers.
  - O(scope=env_file) sets C(KEY=VALUE) lines in an environment file (for containers, C(docker run --env-file),
    C(EnvironmentFile=) or another launcher) and keeps the file's other lines.
  - O(scope=system) adds the library to C(/etc/ld.so.preload).
  - Every file's previous state is recorded in the restore ledger; O(state=absent) (or O(allocator=none))
    restores exactly what was there, byte for byte.
author:
  - inference.host_tuning contributors (@inference-host-tuning)
options:
  allocator:
    description:
      - The allocator to preload. V(none) removes what this module added for the target, like O(state=absent).
    type: str
    choices: [jemalloc, tcmalloc, none]
    default: jemalloc
  state:
    description:
      - V(absent) restores what this module changed for the target given by O(scope).
    type: str
    choices: [present, absent]
    default: present
  scope:
    description:
      - Where the preload is set.
      - V(service) is a systemd drop-in for O(unit).
      - V(env_file) is the environment file O(env_file). The module manages the C(LD_PRELOAD), C(MALLOC_CONF)
        and C(TCMALLOC_*) lines in it and keeps all other lines.
      - V(system) adds the library to C(/etc/ld.so.preload). B(Every process on the host then loads it),
        including sshd, systemd's helpers and package managers, and a broken or removed library makes the
        dynamic loader print an error in every process. Use it only on a dedicated serving host and only
        when the launcher cannot be given an environment. O(tunables) do not apply there (set
        C(MALLOC_CONF) in the service's environment).
    type: str
    choices: [service, env_file, system]
    default: service
  unit:
    description:
      - The systemd service, for example V(vllm.service). Required with O(scope=service).
    type: str
  env_file:
    description:
      - Absolute path of the environment file. Required with O(scope=env_file).
    type: path
  library:
    description:
      - The library's path on the host, instead of searching for it.
      - Otherwise the module looks in the ldconfig cache (C(ldconfig -p), entries of the host's architecture),
        then for C(libjemalloc.so.2) (jemalloc) or C(libtcmalloc_minimal.so.4) then C(libtcmalloc.so.4)
        (tcmalloc) in C(/usr/lib/x86_64-linux-gnu), C(/usr/lib/aarch64-linux-gnu) (the host's own first),
        C(/usr/lib64) and C(/usr/lib).
      - A library that is not found fails with the paths searched and the package that provides it.
        jemalloc is C(libjemalloc2) on Debian and Ubuntu, C(jemalloc) from EPEL on RHEL; tcmalloc is
        C(libtcmalloc-minimal4) (C(libtcmalloc-minimal4t64) on Debian 13 and Ubuntu 24.04) or C(gperftools-libs).
    type: path
  tunables:
    description:
      - Overrides of the allocator's settings; a V(null) value removes a default.
      - For jemalloc, options of C(MALLOC_CONF). Defaults
        C(background_thread:true,metadata_thp:auto,dirty_decay_ms:30000,muzzy_decay_ms:30000)
        (purging in background threads, THP for metadata, freed pages kept 30 s instead of 10 s).
      - For tcmalloc (gperftools), C(TCMALLOC_*) environment variables. Defaults
        C(TCMALLOC_MAX_TOTAL_THREAD_CACHE_BYTES=268435456) (256 MiB instead of 32 MiB) and
        C(TCMALLOC_LARGE_ALLOC_REPORT_THRESHOLD=107374182400) (no stderr report for allocations under 100 GiB).
        C(TCMALLOC_RELEASE_RATE) keeps tcmalloc's default unless set here.
    type: dict
attributes:
  check_mode:
    support: full
    details:
      - Check mode also runs the verification probe (a short C(cat /proc/self/maps) with C(LD_PRELOAD)); it
        changes nothing, and check mode then predicts a failure honestly.
  diff_mode:
    support: full
    details: Returns the file diff, in check mode too.
  platform:
    support: full
    details: Linux with glibc's dynamic loader; O(scope=service) needs systemd.
  idempotent:
    support: full
extends_documentation_fragment:
  - inference.host_tuning.attributes
  - inference.host_tuning.attributes.recorded
notes:
  - The verification proves the library loads and maps in a process with the same C(LD_PRELOAD). It does not
    prove that the service's own environment reaches the process (a launcher that clears its environment
    would drop it); check the running process's C(/proc/PID/maps).
seealso:
  - module: inference.host_tuning.numa_bind
  - name: jemalloc TUNING
    description: jemalloc's options for MALLOC_CONF.
    link: https://github.com/jemalloc/jemalloc/blob/dev/TUNING.md
'''

EXAMPLES = r'''
- name: Preload jemalloc into vLLM
  inference.host_tuning.allocator_preload:
    allocator: jemalloc
    unit: vllm.service

- name: Return freed memory faster
  inference.host_tuning.allocator_preload:
    allocator: jemalloc
    unit: vllm.service
    tunables:
      dirty_decay_ms: 5000
      muzzy_decay_ms: null

- name: tcmalloc for a container started with --env-file
  inference.host_tuning.allocator_preload:
    allocator: tcmalloc
    scope: env_file
    env_file: /etc/inference/sglang.env

- name: Remove the preload again
  inference.host_tuning.allocator_preload:
    unit: vllm.service
    state: absent
'''

RETURN = r'''
library:
  description: The library preloaded (the host's path); null when nothing is preloaded.
  returned: always
  type: str
  sample: /usr/lib/x86_64-linux-gnu/libjemalloc.so.2
allocator:
  description: The allocator.
  returned: always
  type: str
  sample: jemalloc
scope:
  description: Where the preload is set.
  returned: always
  type: str
  sample: service
path:
  description: The file the module manages (drop-in, environment file or C(/etc/ld.so.preload)).
  returned: always
  type: str
  sample: /etc/systemd/system/vllm.service.d/90-inference-allocator.conf
environment:
  description: The variables set (only C(LD_PRELOAD) is implied by O(scope=system), and it is not returned there).
  returned: always
  type: dict
  sample: {"LD_PRELOAD": "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2",
           "MALLOC_CONF": "background_thread:true,metadata_thp:auto,dirty_decay_ms:30000,muzzy_decay_ms:30000"}
verified:
  description: Whether a process started with the preload mapped the library.
  returned: always
  type: bool
  sample: true
daemon_reloaded:
  description: Whether C(systemctl daemon-reload) ran.
  returned: always
  type: bool
  sample: true
'''

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.inference.host_tuning.plugins.module_utils import _change
from ansible_collections.inference.host_tuning.plugins.module_utils import _allocator
from ansible_collections.inference.host_tuning.plugins.module_utils import _files
from ansible_collections.inference.host_tuning.plugins.module_utils import _formats
from ansible_collections.inference.host_tuning.plugins.module_utils import _host
from ansible_collections.inference.host_tuning.plugins.module_utils import _ledger
from ansible_collections.inference.host_tuning.plugins.module_utils import _systemd

OWNER = 'allocator_preload'
DROPIN = '90-inference-allocator'
PRELOAD_FILE = '/etc/ld.so.preload'


def target_path(module):
    p = module.params
    if p['scope'] == 'service':
        err = _systemd.unit_error(p['unit'])
        if err:
            module.fail_json(msg=err)
        return _systemd.dropin_path(p['unit'], DROPIN)
    if p['scope'] == 'env_file':
        path = p['env_file']
        if not path.startswith('/') or path.endswith('/'):
            module.fail_json(msg='env_file=%r must be an absolute file path' % (path,))
        error = _ledger.location_error(OWNER, os.path.normpath(path), 'env_file')
        if error:
            module.fail_json(msg='Nothing was changed: %s' % error)
        return os.path.normpath(path)
    return PRELOAD_FILE


def find_library(module, allocator):
    library = module.params['library']
    if library:
        if not library.startswith('/'):
            module.fail_json(msg='library=%r must be an absolute path' % (library,))
        _formats.word(library, 'library', r'/[^\s"\'\\$`;]+',
                      'an absolute path without white space, quotes or shell characters')
        if not _host.exists(library) or _host.isdir(library):
            module.fail_json(msg='library %s does not exist; install %s or correct the path'
                                 % (library, _allocator.PACKAGES[allocator]))
        return library
    output = None
    ldconfig = module.get_bin_path('ldconfig', opt_dirs=['/sbin', '/usr/sbin'])
    if ldconfig:
        rc, out, _err = module.run_command([ldconfig, '-p'])
        if rc == 0:
            output = out
    try:
        return _allocator.find_library(allocator, output)[0]
    except _allocator.AllocatorError as e:
        module.fail_json(msg=str(e))


def desired_content(module, scope, path, env, library):
    current = _host.read_text_file(path)
    if scope == 'service':
        items = [('Environment', _formats.environment(k, v, 'tunables')) for k, v in env]
        return _systemd.render_section('Service', items, _files.header(OWNER))
    if scope == 'env_file':
        return _allocator.env_file_content(current, env, OWNER)
    return _allocator.preload_file_content(current, library)


def reload(module, scope):
    if scope != 'service':
        return False
    systemctl = _systemd.Systemctl(module)
    if systemctl.bin is not None and _systemd.booted(module):
        systemctl.daemon_reload()
        return True
    return False


def present(module, allocator, scope, path):
    library = find_library(module, allocator)
    try:
        env = _allocator.environment(allocator, library, module.params['tunables'])
    except _allocator.AllocatorError as e:
        module.fail_json(msg=str(e))
    for _key, value in env:
        if '\n' in value or '\r' in value:
            module.fail_json(msg='environment values must be one line')
    if scope == 'system':
        if module.params['tunables']:
            module.warn('tunables do not apply with scope=system (ld.so.preload only loads the library); '
                        'set MALLOC_CONF/TCMALLOC_* in the service environment')
        env = env[:1]
    verified, detail = _allocator.verify(module, library)
    if not verified:
        module.fail_json(msg='A process started with LD_PRELOAD=%s did not map the library (%s); nothing was '
                             'written. Check that the library is for this architecture (%s) and readable.'
                             % (library, detail, _allocator.machine()), library=library)
    if scope == 'system':
        module.warn('scope=system: %s is preloaded into every process on this host' % (library,))
    mf = _files.ManagedFile(path, desired_content(module, scope, path, env, library))
    result = dict(changed=mf.changed, allocator=allocator, scope=scope, path=path, library=library,
                  environment=dict(env), verified=True, daemon_reloaded=False)
    if _change.write_file(module, mf, OWNER, result):
        result['daemon_reloaded'] = reload(module, scope)
    module.exit_json(**result)


def absent_plan(ledger, scope, path):
    """What state=absent does to ``path``: the change layer's plan (the recorded original, else our own file
    removed), except in an environment file without a record, where only our lines go (and the preload file,
    not ours to edit without a record, is left)."""
    if scope == 'env_file' and path not in ledger.files_of(OWNER):
        current = _host.read_text_file(path)
        plan = _files.ManagedFile(path, _allocator.env_file_strip(current, OWNER))
        plan.recorded = False
        return plan
    return _change.absent_file(ledger, path, OWNER)


def absent(module, allocator, scope, path):
    ledger = _ledger.Ledger(module)
    plan = absent_plan(ledger, scope, path)
    changed = plan.changed
    result = dict(changed=changed, allocator=allocator, scope=scope, path=path, library=None,
                  environment={}, verified=False, daemon_reloaded=False)
    if module._diff:
        result['diff'] = plan.diff()
    if module.check_mode:
        module.exit_json(**result)
    if plan.recorded or changed:
        _change.restore_file(module, ledger, plan)
    ledger.save()
    if changed:
        if scope == 'service':
            directory = _host.host_path(path.rsplit('/', 1)[0])
            if os.path.isdir(directory) and not os.listdir(directory):
                os.rmdir(directory)
        result['daemon_reloaded'] = reload(module, scope)
    module.exit_json(**result)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            allocator=dict(type='str', choices=['jemalloc', 'tcmalloc', 'none'], default='jemalloc'),
            state=dict(type='str', choices=['present', 'absent'], default='present'),
            scope=dict(type='str', choices=['service', 'env_file', 'system'], default='service'),
            unit=dict(type='str'),
            env_file=dict(type='path'),
            library=dict(type='path'),
            tunables=dict(type='dict'),
        ),
        required_if=[('scope', 'service', ('unit',)), ('scope', 'env_file', ('env_file',))],
        supports_check_mode=True,
    )
    with _files.refusals(module):
        allocator = module.params['allocator']
        scope = module.params['scope']
        path = target_path(module)
        _change.record_request(module, OWNER, _change.pick(module.params, ('allocator', 'scope', 'library')),
                               module.params['unit'] if scope == 'service' else path,
                               module.params['state'] == 'present' and allocator != 'none')
        if module.params['state'] == 'absent' or allocator == 'none':
            absent(module, allocator, scope, path)
        present(module, allocator, scope, path)


if __name__ == '__main__':
    main()
