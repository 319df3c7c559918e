# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""One writer per file format: every value that reaches a file goes through here.

Each writer takes structured data and returns the file's text, encoding what the format
needs (systemd specifiers and quoting, tmpfiles escapes, JSON) and refusing what the format
cannot hold safely (a line break or other control character in a value, a key that is not a
key, a word where the format splits on white space).  A refusal raises ``FormatError``,
whose message names the option or variable (``what``) and the offending character, so a
module can fail with "Nothing was changed" before it reads or writes anything.

Formats: systemd unit files and drop-ins (``unit()``, ``exec_line()``, ``environment()``),
environment files (``env_file_line()``), udev rules (``udev_rule()``), tmpfiles.d
(``tmpfiles_line()``; ``tmpfiles_writes()`` for a whole file of boot-time writes), sysctl.d
(``sysctl_line()``), limits.d (``limits_line()``), kernel command line parameters
(``kernel_param()``), JSON (``json_text()``) and YAML (``yaml_text()``).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import re
import unicodedata

from ansible.module_utils.common.text.converters import to_text


class FormatError(ValueError):
    """A value a file format cannot hold; ``what`` names the option or variable it came from."""

    def __init__(self, what, message):
        self.what = what
        super(FormatError, self).__init__('%s: %s' % (what, message) if what else message)


class Verbatim(str):
    """Text already encoded for its format by a writer here (``exec_line()``, ``environment()``)."""


#: Characters that end a line for some reader: Python's splitlines(), systemd, YAML, JS.
_LINE_BREAKS = u'\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029'


def _bad_char(text):
    """(index, char) of the first control, line or paragraph separator, or format character."""
    for i, c in enumerate(text):
        if c in _LINE_BREAKS or c == u'\t':
            return i, c
        cat = unicodedata.category(c)
        # Cc: C0/C1 controls and DEL; Zl/Zp: line/paragraph separators; Cs: lone surrogates;
        # Cf: invisible format characters (bidi overrides) that hide what a line says.
        if cat in ('Cc', 'Zl', 'Zp', 'Cs', 'Cf'):
            return i, c
    return None


def text(value, what, allow_empty=True):
    """``value`` as one line of text, or FormatError for what no one-line format may hold."""
    if isinstance(value, bool) or value is None:
        raise FormatError(what, 'expected a string, got %r' % (value,))
    if isinstance(value, (int, float)):
        value = '%s' % (value,)
    if isinstance(value, bytes):
        try:
            value = value.decode('utf-8')
        except UnicodeDecodeError:
            raise FormatError(what, 'is not UTF-8 text')
    if not isinstance(value, str):
        raise FormatError(what, 'expected a string, got %s' % type(value).__name__)
    value = to_text(value)
    bad = _bad_char(value)
    if bad is not None:
        i, c = bad
        raise FormatError(what, 'the character %s at position %d is not allowed here (line breaks, tabs and '
                                'other control characters would change what the file says); value %s'
                          % (_char_name(c), i, _short(value)))
    if not allow_empty and not value:
        raise FormatError(what, 'must not be empty')
    return value


def _char_name(c):
    try:
        name = unicodedata.name(c)
    except ValueError:
        name = 'control character'
    return 'U+%04X (%s)' % (ord(c), name)


def _short(value, limit=80):
    r = repr(value)
    return r if len(r) <= limit else r[:limit - 3] + '...'


def fullmatch(pattern, value):
    """re.fullmatch for the Pythons the modules run on (2.7 has none): the whole string or nothing."""
    return re.match('(?:%s)\\Z' % pattern, value) is not None


def word(value, what, pattern, hint):
    """One token of a format that splits on white space: the whole value must match ``pattern``."""
    value = text(value, what, allow_empty=False)
    if not fullmatch(pattern, value):
        raise FormatError(what, '%s is not allowed: %s' % (_short(value), hint))
    return value


def comment_lines(comment, prefix='#'):
    """Comment text as ``# ...`` lines; white space runs (line breaks included) become one space."""
    lines = []
    for line in to_text(comment or '').rstrip(u'\n').split(u'\n'):
        clean = u''.join(c if _bad_char(c) is None else u' ' for c in line)
        clean = u' '.join(clean.split())
        if clean.startswith(prefix):
            lines.append(clean)     # already a comment line (a file header)
        else:
            lines.append((u'%s %s' % (prefix, clean)).rstrip() if clean else prefix)
    return lines


# -- systemd unit files and drop-ins (systemd.syntax(7), systemd.unit(5), systemd.service(5)) ---------
_UNIT_KEY = r'[A-Za-z][A-Za-z0-9]*'
_SECTION = r'[A-Za-z][A-Za-z0-9 -]*'


def unit_value(value, what):
    """A plain setting value: one line, specifiers (``%``) escaped, no continuation backslash at the end."""
    if isinstance(value, Verbatim):
        value = text(value, what)
    else:
        value = text(value, what).replace(u'%', u'%%')
    if value.endswith(u'\\'):
        raise FormatError(what, 'a value must not end with a backslash: systemd would join it with the next line')
    if value != value.strip(u' '):
        raise FormatError(what, 'leading or trailing spaces are dropped by systemd; remove them: %s' % _short(value))
    return value


def _quote_word(word_):
    """One argv word: as it is when it holds only plain characters, else in systemd's C-style double
    quotes with quotes and backslashes escaped; specifiers (%) and variables ($) escaped either way."""
    if fullmatch(r'[A-Za-z0-9_@+=:,./-]+', word_):
        return word_
    escaped = (word_.replace(u'\\', u'\\\\').replace(u'"', u'\\"')
               .replace(u'%', u'%%').replace(u'$', u'$$'))
    return u'"%s"' % escaped


def exec_line(argv, what):
    """``ExecStart=`` value for an argv list: every word quoted, so no word becomes two or a prefix.

    The program (first word) must be an absolute path or a bare program name; systemd's
    ``-@:+!`` prefixes are refused there, as they would change how the command runs.
    """
    if not isinstance(argv, (list, tuple)) or not argv:
        raise FormatError(what, 'the command must be a non-empty list of words')
    words = [text(w, '%s[%d]' % (what, i)) for i, w in enumerate(argv)]
    program = words[0]
    if not program or program[0] in u'-@:+!|' or not fullmatch(r'[^\s"\'\\$%;]+', program):
        raise FormatError(what, 'the program %s must be an absolute path or a program name, without systemd '
                                'prefixes (-@:+!), quotes, white space, "$" or "%%"' % _short(program))
    return Verbatim(u' '.join(_quote_word(w) for w in words))


_ENV_NAME = r'[A-Za-z_][A-Za-z0-9_]*'


def env_name(name, what):
    return word(name, what, _ENV_NAME, 'an environment variable name is letters, digits and "_", not starting '
                                       'with a digit')


def environment(name, value, what):
    """``Environment=`` value: ``"NAME=value"`` with quotes and backslashes escaped, specifiers as ``%%``."""
    env_name(name, '%s key' % what)
    value = text(value, '%s[%s]' % (what, name))
    assignment = u'%s=%s' % (name, value.replace(u'%', u'%%'))
    if re.search(r'[\s"\'\\]', assignment):
        assignment = u'"%s"' % assignment.replace(u'\\', u'\\\\').replace(u'"', u'\\"')
    return Verbatim(assignment)


def unit(sections, header=None, what='unit'):
    """A unit file or drop-in from ``[(section, [(key, value), ...]), ...]``.

    ``header`` is comment text (``# `` is added to each line).  Keys may repeat (an empty
    value resets a list setting); values go through ``unit_value()``.
    """
    lines = comment_lines(header) if header else []
    for n, (section, items) in enumerate(sections):
        section = word(section, '%s section' % what, _SECTION, 'a section name is letters, digits, " " and "-"')
        if n:
            lines.append(u'')
        lines.append(u'[%s]' % section)
        for key, value in items:
            key = word(key, '%s key' % what, _UNIT_KEY, 'a setting name is letters and digits')
            lines.append(u'%s=%s' % (key, unit_value(value, '%s %s=' % (what, key))))
    return u'\n'.join(lines) + u'\n'


# -- environment files (systemd EnvironmentFile=, /etc/environment) ---------------------------------
_ENV_FILE_VALUE = r'[A-Za-z0-9_@%+=:,./-]*'


def env_file_line(name, value, what):
    """``NAME=value`` for a file read by both pam_env and systemd: only characters neither quotes nor expands."""
    env_name(name, '%s key' % what)
    value = text(value, '%s[%s]' % (what, name))
    if not fullmatch(_ENV_FILE_VALUE, value):
        raise FormatError('%s[%s]' % (what, name),
                          '%s: an environment file value may hold letters, digits and "_@%%+=:,./-" only '
                          '(no spaces, quotes, "$", "#" or backslashes, which its readers interpret differently)'
                          % _short(value))
    return u'%s=%s' % (name, value)


# -- udev rules (udev(7)) --------------------------------------------------------------------------------
_UDEV_KEY = r'[A-Z]+(\{[A-Za-z0-9_/.]+\})?'
_UDEV_OPS = ('==', '!=', '=', '+=', ':=')


def udev_rule(pairs, what='udev rule'):
    """One rule line from ``[(key, op, value), ...]``: values double-quoted, never holding quotes,
    backslashes or udev's ``$``/``%`` substitutions."""
    parts = []
    for key, op, value in pairs:
        word(key, '%s key' % what, _UDEV_KEY, 'a udev key is upper-case letters with an optional {attribute}')
        if op not in _UDEV_OPS:
            raise FormatError(what, 'unknown udev operator %r' % (op,))
        value = text(value, '%s %s' % (what, key))
        if re.search(r'["\\$%]', value):
            raise FormatError('%s %s' % (what, key), '%s: quotes, backslashes, "$" and "%%" are not allowed in a '
                                                     'udev value' % _short(value))
        parts.append(u'%s%s"%s"' % (key, op, value))
    return u', '.join(parts)


# -- tmpfiles.d (tmpfiles.d(5)) ---------------------------------------------------------------------
_TMPFILES_TYPE = r'[fFwdDeEvqQpLcbCxXrRzZtThHaA]\+?'


def _tmpfiles_escape(value):
    # tmpfiles.d expands %-specifiers and C-style escapes in paths and arguments.
    return value.replace(u'\\', u'\\\\').replace(u'%', u'%%')


def tmpfiles_line(type_, path, argument, what, mode='-', user='-', group='-', age='-'):
    """``TYPE PATH MODE USER GROUP AGE ARGUMENT`` with the path and argument escaped."""
    word(type_, '%s type' % what, _TMPFILES_TYPE, 'a tmpfiles.d line type')
    path = word(path, '%s path' % what, r'/[^\s]*', 'an absolute path without white space')
    if u'/../' in path + u'/' or u'/./' in path + u'/':
        raise FormatError('%s path' % what, '%s: "." and ".." components are not allowed' % _short(path))
    for name, field in (('mode', mode), ('user', user), ('group', group), ('age', age)):
        word(field, '%s %s' % (what, name), r'[^\s]+', 'one word')
    argument = text(argument, '%s value' % what)
    return u'%s %s %s %s %s %s %s' % (type_, _tmpfiles_escape(path), mode, user, group, age,
                                      _tmpfiles_escape(argument))


def tmpfiles_writes(header, entries, what):
    """A tmpfiles.d file that writes values into /proc or /sys files at boot; None (no file) without entries.

    ``header`` is written as given (comment lines, each ending in a newline).  Then, in the order given,
    per ``(path, value, comment)`` a ``w PATH - - - - VALUE`` line (``tmpfiles_line()``); a ``comment`` that
    is not None goes before its line as ``# ...`` lines (``comment_lines()``) after a blank line, while
    None puts the line right below the one before.
    """
    if not entries:
        return None
    parts = [header]
    for path, value, comment in entries:
        if comment is not None:
            parts.append(u'\n')
            parts.extend(line + u'\n' for line in comment_lines(comment))
        parts.append(tmpfiles_line('w', path, value, what) + u'\n')
    return u''.join(parts)


# -- sysctl.d (sysctl.d(5)) -----------------------------------------------------------------------------
_SYSCTL_KEY = r'-?[A-Za-z0-9_][A-Za-z0-9_.*/-]*'


def sysctl_line(key, value, what):
    key = word(key, '%s key' % what, _SYSCTL_KEY, 'a sysctl key is letters, digits and "_.-/*"')
    value = text(value, '%s[%s]' % (what, key), allow_empty=False)
    if value != value.strip():
        raise FormatError('%s[%s]' % (what, key), 'leading or trailing white space: %s' % _short(value))
    return u'%s = %s' % (key, value)


# -- limits.d (limits.conf(5)) --------------------------------------------------------------------------
def limits_line(domain, kind, item, value, what):
    domain = word(domain, '%s domain' % what, r'[A-Za-z0-9_@%*:.-]+', 'a user, @group, % group, * or uid range')
    word(kind, '%s type' % what, r'soft|hard|-', 'soft, hard or -')
    word(item, '%s item' % what, r'[a-z]+', 'a limits.conf item such as memlock')
    value = word(value, '%s value' % what, r'[A-Za-z0-9-]+', 'a number, unlimited or infinity')
    return u'%-6s %-5s %-8s %s' % (domain, kind, item, value)


# -- kernel command line (kernel-parameters.txt; GRUB sources it in a shell string) -------------------
def kernel_param(token, what):
    """One kernel parameter: ``key`` or ``key=value`` with no character a shell or GRUB would interpret."""
    return word(token, what, r'[A-Za-z0-9_][A-Za-z0-9_.-]*(=[A-Za-z0-9_.,:/+@-]+)?',
                'a kernel parameter is key or key=value of letters, digits and "_.,:/+@-"')


# -- JSON and YAML ------------------------------------------------------------------------------------
def _check_tree(value, what):
    """Every key and string in a JSON-able tree is text a line-oriented reader cannot misread."""
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                raise FormatError(what, 'keys must be strings, got %r' % (k,))
            text(k, '%s key' % what)
            _check_tree(v, '%s.%s' % (what, k))
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _check_tree(v, '%s[%d]' % (what, i))
    elif isinstance(value, str):
        text(value, what)
    elif not (value is None or isinstance(value, (bool, float, int))):
        raise FormatError(what, 'cannot hold a %s' % type(value).__name__)


def json_text(data, what='json', sort_keys=True):
    """JSON text (indent 2, ASCII only, newline at the end); strings checked by ``text()``."""
    _check_tree(data, what)
    return json.dumps(data, indent=2, sort_keys=sort_keys, ensure_ascii=True, separators=(',', ': ')) + '\n'


def yaml_text(data, header=None, what='yaml'):
    """YAML emitted by a dumper, never by templates: JSON is YAML 1.2 (and what YAML 1.1 readers such as
    the kubelet's parse the same way), so the dump is JSON behind ``#`` comment lines."""
    lines = comment_lines(header) if header else []
    return u'\n'.join(lines + [json_text(data, what).rstrip(u'\n')]) + u'\n'
