#!/usr/bin/env bash
# Build the local test images from Debian packages (no registry is reachable):
#   localhost/iht-debian12:latest (bookworm), localhost/iht-debian13:latest (trixie).
# Each is tagged with a hash of its recipe (this file) and rebuilt only when that changes.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

MIRROR="${IHT_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
# What a systemd "host" needs for the roles and testinfra (ss from iproute2, udevadm, swapon), and sudo:
# the playbooks become root (play-level become), also when they connect as root. No allocator library:
# the inference_service role installs it (system_packages), and the scenarios prove that it does.
INCLUDE=python3,systemd,systemd-sysv,dbus,procps,iproute2,udev,kmod,util-linux,ca-certificates,sudo
recipe=$(sha256sum "$0" | cut -c1-12)

build() {
  local name=$1 suite=$2
  local image="localhost/$name"
  if podman image exists "$image:$recipe"; then
    podman tag "$image:$recipe" "$image:latest"
    log "image $image:$recipe is up to date"
    return
  fi
  local root
  root=$(mktemp -d "/tmp/iht-$name.XXXXXX")
  log "image $image: debootstrap $suite (about a minute)"
  if ! debootstrap --variant=minbase --include="$INCLUDE" "$suite" "$root" "$MIRROR" >"$root.log" 2>&1; then
    tail -n 30 "$root.log" >&2
    rm -rf "$root" "$root.log"
    die "debootstrap $suite failed"
  fi
  # A container is not a booted host: keep systemd from waiting on what it cannot do.
  chroot "$root" systemctl mask -q systemd-udevd.service systemd-udevd-control.socket \
    systemd-udevd-kernel.socket getty.target console-getty.service systemd-logind.service \
    systemd-remount-fs.service sys-kernel-config.mount >/dev/null 2>&1 || true
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  tar -C "$root" -c . | podman import -q --change 'CMD ["/sbin/init"]' - "$image:$recipe" >/dev/null
  podman tag "$image:$recipe" "$image:latest"
  rm -rf "$root" "$root.log"
  # Drop images of earlier recipes (not in use by a container).
  podman images --format '{{.Repository}}:{{.Tag}}' "$image" |
    grep -vE ":($recipe|latest)\$" | xargs -r podman rmi >/dev/null 2>&1 || true
  log "image $image:$recipe built"
}

pids=()
build iht-debian12 bookworm & pids+=($!)
build iht-debian13 trixie & pids+=($!)
rc=0
for p in "${pids[@]}"; do wait "$p" || rc=1; done
exit $rc
