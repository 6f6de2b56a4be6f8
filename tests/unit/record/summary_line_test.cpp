// The summary line of a dropped journey (pwru_summary_line.h): the words pwrudump's
// --output-summary and the dissector's pwru_drop_journeys tree both print.
#include "pwru_summary_line.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace pwru::summary {
namespace {

std::string format(const DropLine& d) {
  std::string out(format_drop_line(d, nullptr, 0), '\0');
  EXPECT_EQ(format_drop_line(d, out.data(), out.size() + 1), out.size());
  return out;
}

DropLine ping(const std::vector<Crossing>& crossings) {
  return DropLine{.journey = 3,
                  .saddr = "10.0.0.1",
                  .daddr = "10.0.0.2",
                  .l4proto = 1,
                  .crossings = crossings.data(),
                  .n_crossings = crossings.size(),
                  .func = "kfree_skb",
                  .caller = "nf_hook_slow+0x9b",
                  .reason = "NETFILTER_DROP"};
}

TEST(SummaryLine, PacketInterfacesWhereWhyAndHint) {
  const std::vector<Crossing> crossings = {{"veth-a", 5, 4026532441, ""},
                                           {"veth-b", 6, 4026532512, "demo-b"},
                                           {"lo", 1, 4026532512, "demo-b"}};
  const reasons::ReasonHelp* help = reasons::reason_help("NETFILTER_DROP");
  ASSERT_NE(help, nullptr);
  EXPECT_EQ(format(ping(crossings)),
            std::string("journey 3: 10.0.0.1:0->10.0.0.2:0(icmp) via veth-a (netns 4026532441) > "
                        "veth-b (netns demo-b) > lo, dropped at kfree_skb from "
                        "nf_hook_slow+0x9b: NETFILTER_DROP; hint: ") +
                help->meaning + reasons::kCheckSeparator + help->check);
}

TEST(SummaryLine, PortsAndTheProtocolNumberWithoutAName) {
  DropLine d = ping({});
  d.sport = 40000;
  d.dport = 4444;
  d.l4proto = 6;
  EXPECT_EQ(format(d).substr(0, 53), "journey 3: 10.0.0.1:40000->10.0.0.2:4444(tcp) via no ");
  d.l4proto = 253;
  EXPECT_NE(format(d).find("->10.0.0.2:4444(253) "), std::string::npos);
  d.saddr = "";
  EXPECT_EQ(format(d).substr(0, 27), "journey 3: (no IP header) v");
}

TEST(SummaryLine, AnInterfaceWithoutANameIsItsIndex) {
  const std::vector<Crossing> crossings = {{"", 7, 1, ""}};
  EXPECT_NE(format(ping(crossings)).find(" via ifindex 7 (netns 1), "), std::string::npos);
}

TEST(SummaryLine, CrossingsLeftOutAreCounted) {
  const std::vector<Crossing> crossings = {{"a", 2, 1, ""}};
  DropLine d = ping(crossings);
  d.crossings_left_out = 4;
  EXPECT_NE(format(d).find(" via a (netns 1) > and 4 more, "), std::string::npos);
}

TEST(SummaryLine, ReasonsUnnamedUnknownAndMissing) {
  DropLine d = ping({});
  d.caller = "";
  d.reason = "";
  d.has_reason_code = true;
  d.reason_code = 65537;  // a subsystem's
  EXPECT_NE(format(d).find("dropped at kfree_skb: reason_65537; hint: a subsystem's own reason"),
            std::string::npos)
      << format(d);
  d.reason = "SOME_NEW_REASON";
  EXPECT_NE(format(d).find(": SOME_NEW_REASON; hint: no explanation is known yet"),
            std::string::npos);
  d.reason = "";
  d.has_reason_code = false;
  d.func = "kfree_skb_reason";
  EXPECT_EQ(format(d).substr(format(d).find(", dropped")),
            ", dropped at kfree_skb_reason: no reason recorded");
}

// Every byte asked for is counted; what fits is written, NUL-terminated.
TEST(SummaryLine, CutToTheBuffer) {
  const DropLine d = ping({});
  char buf[12];
  EXPECT_EQ(format_drop_line(d, buf, sizeof buf), format(d).size());
  EXPECT_STREQ(buf, "journey 3: ");
}

TEST(SummaryLine, ACrossingIsAnotherDeviceOrNamespace) {
  const Crossing last{"veth-a", 5, 100, ""};
  EXPECT_TRUE(adds_crossing(nullptr, 5, 100));
  EXPECT_FALSE(adds_crossing(nullptr, 0, 100));  // no device
  EXPECT_FALSE(adds_crossing(&last, 5, 100));
  EXPECT_TRUE(adds_crossing(&last, 6, 100));
  EXPECT_TRUE(adds_crossing(&last, 5, 200));
}

}  // namespace
}  // namespace pwru::summary
