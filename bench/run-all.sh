#!/usr/bin/env bash
# Runs every benchmark that needs no VM, one after the other, into one results file:
#   bench/overhead.sh  (~3 min)  packet path overhead against untraced and bpftrace
#   bench/pipeline.sh  (~2 min)  events/s into pcapng, lost events beyond
#   BENCH_SINK=null bench/pipeline.sh (~1 min)  the same into /dev/null: without the file system
#   bench/burst.sh     (~1 min)  events the ring buffer holds while pwrudump does not read
#   bench/bpf-cost.sh  (~1 min)  nanoseconds per BPF program run (kernel.bpf_stats_enabled)
#   bench/attach.sh    (~1 min)  attach/detach of the tracepoint backend
#   bench/nftrace.sh   (~3 min)  what --nf-trace costs the packet path, filter matching or not
#   bench/dissect.sh   (~8 min)  tshark on pwru captures against plain Ethernet, 4 sizes
# The benchmarks in QEMU run separately, or after these with BENCH_VM=1:
#   bench/vm-attach.sh (~15 min per kernel)   attach/detach of every backend, 6.12 and 6.1
#   bench/peer-pwru.sh (~10 min)  Debian's pwru beside pwrudump in the 6.12 guest
#
# usage: bench/run-all.sh [RESULTS.md]   (as root; default bench-results-<date>.md here)
#   BUILD=folder  the build to measure (default ./build); BENCH_QUICK=1 only checks the scripts;
#   BENCH_VM=1 adds the QEMU benchmarks.
# Run it on an otherwise idle machine: every figure is compared within the same run, but a
# busy machine widens the spread (each table records the load average beside its rows).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export BENCH_OUT=${1:-$PWD/bench-results-$(date -u +%Y%m%d-%H%M).md}
# shellcheck source=lib.sh
. "$here/lib.sh"
require_root

{
  echo "## Run of $(date -u '+%Y-%m-%d')"
  echo ""
  echo "$(machine_line)."
} >>"$BENCH_OUT"
status=0
# pipeline twice: into a file, and into /dev/null (pwrudump's own limit, without the file system).
runs=(overhead pipeline BENCH_SINK=null:pipeline burst bpf-cost attach nftrace dissect)
[ "${BENCH_VM:-}" = 1 ] && runs+=(vm-attach peer-pwru)
for run in "${runs[@]}"; do
  b=${run##*:} env=()
  [ "$b" != "$run" ] && env=("${run%%:*}")
  echo "== ${env[*]} bench/$b.sh" >&2
  start=$(date +%s)
  env "${env[@]}" "$here/$b.sh" || { status=1; echo "${env[*]} bench/$b.sh failed" | tee -a "$BENCH_OUT" >&2; }
  echo "(${env[*]} bench/$b.sh: $(( $(date +%s) - start )) s)" >&2
done
echo "results: $BENCH_OUT" >&2
exit "$status"
