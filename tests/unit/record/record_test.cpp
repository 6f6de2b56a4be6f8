// Tests for the pwru record codec (extcap/record/record.cpp) and the event model's names.
#include "record.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "sample_events.h"

namespace pwru {
namespace {

using Bytes = std::vector<uint8_t>;
using sample::full_ipv4;
using sample::full_ipv6;

Bytes encode(const Event& ev) {
  Bytes out;
  encode_record(ev, out);
  return out;
}

// What decode_record should give back for `ev`: everything but the pcapng timestamp.
Event without_time(Event ev) {
  ev.time_ns = 0;
  return ev;
}

// Hand-built records, for inputs the encoder never produces.
void put16(Bytes& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v));
  b.push_back(static_cast<uint8_t>(v >> 8));
}

Bytes header(uint16_t version = PWRU_RECORD_VERSION, uint16_t header_len = 4) {
  Bytes b;
  put16(b, version);
  put16(b, header_len);
  return b;
}

void tlv(Bytes& b, uint16_t type, const Bytes& value) {
  put16(b, type);
  put16(b, static_cast<uint16_t>(value.size()));
  b.insert(b.end(), value.begin(), value.end());
}

// Offsets at which a TLV starts (and the end), i.e. where a cut leaves a well-formed record.
std::vector<size_t> tlv_boundaries(const Bytes& rec) {
  std::vector<size_t> at{PWRU_RECORD_HEADER_LEN};
  for (size_t off = PWRU_RECORD_HEADER_LEN; off + 4 <= rec.size();) {
    off += 4 + (rec[off + 2] | (rec[off + 3] << 8));
    at.push_back(off);
  }
  return at;
}

std::vector<uint16_t> tlv_types(const Bytes& rec) {
  std::vector<uint16_t> types;
  for (size_t off = PWRU_RECORD_HEADER_LEN; off + 4 <= rec.size();) {
    types.push_back(static_cast<uint16_t>(rec[off] | (rec[off + 1] << 8)));
    off += 4 + (rec[off + 2] | (rec[off + 3] << 8));
  }
  return types;
}

std::string decode_error(const Bytes& rec) {
  Result<Event> r = decode_record(rec);
  return r.ok() ? std::string("(decoded without error)") : r.error().message;
}

// The first example of docs/record-format.md: a kfree_skb tracepoint event of ping.
Event documented_minimal() {
  Event ev;
  ev.skb = 0xffff888012345678ULL;
  ev.func = "kfree_skb";
  ev.cpu = 1;
  ev.pid = 4242;
  ev.comm = "ping";
  ev.protocol = 0x0800;
  ev.len = 84;
  ev.ktime_ns = 1'000'000'000;
  return ev;
}

// The events of docs/record-format.md's examples, in the order the doc shows them.
std::vector<Event> documented_events() {
  const Event minimal = documented_minimal();

  // The sample event with every IPv4 field, a little shorter: a SYN-ACK dropped by netfilter.
  Event ipv4 = sample::full_ipv4();
  ipv4.time_ns = 0;  // not in the record
  ipv4.ktime_ns = 1'000'000'000;
  ipv4.comm = "nc";
  ipv4.len = 60;
  ipv4.drop_reason = 6;
  ipv4.stack.pop_back();
  ipv4.layer = PacketLayer::Network;
  ipv4.packet = {0x45, 0x00, 0x00, 0x3c};

  // An IPv6 echo request (ICMPv6) at a kprobe: the IPv6 addresses.
  Event ipv6;
  ipv6.skb = 0xffff888012345678ULL;
  ipv6.func = "ip6_rcv_core";
  ipv6.probe = ProbeKind::Kprobe;
  ipv6.comm = "ping";
  ipv6.protocol = 0x86dd;
  ipv6.len = 104;
  ipv6.ip_version = 6;
  ipv6.saddr = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  ipv6.daddr = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
  ipv6.l4proto = 58;
  ipv6.ktime_ns = 1'000'000'000;
  return {minimal, ipv4, ipv6};
}

// The hex dumps of docs/record-format.md ("0000  01 00 ...   ascii"), one per example, read from
// the file itself so that the doc cannot drift from the encoder.
std::vector<Bytes> documented_dumps() {
  std::ifstream in(PWRU_RECORD_FORMAT_DOC);
  EXPECT_TRUE(in) << "cannot read " << PWRU_RECORD_FORMAT_DOC;
  const std::regex row("^([0-9a-f]{4})  ((?:[0-9a-f]{2} ?){1,16})(?:   .*)?$");
  std::vector<Bytes> dumps;
  bool in_dump = false;
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (!std::regex_match(line, m, row)) {
      in_dump = false;
      continue;
    }
    if (!in_dump) dumps.emplace_back();
    in_dump = true;
    EXPECT_EQ(std::stoul(m[1], nullptr, 16), dumps.back().size()) << "offset of: " << line;
    std::istringstream bytes(m[2]);
    for (std::string b; bytes >> b;) {
      dumps.back().push_back(static_cast<uint8_t>(std::stoul(b, nullptr, 16)));
    }
  }
  return dumps;
}

TEST(RecordTest, RoundTripsFullIpv4Event) {
  const Event ev = full_ipv4();
  size_t unknown = 99;
  Result<Event> got = decode_record(encode(ev), &unknown);
  ASSERT_TRUE(got.ok()) << got.error().text();
  EXPECT_EQ(*got, without_time(ev));
  EXPECT_EQ(got->time_ns, 0U);
  EXPECT_EQ(unknown, 0U);
}

TEST(RecordTest, RoundTripsFullIpv6Event) {
  const Event ev = full_ipv6();
  Result<Event> got = decode_record(encode(ev));
  ASSERT_TRUE(got.ok()) << got.error().text();
  EXPECT_EQ(*got, without_time(ev));
}

// --output-skb-metadata items (one without a value), the shared info and the control buffer.
TEST(RecordTest, RoundTripsSkbFields) {
  Event ev = full_ipv4();
  ev.meta = {{"skb->dev->ifindex", "7"}, {"skb->sk->__sk_common.skc_family", std::nullopt},
             {"skb->dev->name", "veth-b"}};
  ev.shinfo = SharedInfo{0x11, 7, 2, 1448, 3, 1, 0x4, 0x8, 16, 0xffff888012340000ULL};
  ev.cb.assign(PWRU_CB_LEN, 0);
  ev.cb[0] = 0x62;
  ev.cb[47] = 0xff;
  const Bytes rec = encode(ev);
  Result<Event> got = decode_record(rec);
  ASSERT_TRUE(got.ok()) << got.error().text();
  EXPECT_EQ(*got, without_time(ev));
  // SHINFO's bytes are the documented layout.
  const Bytes shinfo = {0x11, 0, 0, 0, 7, 0, 0, 0, 2, 0, 0, 0, 0xa8, 0x05, 3, 0, 1, 4, 8, 16,
                        0, 0, 0x34, 0x12, 0x80, 0x88, 0xff, 0xff};
  EXPECT_NE(std::search(rec.begin(), rec.end(), shinfo.begin(), shinfo.end()), rec.end());
}

// --nf-trace's rule: every NF_ field, and a policy drop's record without handle and rule.
TEST(RecordTest, RoundTripsNetfilterRule) {
  Event ev = sample::named_netfilter_drop();
  ev.nf->verdict = -3;  // a negative verdict survives the u32 on the wire
  ev.nf->tie = NfTie::Order;
  ev.nf->trace_id = 0xedf8692e;
  Result<Event> got = decode_record(encode(ev));
  ASSERT_TRUE(got.ok()) << got.error().text();
  EXPECT_EQ(*got, without_time(ev));
  ev.nf->tie = NfTie::Exact;
  got = decode_record(encode(ev));
  ASSERT_TRUE(got.ok()) << got.error().text();
  EXPECT_EQ(*got, without_time(ev));

  ev.nf->trace_id.reset();
  ev.nf->handle.reset();
  ev.nf->rule.clear();
  ev.nf->hook.clear();
  const Bytes bytes = encode(ev);
  got = decode_record(bytes);
  ASSERT_TRUE(got.ok()) << got.error().text();
  EXPECT_EQ(*got, without_time(ev));
  // An event without a rule carries no NF_ field.
  EXPECT_FALSE(decode_record(encode(sample::netfilter_drop()))->nf.has_value());
}

// --nf-trace's record of lost trace messages: its count, once, and no skb field besides.
TEST(RecordTest, RoundTripsNfTraceLost) {
  Event ev;
  ev.func = "nf_trace_lost";
  ev.probe = ProbeKind::Unknown;
  ev.netns = 4026532239;
  ev.nf_trace_lost = 7;
  const Bytes rec = encode(ev);
  Result<Event> got = decode_record(rec);
  ASSERT_TRUE(got.ok()) << got.error().text();
  EXPECT_EQ(*got, ev);
  const std::vector<uint16_t> types = tlv_types(rec);
  EXPECT_EQ(std::count(types.begin(), types.end(), PWRU_TLV_NF_TRACE_LOST), 1);
  EXPECT_EQ(types.back(), PWRU_TLV_NF_TRACE_LOST);
  EXPECT_FALSE(decode_record(encode(Event{}))->nf_trace_lost.has_value());
}

// --diagnose's finding: its kind and words, after the rest; none without a diagnosis.
TEST(RecordTest, RoundTripsDiagnosis) {
  Event ev = sample::netfilter_drop();
  ev.diagnosis = Diagnosis{PWRU_DIAG_NO_LISTENER, "nothing listens on 10.0.0.2:4444/tcp in netns b"};
  const Bytes rec = encode(ev);
  Result<Event> got = decode_record(rec);
  ASSERT_TRUE(got.ok()) << got.error().text();
  EXPECT_EQ(*got, without_time(ev));
  const std::vector<uint16_t> types = tlv_types(rec);
  ASSERT_GE(types.size(), 2u);
  EXPECT_EQ(types[types.size() - 2], PWRU_TLV_DIAG_KIND);
  EXPECT_EQ(types.back(), PWRU_TLV_DIAG_TEXT);
  EXPECT_FALSE(decode_record(encode(sample::netfilter_drop()))->diagnosis.has_value());
  // A kind this build does not know passes through, for the reader to show as unknown.
  ev.diagnosis->kind = 200;
  EXPECT_EQ(decode_record(encode(ev))->diagnosis->kind, 200);
}

// A tc or XDP program's entry and return: name, id and hook, the verdict after the hook (which
// names it) and only on the return.
TEST(RecordTest, RoundTripsBpfProgram) {
  Event ev = sample::netfilter_drop();
  ev.drop_reason.reset();
  ev.drop_reason_name.clear();
  ev.func = "tc_drop_icmp(tc)";
  ev.bpf = BpfProg{"tc_drop_icmp", 42, PWRU_BPF_HOOK_TC, 2};
  const Bytes rec = encode(ev);
  Result<Event> got = decode_record(rec);
  ASSERT_TRUE(got.ok()) << got.error().text();
  EXPECT_EQ(*got, without_time(ev));
  const std::vector<uint16_t> types = tlv_types(rec);
  const auto at = [&](uint16_t t) { return std::find(types.begin(), types.end(), t) - types.begin(); };
  EXPECT_LT(at(PWRU_TLV_BPF_PROG), at(PWRU_TLV_BPF_PROG_ID));
  EXPECT_LT(at(PWRU_TLV_BPF_HOOK), at(PWRU_TLV_BPF_VERDICT));
  ev.bpf->verdict.reset();  // an entry
  const Bytes entry = encode(ev);
  const std::vector<uint16_t> entry_types = tlv_types(entry);
  EXPECT_EQ(std::count(entry_types.begin(), entry_types.end(), PWRU_TLV_BPF_VERDICT), 0);
  EXPECT_EQ(*decode_record(entry), without_time(ev));
  // A negative verdict (TC_ACT_UNSPEC) keeps its sign.
  ev.bpf->verdict = -1;
  EXPECT_EQ(decode_record(encode(ev))->bpf->verdict, -1);
  EXPECT_FALSE(decode_record(encode(sample::netfilter_drop()))->bpf.has_value());
}

// --filter-track-skb-by-stackid: the stack id after the rest, why it was kept only when not by
// the filters; neither without a stack id.
TEST(RecordTest, RoundTripsStackId) {
  Event ev = sample::netfilter_drop();
  ev.stack_id = 0xffffc90000a4c000ull;
  Result<Event> got = decode_record(encode(ev));
  ASSERT_TRUE(got.ok()) << got.error().text();
  EXPECT_EQ(*got, without_time(ev));
  std::vector<uint16_t> types = tlv_types(encode(ev));
  EXPECT_EQ(types.back(), PWRU_TLV_STACK_ID);
  EXPECT_EQ(std::count(types.begin(), types.end(), PWRU_TLV_STACK_KEPT), 0);
  ev.stack_kept = PWRU_STACK_KEPT_NON_SKB;
  got = decode_record(encode(ev));
  ASSERT_TRUE(got.ok()) << got.error().text();
  EXPECT_EQ(got->stack_kept, PWRU_STACK_KEPT_NON_SKB);
  EXPECT_EQ(*got->stack_id, 0xffffc90000a4c000ull);
  types = tlv_types(encode(ev));
  EXPECT_EQ(types.back(), PWRU_TLV_STACK_KEPT);
  types = tlv_types(encode(sample::netfilter_drop()));
  EXPECT_EQ(std::count(types.begin(), types.end(), PWRU_TLV_STACK_ID), 0);
}

// A rule passed: probe kind nftrace, its jump target and trace type; a rule deleted since.
TEST(RecordTest, RoundTripsRulePassed) {
  Event ev = sample::passed_jump();
  ev.nf->state = NfRuleState::Deleted;
  const Bytes bytes = encode(ev);
  Result<Event> got = decode_record(bytes);
  ASSERT_TRUE(got.ok()) << got.error().text();
  EXPECT_EQ(*got, without_time(ev));
  EXPECT_EQ(got->probe, ProbeKind::NfTrace);
  EXPECT_EQ(got->nf->jump_target, "c2");
  EXPECT_EQ(got->nf->state, NfRuleState::Deleted);
  EXPECT_EQ(got->nf->type, NfTraceType::Rule);
  // A rule as traced carries no NF_RULE_STATE, no jump target without a jump, no type unknown.
  ev.nf->state = NfRuleState::Current;
  ev.nf->jump_target.clear();
  ev.nf->type = NfTraceType::Unknown;
  const std::vector<uint16_t> types = tlv_types(encode(ev));
  for (uint16_t type : {PWRU_TLV_NF_RULE_STATE, PWRU_TLV_NF_JUMP_TARGET, PWRU_TLV_NF_TRACE_TYPE}) {
    EXPECT_EQ(std::count(types.begin(), types.end(), type), 0) << type;
  }
}

TEST(RecordTest, RoundTripsMinimalEvent) {
  const Event ev;
  const Bytes rec = encode(ev);
  Result<Event> got = decode_record(rec);
  ASSERT_TRUE(got.ok()) << got.error().text();
  EXPECT_EQ(*got, ev);
  const std::vector<uint16_t> always = {
      PWRU_TLV_SKB,   PWRU_TLV_FUNC, PWRU_TLV_PROBE, PWRU_TLV_CPU, PWRU_TLV_PID,  PWRU_TLV_COMM,
      PWRU_TLV_NETNS, PWRU_TLV_MARK, PWRU_TLV_PROTO, PWRU_TLV_LEN, PWRU_TLV_KTIME};
  EXPECT_EQ(tlv_types(rec), always);
}

// The same bytes as the example in docs/record-format.md: if this changes, so must the doc.
TEST(RecordTest, EncodesTheDocumentedExample) {
  const Event ev = documented_minimal();
  // clang-format off
  const Bytes expected = {
      0x01, 0x00, 0x04, 0x00,                                      // version 1, header_len 4
      0x01, 0x00, 0x08, 0x00, 0x78, 0x56, 0x34, 0x12, 0x80, 0x88, 0xff, 0xff,  // SKB
      0x02, 0x00, 0x09, 0x00, 'k', 'f', 'r', 'e', 'e', '_', 's', 'k', 'b',     // FUNC
      0x03, 0x00, 0x01, 0x00, 0x01,                                // PROBE tracepoint
      0x04, 0x00, 0x04, 0x00, 0x01, 0x00, 0x00, 0x00,              // CPU 1
      0x05, 0x00, 0x04, 0x00, 0x92, 0x10, 0x00, 0x00,              // PID 4242
      0x06, 0x00, 0x04, 0x00, 'p', 'i', 'n', 'g',                  // COMM
      0x07, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00,              // NETNS 0
      0x08, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00,              // MARK 0
      0x0b, 0x00, 0x02, 0x00, 0x00, 0x08,                          // PROTO 0x0800
      0x0d, 0x00, 0x04, 0x00, 0x54, 0x00, 0x00, 0x00,              // LEN 84
      0x1b, 0x00, 0x08, 0x00, 0x00, 0xca, 0x9a, 0x3b, 0x00, 0x00, 0x00, 0x00,  // KTIME 1 s
  };
  // clang-format on
  EXPECT_EQ(encode(ev), expected);
}

// Every example of the doc, byte for byte both ways, and together every TLV type: addresses of
// both families, ports, flags, reason, caller, stack, packet data.
TEST(RecordTest, EncodesEveryExampleOfTheDoc) {
  const std::vector<Event> events = documented_events();
  const std::vector<Bytes> dumps = documented_dumps();
  ASSERT_EQ(dumps.size(), events.size()) << "hex dumps in " << PWRU_RECORD_FORMAT_DOC;
  std::set<uint16_t> seen;
  for (size_t i = 0; i < events.size(); i++) {
    SCOPED_TRACE("example " + std::to_string(i + 1));
    EXPECT_EQ(encode(events[i]), dumps[i]);
    Result<Event> back = decode_record(dumps[i]);
    ASSERT_TRUE(back.ok()) << back.error().text();
    EXPECT_EQ(*back, events[i]);
    for (uint16_t t : tlv_types(dumps[i])) seen.insert(t);
  }
  for (uint16_t t = PWRU_TLV_SKB; t <= PWRU_TLV_PACKET; t++) {
    EXPECT_TRUE(seen.count(t)) << "no example of the doc has TLV type " << t;
  }
}

TEST(RecordTest, AppendsToExistingBytes) {
  Bytes out = {0xaa, 0xbb};
  encode_record(Event{}, out);
  ASSERT_GT(out.size(), 2U);
  EXPECT_EQ(out[0], 0xaa);
  EXPECT_EQ(out[1], 0xbb);
  EXPECT_TRUE(decode_record(std::span(out).subspan(2)).ok());
}

TEST(RecordTest, LeavesOutDeviceFieldsWithoutIfindex) {
  Event ev = full_ipv4();
  ev.ifindex = 0;
  const std::vector<uint16_t> types = tlv_types(encode(ev));
  for (uint16_t t : {PWRU_TLV_IFINDEX, PWRU_TLV_IFNAME, PWRU_TLV_MTU}) {
    EXPECT_EQ(std::count(types.begin(), types.end(), t), 0) << "TLV " << t;
  }
}

TEST(RecordTest, CutsLongStringsAndPacketsTo65535Bytes) {
  Event ev;
  ev.func = std::string(70000, 'f');
  ev.layer = PacketLayer::Network;
  ev.packet = Bytes(70000, 0x45);
  Result<Event> got = decode_record(encode(ev));
  ASSERT_TRUE(got.ok()) << got.error().text();
  EXPECT_EQ(got->func, std::string(65535, 'f'));
  EXPECT_EQ(got->packet, Bytes(65535, 0x45));
}

TEST(RecordTest, SkipsAndCountsUnknownTypes) {
  const Event ev = full_ipv4();
  const Bytes rec = encode(ev);
  // Unknown types before, between and after known fields; type 0 is unknown too.
  Bytes with_unknown = header();
  tlv(with_unknown, 0, {});
  tlv(with_unknown, 200, {1, 2, 3});
  const size_t first_tlv_end = tlv_boundaries(rec)[1];
  with_unknown.insert(with_unknown.end(), rec.begin() + 4, rec.begin() + first_tlv_end);
  tlv(with_unknown, 0xffff, Bytes(300, 0x5a));
  with_unknown.insert(with_unknown.end(), rec.begin() + first_tlv_end, rec.end());
  tlv(with_unknown, PWRU_TLV_DIAG_TEXT + 1, {9});  // the first type after the last known one

  size_t unknown = 0;
  Result<Event> got = decode_record(with_unknown, &unknown);
  ASSERT_TRUE(got.ok()) << got.error().text();
  EXPECT_EQ(*got, without_time(ev));
  EXPECT_EQ(unknown, 4U);
}

TEST(RecordTest, SkipsHeaderBytesBeyondTheKnownHeader) {
  const Bytes rec = encode(full_ipv6());
  Bytes longer = header(PWRU_RECORD_VERSION, 12);
  longer.insert(longer.end(), {0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee});
  longer.insert(longer.end(), rec.begin() + 4, rec.end());
  Result<Event> got = decode_record(longer);
  ASSERT_TRUE(got.ok()) << got.error().text();
  EXPECT_EQ(*got, without_time(full_ipv6()));
}

TEST(RecordTest, RejectsBadHeaderLengths) {
  EXPECT_EQ(decode_error(header(1, 3)),
            "cannot decode pwru record: header_len 3 is shorter than the 4-byte header");
  EXPECT_EQ(decode_error(header(1, 9)),
            "cannot decode pwru record: record truncated at offset 2: header_len declares 9 "
            "bytes, 4 in the record");
}

TEST(RecordTest, RejectsOtherVersions) {
  for (uint16_t version : {0, 2, 0xffff}) {
    Bytes rec = encode(full_ipv4());
    rec[0] = static_cast<uint8_t>(version);
    rec[1] = static_cast<uint8_t>(version >> 8);
    Result<Event> got = decode_record(rec);
    ASSERT_FALSE(got.ok()) << "version " << version;
    EXPECT_EQ(got.error().message, "cannot decode pwru record: unsupported record version " +
                                       std::to_string(version) + " (this build reads version 1)");
    EXPECT_FALSE(got.error().hint.empty());
  }
}

TEST(RecordTest, RejectsFixedFieldsOfTheWrongSize) {
  Bytes rec = header();
  tlv(rec, PWRU_TLV_SKB, {1, 2, 3, 4, 5, 6, 7});
  EXPECT_EQ(decode_error(rec),
            "cannot decode pwru record: TLV 1 (SKB) at offset 4 has 7 bytes, expected 8");

  rec = header();
  tlv(rec, PWRU_TLV_CPU, {1, 0, 0, 0});
  tlv(rec, PWRU_TLV_IPV6_SRC, {10, 0, 0, 1});
  EXPECT_EQ(decode_error(rec),
            "cannot decode pwru record: TLV 16 (IPV6_SRC) at offset 12 has 4 bytes, expected 16");

  rec = header();
  tlv(rec, PWRU_TLV_PROBE, {});
  EXPECT_EQ(decode_error(rec),
            "cannot decode pwru record: TLV 3 (PROBE) at offset 4 has 0 bytes, expected 1");
}

TEST(RecordTest, NamesTheOffsetOfATruncatedTlv) {
  Bytes rec = header();
  tlv(rec, PWRU_TLV_CPU, {1, 0, 0, 0});
  put16(rec, PWRU_TLV_PACKET);
  put16(rec, 300);
  rec.insert(rec.end(), 40, 0x45);
  EXPECT_EQ(decode_error(rec),
            "cannot decode pwru record: record truncated at offset 12: TLV 29 (PACKET) declares "
            "300 bytes, 40 remain");

  rec = header();
  rec.insert(rec.end(), {0x01, 0x00, 0x08});
  EXPECT_EQ(decode_error(rec),
            "cannot decode pwru record: record truncated at offset 4: a TLV header needs 4 "
            "bytes, 3 remain");
}

// The format has no end marker (the pcapng packet length bounds the record), so a cut between
// two TLVs is a shorter well-formed record; every other cut must be an error, never a crash.
TEST(RecordTest, EveryTruncationIsAnErrorOrAWellFormedPrefix) {
  for (const Event& ev : {full_ipv4(), full_ipv6(), Event{}}) {
    const Bytes rec = encode(ev);
    const std::vector<size_t> boundaries = tlv_boundaries(rec);
    for (size_t n = 0; n < rec.size(); ++n) {
      // A copy of exactly n bytes, so a sanitizer or the heap sees any read past the end.
      const Bytes cut(rec.begin(), rec.begin() + static_cast<std::ptrdiff_t>(n));
      Result<Event> got = decode_record(cut);
      const bool on_boundary =
          std::find(boundaries.begin(), boundaries.end(), n) != boundaries.end();
      if (!on_boundary) {
        ASSERT_FALSE(got.ok()) << "cut at " << n << " of " << rec.size();
        EXPECT_NE(got.error().message.find("truncated at offset"), std::string::npos)
            << got.error().message;
        EXPECT_EQ(got.error().code, ExitCode::Failure);
      } else {
        ASSERT_TRUE(got.ok()) << "cut at " << n << ": " << got.error().text();
      }
    }
  }
}

TEST(RecordTest, RejectsMixedAddressFamilies) {
  Bytes rec = header();
  tlv(rec, PWRU_TLV_IPV4_SRC, {10, 0, 0, 1});
  tlv(rec, PWRU_TLV_IPV6_DST, Bytes(16, 0xfd));
  EXPECT_EQ(decode_error(rec),
            "cannot decode pwru record: TLV 17 (IPV6_DST) at offset 12 mixes IPv4 and IPv6 "
            "addresses in one record");
}

TEST(RecordTest, KeepsTheLastOfARepeatedFieldAndEveryStackFrame) {
  Bytes rec = header();
  tlv(rec, PWRU_TLV_CPU, {1, 0, 0, 0});
  tlv(rec, PWRU_TLV_STACK_FRAME, {'a'});
  tlv(rec, PWRU_TLV_CPU, {2, 0, 0, 0});
  tlv(rec, PWRU_TLV_STACK_FRAME, {'b'});
  Result<Event> got = decode_record(rec);
  ASSERT_TRUE(got.ok()) << got.error().text();
  EXPECT_EQ(got->cpu, 2U);
  EXPECT_EQ(got->stack, (std::vector<std::string>{"a", "b"}));
}

TEST(RecordTest, PassesUnknownEnumValuesThrough) {
  Event ev;
  ev.probe = static_cast<ProbeKind>(42);
  ev.layer = static_cast<PacketLayer>(7);
  ev.packet = {1, 2, 3};
  Result<Event> got = decode_record(encode(ev));
  ASSERT_TRUE(got.ok()) << got.error().text();
  EXPECT_EQ(*got, ev);
  EXPECT_STREQ(probe_kind_name(got->probe), "unknown");
}

// Not a fuzzer, but a cheap guard until one runs: random damage to valid records must only
// ever produce a value or an error.
TEST(RecordTest, SurvivesRandomDamage) {
  std::mt19937 rng(12345);  // fixed seed: a failure reproduces
  const std::vector<Bytes> seeds = {encode(full_ipv4()), encode(full_ipv6()), encode(Event{})};
  size_t decoded = 0;
  for (int i = 0; i < 20000; ++i) {
    Bytes rec = seeds[rng() % seeds.size()];
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) rec[rng() % rec.size()] = static_cast<uint8_t>(rng());
    if (rng() % 3 == 0) rec.resize(rng() % (rec.size() + 1));
    size_t unknown = 0;
    if (decode_record(rec, &unknown).ok()) ++decoded;
  }
  // Both outcomes must occur, or the damage is not exercising the decoder.
  EXPECT_GT(decoded, 0U);
  EXPECT_LT(decoded, 20000U);
}

TEST(EventTest, NamesProbeKinds) {
  EXPECT_STREQ(probe_kind_name(ProbeKind::Tracepoint), "tracepoint");
  EXPECT_STREQ(probe_kind_name(ProbeKind::Kprobe), "kprobe");
  EXPECT_STREQ(probe_kind_name(ProbeKind::KprobeMulti), "kprobe-multi");
  EXPECT_STREQ(probe_kind_name(ProbeKind::Fentry), "fentry");
  EXPECT_STREQ(probe_kind_name(static_cast<ProbeKind>(0)), "unknown");
}

}  // namespace
}  // namespace pwru
