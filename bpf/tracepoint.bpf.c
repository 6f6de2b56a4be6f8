/* Tracepoint backend: one program per position of the skb argument, in two flavours.
 *
 * User space finds every tracepoint whose BTF prototype has a `struct sk_buff *` and attaches a
 * copy of the program for that position; location and drop reason (kfree_skb) are read at the
 * positions its per-probe settings name.
 *
 * tp_btf programs (where the kernel has its own BTF) get the skb as a typed pointer and read its
 * fields directly, which costs a fraction of the helper calls raw_tp programs make for the same
 * reads (see KREAD); raw_tp programs serve the kernels whose BTF comes from a file. */
#include "common.bpf.h"

static __always_inline int handle_tp(__u64 *args, struct sk_buff *skb, enum read_mode mode)
{
	struct skb_layout lo;
	struct pwru_nf nf;
	__u64 location = 0;
	__u32 reason = 0, flags = 0;
	bool named;

	if (!skb_filter(skb, &lo, TRACK_FREES(probe.flags), mode))
		return 0;
	if (probe.location_pos >= 0) {
		location = probe_arg(args, probe.location_pos);
		flags |= PWRU_EV_HAS_LOCATION;
	}
	if (probe.reason_pos >= 0) {
		reason = probe_arg(args, probe.reason_pos);
		flags |= PWRU_EV_HAS_DROP_REASON;
		if (drops_only && reason == consumed_reason)
			return 0;
	}
	/* The kfree_skb of a netfilter drop names the table and chain (function backends only). */
	named = nf_take_drop((__u64)skb, probe.reason_pos >= 0, reason, &nf);
	return skb_event_nf(args, skb, &lo, 0, location, reason, flags, named ? &nf : 0, 0, mode);
}

#define SKB_AT(pos)                                                                         \
	SEC("raw_tp")                                                                       \
	int raw_tp_skb_##pos(struct bpf_raw_tracepoint_args *ctx)                           \
	{                                                                                   \
		return handle_tp(ctx->args, (struct sk_buff *)ctx->args[pos], READ_HELPER); \
	}                                                                                   \
	SEC("tp_btf")                                                                       \
	int tp_btf_skb_##pos(__u64 *ctx)                                                    \
	{                                                                                   \
		return handle_tp(ctx, (struct sk_buff *)ctx[pos], READ_BTF_TRUSTED);        \
	}

_Static_assert(PWRU_TP_ARGS == 6, "one SKB_AT per position");
SKB_AT(0)
SKB_AT(1)
SKB_AT(2)
SKB_AT(3)
SKB_AT(4)
SKB_AT(5)
