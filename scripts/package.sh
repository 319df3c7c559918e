#!/usr/bin/env bash
# What a user's tooling does with the built tarball (make build first):
#   1. galaxy-importer, as Galaxy and Automation Hub run it on upload (offline: no ansible-test, the
#      ansible-lint it bundles offline); any WARNING or ERROR it logs fails this script.
#   2. ansible-builder introspect on the installed collection, as an execution environment that lists the
#      collection is built: it must find nvidia-ml-py (meta/execution-environment.yml -> requirements.txt).
#   3. scripts/ee.sh: the EE build context is written with the tarball, and refused without it.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$REPO"

version=$(python -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["version"])' galaxy.yml)
tarball="$REPO/build/inference-host_tuning-$version.tar.gz"
[[ -f "$tarball" ]] || die "$tarball is missing: run 'make build' first"
tmp=$(mktemp -d /tmp/iht-package.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

log "galaxy-importer on $(basename "$tarball")"
start=$SECONDS
status=0
(cd "$tmp" && GALAXY_IMPORTER_CONFIG="$REPO/scripts/galaxy-importer.cfg" \
  python -m galaxy_importer.main "$tarball" >"$tmp/importer.log" 2>&1) || status=$?
if ((status != 0)) || grep -qE '^(WARNING|ERROR|CRITICAL): ' "$tmp/importer.log"; then
  cat "$tmp/importer.log" >&2
  die "galaxy-importer did not accept the tarball cleanly (exit $status; its warnings and errors above)"
fi
grep -q '^Importer processing completed successfully' "$tmp/importer.log" ||
  { cat "$tmp/importer.log" >&2; die "galaxy-importer did not say it completed"; }
log "galaxy-importer: imported with no warning ($((SECONDS - start)) s)"

log "ansible-builder introspect on the installed collection"
ANSIBLE_COLLECTIONS_PATH="$tmp/collections" ansible-galaxy collection install --force -p "$tmp/collections" "$tarball" >/dev/null
ansible-builder introspect --sanitize "$tmp/collections" >"$tmp/introspect.yml"
python - "$tmp/introspect.yml" <<'PY'
import sys, yaml
data = yaml.safe_load(open(sys.argv[1]))
python = [line for line in data.get('python') or [] if 'from collection inference.host_tuning' in line]
if not any(line.split()[0].startswith('nvidia-ml-py') for line in python):
    sys.exit('ansible-builder introspect found no nvidia-ml-py for inference.host_tuning: %s' % data)
print('introspect: %s' % '; '.join(python))
PY

log "execution environment: ansible-builder create, and its refusal without the tarball"
bash scripts/ee.sh -c "$tmp/context"
mkdir -p "$tmp/no-tarball"
cp -r execution-environment.yml execution-environment galaxy.yml "$tmp/no-tarball/"
if refusal=$(bash scripts/ee.sh -f "$tmp/no-tarball/execution-environment.yml" -c "$tmp/context2" 2>&1); then
  die "scripts/ee.sh wrote a context without the collection tarball"
fi
grep -q 'tarball .* is missing' <<<"$refusal" || die "scripts/ee.sh failed for another reason: $refusal"
log "package checks passed: galaxy-importer, introspection (nvidia-ml-py), EE context"
