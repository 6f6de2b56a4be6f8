// pcapng writer: one interface of link type 252 (exported PDU naming the `pwru` dissector),
// one Enhanced Packet Block per record, an Interface Statistics Block at the end.
#pragma once

#include <cerrno>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"
#include "output/byte_sink.h"

namespace pwru {

// Type of the keep-alive block: pcapng leaves block types with bit 31 set to local use, and
// every reader skips a type it does not know (Wireshark, dumpcap, libpcap). "pwr" in the low bytes.
inline constexpr uint32_t kKeepaliveBlockType = 0x80707772;

struct CaptureStats {
  uint64_t start_ns = 0;      // wall clock, ns since the epoch
  uint64_t end_ns = 0;
  // Both unset when the lost count could not be read: the block then leaves them out, as
  // pcapng does for a count it does not know, rather than claim nothing was lost.
  std::optional<uint64_t> received;  // events the kernel produced (delivered + lost)
  std::optional<uint64_t> lost;      // events the kernel could not hand over (isb_ifdrop)
  uint64_t delivered = 0;     // events written to this file (isb_usrdeliv)
};

// Layout (docs/record-format.md): little-endian section, timestamps in nanoseconds
// (if_tsresol 9), each packet = exported-PDU tags (big-endian, as Wireshark defines them) naming
// the `pwru` dissector, then one pwru record.
//
// Errors: every failed write returns an Error with ExitCode::Output. The first failure sticks:
// later calls return the same error and write nothing, so a caller that missed one cannot
// interleave half blocks. Write errors are often reported one call late, because sinks buffer:
// call flush(false) after each batch of records, when a reader waits on the other end (a fifo,
// Wireshark), and flush() at the end; while holding() call flush(false) again now and then.
class PcapngWriter {
 public:
  // Does not own `out`. Writes nothing until write_header().
  explicit PcapngWriter(ByteSink& out) : out_(out) {}

  // Section Header Block (shb_os, shb_userappl) + Interface Description Block (if_name,
  // if_description, if_tsresol=9). Empty strings leave their option out.
  Status write_header(const std::string& if_name, const std::string& if_description,
                      const std::string& os, const std::string& application);
  // write_header's two halves, for a file of several interfaces (pwrudump --remote): the
  // section header, then one interface description per interface, numbered from 0 in order.
  Status write_section(const std::string& os, const std::string& application);
  Status write_interface(const std::string& if_name, const std::string& if_description);
  // A whole block read elsewhere (PcapngStreamReader), written as it is: a remote's events.
  Status write_block(std::span<const uint8_t> block);
  // One Enhanced Packet Block: exported-PDU tags naming `pwru`, then `record`.
  // `time_ns`: wall clock, ns since the epoch.
  Status write_record(uint64_t time_ns, std::span<const uint8_t> record);
  // Interface Statistics Block for interface 0 (or `interface_id`), stamped with `stats.end_ns`. Write it once, at
  // the end: Wireshark 4.0 shows the drop count only for an interface with exactly one ISB.
  Status write_stats(const CaptureStats& stats, uint32_t interface_id = 0);
  // An empty block of kKeepaliveBlockType, which says nothing. Written to a pipe while no event
  // comes, it lets a relay in between (ssh) find that its own reader left: the relay's write
  // fails, it exits and closes our pipe, and the capture ends instead of waiting for an event.
  Status write_keepalive();
  // `complete` false lets the sink hold back a partial piece for a moment (DirectFile).
  Status flush(bool complete = true);
  bool holding() const { return !failed_ && out_.holding(); }

  // Bytes of whole blocks handed to the sink so far (-b filesize).
  uint64_t bytes_written() const { return bytes_; }

  // errno of the failed write, 0 while nothing failed (or a short write left errno unset).
  int error_errno() const { return errno_; }
  // True when the reader of the output went away (EPIPE): for an extcap that is Wireshark
  // stopping the capture, a normal stop rather than an error to print. EPIPE only reaches us if
  // the process ignores or blocks SIGPIPE; otherwise the signal ends it first.
  bool broken_pipe() const { return errno_ == EPIPE; }

 private:
  void begin_block(uint32_t type);
  void add_option(uint16_t code, const void* data, size_t len);
  void add_u64_option(uint16_t code, uint64_t v);
  void add_time_option(uint16_t code, uint64_t time_ns);
  void end_options();
  void put_bytes(const void* data, size_t len);
  void put_u16(uint16_t v);
  void put_u32(uint32_t v);
  void put_time(uint64_t time_ns);
  void pad4();
  // Patches the block length, appends the trailing length and writes buf_ out.
  Status finish_block(const char* what);
  Status fail(std::string message, int err);

  ByteSink& out_;
  std::vector<uint8_t> buf_;  // reused for each block
  std::optional<Error> failed_;
  int errno_ = 0;
  uint64_t bytes_ = 0;
};

}  // namespace pwru
