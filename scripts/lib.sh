#!/usr/bin/env bash
# Shared settings for the project's scripts (sourced, not run).
# shellcheck disable=SC2034
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${IHT_VENV:-$REPO/.venv}"
# The oldest ansible-core supported (requirements-oldest.txt); scripts run with it when IHT_VENV points here.
OLDEST_VENV="${IHT_OLDEST_VENV:-$REPO/.venv-oldest}"
CACHE="${IHT_CACHE:-$REPO/.cache}"
# Podman settings of our own (runc, no default ulimits): see scripts/containers.conf.
export CONTAINERS_CONF="$REPO/scripts/containers.conf"
export PATH="$VENV/bin:$PATH"
export ANSIBLE_COLLECTIONS_PATH="$CACHE/collections"
export ANSIBLE_HOST_KEY_CHECKING=False

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Install the collection from this checkout into $CACHE/collections so that
# roles resolve as inference.host_tuning.NAME exactly as they do for users.
install_collection() {
  local dest="$CACHE/collections/ansible_collections/inference/host_tuning"
  mkdir -p "$dest"
  (cd "$REPO" && git ls-files -z -co --exclude-standard) |
    (cd "$REPO" && tar --null --ignore-failed-read -T - -cf - 2>/dev/null) |
    tar -C "$dest" -xf -
}
