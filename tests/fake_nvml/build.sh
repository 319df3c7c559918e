#!/usr/bin/env bash
# Build the fake NVML library (tests/fake_nvml/fake_nvml.c) with gcc.
# Usage: build.sh [OUTPUT_DIR]   (default: tests/output/fake_nvml)
# Writes OUTPUT_DIR/libnvidia-ml.so.1 with the soname libnvidia-ml.so.1, so a
# process that preloads it makes dlopen("libnvidia-ml.so.1") (pynvml) find it;
# alternatively put OUTPUT_DIR on LD_LIBRARY_PATH of a new process.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${1:-$here/../output/fake_nvml}"
cc="${CC:-gcc}"
mkdir -p "$out"
tmp="$(mktemp "$out/.libnvidia-ml.XXXXXX")"
trap 'rm -f "$tmp"' EXIT
"$cc" -std=c99 -O2 -Wall -Wextra -Werror -fPIC -shared -fvisibility=hidden \
  -Wl,-soname,libnvidia-ml.so.1 -o "$tmp" "$here/fake_nvml.c"
chmod 0755 "$tmp"
mv -f "$tmp" "$out/libnvidia-ml.so.1"
ln -sfn libnvidia-ml.so.1 "$out/libnvidia-ml.so"
echo "$out/libnvidia-ml.so.1"
