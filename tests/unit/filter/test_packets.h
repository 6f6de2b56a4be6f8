// Hand-built packets for tests: Ethernet, IPv4/ICMP, IPv6/ICMPv6 and ARP, byte by byte, so the
// filter and capture tests need no capture files and no network.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

namespace pwru::testing {

using Bytes = std::vector<uint8_t>;
using Mac = std::array<uint8_t, 6>;

inline constexpr Mac kMacA = {0x02, 0x00, 0x00, 0x00, 0x00, 0x0a};
inline constexpr Mac kMacB = {0x02, 0x00, 0x00, 0x00, 0x00, 0x0b};

inline void put16(Bytes& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v >> 8));
  b.push_back(static_cast<uint8_t>(v));
}

// 14-byte Ethernet header, then `payload`.
inline Bytes ethernet(uint16_t ethertype, const Bytes& payload, Mac src = kMacA, Mac dst = kMacB) {
  Bytes b(dst.begin(), dst.end());
  b.insert(b.end(), src.begin(), src.end());
  put16(b, ethertype);
  b.insert(b.end(), payload.begin(), payload.end());
  return b;
}

// IPv4 header (no options, checksum left 0: filters do not check it) + ICMP echo request.
inline Bytes ipv4_icmp(std::array<uint8_t, 4> src, std::array<uint8_t, 4> dst) {
  Bytes b = {0x45, 0x00};
  put16(b, 20 + 8);                               // total length
  b.insert(b.end(), {0x12, 0x34, 0x40, 0x00});    // id, DF
  b.insert(b.end(), {64, 1, 0x00, 0x00});         // ttl, protocol ICMP, checksum
  b.insert(b.end(), src.begin(), src.end());
  b.insert(b.end(), dst.begin(), dst.end());
  b.insert(b.end(), {8, 0, 0, 0, 0x00, 0x01, 0x00, 0x01});  // echo request, id 1, seq 1
  return b;
}

// IPv6 header + ICMPv6 echo request; `src_last`/`dst_last` end fd00::<n>.
inline Bytes ipv6_icmp6(uint8_t src_last, uint8_t dst_last) {
  Bytes b = {0x60, 0x00, 0x00, 0x00};
  put16(b, 8);                  // payload length
  b.insert(b.end(), {58, 64});  // next header ICMPv6, hop limit
  for (uint8_t last : {src_last, dst_last}) {
    b.insert(b.end(), {0xfd, 0x00});
    b.insert(b.end(), 13, 0x00);
    b.push_back(last);
  }
  b.insert(b.end(), {128, 0, 0, 0, 0x00, 0x01, 0x00, 0x01});  // echo request
  return b;
}

// ARP request over Ethernet: who has `target`? tell `sender`.
inline Bytes arp_request(std::array<uint8_t, 4> sender, std::array<uint8_t, 4> target) {
  Bytes arp = {0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01};  // Ethernet/IPv4, request
  arp.insert(arp.end(), kMacA.begin(), kMacA.end());
  arp.insert(arp.end(), sender.begin(), sender.end());
  arp.insert(arp.end(), 6, 0x00);
  arp.insert(arp.end(), target.begin(), target.end());
  return ethernet(0x0806, arp, kMacA, Mac{0xff, 0xff, 0xff, 0xff, 0xff, 0xff});
}

}  // namespace pwru::testing
