#!/usr/bin/env bash
# Attach and detach time of the tracepoint backend on this machine's kernel: pwrudump started
# until its ready file exists (BTF, kallsyms, loading and attaching every skb tracepoint), and
# SIGINT until it exited (detaching everything, final statistics). The baseline of the same
# run: `pwrudump --list-funcs --backend tracepoint`, the part of the start that reads BTF and
# finds the probes without loading anything. The function backends (kprobe, kprobe-multi,
# fentry) need kernels this machine does not run: bench/vm-attach.sh measures them under QEMU.
#
# usage: bench/attach.sh   (as root; environment: see bench/lib.sh, BENCH_RUNS (default 5))
set -uo pipefail
. "$(dirname "$0")/lib.sh"
require_root

runs=${BENCH_RUNS:-5}
[ "$BENCH_QUICK" = 1 ] && runs=1
WORK=$(mktemp -d /tmp/pwru-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

attach=() detach=() list=()
for i in $(seq 1 "$runs"); do
  t0=$(date +%s.%N)
  "$PWRUDUMP" --list-funcs --backend tracepoint >/dev/null || fail "pwrudump --list-funcs failed"
  t1=$(date +%s.%N)
  list+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')")
  pwru_start attach --backend tracepoint "host 192.0.2.1"
  probes=$(grep -Eo 'attached [0-9]+ probes' "$WORK/attach.err" | awk '{ print $2 }')
  pwru_stop attach
  attach+=("$PWRU_ATTACH_S") detach+=("$PWRU_DETACH_S")
done
a=$(median "${attach[@]}") d=$(median "${detach[@]}") l=$(median "${list[@]}")
out ""
out "### Attach and detach, tracepoint backend, this machine ($runs runs, medians)"
out ""
out "| backend | probes | --list-funcs s (baseline) | attach s | detach s | attach ms per probe | detach / attach |"
out "|---|---|---|---|---|---|---|"
out "| tracepoint | $probes | $l | $a [${attach[*]}] | $d [${detach[*]}] | $(awk -v a="$a" -v p="$probes" 'BEGIN { printf "%.1f", 1000 * a / p }') | $(ratio "$d" "$a" 2) |"
