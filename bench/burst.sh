#!/usr/bin/env bash
# Burst: how many events the ring buffer holds while pwrudump does not read it, as when the
# capture thread waits for a CPU or a disk. pwrudump is stopped (SIGSTOP) once it attached, a
# burst of 64-byte UDP datagrams is sent that the receiver drops (no listener), and only the
# kfree_skb tracepoint is traced: one event per datagram. Then pwrudump goes on (SIGCONT) and
# writes what the ring buffer kept; the rest is counted lost. Held = events written; ring
# buffer bytes per event = ring buffer size / held. Run per --snaplen: an event's room should not
# grow with it (a BASE_BUILD from before 5e575cf reserves header + snaplen for each).
#
# usage: bench/burst.sh   (as root; environment: see bench/lib.sh, and BENCH_DATAGRAMS per
#        burst (default 200000), BENCH_SNAPLENS (default "256 4096"), BENCH_ROUNDS (3),
#        BENCH_RINGBUF_MIB: --ringbuf-size in MiB (16, pwrudump's default), BASE_BUILD: a build
#        folder whose pwrudump runs each case too, side by side)
set -uo pipefail
. "$(dirname "$0")/lib.sh"
require_root
require_bench_cmds python3
require_udp_flood
BASE=$(base_pwrudump) || exit 1
datagrams=${BENCH_DATAGRAMS:-200000} snaplens=${BENCH_SNAPLENS:-"256 4096"} rounds=${BENCH_ROUNDS:-3}
[ "$BENCH_QUICK" = 1 ] && datagrams=20000 rounds=1
# Given to both builds, so that bytes per event divide the size that was used. 16 MiB is
# pwrudump's default --ringbuf-size.
RING_MIB=${BENCH_RINGBUF_MIB:-16}
[[ $RING_MIB =~ ^[1-9][0-9]*$ ]] || fail "BENCH_RINGBUF_MIB must be a whole number of MiB, not '$RING_MIB'"
RING_BYTES=$((RING_MIB << 20))
PORT=9
bench_hosts

builds=(new)
[ -n "$BASE" ] && builds=(base new)

# burst BUILD SNAPLEN: prints "HELD LOST SENT" of one burst into a stopped pwrudump.
burst() {
  local bin=$PWRUDUMP sent
  [ "$1" = base ] && bin=$BASE
  PWRUDUMP=$bin pwru_start burst -q -w "$WORK/burst.pcapng" --backend tracepoint \
    --filter-func kfree_skb --snaplen "$2" --ringbuf-size "${RING_MIB}M" "udp and dst host $IP_B and dst port $PORT"
  kill -STOP "$PWRU_PID"
  # 2 threads, paced over 1 s: fast enough to be a burst, slow enough for the veth queue.
  sent=$(ip netns exec "$NS_A" "$FLOOD" "$IP_B" "$PORT" 1 2 "$datagrams") || fail "udp-flood failed"
  kill -CONT "$PWRU_PID"
  sleep 1  # what the ring buffer kept reaches the file
  pwru_stop burst "$WORK/burst.pcapng"
  rm -f "$WORK/burst.pcapng"
  echo "$PWRU_EVENTS $PWRU_LOST $sent"
}

out ""
out "### Burst into a stopped reader ($RING_MIB MiB ring buffer, kfree_skb only, 64-byte UDP datagrams, $rounds rounds)"
out ""
out "$(machine_line)."
out ""
out "Held = events written after SIGCONT; bytes per event = $RING_MIB MiB / held (median over rounds, all rounds in brackets)."
[ -n "$BASE" ] && out "Base build: $BASE."
out ""
out "| build | --snaplen | datagrams sent | held | lost | ring buffer bytes per event |"
out "|---|---|---|---|---|---|"
for snap in $snaplens; do
  declare -A held=() lost=() sent=()
  for ((r = 1; r <= rounds; r++)); do
    for b in "${builds[@]}"; do
      read -r h l s < <(burst "$b" "$snap") || fail "the burst failed"
      # Every datagram that left A made one event: written + lost must be the datagrams sent.
      [ $(( h + l )) -eq "$s" ] || fail "$b, snaplen $snap: $h written + $l lost != $s datagrams sent"
      held[$b]+=" $h" lost[$b]+=" $l" sent[$b]+=" $s"
    done
  done
  for b in "${builds[@]}"; do
    # shellcheck disable=SC2086  # the rounds' numbers, split on purpose
    h=$(median ${held[$b]}) l=$(median ${lost[$b]})
    per=$(ratio "$RING_BYTES" "$h" 0)
    [ "$l" = 0 ] && per="(never full: send more)"
    # shellcheck disable=SC2086
    out "| $b | $snap | $(median ${sent[$b]}) | $h [${held[$b]# }] | $l | $per |"
  done
  unset held lost sent
done
out ""
out "Load after: $(load_now)."
