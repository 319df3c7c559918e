# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Print {path: sha256 of the content, or 'link:TARGET', or 'dir'} for every entry below the given trees."""

from __future__ import absolute_import, division, print_function

import hashlib
import json
import os
import sys

# Volatile state of the system itself, not of anything the collection writes.
SKIP = ('/var/lib/systemd', '/var/lib/dpkg', '/var/lib/apt', '/var/lib/dbus', '/var/lib/private',
        '/var/lib/python', '/var/lib/ucf', '/var/lib/pam')


def main():
    out = {}
    for top in sys.argv[1:]:
        for dirpath, dirs, files in os.walk(top):
            if dirpath.startswith(SKIP):
                dirs[:] = []
                continue
            out[dirpath] = 'dir'
            for name in dirs + files:
                path = os.path.join(dirpath, name)
                if os.path.islink(path):
                    out[path] = 'link:' + os.readlink(path)
                elif os.path.isfile(path):
                    with open(path, 'rb') as f:
                        out[path] = hashlib.sha256(f.read()).hexdigest()
    print(json.dumps(out, sort_keys=True))


if __name__ == '__main__':
    main()
