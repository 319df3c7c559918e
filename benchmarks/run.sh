#!/usr/bin/env bash
# Benchmarks (issue 7): the collection against the way the guides write the same tuning.
#   make bench                                  # or: bash benchmarks/run.sh
#   BENCH_HOSTS=4 BENCH_RUNS=1 bash benchmarks/run.sh   # a smoke run
# Parameters (environment):
#   BENCH_HOSTS  fleet size (default 20)         BENCH_RUNS   runs per measurement (default 3)
#   BENCH_FORKS  Ansible forks (default 5)        BENCH_PARTS  what to run (default "fleet audit sysctl")
#   BENCH_DOC    where the results table goes (default docs/performance.md; "" for none)
# A fleet of BENCH_HOSTS unprivileged systemd containers (iht-bench-NN) from localhost/iht-bench-fleet,
# each a fake-NVIDIA host (4 GPUs on 2 NUMA nodes through the fake NVML, as extensions/molecule/nvidia prepares
# one). Both sides use the same inventory, forks and connection. Runs are A/B alternated: odd runs
# measure the collection first, even runs the baseline first. Each first converge starts from fresh
# containers. Everything of ours is removed at the end (containers by the name prefix iht-bench-).
# Results: benchmarks/results/<time>/ (logs, per-run counts, runs.tsv) and BENCH_DOC.
set -euo pipefail
. "$(dirname "$0")/../scripts/lib.sh"
. "$REPO/benchmarks/fleet.sh"
cd "$REPO"

HOSTS=${BENCH_HOSTS:-20}
RUNS=${BENCH_RUNS:-3}
FORKS=${BENCH_FORKS:-5}
PARTS=${BENCH_PARTS:-fleet audit sysctl}
DOC=${BENCH_DOC-docs/performance.md}
[[ "$HOSTS" =~ ^[1-9][0-9]*$ && "$RUNS" =~ ^[1-9][0-9]*$ && "$FORKS" =~ ^[1-9][0-9]*$ ]] ||
  die "BENCH_HOSTS, BENCH_RUNS and BENCH_FORKS must be positive integers"

OUT="$REPO/benchmarks/results/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$OUT"
cut -d" " -f1-3 /proc/loadavg >"$OUT/loadavg.start"
date -u +%Y-%m-%dT%H:%MZ >"$OUT/started"
trap 'bench_clean; rm -rf "$OUT/collections"' EXIT
trap 'exit 130' INT TERM

# The same settings for both sides.
export ANSIBLE_CONNECTION_PLUGINS="$REPO/benchmarks/plugins/connection"
export ANSIBLE_CALLBACK_PLUGINS="$REPO/benchmarks/plugins/callback"
export ANSIBLE_CALLBACKS_ENABLED=iht_bench_count,ansible.posix.profile_tasks
export ANSIBLE_STDOUT_CALLBACK=ansible.builtin.default
export ANSIBLE_PIPELINING=True
export ANSIBLE_LOAD_CALLBACK_PLUGINS=True  # the counting callback in ad-hoc runs too
export ANSIBLE_FORKS=$FORKS
export ANSIBLE_NOCOLOR=1
export ANSIBLE_RETRY_FILES_ENABLED=False
export PROFILE_TASKS_TASK_OUTPUT_LIMIT=all

# The collection side is the playbook users run: detection, then the nvidia role (base first).
SITE=playbooks/site.yml
AUDIT=playbooks/audit.yml
BASELINE=benchmarks/baseline/site.yml

inventory="$OUT/inventory.yml"
printf 'part\tside\tphase\trun\tseconds\trc\ttasks\tinvocations\tremote_invocations\tchanged\tfailed\n' >"$OUT/runs.tsv"

# measure PART SIDE PHASE RUN -- COMMAND...: time COMMAND, keep its log and counts, add a row.
measure() {
  local part=$1 side=$2 phase=$3 run=$4 start end rc=0 tag
  shift 5
  tag="$part-$side-$phase-$run"
  export IHT_BENCH_COUNT_FILE="$OUT/$tag.count.json"
  rm -f "$IHT_BENCH_COUNT_FILE"
  start=$(date +%s.%N)
  "$@" >"$OUT/$tag.log" 2>&1 || rc=$?
  end=$(date +%s.%N)
  python3 - "$IHT_BENCH_COUNT_FILE" "$part" "$side" "$phase" "$run" "$start" "$end" "$rc" >>"$OUT/runs.tsv" <<'PY'
import json, os, sys
path, part, side, phase, run, start, end, rc = sys.argv[1:]
hosts = json.load(open(path)) if os.path.exists(path) else {}
n = max(len(hosts), 1)
tot = lambda k: sum(h.get(k, 0) for h in hosts.values())
print('\t'.join([part, side, phase, run, '%.2f' % (float(end) - float(start)), rc,
                 '%.1f' % (tot('tasks') / n), '%.1f' % (tot('invocations') / n),
                 '%.1f' % (tot('remote_invocations') / n), str(tot('changed')), str(tot('failed'))]))
PY
  log "$(tail -n1 "$OUT/runs.tsv" | cut -f1-6 | tr '\t' ' ') s"
  [[ $rc -eq 0 ]] || log "  (failed: see $OUT/$tag.log)"
}

playbook() { ansible-playbook -i "$inventory" "$@"; }

# This checkout's collection in a private path, first on the collections path (other test runs
# reinstall $CACHE/collections while we measure); ansible.posix still comes from $CACHE.
log "collection from this checkout into $OUT/collections"
dest="$OUT/collections/ansible_collections/inference/host_tuning"
mkdir -p "$dest"
git ls-files -z -co --exclude-standard | tar --null -T - -cf - 2>/dev/null | tar -C "$dest" -xf -
export ANSIBLE_COLLECTIONS_PATH="$OUT/collections:$ANSIBLE_COLLECTIONS_PATH"
bench_image
bench_inventory "$HOSTS" "$inventory"
log "fleet: $HOSTS hosts, $RUNS run(s), $FORKS forks; collection side: $SITE; results in $OUT"

if [[ " $PARTS " == *" fleet "* ]]; then
  for ((run = 1; run <= RUNS; run++)); do
    if ((run % 2)); then order="collection baseline"; else order="baseline collection"; fi
    for side in $order; do
      if [[ $side == collection ]]; then pb=$SITE; else pb=$BASELINE; fi
      bench_fleet "$HOSTS"
      measure fleet "$side" first "$run" -- playbook "$pb"
      measure fleet "$side" idempotent "$run" -- playbook "$pb"
    done
  done
fi

if [[ " $PARTS " == *" audit "* ]]; then
  # On the fleet the last converge left (the audit reads the same whether it finds drift or not),
  # or a fresh fleet converged by the collection when the fleet part did not run.
  if [[ " $PARTS " != *" fleet "* ]]; then
    bench_fleet "$HOSTS"
    measure audit prepare converge 0 -- playbook "$SITE"
  fi
  desired='{"desired": {"sysctl_profile": "inference_latency", "thp": {"enabled": "madvise", "defrag": "madvise"},
    "memlock": "unlimited", "gpu": {"persistence_mode": true, "power_limit": "max"}}}'
  for ((run = 1; run <= RUNS; run++)); do
    measure audit ping adhoc "$run" -- ansible all -i "$inventory" -m ansible.builtin.ping
    measure audit host_info adhoc "$run" -- ansible all -i "$inventory" -m inference.host_tuning.inference_host_info -a "$desired"
    if [[ -f "$AUDIT" ]]; then
      measure audit audit_playbook playbook "$run" -- playbook "$AUDIT" -e "audit_output_dir=$OUT/audit-report"
    fi
  done
fi

if [[ " $PARTS " == *" sysctl "* ]]; then
  one=$(bench_names 1)
  bench_fleet 1
  reset_sysctl() {
    podman exec "$one" rm -f /etc/sysctl.d/90-bench.conf /var/lib/inference_host_tuning/ledger.json
  }
  for ((run = 1; run <= RUNS; run++)); do
    measure sysctl floor playbook "$run" -- ansible-playbook -i "$one," -e ansible_connection=iht_bench_exec \
      -e ansible_python_interpreter=/usr/bin/python3 benchmarks/sysctl/floor.yml
    if ((run % 2)); then order="profile per_key"; else order="per_key profile"; fi
    for side in $order; do
      reset_sysctl
      for phase in first idempotent; do
        measure sysctl "$side" "$phase" "$run" -- ansible-playbook -i "$one," -e ansible_connection=iht_bench_exec \
          -e ansible_python_interpreter=/usr/bin/python3 -e @benchmarks/sysctl/keys.yml "benchmarks/sysctl/$side.yml"
      done
    done
  done
fi

python3 "$REPO/benchmarks/report.py" "$OUT" --hosts "$HOSTS" --runs "$RUNS" --forks "$FORKS" --site "$SITE" \
  ${DOC:+--doc "$DOC"}
