// pcapng writer: one interface of link type 252 (exported PDU naming the `pwru` dissector),
// one Enhanced Packet Block per record, an Interface Statistics Block at the end.
#pragma once

#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <vector>

#include "core/result.h"

namespace pwru {

struct CaptureStats {
  uint64_t start_ns = 0;      // wall clock, ns since the epoch
  uint64_t end_ns = 0;
  uint64_t received = 0;      // events the kernel produced (delivered + lost)
  uint64_t lost = 0;          // events the kernel could not hand over (isb_ifdrop)
  uint64_t delivered = 0;     // events written to this file (isb_usrdeliv)
};

class PcapngWriter {
 public:
  // Does not own `out`. Writes nothing until write_header().
  explicit PcapngWriter(std::FILE* out) : out_(out) {}

  // Section Header Block + Interface Description Block (if_name, if_description, if_tsresol=9).
  Status write_header(const std::string& if_name, const std::string& if_description,
                      const std::string& os, const std::string& application);
  // One Enhanced Packet Block: exported-PDU tags naming `pwru`, then `record`.
  Status write_record(uint64_t time_ns, std::span<const uint8_t> record);
  // Interface Statistics Block for interface 0.
  Status write_stats(const CaptureStats& stats);
  Status flush();

 private:
  Status put(const std::vector<uint8_t>& block);
  std::FILE* out_;
  std::vector<uint8_t> buf_;  // reused for each block
};

}  // namespace pwru
