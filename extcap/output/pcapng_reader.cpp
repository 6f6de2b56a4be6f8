// Splits a pcapng byte stream into whole blocks and reads the few fields a relay needs.
#include "output/pcapng_reader.h"

#include <cstring>
#include <string_view>

#include "pwru_record.h"

namespace pwru {
namespace {

constexpr uint32_t kByteOrderMagic = 0x1A2B3C4D;
// Far above any block pwrudump writes (a record is at most a few tens of KiB): a length past it
// is a stream that is not pcapng, and would otherwise make us buffer without end.
constexpr uint32_t kMaxBlockLen = 16u << 20;

uint32_t load_u32(const uint8_t* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}

Error not_pcapng(const std::string& why) {
  return Error{ExitCode::Failure, "cannot read the remote pcapng stream: " + why,
               "the remote command must be pwrudump writing pcapng to its stdout (-w -), and "
               "nothing else may write there"};
}

}  // namespace

uint32_t PcapngBlock::u32(size_t off) const {
  return off + 4 <= bytes.size() ? load_u32(bytes.data() + off) : 0;
}

void PcapngBlock::set_u32(size_t off, uint32_t v) {
  if (off + 4 > bytes.size()) return;
  for (int i = 0; i < 4; ++i) bytes[off + i] = static_cast<uint8_t>(v >> (8 * i));
}

std::optional<std::span<const uint8_t>> PcapngBlock::option(size_t options_at,
                                                            uint16_t code) const {
  const size_t end = bytes.size() >= 4 ? bytes.size() - 4 : 0;  // before the trailing length
  size_t off = options_at;
  while (off + 4 <= end) {
    const uint16_t c = static_cast<uint16_t>(bytes[off] | bytes[off + 1] << 8);
    const uint16_t len = static_cast<uint16_t>(bytes[off + 2] | bytes[off + 3] << 8);
    if (c == 0 || off + 4 + len > end) break;
    if (c == code) return std::span<const uint8_t>(bytes.data() + off + 4, len);
    off += 4 + ((len + 3u) & ~3u);
  }
  return std::nullopt;
}

std::span<const uint8_t> PcapngBlock::epb_packet() const {
  const uint32_t captured = u32(20);
  if (bytes.size() < 32 || captured > bytes.size() - 32) return {};
  return {bytes.data() + 28, captured};
}

Result<std::optional<PcapngBlock>> PcapngStreamReader::next() {
  // Drop what was consumed once it is most of the buffer: amortised O(1) per byte.
  if (at_ > 0 && at_ * 2 >= buf_.size()) {
    buf_.erase(buf_.begin(), buf_.begin() + static_cast<long>(at_));
    at_ = 0;
  }
  const size_t avail = buf_.size() - at_;
  if (avail < 12) return std::optional<PcapngBlock>{};
  const uint8_t* p = buf_.data() + at_;
  const uint32_t type = load_u32(p);
  if (type == kPcapngShb && load_u32(p + 8) != kByteOrderMagic) {
    return not_pcapng("a section that is not little-endian pcapng (byte-order magic " +
                      std::to_string(load_u32(p + 8)) + ")");
  }
  const uint32_t len = load_u32(p + 4);
  if (len < 12 || len % 4 != 0 || len > kMaxBlockLen) {
    return not_pcapng("a block of length " + std::to_string(len));
  }
  if (avail < len) return std::optional<PcapngBlock>{};
  if (load_u32(p + len - 4) != len) {
    return not_pcapng("a block whose trailing length differs from " + std::to_string(len));
  }
  PcapngBlock block{std::vector<uint8_t>(p, p + len)};
  at_ += len;
  return std::optional<PcapngBlock>(std::move(block));
}

Result<std::span<const uint8_t>> pwru_record_of(std::span<const uint8_t> packet) {
  // Tags are big-endian: u16 type, u16 length, value padded to 4 bytes; END (0) closes them.
  bool named_pwru = false;
  size_t off = 0;
  while (off + 4 <= packet.size()) {
    const unsigned tag = unsigned{packet[off]} << 8 | packet[off + 1];
    const size_t len = size_t{packet[off + 2]} << 8 | packet[off + 3];
    const size_t value = off + 4;
    if (tag == PWRU_EXP_PDU_TAG_END) {
      if (!named_pwru) break;
      return packet.subspan(value);
    }
    const size_t padded = (len + 3) & ~size_t{3};
    if (padded > packet.size() - value) break;
    if (tag == PWRU_EXP_PDU_TAG_DISSECTOR_NAME) {
      const std::string_view name(reinterpret_cast<const char*>(packet.data() + value), len);
      named_pwru = name.substr(0, name.find('\0')) == PWRU_DISSECTOR_NAME;
    }
    off = value + padded;
  }
  return Error{ExitCode::Failure, "cannot decode a remote event: its packet names no pwru record",
               "the remote command must be pwrudump writing pcapng (-w -)"};
}

}  // namespace pwru
