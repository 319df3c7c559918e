# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Resource-limit surface: pam_limits (limits.d), the systemd manager defaults and the
container runtimes' default ulimits (docker daemon.json, containerd's unit)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

from ansible_collections.inference.host_tuning.plugins.module_utils import _files
from ansible_collections.inference.host_tuning.plugins.module_utils import _formats
from ansible_collections.inference.host_tuning.plugins.module_utils import _host
from ansible_collections.inference.host_tuning.plugins.module_utils import _systemd

LIMITS_D = '/etc/security/limits.d'
SYSTEM_CONF_D = '/etc/systemd/system.conf.d'
DOCKER_DAEMON_JSON = '/etc/docker/daemon.json'
RUNTIMES = ('docker', 'containerd')

_UNIT_DIRS = ('/etc/systemd/system', '/run/systemd/system', '/usr/lib/systemd/system', '/lib/systemd/system')


def render_limits(owner, item, value, domains=('*', 'root')):
    """A limits.d file setting soft and hard ``item`` for each domain.

    ``*`` does not match root in pam_limits, so root gets its own lines.
    """
    lines = [_files.header(owner).rstrip('\n')]
    for domain in domains:
        for kind in ('soft', 'hard'):
            lines.append(_formats.limits_line(domain, kind, item, value, 'limits'))
    return '\n'.join(lines) + '\n'


def render_dropin(owner, section, items):
    """A systemd drop-in (system.conf.d or UNIT.d) with one section."""
    return _systemd.render_section(section, items, header=_files.header(owner))


def unit_installed(unit):
    return any(_host.exists('%s/%s' % (d, unit)) for d in _UNIT_DIRS)


def detect_runtimes(module):
    """The container runtimes installed on the host, in RUNTIMES order."""
    found = []
    if module.get_bin_path('dockerd') or _host.isdir('/etc/docker'):
        found.append('docker')
    if module.get_bin_path('containerd') or unit_installed('containerd.service'):
        found.append('containerd')
    return found


def load_json_object(path):
    """(text, dict) of a JSON object file; (None, {}) when it does not exist.

    Raises ValueError with a message naming the file when it is not a JSON object.
    """
    text = _host.read_text_file(path)
    if text is None or not text.strip():
        return text, {}
    try:
        data = json.loads(text)
    except ValueError as e:
        raise ValueError('%s is not valid JSON (%s)' % (path, e))
    if not isinstance(data, dict):
        raise ValueError('%s does not hold a JSON object' % path)
    return text, data


def merge_docker_ulimit(text, data, name, soft, hard):
    """daemon.json text with ``default-ulimits[name]`` set; other keys and ulimits kept.

    Returns ``text`` unchanged when the file already says so, to keep its formatting.
    Raises ValueError when ``default-ulimits`` is there but is not an object.
    """
    wanted = {'Name': name, 'Soft': soft, 'Hard': hard}
    ulimits = data.get('default-ulimits', {})
    if not isinstance(ulimits, dict):
        raise ValueError('"default-ulimits" in %s is not a JSON object' % DOCKER_DAEMON_JSON)
    if ulimits.get(name) == wanted:
        return text
    merged = dict(data)
    merged['default-ulimits'] = dict(ulimits)
    merged['default-ulimits'][name] = wanted
    return _formats.json_text(merged, DOCKER_DAEMON_JSON, sort_keys=False)
