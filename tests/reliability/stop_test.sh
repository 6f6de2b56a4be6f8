#!/usr/bin/env bash
# Every way a capture ends, mid-capture under traffic (a ping every 2 ms from A to B, about 15
# kernel events each), on the running kernel:
#   sigint:  pwrudump -w FILE, Ctrl-C (SIGINT).
#   sigterm: extcap mode (--capture --fifo), a reader on the fifo as Wireshark's; SIGTERM, as
#            Wireshark stops an extcap.
#   sigkill: pwrudump -w FILE, SIGKILL: nothing of ours runs any more.
#   fifo:    extcap mode, the fifo's reader goes away (Wireshark closing its end).
#   pipe:    pwrudump -w - | cat >FILE: the pipe's reader exits (is killed).
# Each time: no BPF program or link that pwrudump held is left in the kernel (bpftool's listing,
# by the IDs pwrudump's pid held while it ran: other BPF users may come and go), the exit status
# says what happened (0 for a stop that was asked for, 128+9 for SIGKILL), nothing on stderr, and
# tshark with the plugin reads every complete block of the file: with the statistics block at
# the end after a stop by signal, up to the cut after SIGKILL or a reader leaving (then tshark
# says the file was cut short, and still shows every complete event).
# usage: stop_test.sh MODE PWRUDUMP BUILD_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib/common.sh
. "$here/../lib/common.sh"
# shellcheck source=reliability-lib.sh
. "$here/reliability-lib.sh"
mode=$1 PWRUDUMP=$2 BUILD=$3

require_root
require_cmd ip ping tshark setpriv bpftool python3 timeout
e2e_hosts
FILTER="icmp and host $IP_B"
TRACE=$WORK/trace.pcapng
READER_PID=

ip netns exec "$NS_A" ping -q -i 0.002 -W 1 "$IP_B" >/dev/null 2>&1 &
PING_PID=$!
stop_ping() { kill "$PING_PID" 2>/dev/null; wait "$PING_PID" 2>/dev/null; }
# A process left in a namespace would keep it alive after `ip netns del`.
trap 'rc=$?; stop_ping; [ -n "$READER_PID" ] && kill "$READER_PID" 2>/dev/null; (exit $rc); netns_cleanup' EXIT

# pwrudump in extcap mode as Wireshark starts it, with a reader on the fifo.
start_extcap() {
  mkfifo "$WORK/fifo"
  cat "$WORK/fifo" >"$TRACE" &
  READER_PID=$!
  "$PWRUDUMP" --capture --extcap-interface pwru --fifo "$WORK/fifo" \
    --extcap-capture-filter "$FILTER" --ready-file "$WORK/ready" 2>"$WORK/stderr" &
  PWRU_PID=$!
}

case "$mode" in
sigint | sigkill)
  "$PWRUDUMP" -q -w "$TRACE" --ready-file "$WORK/ready" "$FILTER" 2>"$WORK/stderr" &
  PWRU_PID=$!
  ;;
sigterm | fifo) start_extcap ;;
pipe)
  # An anonymous pipe, as a shell makes it; pwrudump's pid and status come back through files.
  { "$PWRUDUMP" -q -w - --ready-file "$WORK/ready" "$FILTER" 2>"$WORK/stderr" &
    echo $! >"$WORK/pid.new" && mv "$WORK/pid.new" "$WORK/pid"
    wait $!
    echo $? >"$WORK/rc"
  } | cat >"$TRACE" &
  READER_PID=$!
  wait_for_file "$WORK/pid" 10 || fail "the pipeline did not start"
  PWRU_PID=$(cat "$WORK/pid")
  ;;
*) fail "unknown mode $mode" ;;
esac

wait_for_file "$WORK/ready" 60 || fail "pwrudump never got ready: $(cat "$WORK/stderr")"
ids=$(bpf_ids_of "$PWRU_PID")
nprog=$(grep -c '^prog:' <<<"$ids")
nlink=$(grep -c '^link:' <<<"$ids")
{ [ "$nprog" -gt 0 ] && [ "$nlink" -gt 0 ]; } ||
  fail "bpftool shows no program or link held by pwrudump (pid $PWRU_PID): '$ids'"
sleep 1.5  # mid-capture: events are being written

case "$mode" in
sigint) kill -INT "$PWRU_PID" ;;
sigterm) kill -TERM "$PWRU_PID" ;;
sigkill) kill -KILL "$PWRU_PID" ;;
fifo | pipe) kill "$READER_PID" ;;
esac

# Bounded: a stop that hangs is a failure, not a test that never ends.
if [ "$mode" = pipe ]; then
  wait_for_file "$WORK/rc" 30 || fail "pwrudump did not stop after its reader left: $(cat "$WORK/stderr")"
  rc=$(cat "$WORK/rc")
  wait "$READER_PID"
else
  for _ in $(seq 300); do kill -0 "$PWRU_PID" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$PWRU_PID" 2>/dev/null && fail "pwrudump still runs 30 s after the stop ($mode)"
  wait "$PWRU_PID"
  rc=$?
  [ -n "$READER_PID" ] && wait "$READER_PID" 2>/dev/null
fi
PWRU_PID=
stop_ping

expected_rc=0
[ "$mode" = sigkill ] && expected_rc=137
assert_eq "exit status after $mode (stderr: $(cat "$WORK/stderr"))" "$expected_rc" "$rc"
assert_eq "stderr after $mode" "" "$(cat "$WORK/stderr")"
assert_bpf_gone "$ids" "after $mode"

blocks=$(pcapng_blocks "$TRACE") || fail "not a pcapng file: $blocks"
epb=$(block_field "$blocks" epb)
tail=$(block_field "$blocks" tail)
assert_eq "section header blocks" 1 "$(block_field "$blocks" shb)"
assert_eq "interface description blocks" 1 "$(block_field "$blocks" idb)"
[ "$epb" -ge 20 ] || fail "only $epb events in the file before the stop"
tshark_read "$TRACE"
frames=$FRAMES

case "$mode" in
sigint | sigterm)
  # A stop by signal completes the file: the statistics block last, counting every event.
  assert_eq "bytes after the last complete block" 0 "$tail"
  isb=$(block_field "$blocks" stats 4)
  [ -n "$isb" ] || fail "the last block is not the statistics block: $blocks"
  assert_eq "isb_usrdeliv (events in the file)" "$epb" "$isb"
  assert_eq "tshark exit status (stderr: $TSHARK_ERR)" 0 "$TSHARK_RC"
  assert_eq "frames tshark reads" "$epb" "$frames"
  pass "$mode: exit 0, $epb events and the statistics block, $nprog programs and $nlink links gone"
  ;;
sigkill | fifo | pipe)
  # No statistics block: the process died or nobody reads any more. tshark reads every
  # complete block; a block cut short is an error after them (exit status 2). The cut case is
  # also checked on a copy cut inside the last block, as a kill can land between two writes.
  assert_eq "frames tshark reads (every complete block; stderr: $TSHARK_ERR)" "$epb" "$frames"
  if [ "$tail" -gt 0 ]; then
    assert_eq "tshark exit status on a file cut short" 2 "$TSHARK_RC"
    grep -q "cut short in the middle of a packet" <<<"$TSHARK_ERR" ||
      fail "tshark does not say the file was cut short: $TSHARK_ERR"
  else
    assert_eq "tshark exit status (stderr: $TSHARK_ERR)" 0 "$TSHARK_RC"
  fi
  size=$(stat -c %s "$TRACE")
  head -c $(( size - tail - 10 )) "$TRACE" >"$WORK/cut.pcapng"
  tshark_read "$WORK/cut.pcapng"
  assert_eq "frames tshark reads in a copy cut 10 bytes into the last block" $(( epb - 1 )) "$FRAMES"
  assert_eq "tshark exit status on the cut copy" 2 "$TSHARK_RC"
  pass "$mode: exit $rc, $epb complete events readable ($tail bytes cut short)," \
    "$nprog programs and $nlink links gone"
  ;;
esac
