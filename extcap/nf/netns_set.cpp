// live_namespaces: the /proc scan and the mount table's nsfs mounts of network namespaces.
#include "nf/netns_set.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <charconv>
#include <fstream>
#include <memory>

namespace pwru::nf {
namespace {

std::optional<uint32_t> inode_of(const std::string& path) {
  struct stat st{};
  if (stat(path.c_str(), &st) != 0) return std::nullopt;
  return static_cast<uint32_t>(st.st_ino);
}

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && s.size() - i >= 4) {
      int v = 0;
      const auto r = std::from_chars(s.data() + i + 1, s.data() + i + 4, v, 8);
      if (r.ec == std::errc{} && r.ptr == s.data() + i + 4) {
        out.push_back(static_cast<char>(v));
        i += 3;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

struct DirClose {
  void operator()(DIR* d) const { closedir(d); }
};

}  // namespace

std::optional<std::pair<uint32_t, std::string>> parse_netns_mount(std::string_view line) {
  // Fields: id, parent, major:minor, root, mount point, options..., "-", fstype, source, ...
  std::string_view fields[5];
  size_t pos = 0;
  for (auto& f : fields) {
    const size_t end = line.find(' ', pos);
    if (end == std::string_view::npos) return std::nullopt;
    f = line.substr(pos, end - pos);
    pos = end + 1;
  }
  const size_t dash = line.find(" - ", pos - 1);
  if (dash == std::string_view::npos || line.substr(dash + 3).rfind("nsfs ", 0) != 0) {
    return std::nullopt;
  }
  constexpr std::string_view kNet = "net:[";
  std::string_view root = fields[3];
  if (root.rfind(kNet, 0) != 0 || !root.ends_with("]")) return std::nullopt;
  root = root.substr(kNet.size(), root.size() - kNet.size() - 1);
  uint32_t inode = 0;
  const auto r = std::from_chars(root.data(), root.data() + root.size(), inode);
  if (r.ec != std::errc{} || r.ptr != root.data() + root.size() || inode == 0) return std::nullopt;
  return std::make_pair(inode, unescape(fields[4]));
}

std::map<uint32_t, std::string> live_namespaces() {
  std::map<uint32_t, std::string> out;
  std::ifstream mounts("/proc/self/mountinfo");
  for (std::string line; std::getline(mounts, line);) {
    if (auto m = parse_netns_mount(line)) out.emplace(m->first, m->second);
  }
  std::unique_ptr<DIR, DirClose> proc(opendir("/proc"));
  if (!proc) return out;
  while (const dirent* e = readdir(proc.get())) {
    if (e->d_name[0] < '1' || e->d_name[0] > '9') continue;
    const std::string path = std::string("/proc/") + e->d_name + "/ns/net";
    // A process without permission to look at, or gone meanwhile: skipped.
    if (auto inode = inode_of(path)) out.emplace(*inode, path);
  }
  return out;
}

UniqueFd open_netns(uint32_t inode, const std::string& hint) {
  const auto open_if = [inode](const std::string& path) {
    UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
    struct stat st{};
    // Checked on the open file: the path may have moved on between scan and open.
    if (fd.valid() && (fstat(fd.get(), &st) != 0 || st.st_ino != inode)) fd.reset();
    return fd;
  };
  if (!hint.empty()) {
    if (UniqueFd fd = open_if(hint); fd.valid()) return fd;
  }
  for (const auto& [ino, path] : live_namespaces()) {
    if (ino == inode) return open_if(path);
  }
  return UniqueFd();
}

uint32_t current_netns_inode() {
  return inode_of("/proc/thread-self/ns/net").value_or(0);
}

}  // namespace pwru::nf
