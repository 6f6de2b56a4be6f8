#!/usr/bin/env bash
# skb fields by expression, on the running kernel (tracepoint backend here): A pings B over the
# veth pair of netns_pair; A's iptables marks its echo requests 0x2a (mangle OUTPUT MARK).
#   meta:    --output-skb-metadata skb->dev->ifindex,skb->len,skb->mark,skb->dev->name: on every
#            event with a device the values equal the event's own ifindex, len, mark and device
#            name (JSON skb_meta); text ends with `ifindex=N len=N mark=N name=X`; without a
#            device skb->dev->ifindex is null; Wireshark has pwru.meta.name/value.
#   filter:  --filter-skb-expr "skb->len > 1000" with pings of 1400 and 100 bytes shows only the
#            long ones; "skb->mark & 0xff == 0x2a" only A's marked requests; with the pcap filter
#            both must hold (AND).
#   bitfield: skb->pkt_type, a 3-bit bitfield: A's ARP requests (A's neighbours flushed) arrive
#            in B as broadcasts, PACKET_BROADCAST (1), and leave A as 0; --filter-skb-expr
#            "skb->pkt_type == 1" shows exactly B's side, and --output-skb-metadata reads 1 there.
#   badfield: a member that does not exist: exit status 2 (usage), the error names it and the
#            closest members.
#   shinfo:  --output-skb-shared-info --output-skb-cb on a TCP flow A->B with large writes: some
#            event shows gso_size > 0 and gso_segs > 1 (veth keeps GSO skbs whole); cb has 12
#            words; Wireshark has pwru.shinfo.gso_size and pwru.cb.
# usage: skbexpr_test.sh MODE PWRUDUMP BUILD_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib/common.sh
. "$here/../lib/common.sh"
mode=$1 PWRUDUMP=$2 BUILD=$3

require_root
require_cmd ip iptables ping python3 tshark setpriv timeout

case "$mode" in
meta)
  e2e_hosts
  ip netns exec "$NS_A" iptables -t mangle -A OUTPUT -p icmp -j MARK --set-mark 0x2a ||
    fail "cannot add the MARK rule"
  exprs="skb->dev->ifindex,skb->len,skb->mark,skb->dev->name"
  start_trace "$WORK/json.pcapng" --output-json --output-file "$WORK/json" \
    --output-skb-metadata "$exprs" "icmp and host $IP_B"
  ip netns exec "$NS_A" ping -c 3 -i 0.2 -W 1 "$IP_B" >/dev/null || fail "the pings failed"
  stop_trace
  python3 - "$WORK/json" <<'PY' || fail "JSON checks failed ($WORK/json)"
import json, sys
events = [json.loads(line) for line in open(sys.argv[1], encoding="utf-8")]
assert len(events) >= 6, f"{len(events)} events"
with_dev = marked = 0
for e in events:
    m = e["skb_meta"]
    assert list(m) == ["skb->dev->ifindex", "skb->len", "skb->mark", "skb->dev->name"], m
    assert m["skb->len"] == e["len"], e
    assert m["skb->mark"] == e["mark"], e
    name, _, index = e["iface"].rpartition(":")
    if index == "0" or not name:
        assert m["skb->dev->ifindex"] is None and m["skb->dev->name"] is None, e
        continue
    with_dev += 1
    assert m["skb->dev->ifindex"] == int(index), e
    assert m["skb->dev->name"] == name, e
    marked += m["skb->mark"] == 0x2a
assert with_dev >= 6, f"{with_dev} events with a device"
assert marked >= 3, f"{marked} events with mark 0x2a"
print(len(events), "events,", with_dev, "with a device,", marked, "marked: the values agree")
PY
  # The four values of each event, comma-separated: the second is skb->len.
  out=$(fields "$WORK/json.pcapng" -Y 'pwru.meta.name == "skb->len"' -e pwru.len \
          -e pwru.meta.name -e pwru.meta.value | head -1)
  read -r len names values <<<"$out"
  [ -n "$len" ] || fail "no pwru.meta in Wireshark"
  assert_eq "pwru.meta.name in Wireshark" "skb->dev->ifindex,skb->len,skb->mark,skb->dev->name" \
    "$names"
  assert_eq "pwru.meta.value of skb->len (2nd item) in Wireshark" "$len" \
    "$(cut -d, -f2 <<<"$values")"

  start_trace "$WORK/text.pcapng" --output-file "$WORK/text" --output-skb-metadata "$exprs" \
    "icmp and host $IP_B"
  ip netns exec "$NS_A" ping -c 2 -i 0.2 -W 1 "$IP_B" >/dev/null || fail "the pings failed"
  stop_trace
  n=$(grep -cE ' ifindex=[0-9]+ len=[0-9]+ mark=[0-9]+ name=[^ ]+$' "$WORK/text")
  [ "$n" -ge 4 ] || fail "$n text lines end with the fields: $(head -3 "$WORK/text")"
  pass "--output-skb-metadata: the values equal the event's ifindex, len, mark and device name"
  ;;
filter)
  e2e_hosts
  ip netns exec "$NS_A" iptables -t mangle -A OUTPUT -p icmp -j MARK --set-mark 0x2a ||
    fail "cannot add the MARK rule"
  both_sizes() {
    ip netns exec "$NS_A" ping -c 3 -i 0.2 -W 1 -s 1400 "$IP_B" >/dev/null || fail "pings failed"
    ip netns exec "$NS_A" ping -c 3 -i 0.2 -W 1 -s 100 "$IP_B" >/dev/null || fail "pings failed"
  }
  start_trace "$WORK/len.pcapng" --output-json --output-file "$WORK/len" \
    --filter-skb-expr "skb->len > 1000" "icmp and host $IP_B"
  both_sizes
  stop_trace
  python3 - "$WORK/len" <<'PY' || fail "JSON checks failed ($WORK/len)"
import json, sys
events = [json.loads(line) for line in open(sys.argv[1], encoding="utf-8")]
assert len(events) >= 12, f"{len(events)} events"
assert all(e["len"] > 1000 for e in events), [e["len"] for e in events]
print(len(events), "events, every one longer than 1000 bytes")
PY
  # The short pings' replies are the only ICMP the filter on the mark and the pcap filter both
  # let through when the pcap filter asks for echo replies: none, the replies are unmarked.
  start_trace "$WORK/mark.pcapng" --output-json --output-file "$WORK/mark" \
    --filter-skb-expr "skb->mark & 0xff == 0x2a" "icmp"
  both_sizes
  stop_trace
  python3 - "$WORK/mark" "$IP_B" <<'PY' || fail "JSON checks failed ($WORK/mark)"
import json, sys
events = [json.loads(line) for line in open(sys.argv[1], encoding="utf-8")]
assert len(events) >= 12, f"{len(events)} events"
assert all(e["mark"] == 0x2a for e in events), {e["mark"] for e in events}
assert all(e["tuple"]["daddr"] == sys.argv[2] for e in events), "an unmarked reply was shown"
print(len(events), "events, every one marked 0x2a: A's requests")
PY
  start_trace "$WORK/and.pcapng" --output-json --output-file "$WORK/and" \
    --filter-skb-expr "skb->mark == 42" "icmp[icmptype] == icmp-echoreply"
  both_sizes
  stop_trace
  assert_eq "events both filters pass (marked echo replies: none)" 0 "$(grep -c . "$WORK/and")"
  pass "--filter-skb-expr: only the events the comparison holds for, and the pcap filter too"
  ;;
bitfield)
  e2e_hosts
  arp() {
    ip -n "$NS_A" neigh flush all
    ip netns exec "$NS_A" ping -c 1 -W 1 "$IP_B" >/dev/null || fail "the ping failed"
  }
  start_trace "$WORK/all.pcapng" --output-json --output-file "$WORK/all" \
    --output-skb-metadata 'skb->pkt_type' "arp"
  arp
  stop_trace
  start_trace "$WORK/bcast.pcapng" --output-json --output-file "$WORK/bcast" \
    --output-skb-metadata 'skb->pkt_type' --filter-skb-expr 'skb->pkt_type == 1' "arp"
  arp
  stop_trace
  python3 - "$WORK/all" "$WORK/bcast" "$NETNS_A_INODE" "$NETNS_B_INODE" <<'PY' ||
import json, sys
load = lambda path: [json.loads(line) for line in open(path, encoding="utf-8")]
every, bcast = load(sys.argv[1]), load(sys.argv[2])
ns_a, ns_b = int(sys.argv[3]), int(sys.argv[4])
types = {(e["netns"], e["skb_meta"]["skb->pkt_type"]) for e in every}
assert (ns_a, 0) in types and (ns_b, 1) in types, types
assert bcast, "no broadcast event"
assert all(e["skb_meta"]["skb->pkt_type"] == 1 and e["netns"] == ns_b for e in bcast), bcast
print(len(every), "ARP events, pkt_type per netns", sorted(types), ";", len(bcast), "broadcasts")
PY
    fail "JSON checks failed ($WORK/all, $WORK/bcast)"
  pass "skb->pkt_type (a bitfield): 0 leaving A, 1 (broadcast) in B; the filter picks B's"
  ;;
badfield)
  WORK=$(mktemp -d /tmp/pwru-e2e.XXXXXX)
  trap 'rm -rf "$WORK"' EXIT
  "$PWRUDUMP" --output-skb-metadata 'skb->dev->ifidx' -w /dev/null >"$WORK/out" 2>"$WORK/err"
  assert_eq "exit status of a field that does not exist (usage)" 2 "$?"
  grep -q "struct net_device has no member ifidx" "$WORK/err" ||
    fail "the error does not name the field: $(cat "$WORK/err")"
  grep -q "did you mean.*ifindex" "$WORK/err" ||
    fail "the error does not suggest ifindex: $(cat "$WORK/err")"
  "$PWRUDUMP" --filter-skb-expr "skb->lne > 1000" -w /dev/null >"$WORK/out" 2>"$WORK/err"
  assert_eq "exit status of a filter on a field that does not exist" 2 "$?"
  grep -q "cannot use --filter-skb-expr .*struct sk_buff has no member lne" "$WORK/err" ||
    fail "the error does not name the filter's field: $(cat "$WORK/err")"
  grep -q "len" "$WORK/err" || fail "the error does not suggest len: $(cat "$WORK/err")"
  "$PWRUDUMP" --output-skb-metadata 'skb->hash,skb->len,skb->mark,skb->priority,skb->protocol' \
    -w /dev/null >"$WORK/out" 2>"$WORK/err"
  assert_eq "exit status of 5 fields" 2 "$?"
  grep -q "the most is 4" "$WORK/err" || fail "no bound in the error: $(cat "$WORK/err")"
  pass "a field that does not exist: exit 2, named, with the closest members"
  ;;
shinfo)
  e2e_hosts
  port=$(( $$ % 1000 + 20000 ))
  ip netns exec "$NS_B" python3 -c "
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('$IP_B', $port)); s.listen(1); s.settimeout(30)
c, _ = s.accept(); c.settimeout(30)
while c.recv(65536): pass
" &
  server=$!
  sleep 0.5
  start_trace "$WORK/gso.pcapng" --output-json --output-file "$WORK/gso" \
    --output-skb-shared-info --output-skb-cb "tcp and dst port $port"
  ip netns exec "$NS_A" python3 -c "
import socket
s = socket.create_connection(('$IP_B', $port), timeout=10)
for _ in range(64): s.sendall(b'x' * 65536)
s.close()
" || fail "the TCP flow failed"
  wait "$server"
  stop_trace
  python3 - "$WORK/gso" <<'PY' || fail "JSON checks failed ($WORK/gso)"
import json, sys
events = [json.loads(line) for line in open(sys.argv[1], encoding="utf-8")]
assert events, "no events"
assert all(len(e["cb"]) == 12 for e in events), "cb is not 12 words"
gso = [e for e in events if e["skb_shared_info"]["gso_size"] > 0]
assert gso, "no event with gso_size > 0"
big = [e for e in gso if e["skb_shared_info"]["gso_segs"] > 1 and e["len"] > 1500]
assert big, [e["skb_shared_info"] for e in gso[:3]]
print(len(events), "events,", len(gso), "with gso_size, e.g.", big[0]["skb_shared_info"])
PY
  out=$(fields "$WORK/gso.pcapng" -Y "pwru.shinfo.gso_size > 0 && pwru.shinfo.gso_segs > 1" \
          -e pwru.shinfo.gso_size | head -1)
  [ -n "$out" ] || fail "no GSO event in Wireshark (pwru.shinfo)"
  n=$(fields "$WORK/gso.pcapng" -Y "len(pwru.cb) == 48" -e frame.number | grep -c .)
  [ "$n" -ge 1 ] || fail "no pwru.cb of 48 bytes in Wireshark"
  pass "--output-skb-shared-info: a GSO TCP flow shows gso_size and gso_segs; cb has 48 bytes"
  ;;
*)
  fail "unknown mode $mode"
  ;;
esac
