/* fentry backend: for kernels with BPF trampolines but no kprobes. One program per function:
 * user space loads a copy of the template for the function's skb position with the function's
 * BTF id as attach target and its own frozen .rodata.probe (probe id, drop reason position).
 * The verifier types the arguments from that BTF: the skb's fields are read directly (KREAD). */
#include "common.bpf.h"

static __always_inline int handle_fentry(__u64 *ctx, __u64 skb)
{
	struct skb_layout lo;
	__u32 reason = 0, flags = 0;

	if (!skb_filter((struct sk_buff *)skb, &lo, TRACK_FREES(probe.flags), READ_BTF))
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

_Static_assert(PWRU_FUNC_ARGS == 5, "one FENTRY_AT per position");
FENTRY_AT(0)
FENTRY_AT(1)
FENTRY_AT(2)
FENTRY_AT(3)
FENTRY_AT(4)


/* --filter-non-skb-funcs: a copy per function, each with its own probe id. */
SEC("fentry")
int fentry_nonskb(__u64 *ctx)
{
	return nonskb_event(ctx, 0, 0, 0, READ_HELPER_PREEMPTIBLE);
}
