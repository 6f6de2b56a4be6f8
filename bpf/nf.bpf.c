/* The function backends' netfilter probes (nf.bpf.h): entry and return of nft_do_chain,
 * ipt_do_table and ip6t_do_table, as kprobe/kretprobe pairs (kprobe and kprobe-multi backends)
 * or fentry/fexit pairs (fentry backend). User space loads only the programs of the functions
 * the kernel has (nf_tables and ip[6]_tables are modules) and of the backend's flavour, one
 * copy per function with the pcap filter in it. */
#include "kprobe_common.bpf.h"
#include "nf.bpf.h"

/* A kretprobe sees no arguments: each task's skbs inside a probed function, innermost last.
 * Calls nest (a softirq's chain inside a task's) and unwind in order, like the scratch slots. */
#define NF_NEST 4
struct nf_calls {
	__u32 depth;
	__u32 pad;
	__u64 skb[NF_NEST];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u64); /* the task (bpf_get_current_task) */
	__type(value, struct nf_calls);
} nf_calls SEC(".maps");

static __always_inline void nf_push(__u64 skb)
{
	__u64 task = bpf_get_current_task();
	struct nf_calls *c = bpf_map_lookup_elem(&nf_calls, &task);
	__u32 d;

	if (!c) {
		struct nf_calls none = {};

		bpf_map_update_elem(&nf_calls, &task, &none, BPF_NOEXIST);
		c = bpf_map_lookup_elem(&nf_calls, &task);
		if (!c)
			return;
	}
	d = c->depth;
	/* A missed return (kretprobe instances all in use) leaves a level behind: start over
	 * rather than let the task's levels drift for ever. */
	if (d > 8 * NF_NEST)
		d = 0;
	if (d < NF_NEST)
		c->skb[d] = skb;
	c->depth = d + 1;
}

static __always_inline __u64 nf_pop(void)
{
	__u64 task = bpf_get_current_task();
	struct nf_calls *c = bpf_map_lookup_elem(&nf_calls, &task);
	__u32 d;

	if (!c || !c->depth)
		return 0;
	d = c->depth - 1;
	c->depth = d;
	return d < NF_NEST ? c->skb[d] : 0;
}

/* ipt_do_table's arguments in this kernel's order (nf_ipt_priv_first). All three are loaded
 * first and hidden from the optimizer: a context offset chosen at run time is refused. */
struct ipt_args {
	struct sk_buff *skb;
	const struct nf_hook_state *state;
	const struct xt_table *table;
};

static __always_inline struct ipt_args ipt_args(__u64 a0, __u64 a1, __u64 a2)
{
	struct ipt_args a;

	asm volatile("" : "+r"(a0), "+r"(a1), "+r"(a2));
	if (nf_ipt_priv_first) {
		a.table = (void *)a0;
		a.skb = (void *)a1;
		a.state = (void *)a2;
	} else {
		a.skb = (void *)a0;
		a.state = (void *)a1;
		a.table = (void *)a2;
	}
	return a;
}

/* --- kprobe and kprobe-multi backends --- */

static __always_inline __u64 kprobe_caller(struct pt_regs *ctx)
{
	__u64 caller = 0;

	bpf_probe_read_kernel(&caller, sizeof(caller), (void *)ctx->sp);
	return caller;
}

/* nft_do_chain(const struct nft_pktinfo *pkt, void *priv) */
SEC("kprobe")
int kprobe_nft_entry(struct pt_regs *ctx)
{
	const struct nft_pktinfo *pkt = (void *)ctx->di;
	struct sk_buff *skb = BPF_CORE_READ(pkt, skb);
	struct pwru_nf nf = {};

	nf_push((__u64)skb);
	if (!nf_wanted(skb, READ_HELPER))
		return 0;
	nft_names(pkt, (void *)ctx->si, &nf);
	nf_enter(skb, &nf, kprobe_caller(ctx));
	return 0;
}

/* ipt_do_table and ip6t_do_table, in either argument order (nf_ipt_priv_first). */
SEC("kprobe")
int kprobe_ipt_entry(struct pt_regs *ctx)
{
	struct ipt_args a = ipt_args(regs_arg(ctx, 0), regs_arg(ctx, 1), regs_arg(ctx, 2));
	struct pwru_nf nf = {};

	nf_push((__u64)a.skb);
	if (!nf_wanted(a.skb, READ_HELPER))
		return 0;
	ipt_names(a.table, a.state, &nf);
	nf_enter(a.skb, &nf, kprobe_caller(ctx));
	return 0;
}

/* All three functions' return: the skb their entry pushed. */
SEC("kretprobe")
int kretprobe_nf_exit(struct pt_regs *ctx)
{
	__u64 skb = nf_pop();

	if (!skb)
		return 0;
	return nf_exit(ctx, (struct sk_buff *)skb, ctx->ax, READ_HELPER);
}

/* --- fentry backend: arguments typed from the module's BTF, the skb read directly --- */

/* The caller: the frame after the traced function's own where the stack has it (as the fentry
 * backend finds it, caller_from_stack); 7.2 leaves a module function's frame out (seen in the
 * kernel matrix: the program, its trampoline, then the caller), so there the third frame. */
static __always_inline __u64 fentry_caller(void *ctx)
{
	__u64 frames[3] = {};
	__u64 caller = caller_from_stack(ctx);

	if (caller)
		return caller;
	if (bpf_get_stack(ctx, frames, sizeof(frames), 0) < (long)sizeof(frames))
		return 0;
	return frames[2];
}

SEC("fentry")
int fentry_nft_entry(__u64 *ctx)
{
	const struct nft_pktinfo *pkt = (void *)ctx[0];
	struct sk_buff *skb = KREAD(READ_BTF, pkt, skb);
	struct pwru_nf nf = {};

	if (!nf_wanted(skb, READ_BTF))
		return 0;
	nft_names(pkt, (void *)ctx[1], &nf);
	nf_enter(skb, &nf, fentry_caller(ctx));
	return 0;
}

SEC("fexit")
int fexit_nft_exit(__u64 *ctx)
{
	const struct nft_pktinfo *pkt = (void *)ctx[0];

	return nf_exit(ctx, KREAD(READ_BTF, pkt, skb), ctx[2], READ_BTF);
}

SEC("fentry")
int fentry_ipt_entry(__u64 *ctx)
{
	struct ipt_args a = ipt_args(ctx[0], ctx[1], ctx[2]);
	struct pwru_nf nf = {};

	if (!nf_wanted(a.skb, READ_BTF))
		return 0;
	ipt_names(a.table, a.state, &nf);
	nf_enter(a.skb, &nf, fentry_caller(ctx));
	return 0;
}

SEC("fexit")
int fexit_ipt_exit(__u64 *ctx)
{
	struct ipt_args a = ipt_args(ctx[0], ctx[1], ctx[2]);

	return nf_exit(ctx, a.skb, ctx[3], READ_BTF);
}
