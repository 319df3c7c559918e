# -*- coding: utf-8 -*-
# Copyright: (c) 2026, inference.host_tuning contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Prove the serving process's placement, allocator, environment and limits from /proc/PID; then, on the
vLLM host, that hostile role variables change nothing, that a server which exits at once fails the health
wait at once, and that an operator's unit survives a takeover and revert.yml byte for byte. Tests run in
file order; the last one reverts the host."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import sys
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', '..', 'tests', 'molecule'))
from iht_verify import playbook as _playbook  # noqa: E402 pylint: disable=wrong-import-position
from iht_verify import modules_ran as _modules_ran  # noqa: E402 pylint: disable=wrong-import-position
from iht_verify import pid as _unit_pid  # noqa: E402 pylint: disable=wrong-import-position
from iht_verify import proc_of as _proc_of  # noqa: E402 pylint: disable=wrong-import-position

SERVICES = {
    # host: (unit, port, model name, allocator library file name)
    'iht-service-vllm': ('vllm.service', 8000, 'llama3-8b', 'libjemalloc.so.2'),
    'iht-service-custom': ('tgi.service', 8080, 'custom-model', 'libtcmalloc_minimal.so.4'),
}


SERVICE_USER = 'inference'


def _svc(host):
    return SERVICES[host.backend.get_hostname()]


def _pid(host):
    return _unit_pid(host, _svc(host)[0])


def _cpulist(text):
    cpus = set()
    for part in text.strip().split(','):
        if '-' in part:
            lo, hi = part.split('-')
            cpus.update(range(int(lo), int(hi) + 1))
        elif part:
            cpus.add(int(part))
    return cpus


def _proc(host, pid, name):
    return _proc_of(host, pid, name, SERVICE_USER)


def _status(host, pid):
    out = {}
    for line in _proc(host, pid, 'status').splitlines():
        key, _sep, value = line.partition(':')
        out[key] = value.strip()
    return out


def test_service_active_and_enabled(host):
    unit = _svc(host)[0]
    assert host.service(unit).is_running
    assert host.service(unit).is_enabled


def test_runs_as_non_root_user(host):
    status = _status(host, _pid(host))
    uid = int(status['Uid'].split()[0])
    assert uid != 0
    assert host.user(SERVICE_USER).uid == uid


def test_cpu_affinity_is_the_chosen_cpus(host):
    """Cpus_allowed_list of the running process equals the CPUs of the drop-in."""
    unit = _svc(host)[0]
    dropin = host.file('/etc/systemd/system/%s.d/90-inference-numa.conf' % unit).content_string
    chosen = [line.split('=', 1)[1] for line in dropin.splitlines() if line.startswith('CPUAffinity=') and line != 'CPUAffinity=']
    assert chosen, dropin
    node0 = _cpulist(host.file('/sys/devices/system/node/node0/cpulist').content_string)
    expected = node0 - {0} if 'vllm' in unit else node0   # vllm reserves CPU 0 for housekeeping
    if not expected:
        pytest.skip('this machine has a single CPU on node 0: nothing to reserve')
    assert _cpulist(chosen[-1].replace(' ', ',')) == expected
    assert _cpulist(_status(host, _pid(host))['Cpus_allowed_list']) == expected


def test_memory_policy_is_bound_to_the_node(host):
    numa_maps = _proc(host, _pid(host), 'numa_maps')
    assert 'bind:0' in numa_maps


def test_allocator_is_mapped_into_the_process(host):
    maps = _proc(host, _pid(host), 'maps')
    assert _svc(host)[3] in maps


def test_allocator_package_installed_by_the_role_and_recorded(host):
    """The test image ships no allocator: the role installed its package, and the ledger records it (and the
    account it created) so that revert.yml removes them."""
    package = {'libjemalloc.so.2': ['libjemalloc2'],
               'libtcmalloc_minimal.so.4': ['libtcmalloc-minimal4', 'libtcmalloc-minimal4t64']}[_svc(host)[3]]
    installed = [p for p in package
                 if host.run("dpkg-query -W -f '${db:Status-Status}' %s" % p).stdout == 'installed']
    assert len(installed) == 1, package
    ledger = json.loads(host.check_output('cat /var/lib/inference_host_tuning/ledger.json'))
    assert installed[0] in ledger['extra']['system_packages']
    account = ledger['extra']['service_account'][SERVICE_USER]
    assert account['user'] == SERVICE_USER and account['home'] == '/var/lib/inference'
    assert host.user(SERVICE_USER).uid == account['uid']


def test_environment_of_the_process(host):
    raw = _proc(host, _pid(host), 'environ')
    env = dict(item.split('=', 1) for item in raw.split('\0') if '=' in item)
    assert env['CUDA_DEVICE_MAX_CONNECTIONS'] == '1'
    assert env['OMP_NUM_THREADS'] == '8'
    assert env['CUDA_DEVICE_ORDER'] == 'PCI_BUS_ID'
    assert _svc(host)[3] in env['LD_PRELOAD']
    if 'jemalloc' in _svc(host)[3]:
        assert 'background_thread:true' in env['MALLOC_CONF']


def _memlock(host, pid):
    for line in _proc(host, pid, 'limits').splitlines():
        if line.startswith('Max locked memory'):
            return line.split()[3:5]
    raise AssertionError('no memlock line')


def test_memlock_as_high_as_this_host_allows(host):
    """LimitMEMLOCK=infinity. An unprivileged container cannot raise its hard limit above the
    one podman got from this machine (root here lacks CAP_SYS_RESOURCE), so the process must reach
    that ceiling; where the container's ceiling is unlimited, the process must be unlimited.
    'unlimited unlimited' itself is proved from /proc/PID/limits on a real kernel by the vm
    scenario (molecule/vm/tasks/assert_service.yml), where systemd may raise the limit."""
    unit = _svc(host)[0]
    assert host.check_output('systemctl show --property=LimitMEMLOCK --value %s' % unit) == 'infinity'
    ceiling = _memlock(host, 1)[1]
    soft, hard = _memlock(host, _pid(host))
    assert hard == ceiling
    assert soft == ceiling
    if ceiling == 'unlimited':
        assert (soft, hard) == ('unlimited', 'unlimited')


def _get(host, path):
    port = _svc(host)[1]
    code = ('import json, urllib.request; r = urllib.request.urlopen("http://127.0.0.1:%d%s", timeout=5); '
            'print(json.dumps({"status": r.status, "body": r.read().decode()}))' % (port, path))
    return json.loads(host.check_output("python3 -c '%s'" % code))


def test_health_endpoint_answers(host):
    assert _get(host, '/health')['status'] == 200


def test_models_endpoint_serves_the_model(host):
    body = json.loads(_get(host, '/v1/models')['body'])
    assert [m['id'] for m in body['data']] == [_svc(host)[2]]


def test_vllm_flags_reach_the_process(host):
    if 'vllm' not in _svc(host)[0]:
        pytest.skip('custom command')
    argv = _proc(host, _pid(host), 'cmdline').split('\0')
    assert argv[1:3] == ['-m', 'vllm.entrypoints.openai.api_server']
    flags = ' '.join(argv)
    for flag in ('--model /models/Meta-Llama-3-8B-Instruct', '--served-model-name llama3-8b',
                 '--gpu-memory-utilization 0.9', '--max-model-len 4096', '--max-num-seqs 128',
                 '--enable-prefix-caching', '--tensor-parallel-size 1'):
        assert flag in flags


# -- hardening, on the vLLM host: the checks change the host, so they run last, in this order ---------------
VLLM_HOST = 'iht-service-vllm'
LEDGER_DIR = '/var/lib/inference_host_tuning'
DROPIN = '/etc/kubernetes/kubelet.conf.d/90-inference.conf'
OPERATOR_UNIT = '/etc/systemd/system/mysvc.service'
INJECTED = ('ExecStartPre', 'pwned', 'staticPodPath')
# Each hostile case of hostile.yml and the option its refusal must name.
HOSTILE = {
    'environment_newline': 'environment[HF_HOME]',
    'environment_u2028': 'environment[HF_HOME]',
    'extra_args_newline': 'extra_args[1]',
    'shm_size_newline': 'shm_size',
    'user_newline': 'user',
    'description_backslash': 'description',
    'name_traversal': 'name',
    'port_out_of_range': 'port',
    # the roles' own checks (tasks/validate.yml), before their first change
    'ascend_buffsize_newline': 'ascend_hccl_buffsize',
    'tpu_environment_name_newline': 'tpu_extra_environment',
    'health_url_trailing_newline': 'inference_service_health_url',
    'allocator_library_traversal': 'inference_service_allocator_library',
    'operator_unit': 'takeover',
    'kubelet_quote_newline': 'reserved_system_cpus',
    'kubelet_config_dir': 'config_dir',
}


def _vllm_host_only(host):
    if host.backend.get_hostname() != VLLM_HOST:
        pytest.skip('the hardening checks run on the vLLM host')


def _manifest(host):
    return host.check_output('/root/iht-manifest.sh')


def _ansible(host, *args):
    """ansible-playbook ARGS against this host only; (CompletedProcess, seconds)."""
    start = time.time()
    result = _playbook(*(args + ('--limit', host.backend.get_hostname())))
    return result, time.time() - start


def _scenario_playbook(name):
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', name)


def test_ledger_is_private(host):
    """The ledger holds copies of what it replaced: 0600 in a 0700 directory, both root's."""
    _vllm_host_only(host)
    assert host.check_output('stat -c "%%a %%U %%G %%F" %s' % LEDGER_DIR) == '700 root root directory'
    assert host.check_output('stat -c "%%a %%U %%G %%F" %s/ledger.json' % LEDGER_DIR) == '600 root root regular file'
    ledger = json.loads(host.check_output('cat %s/ledger.json' % LEDGER_DIR))
    owners = dict((path, rec['owner']) for path, rec in ledger['files'].items())
    assert owners['/etc/systemd/system/vllm.service'] == 'service_unit'
    assert owners[DROPIN] == 'kubelet_config'


def test_units_and_dropin_say_what_the_variables_say(host):
    """systemd's own reading of the unit (systemctl show), and the kubelet drop-in as YAML."""
    _vllm_host_only(host)
    show = host.check_output('systemctl show vllm.service -p Environment -p LimitNOFILE -p User -p ExecStart')
    assert 'User=inference' in show and 'LimitNOFILE=1048576' in show
    assert 'PYTHONPATH=/opt/standin' in show and 'CUDA_DEVICE_ORDER=PCI_BUS_ID' in show
    assert 'argv[]=/usr/bin/python3 -m vllm.entrypoints.openai.api_server --model /models/Meta-Llama-3-8B-Instruct' \
        in show
    dropin = json.loads(host.check_output("sed '/^#/d' %s" % DROPIN))     # JSON is YAML; the kubelet reads it so
    assert dropin == {'apiVersion': 'kubelet.config.k8s.io/v1beta1', 'kind': 'KubeletConfiguration',
                      'cpuManagerPolicy': 'static', 'topologyManagerPolicy': 'single-numa-node',
                      'topologyManagerScope': 'container', 'reservedSystemCPUs': '0'}


def test_hostile_values_change_nothing(host):
    """Newlines, a line separator, a quote, a trailing backslash, a path in the name, a port out of range,
    an operator's unit: every role run is refused, and no unit, drop-in, kubelet file or ledger entry changed."""
    _vllm_host_only(host)
    before = _manifest(host)
    units_before = host.check_output('systemctl cat vllm.service mysvc.service')
    assert host.file(DROPIN).exists and host.file(LEDGER_DIR + '/ledger.json').exists   # there is something to change
    # Molecule's own scratch directory (pytest's tmp_path would make pytest sweep /tmp/pytest-of-* at exit).
    results = os.path.join(os.environ['MOLECULE_EPHEMERAL_DIRECTORY'], 'hostile.json')
    if os.path.exists(results):
        os.unlink(results)
    run, _seconds = _ansible(host, _scenario_playbook('hostile.yml'), '-e', 'hostile_results_file=%s' % results)
    assert run.returncode == 0, run.stdout
    with open(results) as f:
        refusals = json.load(f)
    assert sorted(refusals) == sorted(HOSTILE)
    for case, option in HOSTILE.items():
        assert refusals[case].startswith('Nothing was changed: ') and option in refusals[case], (case, refusals[case])
    assert _manifest(host) == before
    units_after = host.check_output('systemctl cat vllm.service mysvc.service')
    assert units_after == units_before
    assert not any(word in units_after for word in INJECTED)
    assert not any(word in host.file(DROPIN).content_string for word in INJECTED)
    assert not host.file('/usr/local/pwn.service').exists and not host.file('/tmp/pwned').exists
    assert host.service('vllm.service').is_running


# A bad value of a role that runs late (the service, the kubelet), given with a sysctl value base would write first:
# site.yml checks every role's values before the first role changes anything. (extra vars, option named)
SITE_REFUSED = [
    ({'inference_service_port': 70000}, 'port'),
    ({'inference_service_health_retries': 0}, 'inference_service_health_retries'),
    ({'inference_service_user': 'root'}, 'user'),
    ({'inference_service_user_groups': ['no-such-group']}, 'groups'),
    ({'kubelet_tuning': True, 'kubelet_reserved_system_cpus': '0"\nstaticPodPath: /tmp'}, 'reserved_system_cpus'),
]


def test_site_checks_every_role_before_the_first_change(host):
    """site.yml refuses a bad value of any role the host runs before base writes its sysctl file: the sysctl.d
    directory, the units, the kubelet drop-in, the accounts and the ledger stay as they were."""
    _vllm_host_only(host)
    state = 'find /etc/sysctl.d -type f -exec sha256sum {} + | sort; /root/iht-manifest.sh'
    before = host.check_output(state)
    for extra, option in SITE_REFUSED:
        extra = dict(extra, base_sysctl_settings={'vm.swappiness': 7}, inference_accelerator_kind='none')
        run, _seconds = _ansible(host, 'site.yml', '-e', json.dumps(extra))
        assert run.returncode != 0, (extra, run.stdout)
        assert 'Nothing was changed' in run.stdout and option in run.stdout, (extra, run.stdout)
        assert 'Apply the sysctl profile' not in run.stdout, (extra, run.stdout)   # base never started
    assert host.check_output(state) == before
    assert 'vm.swappiness = 7' not in host.check_output('cat /etc/sysctl.d/*.conf')


# --tags service: the service's checks (its unit and account modules in check mode), then the role's modules; nothing
# of base, the kubelet or the accelerator roles. (The change report lists each module once, where it first ran.)
SERVICE_MODULES = ['service_unit', 'service_account', 'numa_bind', 'system_packages', 'allocator_preload']


@pytest.mark.parametrize('mode', ['check', 'run'])
def test_service_tag_selects_only_the_service(host, mode):
    _vllm_host_only(host)
    extra = ['--check'] if mode == 'check' else []
    ran = _modules_ran('site.yml', '--tags', 'service', '--limit', VLLM_HOST, *extra)[VLLM_HOST]
    assert ran == SERVICE_MODULES + ([] if mode == 'check' else ['service_health']), ran


def test_a_server_that_exits_at_once_fails_the_health_wait_at_once(host):
    """90 tries 10 s apart is a 15-minute budget; a dead server must fail in the first rounds, with its journal."""
    _vllm_host_only(host)
    extra = {'inference_accelerator_kind': 'none', 'inference_service_name': 'crashy',
             'inference_service_command': ['/usr/bin/python3', '-c', 'import sys; print("crashy gives up"); sys.exit(3)'],
             'inference_service_port': 8002, 'inference_service_health_retries': 90,
             'inference_service_health_delay': 10}
    run, seconds = _ansible(host, 'site.yml', '--tags', 'service', '-e', json.dumps(extra))
    assert run.returncode != 0, run.stdout
    assert seconds < 150, 'the health wait took %d s' % seconds
    assert 'crashy gives up' in run.stdout        # the journal tail comes with the failure
    state = host.check_output('systemctl show crashy.service -p ActiveState -p SubState -p NRestarts')
    assert 'SubState=auto-restart' in state or 'ActiveState=failed' in state or 'NRestarts=0' not in state, state


def test_operator_unit_survives_takeover_and_revert(host):
    """site.yml takes the operator's unit over only when told to; revert.yml puts the host back as prepare left
    it: the operator's unit byte for byte, ours (and the crashing one above) gone, no ledger."""
    _vllm_host_only(host)
    original = host.check_output('systemctl cat mysvc.service')
    extra = {'inference_accelerator_kind': 'none', 'kubelet_tuning': True, 'kubelet_reserved_system_cpus': '1',
             'inference_service_name': 'mysvc', 'inference_service_takeover': True, 'inference_service_port': 8001}
    run, _seconds = _ansible(host, 'site.yml', '--tags', 'service,kubelet', '-e', json.dumps(extra))
    assert run.returncode == 0, run.stdout
    taken = host.file(OPERATOR_UNIT).content_string
    assert taken.startswith('# Managed by Ansible (inference.host_tuning.service_unit).')
    assert '--port 8001' in host.check_output('systemctl show mysvc.service -p ExecStart')
    assert host.service('mysvc.service').is_running
    assert '"reservedSystemCPUs": "1"' in host.file(DROPIN).content_string
    # the rename (vllm -> mysvc) removed the unit of the earlier name: no file, link, drop-in or process left
    assert host.run('systemctl cat vllm.service').rc != 0
    assert not host.file('/etc/systemd/system/multi-user.target.wants/vllm.service').exists
    assert not host.file('/etc/systemd/system/vllm.service.d').exists
    assert host.check_output('systemctl show --property=MainPID --value vllm.service') == '0'
    assert host.run("pgrep -f '[p]ort 8000'").rc != 0   # the old server's process (not this shell)

    run, _seconds = _ansible(host, 'revert.yml')
    assert run.returncode == 0, run.stdout
    assert _manifest(host) == host.file('/root/iht-manifest-prepare.txt').content_string.rstrip('\n')
    assert host.check_output('systemctl cat mysvc.service') == original
    assert host.run('systemctl cat vllm.service').rc != 0 and host.run('systemctl cat crashy.service').rc != 0
    assert not host.file(LEDGER_DIR).exists
    # what the collection created for the service is gone too (the manifest above compares the files)
    assert host.run('getent passwd inference').rc == 2 and host.run('getent group inference').rc == 2
    assert not host.file('/var/lib/inference').exists
