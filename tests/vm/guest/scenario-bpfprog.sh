# The tc/XDP scenario (vm.<kernel>.tc, vm.<kernel>.xdp), sourced by /init: two network namespaces
# joined by veth, and on the receiver's veth a program of the tests' own (tests/vm/progs) that
# drops ICMP: at tc ingress (BPF_HOOK=tc, loaded by tc) or XDP (BPF_HOOK=xdp, loaded by ip).
# pwrudump traces the pings with PWRU_ARGS (--filter-trace-tc or --filter-trace-xdp) into a
# pcapng that goes back to the host, with its stderr and the program's id as bpftool would list
# it (from `tc filter show` / `ip link show`).
# From /scenario.env: BPF_HOOK, PWRU_ARGS, PINGS, READY_TIMEOUT.
# shellcheck shell=dash
IP=/usr/bin/ip TC=/usr/sbin/tc
hosts
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
if trace_start "$@"; then
  $IP netns exec a ping -c "$PINGS" -i 0.2 -W 1 "$IP_B" >/tmp/ping.out 2>&1
  report "ping rc=$?"
fi
trace_stop
send_trace
