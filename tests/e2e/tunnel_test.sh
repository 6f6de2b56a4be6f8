#!/usr/bin/env bash
# Tunnels (--output-tunnel), on the running kernel: A pings B over a VXLAN tunnel (VNI 42) between
# namespaces of the test's own, and B's iptables drops the inner ICMP. Geneve has no e2e test:
# this host has no geneve module: the geneve mode sends hand-made Geneve datagrams instead.
#   output: text with --output-tunnel: TUNNEL in the header, the inner tuple $IN_A->$IN_B(icmp)
#           on every event whose bytes hold the outer header ($IP_A->$IP_B:4789(udp)), `:0->:0()`
#           on the others. JSON with --filter-track-skb: each echo request's journey carries
#           tunnel_tuple in A and in B, goes on after the decapsulation, and ends in the drop;
#           Wireshark dissects the inner packet of the pcapng (vxlan, then the inner ip).
#   filter: two inner flows in the same tunnel, pings to $IN_B (dropped) and to $IN_B2 (a second
#           address of B's VXLAN device, answered). --filter-tunnel-pcap-l3 "icmp and dst host
#           $IN_B" with the capture filter "udp port 4789" shows only the first flow's tunnelled
#           requests; --filter-tunnel-pcap-l2 does the same on the inner frame; with
#           --filter-track-skb, the first flow's journeys go on after the decapsulation to the
#           drop, and no event of the second flow is shown.
#   geneve: without a geneve module, A sends Geneve datagrams of its own making (UDP to port
#           6081, 8 bytes of options, an inner Ethernet frame with ICMP) to B, for two inner
#           destinations; B has no tunnel and drops them. --filter-tunnel-pcap-l3 picks one inner
#           destination; TUNNEL shows its tuple; Wireshark dissects geneve and the inner ip.
# usage: tunnel_test.sh MODE PWRUDUMP BUILD_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib/common.sh
. "$here/../lib/common.sh"
mode=$1 PWRUDUMP=$2 BUILD=$3

require_root
require_cmd ip iptables ping python3 tshark setpriv timeout

# vxlan_drop: the tunnel, and B's rule that drops the inner echo requests.
vxlan_drop() {
  vxlan_hosts
  ip netns exec "$NS_B" iptables -A INPUT -p icmp -d "$IN_B" -j DROP ||
    fail "cannot add the DROP rule"
}

# pings N: N echo requests from A to B through the tunnel; B drops them all.
pings() {
  ip netns exec "$NS_A" ping -c "$1" -i 0.2 -W 1 "$IN_B" >/dev/null && fail "a ping got through"
}

case "$mode" in
output)
  vxlan_drop
  start_trace "$WORK/text.pcapng" --output-tunnel --output-file "$WORK/text" --filter-track-skb \
    "icmp and dst host $IN_B"
  pings 3
  stop_trace
  head -1 "$WORK/text" | grep -q ' FUNC TUNNEL$' ||
    fail "no TUNNEL after FUNC in the header: $(head -1 "$WORK/text")"
  outer=" $IP_A:[0-9]+->$IP_B:4789\\(udp\\) "
  inner=" $IN_A:0->$IN_B:0\\(icmp\\)$"
  n_outer=$(grep -cE "$outer" "$WORK/text")
  [ "$n_outer" -ge 6 ] || fail "$n_outer events with the outer header (want 2 or more a request)"
  assert_eq "events with the outer header and the inner tuple in TUNNEL" "$n_outer" \
    "$(grep -E "$outer" "$WORK/text" | grep -cE "$inner")"
  assert_eq "events without the outer header whose TUNNEL is not :0->:0()" 0 \
    "$(tail -n +2 "$WORK/text" | grep -E '^0x' | grep -vE "$outer" | grep -cvE ' :0->:0\(\)$')"
  out=$(fields "$WORK/text.pcapng" -Y "vxlan.vni == 42 && icmp.type == 8" -E separator='|' \
          -e ip.dst | LC_ALL=C sort -u)
  assert_eq "ip.dst of the VXLAN frames in Wireshark: outer, then the dissected inner packet's" \
    "$IP_B,$IN_B" "$out"

  start_trace "$WORK/json.pcapng" --output-tunnel --output-json --output-file "$WORK/json" \
    --filter-track-skb "icmp and dst host $IN_B"
  pings 3
  stop_trace
  python3 - "$WORK/json" <<PY || fail "JSON checks failed ($WORK/json)"
import json, sys
events = [json.loads(line) for line in open(sys.argv[1], encoding="utf-8")]
inner = {"saddr": "$IN_A", "daddr": "$IN_B", "sport": 0, "dport": 0, "proto": 1}
drops = 0
for n in sorted({e["journey"] for e in events}):
    evs = [e for e in events if e["journey"] == n]
    if not any(e["drop_reason"] == "NETFILTER_DROP" for e in evs):
        continue
    drops += 1
    tunnelled = [e for e in evs if e["tuple"] and e["tuple"]["dport"] == 4789]
    assert tunnelled and all(e["tunnel_tuple"] == inner for e in tunnelled), evs
    assert {e["netns"] for e in tunnelled} == {$NETNS_A_INODE, $NETNS_B_INODE}, evs
    after = evs[evs.index(tunnelled[-1]) + 1:]
    assert after and all(e["tunnel_tuple"] is None and e["netns"] == $NETNS_B_INODE
                         and e["tuple"]["daddr"] == "$IN_B" for e in after), after
    assert after[-1]["drop_reason"] == "NETFILTER_DROP", after[-1]
    assert after[-1]["iface"].startswith("$VX_B:"), after[-1]
assert drops >= 3, f"{drops} journeys ended in the drop"
print(drops, "journeys: tunnel_tuple in A and B, decapsulated in B, dropped on $VX_B")
PY
  pass "--output-tunnel: the inner tuple in text, JSON and Wireshark; the journey crosses the decap"
  ;;
filter)
  vxlan_drop
  IN_B2="${IN_B%.*}.3"
  ip -n "$NS_B" addr add "$IN_B2/24" dev "$VX_B" || fail "cannot add $IN_B2"
  # The two flows: requests to $IN_B, dropped, then to $IN_B2, answered.
  both_flows() {
    pings 3
    ip netns exec "$NS_A" ping -c 3 -i 0.2 -W 1 "$IN_B2" >/dev/null || fail "pings to $IN_B2 failed"
  }
  for layer in l3 l2; do
    start_trace "$WORK/$layer.pcapng" --output-tunnel --output-file "$WORK/$layer" \
      "--filter-tunnel-pcap-$layer" "icmp and dst host $IN_B" "udp port 4789"
    both_flows
    stop_trace
    events=$(tail -n +2 "$WORK/$layer" | grep -E '^0x')
    n=$(count_lines "$events")
    [ "$n" -ge 6 ] || fail "--filter-tunnel-pcap-$layer: $n events (want 2 or more a request)"
    assert_eq "--filter-tunnel-pcap-$layer: events whose TUNNEL is not $IN_A->$IN_B(icmp)" 0 \
      "$(grep -cvE " $IN_A:0->$IN_B:0\(icmp\)$" <<<"$events")"
  done
  start_trace "$WORK/track.pcapng" --output-tunnel --output-json --output-file "$WORK/track" \
    --filter-track-skb --filter-tunnel-pcap-l3 "icmp and dst host $IN_B" "udp port 4789"
  both_flows
  stop_trace
  python3 - "$WORK/track" <<PY || fail "JSON checks failed ($WORK/track)"
import json, sys
events = [json.loads(line) for line in open(sys.argv[1], encoding="utf-8")]
assert not [e for e in events if "$IN_B2" in json.dumps(e)], "the second flow was shown"
drops = [e for e in events if e["drop_reason"] == "NETFILTER_DROP"]
assert len(drops) >= 3, f"{len(drops)} drops"
for d in drops:
    evs = [e for e in events if e["journey"] == d["journey"]]
    assert evs[0]["tunnel_tuple"]["daddr"] == "$IN_B", evs[0]
    assert d["tuple"]["daddr"] == "$IN_B" and d["iface"].startswith("$VX_B:"), d
print(len(drops), "journeys from the tunnel to the drop; none of the other flow")
PY
  pass "--filter-tunnel-pcap-l3 and -l2: exactly the inner flow, followed across the decap"
  ;;
geneve)
  e2e_hosts
  id=$(( $$ % 200 + 20 ))
  GN_A="192.168.$id.1" GN_B="192.168.$id.2" GN_C="192.168.$id.3"
  start_trace "$WORK/geneve.pcapng" --output-tunnel --output-file "$WORK/geneve" \
    --filter-tunnel-pcap-l3 "icmp and dst host $GN_B" "udp port 6081"
  ip netns exec "$NS_A" python3 - "$IP_B" "$GN_A" "$GN_B" "$GN_C" <<'PY' ||
import socket, struct, sys, time
dst, src, *inner_dsts = sys.argv[1:]
def datagram(inner_dst):
    icmp = bytes([8, 0, 0, 0, 0, 1, 0, 1])
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(icmp), 0, 0, 64, 1, 0,
                     socket.inet_aton(src), socket.inet_aton(inner_dst))
    eth = bytes([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00])
    # version 0, 2 words of options; protocol 0x6558 (Ethernet); VNI 7; one option
    geneve = bytes([2, 0, 0x65, 0x58, 0, 0, 7, 0]) + bytes([1, 2, 3, 1, 0, 0, 0, 0])
    return geneve + eth + ip + icmp
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(3):
    for inner_dst in inner_dsts:
        s.sendto(datagram(inner_dst), (dst, 6081))
    time.sleep(0.2)
PY
    fail "cannot send the Geneve datagrams"
  stop_trace
  events=$(tail -n +2 "$WORK/geneve" | grep -E '^0x')
  n=$(count_lines "$events")
  [ "$n" -ge 6 ] || fail "$n events of Geneve datagrams to $GN_B (want 2 or more a datagram)"
  assert_eq "events whose TUNNEL is not $GN_A->$GN_B(icmp)" 0 \
    "$(grep -cvE " $IP_A:[0-9]+->$IP_B:6081\(udp\) .* $GN_A:0->$GN_B:0\(icmp\)$" <<<"$events")"
  out=$(fields "$WORK/geneve.pcapng" -Y "geneve.vni == 7" -E separator='|' -e ip.dst |
          LC_ALL=C sort -u)
  assert_eq "ip.dst of the Geneve frames in Wireshark: outer, then the dissected inner packet's" \
    "$IP_B,$GN_B" "$out"
  pass "Geneve: the inner filter picks one inner destination, TUNNEL and Wireshark show it"
  ;;
*)
  fail "unknown mode $mode"
  ;;
esac
