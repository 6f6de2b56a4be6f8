// The kernel's jhash_2words and siphash_3u32, ported as they are in its lib, and the trace id.
#include "nf/trace_id.h"

#include <arpa/inet.h>

#include <bit>

namespace pwru::nf {

uint32_t hash32_ptr(uint64_t ptr) { return static_cast<uint32_t>(ptr ^ (ptr >> 32)); }

uint32_t jhash_2words(uint32_t a, uint32_t b, uint32_t initval) {
  // __jhash_nwords(a, b, 0, initval + JHASH_INITVAL + (2 << 2)), then __jhash_final.
  const uint32_t init = initval + 0xdeadbeef + (2 << 2);
  uint32_t c = init;
  a += init;
  b += init;
  c ^= b; c -= std::rotl(b, 14);
  a ^= c; a -= std::rotl(c, 11);
  b ^= a; b -= std::rotl(a, 25);
  c ^= b; c -= std::rotl(b, 16);
  a ^= c; a -= std::rotl(c, 4);
  b ^= a; b -= std::rotl(a, 14);
  c ^= b; c -= std::rotl(b, 24);
  return c;
}

namespace {

struct SipState {
  uint64_t v0, v1, v2, v3;

  void round() {
    v0 += v1; v1 = std::rotl(v1, 13); v1 ^= v0; v0 = std::rotl(v0, 32);
    v2 += v3; v3 = std::rotl(v3, 16); v3 ^= v2;
    v0 += v3; v3 = std::rotl(v3, 21); v3 ^= v0;
    v2 += v1; v1 = std::rotl(v1, 17); v1 ^= v2; v2 = std::rotl(v2, 32);
  }
};

}  // namespace

uint64_t siphash_3u32(uint32_t first, uint32_t second, uint32_t third, const SipKey& key) {
  const uint64_t combined = uint64_t{second} << 32 | first;
  // PREAMBLE(12)
  SipState s{0x736f6d6570736575ULL ^ key[0], 0x646f72616e646f6dULL ^ key[1],
             0x6c7967656e657261ULL ^ key[0], 0x7465646279746573ULL ^ key[1]};
  uint64_t b = uint64_t{12} << 56;
  s.v3 ^= combined;
  s.round();
  s.round();
  s.v0 ^= combined;
  b |= third;
  // POSTAMBLE
  s.v3 ^= b;
  s.round();
  s.round();
  s.v0 ^= b;
  s.v2 ^= 0xff;
  for (int i = 0; i < 4; ++i) s.round();
  return (s.v0 ^ s.v1) ^ (s.v2 ^ s.v3);
}

uint32_t trace_id(IdScheme scheme, uint64_t skb, uint32_t hash, uint32_t iif, const SipKey& key) {
  const uint32_t kernel = scheme == IdScheme::Jhash
                              ? jhash_2words(hash32_ptr(skb), hash, iif)
                              : static_cast<uint32_t>(siphash_3u32(hash32_ptr(skb), hash, iif, key));
  return ntohl(kernel);
}

std::vector<std::pair<IdScheme, uint32_t>> TraceIds::candidates(uint64_t skb, uint32_t hash,
                                                                uint32_t iif) {
  if (scheme_) return {{*scheme_, trace_id(*scheme_, skb, hash, iif, key_.value_or(SipKey{}))}};
  std::vector<std::pair<IdScheme, uint32_t>> out{
      {IdScheme::Jhash, trace_id(IdScheme::Jhash, skb, hash, iif, {})}};
  if (!key_ && read_key_) key_ = read_key_();
  if (key_) out.emplace_back(IdScheme::Siphash, trace_id(IdScheme::Siphash, skb, hash, iif, *key_));
  return out;
}

}  // namespace pwru::nf
