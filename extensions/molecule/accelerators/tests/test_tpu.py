# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Verify playbooks/site.yml on a fake TPU v4 host from the container itself: detection (4 chips, the
gVNIC left out), the hugepage settings, the tcmalloc and NUMA drop-ins, the server's environment, and
the exact revert. Tests run in file order."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', '..', 'tests', 'molecule'))
from iht_verify import environ as _environ, playbook as _playbook, proc as _proc  # noqa: E402 pylint: disable=wrong-import-position
from iht_verify import modules_ran as _modules_ran  # noqa: E402 pylint: disable=wrong-import-position
from iht_verify import check_predicted_converge as _check_predicted_converge, only_on as _only_on  # noqa: E402 pylint: disable=wrong-import-position

# The accelerators scenario has an Ascend and a TPU host: these tests are the TPU host's, and every playbook they run
# is limited to it.
HOST = 'iht-tpu-debian13'

_only_here = _only_on(HOST)


UNIT_FILE = '/etc/systemd/system/vllm.service'
NUMA_DROPIN = '/etc/systemd/system/vllm.service.d/90-inference-numa.conf'
ALLOC_DROPIN = '/etc/systemd/system/vllm.service.d/90-inference-allocator.conf'
TPU_ENV = {
    'PJRT_DEVICE': 'TPU',
    'TPU_VISIBLE_CHIPS': '0,1',
    'TPU_CHIPS_PER_PROCESS_BOUNDS': '1,2,1',
    'TPU_PROCESS_BOUNDS': '1,1,1',
    'VLLM_XLA_CACHE_PATH': '/var/cache/vllm-xla',
}


def test_check_mode_predicted_exactly_the_real_changes(host):
    _check_predicted_converge(HOST)


def test_detection_against_the_fake_pci_tree(host):
    result = _playbook('audit.yml', '--limit', HOST, '-e', 'audit_output_dir=/tmp/iht-tpu-audit')
    assert result.returncode == 0, result.stdout
    with open('/tmp/iht-tpu-audit/fleet-audit.json') as f:
        report = json.load(f)['hosts'][HOST]
    assert report['kind'] == 'tpu'
    assert report['accelerator_counts']['tpu'] == 4          # the gVNIC is not a TPU
    by_setting = dict((i['setting'], i) for i in report['audit'])
    assert by_setting['enabled']['desired'] == 'always'      # the tpu role's THP mode, not base's madvise


def test_thp_always_is_persisted(host):
    """A container cannot write /sys/kernel/mm: the mode is persisted for boot by the hugepages module."""
    out = host.file("/etc/tmpfiles.d/90-inference-host-tuning-hugepages.conf").content_string
    assert "transparent_hugepage/enabled - - - - always" in " ".join(out.split()), out


def test_unit_has_the_tpu_environment(host):
    unit = host.file(UNIT_FILE).content_string
    for key, value in TPU_ENV.items():
        # the unit writer quotes an assignment only when it holds white space, quotes or backslashes
        assert ('Environment=%s=%s\n' % (key, value) in unit or 'Environment="%s=%s"\n' % (key, value) in unit), unit
    env = _environ(host)
    for key, value in TPU_ENV.items():
        assert env.get(key) == value, key


def test_allocator_dropin_preloads_tcmalloc(host):
    dropin = host.file(ALLOC_DROPIN).content_string
    assert 'LD_PRELOAD' in dropin and 'libtcmalloc' in dropin
    assert 'libtcmalloc' in _proc(host, 'maps')


def test_numa_dropin_pins_to_the_tpus_node(host):
    dropin = host.file(NUMA_DROPIN).content_string
    assert 'NUMAPolicy=bind' in dropin and 'NUMAMask=0' in dropin, dropin
    assert 'bind:0' in _proc(host, 'numa_maps')


@pytest.mark.parametrize('mode', ['check', 'run'])
def test_tpu_tags_select_only_their_tasks(host, mode):
    """--tags tpu: detection and the tpu role's own tasks, nothing of base or the service."""
    extra = ['--check'] if mode == 'check' else []
    for tag, expect in (('tpu', ['inference.host_tuning.inference_host_info']),):
        ran = _modules_ran('site.yml', '--limit', HOST, '--tags', tag, *extra, everything=True)[HOST]
        ours = [m for m in ran if m.startswith('inference.host_tuning.')]
        assert ours == expect, (tag, mode, ran)
        assert 'ansible.builtin.assert' in ran, (tag, mode, ran)   # the TPUs are there


def test_revert_restores_everything_and_is_idempotent(host):
    first = _playbook('revert.yml', '--limit', HOST)
    assert first.returncode == 0, first.stdout
    for path in (UNIT_FILE, NUMA_DROPIN, ALLOC_DROPIN, '/etc/sysctl.d/90-inference-host-tuning.conf'):
        assert not host.file(path).exists, path
    second = _playbook('revert.yml', '--limit', HOST)
    assert second.returncode == 0, second.stdout
    assert 'changed=0' in second.stdout, second.stdout
