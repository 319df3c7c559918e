# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Desired profile against the host's actual state: the drift report.

Pure functions: they take what a caller read from the host (plain values,
``None`` where a surface is missing) and return audit items
``{concern, setting, desired, actual, status, detail}`` with ``status`` one of
``ok``, ``drift``, ``pending_reboot`` or ``unavailable``.

What the host will have after a reboot counts as much as what it has now: where a
setting is persisted (sysctl.d, the THP tmpfiles line, boot-time kernel parameters)
the caller passes what the next boot applies too.  A runtime value that is right
but would be lost or changed at the next boot is ``drift``; a value that only a
reboot brings (kernel parameters written for the next boot) is ``pending_reboot``.  Reading the host is the caller's job
(``inference_host_info``); that keeps these rules testable with tables.

``desired`` (the module option) is validated by ``validate()`` first.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.inference.host_tuning.plugins.module_utils import _sysctl
from ansible_collections.inference.host_tuning.plugins.module_utils import _systemd
from ansible_collections.inference.host_tuning.plugins.module_utils import _topology

OK = 'ok'
DRIFT = 'drift'
PENDING = 'pending_reboot'
UNAVAILABLE = 'unavailable'
STATUSES = (OK, DRIFT, PENDING, UNAVAILABLE)

CONCERNS = ('sysctl', 'sysctl_profile', 'thp', 'hugepages', 'governor', 'memlock', 'swap', 'io_scheduler', 'gpu',
            'service')
THP_SETTINGS = ('enabled', 'defrag')
HUGEPAGE_SIZES = ('2M', '1G')
GPU_SETTINGS = ('persistence_mode', 'power_limit', 'compute_mode')
SERVICE_KEYS = ('unit', 'cpus', 'allocator_library')
#: The keys of a pool, as the hugepages module takes them.
POOL_KEYS = ('size', 'count', 'node', 'boot', 'min_count')
IO_SCHEDULER_KEYS = ('scheduler', 'devices')
COMPUTE_MODES = ('default', 'exclusive_process', 'prohibited')
#: desired.service.cpus / allocator_library: what the unit itself asks for (CPUAffinity=, LD_PRELOAD).
FROM_UNIT = 'unit'
#: desired.swap, with the swap module's defaults for the same options.
SWAP_DEFAULTS = {'min_ram_gib': 32, 'force': False, 'disable_zswap': False}
DEFAULT_NVME = ['nvme*n*']

#: RLIMIT_INFINITY as systemd and /proc/PID/limits print it.
UNLIMITED_WORDS = ('unlimited', 'infinity', '-1')


def item(concern, setting, desired, actual, status, detail=None):
    return {'concern': concern, 'setting': setting, 'desired': desired, 'actual': actual,
            'status': status, 'detail': detail}


def summary(items):
    out = dict((s, 0) for s in STATUSES)
    for i in items:
        out[i['status']] += 1
    return out


# -- validation ----------------------------------------------------------------
def _check_profile(profile):
    if not isinstance(profile, str) or profile not in _sysctl.PROFILES:
        return ['desired.sysctl_profile: %r is not a profile; use one of %s'
                % (profile, ', '.join(sorted(_sysctl.PROFILES)))]
    return []


def _check_sysctl(sysctl):
    if not isinstance(sysctl, dict):
        return ['desired.sysctl must be a dictionary of sysctl names and values']
    errors = []
    for key in sorted(sysctl, key=str):
        err = _sysctl.key_error(key) or _sysctl.parse_value(key, sysctl[key])[1]
        if err:
            errors.append('desired.sysctl: %s' % err)
    return errors


def _check_thp(thp):
    if not isinstance(thp, dict) or set(thp) - set(THP_SETTINGS):
        return ['desired.thp must be a dictionary with enabled and/or defrag']
    return []


def _pool_ok(pool):
    return (isinstance(pool, dict) and pool.get('size') in HUGEPAGE_SIZES and _is_int(pool.get('count'))
            and int(pool.get('count')) >= 0 and (pool.get('node') is None or _is_int(pool.get('node')))
            and not set(pool) - set(POOL_KEYS))


def _check_pools(pools):
    if not isinstance(pools, list):
        return ['desired.hugepages must be a list of {size, count, node}']
    return ['desired.hugepages[%d]: %r must be {size: 2M or 1G, count: N >= 0, node: N, boot: true/false, '
            'min_count: N (the last three optional)}' % (i, pool) for i, pool in enumerate(pools) if not _pool_ok(pool)]


def _check_memlock(memlock):
    if parse_limit(memlock) is None:
        return ['desired.memlock: %r is not unlimited (infinity) or a number of bytes' % (memlock,)]
    return []


def _check_swap(swap):
    if not isinstance(swap, dict) or set(swap) - set(SWAP_DEFAULTS):
        return ['desired.swap must be a dictionary with min_ram_gib, force and/or disable_zswap '
                '(as the swap module takes them; {} for the defaults)']
    errors = []
    if 'min_ram_gib' in swap and (not _is_int(swap['min_ram_gib']) or int(swap['min_ram_gib']) < 0):
        errors.append('desired.swap.min_ram_gib: %r must be a whole number of GiB, 0 or more' % (swap['min_ram_gib'],))
    for key in ('force', 'disable_zswap'):
        if key in swap and not isinstance(swap[key], bool):
            errors.append('desired.swap.%s: %r must be true or false' % (key, swap[key]))
    return errors


def _check_io_scheduler(sched):
    if isinstance(sched, dict):
        if not isinstance(sched.get('scheduler'), str) or not isinstance(sched.get('devices', []), list) \
                or set(sched) - set(IO_SCHEDULER_KEYS):
            return ['desired.io_scheduler: give a scheduler name, or {scheduler: NAME, devices: [GLOBS]}']
    elif not isinstance(sched, str):
        return ['desired.io_scheduler: give a scheduler name such as none']
    return []


def _check_gpu(gpu):
    if not isinstance(gpu, dict) or set(gpu) - set(GPU_SETTINGS):
        return ['desired.gpu must be a dictionary with %s' % ', '.join(GPU_SETTINGS)]
    return _gpu_errors(gpu)


def _check_service(service):
    if not isinstance(service, dict) or not service.get('unit') or set(service) - set(SERVICE_KEYS):
        return ['desired.service must be a dictionary with unit and optionally cpus, allocator_library']
    if _systemd.unit_error(service['unit']):
        return ['desired.service.unit: %s' % _systemd.unit_error(service['unit'])]
    errors = []
    if service.get('cpus') is not None and service['cpus'] != FROM_UNIT:
        try:
            _topology.parse_cpulist(str(service['cpus']))
        except ValueError as e:
            errors.append('desired.service.cpus: %s (or %s: the CPUAffinity= of the unit)' % (e, FROM_UNIT))
    lib = service.get('allocator_library')
    if lib is not None and lib != FROM_UNIT and not (isinstance(lib, str) and lib.startswith('/')):
        errors.append('desired.service.allocator_library: %r must be an absolute path, or %s (the '
                      "LD_PRELOAD of the unit's environment)" % (lib, FROM_UNIT))
    return errors


#: concern -> its check, in the order the messages are given
_CHECKS = (('sysctl_profile', _check_profile), ('sysctl', _check_sysctl), ('thp', _check_thp),
           ('hugepages', _check_pools), ('memlock', _check_memlock), ('swap', _check_swap),
           ('io_scheduler', _check_io_scheduler), ('gpu', _check_gpu), ('service', _check_service))


def validate(desired):
    """A list of messages for what is wrong in ``desired`` (empty when it is fine)."""
    if not isinstance(desired, dict):
        return ['desired must be a dictionary of concerns (%s)' % ', '.join(CONCERNS)]
    errors = []
    unknown = sorted(k for k in desired if k not in CONCERNS)
    if unknown:
        errors.append('desired: unknown key(s) %s; allowed: %s' % (', '.join(map(str, unknown)), ', '.join(CONCERNS)))
    for concern, check in _CHECKS:
        if desired.get(concern) is not None:
            errors += check(desired[concern])
    return errors


def _only(requests, owner):
    """The one request of a host-wide owner ({} when it recorded none)."""
    return (requests.get(owner) or {}).get('') or {}


def desired_from_requests(requests):
    """The profile to audit, from what the modules were last asked to apply (the ledger's ``requests``:
    {owner: {instance: request}}), so that the audit follows exactly what site.yml (or an operator's own
    playbook) applied to this host. Returns (desired, notes)."""
    desired, notes = {}, []
    sysctl = _only(requests, 'sysctl_profile')
    if sysctl.get('profile'):
        desired['sysctl_profile'] = sysctl['profile']
    if sysctl.get('settings'):
        desired['sysctl'] = dict(sysctl['settings'])
    pages = _only(requests, 'hugepages')
    thp = dict((k, pages['thp_' + k]) for k in THP_SETTINGS if pages.get('thp_' + k))
    if thp:
        desired['thp'] = thp
    if pages.get('pools'):
        desired['hugepages'] = [dict((k, v) for k, v in pool.items() if k in POOL_KEYS and v is not None)
                                for pool in pages['pools']]
    if _only(requests, 'cpu_governor').get('governor'):
        desired['governor'] = _only(requests, 'cpu_governor')['governor']
    if 'memlock' in requests:
        desired['memlock'] = 'unlimited'
    if 'swap' in requests:
        desired['swap'] = dict((k, _only(requests, 'swap').get(k, v)) for k, v in SWAP_DEFAULTS.items())
    if _only(requests, 'io_scheduler').get('scheduler'):
        desired['io_scheduler'] = dict((k, _only(requests, 'io_scheduler').get(k)) for k in IO_SCHEDULER_KEYS)
    gpu = dict((k, v) for k, v in _only(requests, 'nvidia_gpu').items() if k in GPU_SETTINGS and v is not None)
    if gpu:
        desired['gpu'] = gpu
    units = sorted(requests.get('service_unit') or {})
    if units:
        desired['service'] = _service_request(requests, units[0])
        if len(units) > 1:
            notes.append('the audit checks one serving unit, %s; also recorded: %s' % (units[0], ', '.join(units[1:])))
    return desired, notes


def _service_request(requests, unit):
    service = {'unit': unit}
    if unit in (requests.get('numa_bind') or {}):
        service['cpus'] = FROM_UNIT
    allocator = (requests.get('allocator_preload') or {}).get(unit)
    if allocator is not None and allocator.get('allocator') != 'none':
        service['allocator_library'] = allocator.get('library') or FROM_UNIT
    return service


def _gpu_errors(gpu):
    """The GPU values as the nvidia_gpu module takes them: watts, max or default; a boolean; a compute mode."""
    errors = []
    power = gpu.get('power_limit')
    if power is not None and ('%s' % (power,)).strip().lower() not in ('max', 'default') and (
            isinstance(power, bool) or not _is_int(power) or int(power) <= 0):
        errors.append('desired.gpu.power_limit: %r must be a number of watts, max or default' % (power,))
    if gpu.get('persistence_mode') is not None:
        try:
            boolean(gpu['persistence_mode'], strict=True)
        except TypeError:
            errors.append('desired.gpu.persistence_mode: %r must be true or false' % (gpu['persistence_mode'],))
    if gpu.get('compute_mode') is not None and gpu['compute_mode'] not in COMPUTE_MODES:
        errors.append('desired.gpu.compute_mode: %r must be one of %s' % (gpu['compute_mode'], ', '.join(COMPUTE_MODES)))
    return errors


def _is_int(value):
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, str) and _sysctl.is_int(value.strip())


# -- sysctl ----------------------------------------------------------------------
def sysctl_requests(desired):
    """{key: _sysctl.Request}: the profile expanded, explicit settings on top."""
    requests = {}
    if desired.get('sysctl_profile'):
        requests.update(_sysctl.profile_requests(desired['sysctl_profile']))
    for key, value in (desired.get('sysctl') or {}).items():
        text, _err = _sysctl.parse_value(key, value)
        requests[key] = _sysctl.Request(key, text, _sysctl.SETTINGS_WHY, 'settings')
    return requests


def _sysctl_ok(req, value):
    value = _sysctl.normalize(value)
    if req.raise_only:
        return _sysctl.is_int(value) and req.target(value) == value
    return req.target(value) == value


def _boot_note(req, boot):
    """None when the next boot applies the wanted value, else what it applies instead."""
    if boot is None:
        return None
    value, path = boot.get(req.key, (None, None))
    if value is None:
        return ('nothing persists it (sysctl.d; tmpfiles.d for a debugfs knob): the kernel default comes back at '
                'the next boot')
    if _sysctl_ok(req, value):
        return None
    return 'at the next boot %s sets %s' % (path, value)


def audit_sysctl(requests, actual, boot=None):
    """``actual``: {key: (value or None, unavailable reason or location path)}; ``boot``: {key: (value, file)}
    from _sysctl.boot_values(), or None not to look at the persisted files."""
    out = []
    for key in sorted(requests):
        req = requests[key]
        value, where = actual.get(key, (None, 'not read'))
        if value is None:
            out.append(item('sysctl', key, req.value, None, UNAVAILABLE, where))
            continue
        value = _sysctl.normalize(value)
        if req.raise_only and not _sysctl.is_int(value):
            out.append(item('sysctl', key, req.value, value, DRIFT,
                            'raise-only value needs an integer, %s holds %r' % (where, value)))
            continue
        ok = _sysctl_ok(req, value)
        if req.raise_only:
            detail = 'raise-only: %s %s %d' % (value, '>=' if ok else '<', req.floor)
        else:
            detail = where
        at_boot = _boot_note(req, boot)
        if at_boot:
            detail = '%s; %s' % (detail, at_boot)
        out.append(item('sysctl', key, req.value, value, OK if ok and not at_boot else DRIFT, detail))
    return out


# -- THP and huge pages ---------------------------------------------------------------
def audit_thp(desired, actual, boot=None):
    """``actual``: {'enabled': word or None, 'defrag': word or None}; ``boot``: {name: (word or None, source)}
    from _hugepages.thp_boot(), or None not to look at what the next boot applies."""
    out = []
    for name in THP_SETTINGS:
        if name not in (desired or {}):
            continue
        want, have = desired[name], actual.get(name)
        if have is None:
            out.append(item('thp', name, want, None, UNAVAILABLE,
                            '/sys/kernel/mm/transparent_hugepage/%s is missing (kernel without THP)' % name))
            continue
        at_boot = None
        if boot is not None:
            value, source = boot.get(name, (None, None))
            if value is None:
                at_boot = ('no tmpfiles.d line or kernel parameter sets it: the kernel default comes back at the '
                           'next boot')
            elif value != want:
                at_boot = 'at the next boot %s sets %s' % (source, value)
        out.append(item('thp', name, want, have, OK if have == want and not at_boot else DRIFT, at_boot))
    return out


def pool_label(size, node):
    return '%s %s' % (size, 'total' if node is None else 'node%d' % int(node))


def audit_hugepages(pools, actual, pending=()):
    """``actual``: {(size, node or None): nr_hugepages or None}; ``pending``: the kernel parameters written for
    the next boot that the running kernel was not booted with (a boot pool that only a reboot brings)."""
    out = []
    waiting = [t for t in pending if t.split('=', 1)[0] in ('hugepages', 'hugepagesz', 'default_hugepagesz')]
    for pool in pools or []:
        node = None if pool.get('node') is None else int(pool['node'])
        want = int(pool['count'])
        have = actual.get((pool['size'], node))
        label = pool_label(pool['size'], node)
        if have is None:
            out.append(item('hugepages', label, want, None, UNAVAILABLE,
                            'no such pool on this host (page size or NUMA node missing)'))
        elif have == want:
            out.append(item('hugepages', label, want, have, OK))
        elif (pool['size'] == '1G' if pool.get('boot') is None else pool['boot']) and waiting:
            out.append(item('hugepages', label, want, have, PENDING,
                            'the kernel parameters %s are set for the next boot' % ' '.join(waiting)))
        else:
            out.append(item('hugepages', label, want, have, DRIFT,
                            '%d page(s) %s' % (abs(want - have), 'short' if have < want else 'too many')))
    return out


# -- CPU governor ----------------------------------------------------------------------
def audit_governor(desired, actual, at_boot=None):
    """``actual``: {cpu number: governor}; empty when the host has no cpufreq. ``at_boot``: None when the boot
    unit that sets the governor is in place as cpu_governor writes it and enabled, else why it is not (or leave
    it out not to look at the next boot)."""
    if not actual:
        return [item('governor', 'scaling_governor', desired, None, UNAVAILABLE,
                     'no cpufreq on this host (/sys/devices/system/cpu/cpu*/cpufreq is missing: a VM or a container)')]
    wrong = sorted(c for c, g in actual.items() if g != desired)
    values = sorted(set(g for g in actual.values() if g))
    have = values[0] if len(values) == 1 else values
    if wrong:
        return [item('governor', 'scaling_governor', desired, have, DRIFT,
                     'CPU(s) %s not on %s' % (_topology.format_cpulist(wrong), desired))]
    if at_boot:
        return [item('governor', 'scaling_governor', desired, have, DRIFT,
                     '%d CPU(s); at the next boot %s' % (len(actual), at_boot))]
    return [item('governor', 'scaling_governor', desired, have, OK, '%d CPU(s)' % len(actual))]


# -- memlock ---------------------------------------------------------------------------
def parse_limit(value):
    """A limit as an int of bytes, -1 for unlimited; None when it is not a limit."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return -1 if value < 0 else value
    text = ('%s' % (value,)).strip().lower()
    if text in UNLIMITED_WORDS:
        return -1
    if text.isdigit():
        return int(text)
    return None


def limit_ok(want, have):
    """True when limit ``have`` is at least ``want`` (both from parse_limit)."""
    if want is None or have is None:
        return False
    if have == -1:
        return True
    return want != -1 and have >= want


def show_limit(value):
    return 'unlimited' if value == -1 else value


def audit_memlock(desired, actual):
    """``actual``: {'services': {soft, hard, source} or None, 'logins': {soft, hard, source} or None,
    'services_reason': why services could not be read}.

    Services: systemd's ``DefaultLimitMEMLOCK`` (what every unit without its own
    ``LimitMEMLOCK=`` gets) on a host booted with systemd, else PID 1's own limit
    from /proc/1/limits (what an init other than systemd passes on).  Logins:
    pam_limits, the last ``*`` memlock line of limits.conf and limits.d (values in
    KiB there, compared in bytes here).  Both soft and hard limits must reach it.  ``next`` of a scope:
    {soft, hard, source} after the next boot (the unit's files, system.conf(.d)); a limit that is right now but
    not there is drift, naming the file.
    """
    want = parse_limit(desired)
    out = []
    for scope in ('services', 'logins'):
        got = actual.get(scope)
        if got is None:
            out.append(item('memlock', scope, show_limit(want), None, UNAVAILABLE, actual.get(scope + '_reason')))
            continue
        soft, hard = got.get('soft'), got.get('hard')
        have = show_limit(soft) if soft == hard else {'soft': show_limit(soft), 'hard': show_limit(hard)}
        ok = limit_ok(want, soft) and limit_ok(want, hard)
        detail = got.get('source')
        nxt = got.get('next')
        if ok and nxt and not (limit_ok(want, nxt.get('soft')) and limit_ok(want, nxt.get('hard'))):
            # right now, but not after the next boot (or the next start of the unit): a persisted file changed
            ok = False
            limit = show_limit(nxt.get('soft'))
            if nxt.get('soft') != nxt.get('hard'):
                limit = '%s:%s' % (limit, show_limit(nxt.get('hard')))
            detail = '%s; after the next boot: %s (%s)' % (detail, limit, nxt.get('source'))
        out.append(item('memlock', scope, show_limit(want), have, OK if ok else DRIFT, detail))
    return out


# -- swap ------------------------------------------------------------------------------
def swap_wanted(desired):
    """desired.swap with the swap module's defaults filled in."""
    wanted = dict(SWAP_DEFAULTS)
    wanted.update(desired or {})
    wanted['min_ram_gib'] = int(wanted['min_ram_gib'])
    return wanted


def audit_swap(desired, actual):
    """``actual``: {'swaps': /proc/swaps areas (_swap.active_swaps()), 'ram_gib': MemTotal in GiB or None,
    'fstab': the active swap lines of /etc/fstab or None when it cannot be read, 'zswap': True/False,
    None without zswap}.

    Swap is expected off as the swap module turns it off: no active area and no swap line left in
    /etc/fstab (it would come back at boot), and zswap off with ``disable_zswap``. A host with less RAM
    than ``min_ram_gib`` keeps its swap unless ``force`` (the base role leaves it on), so there swap
    as it is audits as ok, with the reason.
    """
    want = swap_wanted(desired)
    ram = actual.get('ram_gib')
    if not want['force'] and ram is None:
        return [item('swap', 'swap areas', 'none', None, UNAVAILABLE,
                     'MemTotal cannot be read, so whether this host should keep its swap cannot be told '
                     '(force turns swap off whatever the RAM)')]
    if not want['force'] and ram < want['min_ram_gib']:
        names = [s['name'] for s in actual.get('swaps') or []]
        return [item('swap', 'swap areas', 'left on', ', '.join(names) or 'off', OK,
                     '%.1f GiB of RAM, less than min_ram_gib=%d: swap is left as it is (force turns it off)'
                     % (ram, want['min_ram_gib']))]
    out = []
    swaps = actual.get('swaps') or []
    if swaps:
        out.append(item('swap', 'swap areas', 'none', ', '.join(s['name'] for s in swaps), DRIFT,
                        '%d active in /proc/swaps (%s KiB)'
                        % (len(swaps), ' + '.join(str(s.get('size_kib')) for s in swaps))))
    else:
        out.append(item('swap', 'swap areas', 'none', 'none', OK, '/proc/swaps'))
    lines = actual.get('fstab')
    if lines is None:
        out.append(item('swap', 'fstab', 'none', None, UNAVAILABLE, '/etc/fstab cannot be read'))
    elif lines:
        out.append(item('swap', 'fstab', 'none', lines, DRIFT,
                        '%d swap line(s) in /etc/fstab turn swap on at boot' % len(lines)))
    else:
        out.append(item('swap', 'fstab', 'none', 'none', OK, 'no active swap line in /etc/fstab'))
    if want['disable_zswap']:
        zswap = actual.get('zswap')
        if zswap is None:
            out.append(item('swap', 'zswap', 'off', 'off', OK, 'the kernel has no zswap'))
        else:
            out.append(item('swap', 'zswap', 'off', 'on' if zswap else 'off', DRIFT if zswap else OK,
                            '/sys/module/zswap/parameters/enabled'))
    return out


# -- I/O scheduler ---------------------------------------------------------------------
def io_scheduler_wanted(desired):
    """(scheduler, device globs) from ``io_scheduler: none`` or ``{scheduler, devices}``."""
    if isinstance(desired, dict):
        return desired['scheduler'], list(desired.get('devices') or DEFAULT_NVME)
    return desired, list(DEFAULT_NVME)


def audit_io_scheduler(desired, actual, at_boot=None):
    """``actual``: {device: selected scheduler or None}. ``at_boot``: None when the udev rule that selects the
    scheduler at boot is in place as io_scheduler writes it, else why it is not."""
    scheduler, globs = io_scheduler_wanted(desired)
    if not actual:
        return [item('io_scheduler', ' '.join(globs), scheduler, None, UNAVAILABLE,
                     'no block device matches %s' % ' '.join(globs))]
    out = []
    for dev in sorted(actual):
        have = actual[dev]
        if have is None:
            out.append(item('io_scheduler', dev, scheduler, None, UNAVAILABLE, 'no queue/scheduler'))
        elif have == scheduler and at_boot:
            out.append(item('io_scheduler', dev, scheduler, have, DRIFT, 'at the next boot %s' % at_boot))
        else:
            out.append(item('io_scheduler', dev, scheduler, have, OK if have == scheduler else DRIFT))
    return out


# -- GPU ---------------------------------------------------------------------------------
def _gpu_want(setting, want, gpu):
    """(desired value shown, comparable desired value) for one GPU."""
    if setting == 'power_limit':
        power = gpu.get('power_limit') or {}
        word = ('%s' % (want,)).strip().lower()
        if word in ('max', 'default'):
            return word, power.get(word)
        return want, _number(want)
    if setting == 'persistence_mode':
        return want, boolean(want, strict=False)
    return want, want


def _number(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def audit_gpu(desired, gpus, reason=None):
    """``gpus``: NVML facts per GPU (``_nvml.Gpu.facts()``), or None with ``reason`` when NVML is unusable."""
    out = []
    settings = [s for s in GPU_SETTINGS if s in (desired or {})]
    if gpus is None:
        for s in settings:
            out.append(item('gpu', s, desired[s], None, UNAVAILABLE, reason))
        return out
    if not gpus:
        for s in settings:
            out.append(item('gpu', s, desired[s], None, UNAVAILABLE, 'NVML lists no GPU'))
        return out
    for gpu in gpus:
        label = 'GPU %s' % gpu.get('index')
        for s in settings:
            shown, want = _gpu_want(s, desired[s], gpu)
            if s == 'power_limit':
                have = (gpu.get('power_limit') or {}).get('current')
                same = have is not None and want is not None and _number(have) == _number(want)
                detail = '%s: %s W is the %s limit' % (label, want, shown) if shown in ('max', 'default') else label
            else:
                have = gpu.get(s)
                same = have == want
                detail = label
            if have is None or want is None:
                out.append(item('gpu', '%s %s' % (label, s), shown, have, UNAVAILABLE,
                                '%s: not supported by this GPU or driver' % label))
            else:
                out.append(item('gpu', '%s %s' % (label, s), shown, have, OK if same else DRIFT, detail))
    return out


# -- service placement ---------------------------------------------------------------------
def unit_cpulist(text):
    """CPUAffinity= as ``systemctl show`` prints it (``0-15`` or, before systemd 245, ``0 1 2 ...``) as CPUs."""
    return _topology.parse_cpulist(','.join((text or '').split()))


def _service_cpus(unit, desired, actual, where):
    setting = '%s cpus' % unit
    text = actual.get('cpus_allowed')
    have_text = text.strip() if text is not None else None
    if desired == FROM_UNIT:
        configured = (actual.get('unit_cpus') or '').strip()
        if not configured:
            return item('service', setting, 'CPUAffinity= of %s' % unit, have_text, DRIFT,
                        "%s sets no CPUAffinity= (numa_bind's drop-in is missing, or systemd has not loaded it: "
                        'systemctl daemon-reload, then restart the unit)' % unit)
        try:
            want = unit_cpulist(configured)
        except ValueError:
            return item('service', setting, configured, have_text, UNAVAILABLE,
                        '%s: CPUAffinity=%s cannot be read as a CPU list' % (unit, configured))
        where = '%s; CPUAffinity= of %s' % (where, unit)
    else:
        want = _topology.parse_cpulist(str(desired))
    if text is None:
        return item('service', setting, _topology.format_cpulist(want), None, UNAVAILABLE,
                    '%s: /proc/%d/status has no Cpus_allowed_list' % (where, actual['pid']))
    try:
        have = _topology.parse_cpulist(text)
    except ValueError:
        have = None
    if have != want and desired == FROM_UNIT:
        where += ' (the process runs with another affinity: restart the unit, or something changed it)'
    return item('service', setting, _topology.format_cpulist(want), have_text, OK if have == want else DRIFT, where)


def _service_allocator(unit, desired, actual, where):
    setting = '%s allocator_library' % unit
    pid = actual['pid']
    if desired == FROM_UNIT:
        libs = actual.get('unit_preload') or []
        if not libs:
            return item('service', setting, 'LD_PRELOAD of %s' % unit, None, DRIFT,
                        "%s has no LD_PRELOAD in its environment (allocator_preload's drop-in is missing, or systemd "
                        'has not loaded it: systemctl daemon-reload, then restart the unit)' % unit)
        where = "%s; LD_PRELOAD of %s's environment" % (where, unit)
    else:
        libs = [desired]
    shown = ' '.join(libs)
    maps = actual.get('maps')
    if maps is None:
        return item('service', setting, shown, None, UNAVAILABLE,
                    "%s: /proc/%d/maps cannot be read (reading another user's maps needs CAP_SYS_PTRACE)"
                    % (where, pid))
    real = actual.get('libraries_real') or {}
    found, missing = [], []
    for lib in libs:
        hits = [p for p in maps if p == lib or (real.get(lib) and p == real[lib])]
        if hits:
            found.append(hits[0])
        else:
            missing.append(lib)
    if not missing:
        return item('service', setting, shown, ' '.join(found), OK, where)
    similar = []
    for lib in missing:
        base = lib.rsplit('/', 1)[-1].split('.so')[0]
        similar += [p for p in maps if p.rsplit('/', 1)[-1].startswith(base) and p not in similar]
    note = ' (maps %s)' % ', '.join(sorted(similar)) if similar else ''
    return item('service', setting, shown, ' '.join(found + sorted(similar)) or None, DRIFT,
                '%s does not map %s%s' % (where, ' '.join(missing), note))


def audit_service(desired, actual):
    """``actual``: {'pid': int or None, 'reason': why there is no process, 'state': the unit's ActiveState
    (None without systemd), 'cpus_allowed': cpulist text or None, 'maps': [mapped paths] or None,
    'libraries_real': {library: its resolved path}, and where ``desired`` asks for FROM_UNIT:
    'unit_cpus' (CPUAffinity= of the unit) and 'unit_preload' (the LD_PRELOAD libraries of its environment)}.

    ``cpus`` and ``allocator_library`` take a value, or FROM_UNIT: what the unit asks for (the drop-ins of
    numa_bind and allocator_preload), so the audit tells whether the running process really has it.
    """
    unit = desired['unit']
    checks = [k for k in ('cpus', 'allocator_library') if desired.get(k)]
    pid = actual.get('pid')
    if not pid:
        reason = actual.get('reason') or '%s has no running main process' % unit
        out = []
        if actual.get('state') is None:   # no systemd to ask: nothing can be told
            out.append(item('service', '%s running' % unit, 'running', None, UNAVAILABLE, reason))
        else:
            out.append(item('service', '%s running' % unit, 'running', actual['state'], DRIFT, reason))
        return out + [item('service', '%s %s' % (unit, k), desired[k], None, UNAVAILABLE, reason) for k in checks]
    where = '%s MainPID %d' % (unit, pid)
    out = [item('service', '%s running' % unit, 'running', 'running', OK, where)]
    if 'cpus' in checks:
        out.append(_service_cpus(unit, desired['cpus'], actual, where))
    if 'allocator_library' in checks:
        out.append(_service_allocator(unit, desired['allocator_library'], actual, where))
    return out
