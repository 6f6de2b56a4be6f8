// TraceTie: trace messages grouped per base chain and packet, drops matched to events by headers,
// the rules passed placed before the first event that certainly followed them.
#include "nf/tie.h"

#include <algorithm>
#include <iterator>
#include <utility>

#include "pwru_rules.h"

namespace pwru::nf {
namespace {

constexpr size_t kMinCompared = 20;  // an IPv4 header without options

// Where the network header starts in the event's bytes, if it does.
std::optional<size_t> network_offset(const Event& ev) {
  if (ev.layer == PacketLayer::Network) return 0;
  if (ev.layer != PacketLayer::Ethernet) return std::nullopt;
  size_t off = 12;
  // 802.1Q and 802.1ad tags before the EtherType.
  while (off + 2 <= ev.packet.size()) {
    const uint16_t type = static_cast<uint16_t>(ev.packet[off] << 8 | ev.packet[off + 1]);
    if (type != 0x8100 && type != 0x88a8) return off + 2;
    off += 4;
  }
  return std::nullopt;
}

// Where the transport header starts, from the network header the trace gave.
std::optional<size_t> transport_offset(const std::vector<uint8_t>& nh) {
  if (nh.empty()) return std::nullopt;
  if ((nh[0] >> 4) == 4) return static_cast<size_t>(nh[0] & 0x0f) * 4;
  // IPv6: only when the next header is the transport itself (no extension headers).
  if ((nh[0] >> 4) == 6 && nh.size() >= 40 && (nh[6] == 6 || nh[6] == 17 || nh[6] == 58)) return 40;
  return std::nullopt;
}

// Compares `want` with `bytes` from `off` on, as far as both go; how many bytes were compared,
// or nullopt on a difference.
std::optional<size_t> compare_at(const std::vector<uint8_t>& bytes, size_t off,
                                 const std::vector<uint8_t>& want) {
  if (off >= bytes.size()) return 0;
  const size_t n = std::min(want.size(), bytes.size() - off);
  if (!std::equal(want.begin(), want.begin() + static_cast<std::ptrdiff_t>(n),
                  bytes.begin() + static_cast<std::ptrdiff_t>(off))) {
    return std::nullopt;
  }
  return n;
}

// Calls of the same base chain: a packet enters each once.
bool same_chain(const PassedCall& a, const PassedCall& b) {
  return a.base_chain == b.base_chain && !a.rules.empty() && !b.rules.empty() &&
         a.rules.front().family == b.rules.front().family &&
         a.rules.front().table == b.rules.front().table;
}

// The bucket of held calls an event looks in: the namespace and the first kMinCompared bytes of
// the network header, which headers_match always compares. kUnkeyed: a call whose network header
// is shorter, which every event looks at.
constexpr uint64_t kUnkeyed = 0;
uint64_t headers_key(uint32_t netns, const std::vector<uint8_t>& bytes, size_t off) {
  uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a
  auto mix = [&h](uint8_t b) { h = (h ^ b) * 0x100000001b3ull; };
  for (int i = 0; i < 4; ++i) mix(static_cast<uint8_t>(netns >> (8 * i)));
  for (size_t i = 0; i < kMinCompared; ++i) mix(bytes[off + i]);
  return h | 1;  // never kUnkeyed
}

}  // namespace

bool headers_match(const Event& ev, const std::vector<uint8_t>& network_header,
                   const std::vector<uint8_t>& transport_header) {
  const auto nh_off = network_offset(ev);
  if (!nh_off) return false;
  const auto nh = compare_at(ev.packet, *nh_off, network_header);
  if (!nh) return false;
  size_t compared = *nh;
  if (const auto th_off = transport_offset(network_header); th_off && !transport_header.empty()) {
    const auto th = compare_at(ev.packet, *nh_off + *th_off, transport_header);
    if (!th) return false;
    // The network header (40 bytes) may already hold these bytes: count them once.
    const size_t begin = *th_off, end = *th_off + *th;
    const size_t overlap = std::min(end, *nh) > begin ? std::min(end, *nh) - begin : 0;
    compared += (end - begin) - overlap;
  }
  return compared >= kMinCompared;
}

bool is_netfilter_drop(const Event& ev) {
  if (ev.drop_reason) return ev.drop_reason_name == "NETFILTER_DROP";
  return ev.func == "kfree_skb" && ev.caller.starts_with("nf_hook_slow+");
}

NfRule traced_rule(const TraceMessage& m) {
  NfRule r;
  r.trace_id = m.id;
  r.family = m.family;
  r.table = m.table;
  r.chain = m.chain;
  if (m.type == kTracePolicy) {
    r.type = NfTraceType::Policy;
    r.verdict = static_cast<int32_t>(m.policy.value_or(0));
  } else if (m.type == kTraceReturn || !m.handle) {
    // Linux 6.12 and later send a chain's end as a rule without handle, verdict continue;
    // before, a return: without handle at a chain's end, with it for a `return` rule.
    r.type = NfTraceType::Return;
    r.handle = m.handle;
    r.verdict = m.verdict.value_or(kVerdictContinue);
  } else {
    r.type = NfTraceType::Rule;
    r.handle = m.handle;
    r.verdict = m.verdict.value_or(kVerdictContinue);
    r.jump_target = m.jump_target;
  }
  return r;
}

Event passed_event(const Event& tied, NfRule rule) {
  Event ev;
  ev.time_ns = tied.time_ns;
  ev.ktime_ns = tied.ktime_ns;
  ev.skb = tied.skb;
  ev.func = std::string(rules::kNfTraceFunc);
  ev.probe = ProbeKind::NfTrace;
  ev.netns = tied.netns;
  ev.mark = tied.mark;
  ev.ifindex = tied.ifindex;
  ev.ifname = tied.ifname;
  ev.protocol = tied.protocol;
  ev.mtu = tied.mtu;
  ev.len = tied.len;
  ev.ip_version = tied.ip_version;
  ev.saddr = tied.saddr;
  ev.daddr = tied.daddr;
  ev.l4proto = tied.l4proto;
  ev.has_ports = tied.has_ports;
  ev.sport = tied.sport;
  ev.dport = tied.dport;
  ev.tcp_flags = tied.tcp_flags;
  ev.layer = tied.layer;
  ev.packet = tied.packet;
  ev.nf = std::move(rule);
  return ev;
}

std::optional<TracedDrop> TraceTie::feed(const TraceMessage& m, uint64_t now_ns) {
  const auto key = std::make_pair(m.netns, m.id);
  auto it = calls_.find(key);
  if (!m.network_header.empty() || it == calls_.end()) {
    if (calls_.size() >= kMaxCalls) {
      // Calls end with a verdict; those left are packets whose terminal message was lost.
      std::erase_if(calls_, [now_ns](const auto& c) { return now_ns - c.second.seen_ns > kHoldNs; });
      if (calls_.size() >= kMaxCalls) calls_.clear();
    }
    it = calls_.insert_or_assign(key, Call{m.chain, m.network_header, m.transport_header, now_ns, {}})
             .first;
  }
  Call& call = it->second;
  call.seen_ns = now_ns;

  const bool policy_drop = m.type == kTracePolicy && m.policy == static_cast<uint32_t>(kVerdictDrop);
  const bool rule_drop = m.type == kTraceRule && m.verdict == kVerdictDrop;
  // accept, stolen, queue and a policy end the base chain; jump, goto, continue, return do not.
  const bool ends = m.type == kTracePolicy || (m.type == kTraceRule && m.verdict && *m.verdict >= 0);
  std::optional<TracedDrop> drop;
  if (policy_drop || rule_drop) {
    TracedDrop d;
    d.netns = m.netns;
    d.rule = traced_rule(m);
    d.rule.verdict = kVerdictDrop;
    d.passed = std::move(call.rules);
    d.base_chain = call.base_chain;
    d.network_header = call.network_header;
    d.transport_header = call.transport_header;
    d.seen_ns = now_ns;
    drop = std::move(d);
  } else {
    call.rules.push_back(traced_rule(m));
    if (ends) {
      ended_ = PassedCall{m.netns,          std::move(call.rules),  call.base_chain,
                          call.network_header, call.transport_header, now_ns};
    }
  }
  if (ends) calls_.erase(it);
  return drop;
}

std::optional<PassedCall> TraceTie::ended_call() { return std::exchange(ended_, std::nullopt); }

void TraceTie::expire(uint64_t now_ns) {
  while (!held_.empty() && now_ns - held_.front().seen_ns > kHoldNs) held_.pop_front();
}

void TraceTie::hold(TracedDrop drop, uint64_t now_ns) {
  expire(now_ns);
  if (held_.size() >= kMaxHeld) held_.pop_front();
  held_.push_back(std::move(drop));
}

void TraceTie::hold(PassedCall call, uint64_t /*now_ns*/) {
  // expired() keeps the count down between batches; within a flood, the oldest go unwritten.
  if (passed_.size() >= 2 * kMaxHeld) {
    unindex(passed_.begin());
    passed_.pop_front();
    ++untied_;
  }
  const uint64_t key = call.network_header.size() >= kMinCompared
                           ? headers_key(call.netns, call.network_header, 0)
                           : kUnkeyed;
  passed_.push_back(Held{std::move(call), std::nullopt, key, held_order_++});
  passed_index_[key].push_back(std::prev(passed_.end()));
}

void TraceTie::unindex(HeldList::iterator it) {
  auto bucket = passed_index_.find(it->key);
  if (bucket == passed_index_.end()) return;
  std::erase(bucket->second, it);
  if (bucket->second.empty()) passed_index_.erase(bucket);
}

std::optional<TracedDrop> TraceTie::take_drop(const Event& ev, uint64_t now_ns) {
  expire(now_ns);
  if (auto exact = take_exact(ev)) return exact;
  auto matches = [&ev](const TracedDrop& d) {
    return d.netns == ev.netns && headers_match(ev, d.network_header, d.transport_header);
  };
  auto first = std::find_if(held_.begin(), held_.end(), matches);
  if (first == held_.end()) return std::nullopt;
  TracedDrop drop = std::move(*first);
  // Another drop with the same headers (an IPv6 retransmission has no IP id): order decided.
  const bool alone = std::find_if(std::next(first), held_.end(), matches) == held_.end();
  drop.rule.tie = alone ? NfTie::Headers : NfTie::Order;
  for (NfRule& r : drop.passed) r.tie = drop.rule.tie;
  held_.erase(first);
  return drop;
}

std::optional<NfRule> TraceTie::take(const Event& ev, uint64_t now_ns) {
  auto drop = take_drop(ev, now_ns);
  if (!drop) return std::nullopt;
  return std::move(drop->rule);
}

Placement TraceTie::place(const Event& ev, uint64_t now_ns) {
  Placement out;
  // No hook runs on a freed skb: whatever of its packet is held came before.
  const bool frees = rules::frees_skb(ev.func) || ev.drop_reason.has_value();
  // The held calls its headers can match, in the order they were held.
  std::vector<HeldList::iterator> candidates;
  auto look_in = [&](uint64_t key) {
    if (auto b = passed_index_.find(key); b != passed_index_.end()) {
      candidates.insert(candidates.end(), b->second.begin(), b->second.end());
    }
  };
  if (const auto off = network_offset(ev); off && ev.packet.size() >= *off + kMinCompared) {
    look_in(headers_key(ev.netns, ev.packet, *off));
  }
  look_in(kUnkeyed);
  std::erase_if(candidates, [&ev](HeldList::iterator c) {
    return c->call.netns != ev.netns ||
           !headers_match(ev, c->call.network_header, c->call.transport_header);
  });
  std::sort(candidates.begin(), candidates.end(),
            [](HeldList::iterator a, HeldList::iterator b) { return a->order < b->order; });
  std::vector<bool> taken(candidates.size(), false);
  for (size_t i = 0; i < candidates.size(); ++i) {
    const HeldList::iterator it = candidates[i];
    if (!frees && ev.ktime_ns <= it->call.seen_ns) {
      // The event may have come before the hook or after it: the call waits for a later one.
      it->last = ev;
      it->last->stack.clear();
      continue;
    }
    // Another packet with the same headers passed the same base chain: order decided.
    bool alone = true;
    for (size_t j = 0; j < candidates.size() && alone; ++j) {
      alone = j == i || taken[j] || !same_chain(candidates[j]->call, it->call);
    }
    for (NfRule& r : it->call.rules) {
      r.tie = alone ? NfTie::Headers : NfTie::Order;
      out.before.push_back(std::move(r));
    }
    taken[i] = true;
    unindex(it);
    passed_.erase(it);
  }
  if (is_netfilter_drop(ev)) {
    if (auto drop = take_drop(ev, now_ns)) {
      for (NfRule& r : drop->passed) out.before.push_back(std::move(r));
      out.drop = std::move(drop->rule);
    }
  }
  return out;
}

std::vector<Following> TraceTie::expired(uint64_t now_ns, bool all) {
  std::vector<Following> out;
  while (!passed_.empty() && (all || passed_.size() > kMaxHeld ||
                              now_ns - passed_.front().call.seen_ns > kPassedHoldNs)) {
    Held h = std::move(passed_.front());
    unindex(passed_.begin());
    passed_.pop_front();
    if (!h.last) {
      ++untied_;
      continue;
    }
    out.push_back(Following{std::move(*h.last), std::move(h.call.rules)});
  }
  return out;
}

void TraceTie::mark(const RuleChangeMark& change) {
  auto apply = [&change](NfRule& r) {
    if (r.family == change.family && r.table == change.table && r.handle &&
        (!change.handle || r.handle == change.handle)) {
      r.state = change.state;
    }
  };
  for (TracedDrop& d : held_) {
    if (d.netns != change.netns) continue;
    apply(d.rule);
    for (NfRule& r : d.passed) apply(r);
  }
  for (Held& h : passed_) {
    if (h.call.netns != change.netns) continue;
    for (NfRule& r : h.call.rules) apply(r);
  }
}

// --- The exact tie: the trace id the kernel made from the event's skb (trace_id.h) ---

// The held drop (and the rules of its call) of the event's namespace whose trace id is the one the kernel gave the event's
// skb. Until a scheme is confirmed, its id must also come with the same headers, which confirms
// it; afterwards the id alone ties. A drop no id ties is left to the headers: skb->hash changed
// on the way (tunnels clear it), or no scheme is known.
std::optional<TracedDrop> TraceTie::take_exact(const Event& ev) {
  if (!ids_) return std::nullopt;
  const auto candidates = ids_->candidates(ev.skb, ev.skb_hash, ev.skb_iif);
  for (auto it = held_.begin(); it != held_.end(); ++it) {
    if (it->netns != ev.netns || !it->rule.trace_id) continue;
    for (const auto& [scheme, id] : candidates) {
      if (id != *it->rule.trace_id) continue;
      if (!ids_->confirmed()) {
        if (!headers_match(ev, it->network_header, it->transport_header)) continue;
        ids_->confirm(scheme);
      }
      TracedDrop drop = std::move(*it);
      drop.rule.tie = NfTie::Exact;
      for (NfRule& r : drop.passed) r.tie = NfTie::Exact;
      held_.erase(it);
      return drop;
    }
  }
  return std::nullopt;
}

}  // namespace pwru::nf
