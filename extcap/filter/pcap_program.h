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

}  // namespace pwru
