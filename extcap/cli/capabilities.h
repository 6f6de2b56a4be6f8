// Giving up capabilities once the probes are attached, as dumpcap does once its capture is open.
#pragma once

#include <functional>

#include "base/result.h"

namespace pwru {

// Empties the calling thread's effective, permitted, inheritable and ambient capability sets,
// and its bounding set where it may (CAP_SETPCAP: root), and sets no_new_privs. One capability
// may stay: reading the maps the capture holds (the lost-event count, at the end) is a bpf()
// call, which kernels before 5.19 refuse without CAP_BPF (or CAP_SYS_ADMIN) when
// kernel.unprivileged_bpf_disabled is set. `maps_readable` is asked with that capability
// lowered from the effective set; false keeps it (docs/privileges.md).
// Capabilities belong to threads: one started earlier keeps its own (DirectFile's writer gives
// up its own).
Status drop_capabilities(const std::function<bool()>& maps_readable);

}  // namespace pwru
