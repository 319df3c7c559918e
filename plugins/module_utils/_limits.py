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
    return _systemd.find_unit(unit) is not None


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


# -- what the next start of a unit (or the next boot) gets -----------------------------------------------------
# systemd reads its manager defaults from system.conf and the system.conf.d directories (a file name in /etc hides
# the same name in /run and /usr/lib; all of them in name order, a later value wins).
SYSTEM_CONF = '/etc/systemd/system.conf'
SYSTEM_CONF_DIRS = ('/usr/lib/systemd/system.conf.d', '/lib/systemd/system.conf.d', '/run/systemd/system.conf.d',
                    SYSTEM_CONF_D)
BUILTIN_MEMLOCK = 8 * 1024 * 1024
_SUFFIX = {'': 1, 'B': 1, 'K': 1024, 'M': 1024 ** 2, 'G': 1024 ** 3, 'T': 1024 ** 4, 'P': 1024 ** 5, 'E': 1024 ** 6}


def parse_systemd_limit(text):
    """(soft, hard) in bytes (-1 unlimited) of a systemd ``Limit*=`` value (``infinity``, ``8M``, ``soft:hard``);
    None when it is not one."""
    parts = (text or '').strip().split(':')
    if len(parts) > 2 or not parts[0]:
        return None
    values = []
    for part in parts:
        part = part.strip()
        if part.lower() == 'infinity':
            values.append(-1)
            continue
        number, suffix = part.rstrip('BKMGTPEbkmgtpe'), part.lstrip('0123456789')
        if not number.isdigit() or suffix.upper() not in _SUFFIX:
            return None
        values.append(int(number) * _SUFFIX[suffix.upper()])
    return (values[0], values[-1])


def manager_memlock_files():
    """[(path, value)] of every DefaultLimitMEMLOCK= the manager reads at its next start, in the order it reads
    them (the last one wins)."""
    out = []
    for path in [SYSTEM_CONF] + _systemd.conf_files(SYSTEM_CONF_DIRS):
        value = _systemd.last_setting(path, 'Manager', 'DefaultLimitMEMLOCK')
        if value is not None:
            out.append((path, value))
    return out


def next_memlock(unit_files):
    """{soft, hard, source} of the memlock limit a unit gets at its next start after a boot: its own last
    ``LimitMEMLOCK=`` (``unit_files``: its fragment, then its drop-ins, as systemd orders them), else the manager's
    ``DefaultLimitMEMLOCK`` from system.conf(.d), else systemd's built-in default (8M since systemd 253, 64K
    before: taken as 8M); None when the value there cannot be read."""
    found = None
    for path in unit_files:
        value = _systemd.last_setting(path, 'Service', 'LimitMEMLOCK')
        if value is not None:
            found = (path, 'LimitMEMLOCK', value)
    if found is None:
        files = manager_memlock_files()
        if files:
            found = (files[-1][0], 'DefaultLimitMEMLOCK', files[-1][1])
    if found is None:
        return {'soft': BUILTIN_MEMLOCK, 'hard': BUILTIN_MEMLOCK,
                'source': "systemd's built-in default: no DefaultLimitMEMLOCK= in %s or system.conf.d" % SYSTEM_CONF}
    limit = parse_systemd_limit(found[2])
    if limit is None:
        return None
    return {'soft': limit[0], 'hard': limit[1], 'source': '%s=%s in %s' % (found[1], found[2], found[0])}
