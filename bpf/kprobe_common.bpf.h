/* What the kprobe and kprobe-multi backends share: reading function arguments from registers,
 * the caller from the stack, and from the attach cookie the drop reason position and whether the
 * function frees the skb (see PWRU_COOKIE_*). */
#ifndef PWRU_KPROBE_COMMON_BPF_H
#define PWRU_KPROBE_COMMON_BPF_H

#include "common.bpf.h"

/* Argument `pos` (0-based, below PWRU_FUNC_ARGS) of the probed function, x86-64 calling
 * convention. All of them are loaded first and hidden from the optimizer: otherwise a position
 * known only at run time (the cookie's) becomes ctx + offset arithmetic, which the verifier
 * refuses for a context pointer. */
static __always_inline __u64 regs_arg(struct pt_regs *ctx, __u64 pos)
{
	_Static_assert(PWRU_FUNC_ARGS == 5, "one register per position");
	__u64 a0 = ctx->di, a1 = ctx->si, a2 = ctx->dx, a3 = ctx->cx, a4 = ctx->r8;

	asm volatile("" : "+r"(a0), "+r"(a1), "+r"(a2), "+r"(a3), "+r"(a4));
	switch (pos) {
	case 0: return a0;
	case 1: return a1;
	case 2: return a2;
	case 3: return a3;
	case 4: return a4;
	}
	return 0;
}

/* At function entry the stack pointer points at the return address: the caller. */
static __always_inline int handle_kprobe(struct pt_regs *ctx, __u64 skb, __u64 func_ip,
					 __u64 cookie)
{
	struct skb_layout lo;
	__u64 caller = 0;
	__u32 reason = 0, flags = PWRU_EV_HAS_FUNC_IP;

	/* The caller is a helper call: only for skbs the filters pass. */
	if (!skb_filter((struct sk_buff *)skb, &lo, cookie & PWRU_COOKIE_FREES, READ_HELPER))
		return 0;
	if (!bpf_probe_read_kernel(&caller, sizeof(caller), (void *)ctx->sp) && caller)
		flags |= PWRU_EV_HAS_LOCATION;
	if (cookie & 0xff) {
		reason = regs_arg(ctx, (cookie & 0xff) - 1);
		flags |= PWRU_EV_HAS_DROP_REASON;
	}
	return skb_event(ctx, (struct sk_buff *)skb, &lo, func_ip, caller, reason, flags,
			 READ_HELPER);
}

/* --filter-non-skb-funcs: a function without skb argument, an event of the packet its stack
 * follows, if any (nonskb_event). */
static __always_inline int handle_kprobe_nonskb(struct pt_regs *ctx, __u64 func_ip)
{
	__u64 caller = 0;
	__u32 flags = PWRU_EV_HAS_FUNC_IP;

	if (!bpf_probe_read_kernel(&caller, sizeof(caller), (void *)ctx->sp) && caller)
		flags |= PWRU_EV_HAS_LOCATION;
	return nonskb_event(ctx, func_ip, caller, flags, READ_HELPER);
}

#endif /* PWRU_KPROBE_COMMON_BPF_H */
