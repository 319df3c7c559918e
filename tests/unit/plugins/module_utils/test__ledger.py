# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os

import pytest

from ansible_collections.inference.host_tuning.plugins.module_utils import _files
from ansible_collections.inference.host_tuning.plugins.module_utils import _host
from ansible_collections.inference.host_tuning.plugins.module_utils import _ledger
from ansible_collections.inference.host_tuning.tests.unit.fakehost import FakeModule


def test_file_restore_is_byte_exact(fake_host):
    fake_host.write('/etc/fstab', 'keep me\nexactly\n', mode=0o640)
    m = FakeModule()
    ledger = _ledger.Ledger(m)
    f = _files.ManagedFile('/etc/fstab', '# changed\n')
    assert f.apply(m, ledger, 'swap') is True
    ledger.save()
    assert fake_host.read('/etc/fstab') == '# changed\n'
    # a second run must not overwrite the first record
    ledger = _ledger.Ledger(m)
    _files.ManagedFile('/etc/fstab', '# changed twice\n').apply(m, ledger, 'swap')
    ledger.save()
    ledger = _ledger.Ledger(m)
    assert ledger.original_content('/etc/fstab') == 'keep me\nexactly\n'
    assert ledger.restore_file('/etc/fstab') is True
    ledger.save()
    assert fake_host.read('/etc/fstab') == 'keep me\nexactly\n'
    assert oct(os.stat(fake_host.path('/etc/fstab')).st_mode & 0o777) == oct(0o640)
    # nothing left to restore: the ledger file itself is gone
    assert not fake_host.exists(_ledger.LEDGER_PATH)


def test_new_file_is_removed_on_restore(fake_host):
    m = FakeModule()
    ledger = _ledger.Ledger(m)
    _files.ManagedFile('/etc/sysctl.d/90-x.conf', 'a = 1\n').apply(m, ledger, 'sysctl_profile')
    ledger.remember_runtime('/proc/sys/vm/swappiness', '60', 'sysctl_profile')
    ledger.remember_runtime('/proc/sys/vm/swappiness', '1', 'sysctl_profile')
    ledger.save()
    data = json.loads(fake_host.read(_ledger.LEDGER_PATH))
    assert data['runtime']['/proc/sys/vm/swappiness']['value'] == '60'
    assert data['files']['/etc/sysctl.d/90-x.conf']['existed'] is False
    ledger = _ledger.Ledger(m)
    assert ledger.files_of('sysctl_profile') == ['/etc/sysctl.d/90-x.conf']
    assert ledger.files_of('hugepages') == []
    ledger.restore_file('/etc/sysctl.d/90-x.conf')
    assert not fake_host.exists('/etc/sysctl.d/90-x.conf')


def test_corrupt_ledger_fails_clearly(fake_host):
    fake_host.write(_ledger.LEDGER_PATH, '{not json')
    try:
        _ledger.Ledger(FakeModule())
    except AssertionError as e:
        assert 'not valid JSON' in str(e)
    else:
        raise AssertionError('a corrupt ledger must fail')


def test_restore_removes_the_directories_the_write_created(fake_host):
    """A file written into a directory that did not exist leaves nothing behind after restore."""
    fake_host.write('/etc/systemd/system.conf', '[Manager]\n')
    m = FakeModule()
    ledger = _ledger.Ledger(m)
    assert not fake_host.exists('/etc/systemd/system.conf.d')
    _files.ManagedFile('/etc/systemd/system.conf.d/90-x.conf', '[Manager]\n').apply(m, ledger, 'memlock')
    ledger.save()
    assert fake_host.exists('/etc/systemd/system.conf.d/90-x.conf')
    ledger = _ledger.Ledger(m)
    assert ledger.restore_file('/etc/systemd/system.conf.d/90-x.conf') is True
    ledger.save()
    assert not fake_host.exists('/etc/systemd/system.conf.d')
    assert fake_host.read('/etc/systemd/system.conf') == '[Manager]\n'
    # the ledger was the last thing in the state directory: that is gone too
    assert not fake_host.exists('/var/lib/inference_host_tuning')


def test_restore_keeps_a_created_directory_someone_else_filled(fake_host):
    m = FakeModule()
    ledger = _ledger.Ledger(m)
    _files.ManagedFile('/etc/docker/daemon.json', '{}\n').apply(m, ledger, 'memlock')
    ledger.save()
    fake_host.write('/etc/docker/certs.d/registry.crt', 'x')
    ledger = _ledger.Ledger(m)
    ledger.restore_file('/etc/docker/daemon.json')
    ledger.save()
    assert fake_host.exists('/etc/docker/certs.d/registry.crt')
    assert not fake_host.exists('/etc/docker/daemon.json')


def test_a_shared_created_directory_goes_with_whichever_file_is_restored_last(fake_host):
    """Two new files in one new directory: the record of the second one does not name the directory."""
    m = FakeModule()
    ledger = _ledger.Ledger(m)
    _files.ManagedFile('/usr/local/libexec/inference-host-tuning/a/z.json', '1\n').apply(m, ledger, 'nvidia_gpu')    # creates the directories
    _files.ManagedFile('/usr/local/libexec/inference-host-tuning/a/b.json', '2\n').apply(m, ledger, 'nvidia_gpu')    # the directory exists by now
    ledger.save()
    assert 'created_dirs' not in ledger.files['/usr/local/libexec/inference-host-tuning/a/b.json']
    ledger = _ledger.Ledger(m)
    ledger.restore_file('/usr/local/libexec/inference-host-tuning/a/z.json')    # the creator first: /opt/iht/a still holds b.json
    ledger.save()
    assert fake_host.exists('/usr/local/libexec/inference-host-tuning/a/b.json')
    ledger = _ledger.Ledger(m)
    ledger.restore_file('/usr/local/libexec/inference-host-tuning/a/b.json')
    ledger.save()
    assert not fake_host.exists('/usr/local/libexec/inference-host-tuning')
    assert not fake_host.exists('/var/lib/inference_host_tuning')


# -- trust: permissions from creation, tampering refused, records checked -----------------------------
class UmaskModule(FakeModule):
    """atomic_move as Ansible's: a new file gets the umask's default mode (0644 under umask 022)."""

    def atomic_move(self, src, dest, unsafe_writes=False):
        creating = not os.path.exists(dest)
        os.rename(src, dest)
        if creating:
            os.chmod(dest, 0o666 & ~0o022)


def _ledger_modes(fake_host):
    d = os.stat(fake_host.path('/var/lib/inference_host_tuning')).st_mode & 0o777
    f = os.stat(fake_host.path(_ledger.LEDGER_PATH)).st_mode & 0o777
    return oct(d), oct(f)


def test_ledger_is_0600_in_a_0700_directory_from_creation(fake_host):
    old = os.umask(0o022)
    try:
        m = UmaskModule()
        ledger = _ledger.Ledger(m)
        _files.ManagedFile('/etc/sysctl.d/90-x.conf', 'a = 1\n').apply(m, ledger, 'sysctl_profile')
        ledger.save()
    finally:
        os.umask(old)
    assert _ledger_modes(fake_host) == (oct(0o700), oct(0o600))


def test_a_readable_ledger_of_an_older_run_is_tightened(fake_host):
    m = FakeModule()
    ledger = _ledger.Ledger(m)
    _files.ManagedFile('/etc/sysctl.d/90-x.conf', 'a = 1\n').apply(m, ledger, 'sysctl_profile')
    ledger.save()
    os.chmod(fake_host.path('/var/lib/inference_host_tuning'), 0o755)
    os.chmod(fake_host.path(_ledger.LEDGER_PATH), 0o644)
    _ledger.Ledger(m)
    assert _ledger_modes(fake_host) == (oct(0o700), oct(0o600))


def _write_ledger(fake_host, data, mode=0o600):
    fake_host.write(_ledger.LEDGER_PATH, json.dumps(data), mode=mode)
    os.chmod(fake_host.path('/var/lib/inference_host_tuning'), 0o700)


GOOD = {'version': 1, 'files': {'/etc/sysctl.d/90-x.conf': {'owner': 'sysctl_profile', 'existed': False}}}


@pytest.mark.parametrize('mutate, needle', [
    (lambda d: [d], 'JSON object'),
    (lambda d: dict(d, files={'/etc/shadow': {'owner': 'sysctl_profile', 'existed': False}}),
     'sysctl_profile may not write /etc/shadow'),
    (lambda d: dict(d, files={'etc/sysctl.d/x.conf': {'owner': 'sysctl_profile', 'existed': False}}),
     'normalised absolute path'),
    (lambda d: dict(d, files={'/etc/sysctl.d/../shadow': {'owner': 'sysctl_profile', 'existed': False}}),
     'normalised absolute path'),
    (lambda d: dict(d, files={'/etc/sysctl.d/x.conf': {'owner': 'sysctl_profile', 'existed': True}}),
     'base64'),
    (lambda d: dict(d, files={'/etc/sysctl.d/x.conf': dict(owner='sysctl_profile', existed=True,
                                                           content='not base64!')}), 'base64'),
    (lambda d: dict(d, files={'/etc/sysctl.d/x.conf': {'owner': 'root', 'existed': False}}), 'unknown owner'),
    (lambda d: dict(d, runtime={'/etc/passwd': {'owner': 'sysctl_profile', 'value': 'x'}}), '/proc/sys and /sys'),
    (lambda d: dict(d, runtime={'/proc/sys/vm/swappiness': {'owner': 'sysctl_profile', 'value': '1\nx'}}),
     'U+000A'),
    (lambda d: dict(d, files={'/etc/sysctl.d/x.conf': dict(owner='sysctl_profile', existed=True, content='',
                                                           mode=0o10000)}), 'mode'),
    (lambda d: dict(d, dirs=['/']), 'not a directory this collection creates'),
    (lambda d: dict(d, surprise=1), 'unknown keys'),
    (lambda d: dict(d, requests=[]), 'record requests: must be a JSON object'),
    (lambda d: dict(d, requests={'root': {'': {}}}), "requests['root']: unknown owner"),
    (lambda d: dict(d, requests={'cpu_governor': {'': 'performance'}}), 'must be a JSON object'),
])
def test_a_malformed_or_tampered_ledger_is_refused_by_name(fake_host, mutate, needle):
    _write_ledger(fake_host, mutate(dict(GOOD)))
    before = fake_host.snapshot()
    with pytest.raises(AssertionError) as e:
        _ledger.Ledger(FakeModule())
    assert needle in str(e.value)
    assert fake_host.snapshot() == before


@pytest.mark.parametrize('mode', [0o620, 0o602, 0o666])
def test_a_ledger_others_can_write_is_refused(fake_host, mode):
    _write_ledger(fake_host, GOOD, mode=mode)
    with pytest.raises(AssertionError) as e:
        _ledger.Ledger(FakeModule())
    assert 'writable by group or others' in str(e.value)


def test_a_ledger_owned_by_another_user_is_refused(fake_host):
    _write_ledger(fake_host, GOOD)
    if os.geteuid() != 0:
        pytest.skip('needs root to chown')
    os.chown(fake_host.path(_ledger.LEDGER_PATH), 4242, 4242)
    with pytest.raises(AssertionError) as e:
        _ledger.Ledger(FakeModule())
    assert 'owned by uid 4242' in str(e.value)


def test_a_removed_symlink_is_restored_as_the_same_link(fake_host):
    fake_host.write('/etc/sysctl.d/real.conf', 'a = 1\n')
    fake_host.symlink('real.conf', '/etc/sysctl.d/90-x.conf')
    m = FakeModule()
    ledger = _ledger.Ledger(m)
    _files.ManagedFile('/etc/sysctl.d/90-x.conf', None).apply(m, ledger, 'sysctl_profile')
    ledger.save()
    assert not os.path.lexists(fake_host.path('/etc/sysctl.d/90-x.conf'))
    ledger = _ledger.Ledger(m)
    assert ledger.file_action('/etc/sysctl.d/90-x.conf') == ('restored', True)
    ledger.restore_file('/etc/sysctl.d/90-x.conf')
    assert os.readlink(fake_host.path('/etc/sysctl.d/90-x.conf')) == 'real.conf'


def test_a_symlink_is_not_replaced_by_a_copy(fake_host):
    fake_host.write('/etc/real-daemon.json', '{}\n')
    fake_host.symlink('/etc/real-daemon.json', '/etc/docker/daemon.json')
    with pytest.raises(_host.FileError) as e:
        _files.ManagedFile('/etc/docker/daemon.json', '{"a": 1}\n')
    assert 'symbolic link' in str(e.value)


def test_our_own_file_without_a_record_is_recorded_as_no_file_and_its_bytes_kept(fake_host):
    """A lost ledger: the file at our path carries our header, so it is our older output, not the operator's
    original - a restore removes it (never puts our own tuning back), and its bytes are kept beside the ledger."""
    conf = '/etc/sysctl.d/90-inference.conf'
    old = _files.header('sysctl_profile') + 'vm.swappiness = 5\n'
    fake_host.write(conf, old)
    m = FakeModule()
    ledger = _ledger.Ledger(m)
    assert _files.ManagedFile(conf, _files.header('sysctl_profile') + 'vm.swappiness = 1\n').apply(
        m, ledger, 'sysctl_profile') is True
    ledger.save()
    assert json.loads(fake_host.read(_ledger.LEDGER_PATH))['files'][conf]['existed'] is False
    [kept] = [p for p in fake_host.tree() if p.startswith(_ledger.EDITED_DIR + '/')]
    assert fake_host.read(kept) == old and oct(os.stat(fake_host.path(kept)).st_mode & 0o777) == oct(0o600)
    assert len(m.warnings) == 1 and conf in m.warnings[0] and kept in m.warnings[0]
    ledger = _ledger.Ledger(m)
    assert ledger.file_action(conf) == ('removed', True)
    assert ledger.restore_file(conf) is True
    assert not fake_host.exists(conf)


@pytest.mark.parametrize('content', [
    'vm.swappiness = 5\n',                                              # the operator's: no header
    _files.header('hugepages') + 'w /sys/x - - - - 1\n',               # another owner's header
    ' ' + _files.header('sysctl_profile'),                               # not at the start
])
def test_a_file_without_our_own_header_at_its_start_is_recorded_as_it_is(fake_host, content):
    conf = '/etc/sysctl.d/90-inference.conf'
    fake_host.write(conf, content, mode=0o640)
    m = FakeModule()
    ledger = _ledger.Ledger(m)
    _files.ManagedFile(conf, _files.header('sysctl_profile')).apply(m, ledger, 'sysctl_profile')
    assert ledger.files[conf]['existed'] is True and ledger.original_content(conf) == content
    assert m.warnings == [] and not fake_host.exists(_ledger.EDITED_DIR)
    ledger.restore_file(conf)
    assert fake_host.read(conf) == content


def test_a_file_that_is_not_utf8_is_never_taken_for_absent(fake_host):
    with open(fake_host.path('/etc/fstab'), 'wb') as f:
        f.write(b'# caf\xe9\n/dev/sda2 none swap sw 0 0\n')
    with pytest.raises(_host.FileError) as e:
        _files.ManagedFile('/etc/fstab', '# x\n')
    assert 'not UTF-8' in str(e.value)


def test_a_failed_write_leaves_no_record(fake_host):
    class Failing(FakeModule):
        def atomic_move(self, src, dest, unsafe_writes=False):
            if dest.endswith('x.conf'):
                raise OSError(28, 'No space left on device')
            os.rename(src, dest)

    m = Failing()
    ledger = _ledger.Ledger(m)
    with pytest.raises(OSError):
        _files.ManagedFile('/etc/sysctl.d/90-new/x.conf', 'a = 1\n').apply(m, ledger, 'sysctl_profile')
    assert '/etc/sysctl.d/90-new/x.conf' not in ledger.files
    assert not fake_host.exists('/etc/sysctl.d/90-new')
    assert not fake_host.exists(_ledger.LEDGER_PATH)


def _kept(fake_host):
    d = fake_host.path(_ledger.EDITED_DIR)
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


def test_a_hand_edit_is_named_and_kept_before_a_converge_replaces_it(fake_host):
    m = FakeModule()
    ledger = _ledger.Ledger(m)
    _files.ManagedFile('/etc/sysctl.d/90-x.conf', 'a = 1\n').apply(m, ledger, 'sysctl_profile')
    ledger.save()
    fake_host.write('/etc/sysctl.d/90-x.conf', 'a = 1\nvm.operator = 7\n')
    ledger = _ledger.Ledger(m)
    _files.ManagedFile('/etc/sysctl.d/90-x.conf', 'a = 2\n').apply(m, ledger, 'sysctl_profile')
    ledger.save()
    assert len(m.warnings) == 1 and "'vm.operator = 7'" in m.warnings[0], m.warnings
    kept = _kept(fake_host)
    assert len(kept) == 1 and kept[0].startswith('etc_sysctl.d_90-x.conf.')
    copy = fake_host.path(_ledger.EDITED_DIR + '/' + kept[0])
    assert fake_host.read(_ledger.EDITED_DIR + '/' + kept[0]) == 'a = 1\nvm.operator = 7\n'
    assert oct(os.stat(copy).st_mode & 0o777) == oct(0o600)
    assert oct(os.stat(os.path.dirname(copy)).st_mode & 0o777) == oct(0o700)
    # our own change of content is no hand edit
    ledger = _ledger.Ledger(m)
    _files.ManagedFile('/etc/sysctl.d/90-x.conf', 'a = 3\n').apply(m, ledger, 'sysctl_profile')
    ledger.save()
    assert len(m.warnings) == 1


def test_a_hand_edit_is_kept_before_a_revert_removes_the_file(fake_host):
    m = FakeModule()
    ledger = _ledger.Ledger(m)
    _files.ManagedFile('/etc/sysctl.d/90-x.conf', 'a = 1\n').apply(m, ledger, 'sysctl_profile')
    ledger.save()
    fake_host.write('/etc/sysctl.d/90-x.conf', 'a = 1\n# tuned by hand\n')
    ledger = _ledger.Ledger(m)
    ledger.restore_file('/etc/sysctl.d/90-x.conf')
    ledger.save()
    assert not fake_host.exists('/etc/sysctl.d/90-x.conf')
    assert "'# tuned by hand'" in m.warnings[0]
    assert len(_kept(fake_host)) == 1
    # the operator's copy stays: the state directory is not removed with the last record
    assert not fake_host.exists(_ledger.LEDGER_PATH)


def test_requests_are_recorded_forgotten_and_go_with_the_last_record(fake_host):
    ledger = _ledger.Ledger(FakeModule())
    ledger.record_request('cpu_governor', {'governor': 'performance'})
    ledger.record_request('numa_bind', {'unit': 'a.service'}, 'a.service')
    ledger.record_request('numa_bind', {'unit': 'b.service'}, 'b.service')
    assert ledger.save()
    assert _ledger_modes(fake_host) == (oct(0o700), oct(0o600))
    again = _ledger.Ledger(FakeModule())
    assert again.requests == {'cpu_governor': {'': {'governor': 'performance'}},
                              'numa_bind': {'a.service': {'unit': 'a.service'}, 'b.service': {'unit': 'b.service'}}}
    again.record_request('cpu_governor', {'governor': 'performance'})
    assert not again.dirty                          # the same request again writes nothing
    again.forget_request('numa_bind', 'a.service')
    again.forget_request('cpu_governor')
    again.save()
    assert _ledger.Ledger(FakeModule()).requests == {'numa_bind': {'b.service': {'unit': 'b.service'}}}
    last = _ledger.Ledger(FakeModule())
    last.forget_request('numa_bind')
    last.save()
    assert not fake_host.exists('/var/lib/inference_host_tuning')


def test_a_read_only_ledger_is_never_tightened_or_written(fake_host):
    _write_ledger(fake_host, dict(GOOD, requests={'cpu_governor': {'': {'governor': 'performance'}}}), mode=0o644)
    ledger = _ledger.Ledger(FakeModule(), readonly=True)
    assert ledger.requests == {'cpu_governor': {'': {'governor': 'performance'}}}
    ledger.forget_request('cpu_governor')
    assert not ledger.save()
    assert _ledger_modes(fake_host)[1] == oct(0o644)
