// is_netfilter_drop (tie.h): which kfree_skb events --nf-trace names, with and without drop reasons.
#include "nf/tie.h"

#include <gtest/gtest.h>

namespace pwru::nf {
namespace {

Event kfree_skb(const std::string& caller) {
  Event ev;
  ev.func = "kfree_skb";
  ev.caller = caller;
  return ev;
}

TEST(IsNetfilterDrop, ByReasonWhereTheKernelGivesOne) {
  Event ev = kfree_skb("nft_do_chain+0x46f");
  ev.drop_reason = 6;
  ev.drop_reason_name = "NETFILTER_DROP";
  EXPECT_TRUE(is_netfilter_drop(ev));
  ev.drop_reason_name = "NO_SOCKET";
  ev.caller = "nf_hook_slow+0x9b";  // a reason that says otherwise wins over the caller
  EXPECT_FALSE(is_netfilter_drop(ev));
}

// Before 5.17 kfree_skb has no reason: nf_hook_slow frees what a hook dropped.
TEST(IsNetfilterDrop, ByCallerBefore517) {
  EXPECT_TRUE(is_netfilter_drop(kfree_skb("nf_hook_slow+0x9b")));
  EXPECT_FALSE(is_netfilter_drop(kfree_skb("ip_rcv_core+0x1f")));
  Event consumed = kfree_skb("nf_hook_slow+0x9b");
  consumed.func = "consume_skb";
  EXPECT_FALSE(is_netfilter_drop(consumed));
}

}  // namespace
}  // namespace pwru::nf
