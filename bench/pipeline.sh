#!/usr/bin/env bash
# Event pipeline: how many events per second pwrudump takes from the kernel into a pcapng file
# without losing one, and what it loses beyond that (counted by pwrudump and in the ISB).
#
# The events come from UDP datagrams of 64 bytes between two network namespaces over veth,
# sent by bench/tools/udp-flood (sendmmsg from 2 threads; iperf3's one datagram per system call
# cannot offer a million events/s) at rising rates, and dropped by the receiver (no listener).
# Every skb tracepoint is traced with a filter that matches the flow. The offered rate is a
# target: the table shows the events/s that were actually produced (written + lost, over the
# flow's seconds).
#
# usage: bench/pipeline.sh   (as root; environment: see bench/lib.sh, and BENCH_SECONDS per
#        step (default 5), BENCH_RATES: target events/s per step, space-separated,
#        BENCH_RINGBUF: --ringbuf-size of the steps (default: pwrudump's default), BENCH_SINK:
#        file (default: pcapng in the scratch folder) or null (-w /dev/null: the pipeline
#        without the file system's cost), BASE_BUILD: a build folder whose pwrudump runs each
#        step too, right before this build's, for a side-by-side table)
set -uo pipefail
. "$(dirname "$0")/lib.sh"
require_root
require_bench_cmds python3
require_udp_flood

secs=${BENCH_SECONDS:-5}
rates=${BENCH_RATES:-"250000 500000 750000 1000000 1250000 1500000 2000000 max"}
ringbuf=()
[ -n "${BENCH_RINGBUF:-}" ] && ringbuf=(--ringbuf-size "$BENCH_RINGBUF")
sink=${BENCH_SINK:-file}
case $sink in file | null) ;; *) fail "BENCH_SINK is file or null, not '$sink'" ;; esac
[ "$BENCH_QUICK" = 1 ] && secs=1 rates="100000 max"
bench_hosts
PORT=9  # discard: nobody listens, the receiver drops each datagram (one more event)

# udp_flow DATAGRAMS_PER_S SECONDS: one paced flow (0 = as fast as it goes); prints datagrams sent.
udp_flow() {
  ip netns exec "$NS_A" "$FLOOD" "$IP_B" "$PORT" "$2" 2 "$1" || fail "udp-flood failed"
}

# Events per datagram on this kernel: a short slow flow, traced, three times. The /dev/null
# sink counts its events from it, so a calibration that lost events, or three that disagree
# (once one counted 5.70 where the others had 7.00), stop the benchmark instead of skewing
# every row. The file sink counts from the pcapng and only shows the calibration: a warning.
calib_problem() {
  [ "$sink" = null ] && fail "$1"
  echo "WARNING: $1 (the file sink does not count from it)" >&2
}
calibrations=()
for c in 1 2 3; do
  pwru_start calib -q -w "$WORK/calib.pcapng" "udp and host $IP_B"
  pkts=$(udp_flow 20000 1)
  sleep 0.5
  pwru_stop calib "$WORK/calib.pcapng"
  [ "$PWRU_LOST" -eq 0 ] || calib_problem "calibration $c lost $PWRU_LOST events at 20000 datagrams/s: the machine is too busy to calibrate; run again when it is idle"
  calibrations+=("$(awk -v e="$PWRU_EVENTS" -v p="$pkts" 'BEGIN { printf "%.2f", e / p }')")
  echo "calibration $c: $pkts datagrams, $PWRU_EVENTS events: ${calibrations[-1]} events per datagram" >&2
done
per_packet=$(median "${calibrations[@]}")
spread=$(printf '%s\n' "${calibrations[@]}" | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.3f", (hi - lo) / hi }')
awk -v s="$spread" 'BEGIN { exit !(s <= 0.02) }' ||
  calib_problem "the calibrations disagree (${calibrations[*]} events per datagram, more than 2% apart): something else is sending or dropping on the test hosts; run again"

out ""
out "### Event pipeline (UDP 64-byte datagrams from udp-flood over veth, every skb tracepoint, ${secs} s per step)"
out ""
out "$(machine_line)."
out ""
if [ "$sink" = null ]; then
  target=/dev/null
  where="pcapng written to /dev/null (BENCH_SINK=null: pwrudump's own limit, without the file system)"
  counts="lost from pwrudump's warning, written = datagrams sent x events per datagram - lost"
else
  target=$WORK/step.pcapng
  where="pcapng in $(df --output=fstype "$WORK" | tail -n 1) ($WORK)"
  counts="from the pcapng's statistics block (pwrudump's warning says the same)"
fi
out "$per_packet events per datagram on this kernel (median of 3 calibrations: ${calibrations[*]}). Settings: ${ringbuf[*]:-defaults} (default ring buffer 16 MiB, snaplen 256), $where."
out "Produced = (written + lost) / ${secs} s; $counts."
out ""
BASE=$(base_pwrudump) || exit 1
builds=(new)
[ -n "$BASE" ] && builds=(base new)
if [ -n "$BASE" ]; then
  out "Two builds, each step run by $BASE_BUILD (base) and then by $BUILD (new)."
  out ""
  out "| build | target events/s | produced events/s | written events/s | lost | lost % | pwrudump CPU % | peak RSS KiB | load |"
  out "|---|---|---|---|---|---|---|---|---|"
else
  out "| target events/s | produced events/s | written events/s | lost | lost % | pwrudump CPU % | peak RSS KiB | load |"
  out "|---|---|---|---|---|---|---|---|"
fi
declare -A best=([base]=0 [new]=0)

# step BUILD RATE: one step of the flood, traced by that build's pwrudump; one row.
step() {
  local build=$1 rate=$2 pps cpu0 cpu1 sent produced written lostpct cpupct
  if [ "$rate" = max ]; then
    pps=0
  else
    pps=$(awk -v r="$rate" -v k="$per_packet" 'BEGIN { printf "%.0f", r / k }')
  fi
  local bin=$PWRUDUMP
  [ "$build" = base ] && bin=$BASE
  PWRUDUMP=$bin pwru_start step -q "${ringbuf[@]}" -w "$target" "udp and host $IP_B"
  cpu0=$(awk '{ print $14 + $15 }' "/proc/$PWRU_PID/stat")
  sent=$(udp_flow "$pps" "$secs")
  sleep 0.3  # the last events reach the file
  cpu1=$(awk '{ print $14 + $15 }' "/proc/$PWRU_PID/stat")
  if [ "$sink" = null ]; then
    # No file to read the statistics block from: lost events from pwrudump's warning (printed
    # with -q too), the events made from the datagrams sent and the calibration.
    pwru_stop step
    PWRU_LOST=$(awk '/WARNING: [0-9]+ events lost/ { print $3 }' "$WORK/step.err")
    PWRU_LOST=${PWRU_LOST:-0}
    PWRU_EVENTS=$(awk -v p="$sent" -v k="$per_packet" -v l="$PWRU_LOST" 'BEGIN { printf "%.0f", p * k - l }')
  else
    pwru_stop step "$target"
  fi
  produced=$(( (PWRU_EVENTS + PWRU_LOST) / secs ))
  written=$(( PWRU_EVENTS / secs ))
  lostpct=$(awk -v l="$PWRU_LOST" -v e="$PWRU_EVENTS" 'BEGIN { printf "%.2f", (l + e) ? 100 * l / (l + e) : 0 }')
  cpupct=$(awk -v a="$cpu0" -v b="$cpu1" -v s="$secs" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.0f", 100 * (b - a) / hz / s }')
  [ "$PWRU_LOST" -eq 0 ] && [ "$written" -gt "${best[$build]}" ] && best[$build]=$written
  local row
  row="| $rate | $produced | $written | $PWRU_LOST | $lostpct | $cpupct | $PWRU_HWM_KIB | $(load_now) |"
  [ -n "$BASE" ] && row="| $build $row"
  out "$row"
  rm -f "$WORK/step.pcapng"
}

for rate in $rates; do
  for build in "${builds[@]}"; do step "$build" "$rate"; done
done
out ""
if [ -n "$BASE" ]; then
  out "Highest rate written without a lost event: **${best[new]} events/s** (base: ${best[base]})."
else
  out "Highest rate written without a lost event: **${best[new]} events/s**."
fi
