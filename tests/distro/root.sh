#!/usr/bin/env bash
# Makes (once) and keeps up to date a Debian root of bookworm, trixie or sid with the named
# packages, for building and testing pwrudump against that suite. Prints the root's path.
#
# usage: root.sh SUITE NAME PACKAGE...
#
# A suite has several roots, each for one purpose and with only the packages that purpose needs
# (NAME: plugin, build, clean, ...), all copies of one minbase root of the suite made once with
# debootstrap. They are cached in $PWRU_DISTRO_CACHE/SUITE/NAME (default /var/cache/pwrudump-distro),
# outside the build tree and the clone; callers bind-mount their source into a root and never
# change what is installed (an overlay, when a test installs something). Only packages a root
# lacks are fetched. The suite moves on: at most once a day
# (PWRU_DISTRO_CHECK_HOURS, default 24) the root runs `apt-get update`, which downloads nothing
# when the suite's Release file did not change, and upgrades when the suite has newer packages;
# without network the cached root is used as it is (a warning says so). PWRU_DISTRO_REFRESH=1
# makes it anew. Package names differ between suites: ask the root (`apt-cache policy NAME`).
# Exit codes: 0 ready, 1 failed (the reason is on stderr).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

die() {
  echo "root.sh: $*" >&2
  exit 1
}
# shellcheck source=../lib/debootstrap.sh
. "$here/../lib/debootstrap.sh"

[ $# -ge 2 ] || die "usage: root.sh SUITE NAME PACKAGE..."
suite=$1
name=$2
shift 2
case $suite in
  bookworm | trixie | sid) ;;
  *) die "cannot make a root of '$suite': not a tested suite
hint: pass bookworm, trixie or sid" ;;
esac
case $name in
  base | *[!a-z0-9-]* | '') die "cannot make a $suite root named '$name': not a root's name
hint: name it after its purpose, in lower case (plugin, build, clean)" ;;
esac
[ "$(id -u)" -eq 0 ] || die "cannot make a $suite root: debootstrap and chroot need root
hint: run as root"
cache=${PWRU_DISTRO_CACHE:-/var/cache/pwrudump-distro}
base="$cache/$suite/base"
root="$cache/$suite/$name"
mkdir -p "$cache" || die "cannot create $cache
hint: set PWRU_DISTRO_CACHE to a folder root may write"
exec 9>"$cache/.$suite.lock"
flock 9  # one writer per suite; callers use the root only after this script is done

# Before roots had names, SUITE itself was a root: made anew in the new layout.
[ ! -f "$cache/$suite/.pwrudump-ready" ] || rm -rf "${cache:?}/$suite"

if [ "${PWRU_DISTRO_REFRESH:-}" = 1 ] || [ ! -f "$base/.pwrudump-ready" ]; then
  debootstrap_make "$base" "$suite" "$cache/$suite.debootstrap.log"
  touch "$base/.pwrudump-checked"
  # The named roots were copies of the old base.
  find "$cache/$suite" -mindepth 1 -maxdepth 1 ! -name base -exec rm -rf {} +
fi
if [ ! -f "$root/.pwrudump-ready" ]; then
  rm -rf "$root" "$root.new"
  cp -a "$base" "$root.new"
  mv "$root.new" "$root"
  echo "${0##*/}: made $root, a copy of $base" >&2
fi
if [ -z "$(find "$root/.pwrudump-checked" -mmin -$((${PWRU_DISTRO_CHECK_HOURS:-24} * 60)) \
               2>/dev/null)" ]; then
  log="$cache/$suite.$name.upgrade.log"
  if ! debootstrap_run "$root" apt-get update -qq >"$log" 2>&1; then
    echo "root.sh: warning: cannot check whether $suite moved on, using the cached root:" \
         "$(tail -n 1 "$log")" >&2
  else
    if debootstrap_run "$root" apt-get -s dist-upgrade | grep -q '^Inst '; then
      echo "root.sh: $suite moved on: upgrading $root" >&2
      debootstrap_run "$root" apt-get dist-upgrade -y -qq >>"$log" 2>&1 ||
        die "cannot upgrade $root: $(tail -n 5 "$log")
hint: PWRU_DISTRO_REFRESH=1 makes the root anew"
      debootstrap_run "$root" apt-get clean >/dev/null 2>&1 || true
    fi
    touch "$root/.pwrudump-checked"
  fi
fi

[ $# -eq 0 ] || debootstrap_install "$root" "$cache/$suite.$name.apt.log" "$@"
echo "$root"
