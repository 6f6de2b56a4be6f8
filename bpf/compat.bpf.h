/* Every difference between kernel versions that the BPF side must know lives here, so callers
 * never test versions. */
#ifndef PWRU_COMPAT_BPF_H
#define PWRU_COMPAT_BPF_H

#include "kernel_types.h"
#include <bpf/bpf_core_read.h>

/* How a program reads kernel objects: the `mode` argument of the functions that read them, a
 * compile-time constant at every call, so only one way is compiled into a program. */
enum read_mode {
	/* raw_tp and kprobe programs hold pointers as plain numbers: every field is a
	 * bpf_probe_read_kernel, a helper call each. */
	READ_HELPER,
	/* fentry programs get their arguments typed from BTF: fields are plain loads, which the
	 * verifier allows and the JIT guards against faults. */
	READ_BTF,
	/* tp_btf programs: the same, through a trusted BTF pointer (see skb_layout for what that
	 * costs the verifier). */
	READ_BTF_TRUSTED,
	/* An fentry program reading an skb it holds as a number (--filter-non-skb-funcs): helper
	 * reads, and preemptible like READ_BTF. */
	READ_HELPER_PREEMPTIBLE,
};

/* Whether another task's program can run on this CPU in the middle of this one. fentry programs
 * are entered through a trampoline that only disables migration, so under CONFIG_PREEMPT they
 * can be; tracepoint and kprobe programs run with preemption disabled. */
#define PREEMPTIBLE(mode) ((mode) == READ_BTF || (mode) == READ_HELPER_PREEMPTIBLE)

/* A field of a kernel object. A plain load through a number would be refused. */
#define KREAD(mode, p, field) \
	((mode) == READ_BTF || (mode) == READ_BTF_TRUSTED ? (p)->field : BPF_CORE_READ(p, field))

/* The network namespace of a device or a socket. possible_net_t holds the pointer only with
 * CONFIG_NET_NS; without it every skb is in init_net and these give 0. */
static __always_inline struct net *dev_net_of(struct net_device *dev, enum read_mode mode)
{
	if (!bpf_core_field_exists(possible_net_t, net))
		return 0;
	return KREAD(mode, dev, nd_net.net);
}

static __always_inline struct net *sk_net_of(struct sock *sk, enum read_mode mode)
{
	if (!bpf_core_field_exists(possible_net_t, net))
		return 0;
	return KREAD(mode, sk, __sk_common.skc_net.net);
}

/* The hook state of an nft_do_chain call: pkt->state from 5.16 ("netfilter: nf_tables: remove
 * xt_action_param from nft_pktinfo"), pkt->xt.state before. Helper reads: the netfilter probes
 * read every netfilter object that way (bpf/nf.bpf.h). */
static __always_inline const struct nf_hook_state *nft_pkt_state(const struct nft_pktinfo *pkt)
{
	if (bpf_core_field_exists(pkt->state))
		return BPF_CORE_READ(pkt, state);
	return BPF_CORE_READ(pkt, xt.state);
}

#endif /* PWRU_COMPAT_BPF_H */
