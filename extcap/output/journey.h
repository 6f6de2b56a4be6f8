// Journeys: one skb address from its first event until it is freed, numbered from 0 in order of
// first events, by the rule the dissector's pwru.journey uses (pwru_rules.h), so the JSON
// "journey" of an event and its pwru.journey in Wireshark are the same number when both saw the
// same events. Also what changed since the journey's previous event (pwru_changes.h), as the
// dissector's pwru.changed says it.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>

#include "record/event.h"
#include "pwru_changes.h"
#include "pwru_rules.h"

namespace pwru {

// The facts the change rule compares, read from an event and its packet bytes.
changes::Hop change_facts(const Event& ev);

// "old -> new" (changes::change_text): a JSON "changed" value.
std::string change_value(const changes::Change& change);

// The CHANGED column: "dnat 10.0.0.99:80 -> 10.0.0.2:8080, mark 0x0 -> 0x2a"; empty when
// nothing changed.
std::string changes_field(const changes::Changes& changed);

class JourneyTracker {
 public:
  // Places `ev` in its skb's journey and returns the journey's index. Call once per event, in
  // the order the events are output. With `changed`, also what changed since the journey's
  // previous event (nothing for its first); pass it for every event or for none.
  uint32_t step(const Event& ev, changes::Changes* changed = nullptr);

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
    bool has_last = false;
    changes::Hop last{};  // what its events knew last (changes::carry), with `changed`
  };

  std::unordered_map<uint64_t, Journey> journeys_;  // skb address -> its latest journey
  uint32_t count_ = 0;
  Place last_;
};

}  // namespace pwru
