// libpcap's side of the differential test: an expression compiled as pwrudump compiles it, and
// pcap_offline_filter's verdict on a packet. No pcap header here, so a file that loads eBPF can
// include this one.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "filter/cbpf_to_ebpf.h"

namespace pwru::testing {

enum class LinkType { Ethernet, RawIp };  // DLT_EN10MB, DLT_RAW
const char* link_name(LinkType link);

class PcapOracle {
 public:
  // The program pwrudump itself runs for `link` (PacketFilter::compile, the function behind
  // pcap_filter_program: its snaplen, optimizer and netmask); nullptr with the reason in `error`
  // when the expression does not compile for `link`.
  static std::unique_ptr<PcapOracle> compile(LinkType link, const std::string& expression,
                                             std::string* error);
  ~PcapOracle();

  const std::vector<CbpfInsn>& insns() const { return insns_; }
  // pcap_offline_filter with caplen = len = packet.size().
  bool matches(std::span<const uint8_t> packet) const;
  // bpf_image of every instruction, one per line, numbered.
  std::string listing() const;

 private:
  struct Program;
  explicit PcapOracle(std::unique_ptr<Program> program);

  std::unique_ptr<Program> program_;
  std::vector<CbpfInsn> insns_;
};

}  // namespace pwru::testing
