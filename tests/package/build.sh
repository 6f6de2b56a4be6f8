#!/usr/bin/env bash
# Builds the Debian package of a build tree with CPack, into OUT_DIR (staging included), so the
# package tests read a package made now from this tree.
# usage: build.sh BUILD_DIR OUT_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib/common.sh
. "$here/../lib/common.sh"
[ $# -eq 2 ] || fail "usage: build.sh BUILD_DIR OUT_DIR"
BUILD=$1 OUT=$2
require_cmd cpack dpkg-deb dpkg-shlibdeps
[ -f "$BUILD/CPackConfig.cmake" ] || fail "$BUILD has no CPackConfig.cmake: dpkg-query was missing at configure time"
[ -f "$BUILD/packaging/pwrudump.1.gz" ] ||
  skip_or_fail "$BUILD has no man page: help2man was missing at configure time (run packaging/install-deps.sh, then reconfigure)"

rm -rf "$OUT"
mkdir -p "$OUT"
start=$SECONDS
cpack --config "$BUILD/CPackConfig.cmake" -G DEB -B "$OUT" >"$OUT/cpack.log" 2>&1 ||
  fail "cpack failed: $(tail -n 20 "$OUT/cpack.log")"
shopt -s nullglob
debs=("$OUT"/*.deb)
[ ${#debs[@]} -eq 1 ] || fail "expected one .deb in $OUT, found ${#debs[@]}: $(cat "$OUT/cpack.log")"
pass "built $(basename "${debs[0]}") ($(du -h "${debs[0]}" | cut -f1)) in $((SECONDS - start)) s"
