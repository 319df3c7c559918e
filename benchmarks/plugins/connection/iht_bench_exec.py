# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark-only connection: one ``podman exec -i`` per command, with pipelining.

The fleet benchmark (benchmarks/run.sh) uses it for both sides, so that a task costs what
it costs over SSH with pipelining on a real fleet: one round trip per module, the module
fed on stdin. containers.podman.podman cannot pipeline and spends several podman calls
per task (mount, mkdir, copy, chmod, run, rm), which would hide the difference between
one module call and many behind connection overhead.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: iht_bench_exec
short_description: Run commands in a local podman container with one podman exec each (pipelining)
description:
  - Benchmark-only connection of inference.host_tuning (not shipped in the collection).
  - Every command is one C(podman exec -i CONTAINER /bin/sh -c CMD); modules are pipelined on stdin.
    Files are copied with C(cat) through C(podman exec -i).
author:
  - inference.host_tuning contributors
options:
  remote_addr:
    description: The container name.
    default: inventory_hostname
    vars:
      - name: inventory_hostname
      - name: ansible_host
  podman_executable:
    description: The podman program.
    default: podman
    vars:
      - name: ansible_podman_executable
    env:
      - name: ANSIBLE_PODMAN_EXECUTABLE
  pipelining:
    description: Pipeline modules on stdin.
    type: boolean
    default: true
    env:
      - name: ANSIBLE_PIPELINING
    vars:
      - name: ansible_pipelining
'''

import os
import shlex
import subprocess

from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_bytes
from ansible.plugins.connection import ConnectionBase


class Connection(ConnectionBase):
    transport = 'iht_bench_exec'
    has_pipelining = True

    def _connect(self):
        self._connected = True
        return self

    def _run(self, argv, in_data=None):
        # With IHT_BENCH_COUNT_FILE set (benchmarks/run.sh), one line per round trip to the host
        # goes to <that file>.exec: the remote commands a task really costs.
        count = os.environ.get('IHT_BENCH_COUNT_FILE')
        if count:
            with open(count + '.exec', 'a') as f:
                f.write('%s %s\n' % (self.get_option('remote_addr'), argv[-1].split()[0] if argv else ''))
        cmd = [self.get_option('podman_executable'), 'exec', '-i', self.get_option('remote_addr')] + argv
        proc = subprocess.Popen([to_bytes(a) for a in cmd], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out, err = proc.communicate(input=in_data)
        return proc.returncode, out, err

    def exec_command(self, cmd, in_data=None, sudoable=True):
        super(Connection, self).exec_command(cmd, in_data=in_data, sudoable=sudoable)
        return self._run(['/bin/sh', '-c', cmd], in_data)

    def put_file(self, in_path, out_path):
        super(Connection, self).put_file(in_path, out_path)
        with open(to_bytes(in_path), 'rb') as f:
            data = f.read()
        rc, out, err = self._run(['/bin/sh', '-c', 'cat > %s' % shlex.quote(out_path)], data)
        if rc != 0:
            raise AnsibleError('copying %s to %s failed: %s' % (in_path, out_path, err))

    def fetch_file(self, in_path, out_path):
        super(Connection, self).fetch_file(in_path, out_path)
        rc, out, err = self._run(['cat', in_path])
        if rc != 0:
            raise AnsibleError('fetching %s failed: %s' % (in_path, err))
        with open(to_bytes(out_path), 'wb') as f:
            f.write(out)

    def close(self):
        self._connected = False
