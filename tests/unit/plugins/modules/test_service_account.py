# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""service_account: what it creates is recorded with its ids, and only that is removed (by it and by revert)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os

import pytest

from ansible_collections.inference.host_tuning.plugins.module_utils import _ledger
from ansible_collections.inference.host_tuning.plugins.modules import revert
from ansible_collections.inference.host_tuning.plugins.modules import service_account
from ansible_collections.inference.host_tuning.tests.unit.fakehost import FakeAccountFiles, FakeCommands
from ansible_collections.inference.host_tuning.tests.unit.plugins.modules.utils import fail_module, run_module

PASSWD = 'root:x:0:0:root:/root:/bin/bash\nops:x:1000:1000:ops:/home/ops:/bin/bash\n'
GROUP = 'root:x:0:\nvideo:x:44:\nrender:x:105:\nops:x:1000:\n'


class Accounts(FakeAccountFiles):
    """shadow's tools on the fake /etc/passwd and /etc/group."""

    def __init__(self, host):
        self.host = host
        host.write('/etc/passwd', PASSWD)
        host.write('/etc/group', GROUP)
        self.next_id = 990
        self.commands = FakeCommands(handlers=dict((n, getattr(self, n)) for n in (
            'groupadd', 'useradd', 'usermod', 'userdel', 'groupdel', 'gpasswd')))

    def groupadd(self, argv):
        self.next_id -= 1
        self.save('/etc/group', self.rows('/etc/group') + [[argv[-1], 'x', str(self.next_id), '']])
        return 0, '', ''

    def useradd(self, argv):
        opts = dict(zip(argv[1::2], argv[2::2]))
        self.next_id -= 1
        self.save('/etc/passwd', self.rows('/etc/passwd') + [[argv[-1], 'x', str(self.next_id),
                                                              self.gid(argv[argv.index('--gid') + 1]),
                                                              opts.get('--comment', ''),
                                                              argv[argv.index('--home-dir') + 1],
                                                              argv[argv.index('--shell') + 1]]])
        return 0, '', ''

    def usermod(self, argv):
        if '--append' in argv:
            rows = self.rows('/etc/group')
            for r in rows:
                if r[0] == argv[argv.index('--groups') + 1]:
                    r[3] = ','.join([m for m in r[3].split(',') if m] + [argv[-1]])
            self.save('/etc/group', rows)
        return 0, '', ''

    def userdel(self, argv):
        self.save('/etc/passwd', [r for r in self.rows('/etc/passwd') if r[0] != argv[-1]])
        rows = self.rows('/etc/group')
        for r in rows:
            r[3] = ','.join(m for m in r[3].split(',') if m and m != argv[-1])
        # USERGROUPS_ENAB (Debian's login.defs): the group of the user's name goes too when no one else is in it
        rows = [r for r in rows if not (r[0] == argv[-1] and not r[3])]
        self.save('/etc/group', rows)
        return 0, '', ''

    def groupdel(self, argv):
        if argv[-1] not in [r[0] for r in self.rows('/etc/group')]:
            return 6, '', "groupdel: group '%s' does not exist\n" % argv[-1]
        self.save('/etc/group', [r for r in self.rows('/etc/group') if r[0] != argv[-1]])
        return 0, '', ''

    def gpasswd(self, argv):
        rows = self.rows('/etc/group')
        for r in rows:
            if r[0] == argv[-1]:
                r[3] = ','.join(m for m in r[3].split(',') if m and m != argv[-2])
        self.save('/etc/group', rows)
        return 0, '', ''


@pytest.fixture
def acc(fake_host, monkeypatch):
    a = Accounts(fake_host)
    a.commands.install(monkeypatch)
    return a


ARGS = {'user': 'inference', 'home': '/var/lib/inference', 'groups': ['video', 'render']}


def record(host):
    return json.loads(host.read(_ledger.LEDGER_PATH))['extra']['service_account']


def test_created_recorded_with_ids_idempotent(fake_host, acc):
    before = (fake_host.read('/etc/passwd'), fake_host.read('/etc/group'))
    r = run_module(service_account, ARGS, check=True)
    assert r['changed'] is True and r['steps'][0] == 'create group inference'
    assert (fake_host.read('/etc/passwd'), fake_host.read('/etc/group')) == before and acc.commands.calls == []
    r = run_module(service_account, ARGS)
    assert r['changed'] is True
    assert 'inference:x:988:989:inference server:/var/lib/inference:/usr/sbin/nologin' in fake_host.read('/etc/passwd')
    assert 'video:x:44:inference' in fake_host.read('/etc/group')
    home = fake_host.path('/var/lib/inference')
    assert os.path.isdir(home) and os.stat(home).st_mode & 0o777 == 0o750
    assert record(fake_host)['inference'] == {'user': 'inference', 'group': 'inference', 'home': '/var/lib/inference',
                                              'uid': 988, 'gid': 989}
    assert run_module(service_account, ARGS)['changed'] is False


def test_revert_removes_exactly_what_was_created(fake_host, acc):
    before = (fake_host.read('/etc/passwd'), fake_host.read('/etc/group'))
    run_module(service_account, ARGS)
    fake_host.write('/var/lib/inference/model.bin', 'weights')
    plan = run_module(revert, {}, check=True)
    assert [e['action'] for e in plan['extra']] == ['remove user inference (uid 988)', 'remove home /var/lib/inference',
                                                    'remove group inference']
    assert fake_host.exists('/var/lib/inference/model.bin')
    r = run_module(revert, {})
    assert r['changed'] is True
    assert (fake_host.read('/etc/passwd'), fake_host.read('/etc/group')) == before
    assert not fake_host.exists('/var/lib/inference') and not fake_host.exists(_ledger.LEDGER_PATH)
    assert run_module(revert, {})['changed'] is False


def test_existing_user_kept_only_added_groups_undone(fake_host, acc):
    before = (fake_host.read('/etc/passwd'), fake_host.read('/etc/group'))
    fake_host.mkdir('/home/ops')
    r = run_module(service_account, {'user': 'ops', 'group': 'ops', 'home': '/home/ops', 'groups': ['video'],
                                     'shell': '/bin/bash', 'comment': 'ops'})
    assert r['steps'] == ['add user ops to group video']
    assert record(fake_host)['ops'] == {'groups_added': ['video']}
    r = run_module(service_account, {'user': 'ops', 'state': 'absent'})
    assert r['steps'] == ['remove user ops from group video']
    assert (fake_host.read('/etc/passwd'), fake_host.read('/etc/group')) == before
    assert fake_host.exists('/home/ops')


def test_existing_user_with_other_home_is_left_with_a_warning(fake_host, acc):
    r = run_module(service_account, {'user': 'ops', 'group': 'ops', 'home': '/var/lib/ops'})
    assert any('existed before' in w for w in acc.commands.warnings)
    assert 'ops:x:1000:1000:ops:/home/ops:/bin/bash' in fake_host.read('/etc/passwd')
    assert r['steps'] == ['create home /var/lib/ops (0750)']


def test_keep_home_then_revert_removes_it(fake_host, acc):
    run_module(service_account, ARGS)
    r = run_module(service_account, dict(ARGS, state='absent', keep_home=True))
    assert 'remove home /var/lib/inference' not in r['steps'] and fake_host.exists('/var/lib/inference')
    assert 'inference' not in fake_host.read('/etc/passwd')
    assert record(fake_host)['inference'] == {'home': '/var/lib/inference', 'uid': 988}
    run_module(revert, {})
    assert not fake_host.exists('/var/lib/inference')


def test_revert_keeps_user_on_request(fake_host, acc):
    run_module(service_account, ARGS)
    assert run_module(revert, {'exclude_owners': ['service_account']})['changed'] is False
    assert 'inference:' in fake_host.read('/etc/passwd')


def test_recreated_user_is_not_removed(fake_host, acc):
    run_module(service_account, ARGS)
    rows = acc.rows('/etc/passwd')
    for row in rows:
        if row[0] == 'inference':
            row[2] = '5000'
    acc.save('/etc/passwd', rows)
    r = fail_module(service_account, dict(ARGS, state='absent'))
    assert r['msg'].startswith('Nothing was changed') and 'uid 5000' in r['msg']
    r = run_module(revert, {})
    assert r['kept'][0]['owner'] == 'service_account' and 'inference:x:5000' in fake_host.read('/etc/passwd')


def test_group_shared_since_is_kept(fake_host, acc):
    run_module(service_account, ARGS)
    rows = acc.rows('/etc/passwd') + [['other', 'x', '2000', acc.gid('inference'), '', '/home/other', '/bin/sh']]
    acc.save('/etc/passwd', rows)
    r = fail_module(service_account, dict(ARGS, state='absent'))
    assert 'also the group of other' in r['msg'] and 'inference:x:988' in fake_host.read('/etc/passwd')


@pytest.mark.parametrize('args, option', [
    ({'user': 'root'}, 'user'), ({'user': 'Inference'}, 'user'), ({'user': 'a:b'}, 'user'),
    ({'user': 'x\nroot'}, 'user'), ({'user': 'svc', 'group': 'sudo'}, 'group'), ({'user': 'svc', 'group': 'wheel'}, 'group'),
    ({'user': 'svc', 'home': '/'}, 'home'), ({'user': 'svc', 'home': '/var/lib'}, 'home'),
    ({'user': 'svc', 'home': '/etc/x'}, 'home'), ({'user': 'svc', 'home': '/var/lib/../../etc'}, 'home'),
    ({'user': 'svc', 'home': 'var/lib/x'}, 'home'), ({'user': 'svc', 'groups': ['root']}, 'groups'),
    ({'user': 'svc', 'comment': 'a:b'}, 'comment'), ({'user': 'svc', 'comment': 'a\nb'}, 'comment'),
])
def test_bad_values_refused_before_anything(fake_host, acc, args, option):
    before = fake_host.tree()
    r = fail_module(service_account, args)
    assert r['msg'].startswith('Nothing was changed: %s' % option), r['msg']
    assert acc.commands.calls == [] and fake_host.tree() == before


def test_missing_supplementary_group_fails_before_anything(fake_host, acc):
    r = fail_module(service_account, dict(ARGS, groups=['HwHiAiUser']))
    assert 'HwHiAiUser does not exist' in r['msg'] and acc.commands.calls == []


def test_home_link_refused(fake_host, acc):
    fake_host.mkdir('/srv/data')
    fake_host.symlink('/srv/data', '/var/lib/inference')
    r = fail_module(service_account, ARGS)
    assert 'symbolic link' in r['msg'] and acc.commands.calls == []


@pytest.mark.parametrize('rec', [{'user': 'root', 'uid': 0}, {'home': '/etc'}, {'user': 'svc', 'uid': 0},
                                 {'group': 'sudo'}, {'evil': 1}])
def test_tampered_records_refused(fake_host, acc, rec):
    fake_host.write(_ledger.LEDGER_PATH, json.dumps({'version': 1, 'extra': {'service_account': {'svc': rec}}}),
                    mode=0o600)
    before = fake_host.tree()
    r = fail_module(revert, {})
    assert 'service_account' in r['msg'] and fake_host.tree() == before and acc.commands.calls == []
