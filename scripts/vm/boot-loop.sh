#!/usr/bin/env bash
# The VM's "power button and boot loader" (started by start.sh, stopped by stop.sh):
# boots the VM in RUN_DIR again and again. qemu runs with -no-reboot, so a guest reboot
# ends qemu and the loop boots a fresh one; a guest poweroff, a crash, an error, a signal
# or the lifetime limit ends the loop.
#
# Before each boot the loop reads the kernel parameters the guest left in /cmdline on its
# boot disk (RUN_DIR/boot.img, mounted at /boot/iht in the guest) with debugfs, and appends
# them to the kernel command line: the stand-in for update-grub + GRUB. The guest is not
# running while the file is read, so its filesystem is clean.
#
# Usage: scripts/vm/boot-loop.sh RUN_DIR   (files: see start.sh)
set -uo pipefail
. "$(dirname "$0")/lib.sh"

dir=$(cd "${1:?usage: boot-loop.sh RUN_DIR}" && pwd)
echo $$ >"$dir/loop.pid"
image=$(cat "$dir/image")
port=$(cat "$dir/port")
max_boots=${IHT_VM_MAX_BOOTS:-12}
lifetime=${IHT_VM_LIFETIME:-5400}
accel=${IHT_VM_ACCEL:-tcg,tb-size=256}
deadline=$((SECONDS + lifetime))
base_append="root=LABEL=root rw console=ttyS0 net.ifnames=0 panic=-1 mitigations=off systemd.show_status=error"
child=""

say() { printf '%s boot-loop: %s\n' "$(date +%H:%M:%S)" "$*"; }

finish() {
  say "ended: $1"
  echo "$1" >"$dir/ended"
  rm -f "$dir/loop.pid"
  exit "${2:-0}"
}

# shellcheck disable=SC2317  # called by the trap
on_signal() {
  if [[ -n "$child" ]] && ! vm_pid_gone "$child"; then
    kill -TERM "$child" 2>/dev/null
    if ! vm_wait_gone "$child" 20; then
      local q
      q=$(cat "$dir/qemu.pid" 2>/dev/null || true)
      vm_pid_is "$q" "$dir/disk.qcow2" && kill -KILL "$q" 2>/dev/null
      kill -KILL "$child" 2>/dev/null
    fi
  fi
  finish "stopped by a signal" 0
}
trap on_signal TERM INT HUP

# Our kernel parameters from the boot disk: one line of key[=value] tokens, nothing else.
read_append() {
  local raw tokens tok
  raw=$(debugfs -R 'cat /cmdline' "$dir/boot.img" 2>/dev/null | tr '\n\t' '  ')
  ((${#raw} <= 2048)) || { say "refusing /cmdline: longer than 2048 characters"; return 1; }
  read -r -a tokens <<<"$raw"
  for tok in "${tokens[@]}"; do
    [[ "$tok" =~ ^[A-Za-z0-9_.,:=/+-]+$ ]] || { say "refusing /cmdline: bad parameter '$tok'"; return 1; }
  done
  printf '%s' "${tokens[*]}"
}

rm -f "$dir/ended"
for ((boot = 1; boot <= max_boots; boot++)); do
  remaining=$((deadline - SECONDS))
  ((remaining > 0)) || finish "lifetime of $lifetime s reached" 1
  extra=$(read_append) || finish "the kernel parameters on the boot disk were refused" 1
  console="$dir/console-$boot.log"
  echo "$boot" >"$dir/boots"
  say "boot $boot: port 127.0.0.1:$port, extra kernel parameters: '${extra}'"
  # shellcheck disable=SC2054  # commas belong to qemu's option syntax
  qemu=(qemu-system-x86_64 -name iht-vm -nodefaults -no-user-config -display none
    -accel "$accel" -no-reboot
    -m 1024 -smp 2
    -object memory-backend-ram,id=m0,size=512M -object memory-backend-ram,id=m1,size=512M
    -numa node,nodeid=0,cpus=0,memdev=m0 -numa node,nodeid=1,cpus=1,memdev=m1
    -kernel "$image/vmlinuz" -initrd "$image/initrd.img"
    -append "$base_append${extra:+ $extra}"
    -drive "if=none,id=root,file=$dir/disk.qcow2,format=qcow2,discard=unmap"
    -device virtio-blk-pci,drive=root
    -drive "if=none,id=boot,file=$dir/boot.img,format=raw"
    -device virtio-blk-pci,drive=boot
    -netdev "user,id=n0,hostfwd=tcp:127.0.0.1:$port-:22" -device virtio-net-pci,netdev=n0
    -device virtio-rng-pci
    -serial "file:$console" -pidfile "$dir/qemu.pid")
  timeout -k 20 "$remaining" "${qemu[@]}" </dev/null &
  child=$!
  wait "$child"
  rc=$?
  child=""
  if ((rc == 124 || rc == 137)); then
    finish "lifetime of $lifetime s reached during boot $boot" 1
  elif ((rc != 0)); then
    finish "qemu exited with status $rc during boot $boot (see $console and loop.log)" 1
  elif grep -q 'reboot: Restarting system' "$console"; then
    say "boot $boot: the guest rebooted"
  elif grep -q 'reboot: Power down' "$console"; then
    finish "the guest powered off after boot $boot" 0
  else
    finish "qemu stopped after boot $boot without a reboot or poweroff (crash? see $console)" 1
  fi
done
finish "$max_boots boots reached (IHT_VM_MAX_BOOTS)" 1
