#!/usr/bin/env bash
# Build the collection tarball, install it into a temporary path, check that every
# module, plugin and role documents itself from the installed artifact, then install
# it into .cache/collections where Molecule and the demo use it.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

rm -rf "$REPO/build"
mkdir -p "$REPO/build"
cd "$REPO"
ansible-galaxy collection build --force --output-path build . >/dev/null
tarball=$(find build -maxdepth 1 -name 'inference-host_tuning-*.tar.gz' | head -n1)
[[ -n "$tarball" ]] || die "ansible-galaxy collection build wrote no tarball"
log "built $tarball ($(du -k "$tarball" | cut -f1) KiB)"

tmp=$(mktemp -d /tmp/iht-install.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
ANSIBLE_COLLECTIONS_PATH="$tmp" ansible-galaxy collection install --force -p "$tmp" "$tarball" >/dev/null
installed="$tmp/ansible_collections/inference/host_tuning"
[[ -f "$installed/MANIFEST.json" ]] || die "the tarball did not install"
# Nothing from the development tree may leak into the artifact.
for leak in .venv .cache .git tests/output build; do
  [[ ! -e "$installed/$leak" ]] || die "$leak leaked into the collection tarball"
done

modules=$(find "$installed/plugins/modules" -name '*.py' ! -name '__init__.py' -printf '%f\n' | sed 's/\.py$//' | sort)
n=0
for m in $modules; do
  ANSIBLE_COLLECTIONS_PATH="$tmp" ansible-doc -t module "inference.host_tuning.$m" >/dev/null ||
    die "ansible-doc cannot render module $m from the installed collection"
  n=$((n + 1))
done
for cb in $(find "$installed/plugins/callback" -name '*.py' ! -name '__init__.py' -printf '%f\n' 2>/dev/null | sed 's/\.py$//'); do
  ANSIBLE_COLLECTIONS_PATH="$tmp" ansible-doc -t callback "inference.host_tuning.$cb" >/dev/null ||
    die "ansible-doc cannot render callback $cb"
done
for r in $(find "$installed/roles" -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | sort); do
  ANSIBLE_COLLECTIONS_PATH="$tmp" ansible-doc -t role "inference.host_tuning.$r" >/dev/null ||
    die "ansible-doc cannot render role $r"
done
log "installed into a temporary path; ansible-doc renders $n modules and every role"

ansible-galaxy collection install --force -p "$CACHE/collections" "$tarball" >/dev/null
log "installed $tarball into $CACHE/collections (used by Molecule and the demo)"
