// What --filter-track-skb needs from user space besides the probes that free an skb
// (rules::frees_skb, pwru_rules.h): the clone functions it follows.
#pragma once

#include <bpf/libbpf.h>

#include <vector>

#include "core/libbpf_ptr.h"
#include "core/tracer.h"

namespace pwru {

// The functions whose return value is a copy of their skb argument: --filter-track-skb follows
// the copy when the original is tracked.
inline constexpr const char* kCloneFunctions[] = {"skb_clone", "skb_copy"};

// Attaches `entry` as kprobe and `exit` as kretprobe on each clone function; a function that
// refuses is noted in `summary.skipped`, tracing goes on without it.
std::vector<Link> attach_clone_kprobes(struct bpf_program* entry, struct bpf_program* exit,
                                       AttachSummary& summary);

}  // namespace pwru
