// A pcap filter expression compiled by libpcap to classic BPF.
//
// pcap_program.h translates these programs for the kernel, where the filtering is done;
// matches() runs them in user space. Like pwru, the expression is compiled twice: for packets
// that start at the Ethernet header (DLT_EN10MB) and for packets that start at the IP header
// (DLT_RAW).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "base/result.h"
#include "filter/cbpf_to_ebpf.h"
#include "record/event.h"

namespace pwru {

struct PcapProgram;  // a compiled bpf_program, freed with pcap_freecode

// libpcap's own message when `expression` compiles for neither link type, nullopt when it is
// usable. The Wireshark filter check shows this message as it is.
std::optional<std::string> pcap_filter_problem(const std::string& expression);

class PacketFilter {
 public:
  // An empty (or all-blank) expression gives a filter that matches every event, packet or not.
  // An expression that compiles for neither link type is an ExitCode::BadFilter error.
  static Result<PacketFilter> compile(const std::string& expression);

  PacketFilter(PacketFilter&&) noexcept;
  PacketFilter& operator=(PacketFilter&&) noexcept;
  ~PacketFilter();

  bool matches_all() const { return !ethernet_ && !network_; }
  // libpcap's classic BPF for packets that start at `layer` (Ethernet: DLT_EN10MB, Network:
  // DLT_RAW); empty when the expression does not compile for that layer.
  std::span<const CbpfInsn> program(PacketLayer layer) const;
  const std::string& expression() const { return expression_; }

  // `wire_len` is what the filter sees as the packet length (`len`, `greater`, `less`); it is
  // raised to at least `bytes.size()`. An expression that compiled only for Ethernet (`arp`,
  // `ether host ...`) rejects packets that start at the IP header.
  bool matches(PacketLayer layer, std::span<const uint8_t> bytes, uint32_t wire_len) const;
  // An event without packet bytes never matches a non-empty filter.
  bool matches(const Event& ev) const;

 private:
  PacketFilter() = default;

  std::string expression_;
  std::unique_ptr<PcapProgram> ethernet_;  // null when the expression does not compile for EN10MB
  std::unique_ptr<PcapProgram> network_;   // null when the expression does not compile for RAW
};

}  // namespace pwru
