#!/usr/bin/env bash
# What --nf-trace costs the packet path: TCP throughput (iperf3) from namespace A to B over veth,
# B holding one iptables-nft rule the flow passes (`-A INPUT -p tcp --dport 5201 -j ACCEPT`),
# rounds interleaved, each run's ratio taken against the untraced run of the same round:
#   untraced      nothing attached
#   off, match    pwrudump --filter-netns B 'tcp port 5201' -w pcapng (the flow is traced)
#   on, match     the same with --nf-trace: trace tables in B mark the flow's packets, the kernel
#                 sends a netlink message per rule they match, pwrudump reads and ties them
#   off, no match pwrudump --filter-netns B 'udp port 9' (nothing traced)
#   on, no match  the same with --nf-trace: the tables' xt_bpf match runs for every packet and
#                 the kernel's trace setup runs for every packet entering a base chain, but no
#                 packet is marked
# Also reports, per --nf-trace run, the warnings pwrudump printed about lost trace messages.
#
# usage: bench/nftrace.sh   (as root; environment: see bench/lib.sh, and
#        BENCH_SECONDS per iperf3 run (default 5), BENCH_ROUNDS (default 3))
set -uo pipefail
. "$(dirname "$0")/lib.sh"
require_root
require_bench_cmds iperf3 python3 iptables nft

secs=${BENCH_SECONDS:-5}
rounds=${BENCH_ROUNDS:-3}
[ "$BENCH_QUICK" = 1 ] && secs=1 rounds=1
bench_hosts
PORT=5201
ip netns exec "$NS_B" iptables -A INPUT -p tcp --dport "$PORT" -j ACCEPT ||
  fail "cannot add the iptables rule in $NS_B"

iperf3_server

# no_trace_table: fails when a trace table of pwrudump's outlived it in B.
no_trace_table() {
  ! ip netns exec "$NS_B" nft list tables | grep -q pwrudump_ ||
    fail "a pwrudump_ table is left in $NS_B after pwrudump stopped: $(ip netns exec "$NS_B" nft list tables)"
}

cases=("off_match" "on_match" "off_none" "on_none")
declare -A label=(
  [off_match]="--nf-trace off, filter matches the flow"
  [on_match]="--nf-trace on, filter matches the flow"
  [off_none]="--nf-trace off, filter matches nothing"
  [on_none]="--nf-trace on, filter matches nothing"
)
declare -A gbps ratios events lost nflost
machine=$(machine_line)
for r in $(seq 1 "$rounds"); do
  base=$(iperf3_gbps)
  gbps[untraced]+=" $base"
  for c in "${cases[@]}"; do
    args=(--filter-netns "/run/netns/$NS_B" -w "$WORK/$c.pcapng")
    [ "${c%%_*}" = on ] && args+=(--nf-trace)
    if [ "${c#*_}" = match ]; then args+=("tcp port $PORT"); else args+=("udp port 9"); fi
    pwru_start "$c" "${args[@]}"
    v=$(iperf3_gbps)
    pwru_stop "$c" "$WORK/$c.pcapng"
    no_trace_table
    gbps[$c]+=" $v" ratios[$c]+=" $(ratio "$v" "$base")"
    events[$c]+=" $PWRU_EVENTS" lost[$c]+=" $PWRU_LOST"
    # What pwrudump says at the end when the kernel dropped trace messages (ENOBUFS) or a
    # ruleset listing failed.
    nflost[$c]+=" $(grep -c 'WARNING: --nf-trace' "$WORK/$c.err")"
    rm -f "$WORK/$c.pcapng"
  done
  echo "round $r: untraced $base$(for c in "${cases[@]}"; do printf ', %s %s' "$c" "${gbps[$c]##* }"; done); load $(load_now)" >&2
done

out ""
out "### --nf-trace: packet path cost (iperf3 TCP over veth, $rounds rounds of ${secs} s, interleaved)"
out ""
out "$machine."
out ""
out "pwrudump on every skb tracepoint, \`--filter-netns\` the receiver B, \`-w\` pcapng; B has one"
out "iptables-nft rule the flow passes. Ratio = traced / untraced throughput of the same round,"
out "median over rounds (Gbit/s: median; all rounds in brackets). \"warnings\": the \`--nf-trace\`"
out "warnings each run printed at its end (lost trace messages, failed ruleset reads)."
out ""
out "| run | Gbit/s | ratio to untraced | events in the run | lost events | warnings |"
out "|---|---|---|---|---|---|"
# shellcheck disable=SC2086
out "| untraced | $(median ${gbps[untraced]}) [${gbps[untraced]# }] | 1 | | | |"
for c in "${cases[@]}"; do
  # shellcheck disable=SC2086
  out "| ${label[$c]} | $(median ${gbps[$c]}) [${gbps[$c]# }] | $(median ${ratios[$c]}) [${ratios[$c]# }] | ${events[$c]# } | ${lost[$c]# } | ${nflost[$c]# } |"
done
out ""
out "Load after: $(load_now)."
