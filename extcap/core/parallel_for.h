// Work spread over threads: the function backends attach and detach thousands of probes, each a
// syscall that waits on the kernel.
#pragma once

#include <cstddef>
#include <functional>

namespace pwru {

// Runs work(i) for i in [0, n) on up to `threads` threads; progress(done) is called on the
// calling thread now and then.
void parallel_for(size_t n, size_t threads, const std::function<void(size_t)>& work,
                  const std::function<void(size_t)>& progress = {});

}  // namespace pwru
