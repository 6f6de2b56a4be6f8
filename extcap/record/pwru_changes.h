// What changed between two events of one skb's journey (NAT, mark, namespace, interface, length,
// protocol, tunnel headers pushed or popped, TTL), written once for pwrudump's text and JSON
// output and the pwru dissector, with the small packet parser both read TTLs and tunnels with.
// Header-only plain C++ like pwru_rules.h (no allocation; every type is trivially destructible
// and memset-safe), so the dissector may call it where epan can longjmp. Pinned by
// tests/unit/record/changes_test.cpp.
#pragma once

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <initializer_list>
#include <string_view>

#include "pwru_names.h"
#include "pwru_record.h"

namespace pwru::changes {

// --- The packet's headers, from the captured bytes ---

// UDP destination ports that carry VXLAN: IANA's, and Linux's default before it (ip link's
// `dstport 0`, Flannel).
inline constexpr uint16_t kVxlanPorts[] = {4789, 8472};
inline constexpr uint16_t kGenevePort = 6081;  // IANA's, Linux's default
inline constexpr uint8_t kIpprotoGre = 47;

enum class Encap : uint8_t { None = 0, Vxlan, Gre, Geneve };

constexpr const char* encap_name(Encap e) {
  switch (e) {
    case Encap::Vxlan: return "vxlan";
    case Encap::Gre: return "gre";
    case Encap::Geneve: return "geneve";
    case Encap::None: break;
  }
  return "none";
}

// One IP header and what follows it.
struct IpHeader {
  uint8_t version;  // 0: none, else 4 or 6
  uint8_t saddr[16];  // network byte order; IPv4 in the first 4 bytes
  uint8_t daddr[16];
  uint8_t l4proto;
  bool has_ports;
  uint16_t sport;
  uint16_t dport;
  bool has_ttl;  // TTL or hop limit
  uint8_t ttl;
  bool has_len;  // the datagram's length as its header says (IPv4 total, IPv6 40 + payload)
  uint32_t len;
  bool has_tcp_flags;  // read for a tunnel's inner packet only (--output-tunnel)
  uint8_t tcp_flags;
};

// The packet as far as its bytes (or the record's tuple) tell: the outermost IP header, and when
// that one carries a tunnel, the tunnel and the IP header inside it.
struct Headers {
  IpHeader outer;
  Encap encap;
  bool has_tunnel_id;  // VXLAN's and Geneve's VNI, GRE's key
  uint32_t tunnel_id;
  IpHeader inner;  // version 0: not in the captured bytes
  bool from_packet;  // read from the packet bytes; false: from the record's tuple alone
  // Where each IP header starts in the bytes (with from_packet; inner's with inner.version), for
  // readers of the rest of the header (pwru_flight.h).
  uint16_t outer_offset;
  uint16_t inner_offset;
};

namespace detail {

constexpr uint16_t be16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
constexpr uint32_t be32(const uint8_t* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
}

constexpr bool is_vxlan_port(uint16_t port) {
  for (uint16_t p : kVxlanPorts)
    if (p == port) return true;
  return false;
}

// The IPv6 extension headers walked to find the transport header (as the BPF side does).
constexpr bool is_ipv6_ext(uint8_t next) {
  return next == 0 || next == 43 || next == 60 || next == 44;
}

// Reads an IP header at p[0..n). Returns the offset of its payload in p, 0 when there is none to
// read (no header, a later fragment).
inline size_t parse_ip(const uint8_t* p, size_t n, IpHeader& ip) {
  ip = IpHeader{};
  if (n < 1) return 0;
  if (p[0] >> 4 == 4) {
    const size_t ihl = size_t{p[0] & 0x0fu} * 4;
    if (n < 20 || ihl < 20) return 0;
    ip.version = 4;
    ip.has_len = true;
    ip.len = be16(p + 2);
    ip.has_ttl = true;
    ip.ttl = p[8];
    ip.l4proto = p[9];
    memcpy(ip.saddr, p + 12, 4);
    memcpy(ip.daddr, p + 16, 4);
    // Only the first fragment carries the transport header.
    if ((be16(p + 6) & 0x1fff) != 0 || n < ihl) return 0;
    return ihl;
  }
  if (p[0] >> 4 == 6) {
    if (n < 40) return 0;
    ip.version = 6;
    ip.has_len = true;
    ip.len = 40u + be16(p + 4);
    ip.has_ttl = true;
    ip.ttl = p[7];
    memcpy(ip.saddr, p + 8, 16);
    memcpy(ip.daddr, p + 24, 16);
    uint8_t next = p[6];
    size_t off = 40;
    for (int i = 0; i < 4 && is_ipv6_ext(next); ++i) {
      if (off + 8 > n) return 0;
      if (next == 44 && (be16(p + off + 2) & 0xfff8) != 0) {
        ip.l4proto = p[off];
        return 0;  // a later fragment
      }
      const size_t ext_len = next == 44 ? 8 : (size_t{p[off + 1]} + 1) * 8;
      next = p[off];
      off += ext_len;
    }
    ip.l4proto = next;
    return off <= n ? off : 0;
  }
  return 0;
}

// The network header after an Ethernet header (and up to two VLAN tags) at p[0..n); 0: not IP.
inline size_t skip_ethernet(const uint8_t* p, size_t n) {
  size_t off = 12;
  for (int tags = 0; tags <= 2; ++tags) {
    if (off + 2 > n) return 0;
    const uint16_t type = be16(p + off);
    if (type == 0x0800 || type == 0x86dd) return off + 2;
    if (type != 0x8100 && type != 0x88a8) return 0;
    off += 4;
  }
  return 0;
}

// The inner packet after a tunnel header: an Ethernet frame (VXLAN, GRE's transparent Ethernet
// bridging) or an IP packet. Returns the offset of its IP header in p.
inline size_t parse_inner(const uint8_t* p, size_t n, bool ethernet, IpHeader& inner) {
  size_t off = 0;
  if (ethernet) {
    off = skip_ethernet(p, n);
    if (off == 0) return 0;
  }
  const size_t l4 = parse_ip(p + off, n - off, inner);
  if (l4 != 0 && (inner.l4proto == 6 || inner.l4proto == 17) && off + l4 + 4 <= n) {
    inner.has_ports = true;
    inner.sport = be16(p + off + l4);
    inner.dport = be16(p + off + l4 + 2);
    if (inner.l4proto == 6 && off + l4 + 14 <= n) {
      inner.has_tcp_flags = true;
      inner.tcp_flags = p[off + l4 + 13];
    }
  }
  return off;
}

}  // namespace detail

// Reads the packet bytes a record carries: `layer` is its PACKET_LAYER (enum pwru_packet_layer).
// from_packet stays false when they hold no IP header.
inline Headers parse_packet(const uint8_t* p, size_t n, unsigned layer) {
  using namespace detail;
  Headers h{};
  size_t off = 0;
  if (layer == PWRU_PACKET_ETHERNET) {
    off = skip_ethernet(p, n);
    if (off == 0) return h;
  } else if (layer != PWRU_PACKET_NETWORK) {
    return h;
  }
  const size_t l4 = parse_ip(p + off, n - off, h.outer);
  if (h.outer.version == 0) return h;
  h.from_packet = true;
  h.outer_offset = static_cast<uint16_t>(off);
  if (l4 == 0) return h;
  off += l4;
  const uint8_t* t = p + off;
  const size_t left = n - off;
  if ((h.outer.l4proto == 6 || h.outer.l4proto == 17) && left >= 4) {
    h.outer.has_ports = true;
    h.outer.sport = be16(t);
    h.outer.dport = be16(t + 2);
  }
  // VXLAN (RFC 7348): an 8-byte UDP header, then flags with I (a valid VNI), 24 reserved bits,
  // the VNI and 8 reserved bits, then the inner Ethernet frame.
  if (h.outer.l4proto == 17 && h.outer.has_ports && is_vxlan_port(h.outer.dport) && left >= 16 &&
      (t[8] & 0x08) != 0) {
    h.encap = Encap::Vxlan;
    h.has_tunnel_id = true;
    h.tunnel_id = be32(t + 12) >> 8;
    h.inner_offset =
        static_cast<uint16_t>(off + 16 + parse_inner(t + 16, left - 16, true, h.inner));
  } else if (h.outer.l4proto == 17 && h.outer.has_ports && h.outer.dport == kGenevePort &&
             left >= 16 && (t[8] >> 6) == 0) {
    // Geneve (RFC 8926), version 0: after the UDP header, the options' length in 4-byte words,
    // flags, the inner protocol (an EtherType), the VNI and 8 reserved bits, then the options.
    h.encap = Encap::Geneve;
    h.has_tunnel_id = true;
    h.tunnel_id = be32(t + 12) >> 8;
    const size_t inner = 16 + size_t{t[8] & 0x3fu} * 4;
    const uint16_t type = be16(t + 10);
    if (left >= inner && (type == 0x0800 || type == 0x86dd || type == 0x6558))
      h.inner_offset = static_cast<uint16_t>(
          off + inner + parse_inner(t + inner, left - inner, type == 0x6558, h.inner));
  } else if (h.outer.l4proto == kIpprotoGre && left >= 4 && (t[1] & 0x07) == 0) {
    // GRE version 0 (RFC 2784, keys and sequence numbers RFC 2890): C, K and S each add 4
    // bytes, in that order. Version 1 is PPTP's, no tunnel of whole packets.
    h.encap = Encap::Gre;
    size_t gre = 4;
    if (t[0] & 0x80) gre += 4;
    if (t[0] & 0x20) {
      if (left >= gre + 4) {
        h.has_tunnel_id = true;
        h.tunnel_id = be32(t + gre);
      }
      gre += 4;
    }
    if (t[0] & 0x10) gre += 4;
    const uint16_t type = be16(t + 2);
    if (left >= gre && (type == 0x0800 || type == 0x86dd || type == 0x6558))
      h.inner_offset = static_cast<uint16_t>(
          off + gre + parse_inner(t + gre, left - gre, type == 0x6558, h.inner));
  }
  return h;
}

// The headers of a record without packet bytes: its tuple (from the skb's network header) is the
// outer header, a tunnel's when it looks like one (UDP to a VXLAN port, GRE), with nothing known
// inside.
inline Headers tuple_headers(const IpHeader& tuple) {
  Headers h{};
  h.outer = tuple;
  if (tuple.l4proto == kIpprotoGre) {
    h.encap = Encap::Gre;
  } else if (tuple.l4proto == 17 && tuple.has_ports && detail::is_vxlan_port(tuple.dport)) {
    h.encap = Encap::Vxlan;
  } else if (tuple.l4proto == 17 && tuple.has_ports && tuple.dport == kGenevePort) {
    h.encap = Encap::Geneve;
  }
  return h;
}

// --- One event's facts, and the rule ---

// What the rule reads from an event. All-zero is an event that says nothing.
struct Hop {
  bool has_netns;
  uint32_t netns;
  uint32_t ifindex;  // 0: no device
  char ifname[16];   // IFNAMSIZ, NUL-terminated
  bool has_mark;
  uint32_t mark;
  uint16_t protocol;  // skb->protocol (EtherType); 0: unknown
  Headers headers;
};

inline void set_ifname(Hop& hop, std::string_view name) {
  const size_t n = name.size() < sizeof hop.ifname - 1 ? name.size() : sizeof hop.ifname - 1;
  memcpy(hop.ifname, name.data(), n);
  hop.ifname[n] = '\0';
}

// The kinds of change, in the order they are listed. Names are the pwru.changed.<name> fields'
// and the JSON "changed" object's keys.
enum class Kind : uint8_t { Dnat, Snat, Encap, Decap, Netns, Iface, Mark, Proto, Len, Ttl };
inline constexpr const char* kKindNames[] = {"dnat",  "snat", "encap", "decap", "netns",
                                             "iface", "mark", "proto", "len",   "ttl"};
inline constexpr size_t kKinds = sizeof kKindNames / sizeof kKindNames[0];

constexpr const char* kind_name(Kind k) { return kKindNames[static_cast<size_t>(k)]; }

// Where the change belongs on an event's one-line summary (Wireshark's Info column): the packet
// itself changed. Netns and interface are in that line already (ifname:ifindex), and a TTL
// goes down on every routed hop.
constexpr bool in_summary(Kind k) { return k != Kind::Netns && k != Kind::Iface && k != Kind::Ttl; }

// One change as text: the old and the new value ("10.0.0.99:80", "10.0.0.2:8080"). An encap's
// `to` is the header pushed, a decap's `from` the header popped ("vxlan 10.1.0.1->10.1.0.2 vni
// 42"); the other side is empty.
struct Change {
  Kind kind;
  char from[128];
  char to[128];
};

// What changed, in the order of Kind.
struct Changes {
  uint8_t count;
  Change list[kKinds];
};

// "old -> new"; an encap's pushed header, a decap's popped one.
inline void change_text(const Change& c, char* out, size_t size) {
  if (c.kind == Kind::Encap) {
    snprintf(out, size, "%s", c.to);
  } else if (c.kind == Kind::Decap) {
    snprintf(out, size, "%s", c.from);
  } else {
    snprintf(out, size, "%s -> %s", c.from, c.to);
  }
}

namespace detail {

inline void put_address(char* out, size_t size, const IpHeader& ip, const uint8_t* addr) {
  char buf[INET6_ADDRSTRLEN] = "";
  inet_ntop(ip.version == 6 ? AF_INET6 : AF_INET, addr, buf, sizeof buf);
  snprintf(out, size, ip.version == 6 ? "[%s]" : "%s", buf);
}

// "10.0.0.1:80", "[fd00::1]:80", "10.0.0.1" without ports.
inline void put_endpoint(char* out, size_t size, const IpHeader& ip, bool source) {
  char addr[INET6_ADDRSTRLEN + 2];
  put_address(addr, sizeof addr, ip, source ? ip.saddr : ip.daddr);
  if (ip.has_ports)
    snprintf(out, size, "%s:%u", addr, unsigned{source ? ip.sport : ip.dport});
  else
    snprintf(out, size, "%s", addr);
}

// "vxlan 10.1.0.1->10.1.0.2 vni 42", "gre 10.1.0.1->10.1.0.2 key 7".
inline void put_tunnel(char* out, size_t size, const Headers& h) {
  char src[INET6_ADDRSTRLEN + 2], dst[INET6_ADDRSTRLEN + 2];
  put_address(src, sizeof src, h.outer, h.outer.saddr);
  put_address(dst, sizeof dst, h.outer, h.outer.daddr);
  const int n = snprintf(out, size, "%s %s->%s", encap_name(h.encap), src, dst);
  if (h.has_tunnel_id && n > 0 && static_cast<size_t>(n) < size)
    snprintf(out + n, size - n, " %s %u", h.encap == Encap::Gre ? "key" : "vni", h.tunnel_id);
}

inline void put_l4(char* out, size_t size, uint8_t proto) {
  const char* name = names::l4_proto_name(proto);
  if (name != nullptr)
    snprintf(out, size, "%s", name);
  else
    snprintf(out, size, "%u", unsigned{proto});
}

// "veth0:4" as pwrudump's IFACE column has it, the bare index without a name.
inline void put_iface(char* out, size_t size, const Hop& hop) {
  if (hop.ifname[0] != '\0')
    snprintf(out, size, "%s:%u", hop.ifname, hop.ifindex);
  else
    snprintf(out, size, "%u", hop.ifindex);
}

inline Change& add(Changes& c, Kind k) {
  Change& ch = c.list[c.count++];
  ch.kind = k;
  ch.from[0] = ch.to[0] = '\0';
  return ch;
}

inline bool same_address(const IpHeader& a, const IpHeader& b, bool source) {
  return memcmp(source ? a.saddr : a.daddr, source ? b.saddr : b.daddr, a.version == 6 ? 16 : 4) ==
         0;
}

// The same endpoint: address, and port where both know theirs for the same transport.
inline bool same_endpoint(const IpHeader& a, const IpHeader& b, bool source) {
  if (!same_address(a, b, source)) return false;
  if (!a.has_ports || !b.has_ports || a.l4proto != b.l4proto) return true;
  return source ? a.sport == b.sport : a.dport == b.dport;
}

}  // namespace detail

// The IP headers of two events that belong to the same packet: their outer ones, unless a
// tunnel header was pushed (then the new event's inner one) or popped (the old event's inner
// one). Either is null when the header that matters is not known (a tunnel read from a tuple).
struct Aligned {
  const IpHeader* prev;
  const IpHeader* cur;
};

inline Aligned align(const Headers& prev, const Headers& cur) {
  const IpHeader* p = &prev.outer;
  const IpHeader* c = &cur.outer;
  if (prev.encap != cur.encap) {
    if (prev.encap != Encap::None) p = &prev.inner;
    if (cur.encap != Encap::None) c = &cur.inner;
  }
  if (p->version == 0 || c->version == 0) return {nullptr, nullptr};
  return {p, c};
}

// What changed from `prev` to `cur`, two events of one journey in order (`prev`: what the
// events before `cur` knew, carry). A fact is compared only
// where both events know it: netns and interface where both had a device (an skb without one
// takes its socket's namespace), length and TTL from packet bytes (skb->len also counts the
// Ethernet header on transmit and not on receive). Addresses and ports are compared between
// the headers of the same packet (align): a tunnel header pushed or popped is an encap or decap,
// never a NAT; a new destination is DNAT, a new source SNAT.
inline Changes compare(const Hop& prev, const Hop& cur) {
  using namespace detail;
  Changes out{};
  const Headers& ph = prev.headers;
  const Headers& ch = cur.headers;
  const Aligned al = align(ph, ch);
  const bool same_family = al.prev != nullptr && al.prev->version == al.cur->version;

  if (same_family) {
    for (const bool source : {false, true}) {
      if (same_endpoint(*al.prev, *al.cur, source)) continue;
      Change& c = add(out, source ? Kind::Snat : Kind::Dnat);
      // Ports on both sides or on neither, so that the two read alike.
      IpHeader a = *al.prev, b = *al.cur;
      a.has_ports = b.has_ports = a.has_ports && b.has_ports && a.l4proto == b.l4proto;
      put_endpoint(c.from, sizeof c.from, a, source);
      put_endpoint(c.to, sizeof c.to, b, source);
    }
  }
  if (ph.encap != ch.encap) {
    if (ch.encap != Encap::None) put_tunnel(add(out, Kind::Encap).to, sizeof(Change::to), ch);
    if (ph.encap != Encap::None) put_tunnel(add(out, Kind::Decap).from, sizeof(Change::from), ph);
  }
  const bool devices = prev.ifindex != 0 && cur.ifindex != 0;
  if (devices && prev.has_netns && cur.has_netns && prev.netns != cur.netns) {
    Change& c = add(out, Kind::Netns);
    snprintf(c.from, sizeof c.from, "%u", prev.netns);
    snprintf(c.to, sizeof c.to, "%u", cur.netns);
  }
  if (devices && (prev.ifindex != cur.ifindex || strcmp(prev.ifname, cur.ifname) != 0)) {
    Change& c = add(out, Kind::Iface);
    put_iface(c.from, sizeof c.from, prev);
    put_iface(c.to, sizeof c.to, cur);
  }
  if (prev.has_mark && cur.has_mark && prev.mark != cur.mark) {
    Change& c = add(out, Kind::Mark);
    snprintf(c.from, sizeof c.from, "0x%x", prev.mark);
    snprintf(c.to, sizeof c.to, "0x%x", cur.mark);
  }
  // The EtherType, else the transport protocol of the same packet. A tunnel pushed or popped
  // changes the EtherType as a part of it (IPv6 in IPv4).
  const bool ethertype = prev.protocol != 0 && cur.protocol != 0 &&
                         prev.protocol != cur.protocol && ph.encap == ch.encap;
  const bool l4 = al.prev != nullptr &&
                  (al.prev->version != al.cur->version || al.prev->l4proto != al.cur->l4proto);
  if (ethertype) {
    Change& c = add(out, Kind::Proto);
    snprintf(c.from, sizeof c.from, "0x%04x", prev.protocol);
    snprintf(c.to, sizeof c.to, "0x%04x", cur.protocol);
  } else if (l4) {
    Change& c = add(out, Kind::Proto);
    put_l4(c.from, sizeof c.from, al.prev->l4proto);
    put_l4(c.to, sizeof c.to, al.cur->l4proto);
  }
  if (al.prev != nullptr && al.prev->has_len && al.cur->has_len && al.prev->len != al.cur->len) {
    Change& c = add(out, Kind::Len);
    snprintf(c.from, sizeof c.from, "%u", al.prev->len);
    snprintf(c.to, sizeof c.to, "%u", al.cur->len);
  }
  if (al.prev != nullptr && al.prev->has_ttl && al.cur->has_ttl && al.prev->ttl != al.cur->ttl) {
    Change& c = add(out, Kind::Ttl);
    snprintf(c.from, sizeof c.from, "%u", unsigned{al.prev->ttl});
    snprintf(c.to, sizeof c.to, "%u", unsigned{al.cur->ttl});
  }
  return out;
}

// The facts to compare the journey's next event with: `cur`'s, and what `cur` does not know
// (no packet headers at a function that runs before the stack set them, no device) as the
// events before knew it, so that a change is seen at the next event that knows it again.
inline Hop carry(const Hop& prev, const Hop& cur) {
  Hop next = cur;
  if (cur.headers.outer.version == 0) next.headers = prev.headers;
  if (cur.ifindex == 0) {  // the namespace with the device it came from (compare)
    next.ifindex = prev.ifindex;
    memcpy(next.ifname, prev.ifname, sizeof next.ifname);
    next.has_netns = prev.has_netns;
    next.netns = prev.netns;
  }
  if (!cur.has_mark) {
    next.has_mark = prev.has_mark;
    next.mark = prev.mark;
  }
  if (cur.protocol == 0) next.protocol = prev.protocol;
  return next;
}

// Records that are no probe of the skb (--nf-trace's rules passed, a lost-trace count) are left
// out of the comparison: their facts are the event's they were tied to.
constexpr bool compared(unsigned probe_kind) { return probe_kind != PWRU_PROBE_NFTRACE; }

}  // namespace pwru::changes
