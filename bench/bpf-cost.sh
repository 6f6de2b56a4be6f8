#!/usr/bin/env bash
# The kernel side's cost: nanoseconds per run of pwrudump's BPF programs, as the kernel counts
# them (sysctl kernel.bpf_stats_enabled: run_time_ns / run_cnt of every program of ours), for a
# UDP flow at a fixed rate through every skb tracepoint, in three cases:
#   match:    a pcap filter that matches the flow (an event per run, the pipeline's case)
#   no match: a pcap filter that matches nothing (the filter alone, overhead case (a))
#   no filter: every skb an event, no pcap filter
# With BASE_BUILD set, the same cases run with that build's pwrudump too, interleaved, and the
# table gives the ratio new / base: a change to bpf/ or the filter translator, side by side.
#
# usage: bench/bpf-cost.sh   (as root; environment: see bench/lib.sh, and BASE_BUILD (a build
#        folder to compare with), BENCH_PPS datagrams/s (default 30000), BENCH_SECONDS (3),
#        BENCH_ROUNDS (3))
set -uo pipefail
. "$(dirname "$0")/lib.sh"
# shellcheck source=../tests/reliability/reliability-lib.sh
. "$REPO/tests/reliability/reliability-lib.sh"  # bpf_ids_of
require_root
require_bench_cmds python3 bpftool
require_udp_flood
BASE=$(base_pwrudump) || exit 1  # its message is on stderr already
pps=${BENCH_PPS:-30000} secs=${BENCH_SECONDS:-3} rounds=${BENCH_ROUNDS:-3}
[ "$BENCH_QUICK" = 1 ] && secs=1 rounds=1
bench_hosts
NEW=$PWRUDUMP

old_stats=$(sysctl -n kernel.bpf_stats_enabled)
restore_stats() { sysctl -qw kernel.bpf_stats_enabled="$old_stats"; }

# ns_per_run: run_time_ns / run_cnt summed over the programs pwrudump $PWRU_PID holds.
ns_per_run() {
  local -a ids
  mapfile -t ids < <(bpf_ids_of "$PWRU_PID" | sed -n 's/^prog://p')
  bpftool -j prog show | python3 -c '
import json, sys
ids = set(int(i) for i in sys.argv[1:])
t = c = 0
for p in json.load(sys.stdin):
    if p["id"] in ids:
        t += p.get("run_time_ns", 0); c += p.get("run_cnt", 0)
print(f"{t / c:.0f} {c}" if c else "nan 0")' "${ids[@]}"
}

# measure BINARY ARGS...: one run; prints "NS_PER_RUN RUNS EVENTS".
measure() {
  local bin=$1 r
  shift
  PWRUDUMP=$bin pwru_start cost -q -w "$WORK/cost.pcapng" "$@"
  sysctl -qw kernel.bpf_stats_enabled=1
  ip netns exec "$NS_A" "$FLOOD" "$IP_B" 9 "$secs" 2 "$pps" >/dev/null ||
    { restore_stats; fail "udp-flood failed"; }
  r=$(ns_per_run)
  restore_stats
  pwru_stop cost "$WORK/cost.pcapng"
  echo "$r $PWRU_EVENTS"
}

out ""
out "### BPF cost per program run (kernel.bpf_stats_enabled; UDP at $pps datagrams/s, every skb tracepoint, $rounds rounds of $secs s)"
out ""
out "$(machine_line)."
out "New: $NEW$( [ -n "$BASE" ] && echo "; base: $BASE")."
out ""
if [ -n "$BASE" ]; then
  out "| case | base ns/run | new ns/run | new / base | runs per round | events per round (new) |"
  out "|---|---|---|---|---|---|"
else
  out "| case | ns/run | runs per round | events per round |"
  out "|---|---|---|---|"
fi
for c in match nomatch nofilter; do
  case $c in
    match) label="filter matches the flow"; args=("udp and host $IP_B") ;;
    nomatch) label="filter matches nothing"; args=("host 192.0.2.99") ;;
    nofilter) label="no filter"; args=() ;;
  esac
  news=() bases=() runs="" events=""
  for _ in $(seq "$rounds"); do
    if [ -n "$BASE" ]; then
      read -r ns runs _ < <(measure "$BASE" "${args[@]}")
      bases+=("$ns")
    fi
    read -r ns runs events < <(measure "$NEW" "${args[@]}")
    news+=("$ns")
  done
  n=$(median "${news[@]}")
  if [ -n "$BASE" ]; then
    b=$(median "${bases[@]}")
    out "| $label | $b [${bases[*]}] | $n [${news[*]}] | $(ratio "$n" "$b" 2) | $runs | $events |"
  else
    out "| $label | $n [${news[*]}] | $runs | $events |"
  fi
done
out ""
out "Medians, all rounds in brackets. Load after: $(load_now)."
