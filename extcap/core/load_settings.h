// What every backend's skeleton is loaded with: the per-run settings, the in-kernel filters and
// the maps the Tracer shares between backends.
#pragma once

#include <bpf/libbpf.h>

#include <linux/types.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "base/result.h"
#include "core/kfilter.h"
#include "core/load_error.h"
#include "core/skb_expr.h"
#include "pwru_event.h"

namespace pwru {

// Per-run settings every program is loaded with.
struct LoadSettings {
  uint32_t snaplen = 256;     // packet bytes per event
  uint32_t stack_bytes = 0;   // kernel stack bytes per event: 0 or 8 * PWRU_MAX_STACK_DEPTH
  bool drops_only = false;    // skip frees whose reason is consumed_reason
  uint32_t consumed_reason = 0xffffffff;  // enum skb_drop_reason's SKB_CONSUMED, if any
  // The netfilter probes are attached (core/nf_probes.h): drops take the names they noted.
  bool nf_probes = false;
  uint32_t nf_drop_reason = 0xffffffff;  // SKB_DROP_REASON_NETFILTER_DROP, if any
};

// The maps every backend shares; the Tracer creates them once.
struct SharedMaps {
  int events_fd;   // ring buffer
  int lost_fd;     // per-CPU count of refused events
  int tracked_fd;  // skbs followed by --filter-track-skb
  int nf_seen_fd;  // the netfilter chain each skb is in (bpf/nf.bpf.h)
  int stack_skb_fd;  // --filter-track-skb-by-stackid: each stack's packet (bpf/stackid.bpf.h)
  int skb_stack_fd;  // and back
};

// The expressions of --output-skb-metadata and --filter-skb-expr as the BPF side runs them, and
// the shared info and cb sections (bpf/skb_expr.bpf.h).
template <typename Rodata>
void set_skb_exprs(Rodata& ro, const KernelFilter& f) {
  static_assert(sizeof(ro.meta_expr) == sizeof(struct pwru_expr) * PWRU_META_MAX);
  struct pwru_expr e{};
  for (size_t i = 0; i < f.meta.size() && i < PWRU_META_MAX; i++) {
    to_bpf_expr(f.meta[i], e);
    std::memcpy(const_cast<struct pwru_expr*>(&ro.meta_expr[i]), &e, sizeof(e));
  }
  ro.meta_count = static_cast<__u8>(std::min<size_t>(f.meta.size(), PWRU_META_MAX));
  if (f.expr_filter) {
    struct pwru_expr_filter ef{};
    to_bpf_expr(f.expr_filter->field, ef.expr);
    ef.mask = f.expr_filter->mask;
    ef.value = f.expr_filter->value;
    ef.op = static_cast<__u8>(f.expr_filter->op);
    std::memcpy(const_cast<struct pwru_expr_filter*>(&ro.expr_filter), &ef, sizeof(ef));
  }
  ro.output_shinfo = f.shinfo;
  ro.output_cb = f.cb;
}

// Before load: the per-run settings and filters, and the shared maps. Every backend skeleton has
// the same .rodata and maps (bpf/common.bpf.h).
template <typename Skel>
Status configure(Skel* skel, const LoadSettings& load, const KernelFilter& f,
                 const SharedMaps& maps) {
  skel->rodata->snaplen = load.snaplen;
  skel->rodata->stack_bytes = load.stack_bytes;
  skel->rodata->drops_only = load.drops_only;
  skel->rodata->consumed_reason = load.consumed_reason;
  skel->rodata->nf_probes = load.nf_probes;
  skel->rodata->nf_drop_reason = load.nf_drop_reason;
  skel->rodata->filter_netns = f.netns;
  skel->rodata->filter_mark = f.mark;
  skel->rodata->filter_mark_mask = f.mark_mask;
  skel->rodata->filter_ifindex = f.ifindex;
  skel->rodata->filter_track_skb = f.track_skb;
  skel->rodata->track_by_stackid = f.track_by_stackid;
  skel->rodata->has_pcap_filter = f.outer_pcap;
  skel->rodata->has_tunnel_filter = f.tunnel_pcap;
  set_skb_exprs(*skel->rodata, f);
  if (int err = bpf_map__reuse_fd(skel->maps.events, maps.events_fd))
    return load_error("the event ring buffer", err);
  if (int err = bpf_map__reuse_fd(skel->maps.lost, maps.lost_fd))
    return load_error("the lost-event counter", err);
  if (int err = bpf_map__reuse_fd(skel->maps.tracked, maps.tracked_fd))
    return load_error("the tracked-skb map", err);
  if (int err = bpf_map__reuse_fd(skel->maps.nf_seen, maps.nf_seen_fd))
    return load_error("the netfilter chain map", err);
  if (int err = bpf_map__reuse_fd(skel->maps.stack_skb, maps.stack_skb_fd))
    return load_error("the stack id map", err);
  if (int err = bpf_map__reuse_fd(skel->maps.skb_stack, maps.skb_stack_fd))
    return load_error("the stack id map", err);
  return Ok{};
}

}  // namespace pwru
