// parse_netns_mount: which lines of /proc/PID/mountinfo hold a network namespace.
#include "nf/netns_set.h"

#include <gtest/gtest.h>

namespace pwru::nf {
namespace {

TEST(NetnsSet, IpNetnsBindMount) {
  auto m = parse_netns_mount(
      "612 29 0:4 net:[4026532560] /run/netns/pwru-a rw shared:297 - nsfs nsfs rw");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->first, 4026532560u);
  EXPECT_EQ(m->second, "/run/netns/pwru-a");
}

TEST(NetnsSet, EscapedMountPoint) {
  auto m = parse_netns_mount("1 2 0:4 net:[7] /run/my\\040ns\\134x rw - nsfs nsfs rw");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->second, "/run/my ns\\x");
}

TEST(NetnsSet, OtherMountsAndNamespaces) {
  // Not nsfs; another namespace type; a root that is not a namespace; cut short.
  EXPECT_FALSE(parse_netns_mount("22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw"));
  EXPECT_FALSE(parse_netns_mount("30 29 0:4 mnt:[4026531841] /run/x rw - nsfs nsfs rw"));
  EXPECT_FALSE(parse_netns_mount("30 29 0:4 net:[] /run/x rw - nsfs nsfs rw"));
  EXPECT_FALSE(parse_netns_mount("30 29 0:4 net:[12x] /run/x rw - nsfs nsfs rw"));
  EXPECT_FALSE(parse_netns_mount("30 29 0:4 net:[12]"));
  EXPECT_FALSE(parse_netns_mount(""));
}

TEST(NetnsSet, LiveNamespacesHoldOurOwn) {
  // This process is in a namespace, so the scan finds it: no privilege needed for our own.
  const uint32_t own = current_netns_inode();
  ASSERT_NE(own, 0u);
  EXPECT_TRUE(live_namespaces().contains(own));
}

}  // namespace
}  // namespace pwru::nf
