/* The netfilter probes of the function backends: what nft_do_chain, ipt_do_table and
 * ip6t_do_table tell at entry (table, base chain, hook) and return (the verdict), without any
 * change to the ruleset (docs/netfilter.md).
 *
 * Entry notes the chain in nf_seen for an skb the filters pass. Return makes one event with the
 * verdict, and leaves a drop's names for the free that follows (nf_hook_slow's); where the chain
 * frees a dropped skb itself (nft, 6.1.192 and later), that free comes before the return and
 * takes the names (nf_take_drop in common.bpf.h), and the return makes no event: the skb is gone.
 * Field sizes that differ between kernels are read with their running size (the _PROBED reads);
 * the hook state's place is compat.bpf.h's, ipt_do_table's argument order user space's. */
#ifndef PWRU_NF_BPF_H
#define PWRU_NF_BPF_H

#include "common.bpf.h"

#define NF_DROP 0
#define NF_STOLEN 2
#define NF_VERDICT_MASK 0xff

/* ipt_do_table(priv, skb, state) from 5.16; (skb, state, table) before. Set by user space from
 * the function's BTF prototype. */
const volatile __u8 nf_ipt_priv_first = 1;

/* nft_do_chain's names: family and name of the table, name of the base chain (`priv`), hook. */
static __always_inline void nft_names(const struct nft_pktinfo *pkt, const struct nft_chain *chain,
				      struct pwru_nf *nf)
{
	const struct nft_table *table = BPF_CORE_READ(chain, table);
	const struct nf_hook_state *state = nft_pkt_state(pkt);

	nf->source = PWRU_NF_NFT;
	nf->family = BPF_CORE_READ_BITFIELD_PROBED(table, family);
	/* A u8 from 6.1, an unsigned int before: the probed read takes the running kernel's size. */
	nf->hook = BPF_CORE_READ_BITFIELD_PROBED(state, hook);
	bpf_probe_read_kernel_str(nf->table, sizeof(nf->table), BPF_CORE_READ(table, name));
	bpf_probe_read_kernel_str(nf->chain, sizeof(nf->chain), BPF_CORE_READ(chain, name));
}

/* ipt_do_table's and ip6t_do_table's: the table (its name is inline) and the hook, whose
 * built-in chain user space names; a user-defined chain is not visible from here. */
static __always_inline void ipt_names(const struct xt_table *table,
				      const struct nf_hook_state *state, struct pwru_nf *nf)
{
	nf->source = PWRU_NF_IPT;
	nf->family = BPF_CORE_READ(table, af);
	nf->hook = BPF_CORE_READ_BITFIELD_PROBED(state, hook);
	bpf_probe_read_kernel_str(nf->table, sizeof(nf->table), &table->name);
}

/* Whether the filters want the skb entering a chain. */
static __always_inline bool nf_wanted(struct sk_buff *skb, enum read_mode mode)
{
	struct skb_layout lo;

	return skb_filter(skb, &lo, TRACK_FREES(probe.flags), mode);
}

/* At entry, for a wanted skb: the chain it is in, until it returns or is freed. */
static __always_inline void nf_enter(struct sk_buff *skb, struct pwru_nf *nf, __u64 caller)
{
	__u64 key = (__u64)skb;

	nf->state = PWRU_NF_IN_CHAIN;
	nf->caller = caller;
	bpf_map_update_elem(&nf_seen, &key, nf, BPF_ANY);
}

/* At return with `ret`: the event with the verdict, for an skb entry noted. */
static __always_inline int nf_exit(void *ctx, struct sk_buff *skb, __u64 ret,
				   enum read_mode mode)
{
	__u64 key = (__u64)skb;
	struct pwru_nf *seen = bpf_map_lookup_elem(&nf_seen, &key);
	struct skb_layout lo;
	struct pwru_nf nf;
	__u32 v = ret & NF_VERDICT_MASK;

	/* Not wanted at entry, or freed inside the chain (the drop took the names). */
	if (!seen)
		return 0;
	__builtin_memcpy(&nf, seen, sizeof(nf));
	/* Stolen: someone else's now, maybe freed already (nft's own drop, `(EPERM << 16) |
	 * NF_STOLEN`, when the free was not seen): not to be read. */
	if (v == NF_STOLEN) {
		bpf_map_delete_elem(&nf_seen, &key);
		return 0;
	}
	nf.verdict = v;
	if (v == NF_DROP) {
		seen->verdict = NF_DROP;
		seen->state = PWRU_NF_DROPPED;
	} else {
		bpf_map_delete_elem(&nf_seen, &key);
	}
	skb_layout(skb, &lo, mode);
	return skb_event_nf(ctx, skb, &lo, 0, nf.caller, 0, nf.caller ? PWRU_EV_HAS_LOCATION : 0,
			    &nf, 0, mode);
}

#endif /* PWRU_NF_BPF_H */
