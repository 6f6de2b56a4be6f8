// FuncFilter and find_skb_functions against the running kernel's BTF.
#include "core/functions.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>

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

// A function backend's refusal of the kallsyms fallback names the unread list and its fix.
TEST(ExplainRefusal, NamesTheUnreadFtraceListAndItsFix) {
  const Error refused{ExitCode::KernelFeature, "cannot use kprobe-multi: Invalid argument",
                      "pick another backend"};
  FunctionSet ftrace;  // ftrace's list was read: the refusal is about something else
  ftrace.source = "/sys/kernel/tracing/available_filter_functions";
  EXPECT_EQ(explain_refusal(refused, ftrace).text(), refused.text());

  FunctionSet closed;
  closed.from_kallsyms = true;
  closed.ftrace_errno = EACCES;
  closed.source = "/proc/kallsyms";
  const Error e = explain_refusal(refused, closed);
  EXPECT_EQ(e.code, ExitCode::KernelFeature);
  EXPECT_EQ(e.message,
            "cannot use kprobe-multi: Invalid argument (the kernel was offered every skb function "
            "of /proc/kallsyms: ftrace's list, available_filter_functions, cannot be read: "
            "Permission denied)");
  EXPECT_NE(e.hint.find("CAP_DAC_READ_SEARCH"), std::string::npos) << e.hint;

  FunctionSet absent;
  absent.from_kallsyms = true;
  absent.source = "/proc/kallsyms";
  const Error a = explain_refusal(refused, absent);
  EXPECT_NE(a.message.find("available_filter_functions, is not there)"), std::string::npos);
  EXPECT_NE(a.hint.find("mount -t tracefs"), std::string::npos) << a.hint;
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
