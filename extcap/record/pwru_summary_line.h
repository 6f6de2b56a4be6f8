// The line that sums up a journey that ended in a drop, written once for pwrudump's
// --output-summary and the dissector's pwru_drop_journeys tree, so both say the same words:
//   journey 3: 10.0.0.1:0->10.0.0.2:0(icmp) via veth-a (netns 4026532441) > veth-b (netns
//   4026532512), dropped at kfree_skb from nf_hook_slow+0x9b: NETFILTER_DROP; hint: MEANING; check:
//   CHECK
// Header-only plain C++ like pwru_rules.h (no allocation), so the dissector may call it where epan
// can longjmp. Pinned by tests/unit/record/summary_line_test.cpp.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "pwru_names.h"

#include <string_view>

#include "pwru_reasons.h"

namespace pwru::summary {

// An interface the journey crossed, in the namespace it was in.
struct Crossing {
  std::string_view ifname = {};      // empty: unknown (the ifindex is shown)
  uint32_t ifindex = 0;
  uint32_t netns = 0;                // inode; 0: unknown
  std::string_view netns_name = {};  // the name `ip netns` gives it; empty: the inode is shown
};

// Interfaces listed per journey; the rest are counted ("and 2 more"), so memory stays bounded.
inline constexpr size_t kMaxCrossings = 8;

// Does an event on device `ifindex` in `netns` add a crossing after `last` (nullptr: none yet)?
// An event with no device adds none; staying on one device is one crossing.
constexpr bool adds_crossing(const Crossing* last, uint32_t ifindex, uint32_t netns) {
  if (ifindex == 0) return false;
  return last == nullptr || last->ifindex != ifindex || last->netns != netns;
}

// A journey that ended in a drop: the packet (its first event with an IP tuple), the interfaces
// it crossed, and the drop event.
struct DropLine {
  uint32_t journey = 0;                 // the journey's index (JSON journey, pwru.journey)
  std::string_view saddr = {};          // empty: no event had an IP tuple; IPv6 in brackets
  std::string_view daddr = {};
  uint16_t sport = 0;                   // 0 for protocols without ports, as pwru prints them
  uint16_t dport = 0;
  uint8_t l4proto = 0;
  const Crossing* crossings = nullptr;  // in order, at most kMaxCrossings
  size_t n_crossings = 0;
  uint32_t crossings_left_out = 0;      // crossings after the kMaxCrossings listed
  std::string_view func = {};           // where it ended
  std::string_view caller = {};         // empty: unknown
  std::string_view reason = {};         // the name as recorded (no SKB_DROP_REASON_); empty: none
  bool has_reason_code = false;         // a reason with no name: its number
  uint32_t reason_code = 0;
};

// Appends to a caller's buffer, cutting what does not fit, and counts every byte asked for.
class LineWriter {
 public:
  constexpr LineWriter(char* out, size_t cap) : out_(out), cap_(cap) {}

  constexpr void put(std::string_view s) {
    for (char c : s) {
      if (len_ + 1 < cap_) out_[len_] = c;
      ++len_;
    }
  }
  constexpr void put(uint64_t v) {
    char digits[20];
    size_t n = 0;
    do {
      digits[n++] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v != 0);
    while (n > 0) put(std::string_view(&digits[--n], 1));
  }
  // The full length; the buffer holds min(length, cap - 1) bytes and a NUL.
  constexpr size_t finish() {
    if (cap_ > 0) out_[len_ < cap_ ? len_ : cap_ - 1] = '\0';
    return len_;
  }

 private:
  char* out_;
  size_t cap_;
  size_t len_ = 0;
};

namespace detail {

constexpr void put_netns(LineWriter& w, const Crossing& c) {
  w.put(" (netns ");
  if (c.netns_name.empty())
    w.put(uint64_t{c.netns});
  else
    w.put(c.netns_name);
  w.put(")");
}

constexpr void put_tuple(LineWriter& w, const DropLine& d) {
  if (d.saddr.empty() || d.daddr.empty()) {
    w.put("(no IP header)");
    return;
  }
  w.put(d.saddr);
  w.put(":");
  w.put(uint64_t{d.sport});
  w.put("->");
  w.put(d.daddr);
  w.put(":");
  w.put(uint64_t{d.dport});
  w.put("(");
  if (const char* name = names::l4_proto_name(d.l4proto))
    w.put(name);
  else
    w.put(uint64_t{d.l4proto});
  w.put(")");
}

// The interfaces in order, the namespace at the first and wherever it changes.
constexpr void put_crossings(LineWriter& w, const DropLine& d) {
  w.put(" via ");
  if (d.n_crossings == 0) w.put("no interface");
  for (size_t i = 0; i < d.n_crossings; ++i) {
    const Crossing& c = d.crossings[i];
    if (i > 0) w.put(" > ");
    if (c.ifname.empty()) {
      w.put("ifindex ");
      w.put(uint64_t{c.ifindex});
    } else {
      w.put(c.ifname);
    }
    if (i == 0 || c.netns != d.crossings[i - 1].netns) put_netns(w, c);
  }
  if (d.crossings_left_out > 0) {
    w.put(" > and ");
    w.put(uint64_t{d.crossings_left_out});
    w.put(" more");
  }
}

// The reason and what it means: a name the table does not know is said to be unknown; a bare
// number is looked up as pwrudump names such values (reason_N).
constexpr void put_reason(LineWriter& w, const DropLine& d) {
  char unnamed[32] = {};
  std::string_view name = d.reason;
  if (name.empty() && d.has_reason_code) {
    LineWriter n(unnamed, sizeof unnamed);
    n.put("reason_");
    n.put(uint64_t{d.reason_code});
    name = std::string_view(unnamed, n.finish());
  }
  if (name.empty()) {
    w.put("no reason recorded");
    return;
  }
  w.put(name);
  const reasons::ReasonHelp* help = reasons::reason_help(name);
  w.put("; hint: ");
  w.put(help == nullptr ? reasons::kUnknownReasonMeaning : help->meaning);
  if (help != nullptr && help->check != nullptr) {
    w.put(reasons::kCheckSeparator);
    w.put(help->check);
  }
}

}  // namespace detail

// Writes the line into out[0, cap) (NUL-terminated when cap > 0, cut to fit) and returns its full
// length without the NUL, as snprintf does: call with cap 0 to size the buffer.
constexpr size_t format_drop_line(const DropLine& d, char* out, size_t cap) {
  LineWriter w(out, cap);
  w.put("journey ");
  w.put(uint64_t{d.journey});
  w.put(": ");
  detail::put_tuple(w, d);
  detail::put_crossings(w, d);
  w.put(", dropped at ");
  w.put(d.func.empty() ? std::string_view("(no function)") : d.func);
  if (!d.caller.empty()) {
    w.put(" from ");
    w.put(d.caller);
  }
  w.put(": ");
  detail::put_reason(w, d);
  return w.finish();
}

}  // namespace pwru::summary
