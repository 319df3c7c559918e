#!/usr/bin/env bash
# Start a throw-away VM of the cached Debian 12 image (image.sh) in RUN_DIR: two NUMA
# nodes (2 vCPUs, 2 x 512 MiB), SSH on a free port of 127.0.0.1 only, TCG emulation.
#
# Per run, in RUN_DIR (nothing of it outlives the run; the cached image is never written):
#   id_ed25519{,.pub}  a new SSH key for root
#   boot.img           the boot disk (ext4, label ihtboot, /boot/iht in the guest):
#                      authorized_keys (the run's public key; sshd reads it there) and,
#                      once the guest writes it, cmdline (kernel parameters, boot-loop.sh)
#   disk.qcow2         a qcow2 overlay on the cached image: the guest's root disk
#   port, image        the SSH port and the image directory
#   loop.pid, qemu.pid the boot loop and the running qemu (stop.sh signals only these)
#   loop.log, console-N.log, boots, ended   what happened at each boot
#
# Usage: scripts/vm/start.sh RUN_DIR [--wait SECONDS]   prints the SSH port
set -euo pipefail
. "$(dirname "$0")/lib.sh"

dir=${1:?usage: start.sh RUN_DIR [--wait SECONDS]}
wait_s=0
if [[ "${2:-}" == "--wait" ]]; then wait_s=${3:?--wait needs SECONDS}; fi

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
if vm_pid_is "$(cat "$dir/loop.pid" 2>/dev/null || true)" "boot-loop.sh $dir"; then
  log "vm: already running in $dir"
  ((wait_s == 0)) || bash "$VM_SCRIPTS/wait-ssh.sh" "$dir" "$wait_s" >&2
  cat "$dir/port"
  exit 0
fi

image=$(bash "$VM_SCRIPTS/image.sh")
rm -f "$dir"/{id_ed25519,id_ed25519.pub,boot.img,disk.qcow2,port,image,loop.pid,qemu.pid,loop.log,boots,ended} "$dir"/console-*.log
echo "$image" >"$dir/image"

ssh-keygen -q -t ed25519 -N '' -C "iht-vm-$(date +%s)" -f "$dir/id_ed25519"
seed=$(mktemp -d "$dir/.boot.XXXXXX")
install -m 0600 "$dir/id_ed25519.pub" "$seed/authorized_keys"
chmod 0755 "$seed"
truncate -s 16M "$dir/boot.img"
mkfs.ext4 -q -F -L ihtboot -E root_owner=0:0 -d "$seed" "$dir/boot.img"
rm -rf "$seed"
qemu-img create -q -f qcow2 -b "$image/disk.qcow2" -F qcow2 "$dir/disk.qcow2"

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# A free port can be taken by someone else before qemu binds it: then qemu exits at once
# and we try another one.
started=false
for attempt in 1 2 3; do
  free_port >"$dir/port"
  rm -f "$dir/loop.pid" "$dir/ended"
  setsid bash "$VM_SCRIPTS/boot-loop.sh" "$dir" >>"$dir/loop.log" 2>&1 </dev/null &
  for ((i = 0; i < 50; i++)); do
    [[ -s "$dir/qemu.pid" || -e "$dir/ended" ]] && break
    sleep 0.2
  done
  sleep 2
  if [[ ! -e "$dir/ended" ]] && vm_pid_is "$(cat "$dir/qemu.pid" 2>/dev/null || true)" "$dir/disk.qcow2"; then
    started=true
    break
  fi
  log "vm: qemu did not stay up (attempt $attempt): $(cat "$dir/ended" 2>/dev/null || echo unknown)"
  bash "$VM_SCRIPTS/stop.sh" "$dir" >&2 || true
done
$started || { tail -n 20 "$dir/loop.log" >&2; die "vm: could not start qemu (see $dir/loop.log)"; }
log "vm: started in $dir (boot loop pid $(cat "$dir/loop.pid"), ssh 127.0.0.1:$(cat "$dir/port"))"
if ((wait_s > 0)); then
  if ! bash "$VM_SCRIPTS/wait-ssh.sh" "$dir" "$wait_s" >&2; then
    bash "$VM_SCRIPTS/stop.sh" "$dir" >&2 || true
    die "vm: no SSH within $wait_s s; the VM was stopped (console: $dir/console-*.log)"
  fi
fi
cat "$dir/port"
