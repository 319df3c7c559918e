# shellcheck shell=bash
# Shared settings of the VM scripts (sourced, not run): where the cached image lives,
# how a process id is checked before it is signalled.
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck disable=SC2034
VM_SCRIPTS="$REPO/scripts/vm"
VM_CACHE="$CACHE/vm"
VM_SUITE=bookworm

# The image is named after a hash of its recipe (image.sh): a changed recipe builds a new one.
vm_image_dir() {
  printf '%s/%s-%s\n' "$VM_CACHE" "$VM_SUITE" "$(sha256sum "$VM_SCRIPTS/image.sh" | cut -c1-16)"
}

# True when PID runs and its command line contains NEEDLE: a pid file is only trusted
# for a process that is still the one we started (pids are reused).
vm_pid_is() {
  local pid=$1 needle=$2
  [[ "$pid" =~ ^[0-9]+$ && -r /proc/$pid/cmdline ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$needle"
}

# True when PID has exited (a zombie that nobody reaped yet counts as exited).
vm_pid_gone() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
  [[ "${stat##*) }" == Z* ]]
}

# Wait up to SECONDS for PID to exit; false if it is still there.
vm_wait_gone() {
  local pid=$1 seconds=$2 i
  for ((i = 0; i < seconds * 5; i++)); do
    vm_pid_gone "$pid" && return 0
    sleep 0.2
  done
  vm_pid_gone "$pid"
}
