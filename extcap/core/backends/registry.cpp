// The ordered list of tracing backends: adding one means one line here and one file beside it.
#include "core/backend.h"

namespace pwru {

const std::vector<BackendInfo>& backend_registry() {
  static const std::vector<BackendInfo> registry = {
      {"kprobe-multi", true, &make_kprobe_multi_backend},
      {"kprobe", true, &make_kprobe_backend},
      {"fentry", true, &make_fentry_backend},
      {"tracepoint", false, &make_tracepoint_backend},
  };
  return registry;
}

}  // namespace pwru
