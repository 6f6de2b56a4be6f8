// Events the output tests format: a ping on its way out and the same ping dropped by netfilter.
#pragma once

#include <arpa/inet.h>

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

}  // namespace pwru::sample
