// Compiles with libpcap and runs its own interpreter: the reference the kernel must agree with.
#include "libpcap_oracle.h"

#include <pcap/pcap.h>

namespace pwru::testing {

namespace {
constexpr int kSnaplen = 262144;
}

struct PcapOracle::Program {
  bpf_program code{};
  ~Program() { pcap_freecode(&code); }
};

const char* link_name(LinkType link) { return link == LinkType::Ethernet ? "EN10MB" : "RAW"; }

std::unique_ptr<PcapOracle> PcapOracle::compile(LinkType link, const std::string& expression,
                                                std::string* error) {
  pcap_t* dead = pcap_open_dead(link == LinkType::Ethernet ? DLT_EN10MB : DLT_RAW, kSnaplen);
  if (!dead) {
    *error = "pcap_open_dead failed";
    return nullptr;
  }
  auto program = std::make_unique<Program>();
  const int rc = pcap_compile(dead, &program->code, expression.c_str(), /*optimize=*/1,
                              PCAP_NETMASK_UNKNOWN);
  if (rc != 0) *error = pcap_geterr(dead);
  pcap_close(dead);
  if (rc != 0) return nullptr;
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
