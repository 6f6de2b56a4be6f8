// JourneyTracker: journeys numbered by the shared rule (pwru_rules.h, pinned on its own in
// tests/unit/record/rules_test.cpp), case by case through the tracker: frees, drop reasons, the
// teardown a function-probe free leaves behind, reused addresses.
#include "output/journey.h"

#include <gtest/gtest.h>

#include <vector>

namespace pwru {
namespace {

constexpr uint64_t kA = 0xffff888100001000, kB = 0xffff888100002000;

Event ev(uint64_t skb, const char* func, ProbeKind probe = ProbeKind::Tracepoint, uint32_t cpu = 0) {
  Event e;
  e.skb = skb;
  e.func = func;
  e.probe = probe;
  e.cpu = cpu;
  return e;
}

std::vector<uint32_t> steps(const std::vector<Event>& events) {
  JourneyTracker t;
  std::vector<uint32_t> out;
  for (const Event& e : events) out.push_back(t.step(e));
  return out;
}

TEST(Journey, NumberedInOrderOfFirstEvents) {
  EXPECT_EQ(steps({ev(kA, "net_dev_queue"), ev(kB, "net_dev_queue"), ev(kA, "net_dev_xmit"),
                   ev(kB, "netif_receive_skb")}),
            (std::vector<uint32_t>{0, 1, 0, 1}));
}

TEST(Journey, EachFreeingFunctionEndsIt) {
  for (const char* free : {"kfree_skb", "consume_skb", "kfree_skbmem", "__kfree_skb",
                           "kfree_skb_reason", "sk_skb_reason_drop", "napi_consume_skb",
                           "__kfree_skb_reason"}) {
    EXPECT_EQ(steps({ev(kA, "netif_receive_skb"), ev(kA, free), ev(kA, "net_dev_queue")}),
              (std::vector<uint32_t>{0, 0, 1}))
        << free;
  }
}

TEST(Journey, ADropReasonEndsItWhateverTheFunction) {
  Event drop = ev(kA, "tcp_v4_rcv_drop_hook");
  drop.drop_reason = 2;
  EXPECT_EQ(steps({ev(kA, "ip_rcv"), drop, ev(kA, "ip_rcv")}), (std::vector<uint32_t>{0, 0, 1}));
}

// kprobe on kfree_skb_reason, then the kfree_skb tracepoint, skb_release_data and kfree_skbmem
// of the same free on the same CPU: one journey. After kfree_skbmem the address is free.
TEST(Journey, TeardownOfOneFreeStaysInItsJourney) {
  EXPECT_EQ(steps({ev(kA, "ip_rcv", ProbeKind::Kprobe, 1),
                   ev(kA, "kfree_skb_reason", ProbeKind::Kprobe, 1),
                   ev(kA, "kfree_skb", ProbeKind::Tracepoint, 1),
                   ev(kA, "skb_release_head_state", ProbeKind::Kprobe, 1),
                   ev(kA, "skb_release_data", ProbeKind::Kprobe, 1),
                   ev(kA, "kfree_skbmem", ProbeKind::Kprobe, 1),
                   ev(kA, "skb_release_data", ProbeKind::Kprobe, 1)}),
            (std::vector<uint32_t>{0, 0, 0, 0, 0, 0, 1}));
}

TEST(Journey, TeardownElsewhereOrASecondTracepointIsANewSkb) {
  // Another CPU: a free runs on one CPU, so this is a new skb at the same address.
  EXPECT_EQ(steps({ev(kA, "kfree_skb_reason", ProbeKind::Kprobe, 1),
                   ev(kA, "skb_release_data", ProbeKind::Kprobe, 2)}),
            (std::vector<uint32_t>{0, 1}));
  // One free fires one tracepoint: a second consume_skb tracepoint is the next skb's.
  EXPECT_EQ(steps({ev(kA, "consume_skb"), ev(kA, "consume_skb"), ev(kA, "kfree_skb")}),
            (std::vector<uint32_t>{0, 1, 2}));
  // Not a teardown function: a new journey even on the same CPU.
  EXPECT_EQ(steps({ev(kA, "kfree_skb_reason", ProbeKind::Kprobe, 1),
                   ev(kA, "ip_rcv", ProbeKind::Kprobe, 1)}),
            (std::vector<uint32_t>{0, 1}));
}

// pskb_expand_head calls skb_release_data on a live skb: an ordinary hop, not an end.
TEST(Journey, TeardownFunctionsOnALiveSkbAreHops) {
  EXPECT_EQ(steps({ev(kA, "ip_rcv", ProbeKind::Kprobe), ev(kA, "skb_release_data", ProbeKind::Kprobe),
                   ev(kA, "ip_local_deliver", ProbeKind::Kprobe)}),
            (std::vector<uint32_t>{0, 0, 0}));
}

// What changed is compared with the previous event of the same journey: not another skb's, not
// the journey before at the same address, not a rule passed (--nf-trace, whose facts are its
// event's).
TEST(Journey, ChangesSinceTheJourneysPreviousEvent) {
  JourneyTracker t;
  changes::Changes c;
  const auto marked = [](Event e, uint32_t mark) {
    e.mark = mark;
    return e;
  };
  t.step(ev(kA, "net_dev_queue"), &c);
  EXPECT_EQ(c.count, 0);
  t.step(marked(ev(kB, "net_dev_queue"), 7), &c);
  EXPECT_EQ(c.count, 0);
  t.step(marked(ev(kA, "nft_trace_packet", ProbeKind::NfTrace), 9), &c);
  EXPECT_EQ(c.count, 0);
  t.step(marked(ev(kA, "netif_receive_skb"), 0x2a), &c);
  EXPECT_EQ(changes_field(c), "mark 0x0 -> 0x2a");
  t.step(marked(ev(kA, "kfree_skb"), 0x2a), &c);
  EXPECT_EQ(c.count, 0);
  t.step(ev(kA, "net_dev_queue"), &c);  // the next skb at kA: its first event
  EXPECT_EQ(c.count, 0);

  // An event without a device changes nothing; the next one with a device is compared with the
  // last that had one.
  Event on = ev(kB, "netif_receive_skb");
  on.ifindex = 3;
  on.ifname = "eth0";
  on.netns = 1;
  t.step(on, &c);
  EXPECT_EQ(changes_field(c), "mark 0x7 -> 0x0");
  Event off = ev(kB, "ip_rcv");
  off.netns = 2;  // a socket's
  t.step(off, &c);
  EXPECT_EQ(c.count, 0);
  on.ifindex = 4;
  t.step(on, &c);
  EXPECT_EQ(changes_field(c), "iface eth0:3 -> eth0:4");
}

}  // namespace
}  // namespace pwru
