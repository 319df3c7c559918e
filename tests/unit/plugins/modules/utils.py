# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a module's main() in-process and capture exit_json / fail_json."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args


class ModuleExit(Exception):
    def __init__(self, result):
        super(ModuleExit, self).__init__(result)
        self.result = result


class ModuleFail(Exception):
    def __init__(self, result):
        super(ModuleFail, self).__init__(result.get('msg'))
        self.result = result


def _exit_json(self, **kwargs):
    kwargs.setdefault('changed', False)
    raise ModuleExit(kwargs)


def _fail_json(self, msg=None, **kwargs):
    kwargs['failed'] = True
    kwargs['msg'] = msg
    raise ModuleFail(kwargs)


def run_module(module, args, check=False, diff=True):
    """Run ``module.main()`` with ``args``; return the result dict of exit_json.

    Raises ``ModuleFail`` (with ``.result``) when the module calls fail_json.
    """
    args = dict(args)
    args['_ansible_check_mode'] = check
    args['_ansible_diff'] = diff
    with patch_module_args(args):
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(basic.AnsibleModule, 'exit_json', _exit_json)
            mp.setattr(basic.AnsibleModule, 'fail_json', _fail_json)
            try:
                module.main()
            except ModuleExit as e:
                return e.result
    raise AssertionError('module returned without exit_json')


def fail_module(module, args, check=False):
    """Run a module that must fail; return its fail_json result."""
    with pytest.raises(ModuleFail) as exc:
        run_module(module, args, check=check)
    return exc.value.result


def refused(fake_host, module, args, words, check=False):
    """Run ``module`` with bad ``args``: it must fail naming each of ``words`` (a string or a list) and leave
    ``fake_host``'s files as they were. Returns the fail_json result."""
    before = fake_host.snapshot()
    result = fail_module(module, args, check=check)
    for word in [words] if isinstance(words, str) else words:
        assert word in result['msg']
    assert fake_host.snapshot() == before
    return result


def install_commands(monkeypatch, fake):
    """Route every AnsibleModule's commands to ``fake``: ``run_command`` to ``fake.run_command(module, argv, **kw)``,
    ``get_bin_path`` to ``fake.bins`` (name -> path; a name not in it is not installed, even when required)."""
    def run_command(module, args, **kw):
        return fake.run_command(module, args, **kw)
    monkeypatch.setattr(basic.AnsibleModule, 'run_command', run_command)
    monkeypatch.setattr(basic.AnsibleModule, 'get_bin_path',
                        lambda module, name, required=False, opt_dirs=None: fake.bins.get(name))
