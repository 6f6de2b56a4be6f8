// --output-json: one JSON object per event and line, with pwru's keys (internal/pwru/output.go,
// jsonPrinter) under the same flags, plus pwrudump's own: drop_reason, probe and journey.
#pragma once

#include <string>
#include <string_view>

#include "output/fields.h"
#include "output/formatter.h"
#include "output/journey.h"
#include "output/netns_names.h"

namespace pwru {

// Appends `s` as a JSON string literal. Control characters are escaped, and bytes that are not
// UTF-8 (a comm or an interface name may hold any) become U+FFFD, so every line parses.
void append_json_string(std::string& out, std::string_view s);

// Keys, in pwru's order; each is always present when its flag is on (pwru drops zero values,
// which makes CPU 0 or mark 0 vanish; a key that comes and goes is harder on scripts):
//   skb "0x..."  cpu  process "comm:pid"  func (the plain name; the reason is in drop_reason)
//   caller_func (--output-caller, and on every drop)  time (--timestamp: ns as a number,
//   absolute as pwru's "2006-01-02T15:04:05.000")
//   --output-meta: netns mark iface "name:ifindex" proto (EtherType as a number) mtu len
//   netns_name (--output-netns-names, "" when unnamed)
//   --output-tuple: tuple {saddr daddr sport dport proto (number), flags with --output-tcp-flags},
//                   null without an IP header
//   stack (--output-stack): the frames, innermost first, as an array (pwru: one string)
//   skb_metadata (--output-skb): the --output-skb text
//   drop_reason: the kernel's name without SKB_DROP_REASON_ (Wireshark's pwru.drop_reason), its
//                number as a string when unnamed, null without one
//   drop_reason_help (--output-hints, on by default): what the reason means and what to check,
//                "no explanation is known yet" for a reason newer than pwrudump, null without one
//   diagnosis (--diagnose): {"kind": "no_listener", ..., "text": the finding}, on a drop that has
//                one, absent otherwise
//   probe: tracepoint, kprobe, kprobe-multi or fentry
//   journey: the skb's journey (journey.h), Wireshark's pwru.journey
//   changed: only when something changed since the journey's previous event, an object of
//            {kind: "old -> new"} (pwru_changes.h: "dnat", "mark", ...; Wireshark's pwru.changed.*)
class JsonFormatter : public EventFormatter {
 public:
  explicit JsonFormatter(OutputOptions options);

  std::string header() override { return {}; }
  std::string format(const Event& ev) override;

 private:
  OutputOptions options_;
  SkbClock clock_;
  NetnsNames netns_names_;
  JourneyTracker journeys_;
};

}  // namespace pwru
