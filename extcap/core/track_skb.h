// --filter-track-skb in user space: following clones. Which probes free an skb (and so end its
// tracking) is rules::frees_skb (pwru_rules.h); the BPF side is bpf/track_skb.bpf.h (the tracked
// map, and the rules: a tracked skb passes the filters, the probe that frees it forgets it) and
// bpf/track_clones.bpf.c (clones).
#pragma once

#include <memory>

#include "core/tracer.h"

namespace pwru {

// What follows clones of tracked skbs for the whole run, whichever backend traces; destroying it
// detaches it.
class CloneFollower {
 public:
  virtual ~CloneFollower() = default;
};

// When tracking (`track_skb`), attaches programs on skb_clone and skb_copy that track the new skb
// of a tracked one in the map `tracked_fd`: fexit where the kernel has trampolines and its own BTF
// (`kernel_btf`), else a kprobe and a kretprobe. No tracepoint sees a clone being made, so where
// neither attaches, clones are not followed: that is noted in `summary.skipped`, and tracing goes
// on. Null when not tracking.
std::unique_ptr<CloneFollower> follow_clones(bool track_skb, int tracked_fd, bool kernel_btf,
                                             AttachSummary& summary);

}  // namespace pwru
