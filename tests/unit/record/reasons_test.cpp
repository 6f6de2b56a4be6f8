// The drop reasons' explanations (pwru_reasons.h): every reason of every matrix kernel's BTF
// (drop_reasons/*.txt, made by drop_reasons/update.sh) has one, and the table is well formed.
#include "pwru_reasons.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>

namespace pwru::reasons {
namespace {

TEST(Reasons, EveryMatrixKernelReasonIsExplained) {
  std::set<std::string> kernels;
  for (const auto& entry : std::filesystem::directory_iterator(PWRU_DROP_REASONS_DIR)) {
    if (entry.path().extension() != ".txt") continue;
    const std::string kernel = entry.path().stem();
    kernels.insert(kernel);
    std::ifstream in(entry.path());
    std::string name;
    int names = 0;
    while (std::getline(in, name)) {
      ++names;
      EXPECT_NE(reason_help(name), nullptr)
          << name << " (Linux " << kernel << ") has no entry in pwru_reasons.h";
    }
    EXPECT_GT(names, 10) << entry.path();
  }
  // The matrix's kernels with drop reasons (tests/vm/kernels.sh), and a newer one.
  for (const char* k : {"6.1", "6.12", "7.2"}) EXPECT_EQ(kernels.count(k), 1u) << k;
}

TEST(Reasons, TableIsWellFormed) {
  std::set<std::string_view> seen;
  for (const ReasonHelp& r : kReasonHelp) {
    EXPECT_TRUE(seen.insert(r.name).second) << r.name << " twice";
    EXPECT_FALSE(r.name.starts_with("SKB_DROP_REASON_")) << r.name;
    const std::string_view meaning = r.meaning;
    ASSERT_FALSE(meaning.empty()) << r.name;
    // One line, joined by the outputs as "MEANING; check: CHECK".
    EXPECT_EQ(meaning.find('\n'), std::string_view::npos) << r.name;
    EXPECT_NE(meaning.back(), '.') << r.name;
    if (r.check != nullptr) {
      EXPECT_FALSE(std::string_view(r.check).empty()) << r.name;
      EXPECT_EQ(std::string_view(r.check).find('\n'), std::string_view::npos) << r.name;
    }
  }
}

TEST(Reasons, LookupByName) {
  const ReasonHelp* nf = reason_help("NETFILTER_DROP");
  ASSERT_NE(nf, nullptr);
  EXPECT_NE(std::string_view(nf->check).find("nft list ruleset"), std::string_view::npos);
  const ReasonHelp* ns = reason_help("NO_SOCKET");
  ASSERT_NE(ns, nullptr);
  EXPECT_NE(std::string_view(ns->check).find("ss -ltnu"), std::string_view::npos);
  // Names as recorded: no prefix, exact case.
  EXPECT_EQ(reason_help("SKB_DROP_REASON_NO_SOCKET"), nullptr);
  EXPECT_EQ(reason_help("no_socket"), nullptr);
  // A newer kernel's reason: nothing, the caller says kUnknownReasonMeaning.
  EXPECT_EQ(reason_help("SOME_FUTURE_REASON"), nullptr);
  EXPECT_EQ(reason_help(""), nullptr);
}

// Values BTF did not name: pwrudump records `reason_N`; a subsystem's (N >= 1 << 16) get the
// generic entry, a core value does not.
TEST(Reasons, SubsystemReasonsGetTheGenericEntry) {
  EXPECT_EQ(unnamed_reason_value("reason_65537"), 65537);
  EXPECT_EQ(unnamed_reason_value("reason_"), -1);
  EXPECT_EQ(unnamed_reason_value("reason_1x"), -1);
  EXPECT_EQ(unnamed_reason_value("NO_SOCKET"), -1);
  EXPECT_EQ(reason_help("reason_65537"), &kSubsystemReasonHelp);
  EXPECT_EQ(reason_help("reason_196610"), &kSubsystemReasonHelp);
  EXPECT_EQ(reason_help("reason_200"), nullptr);
  EXPECT_EQ(reason_help("reason_99999999999"), nullptr);  // too long to be a u32
}

}  // namespace
}  // namespace pwru::reasons
