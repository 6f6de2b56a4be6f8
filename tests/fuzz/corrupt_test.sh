#!/usr/bin/env bash
# Corrupted captures through tshark with pwru.so built with AddressSanitizer and UBSan.
#
# pwru-corrupt writes damaged copies of a valid capture (pwru-mkcapture's sample, written now):
# damaged records and damaged pcapng blocks, one file per kind, and a manifest of what tshark must show (see tests/tools/pwru-corrupt.cpp). Every
# file is read twice, as nobody with the sanitizer build of the plugin (tests/lib/tshark-plugin.sh):
#   - tshark -2 -V with the three pwru stats trees and the expert summary: no sanitizer report,
#     no crash, no hang (a timeout per run), no "dissector bug", and tshark either reads the
#     file or, for a damaged pcapng block, reports it (exit 2 with a message; later Wiresharks
#     have exit codes of their own for it, see below);
#   - tshark -T fields: the frames pwru marks malformed are exactly those the reference reader
#     (pwru::decode_record) rejects, and a record its EPB cuts short is marked as such.
# usage: corrupt_test.sh PWRU_CORRUPT PWRU_MKCAPTURE ASAN_BUILD
#   ASAN_BUILD holds dissector/plugins/<x.y>/epan/pwru.so, the sanitizer build.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib/common.sh
. "$here/../lib/common.sh"
[ $# -eq 3 ] || fail "usage: corrupt_test.sh PWRU_CORRUPT PWRU_MKCAPTURE ASAN_BUILD"
CORRUPT=$1 MKCAPTURE=$2 ASAN_BUILD=$3

require_cmd tshark gcc timeout
[ "$(id -u)" -ne 0 ] || require_cmd setpriv
# The plugin was built by g++ with -fsanitize=address: tshark itself is not, so the runtime must
# be loaded first, with LD_PRELOAD.
libasan=$(gcc -print-file-name=libasan.so)
[ -f "$libasan" ] || skip_or_fail "needs gcc's AddressSanitizer runtime (libasan, with g++)"

WORK=$(mktemp -d /tmp/pwru-corrupt.XXXXXX) || fail "cannot create a temporary folder"
trap 'rm -rf "$WORK"' EXIT
chmod 755 "$WORK"

# Only tshark gets the runtime (not the shell tools around it): a wrapper first on PATH.
mkdir "$WORK/bin"
printf '#!/bin/sh\nLD_PRELOAD=%s exec %s "$@"\n' "$libasan" "$(command -v tshark)" \
  >"$WORK/bin/tshark"
chmod 755 "$WORK/bin" "$WORK/bin/tshark"
export PATH="$WORK/bin:$PATH"
# Nor the extcaps tshark runs at start (-G plugins lists them): with the runtime inherited,
# androiddump never answers and tshark waits for ever. An empty extcap folder (honoured for
# nobody; the personal one is in the fresh HOME of tshark-plugin.sh).
mkdir "$WORK/extcap"
chmod 755 "$WORK/extcap"
export WIRESHARK_EXTCAP_DIR="$WORK/extcap"
# Any report ends tshark with its own exit code. Leaks are not checked here: tshark does not free
# what it holds at exit (the libFuzzer target checks pwru's own code for leaks). Every wmem and
# GLib allocation is its own malloc, so that ASan sees the bounds of each.
export ASAN_OPTIONS="halt_on_error=1:exitcode=86:detect_leaks=0:detect_odr_violation=0"
export UBSAN_OPTIONS="halt_on_error=1:exitcode=87:print_stacktrace=1"
export WIRESHARK_DEBUG_WMEM_OVERRIDE=simple G_SLICE=always-malloc
SANITIZER_REPORT='AddressSanitizer|LeakSanitizer|runtime error:|UndefinedBehaviorSanitizer'
MALFORMED='pwru.truncated || pwru.bad_version || pwru.bad_length || pwru.mixed_families'
RUN_TIMEOUT=120

# The sanitizers are really there: the runtime in tshark, the instrumented plugin loaded.
out=$(ASAN_OPTIONS="$ASAN_OPTIONS:help=1" "$TSHARK_PLUGIN" "$ASAN_BUILD" -G plugins 2>&1) ||
  fail "tshark with the sanitizer build of pwru.so does not start: $out"
grep -q 'Available flags for AddressSanitizer' <<<"$out" ||
  fail "the AddressSanitizer runtime is not loaded in tshark: $out"
grep -Eq '^pwru\.so[[:space:]]+[^[:space:]]+-asan[[:space:]]' <<<"$out" ||
  fail "tshark did not load the ASan build of pwru.so: $(grep pwru <<<"$out")"

"$MKCAPTURE" "$WORK/sample.pcapng" sample || fail "pwru-mkcapture failed"

files=0 runs=0 frames_total=0 malformed_total=0 short_total=0 damaged_files=0
# check_run WHAT RC STDOUT STDERR: no sanitizer report, crash, hang or dissector bug.
check_run() {
  local what=$1 rc=$2 out=$3 err=$4
  runs=$((runs + 1))
  if grep -Eq "$SANITIZER_REPORT" "$err"; then
    cat "$err" >&2
    fail "$what: sanitizer report (above)"
  fi
  [ "$rc" -ne 124 ] || fail "$what: tshark still ran after ${RUN_TIMEOUT}s (a hang)"
  [ "$rc" -lt 86 ] || { cat "$err" >&2; fail "$what: tshark exited with $rc (crash or sanitizer)"; }
  if grep -q -i 'dissector bug' "$out"; then
    grep -m3 -i 'dissector bug' "$out" >&2
    fail "$what: a dissector bug"
  fi
}

dir="$WORK/corrupt"
mkdir "$dir" && chmod 755 "$dir"
"$CORRUPT" "$WORK/sample.pcapng" "$dir" || fail "pwru-corrupt failed"
# An empty or missing manifest would run no check at all and pass.
listed=$(grep -c . "$dir/manifest.tsv") || fail "pwru-corrupt wrote no manifest lines in $dir"
while IFS=$'\t' read -r file category frames malformed shorts; do
  what=$file
  files=$((files + 1))
  # 1. tshark -2 -V with the stats trees: nothing may go wrong, whatever the damage.
  timeout "$RUN_TIMEOUT" "$TSHARK_PLUGIN" "$ASAN_BUILD" -r "$dir/$file" -2 -V \
    -z pwru_funcs,tree -z pwru_drops,tree -z pwru_journeys,tree -z expert \
    >"$WORK/out" 2>"$WORK/err"
  rc=$?
  check_run "$what (-2 -V -z)" "$rc" "$WORK/out" "$WORK/err"
  read_frames=$(grep -c '^Frame [0-9]*:' "$WORK/out")
  if [ "$frames" = - ]; then
    # A damaged pcapng block: tshark reads what it can and names the damage.
    damaged_files=$((damaged_files + 1))
    if [ "$rc" -ne 0 ]; then
      # A damaged file: 2 (4.0, 4.4), or 14 (4.6, WS_EXIT_READ_ERROR); one that cannot be opened
      # at all: 2 (4.0) or 3 (4.4 and later, WS_EXIT_INVALID_FILE).
      case $rc in
        2 | 3 | 14) ;;
        *) cat "$WORK/err" >&2; fail "$what: tshark exited with $rc" ;;
      esac
      grep -q 'damaged or corrupt\|cut short\|isn.t a capture file\|unknown\|not.*supported' \
        "$WORK/err" || fail "$what: tshark failed without saying why: $(cat "$WORK/err")"
    fi
    printf '  %-28s read %2s frames, tshark exit %s %s\n' "$category" "$read_frames" "$rc" \
      "$(sed -n 's/^(\(.*\))$/\1/p' "$WORK/err" | head -1)"
    continue
  fi
  [ "$rc" -eq 0 ] || { cat "$WORK/err" >&2; fail "$what: tshark exited with $rc"; }
  assert_eq "$what: frames read" "$frames" "$read_frames"
  frames_total=$((frames_total + frames))

  # 2. Which frames are marked malformed (pwru's own expert infos) or cut short.
  timeout "$RUN_TIMEOUT" "$TSHARK_PLUGIN" "$ASAN_BUILD" -r "$dir/$file" -Y "$MALFORMED || _ws.short" \
    -T fields -e frame.number >"$WORK/out" 2>"$WORK/err"
  rc=$?
  check_run "$what (-T fields)" "$rc" "$WORK/out" "$WORK/err"
  [ "$rc" -eq 0 ] || { cat "$WORK/err" >&2; fail "$what: tshark exited with $rc"; }
  marked=$(paste -sd, "$WORK/out")
  if [ -n "$shorts" ]; then
    assert_eq "$what: frames cut short by their EPB" "$shorts" "$marked"
    n=$(tr ',' '\n' <<<"$shorts" | grep -c .)
    short_total=$((short_total + n))
    printf '  %-28s %3s frames, %3s cut short and marked so\n' "$category" "$frames" "$n"
  else
    assert_eq "$what: frames marked malformed (expected: rejected by pwru::decode_record)" \
      "$malformed" "$marked"
    n=$(tr ',' '\n' <<<"$malformed" | grep -c .)
    malformed_total=$((malformed_total + n))
    printf '  %-28s %3s frames, %3s malformed and marked so\n' "$category" "$frames" "$n"
  fi
done <"$dir/manifest.tsv"
assert_eq "damaged files read (lines of the manifest)" "$listed" "$files"
# Every kind of damage is there: records rejected, records cut short, blocks damaged.
for total in frames_total malformed_total short_total damaged_files; do
  [ "${!total}" -gt 0 ] || fail "$total is 0: the manifest lacks a kind of damage"
done

echo "$files corrupted captures, $runs tshark runs with the ASan+UBSan plugin: 0 sanitizer" \
  "reports, 0 crashes, 0 hangs"
pass "$frames_total frames of damaged captures read: $malformed_total malformed and marked malformed," \
  "$short_total cut short and marked so; $damaged_files files with damaged pcapng blocks reported"
