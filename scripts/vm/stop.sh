#!/usr/bin/env bash
# Stop the VM in RUN_DIR: its boot loop and its qemu, by the pids in their pid files and
# only while those pids still run our processes; TERM first, KILL after SECONDS.
# Succeeds when nothing runs (also when it never started).
# Usage: scripts/vm/stop.sh RUN_DIR [SECONDS]   (default 30)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[[ -d "${1:?usage: stop.sh RUN_DIR [SECONDS]}" ]] || exit 0
dir=$(cd "$1" && pwd)
grace=${2:-30}

stop_pid() {
  local what=$1 pid=$2 needle=$3
  vm_pid_is "$pid" "$needle" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  if ! vm_wait_gone "$pid" "$grace"; then
    log "vm: $what (pid $pid) still runs after $grace s: KILL"
    kill -KILL "$pid" 2>/dev/null || true
    vm_wait_gone "$pid" 10 || die "vm: $what (pid $pid) does not exit"
  fi
  log "vm: stopped $what (pid $pid)"
}

# The loop first (it stops its qemu), then qemu in case the loop could not.
stop_pid "boot loop" "$(cat "$dir/loop.pid" 2>/dev/null || true)" "boot-loop.sh $dir"
stop_pid qemu "$(cat "$dir/qemu.pid" 2>/dev/null || true)" "$dir/disk.qcow2"
rm -f "$dir/loop.pid" "$dir/qemu.pid"
