# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""_files: directories and files with exact modes, atomic writes, managed files and the ledger, refusals.

Every effect is checked on the fake host tree (bytes, modes, owners, links), with Ansible's own
``AnsibleModule.atomic_move`` where it matters (it gives a new file the umask's mode) and with a
plain rename where the test must prove what _files itself does.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import json
import os
import stat

import pytest

from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

from ansible_collections.inference.host_tuning.plugins.module_utils import _files
from ansible_collections.inference.host_tuning.plugins.module_utils import _formats
from ansible_collections.inference.host_tuning.plugins.module_utils import _host
from ansible_collections.inference.host_tuning.plugins.module_utils import _ledger
from ansible_collections.inference.host_tuning.tests.unit.fakehost import FakeCommands, FakeModule
from ansible_collections.inference.host_tuning.tests.unit.plugins.modules.utils import ModuleFail as Failed, _fail_json

CONF = '/etc/sysctl.d/90-x.conf'


@pytest.fixture
def module(monkeypatch):
    """A real AnsibleModule (its own atomic_move); fail_json raises Failed, warnings are collected."""
    commands = FakeCommands().install(monkeypatch)
    monkeypatch.setattr(basic.AnsibleModule, 'fail_json', _fail_json)
    with patch_module_args({}):
        m = basic.AnsibleModule(argument_spec={})
    m.commands = commands
    return m


class RenameModule(FakeModule):
    """atomic_move as a bare rename: whatever mode or owner the file ends with is _files' own doing; fail_json
    raises Failed, as the real module's does here."""

    def fail_json(self, msg=None, **kwargs):
        _fail_json(self, msg, **kwargs)


@pytest.fixture
def umask():
    """Set the process umask for one test (restored after it)."""
    old = os.umask(0o022)
    yield os.umask
    os.umask(old)


def mode_of(fake_host, path):
    return oct(os.lstat(fake_host.path(path)).st_mode & 0o7777)


def raw(fake_host, path):
    with open(fake_host.path(path), 'rb') as f:
        return f.read()


def write_bytes(fake_host, path, data):
    with open(fake_host.path(path), 'wb') as f:
        f.write(data)


def ledger_on_disk(fake_host):
    with open(fake_host.path(_ledger.LEDGER_PATH)) as f:
        return json.load(f)


def b64(text):
    return base64.b64encode(text.encode('utf-8')).decode('ascii')


# -- header ---------------------------------------------------------------------------------------------------
def test_header_names_the_owner_and_the_way_back():
    assert _files.header('swap') == (
        '# Managed by Ansible (inference.host_tuning.swap). Local edits are overwritten;\n'
        '# remove with state=absent or playbooks/revert.yml to restore what was here before.\n')


# -- make_dirs -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize('mask', [0o000, 0o022, 0o077], ids=['umask 000', 'umask 022', 'umask 077'])
@pytest.mark.parametrize('mode', [0o755, 0o700, 0o2750])
def test_make_dirs_exact_mode_whatever_the_umask(fake_host, umask, mask, mode):
    etc_mode = mode_of(fake_host, '/etc')
    umask(mask)
    _files.make_dirs('/etc/a/b/c', mode)
    for d in ('/etc/a', '/etc/a/b', '/etc/a/b/c'):
        assert os.path.isdir(fake_host.path(d))
        assert mode_of(fake_host, d) == oct(mode)
    assert mode_of(fake_host, '/etc') == etc_mode    # an existing parent is left as it is


def test_make_dirs_leaves_an_existing_directory_alone(fake_host):
    os.chmod(fake_host.path('/etc/sysctl.d'), 0o750)
    before = fake_host.tree()
    _files.make_dirs('/etc/sysctl.d', 0o700)
    assert fake_host.tree() == before


def test_make_dirs_default_mode(fake_host, umask):
    umask(0o077)
    _files.make_dirs('/var/lib/x')
    assert mode_of(fake_host, '/var/lib') == oct(0o755)
    assert mode_of(fake_host, '/var/lib/x') == oct(0o755)


# -- atomic_write ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize('mask', [0o000, 0o022, 0o077], ids=['umask 000', 'umask 022', 'umask 077'])
@pytest.mark.parametrize('mode', [0o644, 0o600, 0o640, 0o755])
@pytest.mark.parametrize('kind', ['ansible', 'rename'])
def test_atomic_write_new_file_gets_exactly_mode(fake_host, module, umask, mask, mode, kind):
    m = module if kind == 'ansible' else RenameModule()
    umask(mask)
    start = len(_files.WRITTEN)
    _files.atomic_write(m, CONF, u'vm.swappiness = 1\n', mode)
    assert raw(fake_host, CONF) == b'vm.swappiness = 1\n'
    assert mode_of(fake_host, CONF) == oct(mode)
    # only the file: the temporary file is gone
    assert sorted(os.listdir(fake_host.path('/etc/sysctl.d'))) == ['90-x.conf', '99-sysctl.conf']
    assert _files.WRITTEN[start:] == [CONF]


@pytest.mark.parametrize('kind', ['ansible', 'rename'])
def test_atomic_write_existing_file_keeps_mode_and_owner(fake_host, module, umask, kind):
    m = module if kind == 'ansible' else RenameModule()
    umask(0o000)
    full = fake_host.write('/etc/fstab', 'old\n', mode=0o640)
    os.chown(full, 1234, 5678)
    _files.atomic_write(m, '/etc/fstab', 'new\n', 0o600)      # the mode asked for a new file does not apply
    st = os.stat(full)
    assert raw(fake_host, '/etc/fstab') == b'new\n'
    assert oct(st.st_mode & 0o7777) == oct(0o640)
    assert (st.st_uid, st.st_gid) == (1234, 5678)


def test_atomic_write_replaces_the_inode(fake_host, module):
    """A reader holding the old file keeps the old bytes: the new file is a new inode, never an in-place edit."""
    full = fake_host.write('/etc/fstab', 'old\n')
    with open(full) as held:
        _files.atomic_write(module, '/etc/fstab', 'new\n')
        assert held.read() == 'old\n'
    assert raw(fake_host, '/etc/fstab') == b'new\n'


def test_atomic_write_creates_missing_directories_0755(fake_host, module, umask):
    umask(0o077)
    _files.atomic_write(module, '/etc/systemd/system/x.service.d/10-a.conf', '[Service]\n', 0o644)
    for d in ('/etc/systemd', '/etc/systemd/system', '/etc/systemd/system/x.service.d'):
        assert mode_of(fake_host, d) == oct(0o755)
    assert raw(fake_host, '/etc/systemd/system/x.service.d/10-a.conf') == b'[Service]\n'
    assert mode_of(fake_host, '/etc/systemd/system/x.service.d/10-a.conf') == oct(0o644)


@pytest.mark.parametrize('content, data', [
    (u'caf\xe9 \u6a21\n', u'caf\xe9 \u6a21\n'.encode('utf-8')),
    (b'\x00\xff raw\n', b'\x00\xff raw\n'),
    (u'', b''),
], ids=['text as UTF-8', 'bytes as they are', 'empty'])
def test_atomic_write_bytes(fake_host, module, content, data):
    _files.atomic_write(module, CONF, content)
    assert raw(fake_host, CONF) == data


def test_atomic_write_that_fails_leaves_the_old_file_and_no_temp(fake_host):
    class Broken(RenameModule):
        def atomic_move(self, src, dest, unsafe_writes=False):
            raise OSError(28, 'No space left on device')

    fake_host.write(CONF, 'old\n', mode=0o600)
    before = fake_host.tree()
    start = len(_files.WRITTEN)
    with pytest.raises(OSError):
        _files.atomic_write(Broken(), CONF, 'new\n')
    assert fake_host.tree() == before
    assert _files.WRITTEN[start:] == []


def test_atomic_write_new_file_is_never_wider_than_its_mode(fake_host, module, umask, monkeypatch):
    seen = []
    real_move = basic.AnsibleModule.atomic_move

    def atomic_move(self, src, dest, unsafe_writes=False, keep_dest_attrs=True):
        real_move(self, src, dest, unsafe_writes=unsafe_writes, keep_dest_attrs=keep_dest_attrs)
        seen.append(os.stat(dest).st_mode & 0o7777)    # the file is in place, under its final name

    monkeypatch.setattr(basic.AnsibleModule, 'atomic_move', atomic_move)
    umask(0o000)
    _files.atomic_write(module, '/etc/secret.conf', 'token\n', 0o600)
    assert mode_of(fake_host, '/etc/secret.conf') == oct(0o600)
    assert [oct(m & ~0o600) for m in seen] == [oct(0)]


# -- remove ----------------------------------------------------------------------------------------------------
def test_remove(fake_host):
    fake_host.write(CONF, 'x\n')
    start = len(_files.WRITTEN)
    assert _files.remove(CONF) is True
    assert not fake_host.exists(CONF)
    assert _files.remove(CONF) is False
    assert _files.WRITTEN[start:] == [CONF]


def test_remove_takes_a_link_not_its_target(fake_host):
    assert _files.remove('/etc/sysctl.d/99-sysctl.conf') is True
    assert not fake_host.exists('/etc/sysctl.d/99-sysctl.conf')
    assert fake_host.read('/etc/sysctl.conf') == '#kernel.domainname = example.com\n'
    fake_host.symlink('/etc/gone', '/etc/dangling')
    assert _files.remove('/etc/dangling') is True
    assert not fake_host.exists('/etc/dangling')


# -- file_diff -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize('before, after, expected', [
    ('a\n', 'b\n', {'before_header': '/etc/x', 'after_header': '/etc/x', 'before': 'a\n', 'after': 'b\n'}),
    (None, 'b\n', {'before_header': '/etc/x (absent)', 'after_header': '/etc/x', 'before': '', 'after': 'b\n'}),
    ('a\n', None, {'before_header': '/etc/x', 'after_header': '/etc/x (absent)', 'before': 'a\n', 'after': ''}),
    ('', '', {'before_header': '/etc/x', 'after_header': '/etc/x', 'before': '', 'after': ''}),
], ids=['changed', 'created', 'removed', 'empty file is not absent'])
def test_file_diff(before, after, expected):
    assert _files.file_diff('/etc/x', before, after) == expected


# -- refusals ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize('error, text', [
    (lambda: _formats.FormatError('settings.vm.x', 'a newline is not allowed'),
     'settings.vm.x: a newline is not allowed'),
    (lambda: _host.FileError('/etc/fstab', 'is a directory where a file is expected; move it aside'),
     '/etc/fstab is a directory where a file is expected; move it aside'),
], ids=['format error', 'file error'])
def test_refusals_nothing_was_changed(fake_host, module, error, text):
    _files.atomic_write(module, '/etc/before.conf', 'x\n')    # written before the block: not this task's doing
    before = fake_host.tree()
    with pytest.raises(Failed) as exc:
        with _files.refusals(module):
            raise error()
    assert str(exc.value) == 'Nothing was changed: %s' % text
    assert fake_host.tree() == before


def test_refusals_says_what_was_already_written(fake_host, module):
    fake_host.write('/etc/old.conf', 'x\n')
    with pytest.raises(Failed) as exc:
        with _files.refusals(module):
            _files.atomic_write(module, '/etc/b.conf', '1\n')
            _files.atomic_write(module, '/etc/a.conf', '1\n')
            _files.atomic_write(module, '/etc/b.conf', '2\n')
            _files.remove('/etc/old.conf')
            raise _formats.FormatError('x', 'bad')
    assert str(exc.value) == ('Stopped: x: bad. Already written before this: /etc/a.conf, /etc/b.conf, '
                              '/etc/old.conf')
    # and it is true: those were written (and removed)
    assert fake_host.read('/etc/b.conf') == '2\n' and fake_host.read('/etc/a.conf') == '1\n'
    assert not fake_host.exists('/etc/old.conf')


def test_refusals_lets_other_errors_and_success_through(fake_host, module):
    with pytest.raises(KeyError):
        with _files.refusals(module):
            raise KeyError('not a refusal')
    with _files.refusals(module):
        _files.atomic_write(module, CONF, '1\n')
    assert fake_host.read(CONF) == '1\n'


# -- ManagedFile -----------------------------------------------------------------------------------------------
def test_managed_file_unchanged_writes_nothing(fake_host, module):
    fake_host.write(CONF, 'a = 1\n')
    before = fake_host.tree()
    f = _files.ManagedFile(CONF, 'a = 1\n')
    assert f.current == 'a = 1\n'
    assert f.changed is False
    assert f.diff() == {'before_header': CONF, 'after_header': CONF, 'before': 'a = 1\n', 'after': 'a = 1\n'}
    ledger = _ledger.Ledger(module)
    assert f.apply(module, ledger, 'sysctl_profile') is False
    ledger.save()
    assert fake_host.tree() == before      # no file, no ledger


def test_managed_file_absent_and_not_wanted(fake_host, module):
    before = fake_host.tree()
    f = _files.ManagedFile(CONF, None)
    assert f.current is None and f.changed is False
    assert f.apply(module) is False
    assert fake_host.tree() == before


def test_managed_file_records_the_original_before_it_writes(fake_host, module, monkeypatch):
    """The ledger on disk already holds the record when the file itself is moved into place."""
    seen = {}
    real_move = basic.AnsibleModule.atomic_move

    def atomic_move(self, src, dest, unsafe_writes=False, keep_dest_attrs=True):
        if dest == fake_host.path(CONF):
            seen['ledger'] = ledger_on_disk(fake_host)
            seen['file existed'] = os.path.exists(dest)
        real_move(self, src, dest, unsafe_writes=unsafe_writes, keep_dest_attrs=keep_dest_attrs)

    monkeypatch.setattr(basic.AnsibleModule, 'atomic_move', atomic_move)
    f = _files.ManagedFile(CONF, 'a = 1\n', mode=0o640)
    assert f.changed is True
    assert f.diff() == {'before_header': CONF + ' (absent)', 'after_header': CONF, 'before': '', 'after': 'a = 1\n'}
    ledger = _ledger.Ledger(module)
    assert f.apply(module, ledger, 'sysctl_profile') is True
    assert seen['file existed'] is False
    rec = seen['ledger']['files'][CONF]
    assert rec['existed'] is False and rec['owner'] == 'sysctl_profile'
    assert 'written' not in rec                   # what we write is noted after the write
    assert raw(fake_host, CONF) == b'a = 1\n'
    assert mode_of(fake_host, CONF) == oct(0o640)
    assert ledger.files[CONF]['written'] == b64('a = 1\n')     # note_written
    ledger.save()
    assert ledger_on_disk(fake_host)['files'][CONF]['written'] == b64('a = 1\n')
    # run again: nothing to do
    assert _files.ManagedFile(CONF, 'a = 1\n').apply(module, _ledger.Ledger(module), 'sysctl_profile') is False


def test_managed_file_existing_file_original_bytes_recorded(fake_host, module):
    full = fake_host.write('/etc/fstab', 'original\n', mode=0o600)
    os.chown(full, 7, 8)
    ledger = _ledger.Ledger(module)
    f = _files.ManagedFile('/etc/fstab', 'replaced\n')
    assert f.diff() == {'before_header': '/etc/fstab', 'after_header': '/etc/fstab',
                        'before': 'original\n', 'after': 'replaced\n'}
    assert f.apply(module, ledger, 'swap') is True
    ledger.save()
    rec = ledger_on_disk(fake_host)['files']['/etc/fstab']
    assert base64.b64decode(rec['content']) == b'original\n'
    assert (rec['mode'], rec['uid'], rec['gid']) == (0o600, 7, 8)
    st = os.stat(full)
    assert raw(fake_host, '/etc/fstab') == b'replaced\n'
    assert (st.st_mode & 0o7777, st.st_uid, st.st_gid) == (0o600, 7, 8)


def test_managed_file_absent_removes_and_forgets_what_was_written(fake_host, module):
    ledger = _ledger.Ledger(module)
    _files.ManagedFile(CONF, 'a = 1\n').apply(module, ledger, 'sysctl_profile')
    assert 'written' in ledger.files[CONF]
    start = len(_files.WRITTEN)
    f = _files.ManagedFile(CONF, None)
    assert f.changed is True
    assert f.diff() == {'before_header': CONF, 'after_header': CONF + ' (absent)', 'before': 'a = 1\n', 'after': ''}
    assert f.apply(module, ledger, 'sysctl_profile') is True
    assert not fake_host.exists(CONF)
    assert 'written' not in ledger.files[CONF]
    assert CONF in _files.WRITTEN[start:]


def test_managed_file_refuses_a_symlink(fake_host, module):
    before = fake_host.tree()
    with pytest.raises(_host.FileError) as exc:
        _files.ManagedFile('/etc/sysctl.d/99-sysctl.conf', 'a = 1\n')
    assert str(exc.value).startswith('/etc/sysctl.d/99-sysctl.conf is a symbolic link (to ../sysctl.conf); '
                                     'this collection does not replace links')
    assert fake_host.tree() == before


def test_managed_file_absent_removes_a_link_not_its_target(fake_host, module):
    f = _files.ManagedFile('/etc/sysctl.d/99-sysctl.conf', None)
    assert f.current == '#kernel.domainname = example.com\n'
    assert f.apply(module) is True
    assert not fake_host.exists('/etc/sysctl.d/99-sysctl.conf')
    assert fake_host.read('/etc/sysctl.conf') == '#kernel.domainname = example.com\n'


@pytest.mark.parametrize('path', ['/etc/linked/x.conf', '/etc/linked/deeper/still/x.conf'],
                         ids=['in the linked dir', 'below missing dirs of the linked dir'])
def test_managed_file_refuses_a_linked_parent_directory(fake_host, module, path):
    fake_host.mkdir('/etc/real')
    fake_host.symlink('real', '/etc/linked')
    before = fake_host.tree()
    with pytest.raises(_host.FileError) as exc:
        _files.ManagedFile(path, 'a = 1\n')
    assert str(exc.value).startswith('%s is reached through a symbolic link (/etc/linked leads to /etc/real); '
                                     'this collection writes only where the path says' % path)
    assert fake_host.tree() == before


def test_managed_file_refuses_a_linked_grandparent(fake_host):
    fake_host.mkdir('/opt/store/sysctl.d')
    fake_host.symlink('../opt/store', '/etc/stored')
    before = fake_host.tree()
    with pytest.raises(_host.FileError, match=r'\(/etc/stored/sysctl.d leads to /opt/store/sysctl.d\)'):
        _files.ManagedFile('/etc/stored/sysctl.d/x.conf', 'a\n')
    assert fake_host.tree() == before


def test_managed_file_new_directories_are_not_links(fake_host, module):
    """Missing parents are fine: the walk stops at the first one that exists."""
    f = _files.ManagedFile('/etc/new/a/b.conf', 'x\n')
    assert f.current is None
    assert f.apply(module) is True
    assert raw(fake_host, '/etc/new/a/b.conf') == b'x\n'


def test_linked_parent_message_on_a_real_root(fake_host, monkeypatch, tmp_path):
    """Root '/' as on a real host, with paths inside pytest's own tmp_path (nothing else is touched)."""
    monkeypatch.setenv(_host.ROOT_ENV, '')
    base = os.path.realpath(str(tmp_path))
    os.mkdir(os.path.join(base, 'real'))
    os.symlink(os.path.join(base, 'real'), os.path.join(base, 'linked'))
    with pytest.raises(_host.FileError) as exc:
        _files.check_no_linked_parent(os.path.join(base, 'linked', 'x.conf'))
    assert '(%s leads to %s)' % (os.path.join(base, 'linked'), os.path.join(base, 'real')) in str(exc.value)


@pytest.mark.parametrize('make, fragment', [
    (lambda h: h.mkdir(CONF), 'is a directory where a file is expected'),
    (lambda h: write_bytes(h, CONF, b'\xe9\n'), 'is not UTF-8 text'),
], ids=['directory', 'not UTF-8'])
def test_managed_file_refuses_what_is_not_a_text_file(fake_host, make, fragment):
    make(fake_host)
    before = fake_host.tree()
    with pytest.raises(_host.FileError, match=fragment):
        _files.ManagedFile(CONF, 'a = 1\n')
    assert fake_host.tree() == before


def test_managed_file_write_that_fails_takes_its_record_back(fake_host, module, monkeypatch):
    """The ledger never claims a change that did not happen: record, ledger and created dirs are gone again."""
    real_move = basic.AnsibleModule.atomic_move
    target = fake_host.path('/etc/sysctl.d/new.d/x.conf')

    def atomic_move(self, src, dest, unsafe_writes=False, keep_dest_attrs=True):
        if dest == target:
            raise OSError(28, 'No space left on device')
        real_move(self, src, dest, unsafe_writes=unsafe_writes, keep_dest_attrs=keep_dest_attrs)

    monkeypatch.setattr(basic.AnsibleModule, 'atomic_move', atomic_move)
    fake_host.mkdir('/var/lib')     # there on every host: only the state directory is ours
    before = fake_host.tree()
    ledger = _ledger.Ledger(module)
    with pytest.raises(OSError):
        _files.ManagedFile('/etc/sysctl.d/new.d/x.conf', 'a = 1\n').apply(module, ledger, 'sysctl_profile')
    assert '/etc/sysctl.d/new.d/x.conf' not in ledger.files
    assert fake_host.tree() == before


def test_managed_file_without_a_ledger(fake_host, module):
    assert _files.ManagedFile(CONF, 'a = 1\n').apply(module) is True
    assert raw(fake_host, CONF) == b'a = 1\n'
    assert not fake_host.exists(_ledger.LEDGER_PATH)


def test_managed_file_keeps_a_hand_edited_copy_before_replacing_it(fake_host, module):
    ledger = _ledger.Ledger(module)
    _files.ManagedFile(CONF, 'a = 1\n').apply(module, ledger, 'sysctl_profile')
    ledger.save()
    fake_host.write(CONF, 'a = 1\nb = 2\n')       # edited by hand
    ledger = _ledger.Ledger(module)
    assert _files.ManagedFile(CONF, 'a = 3\n').apply(module, ledger, 'sysctl_profile') is True
    assert raw(fake_host, CONF) == b'a = 3\n'
    kept = os.listdir(fake_host.path(_ledger.EDITED_DIR))
    assert len(kept) == 1 and kept[0].startswith('etc_sysctl.d_90-x.conf.')
    assert raw(fake_host, _ledger.EDITED_DIR + '/' + kept[0]) == b'a = 1\nb = 2\n'
    assert mode_of(fake_host, _ledger.EDITED_DIR + '/' + kept[0]) == oct(0o600)
    assert len(module.commands.warnings) == 1
    assert "lines added: 'b = 2'" in module.commands.warnings[0]
    # the original record is the first one: the hand edit did not replace it
    assert ledger.files[CONF]['existed'] is False
    assert stat.S_ISREG(os.lstat(fake_host.path(CONF)).st_mode)
