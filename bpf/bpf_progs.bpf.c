/* --filter-trace-tc, --filter-trace-xdp: an fentry/fexit pair on the tc (sched_cls) and XDP
 * programs loaded when the capture starts (extcap/core/bpf_progs.cpp).
 *
 * User space loads this object once, against the first program of each hook, and then a copy of
 * each program here per traced program, with that program's own function as attach target and
 * its own probe id (core/prog_copy.h), like the fentry backend's functions. The verifier types a
 * tc program's `struct __sk_buff *` as the kernel's struct sk_buff and an XDP program's
 * `struct xdp_md *` as struct xdp_buff: a tc event is an skb event (the shared body), an XDP
 * event has no skb and is built here from the buffer. The entry filters; the return makes an
 * event, with the verdict, only for a context its entry let through. */
#include "common.bpf.h"

/* The contexts (skb or xdp_buff address) an entry let through, for its return; the value is the
 * event's key (the skb, or the XDP data address at entry). Shared by every copy: one program's
 * entry and return run on one CPU, and contexts alive at once have different addresses. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, __u64);
} bpf_entered SEC(".maps");

/* Whether the entry at `ctx_addr` was let through (its key into `key`); forgets it. */
static __always_inline bool bpf_take_entry(__u64 ctx_addr, __u64 *key)
{
	__u64 *seen = bpf_map_lookup_elem(&bpf_entered, &ctx_addr);

	if (!seen)
		return false;
	*key = *seen;
	bpf_map_delete_elem(&bpf_entered, &ctx_addr);
	return true;
}

/* --- tc: the context is the skb --- */

static __always_inline int tc_event(__u64 *ctx, struct sk_buff *skb, bool is_exit, __s32 verdict)
{
	struct pwru_bpf b = { .hook = PWRU_EV_BPF_TC };
	struct skb_layout lo;
	__u64 key = (__u64)skb;

	if (!is_exit) {
		if (!skb_filter(skb, &lo, false, READ_BTF))
			return 0;
		bpf_map_update_elem(&bpf_entered, &key, &key, BPF_ANY);
	} else {
		if (!skb || !bpf_take_entry(key, &key))
			return 0;
		skb_layout(skb, &lo, READ_BTF);
		b.verdict = verdict;
		b.has_verdict = 1;
	}
	return skb_event_nf(ctx, skb, &lo, 0, 0, 0, 0, 0, &b, READ_BTF);
}

SEC("fentry")
int fentry_tc(__u64 *ctx)
{
	return tc_event(ctx, (struct sk_buff *)ctx[0], false, 0);
}

SEC("fexit")
int fexit_tc(__u64 *ctx)
{
	return tc_event(ctx, (struct sk_buff *)ctx[0], true, (__s32)ctx[1]);
}

/* --- XDP: the context is an xdp_buff, with no skb --- */

/* The in-kernel filters on an XDP buffer: its device's namespace and index, the pcap filters on
 * its bytes (an Ethernet frame). A buffer has no mark: it is 0. */
static __always_inline bool xdp_wanted(unsigned char *data, unsigned char *end,
				       struct net_device *dev, __u32 netns)
{
	if (filter_netns && netns != filter_netns)
		return false;
	if (filter_mark_mask && filter_mark != 0)
		return false;
	if (filter_ifindex && (!dev || KREAD(READ_BTF, dev, ifindex) != filter_ifindex))
		return false;
	if (has_pcap_filter &&
	    (end <= data || !pcap_filter((__u64)data, (__u64)end, PWRU_PCAP_ETHERNET)))
		return false;
	if (has_tunnel_filter && end > data) {
		struct skb_layout lo = { .start = data, .end = end, .layer = PWRU_LAYER_ETHERNET };

		if (!tunnel_wanted(&lo))
			return false;
	}
	return true;
}

static __always_inline int xdp_event(__u64 *ctx, struct xdp_buff *xdp, bool is_exit,
				     __s32 verdict)
{
	struct pwru_bpf b = { .hook = PWRU_EV_BPF_XDP };
	unsigned char *data, *end;
	struct xdp_rxq_info *rxq;
	struct net_device *dev = 0;
	struct pwru_event *ev;
	struct net *net = 0;
	__u64 key, ctx_addr = (__u64)xdp;
	__u32 netns = 0;
	__u16 proto = 0;

	if (!xdp)
		return 0;
	data = KREAD(READ_BTF, xdp, data);
	end = KREAD(READ_BTF, xdp, data_end);
	rxq = KREAD(READ_BTF, xdp, rxq);
	if (rxq)
		dev = KREAD(READ_BTF, rxq, dev);
	if (dev)
		net = dev_net_of(dev, READ_BTF);
	if (net)
		netns = KREAD(READ_BTF, net, ns.inum);
	key = (__u64)data;
	if (!is_exit) {
		if (!xdp_wanted(data, end, dev, netns))
			return 0;
		bpf_map_update_elem(&bpf_entered, &ctx_addr, &key, BPF_ANY);
	} else {
		if (!bpf_take_entry(ctx_addr, &key))
			return 0;
		b.verdict = verdict;
		b.has_verdict = 1;
	}

	/* Preemptible, like every fentry program: reserved in place (see skb_event_nf). */
	ev = bpf_ringbuf_reserve(&events, sizeof(*ev) + stack_bytes + sizeof(b) + snaplen, 0);
	if (!ev) {
		count_lost();
		return 0;
	}
	event_start(ctx, ev, key);
	__builtin_memcpy(ev->data + stack_bytes, &b, sizeof(b));
	ev->flags2 = PWRU_EV2_HAS_BPF;
	ev->len = end > data ? end - data : 0;
	ev->netns = netns;
	if (data + 14 <= end && !bpf_probe_read_kernel(&proto, sizeof(proto), data + 12))
		ev->protocol = bpf_ntohs(proto);
	event_dev(ev, dev, READ_BTF);
	if (ev->protocol == ETH_P_IP || ev->protocol == ETH_P_IPV6)
		event_tuple(ev, data + 14, end);
	event_packet(ev, ev->data + stack_bytes + sizeof(b), data, end, PWRU_LAYER_ETHERNET);
	bpf_ringbuf_submit(ev, 0);
	return 0;
}

SEC("fentry")
int fentry_xdp(__u64 *ctx)
{
	return xdp_event(ctx, (struct xdp_buff *)ctx[0], false, 0);
}

SEC("fexit")
int fexit_xdp(__u64 *ctx)
{
	return xdp_event(ctx, (struct xdp_buff *)ctx[0], true, (__s32)ctx[1]);
}
