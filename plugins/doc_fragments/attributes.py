# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The attributes every module of the collection documents: what they mean, once.

A module lists only its support level and what is particular to it (``details``); the
descriptions come from here, so they read the same in every module's ``ansible-doc``.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):

    DOCUMENTATION = r'''
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
  idempotent:
    description: When run twice in a row with the same arguments, the second run reports no change.
  platform:
    description: Target OS/families that can be operated against.
    platforms: posix
'''

    # Modules whose work starts in an action plugin on the controller.
    ACTION = r'''
attributes:
  action:
    description: Indicates this has a corresponding action plugin so some parts of the options can be executed on the controller.
    support: full
'''

    # Modules that change a host, with full check mode, diff and idempotence and nothing particular to say.
    CHANGES = r'''
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  idempotent:
    support: full
'''

    # Modules that only read a host.
    READ_ONLY = r'''
attributes:
  diff_mode:
    support: none
  idempotent:
    support: full
'''

    # The runtime option of the modules that write /sys values and persist them for the next boot.
    RUNTIME = r'''
options:
  runtime:
    description:
      - V(best_effort) skips runtime writes with a warning where C(/sys) is read-only; V(required) fails instead.
    type: str
    choices: [best_effort, required]
    default: best_effort
'''

    # Modules whose request the audit follows (_change.record_request).
    RECORDED = r'''
notes:
  - On each successful run that is not in check mode, the module keeps the options it was asked to apply in the
    host's restore ledger (C(/var/lib/inference_host_tuning/ledger.json), root only); its C(state=absent)
    (C(state=on) for M(inference.host_tuning.swap)) and M(inference.host_tuning.revert) forget them.
    M(inference.host_tuning.host_audit) and C(playbooks/audit.yml) audit the host against what was recorded
    there, not against inventory variables.
attributes: {}
'''
