# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared fixtures: every unit test runs against a fake host tree, never this machine."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno

import pytest

from ansible_collections.inference.host_tuning.plugins.module_utils import _host
from ansible_collections.inference.host_tuning.tests.unit.fakehost import FakeHost


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
    return host
