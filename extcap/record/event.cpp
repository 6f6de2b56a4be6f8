// Names for the event model's enums, shared by every sink (text, JSON, the record tools).
#include "record/event.h"

namespace pwru {

const char* probe_kind_name(ProbeKind kind) {
  // A record from a newer pwrudump may carry a kind this build does not know: name it, never
  // index with it.
  switch (kind) {
    case ProbeKind::Tracepoint:
      return "tracepoint";
    case ProbeKind::Kprobe:
      return "kprobe";
    case ProbeKind::KprobeMulti:
      return "kprobe-multi";
    case ProbeKind::Fentry:
      return "fentry";
  }
  return "unknown";
}

}  // namespace pwru
