# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""_formats: every writer, what it encodes (input -> exact text) and what it refuses (input -> message).

A refusal is a ``FormatError`` whose message starts with the option or variable it came from
(``what``), so a module can fail with "Nothing was changed: <what>: ..." before it touches anything.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

import pytest

from ansible_collections.inference.host_tuning.plugins.module_utils import _formats as f

WORD = r'[a-z0-9]+'

# -- what each writer encodes: (id, call, exact result) -------------------------------------------------
ENCODES = [
    ('text: plain', lambda: f.text(u'abc', 'w'), u'abc'),
    ('text: an integer', lambda: f.text(5, 'w'), u'5'),
    ('text: a float', lambda: f.text(1.5, 'w'), u'1.5'),
    ('text: UTF-8 bytes', lambda: f.text(b'caf\xc3\xa9', 'w'), u'caf\xe9'),
    ('text: non-ASCII letters are text', lambda: f.text(u'\u6a21\u578b', 'w'), u'\u6a21\u578b'),
    ('text: quotes, $, % and a trailing backslash are not its business', lambda: f.text(u'"a" \'b\' $c %d e\\', 'w'),
     u'"a" \'b\' $c %d e\\'),
    ('text: empty when allowed', lambda: f.text(u'', 'w'), u''),
    ('word: the whole value matches', lambda: f.word(u'nvme0n1', 'w', WORD, 'hint'), u'nvme0n1'),
    ('fullmatch: whole string', lambda: f.fullmatch(WORD, u'abc'), True),
    ('fullmatch: a trailing newline does not match', lambda: f.fullmatch(WORD, u'abc\n'), False),
    ('comment_lines: one per line', lambda: f.comment_lines(u'a\nb'), [u'# a', u'# b']),
    ('comment_lines: separators and tabs become one space', lambda: f.comment_lines(u'x\u2028y\tz\x85w'),
     [u'# x y z w']),
    ('comment_lines: CR and ESC become spaces', lambda: f.comment_lines(u'a\rb\x1b[2Jc'), [u'# a b [2Jc']),
    ('comment_lines: a header line stays', lambda: f.comment_lines(u'# Managed\n# by us\n'), [u'# Managed', u'# by us']),
    ('comment_lines: an empty line is a bare #', lambda: f.comment_lines(u'a\n\nb'), [u'# a', u'#', u'# b']),
    ('comment_lines: other prefix', lambda: f.comment_lines(u'x', prefix=';'), [u'; x']),
    ('unit_value: % becomes %%', lambda: f.unit_value(u'100% GPU', 'd'), u'100%% GPU'),
    ('unit_value: $ and quotes stay (not expanded in plain settings)', lambda: f.unit_value(u'a $b "c"', 'd'),
     u'a $b "c"'),
    ('unit_value: Verbatim is not escaped twice', lambda: f.unit_value(f.Verbatim(u'a%%b'), 'd'), u'a%%b'),
    ('exec_line: plain words as they are', lambda: f.exec_line(['/usr/bin/x', '--port', '8000'], 'c'),
     u'/usr/bin/x --port 8000'),
    ('exec_line: a program name', lambda: f.exec_line(['python3', '-m', 'x'], 'c'), u'python3 -m x'),
    ('exec_line: white space quoted', lambda: f.exec_line(['/x', 'a b'], 'c'), u'/x "a b"'),
    ('exec_line: % as %%', lambda: f.exec_line(['/x', '50%'], 'c'), u'/x "50%%"'),
    ('exec_line: $ as $$', lambda: f.exec_line(['/x', '$X'], 'c'), u'/x "$$X"'),
    ('exec_line: double quotes escaped', lambda: f.exec_line(['/x', 'a"b'], 'c'), u'/x "a\\"b"'),
    ("exec_line: single quotes inside double quotes", lambda: f.exec_line(['/x', "a'b"], 'c'), u'/x "a\'b"'),
    ('exec_line: a trailing backslash escaped', lambda: f.exec_line(['/x', 'b\\'], 'c'), u'/x "b\\\\"'),
    ('exec_line: ; is a word, not a separator', lambda: f.exec_line(['/x', ';', 'y'], 'c'), u'/x ";" y'),
    ('exec_line: an empty word kept', lambda: f.exec_line(['/x', ''], 'c'), u'/x ""'),
    ('exec_line: numbers', lambda: f.exec_line(['/x', 8000, 0.9], 'c'), u'/x 8000 0.9'),
    ('exec_line: returns Verbatim', lambda: isinstance(f.exec_line(['/x'], 'c'), f.Verbatim), True),
    ('env_name: letters digits _', lambda: f.env_name(u'HCCL_BUFFSIZE_2', 'e'), u'HCCL_BUFFSIZE_2'),
    ('environment: plain', lambda: f.environment('A', 'b', 'e'), u'A=b'),
    ('environment: % as %%', lambda: f.environment('A', '50%', 'e'), u'A=50%%'),
    ('environment: $ stays (Environment= does not expand)', lambda: f.environment('A', '$X', 'e'), u'A=$X'),
    ('environment: white space quoted', lambda: f.environment('A', 'x y', 'e'), u'"A=x y"'),
    ('environment: quotes and backslash escaped', lambda: f.environment('A', 'a"b\\', 'e'), u'"A=a\\"b\\\\"'),
    ("environment: single quote quoted", lambda: f.environment('A', "it's", 'e'), u'"A=it\'s"'),
    ('environment: empty value', lambda: f.environment('A', '', 'e'), u'A='),
    ('unit: sections, keys and a header', lambda: f.unit(
        [('Unit', [('Description', '100% x')]), ('Service', [('ExecStart', f.exec_line(['/x', 'a b'], 'c')),
                                                             ('Environment', f.environment('A', '1', 'e'))])],
        header='Managed\nby us'),
     u'# Managed\n# by us\n[Unit]\nDescription=100%% x\n\n[Service]\nExecStart=/x "a b"\nEnvironment=A=1\n'),
    ('unit: an empty value resets a list', lambda: f.unit([('Service', [('CPUAffinity', ''), ('CPUAffinity', '0-3')])]),
     u'[Service]\nCPUAffinity=\nCPUAffinity=0-3\n'),
    ('unit: section with space and dash', lambda: f.unit([('X-Our Section', [])]), u'[X-Our Section]\n'),
    ('env_file_line: path-like value', lambda: f.env_file_line('LD_PRELOAD', '/usr/lib/libj.so.2', 'f'),
     u'LD_PRELOAD=/usr/lib/libj.so.2'),
    ('env_file_line: MALLOC_CONF-like value', lambda: f.env_file_line('MALLOC_CONF', 'a:1,b:true', 'f'),
     u'MALLOC_CONF=a:1,b:true'),
    ('env_file_line: empty value', lambda: f.env_file_line('A', '', 'f'), u'A='),
    ('udev_rule: pairs quoted', lambda: f.udev_rule([('KERNEL', '==', 'nvme*n*'), ('ATTR{queue/scheduler}', '=', 'none')]),
     u'KERNEL=="nvme*n*", ATTR{queue/scheduler}="none"'),
    ('udev_rule: every operator', lambda: f.udev_rule([('A', '!=', 'x'), ('B', '+=', 'y'), ('C', ':=', 'z')]),
     u'A!="x", B+="y", C:="z"'),
    ('udev_rule: glob characters stay', lambda: f.udev_rule([('KERNEL', '==', 'sd[a-d]?|nvme*')]),
     u'KERNEL=="sd[a-d]?|nvme*"'),
    ('tmpfiles_line: defaults', lambda: f.tmpfiles_line('w', '/sys/kernel/mm/x', 'never', 't'),
     u'w /sys/kernel/mm/x - - - - never'),
    ('tmpfiles_line: % and backslash escaped', lambda: f.tmpfiles_line('w', '/sys/x%n', 'a%b\\c', 't'),
     u'w /sys/x%%n - - - - a%%b\\\\c'),
    ('tmpfiles_line: w+ and fields', lambda: f.tmpfiles_line('w+', '/sys/x', '1', 't', mode='0644', user='root',
                                                             group='root', age='1d'),
     u'w+ /sys/x 0644 root root 1d 1'),
    ('tmpfiles_line: argument with spaces and tabs-free text', lambda: f.tmpfiles_line('w', '/sys/x', 'a b', 't'),
     u'w /sys/x - - - - a b'),
    ('tmpfiles_writes: nothing is no file', lambda: f.tmpfiles_writes(u'# head\n', [], 't'), None),
    ('tmpfiles_writes: header as given, then w lines in the order given',
     lambda: f.tmpfiles_writes(u'# head\n', [('/sys/b', 'madvise', None), ('/sys/a%n', 12, None)], 't'),
     u'# head\nw /sys/b - - - - madvise\nw /sys/a%%n - - - - 12\n'),
    ('tmpfiles_writes: a comment as # lines after a blank line',
     lambda: f.tmpfiles_writes(u'# head\n# more\n', [('/sys/x', '5%', 'x: why\n  not'), ('/sys/y', '1', None)], 't'),
     u'# head\n# more\n\n# x: why\n# not\nw /sys/x - - - - 5%%\nw /sys/y - - - - 1\n'),
    ('tmpfiles_writes: an empty comment is a bare #', lambda: f.tmpfiles_writes(u'', [('/proc/x', '1', '')], 't'),
     u'\n#\nw /proc/x - - - - 1\n'),
    ('sysctl_line: an integer', lambda: f.sysctl_line('vm.swappiness', 1, 's'), u'vm.swappiness = 1'),
    ('sysctl_line: a / key and a glob key', lambda: f.sysctl_line('net/ipv4/conf/*/rp_filter', '2', 's'),
     u'net/ipv4/conf/*/rp_filter = 2'),
    ('sysctl_line: a -key (ignore failure)', lambda: f.sysctl_line('-kernel.x', '1', 's'), u'-kernel.x = 1'),
    ('sysctl_line: a string kept byte for byte', lambda: f.sysctl_line('kernel.core_pattern', '|/x %p $y "q" \'r\' z\\',
                                                                       's'),
     u'kernel.core_pattern = |/x %p $y "q" \'r\' z\\'),
    ('sysctl_line: fields separated by spaces', lambda: f.sysctl_line('net.ipv4.ip_local_port_range', '1024 65000', 's'),
     u'net.ipv4.ip_local_port_range = 1024 65000'),
    ('limits_line: aligned', lambda: f.limits_line('*', '-', 'memlock', 'unlimited', 'l'),
     u'*      -     memlock  unlimited'),
    ('limits_line: @group and soft', lambda: f.limits_line('@inference', 'soft', 'nofile', 1048576, 'l'),
     u'@inference soft  nofile   1048576'),
    ('kernel_param: key=value', lambda: f.kernel_param('hugepagesz=1G', 'k'), u'hugepagesz=1G'),
    ('kernel_param: a bare key', lambda: f.kernel_param('nosoftlockup', 'k'), u'nosoftlockup'),
    ('kernel_param: list value', lambda: f.kernel_param('isolcpus=managed_irq,2-7', 'k'), u'isolcpus=managed_irq,2-7'),
    ('json_text: sorted, indented, ASCII, newline', lambda: f.json_text({'b': 1, 'a': u'caf\xe9'}),
     u'{\n  "a": "caf\\u00e9",\n  "b": 1\n}\n'),
    ('json_text: quotes, backslash, $ and % escaped by JSON only', lambda: f.json_text({'a': u'"x" \\ $y %z'}),
     u'{\n  "a": "\\"x\\" \\\\ $y %z"\n}\n'),
    ('json_text: nested lists, null, bool, float', lambda: json.loads(f.json_text({'a': [None, True, 1.5, {'b': []}]})),
     {'a': [None, True, 1.5, {'b': []}]}),
    ('json_text: key order kept when asked', lambda: f.json_text({'b': 1, 'a': 2}, sort_keys=False),
     u'{\n  "b": 1,\n  "a": 2\n}\n'),
    ('yaml_text: JSON behind a header', lambda: f.yaml_text({'cpuManagerPolicy': 'static'}, header='Managed'),
     u'# Managed\n{\n  "cpuManagerPolicy": "static"\n}\n'),
    ('yaml_text: a header with line breaks stays comments', lambda: f.yaml_text({'a': 1}, header='x\ny: 1'),
     u'# x\n# y: 1\n{\n  "a": 1\n}\n'),
]


@pytest.mark.parametrize('call, expected', [pytest.param(c, e, id=i) for i, c, e in ENCODES])
def test_encodes(call, expected):
    assert call() == expected


# -- what each writer refuses: (id, call, what, message fragments) ----------------------------------------
CONTROL = [('newline', u'a\nb', 'U+000A'), ('CR', u'a\rb', 'U+000D'), ('NUL', u'a\x00b', 'U+0000'),
           ('tab', u'a\tb', 'U+0009'), ('ESC', u'a\x1bb', 'U+001B'), ('DEL', u'a\x7fb', 'U+007F'),
           ('U+2028', u'a\u2028b', 'LINE SEPARATOR'), ('U+2029', u'a\u2029b', 'PARAGRAPH SEPARATOR'),
           ('U+0085', u'a\x85b', 'U+0085'), ('vertical tab', u'a\x0bb', 'U+000B'), ('form feed', u'a\x0cb', 'U+000C'),
           ('bidi override', u'a\u202eb', 'RIGHT-TO-LEFT OVERRIDE'), ('zero-width space', u'a\u200bb', 'U+200B'),
           ('lone surrogate', u'a\ud800b', 'U+D800'), ('trailing newline', u'ab\n', 'U+000A')]

REFUSES = []
for name, value, char in CONTROL:
    REFUSES += [
        ('text: %s' % name, lambda v=value: f.text(v, 'opt'), 'opt', [char, 'not allowed']),
        ('unit_value: %s' % name, lambda v=value: f.unit_value(v, 'description'), 'description', [char]),
        ('exec_line word: %s' % name, lambda v=value: f.exec_line(['/x', v], 'command'), 'command[1]', [char]),
        ('environment value: %s' % name, lambda v=value: f.environment('A', v, 'environment'), 'environment[A]',
         [char]),
        ('sysctl_line value: %s' % name, lambda v=value: f.sysctl_line('vm.x', v, 'settings'), 'settings[vm.x]',
         [char]),
        ('json_text string: %s' % name, lambda v=value: f.json_text({'a': [v]}, 'kubelet'), 'kubelet.a[0]', [char]),
        ('udev_rule value: %s' % name, lambda v=value: f.udev_rule([('KERNEL', '==', v)], 'devices'),
         'devices KERNEL', [char]),
        ('tmpfiles_line argument: %s' % name, lambda v=value: f.tmpfiles_line('w', '/sys/x', v, 'thp'), 'thp value',
         [char]),
    ]

REFUSES += [
    # text(): types and emptiness
    ('text: None', lambda: f.text(None, 'opt'), 'opt', ['expected a string']),
    ('text: a boolean', lambda: f.text(True, 'opt'), 'opt', ['expected a string']),
    ('text: a list', lambda: f.text(['a'], 'opt'), 'opt', ['expected a string, got list']),
    ('text: a dict', lambda: f.text({'a': 1}, 'opt'), 'opt', ['expected a string, got dict']),
    ('text: Latin-1 bytes', lambda: f.text(b'caf\xe9', 'opt'), 'opt', ['not UTF-8']),
    ('text: empty when not allowed', lambda: f.text(u'', 'opt', allow_empty=False), 'opt', ['must not be empty']),
    # word()
    ('word: a space', lambda: f.word(u'a b', 'opt', WORD, 'lower-case letters'), 'opt', ["'a b'", 'lower-case letters']),
    ('word: a trailing newline', lambda: f.word(u'ab\n', 'opt', WORD, 'hint'), 'opt', ['U+000A']),
    ('word: empty', lambda: f.word(u'', 'opt', WORD, 'hint'), 'opt', ['must not be empty']),
    ('word: .. and /', lambda: f.word(u'../x', 'opt', WORD, 'hint'), 'opt', ["'../x'", 'hint']),
    # unit files
    ('unit_value: a trailing backslash', lambda: f.unit_value(u'x \\', 'description'), 'description',
     ['backslash', 'join it with the next line']),
    ('unit_value: a leading space', lambda: f.unit_value(u' x', 'description'), 'description', ['remove them']),
    ('unit_value: a trailing space', lambda: f.unit_value(u'x ', 'description'), 'description', ['remove them']),
    ('unit_value: Verbatim with a newline', lambda: f.unit_value(f.Verbatim(u'a\nb'), 'ExecStart'), 'ExecStart',
     ['U+000A']),
    ('unit: a section name with ]', lambda: f.unit([('Serv]ice', [])], what='unit'), 'unit section', ["'Serv]ice'"]),
    ('unit: a section with a newline', lambda: f.unit([('Service\n[Unit', [])], what='unit'), 'unit section',
     ['U+000A']),
    ('unit: a key with a space', lambda: f.unit([('Service', [('Exec Start', 'x')])], what='unit'), 'unit key',
     ['setting name']),
    ('unit: a key with =', lambda: f.unit([('Service', [('A=B', 'x')])], what='unit'), 'unit key', ["'A=B'"]),
    ('unit: a key with a newline', lambda: f.unit([('Service', [('User\nExecStartPre', 'x')])], what='unit'),
     'unit key', ['U+000A']),
    ('unit: a value with a newline names the key',
     lambda: f.unit([('Service', [('User', 'a\nUser=root')])], what='unit'), 'unit User=', ['U+000A']),
    ('unit: a value ending in a backslash', lambda: f.unit([('Unit', [('Description', 'x\\')])], what='unit'),
     'unit Description=', ['backslash']),
    ('exec_line: empty list', lambda: f.exec_line([], 'command'), 'command', ['non-empty list']),
    ('exec_line: a string, not a list', lambda: f.exec_line('/bin/x', 'command'), 'command', ['non-empty list']),
    ('exec_line: + prefix', lambda: f.exec_line(['+/bin/sh', '-c', 'id'], 'command'), 'command', ['prefixes']),
    ('exec_line: - prefix', lambda: f.exec_line(['-/bin/true'], 'command'), 'command', ['prefixes']),
    ('exec_line: @ prefix', lambda: f.exec_line(['@/bin/x', 'y'], 'command'), 'command', ['prefixes']),
    ('exec_line: ! prefix', lambda: f.exec_line(['!!/bin/x'], 'command'), 'command', ['prefixes']),
    ('exec_line: : prefix', lambda: f.exec_line([':/bin/x'], 'command'), 'command', ['prefixes']),
    ('exec_line: a program with a space', lambda: f.exec_line(['/bin/my prog'], 'command'), 'command',
     ['white space']),
    ('exec_line: a program with $', lambda: f.exec_line(['/bin/$X'], 'command'), 'command', ['"$"']),
    ('exec_line: a program with %', lambda: f.exec_line(['/bin/%n'], 'command'), 'command', ['"%"']),
    ('exec_line: a quoted program', lambda: f.exec_line(['"/bin/x"'], 'command'), 'command', ['quotes']),
    ('exec_line: a program with a backslash', lambda: f.exec_line(['/bin/x\\'], 'command'), 'command',
     ['/bin/x']),
    ('exec_line: a program with ;', lambda: f.exec_line(['/bin/x;id'], 'command'), 'command', ['/bin/x;id']),
    ('exec_line: an empty program', lambda: f.exec_line([''], 'command'), 'command', ['program']),
    ('exec_line: a None word', lambda: f.exec_line(['/x', None], 'command'), 'command[1]', ['expected a string']),
    ('exec_line: a boolean word', lambda: f.exec_line(['/x', True], 'command'), 'command[1]', ['expected a string']),
    # environment names and values
    ('env_name: a leading digit', lambda: f.env_name(u'1A', 'environment key'), 'environment key', ['not starting']),
    ('env_name: a space', lambda: f.env_name(u'A B', 'environment key'), 'environment key', ["'A B'"]),
    ('env_name: =', lambda: f.env_name(u'A=B', 'environment key'), 'environment key', ["'A=B'"]),
    ('env_name: $', lambda: f.env_name(u'A$B', 'environment key'), 'environment key', ["'A$B'"]),
    ('env_name: a newline', lambda: f.env_name(u'A\nB', 'environment key'), 'environment key', ['U+000A']),
    ('env_name: empty', lambda: f.env_name(u'', 'environment key'), 'environment key', ['must not be empty']),
    ('environment: a bad name', lambda: f.environment('A-B', 'x', 'environment'), 'environment key', ["'A-B'"]),
    ('environment: a None value', lambda: f.environment('A', None, 'environment'), 'environment[A]',
     ['expected a string']),
    ('environment: a list value', lambda: f.environment('A', ['x'], 'environment'), 'environment[A]',
     ['expected a string']),
    # environment files
    ('env_file_line: a space', lambda: f.env_file_line('A', 'x y', 'env_file'), 'env_file[A]', ['no spaces']),
    ('env_file_line: a double quote', lambda: f.env_file_line('A', 'x"y', 'env_file'), 'env_file[A]', ['quotes']),
    ("env_file_line: a single quote", lambda: f.env_file_line('A', "x'y", 'env_file'), 'env_file[A]', ['quotes']),
    ('env_file_line: $', lambda: f.env_file_line('A', '$HOME', 'env_file'), 'env_file[A]', ['"$"']),
    ('env_file_line: #', lambda: f.env_file_line('A', 'x#y', 'env_file'), 'env_file[A]', ['"#"']),
    ('env_file_line: a trailing backslash', lambda: f.env_file_line('A', 'x\\', 'env_file'), 'env_file[A]',
     ['backslashes']),
    ('env_file_line: ` and ;', lambda: f.env_file_line('A', 'a;`id`', 'env_file'), 'env_file[A]', ['letters']),
    ('env_file_line: a newline', lambda: f.env_file_line('A', 'x\nB=y', 'env_file'), 'env_file[A]', ['U+000A']),
    ('env_file_line: a bad name', lambda: f.env_file_line('export A', 'x', 'env_file'), 'env_file key',
     ["'export A'"]),
    # udev rules
    ('udev_rule: a lower-case key', lambda: f.udev_rule([('kernel', '==', 'x')], 'devices'), 'devices key',
     ['upper-case']),
    ('udev_rule: a key with a quote', lambda: f.udev_rule([('ATTR{a"}', '=', 'x')], 'devices'), 'devices key',
     ['upper-case']),
    ('udev_rule: an unknown operator', lambda: f.udev_rule([('KERNEL', '~=', 'x')], 'devices'), 'devices',
     ['unknown udev operator']),
    ('udev_rule: a double quote', lambda: f.udev_rule([('KERNEL', '==', 'a", RUN+="/bin/sh')], 'devices'),
     'devices KERNEL', ['quotes']),
    ('udev_rule: a backslash', lambda: f.udev_rule([('KERNEL', '==', 'a\\')], 'devices'), 'devices KERNEL',
     ['backslashes']),
    ('udev_rule: $', lambda: f.udev_rule([('KERNEL', '==', '$kernel')], 'devices'), 'devices KERNEL', ['"$"']),
    ('udev_rule: %', lambda: f.udev_rule([('KERNEL', '==', '%k')], 'devices'), 'devices KERNEL', ['"%"']),
    # tmpfiles.d
    ('tmpfiles_line: an unknown type', lambda: f.tmpfiles_line('y', '/sys/x', '1', 'thp'), 'thp type',
     ['tmpfiles.d line type']),
    ('tmpfiles_line: a type with a space', lambda: f.tmpfiles_line('w /etc/shadow', '/sys/x', '1', 'thp'), 'thp type',
     ['tmpfiles.d line type']),
    ('tmpfiles_line: a relative path', lambda: f.tmpfiles_line('w', 'sys/x', '1', 'thp'), 'thp path',
     ['absolute path']),
    ('tmpfiles_line: a path with a space', lambda: f.tmpfiles_line('w', '/sys/x y', '1', 'thp'), 'thp path',
     ['without white space']),
    ('tmpfiles_line: a path with ..', lambda: f.tmpfiles_line('w', '/sys/../etc/shadow', '1', 'thp'), 'thp path',
     ['".."']),
    ('tmpfiles_line: a path ending in ..', lambda: f.tmpfiles_line('w', '/sys/kernel/..', '1', 'thp'), 'thp path',
     ['".."']),
    ('tmpfiles_line: a path with .', lambda: f.tmpfiles_line('w', '/sys/./x', '1', 'thp'), 'thp path', ['"."']),
    ('tmpfiles_line: a path with a newline', lambda: f.tmpfiles_line('w', '/sys/x\n', '1', 'thp'), 'thp path',
     ['U+000A']),
    ('tmpfiles_line: a mode with a space', lambda: f.tmpfiles_line('w', '/sys/x', '1', 'thp', mode='0 644'),
     'thp mode', ['one word']),
    ('tmpfiles_line: an empty user', lambda: f.tmpfiles_line('w', '/sys/x', '1', 'thp', user=''), 'thp user',
     ['must not be empty']),
    ('tmpfiles_writes: a bad path in the second entry', lambda: f.tmpfiles_writes(
        u'# h\n', [('/sys/x', '1', None), ('/sys/../etc/shadow', '1', None)], 'hugepages'), 'hugepages path', ['".."']),
    ('tmpfiles_writes: a value with a newline', lambda: f.tmpfiles_writes(u'# h\n', [('/sys/x', 'a\nb', 'c')], 's'),
     's value', ['U+000A']),
    # sysctl.d
    ('sysctl_line: a key starting with .', lambda: f.sysctl_line('../etc/shadow', '1', 'settings'), 'settings key',
     ['sysctl key']),
    ('sysctl_line: a key with a space', lambda: f.sysctl_line('vm. swappiness', '1', 'settings'), 'settings key',
     ['sysctl key']),
    ('sysctl_line: a key with =', lambda: f.sysctl_line('vm.a=b', '1', 'settings'), 'settings key', ['sysctl key']),
    ('sysctl_line: a key with a newline', lambda: f.sysctl_line('vm.a\nkernel.b', '1', 'settings'), 'settings key',
     ['U+000A']),
    ('sysctl_line: an empty value', lambda: f.sysctl_line('vm.x', '', 'settings'), 'settings[vm.x]',
     ['must not be empty']),
    ('sysctl_line: a leading space', lambda: f.sysctl_line('vm.x', ' 1', 'settings'), 'settings[vm.x]',
     ['white space']),
    ('sysctl_line: a trailing space', lambda: f.sysctl_line('vm.x', '1 ', 'settings'), 'settings[vm.x]',
     ['white space']),
    ('sysctl_line: a boolean value', lambda: f.sysctl_line('vm.x', True, 'settings'), 'settings[vm.x]',
     ['expected a string']),
    # limits.d
    ('limits_line: a domain with a space', lambda: f.limits_line('a b', '-', 'memlock', 'unlimited', 'limits'),
     'limits domain', ['@group']),
    ('limits_line: a domain with a newline', lambda: f.limits_line('*\n*', '-', 'memlock', 'unlimited', 'limits'),
     'limits domain', ['U+000A']),
    ('limits_line: an unknown type', lambda: f.limits_line('*', 'both', 'memlock', 'unlimited', 'limits'),
     'limits type', ['soft, hard or -']),
    ('limits_line: an upper-case item', lambda: f.limits_line('*', '-', 'MEMLOCK', 'unlimited', 'limits'),
     'limits item', ['memlock']),
    ('limits_line: a value with a space', lambda: f.limits_line('*', '-', 'memlock', '1 2', 'limits'),
     'limits value', ['a number, unlimited or infinity']),
    ('limits_line: a value with $', lambda: f.limits_line('*', '-', 'memlock', '$X', 'limits'), 'limits value',
     ['a number']),
    # kernel command line
    ('kernel_param: a space', lambda: f.kernel_param('a b', 'pools'), 'pools', ['key=value']),
    ('kernel_param: $(...)', lambda: f.kernel_param('a=$(id)', 'pools'), 'pools', ["'a=$(id)'"]),
    ('kernel_param: a backquote', lambda: f.kernel_param('a=`id`', 'pools'), 'pools', ['key=value']),
    ('kernel_param: double quotes', lambda: f.kernel_param('a="x"', 'pools'), 'pools', ['key=value']),
    ("kernel_param: single quotes", lambda: f.kernel_param("a='x'", 'pools'), 'pools', ['key=value']),
    ('kernel_param: ;', lambda: f.kernel_param('a;reboot', 'pools'), 'pools', ['key=value']),
    ('kernel_param: a trailing backslash', lambda: f.kernel_param('a=b\\', 'pools'), 'pools', ['key=value']),
    ('kernel_param: a leading -', lambda: f.kernel_param('-x', 'pools'), 'pools', ['key=value']),
    ('kernel_param: an empty value', lambda: f.kernel_param('a=', 'pools'), 'pools', ['key=value']),
    ('kernel_param: a newline', lambda: f.kernel_param('a=1\n', 'pools'), 'pools', ['U+000A']),
    ('kernel_param: %', lambda: f.kernel_param('a=%x', 'pools'), 'pools', ['key=value']),
    # JSON and YAML
    ('json_text: a non-string key', lambda: f.json_text({1: 'x'}, 'daemon.json'), 'daemon.json', ['keys must be strings']),
    ('json_text: a key with a newline', lambda: f.json_text({'a\nb': 1}, 'daemon.json'), 'daemon.json key',
     ['U+000A']),
    ('json_text: bytes', lambda: f.json_text({'a': b'x'}, 'daemon.json'), 'daemon.json.a', ['cannot hold a bytes']),
    ('json_text: a set', lambda: f.json_text({'a': set([1])}, 'daemon.json'), 'daemon.json.a', ['cannot hold a set']),
    ('json_text: an object', lambda: f.json_text({'a': object()}, 'daemon.json'), 'daemon.json.a',
     ['cannot hold a object']),
    ('json_text: a nested string', lambda: f.json_text({'a': {'b': u'x\u2028y'}}, 'daemon.json'), 'daemon.json.a.b',
     ['LINE SEPARATOR']),
    ('yaml_text: a string with a newline',
     lambda: f.yaml_text({'reservedSystemCPUs': '0\ncpuManagerPolicy: none'}, what='kubelet configuration'),
     'kubelet configuration.reservedSystemCPUs', ['U+000A']),
    ('yaml_text: a list item with NUL', lambda: f.yaml_text({'a': ['x\x00']}, what='kubelet configuration'),
     'kubelet configuration.a[0]', ['U+0000']),
]


@pytest.mark.parametrize('call, what, words', [pytest.param(c, w, ws, id=i) for i, c, w, ws in REFUSES])
def test_refuses(call, what, words):
    with pytest.raises(f.FormatError) as exc:
        call()
    msg = str(exc.value)
    assert exc.value.what == what, msg
    assert msg.startswith(what + ': '), msg
    missing = [w for w in words if w not in msg]
    assert not missing, 'message lacks %r: %s' % (missing, msg)


def test_format_error_without_what_is_the_bare_message():
    e = f.FormatError(None, 'plain')
    assert str(e) == 'plain' and e.what is None


def test_a_long_value_is_shortened_in_the_message():
    with pytest.raises(f.FormatError) as exc:
        f.text(u'x' * 500 + u'\n', 'opt')
    assert len(str(exc.value)) < 300 and '...' in str(exc.value)


@pytest.mark.parametrize('value', [u'nvme\n', u'a\u2028b', u'ok'])
def test_comment_lines_never_start_a_line_that_is_not_a_comment(value):
    for line in f.comment_lines(u'head %s tail\nsecond\r\nthird' % value):
        assert line.startswith(u'#') and not f._bad_char(line)
