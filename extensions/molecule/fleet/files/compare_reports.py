# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Compare the change reports of a --check run and the real run (change_report callback JSON): the same hosts,
per host the same tasks changed, no failure, and something changed at all. Prints every difference; exit 1 if any."""

from __future__ import absolute_import, division, print_function

import json
import sys


def main():
    with open(sys.argv[1]) as f:
        check = json.load(f)
    with open(sys.argv[2]) as f:
        run = json.load(f)
    problems = []
    if sorted(check) != sorted(run):
        problems.append('hosts differ: predicted %s, ran %s' % (sorted(check), sorted(run)))
    for host in sorted(set(check) & set(run)):
        predicted, changed = sorted(check[host]['changed']), sorted(run[host]['changed'])
        for task in sorted(set(changed) - set(predicted)):
            problems.append('%s: changed but not predicted: %s' % (host, task))
        for task in sorted(set(predicted) - set(changed)):
            problems.append('%s: predicted but did not change: %s' % (host, task))
        for failure in check[host]['failed'] + run[host]['failed']:
            problems.append('%s: failed: %s' % (host, failure))
    if not any(entry['changed'] for entry in run.values()):
        problems.append('the real run changed nothing: the comparison proves nothing')
    for line in problems:
        print(line)
    print('%d host(s) compared, %d problem(s)' % (len(run), len(problems)))
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
