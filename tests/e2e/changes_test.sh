#!/usr/bin/env bash
# What changed at each hop (pwru_changes.h), on the running kernel, in namespaces of the test's
# own, each skb followed with --filter-track-skb:
#   nat:   A connects to $VIP:80 through router R, whose nat table DNATs it to B:8080 and SNATs
#          it to R's address on B's side. JSON: the SYN's journey has one DNAT "$VIP:80 ->
#          $IP_B:8080" and one SNAT "$IP_A:port -> $IP_RB:port" (one hop or two, as the
#          backend sees it), no other NAT; the pcapng's pwru.changed.dnat and .snat say the same
#          (tshark).
#   mark:  R's mangle table marks forwarded pings 0x2a. Text with --output-changes: CHANGED in
#          the header, a line in R with "mark 0x0 -> 0x2a" per request, and the crossing to B's
#          namespace clears it again ("mark 0x2a -> 0x0").
#   veth:  pings from A to B over a veth pair. JSON: the first event in B says netns A -> B and
#          interface A's veth -> B's; tshark's pwru.changed.netns and .iface the same.
#   vxlan: pings over a VXLAN tunnel (VNI 42) between A and B. JSON: each echo request's
#          journey pushes the tunnel header in A ("encap") and pops it in B ("decap"), with the
#          underlay's addresses, and no NAT; tshark's pwru.changed.encap and .decap the same.
# usage: changes_test.sh MODE PWRUDUMP BUILD_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib/common.sh
. "$here/../lib/common.sh"
mode=$1 PWRUDUMP=$2 BUILD=$3

require_root
require_cmd ip iptables ping python3 tshark setpriv timeout

# json_check FILE PYTHON: runs PYTHON with `events` (FILE's JSON lines) and `journey(n)` (the
# events of journey n) defined; an assertion failure fails the test.
json_check() {
  local file=$1
  shift
  python3 - "$file" <<EOF || fail "JSON checks failed ($file)"
import json, os, sys
events = [json.loads(line) for line in open(sys.argv[1], encoding="utf-8")]
assert events, "no JSON lines"
def journey(n):
    return [e for e in events if e["journey"] == n]
def changed(evs, kind):
    return [e["changed"][kind] for e in evs if kind in e.get("changed", {})]
$*
EOF
}

case "$mode" in
nat)
  router_hosts
  ip netns exec "$NS_R" iptables -t nat -A PREROUTING -d "$VIP" -p tcp --dport 80 \
    -j DNAT --to-destination "$IP_B:8080" || fail "cannot add the DNAT rule"
  ip netns exec "$NS_R" iptables -t nat -A POSTROUTING -o "$VETH_RB" -j SNAT --to-source "$IP_RB" ||
    fail "cannot add the SNAT rule"
  start_trace "$WORK/nat.pcapng" --output-json --output-file "$WORK/out" --filter-track-skb \
    "tcp and dst host $VIP and dst port 80"
  # Nothing listens on B:8080: B answers the SYN with a reset, which is all the test needs.
  ip netns exec "$NS_A" timeout 5 bash -c "exec 3<>/dev/tcp/$VIP/80" 2>/dev/null
  stop_trace
  json_check "$WORK/out" "
# The SYN TCP sent; TCP keeps a copy of it, freed on its own (another journey).
sent = [n for n in sorted({e['journey'] for e in events})
        if any(e['tuple'] and e['tuple']['daddr'] == '$IP_B' for e in journey(n))]
assert len(sent) == 1, f'expected one SYN followed to B: {events}'
syn = journey(sent[0])
assert changed(syn, 'dnat') == ['$VIP:80 -> $IP_B:8080'], changed(syn, 'dnat')
snat = changed(syn, 'snat')
assert len(snat) == 1 and snat[0].startswith('$IP_A:') and ' -> $IP_RB:' in snat[0], snat
print('SYN journey:', len(syn), 'events, dnat and snat once each')
"
  out=$(fields "$WORK/nat.pcapng" -Y 'pwru.changed.dnat || pwru.changed.snat' -E separator='|' \
          -e pwru.changed.dnat -e pwru.changed.snat | tr '|' '\n' | grep . | LC_ALL=C sort)
  want=$(python3 -c "
import json
for l in open('$WORK/out'):
    e = json.loads(l)
    for k in ('dnat', 'snat'):
        if k in e.get('changed', {}): print(e['changed'][k])" | LC_ALL=C sort)
  assert_eq "pwru.changed.dnat and .snat in Wireshark, as in the JSON" "$want" "$out"
  pass "DNAT $VIP:80 -> $IP_B:8080 and SNAT to $IP_RB named once each, in JSON and in Wireshark"
  ;;
mark)
  router_hosts
  ip netns exec "$NS_R" iptables -t mangle -A PREROUTING -p icmp -d "$IP_B" \
    -j MARK --set-mark 0x2a || fail "cannot add the MARK rule"
  start_trace "$WORK/mark.pcapng" --output-changes --output-file "$WORK/out" \
    "icmp and dst host $IP_B"
  ip netns exec "$NS_A" ping -c 3 -i 0.2 -W 1 "$IP_B" >/dev/null || fail "pings through R failed"
  stop_trace
  head -1 "$WORK/out" | grep -q ' FUNC CHANGED$' ||
    fail "no CHANGED in the header: $(head -1 "$WORK/out")"
  # In R (the first event after the rule: on R's way out with tracepoints, still on the way in
  # with a function backend); cleared where the skb leaves R's namespace for B's.
  set_mark=$(grep -cE " ($VETH_RA|$VETH_RB):[0-9]+ .* mark 0x0 -> 0x2a" "$WORK/out")
  cleared=$(grep -cE " ($VETH_RB|$VETH_B):[0-9]+ .* mark 0x2a -> 0x0" "$WORK/out")
  assert_eq "requests marked in R (CHANGED has mark 0x0 -> 0x2a)" 3 "$set_mark"
  assert_eq "requests whose mark the crossing from R to B cleared" 3 "$cleared"
  pass "--output-changes: the mark R set and the one the crossing to B cleared, on 3 requests"
  ;;
veth)
  e2e_hosts
  start_trace "$WORK/veth.pcapng" --output-json --output-file "$WORK/out" "icmp and dst host $IP_B"
  ip netns exec "$NS_A" ping -c 3 -i 0.2 -W 1 "$IP_B" >/dev/null || fail "pings failed"
  stop_trace
  json_check "$WORK/out" "
crossings = 0
for n in sorted({e['journey'] for e in events}):
    evs = journey(n)
    first_b = next((e for e in evs if e['netns'] == $NETNS_B_INODE), None)
    if first_b is None or not any(e['netns'] == $NETNS_A_INODE for e in evs):
        continue
    c = first_b.get('changed', {})
    assert c.get('netns') == '$NETNS_A_INODE -> $NETNS_B_INODE', first_b
    assert c.get('iface', '').startswith('$VETH_A:') and ' -> $VETH_B:' in c['iface'], first_b
    crossings += 1
assert crossings >= 3, f'{crossings} requests seen crossing from A to B'
"
  out=$(fields "$WORK/veth.pcapng" -Y "pwru.changed.netns && icmp.type == 8" -E separator='|' \
          -e pwru.changed -e pwru.changed.netns -e pwru.changed.iface |
          sed 's/:[0-9]*\b//g' | LC_ALL=C sort -u)
  assert_eq "pwru.changed, .netns and .iface of the crossing requests (tshark)" \
    "netns,iface|$NETNS_A_INODE -> $NETNS_B_INODE|$VETH_A -> $VETH_B" "$out"
  pass "the veth crossing: netns and interface changed, in JSON and in Wireshark"
  ;;
vxlan)
  vxlan_hosts
  start_trace "$WORK/vxlan.pcapng" --output-json --output-file "$WORK/out" --filter-track-skb \
    "icmp and dst host $IN_B"
  ip netns exec "$NS_A" ping -c 3 -i 0.2 -W 1 "$IN_B" >/dev/null || fail "pings over VXLAN failed"
  stop_trace
  tunnel="vxlan $IP_A->$IP_B vni 42"
  json_check "$WORK/out" "
requests = 0
for n in sorted({e['journey'] for e in events}):
    evs = journey(n)
    # An echo request that reached B (ping's own copy of the first one, held while ARP resolved
    # B's address, is freed in A).
    if not any(e['netns'] == $NETNS_B_INODE for e in evs):
        continue
    assert changed(evs, 'encap') == ['$tunnel'], evs
    assert changed(evs, 'decap') == ['$tunnel'], evs
    assert not changed(evs, 'dnat') and not changed(evs, 'snat'), evs
    requests += 1
assert requests >= 3, f'{requests} echo requests with their tunnel'
"
  out=$(fields "$WORK/vxlan.pcapng" -Y 'pwru.changed.encap || pwru.changed.decap' -E separator='|' \
          -e pwru.changed.encap -e pwru.changed.decap | LC_ALL=C sort | uniq -c | sed 's/^ *//')
  assert_eq "pwru.changed.encap and .decap in Wireshark (count encap|decap)" \
    "3 $tunnel|
3 |$tunnel" "$out"
  out=$(fields "$WORK/vxlan.pcapng" -Y 'pwru.changed.dnat || pwru.changed.snat' -e frame.number)
  assert_eq "frames with a NAT in the tunnelled capture" "" "$out"
  pass "VXLAN: the tunnel header pushed in A and popped in B, never a NAT, in JSON and Wireshark"
  ;;
*)
  fail "unknown mode $mode"
  ;;
esac
