#!/usr/bin/env bash
# Wait until the VM in RUN_DIR answers SSH with the run's key, at most SECONDS;
# fails at once when its boot loop has ended.
# Usage: scripts/vm/wait-ssh.sh RUN_DIR [SECONDS]   (default 600)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

dir=$(cd "${1:?usage: wait-ssh.sh RUN_DIR [SECONDS]}" && pwd)
limit=${2:-600}
start=$SECONDS
while ((SECONDS - start < limit)); do
  if ! vm_pid_is "$(cat "$dir/loop.pid" 2>/dev/null || true)" "boot-loop.sh $dir"; then
    die "vm: the boot loop is not running ($(cat "$dir/ended" 2>/dev/null || echo 'never started'))"
  fi
  if IHT_VM_SSH_OPTS="-o ConnectTimeout=10" timeout 40 bash "$VM_SCRIPTS/ssh.sh" "$dir" true >/dev/null 2>&1; then
    log "vm: ssh answers after $((SECONDS - start)) s (boot $(cat "$dir/boots"))"
    exit 0
  fi
  sleep 3
done
die "vm: no SSH on 127.0.0.1:$(cat "$dir/port") within $limit s"
