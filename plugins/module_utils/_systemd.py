# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""systemd surface: unit names, unit files and drop-ins, daemon-reload, enable/start."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import re

from ansible_collections.inference.host_tuning.plugins.module_utils import _formats
from ansible_collections.inference.host_tuning.plugins.module_utils import _host

SYSTEM_DIR = '/etc/systemd/system'
# Where systemd loads system units from, highest priority first (systemd.unit(5)).
UNIT_DIRS = (SYSTEM_DIR, '/run/systemd/system', '/usr/local/lib/systemd/system', '/usr/lib/systemd/system',
             '/lib/systemd/system')

# systemd.unit(5): "name.type", name of [A-Za-z0-9:_.\\-@], at most 255 bytes,
# templates as "name@.service", instances as "name@inst.service".
_UNIT_RE = re.compile(
    r'[A-Za-z0-9:_.\\-]+(@[A-Za-z0-9:_.\\-]*)?\.'
    r'(service|socket|device|mount|automount|swap|target|path|timer|slice|scope)\Z')


def valid_unit_name(name):
    # never a leading "-": systemctl would read the name as an option
    return (isinstance(name, str) and 0 < len(name) <= 255 and '..' not in name and not name.startswith(('.', '-'))
            and bool(_UNIT_RE.match(name)))


def unit_error(name):
    """A message for an invalid unit name, or None when the name is valid."""
    if valid_unit_name(name):
        return None
    return ('%r is not a valid systemd unit name: use NAME.TYPE (for example vllm.service), '
            'NAME of letters, digits and ":_.\\-", an optional "@INSTANCE", and TYPE one of '
            'service, socket, mount, target, timer, path, slice, scope, swap, automount, device' % (name,))


def unit_path(unit):
    return '%s/%s' % (SYSTEM_DIR, unit)


def dropin_path(unit, name):
    """/etc/systemd/system/UNIT.d/NAME.conf"""
    if not name.endswith('.conf'):
        name += '.conf'
    return '%s/%s.d/%s' % (SYSTEM_DIR, unit, name)


def wants_link(unit, target='multi-user.target'):
    """The symlink ``systemctl enable`` makes for ``WantedBy=TARGET``."""
    return '%s/%s.wants/%s' % (SYSTEM_DIR, target, unit)


def is_linked(unit, target='multi-user.target'):
    """True when the unit is enabled for ``target`` (its wants symlink exists; read offline)."""
    return os.path.lexists(_host.host_path(wants_link(unit, target)))


def render_section(section, items, header=''):
    """One unit-file section through the unit writer (``_formats.unit``); ``items`` are (key, value) pairs."""
    return _formats.unit([(section, items)], header=header or None)


def booted(module):
    """True when systemd is PID 1 and reachable (a chroot or a plain container is not)."""
    return _host.isdir('/run/systemd/system') and module.get_bin_path('systemctl') is not None


class Systemctl(object):
    """Thin argv-only wrapper around systemctl."""

    def __init__(self, module):
        self.module = module
        self.bin = module.get_bin_path('systemctl')

    def run(self, *args, **kwargs):
        if self.bin is None:
            self.module.fail_json(msg='systemctl was not found; this needs a host managed by systemd.')
        check = kwargs.pop('check', True)
        rc, out, err = self.module.run_command([self.bin] + list(args))
        if check and rc != 0:
            self.module.fail_json(msg='systemctl %s failed (rc=%d): %s' % (' '.join(args), rc, (err or out).strip()),
                                  rc=rc, stdout=out, stderr=err)
        return rc, out, err

    def daemon_reload(self):
        self.run('daemon-reload')

    def is_enabled(self, unit):
        rc, out, _err = self.run('is-enabled', unit, check=False)
        return rc == 0 and out.strip() in ('enabled', 'enabled-runtime', 'static', 'alias')

    def is_active(self, unit):
        rc, _out, _err = self.run('is-active', '--quiet', unit, check=False)
        return rc == 0

    def show(self, unit, *props):
        _rc, out, _err = self.run('show', unit, '--property=' + ','.join(props), check=False)
        values = {}
        for line in out.splitlines():
            key, sep, value = line.partition('=')
            if sep:
                values[key] = value
        return values

    def version(self):
        _rc, out, _err = self.run('--version', check=False)
        m = re.match(r'systemd (\d+)', out or '')
        return int(m.group(1)) if m else 0


# -- units this collection enabled or started (recorded as they were before) -------------------
def unit_state(systemctl, unit):
    """{'enabled': bool, 'active': bool} of a unit, as systemctl reports it now."""
    return {'enabled': systemctl.is_enabled(unit), 'active': systemctl.is_active(unit)}


def restore_steps(systemctl, records):
    """The systemctl argv tails that put recorded units ({unit: {'enabled', 'active'} before}) back."""
    steps = []
    for unit in sorted(records or {}):
        before = {'enabled': bool(records[unit].get('enabled')), 'active': bool(records[unit].get('active'))}
        steps.extend(steps_to(before, unit_state(systemctl, unit), unit))
    return steps


def steps_to(before, now, unit):
    """The systemctl argv tails that take a unit from ``now`` to ``before`` (start/enable or stop/disable)."""
    steps = []
    if before['enabled'] != now['enabled']:
        steps.append(['enable' if before['enabled'] else 'disable', unit])
    if before['active'] != now['active']:
        steps.append(['start' if before['active'] else 'stop', unit])
    return steps


def find_unit(unit):
    """The file systemd loads ``unit`` from (the first of UNIT_DIRS that has it); None when none has."""
    for directory in UNIT_DIRS:
        path = '%s/%s' % (directory, unit)
        if _host.exists(path):
            return path
    return None


def unit_files(unit):
    """The files systemd reads for ``unit`` at its next load, in order: its unit file, then the ``.conf`` drop-ins
    of ``UNIT.d`` and ``TYPE.d`` (e.g. ``service.d``) in every unit directory, by file name (the same name in a
    directory of higher priority hides the others). Read from the disk, so a drop-in added without a daemon-reload
    counts, as it will at the next boot."""
    files = [f for f in [find_unit(unit)] if f]
    return files + conf_files(['%s/%s' % (directory, sub) for directory in reversed(UNIT_DIRS)
                               for sub in ('%s.d' % unit.rsplit('.', 1)[-1], '%s.d' % unit)])


def conf_files(directories):
    """The ``.conf`` files of ``directories`` (lowest priority first) in the order systemd reads them: by file name,
    a name in a directory of higher priority hiding the same name in the others."""
    chosen = {}
    for directory in directories:
        for name in _host.listdir(directory):
            if name.endswith('.conf'):
                chosen[name] = '%s/%s' % (directory, name)
    return [chosen[name] for name in sorted(chosen)]


def last_setting(path, section, key):
    """The last ``key=`` value in ``[section]`` of a systemd file; None when it has none (or cannot be read)."""
    value, current = None, None
    for raw in (_host.read_lenient(path) or '').splitlines():
        line = raw.strip()
        if not line or line[0] in '#;':
            continue
        if line.startswith('[') and line.endswith(']'):
            current = line[1:-1]
        elif current == section and '=' in line:
            name, _sep, val = line.partition('=')
            if name.strip() == key:
                value = val.strip()
    return value
