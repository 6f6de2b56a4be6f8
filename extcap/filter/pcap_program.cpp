// pcap_filter_program: libpcap's two classic programs, translated and joined for the kernel.
#include "filter/pcap_program.h"

#include <cstring>
#include <iterator>
#include <utility>

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

// Passes every packet: the body for a filter not given.
const std::vector<EbpfInsn> kAccept = {
    {BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 1},
    {BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
};

// One tunnel filter at its one layer; kAccept when not given.
Result<std::vector<EbpfInsn>> tunnel_layer(const std::string& expr, PacketLayer layer,
                                           const char* option, const BtfWindow* window) {
  if (expr.empty()) return kAccept;
  if (auto problem = pcap_filter_problem(expr)) {
    return Error{ExitCode::BadFilter,
                 std::string("cannot compile ") + option + " \"" + expr + "\": " + *problem,
                 "check the expression against `man 7 pcap-filter`"};
  }
  auto filter = PacketFilter::compile(expr);
  if (!filter) return filter.error();
  if (filter->matches_all()) return kAccept;
  if (filter->program(layer).empty()) {
    return Error{ExitCode::BadFilter,
                 std::string("cannot compile ") + option + " \"" + expr + "\": it does not apply " +
                     (layer == PacketLayer::Ethernet ? "to an Ethernet frame" : "to an IP packet"),
                 layer == PacketLayer::Ethernet
                     ? "give an expression on the inner frame's headers, e.g. \"ether host ...\""
                     : "give an expression on the inner IP packet, e.g. \"icmp and host ...\""};
  }
  return translate_layer(*filter, layer, expr, window);
}

// Each program in turn behind `if (r3 != selector) skip it`; the last runs for any other value.
// Every program ends in its own exits, so a skipped one is jumped over whole.
Result<std::vector<EbpfInsn>> dispatch(
    const std::vector<std::pair<PcapSelector, std::vector<EbpfInsn>>>& programs) {
  std::vector<EbpfInsn> body;
  for (size_t i = 0; i < programs.size(); ++i) {
    const auto& [selector, insns] = programs[i];
    if (i + 1 < programs.size()) {
      if (insns.size() > 32767) {  // a jump's reach
        return Error{ExitCode::BadFilter,
                     "cannot run the tunnel pcap filter in the kernel: it is too long",
                     "simplify the expression"};
      }
      body.push_back({BPF_JMP | BPF_JNE | BPF_K, BPF_REG_3, 0, static_cast<int16_t>(insns.size()),
                      static_cast<int32_t>(selector)});
    }
    body.insert(body.end(), insns.begin(), insns.end());
  }
  return body;
}

std::vector<struct bpf_insn> as_kernel_insns(const std::vector<EbpfInsn>& body) {
  std::vector<struct bpf_insn> out(body.size());
  std::memcpy(out.data(), body.data(), body.size() * sizeof(struct bpf_insn));
  return out;
}

// The capture filter's two programs, Ethernet's first; empty when it filters nothing.
Result<std::vector<std::pair<PcapSelector, std::vector<EbpfInsn>>>> outer_programs(
    const std::string& expr, const BtfWindow* window) {
  std::vector<std::pair<PcapSelector, std::vector<EbpfInsn>>> out;
  if (expr.empty()) return out;
  auto filter = PacketFilter::compile(expr);
  if (!filter) return filter.error();
  if (filter->matches_all()) return out;
  auto l2 = translate_layer(*filter, PacketLayer::Ethernet, expr, window);
  if (!l2) return l2.error();
  auto l3 = translate_layer(*filter, PacketLayer::Network, expr, window);
  if (!l3) return l3.error();
  if (l2->size() > 32767) {  // the reach of the jump over it
    return Error{ExitCode::BadFilter,
                 "cannot run pcap filter \"" + expr + "\" in the kernel: it is too long",
                 "simplify the expression"};
  }
  out.emplace_back(PcapSelector::Ethernet, std::move(*l2));
  out.emplace_back(PcapSelector::Network, std::move(*l3));
  return out;
}

}  // namespace

Result<PcapBody> pcap_filter_program(const PcapExpressions& exprs, const BtfWindow* window) {
  auto outer = outer_programs(exprs.outer, window);
  if (!outer) return outer.error();
  auto programs = std::move(*outer);
  PcapBody out;
  out.outer = !programs.empty();
  out.tunnel = !exprs.tunnel_l2.empty() || !exprs.tunnel_l3.empty();
  if (out.tunnel) {
    auto l2 = tunnel_layer(exprs.tunnel_l2, PacketLayer::Ethernet, "--filter-tunnel-pcap-l2",
                           window);
    if (!l2) return l2.error();
    auto l3 = tunnel_layer(exprs.tunnel_l3, PacketLayer::Network, "--filter-tunnel-pcap-l3",
                           window);
    if (!l3) return l3.error();
    // The outer filter's Network program, when there is one, stays last: any other selector.
    std::vector<std::pair<PcapSelector, std::vector<EbpfInsn>>> tunnel;
    tunnel.emplace_back(PcapSelector::TunnelL2, std::move(*l2));
    tunnel.emplace_back(PcapSelector::TunnelL3, std::move(*l3));
    programs.insert(programs.begin(), std::make_move_iterator(tunnel.begin()),
                    std::make_move_iterator(tunnel.end()));
  }
  if (programs.empty()) return out;
  auto body = dispatch(programs);
  if (!body) return body.error();
  out.insns = as_kernel_insns(*body);
  return out;
}

Result<std::vector<struct bpf_insn>> pcap_filter_program(const std::string& expr,
                                                         const BtfWindow* window) {
  auto body = pcap_filter_program(PcapExpressions{expr, {}, {}}, window);
  if (!body) return body.error();
  return std::move(body->insns);
}

}  // namespace pwru
