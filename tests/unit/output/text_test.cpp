// text_line/text_header: pwru's columns for IPv4, IPv6, no tuple and drops.
#include "output/text.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <vector>

namespace pwru {
namespace {

Event icmp_drop() {
  Event ev;
  ev.skb = 0xffff99cf11aa4100;
  ev.cpu = 0;
  ev.comm = "ping";
  ev.pid = 1234;
  ev.netns = 4026531840;
  ev.mark = 0;
  ev.ifindex = 5;
  ev.ifname = "veth1";
  ev.protocol = 0x0800;
  ev.mtu = 1500;
  ev.len = 84;
  ev.ip_version = 4;
  inet_pton(AF_INET, "10.0.0.1", ev.saddr.data());
  inet_pton(AF_INET, "10.0.0.2", ev.daddr.data());
  ev.l4proto = 1;
  ev.func = "kfree_skb";
  return ev;
}

// Where each column of `line` starts: a non-space after a space.
std::vector<size_t> column_starts(const std::string& line) {
  std::vector<size_t> starts;
  for (size_t i = 0; i < line.size(); ++i) {
    if (line[i] != ' ' && (i == 0 || line[i - 1] == ' ')) starts.push_back(i);
  }
  return starts;
}

TEST(TextOutput, HeaderHasPwruColumns) {
  EXPECT_EQ(text_header(),
            "SKB                CPU PROCESS          NETNS      MARK/x   IFACE            PROTO  "
            "MTU   LEN   TUPLE                                         FUNC");
}

TEST(TextOutput, Ipv4Line) {
  EXPECT_EQ(text_line(icmp_drop()),
            "0xffff99cf11aa4100 0   ping:1234        4026531840 0        veth1:5          0x0800 "
            "1500  84    10.0.0.1:0->10.0.0.2:0(icmp)                  kfree_skb");
}

TEST(TextOutput, ColumnsLineUpWithHeader) {
  Event ev = icmp_drop();
  ev.mark = 0xbeef;
  EXPECT_EQ(column_starts(text_line(ev)), column_starts(text_header()));
}

TEST(TextOutput, PortsAndMarkInHex) {
  Event ev = icmp_drop();
  ev.l4proto = 6;
  ev.has_ports = true;
  ev.sport = 43210;
  ev.dport = 443;
  ev.mark = 0xbeef;
  const std::string line = text_line(ev);
  EXPECT_NE(line.find(" beef     "), std::string::npos) << line;
  EXPECT_NE(line.find(" 10.0.0.1:43210->10.0.0.2:443(tcp) "), std::string::npos) << line;
}

TEST(TextOutput, Ipv6AddressesInBrackets) {
  Event ev = icmp_drop();
  ev.ip_version = 6;
  ev.protocol = 0x86dd;
  inet_pton(AF_INET6, "fd00::1", ev.saddr.data());
  inet_pton(AF_INET6, "fd00::2", ev.daddr.data());
  ev.l4proto = 58;
  EXPECT_EQ(text_tuple(ev), "[fd00::1]:0->[fd00::2]:0(icmp6)");
  ev.l4proto = 17;
  ev.has_ports = true;
  ev.sport = 5353;
  ev.dport = 53;
  EXPECT_EQ(text_tuple(ev), "[fd00::1]:5353->[fd00::2]:53(udp)");
  EXPECT_NE(text_line(ev).find(" 0x86dd "), std::string::npos);
}

TEST(TextOutput, UnknownL4ProtocolShowsItsNumber) {
  Event ev = icmp_drop();
  ev.l4proto = 253;
  EXPECT_EQ(text_tuple(ev), "10.0.0.1:0->10.0.0.2:0(253)");
}

TEST(TextOutput, NoTupleLeavesTheColumnBlank) {
  Event ev = icmp_drop();
  ev.ip_version = 0;
  ev.protocol = 0x0806;
  ev.func = "arp_rcv";
  EXPECT_EQ(text_tuple(ev), "");
  const std::string line = text_line(ev);
  EXPECT_NE(line.find(std::string(" 84    ") + std::string(45, ' ') + " arp_rcv"), std::string::npos)
      << line;
}

TEST(TextOutput, EmptyCommAndNoDevice) {
  Event ev;
  ev.func = "consume_skb";
  const std::string line = text_line(ev);
  EXPECT_EQ(line.rfind("0x0                0   <empty>:0        0          0        <none>:0         0x0000 0 ",
                       0),
            0u)
      << line;
  ev.ifindex = 7;
  EXPECT_NE(text_line(ev).find(" <unknown>:7 "), std::string::npos);
}

TEST(TextOutput, DropAppendsReasonAndCaller) {
  Event ev = icmp_drop();
  ev.drop_reason = 12;
  ev.drop_reason_name = "NETFILTER_DROP";
  ev.caller = "nf_hook_slow+0x9b";
  ev.caller_addr = 0xffffffff81aabbcc;
  const std::string line = text_line(ev);
  const std::string tail = " kfree_skb reason=NETFILTER_DROP caller=nf_hook_slow+0x9b";
  ASSERT_GE(line.size(), tail.size());
  EXPECT_EQ(line.substr(line.size() - tail.size()), tail);
}

TEST(TextOutput, DropWithoutNamesFallsBackToNumbers) {
  Event ev = icmp_drop();
  ev.drop_reason = 77;
  ev.caller_addr = 0xffffffff81aabbcc;
  const std::string line = text_line(ev);
  EXPECT_NE(line.find(" kfree_skb reason=77 caller=0xffffffff81aabbcc"), std::string::npos) << line;
  ev.caller_addr = 0;
  EXPECT_EQ(text_line(ev).find("caller="), std::string::npos);
}

TEST(TextOutput, NonDropsCarryNoReasonOrCaller) {
  Event ev = icmp_drop();
  ev.func = "net_dev_xmit";
  ev.caller = "dev_hard_start_xmit+0x9b";
  const std::string line = text_line(ev);
  EXPECT_EQ(line.find("reason="), std::string::npos);
  EXPECT_EQ(line.find("caller="), std::string::npos);
  EXPECT_EQ(line.back(), 't');
}

}  // namespace
}  // namespace pwru
