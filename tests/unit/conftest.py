# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared fixtures: every unit test runs against a fake host tree, never this machine."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno
import os
import pathlib
import shutil
import tempfile

import pytest

from ansible_collections.inference.host_tuning.plugins.module_utils import _host
from ansible_collections.inference.host_tuning.tests.unit.fakehost import FakeHost

# Each test builds a fake host of about 180 files; on a disk-backed /tmp that is ~50 ms a test (most of the units'
# time), in memory ~6 ms. So tmp_path lives in /dev/shm where it can, and is removed after its test.
_FAST = '/dev/shm'


@pytest.fixture
def tmp_path():
    base = _FAST if os.path.isdir(_FAST) and os.access(_FAST, os.W_OK | os.X_OK) else None
    path = tempfile.mkdtemp(prefix='iht-unit-', dir=base)
    try:
        yield pathlib.Path(path)
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def fake_host(tmp_path, monkeypatch):
    """A two-socket host tree; writes under make_readonly() prefixes fail with EROFS."""
    host = FakeHost.two_socket(tmp_path / 'root')
    monkeypatch.setenv(_host.ROOT_ENV, host.root)

    real_is_readonly = _host.is_readonly
    real_write = _host.write_runtime

    def is_readonly(path):
        return host.is_readonly(path) or real_is_readonly(path)

    def write_runtime(path, value):
        if host.is_readonly(path):
            raise _host.RuntimeWriteError(path, OSError(errno.EROFS, 'Read-only file system'))
        return real_write(path, value)

    monkeypatch.setattr(_host, 'is_readonly', is_readonly)
    monkeypatch.setattr(_host, 'write_runtime', write_runtime)

    def no_real_command(module, args, **kwargs):
        # a module under test must never run a command of this machine (systemctl, swapoff, grubby as root):
        # a test that needs one installs FakeCommands, which replaces this guard
        raise AssertionError('a unit test ran a real command %r: install FakeCommands' % (args,))
    from ansible.module_utils import basic
    monkeypatch.setattr(basic.AnsibleModule, 'run_command', no_real_command)
    return host
