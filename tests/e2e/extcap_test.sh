#!/usr/bin/env bash
# End to end through Wireshark's own extcap path: `tshark -i pwru -f FILTER` finds pwrudump in an
# extcap folder, runs it, and the capture decodes with the pwru plugin. The drop scenario of
# drop_test.sh, with pings sent once pwrudump is attached, while tshark captures for a fixed time.
# With IFACE pwru-drops (the drops-only interface) every event must be a kfree_skb drop.
# usage: extcap_test.sh PWRUDUMP BUILD_DIR [IFACE]
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib/common.sh
. "$here/../lib/common.sh"
PWRUDUMP=$1 BUILD=$2 IFACE=${3:-pwru}

require_root
require_cmd ip iptables ping tshark setpriv
e2e_hosts
ip netns exec "$NS_B" iptables -I INPUT -p icmp -j DROP || fail "cannot add the iptables rule"

# Root's tshark ignores WIRESHARK_EXTCAP_DIR but reads the personal extcap folder under
# XDG_CONFIG_HOME.
extcap_link "$WORK/config/wireshark/extcap" "$PWRUDUMP" "$WORK/ready"
export XDG_CONFIG_HOME="$WORK/config"
PINGS=6

tshark -D 2>"$WORK/D.err" >"$WORK/D.out" || fail "tshark -D failed: $(cat "$WORK/D.err")"
grep -q "\. pwru (pwru:" "$WORK/D.out" || fail "tshark -D does not list pwru: $(cat "$WORK/D.out" "$WORK/D.err")"
grep -q "\. pwru-drops (pwru-drops:" "$WORK/D.out" || fail "tshark -D does not list pwru-drops: $(cat "$WORK/D.out")"

# Options from the capture dialog arrive as preferences: the namespace filter and the backend.
tshark -i "$IFACE" -f "icmp and host $IP_B" -o "extcap.pwru.filternetns:/run/netns/$NS_B" \
  -o extcap.pwru.backend:tracepoint -a duration:10 -w "$WORK/trace.pcapng" \
  >"$WORK/tshark.out" 2>"$WORK/tshark.err" &
TSHARK_PID=$!
wait_attached "$WORK/ready" "pwrudump under tshark (stderr: $(cat "$WORK/tshark.err"))"
ip netns exec "$NS_A" ping -c $PINGS -i 0.3 -W 1 "$IP_B" >/dev/null
wait "$TSHARK_PID"
rc=$?
assert_eq "tshark exit code" 0 "$rc"
if grep -qi "error" "$WORK/tshark.err"; then
  fail "tshark reported an error from the extcap: $(cat "$WORK/tshark.err")"
fi
chmod 644 "$WORK/trace.pcapng"

drops=$(fields "$WORK/trace.pcapng" -Y "$DROPPED_PING_FILTER" "${DROPPED_PING_FIELDS[@]}")
n=$(count_lines "$drops")
assert_eq "dropped pings seen (tshark: $(cat "$WORK/tshark.err"))" "$PINGS" "$n"
assert_dropped_pings "$drops"
# The capture filter reached pwrudump: nothing but ICMP to or from the receiver is in the file.
others=$(fields "$WORK/trace.pcapng" -Y "!(icmp && ip.addr == $IP_B)" -e frame.number)
assert_eq "events that do not match the capture filter" "" "$others"
spaces=$(fields "$WORK/trace.pcapng" -e pwru.netns -e pwru.probe | sort -u)
assert_eq "namespace and probe kind of all events (-o extcap.pwru.*)" "$NETNS_B_INODE 1" "$spaces"
if [ "$IFACE" = pwru-drops ]; then
  funcs=$(fields "$WORK/trace.pcapng" -e pwru.func -e pwru.drop_reason | sort -u)
  assert_eq "events on pwru-drops" "kfree_skb NETFILTER_DROP" "$funcs"
fi
pass "tshark -i $IFACE captured $n netfilter drops through the extcap"
