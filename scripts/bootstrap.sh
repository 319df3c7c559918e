#!/usr/bin/env bash
# Install everything `make test` and `make demo` need, skipping what is already there:
#   Debian packages, a venv with the pinned toolchain (requirements-dev.txt),
#   the containers.podman collection (offline, from the `ansible` wheel on PyPI).
# Usage: scripts/bootstrap.sh [--vm]   (--vm adds qemu and mmdebstrap for the vm scenario)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

packages=(podman runc catatonit debootstrap shellcheck gcc make git tar python3-venv)
if [[ "${1:-}" == "--vm" ]]; then
  packages+=(qemu-system-x86 qemu-utils mmdebstrap fdisk socat openssh-client)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  [[ $(id -u) == 0 ]] || die "need root to install Debian packages: ${missing[*]}"
  log "apt: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# The venv: rebuilt when requirements-dev.txt changes.
stamp="$VENV/.requirements.sha256"
want=$(sha256sum "$REPO/requirements-dev.txt" | cut -d' ' -f1)
if [[ ! -x "$VENV/bin/python" || "$(cat "$stamp" 2>/dev/null)" != "$want" ]]; then
  log "venv: installing the pinned toolchain into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check -r "$REPO/requirements-dev.txt"
  echo "$want" >"$stamp"
fi

# containers.podman for Molecule's podman driver, and ansible.posix (profile_tasks,
# the benchmarks' baseline): Galaxy is not reachable, PyPI's `ansible` wheel carries both.
ansible_pkg_version=12.3.0
coll="$CACHE/collections/ansible_collections"
if [[ ! -f "$coll/containers/podman/MANIFEST.json" || ! -f "$coll/ansible/posix/MANIFEST.json" ]]; then
  log "collections: unpacking containers.podman and ansible.posix from ansible==$ansible_pkg_version"
  mkdir -p "$CACHE/wheels" "$coll"
  whl="$CACHE/wheels/ansible-$ansible_pkg_version-py3-none-any.whl"
  if [[ ! -f "$whl" ]]; then
    "$VENV/bin/pip" download -q --disable-pip-version-check --no-deps -d "$CACHE/wheels" "ansible==$ansible_pkg_version"
  fi
  "$VENV/bin/python" - "$whl" "$CACHE/collections" <<'PY'
import sys, zipfile
whl, dest = sys.argv[1:]
with zipfile.ZipFile(whl) as z:
    names = [n for n in z.namelist()
             if n.startswith(('ansible_collections/containers/podman/', 'ansible_collections/ansible/posix/'))]
    z.extractall(dest, names)
print('unpacked %d files' % len(names))
PY
fi

# ansible-test fetches a pip bootstrap script from a host that is not reachable here;
# it uses a cached one when present. Ours bootstraps pip with ensurepip, then pip.
for v in 24_2 25_2; do
  mkdir -p ~/.ansible/test/cache
  cmp -s "$REPO/scripts/get_pip_shim.py" ~/.ansible/test/cache/get_pip_$v.py ||
    cp "$REPO/scripts/get_pip_shim.py" ~/.ansible/test/cache/get_pip_$v.py
done

# Real interpreters for ansible-test's compile/import sanity on 3.8-3.13 (pyenv shims
# do not work inside ansible-test, which strips the environment).
mkdir -p "$CACHE/pythons"
if command -v pyenv >/dev/null 2>&1; then
  for d in "$(pyenv root)"/versions/3.*; do
    [[ -x "$d/bin/python3" ]] || continue
    minor=$(basename "$d" | cut -d. -f1,2)
    ln -sfn "$d/bin/python$minor" "$CACHE/pythons/python$minor"
  done
fi
log "bootstrap: ready"
