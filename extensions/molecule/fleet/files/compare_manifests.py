# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Compare two manifests (manifest.py output); print every difference and exit 1 if there is any."""

from __future__ import absolute_import, division, print_function

import json
import re
import sys

# useradd/userdel keep a backup of the previous passwd/group/shadow (the files themselves are
# compared, and the service user's home must be gone: revert.yml removes what the collection
# created); the fake driver's state file is rewritten by every NVML set call, so the GPU settings
# are compared by value in verify.yml instead.
EXEMPT = re.compile(r'^(/etc/(passwd|group|shadow|gshadow)-|/var/lib/fake-nvml/state\.json)\Z')


def main():
    with open(sys.argv[1]) as f:
        before = json.load(f)
    with open(sys.argv[2]) as f:
        after = json.load(f)
    problems = []
    for path in sorted(set(before) | set(after)):
        if EXEMPT.match(path):
            continue
        if path not in after:
            problems.append('removed:     %s' % path)
        elif path not in before:
            problems.append('left behind: %s' % path)
        elif before[path] != after[path]:
            problems.append('changed:     %s (%s -> %s)' % (path, before[path][:16], after[path][:16]))
    for line in problems:
        print(line)
    print('%d paths compared, %d differ' % (len(set(before) | set(after)), len(problems)))
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
