#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: service_unit
short_description: Write the systemd unit of an LLM serving process, validated and through the restore ledger
version_added: 0.1.0
description:
  - Writes C(/etc/systemd/system/NAME.service) for a serving process, by default vLLM's OpenAI-compatible server
    (its command line is built here from O(model), O(port) and the other vLLM options), or any command given as
    an argv list in O(command).
  - The unit runs the process as a non-root user with C(LimitMEMLOCK=infinity), C(LimitNOFILE=),
    C(Restart=on-failure), the environment of O(environment) and optionally a private C(/dev/shm) of O(shm_size).
  - Every value is validated before anything is read or written, and written through the collection's unit
    writer, which quotes each argument of the command, escapes systemd's C(%) specifiers and C($) variables and
    refuses line breaks and other control characters; a bad value fails with a message naming the option and
    C(Nothing was changed).
  - An existing unit file of that name that this module did not write (no record in the restore ledger, no
    header of this module) is refused, unless O(takeover=true); then its original is recorded in the restore
    ledger C(/var/lib/inference_host_tuning/ledger.json) (with its C(multi-user.target.wants) link, or that there
    was none) and put back byte for byte by O(state=absent) and by M(inference.host_tuning.revert).
  - Runs C(systemctl daemon-reload) after the unit changed on a host booted with systemd. It does not start,
    stop or enable the service (the role C(inference.host_tuning.inference_service) does), except that
    O(state=absent) stops and disables the service before it removes a unit file it created.
author:
  - inference.host_tuning contributors (@inference-host-tuning)
options:
  name:
    description:
      - The service's name; the unit is C(NAME.service) (a name ending in C(.service) is taken as the unit's name).
      - Letters, digits and C(_.:-), starting with a letter or digit; no path, no template (C(@)).
    type: str
    required: true
  state:
    description:
      - V(present) writes the unit; V(absent) restores what this module changed for O(name) (removes the unit it
        created, or puts back the original of a unit it took over).
    type: str
    choices: [present, absent]
    default: present
  takeover:
    description:
      - Replace an existing unit file of that name that this module did not write. Its original is recorded in
        the restore ledger first and restored by O(state=absent) and M(inference.host_tuning.revert).
      - V(false) fails, before changing anything, when such a file exists.
    type: bool
    default: false
  description:
    description: The unit's C(Description=); the service's name is appended in parentheses.
    type: str
    default: LLM inference server
  user:
    description: The user the process runs as (C(User=)); letters, digits and C(_.-), at most 32 characters.
    type: str
    default: inference
  group:
    description: The process's group (C(Group=)); same form as O(user).
    type: str
    default: inference
  working_directory:
    description: C(WorkingDirectory=); an absolute, normalised path without white space, quotes, C($) or C(%).
    type: str
    default: /var/lib/inference
  command:
    description:
      - The whole command as an argv list (TGI, SGLang, a stand-in...), instead of vLLM's.
      - Each word is quoted for systemd, C(%) and C($) are escaped, so a word stays one literal argument. The
        program (first word) is an absolute path or a program name without systemd's C(-@:+!) prefixes.
      - Mutually exclusive with O(model).
    type: list
    elements: str
  python:
    description: The Python interpreter that has vLLM installed (an absolute path).
    type: str
    default: /opt/vllm/bin/python3
  model:
    description:
      - Model path or Hugging Face id for vLLM's C(--model). One of O(model) and O(command) is required with
        O(state=present).
    type: str
  served_model_name:
    description: C(--served-model-name); omitted when empty.
    type: str
    default: ""
  host:
    description: C(--host), an address or host name; omitted when empty (vLLM listens on all addresses then).
    type: str
    default: 127.0.0.1
  port:
    description: C(--port), 1 to 65535.
    type: int
    default: 8000
  gpu_memory_utilization:
    description: C(--gpu-memory-utilization), above 0 and at most 1.
    type: float
    default: 0.9
  tensor_parallel_size:
    description: C(--tensor-parallel-size), at least 1.
    type: int
    default: 1
  dtype:
    description: C(--dtype) (V(auto), V(bfloat16), V(float16)...).
    type: str
    default: auto
  max_model_len:
    description: C(--max-model-len); V(0) leaves the model's own.
    type: int
    default: 0
  max_num_seqs:
    description: C(--max-num-seqs); V(0) leaves vLLM's default.
    type: int
    default: 0
  max_num_batched_tokens:
    description: C(--max-num-batched-tokens); V(0) leaves vLLM's default.
    type: int
    default: 0
  enable_prefix_caching:
    description: V(true) C(--enable-prefix-caching), V(false) C(--no-enable-prefix-caching), unset vLLM's default.
    type: bool
  quantization:
    description: C(--quantization), for example V(fp8); omitted when empty.
    type: str
    default: ""
  extra_args:
    description: Further vLLM arguments, appended as they are (each one argument, quoted for systemd).
    type: list
    elements: str
    default: []
  environment:
    description:
      - The process's environment, one C(Environment=) line per variable, sorted by name.
      - Names are letters, digits and C(_); values are strings or numbers (quote V(true), V(false) and V(yes)),
        written with quotes and backslashes escaped and C(%) as C(%%).
    type: dict
    default: {}
  limit_nofile:
    description: C(LimitNOFILE=), at least 1.
    type: int
    default: 1048576
  shm_size:
    description:
      - A private C(/dev/shm) of this size for the service (C(TemporaryFileSystem=/dev/shm:size=SIZE,mode=1777),
        systemd 238+), a number with an optional C(k), C(M), C(G) or C(T) suffix (V(64G)) or a percentage of
        the RAM (V(50%)).
      - Empty keeps the host's C(/dev/shm).
    type: str
    default: ""
  restart_sec:
    description: C(RestartSec=) in seconds.
    type: int
    default: 10
  timeout_stop_sec:
    description: C(TimeoutStopSec=) in seconds.
    type: int
    default: 90
attributes:
  check_mode:
    support: full
    details: Validates, reads the unit and the ledger, computes the diff; writes nothing and runs no command.
  diff_mode:
    support: full
  idempotent:
    support: full
  platform:
    support: full
    details: Linux with systemd.
extends_documentation_fragment:
  - inference.host_tuning.attributes
  - inference.host_tuning.attributes.recorded
notes:
  - With O(state=absent) after a takeover, the original unit file comes back byte for byte, and so does its link in
    C(multi-user.target.wants) (recorded at the takeover, as enabling our unit makes one); a running service is
    restarted so that it runs as the original says.
seealso:
  - module: inference.host_tuning.numa_bind
  - module: inference.host_tuning.allocator_preload
  - module: inference.host_tuning.service_health
  - module: inference.host_tuning.revert
  - name: systemd.service(5) and systemd.syntax(7)
    description: The unit settings written and how systemd quotes them.
    link: https://www.freedesktop.org/software/systemd/man/latest/systemd.service.html
'''

EXAMPLES = r'''
- name: vLLM's OpenAI server for a local model
  inference.host_tuning.service_unit:
    name: vllm
    python: /opt/vllm/bin/python3
    model: /models/Meta-Llama-3-8B-Instruct
    served_model_name: llama3-8b
    port: 8000
    max_model_len: 8192
    environment:
      CUDA_DEVICE_ORDER: PCI_BUS_ID
      HF_HOME: /models
    shm_size: 64G

- name: Any other server, as an argv list
  inference.host_tuning.service_unit:
    name: tgi
    command: [/usr/local/bin/text-generation-launcher, --model-id, /models/mistral, --port, "8080"]
    port: 8080

- name: Replace an existing unit of that name (its original is restored by state=absent)
  inference.host_tuning.service_unit:
    name: mysvc
    command: [/usr/local/bin/mysvc]
    takeover: true

- name: Remove the unit (or put back the one taken over)
  inference.host_tuning.service_unit:
    name: vllm
    state: absent
'''

RETURN = r'''
unit:
  description: The unit's name.
  returned: always
  type: str
  sample: vllm.service
path:
  description: The unit file.
  returned: always
  type: str
  sample: /etc/systemd/system/vllm.service
argv:
  description: The command the unit runs, as an argv list.
  returned: when O(state=present)
  type: list
  elements: str
  sample: [/opt/vllm/bin/python3, -m, vllm.entrypoints.openai.api_server, --model, /models/llama, --port, "8000"]
original_recorded:
  description:
    - Whether the restore ledger holds the original of a unit file that existed before this module wrote it
      (after a takeover); O(state=absent) puts that original back.
  returned: when O(state=present)
  type: bool
  sample: false
daemon_reloaded:
  description: Whether C(systemctl daemon-reload) ran.
  returned: always
  type: bool
  sample: true
stopped:
  description: Whether O(state=absent) stopped and disabled the service before removing its unit.
  returned: when O(state=absent)
  type: bool
  sample: false
other_units:
  description:
    - With O(state=present), the serving units this module wrote earlier under other names (the service was
      renamed), as the restore ledger records them. The C(inference_service) role removes them (state=absent),
      so a rename leaves no old unit, link or process behind.
  returned: when O(state=present)
  type: list
  elements: str
  sample: [vllm.service]
restarted:
  description:
    - Whether O(state=absent) restarted the service after putting back the original of a unit it had taken over
      (only when the service was running, so that it runs as its original unit says).
  returned: when O(state=absent)
  type: bool
  sample: false
'''

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.inference.host_tuning.plugins.module_utils import _change
from ansible_collections.inference.host_tuning.plugins.module_utils import _files
from ansible_collections.inference.host_tuning.plugins.module_utils import _formats
from ansible_collections.inference.host_tuning.plugins.module_utils import _host
from ansible_collections.inference.host_tuning.plugins.module_utils import _ledger
from ansible_collections.inference.host_tuning.plugins.module_utils import _systemd

OWNER = 'service_unit'
VLLM_ENTRYPOINT = 'vllm.entrypoints.openai.api_server'

_NAME = r'[A-Za-z0-9][A-Za-z0-9_.:-]*'
_ACCOUNT = r'[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}'
_PATH = r'/[^\s"\'\\$%;]*'
_HOST = r'[A-Za-z0-9:][A-Za-z0-9.:-]*'
_DTYPE = r'[a-z0-9_]+'
_QUANT = r'[A-Za-z0-9_][A-Za-z0-9_.-]*'
_SHM = r'[1-9][0-9]{0,15}[kKmMgGtT]?|[1-9][0-9]?%|100%'
#: LimitNOFILE= above the kernel's fs.nr_open ceiling (2^30 - 8 on 64-bit) cannot take effect.
MAX_NOFILE = 1073741816


class Bad(_formats.FormatError):
    """A value refused by this module's own rules (not a format's)."""


def header_text():
    """The header comment (without "#"): the same two lines as every file this collection manages."""
    return '\n'.join(line[2:] for line in _files.header(OWNER).splitlines())


def unit_name(name):
    name = _formats.text(name, 'name', allow_empty=False)
    base = name[:-len('.service')] if name.endswith('.service') else name
    if not _formats.fullmatch(_NAME, base) or '..' in base:
        raise Bad('name', '%r is not a service name: letters, digits and "_.:-", starting with a letter or digit, '
                          'no "/", "..", "@" or white space (the unit is NAME.service)' % (name,))
    unit = base + '.service'
    err = _systemd.unit_error(unit)
    if err:
        raise Bad('name', err)
    return base, unit


def _int(p, option, low, high=None):
    value = p[option]
    if value < low or (high is not None and value > high):
        raise Bad(option, '%d is out of range: use %d%s' % (value, low, ' to %d' % high if high else ' or more'))
    return '%d' % value


def _path(p, option):
    value = _formats.word(p[option], option, _PATH, 'an absolute path without white space, quotes, "\\", "$", "%" '
                                                    'or ";"')
    if os.path.normpath(value) != value or value.startswith('//'):
        raise Bad(option, '%r is not a normalised absolute path (no ".", ".." or "//" parts)' % (value,))
    return value


def _flag_value(value, option, pattern, hint):
    """A value that follows a vLLM flag: one argument, never one that looks like another flag."""
    value = _formats.word(value, option, pattern, hint)
    if value.startswith('-'):
        raise Bad(option, '%r starts with "-", so the server would read it as another option' % (value,))
    return value


def vllm_argv(p, model):
    """vLLM's command line; every vLLM option is validated, also when ``command`` replaces it."""
    model = _formats.text(model, 'model')
    if model.startswith('-') or model != model.strip():
        raise Bad('model', '%r starts with "-" or has leading or trailing spaces' % (model,))
    util = p['gpu_memory_utilization']
    if not 0 < util <= 1:
        raise Bad('gpu_memory_utilization', '%r is out of range: use a fraction above 0 and at most 1' % (util,))
    argv = [_path(p, 'python'), '-m', VLLM_ENTRYPOINT, '--model', model]
    if p['host']:
        argv += ['--host', _flag_value(p['host'], 'host', _HOST, 'an address or host name')]
    argv += ['--port', '%d' % p['port'],
             '--gpu-memory-utilization', '%s' % util,
             '--tensor-parallel-size', _int(p, 'tensor_parallel_size', 1, 4096),
             '--dtype', _flag_value(p['dtype'], 'dtype', _DTYPE, 'lower-case letters, digits and "_"')]
    if p['served_model_name']:
        name = _formats.text(p['served_model_name'], 'served_model_name')
        if name.startswith('-') or name != name.strip():
            raise Bad('served_model_name', '%r starts with "-" or has leading or trailing spaces' % (name,))
        argv += ['--served-model-name', name]
    for option, flag in (('max_model_len', '--max-model-len'), ('max_num_seqs', '--max-num-seqs'),
                         ('max_num_batched_tokens', '--max-num-batched-tokens')):
        value = _int(p, option, 0)
        if p[option] > 0:
            argv += [flag, value]
    if p['enable_prefix_caching'] is not None:
        argv.append('--enable-prefix-caching' if p['enable_prefix_caching'] else '--no-enable-prefix-caching')
    if p['quantization']:
        argv += ['--quantization', _flag_value(p['quantization'], 'quantization', _QUANT,
                                               'letters, digits and "_.-"')]
    argv += [_formats.text(a, 'extra_args[%d]' % i) for i, a in enumerate(p['extra_args'] or [])]
    return argv


def command_argv(p):
    if p['model']:
        raise Bad('command', 'give either command or model (the vLLM server), not both')
    vllm_argv(p, 'unused')
    return [_formats.text(w, 'command[%d]' % i) for i, w in enumerate(p['command'])]


def environment_lines(env):
    if not isinstance(env, dict):
        raise Bad('environment', 'must be a dictionary of variable names to values')
    lines = []
    for name in sorted(env, key=lambda k: '%s' % (k,)):
        value = env[name]
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise Bad('environment[%s]' % (name,), '%r is not a string or a number; quote it (for example "true")'
                      % (value,))
        lines.append(('Environment', _formats.environment(name, value, 'environment')))
    return lines


class Spec(object):
    """Everything the unit says, validated; ``content`` is the unit file's text."""

    def __init__(self, p):
        self.name, self.unit = unit_name(p['name'])
        self.path = _systemd.unit_path(self.unit)
        if p['state'] == 'absent':
            return
        _int(p, 'port', 1, 65535)
        if p['command']:
            self.argv = command_argv(p)
        elif p['model']:
            self.argv = vllm_argv(p, p['model'])
        else:
            raise Bad('model', 'give the model (path or Hugging Face id) for vLLM, or the whole command (command)')
        self.content = self.render(p)

    def render(self, p):
        exec_start = _formats.exec_line(self.argv, 'command' if p['command'] else 'python')
        description = _formats.text(p['description'], 'description')
        _formats.unit_value(description, 'description')
        service = [
            ('Type', 'simple'),
            ('User', _formats.word(p['user'], 'user', _ACCOUNT, 'letters, digits and "_.-", at most 32')),
            ('Group', _formats.word(p['group'], 'group', _ACCOUNT, 'letters, digits and "_.-", at most 32')),
            ('WorkingDirectory', _path(p, 'working_directory')),
            ('ExecStart', exec_start),
        ]
        service += environment_lines(p['environment'] or {})
        service += [('LimitMEMLOCK', 'infinity'), ('LimitNOFILE', _int(p, 'limit_nofile', 1, MAX_NOFILE))]
        if p['shm_size']:
            size = _formats.word(p['shm_size'], 'shm_size', _SHM, 'a size such as 64G, 512M or 50% (of the RAM)')
            service.append(('TemporaryFileSystem', '/dev/shm:size=%s,mode=1777' % size))
        service += [('Restart', 'on-failure'), ('RestartSec', _int(p, 'restart_sec', 0, 86400)),
                    ('TimeoutStopSec', _int(p, 'timeout_stop_sec', 0, 86400)),
                    ('SyslogIdentifier', self.name)]
        return _formats.unit([
            ('Unit', [('Description', ('%s (%s)' % (description, self.name)).strip()),
                      ('Wants', 'network-online.target'), ('After', 'network-online.target')]),
            ('Service', service),
            ('Install', [('WantedBy', 'multi-user.target')]),
        ], header=header_text(), what='unit')


def ours(content):
    return _files.is_ours(content, OWNER)


def own_record(module, ledger, path):
    """This owner's record of the path, or None; a record of another owner is refused."""
    rec = ledger.files.get(path)
    if rec is not None and rec.get('owner') != OWNER:
        module.fail_json(msg='Nothing was changed: %s is recorded in the restore ledger by %s, not by %s; choose '
                             'another name' % (path, rec.get('owner'), OWNER))
    return rec


def daemon_reload(module):
    if _systemd.booted(module):
        _systemd.Systemctl(module).daemon_reload()
        return True
    return False


def other_units(ledger, path):
    """The serving units this module wrote under other names (a service renamed since), from the ledger."""
    found = []
    for recorded in ledger.files_of(OWNER):
        directory, _sep, name = recorded.rpartition('/')
        if directory == _systemd.SYSTEM_DIR and recorded != path and name.endswith('.service') \
                and not _systemd.unit_error(name):
            found.append(name)
    return sorted(found)


def present(module, spec):
    try:
        mf = _files.ManagedFile(spec.path, spec.content)
    except _host.FileError as e:
        module.fail_json(msg='Nothing was changed: %s' % e)
    ledger = _ledger.Ledger(module)
    rec = own_record(module, ledger, spec.path)
    if mf.current is not None and rec is None and not ours(mf.current) and not module.params['takeover']:
        module.fail_json(msg='Nothing was changed: %s exists and was not written by inference.host_tuning.%s (no '
                             'record in the restore ledger, no header of it): it may be an operator\'s unit. '
                             'Choose another name, or set takeover (inference_service_takeover) to true to replace '
                             'it; its original is then recorded and restored by state=absent and by revert.'
                             % (spec.path, OWNER))
    # (a file of ours found without a record is recorded as "no file" by the ledger: no original)
    recorded = (rec is not None and bool(rec.get('existed'))) or (
        rec is None and mf.current is not None and not ours(mf.current))
    result = dict(changed=mf.changed, unit=spec.unit, path=spec.path, argv=spec.argv,
                  original_recorded=recorded, daemon_reloaded=False, other_units=other_units(ledger, spec.path))
    if module._diff:
        result['diff'] = mf.diff()
    if mf.changed and not module.check_mode:
        if rec is None and mf.current is not None and not ours(mf.current):
            # Taken over: enabling our unit makes its wants link, which the original may not have had.
            ledger.remember_file(_systemd.wants_link(spec.unit), OWNER)
        mf.apply(module, ledger, OWNER)
        ledger.save()
        result['daemon_reloaded'] = daemon_reload(module)
    module.exit_json(**result)


def absent(module, spec):
    """The unit through the change layer's one plan (_change.absent_file: the recorded original put back
    exactly, else removal when the unit is ours), with the wants link it recorded when it took a unit over; a
    unit that goes is stopped and disabled first, one put back restarts as its original."""
    ledger = _ledger.Ledger(module)
    own_record(module, ledger, spec.path)
    try:
        unit = _change.absent_file(ledger, spec.path, OWNER)
    except _host.FileError as e:
        module.fail_json(msg='Nothing was changed: %s' % e)
    link = _systemd.wants_link(spec.unit)
    plans = [unit] + [_change.RecordedFile(ledger, link) for path in ledger.files_of(OWNER) if path == link]
    recorded = [plan for plan in plans if plan.recorded]
    result = dict(changed=any(plan.changed for plan in plans), unit=spec.unit, path=spec.path,
                  daemon_reloaded=False, stopped=False, restarted=False)
    if module._diff:
        result['diff'] = unit.diff()
    if module.check_mode or not (recorded or result['changed']):
        module.exit_json(**result)
    booted = _systemd.booted(module)
    systemctl = _systemd.Systemctl(module) if booted else None
    if unit.current is not None and unit.desired is None and booted:
        if systemctl.is_enabled(spec.unit) or systemctl.is_active(spec.unit):
            systemctl.run('disable', '--now', spec.unit)
            result['stopped'] = result['changed'] = True
    for plan in plans:
        result['changed'] = _change.restore_file(module, ledger, plan) or result['changed']
    ledger.save()
    if result['changed'] and booted:
        systemctl.daemon_reload()
        result['daemon_reloaded'] = True
        # A unit taken over runs our command until it restarts: a running one restarts as its original.
        if unit.desired is not None and unit.current != unit.desired and systemctl.is_active(spec.unit):
            systemctl.run('try-restart', spec.unit)
            result['restarted'] = True
    module.exit_json(**result)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type='str', required=True),
            state=dict(type='str', choices=['present', 'absent'], default='present'),
            takeover=dict(type='bool', default=False),
            description=dict(type='str', default='LLM inference server'),
            user=dict(type='str', default='inference'),
            group=dict(type='str', default='inference'),
            working_directory=dict(type='str', default='/var/lib/inference'),
            command=dict(type='list', elements='str'),
            python=dict(type='str', default='/opt/vllm/bin/python3'),
            model=dict(type='str'),
            served_model_name=dict(type='str', default=''),
            host=dict(type='str', default='127.0.0.1'),
            port=dict(type='int', default=8000),
            gpu_memory_utilization=dict(type='float', default=0.9),
            tensor_parallel_size=dict(type='int', default=1),
            dtype=dict(type='str', default='auto'),
            max_model_len=dict(type='int', default=0),
            max_num_seqs=dict(type='int', default=0),
            max_num_batched_tokens=dict(type='int', default=0, no_log=False),  # a count, not a secret
            enable_prefix_caching=dict(type='bool'),
            quantization=dict(type='str', default=''),
            extra_args=dict(type='list', elements='str', default=[]),
            environment=dict(type='dict', default={}),
            limit_nofile=dict(type='int', default=1048576),
            shm_size=dict(type='str', default=''),
            restart_sec=dict(type='int', default=10),
            timeout_stop_sec=dict(type='int', default=90),
        ),
        supports_check_mode=True,
    )
    try:
        spec = Spec(module.params)
    except _formats.FormatError as e:
        module.fail_json(msg='Nothing was changed: %s' % e)
    _change.record_request(module, OWNER, {'unit': spec.unit}, spec.unit, module.params['state'] == 'present')
    if module.params['state'] == 'absent':
        absent(module, spec)
    present(module, spec)


if __name__ == '__main__':
    main()
