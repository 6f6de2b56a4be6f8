#!/usr/bin/env bash
# pwrudump beside Debian's pwru (1.0.5, trixie) in the VM tests' 6.12 kernel booted under QEMU
# (TCG), one boot: attach and detach time with every skb function (kprobe-multi), events per
# dropped ping, events lost in a UDP flood (pwru's queue overwrites silently: its events of one
# function, ip_output, against the datagrams sent; pwrudump's too, with the loss it reports),
# peak RSS, and an iperf3 flow's throughput while each traces with a filter matching nothing and
# one matching the flow, as ratios to untraced in the same rounds (rounds interleaved). The guest
# side is tests/vm/guest/bench-peer-pwru.sh. Emulation makes absolute figures slow: compare the
# two tools within the run.
#
# Attach and detach are timed on every traced run (detach on those matching nothing, which have
# no backlog to write), peak RSS is VmHWM just before each SIGINT.
#
# usage: bench/peer-pwru.sh   (as root; environment: see bench/lib.sh, PWRU_VM_TIMEOUT seconds
#        for the boot (default 1200), IPERF_ROUNDS (2), IPERF_S (3), FLOOD_RATE datagrams/s
#        (1000) and FLOOD_S (3), PINGS (5))
set -uo pipefail
. "$(dirname "$0")/lib.sh"
# shellcheck source=../tests/vm/kernels.sh
. "$REPO/tests/vm/kernels.sh"
require_root
require_cmd qemu-system-x86_64 cpio gzip base64
require_bench_cmds iperf3  # copied into the guest by prepare.sh
require_udp_flood

kernel=6.12
timeout_s=${PWRU_VM_TIMEOUT:-1200}
iperf_rounds=${IPERF_ROUNDS:-2}
[ "$BENCH_QUICK" = 1 ] && iperf_rounds=1
WORK=$(mktemp -d /tmp/pwru-bench-peer.XXXXXX)
trap '[ "${PWRU_VM_KEEP:-}" = 1 ] && echo "kept $WORK" >&2 || rm -rf "$WORK"' EXIT

vm_kernel "$kernel"
vm_dir="$BUILD/bench-vm/$kernel"
mkdir -p "$vm_dir"
"$REPO/tests/vm/prepare.sh" "$kernel" "$PWRUDUMP" "$vm_dir" >"$WORK/prepare.log" 2>&1 ||
  fail "cannot prepare kernel $kernel: $(tail -n 5 "$WORK/prepare.log")"
[ -f "$vm_dir/pwru.cpio.gz" ] || fail "prepare.sh made no pwru.cpio.gz: $(grep -i pwru "$WORK/prepare.log")"
pwru_deb=$(cat "$vm_dir/pwru.deb")

# The scenario, its settings and udp-flood, in a small cpio in front of the initramfs; pwru and
# iperf3 after it (prepare.sh's pwru.cpio.gz).
ov="$WORK/overlay"
mkdir -p "$ov/scenario" "$ov/usr/bin"
cp "$REPO/tests/vm/guest/bench-peer-pwru.sh" "$ov/scenario/scenario-bench-peer-pwru.sh"
cp "$FLOOD" "$ov/usr/bin/udp-flood"
{
  echo "VM_SCENARIO=bench-peer-pwru"
  echo "IPERF_ROUNDS=$iperf_rounds IPERF_S=${IPERF_S:-3}"
  echo "FLOOD_RATE=${FLOOD_RATE:-1000} FLOOD_S=${FLOOD_S:-3} PINGS=${PINGS:-5}"
  echo "READY_TIMEOUT=$((timeout_s / 8))"
} >"$ov/scenario.env"
(cd "$ov" && find . | cpio -o -H newc -R 0:0 --quiet) >"$WORK/initrd"
cat "$vm_dir/initramfs.cpio.gz" "$vm_dir/pwru.cpio.gz" >>"$WORK/initrd"
results="$WORK/results.txt"
echo "peer-pwru: booting $(cat "$vm_dir/kernel/kver") under TCG" >&2
start_s=$(date +%s)
timeout -k 10 "$timeout_s" qemu-system-x86_64 -accel tcg,thread=single -smp 2 -m 2048 -nographic \
  -no-reboot -nic none -monitor none -serial "file:$WORK/console.log" -serial "file:$results" \
  -kernel "$vm_dir/kernel/vmlinuz" -initrd "$WORK/initrd" \
  -append "console=ttyS0 panic=-1 loglevel=4 rdinit=/init" >"$WORK/qemu.log" 2>&1 ||
  fail "qemu failed or timed out: $(tail -n 20 "$WORK/console.log")"
grep -aq '^PWRU-VM-DONE' "$results" || fail "the guest stopped early: $(tail -n 20 "$WORK/console.log")"
tr -d '\r' <"$results" >"$WORK/facts"

# lines KIND [FILTER...]: the fact lines "PWRU-VM KIND ..." with every key=value of FILTER.
lines() {
  local kind=$1
  shift
  awk -v k="$kind" -v want="$*" '$1 == "PWRU-VM" && $2 == k {
    n = split(want, w, " "); ok = 1
    for (j = 1; j <= n; j++) { found = 0; for (i = 3; i <= NF; i++) if ($i == w[j]) found = 1; if (!found) ok = 0 }
    if (ok) print }' "$WORK/facts"
}
# get FIELD: FIELD's values in the lines on stdin, one a line.
get() { sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }
diff_s() { awk '{ if ($2 == "none") print "none"; else printf "%.2f\n", $2 - $1 }'; }
# med: the median of the numbers on stdin.
med() { local v; mapfile -t v; median "${v[@]}" | awk '{ printf "%.2f\n", $1 }'; }
mib() { awk '{ printf "%.1f\n", $1 / 1024 }'; }

out ""
out "### Beside pwru: Debian's pwru and pwrudump in the 6.12 guest (QEMU, TCG), one boot"
out ""
out "pwru: ${pwru_deb:-?}; pwrudump: $PWRUDUMP; kernel $(cat "$vm_dir/kernel/kver"); host: $(machine_line)."
out "Both with kprobe-multi on every skb function, text output (pwru --output-meta --output-tuple)."
out "Guest clock, 10 ms resolution; medians of the rounds; the VM ran $(( $(date +%s) - start_s )) s."
out ""
out "| row | pwru | pwrudump | ahead? |"
out "|---|---|---|---|"
# row NAME PWRU PWRUDUMP BETTER: BETTER is low or high.
row() {
  local ahead
  ahead=$(awk -v a="$2" -v b="$3" -v w="$4" 'BEGIN {
    if (a == "" || b == "" || a == "nan" || b == "nan") { print "?"; exit }
    if (a == b) print "even"; else if ((w == "low") == (b < a)) print "pwrudump"; else print "pwru" }')
  out "| $1 | $2 | $3 | $ahead |"
}
# runs TOOL: the fact lines of TOOL's traced runs; idle_runs TOOL: those matching nothing.
runs() { lines bench-ping "tool=$1"; lines bench-flood "tool=$1"; lines bench-iperf | grep " mode=$1-"; }
idle_runs() { lines bench-iperf | grep " mode=$1-nomatch "; }
for tool in pwru pwrudump; do
  a=$(runs $tool) i=$(idle_runs $tool)
  declare "attach_$tool=$(get start <<<"$a" | paste - <(get ready <<<"$a") | diff_s | grep -v none | med)"
  declare "detach_$tool=$(get stop <<<"$i" | paste - <(get exited <<<"$i") | diff_s | med)"
  declare "idle_$tool=$(get hwm <<<"$i" | med | mib)"
  declare "busy_$tool=$(get hwm <<<"$a" | sort -n | tail -n 1 | mib)"
  declare "runs_$tool=$(grep -c . <<<"$a")"
  p=$(lines bench-ping "tool=$tool")
  declare "ping_$tool=$(awk -v e="$(get events <<<"$p")" -v n="$(get pings <<<"$p")" 'BEGIN { printf "%.1f", e / n }')"
  f=$(lines bench-flood "tool=$tool")
  declare "sent_$tool=$(get sent <<<"$f")" "seen_$tool=$(get ip_output <<<"$f")"
  declare "events_$tool=$(get events <<<"$f")" "lost_$tool=$(get lost <<<"$f")"
done
# shellcheck disable=SC2154  # declared above
{
  row "attach, every skb function (s; median of $runs_pwru / $runs_pwrudump runs)" "$attach_pwru" "$attach_pwrudump" low
  row "detach (s; filter matching nothing)" "$detach_pwru" "$detach_pwrudump" low
  row "events per dropped ping ('icmp and host B')" "$ping_pwru" "$ping_pwrudump" high
  missed_pwru=$(awk -v s="$sent_pwru" -v g="$seen_pwru" 'BEGIN { printf "%.1f", 100 * (s - g) / s }')
  missed_pwrudump=$(awk -v s="$sent_pwrudump" -v g="$seen_pwrudump" 'BEGIN { printf "%.1f", 100 * (s - g) / s }')
  row "UDP flood: datagrams without their ip_output event (%)" "$missed_pwru" "$missed_pwrudump" low
  out "| ... datagrams sent / ip_output events / all events / loss reported | $sent_pwru / $seen_pwru / $events_pwru / none (silent) | $sent_pwrudump / $seen_pwrudump / $events_pwrudump / $lost_pwrudump | |"
  row "peak RSS, filter matching nothing (MiB)" "$idle_pwru" "$idle_pwrudump" low
  row "peak RSS, highest of all runs (MiB)" "$busy_pwru" "$busy_pwrudump" low
}
for filter in nomatch match; do
  for tool in pwru pwrudump; do
    r=()
    for round in $(seq "$iperf_rounds"); do
      base=$(lines bench-iperf "round=$round" mode=none | get kbps)
      traced=$(lines bench-iperf "round=$round" "mode=$tool-$filter" | get kbps)
      r+=("$(ratio "$traced" "$base")")
    done
    declare "iperf_${tool}_$filter=$(median "${r[@]}")"
  done
  for tool in pwru pwrudump; do
    w=$(lines bench-iperf | grep " mode=$tool-$filter ")
    declare "written_${tool}_$filter=$(get written <<<"$w" | med | awk '{ printf "%.0f", $1 }')"
    declare "lost_${tool}_$filter=$(get lost <<<"$w" | paste -sd /)"
  done
done
base_all=$(lines bench-iperf mode=none | get kbps | med)
# shellcheck disable=SC2154  # declared above
{
  row "iperf3 throughput / untraced, filter matching nothing" "$iperf_pwru_nomatch" "$iperf_pwrudump_nomatch" high
  row "iperf3 throughput / untraced, filter matching the flow" "$iperf_pwru_match" "$iperf_pwrudump_match" high
  out "| ... events written in a run (median) / loss reported (each run) | $written_pwru_match / none (silent) | $written_pwrudump_match / $lost_pwrudump_match | |"
}
out ""
out "Untraced iperf3 in the guest: $(awk -v k="$base_all" 'BEGIN { printf "%.0f", k / 1000 }') Mbit/s (median of $iperf_rounds rounds of ${IPERF_S:-3} s)."
failed=$(runs pwru | grep -v ' rc=0'; runs pwrudump | grep -v ' rc=0')
[ -z "$failed" ] || out "Runs that did not exit 0: $(one_line "$failed")"
out ""
