#!/usr/bin/env bash
# `cmake --install` puts pwrudump where tshark looks for extcaps and the plugin where it looks for
# plugins: installs into a staging root (DESTDIR) and compares with the folders tshark reports.
# usage: install_test.sh BUILD_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib/common.sh
. "$here/../lib/common.sh"
BUILD=$1
require_cmd tshark cmake

WORK=$(mktemp -d /tmp/pwru-install.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
DESTDIR="$WORK/root" cmake --install "$BUILD" >"$WORK/install.log" 2>&1 \
  || fail "cmake --install failed: $(cat "$WORK/install.log")"

folders=$(tshark -G folders 2>/dev/null)
extcap_dir=$(printf '%s\n' "$folders" | sed -n 's/^Extcap path:[[:space:]]*//p' | head -1)
plugin_dir=$(printf '%s\n' "$folders" | sed -n 's/^Global Plugins:[[:space:]]*//p' | head -1)
{ [ -n "$extcap_dir" ] && [ -n "$plugin_dir" ]; } || fail "tshark -G folders did not name its folders"

[ -x "$WORK/root$extcap_dir/pwrudump" ] || fail "pwrudump is not installed in $extcap_dir"
[ -f "$WORK/root$plugin_dir/epan/pwru.so" ] || fail "the plugin is not installed in $plugin_dir/epan"
# The installed binary answers Wireshark's first question.
"$WORK/root$extcap_dir/pwrudump" --extcap-interfaces | grep -q '^interface {value=pwru}' \
  || fail "installed pwrudump does not list the pwru interface"
pass "installed to $extcap_dir/pwrudump and $plugin_dir/epan/pwru.so"
