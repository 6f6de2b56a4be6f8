// What each kernel drop reason means and what to check, written once for pwrudump's text and
// JSON output and the pwru dissector. Keyed by the name pwrudump records (enum skb_drop_reason
// without SKB_DROP_REASON_), never by value: the values differ from kernel to kernel, and a
// capture read on another machine later gets the same words. Header-only plain C++ like
// pwru_rules.h (no allocation), so the dissector may call it where epan can longjmp. Every name
// of the matrix kernels' BTF (tests/unit/record/drop_reasons/) has an entry: reasons_test.cpp.
#pragma once

#include <stdint.h>

#include <string_view>

namespace pwru::reasons {

struct ReasonHelp {
  std::string_view name;  // without SKB_DROP_REASON_
  const char* meaning;    // one line, lower case, no final full stop
  const char* check;      // what to look at, or nullptr when nothing outside the kernel helps
};

// Linux 5.17 to 7.2 and net-next, grouped by topic. The kernel's own comments are in
// include/net/dropreason-core.h (6.0 on: include/net/dropreason.h; before: include/linux/skbuff.h).
inline constexpr ReasonHelp kReasonHelp[] = {
    // --- Not drops, and the enum's markers ---
    {"SKB_NOT_DROPPED_YET", "not a drop: the skb is still alive", nullptr},
    {"SKB_CONSUMED", "not a drop: the packet was delivered or used up normally", nullptr},
    {"CONSUMED", "not a drop: the packet was delivered or used up normally", nullptr},
    {"MAX", "not a reason: the end marker of the kernel's list", nullptr},
    {"SUBSYS_MASK", "not a reason: the mask of a subsystem's own reasons", nullptr},
    {"NOT_SPECIFIED", "the code that freed the packet gave no reason",
     "the caller and the stack (--output-stack) show where it happened"},

    // --- Sockets ---
    {"NO_SOCKET", "no socket wanted the packet: nothing listens on its destination port (for an "
     "ICMP reply, at ping_rcv: no ping socket waits for it, usually harmless)",
     "ss -ltnu in the receiver's netns: is the service up and bound to this address and port?"},
    {"SOCKET_CLOSE", "the socket was closed while the packet waited in it",
     "whether the application closed the connection early"},
    {"SOCKET_FILTER", "a filter attached to the socket (SO_ATTACH_FILTER, BPF) rejected it",
     "the receiving application's socket filter (ss -0 -p, bpftool net)"},
    {"SOCKET_RCVBUFF", "the socket's receive buffer was full: the application reads too slowly",
     "net.core.rmem_max, SO_RCVBUF, and whether the reader keeps up (ss -m: rb, dropped)"},
    {"SOCKET_BACKLOG", "the socket's backlog was full while a user held the socket",
     "TCPBacklogDrop in nstat; a reader that holds the socket too long"},
    {"PROTO_MEM", "the protocol's memory limit was reached (udp_mem, tcp_mem)",
     "net.ipv4.udp_mem / net.ipv4.tcp_mem against /proc/net/sockstat"},
    {"PFMEMALLOC", "the packet came from the emergency memory reserve and its socket may not use it",
     "memory pressure on the host (vm.min_free_kbytes)"},
    {"UNIX_DISCONNECT", "a unix socket's queue was purged: it reconnected or its peer closed",
     "the peer process's life cycle"},
    {"UNIX_SKIP_OOB", "a unix socket's out-of-band byte was skipped by a read without MSG_OOB",
     "the application's use of MSG_OOB"},
    {"PACKET_SOCK_ERROR", "a packet socket (tcpdump, AF_PACKET) matched it but could not queue it",
     "the packet socket's buffer size (PACKET_RX_RING, SO_RCVBUF)"},

    // --- Checksums and malformed packets ---
    {"PKT_TOO_SMALL", "the packet is shorter than its headers say", "the sender, or a truncating device"},
    {"TCP_CSUM", "bad TCP checksum",
     "checksum offload on the devices on the way (ethtool -k: tx-checksumming)"},
    {"UDP_CSUM", "bad UDP checksum",
     "checksum offload on the devices on the way (ethtool -k: tx-checksumming)"},
    {"ICMP_CSUM", "bad ICMP checksum", "the sender"},
    {"IP_CSUM", "bad IPv4 header checksum", "the sender, or a device that corrupts packets"},
    {"SKB_CSUM", "computing the packet's checksum failed", nullptr},
    {"IP_INHDR", "invalid IP header (version, length, TTL or options)",
     "the sender; InHdrErrors in nstat"},
    {"HDR_TRUNC", "a header could not be read from the packet: it is truncated",
     "the sender, or an encapsulation that cut the packet"},
    {"INVALID_PROTO", "the packet breaks its protocol's rules (e.g. a broadcast ICMP timestamp)",
     "the sender"},
    {"UNHANDLED_PROTO", "no handler for the packet's protocol (EtherType, IP protocol or version)",
     "whether the protocol's module is loaded (e.g. ipv6, sctp)"},
    {"PTYPE_ABSENT", "no handler for the packet's EtherType (5.18's name for UNHANDLED_PROTO)",
     "whether the protocol's module is loaded"},
    {"IP_NOPROTO", "no handler for the IP protocol number", "whether the protocol's module is loaded"},

    // --- IP input and routing ---
    {"OTHERHOST", "the packet is for another host (seen only because of promiscuous mode)",
     "the destination MAC address; normal on a bridge port or with tcpdump running"},
    {"UNICAST_IN_L2_MULTICAST", "a unicast IP packet inside a multicast or broadcast frame",
     "the sender; net.ipv4.conf.*.drop_unicast_in_l2_multicast"},
    {"IP_RPFILTER", "reverse path filter: the reply to the source would not leave by this interface",
     "net.ipv4.conf.{all,IFACE}.rp_filter and the route back to the source (ip route get SRC)"},
    {"IP_INADDRERRORS", "the destination is unreachable from here (host unreachable), also when "
     "the packet needed forwarding and forwarding is off",
     "net.ipv4.ip_forward (net.ipv6.conf.all.forwarding) and ip route get DST iif IFACE in the "
     "receiver's netns"},
    {"IP_INNOROUTES", "no route for the incoming packet's destination (network unreachable)",
     "ip route get DST from SRC iif IFACE in the receiver's netns, and the policy rules (ip rule)"},
    {"IP_OUTNOROUTES", "no route for the outgoing packet",
     "ip route get DST in the sender's netns, and the policy rules (ip rule)"},
    {"BLACKHOLE", "the route is a blackhole route", "ip route show type blackhole; ip rule"},
    {"IP_LOCAL_SOURCE", "the source address is one of this host's own, arriving from outside",
     "a loop, or a spoofed source; net.ipv4.conf.*.accept_local"},
    {"IP_INVALID_SOURCE", "invalid source address (multicast, broadcast, or zero outside IGMP)",
     "the sender"},
    {"IP_LOCALNET", "a 127.0.0.0/8 address on a device that is not loopback",
     "net.ipv4.conf.IFACE.route_localnet"},
    {"IP_INVALID_DEST", "invalid destination address (0.0.0.0)", "the sender"},
    {"PKT_TOO_BIG", "the packet is bigger than the MTU and may not be fragmented",
     "ip link show: the MTUs on the path; whether ICMP too-big messages get back (PMTU)"},
    {"XFRM_POLICY", "an IPsec (xfrm) policy check failed", "ip xfrm policy; ip xfrm state"},
    {"IPV6DISABLED", "IPv6 is disabled on the device",
     "net.ipv6.conf.IFACE.disable_ipv6 (or all.disable_ipv6)"},
    {"DUP_FRAG", "a duplicate fragment", "the sender, or a path that duplicates packets"},
    {"FRAG_REASM_TIMEOUT", "the fragments of a packet did not all arrive in time",
     "lost fragments on the path; net.ipv4.ipfrag_time"},
    {"FRAG_TOO_FAR", "a fragment arrived too late after others of its source",
     "net.ipv4.ipfrag_max_dist"},
    {"IP_TUNNEL_ECN", "a decapsulated packet's ECN bits conflict with the outer header's (RFC 6040)",
     "ECN marking on the tunnel's endpoints"},
    {"SECURITY_HOOK", "a security module (SELinux, AppArmor, Smack) rejected it",
     "the LSM's audit log (ausearch, dmesg)"},

    // --- IPv6 ---
    {"IPV6_BAD_EXTHDR", "an invalid IPv6 extension header", "the sender"},
    {"IPV6_TOO_MANY_EXTHDRS", "too many IPv6 extension headers",
     "net.ipv6.max_dst_opts_number and max_hbh_opts_number"},
    {"IPV6_NDISC_FRAG", "a fragmented neighbour discovery message",
     "net.ipv6.conf.IFACE.suppress_frag_ndisc"},
    {"IPV6_NDISC_HOP_LIMIT", "a neighbour discovery message whose hop limit is not 255",
     "the sender: NDISC must not be routed"},
    {"IPV6_NDISC_BAD_CODE", "a neighbour discovery message with a bad ICMPv6 code", "the sender"},
    {"IPV6_NDISC_BAD_OPTIONS", "a neighbour discovery message with bad options", "the sender"},
    {"IPV6_NDISC_NS_OTHERHOST", "a neighbour solicitation for an address not on this host",
     "the target address (ip -6 addr)"},

    // --- Netfilter, BPF, tc, XDP ---
    {"NETFILTER_DROP", "a netfilter rule or chain policy dropped it",
     "nft list ruleset / iptables -S in the netns where it was dropped (--nf-trace names the rule)"},
    {"BPF_CGROUP_EGRESS", "a cgroup BPF program dropped it on its way out",
     "bpftool cgroup tree: egress programs on the sender's cgroup"},
    {"XDP", "an XDP program dropped it", "ip link show IFACE (xdp); bpftool net"},
    {"TC_INGRESS", "a tc ingress filter or action dropped it",
     "tc filter show dev IFACE ingress; bpftool net"},
    {"TC_EGRESS", "a tc egress filter or action dropped it",
     "tc filter show dev IFACE egress; bpftool net"},
    {"TC_COOKIE_ERROR", "tc could not handle an action's cookie", nullptr},
    {"TC_CHAIN_NOTFOUND", "a tc filter jumped to a chain that does not exist",
     "tc chain show dev IFACE; the goto chain actions"},
    {"TC_RECLASSIFY_LOOP", "tc reclassified the packet too many times", "the reclassify actions"},
    {"TAP_FILTER", "a BPF filter attached to a tun/tap device rejected it",
     "the program using the tap (TUNSETFILTEREBPF)"},
    {"TAP_TXFILTER", "a tun/tap device's address filter rejected it",
     "the program using the tap (TUNSETTXFILTER)"},

    // --- Queues and qdiscs ---
    {"CPU_BACKLOG", "the CPU's input backlog queue was full",
     "net.core.netdev_max_backlog, RPS flow limits; softnet_stat's second column"},
    {"MACVLAN_BROADCAST_BACKLOG", "a macvlan's broadcast queue was full",
     "the macvlan's bc_queue_len (ip -d link)"},
    {"IPVLAN_MULTICAST_BACKLOG", "an ipvlan's multicast queue was full", nullptr},
    {"QDISC_DROP", "the device's qdisc refused the packet (its queue is full)",
     "tc -s qdisc show dev IFACE: dropped, limit"},
    {"QDISC_OVERLIMIT", "the qdisc is over its total buffer limit", "tc -s qdisc show dev IFACE"},
    {"QDISC_CONGESTED", "the qdisc's queue management dropped it for congestion (AQM)",
     "tc -s qdisc show dev IFACE"},
    {"QDISC_BURST_DROP", "too many packets were queued to a qdisc at once",
     "net.core.qdisc_max_burst"},
    {"CAKE_FLOOD", "the cake qdisc's flood protection dropped it", "tc -s qdisc show dev IFACE"},
    {"FQ_BAND_LIMIT", "the fq qdisc's band limit was reached", "tc -s qdisc show dev IFACE"},
    {"FQ_HORIZON_LIMIT", "the fq qdisc got a packet timestamped too far in the future",
     "fq's horizon (tc qdisc show dev IFACE)"},
    {"FQ_FLOW_LIMIT", "the fq qdisc's per-flow limit was reached",
     "fq's flow_limit (tc qdisc show dev IFACE)"},
    {"DUALPI2_STEP_DROP", "the dualpi2 qdisc's step threshold dropped it",
     "tc -s qdisc show dev IFACE"},
    {"QUEUE_PURGE", "a whole queue was freed at once (a device or socket shut down)", nullptr},
    {"FULL_RING", "a device's ring buffer was full", "ethtool -g IFACE; ethtool -S IFACE"},

    // --- Devices, memory, offloads ---
    {"DEV_READY", "the device is not ready (down, or not set up)", "ip link show IFACE: UP?"},
    {"DEV_HDR", "the device's own header or metadata is invalid", "the driver"},
    {"NOMEM", "out of memory", "free -m; dmesg for allocation failures"},
    {"SKB_GSO_SEG", "segmenting a GSO packet failed", "ethtool -k IFACE: gso, tso"},
    {"SKB_BAD_GSO", "a GSO packet's metadata is invalid", "ethtool -k IFACE; the sender (virtio)"},
    {"SKB_UCOPY_FAULT", "copying the data from user space failed", "the sending application"},
    {"SKB_RX_HEADROOM", "not enough headroom in front of a received packet", "the driver"},
    {"RECURSION_LIMIT", "transmit recursed too deep: devices stacked in a loop",
     "tunnels or stacked devices that route into each other"},
    {"LOCAL_MAC", "the source MAC address is the receiving device's own",
     "a loop in the L2 network"},
    {"MAC_INVALID_SOURCE", "invalid source MAC address (multicast or zero)", "the sender"},
    {"MAC_IEEE_MAC_CONTROL", "a frame to an IEEE MAC Control address (e.g. pause frames)", nullptr},
    {"BRIDGE_INGRESS_STP_STATE", "the bridge port's STP state does not forward frames",
     "bridge link show: the port's state (blocking, listening)"},
    {"ARP_PVLAN_DISABLE", "a frame sent back out of its input port without proxy_arp_pvlan",
     "net.ipv4.conf.IFACE.proxy_arp_pvlan"},

    // --- Neighbours (ARP, NDISC) ---
    {"NEIGH_CREATEFAIL", "no neighbour entry could be created",
     "net.ipv4.neigh.default.gc_thresh3 against ip neigh | wc -l"},
    {"NEIGH_FAILED", "neighbour resolution failed: the next hop did not answer ARP/NDISC",
     "ip neigh show: FAILED entries; is the next hop up?"},
    {"NEIGH_QUEUEFULL", "too many packets waited for neighbour resolution",
     "net.ipv4.neigh.IFACE.unres_qlen_bytes; is the next hop up?"},
    {"NEIGH_DEAD", "the neighbour entry was removed while in use", nullptr},
    {"NEIGH_HH_FILLFAIL", "the link-layer header could not be filled from the neighbour entry",
     nullptr},

    // --- Tunnels ---
    {"VXLAN_INVALID_HDR", "invalid VXLAN header (reserved bits set, or no I flag)", "the sender"},
    {"VXLAN_VNI_NOT_FOUND", "no VXLAN device for the packet's VNI",
     "ip -d link show type vxlan: the VNIs and ports"},
    {"VXLAN_ENTRY_EXISTS", "a VXLAN entry that may not move (static, or to a nexthop)",
     "bridge fdb show dev VXLAN_DEV"},
    {"VXLAN_NO_REMOTE", "a VXLAN device found no remote to send to",
     "bridge fdb show dev VXLAN_DEV; the device's remote"},
    {"NO_TX_TARGET", "a tunnel or VXLAN device found no target to send to",
     "bridge fdb show dev DEV; the device's remote"},
    {"TUNNEL_TXINFO", "a tunnel device in external mode got a packet without tunnel metadata",
     "the program or route that should set the tunnel key (ip route ... encap, bpf)"},
    {"PSP_INPUT", "a PSP-encrypted packet failed the receive policy", "the PSP configuration"},
    {"PSP_OUTPUT", "a packet failed the PSP transmit policy", "the PSP configuration"},

    // --- CAN ---
    {"CAN_RX_INVALID_FRAME", "an invalid CAN frame", "the CAN device and sender"},
    {"CANFD_RX_INVALID_FRAME", "an invalid CAN FD frame", "the CAN device and sender"},
    {"CANXL_RX_INVALID_FRAME", "an invalid CAN XL frame", "the CAN device and sender"},

    // --- TCP ---
    {"TCP_FLAGS", "invalid combination of TCP flags", "the sender"},
    {"TCP_ZEROWINDOW", "the receive window is zero: the application reads too slowly",
     "TCPZeroWindowDrop in nstat; the reader"},
    {"TCP_OLD_DATA", "data that was already received (a spurious retransmission)", nullptr},
    {"TCP_OVERWINDOW", "data beyond the receive window", "the sender's window handling"},
    {"TCP_OFOMERGE", "out-of-order data that was already queued", nullptr},
    {"TCP_OFO_DROP", "out-of-order data that was already received", nullptr},
    {"TCP_OFO_QUEUE_PRUNE", "out-of-order data dropped to free memory",
     "net.ipv4.tcp_rmem; TCPOFODrop and PruneCalled in nstat"},
    {"TCP_RFC7323_PAWS", "PAWS: the segment's timestamp is older than the last one seen",
     "a middlebox rewriting timestamps, or NAT mixing hosts (net.ipv4.tcp_timestamps)"},
    {"TCP_RFC7323_PAWS_ACK", "PAWS: an old ACK with an old timestamp", nullptr},
    {"TCP_RFC7323_TW_PAWS", "PAWS on a TIME-WAIT socket: an old segment of a closed connection",
     "NAT mixing hosts; net.ipv4.tcp_tw_reuse"},
    {"TCP_RFC7323_TSECR", "the timestamp echo (TSecr) is not one this host sent",
     "a middlebox rewriting timestamps"},
    {"TCP_OLD_SEQUENCE", "a segment whose sequence numbers were all received before", nullptr},
    {"TCP_INVALID_SEQUENCE", "a sequence number outside the receive window", nullptr},
    {"TCP_INVALID_END_SEQUENCE", "a segment that ends outside the receive window", nullptr},
    {"TCP_INVALID_ACK_SEQUENCE", "an ACK outside what was sent and not acknowledged yet", nullptr},
    {"TCP_RESET", "an invalid RST (outside the window)", nullptr},
    {"TCP_INVALID_SYN", "an unexpected SYN on an open connection", nullptr},
    {"TCP_CLOSE", "a segment for a socket in CLOSE state", nullptr},
    {"TCP_FASTOPEN", "a TCP Fast Open request socket dropped it", "net.ipv4.tcp_fastopen"},
    {"TCP_OLD_ACK", "an old ACK, still in the window", nullptr},
    {"TCP_TOO_OLD_ACK", "an ACK too old to use", nullptr},
    {"TCP_ACK_UNSENT_DATA", "an ACK for data that was never sent", "a middlebox rewriting sequences"},
    {"TCP_ABORT_ON_DATA", "data arrived after the application closed: the connection is reset",
     "the application closing with unread data (TCPAbortOnData in nstat)"},
    {"TCP_LISTEN_OVERFLOW", "the listener's accept queue was full",
     "the listen backlog and net.core.somaxconn; ListenOverflows in nstat; a slow accept()"},
    {"TCP_MINTTL", "TTL or hop limit below the socket's minimum (IP_MINTTL, IPV6_MINHOPCOUNT)",
     "the application's IP_MINTTL setting (BGP's GTSM)"},
    {"TCP_AUTH_HDR", "TCP-MD5 or TCP-AO options present twice or set wrong", "the peer"},
    {"TCP_MD5NOTFOUND", "TCP-MD5 expected but the segment has none", "the peer's MD5 key setup"},
    {"TCP_MD5UNEXPECTED", "TCP-MD5 present but no key is set", "this host's MD5 key setup"},
    {"TCP_MD5FAILURE", "wrong TCP-MD5 signature", "the keys on both ends"},
    {"TCP_AONOTFOUND", "TCP-AO expected but the segment has none", "the peer's TCP-AO setup"},
    {"TCP_AOUNEXPECTED", "TCP-AO present but not expected", "this host's TCP-AO setup"},
    {"TCP_AOKEYNOTFOUND", "TCP-AO key unknown", "the key ids on both ends"},
    {"TCP_AOFAILURE", "wrong TCP-AO signature", "the keys on both ends"},
};

// How every output joins an entry's two parts: "MEANING; check: CHECK".
inline constexpr const char* kCheckSeparator = "; check: ";

// What is said of a name the table does not know: a kernel newer than this table.
inline constexpr const char* kUnknownReasonMeaning = "no explanation is known yet";

// A subsystem's own reason (mac80211, openvswitch, a qdisc; enum skb_drop_reason_subsys, 6.7
// on): pwrudump names values outside enum skb_drop_reason `reason_N`, and which subsystem the
// high 16 bits name differs between kernels, so the words stay generic.
inline constexpr ReasonHelp kSubsystemReasonHelp = {
    "", "a subsystem's own reason (mac80211, openvswitch or a qdisc): the high 16 bits are the "
    "subsystem, the low 16 its reason",
    "enum skb_drop_reason_subsys in this kernel's BTF, then that subsystem's reasons"};

// The number in pwrudump's name for a value BTF did not name (`reason_65537`); -1 otherwise.
constexpr int64_t unnamed_reason_value(std::string_view name) {
  constexpr std::string_view prefix = "reason_";
  if (!name.starts_with(prefix) || name.size() == prefix.size() || name.size() > prefix.size() + 10)
    return -1;
  int64_t value = 0;
  for (char c : name.substr(prefix.size())) {
    if (c < '0' || c > '9') return -1;
    value = value * 10 + (c - '0');
  }
  return value;
}

// The entry for `name` (enum skb_drop_reason without SKB_DROP_REASON_, as pwrudump records it);
// nullptr when the table does not know it (say kUnknownReasonMeaning).
constexpr const ReasonHelp* reason_help(std::string_view name) {
  for (const ReasonHelp& r : kReasonHelp)
    if (r.name == name) return &r;
  if (unnamed_reason_value(name) > 0xffff) return &kSubsystemReasonHelp;
  return nullptr;
}

}  // namespace pwru::reasons
