#!/usr/bin/env bash
# Run `molecule test` for each scenario given (default: every extensions/molecule/*/molecule.yml),
# against the collection as built and installed by scripts/build.sh.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$REPO"

scenarios=("$@")
if ((${#scenarios[@]} == 0)); then
  mapfile -t scenarios < <(find extensions/molecule -mindepth 2 -maxdepth 2 -name molecule.yml -printf '%h\n' | xargs -n1 basename | sort)
fi
failed=()
summary=()
for s in "${scenarios[@]}"; do
  log "molecule test -s $s (ansible-core $(python -c 'import ansible.release as r; print(r.__version__)'))"
  start=$SECONDS
  if molecule test -s "$s"; then
    summary+=("$s: passed in $((SECONDS - start)) s")
  else
    summary+=("$s: FAILED after $((SECONDS - start)) s")
    failed+=("$s")
    molecule destroy -s "$s" >/dev/null 2>&1 || true
  fi
done
printf '%s\n' "${summary[@]}"
((${#failed[@]} == 0)) || die "Molecule scenarios failed: ${failed[*]}"
echo "${#scenarios[@]} passed, 0 failed"
