// Journeys: one skb address from its first event until it is freed, numbered from 0 in order of
// first events. The same rule as the dissector's pwru.journey (pwru_journey_step in
// dissector/packet-pwru.cpp), so the JSON "journey" of an event and its pwru.journey in Wireshark
// are the same number when both saw the same events.
#pragma once

#include <cstdint>
#include <unordered_map>

#include "record/event.h"

namespace pwru {

class JourneyTracker {
 public:
  // Places `ev` in its skb's journey and returns the journey's index. Call once per event, in
  // the order the events are output.
  uint32_t step(const Event& ev);

 private:
  struct Journey {
    uint32_t index = 0;
    bool ended = false;                    // a free (or a drop reason) was seen
    uint32_t end_cpu = 0;                  // the CPU that freed it
    bool teardown_has_tracepoint = false;  // one free fires one tracepoint: a second is a new skb
  };

  std::unordered_map<uint64_t, Journey> journeys_;  // skb address -> its latest journey
  uint32_t count_ = 0;
};

// Tracepoints and functions that free an skb: the first of them ends its journey.
bool frees_skb_func(const std::string& func);

}  // namespace pwru
