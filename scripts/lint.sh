#!/usr/bin/env bash
# ansible-lint (production profile) over the working tree. Its syntax check resolves
# inference.host_tuning.* modules and roles, so the working tree itself is put on the collection
# path (a link under .cache/lint), before anything is built: lint needs no build and sees the
# sources as they are, also in a fresh clone.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$REPO"

mkdir -p "$CACHE/lint/ansible_collections/inference"
ln -sfn "$REPO" "$CACHE/lint/ansible_collections/inference/host_tuning"
ANSIBLE_COLLECTIONS_PATH="$CACHE/lint:$ANSIBLE_COLLECTIONS_PATH" ansible-lint --offline -q
