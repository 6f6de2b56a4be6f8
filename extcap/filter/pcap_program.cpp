// pcap_filter_program: libpcap's two classic programs, translated and joined for the kernel.
#include "filter/pcap_program.h"

#include <cstring>

#include "filter/cbpf_to_ebpf.h"
#include "filter/pcap_filter.h"

namespace pwru {
namespace {

static_assert(sizeof(EbpfInsn) == sizeof(struct bpf_insn));

// Rejects every packet: the body for a layer the expression does not compile for.
const std::vector<EbpfInsn> kReject = {
    {BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0},
    {BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
};

Result<std::vector<EbpfInsn>> translate_layer(const PacketFilter& f, PacketLayer layer,
                                              const std::string& expr, const BtfWindow* window) {
  auto cbpf = f.program(layer);
  if (cbpf.empty()) return kReject;
  auto t = translate_cbpf(cbpf, window);
  if (!t) {
    Error e = t.error();
    e.message = "cannot run pcap filter \"" + expr + "\" in the kernel: " + e.message;
    return e;
  }
  return std::move(t->insns);
}

}  // namespace

Result<std::vector<struct bpf_insn>> pcap_filter_program(const std::string& expr,
                                                         const BtfWindow* window) {
  auto filter = PacketFilter::compile(expr);
  if (!filter) return filter.error();
  if (filter->matches_all()) return std::vector<struct bpf_insn>{};
  auto l2 = translate_layer(*filter, PacketLayer::Ethernet, expr, window);
  if (!l2) return l2.error();
  auto l3 = translate_layer(*filter, PacketLayer::Network, expr, window);
  if (!l3) return l3.error();
  if (l2->size() > 32767) {
    return Error{ExitCode::BadFilter,
                 "cannot run pcap filter \"" + expr + "\" in the kernel: it is too long",
                 "simplify the expression"};
  }
  // if (r3 != 1) skip the Ethernet program; both end in their own exits.
  std::vector<EbpfInsn> body;
  body.reserve(1 + l2->size() + l3->size());
  body.push_back({BPF_JMP | BPF_JNE | BPF_K, BPF_REG_3, 0, static_cast<int16_t>(l2->size()), 1});
  body.insert(body.end(), l2->begin(), l2->end());
  body.insert(body.end(), l3->begin(), l3->end());
  std::vector<struct bpf_insn> out(body.size());
  std::memcpy(out.data(), body.data(), body.size() * sizeof(struct bpf_insn));
  return out;
}

}  // namespace pwru
