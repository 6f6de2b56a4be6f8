// Nanoseconds of a clock_gettime() clock, as one u64.
#pragma once

#include <time.h>

#include <cstdint>

namespace pwru {

inline uint64_t clock_ns(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
}

}  // namespace pwru
