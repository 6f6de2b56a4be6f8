// Differential test of translate_cbpf in the running kernel: every expression of
// data/filter_expressions.txt, compiled for Ethernet and raw IP as pwrudump compiles it
// (PacketFilter::compile), translated, loaded and run with BPF_PROG_TEST_RUN on every packet of
// the corpus; the verdict must be libpcap's own on the same program.
// Both translations: with the helper's copy of the first 64 bytes, and with the running kernel's
// BtfWindow (plain loads), where it has one.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>

#include "ci_skip.h"
#include "core/btf.h"
#include "filter/cbpf_to_ebpf.h"
#include "kernel_filter.h"
#include "libpcap_oracle.h"
#include "packet_corpus.h"

namespace pwru::testing {
namespace {

constexpr uint32_t kSeed = 0x70777275;  // "pwru"
constexpr size_t kMaxReportedMismatches = 20;

// Needs root to load BPF. Skipped with the reason on a developer's machine, a failure in CI.
#define PWRU_REQUIRE_ROOT()                                                                       \
  do {                                                                                            \
    if (geteuid() != 0) PWRU_SKIP_OR_FAIL("needs root to load BPF programs (run ctest as root)"); \
  } while (0)

std::vector<std::string> read_expressions() {
  std::vector<std::string> out;
  std::ifstream in(PWRU_FILTER_EXPRESSIONS);
  for (std::string line; std::getline(in, line);) {
    line.erase(0, line.find_first_not_of(" \t"));
    line.erase(line.find_last_not_of(" \t\r") + 1);
    if (!line.empty() && line[0] != '#') out.push_back(line);
  }
  return out;
}

bool has_backward_jump(const std::vector<CbpfInsn>& insns) {
  constexpr uint16_t kJa = 0x05;  // BPF_JMP | BPF_JA
  return std::any_of(insns.begin(), insns.end(), [](const CbpfInsn& in) {
    return in.code == kJa && static_cast<int32_t>(in.k) < 0;
  });
}

std::string ebpf_listing(const EbpfFilter& f) {
  std::string out;
  char line[64];
  for (size_t i = 0; i < f.insns.size(); i++) {
    const EbpfInsn& in = f.insns[i];
    std::snprintf(line, sizeof(line), "%4zu: code %02x dst r%u src r%u off %d imm %d\n", i,
                  in.code, in.dst_reg, in.src_reg, in.off, in.imm);
    out += line;
  }
  return out;
}

// One expression compiled for one link type, loaded in the kernel.
struct Case {
  std::string expression;
  LinkType link;
  std::unique_ptr<PcapOracle> oracle;
  EbpfFilter filter;
  UniqueFd prog;
  size_t matches = 0, comparisons = 0, mismatches = 0;
};

// The whole differential run, translated with `window` (nullptr: the helper's copy).
void expect_libpcap_verdicts(const BtfWindow* window) {
  const auto start = std::chrono::steady_clock::now();
  auto bench_or = KernelFilterBench::create();
  ASSERT_TRUE(bench_or.ok()) << bench_or.error().text();
  KernelFilterBench& bench = bench_or.value();

  const std::vector<std::string> expressions = read_expressions();
  ASSERT_GE(expressions.size(), 200u) << "cannot read " << PWRU_FILTER_EXPRESSIONS;

  // Compile, translate and load every (expression, link type).
  std::vector<Case> cases;
  size_t rejected_protochain = 0, max_insns = 0, max_stack = 0;
  for (const std::string& expr : expressions) {
    bool compiled_any = false;
    std::string problems;
    for (LinkType link : {LinkType::Ethernet, LinkType::RawIp}) {
      std::string error;
      auto oracle = PcapOracle::compile(link, expr, &error);
      if (!oracle) {
        problems += std::string(" ") + link_name(link) + ": " + error + ";";
        continue;
      }
      compiled_any = true;
      auto filter = translate_cbpf(oracle->insns(), window);
      if (has_backward_jump(oracle->insns())) {
        // protochain: refused, with the reason and the way out.
        ASSERT_FALSE(filter.ok()) << expr << " has a backward jump but was translated";
        EXPECT_EQ(filter.error().code, ExitCode::BadFilter);
        EXPECT_NE(filter.error().message.find("backward jump"), std::string::npos)
            << filter.error().message;
        EXPECT_NE(filter.error().hint.find("protochain"), std::string::npos);
        rejected_protochain++;
        continue;
      }
      ASSERT_TRUE(filter.ok()) << "\"" << expr << "\" (" << link_name(link)
                               << "): " << filter.error().text() << "\n"
                               << oracle->listing();
      auto prog = bench.load(filter.value());
      ASSERT_TRUE(prog.ok()) << "\"" << expr << "\" (" << link_name(link) << "): "
                             << prog.error().text() << "\ncBPF:\n"
                             << oracle->listing() << "eBPF subprogram:\n"
                             << ebpf_listing(filter.value());
      max_insns = std::max(max_insns, filter->insns.size());
      max_stack = std::max<size_t>(max_stack, filter->stack_bytes);
      cases.push_back({expr, link, std::move(oracle), std::move(filter.value()),
                       std::move(prog.value())});
    }
    EXPECT_TRUE(compiled_any) << "\"" << expr << "\" compiles for no link type:" << problems;
  }

  // Every packet form once into the map, then through every program of its link type.
  const std::vector<CorpusPacket> corpus = make_corpus(kSeed);
  ASSERT_GE(corpus.size(), 1000u);
  size_t l3_forms = 0, comparisons = 0, mismatches = 0;
  for (LinkType link : {LinkType::Ethernet, LinkType::RawIp}) {
    for (const CorpusPacket& packet : corpus) {
      const std::vector<uint8_t>* bytes = link == LinkType::Ethernet ? &packet.ethernet
                                          : packet.l3                ? &*packet.l3
                                                                     : nullptr;
      if (!bytes) continue;
      if (link == LinkType::RawIp) l3_forms++;
      ASSERT_TRUE(bench.set_packet(*bytes).ok());
      for (Case& c : cases) {
        if (c.link != link) continue;
        auto verdict = bench.run(c.prog.get());
        ASSERT_TRUE(verdict.ok()) << verdict.error().text();
        const bool kernel = verdict.value() != 0;
        const bool pcap = c.oracle->matches(*bytes);
        c.comparisons++;
        comparisons++;
        c.matches += pcap;
        if (kernel == pcap) continue;
        c.mismatches++;
        if (++mismatches > kMaxReportedMismatches) continue;
        ADD_FAILURE() << "verdicts differ for \"" << c.expression << "\" (" << link_name(link)
                      << ") on packet \"" << packet.kind << "\" (" << bytes->size()
                      << " bytes):\n"
                      << hex(*bytes) << "\nlibpcap: " << (pcap ? "match" : "no match")
                      << ", kernel: " << (kernel ? "match" : "no match") << " (r0 "
                      << verdict.value() << ")\ncBPF:\n"
                      << c.oracle->listing();
      }
    }
  }

  size_t never = 0, always = 0;
  for (const Case& c : cases) {
    never += c.matches == 0;
    always += c.matches == c.comparisons;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "differential test (" << (window ? "BtfWindow" : "helper window")
            << "): " << expressions.size() << " expressions, " << cases.size()
            << " programs in the kernel (" << rejected_protochain
            << " refused: protochain), " << corpus.size() << " packets (Ethernet) + " << l3_forms
            << " L3 forms, " << comparisons << " comparisons, " << mismatches
            << " mismatches; programs that never matched: " << never
            << ", always matched: " << always << "; largest subprogram " << max_insns
            << " eBPF instructions, largest frame " << max_stack << " bytes; " << seconds
            << " s\n";
  ::testing::Test::RecordProperty("expressions", static_cast<int>(expressions.size()));
  ::testing::Test::RecordProperty("comparisons", static_cast<int>(comparisons));
  EXPECT_EQ(mismatches, 0u);
  EXPECT_GE(rejected_protochain, 1u);
  // A corpus that no filter matches, or that every filter matches, would prove nothing.
  EXPECT_LT(never, cases.size() / 10) << "too many filters never match the corpus";
}

TEST(CbpfToEbpfKernel, VerdictsEqualLibpcapOnEveryPacket) {
  PWRU_REQUIRE_ROOT();
  expect_libpcap_verdicts(nullptr);
}

TEST(CbpfToEbpfKernel, BtfWindowVerdictsEqualLibpcapOnEveryPacket) {
  PWRU_REQUIRE_ROOT();
  auto btf = KernelBtf::load();
  ASSERT_TRUE(btf.ok()) << btf.error().text();
  const auto window = btf->btf_window();
  if (!window) {
    PWRU_SKIP_OR_FAIL("the running kernel has no bpf_rdonly_cast (Linux 6.2 and later)");
  }
  expect_libpcap_verdicts(&*window);
}

TEST(CbpfToEbpfKernel, ProtochainIsRefusedNamingTheInstruction) {
  std::string error;
  auto oracle = PcapOracle::compile(LinkType::RawIp, "ip6 protochain 6", &error);
  ASSERT_TRUE(oracle) << error;
  auto filter = translate_cbpf(oracle->insns());
  ASSERT_FALSE(filter.ok());
  EXPECT_EQ(filter.error().code, ExitCode::BadFilter);
  const std::string& msg = filter.error().message;
  EXPECT_NE(msg.find("instruction "), std::string::npos) << msg;
  EXPECT_NE(msg.find("opcode 0x05, ja"), std::string::npos) << msg;
  EXPECT_NE(msg.find("backward jump"), std::string::npos) << msg;
}

// The deepest frame the translator makes (all 16 scratch words) next to a caller's own stack.
TEST(CbpfToEbpfKernel, VerifierAcceptsEveryScratchWord) {
  PWRU_REQUIRE_ROOT();
  std::vector<CbpfInsn> prog;
  for (uint32_t k = 0; k < 16; k++) {
    prog.push_back({0x00, 0, 0, k});       // ld #k
    prog.push_back({0x02, 0, 0, k});       // st M[k]
  }
  prog.push_back({0x00, 0, 0, 0});         // ld #0
  for (uint32_t k = 0; k < 16; k++) {
    prog.push_back({0x61, 0, 0, k});       // ldx M[k]
    prog.push_back({0x0c, 0, 0, 0});       // add x
  }
  prog.push_back({0x15, 0, 1, 120});       // jeq #120 (0 + 1 + ... + 15)
  prog.push_back({0x06, 0, 0, 1});         // ret #1
  prog.push_back({0x06, 0, 0, 0});         // ret #0
  auto filter = translate_cbpf(prog);
  ASSERT_TRUE(filter.ok()) << filter.error().text();
  EXPECT_EQ(filter->stack_bytes, 72u);
  auto bench = KernelFilterBench::create();
  ASSERT_TRUE(bench.ok()) << bench.error().text();
  auto fd = bench->load(filter.value());
  ASSERT_TRUE(fd.ok()) << fd.error().text() << "\n" << ebpf_listing(filter.value());
  ASSERT_TRUE(bench->set_packet({}).ok());
  auto verdict = bench->run(fd->get());
  ASSERT_TRUE(verdict.ok()) << verdict.error().text();
  EXPECT_EQ(verdict.value(), 1u);
}

}  // namespace
}  // namespace pwru::testing
