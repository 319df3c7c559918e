#!/usr/bin/env bash
# Run ansible-test on a copy of this checkout laid out where ansible-test wants it:
#   <tmp>/ansible_collections/inference/host_tuning (a symlink is not accepted).
# Usage: scripts/ansible-test.sh sanity|units [ansible-test options]
set -euo pipefail
. "$(dirname "$0")/lib.sh"
export PATH="$CACHE/pythons:$PATH"

cmd=${1:?usage: ansible-test.sh sanity|units [options]}
shift
work=$(mktemp -d /tmp/iht-ansible-test.XXXXXX)
trap 'rm -rf "$work"' EXIT
dest="$work/ansible_collections/inference/host_tuning"
mkdir -p "$dest"
(cd "$REPO" && git ls-files -z -co --exclude-standard) |
  (cd "$REPO" && tar --null --ignore-failed-read -T - -cf - 2>/dev/null) |
  tar -C "$dest" -xf -
cd "$dest"
# No sanity ignores for any tested ansible-core (galaxy-importer also warns about an ignore file, even an
# empty one): a finding is fixed, or justified beside the code, never ignored.
ignores=$(find tests/sanity -name 'ignore-*.txt' 2>/dev/null || true)
[[ -z "$ignores" ]] || die "sanity ignore files are not used here: $ignores"
log "ansible-test $cmd on ansible-core $(python -c "import ansible.release as r; print(r.__version__)") ($(python --version))"
case "$cmd" in
  sanity) ansible-test sanity --venv --color no "$@" ;;
  units) ansible-test units --venv --color no "$@" ;;
  *) die "unknown ansible-test command: $cmd" ;;
esac
