// Which packet an event shows, read from its headers: the identity that links the events of one
// packet seen on several hosts (one pwrudump per host, one pcapng interface each) and in several
// skbs of one host (a copy, a clone, a segment, the inner packet of a tunnel). The dissector's
// pwru.flight is built on it; pwrudump may use it as well. Header-only plain C++ like
// pwru_changes.h, whose packet parser it reads the headers with (no allocation; every type is
// trivially destructible and memset-safe), so the dissector may call it where epan can longjmp.
// Pinned by tests/unit/record/flight_test.cpp; docs/many-hosts.md says what it can and cannot
// link.
//
// The parts of a packet NAT keeps are the identity's key: the IPv4 identification and fragment
// offset or the IPv6 flow label, the transport protocol, TCP's sequence and acknowledgment
// numbers, ICMP's type and (for echo) sequence number. The parts NAT rewrites (addresses, ports,
// ICMP echo id) and the first bytes of the transport payload are checked after the key matched:
// the payload must agree as far as both captured it, and a packet whose addresses changed is
// linked only on evidence NAT cannot fake by chance (a TCP segment's 64 bits of sequence
// numbers, or at least 4 payload bytes that agree).
#pragma once

#include <stdint.h>
#include <string.h>

#include <string_view>

#include "pwru_changes.h"

namespace pwru::flight {

// Transport payload bytes compared: the first kPrefixBytes as they are (a capture that kept
// fewer is compared on what both kept), up to kHashedBytes by their hash.
inline constexpr size_t kPrefixBytes = 16;
inline constexpr size_t kHashedBytes = 64;
// A packet whose addresses or ports changed (NAT) is linked by its payload only when at least
// this many bytes of it agree.
inline constexpr size_t kNatPayloadBytes = 4;

inline constexpr uint8_t kIpprotoIcmp = 1;
inline constexpr uint8_t kIpprotoTcp = 6;
inline constexpr uint8_t kIpprotoUdp = 17;
inline constexpr uint8_t kIpprotoIcmpv6 = 58;

// One IP packet's identity. version 0: none (no IP header, or nothing in it that tells one
// packet of a flow from the next: see usable()).
struct Identity {
  uint8_t version;  // 4 or 6
  uint8_t l4proto;
  uint16_t ip_id;       // IPv4 identification
  uint16_t frag;        // IPv4 MF flag and fragment offset (the flags word without DF)
  uint32_t flow_label;  // IPv6
  bool has_l4;          // the transport header was read (not for a later fragment)
  uint32_t seq;         // TCP sequence number; ICMP and ICMPv6 echo: the sequence number
  uint32_t ack;         // TCP acknowledgment number
  uint8_t icmp_type;    // ICMP, ICMPv6
  uint8_t icmp_code;
  uint16_t payload_len;  // transport payload bytes captured, at most kHashedBytes: hashed
  uint32_t payload_hash;  // FNV-1a of those bytes
  uint8_t prefix[kPrefixBytes];  // the first of them (min(payload_len, kPrefixBytes))
  changes::IpHeader ip;  // addresses and ports, the secondary check (NAT rewrites them)
};

namespace detail {

constexpr bool is_icmp(uint8_t proto) { return proto == kIpprotoIcmp || proto == kIpprotoIcmpv6; }

// Echo request or reply: ICMP 8 and 0, ICMPv6 128 and 129. Their identifier and sequence number
// follow type, code and checksum.
constexpr bool is_echo(uint8_t proto, uint8_t type) {
  return proto == kIpprotoIcmp ? type == 8 || type == 0 : type == 128 || type == 129;
}

inline uint32_t fnv1a(const uint8_t* p, size_t n) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= 16777619u;
  }
  return h;
}

inline uint64_t mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
  return h;
}

// The identity of the IP packet at p[0..n) (`ip`: what changes::parse_packet read of it).
inline Identity identify_ip(const uint8_t* p, size_t n, const changes::IpHeader& ip) {
  using changes::detail::be16;
  using changes::detail::be32;
  Identity id{};
  changes::IpHeader parsed;
  size_t l4 = changes::detail::parse_ip(p, n, parsed);
  if (parsed.version == 0) return id;
  id.version = parsed.version;
  id.l4proto = parsed.l4proto;
  id.ip = ip;
  size_t payload = 0;
  // Where the datagram ends as its header says: a frame's padding is no payload. A length of 0
  // (IPv4, IPv6's payload length) is a GSO skb's larger than 64 KiB: up to the bytes' end.
  const bool sized = parsed.version == 4 ? parsed.len != 0 : parsed.len != 40;
  const size_t end = sized && parsed.len < n ? parsed.len : n;
  if (parsed.version == 4) {
    id.ip_id = be16(p + 4);
    id.frag = be16(p + 6) & 0x3fff;
    // A later fragment: its payload starts after the header.
    if (l4 == 0 && (id.frag & 0x1fff) != 0) payload = size_t{p[0] & 0x0fu} * 4;
  } else {
    id.flow_label = be32(p) & 0xfffff;
  }
  if (l4 != 0) {
    const uint8_t* t = p + l4;
    const size_t left = end > l4 ? end - l4 : 0;
    if (id.l4proto == kIpprotoTcp && left >= 20) {
      id.has_l4 = true;
      id.seq = be32(t + 4);
      id.ack = (t[13] & 0x10) != 0 ? be32(t + 8) : 0;
      payload = l4 + size_t{t[12]} / 16 * 4;
    } else if (id.l4proto == kIpprotoUdp && left >= 8) {
      id.has_l4 = true;
      payload = l4 + 8;
    } else if (is_icmp(id.l4proto) && left >= 8) {
      id.has_l4 = true;
      id.icmp_type = t[0];
      id.icmp_code = t[1];
      if (is_echo(id.l4proto, id.icmp_type)) id.seq = be16(t + 6);
      payload = l4 + 8;
    } else if (!is_icmp(id.l4proto) && id.l4proto != kIpprotoTcp && id.l4proto != kIpprotoUdp) {
      payload = l4;  // another transport: its bytes are the payload
    }
  }
  if (payload != 0 && payload < end) {
    const size_t len = end - payload < kHashedBytes ? end - payload : kHashedBytes;
    id.payload_len = static_cast<uint16_t>(len);
    id.payload_hash = fnv1a(p + payload, len);
    memcpy(id.prefix, p + payload, len < kPrefixBytes ? len : kPrefixBytes);
  }
  return id;
}

}  // namespace detail

// Whether the identity tells this packet from the next one of its flow: an IPv4 identification
// (not 0: Linux sends 0 in some DF packets) or fragment, a TCP segment, an ICMP message, or some
// payload. An IPv6 flow label names a flow, not a packet.
inline bool usable(const Identity& id) {
  if (id.version == 0) return false;
  if (id.version == 4 && (id.ip_id != 0 || id.frag != 0)) return true;
  if (id.has_l4 && (id.l4proto == kIpprotoTcp || detail::is_icmp(id.l4proto))) return true;
  return id.payload_len > 0;
}

// The identities of the packet an event's bytes show (`layer`: its PACKET_LAYER): the packet as
// it is, then, for a tunnel's packet, the packet inside it. Returns how many are usable; they
// are first in `out`.
inline size_t identify(const uint8_t* p, size_t n, unsigned layer, Identity out[2]) {
  out[0] = out[1] = Identity{};
  const changes::Headers h = changes::parse_packet(p, n, layer);
  if (!h.from_packet) return 0;
  size_t count = 0;
  Identity id = detail::identify_ip(p + h.outer_offset, n - h.outer_offset, h.outer);
  if (usable(id)) out[count++] = id;
  if (h.encap != changes::Encap::None && h.inner.version != 0 && h.inner_offset < n) {
    id = detail::identify_ip(p + h.inner_offset, n - h.inner_offset, h.inner);
    if (usable(id)) out[count++] = id;
  }
  return count;
}

// The parts of the identity NAT keeps, as one number: events whose keys differ are different
// packets. (The payload is not in it: captures keep different amounts of it.)
inline uint64_t key(const Identity& id) {
  uint64_t h = id.version;
  h = detail::mix(h, id.l4proto);
  h = detail::mix(h, id.version == 4 ? uint64_t{id.ip_id} << 16 | id.frag : id.flow_label);
  h = detail::mix(h, id.has_l4);
  h = detail::mix(h, uint64_t{id.seq} << 32 | id.ack);
  h = detail::mix(h, uint64_t{id.icmp_type} << 8 | id.icmp_code);
  return h;
}

inline bool same_key(const Identity& a, const Identity& b) {
  return a.version == b.version && a.l4proto == b.l4proto && a.ip_id == b.ip_id &&
         a.frag == b.frag && a.flow_label == b.flow_label && a.has_l4 == b.has_l4 &&
         a.seq == b.seq && a.ack == b.ack && a.icmp_type == b.icmp_type &&
         a.icmp_code == b.icmp_code;
}

// How two events' identities relate.
enum class Match : uint8_t {
  None,  // different packets, or nothing proves they are the same
  Same,  // the same packet with the same addresses and ports
  Nat,   // the same packet, its addresses or ports rewritten on the way (NAT)
};

// Are `a` and `b` the same packet? The key must be equal, and the payload as far as both kept it:
// all of it by its hash when both kept as much, else the first bytes both kept. With the same
// addresses and ports that is enough; with others (NAT) only with a TCP segment's sequence
// numbers or kNatPayloadBytes payload bytes that agree.
inline Match match(const Identity& a, const Identity& b) {
  if (a.version == 0 || !same_key(a, b)) return Match::None;
  size_t compared = 0;
  if (a.payload_len > 0 && a.payload_len == b.payload_len) {
    if (a.payload_hash != b.payload_hash) return Match::None;
    compared = a.payload_len;
  } else {
    compared = a.payload_len < b.payload_len ? a.payload_len : b.payload_len;
    if (compared > kPrefixBytes) compared = kPrefixBytes;
    if (memcmp(a.prefix, b.prefix, compared) != 0) return Match::None;
  }
  const bool ports = a.ip.has_ports && b.ip.has_ports;
  const size_t alen = a.version == 6 ? 16 : 4;
  const bool same = memcmp(a.ip.saddr, b.ip.saddr, alen) == 0 &&
                    memcmp(a.ip.daddr, b.ip.daddr, alen) == 0 &&
                    (!ports || (a.ip.sport == b.ip.sport && a.ip.dport == b.ip.dport));
  if (same) return Match::Same;
  if ((a.l4proto == kIpprotoTcp && a.has_l4) || compared >= kNatPayloadBytes) return Match::Nat;
  return Match::None;
}

// --- Which way a host saw the packet go ---

// Functions and tracepoints of the send path (a packet the host sends or forwards: the IP
// output, the queue and the driver's transmit) and of the receive path (from a device into the
// stack). A host that shows only the send path of a packet saw it before a host that shows only
// its receive path; a router shows both.
// (Not net_dev_xmit: it fires when the driver is done, and a veth moved the skb to its peer by
// then.)
inline constexpr std::string_view kSendFuncs[] = {
    "net_dev_queue",      "net_dev_start_xmit", "__dev_queue_xmit",
    "dev_queue_xmit",     "dev_hard_start_xmit", "validate_xmit_skb", "ip_output",
    "ip_finish_output",   "__ip_finish_output", "ip_finish_output2", "ip_local_out",
    "__ip_local_out",     "ip_queue_xmit",      "__ip_queue_xmit",   "ip_send_skb",
    "ip6_output",         "ip6_finish_output",  "ip6_finish_output2", "ip6_local_out",
    "__ip6_local_out",    "ip6_xmit",           "ip6_send_skb",      "neigh_resolve_output",
};
inline constexpr std::string_view kReceiveFuncs[] = {
    "netif_rx",           "netif_rx_entry",          "netif_rx_ni_entry",
    "netif_receive_skb",  "netif_receive_skb_entry", "netif_receive_skb_list_entry",
    "napi_gro_receive_entry", "napi_gro_frags_entry", "napi_gro_receive",
    "napi_gro_frags",     "dev_gro_receive",         "__netif_rx",
    "netif_rx_internal",  "__netif_receive_skb",     "__netif_receive_skb_core",
    "__netif_receive_skb_one_core", "netif_receive_skb_list_internal", "ip_rcv",
    "ip_rcv_core",        "ip_list_rcv",             "ipv6_rcv",
    "ip6_rcv_core",       "ipv6_list_rcv",
};

enum Path : uint8_t { kPathNone = 0, kPathSend = 1, kPathReceive = 2 };

constexpr unsigned path_of(std::string_view func) {
  for (std::string_view f : kSendFuncs)
    if (f == func) return kPathSend;
  for (std::string_view f : kReceiveFuncs)
    if (f == func) return kPathReceive;
  return kPathNone;
}

// Where a host comes along a packet's way, from the paths (Path bits) its events showed: the
// sender (send path only) first, then the hosts that received and sent it on (both, or
// neither known), then the receiver (receive path only). Hosts of the same rank are in the order
// of their first event's time.
constexpr unsigned rank(unsigned paths) {
  if (paths == kPathSend) return 0;
  if (paths == kPathReceive) return 2;
  return 1;
}

// --- Which host an event comes from ---

// The host of a pcapng interface named `ifname` with index `if_id` in its file: the part after
// the last '@' of `pwru@HOST` (each host's pwrudump is its own interface: pwrudump --remote,
// Wireshark's pwru@HOST interfaces); a local interface (`pwru`, `pwru-drops`) is a host of its
// own, named with its index: "pwru#0". Writes at most `size` bytes (NUL included).
inline void host_name(std::string_view ifname, unsigned if_id, char* out, size_t size) {
  if (size == 0) return;
  size_t n = 0;
  const auto put = [&](std::string_view text) {
    for (char c : text)
      if (n + 1 < size) out[n++] = c;
  };
  const size_t at = ifname.rfind('@');
  if (at != std::string_view::npos && at + 1 < ifname.size()) {
    put(ifname.substr(at + 1));
  } else {
    char digits[12];
    size_t d = sizeof digits;
    do {
      digits[--d] = static_cast<char>('0' + if_id % 10);
      if_id /= 10;
    } while (if_id != 0);
    put(ifname);
    put("#");
    put(std::string_view(digits + d, sizeof digits - d));
  }
  out[n] = '\0';
}

}  // namespace pwru::flight
