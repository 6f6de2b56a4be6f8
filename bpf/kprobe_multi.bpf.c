/* kprobe-multi backend: one program and one link per position of the skb argument, attached to
 * all functions with an skb there at once. The function comes from bpf_get_func_ip(), the drop
 * reason position from the per-function attach cookie. */
#include "kprobe_common.bpf.h"

#define KPROBE_MULTI_AT(pos)                                                        \
	SEC("kprobe.multi")                                                         \
	int kprobe_multi_skb_##pos(struct pt_regs *ctx)                             \
	{                                                                           \
		return handle_kprobe(ctx, regs_arg(ctx, pos), bpf_get_func_ip(ctx), \
				     bpf_get_attach_cookie(ctx));                   \
	}

_Static_assert(PWRU_FUNC_ARGS == 5, "one KPROBE_MULTI_AT per position");
KPROBE_MULTI_AT(0)
KPROBE_MULTI_AT(1)
KPROBE_MULTI_AT(2)
KPROBE_MULTI_AT(3)
KPROBE_MULTI_AT(4)

/* --filter-non-skb-funcs: one more link, on all of those functions. */
SEC("kprobe.multi")
int kprobe_multi_nonskb(struct pt_regs *ctx)
{
	return handle_kprobe_nonskb(ctx, bpf_get_func_ip(ctx));
}
