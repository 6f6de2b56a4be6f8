#!/usr/bin/env bash
# Runs the libFuzzer target over the pwru record (libfuzzer/record_fuzzer.cpp) for a bounded time
# from the committed seeds, and prints how many inputs it ran. Any crash, sanitizer report
# (ASan, UBSan), leak, disagreement between the dissector and the reference decoder, slow input
# (-timeout) or runaway memory fails the test; libFuzzer leaves the input in OUT_DIR, and the
# inputs of the epan session it crashed in (session.log), which PWRU_FUZZ_REPLAY runs again.
# usage: record_fuzz_test.sh RECORD_FUZZER SEED_DIR OUT_DIR
#   PWRU_FUZZ_SECONDS (default 60) sets the time; see docs/testing-fuzz.md to run it longer.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib/common.sh
. "$here/../lib/common.sh"
[ $# -eq 3 ] || fail "usage: record_fuzz_test.sh RECORD_FUZZER SEED_DIR OUT_DIR"
FUZZER=$1 SEEDS=$2 OUT=$3
SECONDS_TO_RUN=${PWRU_FUZZ_SECONDS:-60}

# Built only where clang++ was found (tests/fuzz/CMakeLists.txt).
[ -x "$FUZZER" ] || skip_or_fail "no $FUZZER: install clang and libclang-rt-14-dev (packaging/install-deps.sh) and rebuild"
[ -d "$SEEDS" ] || fail "no seed corpus $SEEDS"

# New inputs go to a scratch corpus in the build tree, the committed seeds stay as they are.
rm -rf "$OUT"
mkdir -p "$OUT/corpus" "$OUT/artifacts" || fail "cannot create $OUT"
# Every wmem allocation its own malloc, so that ASan sees its bounds. The final leak check runs
# at exit (a per-input check would re-run every input: epan keeps caches across packets).
export WIRESHARK_DEBUG_WMEM_OVERRIDE=simple
export ASAN_OPTIONS="detect_leaks=1:detect_odr_violation=0"
PWRU_FUZZ_SESSION_LOG="$OUT/session.log" "$FUZZER" -max_total_time="$SECONDS_TO_RUN" -timeout=10 -rss_limit_mb=3072 -detect_leaks=0 \
  -seed=1 -print_final_stats=1 -artifact_prefix="$OUT/artifacts/" \
  "$OUT/corpus" "$SEEDS" >"$OUT/log" 2>&1
rc=$?
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$OUT/log")
rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$OUT/log")
corpus=$(find "$OUT/corpus" -type f | wc -l)
if [ "$rc" -ne 0 ] || grep -Eq 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:' "$OUT/log"; then
  grep -v '^#[0-9]' "$OUT/log" | tail -60 >&2
  fail "record_fuzzer exited with $rc after ${runs:-?} inputs; the input is in $OUT/artifacts/" \
       "(reproduce: $FUZZER $OUT/artifacts/FILE; with the session's inputs before it:" \
       "PWRU_FUZZ_REPLAY=$OUT/session.log WIRESHARK_DEBUG_WMEM_OVERRIDE=simple $FUZZER)"
fi
{ [ -n "$runs" ] && [ "$runs" -gt 1000 ]; } ||
  fail "record_fuzzer ran only ${runs:-no} inputs in ${SECONDS_TO_RUN}s: $(tail -5 "$OUT/log")"
pass "record_fuzzer: $runs inputs in ${SECONDS_TO_RUN}s ($rate/s), $corpus new corpus entries:" \
  "0 crashes, 0 sanitizer reports, 0 leaks, 0 timeouts; dissector and decoder agree on every input"
