#!/usr/bin/env bash
# Many hosts (docs/many-hosts.md): two "hosts" h1 and h2, each a network namespace with an sshd
# of the test's own (its config, host key, key authentication only) and pwrudump limited to its
# own namespace (--filter-netns in its line of the hosts file), joined through a router
# namespace r, where the "laptop" runs: ssh, tshark, pwrudump --remote.
#   h1 (10.X.1.2) --- (10.X.1.1) r (10.X.2.1) --- (10.X.2.2) h2
# Modes:
#   ping:        tshark -i pwru@h1 -i pwru@h2 (the extcap, found in the personal extcap folder)
#                captures pings from h1 to h2 that iptables drops on h2: h1's interface has the
#                send path, h2's the receive path and the drops; when it stops, no pwrudump is
#                left in any host.
#   dnat:        a TCP connection from h1 to r's address, DNATed by r to h2: both hosts show it.
#   unreachable: tshark -i pwru@h1 -i pwru@h3, h3 without sshd: h1 is captured, the error names h3
#                and says what ssh said.
#   cli:         pwrudump --remote h1 --remote h2 -w all.pcapng icmp: a file with two interfaces;
#                the same as text with a host column; with h3 as well, exit status 10 naming h3.
# Captures run as root (root's tshark finds the extcap in $XDG_CONFIG_HOME/wireshark/extcap); the
# files are decoded by tshark as nobody with the build tree's plugin. Everything the test
# started is killed on exit.
# HOSTS_KEEP=FILE keeps a copy of the tshark capture.
# usage: hosts_test.sh ping|dnat|unreachable|cli PWRUDUMP BUILD_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib/common.sh
. "$here/../lib/common.sh"
mode=$1 PWRUDUMP=$(readlink -f "$2") BUILD=$(readlink -f "$3")

require_root
require_cmd ip iptables ping tshark setpriv ssh ssh-keygen /usr/sbin/sshd capinfos python3
# shellcheck source=hosts-lib.sh
. "$here/hosts-lib.sh"
hosts_setup 2
H1=$(host_ns 1) H2=$(host_ns 2) IP_H1=$(host_ip 1) IP_H2=$(host_ip 2) IP_R1=$(router_ip 1)
# h2 drops ICMP that reaches it.
ip netns exec "$H2" iptables -I INPUT -p icmp -j DROP || fail "cannot add the iptables rule"

# The hosts file: each host's line runs this build's pwrudump there, limited to its namespace,
# with the tracepoint backend (fast to attach), and creating a ready file once attached. h3 is
# r's own address, where no sshd listens.
mkdir -p "$WORK/config/pwrudump" "$WORK/config/wireshark/extcap"
{
  echo "# the test's hosts: name, then the command that reaches it"
  host_line h1 "$IP_H1" "$H1" --backend tracepoint --ready-file "$WORK/h1.ready"
  echo
  host_line h2 "$IP_H2" "$H2" --backend tracepoint --ready-file "$WORK/h2.ready"
  host_line h3 "$IP_R1" "$R" --backend tracepoint
} >"$WORK/config/pwrudump/hosts"
export XDG_CONFIG_HOME=$WORK/config
printf '#!/bin/sh\nexec %q "$@"\n' "$PWRUDUMP" >"$WORK/config/wireshark/extcap/pwrudump"
chmod 755 "$WORK/config/wireshark/extcap/pwrudump"
# tshark runs as nobody: it must be able to stand in the folder it starts in.
cd "$WORK" || fail "cannot enter $WORK"

# assert_hosts_clean WHAT: within 10 s, no pwrudump left in h1 or h2, and no ssh in r.
assert_hosts_clean() {
  local left=
  for _ in $(seq 50); do
    left="$(pwrudump_in "$H1") $(pwrudump_in "$H2") $(pgrep -x ssh | while read -r p; do
      [ "$(ip netns identify "$p" 2>/dev/null)" = "$R" ] && echo "$p"; done)"
    [ -z "${left// /}" ] && break
    sleep 0.2
  done
  [ -z "${left// /}" ] || fail "$1: still running: $(ps -o pid=,args= -p "$(one_line "$left" | tr ' ' ,)")"
}

wait_ready() {  # HOST...
  local h
  for h in "$@"; do
    wait_for_file "$WORK/$h.ready" 60 ||
      fail "pwrudump on $h never attached (tshark: $(cat "$WORK/tshark.err" 2>/dev/null))"
  done
}

PINGS=3
ping_h2() {
  ip netns exec "$H1" ping -c "$PINGS" -i 0.3 -W 1 "$IP_H2" >/dev/null &&
    fail "pings got through although h2 drops ICMP"
}

# wait_until WHAT CMD...: back once CMD succeeds, or fail after 20 s.
wait_until() {
  local what=$1 _
  shift
  for _ in $(seq 100); do
    "$@" && return 0
    sleep 0.2
  done
  fail "no $what after 20 s"
}
# h2_drops_in FILE: FILE (being written) has at least PINGS kfree_skb events of pwru@h2.
h2_drops_in() {
  local n
  n=$(tshark -r "$1" -T fields -e frame.interface_name 2>/dev/null | grep -c '^pwru@h2$')
  # 5 events per ping on h2: netif_rx_entry, netif_rx, net_dev_xmit, netif_receive_skb, kfree_skb.
  [ "$n" -ge $((5 * PINGS)) ]
}
# h2_drop_lines_in FILE: FILE (pwrudump --remote's text) has at least PINGS drop lines of h2.
h2_drop_lines_in() {
  [ "$(grep -c '^h2 .*kfree_skb' "$1")" -ge "$PINGS" ]
}

# start_capture IFACES... -- FILTER: tshark in r on the given interfaces, each with the capture
# filter FILTER, into $WORK/capture.pcapng, stopped after a fixed time (end_capture waits; its
# status in TSHARK_RC).
start_capture() {
  local ifaces=()
  while [ "$1" != -- ]; do ifaces+=(-i "$1"); shift; done
  # tshark's -f applies to the -i before it, or to all that follow: first.
  ip netns exec "$R" tshark -f "$2" "${ifaces[@]}" -a duration:30 -w "$WORK/capture.pcapng" \
    >"$WORK/tshark.out" 2>"$WORK/tshark.err" &
  TSHARK_PID=$!
}
end_capture() {
  wait "$TSHARK_PID"
  TSHARK_RC=$?
  chmod 644 "$WORK/capture.pcapng"
  [ -n "${HOSTS_KEEP:-}" ] && cp "$WORK/capture.pcapng" "$HOSTS_KEEP"
}

# fields of the capture per frame: interface name first.
capture_fields() {
  fields "$WORK/capture.pcapng" -e frame.interface_name "$@"
}
# distinct LINES: their distinct values, at most 20, on one line (for a failure's message).
distinct() { one_line "$(sort -u <<<"$1" | head -20)"; }

case "$mode" in
ping)
  tshark -D 2>"$WORK/D.err" >"$WORK/D.out"
  for h in h1 h2 h3; do
    grep -q "\. pwru@$h (pwru on $h: .* over ssh)" "$WORK/D.out" ||
      fail "tshark -D does not list pwru@$h: $(cat "$WORK/D.out" "$WORK/D.err")"
  done
  start_capture pwru@h1 pwru@h2 -- icmp
  wait_ready h1 h2
  ping_h2
  end_capture
  assert_eq "tshark exit status (stderr: $(cat "$WORK/tshark.err"))" 0 "$TSHARK_RC"
  if grep -qi "error" "$WORK/tshark.err"; then
    fail "tshark reported an error from the extcap: $(cat "$WORK/tshark.err")"
  fi
  assert_hosts_clean "after the capture on pwru@h1 and pwru@h2 stopped"
  # The interfaces: one per host, named and described after it.
  names=$(capture_fields -e frame.interface_description | sort -u)
  grep -q "^pwru@h1 pwru on h1 (Linux $(uname -r))$" <<<"$names" ||
    fail "no interface pwru@h1 described as h1 with its kernel: $names"
  grep -q "^pwru@h2 pwru on h2 (Linux $(uname -r))$" <<<"$names" ||
    fail "no interface pwru@h2 described as h2 with its kernel: $names"
  assert_eq "interfaces in the capture" 2 "$(capinfos -I "$WORK/capture.pcapng" | grep -c '^Interface #')"
  # The capture filter travelled to both hosts: nothing but ICMP (not ssh's own packets).
  assert_eq "events that are not ICMP" "" "$(distinct "$(capture_fields -e pwru.func -e tcp.port -Y '!icmp')")"
  # Each host saw only its own namespace.
  NETNS_H1=$(stat -L -c %i "/run/netns/$H1") NETNS_H2=$(stat -L -c %i "/run/netns/$H2")
  wrong=$(capture_fields -e pwru.netns | awk -v a="$NETNS_H1" -v b="$NETNS_H2" \
    '!($1 == "pwru@h1" && $2 == a) && !($1 == "pwru@h2" && $2 == b)')
  assert_eq "events of a host outside its namespace" "" "$wrong"
  # h1: the send path, out of its veth (net_dev_xmit comes once the skb is in r: not h1's); no
  # drop.
  h1=$(capture_fields -e pwru.func -e pwru.ip.src -e pwru.ip.dst -e pwru.drop_reason |
    awk '$1 == "pwru@h1"')
  grep -q "net_dev_start_xmit $IP_H1 $IP_H2" <<<"$h1" ||
    fail "h1's interface has no echo request leaving h1: $(distinct "$h1")"
  assert_eq "drops on h1" "" "$(distinct "$(awk 'NF > 4' <<<"$h1")")"
  # h2: the receive path and the drops, one per ping, by netfilter.
  h2=$(capture_fields -e pwru.func -e pwru.ip.src -e pwru.ip.dst -e pwru.drop_reason |
    awk '$1 == "pwru@h2"')
  grep -q "netif_receive_skb $IP_H1 $IP_H2" <<<"$h2" ||
    fail "h2's interface has no echo request received: $(distinct "$h2")"
  assert_eq "netfilter drops on h2" "$PINGS" \
    "$(count_lines "$(awk -v s="$IP_H1" '$2 == "kfree_skb" && $3 == s && $5 == "NETFILTER_DROP"' <<<"$h2")")"
  # One flight per ping across the two hosts (the dissector's pwru.flight, two passes): each
  # drop on h2 is in a flight that crossed h1 and h2 and ended in a drop on h2, and h1's send of
  # that ping is in the same flight.
  fl=$(capture_fields -e pwru.flight -e pwru.flight.hosts -e pwru.flight.dropped -e pwru.func \
    -e pwru.drop_reason -E separator='|' -2)
  drops=$(awk -F'|' '$1 == "pwru@h2" && $5 == "kfree_skb" && $6 == "NETFILTER_DROP"' <<<"$fl")
  assert_eq "drops whose flight is not h1 > h2, dropped on h2" "" \
    "$(distinct "$(awk -F'|' '$3 != "h1 > h2" || $4 != "h2"' <<<"$drops")")"
  flights=$(cut -d'|' -f2 <<<"$drops" | sort -un)
  assert_eq "flights of the drops" "$PINGS" "$(count_lines "$flights")"
  for f in $flights; do
    awk -F'|' -v f="$f" '$1 == "pwru@h1" && $2 == f && $5 == "net_dev_start_xmit"' <<<"$fl" |
      grep -q . || fail "flight $f has no send on h1: $(distinct "$(grep "^[^|]*|$f|" <<<"$fl")")"
  done
  pass "tshark -i pwru@h1 -i pwru@h2: h1's send path, h2's receive path and $PINGS drops; nothing left on the hosts"
  ;;
dnat)
  VIP=$IP_R1
  ip netns exec "$R" iptables -t nat -A PREROUTING -d "$VIP" -p tcp --dport 80 \
    -j DNAT --to-destination "$IP_H2:8080" || fail "cannot add the DNAT rule"
  # The server on h2 answers one connection.
  ip netns exec "$H2" python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 8080)); s.listen(1); s.settimeout(60)
c, _ = s.accept(); c.sendall(c.recv(100)); c.close()' "$IP_H2" &
  SERVER_PID=$!
  start_capture pwru@h1 pwru@h2 -- "tcp port 80 or tcp port 8080"
  wait_ready h1 h2
  reply=$(ip netns exec "$H1" python3 -c '
import socket, sys
c = socket.create_connection((sys.argv[1], 80), timeout=10); c.sendall(b"hello"); print(c.recv(100).decode())' "$VIP") ||
    fail "the connection through the DNAT failed"
  assert_eq "the reply through the DNAT" hello "$reply"
  wait "$SERVER_PID"
  end_capture
  assert_eq "tshark exit status (stderr: $(cat "$WORK/tshark.err"))" 0 "$TSHARK_RC"
  t=$(capture_fields -e pwru.ip.src -e pwru.ip.dst -e tcp.srcport -e tcp.dstport)
  # h1 sends to the virtual address; h2 receives on its own, port 8080, from h1.
  grep -q "^pwru@h1 $IP_H1 $VIP [0-9]* 80$" <<<"$t" ||
    fail "h1's interface has no segment to $VIP:80: $(distinct "$t")"
  grep -q "^pwru@h2 $IP_H1 $IP_H2 [0-9]* 8080$" <<<"$t" ||
    fail "h2's interface has no segment to $IP_H2:8080: $(distinct "$t")"
  # The same connection: h1's source port is the one h2 sees.
  sport=$(awk -v v="$VIP" '$1 == "pwru@h1" && $3 == v { print $4; exit }' <<<"$t")
  grep -q "^pwru@h2 $IP_H1 $IP_H2 $sport 8080$" <<<"$t" ||
    fail "h2 did not see h1's port $sport: $(distinct "$t")"
  # The SYN is one flight across the DNAT: h1's to $VIP:80 and h2's to $IP_H2:8080.
  syn=$(capture_fields -e pwru.flight -e pwru.ip.dst -e tcp.dstport -E separator='|' -2 \
    -Y 'tcp.flags.syn == 1 && tcp.flags.ack == 0')
  f1=$(awk -F'|' -v v="$VIP" '$1 == "pwru@h1" && $3 == v && $4 == 80 { print $2 }' <<<"$syn" | sort -u)
  f2=$(awk -F'|' -v v="$IP_H2" '$1 == "pwru@h2" && $3 == v && $4 == 8080 { print $2 }' <<<"$syn" | sort -u)
  [ -n "$f1" ] || fail "no flight of h1's SYN: $(distinct "$syn")"
  assert_eq "the flight of h2's SYN (h1's: $f1)" "$f1" "$f2"
  assert_hosts_clean "after the capture stopped"
  pass "a TCP connection through r's DNAT seen on h1 (to $VIP:80) and h2 (to $IP_H2:8080)"
  ;;
unreachable)
  start_capture pwru@h1 pwru@h3 -- icmp
  wait_ready h1
  ping_h2
  end_capture
  assert_eq "tshark exit status (stderr: $(cat "$WORK/tshark.err"))" 0 "$TSHARK_RC"
  # The failed host is named with ssh's own words.
  grep -q "cannot trace host h3 (ssh): .*$IP_R1.*Connection refused" "$WORK/tshark.err" ||
    fail "tshark's stderr does not name h3 and ssh's error: $(cat "$WORK/tshark.err")"
  grep -q "cannot trace host h1" "$WORK/tshark.err" && fail "h1 was named as failing: $(cat "$WORK/tshark.err")"
  h1=$(capture_fields -e pwru.func -e pwru.ip.dst | awk '$1 == "pwru@h1"')
  grep -q "net_dev_start_xmit $IP_H2" <<<"$h1" || fail "h1 was not captured: $(distinct "$h1")"
  assert_hosts_clean "after the capture stopped"
  pass "pwru@h3 unreachable: named with ssh's error, pwru@h1 captured all the same"
  ;;
cli)
  # -w FILE: two interfaces, each host's events in its own.
  ip netns exec "$R" "$PWRUDUMP" --remote h1 --remote h2 -w "$WORK/all.pcapng" icmp \
    >"$WORK/cli.out" 2>"$WORK/cli.err" &
  CLI_PID=$!
  wait_ready h1 h2
  ping_h2
  # The relay carries the last events: h2's drops are in the file before the stop.
  wait_until "h2's drops in all.pcapng" h2_drops_in "$WORK/all.pcapng"
  kill -INT "$CLI_PID"
  wait "$CLI_PID"
  rc=$?
  assert_eq "pwrudump --remote exit status (stderr: $(cat "$WORK/cli.err"))" 0 "$rc"
  assert_eq "pwrudump --remote's stderr" "" "$(cat "$WORK/cli.err")"
  assert_hosts_clean "after pwrudump --remote stopped"
  chmod 644 "$WORK/all.pcapng"
  assert_eq "interfaces" "pwru@h1 pwru@h2" \
    "$(one_line "$(tshark -r "$WORK/all.pcapng" -T fields -e frame.interface_name 2>/dev/null | sort -u)")"
  assert_eq "netfilter drops on pwru@h2 in all.pcapng" "$PINGS" \
    "$(fields "$WORK/all.pcapng" -e frame.interface_name -Y "$DROPPED_PING_FILTER" | grep -c '^pwru@h2$')"
  # Text: the host first on every line; h3 fails (no sshd), is named, and the status says so.
  rm -f "$WORK"/h*.ready
  ip netns exec "$R" "$PWRUDUMP" --remote h1 --remote h2 --remote h3 icmp \
    >"$WORK/text.out" 2>"$WORK/text.err" &
  CLI_PID=$!
  wait_ready h1 h2
  ping_h2
  wait_until "h2's drops on stdout" h2_drop_lines_in "$WORK/text.out"
  kill -INT "$CLI_PID"
  wait "$CLI_PID"
  rc=$?
  assert_eq "exit status with h3 unreachable (stderr: $(cat "$WORK/text.err"))" 10 "$rc"
  grep -q "cannot trace host h3 (ssh): .*Connection refused" "$WORK/text.err" ||
    fail "stderr does not name h3 with ssh's error: $(cat "$WORK/text.err")"
  grep -q "cannot trace every host: 1 of 3 failed (h3)" "$WORK/text.err" ||
    fail "stderr does not sum up the failure: $(cat "$WORK/text.err")"
  head -1 "$WORK/text.out" | grep -q '^HOST ' || fail "no HOST column: $(head -1 "$WORK/text.out")"
  grep -q "^h1 .*net_dev_start_xmit" "$WORK/text.out" || fail "no h1 line: $(cat "$WORK/text.out")"
  grep -q "^h2 .*kfree_skb" "$WORK/text.out" || fail "no h2 drop line: $(cat "$WORK/text.out")"
  assert_eq "lines of another host" "" "$(grep -v '^HOST \|^h1 \|^h2 ' "$WORK/text.out")"
  assert_hosts_clean "after pwrudump --remote stopped"
  pass "pwrudump --remote h1 --remote h2: a pcapng with pwru@h1 and pwru@h2, text with a host column, h3's failure named (exit 10)"
  ;;
*) fail "unknown mode '$mode'" ;;
esac
