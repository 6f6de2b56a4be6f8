/* kprobe backend: one program per position of the skb argument, attached to every function with
 * an skb there, one perf kprobe per function.
 *
 * The function is named in user space from the probe address (regs->ip). The `_cookie` variants
 * read the drop reason position and the frees-skb bit from the attach cookie; kernels without
 * kprobe cookies (before 5.15) get the plain ones, and have no drop-reason functions anyway. */
#include "kprobe_common.bpf.h"

#define KPROBE_AT(pos)                                                              \
	SEC("kprobe")                                                               \
	int kprobe_skb_##pos(struct pt_regs *ctx)                                   \
	{                                                                           \
		return handle_kprobe(ctx, regs_arg(ctx, pos), ctx->ip, 0);          \
	}                                                                           \
	SEC("kprobe")                                                               \
	int kprobe_skb_##pos##_cookie(struct pt_regs *ctx)                          \
	{                                                                           \
		return handle_kprobe(ctx, regs_arg(ctx, pos), ctx->ip,              \
				     bpf_get_attach_cookie(ctx));                   \
	}

_Static_assert(PWRU_FUNC_ARGS == 5, "one KPROBE_AT per position");
KPROBE_AT(0)
KPROBE_AT(1)
KPROBE_AT(2)
KPROBE_AT(3)
KPROBE_AT(4)

/* --filter-non-skb-funcs: attached to each of those functions. */
SEC("kprobe")
int kprobe_nonskb(struct pt_regs *ctx)
{
	return handle_kprobe_nonskb(ctx, ctx->ip);
}
