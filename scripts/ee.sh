#!/usr/bin/env bash
# Write the execution environment's build context (ansible-builder create, offline), after checking that
# the collection tarball it copies in is there and is this checkout's version. ansible-builder create
# itself succeeds without the tarball; the image build would then fail late, or carry an older build.
# Usage: scripts/ee.sh [-f execution-environment.yml] [-c context-dir]   (make build first)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

file="$REPO/execution-environment.yml"
context="$REPO/context"
while getopts f:c: opt; do
  case "$opt" in
    f) file=$OPTARG ;;
    c) context=$OPTARG ;;
    *) die "usage: ee.sh [-f execution-environment.yml] [-c context-dir]" ;;
  esac
done
[[ -f "$file" ]] || die "$file not found"
version=$(python -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["version"])' "$REPO/galaxy.yml")
want="inference-host_tuning-$version.tar.gz"

# Every collection tarball the EE copies in (additional_build_files) and installs (its galaxy requirements).
mapfile -t tarballs < <(python - "$file" <<'PY'
import os, sys, yaml
path = sys.argv[1]
ee = yaml.safe_load(open(path))
base = os.path.dirname(os.path.abspath(path))
for f in ee.get('additional_build_files') or []:
    if str(f.get('src', '')).endswith('.tar.gz'):
        print(os.path.join(base, f['src']))
galaxy = (ee.get('dependencies') or {}).get('galaxy')
if isinstance(galaxy, str):
    for c in (yaml.safe_load(open(os.path.join(base, galaxy))) or {}).get('collections') or []:
        if str(c.get('name', '')).endswith('.tar.gz'):
            print('requirement:' + c['name'])
PY
)
copied=0
for t in "${tarballs[@]}"; do
  if [[ "$t" == requirement:* ]]; then
    [[ "$(basename "${t#requirement:}")" == "$want" ]] ||
      die "the EE's galaxy requirements install ${t#requirement:}, but galaxy.yml is version $version ($want)"
    continue
  fi
  [[ "$(basename "$t")" == "$want" ]] ||
    die "$file copies $(basename "$t"), but galaxy.yml is version $version: update it to $want"
  [[ -f "$t" ]] || die "the collection tarball $t is missing: run 'make build' first (the EE installs the collection from it)"
  copied=$((copied + 1))
done
((copied > 0)) || die "$file copies no collection tarball ($want) into the build context"

rm -rf "$context"
ansible-builder create -f "$file" -c "$context" >/dev/null
[[ -f "$context/_build/collections/$want" ]] || die "ansible-builder create did not put $want into $context"
log "execution environment context in $context (with $want)"
