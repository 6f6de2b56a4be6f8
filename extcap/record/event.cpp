// Names for the event model's enums, shared by every sink (text, JSON, the record tools).
#include "record/event.h"

#include "pwru_rules.h"

namespace pwru {

const char* probe_kind_name(ProbeKind kind) {
  // A record from a newer pwrudump may carry a kind this build does not know.
  const char* name = rules::probe_kind_name(static_cast<unsigned>(kind));
  return name != nullptr ? name : "unknown";
}

}  // namespace pwru
