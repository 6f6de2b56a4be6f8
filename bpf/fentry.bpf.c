/* fentry backend: for kernels with BPF trampolines but no kprobes. One program per function:
 * user space loads a copy of the template for the function's skb position with the function's
 * BTF id as attach target and its own frozen .rodata.probe (probe id, drop reason position). */
#include "common.bpf.h"

static __always_inline int handle_fentry(__u64 *ctx, __u64 skb)
{
	__u32 reason = 0, flags = 0;

	if (probe.reason_pos >= 0) {
		reason = probe_arg(ctx, probe.reason_pos);
		flags |= PWRU_EV_HAS_DROP_REASON;
	}
	return handle_skb(ctx, (struct sk_buff *)skb, 0, 0, reason, flags,
			  probe.flags & PWRU_PROBE_FREES_SKB);
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
