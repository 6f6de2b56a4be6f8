/* What the VM cells' tc and XDP programs drop: IPv4 ICMP in an Ethernet frame. */
#ifndef PWRU_VM_DROP_ICMP_H
#define PWRU_VM_DROP_ICMP_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

static __always_inline int is_icmp(void *data, void *data_end)
{
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);

	if ((void *)(ip + 1) > data_end)
		return 0;
	return eth->h_proto == bpf_htons(ETH_P_IP) && ip->protocol == IPPROTO_ICMP;
}

char LICENSE[] SEC("license") = "GPL";

#endif
