#!/usr/bin/env bash
# The plugin-only build in a Debian root of SUITE that has nothing but the plugin's build
# dependencies: configures with -DPWRU_PLUGIN_ONLY=ON, builds, loads the plugin into that suite's
# tshark as an unprivileged user, and checks that every kept capture (tests/dissector/data) and a
# fresh sample (with a lost-event count) decode as they do with this machine's build
# (REFERENCE_BUILD_DIR, Wireshark 4.0): the same value of every pwru.* field, in one pass and in
# two, and the same conversation filters (pwru-convfilter).
#
# usage: plugin_test.sh SUITE REFERENCE_BUILD_DIR     (SUITE: bookworm, trixie or sid)
#
# The root comes from root.sh (cached; the first run takes minutes and needs the network). The
# source is bind-mounted into it read-only and built in a temporary folder: the root is not
# changed. Needs root (chroot, mounts).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

[ $# -eq 2 ] || fail "usage: plugin_test.sh SUITE REFERENCE_BUILD_DIR"
suite=$1
ref_build=$(cd "$2" && pwd) || fail "cannot open the reference build folder $2"
require_root
require_cmd tshark debootstrap unshare
convfilter="$ref_build/tests/dissector/pwru-convfilter"
mkcapture="$ref_build/tests/dissector/pwru-mkcapture"
for tool in "$convfilter" "$mkcapture"; do
  [ -x "$tool" ] || fail "cannot find $tool
hint: build the reference tree first (cmake --build $ref_build)"
done

# Only what the plugin-only build needs (README: "The plugin alone"), tshark to load it into, and
# ccache (the suite's cache, lib.sh), which the build uses only when told to.
root=$("$here/root.sh" "$suite" plugin cmake make g++ pkg-config wireshark-dev libglib2.0-dev tshark \
         ccache) ||
  fail "cannot make the $suite root (above)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/plugin_test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/build" "$tmp/captures"
# Kept: written by earlier builds (tests/dissector/data/README.md).
cp "$src"/tests/dissector/data/*.pcapng "$tmp/captures/"
"$mkcapture" "$tmp/captures/fresh.pcapng" sample || fail "pwru-mkcapture cannot write a sample"
chmod -R a+rX "$tmp/captures"

# in_root COMMAND...: inside the root, the captures at /mnt/captures (read-only), the build at
# /mnt/build.
in_root() { distro_in_root "$root" "$tmp/build" --ro "$tmp/captures" captures "$@"; }

echo "plugin_test.sh: building the plugin alone in $root" >&2
in_root sh -c 'cmake -S /mnt/src -B /mnt/build -DPWRU_PLUGIN_ONLY=ON \
  -DCMAKE_CXX_COMPILER_LAUNCHER=ccache >/mnt/build/configure.log 2>&1' ||
  fail "the plugin-only build does not configure in $suite: $(tail -n 20 "$tmp/build/configure.log")"
in_root sh -c 'cmake --build /mnt/build -j2 --target all pwru-convfilter >/mnt/build/build.log 2>&1' ||
  fail "the plugin-only build fails in $suite: $(grep -m 20 -E 'error|Error' "$tmp/build/build.log")"
# shellcheck disable=SC2016 # dpkg-query's format
version=$(in_root dpkg-query -W -f='${Version}' tshark)
shopt -s nullglob
plugins=("$tmp/build/dissector/plugins"/*/epan/pwru.so)
shopt -u nullglob
[ ${#plugins[@]} -eq 1 ] || fail "the build made no dissector/plugins/<x.y>/epan/pwru.so"
echo "plugin_test.sh: $suite: tshark $version, plugin ${plugins[0]#"$tmp/build/"}" >&2
case $version in
  "$(basename "$(dirname "$(dirname "${plugins[0]}")")")".*) ;;
  *) fail "the plugin's folder does not follow $suite's Wireshark $version: ${plugins[0]}" ;;
esac

# same_fields CAPTURE TSHARK_ARGS...: CAPTURE reads the same with 4.0 here and in the root.
same_fields() {
  local capture=$1 want got
  shift
  want=$("$TSHARK_PLUGIN" "$ref_build" -r "$tmp/captures/$capture" "$@" | tshark_booleans) ||
    fail "tshark 4.0 with $ref_build's plugin cannot read $capture"
  [ -n "$want" ] || fail "tshark 4.0 printed nothing for $capture"
  got=$(in_root /mnt/src/tests/lib/tshark-plugin.sh /mnt/build -r "/mnt/captures/$capture" "$@" |
          tshark_booleans) || fail "$suite's tshark $version with the plugin cannot read $capture (above)"
  [ "$got" = "$want" ] || fail "$suite's tshark $version reads $capture otherwise than 4.0 ($*):
$(diff <(echo "$want") <(echo "$got"))"
}

# Every field the plugin registers, as 4.0 lists them; the suite's tshark must list the same.
pwru_fields() {
  awk -F'\t' '$1 == "F" && $3 ~ /^pwru(\.|$)/ { print $3 }' | sort
}
want=$("$TSHARK_PLUGIN" "$ref_build" -G fields | pwru_fields) ||
  fail "tshark 4.0 with $ref_build's plugin cannot list its fields"
got=$(in_root /mnt/src/tests/lib/tshark-plugin.sh /mnt/build -G fields | pwru_fields) ||
  fail "$suite's tshark $version with the plugin cannot list its fields (above)"
[ "$got" = "$want" ] || fail "the plugin registers other fields in $suite than in 4.0:
$(diff <(echo "$want") <(echo "$got"))"
n_fields=$(count_lines "$want")
fields=(-T fields -E occurrence=a -e frame.number)
while read -r field; do fields+=(-e "$field"); done <<<"$want"

for capture in $(cd "$tmp/captures" && echo *.pcapng); do
  same_fields "$capture" "${fields[@]}"
  # Two passes: the journeys' "next" links and the lost-event count (read through epan's
  # private layout, pwru-compat.h) are known only in the second.
  same_fields "$capture" -2 "${fields[@]}"

  want=$("$convfilter" "$tmp/captures/$capture") || fail "pwru-convfilter (4.0) cannot read $capture"
  got=$(in_root /mnt/build/pwru-convfilter "/mnt/captures/$capture") ||
    fail "pwru-convfilter ($suite) cannot read $capture"
  [ "$got" = "$want" ] || fail "the conversation filters of $capture differ in $suite from 4.0:
$(diff <(echo "$want") <(echo "$got"))"
done

pass "plugin-only build in $suite: Wireshark $version loads pwru.so as an unprivileged user and" \
     "reads $(cd "$tmp/captures" && echo *.pcapng) as 4.0 does ($n_fields pwru.* fields)"
