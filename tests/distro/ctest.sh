#!/usr/bin/env bash
# Runs a group of the project's own tests inside SUITE's build root against the build that
# distro.SUITE.build made there, so with that suite's libraries and tshark.
#
# usage: ctest.sh SUITE BUILD_DIR GROUP
#   GROUP unit: the unit tests (label unit; /sys is mounted for the kernel's BTF).
#   GROUP dissector: every test that reads captures with tshark and the plugin: the dissector
#   tests (fields, journeys, stats trees, the profile, the kept captures) and the corrupted
#   captures read by the sanitized plugin (fuzz.corrupt_captures).
# tshark runs as user nobody inside the root (tests/lib/tshark-plugin.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

[ $# -eq 3 ] || fail "usage: ctest.sh SUITE BUILD_DIR GROUP"
suite=$1 build=$2 group=$3
require_root
require_cmd debootstrap unshare
case $group in
  unit) select=(-L '^unit$') sys=(--sys) ;;
  dissector) select=(-R '^(dissector\..*|fuzz\.corrupt_captures)$') sys=() ;;
  *) fail "no test group '$group'
hint: pass unit or dissector" ;;
esac
distro_built "$suite" "$build"
root=$(distro_build_root "$suite")

# shellcheck disable=SC2016 # dpkg-query's format
version=$(distro_in_root "$root" "$build" dpkg-query -W -f='${Version}' tshark)
echo "ctest.sh: $suite ($(uname -r), tshark $version): ${select[*]}" >&2
# ctest's own -j: the tests of a group are independent (each has its own temporary folder). The
# whole log is kept next to the build; what failed is printed.
log="$build/ctest-$group.log"
if ! distro_in_root "$root" "$build" "${sys[@]}" ctest --test-dir /mnt/build "${select[@]}" \
     -j"$(nproc)" --output-on-failure --no-tests=error >"$log" 2>&1; then
  grep -v -e '^ *Start ' -e ' Passed ' "$log" >&2
  fail "the $group tests fail in $suite's root (above; all of it in $log)"
fi
pass "the $group tests pass in $suite's root (tshark $version): $(grep -m 1 'tests passed' "$log")," \
     "$(grep -c -e '\*\*\*Skipped' -e 'Not Run' "$log") skipped"
