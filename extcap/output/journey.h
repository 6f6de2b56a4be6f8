// Journeys: one skb address from its first event until it is freed, numbered from 0 in order of
// first events, by the rule the dissector's pwru.journey uses (pwru_rules.h), so the JSON
// "journey" of an event and its pwru.journey in Wireshark are the same number when both saw the
// same events.
#pragma once

#include <cstdint>
#include <unordered_map>

#include "record/event.h"
#include "pwru_rules.h"

namespace pwru {

class JourneyTracker {
 public:
  // Places `ev` in its skb's journey and returns the journey's index. Call once per event, in
  // the order the events are output.
  uint32_t step(const Event& ev);

  // Where step() placed its last event: the journey, and whether the event began or ended it.
  struct Place {
    uint32_t index = 0;
    bool begins = false;
    bool ends = false;
  };
  const Place& last_place() const { return last_; }
  // Journeys begun so far.
  uint32_t count() const { return count_; }

 private:
  struct Journey {
    uint32_t index = 0;
    rules::Journey rule{};
  };

  std::unordered_map<uint64_t, Journey> journeys_;  // skb address -> its latest journey
  uint32_t count_ = 0;
  Place last_;
};

}  // namespace pwru
