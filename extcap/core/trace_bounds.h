// The bounds of the tracing options, checked in one place: the command line checks them as it
// parses, the extcap dialog offers the same ranges, and Tracer::open holds to them.
#pragma once

#include <cstdint>

#include "base/result.h"
#include "core/tracer.h"

namespace pwru {

inline constexpr uint32_t kMaxSnaplen = 4096;           // PWRU_MAX_SNAPLEN, the BPF side's bound
inline constexpr uint32_t kMinRingbufBytes = 4096;      // one page: the kernel's minimum
inline constexpr uint32_t kMaxRingbufBytes = 1u << 30;  // Wireshark's integer args are int32

// An ExitCode::Usage error naming the option (--snaplen, --ringbuf-size, --backend) whose value
// is out of bounds: a snaplen above kMaxSnaplen, a ring buffer size that is not a power of two
// from the page size (at least kMinRingbufBytes) to kMaxRingbufBytes, a backend that is neither
// "auto" nor in the registry.
Status check_bounds(const TraceOptions& options);

}  // namespace pwru
