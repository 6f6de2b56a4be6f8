/* Every difference between kernel versions that the BPF side must know lives here, so callers
 * never test versions. */
#ifndef PWRU_COMPAT_BPF_H
#define PWRU_COMPAT_BPF_H

#include "kernel_types.h"
#include <bpf/bpf_core_read.h>

/* Network namespace inode of the skb: its device's namespace, else its socket's (an skb on the
 * transmit path before a device is chosen only has a socket). possible_net_t holds the pointer
 * only with CONFIG_NET_NS; without it every skb is in init_net and we report 0. */
static __always_inline __u32 skb_netns(struct sk_buff *skb)
{
	struct net_device *dev = BPF_CORE_READ(skb, dev);
	struct net *net = 0;

	if (!bpf_core_field_exists(possible_net_t, net))
		return 0;
	if (dev)
		net = BPF_CORE_READ(dev, nd_net.net);
	if (!net) {
		struct sock *sk = BPF_CORE_READ(skb, sk);
		if (sk)
			net = BPF_CORE_READ(sk, __sk_common.skc_net.net);
	}
	return net ? BPF_CORE_READ(net, ns.inum) : 0;
}

#endif /* PWRU_COMPAT_BPF_H */
