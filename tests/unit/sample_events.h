// The events the unit tests build, in one place: a ping on its way out and dropped, events with
// every field, a journey of three hops. (The capture loop's pings, with their packet bytes, are
// built from filter/test_packets.h, whose pwru::testing would hide GoogleTest's here.)
#pragma once

#include <arpa/inet.h>

#include <cstdint>
#include <vector>

#include "record/event.h"

namespace pwru::sample {

// An echo request from 10.0.0.1 to 10.0.0.2 queued on veth1 by ping, with caller and stack.
inline Event icmp_event() {
  Event ev;
  ev.time_ns = 1'700'000'000'123'456'789ull;  // 2023-11-14T22:13:20.123 UTC
  ev.ktime_ns = 5'000'000'000ull;
  ev.skb = 0xffff99cf11aa4100;
  ev.cpu = 3;
  ev.comm = "ping";
  ev.pid = 1234;
  ev.netns = 4026531840;
  ev.ifindex = 5;
  ev.ifname = "veth1";
  ev.protocol = 0x0800;
  ev.mtu = 1500;
  ev.len = 84;
  ev.ip_version = 4;
  inet_pton(AF_INET, "10.0.0.1", ev.saddr.data());
  inet_pton(AF_INET, "10.0.0.2", ev.daddr.data());
  ev.l4proto = 1;
  ev.func = "net_dev_queue";
  ev.caller = "ip_finish_output2+0x1a3";
  ev.stack = {"__dev_queue_xmit+0x5e2", "ip_finish_output2+0x1a3", "ip_output+0x6f"};
  ev.layer = PacketLayer::Network;
  ev.packet = {0x45, 0x00, 0x00, 0x54};
  return ev;
}

// icmp_event's echo request inside VXLAN (VNI 42) from 172.16.0.1:41000 to 172.16.0.2:4789, as
// the underlay's veth0 sends it: the outer frame's bytes carry the inner packet.
inline Event vxlan_event() {
  Event ev = icmp_event();
  ev.ifindex = 2;
  ev.ifname = "veth0";
  ev.len = 134;
  inet_pton(AF_INET, "172.16.0.1", ev.saddr.data());
  inet_pton(AF_INET, "172.16.0.2", ev.daddr.data());
  ev.l4proto = 17;
  ev.has_ports = true;
  ev.sport = 41000;
  ev.dport = 4789;
  ev.layer = PacketLayer::Network;
  ev.packet = {
      0x45, 0, 0, 134, 0, 0, 0, 0, 64, 17, 0, 0, 172, 16, 0, 1, 172, 16, 0, 2,  // outer IPv4
      0xa0, 0x28, 0x12, 0xb5, 0, 114, 0, 0,                                    // UDP 41000->4789
      0x08, 0, 0, 0, 0, 0, 42, 0,                                              // VXLAN, VNI 42
      2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00,                          // inner Ethernet
      0x45, 0, 0, 84, 0, 0, 0x40, 0, 64, 1, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,    // inner IPv4
      8, 0, 0, 0, 0, 1, 0, 1};                                                 // ICMP echo
  return ev;
}

// The same skb freed at kfree_skb with reason NETFILTER_DROP by nf_hook_slow.
inline Event netfilter_drop() {
  Event ev = icmp_event();
  ev.func = "kfree_skb";
  ev.drop_reason = 6;
  ev.drop_reason_name = "NETFILTER_DROP";
  ev.caller = "nf_hook_slow+0x9b";
  ev.caller_addr = 0xffffffff81aabbcc;
  return ev;
}

// A TCP SYN-ACK dropped by netfilter, with every field an IPv4 event can carry.
// The drop above as --nf-trace names it: an inet table's input chain jumped to c2, which dropped.
inline Event named_netfilter_drop() {
  Event ev = netfilter_drop();
  NfRule nf;
  nf.family = 1;
  nf.hook = "input";
  nf.table = "demo";
  nf.chain = "c2";
  nf.handle = 4;
  nf.rule = "ip saddr 10.0.0.1 meta l4proto icmp drop comment \"no \\\"ping\\\"\"";
  nf.verdict = 0;
  ev.nf = nf;
  return ev;
}

// A rule the packet of the drop above passed before it: input's jump to c2 (--nf-trace).
inline Event passed_jump() {
  Event ev = named_netfilter_drop();
  ev.func = "nft_trace_packet";
  ev.probe = ProbeKind::NfTrace;
  ev.drop_reason.reset();
  ev.drop_reason_name.clear();
  ev.caller.clear();
  ev.caller_addr = 0;
  ev.nf->chain = "input";
  ev.nf->handle = 3;
  ev.nf->rule = "ip protocol icmp jump c2";
  ev.nf->verdict = -3;
  ev.nf->jump_target = "c2";
  ev.nf->type = NfTraceType::Rule;
  return ev;
}

inline Event full_ipv4() {
  Event ev;
  ev.time_ns = 1'700'000'000'123'456'789ULL;  // not encoded: must come back as 0
  ev.ktime_ns = 987'654'321'012ULL;
  ev.skb = 0xffff888012345678ULL;
  ev.func = "kfree_skb";
  ev.probe = ProbeKind::Tracepoint;
  ev.cpu = 1;
  ev.pid = 4242;
  ev.comm = "ping";
  ev.netns = 4026531840U;
  ev.mark = 0xdeadbeef;
  ev.ifindex = 7;
  ev.ifname = "veth-b";
  ev.protocol = 0x0800;
  ev.mtu = 1500;
  ev.len = 84;
  ev.ip_version = 4;
  ev.saddr = {10, 0, 0, 1};
  ev.daddr = {10, 0, 0, 2};
  ev.l4proto = 6;
  ev.has_ports = true;
  ev.sport = 43210;
  ev.dport = 80;
  ev.tcp_flags = 0x12;
  ev.drop_reason = 12;
  ev.drop_reason_name = "NETFILTER_DROP";
  ev.caller_addr = 0xffffffff81a2b3c4ULL;
  ev.caller = "nf_hook_slow+0x9b";
  ev.stack = {"kfree_skb_reason+0x0", "nf_hook_slow+0x9b", "ip_local_deliver+0x7e"};
  ev.layer = PacketLayer::Ethernet;
  ev.packet = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00,
               0x00, 0x00, 0x01, 0x08, 0x00, 0x45, 0x00, 0x00, 0x54};
  return ev;
}

// The same as an IPv6 UDP event at an fentry probe, not a drop.
inline Event full_ipv6() {
  Event ev = full_ipv4();
  ev.func = "ip6_rcv_core";
  ev.probe = ProbeKind::Fentry;
  ev.protocol = 0x86dd;
  ev.ip_version = 6;
  ev.saddr = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  ev.daddr = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
  ev.l4proto = 17;
  ev.tcp_flags.reset();
  ev.drop_reason.reset();
  ev.drop_reason_name.clear();
  ev.layer = PacketLayer::Network;
  ev.packet = {0x60, 0x00, 0x00, 0x00, 0x00, 0x08, 0x11, 0x40};
  return ev;
}

// Three hops of one skb to its drop, with odd nanoseconds (a microsecond-precision path anywhere
// would lose them) and an odd-length packet (the EPB needs padding).
inline std::vector<Event> three_hops() {
  std::vector<Event> events(3);
  const char* funcs[] = {"netif_receive_skb", "ip_rcv", "kfree_skb"};
  for (size_t i = 0; i < events.size(); ++i) {
    Event& ev = events[i];
    // Odd nanoseconds: a microsecond-precision path anywhere would lose them.
    ev.time_ns = 1'700'000'000'123'456'789ULL + i * 1'001;
    ev.ktime_ns = 5'000'000'000ULL + i;
    ev.skb = 0xffff888000001000ULL;
    ev.func = funcs[i];
    ev.comm = "ping";
    ev.len = 84;
  }
  events[2].drop_reason = 12;
  events[2].drop_reason_name = "NETFILTER_DROP";
  events[2].layer = PacketLayer::Network;
  events[2].packet = std::vector<uint8_t>(41, 0x45);  // odd length: the EPB needs padding
  return events;
}

}  // namespace pwru::sample
