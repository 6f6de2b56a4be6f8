// Picks the formatter the output flags ask for.
#include "output/formatter.h"

#include "output/json.h"
#include "output/text.h"

namespace pwru {

std::unique_ptr<EventFormatter> make_formatter(const OutputOptions& options) {
  if (options.json) return std::make_unique<JsonFormatter>(options);
  return std::make_unique<TextFormatter>(options);
}

}  // namespace pwru
