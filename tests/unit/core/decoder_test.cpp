// EventDecoder on hand-built ring buffer records: names from the probe table, and the records it
// must count rather than drop or misname (too short, unknown probe id).
#include "core/decoder.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "pwru_event.h"

namespace pwru {
namespace {

std::vector<uint8_t> record(uint32_t probe_id, const std::vector<uint8_t>& packet = {}) {
  std::vector<uint8_t> bytes(sizeof(pwru_event) + packet.size());
  pwru_event ev{};
  ev.probe_id = probe_id;
  ev.skb = 0xffff888100000000ull;
  ev.cap_len = static_cast<uint16_t>(packet.size());
  ev.layer = packet.empty() ? 0 : PWRU_LAYER_NETWORK;
  std::memcpy(bytes.data(), &ev, sizeof(ev));
  std::memcpy(bytes.data() + sizeof(ev), packet.data(), packet.size());
  return bytes;
}

class Decoder : public ::testing::Test {
 protected:
  std::vector<Probe> probes_{{"kfree_skb", ProbeKind::Tracepoint}, {"ip_rcv", ProbeKind::Fentry}};
  std::map<uint32_t, std::string> reasons_;
  EventDecoder decoder_{probes_, reasons_, nullptr, 0, 0};
  Event ev_;
};

TEST_F(Decoder, NamesTheProbeFromTheTable) {
  auto r = record(1, {0x45, 0});
  ASSERT_TRUE(decoder_.decode(r.data(), r.size(), ev_));
  EXPECT_EQ(ev_.func, "ip_rcv");
  EXPECT_EQ(ev_.probe, ProbeKind::Fentry);
  EXPECT_EQ(ev_.packet, (std::vector<uint8_t>{0x45, 0}));
  EXPECT_EQ(decoder_.malformed(), 0u);
  EXPECT_EQ(decoder_.unknown_probes(), 0u);
}

// The event reuses the previous one's storage: an id past the table must not keep its kind.
TEST_F(Decoder, UnknownProbeIdIsNamedUnknownAndCounted) {
  auto known = record(1);
  ASSERT_TRUE(decoder_.decode(known.data(), known.size(), ev_));
  auto stray = record(7);
  ASSERT_TRUE(decoder_.decode(stray.data(), stray.size(), ev_));
  EXPECT_EQ(ev_.probe, ProbeKind::Unknown);
  EXPECT_STREQ(probe_kind_name(ev_.probe), "unknown");
  EXPECT_EQ(ev_.func, "probe#7");
  EXPECT_EQ(decoder_.unknown_probes(), 1u);
}

TEST_F(Decoder, RecordShorterThanItsHeaderIsCounted) {
  auto r = record(0);
  EXPECT_FALSE(decoder_.decode(r.data(), sizeof(pwru_event) - 1, ev_));
  EXPECT_FALSE(decoder_.decode(r.data(), 0, ev_));
  EXPECT_EQ(decoder_.malformed(), 2u);
}

TEST_F(Decoder, RecordShorterThanItsPacketIsCounted) {
  auto r = record(0, {1, 2, 3, 4});
  EXPECT_FALSE(decoder_.decode(r.data(), r.size() - 1, ev_));
  EXPECT_EQ(decoder_.malformed(), 1u);
  EXPECT_TRUE(decoder_.decode(r.data(), r.size(), ev_));
  EXPECT_EQ(decoder_.malformed(), 1u);
}

}  // namespace
}  // namespace pwru
