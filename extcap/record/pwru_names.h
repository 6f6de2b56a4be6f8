// Names pwrudump's output and the dissector print alike: pwru's name of an IP protocol.
// Header-only plain C++ (no allocation), so the dissector may call it where epan can longjmp.
#pragma once

#include <stdint.h>

namespace pwru::names {

// pwru's name of an IP protocol (tcp udp icmp icmp6) and a few more; nullptr: print the number.
constexpr const char* l4_proto_name(uint8_t proto) {
  switch (proto) {
    case 1: return "icmp";
    case 6: return "tcp";
    case 17: return "udp";
    case 47: return "gre";
    case 58: return "icmp6";
    case 132: return "sctp";
    default: return nullptr;
  }
}

}  // namespace pwru::names
