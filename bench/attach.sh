#!/usr/bin/env bash
# Attach and detach time of the tracepoint backend on this machine's kernel: pwrudump started
# until its ready file exists (BTF, kallsyms, loading and attaching every skb tracepoint), and
# SIGINT until it exited (detaching everything, final statistics). The baseline of the same
# run: `pwrudump --list-funcs --backend tracepoint`, the part of the start that reads BTF and
# finds the probes without loading anything. A second row loads the raw_tp flavour of the same
# programs (--kernel-btf of the running kernel), which the verifier checks without BTF pointers;
# with BASE_BUILD set, rows for that build's pwrudump too, runs interleaved. The function
# backends (kprobe, kprobe-multi, fentry) need kernels this machine does not run:
# bench/vm-attach.sh measures them under QEMU.
#
# usage: bench/attach.sh   (as root; environment: see bench/lib.sh, BENCH_RUNS (default 5),
#        BASE_BUILD (a build folder to compare with))
set -uo pipefail
. "$(dirname "$0")/lib.sh"
require_root

runs=${BENCH_RUNS:-5}
[ "$BENCH_QUICK" = 1 ] && runs=1
WORK=$(mktemp -d /tmp/pwru-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
NEW=$PWRUDUMP
BASE=$(base_pwrudump) || exit 1  # its message is on stderr already
RAW_TP=(--kernel-btf /sys/kernel/btf/vmlinux)
[ -r /sys/kernel/btf/vmlinux ] || fail "needs /sys/kernel/btf/vmlinux (a kernel with CONFIG_DEBUG_INFO_BTF)"

# Variants, as "label|binary|use raw_tp (1/0)".
variants=("tp_btf|$NEW|0" "raw_tp (--kernel-btf)|$NEW|1")
[ -n "$BASE" ] && variants+=("tp_btf, base|$BASE|0" "raw_tp (--kernel-btf), base|$BASE|1")

declare -A attach detach list probes
# The time and load when the runs start, for the heading printed after them.
machine=$(machine_line)
for _ in $(seq 1 "$runs"); do
  for v in "${variants[@]}"; do
    IFS='|' read -r label bin raw <<<"$v"
    extra=()
    [ "$raw" = 1 ] && extra=("${RAW_TP[@]}")
    t0=$(date +%s.%N)
    "$bin" --list-funcs --backend tracepoint "${extra[@]}" >/dev/null || fail "pwrudump --list-funcs failed"
    t1=$(date +%s.%N)
    list[$label]+=" $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')"
    PWRUDUMP=$bin pwru_start attach --backend tracepoint "${extra[@]}" "host 192.0.2.1"
    probes[$label]=$(grep -Eo 'attached [0-9]+ probes' "$WORK/attach.err" | awk '{ print $2 }')
    pwru_stop attach
    attach[$label]+=" $PWRU_ATTACH_S" detach[$label]+=" $PWRU_DETACH_S"
  done
done
out ""
out "### Attach and detach, tracepoint backend, this machine ($runs runs, interleaved, medians)"
out ""
out "$machine. New: $NEW$( [ -n "$BASE" ] && echo "; base: $BASE")."
out ""
out "| programs | probes | --list-funcs s (baseline) | attach s | detach s | attach ms per probe | detach / attach |"
out "|---|---|---|---|---|---|---|"
for v in "${variants[@]}"; do
  IFS='|' read -r label _ _ <<<"$v"
  # shellcheck disable=SC2086  # the lists are space-separated numbers
  a=$(median ${attach[$label]}) d=$(median ${detach[$label]}) l=$(median ${list[$label]})
  out "| $label | ${probes[$label]} | $l | $a [${attach[$label]# }] | $d [${detach[$label]# }] |" \
      "$(awk -v a="$a" -v p="${probes[$label]}" 'BEGIN { printf "%.1f", 1000 * a / p }') | $(ratio "$d" "$a" 2) |"
done
