// KernelBtf against the running kernel's BTF (readable without root).
#include "core/btf.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "ci_skip.h"
#include "pwru_reasons.h"

namespace pwru {
namespace {

const SkbTracepoint* find(const std::vector<SkbTracepoint>& tps, const std::string& name) {
  auto it = std::find_if(tps.begin(), tps.end(), [&](const auto& t) { return t.name == name; });
  return it == tps.end() ? nullptr : &*it;
}

TEST(KernelBtf, FindsSkbTracepointsWithPositions) {
  auto btf = KernelBtf::load();
  ASSERT_TRUE(btf.ok()) << btf.error().text();
  auto tps = btf->skb_tracepoints();
  // Every kernel we support has these (skb:kfree_skb, skb:consume_skb, net:*).
  const SkbTracepoint* kfree = find(tps, "kfree_skb");
  ASSERT_NE(kfree, nullptr);
  EXPECT_EQ(kfree->skb_pos, 0);
  EXPECT_EQ(kfree->location_pos, 1);
  ASSERT_NE(find(tps, "net_dev_queue"), nullptr);
  ASSERT_NE(find(tps, "netif_receive_skb"), nullptr);
  EXPECT_EQ(find(tps, "net_dev_queue")->location_pos, -1);
  EXPECT_EQ(find(tps, "net_dev_queue")->reason_pos, -1);
  // Tracepoints that are not about skbs are not listed.
  EXPECT_EQ(find(tps, "sched_switch"), nullptr);
  EXPECT_TRUE(std::is_sorted(tps.begin(), tps.end(),
                             [](const auto& a, const auto& b) { return a.name < b.name; }));
}

TEST(KernelBtf, SkbNotFirstArgument) {
  auto btf = KernelBtf::load();
  ASSERT_TRUE(btf.ok()) << btf.error().text();
  auto tps = btf->skb_tracepoints();
  // tcp:tcp_retransmit_skb(const struct sock *sk, const struct sk_buff *skb, ...)
  const SkbTracepoint* retrans = find(tps, "tcp_retransmit_skb");
  ASSERT_NE(retrans, nullptr);
  EXPECT_EQ(retrans->skb_pos, 1);
}

TEST(KernelBtf, DropReasonsNamedWithoutPrefix) {
  auto btf = KernelBtf::load();
  ASSERT_TRUE(btf.ok()) << btf.error().text();
  auto reasons = btf->drop_reasons();
  auto tps = btf->skb_tracepoints();
  const SkbTracepoint* kfree = find(tps, "kfree_skb");
  ASSERT_NE(kfree, nullptr);
  if (kfree->reason_pos < 0) {
    EXPECT_TRUE(reasons.empty()) << "kfree_skb has no reason argument but the enum exists";
    PWRU_SKIP_OR_FAIL("this kernel's kfree_skb tracepoint predates drop reasons");
  }
  bool netfilter = false;
  for (const auto& [value, name] : reasons) {
    EXPECT_EQ(name.rfind("SKB_DROP_REASON_", 0), std::string::npos) << name;
    netfilter |= name == "NETFILTER_DROP";
  }
  EXPECT_TRUE(netfilter);
}

// The running kernel may be newer than the matrix's lists (record/drop_reasons/): its reasons
// need words too.
TEST(KernelBtf, EveryRunningKernelReasonIsExplained) {
  auto btf = KernelBtf::load();
  ASSERT_TRUE(btf.ok()) << btf.error().text();
  const auto names = btf->drop_reasons();
  if (names.empty()) PWRU_SKIP_OR_FAIL("this kernel predates drop reasons");
  for (const auto& [value, name] : names) {
    EXPECT_NE(reasons::reason_help(name), nullptr)
        << name << " (" << value << ") has no entry in pwru_reasons.h: add one, and the kernel's "
        << "list with tests/unit/record/drop_reasons/update.sh --host";
  }
}

TEST(KernelBtf, MissingFileIsAClearError) {
  auto btf = KernelBtf::load("/nonexistent/vmlinux");
  ASSERT_FALSE(btf.ok());
  EXPECT_EQ(btf.error().code, ExitCode::NoBtf);
  EXPECT_NE(btf.error().message.find("--kernel-btf /nonexistent/vmlinux"), std::string::npos);
  EXPECT_NE(btf.error().hint.find("leave --kernel-btf out"), std::string::npos);
}

}  // namespace
}  // namespace pwru
