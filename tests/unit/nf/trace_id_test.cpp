// trace_id: the kernel's hashes against vectors of the kernel's own lib, and the id's byte order.
#include "nf/trace_id.h"

#include <gtest/gtest.h>

#include <bit>

namespace pwru::nf {
namespace {

// lib/test_siphash.c: the key 00 01 .. 0f, and siphash_3u32 of the bytes 00 .. 0b must be the
// reference implementation's vector for 12 bytes.
constexpr SipKey kTestKey = {0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL};

TEST(TraceId, SiphashMatchesTheKernelsSelfTest) {
  EXPECT_EQ(siphash_3u32(0x03020100U, 0x07060504U, 0x0b0a0908U, kTestKey), 0x751e8fbc860ee5fbULL);
}

TEST(TraceId, SiphashOfAnotherKey) {
  // Computed with lib/siphash.c's siphash_3u32 compiled as it is.
  EXPECT_EQ(siphash_3u32(0x9d4a1c80, 0x1f2e3d4c, 3, {0x1122334455667788ULL, 0x99aabbccddeeff00ULL}),
            0xb02711b4879298b6ULL);
}

TEST(TraceId, JhashMatchesTheKernelsArrayForm) {
  // Computed with include/linux/jhash.h's jhash2() of the two words as an array, the kernel's
  // other path to the same value.
  EXPECT_EQ(jhash_2words(0, 0, 0), 0x58c184bfU);
  EXPECT_EQ(jhash_2words(0x9d4a1c80, 0x1f2e3d4c, 3), 0xa057216eU);
  EXPECT_EQ(jhash_2words(0xdeadbeef, 0x12345678, 0xffffffff), 0x32d721efU);
}

TEST(TraceId, Hash32PtrFoldsTheHighHalf) {
  EXPECT_EQ(hash32_ptr(0xffff888012345678ULL), 0x12345678U ^ 0xffff8880U);
}

// libnftnl returns ntohl() of the kernel's host-order u32: on a little-endian machine the id
// `nft monitor trace` prints is the kernel's value byte-swapped.
TEST(TraceId, IdIsInLibnftnlsByteOrder) {
  static_assert(std::endian::native == std::endian::little, "the expectations are x86's");
  const uint64_t skb = 0xffff888012345678ULL;
  const uint32_t jhash = jhash_2words(hash32_ptr(skb), 0x1f2e3d4c, 3);
  EXPECT_EQ(trace_id(IdScheme::Jhash, skb, 0x1f2e3d4c, 3, {}), __builtin_bswap32(jhash));
  const auto sip = static_cast<uint32_t>(siphash_3u32(hash32_ptr(skb), 0x1f2e3d4c, 3, kTestKey));
  EXPECT_EQ(trace_id(IdScheme::Siphash, skb, 0x1f2e3d4c, 3, kTestKey), __builtin_bswap32(sip));
}

TEST(TraceIds, WithoutAKeyOnlyJhashIsACandidate) {
  TraceIds ids;
  const auto c = ids.candidates(0xffff888012345678ULL, 7, 2);
  ASSERT_EQ(c.size(), 1U);
  EXPECT_EQ(c[0].first, IdScheme::Jhash);
  EXPECT_FALSE(ids.confirmed());
}

TEST(TraceIds, TheKeyIsReadUntilKnownThenKept) {
  int reads = 0;
  TraceIds ids([&reads]() -> std::optional<SipKey> {
    // Unknown at the first ask (the kernel fills it at its first traced packet).
    if (++reads == 1) return std::nullopt;
    return kTestKey;
  });
  EXPECT_EQ(ids.candidates(1, 2, 3).size(), 1U);
  const auto c = ids.candidates(1, 2, 3);
  ASSERT_EQ(c.size(), 2U);
  EXPECT_EQ(c[1], std::make_pair(IdScheme::Siphash, trace_id(IdScheme::Siphash, 1, 2, 3, kTestKey)));
  (void)ids.candidates(1, 2, 3);
  EXPECT_EQ(reads, 2);
}

TEST(TraceIds, AConfirmedSchemeIsTheOnlyCandidate) {
  TraceIds ids([]() -> std::optional<SipKey> { return kTestKey; });
  (void)ids.candidates(1, 2, 3);
  ids.confirm(IdScheme::Siphash);
  const auto c = ids.candidates(5, 6, 7);
  ASSERT_EQ(c.size(), 1U);
  EXPECT_EQ(c[0], std::make_pair(IdScheme::Siphash, trace_id(IdScheme::Siphash, 5, 6, 7, kTestKey)));
}

}  // namespace
}  // namespace pwru::nf
