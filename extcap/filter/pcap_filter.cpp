// Compiles pcap filter expressions with libpcap and runs them on event packet bytes.
#include "filter/pcap_filter.h"

#include <pcap/pcap.h>

#include <algorithm>
#include <cstddef>
#include <cctype>
#include <utility>

namespace pwru {

struct PcapProgram {
  bpf_program code{};  // zeroed until a compile succeeds, and pcap_freecode of zero is a no-op

  PcapProgram() = default;
  PcapProgram(const PcapProgram&) = delete;
  PcapProgram& operator=(const PcapProgram&) = delete;
  ~PcapProgram() { pcap_freecode(&code); }
};

namespace {

// Large enough that no packet offset in an expression is cut off by the compiler.
constexpr int kCompileSnaplen = 65535;

struct PcapClose {
  void operator()(pcap_t* p) const { pcap_close(p); }
};
using DeadPcap = std::unique_ptr<pcap_t, PcapClose>;

bool is_blank(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isspace(c) != 0; });
}

struct Compiled {
  std::unique_ptr<PcapProgram> program;  // null when the expression does not compile
  std::string problem;                   // libpcap's message when it does not
};

Compiled compile_for(int linktype, const std::string& expression) {
  DeadPcap pcap(pcap_open_dead(linktype, kCompileSnaplen));
  if (!pcap) return {nullptr, "out of memory"};
  auto program = std::make_unique<PcapProgram>();
  if (pcap_compile(pcap.get(), &program->code, expression.c_str(), /*optimize=*/1,
                   PCAP_NETMASK_UNKNOWN) != 0) {
    return {nullptr, pcap_geterr(pcap.get())};
  }
  return {std::move(program), {}};
}

// Both programs; `problem` is set only when neither compiled. The Ethernet message is the one
// reported: DLT_RAW also rejects every link-layer keyword, which hides a plain syntax error.
struct CompiledPair {
  Compiled ethernet, network;
  std::optional<std::string> problem;
};

CompiledPair compile_both(const std::string& expression) {
  CompiledPair pair{compile_for(DLT_EN10MB, expression), compile_for(DLT_RAW, expression), {}};
  if (!pair.ethernet.program && !pair.network.program) pair.problem = pair.ethernet.problem;
  return pair;
}

}  // namespace

// CbpfInsn mirrors pcap's struct bpf_insn, so a compiled program is read in place.
static_assert(sizeof(CbpfInsn) == sizeof(struct bpf_insn));
static_assert(offsetof(CbpfInsn, k) == offsetof(struct bpf_insn, k));

std::span<const CbpfInsn> PacketFilter::program(PacketLayer layer) const {
  const PcapProgram* p = layer == PacketLayer::Ethernet  ? ethernet_.get()
                         : layer == PacketLayer::Network ? network_.get()
                                                         : nullptr;
  if (!p) return {};
  return {reinterpret_cast<const CbpfInsn*>(p->code.bf_insns), p->code.bf_len};
}

std::optional<std::string> pcap_filter_problem(const std::string& expression) {
  if (is_blank(expression)) return std::nullopt;
  return compile_both(expression).problem;
}

Result<PacketFilter> PacketFilter::compile(const std::string& expression) {
  PacketFilter filter;
  filter.expression_ = expression;
  if (is_blank(expression)) return filter;

  CompiledPair pair = compile_both(expression);
  if (pair.problem) {
    return Error{ExitCode::BadFilter,
                 "cannot compile pcap filter \"" + expression + "\": " + *pair.problem,
                 "check the expression against `man 7 pcap-filter`"};
  }
  filter.ethernet_ = std::move(pair.ethernet.program);
  filter.network_ = std::move(pair.network.program);
  return filter;
}

PacketFilter::PacketFilter(PacketFilter&&) noexcept = default;
PacketFilter& PacketFilter::operator=(PacketFilter&&) noexcept = default;
PacketFilter::~PacketFilter() = default;

bool PacketFilter::matches(PacketLayer layer, std::span<const uint8_t> bytes,
                           uint32_t wire_len) const {
  if (matches_all()) return true;
  const PcapProgram* program = nullptr;
  switch (layer) {
    case PacketLayer::Ethernet: program = ethernet_.get(); break;
    case PacketLayer::Network: program = network_.get(); break;
    case PacketLayer::None: break;
  }
  if (!program || bytes.empty()) return false;

  pcap_pkthdr header{};
  header.caplen = static_cast<bpf_u_int32>(bytes.size());
  header.len = std::max<bpf_u_int32>(wire_len, header.caplen);
  return pcap_offline_filter(&program->code, &header, bytes.data()) != 0;
}

bool PacketFilter::matches(const Event& ev) const {
  // skb->len is the closest thing to a wire length the event carries.
  return matches(ev.layer, ev.packet, ev.len);
}

}  // namespace pwru
