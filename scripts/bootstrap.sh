#!/usr/bin/env bash
# Install everything `make test` and `make demo` need, skipping what is already there:
#   Debian packages; .venv, the pinned current toolchain (requirements-dev.txt: ansible-core 2.21, which
#   needs Python >= 3.12) on a Python >= 3.12 found on this machine; the containers.podman and
#   ansible.posix collections (offline, from the `ansible` wheel on PyPI).
# Usage: scripts/bootstrap.sh [--vm] [--oldest]
#   --vm      also qemu and mmdebstrap for the vm scenario
#   --oldest  also .venv-oldest: the oldest ansible-core supported (requirements-oldest.txt) on Python 3.11
# IHT_PYTHON=/path/to/python3.12 chooses the interpreter of .venv.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

vm=false
oldest=false
for arg in "$@"; do
  case "$arg" in
    --vm) vm=true ;;
    --oldest) oldest=true ;;
    *) die "unknown option $arg (use --vm, --oldest)" ;;
  esac
done

# One bootstrap at a time: several shells (make lint in one, make molecule in another) share the venvs.
mkdir -p "$CACHE"
exec 9>"$CACHE/bootstrap.lock"
flock 9

packages=(podman runc catatonit debootstrap shellcheck gcc make git tar python3-venv)
if $vm; then
  packages+=(qemu-system-x86 qemu-utils mmdebstrap fdisk socat openssh-client)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  [[ $(id -u) == 0 ]] || die "need root to install Debian packages: ${missing[*]}"
  # An install that was cut off earlier (a session or job killed mid-apt) leaves dpkg
  # "interrupted" and every later apt-get install refuses: finish it first, and say so.
  if [[ -n "$(dpkg --audit 2>/dev/null)" ]]; then
    log "apt: dpkg was interrupted before; finishing it (dpkg --configure -a, apt-get -f install)"
    DEBIAN_FRONTEND=noninteractive dpkg --configure -a >/dev/null || true
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -f -y -qq >/dev/null
  fi
  log "apt: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# A real interpreter (not a pyenv shim: ansible-test strips the environment shims need) of at least
# version MIN, that can create a venv with pip; the oldest such one (the best tested). Prints its path.
find_python() {
  local min=$1 c real v
  local candidates=()
  [[ -n "${IHT_PYTHON:-}" ]] && candidates+=("$IHT_PYTHON")
  for v in 11 12 13 14; do
    candidates+=("/usr/bin/python3.$v" "/usr/local/bin/python3.$v")
    if command -v pyenv >/dev/null 2>&1; then
      for c in "$(pyenv root)"/versions/3."$v".*/bin/python3."$v"; do
        [[ -x "$c" ]] && candidates+=("$c")
      done
    fi
    candidates+=("python3.$v")
  done
  candidates+=(python3)
  for c in "${candidates[@]}"; do
    real=$(command -v "$c" 2>/dev/null) || continue
    # ask the interpreter itself where it lives (a pyenv shim runs the real binary)
    real=$("$real" -c 'import sys; print(sys.executable)' 2>/dev/null) || continue
    [[ -n "$real" && "$real" != */shims/* ]] || continue
    "$real" - "$min" <<'PY' 2>/dev/null || continue
import sys, ensurepip, venv  # noqa: F401 - both are needed to build a venv with pip
want = tuple(int(x) for x in sys.argv[1].split('.'))
sys.exit(0 if sys.version_info[:2] >= want else 1)
PY
    echo "$real"
    return 0
  done
  return 1
}

# make_venv DIR PYTHON REQUIREMENTS: (re)built when the requirements or the interpreter change.
make_venv() {
  local dir=$1 python=$2 req=$3 stamp want
  stamp="$dir/.requirements.sha256"
  want="$(sha256sum "$req" | cut -d' ' -f1) $("$python" -c 'import sys; print(sys.executable, sys.version.split()[0])')"
  if [[ -x "$dir/bin/python" && "$(cat "$stamp" 2>/dev/null)" == "$want" ]]; then
    return 0
  fi
  log "venv: installing $(basename "$req") into $dir ($("$python" --version 2>&1))"
  if [[ -e "$dir" ]]; then
    # moved aside first: another shell may still be running from the old one
    mv "$dir" "$CACHE/old-venv.$$"
    rm -rf "$CACHE/old-venv.$$" 2>/dev/null || true
  fi
  "$python" -m venv "$dir"
  "$dir/bin/pip" install -q --disable-pip-version-check -r "$req"
  echo "$want" >"$stamp"
}

python_current=$(find_python 3.12) || die "no Python 3.12 or later found.
  ansible-core 2.21 (requirements-dev.txt) needs Python >= 3.12 on the controller; Debian 12's python3 is 3.11.
  Install one, then run this again (or point IHT_PYTHON at it):
    - uv (from PyPI, no root):  apt-get install pipx && pipx install uv && uv python install 3.12
                                IHT_PYTHON=\$(~/.local/bin/uv python find 3.12) make test
    - pyenv:                    pyenv install 3.12   (its real binary, \$(pyenv root)/versions/3.12.*/bin/python3.12, is found)
    - or a Debian 13 machine, whose python3 is 3.13."
make_venv "$VENV" "$python_current" "$REPO/requirements-dev.txt"

if $oldest; then
  # ansible-core 2.19 runs on a 3.11-3.13 controller: 3.11, the oldest it supports, is found first.
  python_oldest=$(find_python 3.11) || die "no Python 3.11 or later found for .venv-oldest"
  make_venv "$OLDEST_VENV" "$python_oldest" "$REPO/requirements-oldest.txt"
fi

# containers.podman for Molecule's podman driver, and ansible.posix (profile_tasks, the benchmarks'
# baseline): Galaxy is not reachable, PyPI's `ansible` wheel carries both. Both work with every
# ansible-core tested here (2.19 and 2.21).
ansible_pkg_version=14.5.0
coll="$CACHE/collections/ansible_collections"
coll_stamp="$CACHE/collections/.ansible-$ansible_pkg_version"
if [[ ! -f "$coll_stamp" || ! -f "$coll/containers/podman/MANIFEST.json" || ! -f "$coll/ansible/posix/MANIFEST.json" ]]; then
  log "collections: unpacking containers.podman and ansible.posix from ansible==$ansible_pkg_version"
  mkdir -p "$CACHE/wheels" "$coll"
  whl="$CACHE/wheels/ansible-$ansible_pkg_version-py3-none-any.whl"
  if [[ ! -f "$whl" ]]; then
    "$VENV/bin/pip" download -q --disable-pip-version-check --no-deps -d "$CACHE/wheels" "ansible==$ansible_pkg_version"
  fi
  rm -rf "$coll/containers/podman" "$coll/ansible/posix"
  "$VENV/bin/python" - "$whl" "$CACHE/collections" <<'PY'
import sys, zipfile
whl, dest = sys.argv[1:]
with zipfile.ZipFile(whl) as z:
    names = [n for n in z.namelist()
             if n.startswith(('ansible_collections/containers/podman/', 'ansible_collections/ansible/posix/'))]
    z.extractall(dest, names)
print('unpacked %d files' % len(names))
PY
  rm -f "$CACHE"/collections/.ansible-*
  touch "$coll_stamp"
fi

# ansible-test fetches a pip bootstrap script from a host that is not reachable here;
# it uses a cached one when present. Ours bootstraps pip with ensurepip, then pip.
# (24.2: ansible-core 2.19; 25.2: 2.20 and 2.21.)
for v in 24_2 25_2; do
  mkdir -p ~/.ansible/test/cache
  cmp -s "$REPO/scripts/get_pip_shim.py" ~/.ansible/test/cache/get_pip_$v.py ||
    cp "$REPO/scripts/get_pip_shim.py" ~/.ansible/test/cache/get_pip_$v.py
done

# Real interpreters for ansible-test's compile/import sanity and units on every target Python
# (pyenv shims do not work inside ansible-test, which strips the environment).
mkdir -p "$CACHE/pythons"
if command -v pyenv >/dev/null 2>&1; then
  for d in "$(pyenv root)"/versions/3.*; do
    [[ -x "$d/bin/python3" ]] || continue
    minor=$(basename "$d" | cut -d. -f1,2)
    ln -sfn "$d/bin/python$minor" "$CACHE/pythons/python$minor"
  done
fi
log "bootstrap: ready"
