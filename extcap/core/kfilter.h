// Turns the filter options into what the BPF programs compare against: netns inode, mark and
// mask, ifindex, and the translated pcap filter.
#pragma once

#include <linux/bpf.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"
#include "core/skb_expr.h"
#include "core/tracer.h"
#include "filter/cbpf_to_ebpf.h"

namespace pwru {

// The in-kernel filters of a run (0 = any), the same for every backend.
struct KernelFilter {
  uint32_t netns = 0;
  uint32_t mark = 0;
  uint32_t mark_mask = 0;
  uint32_t ifindex = 0;
  bool track_skb = false;
  bool track_by_stackid = false;  // --filter-track-skb-by-stackid (bpf/stackid.bpf.h)
  // Which pcap filters the body holds: the capture filter, a tunnel filter.
  bool outer_pcap = false;
  bool tunnel_pcap = false;
  // Body of the pcap_filter subprogram (see bpf/common.bpf.h); empty: no pcap filter.
  std::vector<struct bpf_insn> pcap_body;
  // The same filter reading the packet's first bytes by plain loads (BtfWindow); empty when the
  // kernel cannot (before 6.2, or BTF from --kernel-btf) or there is no filter.
  std::vector<struct bpf_insn> pcap_body_btf;
  // --output-skb-metadata, --filter-skb-expr, resolved (resolve_skb_exprs); the shared info and
  // control buffer sections.
  std::vector<SkbExpr> meta;
  std::optional<SkbExprFilter> expr_filter;
  bool shinfo = false;
  bool cb = false;
};

// Errors name the option and say what it accepts: ExitCode::Usage for a malformed value,
// NotFound for a namespace or interface that is not there, Permission for one we may not look
// into, BadFilter for the pcap expression.
// `window`: the running kernel's BtfWindow, if it has one (KernelBtf::btf_window).
Result<KernelFilter> make_kernel_filter(const TraceOptions& options,
                                        const BtfWindow* window = nullptr);

// The skb expressions of `options` resolved through `btf` into `f` (meta, expr_filter, shinfo,
// cb): ExitCode::Usage naming the expression that does not resolve.
Status resolve_skb_exprs(const TraceOptions& options, const struct btf* btf, KernelFilter& f);

// The pieces, for tests.
Result<uint32_t> parse_netns(const std::string& spec);
Result<std::pair<uint32_t, uint32_t>> parse_mark(const std::string& spec);  // value, mask
Result<uint32_t> resolve_ifname(const std::string& ifname, const std::string& netns_spec);

}  // namespace pwru
