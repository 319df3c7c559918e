#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: service_health
short_description: Wait for a serving process to answer its health URL, failing as soon as its unit is dead
version_added: 0.1.0
description:
  - Polls O(url) until it answers with HTTP 200, at most O(retries) times, O(delay) seconds apart.
  - Each round also reads the unit's state with C(systemctl show). When the URL does not answer and the unit is
    dead or crash-looping (C(ActiveState) V(failed) or V(inactive), C(SubState) V(auto-restart), or C(NRestarts)
    above 0), it fails at once instead of waiting out the whole budget.
  - A failure carries the unit's last O(journal_lines) journal lines (C(journalctl), run as an argv list).
  - Changes nothing on the host.
author:
  - inference.host_tuning contributors (@inference-host-tuning)
options:
  unit:
    description: The serving unit, for example V(vllm.service).
    type: str
    required: true
  url:
    description: The health URL (C(http://) or C(https://)), for example V(http://127.0.0.1:8000/health).
    type: str
    required: true
  retries:
    description: How many times to poll (at least 1).
    type: int
    default: 90
  delay:
    description: Seconds between polls.
    type: int
    default: 10
  timeout:
    description: Seconds one request may take.
    type: int
    default: 5
  journal_lines:
    description: Journal lines returned when the service is not healthy.
    type: int
    default: 50
attributes:
  check_mode:
    support: full
    details: Only reads (HTTP requests, C(systemctl show), C(journalctl)); runs the same in check mode.
  platform:
    support: full
    details: Linux with systemd.
extends_documentation_fragment:
  - inference.host_tuning.attributes
  - inference.host_tuning.attributes.read_only
notes:
  - C(NRestarts) counts automatic restarts since the unit was last started by hand (C(systemctl start) or
    C(restart)); the role restarts the service when anything of it changed.
seealso:
  - module: inference.host_tuning.service_unit
'''

EXAMPLES = r'''
- name: Wait up to 15 minutes for vLLM to load its model
  inference.host_tuning.service_health:
    unit: vllm.service
    url: http://127.0.0.1:8000/health
    retries: 90
    delay: 10
'''

RETURN = r'''
status:
  description: The last HTTP status of the health URL (0 when it did not answer).
  returned: always
  type: int
  sample: 200
attempts:
  description: How many times the URL was polled.
  returned: always
  type: int
  sample: 3
active_state:
  description: The unit's C(ActiveState) at the last round.
  returned: always
  type: str
  sample: active
sub_state:
  description: The unit's C(SubState) at the last round.
  returned: always
  type: str
  sample: running
restarts:
  description: The unit's C(NRestarts) at the last round.
  returned: always
  type: int
  sample: 0
journal:
  description: The unit's last journal lines.
  returned: on failure
  type: list
  elements: str
  sample: ["2026-12-02T05:00:00+0000 host vllm[812]: OSError: model not found"]
'''

import http.client
import time

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native
from ansible.module_utils.urls import open_url

from ansible_collections.inference.host_tuning.plugins.module_utils import _formats
from ansible_collections.inference.host_tuning.plugins.module_utils import _systemd

DEAD_STATES = ('failed', 'inactive')


def probe(url, timeout):
    """The HTTP status of one GET (0 when nothing answered)."""
    try:
        response = open_url(url, method='GET', timeout=timeout, validate_certs=False, follow_redirects='safe')
        return response.getcode(), ''
    except (http.client.HTTPException, OSError, ValueError) as e:
        # HTTPError (a status other than 2xx/3xx), URLError (refused, no route), timeouts, a broken answer
        code = getattr(e, 'code', None)
        return (code if isinstance(code, int) else 0), to_native(getattr(e, 'reason', None) or e)


def unit_state(systemctl, unit):
    values = systemctl.show(unit, 'ActiveState', 'SubState', 'NRestarts')
    try:
        restarts = int(values.get('NRestarts') or 0)
    except ValueError:
        restarts = 0
    return values.get('ActiveState', ''), values.get('SubState', ''), restarts


def why_dead(active, sub, restarts):
    if active in DEAD_STATES:
        return 'is %s (%s): the server exited' % (active, sub)
    if sub == 'auto-restart':
        return 'is waiting to be restarted after it exited (auto-restart)'
    if restarts > 0:
        return 'was restarted %d time(s) since it was started: it is crash-looping' % restarts
    return None


def journal(module, unit, lines):
    journalctl = module.get_bin_path('journalctl')
    if journalctl is None or lines <= 0:
        return []
    _rc, out, err = module.run_command([journalctl, '--unit=%s' % unit, '--lines=%d' % lines, '--no-pager',
                                        '--output=short-iso'])
    return (out or err or '').splitlines()


def validate(module):
    p = module.params
    problems = []
    err = _systemd.unit_error(p['unit'])
    if err:
        problems.append('unit: %s' % err)
    try:
        _formats.word(p['url'], 'url', r'https?://[^\s"\'<>\\]+', 'an http:// or https:// URL without white space')
    except _formats.FormatError as e:
        problems.append(str(e))
    for option, low in (('retries', 1), ('delay', 0), ('timeout', 1), ('journal_lines', 0)):
        if p[option] < low:
            problems.append('%s: %d is below %d' % (option, p[option], low))
    if problems:
        module.fail_json(msg='Nothing was checked: %s' % '; '.join(problems))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            unit=dict(type='str', required=True),
            url=dict(type='str', required=True),
            retries=dict(type='int', default=90),
            delay=dict(type='int', default=10),
            timeout=dict(type='int', default=5),
            journal_lines=dict(type='int', default=50),
        ),
        supports_check_mode=True,
    )
    validate(module)
    p = module.params
    systemctl = _systemd.Systemctl(module)
    result = dict(changed=False, status=0, attempts=0, active_state='', sub_state='', restarts=0)
    reason = error = None
    for attempt in range(1, p['retries'] + 1):
        result['attempts'] = attempt
        result['status'], error = probe(p['url'], p['timeout'])
        state = unit_state(systemctl, p['unit'])
        result['active_state'], result['sub_state'], result['restarts'] = state
        if result['status'] == 200:
            module.exit_json(**result)
        reason = why_dead(*state)
        if reason is not None:
            break
        if attempt < p['retries']:
            time.sleep(p['delay'])
    if reason is None:
        reason = ('did not answer %s with 200 after %d tries, %d s apart (last: %s)'
                  % (p['url'], p['retries'], p['delay'], result['status'] or error or 'no answer'))
    module.fail_json(msg='%s %s. Last journal lines are in journal.' % (p['unit'], reason),
                     journal=journal(module, p['unit'], p['journal_lines']), **result)


if __name__ == '__main__':
    main()
