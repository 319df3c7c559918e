# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark stand-in for the driver's nvidia-smi on fake-NVIDIA containers.

Installed as /usr/bin/nvidia-smi in localhost/iht-bench-fleet (benchmarks/fleet/Containerfile); talks to
the fake libnvidia-ml.so.1 through pynvml. Only what the baseline playbook's guide-style tasks use:
  nvidia-smi -pm 1|0 [-i N]
  nvidia-smi -pl WATTS [-i N]
  nvidia-smi --query-gpu=index,persistence_mode,power.limit,power.max_limit --format=csv,noheader,nounits
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import sys

import pynvml


def main(argv):
    args = {}
    it = iter(argv)
    for a in it:
        if a.startswith('--query-gpu='):
            args['query'] = a.split('=', 1)[1].split(',')
        elif a.startswith('--format='):
            pass
        elif a in ('-pm', '-pl', '-i'):
            args[a] = next(it)
        else:
            sys.stderr.write('nvidia-smi (benchmark stand-in): unsupported argument %s\n' % a)
            return 2
    pynvml.nvmlInit()
    try:
        count = pynvml.nvmlDeviceGetCount()
        indexes = [int(args['-i'])] if '-i' in args else list(range(count))
        for i in indexes:
            h = pynvml.nvmlDeviceGetHandleByIndex(i)
            if '-pm' in args:
                pynvml.nvmlDeviceSetPersistenceMode(h, int(args['-pm']))
                print('Persistence mode set to %s for GPU %d.' % ('Enabled' if args['-pm'] == '1' else 'Disabled', i))
            if '-pl' in args:
                pynvml.nvmlDeviceSetPowerManagementLimit(h, int(float(args['-pl']) * 1000))
                print('Power limit for GPU %d was set to %.2f W.' % (i, float(args['-pl'])))
            if 'query' in args:
                fields = {
                    'index': str(i),
                    'persistence_mode': 'Enabled' if pynvml.nvmlDeviceGetPersistenceMode(h) else 'Disabled',
                    'power.limit': '%.2f' % (pynvml.nvmlDeviceGetPowerManagementLimit(h) / 1000.0),
                    'power.max_limit': '%.2f' % (pynvml.nvmlDeviceGetPowerManagementLimitConstraints(h)[1] / 1000.0),
                    'power.default_limit': '%.2f' % (pynvml.nvmlDeviceGetPowerManagementDefaultLimit(h) / 1000.0),
                }
                print(', '.join(fields[q] for q in args['query']))
    finally:
        pynvml.nvmlShutdown()
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
