// dumpcap's -b for pcapng: the spec's parsing, the file set names, and the ring's decisions.
#include "output/file_ring.h"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace pwru {
namespace {

Error bad_spec(const std::string& spec, const std::string& cause) {
  return Error{ExitCode::Usage, "cannot use -b " + spec + ": " + cause,
               "pass -b filesize:KB, -b duration:SECONDS, -b packets:N and -b files:N (a ring of "
               "N files), as dumpcap takes them, e.g. -b filesize:1000 -b files:5"};
}

Result<uint64_t> whole(const std::string& spec, std::string_view text) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec == std::errc::result_out_of_range) return bad_spec(spec, "the number is too large");
  if (ec != std::errc() || end != text.data() + text.size() || v == 0) {
    return bad_spec(spec, "not a positive integer");
  }
  return v;
}

Status apply(const std::string& spec, RingSpec& ring) {
  const auto colon = spec.find(':');
  if (colon == std::string::npos) return bad_spec(spec, "not KEY:VALUE");
  const std::string key = spec.substr(0, colon);
  const std::string_view value = std::string_view(spec).substr(colon + 1);
  if (key == "duration") {
    // Decimals, as dumpcap: from_chars for double reads no locale.
    double seconds = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (ec != std::errc() || end != value.data() + value.size() || !(seconds > 0) ||
        seconds > 1e9) {
      return bad_spec(spec, "not a positive number of seconds");
    }
    ring.duration_ns = static_cast<uint64_t>(std::llround(seconds * 1e9));
    return Ok{};
  }
  auto n = whole(spec, value);
  if (!n) return n.error();
  if (key == "filesize") {
    if (*n > UINT64_MAX / 1000) return bad_spec(spec, "the number is too large");
    ring.filesize_bytes = *n * 1000;
  } else if (key == "packets") {
    ring.packets = *n;
  } else if (key == "files") {
    if (*n >= kRingMaxFiles) return bad_spec(spec, "files must be less than 100000");
    ring.files = static_cast<uint32_t>(*n);
  } else if (key == "interval" || key == "printname") {
    return bad_spec(spec, "pwrudump does not take dumpcap's " + key + " criterion");
  } else {
    return bad_spec(spec, "unknown key \"" + key + "\"");
  }
  return Ok{};
}

}  // namespace

Result<RingSpec> parse_ring_spec(std::span<const std::string> specs) {
  RingSpec ring;
  for (const std::string& joined : specs) {
    size_t start = 0;
    while (start <= joined.size()) {
      size_t comma = joined.find(',', start);
      if (comma == std::string::npos) comma = joined.size();
      const std::string piece = joined.substr(start, comma - start);
      if (piece.empty()) return bad_spec(joined, "an empty criterion");
      if (auto st = apply(piece, ring); !st) return st.error();
      start = comma + 1;
    }
  }
  if (ring.files != 0 && !ring.enabled()) {
    return Error{ExitCode::Usage, "cannot use -b files:" + std::to_string(ring.files) +
                                      ": nothing says when to go to the next file",
                 "add -b filesize:KB, -b duration:SECONDS or -b packets:N"};
  }
  return ring;
}

std::string ring_file_name(const std::string& path, uint32_t number, std::time_t when) {
  const size_t slash = path.rfind('/');
  const size_t dot = path.rfind('.');
  const bool has_suffix = dot != std::string::npos && (slash == std::string::npos || dot > slash);
  const std::string prefix = has_suffix ? path.substr(0, dot) : path;
  const std::string suffix = has_suffix ? path.substr(dot) : "";
  std::tm local{};
  localtime_r(&when, &local);
  char middle[32];
  std::snprintf(middle, sizeof middle, "_%05u_", number % kRingMaxFiles);
  char stamp[16];
  std::strftime(stamp, sizeof stamp, "%Y%m%d%H%M%S", &local);
  return prefix + middle + stamp + suffix;
}

std::string FileRing::next(std::time_t now) {
  written_.push_back(ring_file_name(path_, ++number_, now));
  return written_.back();
}

bool FileRing::due(uint64_t bytes, uint64_t packets, uint64_t elapsed_ns) const {
  if (packets == 0) return false;
  return (spec_.filesize_bytes != 0 && bytes >= spec_.filesize_bytes) ||
         (spec_.packets != 0 && packets >= spec_.packets) ||
         (spec_.duration_ns != 0 && elapsed_ns >= spec_.duration_ns);
}

std::vector<std::string> FileRing::take_expired() {
  std::vector<std::string> expired;
  while (spec_.files != 0 && written_.size() > spec_.files) {
    expired.push_back(std::move(written_.front()));
    written_.pop_front();
  }
  return expired;
}

}  // namespace pwru
