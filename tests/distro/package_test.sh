#!/usr/bin/env bash
# The Debian package of SUITE's build (the distro.SUITE fixture, build.sh): made with CPack in the
# suite's build root and checked there with that suite's dpkg, tshark and lintian
# (tests/package/contents_test.sh, lintian_test.sh), then installed with apt into a clean root of
# the suite, where an unprivileged member of group wireshark lists, decodes and captures live
# (tests/package/install_test.sh). The checks are the package tests' own, run on another release.
#
# usage: package_test.sh SUITE BUILD_DIR SAMPLE_PCAPNG CAPS
#   BUILD_DIR: the suite's build (build.sh); the package goes to BUILD_DIR/package.
#   CAPS: as in packaging/capabilities.cmake.
# Needs root (chroot, mounts); the clean root is made on the first run (minutes, network).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

[ $# -eq 4 ] || fail "usage: package_test.sh SUITE BUILD_DIR SAMPLE_PCAPNG CAPS"
suite=$1 SAMPLE=$3 CAPS=$4
build=$(cd "$2" && pwd) || fail "cannot open the build folder $2"
require_root
require_cmd debootstrap unshare
distro_built "$suite" "$build"
root=$(distro_build_root "$suite")
# in_root COMMAND...: inside the build root, the build at /mnt/build as the fixture built it.
in_root() { distro_in_root "$root" "$build" "$@"; }
step() { echo "package_test.sh: $suite: $1 ($((SECONDS - start)) s)" >&2; }

start=$SECONDS
in_root /mnt/src/tests/package/build.sh /mnt/build /mnt/build/package || exit
shopt -s nullglob
debs=("$build/package"/*.deb)
[ ${#debs[@]} -eq 1 ] || fail "expected one .deb in $build/package, found ${#debs[@]}"
name=$(basename "${debs[0]}")
step "built $name"
in_root /mnt/src/tests/package/contents_test.sh /mnt/build "/mnt/build/package/$name" "$CAPS" ||
  exit
step "contents checked"
in_root /mnt/src/tests/package/lintian_test.sh "/mnt/build/package/$name" || exit
step "lintian done"
"$src/tests/package/install_test.sh" "${debs[0]}" "$suite" "$SAMPLE" "$CAPS" || exit
step "installed and checked in a clean $suite root"
pass "$name: built in $suite, contents and lintian clean there, installed with apt in a clean" \
     "$suite root and traced in by group wireshark ($((SECONDS - start)) s)"
