#!/usr/bin/env bash
# Prepares one kernel of the matrix for the VM tests (the ctest fixture vm.<kernel>.prepare):
# fetches its Debian package into the cache, takes the kernel image and the scenario's modules
# out of it, and builds the guest's initramfs around this build's pwrudump.
#
# usage: prepare.sh KERNEL PWRUDUMP VM_DIR [PROGS_DIR]
#   PROGS_DIR  the tests' own tc and XDP programs (tests/vm/progs, built), put in /progs
#   VM_DIR/kernel/     vmlinuz, the modules (decompressed) and modules.load, their load order;
#                      kept while the package and the module list stay the same
#   VM_DIR/initramfs.cpio.gz   rebuilt every time (pwrudump changes with every build)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib/common.sh
. "$here/../lib/common.sh"
# shellcheck source=kernels.sh
. "$here/kernels.sh"

[ $# -eq 3 ] || [ $# -eq 4 ] || fail "usage: prepare.sh KERNEL PWRUDUMP VM_DIR [PROGS_DIR]"
kernel=$1 PWRUDUMP=$2 VM_DIR=$3 PROGS_DIR=${4:-}
vm_kernel "$kernel" || fail "unknown kernel '$kernel'"
# Whatever happens next, no test may boot an initramfs left from an earlier build.
rm -f "$VM_DIR/initramfs.cpio.gz"

require_root
require_cmd apt-get dpkg-deb modinfo cpio gzip xz zstd ldd flock
[ -x /bin/busybox ] || skip_or_fail "needs /bin/busybox (busybox-static; run packaging/install-deps.sh)"
# The guest has no libraries of its own for busybox: it must be the static one.
ldd /bin/busybox >/dev/null 2>&1 && skip_or_fail "/bin/busybox is dynamic: install busybox-static"
[ -x "$PWRUDUMP" ] || fail "cannot find pwrudump at $PWRUDUMP: build it first"

# --- the kernel package, from the cache or the archive ---
debs=$("$here/fetch-kernel.sh" "$kernel") || fail "cannot fetch the $kernel kernel ($VM_SUITE): see above"

# --- kernel image and modules, redone only when the package or the module list changes ---
kdir="$VM_DIR/kernel"
deb_names=$(xargs -n 1 basename <<<"$debs" | paste -sd ' ')
stamp="$deb_names modules: $VM_MODULES, their soft dependencies"
if [ "$(cat "$kdir/stamp" 2>/dev/null)" != "$stamp" ]; then
  rm -rf "$kdir" "$VM_DIR/extract"
  mkdir -p "$kdir/modules" "$VM_DIR/extract"
  while read -r deb; do
    dpkg-deb -x "$deb" "$VM_DIR/extract" || fail "cannot unpack $deb"
  done <<<"$debs"
  # Debian moved the modules from /lib/modules to /usr/lib/modules in 13 (trixie).
  moddir=$(find "$VM_DIR/extract/lib/modules" "$VM_DIR/extract/usr/lib/modules" -mindepth 1 \
             -maxdepth 1 -type d 2>/dev/null | head -n 1)
  [ -n "$moddir" ] || fail "$debs: no lib/modules/<version>"
  kver=$(basename "$moddir")
  # The image is boot/vmlinuz-<version>, or from 7.x (linux-binary-*) <moddir>/vmlinuz.
  image="$VM_DIR/extract/boot/vmlinuz-$kver"
  [ -f "$image" ] || image="$moddir/vmlinuz"
  cp "$image" "$kdir/vmlinuz" || fail "$debs: neither boot/vmlinuz-$kver nor $kver/vmlinuz"
  echo "$kver" >"$kdir/kver"

  # Dependencies first (depth first), each module once; built-in ones need nothing.
  declare -A seen=()
  : >"$kdir/modules/modules.load"
  add_module() {
    local name=${1//-/_} file dep
    [ -n "${seen[$name]:-}" ] && return 0
    seen[$name]=1
    if grep -Eq "/${name//_/[_-]}\.ko$" "$moddir/modules.builtin"; then
      echo "prepare.sh: $name is built into $kver"
      return 0
    fi
    file=$(find "$moddir/kernel" -regextype posix-extended \
             -regex ".*/${name//_/[_-]}\.ko(\.xz|\.zst|\.gz)?" | head -n 1)
    [ -n "$file" ] || fail "cannot find module $name in $kver"
    for dep in $(modinfo -F depends "$file" | tr ',' ' '); do
      add_module "$dep"
    done
    # A soft dependency its init needs (5.10's libcrc32c: `pre: crc32c`, a crypto algorithm): the
    # module of that name, else its generic implementation, where the kernel has one as a module
    # (the package has no modules.alias to ask; the CPU-specific ones may not run under TCG).
    for dep in $(modinfo -F softdep "$file" | sed -n 's/^pre: *//p'); do
      for cand in "$dep" "${dep}_generic"; do
        if find "$moddir/kernel" -regextype posix-extended \
             -regex ".*/${cand//_/[_-]}\.ko(\.xz|\.zst|\.gz)?" | grep -q .; then
          add_module "$cand"
          break
        fi
      done
    done
    case "$file" in
      *.xz) xz -dc "$file" ;;
      *.zst) zstd -qdc "$file" ;;
      *.gz) gzip -dc "$file" ;;
      *) cat "$file" ;;
    esac >"$kdir/modules/$name.ko" || fail "cannot decompress $file"
    echo "$name" >>"$kdir/modules/modules.load"
  }
  for m in $VM_MODULES; do add_module "$m"; done
  rm -rf "$VM_DIR/extract"
  echo "$stamp" >"$kdir/stamp"
fi
kver=$(cat "$kdir/kver")
echo "prepare.sh: kernel $kver ($deb_names), modules: $(tr '\n' ' ' <"$kdir/modules/modules.load")"

# --- the initramfs ---
root="$VM_DIR/initramfs"
rm -rf "$root"
mkdir -p "$root"/{dev,proc,sys,run,tmp,etc,modules,scenario,usr/bin,usr/sbin}
# The same merged-/usr layout as this machine, so the paths ldd prints are valid in the guest.
usr_layout() {
  local d
  for d in bin sbin lib lib64; do
    if [ -L "/$d" ]; then
      mkdir -p "$root/$(readlink -f "/$d")" && ln -s "$(readlink "/$d")" "$root/$d"
    else
      mkdir -p "$root/$d"
    fi
  done
}
usr_layout

# copy_file PATH: PATH at the same place in the guest, symlinks resolved.
copy_file() {
  { mkdir -p "$root$(dirname "$1")" && cp -L "$1" "$root$1"; } || fail "cannot copy $1 into the initramfs"
}
# copy_libs FILE: every shared library ldd lists for FILE (that the guest lacks: the initramfs, or
# for the pwru archive the initramfs it goes on).
copy_libs() {
  local lib
  for lib in $(ldd "$1" 2>/dev/null | grep -o '/[^ ]*'); do
    [ -e "$root$lib" ] || [ -e "${base_root:-$root}$lib" ] || copy_file "$lib"
  done
}
# copy_with_libs FILE...: the files and their libraries.
copy_with_libs() {
  local f
  for f in "$@"; do copy_file "$f" && copy_libs "$f"; done
}

copy_file /bin/busybox
# Without its debug sections: half the size, and the guest unpacks it in emulation.
if command -v strip >/dev/null; then
  strip --strip-debug -o "$root/usr/bin/pwrudump" "$PWRUDUMP"
else
  cp "$PWRUDUMP" "$root/usr/bin/pwrudump"
fi || fail "cannot copy $PWRUDUMP"
copy_libs "$PWRUDUMP"
ip=$(command -v ip) || fail "needs ip (iproute2)"
copy_with_libs "$(readlink -f "$ip")"
[ -e "$root/usr/bin/ip" ] || ln -s "$(readlink -f "$ip")" "$root/usr/bin/ip"
# iptables-legacy (see kernels.sh) with its extensions, which it loads at run time.
legacy=/usr/sbin/xtables-legacy-multi
[ -x "$legacy" ] || skip_or_fail "needs $legacy (package iptables)"
copy_with_libs "$legacy" /usr/lib/*/xtables/*.so
ln -s xtables-legacy-multi "$root/usr/sbin/iptables"
ln -s xtables-legacy-multi "$root/usr/sbin/iptables-save"
# nft: the scenario's accepting chain, the rulesets it compares before and after a capture, and
# scenario-nftrace.sh's rule and trace tables.
nft=/usr/sbin/nft
[ -x "$nft" ] || skip_or_fail "needs $nft (package nftables)"
copy_with_libs "$nft"
# For scenario-privileges.sh: tracing as another user with file capabilities.
for f in /usr/bin/setpriv /usr/sbin/setcap; do
  [ -x "$f" ] || skip_or_fail "needs $f (packages util-linux and libcap2-bin)"
done
copy_with_libs /usr/bin/setpriv /usr/sbin/setcap
# For scenario-bpfprog.sh: tc loads the tc program (ip the XDP one), both through libbpf.
tc=/usr/sbin/tc
[ -x "$tc" ] || skip_or_fail "needs $tc (package iproute2)"
copy_with_libs "$tc"
if [ -n "$PROGS_DIR" ]; then
  mkdir -p "$root/progs"
  cp "$PROGS_DIR"/*.bpf.o "$root/progs/" || fail "cannot copy the test programs of $PROGS_DIR"
fi
for f in /etc/protocols /etc/services; do [ -r "$f" ] && copy_file "$f"; done
echo "root:x:0:0:root:/root:/bin/sh" >"$root/etc/passwd"
echo "root:x:0:" >"$root/etc/group"
cp "$kdir"/modules/* "$root/modules/"
cp "$here/guest/init" "$root/init" && chmod 755 "$root/init"
cp "$here"/guest/scenario-*.sh "$root/scenario/"
mknod -m 600 "$root/dev/console" c 5 1
mknod -m 666 "$root/dev/null" c 1 3

(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -1 \
  >"$VM_DIR/initramfs.cpio.gz.new" || fail "cannot build the initramfs"
mv -f "$VM_DIR/initramfs.cpio.gz.new" "$VM_DIR/initramfs.cpio.gz"
echo "prepare.sh: $VM_DIR/initramfs.cpio.gz ($(du -h "$VM_DIR/initramfs.cpio.gz" | cut -f1))"

# --- Debian's pwru beside pwrudump (VM_PWRU, kernels.sh) ---
# An archive of its own, which only the cells and the bench that run pwru put after the
# initramfs (vm_test.sh's PWRU_VM_PWRU, bench/peer-pwru.sh): the other cells boot no bigger.
# pwru with this machine's libc and libpcap (fetch-pwru.sh says why they do), and iperf3 with
# its libraries where this machine has it (bench/install-deps.sh), for the bench.
# Without it only those fail (vm_test.sh says so), not every cell of the kernel.
rm -f "$VM_DIR/pwru.cpio.gz" "$VM_DIR/pwru.deb"
if [ "$VM_PWRU" = yes ] && ! pwru_deb=$("$here/fetch-pwru.sh"); then
  echo "prepare.sh: WARNING: cannot fetch Debian's pwru (above): vm.$kernel.pwru and bench/peer-pwru.sh will fail"
elif [ "$VM_PWRU" = yes ]; then
  base_root=$root root="$VM_DIR/pwru-root"
  rm -rf "$root"
  mkdir -p "$root/usr/bin"
  usr_layout
  dpkg-deb --fsys-tarfile "$pwru_deb" | tar -xO ./usr/bin/pwru >"$root/usr/bin/pwru" ||
    fail "cannot take usr/bin/pwru out of $pwru_deb"
  chmod 755 "$root/usr/bin/pwru"
  missing=$(ldd "$root/usr/bin/pwru" 2>&1 | grep 'not found')
  [ -z "$missing" ] || fail "Debian's pwru cannot run with this machine's libraries: $missing"
  copy_libs "$root/usr/bin/pwru"
  iperf3=$(command -v iperf3) && copy_with_libs "$(readlink -f "$iperf3")"
  (cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -1 \
    >"$VM_DIR/pwru.cpio.gz" || fail "cannot build the pwru archive"
  basename "$pwru_deb" >"$VM_DIR/pwru.deb"
  echo "prepare.sh: $VM_DIR/pwru.cpio.gz ($(du -h "$VM_DIR/pwru.cpio.gz" | cut -f1)):" \
       "$(basename "$pwru_deb")${iperf3:+, $iperf3}"
  root=$base_root base_root=
fi
pass "kernel $kver ready for the VM tests"
