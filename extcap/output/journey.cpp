// Numbers skb journeys by the rule shared with the dissector (pwru_rules.h).
#include "output/journey.h"

namespace pwru {

uint32_t JourneyTracker::step(const Event& ev) {
  const rules::JourneyEvent facts{.func = ev.func,
                                  .has_cpu = true,
                                  .cpu = ev.cpu,
                                  .tracepoint = ev.probe == ProbeKind::Tracepoint,
                                  .has_drop_reason = ev.drop_reason.has_value()};
  const uint32_t begun = count_;
  auto it = journeys_.find(ev.skb);
  if (rules::begins_journey(it == journeys_.end() ? nullptr : &it->second.rule, facts))
    it = journeys_.insert_or_assign(ev.skb, Journey{.index = count_++}).first;
  Journey& j = it->second;
  const bool was_ended = j.rule.ended;
  rules::add_to_journey(j.rule, facts);
  last_ = Place{.index = j.index, .begins = count_ != begun, .ends = !was_ended && j.rule.ended};
  const uint32_t index = j.index;
  // The sk_buff itself is gone: whatever comes next at this address begins a new journey, so
  // the entry need not be kept.
  if (j.rule.teardown_over) journeys_.erase(it);
  return index;
}

}  // namespace pwru
