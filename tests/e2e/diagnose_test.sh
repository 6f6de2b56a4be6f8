#!/usr/bin/env bash
# --diagnose on the running kernel: each mode builds the situation between two namespaces of the
# test's own (A sends, B receives or forwards) and checks the words pwrudump records with the
# drop, in the text output's "diagnosis:" line:
#   nosocket:   a TCP SYN to B:4444, where a socket listens on 127.0.0.1:4444 only, and a UDP
#               datagram to B:4445: "nothing listens on IP_B:4444/tcp in netns NS_B (port 4444
#               is bound to 127.0.0.1 only)", "nothing listens on IP_B:4445/udp in netns NS_B";
#               tshark reads the same words from the pcapng written alongside, as pwru.diag.text
#               of kind 1 (no_listener) under the expert info pwru.diag.no_listener; JSON lines
#               carry them as "diagnosis".
#   off:        the same SYN with --diagnose=false: no diagnosis anywhere.
#   noroute:    B forwards, has no route to 10.99.0.1, and A routes it through B: the lookup
#               that failed, `ip route get 10.99.0.1 from IP_A iif VETH_B`, and its error.
#   forwarding: A routes 10.98.0.1 through B, whose forwarding is off: it says so, with the
#               sysctls (net.ipv4.conf.VETH_B.forwarding=0).
#   forwarding6: the same in IPv6, which drops it as IP_INNOROUTES: forwarding off is the finding
#               (net.ipv6.conf.all.forwarding=0).
#   rpfilter:   B's rp_filter is 1 and its route back to A's 10.97.0.1 goes out another
#               interface: rp_filter's values, and where the route back goes.
#   mtu:        B forwards to a device of MTU 1280 a 1428-byte ping that may not be fragmented:
#               the length and the MTU.
#   neigh:      A pings an address of its subnet that nobody has: the neighbour entry is
#               FAILED, nothing answered ARP.
#   flood:      5000 UDP datagrams to 5000 closed ports of B: no event is lost, and at most 50
#               drops a second get a diagnosis.
#   unprivileged: pwrudump without CAP_SYS_ADMIN traces two NO_SOCKET drops in B but may not
#               enter B: no diagnosis, and one note (with its hint) on stderr says so.
#   ctinvalid:  B drops what conntrack finds invalid (`ct state invalid drop`) and takes no TCP
#               connection up in its middle (nf_conntrack_tcp_loose=0); A sends a bare ACK. With
#               --nf-trace naming the rule, the diagnosis gives B's conntrack sysctls.
# usage: diagnose_test.sh MODE PWRUDUMP BUILD_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib/common.sh
. "$here/../lib/common.sh"
# shellcheck disable=SC2034  # PWRUDUMP and BUILD: for common.sh
mode=$1 PWRUDUMP=$2 BUILD=$3

require_root
require_cmd ip ping python3 timeout
[ "$mode" = nosocket ] && require_cmd tshark setpriv
[ "$mode" = ctinvalid ] && require_cmd nft
[ "$mode" = unprivileged ] && require_cmd setpriv
e2e_hosts

# trace FILTER ACTION...: pwrudump (text in $WORK/out, pcapng in $WORK/trace.pcapng) while
# ACTION runs; pwrudump's extra arguments in TRACE_ARGS.
trace() {
  local filter=$1
  shift
  start_trace "$WORK/trace.pcapng" --backend tracepoint --output-file "$WORK/out" \
    ${TRACE_ARGS[@]+"${TRACE_ARGS[@]}"} "$filter"
  "$@"
  stop_trace
  [ -s "$WORK/out" ] || fail "pwrudump printed nothing: $(cat "$WORK/stderr")"
}

# expect_diagnosis WORDS: a diagnosis line says exactly WORDS.
expect_diagnosis() {
  grep -qxF "  diagnosis: $1" "$WORK/out" \
    || fail "no diagnosis '$1'; the drops and diagnoses were:
$(grep -A2 'kfree_skb' "$WORK/out")"
}

in_a() { ip netns exec "$NS_A" "$@"; }
in_b() { ip netns exec "$NS_B" "$@"; }

# A routes PREFIX through B.
route_through_b() { ip -n "$NS_A" route add "$1" via "$IP_B" || fail "cannot add the route"; }

# B's second way out, pwx (a veth pair inside B, MTU $2), where it routes PREFIX $1.
second_way_out() {
  { ip -n "$NS_B" link add pwx mtu "$2" type veth peer name pwy mtu "$2" \
      && ip -n "$NS_B" link set pwx up && ip -n "$NS_B" link set pwy up \
      && ip -n "$NS_B" route add "$1" dev pwx; } || fail "cannot make B's second way out"
}

quiet_ping() { in_a ping -c 1 -W 1 "$@" >/dev/null; }

case "$mode" in
nosocket | off)
  # A listener on B's loopback only: the SYN to B's veth address finds nothing.
  ip netns exec "$NS_B" python3 -c 'import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 4444)); s.listen(); time.sleep(60)' &
  LISTENER=$!  # python3 itself: ip netns exec execs it
  sleep 0.3
  send() {
    in_a timeout 2 bash -c "echo > /dev/tcp/$IP_B/4444" 2>/dev/null
    in_a bash -c "echo x > /dev/udp/$IP_B/4445"
    sleep 0.3
  }
  [ "$mode" = off ] && TRACE_ARGS=(--diagnose=false)
  trace "host $IP_B and (tcp port 4444 or udp port 4445)" send
  kill "$LISTENER" 2>/dev/null
  grep -q 'NO_SOCKET' "$WORK/out" || fail "no NO_SOCKET drop traced: $(cat "$WORK/out")"
  if [ "$mode" = off ]; then
    ! grep -q 'diagnosis' "$WORK/out" || fail "--diagnose=false still diagnosed: $(grep diagnosis "$WORK/out")"
    [ -z "$(fields "$WORK/trace.pcapng" -Y pwru.diag -e pwru.diag.kind)" ] \
      || fail "--diagnose=false still recorded a diagnosis in the pcapng"
    pass "--diagnose=false: NO_SOCKET drops without a diagnosis"
    exit 0
  fi
  tcp="nothing listens on $IP_B:4444/tcp in netns $NS_B (port 4444 is bound to 127.0.0.1 only)"
  udp="nothing listens on $IP_B:4445/udp in netns $NS_B"
  expect_diagnosis "$tcp"
  expect_diagnosis "$udp"
  # The capture explains itself elsewhere: the words, the kind and the expert info.
  got=$(fields "$WORK/trace.pcapng" -Y 'pwru.diag.no_listener' -E 'separator=|' \
          -e pwru.diag.kind -e pwru.diag.text | sort -u)
  assert_eq "pwru.diag.kind/pwru.diag.text under the expert info pwru.diag.no_listener" \
    "1|$tcp
1|$udp" "$got"
  # JSON: the same finding with its kind's name.
  TRACE_ARGS=(--output-json)
  trace "host $IP_B and udp port 4445" send
  python3 - "$WORK/out" "$udp" <<'EOF' || fail "JSON has no diagnosis: $(cat "$WORK/out")"
import json, sys
found = [json.loads(l)["diagnosis"] for l in open(sys.argv[1]) if '"diagnosis"' in l]
assert found and all(d == {"kind": "no_listener", "text": sys.argv[2]} for d in found), found
EOF
  pass "NO_SOCKET: nothing listens on B's TCP and UDP ports, in text, JSON and Wireshark"
  ;;
noroute)
  in_b sysctl -qw net.ipv4.ip_forward=1
  route_through_b 10.99.0.0/24
  trace "host 10.99.0.1" quiet_ping 10.99.0.1
  expect_diagnosis "no route to 10.99.0.1 in netns $NS_B: \`ip route get 10.99.0.1 from $IP_A iif $VETH_B\` fails: Network is unreachable"
  pass "IP_INNOROUTES: the input route lookup that failed in B"
  ;;
forwarding)
  in_b sysctl -qw net.ipv4.ip_forward=0
  route_through_b 10.98.0.0/24
  trace "host 10.98.0.1" quiet_ping 10.98.0.1
  expect_diagnosis "10.98.0.1 is not an address of netns $NS_B, so the packet needed forwarding, but forwarding is off for $VETH_B (net.ipv4.conf.$VETH_B.forwarding=0, net.ipv4.conf.all.forwarding=0)"
  pass "forwarding off in B: said with its sysctls"
  ;;
forwarding6)
  { ip -n "$NS_A" addr add fd77::1/64 dev "$VETH_A" nodad \
      && ip -n "$NS_B" addr add fd77::2/64 dev "$VETH_B" nodad \
      && ip -n "$NS_A" route add fd99::/64 via fd77::2; } || fail "cannot set up IPv6"
  in_b sysctl -qw net.ipv6.conf.all.forwarding=0
  sleep 1  # the link-local addresses the route's neighbour discovery needs
  trace "host fd99::1" quiet_ping -6 fd99::1
  expect_diagnosis "fd99::1 is not an address of netns $NS_B, so the packet needed forwarding, but forwarding is off for $VETH_B (net.ipv6.conf.$VETH_B.forwarding=0, net.ipv6.conf.all.forwarding=0)"
  pass "IPv6 forwarding off in B (dropped as no route): said with its sysctls"
  ;;
rpfilter)
  # A sends from 10.97.0.1; B's route back to it goes out its second way.
  ip -n "$NS_A" addr add 10.97.0.1/32 dev lo
  second_way_out 10.97.0.0/24 1500
  in_b sysctl -qw net.ipv4.conf.all.rp_filter=0 "net.ipv4.conf.$VETH_B.rp_filter=1"
  # B would not answer ARP from that source either: A knows B's address already.
  mac=$(ip -n "$NS_B" -o link show "$VETH_B" | grep -o 'link/ether [0-9a-f:]*' | cut -d' ' -f2)
  ip -n "$NS_A" neigh replace "$IP_B" lladdr "$mac" dev "$VETH_A" nud permanent \
    || fail "cannot add B's neighbour entry to A"
  trace "host 10.97.0.1" quiet_ping -I 10.97.0.1 "$IP_B"
  expect_diagnosis "rp_filter is 1 (strict) for $VETH_B in netns $NS_B (net.ipv4.conf.$VETH_B.rp_filter=1, net.ipv4.conf.all.rp_filter=0: the higher counts), and the route back to 10.97.0.1 goes out pwx, not $VETH_B"
  pass "IP_RPFILTER: rp_filter's values and the route back"
  ;;
mtu)
  in_b sysctl -qw net.ipv4.ip_forward=1
  second_way_out 10.96.0.0/24 1280
  route_through_b 10.96.0.0/24
  trace "host 10.96.0.1" quiet_ping -M "do" -s 1400 10.96.0.1
  expect_diagnosis "the packet is 1428 bytes, and the MTU towards 10.96.0.1 is 1280 (dev pwx's) in netns $NS_B"
  pass "PKT_TOO_BIG: the length and the MTU of the way out"
  ;;
neigh)
  nobody=${IP_A%.1}.9
  # Three unanswered ARP probes a second apart, then the entry fails and drops what waited.
  trace "host $nobody" bash -c "ip netns exec $NS_A ping -c 1 -W 1 $nobody >/dev/null; sleep 4"
  expect_diagnosis "$nobody on $VETH_A is FAILED in netns $NS_A: nothing answered ARP (ip neigh show $nobody dev $VETH_A)"
  pass "NEIGH_FAILED: the neighbour entry and what was asked"
  ;;
ctinvalid)
  in_b nft -f - <<'EOF' || fail "cannot add B's rule"
add table inet pwdiag
add chain inet pwdiag in { type filter hook input priority 0; }
add rule inet pwdiag in ct state invalid drop
EOF
  in_b sysctl -qw net.netfilter.nf_conntrack_tcp_loose=0 || fail "no conntrack sysctls in B"
  # A bare ACK, as a raw socket sends it: no connection conntrack saw the start of.
  ack() {
    in_a python3 - "$IP_A" "$IP_B" <<'PY'
import socket, struct, sys
src, dst = sys.argv[1], sys.argv[2]
tcp = struct.pack("!HHIIBBHHH", 40000, 4444, 1000, 2000, 5 << 4, 0x10, 65535, 0, 0)
data = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 6, len(tcp)) + tcp
total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
while total >> 16:
    total = (total & 0xffff) + (total >> 16)
tcp = tcp[:16] + struct.pack("!H", ~total & 0xffff) + tcp[18:]
socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP).sendto(tcp, (dst, 0))
PY
    sleep 0.3
  }
  TRACE_ARGS=(--nf-trace --filter-netns "/run/netns/$NS_B")
  trace "tcp port 4444" ack
  expect_diagnosis "the rule drops what conntrack finds invalid; netns $NS_B has net.netfilter.nf_conntrack_tcp_be_liberal=0, nf_conntrack_tcp_loose=0, nf_conntrack_checksum=1 (be_liberal=0: TCP outside the window is invalid; loose=0: so is the middle of a connection conntrack never saw; checksum=1: so is a bad checksum)"
  pass "a rule dropping conntrack's invalid packets: B's conntrack sysctls"
  ;;
unprivileged)
  # Root without CAP_SYS_ADMIN: enough to trace, not to enter B. Not quiet: notes show.
  printf '#!/bin/sh\nexec setpriv --bounding-set=-sys_admin --inh-caps=-sys_admin %q "$@"\n' \
    "$(readlink -f "$PWRUDUMP")" >"$WORK/pwrudump"
  chmod 755 "$WORK/pwrudump"
  PWRUDUMP=$WORK/pwrudump TRACE_LOUD=1 trace "host $IP_B and udp port 4445" \
    in_a bash -c "echo x > /dev/udp/$IP_B/4445; echo y > /dev/udp/$IP_B/4445; sleep 0.3"
  [ "$(grep -c 'NO_SOCKET' "$WORK/out")" -eq 2 ] || fail "not two NO_SOCKET drops: $(cat "$WORK/out")"
  ! grep -q 'diagnosis' "$WORK/out" || fail "B was diagnosed without CAP_SYS_ADMIN: $(cat "$WORK/out")"
  note="note: --diagnose: drops in network namespaces other than pwrudump's are not diagnosed: cannot enter /run/netns/$NS_B: Operation not permitted"
  assert_eq "the note, once" 1 "$(grep -cxF "$note" "$WORK/stderr")"
  grep -qxF "hint: run pwrudump as root, or grant it CAP_SYS_ADMIN (and CAP_SYS_PTRACE)" \
    "$WORK/stderr" || fail "no hint after the note: $(cat "$WORK/stderr")"
  pass "without CAP_SYS_ADMIN: B's drops undiagnosed, one note on stderr says why"
  ;;
flood)
  # 5000 datagrams to 5000 closed ports: as many findings to make, more than pwrudump gives.
  flood() {
    in_a python3 - "$IP_B" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for port in range(20000, 25000):
    s.sendto(b"x", (sys.argv[1], port))
PY
    sleep 0.5
  }
  started=$SECONDS
  TRACE_LOUD=1 trace "udp and dst host $IP_B and dst portrange 20000-24999" flood
  elapsed=$((SECONDS - started + 1))
  drops=$(grep -c 'NO_SOCKET' "$WORK/out")
  found=$(grep -c '^  diagnosis: nothing listens on' "$WORK/out")
  grep -qE '^[0-9]+ events, 0 lost$' "$WORK/stderr" || fail "events lost: $(cat "$WORK/stderr")"
  [ "$drops" -ge 1000 ] || fail "only $drops NO_SOCKET drops traced"
  if [ "$found" -lt 1 ] || [ "$found" -gt $((50 * elapsed)) ]; then
    fail "$found diagnoses of $drops drops in ${elapsed}s: at most 50 a second expected"
  fi
  pass "a flood of $drops NO_SOCKET drops: none lost, $found diagnosed in ${elapsed}s"
  ;;
*)
  fail "unknown mode $mode"
  ;;
esac
