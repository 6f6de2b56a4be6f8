// One packet across hosts and skbs (pwru_flight.h), the identity the dissector's pwru.flight
// links events with: a table of packet pairs, each as two events saw it (before and after a
// NAT, a tunnel, a cut capture, ...), and whether they are one packet; the functions of the send
// and receive paths and the hosts' order; the host of an interface name.
#include "pwru_flight.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "record/packet_bytes.h"

namespace pwru::flight {
namespace {

using test::Bytes;
using test::put16;
using test::put_addr;

void put32(Bytes& b, uint32_t v) {
  put16(b, static_cast<uint16_t>(v >> 16));
  put16(b, static_cast<uint16_t>(v));
}

// What a packet is: its addresses, IPv4 id or IPv6 flow label, transport and payload.
struct Packet {
  int family = AF_INET;
  const char* src = "10.0.0.1";
  const char* dst = "10.0.0.2";
  uint16_t ip_id = 0x1234;
  uint16_t frag = 0x4000;  // DF
  uint32_t flow_label = 0x12345;
  uint8_t proto = 1;        // ICMP echo request
  uint16_t sport = 41000;   // TCP, UDP; ICMP: the echo id
  uint16_t dport = 80;
  uint32_t seq = 7;         // TCP; ICMP: the echo sequence (16 bits)
  uint32_t ack = 0;         // TCP, with ACK when not 0
  uint8_t ttl = 64;
  Bytes payload = Bytes(56, 0x5a);
  bool ethernet = true;
};

// The bytes of `p`, as an event records them (Ethernet or IP first); `cut` keeps the first
// bytes only (0: all).
Bytes bytes_of(const Packet& p, size_t cut = 0) {
  Bytes l4;
  if (p.proto == 6) {
    put16(l4, p.sport);
    put16(l4, p.dport);
    put32(l4, p.seq);
    put32(l4, p.ack);
    l4.push_back(5 << 4);
    l4.push_back(p.ack != 0 ? 0x18 : 0x02);
    l4.insert(l4.end(), {0xff, 0xff, 0, 0, 0, 0});
  } else if (p.proto == 17) {
    put16(l4, p.sport);
    put16(l4, p.dport);
    put16(l4, static_cast<uint16_t>(8 + p.payload.size()));
    put16(l4, 0xbeef);  // the checksum NAT rewrites
  } else {
    l4.push_back(p.family == AF_INET ? 8 : 128);
    l4.push_back(0);
    put16(l4, 0xbeef);
    put16(l4, p.sport);
    put16(l4, static_cast<uint16_t>(p.seq));
  }
  l4.insert(l4.end(), p.payload.begin(), p.payload.end());

  Bytes f;
  if (p.ethernet) {
    for (int i = 0; i < 12; ++i) f.push_back(static_cast<uint8_t>(i));
    put16(f, p.family == AF_INET ? 0x0800 : 0x86dd);
  }
  if (p.family == AF_INET) {
    f.push_back(0x45);
    f.push_back(0);
    put16(f, static_cast<uint16_t>(20 + l4.size()));
    put16(f, p.ip_id);
    put16(f, p.frag);
    f.push_back(p.ttl);
    f.push_back(p.proto);
    put16(f, 0);
    put_addr(f, AF_INET, p.src);
    put_addr(f, AF_INET, p.dst);
  } else {
    put32(f, 0x60000000u | p.flow_label);
    put16(f, static_cast<uint16_t>(l4.size()));
    f.push_back(p.proto == 1 ? 58 : p.proto);
    f.push_back(p.ttl);
    put_addr(f, AF_INET6, p.src);
    put_addr(f, AF_INET6, p.dst);
  }
  f.insert(f.end(), l4.begin(), l4.end());
  if (cut != 0 && cut < f.size()) f.resize(cut);
  return f;
}

// `inner`'s Ethernet frame in VXLAN (VNI 42) from 172.16.0.1 to 172.16.0.2, outer IP id 0x777.
Bytes vxlan_of(const Bytes& inner) {
  Bytes f;
  for (int i = 0; i < 12; ++i) f.push_back(static_cast<uint8_t>(i));
  put16(f, 0x0800);
  f.insert(f.end(), {0x45, 0});
  put16(f, static_cast<uint16_t>(20 + 16 + inner.size()));
  put16(f, 0x0777);
  put16(f, 0);
  f.insert(f.end(), {64, 17, 0, 0});
  put_addr(f, AF_INET, "172.16.0.1");
  put_addr(f, AF_INET, "172.16.0.2");
  put16(f, 41000);
  put16(f, 4789);
  put16(f, static_cast<uint16_t>(16 + inner.size()));
  put16(f, 0);
  f.insert(f.end(), {0x08, 0, 0, 0, 0, 0, 42, 0});
  f.insert(f.end(), inner.begin(), inner.end());
  return f;
}

// The identity an event with these bytes shows: the innermost usable one (a tunnel's packet).
Identity identity_of(const Bytes& b) {
  Identity ids[2];
  const size_t n = identify(b.data(), b.size(), PWRU_PACKET_ETHERNET, ids);
  return n == 0 ? Identity{} : ids[n - 1];
}

Identity identity_of(const Packet& p, size_t cut = 0) {
  Identity ids[2];
  const Bytes b = bytes_of(p, cut);
  const size_t n = identify(b.data(), b.size(), p.ethernet ? PWRU_PACKET_ETHERNET
                                                           : PWRU_PACKET_NETWORK, ids);
  return n == 0 ? Identity{} : ids[0];
}

Packet tcp() {
  Packet p;
  p.proto = 6;
  p.seq = 0x1a2b3c4d;
  p.ack = 0x55667788;
  p.payload = Bytes{'G', 'E', 'T', ' ', '/', ' ', 'H', 'T', 'T', 'P'};
  return p;
}

Packet udp() {
  Packet p;
  p.proto = 17;
  p.dport = 53;
  p.payload = Bytes{1, 2, 3, 4, 5, 6, 7, 8};
  return p;
}

Packet v6(Packet p) {
  p.family = AF_INET6;
  p.src = "fd00::1";
  p.dst = "fd00::2";
  return p;
}

struct PairCase {
  const char* name;
  Identity a;
  Identity b;
  Match want;
};

void PrintTo(const PairCase& c, std::ostream* os) { *os << c.name; }

class FlightPairs : public testing::TestWithParam<PairCase> {};

TEST_P(FlightPairs, Match) {
  const PairCase& c = GetParam();
  ASSERT_NE(c.a.version, 0) << "the first event identifies no packet";
  EXPECT_EQ(match(c.a, c.b), c.want);
  EXPECT_EQ(match(c.b, c.a), c.want) << "either order";
  if (c.want != Match::None) {
    EXPECT_EQ(key(c.a), key(c.b)) << "one key for one packet";
  }
}

PairCase with(const char* name, const Packet& a, const Packet& b, Match want, size_t cut_a = 0,
              size_t cut_b = 0) {
  return {name, identity_of(a, cut_a), identity_of(b, cut_b), want};
}

const std::vector<PairCase> kPairs = [] {
  std::vector<PairCase> v;
  const Packet ping;
  Packet p;

  v.push_back(with("SamePing", ping, ping, Match::Same));
  p = ping;
  p.ttl = 63;
  v.push_back(with("PingRouted", ping, p, Match::Same));
  p = ping;
  p.ethernet = false;
  v.push_back(with("PingWithoutEthernet", ping, p, Match::Same));
  p = ping;
  p.dst = "10.9.9.9";
  p.sport = 999;  // NAT may rewrite the echo id
  v.push_back(with("PingDnat", ping, p, Match::Nat));
  p = ping;
  p.seq = 8;
  v.push_back(with("NextPing", ping, p, Match::None));
  p = ping;
  p.ip_id = 0x1235;
  v.push_back(with("OtherIpId", ping, p, Match::None));
  p = ping;
  p.payload[3] ^= 1;
  v.push_back(with("OtherPayload", ping, p, Match::None));
  // One capture kept 20 payload bytes, the other all 56: the first 16 agree.
  v.push_back(with("PingCutShort", ping, ping, Match::Same, 0, 14 + 20 + 8 + 20));
  p = ping;
  p.payload[2] ^= 1;
  v.push_back(with("PingCutShortOtherPayload", ping, p, Match::None, 0, 14 + 20 + 8 + 20));

  const Packet syn = tcp();
  p = syn;
  p.src = "10.1.0.254";
  p.sport = 50000;
  p.dst = "10.2.0.2";
  p.dport = 8080;
  v.push_back(with("TcpSnatAndDnat", syn, p, Match::Nat));
  p = syn;
  p.seq += 10;
  v.push_back(with("TcpNextSegment", syn, p, Match::None));
  p = syn;
  p.ack += 1;
  v.push_back(with("TcpOtherAck", syn, p, Match::None));
  // Headers only (the payload in pages the capture did not keep): the sequence numbers are
  // enough, even across a NAT.
  p = syn;
  p.dst = "10.2.0.2";
  v.push_back(with("TcpNatHeadersOnly", syn, p, Match::Nat, 0, 14 + 20 + 20));

  const Packet dns = udp();
  p = dns;
  p.dst = "10.2.0.2";
  v.push_back(with("UdpDnatByPayload", dns, p, Match::Nat));
  p = dns;
  p.dst = "10.2.0.2";
  v.push_back(with("UdpDnatNoPayloadKept", dns, p, Match::None, 0, 14 + 20 + 8));
  v.push_back(with("UdpSameNoPayloadKept", dns, dns, Match::Same, 0, 14 + 20 + 8));

  const Packet ping6 = v6(ping);
  v.push_back(with("Ipv6Ping", ping6, ping6, Match::Same));
  p = ping6;
  p.flow_label = 0x54321;
  v.push_back(with("Ipv6OtherFlowLabel", ping6, p, Match::None));
  p = ping6;
  p.seq = 9;
  v.push_back(with("Ipv6NextPing", ping6, p, Match::None));
  const Packet udp6 = v6(dns);
  p = udp6;
  p.payload[0] = 9;
  v.push_back(with("Ipv6UdpOtherPayload", udp6, p, Match::None));

  // The packet inside a tunnel is the packet before it was put there.
  v.push_back({"VxlanInner", identity_of(bytes_of(ping)), identity_of(vxlan_of(bytes_of(ping))),
               Match::Same});
  p = ping;
  p.seq = 8;
  v.push_back({"VxlanInnerNextPing", identity_of(bytes_of(ping)),
               identity_of(vxlan_of(bytes_of(p))), Match::None});
  return v;
}();

INSTANTIATE_TEST_SUITE_P(Pairs, FlightPairs, testing::ValuesIn(kPairs),
                         [](const testing::TestParamInfo<PairCase>& info) {
                           return std::string(info.param.name);
                         });

TEST(FlightIdentity, FieldsOfEachTransport) {
  Identity id = identity_of(Packet{});
  EXPECT_EQ(id.version, 4);
  EXPECT_EQ(id.l4proto, 1);
  EXPECT_EQ(id.ip_id, 0x1234);
  EXPECT_EQ(id.frag, 0);  // DF is no fragment
  EXPECT_TRUE(id.has_l4);
  EXPECT_EQ(id.icmp_type, 8);
  EXPECT_EQ(id.seq, 7u);
  EXPECT_EQ(id.payload_len, 56);
  EXPECT_EQ(id.prefix[0], 0x5a);

  id = identity_of(tcp());
  EXPECT_EQ(id.l4proto, 6);
  EXPECT_EQ(id.seq, 0x1a2b3c4du);
  EXPECT_EQ(id.ack, 0x55667788u);
  EXPECT_EQ(id.payload_len, 10);
  EXPECT_EQ(id.prefix[0], 'G');
  EXPECT_EQ(id.ip.sport, 41000);

  // Hashed up to kHashedBytes, compared as they are up to kPrefixBytes.
  Packet big;
  big.payload = Bytes(1000, 1);
  id = identity_of(big);
  EXPECT_EQ(id.payload_len, kHashedBytes);

  id = identity_of(v6(udp()));
  EXPECT_EQ(id.version, 6);
  EXPECT_EQ(id.flow_label, 0x12345u);
  EXPECT_EQ(id.l4proto, 17);
  EXPECT_EQ(id.payload_len, 8);
}

TEST(FlightIdentity, WhatIdentifiesNoPacket) {
  // IPv4 id 0 (some kernels' DF packets), UDP with no payload kept: nothing per packet.
  Packet p = udp();
  p.ip_id = 0;
  EXPECT_EQ(identity_of(p, 14 + 20 + 8).version, 0);
  EXPECT_NE(identity_of(p).version, 0) << "its payload identifies it";
  // The same with id 0 over TCP: the sequence numbers do.
  p = tcp();
  p.ip_id = 0;
  EXPECT_NE(identity_of(p, 14 + 20 + 20).version, 0);
  // An IPv6 flow label names a flow: no identity from it alone.
  EXPECT_EQ(identity_of(v6(udp()), 14 + 40 + 8).version, 0);
  // ARP, no bytes, bytes cut inside the IP header.
  Bytes arp(42, 0);
  arp[12] = 0x08;
  arp[13] = 0x06;
  EXPECT_EQ(identity_of(arp).version, 0);
  EXPECT_EQ(identity_of(Packet{}, 14 + 10).version, 0);
}

TEST(FlightIdentity, TunnelGivesOuterThenInner) {
  const Bytes f = vxlan_of(bytes_of(Packet{}));
  Identity ids[2];
  ASSERT_EQ(identify(f.data(), f.size(), PWRU_PACKET_ETHERNET, ids), 2u);
  EXPECT_EQ(ids[0].l4proto, 17);
  EXPECT_EQ(ids[0].ip_id, 0x0777);
  EXPECT_EQ(ids[1].l4proto, 1);
  EXPECT_EQ(ids[1].ip_id, 0x1234);
  // The same outer packet on the receiving host: the outer identities link too.
  EXPECT_EQ(match(ids[0], identity_of(f)), Match::None) << "identity_of takes the inner one";
  Identity again[2];
  identify(f.data(), f.size(), PWRU_PACKET_ETHERNET, again);
  EXPECT_EQ(match(ids[0], again[0]), Match::Same);
}

TEST(FlightIdentity, FramePaddingIsNoPayload) {
  Packet p = udp();
  p.payload.clear();
  Bytes f = bytes_of(p);
  f.insert(f.end(), 18, 0);  // padded to Ethernet's minimum
  Identity ids[2];
  ASSERT_EQ(identify(f.data(), f.size(), PWRU_PACKET_ETHERNET, ids), 1u);
  EXPECT_EQ(ids[0].payload_len, 0);
}

TEST(FlightPaths, SendReceiveAndRank) {
  EXPECT_EQ(path_of("net_dev_queue"), kPathSend);
  EXPECT_EQ(path_of("net_dev_start_xmit"), kPathSend);
  EXPECT_EQ(path_of("ip_output"), kPathSend);
  EXPECT_EQ(path_of("netif_receive_skb"), kPathReceive);
  EXPECT_EQ(path_of("netif_rx"), kPathReceive);
  EXPECT_EQ(path_of("ip_rcv"), kPathReceive);
  EXPECT_EQ(path_of("kfree_skb"), kPathNone);
  EXPECT_EQ(path_of("net_dev_xmit"), kPathNone) << "a veth's peer may have the skb by then";
  EXPECT_EQ(path_of(""), kPathNone);
  // Sender, router (or unknown), receiver.
  EXPECT_LT(rank(kPathSend), rank(kPathSend | kPathReceive));
  EXPECT_EQ(rank(kPathSend | kPathReceive), rank(kPathNone));
  EXPECT_LT(rank(kPathNone), rank(kPathReceive));
}

TEST(FlightHosts, FromInterfaceNames) {
  const auto host = [](const char* ifname, unsigned id) {
    char out[64];
    host_name(ifname, id, out, sizeof out);
    return std::string(out);
  };
  EXPECT_EQ(host("pwru@h1", 0), "h1");
  EXPECT_EQ(host("pwru-drops@db1.example.org", 3), "db1.example.org");
  EXPECT_EQ(host("pwru@user@web1", 1), "web1");
  EXPECT_EQ(host("pwru", 0), "pwru#0");
  EXPECT_EQ(host("pwru-drops", 1), "pwru-drops#1");
  EXPECT_EQ(host("pwru@", 2), "pwru@#2");
  char small[4];
  host_name("pwru@web1", 0, small, sizeof small);
  EXPECT_EQ(std::string(small), "web");
}

}  // namespace
}  // namespace pwru::flight
