// --output-summary: when the capture stops, one line per journey that ended in a drop (the packet,
// the interfaces it crossed, where and why it ended, the hint; pwru_summary_line.h, the words of
// the dissector's pwru_drop_journeys tree too), then the totals.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "output/journey.h"
#include "output/netns_names.h"
#include "record/event.h"

namespace pwru {

class DropSummary {
 public:
  // Journeys listed; the drops after them are counted, not kept, so memory stays bounded.
  static constexpr size_t kMaxListed = 1000;

  // `netns_dir`: where `ip netns` names live (--output-netns-names), shown instead of inodes;
  // nullopt to show inodes.
  explicit DropSummary(std::optional<std::string> netns_dir = std::nullopt,
                       size_t max_listed = kMaxListed);

  // Every output event, in output order.
  void add(const Event& ev);

  // The journeys' lines in the order they were dropped, then the totals line.
  std::vector<std::string> lines() const;

 private:
  struct Crossing {
    std::string ifname;
    uint32_t ifindex = 0;
    uint32_t netns = 0;
    std::string netns_name;
  };
  // What is kept of a journey until its drop is listed or its address begins another journey
  // (one that ended without a drop is then forgotten).
  struct Journey {
    uint32_t index = 0;
    bool ended = false;
    // The packet as its first event with an IP tuple saw it (ip_version 0: none yet).
    uint8_t ip_version = 0;
    std::array<uint8_t, 16> saddr{};
    std::array<uint8_t, 16> daddr{};
    uint8_t l4proto = 0;
    uint16_t sport = 0;  // 0 without ports, as pwru prints them
    uint16_t dport = 0;
    std::vector<Crossing> crossings;
    uint32_t crossings_left_out = 0;
  };

  void cross(Journey& j, const Event& ev);
  std::string line(const Journey& j, const Event& drop) const;

  std::optional<NetnsNames> netns_names_;
  size_t max_listed_;
  JourneyTracker tracker_;
  std::unordered_map<uint64_t, Journey> journeys_;  // skb address -> its latest journey
  std::vector<std::string> listed_;
  uint64_t dropped_ = 0;
};

}  // namespace pwru
