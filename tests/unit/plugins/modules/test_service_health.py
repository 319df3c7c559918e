# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""service_health: healthy at once, a dead or crash-looping unit fails at once, a slow one uses the budget."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.inference.host_tuning.plugins.modules import service_health
from ansible_collections.inference.host_tuning.tests.unit.fakehost import FakeCommands
from ansible_collections.inference.host_tuning.tests.unit.plugins.modules.utils import fail_module, run_module

ARGS = {'unit': 'vllm.service', 'url': 'http://127.0.0.1:8000/health', 'retries': 5, 'delay': 7}
RUNNING = {'ActiveState': 'active', 'SubState': 'running', 'NRestarts': '0'}


class Server(object):
    """The HTTP answers (one per poll, the last repeated) and the unit's states (likewise)."""

    def __init__(self, monkeypatch, answers, states):
        self.answers = list(answers)
        self.states = list(states)
        self.sleeps = []
        self.urls = []
        monkeypatch.setattr(service_health, 'open_url', self.open_url)
        monkeypatch.setattr(service_health.time, 'sleep', self.sleeps.append)
        self.commands = FakeCommands(bins=['systemctl', 'journalctl'],
                                     handlers={'systemctl': self.systemctl, 'journalctl': self.journalctl})
        self.commands.install(monkeypatch)

    @staticmethod
    def _next(items):
        return items.pop(0) if len(items) > 1 else items[0]

    def open_url(self, url, **kwargs):
        self.urls.append(url)
        code = self._next(self.answers)
        if code is None:
            raise OSError(111, 'Connection refused')
        if code != 200:
            raise service_health.http.client.HTTPException('status %d' % code)

        class Response(object):
            @staticmethod
            def getcode():
                return code
        return Response()

    def systemctl(self, argv):
        assert argv[1:3] == ['show', 'vllm.service']
        state = self._next(self.states)
        return 0, ''.join('%s=%s\n' % kv for kv in sorted(state.items())), ''

    @staticmethod
    def journalctl(argv):
        assert argv[1:] == ['--unit=vllm.service', '--lines=50', '--no-pager', '--output=short-iso']
        return 0, 'line 1\nTraceback: model not found\n', ''


def test_healthy_at_once(monkeypatch):
    server = Server(monkeypatch, [200], [RUNNING])
    r = run_module(service_health, ARGS)
    assert r['changed'] is False and (r['status'], r['attempts']) == (200, 1)
    assert server.sleeps == [] and server.urls == [ARGS['url']]


def test_loading_then_healthy(monkeypatch):
    server = Server(monkeypatch, [None, None, 200], [{'ActiveState': 'activating', 'SubState': 'start'}, RUNNING])
    r = run_module(service_health, ARGS)
    assert (r['status'], r['attempts']) == (200, 3)
    assert server.sleeps == [7, 7]


@pytest.mark.parametrize('state, words', [
    ({'ActiveState': 'failed', 'SubState': 'failed', 'NRestarts': '0'}, 'is failed (failed): the server exited'),
    ({'ActiveState': 'inactive', 'SubState': 'dead', 'NRestarts': '0'}, 'is inactive (dead)'),
    ({'ActiveState': 'activating', 'SubState': 'auto-restart', 'NRestarts': '1'}, 'auto-restart'),
    ({'ActiveState': 'active', 'SubState': 'running', 'NRestarts': '2'}, 'restarted 2 time(s)'),
])
def test_dead_or_crash_looping_fails_at_once_with_the_journal(monkeypatch, state, words):
    server = Server(monkeypatch, [None], [state])
    r = fail_module(service_health, ARGS)
    assert r['msg'].startswith('vllm.service ') and words in r['msg']
    assert r['attempts'] == 1 and server.sleeps == []
    assert r['journal'] == ['line 1', 'Traceback: model not found']


def test_dies_while_loading(monkeypatch):
    looping = {'ActiveState': 'activating', 'SubState': 'auto-restart', 'NRestarts': '1'}
    server = Server(monkeypatch, [None], [RUNNING, RUNNING, looping])
    r = fail_module(service_health, ARGS)
    assert r['attempts'] == 3 and server.sleeps == [7, 7]


def test_running_but_never_healthy_uses_the_budget(monkeypatch):
    server = Server(monkeypatch, [503], [RUNNING])
    r = fail_module(service_health, ARGS)
    assert 'did not answer http://127.0.0.1:8000/health with 200 after 5 tries, 7 s apart' in r['msg']
    assert r['attempts'] == 5 and server.sleeps == [7] * 4
    assert r['journal'][-1] == 'Traceback: model not found'


@pytest.mark.parametrize('args, words', [
    ({'unit': '../x.service'}, 'unit:'),
    ({'unit': 'vllm.service\n'}, 'unit:'),
    ({'url': 'file:///etc/shadow'}, 'url:'),
    ({'url': 'http://127.0.0.1:8000/health\nx'}, 'url:'),
    ({'url': 'http://a b/'}, 'url:'),
    ({'retries': 0}, 'retries: 0 is below 1'),
    ({'delay': -1}, 'delay'),
    ({'timeout': 0}, 'timeout'),
])
def test_bad_input_polls_nothing(monkeypatch, args, words):
    server = Server(monkeypatch, [200], [RUNNING])
    r = fail_module(service_health, dict(ARGS, **args))
    assert r['msg'].startswith('Nothing was checked: ') and words in r['msg']
    assert server.urls == [] and server.commands.calls == []
