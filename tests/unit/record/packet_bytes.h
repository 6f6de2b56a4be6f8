// Building packets byte by byte for the tests of the shared packet parsers (pwru_changes.h,
// pwru_flight.h): big-endian fields and addresses from text.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace pwru::test {

using Bytes = std::vector<uint8_t>;

inline void put16(Bytes& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v >> 8));
  b.push_back(static_cast<uint8_t>(v));
}

inline void put_addr(Bytes& b, int family, const char* text) {
  uint8_t a[16];
  ASSERT_EQ(inet_pton(family, text, a), 1) << text;
  b.insert(b.end(), a, a + (family == AF_INET ? 4 : 16));
}

}  // namespace pwru::test
