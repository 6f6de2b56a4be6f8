// Pieces the backends share: libbpf skeleton ownership, load errors that say what to do, loading
// a copy of a program with its own frozen per-probe settings, and running work on threads.
#pragma once

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/types.h>

#include <cstddef>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/tracer.h"
#include "core/unique_fd.h"
#include "pwru_event.h"

namespace pwru {

// Owns a libbpf skeleton: unique_ptr<foo_bpf, SkelDestroy<foo_bpf, &foo_bpf__destroy>>.
template <typename Skel, void (*Destroy)(Skel*)>
struct SkelDestroy {
  void operator()(Skel* s) const { Destroy(s); }
};

// "cannot load <what>: <errno text>" with the fix: privileges for EPERM/EACCES.
Error load_error(const std::string& what, int err, const std::string& verifier_log = {});

// The in-kernel filters of a run (0 = any), the same for every backend.
struct KernelFilter {
  uint32_t netns = 0;
  uint32_t mark = 0;
  uint32_t mark_mask = 0;
  uint32_t ifindex = 0;
  bool track_skb = false;
  // Body of the pcap_filter subprogram (see bpf/common.bpf.h); empty: no pcap filter.
  std::vector<struct bpf_insn> pcap_body;
  // The same filter reading the packet's first bytes by plain loads (BtfWindow); empty when the
  // kernel cannot (before 6.2, or BTF from --kernel-btf) or there is no filter.
  std::vector<struct bpf_insn> pcap_body_btf;
};

// Per-run settings every program is loaded with.
struct LoadSettings {
  uint32_t snaplen = 256;     // packet bytes per event
  uint32_t stack_bytes = 0;   // kernel stack bytes per event: 0 or 8 * PWRU_MAX_STACK_DEPTH
  bool drops_only = false;    // skip frees whose reason is consumed_reason
  uint32_t consumed_reason = 0xffffffff;  // enum skb_drop_reason's SKB_CONSUMED, if any
};

// The maps every backend shares; the Tracer creates them once.
struct SharedMaps {
  int events_fd;   // ring buffer
  int lost_fd;     // per-CPU count of refused events
  int tracked_fd;  // skbs followed by --filter-track-skb
};

// Before load: the per-run settings and filters, and the shared maps. Every backend skeleton has
// the same .rodata and maps (bpf/common.bpf.h).
template <typename Skel>
Status configure(Skel* skel, const LoadSettings& load, const KernelFilter& f,
                 const SharedMaps& maps) {
  skel->rodata->snaplen = load.snaplen;
  skel->rodata->stack_bytes = load.stack_bytes;
  skel->rodata->drops_only = load.drops_only;
  skel->rodata->consumed_reason = load.consumed_reason;
  skel->rodata->filter_netns = f.netns;
  skel->rodata->filter_mark = f.mark;
  skel->rodata->filter_mark_mask = f.mark_mask;
  skel->rodata->filter_ifindex = f.ifindex;
  skel->rodata->filter_track_skb = f.track_skb;
  skel->rodata->has_pcap_filter = !f.pcap_body.empty();
  if (int err = bpf_map__reuse_fd(skel->maps.events, maps.events_fd))
    return load_error("the event ring buffer", err);
  if (int err = bpf_map__reuse_fd(skel->maps.lost, maps.lost_fd))
    return load_error("the lost-event counter", err);
  if (int err = bpf_map__reuse_fd(skel->maps.tracked, maps.tracked_fd))
    return load_error("the tracked-skb map", err);
  return Ok{};
}

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

// An owned libbpf link: destroying it detaches.
struct LinkDestroy {
  void operator()(struct bpf_link* l) const { bpf_link__destroy(l); }
};
using Link = std::unique_ptr<struct bpf_link, LinkDestroy>;

// Runs work(i) for i in [0, n) on up to `threads` threads; progress(done) is called on the
// calling thread now and then.
void parallel_for(size_t n, size_t threads, const std::function<void(size_t)>& work,
                  const std::function<void(size_t)>& progress = {});

}  // namespace pwru
