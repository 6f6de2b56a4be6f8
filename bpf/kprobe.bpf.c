/* kprobe backend: one program per position of the skb argument, attached to every function with
 * an skb there, one perf kprobe per function.
 *
 * The function is named in user space from the probe address (regs->ip). The `_reason` variants
 * read the drop reason at the position their attach cookie names; they are only loaded on kernels
 * with drop-reason functions (5.17+), which all have kprobe cookies (5.15+). */
#include "kprobe_common.bpf.h"

#define KPROBE_AT(pos)                                                              \
	SEC("kprobe")                                                               \
	int kprobe_skb_##pos(struct pt_regs *ctx)                                   \
	{                                                                           \
		return handle_kprobe(ctx, regs_arg(ctx, pos), ctx->ip, 0);          \
	}                                                                           \
	SEC("kprobe")                                                               \
	int kprobe_skb_##pos##_reason(struct pt_regs *ctx)                          \
	{                                                                           \
		return handle_kprobe(ctx, regs_arg(ctx, pos), ctx->ip,              \
				     bpf_get_attach_cookie(ctx));                   \
	}

KPROBE_AT(0)
KPROBE_AT(1)
KPROBE_AT(2)
KPROBE_AT(3)
KPROBE_AT(4)
