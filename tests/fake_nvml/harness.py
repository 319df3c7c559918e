# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""pytest fixtures for the fake NVML library (tests/fake_nvml/fake_nvml.c).

``fake_nvml_lib`` (session) builds the library with build.sh into a cache
directory keyed by the source's hash, then loads it with RTLD_GLOBAL.  Its
soname is libnvidia-ml.so.1, so the dynamic loader hands this already-loaded
object to pynvml's own ``CDLL("libnvidia-ml.so.1")``: the real bindings talk
to the fake, and never to a real driver even on a GPU host.

``fake_nvml`` (per test) copies a state file (default: states/default.json:
H100, L40S, A100) to tmp_path and points FAKE_NVML_STATE at it.  The fake
re-reads it on every nvmlInit and writes it back on every successful set.

Test modules import both fixtures:
``from ...tests.fake_nvml.harness import fake_nvml, fake_nvml_lib  # noqa: F401``
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ctypes
import hashlib
import json
import os
import shutil
import subprocess
import tempfile

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
STATES = os.path.join(HERE, 'states')
SOURCE = os.path.join(HERE, 'fake_nvml.c')
BUILD = os.path.join(HERE, 'build.sh')

# The GPUs of the default state (states/default.json), by index, and their UUIDs.
H100, L40S, A100 = 0, 1, 2
UUID = {
    H100: 'GPU-5d1b3c2a-0000-4a6e-9c1f-0000000017a0',
    L40S: 'GPU-0b9e6f1d-7c2a-4f35-8e0d-3a1c5b7d9e21',
    A100: 'GPU-a100c0de-3f4e-4d21-b6c7-1e2f3a4b5c6d',
}


def build(cache_root=None):
    """Path of the built library, building it only when the sources changed."""
    digest = hashlib.sha256()
    for path in (SOURCE, BUILD):
        with open(path, 'rb') as f:
            digest.update(f.read())
    cache_root = cache_root or os.path.join(tempfile.gettempdir(), 'iht-fake-nvml-%d' % os.getuid())
    out = os.path.join(cache_root, digest.hexdigest()[:16])
    lib = os.path.join(out, 'libnvidia-ml.so.1')
    if not os.path.exists(lib):
        if shutil.which('gcc') is None and not os.environ.get('CC'):
            pytest.skip('gcc is needed to build the fake NVML library')
        subprocess.run(['bash', BUILD, out], check=True, stdout=subprocess.PIPE)
    return lib


class FakeNvml(object):
    """The state file of one test."""

    def __init__(self, path, lib):
        self.path = str(path)
        self.lib = lib

    def load(self, name='default'):
        shutil.copyfile(os.path.join(STATES, name + '.json'), self.path)

    def state(self):
        with open(self.path) as f:
            return json.load(f)

    def raw(self):
        with open(self.path) as f:
            return f.read()

    def gpu(self, index):
        return self.state()['gpus'][index]

    def write(self, state):
        with open(self.path, 'w') as f:
            json.dump(state, f, indent=2)

    def update(self, gpu=None, **values):
        """Change top-level values, or one GPU's values when ``gpu`` is an index."""
        state = self.state()
        (state if gpu is None else state['gpus'][gpu]).update(values)
        self.write(state)


@pytest.fixture(scope='session')
def fake_nvml_lib():
    pynvml = pytest.importorskip('pynvml')
    lib = build()
    ctypes.CDLL(lib, mode=ctypes.RTLD_GLOBAL)
    if pynvml.nvmlLib is not None and not hasattr(pynvml.nvmlLib, 'fakeNvmlIsFake'):
        pytest.fail('pynvml already loaded a real NVML library; the fake must be loaded first')
    return lib


@pytest.fixture
def fake_nvml(fake_nvml_lib, tmp_path, monkeypatch):
    fake = FakeNvml(tmp_path / 'fake-nvml-state.json', fake_nvml_lib)
    fake.load('default')
    monkeypatch.setenv('FAKE_NVML_STATE', fake.path)
    return fake
