// Builds pcapng blocks in one reused buffer and hands each to the sink in one piece.
#include "output/pcapng_writer.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>

#include "pwru_record.h"

namespace pwru {
namespace {

// pcapng block types and option codes (draft-ietf-opsawg-pcapng).
constexpr uint32_t kSectionHeaderBlock = 0x0A0D0D0A;
constexpr uint32_t kInterfaceDescriptionBlock = 0x00000001;
constexpr uint32_t kInterfaceStatisticsBlock = 0x00000005;
constexpr uint32_t kEnhancedPacketBlock = 0x00000006;
constexpr uint32_t kByteOrderMagic = 0x1A2B3C4D;

constexpr uint16_t kOptEndOfOpt = 0;
constexpr uint16_t kShbOs = 3;
constexpr uint16_t kShbUserAppl = 4;
constexpr uint16_t kIfName = 2;
constexpr uint16_t kIfDescription = 3;
constexpr uint16_t kIfTsresol = 9;
constexpr uint16_t kIsbStartTime = 2;
constexpr uint16_t kIsbEndTime = 3;
constexpr uint16_t kIsbIfRecv = 4;
constexpr uint16_t kIsbIfDrop = 5;
constexpr uint16_t kIsbUsrDeliv = 8;

// if_tsresol 9 = 10^-9 s: timestamps are the event's nanoseconds, no conversion.
constexpr uint8_t kTsresolNanoseconds = 9;

// The exported-PDU tags in front of every record: DISSECTOR_NAME "pwru" (zero-padded to 4 bytes)
// then END. Wireshark reads these tags big-endian, unlike the rest of this little-endian file.
constexpr size_t kDissectorNameLen = sizeof(PWRU_DISSECTOR_NAME) - 1;
constexpr size_t kDissectorNamePadded = (kDissectorNameLen + 3) & ~size_t{3};
constexpr auto kPduPrefix = [] {
  std::array<uint8_t, 4 + kDissectorNamePadded + 4> p{};
  p[0] = 0;
  p[1] = PWRU_EXP_PDU_TAG_DISSECTOR_NAME;
  p[2] = static_cast<uint8_t>(kDissectorNamePadded >> 8);
  p[3] = static_cast<uint8_t>(kDissectorNamePadded);
  for (size_t i = 0; i < kDissectorNameLen; ++i) p[4 + i] = PWRU_DISSECTOR_NAME[i];
  // The END tag (type 0, length 0) is the array's zero tail.
  return p;
}();
static_assert(PWRU_EXP_PDU_TAG_DISSECTOR_NAME < 256 && PWRU_EXP_PDU_TAG_END == 0);

// The largest packet whose EPB length still fits the u32 block length.
constexpr size_t kMaxRecordLen = std::numeric_limits<uint32_t>::max() - 64 - kPduPrefix.size();

// Little-endian, the section's byte order. Returns p + 4.
uint8_t* store_u32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
  return p + 4;
}

}  // namespace

// One size check and one copy per call, not one per byte: every event passes through here.
void PcapngWriter::put_bytes(const void* data, size_t len) {
  if (len == 0) return;  // data may be null then
  const size_t at = buf_.size();
  buf_.resize(at + len);
  std::memcpy(buf_.data() + at, data, len);
}

void PcapngWriter::put_u16(uint16_t v) {
  const uint8_t b[2] = {static_cast<uint8_t>(v), static_cast<uint8_t>(v >> 8)};
  put_bytes(b, sizeof(b));
}

void PcapngWriter::put_u32(uint32_t v) {
  uint8_t b[4];
  store_u32(b, v);
  put_bytes(b, sizeof(b));
}

// pcapng stores 64-bit times as two u32, upper half first, each in the section's byte order.
void PcapngWriter::put_time(uint64_t time_ns) {
  put_u32(static_cast<uint32_t>(time_ns >> 32));
  put_u32(static_cast<uint32_t>(time_ns));
}

void PcapngWriter::pad4() {
  static constexpr uint8_t kZeros[3] = {};
  put_bytes(kZeros, (4 - buf_.size() % 4) % 4);
}

Status PcapngWriter::write_keepalive() {
  if (failed_) return *failed_;
  begin_block(kKeepaliveBlockType);
  return finish_block("keep-alive");
}

void PcapngWriter::begin_block(uint32_t type) {
  buf_.clear();  // keeps the capacity: no allocation once the largest block has been seen
  put_u32(type);
  put_u32(0);  // total length, patched by finish_block()
}

void PcapngWriter::add_option(uint16_t code, const void* data, size_t len) {
  // Option values are u16-sized; ours (names, a 1-byte resolution, u64s) are far below that.
  len = std::min<size_t>(len, std::numeric_limits<uint16_t>::max());
  put_u16(code);
  put_u16(static_cast<uint16_t>(len));
  put_bytes(data, len);
  pad4();
}

void PcapngWriter::add_u64_option(uint16_t code, uint64_t v) {
  put_u16(code);
  put_u16(8);
  put_u32(static_cast<uint32_t>(v));
  put_u32(static_cast<uint32_t>(v >> 32));
}

void PcapngWriter::add_time_option(uint16_t code, uint64_t time_ns) {
  put_u16(code);
  put_u16(8);
  put_time(time_ns);
}

void PcapngWriter::end_options() {
  put_u16(kOptEndOfOpt);
  put_u16(0);
}

Status PcapngWriter::finish_block(const char* what) {
  const auto total = static_cast<uint32_t>(buf_.size() + 4);
  for (int i = 0; i < 4; ++i) buf_[4 + i] = static_cast<uint8_t>(total >> (8 * i));
  put_u32(total);
  errno = 0;
  if (!out_.write(buf_.data(), buf_.size())) {
    return fail(std::string("cannot write pcapng ") + what, errno);
  }
  bytes_ += buf_.size();
  return Ok{};
}

Status PcapngWriter::fail(std::string message, int err) {
  errno_ = err;
  message += ": ";
  message += err != 0 ? std::strerror(err) : "short write";
  std::string hint = "check that the output can still be written";
  if (err == EPIPE) {
    hint = "the reader of the output went away (Wireshark stopped the capture?)";
  } else if (err == ENOSPC) {
    hint = "free space on the output's file system";
  }
  failed_ = Error{ExitCode::Output, std::move(message), std::move(hint)};
  return *failed_;
}

Status PcapngWriter::write_header(const std::string& if_name, const std::string& if_description,
                                  const std::string& os, const std::string& application) {
  if (Status s = write_section(os, application); !s) return s;
  return write_interface(if_name, if_description);
}

Status PcapngWriter::write_section(const std::string& os, const std::string& application) {
  if (failed_) return *failed_;
  begin_block(kSectionHeaderBlock);
  put_u32(kByteOrderMagic);
  put_u16(1);  // major version
  put_u16(0);  // minor version
  // Section length -1: unknown, since we stream and never seek back.
  put_u32(0xFFFFFFFF);
  put_u32(0xFFFFFFFF);
  const size_t shb_options = buf_.size();
  if (!os.empty()) add_option(kShbOs, os.data(), os.size());
  if (!application.empty()) add_option(kShbUserAppl, application.data(), application.size());
  if (buf_.size() != shb_options) end_options();
  return finish_block("section header");
}

Status PcapngWriter::write_interface(const std::string& if_name,
                                     const std::string& if_description) {
  if (failed_) return *failed_;
  begin_block(kInterfaceDescriptionBlock);
  put_u16(PWRU_LINKTYPE_UPPER_PDU);
  put_u16(0);  // reserved
  put_u32(0);  // snaplen 0: no limit
  if (!if_name.empty()) add_option(kIfName, if_name.data(), if_name.size());
  if (!if_description.empty()) {
    add_option(kIfDescription, if_description.data(), if_description.size());
  }
  add_option(kIfTsresol, &kTsresolNanoseconds, 1);
  end_options();
  return finish_block("interface description");
}

Status PcapngWriter::write_block(std::span<const uint8_t> block) {
  if (failed_) return *failed_;
  errno = 0;
  if (!out_.write(block.data(), block.size())) return fail("cannot write pcapng block", errno);
  bytes_ += block.size();
  return Ok{};
}

Status PcapngWriter::write_record(uint64_t time_ns, std::span<const uint8_t> record) {
  if (failed_) return *failed_;
  if (record.size() > kMaxRecordLen) {
    // Not an output failure: this one record is dropped, the file stays usable.
    return Error{ExitCode::Failure,
                 "cannot write pcapng packet: record of " + std::to_string(record.size()) +
                     " bytes does not fit a block",
                 "this is unexpected: please report it (pwrudump's records always fit)"};
  }
  const auto captured = static_cast<uint32_t>(kPduPrefix.size() + record.size());
  const size_t padded = (captured + 3u) & ~size_t{3};
  const auto total = static_cast<uint32_t>(7 * 4 + padded + 4);

  // Filled in place, in one piece: this runs for every event.
  buf_.resize(total);
  uint8_t* p = buf_.data();
  const uint32_t head[7] = {kEnhancedPacketBlock, total, 0 /* interface id */,
                            static_cast<uint32_t>(time_ns >> 32), static_cast<uint32_t>(time_ns),
                            captured, captured /* original length: nothing is cut */};
  for (uint32_t v : head) p = store_u32(p, v);
  std::memcpy(p, kPduPrefix.data(), kPduPrefix.size());
  p += kPduPrefix.size();
  if (!record.empty()) std::memcpy(p, record.data(), record.size());
  p += record.size();
  std::memset(p, 0, padded - captured);
  store_u32(p + (padded - captured), total);
  errno = 0;
  if (!out_.write(buf_.data(), buf_.size())) {
    return fail("cannot write pcapng packet", errno);
  }
  bytes_ += buf_.size();
  return Ok{};
}

Status PcapngWriter::write_stats(const CaptureStats& stats, uint32_t interface_id) {
  if (failed_) return *failed_;

  begin_block(kInterfaceStatisticsBlock);
  put_u32(interface_id);
  put_time(stats.end_ns);
  add_time_option(kIsbStartTime, stats.start_ns);
  add_time_option(kIsbEndTime, stats.end_ns);
  if (stats.received) add_u64_option(kIsbIfRecv, *stats.received);
  if (stats.lost) add_u64_option(kIsbIfDrop, *stats.lost);
  add_u64_option(kIsbUsrDeliv, stats.delivered);
  end_options();
  return finish_block("interface statistics");
}

Status PcapngWriter::flush(bool complete) {
  if (failed_) return *failed_;
  errno = 0;
  if (!out_.flush(complete)) return fail("cannot flush pcapng output", errno);
  return Ok{};
}

}  // namespace pwru
