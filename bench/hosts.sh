#!/usr/bin/env bash
# Many hosts: what `pwrudump --remote h1 --remote h2 --remote h3` carries through ssh, and what it
# costs on the relaying side (docs/many-hosts.md). The hosts are those of tests/hosts (network
# namespaces with an sshd each, joined through a router namespace where the relay runs), so they
# share this machine's CPUs with the relay and with ssh on both ends: the numbers are a floor
# for separate machines.
#
# Each step: every host sends UDP datagrams of 64 bytes to the router at a paced rate for
# BENCH_SECONDS (udp-flood), its pwrudump (tracepoint backend, its own namespace, filter `udp`)
# traces them, and the relay writes one pcapng. Per host: events relayed per second (EPBs of its
# interface over the flow's seconds); on the relaying side, the CPU of the relay process and of
# the three ssh clients; on the hosts, of their pwrudump and sshd (one CPU = 100 %).
#
# usage: bench/hosts.sh   (as root; environment: see bench/lib.sh, and BENCH_SECONDS per step
#        (default 5), BENCH_RATES: datagrams/s per host, space-separated)
set -uo pipefail
. "$(dirname "$0")/lib.sh"
require_root
require_bench_cmds python3 ssh ssh-keygen /usr/sbin/sshd
require_udp_flood
# shellcheck source=../tests/hosts/hosts-lib.sh
. "$REPO/tests/hosts/hosts-lib.sh"

secs=${BENCH_SECONDS:-5}
rates=${BENCH_RATES:-"1000 10000 30000"}
[ "$BENCH_QUICK" = 1 ] && secs=1 rates=1000
N=3
hosts_setup "$N"
mkdir -p "$WORK/config"
remote=()
for k in $(seq "$N"); do
  host_line "h$k" "$(host_ip "$k")" "$(host_ns "$k")" --backend tracepoint \
    --ready-file "$WORK/h$k.ready" >>"$WORK/config/hosts"
  remote+=(--remote "h$k")
done

# cpu_ticks PID...: user + system clock ticks of these processes so far.
cpu_ticks() {
  local p sum=0 t
  for p in "$@"; do
    t=$(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null) && sum=$((sum + t))
  done
  echo "$sum"
}
comm_in() {  # NS COMM: the processes named COMM in namespace NS
  local p
  for p in $(ip netns pids "$1"); do
    [ "$(cat "/proc/$p/comm" 2>/dev/null)" = "$2" ] && echo "$p"
  done
}
hz=$(getconf CLK_TCK)
pct() { awk -v t="$1" -v hz="$hz" -v s="$secs" 'BEGIN { printf "%.1f", 100 * t / hz / s }'; }

out ""
out "### Many hosts: pwrudump --remote over ssh, $N hosts (network namespaces of this machine), ${secs} s per step"
out ""
out "$(machine_line)."
out ""
out "| datagrams/s per host asked | sent (h1 h2 h3) | events/s relayed per host (h1 h2 h3) | relay CPU | ssh clients CPU | per host: pwrudump + sshd CPU |"
out "|---|---|---|---|---|---|"
for rate in $rates; do
  rm -f "$WORK"/h*.ready
  ip netns exec "$R" "$PWRUDUMP" --hosts-file "$WORK/config/hosts" "${remote[@]}" -q \
    -w "$WORK/all.pcapng" udp 2>"$WORK/relay.err" &
  RELAY=$!
  for k in $(seq "$N"); do
    wait_for_file "$WORK/h$k.ready" 60 || fail "h$k never attached: $(cat "$WORK/relay.err")"
  done
  # The relay's own process (the shell of each transport is its child), the ssh clients, and on
  # each host its pwrudump and sshd.
  ssh_pids=$(comm_in "$R" ssh)
  # shellcheck disable=SC2086  # one pid a word
  relay0=$(cpu_ticks "$RELAY") ssh0=$(cpu_ticks $ssh_pids)
  host0=()
  for k in $(seq "$N"); do
    # shellcheck disable=SC2046  # one pid a word
    host0+=("$(cpu_ticks $(comm_in "$(host_ns "$k")" pwrudump) $(comm_in "$(host_ns "$k")" sshd))")
  done
  flows=()
  for k in $(seq "$N"); do
    ip netns exec "$(host_ns "$k")" "$FLOOD" "$(router_ip "$k")" 9 "$secs" 1 "$rate" >"$WORK/sent.$k" &
    flows+=($!)
  done
  wait "${flows[@]}"
  # shellcheck disable=SC2086  # one pid a word
  relay=$(( $(cpu_ticks "$RELAY") - relay0 )) ssh=$(( $(cpu_ticks $ssh_pids) - ssh0 ))
  hosts_cpu=()
  for k in $(seq "$N"); do
    # shellcheck disable=SC2046  # one pid a word
    hosts_cpu+=("$(pct $(( $(cpu_ticks $(comm_in "$(host_ns "$k")" pwrudump) $(comm_in "$(host_ns "$k")" sshd)) - host0[k - 1] )))%")
  done
  sleep 1  # the last events through the relay
  kill -INT "$RELAY"
  wait "$RELAY"
  rc=$?
  [ "$rc" -eq 0 ] || fail "pwrudump --remote exited with $rc: $(cat "$WORK/relay.err")"
  per_host=$(PYTHONPATH="$REPO/tests/lib" python3 -c '
import collections, struct, sys, pcapng
names, counts = [], collections.Counter()
with open(sys.argv[1], "rb") as f:
    for btype, body in pcapng.Blocks(f, bodies={pcapng.IDB, pcapng.EPB}):
        if btype == pcapng.IDB:
            off, name = 8, "?"
            while off + 4 <= len(body):
                code, length = struct.unpack_from("<HH", body, off)
                if code == 0: break
                if code == 2: name = body[off + 4:off + 4 + length].decode()
                off += 4 + (length + 3) // 4 * 4
            names.append(name)
        elif btype == pcapng.EPB:
            counts[struct.unpack_from("<I", body, 0)[0]] += 1
print(" ".join("%.0f" % (counts[i] / float(sys.argv[2])) for i, _ in sorted(enumerate(names), key=lambda x: x[1])))
' "$WORK/all.pcapng" "$secs")
  sent=$(cat "$WORK"/sent.* | awk -v s="$secs" '{ printf "%s%.0f", (NR > 1 ? " " : ""), $1 / s }')
  out "| $rate | $sent | $per_host | $(pct "$relay")% | $(pct "$ssh")% | ${hosts_cpu[*]} |"
done
