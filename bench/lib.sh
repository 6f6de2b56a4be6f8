# Helpers shared by the benchmark scripts (sourced): settings, the machine's description, the
# results file, medians, and pwrudump started and stopped the way a user does it.
#
# Environment every script reads:
#   BUILD        the CMake build folder (default: ./build of the repository)
#   BENCH_OUT    the results file (Markdown) to append to (default: bench-results.md in the
#                current folder)
#   BENCH_QUICK  1: tiny sizes and one round, only to check that the scripts run (no numbers)
# shellcheck shell=bash
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
# shellcheck source=../tests/lib/common.sh
. "$REPO/tests/lib/common.sh"

BUILD=$(cd "${BUILD:-$REPO/build}" 2>/dev/null && pwd) || fail "cannot open the build folder ${BUILD:-$REPO/build}: build first (README)"
PWRUDUMP=$BUILD/extcap/pwrudump
BENCH_OUT=${BENCH_OUT:-$PWD/bench-results.md}
BENCH_QUICK=${BENCH_QUICK:-0}
[ -x "$PWRUDUMP" ] || fail "cannot find $PWRUDUMP: build the pwrudump target first"

# base_pwrudump: the pwrudump of the build folder BASE_BUILD, for scripts that put another
# build beside this one; empty without BASE_BUILD. Fails (in its subshell: call it as
# `BASE=$(base_pwrudump) || exit 1`) when the folder has no pwrudump.
base_pwrudump() {
  [ -n "${BASE_BUILD:-}" ] || return 0
  local dir bin
  dir=$(cd "$BASE_BUILD" 2>/dev/null && pwd) || fail "cannot open the build folder BASE_BUILD=$BASE_BUILD"
  bin=$dir/extcap/pwrudump
  [ -x "$bin" ] || fail "cannot find $bin (BASE_BUILD=$BASE_BUILD): build its pwrudump target first"
  echo "$bin"
}

# require_bench_cmds CMD...: like require_cmd, with the bench packages' install step as the hint.
require_bench_cmds() {
  local c
  for c in "$@"; do
    command -v "$c" >/dev/null 2>&1 || fail "needs '$c': run bench/install-deps.sh (as root)"
  done
}

# require_udp_flood: sets FLOOD to the build's bench/tools/udp-flood (paced sendmmsg of 64-byte
# UDP datagrams: udp-flood ADDR PORT SECONDS THREADS RATE, prints the datagrams sent).
require_udp_flood() {
  FLOOD=$BUILD/bench/udp-flood
  [ -x "$FLOOD" ] || fail "cannot find $FLOOD: build the udp-flood target first"
}

# out LINE...: one line into the results file and onto stdout.
out() { printf '%s\n' "$*" | tee -a "$BENCH_OUT"; }

load_now() { cut -d' ' -f1-3 /proc/loadavg; }

# machine_line: what the numbers were measured on, for the results' heading.
machine_line() {
  local cpu
  cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
  echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs ($cpu), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)," \
       "kernel $(uname -r), checkout $(git -C "$REPO" describe --always --dirty 2>/dev/null || echo '?') (build $BUILD)," \
       "load average before: $(load_now)"
}

# median NUMBER...: the median (the mean of the two middle ones for an even count).
median() {
  printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
    if (NR == 0) { print "nan"; exit }
    if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# ratio A B [DIGITS]: A / B.
ratio() { awk -v a="$1" -v b="$2" -v d="${3:-3}" 'BEGIN { if (b == 0) print "nan"; else printf "%.*f\n", d, a / b }'; }

# The tracing file system, for bpftrace's tracepoint formats (pwrudump needs only BTF).
ensure_tracefs() {
  [ -e /sys/kernel/tracing/events ] || mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null ||
    [ -e /sys/kernel/debug/tracing/events ] || fail "cannot mount tracefs on /sys/kernel/tracing (bpftrace needs it)"
}

# pwru_start NAME ARGS...: pwrudump ARGS in the background with a ready file, stderr in
# $WORK/NAME.err; back once it attached. Sets PWRU_PID and PWRU_ATTACH_S (start to ready).
pwru_start() {
  local name=$1 t0 t1
  shift
  rm -f "$WORK/ready"
  t0=$(date +%s.%N)
  "$PWRUDUMP" --ready-file "$WORK/ready" "$@" >/dev/null 2>"$WORK/$name.err" &
  PWRU_PID=$!
  while [ ! -e "$WORK/ready" ]; do
    kill -0 "$PWRU_PID" 2>/dev/null || fail "pwrudump $* exited before it was ready: $(cat "$WORK/$name.err")"
    sleep 0.01
  done
  t1=$(date +%s.%N)
  # shellcheck disable=SC2034  # for the caller
  PWRU_ATTACH_S=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
}

# pwru_stop NAME [PCAPNG]: SIGINT, as Ctrl-C. Sets PWRU_HWM_KIB (peak RSS), PWRU_RSS_ANON_KIB,
# PWRU_RSS_FILE_KIB (read just before the stop), PWRU_DETACH_S (SIGINT to exit), and with the
# pcapng it wrote PWRU_EVENTS and PWRU_LOST from its statistics block (events written, lost in
# the kernel), which must agree with the warning pwrudump prints about lost events (-q too).
pwru_stop() {
  local name=$1 pcapng=${2:-} t0 t1 rc status warned
  status=$(cat "/proc/$PWRU_PID/status")
  # shellcheck disable=SC2034  # for the caller
  PWRU_HWM_KIB=$(awk '/^VmHWM/ { print $2 }' <<<"$status") \
    PWRU_RSS_ANON_KIB=$(awk '/^RssAnon/ { print $2 }' <<<"$status") \
    PWRU_RSS_FILE_KIB=$(awk '/^RssFile/ { print $2 }' <<<"$status")
  t0=$(date +%s.%N)
  kill -INT "$PWRU_PID"
  wait "$PWRU_PID"
  rc=$?
  t1=$(date +%s.%N)
  PWRU_PID=
  [ "$rc" -eq 0 ] || fail "pwrudump exited with $rc after SIGINT: $(cat "$WORK/$name.err")"
  # shellcheck disable=SC2034  # for the caller
  PWRU_DETACH_S=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
  PWRU_EVENTS="" PWRU_LOST=""
  [ -n "$pcapng" ] || return 0
  # shellcheck disable=SC2034  # for the caller
  read -r PWRU_EVENTS PWRU_LOST < <(python3 "$BENCH_DIR/pcapng-isb.py" "$pcapng") ||
    fail "no statistics block in $pcapng"
  warned=$(awk '/WARNING: [0-9]+ events lost/ { print $3 }' "$WORK/$name.err")
  [ "${warned:-0}" = "$PWRU_LOST" ] ||
    fail "the pcapng counts $PWRU_LOST lost events, pwrudump warned of ${warned:-none}"
}

# bench_hosts: the two test hosts of tests/lib/common.sh and a scratch folder, removed on exit
# together with whatever the benchmark started (BENCH_PIDS).
BENCH_PIDS=()
bench_hosts() {
  e2e_hosts
  trap bench_cleanup EXIT
}
bench_cleanup() {
  local rc=$? p
  for p in "${BENCH_PIDS[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
  (exit "$rc")
  netns_cleanup
}

# iperf3_server: an iperf3 server in B on $IP_B:$PORT, stopped with the hosts (BENCH_PIDS).
iperf3_server() {
  ip netns exec "$NS_B" iperf3 -s -B "$IP_B" -p "$PORT" >/dev/null 2>&1 &
  BENCH_PIDS+=($!)
  sleep 0.5
}

# iperf3_gbps: one client run of $secs seconds from A to B; prints the receiver's Gbit/s.
iperf3_gbps() {
  ip netns exec "$NS_A" iperf3 -c "$IP_B" -p "$PORT" -t "${secs:?}" -J >"$WORK/iperf.json" 2>&1 ||
    fail "iperf3 failed: $(cat "$WORK/iperf.json")"
  python3 -c 'import json, sys; print("%.3f" % (json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"] / 1e9))' \
    "$WORK/iperf.json"
}
