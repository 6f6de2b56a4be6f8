#!/usr/bin/env bash
# Makes (once) and keeps up to date a clean Debian root of this machine's release, for installing
# the package into: debootstrap (minbase) from the archive this machine's apt uses, then the
# packages named on the command line, installed with apt inside the root. Prints the root's path.
#
# usage: debian-root.sh PACKAGE...
#
# The root is cached in $PWRU_PACKAGE_CACHE (default /var/cache/pwrudump-package) and reused:
# only packages it lacks are fetched, so a cached run needs no network. Tests never change it:
# they mount an overlay on it (install_test.sh). PWRU_PACKAGE_REFRESH=1 makes it anew.
# The archive's address is read from /etc/apt at run time (tests/lib/debootstrap.sh): every deb
# source of this machine's release and its -updates and -security suites, as the machine has them.
# Exit codes: 0 ready, 1 failed (the reason is on stderr).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

die() {
  echo "debian-root.sh: $*" >&2
  exit 1
}
# shellcheck source=../lib/debootstrap.sh
. "$here/../lib/debootstrap.sh"

[ $# -ge 1 ] || die "usage: debian-root.sh PACKAGE..."
[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap, chroot)"
cache=${PWRU_PACKAGE_CACHE:-/var/cache/pwrudump-package}
codename=$(debootstrap_host_codename)
root="$cache/$codename"
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9  # one writer; the tests read the root only after this script is done

if [ "${PWRU_PACKAGE_REFRESH:-}" = 1 ] || [ ! -f "$root/.pwrudump-ready" ]; then
  debootstrap_make "$root" "$codename" "$cache/debootstrap.log"
fi
debootstrap_install "$root" "$cache/apt.log" "$@"
echo "$root"
