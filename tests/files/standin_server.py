# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A stand-in for an OpenAI-compatible serving process (tests only; standard library only).

Run it as ``python3 standin_server.py --port 8000 [--model NAME] [--ready-after S]``.

Answers GET /health (200, empty body, once --ready-after seconds have passed;
503 before) and GET /v1/models (the model list) on --host (127.0.0.1 by default).
vLLM-style arguments it does not know are ignored, so it can take a server's
place in a unit.  --fail-after N exits with status 1 after N seconds, to test
a server that dies while loading.
"""

from __future__ import absolute_import, division, print_function

import argparse
import json
import os
import sys
import threading
import time

from http.server import BaseHTTPRequestHandler, HTTPServer


def parse(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--host', default='127.0.0.1')
    p.add_argument('--port', type=int, default=8000)
    p.add_argument('--model', default='standin')
    p.add_argument('--served-model-name', default='')
    p.add_argument('--ready-after', type=float, default=0.0)
    p.add_argument('--fail-after', type=float, default=-1.0)
    args, _unknown = p.parse_known_args(argv)
    return args


def make_handler(args, started):
    name = args.served_model_name or args.model

    class Handler(BaseHTTPRequestHandler):
        server_version = 'standin/1'

        def _send(self, status, body=b'', ctype='application/json'):
            self.send_response(status)
            self.send_header('Content-Type', ctype)
            self.send_header('Content-Length', str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):  # noqa: N802 (http.server's naming)
            ready = time.time() - started >= args.ready_after
            if self.path == '/health':
                self._send(200 if ready else 503)
            elif self.path == '/v1/models':
                body = {'object': 'list',
                        'data': [{'id': name, 'object': 'model', 'created': int(started), 'owned_by': 'standin',
                                  'root': args.model}]}
                self._send(200 if ready else 503, json.dumps(body).encode('utf-8'))
            else:
                self._send(404, b'{"error": "not found"}')

        def log_message(self, fmt, *fargs):
            sys.stderr.write('standin: %s\n' % (fmt % fargs))

    return Handler


def main(argv=None):
    args = parse(sys.argv[1:] if argv is None else argv)
    started = time.time()
    if args.fail_after >= 0:
        def die():
            time.sleep(args.fail_after)
            sys.stderr.write('standin: failing on purpose (--fail-after)\n')
            sys.stderr.flush()
            os._exit(1)
        threading.Thread(target=die, daemon=True).start()
    server = HTTPServer((args.host, args.port), make_handler(args, started))
    sys.stderr.write('standin: serving %s on %s:%d\n' % (args.model, args.host, args.port))
    sys.stderr.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == '__main__':
    sys.exit(main())
