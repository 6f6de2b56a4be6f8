// TraceTie's exact path: drops tied by the trace id the kernel made from the event's skb.
#include <gtest/gtest.h>

#include <vector>

#include "nf/tie.h"
#include "nf/trace_id.h"

namespace pwru::nf {
namespace {

constexpr uint32_t kNs = 4026532999;
constexpr SipKey kKey = {0x1122334455667788ULL, 0x99aabbccddeeff00ULL};

// An IPv6 ICMPv6 echo request: no IP id, so two of them have the same headers.
std::vector<uint8_t> echo6() {
  std::vector<uint8_t> p(48, 0);
  p[0] = 0x60;
  p[5] = 8;     // payload length
  p[6] = 58;    // ICMPv6
  p[7] = 64;
  p[23] = 1;    // fe80::1 -> fe80::2
  p[39] = 2;
  p[40] = 128;  // echo request
  return p;
}

struct Skb {
  uint64_t addr;
  uint32_t hash;
  uint32_t iif;
};

// The drop of `skb` as the trace reported it, with the id `scheme` gives, held in `tie`.
void hold_drop(TraceTie& tie, const Skb& skb, IdScheme scheme, uint64_t handle,
               const std::vector<uint8_t>& packet) {
  TraceMessage m;
  m.netns = kNs;
  m.id = trace_id(scheme, skb.addr, skb.hash, skb.iif, kKey);
  m.family = 10;
  m.table = "filter";
  m.chain = "INPUT";
  m.type = kTraceRule;
  m.handle = handle;
  m.verdict = kVerdictDrop;
  m.network_header.assign(packet.begin(), packet.begin() + 40);
  m.transport_header.assign(packet.begin() + 40, packet.end());
  auto drop = tie.feed(m, 0);
  ASSERT_TRUE(drop);
  tie.hold(std::move(*drop), 0);
}

Event freed(const Skb& skb, const std::vector<uint8_t>& packet) {
  Event ev;
  ev.netns = kNs;
  ev.skb = skb.addr;
  ev.skb_hash = skb.hash;
  ev.skb_iif = skb.iif;
  ev.layer = PacketLayer::Network;
  ev.packet = packet;
  return ev;
}

constexpr Skb kFirst{0xffff888004a1b200ULL, 0x5e1f00d1, 3};
constexpr Skb kSecond{0xffff888004a1b300ULL, 0x77aa0042, 3};

// 5.10: two packets with the same headers, freed in the other order than traced. By headers
// the first event would take the oldest drop (nf_tie order); by id each takes its own.
TEST(TraceTieExact, JhashTiesEachSkbToItsOwnTrace) {
  TraceTie tie;
  tie.tie_exactly(TraceIds());
  hold_drop(tie, kFirst, IdScheme::Jhash, 4, echo6());
  hold_drop(tie, kSecond, IdScheme::Jhash, 5, echo6());
  auto second = tie.take(freed(kSecond, echo6()), 0);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->handle, 5u);
  EXPECT_EQ(second->tie, NfTie::Exact);
  EXPECT_EQ(second->trace_id, trace_id(IdScheme::Jhash, kSecond.addr, kSecond.hash, 3, {}));
  auto first = tie.take(freed(kFirst, echo6()), 0);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->handle, 4u);
  EXPECT_EQ(first->tie, NfTie::Exact);
}

// 6.1 and later: the key read from the kernel, once it is there.
TEST(TraceTieExact, SiphashWithTheKernelsKey) {
  TraceTie tie;
  tie.tie_exactly(TraceIds([]() -> std::optional<SipKey> { return kKey; }));
  hold_drop(tie, kFirst, IdScheme::Siphash, 4, echo6());
  hold_drop(tie, kSecond, IdScheme::Siphash, 5, echo6());
  auto second = tie.take(freed(kSecond, echo6()), 0);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->handle, 5u);
  EXPECT_EQ(second->tie, NfTie::Exact);
}

// No scheme gives the trace's id (6.1+ without the key): the headers tie, and the id is kept.
TEST(TraceTieExact, WithoutTheKeyTheHeadersTie) {
  TraceTie tie;
  tie.tie_exactly(TraceIds());
  hold_drop(tie, kFirst, IdScheme::Siphash, 4, echo6());
  auto named = tie.take(freed(kFirst, echo6()), 0);
  ASSERT_TRUE(named);
  EXPECT_EQ(named->tie, NfTie::Headers);
  EXPECT_EQ(named->trace_id, trace_id(IdScheme::Siphash, kFirst.addr, kFirst.hash, 3, kKey));
}

// An id is trusted only once it came with the same headers: an id that matches a trace of
// other headers neither ties nor confirms its scheme.
TEST(TraceTieExact, AnUnconfirmedIdNeedsTheSameHeaders) {
  TraceTie tie;
  tie.tie_exactly(TraceIds());
  std::vector<uint8_t> other = echo6();
  other[39] = 9;  // another destination
  hold_drop(tie, kFirst, IdScheme::Jhash, 4, other);
  EXPECT_FALSE(tie.take(freed(kFirst, echo6()), 0));
  EXPECT_EQ(tie.held(), 1u);
}

// Once confirmed, a drop whose id no longer comes out (skb->hash changed on the way) is left to
// the headers.
TEST(TraceTieExact, AfterConfirmationAMissedIdFallsBackToHeaders) {
  TraceTie tie;
  tie.tie_exactly(TraceIds());
  hold_drop(tie, kFirst, IdScheme::Jhash, 4, echo6());
  ASSERT_EQ(tie.take(freed(kFirst, echo6()), 0)->tie, NfTie::Exact);
  hold_drop(tie, kSecond, IdScheme::Jhash, 5, echo6());
  Skb rehashed = kSecond;
  rehashed.hash ^= 1;
  auto named = tie.take(freed(rehashed, echo6()), 0);
  ASSERT_TRUE(named);
  EXPECT_EQ(named->handle, 5u);
  EXPECT_EQ(named->tie, NfTie::Headers);
}

}  // namespace
}  // namespace pwru::nf
