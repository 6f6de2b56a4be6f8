// The kernel's side of the differential test: a translated filter loaded as the subprogram of a
// raw tracepoint program and run with BPF_PROG_TEST_RUN on a packet held in an array map.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "filter/cbpf_to_ebpf.h"

namespace pwru::testing {

class KernelFilterBench {
 public:
  static constexpr uint32_t kMaxPacket = 4096;

  // The array map that holds the packet: one value, the length (u32, then 4 bytes of padding)
  // followed by kMaxPacket bytes.
  static Result<KernelFilterBench> create();

  // A program whose main part passes the packet to `filter` as pwrudump's programs pass skb
  // data: r1 = address of the first byte as a plain number, r2 = r1 + length.
  Result<UniqueFd> load(const EbpfFilter& filter) const;

  Status set_packet(std::span<const uint8_t> packet);
  // The subprogram's r0 (1 = match, 0 = no match), or an error when the run fails.
  Result<uint32_t> run(int prog_fd) const;

 private:
  UniqueFd map_;
  std::vector<uint8_t> value_;
};

}  // namespace pwru::testing
