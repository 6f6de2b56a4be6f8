// A deterministic corpus of packets for the filter differential test: the same seed gives the
// same bytes on every machine (std::mt19937 is specified exactly; no std distributions).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace pwru::testing {

struct CorpusPacket {
  std::string kind;                        // e.g. "ipv6+frag+tcp", "truncated vlan2 @37"
  std::vector<uint8_t> ethernet;           // as the DLT_EN10MB program sees it
  std::optional<std::vector<uint8_t>> l3;  // the IP packet inside, for the DLT_RAW program
};

// IPv4 (options, fragments), IPv6 (hop-by-hop, routing, fragment, destination options), TCP
// with flags and options, UDP, ICMP/ICMPv6, ARP/RARP, 802.1Q and QinQ, MPLS, PPPoE, 802.3/LLC,
// every packet also truncated at many lengths, and random bytes.
std::vector<CorpusPacket> make_corpus(uint32_t seed);

std::string hex(const std::vector<uint8_t>& bytes);

}  // namespace pwru::testing
