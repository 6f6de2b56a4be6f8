// Ties nftables trace messages to the skb events of the same packet (docs/netfilter.md): drops to
// their kfree_skb, the rules a packet passed to the events around them. Pure, fed in the order
// the namespace's netlink socket gave the messages.
#pragma once

#include <cstdint>
#include <deque>
#include <list>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
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
  std::string jump_target;         // NFTA_VERDICT_CHAIN of a jump or goto
  std::optional<uint32_t> policy;  // the base chain's policy, on policy messages
  // Only on the first message of each base chain the packet enters (nft_do_chain call).
  std::vector<uint8_t> network_header;    // up to 40 bytes
  std::vector<uint8_t> transport_header;  // up to 20 bytes
};

inline constexpr uint32_t kTracePolicy = 1;  // NFT_TRACETYPE_POLICY
inline constexpr uint32_t kTraceReturn = 2;  // NFT_TRACETYPE_RETURN
inline constexpr uint32_t kTraceRule = 3;    // NFT_TRACETYPE_RULE
inline constexpr int32_t kVerdictDrop = 0;   // NF_DROP
inline constexpr int32_t kVerdictContinue = -1;  // NFT_CONTINUE

// A message as a record shows it: its rule, verdict, jump target and trace type. `rule` and
// `hook` are left for the caller, who reads the ruleset.
NfRule traced_rule(const TraceMessage& m);

// The record of a rule passed, tied to `tied` (an event of the same packet): its skb, time,
// namespace, device and packet fields; FUNC nft_trace_packet, probe kind NfTrace.
Event passed_event(const Event& tied, NfRule rule);

// A drop the trace reported, waiting for its kfree_skb event. `rule.rule` and `rule.hook` are
// left for the caller, who reads the ruleset.
struct TracedDrop {
  uint32_t netns = 0;
  NfRule rule;
  std::vector<NfRule> passed;  // the same call's messages before the drop (a jump), in order
  std::string base_chain;  // where the packet entered the table: its hook is the drop's
  std::vector<uint8_t> network_header;
  std::vector<uint8_t> transport_header;
  uint64_t seen_ns = 0;  // CLOCK_MONOTONIC when the message was read
};

// A base chain call that ended without a drop (accept, a policy accept, queue, stolen): every
// message of it is a rule the packet passed. Named by the caller like a drop.
struct PassedCall {
  uint32_t netns = 0;
  std::vector<NfRule> rules;  // in order; the last gave the call's verdict
  std::string base_chain;
  std::vector<uint8_t> network_header;
  std::vector<uint8_t> transport_header;
  uint64_t seen_ns = 0;  // CLOCK_MONOTONIC when its last message was read: its hook came before
};

// Where the rules passed go around an event: `before` it (tied to its skb), and, for a
// NETFILTER_DROP event, the rule that dropped it.
struct Placement {
  std::vector<NfRule> before;  // in trace order
  std::optional<NfRule> drop;
};

// Rules passed whose packet gave no event that certainly followed their hook within the hold
// time: written after `event`, the last event of the packet seen before.
struct Following {
  Event event;
  std::vector<NfRule> rules;
};

// Marks held rules of (netns, family, table, handle) with what became of them; no handle: every
// rule of the table.
struct RuleChangeMark {
  uint32_t netns = 0;
  uint8_t family = 0;
  std::string table;
  std::optional<uint64_t> handle;
  NfRuleState state = NfRuleState::Current;
};

// Whether `ev` frees an skb that netfilter dropped: kfree_skb with reason NETFILTER_DROP, or,
// before Linux 5.17 (kfree_skb has no reason), kfree_skb called by nf_hook_slow.
bool is_netfilter_drop(const Event& ev);

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
  // How long a call passed waits for an event that certainly followed it. Short: it is written
  // after the packet's last event seen once this passes.
  static constexpr uint64_t kPassedHoldNs = 1'000'000'000;

  // One message, in socket order. Returns the drop it completes: a rule with verdict drop, or a
  // base chain's policy drop. A call it ends without a drop is kept for ended_call().
  std::optional<TracedDrop> feed(const TraceMessage& m, uint64_t now_ns);

  // The call the last feed() ended without a drop; once.
  std::optional<PassedCall> ended_call();

  void hold(TracedDrop drop, uint64_t now_ns);
  void hold(PassedCall call, uint64_t now_ns);

  // The oldest held drop of the event's namespace whose headers are the event's, taken out.
  std::optional<NfRule> take(const Event& ev, uint64_t now_ns);

  // What goes around `ev`, an event delivered now (CLOCK_MONOTONIC `now_ns`): the held calls of
  // its packet (namespace, headers) whose hook certainly came before it — it was stamped after
  // their messages were read, or it frees the skb, which no hook follows — then, for a
  // NETFILTER_DROP event, its drop with the rules of the drop's call before it. Calls the event
  // may have preceded remember it (expired()).
  Placement place(const Event& ev, uint64_t now_ns);

  // Held calls whose hold ran out (all of them with `all`): those that saw an event of their
  // packet, to write after the last one; the others are counted (untied()) and forgotten.
  std::vector<Following> expired(uint64_t now_ns, bool all = false);

  // A rule change the listener reported, on every held rule it concerns: a replaced rule is
  // changed, a deleted one deleted (a later replace of the same handle makes it changed).
  void mark(const RuleChangeMark& change);

  size_t held() const { return held_.size(); }
  size_t held_passed() const { return passed_.size(); }
  // Calls passed whose packet gave no event in the capture.
  uint64_t untied() const { return untied_; }

  // Ties by trace id where `ids` can compute it, before the headers (take_exact).
  void tie_exactly(TraceIds ids) { ids_.emplace(std::move(ids)); }

 private:
  // A base chain the packet entered: its first message carries the headers.
  struct Call {
    std::string base_chain;
    std::vector<uint8_t> network_header;
    std::vector<uint8_t> transport_header;
    uint64_t seen_ns = 0;
    std::vector<NfRule> rules;  // its messages so far
  };
  static constexpr size_t kMaxCalls = 4096;

  // A call passed, waiting for the events of its packet.
  struct Held {
    PassedCall call;
    std::optional<Event> last;  // the latest event of its packet that may have come before it
    uint64_t key = 0;           // its bucket in passed_index_ (headers_key)
    uint64_t order = 0;         // when it was held: trace order within a bucket and across two
  };
  using HeldList = std::list<Held>;

  void unindex(HeldList::iterator it);

  void expire(uint64_t now_ns);
  std::optional<TracedDrop> take_drop(const Event& ev, uint64_t now_ns);
  std::optional<TracedDrop> take_exact(const Event& ev);

  std::map<std::pair<uint32_t, uint32_t>, Call> calls_;  // (netns, trace id)
  std::deque<TracedDrop> held_;                          // oldest first
  HeldList passed_;                                      // oldest first
  // The held calls by (namespace, first network header bytes), so that an event looks only at
  // those its headers can match, not at every call held (a flood holds thousands).
  std::unordered_map<uint64_t, std::vector<HeldList::iterator>> passed_index_;
  uint64_t held_order_ = 0;
  std::optional<PassedCall> ended_;
  uint64_t untied_ = 0;
  std::optional<TraceIds> ids_;                          // the exact tie, when asked for
};

}  // namespace pwru::nf
