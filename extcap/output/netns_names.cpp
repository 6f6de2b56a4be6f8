// Maps namespace inodes to the names in /run/netns, rereading the folder only when needed.
#include "output/netns_names.h"

#include <dirent.h>
#include <sys/stat.h>

#include <memory>

namespace pwru {

namespace {

struct DirClose {
  void operator()(DIR* d) const { closedir(d); }
};

constexpr std::chrono::seconds kRescanInterval{1};

}  // namespace

NetnsNames::NetnsNames(std::string dir, Clock clock)
    : dir_(std::move(dir)), clock_(std::move(clock)) {}

const std::string& NetnsNames::name(uint64_t inode) {
  static const std::string kNone;
  if (auto it = names_.find(inode); it != names_.end()) return it->second;
  const bool unseen = unnamed_.insert(inode).second;
  const auto now = clock_();
  if (unseen || scans_ == 0 || now - last_scan_ >= kRescanInterval) {
    last_scan_ = now;
    scan();
    if (auto it = names_.find(inode); it != names_.end()) {
      unnamed_.erase(inode);
      return it->second;
    }
  }
  return kNone;
}

void NetnsNames::scan() {
  ++scans_;
  // Replaced as a whole: a deleted namespace's inode may come back for another one.
  names_.clear();
  std::unique_ptr<DIR, DirClose> dir(opendir(dir_.c_str()));
  if (!dir) return;  // no named namespaces at all: every name is empty
  while (const dirent* entry = readdir(dir.get())) {
    const std::string name = entry->d_name;
    if (name == "." || name == "..") continue;
    struct stat st{};
    // stat, not lstat: the name is a mount point (or a symlink to one), its target is the netns.
    if (stat((dir_ + "/" + name).c_str(), &st) != 0 || S_ISDIR(st.st_mode)) continue;
    names_[static_cast<uint64_t>(st.st_ino)] = name;
  }
}

}  // namespace pwru
