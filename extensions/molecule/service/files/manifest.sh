#!/bin/sh
# Every path where the collection writes or a hostile value could land, with its type, mode, owner, link
# target and content hash, sorted: two manifests are equal only when nothing there changed.
set -eu
# The accounts (useradd/userdel and usermod round trips leave these files byte for byte), the service home
# and the allocator packages: what the collection creates must be gone after revert.yml.
for d in /etc/systemd/system /etc/kubernetes /var/lib/inference_host_tuning /usr/local /tmp/pwned \
  /etc/passwd /etc/group /etc/shadow /etc/gshadow /var/lib/inference; do
  if [ ! -e "$d" ] && [ ! -L "$d" ]; then
    echo "$d absent"
    continue
  fi
  find "$d" -printf '%p %y %m %U %G %l\n'
  find "$d" -type f -exec sha256sum {} +
done | LC_ALL=C sort
for p in libjemalloc2 libtcmalloc-minimal4 libtcmalloc-minimal4t64; do
  # a removed package may stay in dpkg's database as not-installed: only "installed" counts
  st=$(dpkg-query -W -f '${db:Status-Status}' "$p" 2>/dev/null || true)
  if [ "$st" = installed ]; then echo "package $p installed"; else echo "package $p absent"; fi
done
