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

// A netfilter probe's record (bpf/nf.bpf.h): the struct pwru_nf between the stack and the packet.
std::vector<uint8_t> nf_record(uint32_t probe_id, const pwru_nf& nf,
                               const std::vector<uint8_t>& packet) {
  auto bytes = record(probe_id, packet);
  auto* ev = reinterpret_cast<pwru_event*>(bytes.data());
  ev->flags |= PWRU_EV_HAS_NF;
  const auto* raw = reinterpret_cast<const uint8_t*>(&nf);
  bytes.insert(bytes.begin() + sizeof(pwru_event), raw, raw + sizeof(nf));
  return bytes;
}

pwru_nf probe_nf(uint8_t source, uint8_t family, uint8_t hook, const char* table,
                 const char* chain, int32_t verdict) {
  pwru_nf nf{};
  nf.source = source;
  nf.family = family;
  nf.hook = hook;
  nf.verdict = verdict;
  std::strncpy(nf.table, table, sizeof(nf.table) - 1);
  std::strncpy(nf.chain, chain, sizeof(nf.chain) - 1);
  return nf;
}

// What the decoder makes of a probe's names: no handle, no rule text, tie kernel.
NfRule kernel_rule(uint8_t family, const char* hook, const char* table, const char* chain,
                   int32_t verdict) {
  NfRule r;
  r.family = family;
  r.hook = hook;
  r.table = table;
  r.chain = chain;
  r.verdict = verdict;
  r.tie = NfTie::Kernel;
  return r;
}

// --filter-track-skb-by-stackid: the struct pwru_stackid after the netfilter names, before the
// packet, as the flags2 bit says.
TEST_F(Decoder, StackIdSectionComesBeforeThePacket) {
  auto bytes = nf_record(0, probe_nf(PWRU_NF_IPT, 2, 1, "filter", "", 0), {0x45, 0});
  auto* ev = reinterpret_cast<pwru_event*>(bytes.data());
  ev->flags2 |= PWRU_EV2_HAS_STACKID;
  pwru_stackid sid{};
  sid.stack_id = 0xffffc90000a4c000ull;
  sid.kept = PWRU_KEPT_NON_SKB;
  const auto* raw = reinterpret_cast<const uint8_t*>(&sid);
  bytes.insert(bytes.begin() + sizeof(pwru_event) + sizeof(pwru_nf), raw, raw + sizeof(sid));
  ASSERT_TRUE(decoder_.decode(bytes.data(), bytes.size(), ev_));
  ASSERT_TRUE(ev_.stack_id.has_value());
  EXPECT_EQ(*ev_.stack_id, 0xffffc90000a4c000ull);
  EXPECT_EQ(ev_.stack_kept, PWRU_STACK_KEPT_NON_SKB);
  EXPECT_EQ(ev_.nf->table, "filter");
  EXPECT_EQ(ev_.packet, (std::vector<uint8_t>{0x45, 0}));
  EXPECT_FALSE(decoder_.decode(bytes.data(), bytes.size() - 1, ev_));
  // The next event without the section does not keep this one's.
  auto plain = record(0);
  ASSERT_TRUE(decoder_.decode(plain.data(), plain.size(), ev_));
  EXPECT_FALSE(ev_.stack_id.has_value());
  EXPECT_EQ(ev_.stack_kept, 0);
}

// iptables-legacy: the chain is the hook's built-in one, and there is no handle or rule text.
TEST_F(Decoder, IptablesProbeNamesTheHooksChain) {
  auto r = nf_record(0, probe_nf(PWRU_NF_IPT, 2, 1, "filter", "", 0), {0x45, 0});
  ASSERT_TRUE(decoder_.decode(r.data(), r.size(), ev_));
  ASSERT_TRUE(ev_.nf.has_value());
  EXPECT_EQ(*ev_.nf, kernel_rule(2, "input", "filter", "INPUT", 0));
  EXPECT_EQ(ev_.packet, (std::vector<uint8_t>{0x45, 0}));
}

TEST_F(Decoder, NftProbeNamesTheBaseChain) {
  auto r = nf_record(1, probe_nf(PWRU_NF_NFT, 1, 0, "t", "pre", 1), {});
  ASSERT_TRUE(decoder_.decode(r.data(), r.size(), ev_));
  ASSERT_TRUE(ev_.nf.has_value());
  EXPECT_EQ(*ev_.nf, kernel_rule(1, "prerouting", "t", "pre", 1));
  // A later record without the names does not keep them.
  auto plain = record(1);
  ASSERT_TRUE(decoder_.decode(plain.data(), plain.size(), ev_));
  EXPECT_FALSE(ev_.nf.has_value());
}

TEST_F(Decoder, NetfilterRecordShorterThanItsNamesIsCounted) {
  auto r = nf_record(0, probe_nf(PWRU_NF_IPT, 2, 1, "filter", "", 0), {});
  EXPECT_FALSE(decoder_.decode(r.data(), r.size() - 1, ev_));
  EXPECT_EQ(decoder_.malformed(), 1u);
}

}  // namespace

// A tc or XDP program's record (bpf/bpf_progs.bpf.c): struct pwru_bpf after the netfilter
// section's place, before the packet; the name and id come from the probe table, the verdict
// only with has_verdict.
TEST(DecoderBpf, TakesTheProgramFromTheProbeAndTheVerdictFromTheRecord) {
  BpfProg prog{"xdp_prog", 9, PWRU_BPF_HOOK_XDP, std::nullopt};
  std::vector<Probe> probes{{"kfree_skb", ProbeKind::Tracepoint},
                            {"xdp_prog(xdp)", ProbeKind::Fentry, prog}};
  std::map<uint32_t, std::string> reasons;
  EventDecoder decoder{probes, reasons, nullptr, 0, 0};
  Event ev;
  pwru_bpf b{};
  b.verdict = 1;
  b.hook = PWRU_EV_BPF_XDP;
  b.has_verdict = 1;
  auto bytes = record(1, {0x45, 0, 0, 20});
  reinterpret_cast<pwru_event*>(bytes.data())->flags2 |= PWRU_EV2_HAS_BPF;
  const auto* raw = reinterpret_cast<const uint8_t*>(&b);
  bytes.insert(bytes.begin() + sizeof(pwru_event), raw, raw + sizeof(b));
  ASSERT_TRUE(decoder.decode(bytes.data(), bytes.size(), ev));
  EXPECT_EQ(ev.func, "xdp_prog(xdp)");
  ASSERT_TRUE(ev.bpf);
  EXPECT_EQ(ev.bpf->name, "xdp_prog");
  EXPECT_EQ(ev.bpf->id, 9u);
  EXPECT_EQ(ev.bpf->hook, PWRU_BPF_HOOK_XDP);
  EXPECT_EQ(ev.bpf->verdict, 1);
  EXPECT_EQ(ev.packet, (std::vector<uint8_t>{0x45, 0, 0, 20}));
  // The entry: no verdict; and a record one byte short of its section is counted.
  reinterpret_cast<pwru_bpf*>(bytes.data() + sizeof(pwru_event))->has_verdict = 0;
  ASSERT_TRUE(decoder.decode(bytes.data(), bytes.size(), ev));
  EXPECT_FALSE(ev.bpf->verdict);
  EXPECT_FALSE(decoder.decode(bytes.data(), bytes.size() - 1, ev));
  EXPECT_EQ(decoder.malformed(), 1u);
  // The next event of another probe has none.
  auto plain = record(0);
  ASSERT_TRUE(decoder.decode(plain.data(), plain.size(), ev));
  EXPECT_FALSE(ev.bpf);
}

}  // namespace pwru

namespace pwru {
namespace {

// --output-skb-metadata, -shared-info, -cb: the sections of flags2 after the netfilter one, in
// bit order, then the packet; a value the kernel could not read is none.
TEST_F(Decoder, SkbSectionsInBitOrderBeforeThePacket) {
  std::vector<SkbExpr> meta(2);
  meta[0].text = "skb->dev->ifindex";
  meta[0].kind = SkbExprKind::Signed;
  meta[0].size = 4;
  meta[1].text = "skb->dev->name";
  meta[1].kind = SkbExprKind::String;
  meta[1].size = 16;
  decoder_.set_skb_exprs(&meta);
  pwru_nf nf{};
  std::strcpy(nf.table, "filter");
  auto bytes = nf_record(0, nf, {0x45, 0x00});
  auto* ev = reinterpret_cast<pwru_event*>(bytes.data());
  ev->flags2 = PWRU_EV2_HAS_META | PWRU_EV2_HAS_SHINFO | PWRU_EV2_HAS_CB;
  pwru_meta m{};
  m.value[0][0] = 11;
  m.valid = 1;  // the name was not read
  pwru_shinfo s{};
  s.gso_size = 1448;
  s.gso_segs = 3;
  uint8_t cb[PWRU_CB_BYTES] = {0x62};
  std::vector<uint8_t> sections(sizeof m + sizeof s + sizeof cb);
  std::memcpy(sections.data(), &m, sizeof m);
  std::memcpy(sections.data() + sizeof m, &s, sizeof s);
  std::memcpy(sections.data() + sizeof m + sizeof s, cb, sizeof cb);
  bytes.insert(bytes.begin() + sizeof(pwru_event) + sizeof(pwru_nf), sections.begin(),
               sections.end());
  ASSERT_TRUE(decoder_.decode(bytes.data(), bytes.size(), ev_));
  ASSERT_EQ(ev_.meta.size(), 2u);
  EXPECT_EQ(ev_.meta[0], (SkbMeta{"skb->dev->ifindex", "11"}));
  EXPECT_EQ(ev_.meta[1], (SkbMeta{"skb->dev->name", std::nullopt}));
  ASSERT_TRUE(ev_.shinfo);
  EXPECT_EQ(ev_.shinfo->gso_size, 1448);
  EXPECT_EQ(ev_.shinfo->gso_segs, 3);
  ASSERT_EQ(ev_.cb.size(), size_t{PWRU_CB_BYTES});
  EXPECT_EQ(ev_.cb[0], 0x62);
  ASSERT_TRUE(ev_.nf);
  EXPECT_EQ(ev_.nf->table, "filter");
  EXPECT_EQ(ev_.packet, (std::vector<uint8_t>{0x45, 0x00}));
  // One byte short of its sections and packet: counted, not read past the end.
  EXPECT_FALSE(decoder_.decode(bytes.data(), bytes.size() - 1, ev_));
  EXPECT_EQ(decoder_.malformed(), 1u);
  // The next event without them has none.
  auto plain = record(0);
  ASSERT_TRUE(decoder_.decode(plain.data(), plain.size(), ev_));
  EXPECT_TRUE(ev_.meta.empty());
  EXPECT_FALSE(ev_.shinfo);
  EXPECT_TRUE(ev_.cb.empty());
}

}  // namespace
}  // namespace pwru
