#!/usr/bin/env bash
# One packet across hosts (pwru.flight, docs/many-hosts.md) on the running kernel: "hosts" made
# of network namespaces, each traced at the same time by a pwrudump of its own limited to its
# namespace (--filter-netns), each capture's interface named pwru@HOST as a capture of several
# hosts names them (tests/lib/pcapng-ifname.py), merged into one file by mergecap and read by
# tshark (two passes) with the build tree's pwru plugin:
#   drop:  h1 pings h2, whose iptables drop the echo requests: each request is one flight of
#          h1's send path, h2's receive path and the drop; pwru.flight.dropped names h2, and
#          -z pwru_flights,tree says so.
#   nat:   h1 connects to the router r's address and r's DNAT sends it on to h2: the SYN's and
#          the data's flights go h1 > r > h2 across the address change, the answers h2 > r > h1;
#          the clocks are measured both ways (offset about 0: one kernel).
#   vxlan: h1 pings h2 over a VXLAN tunnel: the echo request's flight holds the packet before
#          the tunnel on h1, its outer packet on both hosts and the packet out of it on h2.
# Every mode also merges the captures with h2's clock 1.5 s behind (editcap -t -1.5): h2's
# events come first in the file, the flights are the same, h2 still after h1; with nat, h2's
# clock offset from r's is measured about -1.5 s.
# usage: flights_test.sh MODE PWRUDUMP BUILD_DIR [KEEP_DIR]
#   KEEP_DIR: where to copy the merged captures, flights-MODE.pcapng and flights-MODE-skew.pcapng
#   (tests/dissector/data keeps those the dissector tests read).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib/common.sh
. "$here/../lib/common.sh"
[ $# -eq 3 ] || [ $# -eq 4 ] || fail "usage: flights_test.sh MODE PWRUDUMP BUILD_DIR [KEEP_DIR]"
mode=$1 PWRUDUMP=$2 BUILD=$3 KEEP=${4:-}

require_root
require_cmd ip iptables ping python3 tshark mergecap editcap setpriv timeout

HOSTS=() PIDS=()

flights_cleanup() {
  local rc=$? p
  for p in "${PIDS[@]}"; do
    kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
  done
  [ -n "${NS_R:-}" ] && ip netns del "$NS_R" 2>/dev/null
  (exit $rc)
  netns_cleanup
}

# trace_host NAME NETNS FILTER...: a pwrudump of host NAME, only its namespace's events, into
# $WORK/NAME.pcapng.
trace_host() {
  local name=$1 ns=$2
  shift 2
  "$PWRUDUMP" -q -w "$WORK/$name.pcapng" --ready-file "$WORK/$name.ready" \
    --filter-netns "/run/netns/$ns" "$@" >"$WORK/$name.stdout" 2>"$WORK/$name.stderr" &
  PIDS+=("$!")
  HOSTS+=("$name:$ns")
}

# Back once every host's pwrudump attached its probes.
wait_hosts() {
  local i name
  for i in "${!HOSTS[@]}"; do
    name=${HOSTS[$i]%%:*}
    for _ in $(seq 1 600); do
      [ -e "$WORK/$name.ready" ] && break
      kill -0 "${PIDS[$i]}" 2>/dev/null ||
        fail "pwrudump of $name exited before it got ready: $(cat "$WORK/$name.stderr")"
      sleep 0.1
    done
    [ -e "$WORK/$name.ready" ] || fail "pwrudump of $name never got ready: $(cat "$WORK/$name.stderr")"
  done
}

# Stops every host's pwrudump as Ctrl-C would; each must exit 0 with a complete file.
stop_hosts() {
  local i rc
  sleep 0.5
  for i in "${!PIDS[@]}"; do kill -INT "${PIDS[$i]}"; done
  for i in "${!PIDS[@]}"; do
    wait "${PIDS[$i]}"
    rc=$?
    assert_eq "exit code of ${HOSTS[$i]%%:*}'s pwrudump after SIGINT ($(cat "$WORK/${HOSTS[$i]%%:*}.stderr"))" 0 "$rc"
  done
  PIDS=()
}

# merge OUT [SKEW]: one capture of every host, each its own interface pwru@HOST; with SKEW,
# h2's clock is SKEW seconds off (editcap -t).
merge() {
  local out=$1 skew=${2:-} h name files=()
  for h in "${HOSTS[@]}"; do
    name=${h%%:*}
    "$here/../lib/pcapng-ifname.py" "$WORK/$name.pcapng" "$WORK/$name.named.pcapng" \
      "pwru@$name" "pwru on $name (network namespace ${h#*:})" ||
      fail "cannot name the interface of $name's capture"
    if [ "$name" = h2 ] && [ -n "$skew" ]; then
      editcap -t "$skew" "$WORK/$name.named.pcapng" "$WORK/$name.skew.pcapng" ||
        fail "editcap cannot shift $name's capture"
      mv "$WORK/$name.skew.pcapng" "$WORK/$name.named.pcapng"
    fi
    files+=("$WORK/$name.named.pcapng")
  done
  mergecap -w "$out" "${files[@]}" || fail "mergecap cannot merge ${files[*]}"
  chmod 644 "$out"
  if [ -n "$KEEP" ]; then cp "$out" "$KEEP/" || fail "cannot keep $out in $KEEP"; fi
}

# flight_fields FILE FILTER FIELD...: tshark -2, one line per frame, fields separated by '|'.
flight_fields() {
  local file=$1 filter=$2 args=() f
  shift 2
  for f in "$@"; do args+=(-e "$f"); done
  fields "$file" -2 -Y "$filter" -E separator='|' "${args[@]}"
}

# flights_tree FILE: the lines of -z pwru_flights,tree (two passes), without the counts.
flights_tree() {
  chmod 644 "$1"
  "$TSHARK_PLUGIN" "$BUILD" -r "$1" -2 -q -z pwru_flights,tree |
    awk '/^-+$/ { body = !body; next } body && NF { print }' |
    perl -ne 'print "$1\n" if /^ *(\S.*?) {2,}\d/'
}

# check_drop FILE: each dropped echo request's flight goes h1 > h2 and ends in h2's drop.
check_drop() {
  local file=$1 out flight host hop hosts dropped link
  out=$(flight_fields "$file" 'pwru.drop_reason == "NETFILTER_DROP"' pwru.flight pwru.flight.host \
          pwru.flight.hop pwru.flight.hosts pwru.flight.dropped)
  assert_eq "dropped requests (flight|host|hop|hosts|dropped on) in $file" 3 "$(count_lines "$out")"
  while IFS='|' read -r flight host hop hosts dropped; do
    assert_eq "the drop's host, hop, hosts and pwru.flight.dropped (flight $flight)" \
      "h2|2|h1 > h2|h2" "$host|$hop|$hosts|$dropped"
    # h1's send path, then h2: the last of h1's events links to h2's first, and back.
    out=$(flight_fields "$file" "pwru.flight == $flight" frame.number pwru.flight.host \
            pwru.flight.hop pwru.func pwru.flight.dropped pwru.flight.prev pwru.flight.next)
    grep -qE '^[0-9]+\|h1\|1\|net_dev_(queue|start_xmit)\|h2\|' <<<"$out" ||
      fail "flight $flight has no send path on h1: $out"
    grep -qE '^[0-9]+\|h2\|2\|netif_(rx|receive_skb)\|h2\|' <<<"$out" ||
      fail "flight $flight has no receive path on h2: $out"
    # h2's first event links back to an event of h1 that links on to it.
    link=$(awk -F'|' '{ host[$1] = $2; next_of[$1] = $7 }
      $2 == "h2" && $6 != "" { prev = $6; first = $1 }
      END { if (prev != "") print host[prev] "|" next_of[prev] "|" first }' <<<"$out")
    [ -n "$link" ] || fail "no pwru.flight.prev on h2's events of flight $flight: $out"
    assert_eq "host and pwru.flight.next of the event h2's first links back to (flight $flight)" \
      "h1|${link##*|}" "${link%|*}"
    ! awk -F'|' '$5 != "h2"' <<<"$out" | grep -q . ||
      fail "events of flight $flight without pwru.flight.dropped == h2: $out"
  done <<<"$(flight_fields "$file" 'pwru.drop_reason == "NETFILTER_DROP"' pwru.flight \
               pwru.flight.host pwru.flight.hop pwru.flight.hosts pwru.flight.dropped)"
  out=$(flights_tree "$file" | grep -c ': h1 > h2, dropped on h2 at kfree_skb: NETFILTER_DROP$')
  assert_eq "flights 'h1 > h2, dropped on h2' in -z pwru_flights,tree" 3 "$out"
}

# check_nat FILE SKEW: the SYN's flight through r's DNAT, the data's, and the answers back.
check_nat() {
  local file=$1 skew=$2 out syn
  out=$(flight_fields "$file" 'pwru.tcp_flags == 0x02' pwru.flight pwru.flight.host pwru.ip.dst \
          pwru.dport | LC_ALL=C sort -u)
  syn=$(cut -d'|' -f1 <<<"$out" | sort -u)
  assert_eq "flights of the SYN" 1 "$(count_lines "$syn")"
  assert_eq "the SYN's flight: h1 to r's address, r's DNAT, h2 (flight|host|dst|dport)" \
"$syn|h1|$IP_RA|80
$syn|h2|$IP_B|8080
$syn|r|$IP_RA|80
$syn|r|$IP_B|8080" "$out"
  out=$(flight_fields "$file" "pwru.flight == $syn" pwru.flight.hosts | sort -u)
  assert_eq "pwru.flight.hosts of the SYN" "h1 > r > h2" "$out"
  # Every segment h1 sent goes h1 > r > h2 (DNAT'd on r), every answer h2 > r > h1.
  out=$(flights_tree "$file")
  grep -qE "^flight [0-9]+: $IP_A:[0-9]+->$IP_RA:80\(tcp\): h1 > r > h2 \(on h2: $IP_A:[0-9]+->$IP_B:8080\(tcp\)\), " <<<"$out" ||
    fail "no flight h1 > r > h2 in -z pwru_flights,tree: $out"
  grep -qE "^flight [0-9]+: $IP_B:8080->$IP_A:[0-9]+\(tcp\): h2 > r > h1 \(on h1: $IP_RA:80->$IP_A:[0-9]+\(tcp\)\), " <<<"$out" ||
    fail "no flight h2 > r > h1 in -z pwru_flights,tree: $out"
  ! grep -E '^flight [0-9]+: ' <<<"$out" | grep -vqE ': (h1 > r > h2|h2 > r > h1) ' ||
    fail "flights that did not cross all three hosts: $out"
  # The clocks, measured both ways: h2's from r's is the skew.
  out=$(flight_fields "$file" 'pwru.flight.clock_offset && pwru.flight.host == "h2"' \
          pwru.flight.clock_offset |
          awk '{ v = sprintf("%.1f", $1); if (v == "-0.0") v = "0.0"; print v }' | sort -u)
  assert_eq "pwru.flight.clock_offset of h2 (from r), rounded to 0.1 s" "$skew" "$out"
  out=$(flights_tree "$file" | grep -cE "^offset of (h2's clock from r's|r's clock from h2's): ")
  assert_eq "the clock line of h2 and r in -z pwru_flights,tree" 1 "$out"
}

# check_vxlan FILE: each echo request's flight: the ping before the tunnel on h1, the packet out
# of it on h2.
check_vxlan() {
  local file=$1 out
  out=$(flight_fields "$file" 'pwru.flight.hosts == "h1 > h2" && pwru.l4proto == 1' \
          pwru.flight pwru.flight.host | LC_ALL=C sort -u | cut -d'|' -f2 | sort | uniq -c |
          awk '{ print $2 ":" $1 }' | tr '\n' ' ')
  case "$out" in
    "h1:"[3-9]" h2:"[3-9]" ") ;;
    *) fail "flights h1 > h2 with ICMP events on both hosts (host:flights): '$out'" ;;
  esac
  out=$(flight_fields "$file" 'pwru.flight.hosts == "h1 > h2" && pwru.l4proto == 17' pwru.flight)
  [ -n "$out" ] || fail "no event of the outer (VXLAN) packet in the echo requests' flights"
}

trap flights_cleanup EXIT
case "$mode" in
drop)
  e2e_hosts
  ip netns exec "$NS_B" iptables -A INPUT -p icmp --icmp-type echo-request -j DROP ||
    fail "cannot add the iptables rule in h2"
  trace_host h1 "$NS_A" icmp
  trace_host h2 "$NS_B" icmp
  wait_hosts
  ip netns exec "$NS_A" ping -c 3 -i 0.2 -W 1 "$IP_B" >/dev/null && fail "h2 answered a ping"
  stop_hosts
  merge "$WORK/flights-drop.pcapng"
  check_drop "$WORK/flights-drop.pcapng"
  merge "$WORK/flights-drop-skew.pcapng" -1.5
  check_drop "$WORK/flights-drop-skew.pcapng"
  pass "3 pings dropped by h2's iptables: 3 flights h1 > h2 of both hosts' events, dropped on" \
       "h2, linked both ways; the same with h2's clock 1.5 s behind"
  ;;
nat)
  router_hosts
  ip netns exec "$NS_R" iptables -t nat -A PREROUTING -d "$IP_RA" -p tcp --dport 80 \
    -j DNAT --to-destination "$IP_B:8080" || fail "cannot add the DNAT rule in r"
  filter='tcp and (port 80 or port 8080)'
  trace_host h1 "$NS_A" "$filter"
  trace_host r "$NS_R" "$filter"
  trace_host h2 "$NS_B" "$filter"
  wait_hosts
  ip netns exec "$NS_B" timeout 10 python3 -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 8080))
s.listen(1)
open(sys.argv[2], "w").close()
c, _ = s.accept()
c.sendall(b"ok " + c.recv(100))
c.close()' "$IP_B" "$WORK/listening" &
  server=$!
  wait_for_file "$WORK/listening" 10 || fail "h2's server never listened"
  reply=$(ip netns exec "$NS_A" timeout 10 python3 -c '
import socket, sys
c = socket.create_connection((sys.argv[1], 80), timeout=5)
c.sendall(b"hello flights\n")
print(c.recv(100).decode().strip())
c.close()' "$IP_RA") || fail "h1 could not talk to h2 through r's DNAT"
  wait "$server"
  assert_eq "h2's answer through r" "ok hello flights" "$reply"
  sleep 0.5  # the last ACKs
  stop_hosts
  merge "$WORK/flights-nat.pcapng"
  check_nat "$WORK/flights-nat.pcapng" 0.0
  merge "$WORK/flights-nat-skew.pcapng" -1.5
  check_nat "$WORK/flights-nat-skew.pcapng" -1.5
  pass "TCP through r's DNAT: the SYN's flight h1 > r > h2 across the address change, every" \
       "segment h1 > r > h2 and answer h2 > r > h1; h2's clock offset measured 0, then -1.5 s"
  ;;
vxlan)
  vxlan_hosts
  trace_host h1 "$NS_A" 'icmp or udp port 4789'
  trace_host h2 "$NS_B" 'icmp or udp port 4789'
  wait_hosts
  ip netns exec "$NS_A" ping -c 3 -i 0.2 -W 1 "$IN_B" >/dev/null || fail "pings over VXLAN failed"
  stop_hosts
  merge "$WORK/flights-vxlan.pcapng"
  check_vxlan "$WORK/flights-vxlan.pcapng"
  merge "$WORK/flights-vxlan-skew.pcapng" -1.5
  check_vxlan "$WORK/flights-vxlan-skew.pcapng"
  pass "pings over VXLAN: each request's flight h1 > h2 holds the packet before the tunnel on" \
       "h1 and out of it on h2; the same with h2's clock 1.5 s behind"
  ;;
*)
  fail "unknown mode $mode"
  ;;
esac
