// kprobe perf events with a program attached by fd, the way libbpf makes them: the kprobe
// backend's probes, and the return probes of the netfilter probes (core/nf_probes.h).
#pragma once

#include <linux/types.h>

#include <string>

#include "base/result.h"
#include "base/unique_fd.h"

namespace pwru {

// The kprobe PMU's perf type, -1 when the kernel has none (CONFIG_KPROBES off).
int kprobe_pmu_type();
// The path kprobe_pmu_type() reads, for messages.
extern const char* const kKprobePmuType;

// A kprobe perf event on `func` (a return probe with `retprobe`); -1 and errno on failure.
int open_kprobe_event(int pmu_type, const std::string& func, bool retprobe = false);

// perf_event_open refusing is about privileges (kprobes need CAP_SYS_ADMIN, or root, where
// perf_event_paranoid is above 1), not about a program.
Error kprobe_error(const std::string& func, int err);

// A kprobe perf event with a program attached. A cookie needs BPF links (5.15+); without them
// the program is attached with PERF_EVENT_IOC_SET_BPF.
struct PerfKprobe {
  UniqueFd perf;
  UniqueFd link;  // invalid where the program was attached with PERF_EVENT_IOC_SET_BPF
};

Result<PerfKprobe> attach_kprobe(int pmu_type, const std::string& func, int prog_fd,
                                 __u64 cookie, bool retprobe = false);

}  // namespace pwru
