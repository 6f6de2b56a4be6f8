// Ties nftables trace messages to the skb events of the same packet (docs/netfilter.md): pure,
// fed in the order the namespace's netlink socket gave the messages.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "nf/trace_id.h"
#include "record/event.h"

namespace pwru::nf {

// One NFT_MSG_TRACE message (include/uapi/linux/netfilter/nf_tables.h, enum
// nft_trace_attributes), as libnftnl parsed it, with the namespace of the socket it came from.
struct TraceMessage {
  uint32_t netns = 0;    // inode of the listener's network namespace
  uint32_t id = 0;       // NFTA_TRACE_ID: one packet, one namespace
  uint8_t family = 0;    // the table's NFPROTO
  uint32_t type = 0;     // NFT_TRACETYPE_*: 1 policy, 2 return, 3 rule
  std::string table;
  std::string chain;
  std::optional<uint64_t> handle;
  std::optional<int32_t> verdict;  // NFTA_VERDICT_CODE
  std::optional<uint32_t> policy;  // the base chain's policy, on policy messages
  // Only on the first message of each base chain the packet enters (nft_do_chain call).
  std::vector<uint8_t> network_header;    // up to 40 bytes
  std::vector<uint8_t> transport_header;  // up to 20 bytes
};

inline constexpr uint32_t kTracePolicy = 1;  // NFT_TRACETYPE_POLICY
inline constexpr uint32_t kTraceRule = 3;    // NFT_TRACETYPE_RULE
inline constexpr int32_t kVerdictDrop = 0;   // NF_DROP

// A drop the trace reported, waiting for its kfree_skb event. `rule.rule` and `rule.hook` are
// left for the caller, who reads the ruleset.
struct TracedDrop {
  uint32_t netns = 0;
  NfRule rule;
  std::string base_chain;  // where the packet entered the table: its hook is the drop's
  std::vector<uint8_t> network_header;
  std::vector<uint8_t> transport_header;
  uint64_t seen_ns = 0;  // CLOCK_MONOTONIC when the message was read
};

// Whether the event's captured bytes hold these headers: the network header at the network
// layer's offset, the transport header after it. At least 20 bytes must be compared.
bool headers_match(const Event& ev, const std::vector<uint8_t>& network_header,
                   const std::vector<uint8_t>& transport_header);

class TraceTie {
 public:
  // How long a drop waits for its event, and how many may wait: the kernel queues the message
  // before it frees the skb, so a drop left over is one whose event was filtered out or lost.
  static constexpr uint64_t kHoldNs = 2'000'000'000;
  static constexpr size_t kMaxHeld = 4096;

  // One message, in socket order. Returns the drop it completes: a rule with verdict drop, or a
  // base chain's policy drop.
  std::optional<TracedDrop> feed(const TraceMessage& m, uint64_t now_ns);

  void hold(TracedDrop drop, uint64_t now_ns);

  // The oldest held drop of the event's namespace whose headers are the event's, taken out.
  std::optional<NfRule> take(const Event& ev, uint64_t now_ns);

  size_t held() const { return held_.size(); }

  // Ties by trace id where `ids` can compute it, before the headers (take_exact).
  void tie_exactly(TraceIds ids) { ids_.emplace(std::move(ids)); }

 private:
  // A base chain the packet entered: its first message carries the headers.
  struct Call {
    std::string base_chain;
    std::vector<uint8_t> network_header;
    std::vector<uint8_t> transport_header;
    uint64_t seen_ns = 0;
  };
  static constexpr size_t kMaxCalls = 4096;

  void expire(uint64_t now_ns);
  std::optional<NfRule> take_exact(const Event& ev);

  std::map<std::pair<uint32_t, uint32_t>, Call> calls_;  // (netns, trace id)
  std::deque<TracedDrop> held_;                          // oldest first
  std::optional<TraceIds> ids_;                          // the exact tie, when asked for
};

}  // namespace pwru::nf
