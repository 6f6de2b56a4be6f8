// One event as the user reads it: the text lines or the JSON line the capture loop writes.
#pragma once

#include <memory>
#include <string>

#include "output/fields.h"
#include "record/event.h"

namespace pwru {

// Formatters keep state across events (column widths, relative times, journeys), so one
// formatter sees every output event, in order.
class EventFormatter {
 public:
  virtual ~EventFormatter() = default;
  // Written once before the first event; empty for none.
  virtual std::string header() = 0;
  // One event: a line, then any extra lines it asked for (--output-stack, --output-skb). No
  // trailing newline.
  virtual std::string format(const Event& ev) = 0;
};

// JSON lines with --output-json, else pwru's text.
std::unique_ptr<EventFormatter> make_formatter(const OutputOptions& options);

}  // namespace pwru
