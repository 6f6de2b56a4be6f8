#!/usr/bin/env bash
# In-kernel filters end to end, between two namespaces of the test's own:
#   track:    DNAT in the receiver; with --filter-track-skb the events after translation (new
#             destination) appear, without it they do not.
#   tcpsyn:   'tcp[tcpflags] = tcp-syn' shows the SYNs of a refused connection and not the RST.
#   icmp6:    'icmp6' shows IPv6 pings and nothing else.
#   mark:     --filter-mark with a mark set by iptables shows only marked skbs.
#   netns:    --filter-netns (and --filter-ifname) select one of the two namespaces.
#   clones:   B mirrors what arrives on its veth to another interface (tc mirred: a clone); with
#             --filter-ifname and --filter-track-skb the clone's events appear where pwrudump can
#             follow clones (tracepoint backend: fexit or kprobes on skb_clone), and pwrudump says
#             so where it cannot; without --filter-track-skb they never appear.
#   stackid:  B answers the pings; the filter keeps only the echo requests. With
#             --filter-track-skb-by-stackid the reply B's kernel makes for a request, on the
#             request's stack before the request is freed, is traced too (pwru.stackid.kept
#             stackid, the request's pwru.stackid); without it, no reply.
#   nonskb:   --filter-non-skb-funcs probes kernel functions: with --backend tracepoint a usage
#             error (exit 2), and where auto finds no function backend (this machine) exit 5.
# usage: filter_test.sh MODE PWRUDUMP BUILD_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib/common.sh
. "$here/../lib/common.sh"
mode=$1 PWRUDUMP=$2 BUILD=$3

require_root
require_cmd ip iptables ping tshark setpriv tc
e2e_hosts

ping_b() { ip netns exec "$NS_A" ping -c "${2:-3}" -i 0.2 -W 1 "$1" >/dev/null; }

case "$mode" in
track)
  # A sends to a virtual address $IP_X through B, which translates it to its own address.
  IP_X="${IP_B%.*}.99"
  ip -n "$NS_A" route add "$IP_X/32" via "$IP_B" || fail "cannot add the route to $IP_X"
  ip netns exec "$NS_B" iptables -t nat -A PREROUTING -d "$IP_X" -j DNAT --to-destination "$IP_B" \
    || fail "cannot add the DNAT rule"
  start_trace "$WORK/plain.pcapng" "icmp and dst host $IP_X"
  ping_b "$IP_X" || fail "pings to the translated address failed"
  stop_trace
  start_trace "$WORK/tracked.pcapng" --filter-track-skb "icmp and dst host $IP_X"
  ping_b "$IP_X" || fail "pings to the translated address failed"
  stop_trace
  before=$(fields "$WORK/plain.pcapng" -Y "pwru.ip.dst == $IP_X && icmp.type == 8" -e pwru.skb)
  [ "$(count_lines "$before")" -ge 3 ] || fail "the requests to $IP_X were not traced before DNAT"
  after=$(fields "$WORK/plain.pcapng" -Y "pwru.ip.dst == $IP_B" -e pwru.func)
  assert_eq "events after DNAT without --filter-track-skb" "" "$after"
  after=$(fields "$WORK/tracked.pcapng" -Y "pwru.ip.dst == $IP_B && icmp.type == 8" -e pwru.func)
  [ "$(count_lines "$after")" -ge 3 ] \
    || fail "with --filter-track-skb the translated requests (dst $IP_B) should appear: '$after'"
  pass "DNAT $IP_X -> $IP_B: tracked skbs followed past the translation, untracked ones not"
  ;;
tcpsyn)
  start_trace "$WORK/syn.pcapng" "tcp[tcpflags] = tcp-syn and host $IP_B"
  for _ in 1 2 3; do
    ip netns exec "$NS_A" bash -c "exec 3<>/dev/tcp/$IP_B/9" 2>/dev/null \
      && fail "port 9 unexpectedly accepted a connection"
  done
  stop_trace
  flags=$(fields "$WORK/syn.pcapng" -e pwru.tcp_flags | sort | uniq -c)
  syns=$(fields "$WORK/syn.pcapng" -Y "pwru.tcp_flags == 0x02 && pwru.ip.dst == $IP_B" -e pwru.skb)
  [ "$(count_lines "$syns")" -ge 3 ] || fail "expected the SYNs to $IP_B, got: $flags"
  # Not 'pwru.tcp_flags != 0x02': that is false for an event without TCP flags (not TCP at
  # all), so it would let any other protocol through.
  others=$(fields "$WORK/syn.pcapng" -Y "!(pwru.tcp_flags == 0x02)" -e pwru.func -e pwru.tcp_flags \
             -e frame.protocols)
  assert_eq "events that are not bare SYNs" "" "$others"
  pass "only SYNs traced ($(count_lines "$syns") events)"
  ;;
icmp6)
  ip -n "$NS_A" addr add fd00:231::1/64 dev "$VETH_A" nodad
  ip -n "$NS_B" addr add fd00:231::2/64 dev "$VETH_B" nodad
  start_trace "$WORK/v6.pcapng" icmp6
  ping_b fd00:231::2 || fail "IPv6 pings failed"
  ping_b "$IP_B" || fail "IPv4 pings failed"
  stop_trace
  req=$(fields "$WORK/v6.pcapng" -Y "pwru.ipv6.dst == fd00:231::2 && icmpv6.type == 128" -e pwru.func)
  [ "$(count_lines "$req")" -ge 3 ] || fail "the IPv6 echo requests are missing"
  v4=$(fields "$WORK/v6.pcapng" -Y "ip" -e pwru.func)
  assert_eq "IPv4 events under filter icmp6" "" "$v4"
  notv6=$(fields "$WORK/v6.pcapng" -Y "!icmpv6" -e pwru.func)
  assert_eq "events that are not ICMPv6" "" "$notv6"
  pass "icmp6 filter: $(count_lines "$req") echo request events, no IPv4"
  ;;
mark)
  ip netns exec "$NS_A" iptables -t mangle -A OUTPUT -p icmp -j MARK --set-mark 0x2a \
    || fail "cannot add the MARK rule"
  start_trace "$WORK/mark.pcapng" --filter-mark 0x2a/0xff
  ping_b "$IP_B" || fail "pings failed"
  stop_trace
  marks=$(fields "$WORK/mark.pcapng" -e pwru.mark | sort -u)
  assert_eq "marks of all events" "0x0000002a" "$marks"
  tx=$(fields "$WORK/mark.pcapng" -Y "pwru.func == \"net_dev_start_xmit\" && icmp.type == 8" -e pwru.ifname)
  [ "$(count_lines "$tx")" -ge 3 ] || fail "the marked echo requests are missing at net_dev_start_xmit"
  pass "--filter-mark: only marked skbs ($(count_lines "$tx") requests at transmit)"
  ;;
netns)
  start_trace "$WORK/ns.pcapng" --filter-netns "/run/netns/$NS_B" icmp
  ping_b "$IP_B" || fail "pings failed"
  stop_trace
  spaces=$(fields "$WORK/ns.pcapng" -e pwru.netns | sort -u)
  assert_eq "namespaces of all events" "$NETNS_B_INODE" "$spaces"
  rx=$(fields "$WORK/ns.pcapng" -Y "pwru.func == \"netif_receive_skb\" && icmp.type == 8" -e pwru.ifname)
  [ "$(count_lines "$rx")" -ge 3 ] || fail "the requests received in $NS_B are missing"
  # By inode, with the interface looked up inside that namespace.
  start_trace "$WORK/ifname.pcapng" --filter-netns "inode:$NETNS_A_INODE" --filter-ifname "$VETH_A" icmp
  ping_b "$IP_B" || fail "pings failed"
  stop_trace
  ifs=$(fields "$WORK/ifname.pcapng" -e pwru.ifname -e pwru.netns | sort -u)
  assert_eq "interface and namespace of all events" "$VETH_A $NETNS_A_INODE" "$ifs"
  pass "--filter-netns and --filter-ifname select one namespace and one interface"
  ;;
clones)
  # The clone leaves on $MIR_0 (and arrives on its peer $MIR_1, where it is not for B: dropped),
  # so it never is on $VETH_B, the one interface the filter lets through.
  MIR_0="pwm$$" MIR_1="pwn$$"
  ip -n "$NS_B" link add "$MIR_0" type veth peer name "$MIR_1" || fail "cannot add the mirror veth"
  ip -n "$NS_B" link set "$MIR_0" up || fail "cannot bring $MIR_0 up"
  ip -n "$NS_B" link set "$MIR_1" up || fail "cannot bring $MIR_1 up"
  ip netns exec "$NS_B" tc qdisc add dev "$VETH_B" clsact || fail "cannot add clsact (sch_ingress)"
  ip netns exec "$NS_B" tc filter add dev "$VETH_B" ingress protocol ip u32 match ip protocol 1 0xff \
    action mirred egress mirror dev "$MIR_0" || fail "cannot add the mirror (cls_u32, act_mirred)"
  only_b=(--backend tracepoint --filter-netns "/run/netns/$NS_B" --filter-ifname "$VETH_B")
  start_trace "$WORK/plain.pcapng" "${only_b[@]}" icmp
  ping_b "$IP_B" || fail "pings failed"
  stop_trace
  TRACE_LOUD=1 start_trace "$WORK/tracked.pcapng" "${only_b[@]}" --filter-track-skb icmp
  ping_b "$IP_B" || fail "pings failed"
  stop_trace
  on_mirror="(pwru.ifname == \"$MIR_0\" || pwru.ifname == \"$MIR_1\") && icmp.type == 8"
  requests=$(fields "$WORK/plain.pcapng" -Y "pwru.ifname == \"$VETH_B\" && icmp.type == 8" -e pwru.skb)
  [ "$(count_lines "$requests")" -ge 3 ] || fail "the requests on $VETH_B are missing"
  clones=$(fields "$WORK/plain.pcapng" -Y "$on_mirror" -e pwru.ifname)
  assert_eq "mirrored clones without --filter-track-skb" "" "$clones"
  clones=$(fields "$WORK/tracked.pcapng" -Y "$on_mirror" -e icmp.seq | sort -u)
  cannot=$(grep -o "skb_clone (following clones)[^;]*" "$WORK/stderr")
  if [ -n "$cannot" ]; then
    # Neither fexit nor kprobes attach on this kernel (docs/filters.md): no clone is followed.
    assert_eq "mirrored clones when pwrudump says '$cannot'" "" "$clones"
    pass "clones not followed, as pwrudump says: $cannot"
  else
    assert_eq "pings whose mirrored clone was followed" 3 "$(count_lines "$clones")"
    pass "--filter-track-skb followed the clones that tc mirred made to $MIR_0"
  fi
  ;;
stackid)
  requests="icmp[icmptype] = icmp-echo and dst host $IP_B"
  start_trace "$WORK/plain.pcapng" "$requests"
  ping_b "$IP_B" || fail "pings failed"
  stop_trace
  start_trace "$WORK/stack.pcapng" --filter-track-skb-by-stackid "$requests"
  ping_b "$IP_B" || fail "pings failed"
  stop_trace
  replies=$(fields "$WORK/plain.pcapng" -Y "icmp.type == 0" -e pwru.func)
  assert_eq "echo replies without --filter-track-skb-by-stackid" "" "$replies"
  nostack=$(fields "$WORK/stack.pcapng" -Y "!pwru.stackid" -e pwru.func)
  assert_eq "events without pwru.stackid" "" "$nostack"
  # Every event of a request is its own (no kept-by); every reply is kept by stack id, on the
  # stack of an event of a request to B.
  kept=$(fields "$WORK/stack.pcapng" -Y "icmp.type == 8 && pwru.stackid.kept" -e pwru.func)
  assert_eq "echo request events kept by stack id" "" "$kept"
  stacks=$(fields "$WORK/stack.pcapng" -Y "icmp.type == 8 && pwru.ip.dst == $IP_B" -e pwru.stackid |
             sort -u)
  replies=$(fields "$WORK/stack.pcapng" -Y "icmp.type == 0" -e icmp.seq -e pwru.stackid \
              -e pwru.stackid.kept -e pwru.func)
  [ -n "$replies" ] || fail "no echo reply traced with --filter-track-skb-by-stackid"
  while read -r seq stack why func; do
    assert_eq "pwru.stackid.kept of reply $seq at $func" 1 "$why"
    grep -qx "$stack" <<<"$stacks" ||
      fail "reply $seq at $func: stack $stack is no echo request's (those: $(tr '\n' ' ' <<<"$stacks"))"
  done <<<"$replies"
  seqs=$(cut -d' ' -f1 <<<"$replies" | sort -u | grep -c .)
  assert_eq "pings whose reply was traced by stack id" 3 "$seqs"
  pass "--filter-track-skb-by-stackid: the replies made on the requests' stacks were traced" \
       "($(count_lines "$replies") events, kept by stack id), none without it"
  ;;
nonskb)
  "$PWRUDUMP" -q --backend tracepoint --filter-non-skb-funcs fib_table_lookup -w "$WORK/x.pcapng" \
    icmp >"$WORK/stdout" 2>"$WORK/stderr"
  assert_eq "exit code of --filter-non-skb-funcs with --backend tracepoint" 2 "$?"
  assert_eq "stderr" "pwrudump: cannot probe --filter-non-skb-funcs with the tracepoint backend: it probes tracepoints, not functions
hint: pass --backend kprobe-multi, kprobe or fentry, or leave out --filter-non-skb-funcs (--filter-track-skb-by-stackid works with every backend)" \
    "$(cat "$WORK/stderr")"
  "$PWRUDUMP" -q --filter-non-skb-funcs fib_table_lookup -w "$WORK/x.pcapng" --ready-file \
    "$WORK/ready" icmp >"$WORK/stdout" 2>"$WORK/stderr" &
  pid=$!
  # Ready, or gone: where auto finds no function backend it exits before attaching.
  for _ in $(seq 600); do
    { [ -e "$WORK/ready" ] || ! kill -0 "$pid" 2>/dev/null; } && break
    sleep 0.1
  done
  [ -e "$WORK/ready" ] && kill -INT "$pid"
  wait "$pid"
  rc=$?
  if [ -e "$WORK/ready" ]; then
    assert_eq "exit code of --filter-non-skb-funcs with a function backend, after SIGINT" 0 "$rc"
    pass "--filter-non-skb-funcs: a usage error with --backend tracepoint; auto attached a function backend"
  else
    assert_eq "exit code of --filter-non-skb-funcs where auto finds no function backend" 5 "$rc"
    grep -q "^pwrudump: cannot probe --filter-non-skb-funcs with the [a-z]* backend: auto chose it" \
      "$WORK/stderr" || fail "no reason given: $(cat "$WORK/stderr")"
    pass "--filter-non-skb-funcs: a usage error with --backend tracepoint, exit 5 where auto" \
         "chose the $(grep -o 'with the [a-z]* backend' "$WORK/stderr" | cut -d' ' -f3) backend"
  fi
  ;;
*)
  fail "unknown mode $mode"
  ;;
esac
