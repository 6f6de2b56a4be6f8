// --output-summary: keeps what each journey's line needs until it is dropped or forgotten.
#include "output/summary.h"

#include "output/fields.h"
#include "pwru_summary_line.h"

namespace pwru {

DropSummary::DropSummary(std::optional<std::string> netns_dir, size_t max_listed)
    : max_listed_(max_listed) {
  if (netns_dir) netns_names_.emplace(*netns_dir);
}

void DropSummary::add(const Event& ev) {
  // A record of lost trace messages is pwrudump's, no skb's: the dissector places it in no
  // journey either.
  if (ev.nf_trace_lost) return;
  tracker_.step(ev);
  const JourneyTracker::Place& place = tracker_.last_place();
  if (place.begins) {
    Journey j;
    j.index = place.index;
    journeys_.insert_or_assign(ev.skb, std::move(j));
  }
  auto it = journeys_.find(ev.skb);
  // Gone: already listed (what follows is the teardown of its free).
  if (it == journeys_.end() || it->second.index != place.index) return;
  Journey& j = it->second;
  if (place.ends) j.ended = true;
  if (j.ip_version == 0 && (ev.ip_version == 4 || ev.ip_version == 6)) {
    j.ip_version = ev.ip_version;
    j.saddr = ev.saddr;
    j.daddr = ev.daddr;
    j.l4proto = ev.l4proto;
    j.sport = ev.has_ports ? ev.sport : 0;
    j.dport = ev.has_ports ? ev.dport : 0;
  }
  cross(j, ev);
  if (!is_drop(ev)) return;
  ++dropped_;
  if (listed_.size() < max_listed_) listed_.push_back(line(j, ev));
  journeys_.erase(it);
}

void DropSummary::cross(Journey& j, const Event& ev) {
  summary::Crossing last;
  if (!j.crossings.empty()) {
    last.ifindex = j.crossings.back().ifindex;
    last.netns = j.crossings.back().netns;
  }
  if (!summary::adds_crossing(j.crossings.empty() ? nullptr : &last, ev.ifindex, ev.netns)) return;
  if (j.crossings.size() == summary::kMaxCrossings) {
    ++j.crossings_left_out;
    return;
  }
  j.crossings.push_back(Crossing{.ifname = ev.ifname,
                                 .ifindex = ev.ifindex,
                                 .netns = ev.netns,
                                 .netns_name = netns_names_ ? netns_names_->name(ev.netns) : ""});
}

std::string DropSummary::line(const Journey& j, const Event& drop) const {
  std::vector<summary::Crossing> crossings;
  for (const Crossing& c : j.crossings) {
    crossings.push_back({.ifname = c.ifname, .ifindex = c.ifindex, .netns = c.netns,
                         .netns_name = c.netns_name});
  }
  Event packet;  // address_field reads the version from an event
  packet.ip_version = j.ip_version;
  const std::string saddr = address_field(packet, j.saddr);
  const std::string daddr = address_field(packet, j.daddr);
  const std::string caller = caller_field(drop);
  const summary::DropLine d{.journey = j.index,
                            .saddr = saddr,
                            .daddr = daddr,
                            .sport = j.sport,
                            .dport = j.dport,
                            .l4proto = j.l4proto,
                            .crossings = crossings.data(),
                            .n_crossings = crossings.size(),
                            .crossings_left_out = j.crossings_left_out,
                            .func = drop.func,
                            .caller = caller,
                            .reason = drop.drop_reason_name,
                            .has_reason_code = drop.drop_reason.has_value(),
                            .reason_code = drop.drop_reason.value_or(0)};
  std::string out(summary::format_drop_line(d, nullptr, 0), '\0');
  summary::format_drop_line(d, out.data(), out.size() + 1);
  return out;
}

std::vector<std::string> DropSummary::lines() const {
  std::vector<std::string> out = listed_;
  uint64_t open = 0;
  for (const auto& [skb, j] : journeys_) open += j.ended ? 0 : 1;
  const uint64_t journeys = tracker_.count();
  std::string totals = std::to_string(journeys) + (journeys == 1 ? " journey: " : " journeys: ") +
                       std::to_string(dropped_) +
                       " ended in a drop, " + std::to_string(journeys - dropped_ - open) +
                       " ended without one, " + std::to_string(open) +
                       " had not ended when the capture stopped";
  if (dropped_ > listed_.size()) {
    totals += "; " + std::to_string(dropped_ - listed_.size()) + " drops after the first " +
              std::to_string(listed_.size()) + " are not listed";
  }
  out.push_back(std::move(totals));
  return out;
}

}  // namespace pwru
