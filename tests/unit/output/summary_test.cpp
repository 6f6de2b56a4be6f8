// DropSummary (--output-summary): which journeys get a line, what the line holds (the packet as
// first seen, the interfaces in order, the drop), the totals, and the bounds on what it keeps.
#include "output/summary.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "pwru_summary_line.h"
#include "sample_events.h"

namespace pwru {
namespace {

constexpr uint64_t kA = 0xffff888100001000, kB = 0xffff888100002000;

// The sample ping at `func`, on the device given (none by default), without a caller.
Event ev(uint64_t skb, const char* func, const char* ifname = "", uint32_t ifindex = 0,
         uint32_t netns = 0) {
  Event e = sample::icmp_event();
  e.skb = skb;
  e.func = func;
  e.ifname = ifname;
  e.ifindex = ifindex;
  e.netns = netns;
  e.caller.clear();
  return e;
}

Event kprobe(Event e) {
  e.probe = ProbeKind::Kprobe;
  return e;
}

Event dropped(Event e, const char* reason) {
  e.drop_reason = 2;
  e.drop_reason_name = reason;
  e.caller = "ping_rcv+0x81";
  return e;
}

std::vector<std::string> lines(const std::vector<Event>& events, size_t max_listed = 1000) {
  DropSummary s(std::nullopt, max_listed);
  for (const Event& e : events) s.add(e);
  return s.lines();
}

TEST(DropSummary, ADroppedJourneyGetsItsLineThenTheTotals) {
  const auto got = lines({ev(kA, "net_dev_queue", "veth-a", 5, 100),
                          ev(kA, "net_dev_xmit", "veth-a", 5, 100),
                          ev(kA, "netif_receive_skb", "veth-b", 6, 200),
                          ev(kA, "ip_rcv", "veth-b", 6, 200),
                          ev(kA, "ping_rcv", "", 0, 200),
                          dropped(ev(kA, "kfree_skb", "veth-b", 6, 200), "NO_SOCKET")});
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].substr(0, got[0].find("; hint: ")),
            "journey 0: 10.0.0.1:0->10.0.0.2:0(icmp) via veth-a (netns 100) > veth-b (netns 200), "
            "dropped at kfree_skb from ping_rcv+0x81: NO_SOCKET");
  EXPECT_NE(got[0].find("; hint: no socket wanted the packet"), std::string::npos);
  EXPECT_EQ(got[1], "1 journey: 1 ended in a drop, 0 ended without one, 0 had not ended when the "
                    "capture stopped");
}

// Consumed journeys are forgotten; the teardown of a listed drop adds nothing; an open journey
// is counted as such.
TEST(DropSummary, OnlyDropsAreListed) {
  const auto got = lines({ev(kA, "ip_rcv"), ev(kA, "consume_skb"),
                          ev(kA, "ip_rcv"), dropped(ev(kA, "kfree_skb"), "NETFILTER_DROP"),
                          kprobe(ev(kA, "skb_release_data")), ev(kB, "ip_rcv")});
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].rfind("journey 1: ", 0), 0u) << got[0];
  EXPECT_EQ(got[1], "3 journeys: 1 ended in a drop, 1 ended without one, 1 had not ended when "
                    "the capture stopped");
}

// The packet as its first event saw it: a later NAT does not change the line's tuple.
TEST(DropSummary, ThePacketIsItsFirstTuple) {
  Event first = ev(kA, "ip_rcv");
  first.ip_version = 0;  // no IP header read yet
  Event natted = dropped(ev(kA, "kfree_skb"), "NO_SOCKET");
  natted.daddr = {10, 0, 0, 99};
  const auto got = lines({first, ev(kA, "ip_rcv_core"), natted});
  EXPECT_NE(got[0].find(": 10.0.0.1:0->10.0.0.2:0(icmp) via no interface, "),
            std::string::npos)
      << got[0];
}

TEST(DropSummary, InterfacesAreBounded) {
  std::vector<Event> events;
  for (uint32_t i = 1; i <= summary::kMaxCrossings + 3; ++i) {
    events.push_back(ev(kA, "netif_receive_skb", "", i, 1));
  }
  events.push_back(dropped(ev(kA, "kfree_skb"), "NO_SOCKET"));
  EXPECT_NE(lines(events)[0].find(" > ifindex 8 > and 3 more, dropped"), std::string::npos);
}

TEST(DropSummary, DropsBeyondTheCapAreCounted) {
  std::vector<Event> events;
  for (uint64_t i = 0; i < 5; ++i) events.push_back(dropped(ev(kA + i, "kfree_skb"), "NO_SOCKET"));
  const auto got = lines(events, 2);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[1].rfind("journey 1: ", 0), 0u);
  EXPECT_EQ(got[2], "5 journeys: 5 ended in a drop, 0 ended without one, 0 had not ended when the "
                    "capture stopped; 3 drops after the first 2 are not listed");
}

// The same journey numbers as JSON's and the dissector's: a record of lost netfilter trace
// messages is no skb's.
TEST(DropSummary, LostTraceRecordsAreNoJourney) {
  Event lost;
  lost.func = "nf_trace_lost";
  lost.nf_trace_lost = 1;
  // Named, not a braced temporary: GCC 16 (sid) sees a false free-nonheap-object in the latter.
  std::vector<Event> events;
  events.push_back(lost);
  events.push_back(dropped(ev(kA, "kfree_skb"), "NO_SOCKET"));
  const auto got = lines(events);
  EXPECT_EQ(got[0].rfind("journey 0: ", 0), 0u);
}

}  // namespace
}  // namespace pwru
