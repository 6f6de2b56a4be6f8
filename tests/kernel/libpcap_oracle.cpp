// pwrudump's compiled filter in libpcap's own interpreter: the reference the kernel must match.
#include "libpcap_oracle.h"

#include <pcap/pcap.h>

#include "filter/pcap_filter.h"

namespace pwru::testing {

// The filter owns the compiled programs; `code` points into the one for this link type.
struct PcapOracle::Program {
  PacketFilter filter;
  bpf_program code{};
};

const char* link_name(LinkType link) { return link == LinkType::Ethernet ? "EN10MB" : "RAW"; }

std::unique_ptr<PcapOracle> PcapOracle::compile(LinkType link, const std::string& expression,
                                                std::string* error) {
  auto filter = PacketFilter::compile(expression);
  if (!filter) {
    *error = filter.error().message;
    return nullptr;
  }
  const auto insns = filter->program(link == LinkType::Ethernet ? PacketLayer::Ethernet
                                                                : PacketLayer::Network);
  if (insns.empty()) {
    *error = pcap_filter_problem(expression).value_or("compiles only for the other link type");
    return nullptr;
  }
  // pcap_offline_filter takes a non-const program but only reads it.
  auto* code = const_cast<bpf_insn*>(reinterpret_cast<const bpf_insn*>(insns.data()));
  auto program = std::make_unique<Program>(
      Program{std::move(*filter), bpf_program{static_cast<u_int>(insns.size()), code}});
  return std::unique_ptr<PcapOracle>(new PcapOracle(std::move(program)));
}

PcapOracle::PcapOracle(std::unique_ptr<Program> program) : program_(std::move(program)) {
  const bpf_program& p = program_->code;
  for (u_int i = 0; i < p.bf_len; i++) {
    const bpf_insn& in = p.bf_insns[i];
    insns_.push_back(CbpfInsn{in.code, in.jt, in.jf, in.k});
  }
}

PcapOracle::~PcapOracle() = default;

bool PcapOracle::matches(std::span<const uint8_t> packet) const {
  pcap_pkthdr header{};
  header.caplen = header.len = static_cast<bpf_u_int32>(packet.size());
  static const uint8_t kEmpty = 0;  // libpcap reads nothing from an empty packet, but wants bytes
  return pcap_offline_filter(&program_->code, &header,
                             packet.empty() ? &kEmpty : packet.data()) != 0;
}

std::string PcapOracle::listing() const {
  std::string out;
  const bpf_program& p = program_->code;
  for (u_int i = 0; i < p.bf_len; i++) {
    out += bpf_image(&p.bf_insns[i], static_cast<int>(i));
    out += '\n';
  }
  return out;
}

}  // namespace pwru::testing
