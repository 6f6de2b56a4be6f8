// --output-netns-names: the names `ip netns` gives network namespaces, by inode. A name is a
// bind mount of the namespace at /run/netns/NAME, so stat() of it gives the namespace's inode.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>
#include <unordered_set>

namespace pwru {

class NetnsNames {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;

  explicit NetnsNames(std::string dir = "/run/netns", Clock clock = std::chrono::steady_clock::now);

  // The name of the namespace with this inode, empty when it has none. An inode not seen before
  // rereads the folder (a namespace named since the last look); one known to have no name
  // rereads it at most once a second, so unnamed namespaces cost nothing per event.
  const std::string& name(uint64_t inode);

  size_t scans() const { return scans_; }

 private:
  void scan();

  std::string dir_;
  Clock clock_;
  std::unordered_map<uint64_t, std::string> names_;
  std::unordered_set<uint64_t> unnamed_;
  std::chrono::steady_clock::time_point last_scan_{};
  size_t scans_ = 0;
};

}  // namespace pwru
