// pwru's text output: a header, then one line per event with pwru's columns, widths and
// alignment (internal/pwru/output.go, PrintHeader and Print), so what pwru users read and grep
// for reads the same.
#pragma once

#include <cstddef>
#include <string>

#include "output/fields.h"
#include "output/formatter.h"
#include "output/journey.h"
#include "output/netns_names.h"

namespace pwru {

// The columns, in pwru's order, each only with its flag:
//   [TIME] SKB CPU PROCESS [TIMESTAMP] [NETNS MARK/x IFACE PROTO MTU LEN] [NETNS NAME] [TUPLE]
//   FUNC [CALLER] [CHANGED]
// IFACE is centred in 16 characters as pwru does. TUPLE (and FUNC before a CALLER column) is
// padded to the widest seen so far, as pwru does, so the lines of a trace stay aligned while the
// header keeps pwru's unpadded `TUPLE FUNC`. A drop's FUNC is `kfree_skb(SKB_DROP_REASON_...)`
// and, without a CALLER column, ends with ` caller=sym+0xoff`: the point of pwrudump is where a
// packet was dropped, so that is never hidden behind a flag.
// CHANGED (--output-changes) says what changed since the skb's previous event ("dnat
// 10.0.0.99:80 -> 10.0.0.2:8080, mark 0x0 -> 0x2a", journey.h), last on the line.
// After the line: a drop's hint, `  hint: what its reason means; check: what to look at`
// (--output-hints, on by default), `  diagnosis: ...` where pwrudump found why (--diagnose), the
// stack, one frame a line (--output-stack), then the skb (--output-skb).
class TextFormatter : public EventFormatter {
 public:
  explicit TextFormatter(OutputOptions options);

  std::string header() override;
  std::string format(const Event& ev) override;

 private:
  OutputOptions options_;
  SkbClock clock_;
  NetnsNames netns_names_;
  JourneyTracker journeys_;  // with --output-changes
  size_t tuple_width_ = 0;  // widest TUPLE so far
  size_t func_width_ = 0;   // widest FUNC so far (only with a CALLER column)
  size_t tunnel_width_ = 0; // widest TUNNEL so far (padded when CHANGED follows)
};

}  // namespace pwru
