// dumpcap's "multiple files" mode for -w: when to go to the next pcapng file, its name (a file
// set Wireshark opens as one: File > File Set), and which old files a ring of files:M deletes.
#pragma once

#include <cstdint>
#include <ctime>
#include <deque>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"

namespace pwru {

// -b KEY:VALUE, as dumpcap reads it: filesize in kB (1000 bytes), duration in seconds (decimals
// allowed), packets, files. Nothing set: one file, as without -b.
struct RingSpec {
  uint64_t filesize_bytes = 0;
  uint64_t duration_ns = 0;
  uint64_t packets = 0;
  uint32_t files = 0;  // 0: keep every file

  bool enabled() const { return filesize_bytes != 0 || duration_ns != 0 || packets != 0; }
};

// dumpcap numbers files from 1 with five digits and wraps at this; Wireshark's file set pattern
// wants exactly five.
inline constexpr uint32_t kRingMaxFiles = 100000;

// Each of `specs` is one -b value: dumpcap's KEY:VALUE, or several joined by commas.
Result<RingSpec> parse_ring_spec(std::span<const std::string> specs);

// dumpcap's name: `path` split at its last dot (in the file name) into prefix and suffix, then
// PREFIX_NNNNN_YYYYmmddHHMMSS.SUFFIX in local time.
std::string ring_file_name(const std::string& path, uint32_t number, std::time_t when);

// The decisions of one run's ring; the capture opens, closes and deletes the files.
class FileRing {
 public:
  FileRing(std::string path, RingSpec spec) : path_(std::move(path)), spec_(spec) {}

  // The name of the next file, which counts as written from now on.
  std::string next(std::time_t now);
  // Whether the current file is full: `bytes` and `packets` written to it, `elapsed_ns` since
  // it was opened. Never for a file without a packet, so an idle capture makes no empty files.
  bool due(uint64_t bytes, uint64_t packets, uint64_t elapsed_ns) const;
  // Between events: only -b duration ends a file, so a full one waits for the next event
  // rather than leave an empty file at the end.
  bool timed_out(uint64_t packets, uint64_t elapsed_ns) const {
    return packets != 0 && spec_.duration_ns != 0 && elapsed_ns >= spec_.duration_ns;
  }
  // The oldest files beyond files:M, forgotten here; the caller deletes them.
  std::vector<std::string> take_expired();

 private:
  std::string path_;
  RingSpec spec_;
  uint32_t number_ = 0;
  std::deque<std::string> written_;  // oldest first
};

}  // namespace pwru
