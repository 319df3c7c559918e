# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Kernel command line: add and remove only our own parameters, never others'.

Parameters are handled in *groups*: tuples of tokens that belong together in
this order (``('hugepagesz=1G', 'hugepages=4')``: the kernel pairs a
``hugepages=`` with the ``hugepagesz=`` before it).  A group is present on a
command line when its tokens appear there one after the other.

Methods:

* ``grub_d`` (Debian, Ubuntu): a drop-in ``/etc/default/grub.d/90-inference-host-tuning.cfg``
  appending to ``GRUB_CMDLINE_LINUX_DEFAULT``, then ``update-grub`` (or
  ``grub-mkconfig -o /boot/grub/grub.cfg``) when the file changed.
* ``grubby`` (RHEL family): ``grubby --update-kernel=ALL --args=... --remove-args=...``
  with only our tokens; which tokens are ours is kept by the caller (ledger extra).
* ``file``: our parameters on one line in a file (a stand-in boot loader, for
  example a VM test loop that boots a kernel with them).

Every method has ``plan(params, previous)`` (reads only, sets ``changed`` and
``diff()``) and ``apply(ledger, owner)`` (changes the host).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.inference.host_tuning.plugins.module_utils import _files
from ansible_collections.inference.host_tuning.plugins.module_utils import _formats
from ansible_collections.inference.host_tuning.plugins.module_utils import _host

METHODS = ('grub_d', 'grubby', 'file')
GRUB_D_PATH = '/etc/default/grub.d/90-inference-host-tuning.cfg'
PROC_CMDLINE = '/proc/cmdline'


# -- token helpers ------------------------------------------------------------
def flatten(groups):
    return [t for g in groups for t in g]


def group_present(group, tokens):
    """True when the group's tokens appear consecutively in ``tokens``."""
    n = len(group)
    return any(tuple(tokens[i:i + n]) == tuple(group) for i in range(len(tokens) - n + 1))


def groups_present(groups, tokens):
    return all(group_present(g, tokens) for g in groups)


def running_tokens():
    return (_host.read('/proc/cmdline') or '').split()


def running(groups):
    """True when the running kernel was booted with all the groups."""
    return groups_present(groups, running_tokens())


def render_grub_d(owner, params):
    """The GRUB drop-in (a shell fragment update-grub sources): only checked kernel parameters go in."""
    params = [_formats.kernel_param(p, 'kernel parameter') for p in params]
    return _files.header(owner) + 'GRUB_CMDLINE_LINUX_DEFAULT="$GRUB_CMDLINE_LINUX_DEFAULT %s"\n' % ' '.join(params)


def grubby_edit(tokens, add, remove):
    """What grubby does to one entry's arguments.

    ``--remove-args`` drops exact ``key=value`` tokens (every token of a bare
    key); ``--args`` drops every token with the same key and appends the new ones.
    """
    def key(t):
        return t.split('=', 1)[0]

    out = list(tokens)
    for r in remove:
        out = [t for t in out if (t != r if '=' in r else key(t) != r)]
    add_keys = set(key(a) for a in add)
    out = [t for t in out if key(t) not in add_keys]
    return out + list(add)


def detect(module):
    """The method ``auto`` means here: grubby, else grub_d with update-grub; None when neither."""
    if module.get_bin_path('grubby'):
        return 'grubby'
    if module.get_bin_path('update-grub'):
        return 'grub_d'
    return None


def make(module, method, path=None):
    if method == 'grubby':
        return Grubby(module)
    if method == 'grub_d':
        return GrubD(module)
    if method == 'file':
        return CmdlineFile(module, path)
    raise ValueError('unknown kernel command line method %r' % (method,))


class _Method(object):
    name = None

    def __init__(self, module):
        self.module = module
        self.changed = False
        self.params = []
        self.previous = []

    def plan(self, params, previous=None):
        raise NotImplementedError

    def diff(self):
        return None

    def configured(self):
        """True when, after apply(), the boot loader holds ``params``."""
        return True

    def apply(self, ledger=None, owner=None):
        raise NotImplementedError

    def _fail(self, msg, **kwargs):
        self.module.fail_json(msg=msg, **kwargs)


class _FileMethod(_Method):
    """A method that is one managed file (and maybe a command after it changed)."""

    path = None

    def content(self, params):
        raise NotImplementedError

    def plan(self, params, previous=None):
        self.params = list(params)
        self.previous = list(previous or [])
        self.file = _files.ManagedFile(self.path, self.content(self.params) if self.params else None)
        self.changed = self.file.changed
        return self.changed

    def diff(self):
        return self.file.diff()

    def apply(self, ledger=None, owner=None):
        if not self.changed:
            return False
        self.file.apply(self.module, ledger, owner)
        return True


class CmdlineFile(_FileMethod):
    name = 'file'

    def __init__(self, module, path):
        super(CmdlineFile, self).__init__(module)
        self.path = path

    def content(self, params):
        return ' '.join(_formats.kernel_param(p, 'kernel parameter') for p in params) + '\n'


class GrubD(_FileMethod):
    name = 'grub_d'
    path = GRUB_D_PATH

    def __init__(self, module, owner='hugepages'):
        super(GrubD, self).__init__(module)
        self.owner = owner
        self.regen = None

    def content(self, params):
        return render_grub_d(self.owner, params)

    def regenerate_argv(self):
        """argv that regenerates grub.cfg from /etc/default/grub{,.d}; None when no tool is there."""
        update = self.module.get_bin_path('update-grub')
        if update:
            return [update]
        mkconfig = self.module.get_bin_path('grub-mkconfig')
        if mkconfig:
            return [mkconfig, '-o', '/boot/grub/grub.cfg']
        return None

    def plan(self, params, previous=None):
        changed = super(GrubD, self).plan(params, previous)
        if changed:
            self.regen = self.regenerate_argv()
            if self.regen is None:
                self._fail('cmdline_method=grub_d needs update-grub or grub-mkconfig, and neither was found; '
                           'install grub2-common or set cmdline_method to grubby or file')
        return changed

    def regenerate(self):
        argv = self.regen or self.regenerate_argv()
        if argv is None:
            self._fail('%s changed but neither update-grub nor grub-mkconfig was found to regenerate '
                       'the GRUB configuration; run it by hand' % GRUB_D_PATH)
        return self.module.run_command(argv)

    def apply(self, ledger=None, owner=None):
        if not self.changed:
            return False
        before = self.file.current
        self.file.apply(self.module, ledger, owner)
        rc, out, err = self.regenerate()
        if rc != 0:
            # Put the drop-in back so that the next run sees the change again and retries.
            if before is None:
                _files.remove(self.path)
            else:
                _files.atomic_write(self.module, self.path, before)
            self._fail('%s failed (rc=%d): %s; %s was left as it was'
                       % (' '.join(self.regen or ['update-grub']), rc, (err or out).strip(), self.path),
                       rc=rc, stdout=out, stderr=err)
        return True


class Grubby(_Method):
    name = 'grubby'

    def __init__(self, module):
        super(Grubby, self).__init__(module)
        self.bin = module.get_bin_path('grubby')
        self.entries = []
        self.add = []
        self.remove = []

    def info(self):
        """Each boot entry's argument tokens, from ``grubby --info=ALL``."""
        if self.bin is None:
            self._fail('cmdline_method=grubby but grubby was not found; install grubby or set '
                       'cmdline_method to grub_d or file')
        rc, out, err = self.module.run_command([self.bin, '--info=ALL'])
        if rc != 0:
            self._fail('grubby --info=ALL failed (rc=%d): %s' % (rc, (err or out).strip()),
                       rc=rc, stdout=out, stderr=err)
        entries = []
        for line in out.splitlines():
            key, sep, value = line.partition('=')
            if sep and key.strip() == 'args':
                entries.append(value.strip().strip('"').split())
        return entries

    def plan(self, params, previous=None):
        self.params = list(params)
        self.previous = list(previous or [])
        self.entries = self.info()
        missing = any(not self._has(params, e) for e in self.entries)
        self.add = list(params) if missing and params else []
        self.remove = [t for t in self.previous
                       if t not in params and any(t in e for e in self.entries)]
        self.changed = bool(self.add or self.remove)
        return self.changed

    @staticmethod
    def _has(params, tokens):
        # params in order, consecutively: the pairing of hugepagesz/hugepages is kept.
        return group_present(tuple(params), tokens) if params else True

    def after(self):
        return [grubby_edit(e, self.add, self.remove) for e in self.entries]

    def diff(self):
        return _files.file_diff(
            'grubby --info=ALL (args of each boot entry)',
            ''.join(' '.join(e) + '\n' for e in self.entries),
            ''.join(' '.join(e) + '\n' for e in self.after()))

    def configured(self):
        return all(self._has(self.params, e) for e in self.after())

    def apply(self, ledger=None, owner=None):
        if not self.changed:
            return False
        argv = [self.bin, '--update-kernel=ALL']
        if self.add:
            argv.append('--args=%s' % ' '.join(self.add))
        if self.remove:
            argv.append('--remove-args=%s' % ' '.join(self.remove))
        rc, out, err = self.module.run_command(argv)
        if rc != 0:
            self._fail('%s failed (rc=%d): %s' % (' '.join(argv), rc, (err or out).strip()),
                       rc=rc, stdout=out, stderr=err)
        return True
