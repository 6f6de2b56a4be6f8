#!/usr/bin/env bash
# Event pipeline: how many events per second pwrudump takes from the kernel into a pcapng file
# without losing one, and what it loses beyond that (counted by pwrudump and in the ISB).
#
# The events come from a UDP flow of small datagrams (iperf3 -u -l 64) between two network
# namespaces over veth, paced at rising rates, traced on every skb tracepoint with a filter
# that matches the flow; pwrudump runs with default settings (32 MiB ring buffer). The offered
# rate is a target: the table shows the events/s that were actually produced (written + lost,
# over the flow's seconds).
#
# usage: bench/pipeline.sh   (as root; environment: see bench/lib.sh, and BENCH_SECONDS per
#        step (default 5), BENCH_RATES: target events/s per step, space-separated)
set -uo pipefail
. "$(dirname "$0")/lib.sh"
require_root
require_bench_cmds iperf3 python3

secs=${BENCH_SECONDS:-5}
rates=${BENCH_RATES:-"250000 500000 750000 1000000 1250000 1500000 2000000 max"}
[ "$BENCH_QUICK" = 1 ] && secs=1 rates="100000 max"
bench_hosts
PORT=5201
LEN=64

ip netns exec "$NS_B" iperf3 -s -B "$IP_B" -p "$PORT" >/dev/null 2>&1 &
BENCH_PIDS+=($!)
sleep 0.5

# udp_flow BITS_PER_S SECONDS: one paced flow (0 = as fast as iperf3 can); prints packets sent.
udp_flow() {
  ip netns exec "$NS_A" iperf3 -c "$IP_B" -p "$PORT" -u -l "$LEN" -b "$1" -t "$2" -J >"$WORK/iperf.json" 2>&1 ||
    fail "iperf3 failed: $(cat "$WORK/iperf.json")"
  python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["end"]["sum"]["packets"])' "$WORK/iperf.json"
}

# Events per datagram on this kernel: a short slow flow, traced.
pwru_start calib -q -w "$WORK/calib.pcapng" "udp and host $IP_B"
pkts=$(udp_flow $((20000 * LEN * 8)) 1)
sleep 0.5
pwru_stop calib "$WORK/calib.pcapng"
per_packet=$(awk -v e="$PWRU_EVENTS" -v p="$pkts" 'BEGIN { printf "%.2f", e / p }')
echo "calibration: $pkts datagrams, $PWRU_EVENTS events: $per_packet events per datagram" >&2

out ""
out "### Event pipeline (UDP ${LEN}-byte datagrams over veth, every skb tracepoint, ${secs} s per step)"
out ""
out "$per_packet events per datagram on this kernel. Default settings (16 MiB ring buffer, snaplen 256), pcapng in $(df --output=fstype "$WORK" | tail -n 1) ($WORK)."
out "Produced = (written + lost) / ${secs} s, from the pcapng's statistics block (pwrudump's warning says the same)."
out ""
out "| target events/s | produced events/s | written events/s | lost | lost % | pwrudump CPU % | peak RSS KiB | load |"
out "|---|---|---|---|---|---|---|---|"
best=0
for rate in $rates; do
  if [ "$rate" = max ]; then
    bits=0
  else
    bits=$(awk -v r="$rate" -v k="$per_packet" -v l="$LEN" 'BEGIN { printf "%.0f", r / k * l * 8 }')
  fi
  pwru_start step -q -w "$WORK/step.pcapng" "udp and host $IP_B"
  cpu0=$(awk '{ print $14 + $15 }' "/proc/$PWRU_PID/stat")
  udp_flow "$bits" "$secs" >/dev/null
  sleep 0.3  # the last events reach the file
  cpu1=$(awk '{ print $14 + $15 }' "/proc/$PWRU_PID/stat")
  pwru_stop step "$WORK/step.pcapng"
  produced=$(( (PWRU_EVENTS + PWRU_LOST) / secs ))
  written=$(( PWRU_EVENTS / secs ))
  lostpct=$(awk -v l="$PWRU_LOST" -v e="$PWRU_EVENTS" 'BEGIN { printf "%.2f", (l + e) ? 100 * l / (l + e) : 0 }')
  cpupct=$(awk -v a="$cpu0" -v b="$cpu1" -v s="$secs" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.0f", 100 * (b - a) / hz / s }')
  [ "$PWRU_LOST" -eq 0 ] && [ "$written" -gt "$best" ] && best=$written
  out "| $rate | $produced | $written | $PWRU_LOST | $lostpct | $cpupct | $PWRU_HWM_KIB | $(load_now) |"
  rm -f "$WORK/step.pcapng"
done
out ""
out "Highest rate written without a lost event: **$best events/s**."
