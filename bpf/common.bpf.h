/* What every backend shares: settings, maps, and the body that turns an skb into an event.
 *
 * A backend's .bpf.c only finds the skb, calls skb_filter(), and for an skb the filters pass
 * reads what its probe carries (a location, a drop reason) and calls skb_event(). */
#ifndef PWRU_COMMON_BPF_H
#define PWRU_COMMON_BPF_H

#include "kernel_types.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

#include "pwru_event.h"
#include "compat.bpf.h"
#include "track_skb.bpf.h"
#include "skb_expr.bpf.h"
#include "stackid.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* Per-run settings, fixed at load time (frozen, so the verifier treats them as constants). */
const volatile __u32 snaplen = 256;
/* In-kernel filters; 0 means "any". An skb that matched once is followed without them when
 * filter_track_skb is set (track_skb.bpf.h). */
const volatile __u32 filter_netns = 0;
const volatile __u32 filter_mark = 0;
const volatile __u32 filter_mark_mask = 0;
const volatile __u32 filter_ifindex = 0;
const volatile __u8 has_pcap_filter = 0;
/* --filter-tunnel-pcap-l2/-l3: pcap_filter's body also holds the programs for the packet inside
 * VXLAN or Geneve (tunnel_wanted). */
const volatile __u8 has_tunnel_filter = 0;
/* pwru-drops: only frees with a real drop reason, not kfree_skb's SKB_CONSUMED (5.19 to 6.2
 * report ordinary frees through kfree_skb too). consumed_reason is that enum value. */
const volatile __u8 drops_only = 0;
const volatile __u32 consumed_reason = 0xffffffff;
/* Bytes of kernel stack at the start of each event's data: 0, or 8 * PWRU_MAX_STACK_DEPTH. */
const volatile __u32 stack_bytes = 0;
/* The netfilter probes of a function backend are attached (bpf/nf.bpf.h): a drop takes the names
 * they left in nf_seen. nf_drop_reason is SKB_DROP_REASON_NETFILTER_DROP, ~0 where the kernel has
 * no such reason. */
const volatile __u8 nf_probes = 0;
const volatile __u32 nf_drop_reason = 0xffffffff;

/* Per-probe settings (struct probe_cfg). User space loads one copy of a program per probe, each
 * with its own frozen copy of this section, because a raw tracepoint program cannot otherwise tell
 * which tracepoint fired it. */
const volatile struct probe_cfg probe SEC(".rodata.probe") = { .location_pos = -1, .reason_pos = -1 };

/* Shared by all backends: user space creates them once and every skeleton reuses them. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 25);
} events SEC(".maps");

/* Events whose ring buffer reservation failed, per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} lost SEC(".maps");

/* The netfilter chain each skb the filters passed is in (or was just dropped by), by skb address:
 * written by the netfilter probes, taken by the drop that frees the skb. LRU: an skb freed where
 * no probe sees it must not pin a slot. Shared by every object of a run. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct pwru_nf);
} nf_seen SEC(".maps");

/* Where an event is built before it is copied into the ring buffer at its own size
 * (skb_event). One slot per level a program can be nested at on one CPU: a task, a softirq
 * that interrupts it, a hardirq, an NMI; `depth` is the next free one. Per skeleton, not
 * shared: a program only ever uses its own skeleton's slots. */
#define PWRU_SCRATCH_SLOTS 4
#define PWRU_SLOT_BYTES (sizeof(struct pwru_event) + 8 * PWRU_MAX_STACK_DEPTH + \
			 sizeof(struct pwru_nf) + sizeof(struct pwru_meta) + \
			 sizeof(struct pwru_shinfo) + PWRU_CB_BYTES + sizeof(struct pwru_bpf) + \
			 sizeof(struct pwru_stackid) + \
			 PWRU_MAX_SNAPLEN)
struct pwru_scratch {
	__u32 depth;
	__u32 pad;
	__u8 slot[PWRU_SCRATCH_SLOTS][PWRU_SLOT_BYTES];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pwru_scratch);
} scratch SEC(".maps");

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17
#define IPPROTO_HOPOPTS 0
#define IPPROTO_ROUTING 43
#define IPPROTO_FRAGMENT 44
#define IPPROTO_DSTOPTS 60
#define MAX_IPV6_EXT_HEADERS 4

static __always_inline void count_lost(void)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&lost, &zero);

	/* Atomic although the slot is per CPU: a program in a softirq can interrupt another one
	 * on the same CPU between its load and store, and the count must be exact. */
	if (n)
		__sync_fetch_and_add(n, 1);
}

/* Reads argument `pos` of the probe through memory rather than as a context access, so one
 * program can serve tracepoints with fewer arguments (a context read past the last argument is
 * refused at attach time). */
static __always_inline __u64 probe_arg(__u64 *args, __s32 pos)
{
	__u64 v = 0;

	if (pos >= 0 && pos < PWRU_TP_ARGS)
		bpf_probe_read_kernel(&v, sizeof(v), &args[pos]);
	return v;
}

/* Fills ports and TCP flags from the transport header at `l4`, if it lies in linear data. */
static __always_inline void set_l4(struct pwru_event *ev, unsigned char *l4, unsigned char *end)
{
	__u8 hdr[14];

	if (ev->l4proto != IPPROTO_TCP && ev->l4proto != IPPROTO_UDP)
		return;
	if (l4 + (ev->l4proto == IPPROTO_TCP ? 14 : 4) > end)
		return;
	if (bpf_probe_read_kernel(hdr, sizeof(hdr), l4))
		return;
	ev->sport = (hdr[0] << 8) | hdr[1];
	ev->dport = (hdr[2] << 8) | hdr[3];
	ev->flags |= PWRU_EV_HAS_PORTS;
	if (ev->l4proto == IPPROTO_TCP) {
		ev->tcp_flags = hdr[13];
		ev->flags |= PWRU_EV_HAS_TCP_FLAGS;
	}
}

static __always_inline void set_ipv4(struct pwru_event *ev, unsigned char *l3, unsigned char *end)
{
	__u8 ip[20];

	if (l3 + sizeof(ip) > end || bpf_probe_read_kernel(ip, sizeof(ip), l3) || ip[0] >> 4 != 4)
		return;
	ev->ip_version = 4;
	ev->l4proto = ip[9];
	__builtin_memcpy(ev->saddr, &ip[12], 4);
	__builtin_memcpy(ev->daddr, &ip[16], 4);
	ev->flags |= PWRU_EV_HAS_TUPLE;
	/* Only the first fragment carries the transport header. */
	if (((ip[6] & 0x1f) << 8 | ip[7]) == 0)
		set_l4(ev, l3 + (ip[0] & 0x0f) * 4, end);
}

static __always_inline void set_ipv6(struct pwru_event *ev, unsigned char *l3, unsigned char *end)
{
	__u8 ip[40];
	__u8 ext[2];
	unsigned char *next;
	__u8 nexthdr;

	if (l3 + sizeof(ip) > end || bpf_probe_read_kernel(ip, sizeof(ip), l3) || ip[0] >> 4 != 6)
		return;
	ev->ip_version = 6;
	__builtin_memcpy(ev->saddr, &ip[8], 16);
	__builtin_memcpy(ev->daddr, &ip[24], 16);
	ev->flags |= PWRU_EV_HAS_TUPLE;
	nexthdr = ip[6];
	next = l3 + sizeof(ip);
	/* Walk the common extension headers to find the transport protocol. */
#pragma unroll
	for (int i = 0; i < MAX_IPV6_EXT_HEADERS; i++) {
		if (nexthdr != IPPROTO_HOPOPTS && nexthdr != IPPROTO_ROUTING &&
		    nexthdr != IPPROTO_DSTOPTS && nexthdr != IPPROTO_FRAGMENT)
			break;
		if (next + sizeof(ext) > end || bpf_probe_read_kernel(ext, sizeof(ext), next))
			return;
		if (nexthdr == IPPROTO_FRAGMENT) {
			__u8 frag[4];

			if (bpf_probe_read_kernel(frag, sizeof(frag), next))
				return;
			ev->l4proto = ext[0];
			if ((frag[2] << 8 | frag[3]) & 0xfff8)
				return; /* not the first fragment: no transport header */
			next += 8;
		} else {
			next += (ext[1] + 1) * 8;
		}
		nexthdr = ext[0];
	}
	ev->l4proto = nexthdr;
	set_l4(ev, next, end);
}

/* pcap_filter's selector: which of the body's programs runs (PcapSelector in
 * extcap/filter/pcap_program.h). */
#define PWRU_PCAP_NETWORK 0
#define PWRU_PCAP_ETHERNET 1
#define PWRU_PCAP_TUNNEL_L2 2
#define PWRU_PCAP_TUNNEL_L3 3

/* The pcap filter. User space replaces this subprogram's body with the translated filters
 * (libpcap's classic BPF for DLT_EN10MB or DLT_RAW, the capture filter's or a tunnel filter's,
 * as `sel` says) before loading a program; it must stay the only subprogram. Returns 1 when
 * [data, data_end) matches. */
static __noinline int pcap_filter(__u64 data, __u64 data_end, __u64 sel)
{
	/* A result the compiler cannot know, from every argument: otherwise it drops an argument
	 * (sel only ever being 0 to 3) or the call itself. */
	return (data ^ sel) != data_end;
}

/* Where the packet starts: the MAC header when there is one (mac == net means no link-layer
 * header, as on tunnels), else the network header. network_header stays 0 until the stack sets
 * it; before that the skb holds no parsable packet (e.g. a TCP segment still being built).
 * For READ_BTF_TRUSTED programs also the skb's device and socket (skb_dev, skb_sk). */
struct skb_layout {
	unsigned char *head, *l3, *start, *end;
	struct net_device *dev;
	struct sock *sk;
	__u8 layer;
	/* --filter-track-skb-by-stackid: the stack the program runs on, and why the event is kept
	 * (enum pwru_stackid_kept; skb_wanted says when not by the filters). */
	__u8 kept;
	__u64 stack_id;
};

static __always_inline void skb_layout(struct sk_buff *skb, struct skb_layout *lo,
				       enum read_mode mode)
{
	/* For every pointer loaded from a trusted BTF pointer the verifier (6.x) looks up types
	 * named like "sk_buff__safe_trusted" and "__safe_rcu", each a scan of all of the kernel's
	 * BTF, on every path that reaches the load. Loaded further down, behind the layout's and
	 * the filter's branches, skb->dev and skb->sk cost those scans once per path, which makes
	 * tp_btf programs load far slower than raw_tp ones (docs/performance.md); loaded here,
	 * before any branch and only here, once. Other programs read them where they are needed:
	 * fentry's skb is not trusted (no lookups), and a kprobe program's reads are helper calls
	 * that runs the filter rejects should not pay. */
	lo->dev = 0;
	lo->sk = 0;
	lo->kept = PWRU_KEPT_OWN;
	lo->stack_id = track_by_stackid ? stack_id() : 0;
	if (mode == READ_BTF_TRUSTED) {
		lo->dev = skb->dev;
		lo->sk = skb->sk;
		barrier_var(lo->dev);
		barrier_var(lo->sk);
	}

	__u16 mac = KREAD(mode, skb, mac_header);
	__u16 net = KREAD(mode, skb, network_header);

	lo->head = KREAD(mode, skb, head);
	lo->end = lo->head + KREAD(mode, skb, tail);
	lo->l3 = net ? lo->head + net : 0;
	lo->start = 0;
	lo->layer = PWRU_LAYER_NONE;
	if (mac != (__u16)~0U && mac < net) {
		lo->start = lo->head + mac;
		lo->layer = PWRU_LAYER_ETHERNET;
	} else if (lo->l3) {
		/* Without a MAC header only an IP packet is worth capturing: the record says the bytes
		 * start with IPv4 or IPv6. */
		__u16 proto = bpf_ntohs(KREAD(mode, skb, protocol));
		__u8 vsn = 0;

		/* Read whatever skb->protocol says: a branch around the read would split the paths
		 * the verifier walks through the rest of the program. */
		bpf_probe_read_kernel(&vsn, 1, lo->l3);
		vsn >>= 4;
		if (proto == ETH_P_IP || proto == ETH_P_IPV6 || (!proto && (vsn == 4 || vsn == 6))) {
			lo->start = lo->l3;
			lo->layer = PWRU_LAYER_NETWORK;
		}
	}
}

static __always_inline struct net_device *skb_dev(struct sk_buff *skb, struct skb_layout *lo,
						  enum read_mode mode)
{
	return mode == READ_BTF_TRUSTED ? lo->dev : KREAD(mode, skb, dev);
}

static __always_inline struct sock *skb_sk(struct sk_buff *skb, struct skb_layout *lo,
					   enum read_mode mode)
{
	return mode == READ_BTF_TRUSTED ? lo->sk : KREAD(mode, skb, sk);
}

/* Network namespace inode of the skb: its device's namespace, else its socket's (an skb on the
 * transmit path before a device is chosen only has a socket); 0 when neither says. */
static __always_inline __u32 skb_netns(struct sk_buff *skb, struct skb_layout *lo,
				       struct net_device *dev, enum read_mode mode)
{
	struct net *net = dev ? dev_net_of(dev, mode) : 0;

	if (!net) {
		struct sock *sk = skb_sk(skb, lo, mode);

		if (sk)
			net = sk_net_of(sk, mode);
	}
	return net ? KREAD(mode, net, ns.inum) : 0;
}

/* VXLAN's UDP ports (IANA's and Linux's old default) and Geneve's, as in
 * extcap/record/pwru_changes.h. */
#define PWRU_VXLAN_PORT 4789
#define PWRU_VXLAN_PORT_LINUX 8472
#define PWRU_GENEVE_PORT 6081

/* --filter-tunnel-pcap-l2/-l3 on a VXLAN or Geneve packet whose outer header the bytes start
 * with: the frame inside (l2) and the IP packet inside (l3) must both match. Other packets
 * pass, as with pwru: the tunnel filters only judge tunnel traffic. Outer IPv4 without options
 * beyond its IHL and IPv6 without extension headers, as the kernel's tunnels send them. */
static __always_inline bool tunnel_wanted(struct skb_layout *lo)
{
	unsigned char *l3 = lo->start, *inner;
	__u8 ip[10], t[16];
	__u16 type = 0, dport;

	if (lo->layer == PWRU_LAYER_ETHERNET) {
		if (bpf_probe_read_kernel(&type, sizeof(type), l3 + 12))
			return true;
		type = bpf_ntohs(type);
		if (type != ETH_P_IP && type != ETH_P_IPV6)
			return true;
		l3 += 14;
	}
	if (bpf_probe_read_kernel(ip, sizeof(ip), l3))
		return true;
	if (ip[0] >> 4 == 4) {
		/* Only the first fragment holds the UDP header. */
		if (ip[9] != IPPROTO_UDP || ((ip[6] & 0x1f) | ip[7]))
			return true;
		l3 += (ip[0] & 0x0f) * 4;
	} else if (ip[0] >> 4 == 6) {
		if (ip[6] != IPPROTO_UDP)
			return true;
		l3 += 40;
	} else {
		return true;
	}
	/* The UDP header, then the tunnel's 8 bytes. */
	if (bpf_probe_read_kernel(t, sizeof(t), l3))
		return true;
	dport = (__u16)t[2] << 8 | t[3];
	inner = l3 + 16;
	type = 0x6558; /* transparent Ethernet bridging: an Ethernet frame */
	if (dport == PWRU_VXLAN_PORT || dport == PWRU_VXLAN_PORT_LINUX) {
		if (!(t[8] & 0x08)) /* no VNI: no VXLAN packet */
			return true;
	} else if (dport == PWRU_GENEVE_PORT) {
		if (t[8] >> 6) /* a version after 0 */
			return true;
		inner += (t[8] & 0x3f) * 4;
		type = (__u16)t[10] << 8 | t[11];
	} else {
		return true;
	}
	if (inner >= lo->end)
		return false;
	if (type == 0x6558) {
		if (!pcap_filter((__u64)inner, (__u64)lo->end, PWRU_PCAP_TUNNEL_L2))
			return false;
		if (bpf_probe_read_kernel(&type, sizeof(type), inner + 12))
			return false;
		type = bpf_ntohs(type);
		inner += 14;
		if (inner >= lo->end)
			return false;
	}
	if (type != ETH_P_IP && type != ETH_P_IPV6)
		return false;
	return pcap_filter((__u64)inner, (__u64)lo->end, PWRU_PCAP_TUNNEL_L3);
}

/* The metadata and pcap filters; tracked skbs pass, and a match starts tracking. */
static __always_inline bool skb_passes(struct sk_buff *skb, struct skb_layout *lo, bool frees,
				       enum read_mode mode)
{
	if (track_known((__u64)skb, frees))
		return true;
	if (filter_netns && skb_netns(skb, lo, skb_dev(skb, lo, mode), mode) != filter_netns)
		return false;
	if (filter_mark_mask && (KREAD(mode, skb, mark) & filter_mark_mask) != filter_mark)
		return false;
	if (filter_ifindex) {
		struct net_device *dev = skb_dev(skb, lo, mode);

		if (!dev || KREAD(mode, dev, ifindex) != filter_ifindex)
			return false;
	}
	if (expr_filter.op && !skb_expr_wanted(skb))
		return false;
	if (has_pcap_filter) {
		if (!lo->start || lo->end <= lo->start)
			return false;
		if (!pcap_filter((__u64)lo->start, (__u64)lo->end,
				 lo->layer == PWRU_LAYER_ETHERNET ? PWRU_PCAP_ETHERNET :
								    PWRU_PCAP_NETWORK))
			return false;
	}
	if (has_tunnel_filter && lo->start && lo->end > lo->start && !tunnel_wanted(lo))
		return false;
	track_start((__u64)skb, frees);
	return true;
}

/* skb_passes, and with --filter-track-skb-by-stackid the stack's part (stackid.bpf.h): an skb that
 * passes becomes its stack's packet, one that does not is kept while its stack has a packet. */
static __always_inline bool skb_wanted(struct sk_buff *skb, struct skb_layout *lo, bool frees,
				       enum read_mode mode)
{
	if (!skb_passes(skb, lo, frees, mode)) {
		if (!track_by_stackid || !stackid_skb(lo->stack_id))
			return false;
		lo->kept = PWRU_KEPT_BY_STACKID;
		return true;
	}
	if (track_by_stackid)
		stackid_note((__u64)skb, lo->stack_id, frees);
	return true;
}

/* An fentry probe's caller: the return address after the traced function's own frame (the one
 * its call into the trampoline left) in a short walk of the stack. 0 when it is not found. */
static __always_inline __u64 caller_from_stack(void *ctx)
{
	__u64 frames[PWRU_CALLER_FRAMES] = {};
	long n = bpf_get_stack(ctx, frames, sizeof(frames), 0);
	int i;

	if (n <= 0)
		return 0;
#pragma unroll
	for (i = 0; i < PWRU_CALLER_FRAMES - 1; i++) {
		if (frames[i] >= probe.text_start && frames[i] < probe.text_end)
			return frames[i + 1];
	}
	return 0;
}

/* The first half of every program: the skb's layout (into `lo`), and whether the filters want
 * the skb. Callers read nothing of the probe's own settings (.rodata.probe, a map of each
 * program copy's own) and call no helper before it: most runs end here, and each cache line a
 * run touches, of some thirty program copies along one packet's path, costs it. `frees` is only
 * read when tracking (pass TRACK_FREES(...)). `mode`: how the program reads the skb
 * (enum read_mode); a constant at every call. */
static __always_inline bool skb_filter(struct sk_buff *skb, struct skb_layout *lo, bool frees,
				       enum read_mode mode)
{
	if (!skb)
		return false;
	skb_layout(skb, lo, mode);
	return skb_wanted(skb, lo, frees, mode);
}

/* The parts of an event every kind of context fills alike (skb_event_nf below, and the XDP
 * events of bpf/bpf_progs.bpf.c, which have no skb). */

/* The event's task, time, probe and stack; `key` is what follows one packet (the skb address). */
static __always_inline void event_start(void *ctx, struct pwru_event *ev, __u64 key)
{
	__builtin_memset(ev, 0, sizeof(*ev));
	ev->ktime_ns = bpf_ktime_get_ns();
	ev->skb = key;
	ev->probe_id = probe.probe_id;
	ev->cpu = bpf_get_smp_processor_id();
	ev->pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(ev->comm, sizeof(ev->comm));
	if (stack_bytes) {
		long n = bpf_get_stack(ctx, ev->data, stack_bytes, 0);

		ev->stack_depth = n > 0 ? (__u64)n / 8 : 0;
	}
}

/* The device's index, MTU and name. */
static __always_inline void event_dev(struct pwru_event *ev, struct net_device *dev,
				      enum read_mode mode)
{
	if (!dev)
		return;
	ev->ifindex = KREAD(mode, dev, ifindex);
	ev->mtu = KREAD(mode, dev, mtu);
	BPF_CORE_READ_STR_INTO(&ev->ifname, dev, name);
	ev->flags |= PWRU_EV_HAS_DEV;
}

/* The IP tuple from the network header at `l3`, as ev->protocol says. */
static __always_inline void event_tuple(struct pwru_event *ev, unsigned char *l3,
					unsigned char *end)
{
	/* The header's own version must agree with the protocol; with no protocol set, the
	 * version alone decides. set_ipv4/set_ipv6 check it in the header they read. */
	if (l3 && ev->protocol == ETH_P_IP) {
		set_ipv4(ev, l3, end);
	} else if (l3 && ev->protocol == ETH_P_IPV6) {
		set_ipv6(ev, l3, end);
	} else if (l3 && !ev->protocol) {
		__u8 vsn = 0;

		bpf_probe_read_kernel(&vsn, 1, l3);
		if (vsn >> 4 == 4)
			set_ipv4(ev, l3, end);
		else if (vsn >> 4 == 6)
			set_ipv6(ev, l3, end);
	}
}

/* Up to snaplen bytes of [start, end) to `to`, with ev->layer `layer`; sets cap_len. */
static __always_inline void event_packet(struct pwru_event *ev, unsigned char *to,
					 unsigned char *start, unsigned char *end, __u8 layer)
{
	__u32 cap = 0;

	ev->layer = layer;
	if (start && end > start) {
		__u64 avail = end - start;
		/* Bounded first, as a constant: verifiers before 6.x also walk the branch a later
		 * bound could never take, and then see a read larger than the reservation. */
		__u32 want = snaplen > PWRU_MAX_SNAPLEN ? PWRU_MAX_SNAPLEN : snaplen;

		cap = avail < want ? avail : want;
		if (bpf_probe_read_kernel(to, cap, start))
			cap = 0;
	}
	if (!cap)
		ev->layer = PWRU_LAYER_NONE;
	ev->cap_len = cap;
}

/* The second half: one event for an skb that skb_filter passed (skb_event below), with the names
 * of a netfilter probe when `nf` is not null and the tc program's section when `bpf` is not null
 * (compile-time nulls in the callers that never have them).
 *
 * A ring buffer reservation must have a size known at load time, and the event's is only known
 * once the packet is read: reserving header + snaplen would take a full snaplen's room for a
 * small packet (docs/performance.md). So the event is built in a per-CPU scratch slot and copied
 * into the ring buffer at its own size (bpf_ringbuf_output), and the ring buffer holds more
 * events before it is full. Programs run without preemption (tracepoints, kprobes), so the
 * programs on one CPU nest like calls, and each takes the next slot and gives it back. fentry
 * programs can be preempted by another task's (a trampoline only disables migration), which
 * could take the same slot: they reserve header + snaplen in the ring buffer. */
static __always_inline int skb_event_nf(void *ctx, struct sk_buff *skb, struct skb_layout *lo,
					__u64 func_ip, __u64 location, __u32 reason,
					__u32 extra_flags, const struct pwru_nf *nf,
					const struct pwru_bpf *bpf, enum read_mode mode)
{
	const bool in_place = PREEMPTIBLE(mode);
	const __u32 nf_room = nf ? sizeof(struct pwru_nf) : 0;
	/* The sections of flags2 that follow the netfilter one (skb_expr.bpf.h), then the tc or
	 * XDP program's (bpf_progs.bpf.c). */
	const __u32 expr_room = skb_expr_room();
	const __u32 bpf_room = bpf ? sizeof(struct pwru_bpf) : 0;
	/* Then the stack id section (PWRU_EV2_HAS_STACKID, the last bit). */
	const __u32 sid_room = track_by_stackid ? sizeof(struct pwru_stackid) : 0;
	struct pwru_scratch *s = 0;
	struct pwru_event *ev;
	struct net_device *dev;
	__u32 depth = 0, zero = 0;

	if (in_place) {
		/* snaplen and stack_bytes are load-time constants: the size is fixed. */
		ev = bpf_ringbuf_reserve(&events, sizeof(*ev) + stack_bytes + nf_room + expr_room +
							  bpf_room + sid_room + snaplen, 0);
	} else {
		s = bpf_map_lookup_elem(&scratch, &zero);
		if (!s) {
			/* Key 0 of a per-CPU array is always there; still, an event not made is
			 * counted, like every other. */
			count_lost();
			return 0;
		}
		depth = s->depth;
		if (depth >= PWRU_SCRATCH_SLOTS) {
			count_lost();
			return 0;
		}
		/* A program that interrupts this one before the store sees the same depth, and
		 * has given the slot back before this one goes on. */
		s->depth = depth + 1;
		ev = (struct pwru_event *)s->slot[depth];
	}
	if (!ev) {
		count_lost();
		return 0;
	}
	event_start(ctx, ev, (__u64)skb);
	ev->location = location;
	ev->func_ip = func_ip;
	ev->drop_reason = reason;
	ev->flags = extra_flags;
	if (probe.text_start) {
		__u64 caller = caller_from_stack(ctx);

		if (caller) {
			ev->location = caller;
			ev->flags |= PWRU_EV_HAS_LOCATION;
		}
	}

	if (nf) {
		__builtin_memcpy(ev->data + stack_bytes, nf, sizeof(*nf));
		ev->flags |= PWRU_EV_HAS_NF;
	}
	if (expr_room)
		ev->flags2 |= skb_expr_fill(skb, lo->head, ev->data + stack_bytes + nf_room, mode);
	if (bpf) {
		__builtin_memcpy(ev->data + stack_bytes + nf_room + expr_room, bpf, sizeof(*bpf));
		ev->flags2 |= PWRU_EV2_HAS_BPF;
	}
	if (sid_room) {
		struct pwru_stackid *sid =
			(void *)(ev->data + stack_bytes + nf_room + expr_room + bpf_room);

		sid->stack_id = lo->stack_id;
		sid->kept = lo->kept;
		__builtin_memset(sid->pad, 0, sizeof(sid->pad));
		ev->flags2 |= PWRU_EV2_HAS_STACKID;
	}

	ev->mark = KREAD(mode, skb, mark);
	ev->len = KREAD(mode, skb, len);
	ev->skb_hash = KREAD(mode, skb, hash);
	ev->skb_iif = KREAD(mode, skb, skb_iif);
	ev->protocol = bpf_ntohs(KREAD(mode, skb, protocol));
	dev = skb_dev(skb, lo, mode);
	ev->netns = skb_netns(skb, lo, dev, mode);
	event_dev(ev, dev, mode);
	event_tuple(ev, lo->l3, lo->end);
	event_packet(ev, ev->data + stack_bytes + nf_room + expr_room + bpf_room + sid_room,
		     lo->start, lo->end, lo->layer);

	if (in_place) {
		bpf_ringbuf_submit(ev, 0);
		return 0;
	}
	if (bpf_ringbuf_output(&events, ev,
			       sizeof(*ev) + stack_bytes + nf_room + expr_room + bpf_room + sid_room +
				       ev->cap_len, 0))
		count_lost();
	s->depth = depth;
	return 0;
}

static __always_inline int skb_event(void *ctx, struct sk_buff *skb, struct skb_layout *lo,
				     __u64 func_ip, __u64 location, __u32 reason,
				     __u32 extra_flags, enum read_mode mode)
{
	return skb_event_nf(ctx, skb, lo, func_ip, location, reason, extra_flags, 0, 0, mode);
}

/* --filter-non-skb-funcs: a function without skb argument, on a stack that follows a packet
 * (stackid.bpf.h), is an event of that packet. Helper reads (`mode` READ_HELPER, or
 * READ_HELPER_PREEMPTIBLE for fentry): the skb is a number from a map, and may be gone by now. */
static __always_inline int nonskb_event(void *ctx, __u64 func_ip, __u64 location, __u32 flags,
					enum read_mode mode)
{
	struct skb_layout lo;
	__u64 id, skb;

	if (!track_by_stackid)
		return 0;
	id = stack_id();
	skb = stackid_skb(id);
	if (!skb)
		return 0;
	skb_layout((struct sk_buff *)skb, &lo, mode);
	lo.stack_id = id;
	lo.kept = PWRU_KEPT_NON_SKB;
	return skb_event(ctx, (struct sk_buff *)skb, &lo, func_ip, location, 0, flags, mode);
}

/* A drop takes what the netfilter probes left for its skb (nf_seen) into `nf`; any free forgets
 * it, so that the next skb at this address starts clean. Whether this free is netfilter's: the
 * probe is a drop, and its reason, where it has one, is NETFILTER_DROP. */
static __always_inline bool nf_take_drop(__u64 skb, bool has_reason, __u32 reason,
					 struct pwru_nf *nf)
{
	struct pwru_nf *seen;

	if (!nf_probes || !(probe.flags & PWRU_PROBE_FREES_SKB))
		return false;
	seen = bpf_map_lookup_elem(&nf_seen, &skb);
	if (!seen)
		return false;
	__builtin_memcpy(nf, seen, sizeof(*nf));
	bpf_map_delete_elem(&nf_seen, &skb);
	if (!(probe.flags & PWRU_PROBE_DROPS_SKB))
		return false;
	if (has_reason && nf_drop_reason != 0xffffffff && reason != nf_drop_reason)
		return false;
	nf->verdict = 0; /* NF_DROP: freed inside the chain, or after it returned NF_DROP */
	return true;
}

#endif /* PWRU_COMMON_BPF_H */
