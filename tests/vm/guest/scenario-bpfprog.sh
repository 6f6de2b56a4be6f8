# The tc/XDP scenario (vm.<kernel>.tc, vm.<kernel>.xdp), sourced by /init: two network namespaces
# joined by veth, and on the receiver's veth a program of the tests' own (tests/vm/progs) that
# drops ICMP: at tc ingress (BPF_HOOK=tc, loaded by tc) or XDP (BPF_HOOK=xdp, loaded by ip).
# pwrudump traces the pings with PWRU_ARGS (--filter-trace-tc or --filter-trace-xdp) into a
# pcapng that goes back to the host, with its stderr and the program's id as bpftool would list
# it (from `tc filter show` / `ip link show`).
# From /scenario.env: BPF_HOOK, PWRU_ARGS, PINGS, READY_TIMEOUT.
# shellcheck shell=dash
IP=/usr/bin/ip TC=/usr/sbin/tc
PWRUDUMP=/usr/bin/pwrudump
IP_A=10.231.0.1
IP_B=10.231.0.2
$IP netns add a
$IP netns add b
$IP link add va netns a type veth peer name vb netns b
$IP -n a addr add "$IP_A/24" dev va
$IP -n b addr add "$IP_B/24" dev vb
$IP -n a link set lo up
$IP -n b link set lo up
$IP -n a link set va up
$IP -n b link set vb up
if [ "$BPF_HOOK" = tc ]; then
  $TC -n b qdisc add dev vb clsact &&
    $TC -n b filter add dev vb ingress bpf direct-action obj /progs/tc_drop_icmp.bpf.o sec tc
  report "load rc=$?"
  prog_id=$($TC -n b filter show dev vb ingress | sed -n 's/.* id \([0-9]*\) .*/\1/p' | head -n 1)
else
  $IP -n b link set dev vb xdp obj /progs/xdp_drop_icmp.bpf.o sec xdp
  report "load rc=$?"
  prog_id=$($IP -n b link show dev vb | sed -n 's/.*prog\/xdp id \([0-9]*\).*/\1/p' | head -n 1)
fi
report "prog id=$prog_id hook=$BPF_HOOK"
report "receiver ip=$IP_B netns=$(stat -L -c %i /run/netns/b) ifname=vb"

eval "set -- $PWRU_ARGS"
t0=$(uptime_s)
"$PWRUDUMP" -w /tmp/trace.pcapng --ready-file /tmp/ready "$@" "icmp and host $IP_B" \
  >/tmp/stdout 2>/tmp/stderr &
pid=$!
wait_ready /tmp/ready "$pid" "$READY_TIMEOUT"
if [ -e /tmp/ready ]; then
  report "attach ok=yes start=$t0 ready=$(uptime_s) uid=0"
  $IP netns exec a ping -c "$PINGS" -i 0.2 -W 1 "$IP_B" >/tmp/ping.out 2>&1
  report "ping rc=$?"
  sleep 1
  t1=$(uptime_s)
  kill -INT "$pid"
else
  report "attach ok=no start=$t0 gave_up=$(uptime_s)"
  kill -INT "$pid" 2>/dev/null
fi
wait "$pid"
report "pwrudump rc=$? stop=${t1:-} exited=$(uptime_s)"
set +x
send stderr /tmp/stderr
send stdout /tmp/stdout
[ -e /tmp/ping.out ] && send ping /tmp/ping.out
[ -e /tmp/trace.pcapng ] && send pcapng /tmp/trace.pcapng
set -x
