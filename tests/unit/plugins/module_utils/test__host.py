# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""_host: the one place that maps host paths under a root, reads them and writes pseudo-files.

Every test runs on the fake two-socket tree (``fake_host``): nothing here reads or writes this
machine's /proc, /sys or /etc.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno
import os
from collections import namedtuple

import pytest

from ansible_collections.inference.host_tuning.plugins.module_utils import _host

THP = '/sys/kernel/mm/transparent_hugepage/enabled'


def write_bytes(fake_host, path, data):
    full = fake_host.path(path)
    if not os.path.isdir(os.path.dirname(full)):
        os.makedirs(os.path.dirname(full))
    with open(full, 'wb') as f:
        f.write(data)
    return full


def raw(fake_host, path):
    with open(fake_host.path(path), 'rb') as f:
        return f.read()


# -- the root --------------------------------------------------------------------------------------------
def test_host_path_maps_under_the_root(fake_host):
    assert _host.root() == fake_host.root
    assert _host.host_path('/proc/sys/vm/swappiness') == os.path.join(fake_host.root, 'proc/sys/vm/swappiness')
    assert _host.host_path('/') == os.path.join(fake_host.root, '')
    # what the mapped path names is the fake tree's file, not this machine's
    with open(_host.host_path('/proc/sys/kernel/osrelease')) as f:
        assert f.read() == '6.1.0-27-amd64\n'


@pytest.mark.parametrize('root', ['', '/'])
def test_host_path_is_the_path_itself_without_a_root(fake_host, monkeypatch, root):
    """No root set (or '/'): the path is used as it is (only mapped here, nothing is opened)."""
    monkeypatch.setenv(_host.ROOT_ENV, root)
    assert _host.root() == '/'
    assert _host.host_path('/proc/sys/vm/swappiness') == '/proc/sys/vm/swappiness'


@pytest.mark.parametrize('path', ['proc/sys/vm/swappiness', '', 'etc/fstab', './etc'])
def test_host_path_refuses_a_relative_path(fake_host, path):
    with pytest.raises(ValueError, match='host paths must be absolute'):
        _host.host_path(path)


def test_exists_isdir_listdir(fake_host):
    assert _host.exists('/etc/fstab') and not _host.isdir('/etc/fstab')
    assert _host.isdir('/etc/sysctl.d') and _host.exists('/etc/sysctl.d')
    assert not _host.exists('/etc/nope') and not _host.isdir('/etc/nope')
    fake_host.write('/etc/x.d/b.conf', '')
    fake_host.write('/etc/x.d/a.conf', '')
    fake_host.write('/etc/x.d/C.conf', '')
    assert _host.listdir('/etc/x.d') == ['C.conf', 'a.conf', 'b.conf']
    assert _host.listdir('/etc/nope.d') == []
    assert _host.listdir('/etc/fstab') == []    # a file is not a directory: nothing listed, no error


def test_read_returns_text_or_the_default(fake_host):
    assert _host.read('/proc/sys/vm/swappiness') == '60\n'
    assert _host.read('/proc/sys/vm/nope') is None
    assert _host.read('/proc/sys/vm/nope', 'dflt') == 'dflt'
    assert _host.read('/proc/sys/vm', 'dir') == 'dir'
    write_bytes(fake_host, '/etc/latin1', b'caf\xe9\n')
    assert _host.read('/etc/latin1', 'bad') == 'bad'


# -- read_text_file: None only when nothing is there ---------------------------------------------------
def test_read_text_file_reads_utf8_and_links_to_files(fake_host):
    write_bytes(fake_host, '/etc/u.conf', u'caf\xe9 = 1\n'.encode('utf-8'))
    assert _host.read_text_file('/etc/u.conf') == u'caf\xe9 = 1\n'
    # the Debian link /etc/sysctl.d/99-sysctl.conf -> ../sysctl.conf is read through
    assert _host.read_text_file('/etc/sysctl.d/99-sysctl.conf') == '#kernel.domainname = example.com\n'
    fake_host.write('/etc/empty.conf', '')
    assert _host.read_text_file('/etc/empty.conf') == ''


def test_read_text_file_none_only_when_absent(fake_host):
    assert _host.read_text_file('/etc/nope.conf') is None
    assert _host.read_text_file('/etc/missing.d/nope.conf') is None


@pytest.mark.parametrize('make, fragment', [
    (lambda h: h.mkdir('/etc/x.conf'), 'is a directory where a file is expected; move it aside'),
    (lambda h: h.symlink('/etc/gone.conf', '/etc/x.conf'), 'is not a regular file (a dangling link'),
    (lambda h: h.symlink('nowhere', '/etc/x.conf'), 'is not a regular file (a dangling link'),
    (lambda h: write_bytes(h, '/etc/x.conf', b'ok\ncaf\xe9\n'),
     'is not UTF-8 text (byte 0xe9 at offset 6), so it cannot be edited safely'),
    (lambda h: write_bytes(h, '/etc/x.conf', b'\xff'), 'is not UTF-8 text (byte 0xff at offset 0)'),
], ids=['directory', 'dangling absolute link', 'dangling relative link', 'latin-1 byte', 'leading 0xff'])
def test_read_text_file_refuses_what_is_not_a_text_file(fake_host, make, fragment):
    make(fake_host)
    before = fake_host.tree()
    with pytest.raises(_host.FileError) as exc:
        _host.read_text_file('/etc/x.conf')
    assert str(exc.value).startswith('/etc/x.conf ')
    assert fragment in str(exc.value)
    assert exc.value.path == '/etc/x.conf'
    assert isinstance(exc.value, ValueError)
    assert fake_host.tree() == before     # refusing it changes nothing


def test_read_text_file_refuses_a_fifo_without_opening_it(fake_host):
    """Opening a FIFO would block until a writer comes: it must be refused before any open()."""
    os.mkfifo(fake_host.path('/etc/x.conf'))
    with pytest.raises(_host.FileError, match='is not a regular file'):
        _host.read_text_file('/etc/x.conf')
    os.unlink(fake_host.path('/etc/x.conf'))    # fake_host.tree() would block on it


def test_read_lenient_replaces_bad_bytes_but_keeps_the_lines(fake_host):
    write_bytes(fake_host, '/etc/fstab', b'# caf\xe9\nUUID=1 none swap sw 0 0\n')
    text = _host.read_lenient('/etc/fstab')
    assert text == u'# caf\ufffd\nUUID=1 none swap sw 0 0\n'
    assert _host.read_lenient('/etc/nope') is None
    assert _host.read_lenient('/etc/nope', '') == ''
    assert _host.read_lenient('/etc/sysctl.d', 'd') == 'd'


@pytest.mark.parametrize('make, expected', [
    (None, None),
    (lambda h: h.write('/etc/x.conf', 'a = 1\n'), 'a = 1\n'),
    (lambda h: write_bytes(h, '/etc/x.conf', b'ab\xe9cd'), '(5 bytes that are not UTF-8 text)\n'),
    (lambda h: h.mkdir('/etc/x.conf'), '(not a readable file)\n'),
    (lambda h: h.symlink('gone', '/etc/x.conf'), '(not a readable file)\n'),
], ids=['absent', 'text', 'not UTF-8', 'directory', 'dangling link'])
def test_read_for_diff(fake_host, make, expected):
    if make:
        make(fake_host)
    assert _host.read_for_diff('/etc/x.conf') == expected


def test_read_bytes_is_byte_exact(fake_host):
    data = b'\x00\xff\r\nline\n'
    write_bytes(fake_host, '/etc/blob', data)
    assert _host.read_bytes('/etc/blob') == data
    assert _host.read_bytes('/etc/nope') is None
    assert _host.read_bytes('/etc/nope', b'') == b''


@pytest.mark.parametrize('content, expected', [
    ('60\n', '60'),
    ('  32768\t60999 \n', '32768\t60999'),
    ('\n', ''),
], ids=['value', 'inner tab kept', 'empty'])
def test_read_value_strips_surrounding_space(fake_host, content, expected):
    fake_host.write('/proc/sys/x/y', content)
    assert _host.read_value('/proc/sys/x/y') == expected


def test_read_value_default(fake_host):
    assert _host.read_value('/proc/sys/x/nope') is None
    assert _host.read_value('/proc/sys/x/nope', '0') == '0'


@pytest.mark.parametrize('content, expected', [
    ('[always] madvise never\n', 'always'),
    ('always [madvise] never\n', 'madvise'),
    ('always defer defer+madvise [madvise] never\n', 'madvise'),
    ('always defer [defer+madvise] madvise never\n', 'defer+madvise'),
    ('none [mq-deadline] kyber bfq\n', 'mq-deadline'),
    ('powersave\n', 'powersave'),
    ('  performance  \n', 'performance'),
    ('\n', 'DEFAULT'),
    ('', 'DEFAULT'),
], ids=['first', 'middle', 'defrag madvise', 'defrag plus', 'scheduler', 'plain word', 'plain spaced',
        'blank line', 'empty'])
def test_read_selected(fake_host, content, expected):
    fake_host.write('/sys/x/choice', content)
    assert _host.read_selected('/sys/x/choice', 'DEFAULT') == expected


def test_read_selected_reads_the_fake_tree(fake_host):
    assert _host.read_selected(THP) == 'always'
    assert _host.read_selected('/sys/kernel/mm/transparent_hugepage/defrag') == 'madvise'
    assert _host.read_selected('/sys/block/nvme1n1/queue/scheduler') == 'mq-deadline'
    assert _host.read_selected('/sys/block/nope/queue/scheduler') is None


# -- runtime writes ----------------------------------------------------------------------------------------
def test_write_runtime_writes_the_value_and_a_newline(fake_host):
    _host.write_runtime('/proc/sys/vm/swappiness', 1)
    assert raw(fake_host, '/proc/sys/vm/swappiness') == b'1\n'
    _host.write_runtime('/proc/sys/net/ipv4/ip_local_port_range', '1024\t65000')
    assert raw(fake_host, '/proc/sys/net/ipv4/ip_local_port_range') == b'1024\t65000\n'
    _host.write_runtime(THP, 'never')
    assert _host.read_selected(THP) == 'never'


def test_write_runtime_error_names_the_path_and_errno(fake_host):
    before = fake_host.tree()
    with pytest.raises(_host.RuntimeWriteError) as exc:
        _host.write_runtime('/proc/sys/vm/nodir/x', '1')
    assert exc.value.path == '/proc/sys/vm/nodir/x'
    assert exc.value.errno == errno.ENOENT
    assert exc.value.readonly is False
    assert str(exc.value).startswith('/proc/sys/vm/nodir/x: ')
    with pytest.raises(_host.RuntimeWriteError) as exc:
        _host.write_runtime('/proc/sys/vm', '1')      # a directory
    assert exc.value.errno == errno.EISDIR and exc.value.readonly is False
    assert fake_host.tree() == before


def test_write_runtime_on_a_readonly_area_is_marked_readonly(fake_host):
    fake_host.make_readonly('/proc/sys')
    with pytest.raises(_host.RuntimeWriteError) as exc:
        _host.write_runtime('/proc/sys/vm/swappiness', '1')
    assert exc.value.readonly is True and exc.value.errno == errno.EROFS
    assert fake_host.read('/proc/sys/vm/swappiness') == '60\n'


@pytest.mark.parametrize('code, readonly', [
    (errno.EROFS, True), (errno.EACCES, True), (errno.EPERM, True),
    (errno.EINVAL, False), (errno.ENOENT, False), (None, False),
])
def test_runtime_write_error_readonly_flag(code, readonly):
    err = OSError(code, 'boom') if code is not None else ValueError('boom')
    e = _host.RuntimeWriteError('/sys/x', err)
    assert e.errno == code
    assert e.readonly is readonly
    assert str(e) == '/sys/x: boom'


def test_is_readonly_on_a_writable_tree(fake_host):
    assert _host.is_readonly('/proc/sys/vm/swappiness') is False
    # a new file in an existing directory: the directory decides
    assert _host.is_readonly('/proc/sys/vm/new_knob') is False
    # a file whose directory does not exist cannot be written
    assert _host.is_readonly('/proc/sys/nodir/x') is True


def test_is_readonly_follows_the_filesystem_flag(fake_host, monkeypatch):
    seen = []
    Vfs = namedtuple('Vfs', 'f_flag')

    def statvfs(path):
        seen.append(path)
        return Vfs(os.ST_RDONLY)

    monkeypatch.setattr(os, 'statvfs', statvfs)
    assert _host.is_readonly('/proc/sys/vm/swappiness') is True
    assert seen == [fake_host.path('/proc/sys/vm/swappiness')]     # the file in the fake tree was probed
    assert _host.is_readonly('/proc/sys/vm/new_knob') is True
    assert seen[-1] == fake_host.path('/proc/sys/vm')               # its directory, for a file not there


def test_is_readonly_when_statvfs_fails(fake_host, monkeypatch):
    def statvfs(path):
        raise OSError(errno.EACCES, 'denied')

    monkeypatch.setattr(os, 'statvfs', statvfs)
    assert _host.is_readonly('/proc/sys/vm/swappiness') is True


def test_is_readonly_honours_the_fake_readonly_prefixes(fake_host):
    fake_host.make_readonly('/proc/sys')
    assert _host.is_readonly('/proc/sys/vm/swappiness') is True
    assert _host.is_readonly(THP) is False


# -- kernel ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize('release, version', [
    ('6.1.0-27-amd64', (6, 1)),
    ('5.15.0-122-generic', (5, 15)),
    ('6.10.3-arch1', (6, 10)),
    ('4.18.0-553.el8_10.x86_64', (4, 18)),
    ('6.8', (6, 8)),
    ('6', (0, 0)),
    ('unknown', (0, 0)),
    ('v6.1', (0, 0)),
])
def test_kernel_version_parses_a_release(release, version):
    assert _host.kernel_version(release) == version


def test_kernel_version_compares_numerically():
    assert _host.kernel_version('6.10.0') > _host.kernel_version('6.6.0') > _host.kernel_version('5.13.0')


def test_kernel_version_reads_the_fake_osrelease(fake_host):
    assert _host.kernel_release() == '6.1.0-27-amd64'
    assert _host.kernel_version() == (6, 1)
    fake_host.kernel('6.6.30-rt')
    assert _host.kernel_release() == '6.6.30-rt'
    assert _host.kernel_version() == (6, 6)


def test_kernel_release_falls_back_to_uname(fake_host, monkeypatch):
    fake_host.remove('/proc/sys/kernel/osrelease')
    monkeypatch.setattr(os, 'uname', lambda: ('Linux', 'h', '5.14.0-fake', '#1', 'x86_64'))
    assert _host.kernel_release() == '5.14.0-fake'
    assert _host.kernel_version() == (5, 14)


# -- tmpfiles.d: what the next boot writes -------------------------------------------------------------------
def line(target, value, kind='w'):
    return '%s %s - - - - %s\n' % (kind, target, value)


def test_tmpfiles_value_none_when_nothing_writes_it(fake_host):
    assert _host.tmpfiles_value(THP) == (None, None)
    fake_host.write('/usr/lib/tmpfiles.d/other.conf', line('/sys/other', 'x') + 'd /run/foo 0755 root root -\n')
    assert _host.tmpfiles_value(THP) == (None, None)


@pytest.mark.parametrize('files, expected', [
    ({'/etc/tmpfiles.d/thp.conf': line(THP, 'madvise')}, ('madvise', '/etc/tmpfiles.d/thp.conf')),
    ({'/usr/lib/tmpfiles.d/thp.conf': line(THP, 'never', 'w+')}, ('never', '/usr/lib/tmpfiles.d/thp.conf')),
    # the first file by name wins, whichever directory it is in
    ({'/usr/lib/tmpfiles.d/10-a.conf': line(THP, 'never'), '/etc/tmpfiles.d/20-b.conf': line(THP, 'always')},
     ('never', '/usr/lib/tmpfiles.d/10-a.conf')),
    # the same name in /etc shadows /usr/lib (and /run, /usr/local/lib)
    ({'/usr/lib/tmpfiles.d/thp.conf': line(THP, 'never'), '/etc/tmpfiles.d/thp.conf': line(THP, 'madvise')},
     ('madvise', '/etc/tmpfiles.d/thp.conf')),
    ({'/usr/lib/tmpfiles.d/thp.conf': line(THP, 'never'), '/run/tmpfiles.d/thp.conf': line(THP, 'always')},
     ('always', '/run/tmpfiles.d/thp.conf')),
    ({'/usr/lib/tmpfiles.d/thp.conf': line(THP, 'never'), '/usr/local/lib/tmpfiles.d/thp.conf': '# nothing\n'},
     (None, None)),
    # an /etc file of that name without the line shadows the vendor one, a later name still counts
    ({'/usr/lib/tmpfiles.d/thp.conf': line(THP, 'never'), '/etc/tmpfiles.d/thp.conf': '\n',
      '/usr/lib/tmpfiles.d/zz.conf': line(THP, 'always')}, ('always', '/usr/lib/tmpfiles.d/zz.conf')),
    # within a file: the first line for the target
    ({'/etc/tmpfiles.d/a.conf': line('/sys/x', '1') + line(THP, 'never') + line(THP, 'always')},
     ('never', '/etc/tmpfiles.d/a.conf')),
    # only .conf files; comments and other types do not count
    ({'/etc/tmpfiles.d/thp.conf.disabled': line(THP, 'never'),
      '/etc/tmpfiles.d/a.conf': '# ' + line(THP, 'never') + 'f %s - - - - always\n' % THP},
     (None, None)),
    # the argument keeps its inner spaces
    ({'/etc/tmpfiles.d/a.conf': 'w %s - - - - a b  c \n' % THP}, ('a b  c', '/etc/tmpfiles.d/a.conf')),
], ids=['etc', 'usr lib w+', 'name order across dirs', 'etc shadows usr lib', 'run shadows usr lib',
        'usr local shadows usr lib', 'empty shadow, later name', 'first line', 'not conf, comment, other type',
        'argument with spaces'])
def test_tmpfiles_value(fake_host, files, expected):
    for path, content in files.items():
        fake_host.write(path, content)
    assert _host.tmpfiles_value(THP) == expected


def test_tmpfiles_value_a_dev_null_mask_hides_the_vendor_file(fake_host):
    fake_host.write('/usr/lib/tmpfiles.d/thp.conf', line(THP, 'never'))
    fake_host.write('/usr/lib/tmpfiles.d/zz-later.conf', line(THP, 'always'))
    assert _host.tmpfiles_value(THP) == ('never', '/usr/lib/tmpfiles.d/thp.conf')
    fake_host.symlink(os.devnull, '/etc/tmpfiles.d/thp.conf')    # systemctl mask style
    assert _host.tmpfiles_value(THP) == ('always', '/usr/lib/tmpfiles.d/zz-later.conf')
    fake_host.remove('/usr/lib/tmpfiles.d/zz-later.conf')
    assert _host.tmpfiles_value(THP) == (None, None)


@pytest.mark.parametrize('kind', ['w-', 'w!', 'w+!'])
def test_tmpfiles_value_lines_with_modifiers_count(fake_host, kind):
    fake_host.write('/etc/tmpfiles.d/thp.conf', line(THP, 'never', kind))
    assert _host.tmpfiles_value(THP) == ('never', '/etc/tmpfiles.d/thp.conf')
