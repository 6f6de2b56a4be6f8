#!/usr/bin/env bash
# --filter-trace-tc and --filter-trace-xdp on this machine's kernel, which refuses fentry (kernel
# lockdown, docs/testing-vms.md has the kernels where they run): for each of tc, xdp and both,
# pwrudump ends at once with exit status 5 (the kernel lacks a feature, not a crash: no signal,
# no core) and one error that names the flags' need, fentry, and why the kernel refused it; in
# extcap mode the same status, and Wireshark's error is that line too.
# usage: bpf_progs_test.sh PWRUDUMP BUILD_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib/common.sh
. "$here/../lib/common.sh"
PWRUDUMP=$1

require_root
require_cmd timeout
WORK=$(mktemp -d /tmp/pwru-e2e.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

# run NAME ARGS...: pwrudump's status in $status, its stderr in $WORK/NAME.err.
run() {
  local name=$1
  shift
  timeout 60 "$PWRUDUMP" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err"
  status=$?
}

# Is fentry refused here at all? A kernel that runs it makes this test's question moot.
run probe --filter-trace-tc --output-limit-lines 1 icmp
if [ "$status" -ne 5 ] && ! grep -q "cannot use fentry" "$WORK/probe.err"; then
  [ "$status" -eq 124 ] && skip_or_fail "this kernel runs fentry (pwrudump traced until the" \
    "timeout): the refusal this test checks needs a kernel that refuses it, like this project's" \
    "machines (lockdown)"
fi

for flags in "--filter-trace-tc" "--filter-trace-xdp" "--filter-trace-tc --filter-trace-xdp"; do
  name=$(tr -d ' -' <<<"$flags")
  # shellcheck disable=SC2086 # the flags are words
  run "$name" $flags icmp
  [ "$status" -lt 128 ] || fail "$flags: pwrudump died of signal $((status - 128))"
  assert_eq "$flags: exit status" 5 "$status"
  case "$flags" in
  *tc*xdp*) what="tc and XDP" ;;
  *tc*) what="tc" ;;
  *) what="XDP" ;;
  esac
  grep -q "^pwrudump: cannot trace $what programs: cannot use fentry: the kernel refuses" \
    "$WORK/$name.err" || fail "$flags: no error that says why: $(cat "$WORK/$name.err")"
  grep -q "fentry on BPF programs" "$WORK/$name.err" ||
    fail "$flags: the error has no fix: $(cat "$WORK/$name.err")"
  pass "$flags: exit 5, $(head -1 "$WORK/$name.err")"
done

# Extcap mode: Wireshark starts the capture with the dialog's flag; same status, one error line.
mkfifo "$WORK/fifo"
(exec 3<"$WORK/fifo"; cat <&3 >/dev/null) &
run extcap --capture --extcap-interface pwru --fifo "$WORK/fifo" --filter-trace-xdp
wait
[ "$status" -lt 128 ] || fail "extcap: pwrudump died of signal $((status - 128))"
assert_eq "extcap: exit status" 5 "$status"
grep -q "cannot trace XDP programs: cannot use fentry" "$WORK/extcap.err" ||
  fail "extcap: no error that says why: $(cat "$WORK/extcap.err")"
pass "extcap: exit 5, $(head -1 "$WORK/extcap.err")"
