# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""_cpu: cpufreq governors of the fake host (32 CPUs offering performance and powersave) and the boot unit."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import shutil

import pytest

from ansible_collections.inference.host_tuning.plugins.module_utils import _cpu
from ansible_collections.inference.host_tuning.plugins.module_utils import _files
from ansible_collections.inference.host_tuning.plugins.module_utils import _formats

CPU = '/sys/devices/system/cpu'

UNIT = (_files.header('cpu_governor') +
        '[Unit]\n'
        'Description=Set the CPU frequency governor to performance (inference.host_tuning)\n'
        'ConditionPathExists=/sys/devices/system/cpu/cpu0/cpufreq\n'
        'After=systemd-modules-load.service\n'
        '\n'
        '[Service]\n'
        'Type=oneshot\n'
        'RemainAfterExit=yes\n'
        "ExecStart=/bin/sh -c 'for f in /sys/devices/system/cpu/cpu[0-9]*/cpufreq/scaling_governor; do "
        '[ -w "$$f" ] && echo performance > "$$f"; done; exit 0\'\n'
        '\n'
        '[Install]\n'
        'WantedBy=multi-user.target\n')


@pytest.mark.parametrize('cpu', [0, 7, 31, 255])
def test_governor_path_and_cpu_of(cpu):
    path = _cpu.governor_path(cpu)
    assert path == '%s/cpu%d/cpufreq/scaling_governor' % (CPU, cpu)
    assert _cpu.cpu_of(path) == cpu


@pytest.mark.parametrize('path', [
    CPU + '/cpu3/cpufreq/scaling_max_freq',
    CPU + '/cpufreq/policy3/scaling_governor',
    CPU + '/cpu3/cpufreq/scaling_governor/x',
    CPU + '/cpu3/cpufreq/scaling_governor\n',
    CPU + '/cpux/cpufreq/scaling_governor',
    '/proc/sys/vm/swappiness',
    'sys/devices/system/cpu/cpu3/cpufreq/scaling_governor',
    '/root' + CPU + '/cpu3/cpufreq/scaling_governor',
])
def test_cpu_of_another_path_is_none(path):
    assert _cpu.cpu_of(path) is None


def test_cpufreq_cpus_in_numeric_order(fake_host):
    assert _cpu.cpufreq_cpus() == list(range(32))
    # a CPU without cpufreq (offline, or no driver) and the other entries of the directory are not CPUs to tune
    shutil.rmtree(fake_host.path(CPU + '/cpu5/cpufreq'))
    fake_host.write(CPU + '/cpufreq/policy0/scaling_governor', 'powersave\n')
    fake_host.mkdir(CPU + '/cpuidle')
    fake_host.write(CPU + '/cpu100x/cpufreq/scaling_governor', 'powersave\n')
    assert _cpu.cpufreq_cpus() == [c for c in range(32) if c != 5]


def test_cpufreq_cpus_of_a_host_without_cpufreq(fake_host):
    shutil.rmtree(fake_host.path(CPU))
    assert _cpu.cpufreq_cpus() == []


def test_available_governors(fake_host):
    assert _cpu.available_governors(0) == ['performance', 'powersave']
    fake_host.write(CPU + '/cpu1/cpufreq/scaling_available_governors',
                    'conservative ondemand userspace powersave performance schedutil \n')
    assert _cpu.available_governors(1) == ['conservative', 'ondemand', 'userspace', 'powersave', 'performance',
                                           'schedutil']
    assert _cpu.available_governors(99) == []


def test_common_governors(fake_host):
    assert _cpu.common_governors(range(32)) == ['performance', 'powersave']
    fake_host.write(CPU + '/cpu0/cpufreq/scaling_available_governors', 'schedutil powersave performance\n')
    fake_host.write(CPU + '/cpu1/cpufreq/scaling_available_governors', 'performance schedutil powersave\n')
    # the first CPU's order, only what every CPU offers
    assert _cpu.common_governors([0, 1]) == ['schedutil', 'powersave', 'performance']
    assert _cpu.common_governors([0, 1, 2]) == ['powersave', 'performance']
    assert _cpu.common_governors([]) == []
    assert _cpu.common_governors([2, 99]) == []


@pytest.mark.parametrize('name, ok', [
    ('performance', True), ('schedutil', True), ('ondemand', True), ('a' * 32, True), ('gov_2', True),
    ('Performance', False), ('2fast', False), ('a' * 33, False), ('', False), ('perf ormance', False),
    ('performance\n', False), ("x';reboot;'", False), ('per-formance', False),
])
def test_governor_names(name, ok):
    assert bool(_cpu.GOVERNOR_RE.match(name)) is ok


def test_render_governor_unit():
    assert _cpu.render_governor_unit('performance', 'cpu_governor') == UNIT
    assert _cpu.render_governor_unit('powersave', 'cpu_governor') == UNIT.replace('performance', 'powersave')
    assert _cpu.GOVERNOR_UNIT == 'inference-cpu-governor.service'


@pytest.mark.parametrize('governor', ['performance\nExecStartPre=/bin/evil', 'performance\r', 'perf\x00'])
def test_render_governor_unit_refuses_another_line(governor):
    with pytest.raises(_formats.FormatError):
        _cpu.render_governor_unit(governor, 'cpu_governor')
