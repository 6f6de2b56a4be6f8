// TraceTie: trace messages grouped per base chain and packet, drops matched to events by headers.
#include "nf/tie.h"

#include <algorithm>
#include <iterator>

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

std::optional<TracedDrop> TraceTie::feed(const TraceMessage& m, uint64_t now_ns) {
  const auto key = std::make_pair(m.netns, m.id);
  auto it = calls_.find(key);
  if (!m.network_header.empty() || it == calls_.end()) {
    if (calls_.size() >= kMaxCalls) {
      // Calls end with a verdict; those left are packets whose terminal message was lost.
      std::erase_if(calls_, [now_ns](const auto& c) { return now_ns - c.second.seen_ns > kHoldNs; });
      if (calls_.size() >= kMaxCalls) calls_.clear();
    }
    it = calls_.insert_or_assign(key, Call{m.chain, m.network_header, m.transport_header, now_ns})
             .first;
  }
  it->second.seen_ns = now_ns;

  const bool policy_drop = m.type == kTracePolicy && m.policy == static_cast<uint32_t>(kVerdictDrop);
  const bool rule_drop = m.type == kTraceRule && m.verdict == kVerdictDrop;
  // accept, stolen, queue and a policy end the base chain; jump, goto, continue, return do not.
  const bool ends = m.type == kTracePolicy || (m.type == kTraceRule && m.verdict && *m.verdict >= 0);
  std::optional<TracedDrop> drop;
  if (policy_drop || rule_drop) {
    TracedDrop d;
    d.netns = m.netns;
    d.rule.family = m.family;
    d.rule.table = m.table;
    d.rule.chain = m.chain;
    if (rule_drop) d.rule.handle = m.handle;
    d.rule.verdict = kVerdictDrop;
    d.rule.trace_id = m.id;
    d.base_chain = it->second.base_chain;
    d.network_header = it->second.network_header;
    d.transport_header = it->second.transport_header;
    d.seen_ns = now_ns;
    drop = std::move(d);
  }
  if (ends) calls_.erase(it);
  return drop;
}

void TraceTie::expire(uint64_t now_ns) {
  while (!held_.empty() && now_ns - held_.front().seen_ns > kHoldNs) held_.pop_front();
}

void TraceTie::hold(TracedDrop drop, uint64_t now_ns) {
  expire(now_ns);
  if (held_.size() >= kMaxHeld) held_.pop_front();
  held_.push_back(std::move(drop));
}

std::optional<NfRule> TraceTie::take(const Event& ev, uint64_t now_ns) {
  expire(now_ns);
  if (auto exact = take_exact(ev)) return exact;
  auto matches = [&ev](const TracedDrop& d) {
    return d.netns == ev.netns && headers_match(ev, d.network_header, d.transport_header);
  };
  auto first = std::find_if(held_.begin(), held_.end(), matches);
  if (first == held_.end()) return std::nullopt;
  NfRule rule = std::move(first->rule);
  // Another drop with the same headers (an IPv6 retransmission has no IP id): order decided.
  const bool alone = std::find_if(std::next(first), held_.end(), matches) == held_.end();
  rule.tie = alone ? NfTie::Headers : NfTie::Order;
  held_.erase(first);
  return rule;
}

// --- The exact tie: the trace id the kernel made from the event's skb (trace_id.h) ---

// The held drop of the event's namespace whose trace id is the one the kernel gave the event's
// skb. Until a scheme is confirmed, its id must also come with the same headers, which confirms
// it; afterwards the id alone ties. A drop no id ties is left to the headers: skb->hash changed
// on the way (tunnels clear it), or no scheme is known.
std::optional<NfRule> TraceTie::take_exact(const Event& ev) {
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
      NfRule rule = std::move(it->rule);
      rule.tie = NfTie::Exact;
      held_.erase(it);
      return rule;
    }
  }
  return std::nullopt;
}

}  // namespace pwru::nf
