#!/usr/bin/env bash
# Regenerates the drop reason lists next to this script, one file per kernel (KERNEL.txt: the
# names of enum skb_drop_reason without SKB_DROP_REASON_, one a line, sorted), from the BTF of
# the VM matrix's cached kernel packages and, with --host, of the running kernel.
# reasons_test.cpp checks that pwru_reasons.h explains every name in them.
# usage: update.sh [--host]     (root not needed; reads $PWRU_VM_CACHE, default
#                                /var/cache/pwrudump-vm, filled by the vm tests)
# Needs dpkg-deb, bpftool, xz and zstd. 5.10 (bullseye) has no drop reasons and no list.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../../../vm/kernels.sh
. "$here/../../../vm/kernels.sh"
WORK=$(mktemp -d /tmp/pwru-reasons.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

# names BTF_FILE OUT: the enum's names, prefix dropped, sorted.
names() {
  bpftool btf dump file "$1" format raw |
    awk "/^\[[0-9]+\] ENUM 'skb_drop_reason' /{ on = 1; next } /^\[/{ on = 0 } on" |
    sed -E "s/^[[:space:]]*'([^']+)'.*/\1/; s/^SKB_DROP_REASON_//" | LC_ALL=C sort >"$2"
  [ -s "$2" ] || { echo "cannot read enum skb_drop_reason from $1" >&2; exit 1; }
}

# vmlinux IMAGE OUT: the ELF inside a bzImage, found by its compressor's magic (Debian: xz up
# to 6.1, zstd after), which holds the .BTF section.
vmlinux() {
  local offset
  offset=$(LC_ALL=C grep -abo -m1 -P '\xfd7zXZ\x00' "$1" | cut -d: -f1 || true)
  if [ -n "$offset" ]; then
    tail -c +$((offset + 1)) "$1" | xz -dc >"$2" 2>/dev/null || true
  else
    offset=$(LC_ALL=C grep -abo -m1 -P '\x28\xb5\x2f\xfd' "$1" | cut -d: -f1)
    tail -c +$((offset + 1)) "$1" | zstd -dcq >"$2" 2>/dev/null || true
  fi
  [ -s "$2" ] || { echo "cannot decompress $1" >&2; exit 1; }
}

for kernel in $VM_KERNELS; do
  vm_kernel "$kernel"
  [ "$VM_DROP_REASON" = yes ] || continue
  debs=("$VM_CACHE/$VM_SUITE"/linux-image-*.deb "$VM_CACHE/$VM_SUITE"/linux-binary-*.deb)
  rm -rf "$WORK/x" && mkdir "$WORK/x"
  for deb in "${debs[@]}"; do
    if [ -f "$deb" ]; then dpkg-deb -x "$deb" "$WORK/x"; fi
  done
  image=$(find "$WORK/x" -name 'vmlinuz*' -type f | head -n1)
  [ -n "$image" ] || { echo "no kernel image for $kernel in $VM_CACHE/$VM_SUITE (run the vm tests once)" >&2; exit 1; }
  vmlinux "$image" "$WORK/vmlinux"
  names "$WORK/vmlinux" "$here/$kernel.txt"
  echo "$kernel ($VM_SUITE): $(wc -l <"$here/$kernel.txt") names"
done

if [ "${1:-}" = --host ]; then
  host=$(uname -r | grep -oE '^[0-9]+\.[0-9]+')
  names /sys/kernel/btf/vmlinux "$here/$host.txt"
  echo "$host (this host): $(wc -l <"$here/$host.txt") names"
fi
