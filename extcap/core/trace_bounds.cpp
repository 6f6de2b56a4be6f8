// check_bounds: the one check of the tracing options' bounds, and its messages.
#include "core/trace_bounds.h"

#include <linux/types.h>  // pwru_event.h needs the kernel's __u32 and friends
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "pwru_event.h"

namespace pwru {

static_assert(kMaxSnaplen == PWRU_MAX_SNAPLEN, "--snaplen bound must match the BPF side");

Status check_bounds(const TraceOptions& options) {
  if (options.snaplen > kMaxSnaplen) {
    return Error{ExitCode::Usage,
                 "cannot use --snaplen " + std::to_string(options.snaplen) + ": the most is " +
                     std::to_string(kMaxSnaplen) + " bytes",
                 "pass --snaplen from 0 to " + std::to_string(kMaxSnaplen)};
  }
  // The kernel wants a multiple of its page size, which is more than 4K on some machines.
  const uint64_t page = static_cast<uint64_t>(std::max(sysconf(_SC_PAGESIZE), 1L));
  const uint64_t least = std::max<uint64_t>(kMinRingbufBytes, page);
  const uint64_t rb = options.ringbuf_bytes;
  if (rb < least || rb > kMaxRingbufBytes || (rb & (rb - 1)) != 0) {
    return Error{ExitCode::Usage,
                 "cannot use --ringbuf-size " + std::to_string(rb) +
                     ": the BPF ring buffer size must be a power of two from " +
                     std::to_string(least >> 10) + "K to 1G",
                 "pass e.g. --ringbuf-size 64M"};
  }
  if (options.skb_metadata.size() > PWRU_META_MAX) {
    return Error{ExitCode::Usage,
                 "cannot use --output-skb-metadata " + std::to_string(options.skb_metadata.size()) +
                     " times: the most is " + std::to_string(PWRU_META_MAX) + " fields",
                 "pass at most " + std::to_string(PWRU_META_MAX) + " --output-skb-metadata"};
  }
  const auto backends = backend_names();
  if (std::find(backends.begin(), backends.end(), options.backend) == backends.end()) {
    std::string names;
    for (const auto& b : backends) names += (names.empty() ? "" : ", ") + b;
    return Error{ExitCode::Usage,
                 "cannot use --backend " + options.backend + ": no such backend",
                 "pass --backend with one of " + names +
                     " (auto picks the best this kernel offers)"};
  }
  return Ok{};
}

}  // namespace pwru
