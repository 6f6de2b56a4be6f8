// Numbers skb journeys with the dissector's rule; the lists below are its pwru_free_funcs and
// pwru_teardown_funcs and must change with them.
#include "output/journey.h"

#include "pwru_record.h"

#include <algorithm>
#include <iterator>
#include <string_view>

namespace pwru {

namespace {

constexpr std::string_view kFreeFuncs[] = {PWRU_FREE_FUNCS};

// With function probes one free shows up as several events (kfree_skb_reason, the kfree_skb
// tracepoint, __kfree_skb, skb_release_data, kfree_skbmem): after the first, these stay in the
// journey it ended. On a live skb (pskb_expand_head calls skb_release_data) they are plain hops.
constexpr std::string_view kTeardownFuncs[] = {
    "skb_release_head_state", "skb_release_all", "skb_release_data",
    "skb_free_head",          "napi_skb_cache_put",
};

bool in(std::string_view func, const auto& names) {
  return std::find(std::begin(names), std::end(names), func) != std::end(names);
}

}  // namespace

bool frees_skb_func(const std::string& func) { return in(func, kFreeFuncs); }

uint32_t JourneyTracker::step(const Event& ev) {
  auto it = journeys_.find(ev.skb);
  bool fresh = it == journeys_.end();
  if (!fresh && it->second.ended) {
    // Does this event still belong to the free that ended the journey?
    const Journey& j = it->second;
    const bool teardown = in(ev.func, kFreeFuncs) || in(ev.func, kTeardownFuncs);
    const bool continues = teardown && ev.cpu == j.end_cpu &&  // a free runs on one CPU
                           !(ev.probe == ProbeKind::Tracepoint && j.teardown_has_tracepoint);
    fresh = !continues;
  }
  if (fresh) {
    Journey j;
    j.index = count_++;
    it = journeys_.insert_or_assign(ev.skb, j).first;
  }
  Journey& j = it->second;
  if (!j.ended && (in(ev.func, kFreeFuncs) || ev.drop_reason)) {
    j.ended = true;
    j.end_cpu = ev.cpu;
  }
  const uint32_t index = j.index;
  if (j.ended) {
    if (ev.probe == ProbeKind::Tracepoint) j.teardown_has_tracepoint = true;
    // kfree_skbmem frees the sk_buff itself: whatever comes next at this address is a new skb.
    if (ev.func == "kfree_skbmem") journeys_.erase(it);
  }
  return index;
}

}  // namespace pwru
