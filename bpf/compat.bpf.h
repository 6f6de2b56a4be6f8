/* Every difference between kernel versions that the BPF side must know lives here, so callers
 * never test versions. */
#ifndef PWRU_COMPAT_BPF_H
#define PWRU_COMPAT_BPF_H

#include "kernel_types.h"
#include <bpf/bpf_core_read.h>

/* A field of a kernel object. Where the program holds the object as a BTF pointer (tp_btf and
 * fentry programs get their arguments typed), a plain load: the verifier allows it and the JIT
 * guards it against faults, at the cost of a load. Where the pointer is a plain number (raw_tp
 * and kprobe programs), bpf_probe_read_kernel, a helper call each. `direct` is a compile-time
 * constant wherever this is used, so only one of the two is compiled into a program: a plain
 * load through a number would be refused. */
#define KREAD(direct, p, field) ((direct) ? (p)->field : BPF_CORE_READ(p, field))

/* Network namespace inode of an skb from its device `dev` (skb->dev), else its socket `sk`
 * (an skb on the transmit path before a device is chosen only has a socket). possible_net_t holds
 * the pointer only with CONFIG_NET_NS; without it every skb is in init_net and we report 0. */
static __always_inline __u32 skb_netns(struct net_device *dev, struct sock *sk, bool direct)
{
	struct net *net = 0;

	if (!bpf_core_field_exists(possible_net_t, net))
		return 0;
	if (dev)
		net = KREAD(direct, dev, nd_net.net);
	if (!net && sk)
		net = KREAD(direct, sk, __sk_common.skc_net.net);
	return net ? KREAD(direct, net, ns.inum) : 0;
}

#endif /* PWRU_COMPAT_BPF_H */
