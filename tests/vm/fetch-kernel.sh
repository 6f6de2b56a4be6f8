#!/usr/bin/env bash
# Fetches the current Debian kernel packages of one kernel of the matrix into the VM cache, once,
# and prints the cached .debs' paths, one a line.
#
# usage: fetch-kernel.sh KERNEL          (KERNEL: 5.10, 6.1, 6.12 or 7.2; see kernels.sh)
#
# The package comes from the Debian archive this machine's apt already uses (its address is read
# from /etc/apt at run time), through apt's ordinary client with a temporary sources list and a
# private state folder, so the machine's own package lists are never touched. The suite's
# linux-image-amd64 metapackage names the current linux-image-<abi>-amd64; from 7.x (sid) that
# package is empty and depends on linux-binary-<abi>-amd64 (the image) and
# linux-modules-<abi>-amd64, which come along. Once cached, the
# package is reused without any network access; PWRU_VM_REFRESH=1 asks the archive again.
# Exit codes: 0 fetched or cached, 1 failed (the reason is on stderr).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=kernels.sh
. "$here/kernels.sh"
# shellcheck source=debian-archive.sh
. "$here/debian-archive.sh"

die() {
  echo "fetch-kernel.sh: $*" >&2
  exit 1
}

[ $# -eq 1 ] || die "usage: fetch-kernel.sh KERNEL"
kernel=$1
vm_kernel "$kernel" || die "unknown kernel '$kernel' (known: $VM_KERNELS)"
suite_dir="$VM_CACHE/$VM_SUITE"

cached_debs() {
  local name n=0
  [ -f "$suite_dir/current" ] || return 1
  while read -r name; do
    [ -n "$name" ] && [ -f "$suite_dir/$name" ] || return 1
    n=$((n + 1))
  done <"$suite_dir/current"
  [ "$n" -gt 0 ] || return 1
  sed "s|^|$suite_dir/|" "$suite_dir/current"
}

fetch() {
  local apt pkg version deb parts
  tmp=$(mktemp -d "$suite_dir/.fetch.XXXXXX")  # global: the EXIT trap removes it
  trap 'rm -rf "$tmp"' EXIT
  suite_lists "$tmp" "$VM_SUITE" || die "$APT_ERROR"
  mkdir -p "$tmp/download"
  apt=("${APT_OPTS[@]}")
  # linux-image-amd64 depends on exactly one linux-image-<abi>-amd64 (= version).
  pkg=$(apt-cache "${apt[@]}" show --no-all-versions linux-image-amd64 2>/dev/null |
        sed -n 's/^Depends:.*\(linux-image-[^ ,]*-amd64\) (= \([^)]*\)).*/\1 \2/p' | head -n 1)
  [ -n "$pkg" ] || die "cannot resolve linux-image-amd64 of $VM_SUITE to a kernel package"
  version=${pkg#* } pkg=${pkg% *}
  echo "fetch-kernel.sh: $VM_SUITE's linux-image-amd64 is $pkg $version" >&2
  # The image and modules of the same version, where the image package is only their parent.
  parts=$(apt-cache "${apt[@]}" show --no-all-versions "$pkg=$version" 2>/dev/null |
          sed -n 's/^Depends: //p' | tr ',' '\n' |
          sed -n 's/^ *\(linux-\(binary\|modules\)-[^ ]*-amd64\) (= \([^)]*\)).*/\1=\3/p')
  # shellcheck disable=SC2086  # one package=version a word
  (cd "$tmp/download" && apt-get "${apt[@]}" -qq download "$pkg=$version" $parts) \
    >"$tmp/download.log" 2>&1 ||
    die "cannot download $pkg $version $parts from $VM_SUITE: $(tail -n 5 "$tmp/download.log")"
  (cd "$tmp/download" && ls -- *.deb) >"$tmp/debs" || die "apt-get download of $pkg $version left no .deb"
  while read -r deb; do
    dpkg-deb --info "$tmp/download/$deb" >/dev/null || die "the downloaded $deb is not a Debian package"
    mv -f "$tmp/download/$deb" "$suite_dir/$deb"
  done <"$tmp/debs"
  mv -f "$tmp/debs" "$suite_dir/current"
  # Older kernels of the suite are not needed any more.
  find "$suite_dir" -maxdepth 1 -name '*.deb' | while read -r old; do
    grep -qxF "$(basename "$old")" "$suite_dir/current" || rm -f "$old"
  done
}

cached_or_fetch "$suite_dir" cached_debs fetch "kernel package" || die "$APT_ERROR"
