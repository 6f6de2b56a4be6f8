#!/usr/bin/env bash
# End to end through Wireshark's own extcap path: `tshark -i pwru -f FILTER` finds pwrudump in an
# extcap folder, runs it, and the capture decodes with the pwru plugin. The drop scenario of
# drop_test.sh, with pings sent while tshark captures for a fixed time.
# With IFACE pwru-drops (the drops-only interface) every event must be a kfree_skb drop.
# usage: extcap_test.sh PWRUDUMP BUILD_DIR [IFACE]
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/common.sh"
PWRUDUMP=$1 BUILD=$2 IFACE=${3:-pwru}

require_root
require_cmd ip iptables ping tshark setpriv
e2e_hosts
ip netns exec "$NS_B" iptables -I INPUT -p icmp -j DROP || fail "cannot add the iptables rule"

# Root's tshark ignores WIRESHARK_EXTCAP_DIR but reads the personal extcap folder under
# XDG_CONFIG_HOME.
mkdir -p "$WORK/config/wireshark/extcap"
ln -s "$(readlink -f "$PWRUDUMP")" "$WORK/config/wireshark/extcap/pwrudump"
export XDG_CONFIG_HOME="$WORK/config"

tshark -D 2>"$WORK/D.err" >"$WORK/D.out"
grep -q "\. pwru (pwru:" "$WORK/D.out" || fail "tshark -D does not list pwru: $(cat "$WORK/D.out" "$WORK/D.err")"
grep -q "\. pwru-drops (pwru-drops:" "$WORK/D.out" || fail "tshark -D does not list pwru-drops: $(cat "$WORK/D.out")"

# Options from the capture dialog arrive as preferences: the namespace filter and the backend.
tshark -i "$IFACE" -f "icmp and host $IP_B" -o "extcap.pwru.filternetns:/run/netns/$NS_B" \
  -o extcap.pwru.backend:tracepoint -a duration:10 -w "$WORK/trace.pcapng" \
  >"$WORK/tshark.out" 2>"$WORK/tshark.err" &
TSHARK_PID=$!
sleep 4  # attach happens in this window; pings sent before it would simply not be seen
ip netns exec "$NS_A" ping -c 6 -i 0.3 -W 1 "$IP_B" >/dev/null
wait "$TSHARK_PID"
rc=$?
assert_eq "tshark exit code" 0 "$rc"
if grep -qi "error" "$WORK/tshark.err"; then
  fail "tshark reported an error from the extcap: $(cat "$WORK/tshark.err")"
fi
chmod 644 "$WORK/trace.pcapng"

drops=$("$TSHARK_PLUGIN" "$BUILD" -r "$WORK/trace.pcapng" -T fields -E separator=' ' \
          -Y 'pwru.func == "kfree_skb" && pwru.drop_reason == "NETFILTER_DROP"' \
          -e pwru.ip.dst -e pwru.netns -e pwru.ifname -e icmp.type) \
  || fail "tshark could not read the capture"
n=$(printf '%s\n' "$drops" | grep -c .)
[ "$n" -ge 3 ] || fail "expected at least 3 of the 6 dropped pings, saw $n: $(cat "$WORK/tshark.err")"
while read -r dst netns ifname icmp_type; do
  assert_eq "pwru.ip.dst" "$IP_B" "$dst"
  assert_eq "pwru.netns" "$NETNS_B_INODE" "$netns"
  assert_eq "pwru.ifname" "$VETH_B" "$ifname"
  assert_eq "icmp.type" 8 "$icmp_type"
done <<<"$drops"
# The capture filter reached pwrudump: nothing but ICMP to or from the receiver is in the file.
others=$("$TSHARK_PLUGIN" "$BUILD" -r "$WORK/trace.pcapng" -Y "!(icmp && ip.addr == $IP_B)" \
           -T fields -e frame.number | grep -c .)
assert_eq "events that do not match the capture filter" 0 "$others"
spaces=$("$TSHARK_PLUGIN" "$BUILD" -r "$WORK/trace.pcapng" -T fields -E separator=" " -e pwru.netns -e pwru.probe | sort -u)
assert_eq "namespace and probe kind of all events (-o extcap.pwru.*)" "$NETNS_B_INODE 1" "$spaces"
if [ "$IFACE" = pwru-drops ]; then
  funcs=$("$TSHARK_PLUGIN" "$BUILD" -r "$WORK/trace.pcapng" -T fields -e pwru.func -e pwru.drop_reason | sort -u)
  assert_eq "events on pwru-drops" "$(printf 'kfree_skb\tNETFILTER_DROP')" "$funcs"
fi
pass "tshark -i $IFACE captured $n netfilter drops through the extcap"
