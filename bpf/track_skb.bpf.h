/* --filter-track-skb on the BPF side: the skbs that matched the filters once, followed without
 * them until they are freed, and their clones.
 *
 * skb_wanted (common.bpf.h) lets a tracked skb pass (track_known) and tracks one the filters
 * passed (track_start); the probe that frees an skb forgets it. A clone or copy of a tracked skb
 * is tracked where it is made (track_clone, in track_clones.bpf.c): no tracepoint sees both an
 * skb and its clone, so that takes a function probe on skb_clone and skb_copy. */
#ifndef PWRU_TRACK_SKB_BPF_H
#define PWRU_TRACK_SKB_BPF_H

#include "kernel_types.h"
#include <bpf/bpf_helpers.h>

#include "pwru_event.h"

/* Set at load time; the programs of a run without tracking never touch the map. */
const volatile __u8 filter_track_skb = 0;

/* LRU: an skb freed where no probe sees it must not pin a slot forever. Shared by every object
 * of a run: user space creates it once. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, __u8);
} tracked SEC(".maps");

/* Whether a probe whose settings have `flags` (struct probe_cfg) frees the skb. A macro so that
 * `flags` is only read when tracking (also by stack id: track_by_stackid, stackid.bpf.h, which
 * the files using it include through common.bpf.h): most runs read nothing of the probe's own settings before
 * the filters (see skb_filter). */
#define TRACK_FREES(flags) \
	((filter_track_skb || track_by_stackid) && ((flags) & PWRU_PROBE_FREES_SKB))

/* Whether `skb` is tracked; a probe that `frees` it forgets it. */
static __always_inline bool track_known(__u64 skb, bool frees)
{
	if (!filter_track_skb || !bpf_map_lookup_elem(&tracked, &skb))
		return false;
	if (frees)
		bpf_map_delete_elem(&tracked, &skb);
	return true;
}

/* `skb` passed the filters: follow it from now on, unless this probe frees it. */
static __always_inline void track_start(__u64 skb, bool frees)
{
	__u8 one = 1;

	if (filter_track_skb && !frees)
		bpf_map_update_elem(&tracked, &skb, &one, BPF_ANY);
}

/* `clone` was made from `orig`: follow it if `orig` is followed. */
static __always_inline void track_clone(__u64 orig, __u64 clone)
{
	__u8 one = 1;

	if (clone && bpf_map_lookup_elem(&tracked, &orig))
		bpf_map_update_elem(&tracked, &clone, &one, BPF_ANY);
}

#endif /* PWRU_TRACK_SKB_BPF_H */
