#!/usr/bin/env bash
# Build the bootable Debian 12 image of the `vm` Molecule scenario from Debian packages:
#   .cache/vm/bookworm-<hash of this file>/{disk.qcow2,vmlinuz,initrd.img,build.log}
# Built once and rebuilt only when this recipe (this file) changes; prints the directory.
# VMs never write to it: each run boots a qcow2 overlay on top (scripts/vm/start.sh).
#
# The root filesystem comes from mmdebstrap in root mode, which mounts /proc and /sys
# read-only in the chroot: maintainer scripts cannot change this machine's kernel settings.
# It runs in a private mount namespace, so nothing stays mounted if it is interrupted.
#
# Usage: scripts/vm/image.sh            build if needed, print the image directory
#        scripts/vm/image.sh hook-essential|hook-customize ROOT   (mmdebstrap's hooks)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

MIRROR="${IHT_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
# A systemd host reachable over SSH with what Ansible, the base role and the
# inference_service role need (dbus + libpam-systemd: ansible.builtin.reboot; sudo: the
# playbooks become root, also when they connect as root).
PACKAGES=systemd-sysv,udev,dbus,libpam-systemd,openssh-server,python3,linux-image-cloud-amd64,initramfs-tools
PACKAGES+=,mount,e2fsprogs,iproute2,procps,kmod,netbase,libjemalloc2,numactl,sudo
BUILD_TIMEOUT=${IHT_VM_BUILD_TIMEOUT:-1200}

hook_essential() {
  local root=$1
  # A small initramfs: only what finds the root disk (fewer modules, faster boots under TCG).
  mkdir -p "$root/etc/initramfs-tools/conf.d" "$root/usr/share/initramfs-tools/modules.d"
  printf 'MODULES=list\nCOMPRESS=gzip\n' >"$root/etc/initramfs-tools/conf.d/iht-vm.conf"
  printf '%s\n' virtio_pci virtio_blk ext4 crc32c_generic >"$root/usr/share/initramfs-tools/modules.d/iht-vm"
}

hook_customize() {
  local root=$1
  # Disks: the root filesystem, and the per-run boot disk (label ihtboot, written by
  # start.sh) that carries the run's SSH key and the kernel parameters file our boot
  # loop reads (the stand-in for a boot loader's configuration).
  cat >"$root/etc/fstab" <<'FSTAB'
LABEL=root    /          ext4  rw,errors=remount-ro                          0 1
LABEL=ihtboot /boot/iht  ext4  rw,nodev,nosuid,noexec,nofail,x-systemd.device-timeout=10min 0 0
FSTAB
  mkdir -p "$root/boot/iht"
  echo iht-vm >"$root/etc/hostname"
  printf '127.0.0.1\tlocalhost\n127.0.1.1\tiht-vm\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"

  # qemu's user network: a fixed address, no DHCP wait.
  cat >"$root/etc/systemd/network/10-eth0.network" <<'NET'
[Match]
Name=eth0

[Network]
Address=10.0.2.15/24
Gateway=10.0.2.2
DNS=10.0.2.3
NET
  rm -f "$root/etc/resolv.conf"
  echo 'nameserver 10.0.2.3' >"$root/etc/resolv.conf"

  # Root logs in with a key only: the run's key on the boot disk.
  cat >"$root/etc/ssh/sshd_config.d/10-iht-vm.conf" <<'SSHD'
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
AuthorizedKeysFile .ssh/authorized_keys /boot/iht/authorized_keys
UseDNS no
SSHD
  # Drivers udev would load for emulated hardware nobody uses here (slow under TCG).
  printf 'blacklist %s\n' ata_piix pata_acpi ata_generic kvm kvm_amd kvm_intel powernow_k8 \
    pcspkr serio_raw floppy >"$root/etc/modprobe.d/iht-vm.conf"
  mkdir -p "$root/etc/systemd/journald.conf.d"
  printf '[Journal]\nStorage=volatile\n' >"$root/etc/systemd/journald.conf.d/10-iht-vm.conf"

  # The stand-in boot loader's install step (as update-grub is run by a kernel or GRUB package):
  # at each shutdown the kernel parameters the collection keeps in its default cmdline file go to
  # the boot disk, where boot-loop.sh reads them for the next boot (gone when the file is gone).
  mkdir -p "$root/usr/local/sbin"
  cat >"$root/usr/local/sbin/iht-bootloader-sync" <<'SYNC'
#!/bin/sh
set -e
if [ -f /etc/inference-host-tuning/cmdline ]; then
  cp -f /etc/inference-host-tuning/cmdline /boot/iht/cmdline.new
  mv -f /boot/iht/cmdline.new /boot/iht/cmdline
else
  rm -f /boot/iht/cmdline
fi
sync
SYNC
  chmod 0755 "$root/usr/local/sbin/iht-bootloader-sync"
  cat >"$root/etc/systemd/system/iht-bootloader.service" <<'UNIT'
[Unit]
Description=Stand-in boot loader: /etc/inference-host-tuning/cmdline to the boot disk at shutdown
RequiresMountsFor=/boot/iht

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/true
ExecStop=/usr/local/sbin/iht-bootloader-sync

[Install]
WantedBy=multi-user.target
UNIT
  chroot "$root" systemctl enable -q iht-bootloader.service
  chroot "$root" systemctl enable -q systemd-networkd.service
  # Nothing that competes for the emulated CPUs or waits at boot.
  chroot "$root" systemctl mask -q apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer \
    e2scrub_reap.service fstrim.timer getty@tty1.service serial-getty@ttyS0.service \
    systemd-networkd-wait-online.service
}

case "${1:-build}" in
  hook-essential) hook_essential "${2:?root}"; exit 0 ;;
  hook-customize) hook_customize "${2:?root}"; exit 0 ;;
  build) ;;
  *) die "usage: image.sh [build | hook-essential ROOT | hook-customize ROOT]" ;;
esac

for tool in mmdebstrap mkfs.ext4 qemu-img qemu-system-x86_64 debugfs ssh-keygen ssh flock unshare; do
  command -v "$tool" >/dev/null 2>&1 && continue
  log "vm: $tool is missing, installing the VM packages (scripts/bootstrap.sh --vm)"
  bash "$REPO/scripts/bootstrap.sh" --vm >&2
  break
done

out=$(vm_image_dir)
mkdir -p "$VM_CACHE"
exec 9>"$VM_CACHE/.lock"
flock -w "$BUILD_TIMEOUT" 9 || die "vm: another image build holds $VM_CACHE/.lock for more than $BUILD_TIMEOUT s"
if [[ -f "$out/disk.qcow2" && -f "$out/vmlinuz" && -f "$out/initrd.img" ]]; then
  log "vm: image $(basename "$out") is up to date"
  echo "$out"
  exit 0
fi
[[ $(id -u) == 0 ]] || die "vm: building the image needs root (mmdebstrap in root mode, mkfs.ext4 -d)"

work=$(mktemp -d "$VM_CACHE/.build.XXXXXX")
trap 'rm -rf "$work"' EXIT
start=$SECONDS
log "vm: building image $(basename "$out") (mmdebstrap $VM_SUITE, a few minutes)"
self="$VM_SCRIPTS/image.sh"
if ! timeout "$BUILD_TIMEOUT" unshare --mount --propagation private \
  mmdebstrap --mode=root --variant=apt --include="$PACKAGES" \
  --essential-hook="bash '$self' hook-essential \"\$1\"" \
  --customize-hook="bash '$self' hook-customize \"\$1\"" \
  "$VM_SUITE" "$work/root" "$MIRROR" >"$work/build.log" 2>&1; then
  tail -n 40 "$work/build.log" >&2
  die "vm: mmdebstrap failed (log above)"
fi
kernel=$(find "$work/root/boot" -maxdepth 1 -name 'vmlinuz-*' | sort -V | tail -n1)
initrd=$(find "$work/root/boot" -maxdepth 1 -name 'initrd.img-*' | sort -V | tail -n1)
[[ -n "$kernel" && -n "$initrd" ]] || die "vm: no kernel or initrd in the image's /boot"
mkdir -p "$work/out"
cp "$kernel" "$work/out/vmlinuz"
cp "$initrd" "$work/out/initrd.img"
truncate -s 3G "$work/disk.raw"
mkfs.ext4 -q -F -L root -d "$work/root" "$work/disk.raw" >>"$work/build.log" 2>&1 ||
  die "vm: mkfs.ext4 -d failed (see $work/build.log)"
qemu-img convert -O qcow2 "$work/disk.raw" "$work/out/disk.qcow2"
chmod 0444 "$work/out/disk.qcow2"
cp "$work/build.log" "$work/out/build.log"
rm -rf "$out"
mv "$work/out" "$out"
# Images of earlier recipes: a VM of this run never uses them.
find "$VM_CACHE" -mindepth 1 -maxdepth 1 -type d -name "$VM_SUITE-*" ! -path "$out" -exec rm -rf {} +
log "vm: image $(basename "$out") built in $((SECONDS - start)) s ($(du -sh "$out" | cut -f1))"
echo "$out"
