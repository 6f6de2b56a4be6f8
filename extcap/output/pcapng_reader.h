// pcapng read from a stream, block by block: what a remote pwrudump writes to `-w -` (pwru@HOST,
// --remote). Only what relaying needs: whole blocks, their options, the packet of an EPB.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"

namespace pwru {

// Block types and the option codes a relay reads (draft-ietf-opsawg-pcapng).
inline constexpr uint32_t kPcapngShb = 0x0A0D0D0A;
inline constexpr uint32_t kPcapngIdb = 1;
inline constexpr uint32_t kPcapngIsb = 5;
inline constexpr uint32_t kPcapngEpb = 6;
inline constexpr uint16_t kPcapngShbOs = 3;
inline constexpr uint16_t kPcapngIfTsresol = 9;
inline constexpr uint16_t kPcapngIsbIfDrop = 5;
inline constexpr uint16_t kPcapngIsbUsrDeliv = 8;

// One whole block: type, total length, body, total length, as read.
struct PcapngBlock {
  std::vector<uint8_t> bytes;

  uint32_t type() const { return u32(0); }
  uint32_t u32(size_t off) const;
  void set_u32(size_t off, uint32_t v);
  // The value of option `code`, the first one, in the options that start at `options_at`
  // (24 in an SHB, 16 in an IDB, 20 in an ISB; epb_options_at() in an EPB).
  std::optional<std::span<const uint8_t>> option(size_t options_at, uint16_t code) const;
  // EPB: the interface id, the timestamp in if_tsresol units, the captured bytes.
  uint32_t epb_interface() const { return u32(8); }
  uint64_t epb_time() const { return (uint64_t{u32(12)} << 32) | u32(16); }
  std::span<const uint8_t> epb_packet() const;
};

// Cuts a byte stream into blocks. Only little-endian sections: pwrudump writes no others.
class PcapngStreamReader {
 public:
  void feed(std::span<const uint8_t> bytes) { buf_.insert(buf_.end(), bytes.begin(), bytes.end()); }
  // The next whole block, nullopt until its last byte came, or an error for bytes that are no
  // pcapng of ours (the reader is then stuck: the stream is unusable).
  Result<std::optional<PcapngBlock>> next();
  // Bytes of a block begun but not complete: non-zero at the end of the stream = cut short.
  size_t pending() const { return buf_.size() - at_; }

 private:
  std::vector<uint8_t> buf_;
  size_t at_ = 0;
};

// The exported-PDU tags in front of pwrudump's records skipped: the record, or an error when
// the packet holds no tag list that names the `pwru` dissector.
Result<std::span<const uint8_t>> pwru_record_of(std::span<const uint8_t> packet);

}  // namespace pwru
