#!/usr/bin/env bash
# Packet path overhead: TCP throughput (iperf3) between two network namespaces over veth,
# untraced and traced, side by side in one run (rounds interleaved, each run's ratio taken
# against the untraced run of the same round):
#   untraced   nothing attached
#   (0) empty  one BPF program that does nothing on the same tracepoints as pwrudump (raw_tp,
#              bench/tools/empty-probes): the kernel's own cost of calling a program there, the
#              floor under (a)
#   (a) none   pwrudump on every skb tracepoint, a pcap filter that matches nothing
#   (b) match  pwrudump on every skb tracepoint, a filter matching the flow, writing pcapng
#   (c) bpftrace  the same tracepoints (those whose record has the skb address), the same
#              filter on the IPv4 addresses, one printf line per event into a file
# Also reports, with default settings: events and lost events of (b), pwrudump's peak RSS.
# With BASE_BUILD, (a) and (b) run with that build's pwrudump too, in the same rounds: a change
# to the BPF side, the filter translator or the pcapng output against the code before it.
#
# usage: bench/overhead.sh   (as root; environment: see bench/lib.sh, and
#        BENCH_SECONDS per iperf3 run (default 5), BENCH_ROUNDS (default 3), BASE_BUILD)
set -uo pipefail
. "$(dirname "$0")/lib.sh"
require_root
require_bench_cmds iperf3 bpftrace bpftool python3
ensure_tracefs
BASE=$(base_pwrudump) || exit 1  # its message is on stderr already

secs=${BENCH_SECONDS:-5}
rounds=${BENCH_ROUNDS:-3}
[ "$BENCH_QUICK" = 1 ] && secs=1 rounds=1
EMPTY=$BUILD/bench/empty-probes
[ -x "$EMPTY" ] || fail "cannot find $EMPTY: build the empty-probes target first"
bench_hosts
PORT=5201
mapfile -t TRACEPOINTS < <("$PWRUDUMP" --list-funcs --backend tracepoint)
[ ${#TRACEPOINTS[@]} -gt 0 ] || fail "pwrudump --list-funcs --backend tracepoint listed nothing"

iperf3_server

# The bpftrace program: every tracepoint pwrudump attaches whose record carries the skb address
# (bpftrace 0.17 has no raw tracepoints), the skb read through BTF as pwrudump reads it.
bpftrace_program() {
  local tp fmt field ip_hex probes
  # The address as the u32 the kernel stores (network order read as little-endian).
  ip_hex=$(awk -v a="$IP_B" 'BEGIN { split(a, o, "."); printf "0x%02x%02x%02x%02x", o[4], o[3], o[2], o[1] }')
  for field in skbaddr skb; do
    probes=()
    for tp in "${TRACEPOINTS[@]}"; do
      fmt=$(find /sys/kernel/tracing/events -mindepth 3 -maxdepth 3 -path "*/$tp/format" 2>/dev/null |
              head -n 1)
      { [ -n "$fmt" ] && grep -q "void \* $field;" "$fmt"; } || continue
      probes+=("tracepoint:$(basename "$(dirname "$(dirname "$fmt")")"):$tp")
    done
    [ ${#probes[@]} -gt 0 ] || continue
    (IFS=,; echo "${probes[*]}")
    sed "s/FIELD/$field/; s/IPHEX/$ip_hex/g" <<'EOF'
{
  $s = (struct sk_buff *)args->FIELD;
  if ($s->network_header != 0) {
    $ip = (struct iphdr *)($s->head + $s->network_header);
    if ($ip->saddr == IPHEX || $ip->daddr == IPHEX) {
      printf("%llx %s %d %s %d %d %d\n", $s, probe, cpu, comm, pid, $s->len, $s->mark);
    }
  }
}
EOF
  done
}
bpftrace_program >"$WORK/trace.bt"
[ -s "$WORK/trace.bt" ] || fail "could not write the bpftrace program"
n_bt=$(grep '^tracepoint:' "$WORK/trace.bt" | tr ',' '\n' | grep -c .)

# empty_start / empty_stop: the empty program on pwrudump's tracepoints, for case (0).
empty_start() {
  rm -f "$WORK/empty.ready"
  "$EMPTY" "$WORK/empty.ready" "${TRACEPOINTS[@]}" 2>"$WORK/empty.err" &
  EMPTY_PID=$!
  BENCH_PIDS+=("$EMPTY_PID")
  until [ -e "$WORK/empty.ready" ]; do
    kill -0 "$EMPTY_PID" 2>/dev/null || fail "empty-probes exited: $(cat "$WORK/empty.err")"
    sleep 0.01
  done
}
empty_stop() {
  kill -INT "$EMPTY_PID"
  wait "$EMPTY_PID" || fail "empty-probes failed: $(cat "$WORK/empty.err")"
}

bt_start() {
  rm -f "$WORK/bt.out"
  bpftrace -o "$WORK/bt.out" "$WORK/trace.bt" 2>"$WORK/bt.err" &
  BT_PID=$!
  BENCH_PIDS+=("$BT_PID")
  # Ready when it printed "Attaching N probes..." and the probes are in.
  local i
  for i in $(seq 1 600); do
    grep -q '^Attaching' "$WORK/bt.out" 2>/dev/null && break
    kill -0 "$BT_PID" 2>/dev/null || fail "bpftrace exited: $(cat "$WORK/bt.err" "$WORK/bt.out")"
    sleep 0.1
  done
  sleep 1
}
bt_stop() {
  # bpftrace 0.17 now and then misses the SIGINT and runs on until a second one comes: send it
  # again every 10 s, up to 5 times.
  local i
  for i in $(seq 1 50); do
    [ $((i % 10)) = 1 ] && kill -INT "$BT_PID" 2>/dev/null
    kill -0 "$BT_PID" 2>/dev/null || break
    sleep 1
  done
  kill -0 "$BT_PID" 2>/dev/null && fail "bpftrace did not stop after 5 SIGINTs"
  wait "$BT_PID"
  BT_EVENTS=$(grep -c '^[0-9a-f]* tracepoint:' "$WORK/bt.out")
  BT_LOST=$(grep -Eo 'Lost [0-9]+ events' "$WORK/bt.out" "$WORK/bt.err" | awk '{ s += $2 } END { print s + 0 }')
}

declare -A gbps ratios
events_b=() lost_b=() mbps_b=() events_b_base=() lost_b_base=() hwm_a=() hwm_b=() anon_b=() bt_events=() bt_lost=()
# The time and load when the runs start, for the heading printed after them.
machine=$(machine_line)
for r in $(seq 1 "$rounds"); do
  base=$(iperf3_gbps)
  gbps[untraced]+=" $base"

  empty_start
  v=$(iperf3_gbps)
  empty_stop
  gbps[empty]+=" $v" ratios[empty]+=" $(ratio "$v" "$base")"

  pwru_start none -q "host 192.0.2.1"
  v=$(iperf3_gbps)
  pwru_stop none
  gbps[none]+=" $v" ratios[none]+=" $(ratio "$v" "$base")" hwm_a+=("$PWRU_HWM_KIB")

  if [ -n "$BASE" ]; then
    PWRUDUMP=$BASE pwru_start none_base -q "host 192.0.2.1"
    v=$(iperf3_gbps)
    pwru_stop none_base
    gbps[none_base]+=" $v" ratios[none_base]+=" $(ratio "$v" "$base")"
  fi

  pwru_start match -q -w "$WORK/match.pcapng" "host $IP_B"
  v=$(iperf3_gbps)
  pwru_stop match "$WORK/match.pcapng"
  gbps[match]+=" $v" ratios[match]+=" $(ratio "$v" "$base")"
  events_b+=("$PWRU_EVENTS") lost_b+=("$PWRU_LOST") hwm_b+=("$PWRU_HWM_KIB") anon_b+=("$PWRU_RSS_ANON_KIB")
  mbps_b+=("$(awk -v b="$(stat -c %s "$WORK/match.pcapng")" -v s="$secs" 'BEGIN { printf "%.0f", b / s / 1e6 }')")
  rm -f "$WORK/match.pcapng"

  if [ -n "$BASE" ]; then
    PWRUDUMP=$BASE pwru_start match_base -q -w "$WORK/match.pcapng" "host $IP_B"
    v=$(iperf3_gbps)
    pwru_stop match_base "$WORK/match.pcapng"
    gbps[match_base]+=" $v" ratios[match_base]+=" $(ratio "$v" "$base")"
    events_b_base+=("$PWRU_EVENTS") lost_b_base+=("$PWRU_LOST")
    rm -f "$WORK/match.pcapng"
  fi

  bt_start
  v=$(iperf3_gbps)
  bt_stop
  gbps[bpftrace]+=" $v" ratios[bpftrace]+=" $(ratio "$v" "$base")"
  bt_events+=("$BT_EVENTS") bt_lost+=("$BT_LOST")
  echo "round $r: untraced $base, empty ${gbps[empty]##* }, none ${gbps[none]##* }${BASE:+ (base build ${gbps[none_base]##* })}, match ${gbps[match]##* } (${events_b[-1]} events, ${lost_b[-1]} lost)${BASE:+ (base build ${gbps[match_base]##* })}," \
       "bpftrace ${gbps[bpftrace]##* } ($BT_EVENTS events, $BT_LOST lost); load $(load_now)" >&2
done

n_tp=${#TRACEPOINTS[@]}
out ""
out "### Packet path overhead (iperf3 TCP over veth, $rounds rounds of ${secs} s, interleaved)"
out ""
out "$machine."
out ""
out "pwrudump attaches $n_tp skb tracepoints; the bpftrace program $n_bt. Ratio = traced / untraced"
out "throughput of the same round, median over rounds (Gbit/s: median; all rounds in brackets)."
[ -n "$BASE" ] && out "Base build: $BASE."
out ""
out "| run | Gbit/s | ratio to untraced | events in the run | lost |"
out "|---|---|---|---|---|"
# shellcheck disable=SC2086
out "| untraced | $(median ${gbps[untraced]}) [${gbps[untraced]# }] | 1 | | |"
# shellcheck disable=SC2086
out "| (0) an empty BPF program on the same $n_tp tracepoints (the floor) | $(median ${gbps[empty]}) [${gbps[empty]# }] | $(median ${ratios[empty]}) [${ratios[empty]# }] | | |"
# shellcheck disable=SC2086
out "| (a) pwrudump, filter matches nothing | $(median ${gbps[none]}) [${gbps[none]# }] | $(median ${ratios[none]}) [${ratios[none]# }] | 0 | 0 |"
if [ -n "$BASE" ]; then
  # shellcheck disable=SC2086
  out "| (a) the same, base build | $(median ${gbps[none_base]}) [${gbps[none_base]# }] | $(median ${ratios[none_base]}) [${ratios[none_base]# }] | 0 | 0 |"
fi
# shellcheck disable=SC2086
out "| (b) pwrudump, filter matches the flow, -w pcapng | $(median ${gbps[match]}) [${gbps[match]# }] | $(median ${ratios[match]}) [${ratios[match]# }] | ${events_b[*]} | ${lost_b[*]} |"
if [ -n "$BASE" ]; then
  # shellcheck disable=SC2086
  out "| (b) the same, base build | $(median ${gbps[match_base]}) [${gbps[match_base]# }] | $(median ${ratios[match_base]}) [${ratios[match_base]# }] | ${events_b_base[*]} | ${lost_b_base[*]} |"
fi
# shellcheck disable=SC2086
out "| (c) bpftrace, same tracepoints and filter, printf to a file | $(median ${gbps[bpftrace]}) [${gbps[bpftrace]# }] | $(median ${ratios[bpftrace]}) [${ratios[bpftrace]# }] | ${bt_events[*]} | ${bt_lost[*]} |"
out ""
out "(b) wrote $(median "${mbps_b[@]}") MB/s into its file (median; all rounds: ${mbps_b[*]}; bytes / iperf3 seconds)."
out ""
out "pwrudump's peak RSS (VmHWM), default settings: (a) $(median "${hwm_a[@]}") KiB, (b) $(median "${hwm_b[@]}") KiB" \
    "(highest round $(printf '%s\n' "${hwm_b[@]}" | sort -n | tail -1) KiB; of which anonymous memory at the stop: $(median "${anon_b[@]}") KiB; the rest is the mapped ring buffer). Load after: $(load_now)."
