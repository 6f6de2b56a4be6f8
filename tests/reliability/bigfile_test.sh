#!/usr/bin/env bash
# A large capture file: pwrudump -w on every skb tracepoint while a UDP flood of numbered
# datagrams runs from A to B, so the file grows by hundreds of its 1 MiB pieces (direct I/O
# from the writer thread, extcap/output/direct_file.h) with the piece queue full at times.
# Checked:
#   - the file is whole: every block complete, the statistics block last, as many events in it
#     as isb_usrdeliv counts, written + lost == isb_ifrecv, the same on stderr;
#   - nothing is duplicated, dropped or out of order inside the file: at net_dev_start_xmit (once
#     per datagram, in the sender's order) the datagram numbers read by tshark are strictly
#     increasing, and every number sent is there but for at most one per lost event;
#   - tshark reads every event with exit status 0, and none is malformed;
#   - the file was written with direct I/O where the file system takes it: right after the stop,
#     before anything reads it, the page cache holds less than 8 MiB of it (fincore), where a
#     buffered write leaves all of it there. In CI a file system without direct I/O fails.
# With "stall", the disk stalls for 1.5 s in the middle of a slower flood (20000 datagrams/s,
# ~50 MB/s of capture): pwrudump runs in a blkio cgroup of the test's own whose write limit is
# set to 64 KiB/s for that time, so its direct writes wait, as on a disk that stalls, while
# the capture goes on. More than the ring buffer and the 8 kept pieces hold, less than the
# pieces it may borrow: checked besides, no event lost, and pwrudump's peak RSS grew by more
# than 16 MiB (the borrowed pieces; with 8 pieces and none to borrow, events are lost:
# docs/performance.md).
# usage: bigfile_test.sh PWRUDUMP BUILD_DIR [stall]
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib/common.sh
. "$here/../lib/common.sh"
# shellcheck source=reliability-lib.sh
. "$here/reliability-lib.sh"
PWRUDUMP=$1 BUILD=$2 MODE=${3:-}

require_root
require_cmd ip tshark setpriv python3 fincore dd findmnt
e2e_hosts
PORT=9 DATAGRAMS=60000 RATE=40000
TRACE=$WORK/big.pcapng
if [ "$MODE" = stall ]; then
  RATE=20000
  # The disk under $WORK (blk-throttle limits whole disks, not partitions).
  dev=$(findmnt -no MAJ:MIN -T "$WORK" | tr -d ' ')
  if [ -e "/sys/dev/block/$dev/partition" ]; then
    dev=$(cat "$(readlink -f "/sys/dev/block/$dev/..")/dev")
  fi
  [ -e "/sys/dev/block/$dev" ] || skip_or_fail "$WORK is on no block device ($dev): nothing to stall"
  BLKIO=/sys/fs/cgroup/blkio
  [ -w "$BLKIO/cgroup.procs" ] || BLKIO=/sys/fs/cgroup  # cgroup v2: io.max instead
  CG=$BLKIO/pwru-stall-$$
  mkdir "$CG" 2>/dev/null || skip_or_fail "cannot create a blkio cgroup under $BLKIO"
  if [ -e "$CG/blkio.throttle.write_bps_device" ]; then
    limit() { echo "$dev $1" >"$CG/blkio.throttle.write_bps_device"; }
  elif [ -e "$CG/io.max" ]; then
    limit() {
      local bps=$1
      [ "$bps" = 0 ] && bps=max
      echo "$dev wbps=$bps" >"$CG/io.max"
    }
  else
    rmdir "$CG"
    skip_or_fail "no blkio throttling (blkio.throttle.write_bps_device or io.max) under $BLKIO"
  fi
fi

# On the way out, also after a failure: the flood stops; in "stall" mode the write limit goes
# first (a pwrudump stopped under it would write its last pieces at 64 KiB/s), and the cgroup
# once pwrudump has exited; then netns_cleanup, which exits with the test's status.
FLOOD_PID=
cleanup() {
  local rc=$?
  [ -n "$FLOOD_PID" ] && kill "$FLOOD_PID" 2>/dev/null
  if [ "$MODE" = stall ]; then
    limit 0 2>/dev/null
    if [ -n "${PWRU_PID:-}" ]; then
      kill "$PWRU_PID" 2>/dev/null
      wait "$PWRU_PID"
      PWRU_PID=
    fi
    rmdir "$CG" || echo "cannot remove the test's cgroup $CG" >&2
  fi
  (exit "$rc")
  netns_cleanup
}
trap cleanup EXIT

"$PWRUDUMP" -w "$TRACE" --ready-file "$WORK/ready" "udp and dst host $IP_B and dst port $PORT" \
  >/dev/null 2>"$WORK/stderr" &
PWRU_PID=$!
wait_for_file "$WORK/ready" 60 || fail "pwrudump never got ready: $(cat "$WORK/stderr")"
[ "$MODE" = stall ] && { echo "$PWRU_PID" >"$CG/cgroup.procs" || fail "cannot move pwrudump into $CG"; }
vmhwm_kib() { awk '$1 == "VmHWM:" { print $2 }' "/proc/$PWRU_PID/status"; }

# Numbered datagrams (a 4-byte big-endian counter, then padding), RATE a second in bursts of
# 200: ~7 events each, about 300k events/s, which the default ring buffer takes without loss
# on an idle machine (a loss is still allowed below: it is counted, and order is checked).
ip netns exec "$NS_A" python3 - "$IP_B" $PORT $DATAGRAMS $RATE >"$WORK/sent" <<'EOF' &
import errno, socket, struct, sys, time
ip, port, count, rate = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
pad = b"p" * 60
sent = 0
start = time.monotonic()
for i in range(count):
    if i % 200 == 0:
        ahead = start + i / rate - time.monotonic()
        if ahead > 0:
            time.sleep(ahead)
    while True:
        try:
            s.sendto(struct.pack("!I", i) + pad, (ip, port))
            sent += 1
            break
        except OSError as e:  # ENOBUFS: the qdisc is full; send the same number again
            if e.errno != errno.ENOBUFS:
                raise
print(sent)
EOF
FLOOD_PID=$!
if [ "$MODE" = stall ]; then
  sleep 1
  hwm_before=$(vmhwm_kib)
  limit 65536 || fail "cannot limit writes to $dev"
  sleep 1.5
  limit 0 || fail "cannot lift the write limit on $dev"
  hwm_after=$(vmhwm_kib)
fi
wait "$FLOOD_PID" || fail "the flood failed"
FLOOD_PID=
sent=$(cat "$WORK/sent")
assert_eq "datagrams sent" "$DATAGRAMS" "$sent"
stop_trace

# Before anything reads the file: how much of it the page cache holds.
cached=$(fincore -b -n -o RES "$TRACE") || fail "fincore cannot read $TRACE"
if dd if=/dev/zero of="$WORK/probe" bs=4096 count=1 oflag=direct 2>/dev/null; then
  [ "$cached" -lt $(( 8 << 20 )) ] ||
    fail "$cached bytes of the file are in the page cache: it was not written with direct I/O"
  how="direct I/O, $((cached >> 10)) KiB of it cached"
else
  [ "${CI:-}" = true ] && fail "the file system under $WORK refuses O_DIRECT: CI must check direct I/O"
  how="page cache: this file system has no direct I/O"
fi

size=$(stat -c %s "$TRACE")
[ "$size" -gt $(( 64 << 20 )) ] || fail "the file has $size bytes: too few pieces for this test"
blocks=$(pcapng_blocks "$TRACE") || fail "not a pcapng file"
assert_eq "bytes after the last complete block" 0 "$(block_field "$blocks" tail)"
read -r _ ifrecv ifdrop usrdeliv <<<"$(grep '^stats ' <<<"$blocks")"
[ -n "${usrdeliv:-}" ] || fail "the last block is not the statistics block: $blocks"
epb=$(block_field "$blocks" epb)
assert_eq "isb_usrdeliv (events in the file)" "$epb" "$usrdeliv"
assert_eq "isb_ifrecv (written + lost)" $(( epb + ifdrop )) "$ifrecv"
grep -qx "$epb events, $ifdrop lost" "$WORK/stderr" ||
  fail "no summary '$epb events, $ifdrop lost' on stderr: $(cat "$WORK/stderr")"

tshark_read "$TRACE"
assert_eq "tshark's exit status (stderr: $TSHARK_ERR)" 0 "$TSHARK_RC"
assert_eq "events tshark reads" "$epb" "$FRAMES"
malformed=$(fields "$TRACE" -Y "_ws.malformed" -e frame.number)
assert_eq "malformed events" "" "$malformed"

fields "$TRACE" -Y 'pwru.func == "net_dev_start_xmit"' -e udp.payload >"$WORK/seq" || exit 1
python3 - "$WORK/seq" "$DATAGRAMS" "$ifdrop" <<'EOF' || fail "the datagram numbers in the file are wrong"
import sys
nums = [int(line[:8], 16) for line in open(sys.argv[1]) if line.strip()]
count, lost = int(sys.argv[2]), int(sys.argv[3])
bad = [i for i in range(1, len(nums)) if nums[i] <= nums[i - 1]]
if bad:
    i = bad[0]
    sys.exit(f"event {i} at net_dev_start_xmit has datagram {nums[i]} after {nums[i - 1]}")
if nums and not 0 <= nums[0] <= nums[-1] < count:
    sys.exit(f"datagram numbers {nums[0]}..{nums[-1]} are not among the {count} sent")
# Each datagram's net_dev_start_xmit event is in the file or among the lost ones.
if len(nums) + lost < count:
    sys.exit(f"{len(nums)} datagrams at net_dev_start_xmit and {lost} events lost: "
             f"{count - len(nums) - lost} of the {count} sent are missing")
print(f"{len(nums)} datagrams at net_dev_start_xmit, in order", file=sys.stderr)
EOF

if [ "$MODE" = stall ]; then
  assert_eq "events lost while the disk stalled" 0 "$ifdrop"
  grown=$(( (hwm_after - hwm_before) >> 10 ))
  [ "$grown" -gt 16 ] ||
    fail "peak RSS grew by $grown MiB during the stall: the capture did not borrow pieces (or the disk never stalled)"
  how="$how; the stall borrowed $grown MiB"
fi
pass "$sent datagrams: $epb events in $((size >> 20)) MiB ($how), $ifdrop lost, exact in the" \
  "statistics block and on stderr; tshark reads them all, none malformed, datagram numbers in order"
