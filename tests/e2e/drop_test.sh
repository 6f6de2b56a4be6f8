#!/usr/bin/env bash
# End to end on the running kernel: pings between two namespaces, traced with `pwrudump -w`,
# read back by tshark with the pwru plugin.
#   drop:   iptables drops ICMP in the receiver; every ping is seen at kfree_skb with reason
#           NETFILTER_DROP, the receiver's netns and veth, and the payload dissected as ICMP.
#   nodrop: no rule; the pings show the veth transmit and receive path and no NETFILTER_DROP.
#   drop-rawtp: as drop, with the BTF given as a file (--kernel-btf), where the tracepoint
#           backend uses raw_tp programs reading the skb through helpers instead of tp_btf
#           programs reading it directly. Each mode checks which of the two it ran.
# usage: drop_test.sh drop|nodrop|drop-rawtp PWRUDUMP BUILD_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib/common.sh
. "$here/../lib/common.sh"
mode=$1 PWRUDUMP=$2 BUILD=$3

require_root
require_cmd ip iptables ping tshark setpriv
e2e_hosts
PINGS=3
# The program type the tracepoint backend loads (the kernel's numbers): BPF_PROG_TYPE_TRACING
# (26, tp_btf) with the kernel's own BTF, BPF_PROG_TYPE_RAW_TRACEPOINT (17) with a BTF file.
flavour=(); prog_type=26
if [ "$mode" = drop-rawtp ]; then
  mode=drop flavour=(--kernel-btf /sys/kernel/btf/vmlinux) prog_type=17
fi

if [ "$mode" = drop ]; then
  ip netns exec "$NS_B" iptables -I INPUT -p icmp -j DROP || fail "cannot add the iptables rule"
fi

"$PWRUDUMP" -q -w "$WORK/trace.pcapng" --ready-file "$WORK/ready" "${flavour[@]}" \
  "icmp and host $IP_B" 2>"$WORK/stderr" &
PWRU_PID=$!
wait_for_file "$WORK/ready" 60 || fail "pwrudump never got ready: $(cat "$WORK/stderr")"
types=$(cat /proc/"$PWRU_PID"/fdinfo/* 2>/dev/null | awk '$1 == "prog_type:" { print $2 }' | sort -u)
assert_eq "type of pwrudump's BPF programs" "$prog_type" "$types"
ip netns exec "$NS_A" ping -c "$PINGS" -i 0.2 -W 1 "$IP_B" >"$WORK/ping.out"
ping_rc=$?
stop_trace
chmod 644 "$WORK/trace.pcapng"

tshark_fields() {
  "$TSHARK_PLUGIN" "$BUILD" -r "$WORK/trace.pcapng" -T fields -E separator=' ' "$@"
}

drops=$(tshark_fields -Y "$DROPPED_PING_FILTER" "${DROPPED_PING_FIELDS[@]}") \
  || fail "tshark could not read the capture"

if [ "$mode" = drop ]; then
  [ "$ping_rc" -ne 0 ] || fail "pings got through although ICMP is dropped"
  n=$(printf '%s\n' "$drops" | grep -c .)
  assert_eq "kfree_skb NETFILTER_DROP events" "$PINGS" "$n"
  assert_dropped_pings "$drops"
  pass "$PINGS pings dropped by netfilter in $NS_B, seen at kfree_skb with reason, netns, veth, caller"
else
  [ "$ping_rc" -eq 0 ] || fail "pings failed without any drop rule: $(cat "$WORK/ping.out")"
  assert_eq "NETFILTER_DROP events" "" "$drops"
  # The echo requests leave through the sender's veth and arrive through the receiver's.
  tx=$(tshark_fields -Y "pwru.func == \"net_dev_start_xmit\" && pwru.ip.dst == $IP_B && icmp.type == 8" \
         -e pwru.ifname -e pwru.netns | sort -u)
  assert_eq "transmit on the sender's veth" "$VETH_A $NETNS_A_INODE" "$tx"
  rx=$(tshark_fields -Y "pwru.func == \"netif_receive_skb\" && pwru.ip.dst == $IP_B && icmp.type == 8" \
         -e pwru.ifname -e pwru.netns | sort -u)
  assert_eq "receive on the receiver's veth" "$VETH_B $NETNS_B_INODE" "$rx"
  # Each echo request is received once.
  n=$(tshark_fields -Y "pwru.func == \"netif_receive_skb\" && icmp.type == 8" -e pwru.skb | grep -c .)
  assert_eq "echo requests received" "$PINGS" "$n"
  pass "$PINGS pings traced across the veth pair with no drop"
fi
