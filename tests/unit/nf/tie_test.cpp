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

// Input's first message: its jump to c2 (handle 3).
TraceMessage jump_to_c2(uint32_t id, const std::vector<uint8_t>& packet) {
  TraceMessage m = first(id, "input", packet);
  m.handle = 3;
  m.verdict = -3;
  m.jump_target = "c2";
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
  EXPECT_FALSE(tie.feed(jump_to_c2(0xabc, packet), kSecond));
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

// An event of the packet at `ktime_ns`, not a drop: `func` as the kernel names it.
Event packet_event(const std::vector<uint8_t>& packet, const char* func, uint64_t ktime_ns) {
  Event ev = drop_event(packet);
  ev.func = func;
  ev.drop_reason.reset();
  ev.drop_reason_name.clear();
  ev.ktime_ns = ktime_ns;
  ev.time_ns = 1'700'000'000 * kSecond + ktime_ns;
  ev.skb = 0xffff888000001000;
  return ev;
}

// Test 2's sequence: the jump is a rule passed, written before the drop with it.
TEST(TraceTie, JumpBeforeDropIsARulePassed) {
  TraceTie tie;
  const auto packet = icmp_packet(8);
  EXPECT_FALSE(tie.feed(jump_to_c2(0xabc, packet), kSecond));
  EXPECT_FALSE(tie.ended_call());
  auto drop = tie.feed(rule(0xabc, "c2", 4, kVerdictDrop), kSecond);
  ASSERT_TRUE(drop);
  EXPECT_FALSE(tie.ended_call());
  ASSERT_EQ(drop->passed.size(), 1u);
  EXPECT_EQ(drop->passed[0].chain, "input");
  EXPECT_EQ(drop->passed[0].handle, 3u);
  EXPECT_EQ(drop->passed[0].verdict, -3);
  EXPECT_EQ(drop->passed[0].jump_target, "c2");
  EXPECT_EQ(drop->passed[0].type, NfTraceType::Rule);
  EXPECT_EQ(drop->rule.type, NfTraceType::Rule);
  tie.hold(std::move(*drop), kSecond);

  const Placement placed = tie.place(drop_event(packet), kSecond);
  ASSERT_TRUE(placed.drop);
  EXPECT_EQ(placed.drop->chain, "c2");
  ASSERT_EQ(placed.before.size(), 1u);
  EXPECT_EQ(placed.before[0].jump_target, "c2");
  EXPECT_EQ(placed.before[0].tie, NfTie::Headers);
}

// Test 6's sequence: a counter (continue), a jump, the end of c2, then accept: a call passed,
// every message of it a rule passed, in order.
TraceTie accepted(const std::vector<uint8_t>& packet, uint64_t read_ns) {
  TraceTie tie;
  TraceMessage counter = first(7, "input", packet);
  counter.handle = 2;
  counter.verdict = -1;
  TraceMessage jump = rule(7, "input", 3, -3);
  jump.jump_target = "c2";
  TraceMessage end = message(7, "c2");  // 6.12+: the end of a chain, type rule, no handle
  end.verdict = -1;
  for (const TraceMessage& m : {counter, jump, end, rule(7, "input", 5, 1)}) {
    EXPECT_FALSE(tie.feed(m, read_ns));
  }
  auto call = tie.ended_call();
  EXPECT_TRUE(call);
  if (call) tie.hold(std::move(*call), read_ns);
  return tie;
}

TEST(TraceTie, AcceptedCallIsWrittenBeforeTheFirstEventAfterIt) {
  const auto packet = icmp_packet(9);
  TraceTie tie = accepted(packet, 5 * kSecond);
  ASSERT_EQ(tie.held_passed(), 1u);
  // Stamped before the messages were read: it may have come before the hook. Held.
  EXPECT_TRUE(tie.place(packet_event(packet, "netif_receive_skb", 4 * kSecond), 5 * kSecond)
                  .before.empty());
  // Another packet's event takes nothing.
  EXPECT_TRUE(tie.place(packet_event(icmp_packet(10), "ip_rcv", 6 * kSecond), 6 * kSecond)
                  .before.empty());
  // Stamped after: the hook came before it.
  const Placement placed =
      tie.place(packet_event(packet, "icmp_rcv", 5 * kSecond + 1), 6 * kSecond);
  EXPECT_FALSE(placed.drop);
  ASSERT_EQ(placed.before.size(), 4u);
  EXPECT_EQ(placed.before[0].verdict, -1);
  EXPECT_EQ(placed.before[0].handle, 2u);
  EXPECT_EQ(placed.before[1].verdict, -3);
  EXPECT_EQ(placed.before[1].jump_target, "c2");
  EXPECT_EQ(placed.before[2].type, NfTraceType::Return);
  EXPECT_FALSE(placed.before[2].handle);
  EXPECT_EQ(placed.before[2].chain, "c2");
  EXPECT_EQ(placed.before[3].verdict, 1);
  EXPECT_EQ(tie.held_passed(), 0u);
}

TEST(TraceTie, AFreeComesAfterEveryHook) {
  const auto packet = icmp_packet(11);
  TraceTie tie = accepted(packet, 5 * kSecond);
  EXPECT_EQ(tie.place(packet_event(packet, "consume_skb", 4 * kSecond), 5 * kSecond).before.size(),
            4u);
}

TEST(TraceTie, PolicyAcceptIsARulePassed) {
  TraceTie tie;
  TraceMessage policy = first(3, "input", icmp_packet(12));
  policy.type = kTracePolicy;
  policy.policy = 1;
  EXPECT_FALSE(tie.feed(policy, 0));
  auto call = tie.ended_call();
  ASSERT_TRUE(call);
  ASSERT_EQ(call->rules.size(), 1u);
  EXPECT_EQ(call->rules[0].type, NfTraceType::Policy);
  EXPECT_EQ(call->rules[0].verdict, 1);
  EXPECT_FALSE(call->rules[0].handle);
  EXPECT_EQ(call->base_chain, "input");
}

// No event certainly after it: written after the last event of its packet seen, or, with none,
// counted and not written.
TEST(TraceTie, ExpiredCallsFollowTheirLastEvent) {
  const auto packet = icmp_packet(13);
  TraceTie tie = accepted(packet, 5 * kSecond);
  const Event before = packet_event(packet, "netif_receive_skb", 4 * kSecond);
  EXPECT_TRUE(tie.place(before, 5 * kSecond).before.empty());
  EXPECT_TRUE(tie.expired(5 * kSecond).empty());  // still waiting
  auto out = tie.expired(5 * kSecond + TraceTie::kPassedHoldNs + 1);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].event.skb, before.skb);
  EXPECT_EQ(out[0].rules.size(), 4u);
  EXPECT_EQ(tie.untied(), 0u);

  TraceTie alone = accepted(packet, 5 * kSecond);
  EXPECT_TRUE(alone.expired(0, true).empty());
  EXPECT_EQ(alone.untied(), 1u);
}

// A rule deleted, or replaced, while its drop waits for the event: the drop says so.
TEST(TraceTie, HeldRulesLearnTheirRuleChanged) {
  TraceTie tie;
  const auto packet = icmp_packet(14);
  EXPECT_FALSE(tie.feed(jump_to_c2(1, packet), 0));
  tie.hold(*tie.feed(rule(1, "c2", 4, kVerdictDrop), 0), 0);
  tie.mark(RuleChangeMark{kNetns + 1, 1, "demo", 4, NfRuleState::Deleted});  // another netns
  tie.mark(RuleChangeMark{kNetns, 1, "other", 4, NfRuleState::Deleted});     // another table
  tie.mark(RuleChangeMark{kNetns, 1, "demo", 4, NfRuleState::Deleted});
  const Placement placed = tie.place(drop_event(packet), 0);
  ASSERT_TRUE(placed.drop);
  EXPECT_EQ(placed.drop->state, NfRuleState::Deleted);
  EXPECT_EQ(placed.drop->handle, 4u);
  ASSERT_EQ(placed.before.size(), 1u);
  EXPECT_EQ(placed.before[0].state, NfRuleState::Current);

  // Deleted then added under the same handle: a replace.
  TraceTie again = accepted(packet, 0);
  again.mark(RuleChangeMark{kNetns, 1, "demo", 3, NfRuleState::Deleted});
  again.mark(RuleChangeMark{kNetns, 1, "demo", 3, NfRuleState::Changed});
  again.mark(RuleChangeMark{kNetns, 1, "demo", std::nullopt, NfRuleState::Deleted});
  const auto out = again.place(packet_event(packet, "consume_skb", 1), 1).before;
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[1].state, NfRuleState::Deleted);  // the table went after the replace
  EXPECT_EQ(out[2].state, NfRuleState::Current);  // the end of a chain has no rule
}

// The end of a chain: type return before 6.12, a rule without handle since; an explicit return
// keeps its handle: type return before 6.12, a rule since.
TEST(TracedRule, EndOfChainIsAReturn) {
  TraceMessage old = message(1, "c2");
  old.type = kTraceReturn;
  old.verdict = -1;
  EXPECT_EQ(traced_rule(old).type, NfTraceType::Return);
  EXPECT_FALSE(traced_rule(old).handle);
  old.handle = 9;  // before 6.12, a `return` rule: type return with its handle
  old.verdict = -5;
  EXPECT_EQ(traced_rule(old).type, NfTraceType::Return);
  EXPECT_EQ(traced_rule(old).handle, 9u);
  TraceMessage end = message(1, "c2");
  end.verdict = -1;
  const NfRule r = traced_rule(end);
  EXPECT_EQ(r.type, NfTraceType::Return);
  EXPECT_EQ(r.verdict, -1);
  EXPECT_FALSE(r.handle);
  const NfRule ret = traced_rule(rule(1, "c2", 9, -5));
  EXPECT_EQ(ret.type, NfTraceType::Rule);
  EXPECT_EQ(ret.handle, 9u);
  EXPECT_EQ(ret.verdict, -5);
  EXPECT_EQ(ret.family, 1);
  EXPECT_EQ(ret.table, "demo");
  EXPECT_EQ(ret.chain, "c2");
}

TEST(PassedEvent, TakesTheEventsSkbTimeAndPacket) {
  const auto packet = icmp_packet(15);
  Event tied = packet_event(packet, "icmp_rcv", 42);
  tied.cpu = 3;
  tied.comm = "ping";
  tied.stack = {"icmp_rcv+0x0"};
  NfRule r;
  r.table = "demo";
  r.verdict = 1;
  const Event ev = passed_event(tied, r);
  EXPECT_EQ(ev.skb, tied.skb);
  EXPECT_EQ(ev.time_ns, tied.time_ns);
  EXPECT_EQ(ev.ktime_ns, tied.ktime_ns);
  EXPECT_EQ(ev.netns, tied.netns);
  EXPECT_EQ(ev.packet, tied.packet);
  EXPECT_EQ(ev.func, "nft_trace_packet");
  EXPECT_EQ(ev.probe, ProbeKind::NfTrace);
  EXPECT_EQ(ev.comm, "");
  EXPECT_TRUE(ev.stack.empty());
  ASSERT_TRUE(ev.nf);
  EXPECT_EQ(*ev.nf, r);
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
