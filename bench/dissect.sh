#!/usr/bin/env bash
# Dissection: tshark reading a real pwrudump capture (an iperf3 TCP flow between two network
# namespaces, every skb tracepoint) with the pwru plugin, against tshark reading the same
# packets as a plain Ethernet capture (bench/pwru-to-eth.py), at several sizes, for time and
# peak memory. tshark runs as user nobody with the build tree's plugin, as
# tests/lib/tshark-plugin.sh does (Wireshark ignores personal plugins as root).
#   plain       tshark -r plain.pcap
#   pwru.func   tshark -r pwru.pcapng -Y 'pwru.func == "kfree_skb"'
#   -2          tshark -2 -r pwru.pcapng   (two passes: journeys, next hops)
#   plain -2    tshark -2 -r plain.pcap    (for reference)
#
# usage: bench/dissect.sh   (as root; environment: see bench/lib.sh, and BENCH_EVENTS: the
#        sizes, space-separated, the largest is captured (default 125000 250000 500000 1000000))
set -uo pipefail
. "$(dirname "$0")/lib.sh"
require_root
require_bench_cmds iperf3 python3 tshark editcap setpriv /usr/bin/time

sizes=${BENCH_EVENTS:-"125000 250000 500000 1000000"}
[ "$BENCH_QUICK" = 1 ] && sizes="2000 4000"
read -r -a size_list <<<"$sizes"
largest=$(printf '%s\n' "${size_list[@]}" | sort -n | tail -n 1)
bench_hosts
PORT=5201

# The plugin loads from the build tree (this also checks that it does, as nobody).
"$TSHARK_PLUGIN" "$BUILD" -v >/dev/null 2>"$WORK/plugin.err" || fail "tshark cannot load the pwru plugin: $(cat "$WORK/plugin.err")"
mkdir -p "$WORK/home"
chown nobody:nogroup "$WORK/home"
cp -r "$BUILD/dissector/plugins" "$WORK/plugins" && chmod -R a+rX "$WORK/plugins"

# --- the capture: a real trace of TCP traffic, `largest` events ---
ip netns exec "$NS_B" iperf3 -s -B "$IP_B" -p "$PORT" >/dev/null 2>&1 &
BENCH_PIDS+=($!)
sleep 0.5
pwru_start capture -q -w "$WORK/all.pcapng" -c "$largest" "host $IP_B"
ip netns exec "$NS_A" iperf3 -c "$IP_B" -p "$PORT" -t 600 >/dev/null 2>&1 &
client=$!
BENCH_PIDS+=("$client")
# pwrudump stops by itself after `largest` events (-c); should the flow end first, stop it.
while kill -0 "$PWRU_PID" 2>/dev/null; do
  kill -0 "$client" 2>/dev/null || kill -INT "$PWRU_PID"
  sleep 0.5
done
wait "$PWRU_PID"
PWRU_PID=
kill "$client" 2>/dev/null
for n in $sizes; do
  editcap -r "$WORK/all.pcapng" "$WORK/pwru-$n.pcapng" "1-$n" || fail "editcap cannot cut $n events"
  got=$(python3 "$BENCH_DIR/pwru-to-eth.py" "$WORK/pwru-$n.pcapng" "$WORK/plain-$n.pcap") || fail "cannot convert the capture"
  [ "$got" -eq "$n" ] || fail "the capture holds $got events, not $n (pwrudump stopped early?)"
done
rm -f "$WORK/all.pcapng"
chmod 644 "$WORK"/*.pcap "$WORK"/*.pcapng

# tshark_run LABEL ARGS...: one tshark run as nobody with the plugin; prints "seconds KiB".
tshark_run() {
  local label=$1
  shift
  /usr/bin/time -f '%e %M' -o "$WORK/time" \
    setpriv --reuid=nobody --regid=nogroup --clear-groups \
    env -u XDG_CONFIG_HOME HOME="$WORK/home" WIRESHARK_PLUGIN_DIR="$WORK/plugins" \
    tshark "$@" >/dev/null 2>"$WORK/tshark.err" || fail "tshark $* ($label) failed: $(head -c 500 "$WORK/tshark.err")"
  cat "$WORK/time"
}

out ""
out "### Dissection (tshark $(tshark -v 2>/dev/null | head -n 1 | awk '{ print $3 }'), a real capture of an iperf3 TCP flow)"
out ""
out "Seconds and peak RSS (MiB) of tshark; ratio = seconds / plain seconds of the same size."
out ""
out "| events | plain s | plain MiB | pwru.func s | ratio | pwru.func MiB | -2 s | ratio | -2 MiB | plain -2 s | -2 / plain -2 | plain -2 MiB | load |"
out "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
for n in $sizes; do
  read -r ps pm < <(tshark_run plain -r "$WORK/plain-$n.pcap")
  read -r fs fm < <(tshark_run func -r "$WORK/pwru-$n.pcapng" -Y 'pwru.func == "kfree_skb"')
  read -r js jm < <(tshark_run journeys -2 -r "$WORK/pwru-$n.pcapng")
  read -r p2s p2m < <(tshark_run plain2 -2 -r "$WORK/plain-$n.pcap")
  mib() { awk -v k="$1" 'BEGIN { printf "%.0f", k / 1024 }'; }
  out "| $n | $ps | $(mib "$pm") | $fs | $(ratio "$fs" "$ps" 2) | $(mib "$fm") | $js | $(ratio "$js" "$ps" 2) | $(mib "$jm") | $p2s | $(ratio "$js" "$p2s" 2) | $(mib "$p2m") | $(load_now) |"
  echo "$n $pm $fm $jm $p2m" >>"$WORK/mem"
done
# Memory per event: the slope of peak RSS over the sizes (least squares), per run kind.
slope() {
  awk -v c="$1" '{ x[NR] = $1; y[NR] = $c; sx += $1; sy += $c } END {
    mx = sx / NR; my = sy / NR
    for (i = 1; i <= NR; i++) { num += (x[i] - mx) * (y[i] - my); den += (x[i] - mx) ^ 2 }
    printf "%.2f", den ? num / den * 1024 : 0 }' "$WORK/mem"
}
out ""
out "Peak RSS grows by $(slope 2) bytes per event for plain, $(slope 3) for pwru.func, $(slope 4) for -2" \
    "($(slope 5) for plain -2) (least-squares slope over the sizes)."
