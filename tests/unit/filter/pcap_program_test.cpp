// pcap_filter_program (filter/pcap_program.h): the body that holds the capture filter and the
// tunnel filters, each behind the selector the BPF side passes (bpf/common.bpf.h PWRU_PCAP_*).
#include "filter/pcap_program.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace pwru {
namespace {

bool is_selector_check(const struct bpf_insn& in, PcapSelector sel) {
  return in.code == (BPF_JMP | BPF_JNE | BPF_K) && in.dst_reg == BPF_REG_3 &&
         in.imm == static_cast<int32_t>(sel);
}

// The selectors checked in order, following each check's jump over its program.
std::vector<int32_t> selectors(const std::vector<struct bpf_insn>& body) {
  std::vector<int32_t> out;
  size_t i = 0;
  while (i < body.size() && body[i].code == (BPF_JMP | BPF_JNE | BPF_K) &&
         body[i].dst_reg == BPF_REG_3) {
    out.push_back(body[i].imm);
    i += 1 + static_cast<size_t>(body[i].off);
  }
  return out;
}

TEST(PcapProgram, NoFilterIsAnEmptyBody) {
  auto body = pcap_filter_program(PcapExpressions{});
  ASSERT_TRUE(body);
  EXPECT_TRUE(body->insns.empty());
  EXPECT_FALSE(body->outer);
  EXPECT_FALSE(body->tunnel);
}

// The capture filter alone: Ethernet's program behind its check, Network's for the rest, as
// before tunnel filters existed.
TEST(PcapProgram, CaptureFilterAlone) {
  auto body = pcap_filter_program(PcapExpressions{"icmp", {}, {}});
  ASSERT_TRUE(body);
  EXPECT_TRUE(body->outer);
  EXPECT_FALSE(body->tunnel);
  ASSERT_FALSE(body->insns.empty());
  EXPECT_TRUE(is_selector_check(body->insns[0], PcapSelector::Ethernet));
  EXPECT_EQ(selectors(body->insns), std::vector<int32_t>{1});
  auto single = pcap_filter_program("icmp");
  ASSERT_TRUE(single);
  EXPECT_EQ(single->size(), body->insns.size());
}

// A tunnel filter adds both tunnel programs in front, the one not given passing every packet.
TEST(PcapProgram, TunnelFiltersComeFirst) {
  auto both = pcap_filter_program(PcapExpressions{"udp port 4789", {}, "icmp"});
  ASSERT_TRUE(both);
  EXPECT_TRUE(both->outer);
  EXPECT_TRUE(both->tunnel);
  EXPECT_EQ(selectors(both->insns), (std::vector<int32_t>{2, 3, 1}));
  // The l2 program not given: r0 = 1, exit.
  ASSERT_EQ(both->insns[0].off, 2);
  EXPECT_EQ(both->insns[1].code, BPF_ALU64 | BPF_MOV | BPF_K);
  EXPECT_EQ(both->insns[1].imm, 1);
  EXPECT_EQ(both->insns[2].code, BPF_JMP | BPF_EXIT);

  auto alone = pcap_filter_program(PcapExpressions{{}, "ether src 02:00:00:00:00:01", {}});
  ASSERT_TRUE(alone);
  EXPECT_FALSE(alone->outer);  // the BPF side then runs no capture filter
  EXPECT_TRUE(alone->tunnel);
  EXPECT_EQ(selectors(alone->insns), std::vector<int32_t>{2});
  EXPECT_GT(alone->insns[0].off, 2);
}

TEST(PcapProgram, TunnelFilterErrorsNameTheOption) {
  auto bad = pcap_filter_program(PcapExpressions{{}, {}, "ether host 02:00:00:00:00:01"});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ExitCode::BadFilter);
  EXPECT_NE(bad.error().message.find("--filter-tunnel-pcap-l3"), std::string::npos)
      << bad.error().message;
  EXPECT_NE(bad.error().message.find("IP packet"), std::string::npos) << bad.error().message;
  auto typo = pcap_filter_program(PcapExpressions{{}, "icmpp", {}});
  ASSERT_FALSE(typo);
  EXPECT_EQ(typo.error().code, ExitCode::BadFilter);
  EXPECT_EQ(typo.error().message.rfind("cannot compile --filter-tunnel-pcap-l2 \"icmpp\": ", 0), 0u)
      << typo.error().message;
}

}  // namespace
}  // namespace pwru
