// Copies of a loaded program, one per probe, each with its own frozen settings and the pcap
// filter spliced in: how one program text serves many probes.
#pragma once

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/types.h>

#include <span>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "core/kfilter.h"
#include "pwru_event.h"

namespace pwru {

// A program loaded from a template's final (relocated) instructions, with the template's
// .rodata.probe map replaced by a map of its own holding `cfg`. This is how one program text
// serves many probes that cannot otherwise tell each other apart (raw tracepoints; fentry,
// whose attach target is fixed at load).
struct ProgCopy {
  UniqueFd cfg_map;
  UniqueFd prog;
  // The kernel refused the pcap filter's plain loads (KernelFilter::pcap_body_btf): this copy
  // runs the helper's body. Backends count these in AttachSummary::filter_fallbacks.
  bool filter_fallback = false;
};

// A program copy and the link that attaches it. Members are destroyed in reverse: the link goes
// first, then the program and its map.
struct AttachedCopy {
  ProgCopy copy;
  UniqueFd link;
};

struct CopyTarget {
  enum bpf_prog_type type;
  enum bpf_attach_type expected_attach_type = static_cast<enum bpf_attach_type>(0);
  __u32 attach_btf_id = 0;
  int attach_btf_obj_fd = 0;
  int attach_prog_fd = 0;  // a BPF program as target: attach_btf_id is in its BTF
};

// Also puts the pcap filter in place of the template's pcap_filter subprogram when there is one:
// `filter.pcap_body_btf` where the kernel takes it, else `filter.pcap_body`.
Result<ProgCopy> load_prog_copy(struct bpf_program* tmpl, int template_cfg_fd,
                                const struct probe_cfg& cfg, const CopyTarget& target,
                                const KernelFilter& filter, const std::string& what);

// `insns` (a loaded program's final instructions) with the body of its only subprogram replaced
// by `body`. libbpf appends subprograms after the main program, so the subprogram runs from the
// target of the first BPF-to-BPF call to the end.
Result<std::vector<struct bpf_insn>> splice_subprog(std::span<const struct bpf_insn> insns,
                                                    std::span<const struct bpf_insn> body);

}  // namespace pwru
