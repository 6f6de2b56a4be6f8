// parallel_for: a pool of threads taking indexes from one counter.
#include "core/parallel_for.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace pwru {

void parallel_for(size_t n, size_t threads, const std::function<void(size_t)>& work,
                  const std::function<void(size_t)>& progress) {
  std::atomic<size_t> next{0}, done{0};
  auto worker = [&] {
    for (size_t i; (i = next.fetch_add(1)) < n;) {
      work(i);
      done.fetch_add(1);
    }
  };
  threads = std::max<size_t>(1, std::min(threads, n));
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; t++) pool.emplace_back(worker);
  if (!progress) {
    worker();
  } else {
    // The calling thread reports progress while the pool works.
    while (done.load() < n && pool.size() > 0) {
      progress(done.load());
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (pool.empty()) worker();
  }
  for (auto& t : pool) t.join();
  if (progress) progress(n);
}

}  // namespace pwru
