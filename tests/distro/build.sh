#!/usr/bin/env bash
# Builds the whole project (pwrudump, the plugin, the tests) inside a Debian root of SUITE that
# has the suite's build dependencies as packaging/install-deps.sh names them there: the suite's
# compiler, clang, libbpf, libpcap, CLI11, GoogleTest and Wireshark. The ctest fixture that the
# other distro.SUITE.* tests require.
#
# usage: build.sh SUITE BUILD_DIR
#
# BUILD_DIR (in this machine's build tree) holds the build; inside the root it is /mnt/build and
# the source /mnt/src (read-only). ccache keeps its cache next to the roots
# ($PWRU_DISTRO_CACHE/SUITE/ccache), so a warm run compiles only what changed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

[ $# -eq 2 ] || fail "usage: build.sh SUITE BUILD_DIR"
suite=$1
build=$2
require_root
require_cmd debootstrap unshare

# The suite's names for the build, fuzz, run and package dependencies, asked of the root itself.
root=$("$here/root.sh" "$suite" build) || fail "cannot make the $suite root (above)"
packages=$(debootstrap_run "$root" --ro "$src" src \
             bash /mnt/src/packaging/install-deps.sh --print build fuzz run package) ||
  fail "cannot list $suite's build dependencies (above)"
# shellcheck disable=SC2086 # one name a word
root=$("$here/root.sh" "$suite" build $packages ccache) || fail "cannot make the $suite root (above)"

mkdir -p "$build"
in_root() { distro_in_root "$root" "$build" "$@"; }

# shellcheck disable=SC2016 # dpkg-query's format
echo "build.sh: $suite: $(in_root dpkg-query -W -f='${Package} ${Version}, ' \
  g++ clang libbpf-dev libpcap-dev libcli11-dev libgtest-dev wireshark-dev)" >&2
in_root cmake -S /mnt/src -B /mnt/build -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache \
  >"$build/configure.log" 2>&1 ||
  fail "the project does not configure in $suite: $(tail -n 20 "$build/configure.log")"
in_root ccache -z >/dev/null  # the summary below counts this build's compilations only
in_root cmake --build /mnt/build -j2 >"$build/build.log" 2>&1 ||
  fail "the project does not build in $suite: $(grep -m 20 -E 'error|Error' "$build/build.log")"
pass "the project builds in $suite (ccache$(in_root ccache -s | grep -m 1 -i 'hits' | tr -s ' '))"
