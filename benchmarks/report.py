# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Summarise a benchmarks/run.sh results folder (runs.tsv) as Markdown.

Usage: report.py RESULTS_DIR --hosts N --runs N --forks N --site PLAYBOOK [--doc docs/performance.md]
Prints the tables; with --doc, replaces what lies between the markers
``<!-- bench:begin -->`` and ``<!-- bench:end -->`` in that file (the rest, the analysis, is kept).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import argparse
import csv
import json
import os
import platform
import re
import statistics
import subprocess

BEGIN = '<!-- bench:begin -->'
END = '<!-- bench:end -->'


def sh(argv):
    try:
        return subprocess.check_output(argv, stderr=subprocess.STDOUT).decode().strip()
    except (OSError, subprocess.CalledProcessError):
        return 'unknown'


def load(path):
    with open(path) as f:
        return list(csv.DictReader(f, delimiter='\t'))


def cell(rows):
    """median (min-max) of the seconds of rows, or '-'"""
    if not rows:
        return '-', None
    secs = [float(r['seconds']) for r in rows]
    med = statistics.median(secs)
    failed = sum(1 for r in rows if r['rc'] != '0')
    text = '%.1f s (%.1f-%.1f)' % (med, min(secs), max(secs))
    if failed:
        text += ' **%d failed**' % failed
    return text, med


def ratio(a, b):
    return '%.2f×' % (a / b) if a and b else '-'


def above_floor_ratio(a, b):
    """a / b for two times above the one-task floor; a time within 0.1 s of the floor (or below it: the floor's
    own noise) gives no ratio, it is "at the floor"."""
    return ratio(a, b) if b > 0.1 else 'at the floor'


def task_seconds(out, row):
    """Sum of the task times ansible.posix.profile_tasks printed for this run (no start-up, no fact cache)"""
    path = os.path.join(out, '%s-%s-%s-%s.log' % (row['part'], row['side'], row['phase'], row['run']))
    total, on = 0.0, False
    with open(path) as f:
        for line in f:
            if line.startswith('TASKS RECAP'):
                on = True
            m = re.search(r' -+ ([0-9.]+)s$', line.rstrip()) if on else None
            if m:
                total += float(m.group(1))
    return total


def pick(rows, part, side, phase):
    return [r for r in rows if r['part'] == part and r['side'] == side and r['phase'] == phase]


def collection_version(repo):
    try:
        with open(os.path.join(repo, 'galaxy.yml')) as f:
            m = re.search(r'^version:\s*(\S+)', f.read(), re.M)
            return m.group(1) if m else 'unknown'
    except OSError:
        return 'unknown'


def posix_version():
    for base in os.environ.get('ANSIBLE_COLLECTIONS_PATH', '').split(':'):
        path = os.path.join(base, 'ansible_collections/ansible/posix/MANIFEST.json')
        if os.path.exists(path):
            with open(path) as f:
                return json.load(f)['collection_info']['version']
    return 'unknown'


def mem_gib():
    with open('/proc/meminfo') as f:
        kb = int(f.readline().split()[1])
    return '%.1f GiB' % (kb / 1048576.0)


def render(out, rows, args):
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    lines = []
    add = lines.append
    started = open(os.path.join(out, 'started')).read().strip() if os.path.exists(os.path.join(out, 'started')) else '?'
    load0 = open(os.path.join(out, 'loadavg.start')).read().strip() if os.path.exists(os.path.join(out, 'loadavg.start')) else '?'
    with open('/proc/loadavg') as f:
        load1 = ' '.join(f.read().split()[:3])
    core = sh(['ansible', '--version']).splitlines()[0] if sh(['ansible', '--version']) != 'unknown' else 'unknown'
    add('Measured %s on %s: %s CPUs (`nproc`), %s RAM, kernel %s; load average %s at the start, %s at the end.'
        % (started, platform.node() or 'this machine', os.cpu_count(), mem_gib(), platform.release(), load0, load1))
    add('')
    add('Versions: %s, Python %s, %s, inference.host_tuning %s, ansible.posix %s.'
        % (core, platform.python_version(), sh(['podman', '--version']), collection_version(repo),
           posix_version()))
    add('')
    add('Reproduce: `BENCH_HOSTS=%s BENCH_RUNS=%s BENCH_FORKS=%s make bench` (or `bash benchmarks/run.sh`). '
        'Fleet: %s fake-NVIDIA systemd containers, %s forks, connection `iht_bench_exec` (one `podman exec` per '
        'command, pipelining) for both sides; collection side `%s`, baseline `benchmarks/baseline/site.yml`. '
        'Cells: median of %s run(s) (min-max). Raw rows: `benchmarks/results/%s/runs.tsv` on the machine that ran it (results are not committed).'
        % (args.hosts, args.runs, args.forks, args.hosts, args.forks, args.site, args.runs, os.path.basename(out)))
    add('')
    med = {}

    fleet = [r for r in rows if r['part'] == 'fleet']
    if fleet:
        add('### Fleet converge (%s hosts)' % args.hosts)
        add('')
        add('| side | first converge | idempotent converge | changed (idempotent, all hosts) | tasks/host (first / idempotent) '
            '| module invocations/host (first / idempotent) |')
        add('| --- | --- | --- | --- | --- | --- |')
        for side, label in (('collection', 'collection (`%s`)' % args.site), ('baseline', 'baseline (guide style)')):
            first, idem = pick(rows, 'fleet', side, 'first'), pick(rows, 'fleet', side, 'idempotent')
            (ft, fm), (it, im) = cell(first), cell(idem)
            med[(side, 'first')], med[(side, 'idempotent')] = fm, im
            changed = ', '.join(r['changed'] for r in idem) or '-'
            tasks = '%s / %s' % (first[0]['tasks'] if first else '-', idem[0]['tasks'] if idem else '-')
            inv = '%s / %s' % ('%s (%s remote)' % (first[0]['invocations'], first[0]['remote_invocations']) if first else '-',
                               '%s (%s remote)' % (idem[0]['invocations'], idem[0]['remote_invocations']) if idem else '-')
            add('| %s | %s | %s | %s | %s | %s |' % (label, ft, it, changed, tasks, inv))
        add('')
        add('Speed-up of the collection: first converge %s, idempotent %s (baseline time / collection time).'
            % (ratio(med[('baseline', 'first')], med[('collection', 'first')]),
               ratio(med[('baseline', 'idempotent')], med[('collection', 'idempotent')])))
        add('')

    audit = [r for r in rows if r['part'] == 'audit' and r['side'] != 'prepare']
    if audit:
        add('### Fleet audit (%s hosts)' % args.hosts)
        add('')
        add('| what | wall time | ÷ ping |')
        add('| --- | --- | --- |')
        p_text, p_med = cell(pick(rows, 'audit', 'ping', 'adhoc'))
        med['ping'] = p_med
        add('| `ansible all -m ansible.builtin.ping` | %s | 1.00× |' % p_text)
        for side, phase, label in (('host_info', 'adhoc', '`ansible all -m inference.host_tuning.inference_host_info -a {desired: ...}`'),
                                   ('audit_playbook', 'playbook', '`ansible-playbook playbooks/audit.yml`')):
            t, m = cell(pick(rows, 'audit', side, phase))
            med[side] = m
            if m is not None:
                add('| %s | %s | %s |' % (label, t, ratio(m, p_med)))
        add('')

    if [r for r in rows if r['part'] == 'sysctl']:
        add('### sysctl: 12 keys on one host')
        add('')
        add('| side | first | idempotent | module invocations |')
        add('| --- | --- | --- | --- |')
        for side, label in (('profile', '`sysctl_profile` (one call: file + runtime tried)'),
                            ('per_key', '12 × `ansible.posix.sysctl` (file only: sysctl_set/reload false)')):
            first, idem = pick(rows, 'sysctl', side, 'first'), pick(rows, 'sysctl', side, 'idempotent')
            (ft, fm), (it, im) = cell(first), cell(idem)
            med[('sysctl', side, 'first')], med[('sysctl', side, 'idempotent')] = fm, im
            add('| %s | %s | %s | %s |' % (label, ft, it, first[0]['invocations'] if first else '-'))
        add('')
        tt = {}
        for side in ('profile', 'per_key'):
            for phase in ('first', 'idempotent'):
                vals = [task_seconds(out, r) for r in pick(rows, 'sysctl', side, phase)]
                tt[(side, phase)] = statistics.median(vals) if vals else None
        med['sysctl_task'] = tt
        add('Speed-up of sysctl_profile, wall time of ansible-playbook: first %s, idempotent %s. Time in the tasks alone '
            '(profile_tasks, without the ansible-playbook start-up both sides pay once): sysctl_profile %.1f s / %.1f s, '
            'per-key %.1f s / %.1f s, speed-up first %s, idempotent %s.'
            % (ratio(med[('sysctl', 'per_key', 'first')], med[('sysctl', 'profile', 'first')]),
               ratio(med[('sysctl', 'per_key', 'idempotent')], med[('sysctl', 'profile', 'idempotent')]),
               tt[('profile', 'first')] or 0, tt[('profile', 'idempotent')] or 0,
               tt[('per_key', 'first')] or 0, tt[('per_key', 'idempotent')] or 0,
               ratio(tt[('per_key', 'first')], tt[('profile', 'first')]),
               ratio(tt[('per_key', 'idempotent')], tt[('profile', 'idempotent')])))
        add('')
        f_text, f_med = cell(pick(rows, 'sysctl', 'floor', 'playbook'))
        med['sysctl_floor'] = f_med
        if f_med:
            add('The floor - a playbook of one `ansible.builtin.ping` task on the same host and connection - takes %s: '
                'no one-task implementation can go below it, so the best wall-time speed-up any single call could show '
                'against the per-key side is %s (first) / %s (idempotent). Above that floor, sysctl_profile costs '
                '%.2f s / %.2f s and the per-key tasks %.2f s / %.2f s (%s / %s).'
                % (f_text, ratio(med[('sysctl', 'per_key', 'first')], f_med),
                   ratio(med[('sysctl', 'per_key', 'idempotent')], f_med),
                   (med[('sysctl', 'profile', 'first')] or 0) - f_med,
                   (med[('sysctl', 'profile', 'idempotent')] or 0) - f_med,
                   (med[('sysctl', 'per_key', 'first')] or 0) - f_med,
                   (med[('sysctl', 'per_key', 'idempotent')] or 0) - f_med,
                   above_floor_ratio((med[('sysctl', 'per_key', 'first')] or 0) - f_med,
                                     (med[('sysctl', 'profile', 'first')] or 0) - f_med),
                   above_floor_ratio((med[('sysctl', 'per_key', 'idempotent')] or 0) - f_med,
                                     (med[('sysctl', 'profile', 'idempotent')] or 0) - f_med)))
            add('')

    add('### Targets')
    add('')
    add('| target | measured | met |')
    add('| --- | --- | --- |')

    def target(name, value, goal, ok):
        add('| %s | %s | %s |' % (name, value, '-' if ok is None else ('yes' if ok else '**no**')))

    def speedup(a, b):
        return (a / b) if a and b else None
    s = speedup(med.get(('baseline', 'idempotent')), med.get(('collection', 'idempotent')))
    idem_rows = pick(rows, 'fleet', 'collection', 'idempotent')
    zero = all(r['changed'] == '0' for r in idem_rows) if idem_rows else None
    target('idempotent site.yml ≥ 4× faster than the baseline, changed=0',
           '%s, changed=0: %s' % ('%.2f×' % s if s else '-', {True: 'yes', False: 'no', None: '-'}[zero]), 4,
           None if s is None else (s >= 4 and bool(zero)))
    s = speedup(med.get(('baseline', 'first')), med.get(('collection', 'first')))
    target('first converge ≥ 3× faster', '%.2f×' % s if s else '-', 3, None if s is None else s >= 3)
    s = speedup(med.get(('sysctl', 'per_key', 'idempotent')), med.get(('sysctl', 'profile', 'idempotent')))
    s1 = speedup(med.get(('sysctl', 'per_key', 'first')), med.get(('sysctl', 'profile', 'first')))
    tt = med.get('sysctl_task', {})
    t1 = speedup(tt.get(('per_key', 'first')), tt.get(('profile', 'first')))
    ti = speedup(tt.get(('per_key', 'idempotent')), tt.get(('profile', 'idempotent')))
    # Judged on the time of the tasks (what the 12 per-key tasks cost against the one call), as the
    # start-up of ansible-playbook is the same for both and alone exceeds 1/6 of the per-key wall time
    # (see the floor above); the wall-time ratio is reported beside it.
    ceiling = speedup(med.get(('sysctl', 'per_key', 'idempotent')), med.get('sysctl_floor'))
    target('sysctl_profile ≥ 6× faster than 12 per-key tasks (task time)',
           'task time: first %s, idempotent %s; wall: first %s, idempotent %s' % tuple(
               '%.2f×' % x if x else '-' for x in (t1, ti, s1, s))
           + (' (the one-task floor allows at most %.2f× in wall time)' % ceiling if ceiling else ''), 6,
           None if ti is None else (ti >= 6 and (t1 or 0) >= 6))
    for side, label in (('audit_playbook', 'audit.yml'), ('host_info', 'one inference_host_info call')):
        r = speedup(med.get(side), med.get('ping'))
        if [x for x in pick(rows, 'audit', side, 'playbook' if side == 'audit_playbook' else 'adhoc') if x['rc'] != '0']:
            target('fleet audit ≤ 1.5× a bare ping (%s)' % label, 'not measured: the run failed (see its log)', 1.5, None)
        elif r is not None:
            target('fleet audit ≤ 1.5× a bare ping (%s)' % label, '%.2f×' % r, 1.5, r <= 1.5)
    first = pick(rows, 'fleet', 'collection', 'first')
    if first:
        target('full NVIDIA host converge in ≤ 20 tasks per host',
               '%s tasks/host that ran (%s module invocations, %s of them on the host)'
               % (first[0]['tasks'], first[0]['invocations'], first[0]['remote_invocations']), 20,
               float(first[0]['tasks']) <= 20)
    add('')
    return '\n'.join(lines)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('out')
    p.add_argument('--hosts', required=True)
    p.add_argument('--runs', required=True)
    p.add_argument('--forks', required=True)
    p.add_argument('--site', required=True)
    p.add_argument('--doc')
    args = p.parse_args()
    text = render(args.out, load(os.path.join(args.out, 'runs.tsv')), args)
    with open(os.path.join(args.out, 'summary.md'), 'w') as f:
        f.write(text + '\n')
    print(text)
    if args.doc:
        block = '%s\n%s\n%s' % (BEGIN, text, END)
        old = open(args.doc).read() if os.path.exists(args.doc) else ''
        if BEGIN in old and END in old:
            new = old[:old.index(BEGIN)] + block + old[old.index(END) + len(END):]
        else:
            new = '# Performance\n\n%s\n' % block + ('\n' + old if old else '')
        with open(args.doc, 'w') as f:
            f.write(new)


if __name__ == '__main__':
    main()
