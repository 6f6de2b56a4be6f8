// The ordered list of tracing backends: adding one means one line here and one file beside it.
#include "core/backend.h"

namespace pwru {

const std::vector<BackendInfo>& backend_registry() {
  static const std::vector<BackendInfo> registry = {
      {"tracepoint", &make_tracepoint_backend},
  };
  return registry;
}

}  // namespace pwru
