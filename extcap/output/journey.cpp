// Numbers skb journeys by the rule shared with the dissector (pwru_rules.h), and says what
// changed from hop to hop by the rule shared with it too (pwru_changes.h).
#include "output/journey.h"

#include <algorithm>

namespace pwru {

changes::Hop change_facts(const Event& ev) {
  changes::Hop hop{};
  hop.has_netns = ev.netns != 0;
  hop.netns = ev.netns;
  hop.ifindex = ev.ifindex;
  changes::set_ifname(hop, ev.ifname);
  hop.has_mark = true;
  hop.mark = ev.mark;
  hop.protocol = ev.protocol;
  hop.headers = changes::parse_packet(ev.packet.data(), ev.packet.size(),
                                      static_cast<unsigned>(ev.layer));
  if (!hop.headers.from_packet && (ev.ip_version == 4 || ev.ip_version == 6)) {
    changes::IpHeader tuple{};
    tuple.version = ev.ip_version;
    std::copy(ev.saddr.begin(), ev.saddr.end(), tuple.saddr);
    std::copy(ev.daddr.begin(), ev.daddr.end(), tuple.daddr);
    tuple.l4proto = ev.l4proto;
    tuple.has_ports = ev.has_ports;
    tuple.sport = ev.sport;
    tuple.dport = ev.dport;
    hop.headers = changes::tuple_headers(tuple);
  }
  return hop;
}

std::string change_value(const changes::Change& change) {
  char text[2 * sizeof change.to + 8];
  changes::change_text(change, text, sizeof text);
  return text;
}

std::string changes_field(const changes::Changes& changed) {
  std::string out;
  for (uint8_t i = 0; i < changed.count; ++i) {
    if (!out.empty()) out += ", ";
    out += changes::kind_name(changed.list[i].kind);
    out += ' ' + change_value(changed.list[i]);
  }
  return out;
}

uint32_t JourneyTracker::step(const Event& ev, changes::Changes* changed) {
  const rules::JourneyEvent facts{.func = ev.func,
                                  .has_cpu = true,
                                  .cpu = ev.cpu,
                                  .tracepoint = ev.probe == ProbeKind::Tracepoint,
                                  .has_drop_reason = ev.drop_reason.has_value(),
                                  .xdp_return = ev.bpf && ev.bpf->hook == PWRU_BPF_HOOK_XDP &&
                                                ev.bpf->verdict.has_value()};
  const uint32_t begun = count_;
  auto it = journeys_.find(ev.skb);
  if (rules::begins_journey(it == journeys_.end() ? nullptr : &it->second.rule, facts))
    it = journeys_.insert_or_assign(ev.skb, Journey{.index = count_++}).first;
  Journey& j = it->second;
  const bool was_ended = j.rule.ended;
  rules::add_to_journey(j.rule, facts);
  last_ = Place{.index = j.index, .begins = count_ != begun, .ends = !was_ended && j.rule.ended};
  const uint32_t index = j.index;
  if (changed != nullptr) {
    changed->count = 0;
    if (changes::compared(static_cast<unsigned>(ev.probe))) {
      const changes::Hop hop = change_facts(ev);
      if (j.has_last) {
        *changed = changes::compare(j.last, hop);
        j.last = changes::carry(j.last, hop);
      } else {
        j.last = hop;
        j.has_last = true;
      }
    }
  }
  // The sk_buff itself is gone: whatever comes next at this address begins a new journey, so
  // the entry need not be kept.
  if (j.rule.teardown_over) journeys_.erase(it);
  return index;
}

}  // namespace pwru
