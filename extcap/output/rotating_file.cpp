// pwru's --output-file rotation: backup names, the mill's plan, and the rename and mill.
#include "output/rotating_file.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <set>
#include <utility>

#include "base/clock.h"
#include "base/unique_fd.h"

namespace pwru {
namespace {

constexpr const char* kGz = ".gz";
constexpr int64_t kDayMs = 24 * 3600 * 1000LL;

struct PathParts {
  std::string dir;     // with its trailing slash, or empty
  std::string prefix;  // file name before the extension, then "-"
  std::string ext;     // from the last dot of the file name, or empty
};

PathParts split(const std::string& path) {
  PathParts p;
  const size_t slash = path.rfind('/');
  const std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  if (slash != std::string::npos) p.dir = path.substr(0, slash + 1);
  const size_t dot = name.rfind('.');
  p.ext = dot == std::string::npos ? "" : name.substr(dot);
  p.prefix = name.substr(0, name.size() - p.ext.size()) + "-";
  return p;
}

bool ends_with(const std::string& s, const std::string& end) {
  return s.size() >= end.size() && s.compare(s.size() - end.size(), end.size(), end) == 0;
}

// Copies `from` into `from`.gz and removes `from`; on failure removes the partial .gz.
std::string gzip_file(const std::string& from) {
  const std::string to = from + kGz;
  UniqueFd in(::open(from.c_str(), O_RDONLY | O_CLOEXEC));
  if (!in.valid()) return "cannot read " + from + ": " + std::strerror(errno);
  gzFile out = gzopen(to.c_str(), "wb");
  if (out == nullptr) return "cannot create " + to + ": " + std::strerror(errno);
  std::vector<char> buf(1 << 16);
  std::string failure;
  for (;;) {
    const ssize_t n = ::read(in.get(), buf.data(), buf.size());
    if (n < 0) {
      failure = "cannot read " + from + ": " + std::strerror(errno);
      break;
    }
    if (n == 0) break;
    if (gzwrite(out, buf.data(), static_cast<unsigned>(n)) != n) {
      failure = "cannot write " + to + ": " + std::strerror(errno);
      break;
    }
  }
  if (gzclose(out) != Z_OK && failure.empty()) {
    failure = "cannot write " + to + ": " + std::strerror(errno);
  }
  if (!failure.empty()) {
    ::unlink(to.c_str());
    return failure;
  }
  if (::unlink(from.c_str()) != 0) return "cannot remove " + from + ": " + std::strerror(errno);
  return {};
}

}  // namespace

std::string backup_name(const std::string& path, int64_t unix_ms) {
  const PathParts p = split(path);
  const std::time_t secs = static_cast<std::time_t>(unix_ms / 1000);
  std::tm local{};
  localtime_r(&secs, &local);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H-%M-%S", &local);
  char ms[8];
  std::snprintf(ms, sizeof ms, ".%03d", static_cast<int>(unix_ms % 1000));
  return p.dir + p.prefix + stamp + ms + p.ext;
}

std::optional<Backup> parse_backup(const std::string& path, const std::string& name) {
  const PathParts p = split(path);
  std::string rest = name;
  if (ends_with(rest, kGz)) rest.resize(rest.size() - 3);
  if (rest.rfind(p.prefix, 0) != 0 || !ends_with(rest, p.ext)) return std::nullopt;
  const std::string stamp =
      rest.substr(p.prefix.size(), rest.size() - p.prefix.size() - p.ext.size());
  std::tm local{};
  unsigned ms = 0;
  char end = 0;
  // Exactly YYYY-mm-ddTHH-MM-SS.mmm: 23 characters, nothing after.
  if (stamp.size() != 23 ||
      std::sscanf(stamp.c_str(), "%4d-%2d-%2dT%2d-%2d-%2d.%3u%c", &local.tm_year, &local.tm_mon,
                  &local.tm_mday, &local.tm_hour, &local.tm_min, &local.tm_sec, &ms, &end) != 7) {
    return std::nullopt;
  }
  local.tm_year -= 1900;
  local.tm_mon -= 1;
  local.tm_isdst = -1;
  const std::time_t secs = std::mktime(&local);
  if (secs == -1) return std::nullopt;
  return Backup{name, static_cast<int64_t>(secs) * 1000 + ms};
}

MillPlan plan_mill(std::vector<Backup> backups, const TextRotation& rotation, int64_t now_ms) {
  std::stable_sort(backups.begin(), backups.end(),
                   [](const Backup& a, const Backup& b) { return a.unix_ms > b.unix_ms; });
  MillPlan plan;
  std::set<std::string> kept;  // names without .gz: a file and its .gz are one backup
  const int64_t cutoff = now_ms - static_cast<int64_t>(rotation.max_age_days) * kDayMs;
  for (const Backup& b : backups) {
    const std::string plain = ends_with(b.name, kGz) ? b.name.substr(0, b.name.size() - 3) : b.name;
    kept.insert(plain);
    if ((rotation.max_backups != 0 && kept.size() > rotation.max_backups) ||
        (rotation.max_age_days != 0 && b.unix_ms < cutoff)) {
      plan.remove.push_back(b.name);
    } else if (rotation.compress && plain == b.name) {
      plan.compress.push_back(b.name);
    }
  }
  return plan;
}

RotatingFile::~RotatingFile() { wait(); }

void RotatingFile::wait() {
  if (mill_.joinable()) mill_.join();
}

Status RotatingFile::rotate() {
  int64_t now_ms = static_cast<int64_t>(clock_ns(CLOCK_REALTIME) / 1'000'000);
  now_ms = std::max(now_ms, last_backup_ms_ + 1);
  last_backup_ms_ = now_ms;
  const std::string backup = backup_name(path_, now_ms);
  if (std::rename(path_.c_str(), backup.c_str()) != 0) {
    return Error{ExitCode::Output,
                 "cannot rename " + path_ + " to " + backup + ": " + std::strerror(errno),
                 "check that you may write in the folder of --output-file"};
  }
  size_ = 0;
  if (rotation_.max_backups == 0 && rotation_.max_age_days == 0 && !rotation_.compress) {
    return Ok{};
  }
  wait();
  mill_ = std::thread([this] { mill(); });
  return Ok{};
}

void RotatingFile::mill() {
  const PathParts p = split(path_);
  const std::string dir = p.dir.empty() ? "." : p.dir;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    warn("cannot list " + dir + " for old --output-file backups: " + std::strerror(errno));
    return;
  }
  std::vector<Backup> backups;
  while (const dirent* e = ::readdir(d)) {
    if (auto b = parse_backup(path_, e->d_name)) backups.push_back(std::move(*b));
  }
  ::closedir(d);
  const int64_t now_ms = static_cast<int64_t>(clock_ns(CLOCK_REALTIME) / 1'000'000);
  const MillPlan plan = plan_mill(std::move(backups), rotation_, now_ms);
  for (const std::string& name : plan.remove) {
    if (::unlink((p.dir + name).c_str()) != 0 && errno != ENOENT) {
      warn("cannot remove the old backup " + p.dir + name + ": " + std::strerror(errno));
    }
  }
  for (const std::string& name : plan.compress) {
    if (std::string failure = gzip_file(p.dir + name); !failure.empty()) warn(failure);
  }
}

void RotatingFile::warn(std::string text) {
  std::lock_guard lock(mu_);
  warnings_.push_back(std::move(text));
}

std::vector<std::string> RotatingFile::take_warnings() {
  std::lock_guard lock(mu_);
  return std::exchange(warnings_, {});
}

}  // namespace pwru
