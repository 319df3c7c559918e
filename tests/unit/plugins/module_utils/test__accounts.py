# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""_accounts: names and paths refused before anything runs, /etc/passwd and /etc/group read, the steps that make the
service account, the ledger record's schema, and the restore of only what was created.

No command runs: ``Shadow`` plays groupadd/useradd/usermod/userdel/gpasswd/groupdel on the fake /etc files.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

import pytest

from ansible_collections.inference.host_tuning.plugins.module_utils import _accounts
from ansible_collections.inference.host_tuning.plugins.module_utils import _formats
from ansible_collections.inference.host_tuning.plugins.module_utils import _ledger
from ansible_collections.inference.host_tuning.tests.unit.fakehost import FakeAccountFiles, FakeModule

PASSWD = ('root:x:0:0:root:/root:/bin/bash\n'
          'daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n'
          'ops:x:1000:1000:Ops Team:/home/ops:/bin/bash\n')
GROUP = 'root:x:0:\nvideo:x:44:ops\nrender:x:105:\nops:x:1000:\n'

#: The ids the fake useradd/groupadd hand out: ones this process may chown to, so the home's owner is real.
NEW_UID = 4242 if os.geteuid() == 0 else os.geteuid()
NEW_GID = 4343 if os.geteuid() == 0 else os.getegid()


def account(**kw):
    p = dict(user='inference', group='inference', home='/var/lib/inference', groups=['video', 'render'],
             shell='/usr/sbin/nologin', comment='inference server')
    p.update(kw)
    return p


class Shadow(FakeAccountFiles):
    """shadow's tools on the fake /etc/passwd and /etc/group: the ``run`` callable run_steps/run_restore take."""

    def __init__(self, host, passwd=PASSWD, group=GROUP):
        self.host = host
        self.calls = []
        self.next_gid = NEW_GID
        host.write('/etc/passwd', passwd)
        host.write('/etc/group', group)

    def __call__(self, argv):
        self.calls.append(list(argv))
        getattr(self, argv[0])(argv[1:argv.index('--')], argv[-1])

    def groupadd(self, opts, name):
        self.save('/etc/group', self.rows('/etc/group') + [[name, 'x', str(self.next_gid), '']])
        self.next_gid += 1

    def useradd(self, opts, name):
        def opt(key):
            return opts[opts.index(key) + 1]
        self.save('/etc/passwd', self.rows('/etc/passwd') + [[name, 'x', str(NEW_UID), self.gid(opt('--gid')),
                                                              opt('--comment'), opt('--home-dir'), opt('--shell')]])

    def usermod(self, opts, name):
        if opts[0] == '--append':
            rows = self.rows('/etc/group')
            for r in rows:
                if r[0] == opts[2]:
                    r[3] = ','.join([m for m in r[3].split(',') if m] + [name])
            return self.save('/etc/group', rows)
        field = {'--comment': 4, '--home': 5, '--shell': 6, '--gid': 3}
        rows = self.rows('/etc/passwd')
        for r in rows:
            if r[0] == name:
                for opt, value in zip(opts[0::2], opts[1::2]):
                    r[field[opt]] = self.gid(value) if opt == '--gid' else value
        return self.save('/etc/passwd', rows)

    def userdel(self, opts, name):
        self.save('/etc/passwd', [r for r in self.rows('/etc/passwd') if r[0] != name])
        rows = self.rows('/etc/group')
        for r in rows:
            r[3] = ','.join(m for m in r[3].split(',') if m and m != name)
        # USERGROUPS_ENAB: the group of the user's name goes too when no one else is in it
        self.save('/etc/group', [r for r in rows if not (r[0] == name and not r[3])])

    def groupdel(self, opts, name):
        self.save('/etc/group', [r for r in self.rows('/etc/group') if r[0] != name])


def gpasswd_run(shadow):
    """gpasswd --delete USER GROUP has no "--": played here."""
    def run(argv):
        if argv[0] != 'gpasswd':
            return shadow(argv)
        shadow.calls.append(list(argv))
        rows = shadow.rows('/etc/group')
        for r in rows:
            if r[0] == argv[3]:
                r[3] = ','.join(m for m in r[3].split(',') if m and m != argv[2])
        shadow.save('/etc/group', rows)
    return run


def converge(shadow, p, record=None):
    """plan_present + run_steps + ids, as service_account does; the record after."""
    steps, rec, _notes = _accounts.plan_present(p, record)
    _accounts.run_steps(p['user'], steps, shadow)
    return None if rec is None else _accounts.ids(rec)


@pytest.fixture
def shadow(fake_host):
    return Shadow(fake_host)


# -- validation ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize('value, problem', [
    ('Inference', 'is not a user or group name'),
    ('0svc', 'is not a user or group name'),
    ('a' * 33, 'is not a user or group name'),
    ('svc$', 'is not a user or group name'),
    ('svc name', 'is not a user or group name'),
    ('../svc', 'is not a user or group name'),
    ('svc\n', 'is not allowed here'),
    ('svc\x00', 'is not allowed here'),
    ('s\u202evc', 'is not allowed here'),
    ('', 'must not be empty'),
    (None, 'expected a string'),
    ('root', 'is an account of the base system'),
    ('nobody', 'is an account of the base system'),
    ('www-data', 'is an account of the base system'),
    ('video', 'is an account of the base system'),
])
def test_name_refusals(value, problem):
    with pytest.raises(_formats.FormatError) as exc:
        _accounts.name(value, 'user')
    assert exc.value.what == 'user' and problem in str(exc.value)


@pytest.mark.parametrize('value', ['inference', '_svc', 'vllm-0', 'a' * 32, 'llm_2'])
def test_name_accepts(value):
    assert _accounts.name(value, 'group') == value


@pytest.mark.parametrize('value, ok', [
    ('video', True), ('render', True), ('HwHiAiUser', True), ('a.b-c_d', True), ('_x', True),
    ('root', False), ('1grp', False), ('a b', False), ('a:b', False), ('x\ty', False), ('', False), ('G' * 33, False),
])
def test_group_name(value, ok):
    if ok:
        assert _accounts.group_name(value, 'groups') == value
    else:
        with pytest.raises(_formats.FormatError) as exc:
            _accounts.group_name(value, 'groups')
        assert exc.value.what == 'groups'


@pytest.mark.parametrize('value, problem', [
    ('var/lib/x', 'normalised absolute path'),
    ('/var/lib/', 'normalised absolute path'),
    ('/var/lib/../../etc', 'normalised absolute path'),
    ('/var/lib/./x', 'normalised absolute path'),
    ('//var/lib/x', 'normalised absolute path'),
    ('/var/lib//x', 'normalised absolute path'),
    ('/var/lib/x/', 'normalised absolute path'),
    ('/var/lib', 'is not below /var/lib/, /srv/, /opt/, /home/'),
    ('/var/library/x', 'is not below'),
    ('/etc/inference', 'is not below'),
    ('/', 'is not below'),
    ('/home/a:b', 'the field separator of /etc/passwd'),
    ('/home/a\nb', 'is not allowed here'),
    ('', 'must not be empty'),
])
def test_home_refusals(value, problem):
    with pytest.raises(_formats.FormatError) as exc:
        _accounts.home(value)
    assert exc.value.what == 'home' and problem in str(exc.value)


@pytest.mark.parametrize('value', ['/var/lib/inference', '/srv/llm/home', '/opt/x', '/home/svc'])
def test_home_accepts(value):
    assert _accounts.home(value) == value


def test_comment():
    assert _accounts.comment('') == ''
    assert _accounts.comment('LLM serving (vLLM)') == 'LLM serving (vLLM)'
    for bad in ('a:b', 'a,b', 'a\nb'):
        with pytest.raises(_formats.FormatError) as exc:
            _accounts.comment(bad)
        assert exc.value.what == 'comment'


# -- reading the host ---------------------------------------------------------------------------------------------
def test_users_and_groups_read_the_fake_etc(fake_host):
    assert _accounts.users() == {} and _accounts.groups() == {}      # no files: no accounts, no error
    fake_host.write('/etc/passwd', PASSWD + '+nis:x:2000:2000::/home/nis:/bin/sh\n-gone:x:1:1::/:/bin/sh\n'
                    '#old:x:5:5::/:/bin/sh\nbad:x:uid:1::/x:/bin/sh\nshort:x:5\nops:x:7:7:second:/x:/bin/sh\n'
                    'caf\xe9:x:1001:1001::/home/c:/bin/sh\n')
    fake_host.write('/etc/group', GROUP + 'bad:x:gid:\nshort:x\n')
    users = _accounts.users()
    assert sorted(users) == ['caf\xe9', 'daemon', 'ops', 'root']
    # the first line of a name wins, as getpwnam() reads it
    assert users['ops'] == {'uid': 1000, 'gid': 1000, 'comment': 'Ops Team', 'home': '/home/ops', 'shell': '/bin/bash'}
    assert _accounts.groups() == {'root': {'gid': 0, 'members': []}, 'video': {'gid': 44, 'members': ['ops']},
                                  'render': {'gid': 105, 'members': []}, 'ops': {'gid': 1000, 'members': []}}


def test_a_passwd_that_is_not_utf8_still_shows_its_users(fake_host):
    with open(fake_host.path('/etc/passwd'), 'wb') as f:
        f.write(b'ops:x:1000:1000:Caf\xe9:/home/ops:/bin/bash\n')
    assert _accounts.users()['ops']['uid'] == 1000


# -- plan_present -------------------------------------------------------------------------------------------------
def test_plan_present_on_a_fresh_host_changes_nothing(fake_host, shadow):
    before = fake_host.tree()
    steps, record, notes = _accounts.plan_present(account(), None)
    assert [s.text for s in steps] == [
        'create group inference', 'create user inference (home /var/lib/inference, shell /usr/sbin/nologin)',
        'create home /var/lib/inference (0750)', 'add user inference to group video',
        'add user inference to group render']
    assert [s.argv for s in steps] == [
        ['groupadd', '--system', '--', 'inference'],
        ['useradd', '--system', '--gid', 'inference', '--home-dir', '/var/lib/inference', '--no-create-home',
         '--shell', '/usr/sbin/nologin', '--comment', 'inference server', '--', 'inference'],
        None,
        ['usermod', '--append', '--groups', 'video', '--', 'inference'],
        ['usermod', '--append', '--groups', 'render', '--', 'inference']]
    assert steps[2].home_dir == '/var/lib/inference'
    # a user the collection creates loses its groups with userdel: no groups_added
    assert record == {'group': 'inference', 'user': 'inference', 'home': '/var/lib/inference'}
    assert notes == []
    assert fake_host.tree() == before and shadow.calls == []


def test_run_steps_then_a_second_plan_is_empty(fake_host, shadow):
    steps, record, _notes = _accounts.plan_present(account(), None)
    _accounts.run_steps('inference', steps, shadow)
    # commands in order, the home after useradd so that it is given to the new uid
    assert [c[0] for c in shadow.calls] == ['groupadd', 'useradd', 'usermod', 'usermod']
    st = os.lstat(fake_host.path('/var/lib/inference'))
    assert oct(st.st_mode & 0o7777) == oct(0o750)
    assert (st.st_uid, st.st_gid) == (NEW_UID, NEW_GID)
    record = _accounts.ids(record)
    assert record == {'group': 'inference', 'user': 'inference', 'home': '/var/lib/inference',
                      'uid': NEW_UID, 'gid': NEW_GID}
    assert _accounts.check_record('inference', record) is None
    assert _accounts.plan_present(account(), record) == ([], record, [])


def test_run_steps_makes_the_missing_parents_of_the_home(fake_host, shadow):
    steps, _record, _notes = _accounts.plan_present(account(home='/srv/llm/inference', groups=[]), None)
    umask = os.umask(0o077)     # the parents must be traversable by the service user, whatever root's umask
    try:
        _accounts.run_steps('inference', steps, shadow)
    finally:
        os.umask(umask)
    assert os.path.isdir(fake_host.path('/srv/llm/inference'))
    assert oct(os.stat(fake_host.path('/srv/llm')).st_mode & 0o777) == oct(0o755)


def test_plan_present_follows_the_options_for_a_user_it_created(fake_host, shadow):
    record = converge(shadow, account())
    fake_host.mkdir('/srv/inference')
    steps, rec, _notes = _accounts.plan_present(account(home='/srv/inference', shell='/bin/sh', comment='x'), record)
    assert [s.argv for s in steps] == [['usermod', '--comment', 'x', '--home', '/srv/inference', '--shell', '/bin/sh',
                                        '--', 'inference']]
    assert steps[0].text == 'change user inference (comment, home, shell)'
    assert rec == record        # an existing home is not ours: the record still names the one we created


def test_plan_present_leaves_a_user_that_existed_before(fake_host, shadow):
    fake_host.mkdir('/home/ops')
    steps, record, notes = _accounts.plan_present(
        account(user='ops', group='ops', home='/home/ops', groups=['video', 'render'], shell='/bin/sh'), None)
    # ops is already in video; only render is added, and recorded (userdel does not take it back: not ours)
    assert [s.argv for s in steps] == [['usermod', '--append', '--groups', 'render', '--', 'ops']]
    assert record == {'groups_added': ['render']}
    assert notes == ['user ops existed before (not created by this collection): its shell left as they are']


def test_the_primary_group_needs_no_membership(fake_host, shadow):
    fake_host.mkdir('/home/ops')
    steps, record, notes = _accounts.plan_present(
        account(user='ops', group='ops', home='/home/ops', groups=['ops'], shell='/bin/bash'), None)
    assert (steps, record, notes) == ([], None, [])


@pytest.mark.parametrize('setup, message', [
    (lambda h: h.symlink('../../etc', '/var/lib/inference'), 'home: /var/lib/inference is a symbolic link'),
    (lambda h: h.write('/var/lib/inference', ''), 'home: /var/lib/inference exists and is not a directory'),
    (lambda h: h.write('/etc/group', 'video:x:44:\n'), 'groups: the group render does not exist on this host'),
], ids=['home is a link', 'home is a file', 'missing group'])
def test_plan_present_refusals(fake_host, shadow, setup, message):
    setup(fake_host)
    before = fake_host.tree()
    with pytest.raises(_accounts.AccountError) as exc:
        _accounts.plan_present(account(), None)
    assert str(exc.value).startswith(message)
    assert fake_host.tree() == before


def test_ids_takes_only_what_the_record_names(fake_host, shadow):
    assert _accounts.ids({'user': 'ops'}) == {'user': 'ops', 'uid': 1000}
    assert _accounts.ids({'group': 'video', 'groups_added': ['render']}) == {
        'group': 'video', 'gid': 44, 'groups_added': ['render']}
    assert _accounts.ids({'user': 'nosuch', 'home': '/home/x'}) == {'user': 'nosuch', 'home': '/home/x'}


# -- the ledger record --------------------------------------------------------------------------------------------
GOOD = {'user': 'inference', 'group': 'inference', 'home': '/var/lib/inference', 'uid': 998, 'gid': 997,
        'groups_added': ['video', 'HwHiAiUser']}


@pytest.mark.parametrize('key, rec, problem', [
    ('inference', GOOD, None),
    ('ops', {'groups_added': []}, None),
    ('ops', {}, None),
    ('root', {}, 'is not a service user name'),
    ('Ops', {}, 'is not a service user name'),
    (5, {}, 'is not a service user name'),
    ('ops', [], 'must be an object'),
    ('ops', {'shell': '/bin/sh'}, 'must be an object'),
    ('ops', {'user': 'root'}, 'user: is not a name'),
    ('ops', {'group': 'nogroup'}, 'group: is not a name'),
    ('ops', {'user': 5}, 'user: is not a name'),
    ('ops', {'uid': 0}, 'uid: must be a positive number'),
    ('ops', {'gid': True}, 'gid: must be a positive number'),
    ('ops', {'uid': '998'}, 'uid: must be a positive number'),
    ('ops', {'home': '/etc'}, 'home: is not below'),
    ('ops', {'home': '/var/lib/../../etc'}, 'home: is not below'),
    ('ops', {'groups_added': 'video'}, 'groups_added: must be a list'),
    ('ops', {'groups_added': ['a b']}, 'groups_added: must be a list'),
])
def test_check_record(key, rec, problem):
    got = _accounts.check_record(key, rec)
    if problem is None:
        assert got is None
    else:
        assert got is not None and got.startswith(problem)


# -- plan_restore / restore ---------------------------------------------------------------------------------------
def test_restore_removes_what_was_created_and_forgets_it(fake_host, shadow):
    fake_host.mkdir('/var/lib')
    before = fake_host.tree()
    record = converge(shadow, account())
    ledger = _ledger.Ledger(FakeModule())
    ledger.set_extra(_accounts.OWNER, 'inference', record)
    fake_host.write('/var/lib/inference/cache/model.bin', 'weights')
    steps = _accounts.plan_restore('inference', record)
    assert [s.text for s in steps] == ['remove user inference (uid %d)' % NEW_UID, 'remove home /var/lib/inference',
                                       'remove group inference']
    del shadow.calls[:]
    assert _accounts.restore(ledger, 'inference', steps, shadow) is True
    # userdel took the group of the same name: groupdel is not run for a group already gone
    assert shadow.calls == [['userdel', '--', 'inference']]
    assert ledger.get_extra(_accounts.OWNER, 'inference') is None and ledger.extra == {}
    # the host is as before, /var/lib included (the directory the home was made in existed)
    assert fake_host.tree() == before


def test_restore_runs_groupdel_for_a_group_still_there(fake_host, shadow):
    record = converge(shadow, account(user='inference', group='llm', groups=[]))
    steps = _accounts.plan_restore('inference', record, keep_home=True)
    assert [s.argv for s in steps] == [['userdel', '--', 'inference'], ['groupdel', '--', 'llm']]
    del shadow.calls[:]
    _accounts.run_restore(steps, shadow)
    assert shadow.calls == [['userdel', '--', 'inference'], ['groupdel', '--', 'llm']]
    assert 'llm' not in _accounts.groups() and 'inference' not in _accounts.users()
    assert os.path.isdir(fake_host.path('/var/lib/inference'))     # keep_home


def test_restore_of_a_user_that_existed_before_takes_back_its_groups(fake_host, shadow):
    fake_host.mkdir('/home/ops')
    record = converge(shadow, account(user='ops', group='ops', home='/home/ops', groups=['video', 'render'],
                                      shell='/bin/bash', comment='Ops Team'))
    assert record == {'groups_added': ['render']}
    assert 'ops' in _accounts.groups()['render']['members']
    steps = _accounts.plan_restore('ops', record)
    assert [s.argv for s in steps] == [['gpasswd', '--delete', 'ops', 'render']]
    _accounts.run_restore(steps, gpasswd_run(shadow))
    assert _accounts.groups()['render']['members'] == [] and _accounts.groups()['video']['members'] == ['ops']
    assert 'ops' in _accounts.users() and os.path.isdir(fake_host.path('/home/ops'))
    # a group left by hand since: nothing to do
    assert _accounts.plan_restore('ops', record) == []


@pytest.mark.parametrize('change, message', [
    (lambda h, r: r.update(uid=r['uid'] + 1), 'user inference has uid %d now, not the %d' % (NEW_UID, NEW_UID + 1)),
    (lambda h, r: r.update(gid=r['gid'] + 1), 'group inference has gid %d now, not the %d' % (NEW_GID, NEW_GID + 1)),
    (lambda h, r: h.write('/etc/passwd', h.read('/etc/passwd') + 'other:x:5000:%d::/:/bin/sh\n' % NEW_GID),
     'group inference is also the group of other now'),
    (lambda h, r: h.write('/etc/group', h.read('/etc/group').replace('inference:x:%d:' % NEW_GID,
                                                                     'inference:x:%d:ops' % NEW_GID)),
     'group inference is also the group of ops now'),
], ids=['uid changed', 'gid changed', 'another user has the group', 'a member joined the group'])
def test_plan_restore_refuses_what_is_no_longer_ours(fake_host, shadow, change, message):
    record = converge(shadow, account(groups=[]))
    change(fake_host, record)
    with pytest.raises(_accounts.AccountError) as exc:
        _accounts.plan_restore('inference', record)
    assert str(exc.value).startswith(message)


def test_plan_restore_refuses_a_home_that_changed(fake_host, shadow):
    record = converge(shadow, account(groups=[]))
    st = os.lstat(fake_host.path('/var/lib/inference'))
    with pytest.raises(_accounts.AccountError) as exc:
        _accounts.plan_restore('inference', {'home': '/var/lib/inference', 'uid': st.st_uid + 1})
    assert str(exc.value).startswith('home /var/lib/inference is owned by uid %d' % st.st_uid)
    os.rmdir(fake_host.path('/var/lib/inference'))
    fake_host.symlink('../../etc', '/var/lib/inference')
    with pytest.raises(_accounts.AccountError) as exc:
        _accounts.plan_restore('inference', record)
    assert str(exc.value).startswith('home /var/lib/inference is no longer a directory')
    assert os.path.isdir(fake_host.path('/etc'))


def test_plan_restore_of_what_is_already_gone_is_empty(fake_host, shadow):
    assert _accounts.plan_restore('inference', dict(GOOD)) == []


# -- the record across runs with changed options -------------------------------------------------------------------
def test_a_moved_home_is_still_removed_on_restore(fake_host, shadow):
    record = converge(shadow, account(groups=[]))
    record = converge(shadow, account(groups=[], home='/srv/inference'), record)
    assert _accounts.users()['inference']['home'] == '/srv/inference'
    _accounts.run_restore(_accounts.plan_restore('inference', record), shadow)
    assert not fake_host.exists('/srv/inference')
    assert not fake_host.exists('/var/lib/inference')


def test_a_new_primary_group_is_set_in_one_run(fake_host, shadow):
    record = converge(shadow, account(groups=[]))
    record = converge(shadow, account(groups=[], group='llm'), record)
    assert _accounts.users()['inference']['gid'] == _accounts.groups()['llm']['gid']
    assert _accounts.plan_present(account(groups=[], group='llm'), record)[0] == []
