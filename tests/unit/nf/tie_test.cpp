// TraceTie: trace messages as the kernel sends them (docs/netfilter.md), tied to drop events.
#include "nf/tie.h"

#include <gtest/gtest.h>

#include <vector>

namespace pwru::nf {
namespace {

constexpr uint32_t kNetns = 4026532000;
constexpr uint64_t kSecond = 1'000'000'000;

// An IPv4 ICMP echo request 10.0.0.1 -> 10.0.0.2 with IP id `ip_id`: 20 + 8 bytes + payload.
std::vector<uint8_t> icmp_packet(uint8_t ip_id) {
  std::vector<uint8_t> p = {0x45, 0x00, 0x00, 0x54, 0x12, ip_id, 0x40, 0x00, 0x40, 0x01,
                            0x00, 0x00, 10,   0,    0,    1,     10,   0,    0,    2,
                            0x08, 0x00, 0xf7, 0xff, 0x00, 0x01,  0x00, ip_id};
  for (int i = 0; i < 56; ++i) p.push_back(static_cast<uint8_t>(i));
  return p;
}

std::vector<uint8_t> bytes(const std::vector<uint8_t>& p, size_t from, size_t n) {
  return {p.begin() + static_cast<std::ptrdiff_t>(from),
          p.begin() + static_cast<std::ptrdiff_t>(from + n)};
}

// A rule message of table inet demo.
TraceMessage message(uint32_t id, const std::string& chain) {
  TraceMessage m;
  m.netns = kNetns;
  m.id = id;
  m.family = 1;
  m.table = "demo";
  m.chain = chain;
  m.type = kTraceRule;
  return m;
}

// The first message of a base chain: it carries the headers (40 network, 20 transport bytes).
TraceMessage first(uint32_t id, const std::string& chain, const std::vector<uint8_t>& packet) {
  TraceMessage m = message(id, chain);
  m.network_header = bytes(packet, 0, 40);
  m.transport_header = bytes(packet, 20, 20);
  return m;
}

TraceMessage rule(uint32_t id, const std::string& chain, uint64_t handle, int32_t verdict) {
  TraceMessage m = message(id, chain);
  m.handle = handle;
  m.verdict = verdict;
  return m;
}

Event drop_event(const std::vector<uint8_t>& packet, PacketLayer layer = PacketLayer::Network) {
  Event ev;
  ev.netns = kNetns;
  ev.func = "kfree_skb";
  ev.drop_reason = 6;
  ev.drop_reason_name = "NETFILTER_DROP";
  ev.layer = layer;
  if (layer == PacketLayer::Ethernet) {
    ev.packet = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x00};
  }
  ev.packet.insert(ev.packet.end(), packet.begin(), packet.end());
  return ev;
}

// The sequence checked on 6.18: input jumps to c2 (handle 3), c2 drops (handle 4).
TEST(TraceTie, DropAfterJumpNamesTheSecondChain) {
  TraceTie tie;
  const auto packet = icmp_packet(7);
  TraceMessage jump = first(0xabc, "input", packet);
  jump.handle = 3;
  jump.verdict = -3;
  EXPECT_FALSE(tie.feed(jump, kSecond));
  auto drop = tie.feed(rule(0xabc, "c2", 4, kVerdictDrop), kSecond);
  ASSERT_TRUE(drop);
  EXPECT_EQ(drop->rule.chain, "c2");
  EXPECT_EQ(drop->rule.handle, 4u);
  EXPECT_EQ(drop->rule.verdict, 0);
  EXPECT_EQ(drop->rule.family, 1);
  EXPECT_EQ(drop->base_chain, "input");
  tie.hold(std::move(*drop), kSecond);

  auto named = tie.take(drop_event(packet), kSecond);
  ASSERT_TRUE(named);
  EXPECT_EQ(named->chain, "c2");
  EXPECT_EQ(named->tie, NfTie::Headers);
  EXPECT_EQ(tie.held(), 0u);
}

TEST(TraceTie, PolicyDropHasNoHandle) {
  TraceTie tie;
  const auto packet = icmp_packet(1);
  TraceMessage end = first(5, "input", packet);
  end.verdict = -1;  // 6.12+: the end of the chain, type rule, no handle
  EXPECT_FALSE(tie.feed(end, 0));
  TraceMessage policy = message(5, "input");
  policy.type = kTracePolicy;
  policy.policy = 0;
  auto drop = tie.feed(policy, 0);
  ASSERT_TRUE(drop);
  EXPECT_FALSE(drop->rule.handle);
  EXPECT_EQ(drop->base_chain, "input");
}

TEST(TraceTie, AcceptIsNoDrop) {
  TraceTie tie;
  TraceMessage accept = first(9, "input", icmp_packet(2));
  accept.handle = 2;
  accept.verdict = 1;
  EXPECT_FALSE(tie.feed(accept, 0));
  TraceMessage policy = first(9, "input", icmp_packet(2));
  policy.type = kTracePolicy;
  policy.policy = 1;
  EXPECT_FALSE(tie.feed(policy, 0));
}

TEST(TraceTie, MatchesByHeadersNotOrder) {
  TraceTie tie;
  const auto a = icmp_packet(1), b = icmp_packet(2);
  for (auto [id, packet] : {std::pair{1u, a}, std::pair{2u, b}}) {
    TraceMessage m = first(id, "input", packet);
    m.handle = 4;
    m.verdict = kVerdictDrop;
    auto drop = tie.feed(m, 0);
    ASSERT_TRUE(drop);
    tie.hold(std::move(*drop), 0);
  }
  // b's event first: it takes b's drop, not the older a's.
  ASSERT_TRUE(tie.take(drop_event(b, PacketLayer::Ethernet), 0));
  EXPECT_EQ(tie.held(), 1u);
  EXPECT_FALSE(tie.take(drop_event(b), 0));
  ASSERT_TRUE(tie.take(drop_event(a), 0));
  EXPECT_EQ(tie.held(), 0u);
}

TEST(TraceTie, SameHeadersAreTiedByOrder) {
  TraceTie tie;
  const auto p = icmp_packet(3);
  for (uint32_t id : {1u, 2u}) {
    TraceMessage m = first(id, "input", p);
    m.handle = id;
    m.verdict = kVerdictDrop;
    tie.hold(*tie.feed(m, 0), 0);
  }
  auto one = tie.take(drop_event(p), 0);
  ASSERT_TRUE(one);
  EXPECT_EQ(one->handle, 1u);
  EXPECT_EQ(one->tie, NfTie::Order);
  auto two = tie.take(drop_event(p), 0);
  ASSERT_TRUE(two);
  EXPECT_EQ(two->handle, 2u);
  EXPECT_EQ(two->tie, NfTie::Headers);
}

TEST(TraceTie, OtherNamespaceOrOldDropIsNotTaken) {
  TraceTie tie;
  const auto p = icmp_packet(4);
  TraceMessage m = first(1, "input", p);
  m.handle = 2;
  m.verdict = kVerdictDrop;
  tie.hold(*tie.feed(m, 0), 0);
  Event other = drop_event(p);
  other.netns = kNetns + 1;
  EXPECT_FALSE(tie.take(other, 0));
  EXPECT_FALSE(tie.take(drop_event(p), TraceTie::kHoldNs + 1));
  EXPECT_EQ(tie.held(), 0u);
}

TEST(HeadersMatch, NeedsEnoughBytes) {
  const auto p = icmp_packet(5);
  Event ev = drop_event(p);
  EXPECT_TRUE(headers_match(ev, bytes(p, 0, 40), bytes(p, 20, 20)));
  EXPECT_FALSE(headers_match(ev, bytes(icmp_packet(6), 0, 40), {}));
  // Fewer than 20 captured bytes compare too little to tell packets apart.
  ev.packet.resize(12);
  EXPECT_FALSE(headers_match(ev, bytes(p, 0, 40), bytes(p, 20, 20)));
  ev.layer = PacketLayer::None;
  EXPECT_FALSE(headers_match(ev, {}, {}));
}

}  // namespace
}  // namespace pwru::nf
