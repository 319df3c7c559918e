# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A fake ``npu-smi`` for tests: an Atlas 800T A2 with 8 x Ascend 910B on 2 NUMA nodes.

Installed as ``/usr/local/bin/npu-smi`` (run with python3). It answers what the
collection reads:

* ``npu-smi info``                      the overview table
* ``npu-smi info -l``                   the NPU list (NPU ID, Product Name, Chip Count ...)
* ``npu-smi info -t health -i N [-c 0]`` the health of NPU N
* ``npu-smi fake-tree SYSFS DEVFS``     (test helper, not a real command) writes the matching
  fake PCI tree (vendor 0x19e5, device 0xd802, class 0x120000, numa_node) under SYSFS and the
  ``davinciN`` / ``davinci_manager`` / ``devmm_svm`` / ``hisi_hdc`` files under DEVFS

Unhealthy chips: NPU ids in the environment variable ``FAKE_NPU_SMI_UNHEALTHY`` or, when it is
not set, in the state file ``/etc/fake-npu-smi/unhealthy`` (ids separated by commas or white
space; ``FAKE_NPU_SMI_STATE`` names another file). They report ``Critical``.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import re
import sys

VERSION = '23.0.6'
STATE_FILE = '/etc/fake-npu-smi/unhealthy'
#: (NPU id, PCI bus id, NUMA node): 4 NPUs per socket.
NPUS = [(i, '0000:%02x:00.0' % bus, i // 4)
        for i, bus in enumerate((0x01, 0x02, 0x03, 0x04, 0x81, 0x82, 0x83, 0x84))]
NAME = '910B3'
PRODUCT = 'Ascend 910B3'


def unhealthy():
    text = os.environ.get('FAKE_NPU_SMI_UNHEALTHY')
    if text is None:
        try:
            with open(os.environ.get('FAKE_NPU_SMI_STATE', STATE_FILE)) as f:
                text = f.read()
        except (IOError, OSError):
            text = ''
    return set(int(t) for t in re.split(r'[\s,]+', text) if t.isdigit())


def health(npu_id):
    return 'Critical' if npu_id in unhealthy() else 'OK'


def table():
    line = '+---------------------------+---------------+----------------------------------------------------+'
    out = ['+' + '-' * 96 + '+',
           '| npu-smi %-24s Version: %-53s|' % (VERSION, VERSION),
           line,
           '| NPU   Name                | Health        | Power(W)    Temp(C)           Hugepages-Usage(page)|',
           '| Chip                      | Bus-Id        | AICore(%)   Memory-Usage(MB)  HBM-Usage(MB)        |',
           line.replace('-', '=')]
    for npu_id, bus, _node in NPUS:
        out.append('| %-5d %-19s | %-13s | %-11s %-17s %-21s|' % (npu_id, NAME, health(npu_id), '93.4', '35',
                                                                  '0    / 0'))
        out.append('| %-25d | %-13s | %-11s %-17s %-21s|' % (0, bus, '0', '0    / 0', '3161 / 65536'))
        out.append(line.replace('-', '='))
    return '\n'.join(out) + '\n'


def listing():
    out = ['        Total Count                    : %d' % len(NPUS), '']
    for npu_id, _bus, _node in NPUS:
        out += ['        NPU ID                         : %d' % npu_id,
                '        Product Name                   : %s' % PRODUCT,
                '        Serial Number                  : 033KXX10N70001%02d' % npu_id,
                '        Chip Count                     : 1',
                '']
    return '\n'.join(out) + '\n'


def health_report(npu_id):
    state = health(npu_id)
    code = 'NA' if state == 'OK' else '0x80E01801'
    info = 'NA' if state == 'OK' else 'HBM multi-bit ECC error'
    return ('        Health Status                  : %s\n'
            '        Error Code                     : %s\n'
            '        Error Information              : %s\n' % (state, code, info))


def fake_tree(sysfs, devfs):
    def write(path, text):
        parent = os.path.dirname(path)
        if not os.path.isdir(parent):
            os.makedirs(parent)
        with open(path, 'w') as f:
            f.write(text)
    for npu_id, bus, node in NPUS:
        base = os.path.join(sysfs, 'bus/pci/devices', bus)
        for name, value in (('vendor', '0x19e5'), ('device', '0xd802'), ('class', '0x120000'),
                            ('subsystem_device', '0x3005'), ('numa_node', str(node))):
            write(os.path.join(base, name), value + '\n')
        write(os.path.join(devfs, 'davinci%d' % npu_id), '')
    for name in ('davinci_manager', 'devmm_svm', 'hisi_hdc'):
        write(os.path.join(devfs, name), '')


def usage(msg):
    sys.stderr.write('Error: %s\nUsage: npu-smi info [-l | -t health -i ID [-c CHIP]]\n' % msg)
    return 1


def main(argv):
    args = argv[1:]
    if args[:1] == ['fake-tree'] and len(args) == 3:
        fake_tree(args[1], args[2])
        return 0
    if args[:1] != ['info']:
        return usage('unsupported command %s' % ' '.join(args))
    args = args[1:]
    if not args:
        sys.stdout.write(table())
        return 0
    if args == ['-l']:
        sys.stdout.write(listing())
        return 0
    opts = dict(zip(args[0::2], args[1::2]))
    if len(args) % 2 or opts.get('-t') != 'health' or '-i' not in opts or set(opts) - {'-t', '-i', '-c'}:
        return usage('unsupported arguments %s' % ' '.join(args))
    if not opts['-i'].isdigit() or int(opts['-i']) not in [n[0] for n in NPUS]:
        sys.stdout.write('The device id %s does not exist.\n' % opts['-i'])
        return 2
    if opts.get('-c', '0') != '0':
        sys.stdout.write('The chip id %s does not exist.\n' % opts['-c'])
        return 2
    sys.stdout.write(health_report(int(opts['-i'])))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
