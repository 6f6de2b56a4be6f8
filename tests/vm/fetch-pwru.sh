#!/usr/bin/env bash
# Fetches Debian's pwru package (cilium/pwru, the tracer pwrudump is measured against) into the VM
# cache, once, and prints the cached .deb's path.
#
# usage: fetch-pwru.sh
#
# Like fetch-kernel.sh: apt's ordinary client, a temporary sources list of trixie (Debian 13,
# pwru 1.0.5) on the archive this machine's apt uses, a private state folder. Only the pwru
# package itself: its binary needs libc >= 2.34 and libpcap.so.0.8, which this machine's
# Debian 12 has (prepare.sh copies them from here). PWRU_VM_REFRESH=1 asks the archive again.
# Exit codes: 0 fetched or cached, 1 failed (the reason is on stderr).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=kernels.sh
. "$here/kernels.sh"
# shellcheck source=debian-archive.sh
. "$here/debian-archive.sh"

die() {
  echo "fetch-pwru.sh: $*" >&2
  exit 1
}

[ $# -eq 0 ] || die "usage: fetch-pwru.sh"
suite=trixie
dir="$VM_CACHE/peers/$suite"

cached_deb() {
  local name
  name=$(cat "$dir/current" 2>/dev/null) && [ -n "$name" ] && [ -f "$dir/$name" ] && echo "$dir/$name"
}

fetch() {
  local deb
  tmp=$(mktemp -d "$dir/.fetch.XXXXXX")  # global: the EXIT trap removes it
  trap 'rm -rf "$tmp"' EXIT
  suite_lists "$tmp" "$suite" || die "$APT_ERROR"
  mkdir -p "$tmp/download"
  chmod 777 "$tmp/download"  # apt downloads as user _apt
  (cd "$tmp/download" && apt-get "${APT_OPTS[@]}" -qq download pwru) >"$tmp/download.log" 2>&1 ||
    die "cannot download pwru from $suite: $(tail -n 5 "$tmp/download.log")"
  deb=$(cd "$tmp/download" && ls -- pwru_*.deb) || die "apt-get download of pwru left no .deb"
  dpkg-deb --info "$tmp/download/$deb" >/dev/null || die "the downloaded $deb is not a Debian package"
  find "$dir" -maxdepth 1 -name 'pwru_*.deb' -delete
  mv -f "$tmp/download/$deb" "$dir/$deb"
  echo "$deb" >"$dir/current"
  echo "fetch-pwru.sh: $suite's pwru is $deb" >&2
}

cached_or_fetch "$dir" cached_deb fetch "pwru package" || die "$APT_ERROR"
