// A tcpdump-syntax filter as the eBPF body of the pcap_filter subprogram (bpf/common.bpf.h).
#pragma once

#include <linux/bpf.h>

#include <string>
#include <vector>

#include "base/result.h"
#include "filter/cbpf_to_ebpf.h"

namespace pwru {

// libpcap compiles `expr` twice, for packets with an Ethernet header (DLT_EN10MB) and for those
// that start at IP (DLT_RAW); both are translated and joined: the body runs the first when its
// third argument is 1. An expression that only makes sense at one layer (`arp`, `ether host`)
// rejects packets of the other. One that compiles for neither is ExitCode::BadFilter with
// libpcap's message. With `window`, both read the packet's first bytes through it (BtfWindow).
Result<std::vector<struct bpf_insn>> pcap_filter_program(const std::string& expr,
                                                         const BtfWindow* window = nullptr);

// The filters of a run: the capture filter and pwru's --filter-tunnel-pcap-l2/-l3 (empty: none).
struct PcapExpressions {
  std::string outer;
  std::string tunnel_l2;  // on the Ethernet frame inside VXLAN or Geneve (DLT_EN10MB)
  std::string tunnel_l3;  // on the IP packet inside it (DLT_RAW)
};

// The third argument of pcap_filter (bpf/common.bpf.h): which program of the body runs. Kept in
// step with PWRU_PCAP_* there.
enum class PcapSelector : int32_t { Network = 0, Ethernet = 1, TunnelL2 = 2, TunnelL3 = 3 };

// The body for all of them: the single-expression one above, and, when a tunnel filter is given,
// a program for each tunnel selector (one that passes every packet for the one not given).
struct PcapBody {
  std::vector<struct bpf_insn> insns;  // empty when no expression filters anything
  bool outer = false;   // the capture filter filters: selectors Network and Ethernet
  bool tunnel = false;  // a tunnel filter is given: selectors TunnelL2 and TunnelL3
};
Result<PcapBody> pcap_filter_program(const PcapExpressions& exprs,
                                     const BtfWindow* window = nullptr);

}  // namespace pwru
