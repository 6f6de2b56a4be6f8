/* fentry backend: for kernels with BPF trampolines but no kprobes. One program per function:
 * user space loads a copy of the template for the function's skb position with the function's
 * BTF id as attach target and its own frozen .rodata.probe (probe id, drop reason position).
 * The verifier types the arguments from that BTF: the skb's fields are read directly (KREAD). */
#include "common.bpf.h"

static __always_inline int handle_fentry(__u64 *ctx, __u64 skb)
{
	struct skb_layout lo;
	__u32 reason = 0, flags = 0;

	if (!skb_filter((struct sk_buff *)skb, &lo,
			filter_track_skb && (probe.flags & PWRU_PROBE_FREES_SKB), READ_BTF))
		return 0;
	if (probe.reason_pos >= 0) {
		reason = probe_arg(ctx, probe.reason_pos);
		flags |= PWRU_EV_HAS_DROP_REASON;
	}
	return skb_event(ctx, (struct sk_buff *)skb, &lo, 0, 0, reason, flags, READ_BTF);
}

#define FENTRY_AT(pos)                                                              \
	SEC("fentry")                                                               \
	int fentry_skb_##pos(__u64 *ctx)                                            \
	{                                                                           \
		return handle_fentry(ctx, ctx[pos]);                                \
	}

FENTRY_AT(0)
FENTRY_AT(1)
FENTRY_AT(2)
FENTRY_AT(3)
FENTRY_AT(4)

/* --filter-track-skb follows clones: skb_clone(skb, gfp) and skb_copy(skb, gfp) return the new
 * skb in ctx[2]. Attached only when tracking. */
static __always_inline int track_clone(__u64 orig, __u64 clone)
{
	__u8 one = 1;

	if (clone && filter_track_skb && bpf_map_lookup_elem(&tracked, &orig))
		bpf_map_update_elem(&tracked, &clone, &one, BPF_ANY);
	return 0;
}

SEC("fexit/skb_clone")
int fexit_skb_clone(__u64 *ctx)
{
	return track_clone(ctx[0], ctx[2]);
}

SEC("fexit/skb_copy")
int fexit_skb_copy(__u64 *ctx)
{
	return track_clone(ctx[0], ctx[2]);
}
