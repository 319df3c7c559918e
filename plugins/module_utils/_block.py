# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Block device surface: /sys/block queues and udev rules for them."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import fnmatch
import re

from ansible_collections.inference.host_tuning.plugins.module_utils import _files
from ansible_collections.inference.host_tuning.plugins.module_utils import _formats
from ansible_collections.inference.host_tuning.plugins.module_utils import _host

BLOCK_DIR = '/sys/block'
SCHEDULERS = ('none', 'mq-deadline', 'kyber', 'bfq')

#: Kernel-name globs: the characters udev's KERNEL== and fnmatch agree on.
#: Quotes, "|", "/", "," and white space would change the rule's meaning.
GLOB_RE = re.compile(r'[A-Za-z0-9_.:*?!\[\]-]+\Z')


def glob_error(glob):
    """A message for a device glob that cannot go into a udev rule, or None."""
    if GLOB_RE.match(glob or ''):
        return None
    return ('device glob %r is not a kernel-name glob: use letters, digits, "_.:-" and the wildcards '
            '"*", "?", "[...]" (for example nvme*n* or sd[a-d]).' % (glob,))


def scheduler_path(dev):
    return '%s/%s/queue/scheduler' % (BLOCK_DIR, dev)


def is_partition(dev):
    return _host.exists('%s/%s/partition' % (BLOCK_DIR, dev))


def matching_devices(globs):
    """Whole disks in /sys/block whose kernel name matches one of ``globs``."""
    return [dev for dev in _host.listdir(BLOCK_DIR)
            if any(fnmatch.fnmatchcase(dev, g) for g in globs) and not is_partition(dev)]


def offered_schedulers(dev):
    """The schedulers a device's queue offers (brackets of the selected one removed)."""
    text = _host.read_value(scheduler_path(dev))
    if text is None:
        return None
    return [w.strip('[]') for w in text.split()]


#: io_scheduler's udev rule (read by the audit too).
RULE_PATH = '/etc/udev/rules.d/60-inference-io-scheduler.rules'


def render_scheduler_rule(owner, scheduler, globs):
    """udev rules that select ``scheduler`` on whole disks whose kernel name matches ``globs``.

    udev matches KERNEL== with fnmatch(3) like the module does in /sys/block; the
    ``ENV{DEVTYPE}=="disk"`` match keeps partitions (which have no queue) out.
    """
    lines = _formats.comment_lines(_files.header(owner))
    for glob in globs:
        if glob_error(glob):
            raise _formats.FormatError('devices', glob_error(glob))
        lines.append(_formats.udev_rule([('ACTION', '==', 'add|change'), ('SUBSYSTEM', '==', 'block'),
                                         ('ENV{DEVTYPE}', '==', 'disk'), ('KERNEL', '==', glob),
                                         ('ATTR{queue/scheduler}', '=', scheduler)], 'devices'))
    return '\n'.join(lines) + '\n'


def reload_udev_rules(module):
    """``udevadm control --reload-rules``; (ran, error message or None)."""
    udevadm = module.get_bin_path('udevadm')
    if udevadm is None:
        return False, None
    rc, out, err = module.run_command([udevadm, 'control', '--reload-rules'])
    if rc != 0:
        return True, 'udevadm control --reload-rules failed (rc=%d): %s' % (rc, (err or out).strip())
    return True, None
