# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The fleet drift report (controller side): per-host audit results into one JSON document and one
self-contained HTML page (inline CSS, no scripts, no external assets). Pure functions, plus an atomic
file write; the action plugin ``audit_report`` gathers the results and writes the files.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import tempfile

from html import escape as _escape

STATUSES = ('ok', 'drift', 'pending_reboot', 'unavailable')
#: Within a concern: what needs attention first.
STATUS_ORDER = {'drift': 0, 'pending_reboot': 1, 'unavailable': 2, 'ok': 3}


def host_entry(result):
    """A host's report entry from its host_audit result; a 'not audited' entry without one."""
    if not isinstance(result, dict) or result.get('failed') or result.get('unreachable') \
            or not isinstance(result.get('summary'), dict):
        if not isinstance(result, dict) or not (result.get('unreachable') or result.get('failed')):
            reason = 'no audit result (the host was unreachable, skipped or failed earlier)'
        elif result.get('unreachable'):
            reason = 'unreachable: %s' % result['msg'] if result.get('msg') else 'unreachable'
        else:
            reason = 'the audit failed: %s' % result.get('msg')
        return {'kind': 'unknown', 'summary': dict((s, 0) for s in STATUSES), 'audit': [],
                'unreachable': True, 'reason': reason}
    summary = dict((s, 0) for s in STATUSES)
    summary.update(result['summary'])
    entry = {'kind': result.get('kind', 'unknown'), 'summary': summary, 'audit': result.get('audit') or []}
    for key in ('accelerator_counts', 'accelerators', 'kernel', 'notes', 'desired'):
        if key in result:
            entry[key] = result[key]
    return entry


def fleet(results, generated):
    """{generated, hosts: {name: entry}, summary} from {host name: host_audit result or None}."""
    hosts = dict((name, host_entry(r)) for name, r in results.items())
    audited = [h for h in hosts.values() if not h.get('unreachable')]
    summary = {'hosts': len(hosts),
               'hosts_with_drift': len([h for h in audited if h['summary']['drift'] > 0]),
               'hosts_pending_reboot': len([h for h in audited if h['summary']['pending_reboot'] > 0]),
               'hosts_unreachable': len(hosts) - len(audited)}
    for status in STATUSES:
        summary[status] = sum(h['summary'][status] for h in audited)
    return {'generated': generated, 'summary': summary, 'hosts': hosts}


def drift_settings(entry, status='drift'):
    return [i['setting'] for i in entry['audit'] if i.get('status') == status]


def host_line(name, entry):
    """One line per host for the play's output."""
    if entry.get('unreachable'):
        return '%s: NOT AUDITED (%s)' % (name, entry.get('reason'))
    s = entry['summary']
    line = '%s (%s): %d ok, %d drift, %d pending reboot, %d unavailable' % (
        name, entry['kind'], s['ok'], s['drift'], s['pending_reboot'], s['unavailable'])
    if s['drift']:
        line += ' - drift: ' + ', '.join(drift_settings(entry))
    if s['pending_reboot']:
        line += ' - pending reboot: ' + ', '.join(drift_settings(entry, 'pending_reboot'))
    return line


def summary_line(report):
    s = report['summary']
    return ('Fleet audit: %d host(s), %d ok, %d drift (%d host(s)), %d pending reboot (%d host(s)), %d unavailable, '
            '%d not audited' % (s['hosts'], s['ok'], s['drift'], s['hosts_with_drift'], s['pending_reboot'],
                                s['hosts_pending_reboot'], s['unavailable'], s['hosts_unreachable']))


def to_json(report):
    return json.dumps(report, indent=2, sort_keys=True, default=str) + '\n'


def _e(value):
    return _escape(u'%s' % (value,), quote=True)


def _cell(value):
    if value is None:
        return '-'
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, sort_keys=True, default=str)
    if isinstance(value, bool):
        return 'true' if value else 'false'
    return value


_STYLE = '''
  body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 1.5em; color: #222; }
  h1 { font-size: 1.4em; margin: 0 0 .3em; }
  h2 { font-size: 1.1em; margin: 1.6em 0 .4em; }
  table { border-collapse: collapse; width: 100%; margin-bottom: .5em; }
  th, td { text-align: left; padding: .25em .6em; border-bottom: 1px solid #ddd; vertical-align: top; }
  th { background: #f3f3f3; }
  td.v { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12.5px; word-break: break-all; }
  .badge { display: inline-block; min-width: 5.5em; text-align: center; border-radius: 3px; padding: 0 .4em;
           font-weight: 600; font-size: 12px; }
  .ok { background: #d8f3dc; color: #1b5e20; }
  .drift { background: #ffd6d6; color: #a00000; }
  .unavailable { background: #ececec; color: #555; }
  .pending_reboot { background: #fff1c2; color: #7a5200; }
  .unreachable { background: #4a4a4a; color: #fff; }
  tr.drift td { background: #fff3f3; }
  .muted { color: #777; }
  .cards { display: flex; gap: .8em; flex-wrap: wrap; margin: .6em 0 1em; }
  .card { border: 1px solid #ddd; border-radius: 4px; padding: .4em .8em; }
  .card b { font-size: 1.3em; display: block; }
'''


def to_html(report):
    """The report as one self-contained HTML page."""
    s = report['summary']
    hosts = sorted(report['hosts'].items())
    out = ['<!DOCTYPE html>', '<html lang="en">', '<head>', '<meta charset="utf-8">',
           '<title>Inference host tuning - fleet audit %s</title>' % _e(report['generated']),
           '<style>%s</style>' % _STYLE, '</head>', '<body>',
           '<h1>Inference host tuning - fleet audit</h1>',
           '<p class="muted">Generated %s by playbooks/audit.yml. Desired values come from the same variables the '
           'roles use; <span class="badge ok">ok</span> matches now and after a reboot, <span class="badge drift">drift</span> '
           'differs now or would differ after a reboot (what the persisted files apply), <span class="badge '
           'pending_reboot">pending_reboot</span> comes only with the next boot (kernel parameters written for it), '
           '<span class="badge unavailable">unavailable</span> cannot be read or does not exist on that host.</p>'
           % _e(report['generated']),
           '<div class="cards">',
           '  <div class="card"><b>%d</b>hosts</div>' % s['hosts'],
           '  <div class="card ok"><b>%d</b>ok</div>' % s['ok'],
           '  <div class="card drift"><b>%d</b>drift on %d host(s)</div>' % (s['drift'], s['hosts_with_drift']),
           '  <div class="card pending_reboot"><b>%d</b>pending reboot on %d host(s)</div>'
           % (s['pending_reboot'], s['hosts_pending_reboot']),
           '  <div class="card unavailable"><b>%d</b>unavailable</div>' % s['unavailable']]
    if s['hosts_unreachable']:
        out.append('  <div class="card unreachable"><b>%d</b>not audited</div>' % s['hosts_unreachable'])
    out += ['</div>', '<h2>Hosts</h2>', '<table>',
            '<tr><th>host</th><th>kind</th><th>status</th><th>ok</th><th>drift</th><th>pending reboot</th>'
            '<th>unavailable</th><th>settings in drift</th></tr>']
    for n, (name, r) in enumerate(hosts, 1):
        status = 'unreachable' if r.get('unreachable') else (
            'drift' if r['summary']['drift'] else 'pending_reboot' if r['summary']['pending_reboot'] else 'ok')
        out.append('<tr class="%s"><td><a href="#host-%d">%s</a></td><td>%s</td>'
                   '<td><span class="badge %s">%s</span></td><td>%d</td><td>%d</td><td>%d</td><td>%d</td>'
                   '<td class="v">%s</td></tr>'
                   % (status, n, _e(name), _e(r['kind']), status,
                      'not audited' if status == 'unreachable' else status,
                      r['summary']['ok'], r['summary']['drift'], r['summary']['pending_reboot'],
                      r['summary']['unavailable'], _e(', '.join(drift_settings(r)))))
    out.append('</table>')
    for n, (name, r) in enumerate(hosts, 1):
        kernel = ', kernel %s' % _e(r['kernel']) if r.get('kernel') else ''
        out.append('<h2 id="host-%d">%s <span class="muted">- %s%s</span></h2>' % (n, _e(name), _e(r['kind']), kernel))
        if r.get('unreachable'):
            out.append('<p><span class="badge unreachable">not audited</span> %s</p>' % _e(r.get('reason', '')))
            continue
        out += ['<table>', '<tr><th>concern</th><th>setting</th><th>desired</th><th>actual</th><th>status</th>'
                           '<th>detail</th></tr>']
        items = sorted(r['audit'], key=lambda i: (str(i.get('concern')), STATUS_ORDER.get(i.get('status'), 3)))
        for i in items:
            out.append('<tr class="%s"><td>%s</td><td class="v">%s</td><td class="v">%s</td><td class="v">%s</td>'
                       '<td><span class="badge %s">%s</span></td><td class="muted">%s</td></tr>'
                       % (_e(i.get('status')), _e(i.get('concern')), _e(i.get('setting')), _e(_cell(i.get('desired'))),
                          _e(_cell(i.get('actual'))), _e(i.get('status')), _e(i.get('status')),
                          _e(i.get('detail') or '')))
        out.append('</table>')
        if r.get('notes'):
            out.append('<p class="muted">Notes: %s</p>' % _e('; '.join(r['notes'])))
    out += ['</body>', '</html>', '']
    return '\n'.join(out)


def write_atomic(path, text, mode=0o644):
    """Write ``text`` to ``path`` through a temporary file in the same directory; True when it changed."""
    data = text.encode('utf-8')
    try:
        with open(path, 'rb') as f:
            if f.read() == data:
                return False
    except (IOError, OSError):
        pass
    fd, tmp = tempfile.mkstemp(prefix='.%s.' % os.path.basename(path), dir=os.path.dirname(path) or '.')
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.rename(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return True
