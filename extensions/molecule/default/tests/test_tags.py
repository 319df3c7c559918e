# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The tags site.yml documents select exactly their tasks, with and without --check, from site.yml and from an
operator's own play (`roles:` and `import_role`).

It runs once (no testinfra host fixture), after the other tests, on the converged hosts of the scenario (kind
none: the base role, and the kubelet role with kubelet_tuning). Each run writes its change report
(plugins/callback/change_report.py) to a directory of its own; the report lists per host the modules that
ran, which is what is compared. Run in pairs (two ansible-playbook processes at a time) to keep the scenario
short. The nvidia, ascend, tpu and health tags are run in the nvidia and accelerators scenarios' tests, the service
tag in the service scenario's.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import sys

from concurrent.futures import ThreadPoolExecutor

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', '..', 'tests', 'molecule'))
from iht_verify import modules_ran  # noqa: E402 pylint: disable=wrong-import-position

#: One host: both of the scenario's hosts are of kind none (the same tasks); one keeps the 20 runs short.
HOSTS = ('iht-default-debian12',)
BASE = ['sysctl_profile', 'hugepages', 'swap', 'cpu_governor', 'memlock', 'io_scheduler']
#: tag -> the collection's modules it runs on a host without accelerators (besides detection, tagged always).
SITE_TAGS = {
    'base': BASE,
    'sysctl': ['sysctl_profile'],
    'hugepages': ['hugepages'],
    'swap': ['swap'],
    'cpu': ['cpu_governor'],
    'memlock': ['memlock'],
    'io': ['io_scheduler'],
    'kubelet': ['kubelet_config'],
}
USER_PLAYS = {
    'roles': '''
- name: An operator's own play with the base role
  hosts: all
  gather_facts: false
  become: true
  roles:
    - role: inference.host_tuning.base
''',
    'import_role': '''
- name: An operator's own play that imports the base role
  hosts: all
  gather_facts: false
  become: true
  tasks:
    - name: Import the base role
      ansible.builtin.import_role:
        name: inference.host_tuning.base
''',
}


@pytest.fixture(scope='module')
def ran(tmp_path_factory):
    """{(playbook, tag, mode): {host: [modules]}} for every documented tag of site.yml, and --tags sysctl on an
    operator's plays, in check and real mode."""
    base = tmp_path_factory.mktemp('tags')
    jobs = []
    for tag in SITE_TAGS:
        for mode in ('check', 'run'):
            extra = ['--tags', tag, '--limit', HOSTS[0], '-e', json.dumps({'kubelet_tuning': True})]
            extra += ['--check'] if mode == 'check' else []
            jobs.append((('site', tag, mode), 'site.yml', extra))
    for kind, text in USER_PLAYS.items():
        play = base / ('%s.yml' % kind)
        play.write_text(text)
        for mode in ('check', 'run'):
            extra = ['--tags', 'sysctl', '--limit', HOSTS[0]] + (['--check'] if mode == 'check' else [])
            jobs.append(((kind, 'sysctl', mode), str(play), extra))
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = dict((key, pool.submit(modules_ran, playbook, *extra)) for key, playbook, extra in jobs)
    return dict((key, future.result()) for key, future in futures.items())


@pytest.mark.parametrize('mode', ['check', 'run'])
@pytest.mark.parametrize('tag', sorted(SITE_TAGS))
def test_site_tag_runs_exactly_its_modules(ran, tag, mode):
    for host in HOSTS:
        assert ran[('site', tag, mode)][host] == SITE_TAGS[tag], (tag, mode, host)


@pytest.mark.parametrize('mode', ['check', 'run'])
@pytest.mark.parametrize('kind', sorted(USER_PLAYS))
def test_tags_select_inside_an_operators_roles_and_import_role(ran, kind, mode):
    for host in HOSTS:
        assert ran[(kind, 'sysctl', mode)][host] == ['sysctl_profile'], (kind, mode, host)
