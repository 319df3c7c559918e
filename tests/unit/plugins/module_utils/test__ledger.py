# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os

from ansible_collections.inference.host_tuning.plugins.module_utils import _files
from ansible_collections.inference.host_tuning.plugins.module_utils import _ledger


class FakeModule(object):
    check_mode = False

    def atomic_move(self, src, dest, unsafe_writes=False):
        os.rename(src, dest)

    def fail_json(self, **kwargs):
        raise AssertionError(kwargs['msg'])


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
