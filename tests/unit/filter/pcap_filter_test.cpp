// PacketFilter: the pcap expression compiled for Ethernet and raw IP, run on hand-built packets.
#include "filter/pcap_filter.h"

#include <gtest/gtest.h>

#include "filter/test_packets.h"

namespace pwru {
namespace {

using testing::arp_request;
using testing::Bytes;
using testing::ethernet;
using testing::ipv4_icmp;
using testing::ipv6_icmp6;

const Bytes kIcmpL3 = ipv4_icmp({10, 0, 0, 1}, {10, 0, 0, 2});
const Bytes kIcmpEth = ethernet(0x0800, kIcmpL3);
const Bytes kIcmp6L3 = ipv6_icmp6(1, 2);
const Bytes kArpEth = arp_request({10, 0, 0, 1}, {10, 0, 0, 2});

PacketFilter compile(const std::string& expression) {
  auto f = PacketFilter::compile(expression);
  EXPECT_TRUE(f.ok()) << (f.ok() ? "" : f.error().text());
  return std::move(f.value());
}

bool eth(const PacketFilter& f, const Bytes& b) {
  return f.matches(PacketLayer::Ethernet, b, static_cast<uint32_t>(b.size()));
}
bool l3(const PacketFilter& f, const Bytes& b) {
  return f.matches(PacketLayer::Network, b, static_cast<uint32_t>(b.size()));
}

TEST(PcapFilter, EmptyExpressionMatchesEverythingEvenWithoutPacket) {
  for (const char* expr : {"", "  "}) {
    PacketFilter f = compile(expr);
    EXPECT_TRUE(f.matches_all());
    EXPECT_TRUE(f.matches(Event{}));
    EXPECT_TRUE(eth(f, kArpEth));
  }
}

TEST(PcapFilter, IcmpMatchesAtBothLayers) {
  PacketFilter f = compile("icmp");
  EXPECT_TRUE(eth(f, kIcmpEth));
  EXPECT_TRUE(l3(f, kIcmpL3));
  EXPECT_FALSE(l3(f, kIcmp6L3));
  EXPECT_FALSE(eth(f, kArpEth));
}

TEST(PcapFilter, HostMatchesIpv4Addresses) {
  PacketFilter f = compile("host 10.0.0.2");
  EXPECT_TRUE(eth(f, kIcmpEth));
  EXPECT_TRUE(l3(f, kIcmpL3));
  PacketFilter other = compile("host 10.9.9.9");
  EXPECT_FALSE(eth(other, kIcmpEth));
  EXPECT_FALSE(l3(other, kIcmpL3));
}

TEST(PcapFilter, Ipv6AtNetworkLayer) {
  PacketFilter f = compile("icmp6 and dst host fd00::2");
  EXPECT_TRUE(l3(f, kIcmp6L3));
  EXPECT_TRUE(eth(f, ethernet(0x86dd, kIcmp6L3)));
  EXPECT_FALSE(l3(f, kIcmpL3));
  EXPECT_FALSE(l3(compile("ip6 and dst host fd00::1"), kIcmp6L3));
}

// The bytes are read as the layer says: Ethernet bytes through the raw-IP program would not
// find the IP header.
TEST(PcapFilter, LayerPicksTheProgram) {
  PacketFilter f = compile("icmp");
  EXPECT_FALSE(l3(f, kIcmpEth));
  EXPECT_FALSE(f.matches(PacketLayer::None, kIcmpL3, 0));
}

TEST(PcapFilter, ArpMatchesEthernetAndRejectsL3OnlyPackets) {
  PacketFilter f = compile("arp");
  EXPECT_TRUE(eth(f, kArpEth));
  EXPECT_FALSE(eth(f, kIcmpEth));
  EXPECT_FALSE(l3(f, kIcmpL3));
}

TEST(PcapFilter, EthernetOnlyExpressionCompilesAndRejectsL3) {
  PacketFilter f = compile("ether src 02:00:00:00:00:0a");
  EXPECT_FALSE(f.matches_all());
  EXPECT_TRUE(eth(f, kIcmpEth));
  EXPECT_FALSE(l3(f, kIcmpL3));
  EXPECT_FALSE(eth(compile("ether src 02:00:00:00:00:0b"), kIcmpEth));
}

TEST(PcapFilter, InvalidExpressionIsBadFilterWithLibpcapMessage) {
  auto f = PacketFilter::compile("tcp port");
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.error().code, ExitCode::BadFilter);
  EXPECT_NE(f.error().message.find("cannot compile pcap filter \"tcp port\": "),
            std::string::npos);
  EXPECT_NE(f.error().message.find("syntax error"), std::string::npos) << f.error().message;
  EXPECT_FALSE(f.error().hint.empty());
}

TEST(PcapFilter, ProblemIsLibpcapsMessageAlone) {
  EXPECT_EQ(pcap_filter_problem("icmp"), std::nullopt);
  EXPECT_EQ(pcap_filter_problem("arp"), std::nullopt);
  EXPECT_EQ(pcap_filter_problem(""), std::nullopt);
  auto problem = pcap_filter_problem("tcp port");
  ASSERT_TRUE(problem.has_value());
  EXPECT_EQ(problem->find("cannot"), std::string::npos) << *problem;
  EXPECT_NE(problem->find("syntax error"), std::string::npos) << *problem;
  EXPECT_TRUE(pcap_filter_problem("host 10.0.0.999").has_value());
}

TEST(PcapFilter, EventWithoutPacketNeverMatchesAFilter) {
  PacketFilter f = compile("icmp");
  Event ev;
  ev.layer = PacketLayer::Ethernet;
  EXPECT_FALSE(f.matches(ev));
  ev.packet = kIcmpEth;
  EXPECT_TRUE(f.matches(ev));
  ev.layer = PacketLayer::None;
  EXPECT_FALSE(f.matches(ev));
}

// `greater`/`less` see the packet's length, not the few bytes captured of it.
TEST(PcapFilter, LengthUsesWireLength) {
  PacketFilter f = compile("greater 1000");
  EXPECT_FALSE(l3(f, kIcmpL3));
  EXPECT_TRUE(f.matches(PacketLayer::Network, kIcmpL3, 1500));
  Event ev;
  ev.layer = PacketLayer::Network;
  ev.packet = kIcmpL3;
  ev.len = 1500;
  EXPECT_TRUE(f.matches(ev));
  // A wire length below the captured bytes is raised to them.
  EXPECT_TRUE(compile("greater 20").matches(PacketLayer::Network, kIcmpL3, 0));
}

TEST(PcapFilter, MovedFilterKeepsWorking) {
  PacketFilter a = compile("icmp");
  PacketFilter b = std::move(a);
  EXPECT_TRUE(eth(b, kIcmpEth));
  PacketFilter c = compile("arp");
  c = std::move(b);
  EXPECT_TRUE(l3(c, kIcmpL3));
  EXPECT_EQ(c.expression(), "icmp");
}

}  // namespace
}  // namespace pwru
