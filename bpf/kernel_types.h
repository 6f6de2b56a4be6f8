/* The few kernel types the BPF programs read, declared for CO-RE.
 *
 * Only field names and types matter: with preserve_access_index, libbpf relocates every access
 * against the running kernel's BTF at load time, so building needs no vmlinux.h and no BTF of the
 * build machine. Fields inside anonymous unions in the kernel may be declared flat here; libbpf
 * matches them through the anonymous members. Add a field here before reading it. */
#ifndef PWRU_KERNEL_TYPES_H
#define PWRU_KERNEL_TYPES_H

#include <linux/types.h>
#include <linux/bpf.h>
#include <stdbool.h>

#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)

struct ns_common {
	unsigned int inum;
};

struct net {
	struct ns_common ns;
};

typedef struct {
	struct net *net;
} possible_net_t;

struct net_device {
	char name[16];
	int ifindex;
	unsigned int mtu;
	possible_net_t nd_net;
};

struct sock_common {
	possible_net_t skc_net;
};

struct sock {
	struct sock_common __sk_common;
};

struct sk_buff {
	struct net_device *dev;
	struct sock *sk;
	unsigned int len;
	unsigned int data_len;
	__u32 mark;
	__u32 hash;
	int skb_iif;
	__be16 protocol;
	__u16 transport_header;
	__u16 network_header;
	__u16 mac_header;
	unsigned int tail; /* sk_buff_data_t: an offset from head on 64-bit kernels */
	unsigned int end;  /* likewise: where struct skb_shared_info starts */
	char cb[48];
	unsigned char *head;
	unsigned char *data;
};

typedef struct {
	int counter;
} atomic_t;

/* At skb->head + skb->end (--output-skb-shared-info). `flags` is from Linux 5.12 (an unused byte
 * before it). */
struct skb_shared_info {
	__u8 flags;
	__u8 meta_len;
	__u8 nr_frags;
	__u8 tx_flags;
	unsigned short gso_size;
	unsigned short gso_segs;
	struct sk_buff *frag_list;
	unsigned int gso_type;
	__u32 tskey;
	atomic_t dataref;
};

/* XDP (bpf/bpf_progs.bpf.c): what an XDP program's `struct xdp_md *` really points to. */
struct xdp_rxq_info {
	struct net_device *dev;
};

struct xdp_buff {
	void *data;
	void *data_end;
	struct xdp_rxq_info *rxq;
};

/* Netfilter (bpf/nf.bpf.h). nf_tables and x_tables are modules on most kernels: these relocate
 * against the module's BTF, which is there only while the module is loaded. */
struct nf_hook_state {
	__u8 hook; /* unsigned int before 6.1: read with BPF_CORE_READ_BITFIELD_PROBED */
};

/* nft_pktinfo's hook state: pkt->state from 5.16, pkt->xt.state before. */
struct xt_action_param {
	const struct nf_hook_state *state;
};

struct nft_pktinfo {
	struct sk_buff *skb;
	const struct nf_hook_state *state;
	struct xt_action_param xt;
};

struct nft_table {
	__u16 family:6; /* a bitfield on every kernel pwrudump knows */
	char *name;
};

/* nft_do_chain's `priv`: the base chain's `struct nft_chain`. */
struct nft_chain {
	struct nft_table *table;
	char *name;
};

struct xt_table {
	__u8 af;
	char name[32];
};

/* The task's own kernel stack (--filter-track-skb-by-stackid, bpf/stackid.bpf.h). */
struct task_struct {
	void *stack;
};

/* x86-64 registers at a kprobe, as the kernel names them. */
struct pt_regs {
	unsigned long r8;
	unsigned long ax;
	unsigned long cx;
	unsigned long dx;
	unsigned long si;
	unsigned long di;
	unsigned long ip;
	unsigned long sp;
};

#pragma clang attribute pop

#endif /* PWRU_KERNEL_TYPES_H */
