# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Take back only our own change to a file others edit too (three-way: original, what we wrote, now).

A file the collection edits but does not own - ``/etc/fstab``, ``/etc/docker/daemon.json``,
``/etc/environment``, ``/etc/ld.so.preload`` - can be changed by another tool after our converge (the
NVIDIA container toolkit adds a runtime to daemon.json, an operator adds a mount). Restoring the
recorded original byte for byte would wipe that. These functions apply the change "what we wrote ->
original" to the current content instead:

* ``undo_lines()`` -- line by line: each hunk of our change is taken back where its lines are still in
  the file unchanged, next to each other; anything else in the file stays.
* ``undo_json()`` -- key by key (recursively in objects): a key we set is put back (or removed) where it
  still holds what we wrote; the other keys stay.

Both return None when our change cannot be taken back alone (someone changed the very lines or keys we
wrote): the caller then falls back to the byte-for-byte restore, keeping the edited file aside.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import difflib
import json

from ansible_collections.inference.host_tuning.plugins.module_utils import _formats

_MISSING = object()


def _matches(a, b):
    """{index in a: index in b} of the lines the two sequences share, in order."""
    out = {}
    for i, j, size in difflib.SequenceMatcher(None, a, b, autojunk=False).get_matching_blocks():
        for k in range(size):
            out[i + k] = j + k
    return out


def undo_lines(original, written, current):
    """``current`` with the change original -> written taken back; None when a hunk of it was edited since."""
    old, ours, now = (t.splitlines(True) for t in (original, written, current))
    where = _matches(ours, now)
    out = list(now)
    hunks = [op for op in difflib.SequenceMatcher(None, ours, old, autojunk=False).get_opcodes() if op[0] != 'equal']
    for _tag, i1, i2, j1, j2 in reversed(hunks):
        if i2 > i1:
            spots = [where.get(i) for i in range(i1, i2)]
            if None in spots or spots != list(range(spots[0], spots[0] + len(spots))):
                return None
            start, end = spots[0], spots[-1] + 1
        elif i1 > 0 and (i1 - 1) in where:
            start = end = where[i1 - 1] + 1
        elif i1 < len(ours) and i1 in where:
            start = end = where[i1]
        elif not ours:
            start = end = len(now)
        else:
            return None
        out[start:end] = old[j1:j2]
    return ''.join(out)


def _undo_value(old, ours, now):
    """The value with our change taken back, or raise ValueError on a conflict."""
    if old == ours:
        return now
    if now == ours:
        return old
    if isinstance(old, dict) and isinstance(ours, dict) and isinstance(now, dict):
        out = dict(now)
        for key in set(old) | set(ours):
            value = _undo_value(old.get(key, _MISSING), ours.get(key, _MISSING), now.get(key, _MISSING))
            if value is _MISSING:
                out.pop(key, None)
            else:
                out[key] = value
        return out
    raise ValueError('changed since')


def undo_json(original, written, current, what='json'):
    """``current`` (a JSON document) with the change original -> written taken back, as JSON text from the
    collection's writer; None when a value we wrote was changed since or a text is not JSON."""
    try:
        old, ours, now = (json.loads(t) if t.strip() else {} for t in (original, written, current))
        merged = _undo_value(old, ours, now)
    except ValueError:
        return None
    if merged is _MISSING:
        merged = {}
    try:
        return _formats.json_text(merged, what, sort_keys=False)
    except _formats.FormatError:
        return None
