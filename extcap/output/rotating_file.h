// pwru's --output-file rotation (lumberjack's): once the next line would take the file past
// --output-file-max-size MB, the file is renamed PREFIX-YYYY-mm-ddTHH-MM-SS.mmm.EXT (local time)
// and a new one started under its name; then, on a thread of its own, backups beyond
// --output-file-max-backups or older than --output-file-max-age days are removed and the rest
// gzipped with --output-file-compress, as pwru does. Files of that name from earlier runs count.
#pragma once

#include <cstdint>
#include <ctime>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/result.h"

namespace pwru {

struct TextRotation {
  uint64_t max_bytes = 100ull << 20;  // pwru's default, 100 MB (of 2^20 bytes)
  uint32_t max_backups = 0;           // 0: keep every backup
  uint32_t max_age_days = 0;          // 0: whatever their age
  bool compress = false;              // gzip backups (NAME.gz)
};

// PREFIX-YYYY-mm-ddTHH-MM-SS.mmm.EXT next to `path` (EXT: from the file name's last dot).
std::string backup_name(const std::string& path, int64_t unix_ms);

// A file in `path`'s folder that is one of its backups (gzipped or not), with the time in its
// name (ms since the epoch, read as local time as it was written).
struct Backup {
  std::string name;  // in the folder
  int64_t unix_ms = 0;
};
// `name` parsed as a backup of `path`, or nothing.
std::optional<Backup> parse_backup(const std::string& path, const std::string& name);

// What the mill does with `backups`, newest kept first: a backup and its .gz count as one.
struct MillPlan {
  std::vector<std::string> remove;
  std::vector<std::string> compress;
};
MillPlan plan_mill(std::vector<Backup> backups, const TextRotation& rotation, int64_t now_ms);

// The rotation of one text file. The capture writes the file itself and tells this object how
// much; to rotate, it closes the file, calls rotate(), and opens `path` anew.
class RotatingFile {
 public:
  RotatingFile(std::string path, TextRotation rotation)
      : path_(std::move(path)), rotation_(rotation) {}
  // Waits for the mill: removal and compression finish before pwrudump exits.
  ~RotatingFile();
  RotatingFile(const RotatingFile&) = delete;
  RotatingFile& operator=(const RotatingFile&) = delete;

  // Whether `len` more bytes would take a file that has some past the limit.
  bool due(uint64_t len) const { return size_ > 0 && size_ + len > rotation_.max_bytes; }
  void wrote(uint64_t len) { size_ += len; }
  // Renames the closed file to its backup name and starts the mill.
  Status rotate();
  // Waits for the mill started by the last rotation.
  void wait();
  // The mill's failures so far (a backup it could not remove or compress), once each.
  std::vector<std::string> take_warnings();

 private:
  void mill();
  void warn(std::string text);

  std::string path_;
  TextRotation rotation_;
  uint64_t size_ = 0;
  int64_t last_backup_ms_ = 0;  // two rotations in one ms must not share a name
  std::mutex mu_;
  std::vector<std::string> warnings_;
  std::thread mill_;  // one at a time: joined before the next starts
};

}  // namespace pwru
