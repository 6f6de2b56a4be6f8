// The id nftables gives a traced packet (NFTA_TRACE_ID), computed from the skb as the kernel does,
// and which of the kernels' two ways the running one uses, learnt from packets (docs/netfilter.md).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <utility>
#include <vector>

namespace pwru::nf {

// siphash_key_t: two u64 in the kernel's byte order (the 16 bytes of nf_tables' trace_key).
using SipKey = std::array<uint64_t, 2>;

// include/linux/hash.h: a pointer folded to 32 bits (64-bit kernels).
uint32_t hash32_ptr(uint64_t ptr);
// include/linux/jhash.h.
uint32_t jhash_2words(uint32_t a, uint32_t b, uint32_t initval);
// lib/siphash.c (SipHash-2-4 of the 12 bytes first, second, third).
uint64_t siphash_3u32(uint32_t first, uint32_t second, uint32_t third, const SipKey& key);

// How the kernel makes the id from the skb's address, skb->hash and skb->skb_iif
// (net/netfilter/nf_tables_trace.c).
enum class IdScheme : uint8_t {
  Jhash,    // 5.10: jhash_2words(hash32_ptr(skb), hash, iif), no secret
  Siphash,  // 6.1 and later: siphash_3u32(hash32_ptr(skb), hash, iif, trace_key), kept 32 bits
};

// The id as libnftnl gives it, which is what `nft monitor trace` prints: the kernel puts its
// value in host order and libnftnl returns ntohl() of it.
uint32_t trace_id(IdScheme scheme, uint64_t skb, uint32_t hash, uint32_t iif, const SipKey& key);

// Which scheme the running kernel uses. Neither is trusted until an id it computes for an skb
// event equals a trace's id of a packet with the same headers (confirm()): a key read from the
// wrong symbol, or an skb field the event read wrong, then never gives an exact tie.
class TraceIds {
 public:
  // Reads nf_tables' trace_key: nullopt while unknown (the kernel fills it at the first traced
  // packet) or unreadable. Empty: Siphash is never tried.
  using KeyReader = std::function<std::optional<SipKey>()>;

  explicit TraceIds(KeyReader read_key = {}) : read_key_(std::move(read_key)) {}

  // The ids the kernel may have given this skb: the confirmed scheme's, else one per scheme that
  // can be computed (Siphash needs the key, read here while it is unknown).
  std::vector<std::pair<IdScheme, uint32_t>> candidates(uint64_t skb, uint32_t hash, uint32_t iif);

  void confirm(IdScheme scheme) { scheme_ = scheme; }
  bool confirmed() const { return scheme_.has_value(); }

 private:
  KeyReader read_key_;
  std::optional<SipKey> key_;
  std::optional<IdScheme> scheme_;
};

}  // namespace pwru::nf
