// Turns the filter options into what the BPF programs compare against: netns inode, mark and
// mask, ifindex, and the translated pcap filter.
#pragma once

#include "base/result.h"
#include "core/bpf_util.h"
#include "core/tracer.h"
#include "filter/cbpf_to_ebpf.h"

namespace pwru {

// Errors name the option and say what it accepts: ExitCode::Usage for a malformed value,
// NotFound for a namespace or interface that is not there, Permission for one we may not look
// into, BadFilter for the pcap expression.
// `window`: the running kernel's BtfWindow, if it has one (KernelBtf::btf_window).
Result<KernelFilter> make_kernel_filter(const TraceOptions& options,
                                        const BtfWindow* window = nullptr);

// The pieces, for tests.
Result<uint32_t> parse_netns(const std::string& spec);
Result<std::pair<uint32_t, uint32_t>> parse_mark(const std::string& spec);  // value, mask
Result<uint32_t> resolve_ifname(const std::string& ifname, const std::string& netns_spec);

}  // namespace pwru
