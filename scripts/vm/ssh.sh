#!/usr/bin/env bash
# SSH into the VM in RUN_DIR as root with the run's key (for people and wait-ssh.sh).
# Usage: scripts/vm/ssh.sh RUN_DIR [command...]   (extra ssh options: IHT_VM_SSH_OPTS)
set -euo pipefail
dir=${1:?usage: ssh.sh RUN_DIR [command...]}
shift
# shellcheck disable=SC2086  # IHT_VM_SSH_OPTS is a list of options
exec ssh -i "$dir/id_ed25519" -p "$(cat "$dir/port")" -l root \
  -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=no \
  -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR ${IHT_VM_SSH_OPTS:-} 127.0.0.1 "$@"
