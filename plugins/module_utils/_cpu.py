# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""CPU frequency surface: cpufreq governors in sysfs and the unit that sets them at boot."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

from ansible_collections.inference.host_tuning.plugins.module_utils import _files
from ansible_collections.inference.host_tuning.plugins.module_utils import _formats
from ansible_collections.inference.host_tuning.plugins.module_utils import _host

CPU_DIR = '/sys/devices/system/cpu'
GOVERNOR_UNIT = 'inference-cpu-governor.service'

#: cpufreq governor names (performance, schedutil, ondemand...): they go into a unit's shell line.
GOVERNOR_RE = re.compile(r'^[a-z][a-z0-9_]{0,31}\Z')


def governor_path(cpu):
    return '%s/cpu%d/cpufreq/scaling_governor' % (CPU_DIR, cpu)


def cpu_of(path):
    """The CPU number of a governor_path() (None for another path)."""
    m = re.match(r'%s/cpu(\d+)/cpufreq/scaling_governor\Z' % re.escape(CPU_DIR), path)
    return int(m.group(1)) if m else None


def cpufreq_cpus():
    """Numbers of the CPUs that have a cpufreq governor, in order."""
    cpus = []
    for name in _host.listdir(CPU_DIR):
        m = re.match(r'^cpu(\d+)\Z', name)
        if m and _host.exists(governor_path(int(m.group(1)))):
            cpus.append(int(m.group(1)))
    return sorted(cpus)


def available_governors(cpu):
    text = _host.read_value('%s/cpu%d/cpufreq/scaling_available_governors' % (CPU_DIR, cpu), '')
    return text.split()


def common_governors(cpus):
    """Governors every one of ``cpus`` offers, in the order the first one lists them."""
    common = None
    for cpu in cpus:
        offered = available_governors(cpu)
        common = offered if common is None else [g for g in common if g in offered]
    return common or []


def render_governor_unit(governor, owner):
    """A oneshot unit that writes ``governor`` to every CPU's cpufreq at boot."""
    script = ("for f in %s/cpu[0-9]*/cpufreq/scaling_governor; do "
              "[ -w \"$$f\" ] && echo %s > \"$$f\"; done; exit 0" % (CPU_DIR, governor))
    return _formats.unit([
        ('Unit', [
            ('Description', 'Set the CPU frequency governor to %s (inference.host_tuning)' % governor),
            ('ConditionPathExists', '%s/cpu0/cpufreq' % CPU_DIR),
            ('After', 'systemd-modules-load.service'),
        ]),
        ('Service', [
            ('Type', 'oneshot'),
            ('RemainAfterExit', 'yes'),
            # the script is ours, already escaped for systemd ($$); the governor is one of the kernel's names
            ('ExecStart', _formats.Verbatim("/bin/sh -c '%s'" % script)),
        ]),
        ('Install', [('WantedBy', 'multi-user.target')]),
    ], header=_files.header(owner))
