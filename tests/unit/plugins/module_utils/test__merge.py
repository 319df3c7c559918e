# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""_merge: only our change is taken back from a file others changed since; a conflict is refused (None)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

import pytest

from ansible_collections.inference.host_tuning.plugins.module_utils import _merge

FSTAB = 'UUID=1 / ext4 defaults 0 1\nUUID=2 none swap sw 0 0\n'
FSTAB_OURS = 'UUID=1 / ext4 defaults 0 1\n#IHT# UUID=2 none swap sw 0 0\n'


@pytest.mark.parametrize('current, expected', [
    # nothing else changed: the original
    (FSTAB_OURS, FSTAB),
    # a mount added after ours, before ours, at the end: kept
    (FSTAB_OURS + 'nfs:/m /m nfs defaults 0 0\n', FSTAB + 'nfs:/m /m nfs defaults 0 0\n'),
    ('# header\n' + FSTAB_OURS, '# header\n' + FSTAB),
    ('UUID=1 / ext4 defaults 0 1\ntmpfs /t tmpfs 0 0\n#IHT# UUID=2 none swap sw 0 0\n',
     'UUID=1 / ext4 defaults 0 1\ntmpfs /t tmpfs 0 0\nUUID=2 none swap sw 0 0\n'),
    # another line changed by someone else: kept as they left it
    ('UUID=1 / ext4 noatime 0 1\n#IHT# UUID=2 none swap sw 0 0\n', 'UUID=1 / ext4 noatime 0 1\nUUID=2 none swap sw 0 0\n'),
    # our own line changed or removed since: no merge
    ('UUID=1 / ext4 defaults 0 1\n#IHT# UUID=2 none swap sw,pri=5 0 0\n', None),
    ('UUID=1 / ext4 defaults 0 1\n', None),
])
def test_undo_lines(current, expected):
    assert _merge.undo_lines(FSTAB, FSTAB_OURS, current) == expected


def test_undo_lines_of_an_insertion_and_of_an_empty_original():
    original, ours = 'a\nb\n', 'a\nOURS\nb\n'
    assert _merge.undo_lines(original, ours, 'a\nOURS\nb\nc\n') == 'a\nb\nc\n'
    assert _merge.undo_lines('', 'OURS\n', 'x\nOURS\n') == 'x\n'
    # the lines around our insertion gone: where it was cannot be told, yet our lines are still found
    assert _merge.undo_lines(original, ours, 'OURS\n') == ''


def _j(data):
    return json.dumps(data, indent=4)


def test_undo_json_keeps_what_others_added():
    original = {'log-driver': 'journald'}
    ours = {'log-driver': 'journald', 'default-ulimits': {'memlock': {'Name': 'memlock', 'Hard': -1, 'Soft': -1}}}
    toolkit = dict(ours, runtimes={'nvidia': {'path': 'nvidia-container-runtime'}})
    merged = json.loads(_merge.undo_json(_j(original), _j(ours), _j(toolkit)))
    assert merged == {'log-driver': 'journald', 'runtimes': {'nvidia': {'path': 'nvidia-container-runtime'}}}


def test_undo_json_nested_and_conflicts():
    original = {'default-ulimits': {'nofile': {'Hard': 1}}}
    ours = {'default-ulimits': {'nofile': {'Hard': 1}, 'memlock': {'Hard': -1}}}
    now = {'default-ulimits': {'nofile': {'Hard': 2}, 'memlock': {'Hard': -1}}}
    assert json.loads(_merge.undo_json(_j(original), _j(ours), _j(now))) == {'default-ulimits': {'nofile': {'Hard': 2}}}
    changed = {'default-ulimits': {'nofile': {'Hard': 1}, 'memlock': {'Hard': 64}}}
    assert _merge.undo_json(_j(original), _j(ours), _j(changed)) is None
    assert _merge.undo_json(_j(original), _j(ours), '{not json') is None
    # a file that did not hold JSON before (empty): the keys we added go
    assert json.loads(_merge.undo_json('', _j({'a': 1}), _j({'a': 1, 'b': 2}))) == {'b': 2}
