// What changed between two events of a journey (pwru_changes.h), the rule pwrudump's JSON and
// CHANGED column and the dissector's pwru.changed share: its packet parser on hand-built
// packets (Ethernet, VLAN, IPv4, IPv6, VXLAN, GRE, fragments), and the comparison of two hops,
// one case per kind and the cases where a tuple change is a tunnel, not a NAT.
#include "pwru_changes.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "record/packet_bytes.h"

namespace pwru::changes {
namespace {

using test::Bytes;
using test::put16;
using test::put_addr;

void put_ethernet(Bytes& b, uint16_t type) {
  for (int i = 0; i < 12; ++i) b.push_back(static_cast<uint8_t>(i));
  put16(b, type);
}

// An IPv4 header (no options) for `payload` bytes after it.
void put_ipv4(Bytes& b, const char* src, const char* dst, uint8_t proto, uint8_t ttl,
              uint16_t payload, uint16_t frag = 0) {
  b.push_back(0x45);
  b.push_back(0);
  put16(b, static_cast<uint16_t>(20 + payload));
  put16(b, 0x1234);
  put16(b, frag);
  b.push_back(ttl);
  b.push_back(proto);
  put16(b, 0);
  put_addr(b, AF_INET, src);
  put_addr(b, AF_INET, dst);
}

void put_ipv6(Bytes& b, const char* src, const char* dst, uint8_t next, uint8_t hops,
              uint16_t payload) {
  b.insert(b.end(), {0x60, 0, 0, 0});
  put16(b, payload);
  b.push_back(next);
  b.push_back(hops);
  put_addr(b, AF_INET6, src);
  put_addr(b, AF_INET6, dst);
}

void put_ports(Bytes& b, uint16_t sport, uint16_t dport) {
  put16(b, sport);
  put16(b, dport);
  b.insert(b.end(), {0, 8, 0, 0});  // UDP length and checksum, or TCP's sequence number
}

// Ethernet + IPv4 + UDP 10.0.0.1:5000 -> `dst`:`dport` with 8 bytes of data.
Bytes udp_frame(const char* src, uint16_t sport, const char* dst, uint16_t dport,
                uint8_t ttl = 64) {
  Bytes f;
  put_ethernet(f, 0x0800);
  put_ipv4(f, src, dst, 17, ttl, 16);
  put_ports(f, sport, dport);
  f.insert(f.end(), 8, 0xab);
  return f;
}

// The frame `inner` inside VXLAN (VNI 42) from 172.16.0.1 to 172.16.0.2.
Bytes vxlan_frame(const Bytes& inner, uint16_t port = 4789) {
  Bytes f;
  put_ethernet(f, 0x0800);
  put_ipv4(f, "172.16.0.1", "172.16.0.2", 17, 64, static_cast<uint16_t>(16 + inner.size()));
  put_ports(f, 41000, port);
  f.insert(f.end(), {0x08, 0, 0, 0, 0, 0, 42, 0});  // flags I, VNI 42
  f.insert(f.end(), inner.begin(), inner.end());
  return f;
}

Hop hop_of(const Bytes& packet, uint32_t ifindex = 4, const char* ifname = "veth0",
           unsigned layer = PWRU_PACKET_ETHERNET) {
  Hop h{};
  h.has_netns = true;
  h.netns = 4026532000u;
  h.ifindex = ifindex;
  set_ifname(h, ifname);
  h.has_mark = true;
  h.protocol = 0x0800;
  h.headers = parse_packet(packet.data(), packet.size(), layer);
  return h;
}

// "kind old -> new; ..." of every change, in order.
std::string describe(const Changes& c) {
  std::string out;
  for (uint8_t i = 0; i < c.count; ++i) {
    char text[300];
    change_text(c.list[i], text, sizeof text);
    if (!out.empty()) out += "; ";
    out += std::string(kind_name(c.list[i].kind)) + " " + text;
  }
  return out;
}

std::string address(const IpHeader& ip, bool source) {
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(ip.version == 6 ? AF_INET6 : AF_INET, source ? ip.saddr : ip.daddr, buf, sizeof buf);
  return buf;
}

TEST(ChangesParser, EthernetIpv4Udp) {
  const Bytes f = udp_frame("10.0.0.1", 5000, "10.0.0.2", 53, 61);
  const Headers h = parse_packet(f.data(), f.size(), PWRU_PACKET_ETHERNET);
  ASSERT_TRUE(h.from_packet);
  EXPECT_EQ(h.outer.version, 4);
  EXPECT_EQ(address(h.outer, true), "10.0.0.1");
  EXPECT_EQ(address(h.outer, false), "10.0.0.2");
  EXPECT_EQ(h.outer.l4proto, 17);
  ASSERT_TRUE(h.outer.has_ports);
  EXPECT_EQ(h.outer.sport, 5000);
  EXPECT_EQ(h.outer.dport, 53);
  EXPECT_EQ(h.outer.ttl, 61);
  EXPECT_EQ(h.outer.len, 36u);
  EXPECT_EQ(h.encap, Encap::None);
  EXPECT_EQ(h.inner.version, 0);
}

TEST(ChangesParser, VlanTagsAndNetworkLayer) {
  Bytes f;
  put_ethernet(f, 0x8100);
  f.insert(f.end(), {0x00, 0x0a});
  put16(f, 0x0800);
  put_ipv4(f, "10.0.0.1", "10.0.0.2", 1, 64, 8);
  f.insert(f.end(), 8, 0);
  Headers h = parse_packet(f.data(), f.size(), PWRU_PACKET_ETHERNET);
  EXPECT_TRUE(h.from_packet);
  EXPECT_EQ(h.outer.l4proto, 1);
  EXPECT_FALSE(h.outer.has_ports);

  const Bytes ip(f.begin() + 18, f.end());
  h = parse_packet(ip.data(), ip.size(), PWRU_PACKET_NETWORK);
  EXPECT_TRUE(h.from_packet);
  EXPECT_EQ(address(h.outer, false), "10.0.0.2");
  // No layer, an ARP frame, bytes cut inside the IP header: nothing read.
  EXPECT_FALSE(parse_packet(ip.data(), ip.size(), 0).from_packet);
  Bytes arp;
  put_ethernet(arp, 0x0806);
  arp.insert(arp.end(), 28, 0);
  EXPECT_FALSE(parse_packet(arp.data(), arp.size(), PWRU_PACKET_ETHERNET).from_packet);
  EXPECT_FALSE(parse_packet(f.data(), 30, PWRU_PACKET_ETHERNET).from_packet);
}

TEST(ChangesParser, Ipv6WithExtensionHeaderAndLaterFragment) {
  Bytes p;
  put_ipv6(p, "fd00::1", "fd00::2", 0, 63, 8 + 8);  // hop-by-hop options, then TCP
  p.insert(p.end(), {6, 0, 1, 4, 0, 0, 0, 0});
  put_ports(p, 40000, 80);
  Headers h = parse_packet(p.data(), p.size(), PWRU_PACKET_NETWORK);
  ASSERT_TRUE(h.from_packet);
  EXPECT_EQ(h.outer.version, 6);
  EXPECT_EQ(address(h.outer, true), "fd00::1");
  EXPECT_EQ(h.outer.l4proto, 6);
  EXPECT_EQ(h.outer.dport, 80);
  EXPECT_EQ(h.outer.ttl, 63);
  EXPECT_EQ(h.outer.len, 56u);

  Bytes frag;
  put_ipv4(frag, "10.0.0.1", "10.0.0.2", 17, 64, 8, 0x00b9);  // offset 185*8: no UDP header
  put_ports(frag, 4789, 4789);
  h = parse_packet(frag.data(), frag.size(), PWRU_PACKET_NETWORK);
  EXPECT_TRUE(h.from_packet);
  EXPECT_FALSE(h.outer.has_ports);
  EXPECT_EQ(h.encap, Encap::None);
}

TEST(ChangesParser, VxlanOnBothPortsWithItsInnerPacket) {
  const Bytes inner = udp_frame("192.168.0.1", 7000, "192.168.0.2", 8000, 64);
  for (uint16_t port : {4789, 8472}) {
    const Bytes f = vxlan_frame(inner, port);
    const Headers h = parse_packet(f.data(), f.size(), PWRU_PACKET_ETHERNET);
    EXPECT_EQ(h.encap, Encap::Vxlan) << port;
    EXPECT_TRUE(h.has_tunnel_id);
    EXPECT_EQ(h.tunnel_id, 42u);
    EXPECT_EQ(address(h.outer, false), "172.16.0.2");
    ASSERT_EQ(h.inner.version, 4);
    EXPECT_EQ(address(h.inner, false), "192.168.0.2");
    EXPECT_EQ(h.inner.dport, 8000);
  }
  // Another port, or no I flag: plain UDP.
  Bytes f = vxlan_frame(inner, 4790);
  EXPECT_EQ(parse_packet(f.data(), f.size(), PWRU_PACKET_ETHERNET).encap, Encap::None);
  f = vxlan_frame(inner);
  f[14 + 20 + 8] = 0;
  EXPECT_EQ(parse_packet(f.data(), f.size(), PWRU_PACKET_ETHERNET).encap, Encap::None);
  // Cut inside the inner frame: the tunnel is known, what it carries is not.
  f = vxlan_frame(inner);
  const Headers h = parse_packet(f.data(), 14 + 20 + 16 + 20, PWRU_PACKET_ETHERNET);
  EXPECT_EQ(h.encap, Encap::Vxlan);
  EXPECT_EQ(h.inner.version, 0);
}

// Geneve: the inner protocol is an EtherType, and variable-length options come before it.
TEST(ChangesParser, GeneveWithOptionsCarryingEthernetOrIp) {
  const Bytes inner = udp_frame("192.168.0.1", 7000, "192.168.0.2", 8000, 64);
  const auto geneve = [](const Bytes& payload, uint16_t type, uint8_t opt_words) {
    Bytes f;
    put_ethernet(f, 0x0800);
    put_ipv4(f, "172.16.0.1", "172.16.0.2", 17, 64,
             static_cast<uint16_t>(16 + opt_words * 4 + payload.size()));
    put_ports(f, 41000, kGenevePort);
    f.push_back(opt_words);  // version 0
    f.push_back(0);
    put16(f, type);
    f.insert(f.end(), {0, 0, 7, 0});  // VNI 7
    f.insert(f.end(), size_t{opt_words} * 4, 0xee);
    f.insert(f.end(), payload.begin(), payload.end());
    return f;
  };
  for (uint8_t words : {0, 2}) {
    const Bytes f = geneve(inner, 0x6558, words);
    const Headers h = parse_packet(f.data(), f.size(), PWRU_PACKET_ETHERNET);
    EXPECT_EQ(h.encap, Encap::Geneve) << int{words};
    EXPECT_TRUE(h.has_tunnel_id);
    EXPECT_EQ(h.tunnel_id, 7u);
    ASSERT_EQ(h.inner.version, 4) << int{words};
    EXPECT_EQ(address(h.inner, true), "192.168.0.1");
    EXPECT_EQ(h.inner.dport, 8000);
  }
  // An IP packet right after the header (protocol IPv4).
  const Bytes ip(inner.begin() + 14, inner.end());
  Bytes f = geneve(ip, 0x0800, 1);
  Headers h = parse_packet(f.data(), f.size(), PWRU_PACKET_ETHERNET);
  EXPECT_EQ(h.encap, Encap::Geneve);
  EXPECT_EQ(address(h.inner, false), "192.168.0.2");
  // Version 1 is no Geneve this parser knows: plain UDP.
  f[14 + 20 + 8] = 0x40;
  EXPECT_EQ(parse_packet(f.data(), f.size(), PWRU_PACKET_ETHERNET).encap, Encap::None);
  // Options longer than the bytes: the tunnel is known, what it carries is not.
  f = geneve(inner, 0x6558, 2);
  h = parse_packet(f.data(), 14 + 20 + 8 + 8 + 4, PWRU_PACKET_ETHERNET);
  EXPECT_EQ(h.encap, Encap::Geneve);
  EXPECT_EQ(h.inner.version, 0);
  // A popped Geneve header reads as VXLAN's does: "geneve A->B vni N".
  const Changes c = compare(hop_of(geneve(inner, 0x6558, 0)), hop_of(inner, 9, "genev0"));
  EXPECT_NE(describe(c).find("decap geneve 172.16.0.1->172.16.0.2 vni 7"), std::string::npos)
      << describe(c);
}

TEST(ChangesParser, GreWithKeyAndChecksumCarryingIpv4OrEthernet) {
  Bytes inner;
  put_ipv4(inner, "192.168.0.1", "192.168.0.2", 1, 64, 8);
  inner.insert(inner.end(), 8, 0);
  Bytes f;
  put_ipv4(f, "172.16.0.1", "172.16.0.2", 47, 64, static_cast<uint16_t>(12 + inner.size()));
  f.insert(f.end(), {0xa0, 0x00, 0x08, 0x00});  // C and K, IPv4
  f.insert(f.end(), {0, 0, 0, 0, 0, 0, 0, 7});  // checksum, key 7
  f.insert(f.end(), inner.begin(), inner.end());
  Headers h = parse_packet(f.data(), f.size(), PWRU_PACKET_NETWORK);
  EXPECT_EQ(h.encap, Encap::Gre);
  EXPECT_TRUE(h.has_tunnel_id);
  EXPECT_EQ(h.tunnel_id, 7u);
  ASSERT_EQ(h.inner.version, 4);
  EXPECT_EQ(address(h.inner, true), "192.168.0.1");

  Bytes tap;  // gretap: transparent Ethernet bridging, no key
  put_ipv6(tap, "fd00::1", "fd00::2", 47, 64, static_cast<uint16_t>(4 + 14 + inner.size()));
  tap.insert(tap.end(), {0x00, 0x00, 0x65, 0x58});
  put_ethernet(tap, 0x0800);
  tap.insert(tap.end(), inner.begin(), inner.end());
  h = parse_packet(tap.data(), tap.size(), PWRU_PACKET_NETWORK);
  EXPECT_EQ(h.encap, Encap::Gre);
  EXPECT_FALSE(h.has_tunnel_id);
  EXPECT_EQ(address(h.inner, false), "192.168.0.2");

  tap[40 + 1] = 0x01;  // GRE version 1 (PPTP): no tunnel of whole packets
  EXPECT_EQ(parse_packet(tap.data(), tap.size(), PWRU_PACKET_NETWORK).encap, Encap::None);
}

TEST(Changes, NothingChangedOnTheSameHop) {
  const Hop a = hop_of(udp_frame("10.0.0.1", 5000, "10.0.0.2", 53));
  EXPECT_EQ(compare(a, a).count, 0);
  EXPECT_EQ(compare(Hop{}, Hop{}).count, 0);
}

TEST(Changes, DnatAndSnatAreNamedByWhichSideChanged) {
  const Hop before = hop_of(udp_frame("10.0.0.1", 5000, "10.0.0.99", 80));
  Hop dnat = hop_of(udp_frame("10.0.0.1", 5000, "10.0.0.2", 8080));
  EXPECT_EQ(describe(compare(before, dnat)), "dnat 10.0.0.99:80 -> 10.0.0.2:8080");
  Hop snat = hop_of(udp_frame("10.1.0.254", 5000, "10.0.0.99", 80));
  EXPECT_EQ(describe(compare(before, snat)), "snat 10.0.0.1:5000 -> 10.1.0.254:5000");
  Hop both = hop_of(udp_frame("10.1.0.254", 61000, "10.0.0.2", 80, 63));
  EXPECT_EQ(describe(compare(before, both)),
            "dnat 10.0.0.99:80 -> 10.0.0.2:80; snat 10.0.0.1:5000 -> 10.1.0.254:61000; "
            "ttl 64 -> 63");

  // From the tuples alone (no packet bytes): the same, without length or TTL.
  IpHeader t{};
  t.version = 6;
  inet_pton(AF_INET6, "fd00::1", t.saddr);
  inet_pton(AF_INET6, "fd00::99", t.daddr);
  t.l4proto = 6;
  t.has_ports = true;
  t.sport = 40000;
  t.dport = 80;
  Hop a{}, b{};
  a.headers = tuple_headers(t);
  inet_pton(AF_INET6, "fd00::2", t.daddr);
  b.headers = tuple_headers(t);
  EXPECT_EQ(describe(compare(a, b)), "dnat [fd00::99]:80 -> [fd00::2]:80");
  // Ports only where both events know them.
  b.headers.outer.has_ports = false;
  EXPECT_EQ(describe(compare(a, b)), "dnat [fd00::99] -> [fd00::2]");
}

TEST(Changes, TunnelPushAndPopAreNoNat) {
  const Bytes inner = udp_frame("192.168.0.1", 7000, "192.168.0.2", 8000);
  const Hop plain = hop_of(inner, 3, "vxlan0");
  const Hop tunnelled = hop_of(vxlan_frame(inner), 4, "eth0");
  EXPECT_EQ(describe(compare(plain, tunnelled)),
            "encap vxlan 172.16.0.1->172.16.0.2 vni 42; iface vxlan0:3 -> eth0:4");
  EXPECT_EQ(describe(compare(tunnelled, plain)),
            "decap vxlan 172.16.0.1->172.16.0.2 vni 42; iface eth0:4 -> vxlan0:3");
  // A NAT of the inner packet while it is pushed is still seen.
  const Hop translated = hop_of(vxlan_frame(udp_frame("192.168.0.1", 7000, "192.168.0.9", 8000)));
  EXPECT_EQ(describe(compare(plain, translated)),
            "dnat 192.168.0.2:8000 -> 192.168.0.9:8000; encap vxlan 172.16.0.1->172.16.0.2 vni 42; "
            "iface vxlan0:3 -> veth0:4");
  // Through the underlay, the outer header is compared: one routed hop.
  Bytes routed = vxlan_frame(inner);
  routed[14 + 8] = 63;
  EXPECT_EQ(describe(compare(hop_of(vxlan_frame(inner)), hop_of(routed))), "ttl 64 -> 63");

  // From tuples alone the outer header is a tunnel's by its port: encap, nothing compared.
  IpHeader t{};
  t.version = 4;
  inet_pton(AF_INET, "192.168.0.1", t.saddr);
  inet_pton(AF_INET, "192.168.0.2", t.daddr);
  t.l4proto = 1;
  Hop a{}, b{};
  a.headers = tuple_headers(t);
  inet_pton(AF_INET, "172.16.0.1", t.saddr);
  inet_pton(AF_INET, "172.16.0.2", t.daddr);
  t.l4proto = 17;
  t.has_ports = true;
  t.sport = 41000;
  t.dport = 8472;
  b.headers = tuple_headers(t);
  EXPECT_EQ(describe(compare(a, b)), "encap vxlan 172.16.0.1->172.16.0.2");
  t.l4proto = kIpprotoGre;
  t.has_ports = false;
  b.headers = tuple_headers(t);
  EXPECT_EQ(describe(compare(b, a)), "decap gre 172.16.0.1->172.16.0.2");
}

TEST(Changes, MetadataKinds) {
  const Bytes f = udp_frame("10.0.0.1", 5000, "10.0.0.2", 53);
  const Hop a = hop_of(f, 4, "veth0");
  Hop b = hop_of(f, 5, "veth1");
  b.netns = 4026532100u;
  b.mark = 0x2a;
  EXPECT_EQ(describe(compare(a, b)),
            "netns 4026532000 -> 4026532100; iface veth0:4 -> veth1:5; mark 0x0 -> 0x2a");
  // Namespace and interface only where both had a device; a mark only where both know it.
  b.ifindex = 0;
  b.has_mark = false;
  EXPECT_EQ(compare(a, b).count, 0);
  Hop unnamed = hop_of(f, 7, "");
  EXPECT_EQ(describe(compare(a, unnamed)), "iface veth0:4 -> 7");

  // EtherType; else the transport protocol; the IP length; the hop limit.
  Hop v6 = hop_of(f);
  v6.protocol = 0x86dd;
  EXPECT_EQ(describe(compare(a, v6)), "proto 0x0800 -> 0x86dd");
  Bytes tcp = f;
  tcp[14 + 9] = 6;
  EXPECT_EQ(describe(compare(a, hop_of(tcp))), "proto udp -> tcp");
  Bytes longer = f;
  longer[14 + 3] = 40;
  EXPECT_EQ(describe(compare(a, hop_of(longer))), "len 36 -> 40");
}

// An event that knows less (no headers yet, no device, no mark) changes nothing, and the next
// one that knows again is compared with the last that knew.
TEST(Changes, WhatAnEventDoesNotKnowIsCarried) {
  const Hop a = hop_of(udp_frame("10.0.0.1", 5000, "10.0.0.99", 80), 4, "veth0");
  Hop blind{};
  EXPECT_EQ(compare(a, blind).count, 0);
  const Hop kept = carry(a, blind);
  Hop b = hop_of(udp_frame("10.0.0.1", 5000, "10.0.0.2", 80), 5, "veth1");
  b.netns = 4026532100u;
  b.mark = 1;
  EXPECT_EQ(describe(compare(kept, b)),
            "dnat 10.0.0.99:80 -> 10.0.0.2:80; netns 4026532000 -> 4026532100; "
            "iface veth0:4 -> veth1:5; mark 0x0 -> 0x1");
  // What the event knows replaces what was carried.
  EXPECT_EQ(compare(carry(a, b), b).count, 0);
}

TEST(Changes, KindNamesAndSummary) {
  EXPECT_STREQ(kind_name(Kind::Dnat), "dnat");
  EXPECT_STREQ(kind_name(Kind::Ttl), "ttl");
  EXPECT_EQ(kKinds, 10u);
  EXPECT_TRUE(in_summary(Kind::Dnat));
  EXPECT_TRUE(in_summary(Kind::Encap));
  EXPECT_TRUE(in_summary(Kind::Mark));
  EXPECT_FALSE(in_summary(Kind::Netns));
  EXPECT_FALSE(in_summary(Kind::Iface));
  EXPECT_FALSE(in_summary(Kind::Ttl));
  EXPECT_FALSE(compared(PWRU_PROBE_NFTRACE));
  EXPECT_TRUE(compared(PWRU_PROBE_TRACEPOINT));
}

}  // namespace
}  // namespace pwru::changes
