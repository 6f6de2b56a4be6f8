// FuncFilter and find_skb_functions against the running kernel's BTF.
#include "core/functions.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "ci_skip.h"

namespace pwru {
namespace {

TEST(FuncFilter, MatchesWholeNames) {
  auto f = FuncFilter::compile("ip_rcv.*");
  ASSERT_TRUE(f.ok()) << f.error().text();
  EXPECT_TRUE(f->matches("ip_rcv"));
  EXPECT_TRUE(f->matches("ip_rcv_core"));
  EXPECT_FALSE(f->matches("xip_rcv"));  // whole name, like pwru
  auto all = FuncFilter::compile("");
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->matches("anything"));
}

TEST(FuncFilter, BadRegexIsABadFuncFilter) {
  auto f = FuncFilter::compile("(");
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.error().code, ExitCode::BadFuncFilter);
  EXPECT_NE(f.error().message.find("--filter-func"), std::string::npos);
}

TEST(FindSkbFunctions, FromBtfAndKallsyms) {
  auto btf = KernelBtf::load();
  ASSERT_TRUE(btf.ok()) << btf.error().text();
  auto ksyms = Kallsyms::load();
  if (!ksyms) PWRU_SKIP_OR_FAIL("needs readable kernel addresses: " << ksyms.error().text());
  auto filter = FuncFilter::compile("ip_rcv|ip_rcv_core|netif_receive_skb_core|kfree_skbmem");
  ASSERT_TRUE(filter.ok());
  auto set = find_skb_functions(*btf, &*ksyms, *filter);
  ASSERT_TRUE(set.ok()) << set.error().text();
  EXPECT_FALSE(set->source.empty());
  std::vector<std::string> names;
  for (const auto& fn : set->functions) names.push_back(fn.name);
  EXPECT_NE(std::find(names.begin(), names.end(), "ip_rcv"), names.end());
  for (const auto& fn : set->functions) {
    EXPECT_GE(fn.skb_pos, 0) << fn.name;
    EXPECT_LT(fn.skb_pos, 5) << fn.name;
    if (fn.name == "ip_rcv") {
      EXPECT_EQ(fn.skb_pos, 0);
    }
  }
}

TEST(FindSkbFunctions, DropReasonPositionFromBtf) {
  auto btf = KernelBtf::load();
  ASSERT_TRUE(btf.ok()) << btf.error().text();
  // kfree_skb_reason(skb, reason) until 6.11, sk_skb_reason_drop(sk, skb, reason) after.
  bool found = false;
  for (const auto& fn : btf->skb_functions(false)) {
    if (fn.name == "kfree_skb_reason") {
      EXPECT_EQ(fn.skb_pos, 0);
      EXPECT_EQ(fn.reason_pos, 1);
      found = true;
    }
    if (fn.name == "sk_skb_reason_drop") {
      EXPECT_EQ(fn.skb_pos, 1);
      EXPECT_EQ(fn.reason_pos, 2);
      found = true;
    }
  }
  if (btf->drop_reasons().empty()) PWRU_SKIP_OR_FAIL("kernel predates drop reasons");
  EXPECT_TRUE(found) << "no drop-reason function in BTF although the enum exists";
}

TEST(FindSkbFunctions, NothingMatchesIsAClearError) {
  auto btf = KernelBtf::load();
  ASSERT_TRUE(btf.ok()) << btf.error().text();
  auto ksyms = Kallsyms::load();
  auto filter = FuncFilter::compile("no_such_function_anywhere");
  ASSERT_TRUE(filter.ok());
  auto set = find_skb_functions(*btf, ksyms ? &*ksyms : nullptr, *filter);
  ASSERT_FALSE(set.ok());
  EXPECT_EQ(set.error().code, ExitCode::BadFuncFilter);
  EXPECT_NE(set.error().message.find("no_such_function_anywhere"), std::string::npos);
}

}  // namespace
}  // namespace pwru
