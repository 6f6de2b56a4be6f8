/* The event one BPF program hands to user space through the ring buffer: plain data only.
 *
 * Included by the BPF side (after kernel_types.h) and by user space (after <linux/types.h>),
 * so it has no includes of its own. Every field is fixed-size; the packet bytes follow the
 * header (after the kernel stack, when asked for) and `cap_len` says how many are valid. */
#ifndef PWRU_EVENT_H
#define PWRU_EVENT_H

#define PWRU_COMM_LEN 16
#define PWRU_IFNAME_LEN 16
/* Upper bound of --snaplen. An event takes header + stack + cap_len bytes of ring buffer
 * (fentry programs: header + stack + snaplen; see skb_event). */
#define PWRU_MAX_SNAPLEN 4096
/* Kernel stack frames kept per event with --output-stack. */
#define PWRU_MAX_STACK_DEPTH 32
/* How many leading arguments a probe reads (the skb's, `location`'s, the drop reason's): a
 * function's first PWRU_FUNC_ARGS (the registers the kprobe programs read, x86-64 calling
 * convention), a tracepoint's first PWRU_TP_ARGS. Each backend has one program per skb position,
 * named <prefix>_<position>; user space finds them by that name. */
#define PWRU_FUNC_ARGS 5
#define PWRU_TP_ARGS 6

/* Where the captured bytes start. */
enum pwru_layer {
	PWRU_LAYER_NONE = 0,     /* nothing captured */
	PWRU_LAYER_ETHERNET = 1, /* MAC header was set: bytes start at the Ethernet header */
	PWRU_LAYER_NETWORK = 2,  /* no MAC header: bytes start at the IPv4/IPv6 header */
};

/* Bits of pwru_event.flags. */
enum pwru_event_flags {
	PWRU_EV_HAS_DROP_REASON = 1 << 0, /* drop_reason is valid */
	PWRU_EV_HAS_LOCATION = 1 << 1,    /* location is valid (tracepoint `location` argument) */
	PWRU_EV_HAS_TUPLE = 1 << 2,       /* ip_version, saddr, daddr, l4proto are valid */
	PWRU_EV_HAS_PORTS = 1 << 3,       /* sport and dport are valid (TCP/UDP) */
	PWRU_EV_HAS_TCP_FLAGS = 1 << 4,   /* tcp_flags is valid */
	PWRU_EV_HAS_DEV = 1 << 5,         /* skb->dev was set: ifindex, ifname, mtu valid */
	PWRU_EV_HAS_FUNC_IP = 1 << 6,     /* func_ip names the probed function (kprobe backends) */
	PWRU_EV_HAS_NF = 1 << 7,          /* a struct pwru_nf follows the stack in data[] */
};

/* Bits of pwru_event.flags2: optional sections of data[], each present only when its option
 * asked for it. In data[] they follow the struct pwru_nf in the order of their bits, and the
 * packet bytes come last. */
enum pwru_event_flags2 {
	PWRU_EV2_HAS_META = 1 << 0,    /* --output-skb-metadata values */
	PWRU_EV2_HAS_SHINFO = 1 << 1,  /* --output-skb-shared-info */
	PWRU_EV2_HAS_CB = 1 << 2,      /* --output-skb-cb */
	PWRU_EV2_HAS_BPF = 1 << 3,     /* --filter-trace-tc/-xdp: the BPF program and its verdict */
	PWRU_EV2_HAS_STACKID = 1 << 4, /* --filter-track-skb-by-stackid / --filter-non-skb-funcs */
};

struct pwru_event {
	__u64 ktime_ns;  /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u64 skb;       /* skb address, the key that follows one packet */
	__u64 location;  /* caller / `location` argument, a kernel text address */
	__u64 func_ip;   /* address in the probed function, when one program serves many */
	__u32 probe_id;  /* index into user space's table of attached probes */
	__u32 cpu;
	__u32 pid;       /* thread group id */
	__u32 netns;     /* network namespace inode */
	__u32 mark;
	__u32 ifindex;
	__u32 mtu;
	__u32 len;       /* skb->len */
	__u32 drop_reason;
	/* skb->hash and skb->skb_iif as the event saw them: with the skb address, what nftables
	 * makes a traced packet's id from (--nf-trace's exact tie, docs/netfilter.md). */
	__u32 skb_hash;
	__u32 skb_iif;
	__u16 stack_depth; /* frames at the start of data[] (0 without --output-stack) */
	__u16 pad2;
	__u16 protocol;  /* skb->protocol, host byte order */
	__u16 sport;     /* host byte order */
	__u16 dport;
	__u16 cap_len;   /* bytes of data[] that are valid */
	__u8 flags;      /* pwru_event_flags */
	__u8 layer;      /* pwru_layer */
	__u8 ip_version; /* 4 or 6 */
	__u8 l4proto;    /* IPPROTO_* */
	__u8 tcp_flags;
	__u8 flags2;     /* pwru_event_flags2 */
	__u8 pad[2];
	__u8 saddr[16];  /* network byte order; IPv4 uses the first 4 bytes */
	__u8 daddr[16];
	char comm[PWRU_COMM_LEN];
	char ifname[PWRU_IFNAME_LEN];
	/* With --output-stack, PWRU_MAX_STACK_DEPTH u64 return addresses (stack_depth of them
	 * valid), then with PWRU_EV_HAS_NF a struct pwru_nf, then the sections of flags2 in bit
	 * order, then cap_len bytes of linear packet data. */
	__u8 data[];
};

/* What the function backends' netfilter probes saw (bpf/nf.bpf.h): the table and base chain a
 * packet went through, and the verdict of that chain. */
#define PWRU_NF_NAME_LEN 64

enum pwru_nf_source {
	PWRU_NF_NFT = 1,  /* nft_do_chain: chain is the base chain's name */
	PWRU_NF_IPT = 2,  /* ipt_do_table or ip6t_do_table: no chain name, the hook names it */
};

/* Where a packet is, for the probes (pwru_nf.state). */
enum pwru_nf_state {
	PWRU_NF_IN_CHAIN = 1, /* between entry and return: a free now is the chain's drop */
	PWRU_NF_DROPPED = 2,  /* returned NF_DROP: nf_hook_slow frees it next */
};

struct pwru_nf {
	__s32 verdict;   /* NF_DROP 0, NF_ACCEPT 1, NF_STOLEN 2, NF_QUEUE 3 */
	__u8 family;     /* NFPROTO of the table: 1 inet, 2 ip, 10 ip6, ... */
	__u8 hook;       /* NF_INET_* (netdev: NF_NETDEV_*), as the table's family numbers them */
	__u8 source;     /* enum pwru_nf_source */
	__u8 state;      /* enum pwru_nf_state; the probes' own, not for user space */
	__u64 caller;    /* the function that called the probed one (its return address) */
	char table[PWRU_NF_NAME_LEN];
	char chain[PWRU_NF_NAME_LEN];
};

/* --output-skb-metadata and --filter-skb-expr: a field reached from the skb through a chain of
 * pointers, resolved in user space through the kernel's BTF (extcap/core/skb_expr.cpp) into
 * these steps, run by bpf/skb_expr.bpf.h: from the skb's address, for each of the first `nderef`
 * offsets, read the pointer at address + offset (a null pointer ends the read: no value); then
 * read `size` bytes at address + `offset`, shift them right by `bit_shift`, keep `bit_width`
 * bits and sign-extend them when `is_signed`. A string (a char array) keeps its bytes. */
#define PWRU_EXPR_DEREFS 6
#define PWRU_META_MAX 4
#define PWRU_META_BYTES 16 /* a value: an integer of up to 8 bytes, or a string of up to 16 */

struct pwru_expr {
	__u32 deref[PWRU_EXPR_DEREFS];
	__u32 offset;
	__u8 nderef;
	__u8 size;      /* 1 to 8; a string 1 to PWRU_META_BYTES */
	__u8 bit_shift;
	__u8 bit_width; /* 1 to 64 */
	__u8 is_signed;
	__u8 is_string;
	__u8 pad[2];
};

enum pwru_expr_op {
	PWRU_EXPR_EQ = 1,
	PWRU_EXPR_NE = 2,
	PWRU_EXPR_LT = 3,
	PWRU_EXPR_LE = 4,
	PWRU_EXPR_GT = 5,
	PWRU_EXPR_GE = 6,
};

/* --filter-skb-expr: (field & mask) op value, signed when the field is. */
struct pwru_expr_filter {
	struct pwru_expr expr;
	__u64 mask;
	__u64 value;
	__u8 op; /* enum pwru_expr_op; 0: no filter */
	__u8 pad[7];
};

/* PWRU_EV2_HAS_META: the values of the expressions, in the order given; bit i of `valid` says
 * value i was read (no null pointer on the way, the kernel let it be read). */
struct pwru_meta {
	__u8 value[PWRU_META_MAX][PWRU_META_BYTES];
	__u32 valid;
	__u32 pad;
};

/* PWRU_EV2_HAS_SHINFO: the skb's struct skb_shared_info (at skb->head + skb->end). */
struct pwru_shinfo {
	__u32 gso_type;  /* SKB_GSO_* bits */
	__u32 tskey;
	__u32 dataref;
	__u16 gso_size;
	__u16 gso_segs;
	__u8 nr_frags;
	__u8 tx_flags;   /* SKBTX_* bits */
	__u8 flags;      /* SKBFL_* bits (0 before Linux 5.12, which had none) */
	__u8 meta_len;
	__u32 pad;
	__u64 frag_list; /* address of the first skb of the frag list, 0 without one */
};

/* PWRU_EV2_HAS_CB: skb->cb, the control buffer the layer that holds the skb uses. */
#define PWRU_CB_BYTES 48

/* PWRU_EV2_HAS_BPF's section (--filter-trace-tc, --filter-trace-xdp): the tc or XDP program an
 * fentry (entry) or fexit (return, with the verdict) on it saw; its name and id are user space's,
 * by the event's probe id. An XDP event has no skb: its `skb` is the XDP data address at the
 * program's entry. */
enum pwru_ev_bpf_hook {
	PWRU_EV_BPF_TC = 1,  /* sched_cls: the context is the skb itself */
	PWRU_EV_BPF_XDP = 2, /* the context is an xdp_buff */
};

struct pwru_bpf {
	__s32 verdict;    /* the program's return value, with has_verdict */
	__u8 hook;        /* enum pwru_ev_bpf_hook: the record's PWRU_BPF_HOOK_* values */
	__u8 has_verdict; /* 1: a return (fexit); 0: an entry */
	__u8 pad[2];
};

/* The PWRU_EV2_HAS_STACKID section (--filter-track-skb-by-stackid, --filter-non-skb-funcs): the
 * kernel stack the event ran on, and why the event was kept. An event whose skb the filters did
 * not pass is kept when a packet they did pass was last seen on the same stack and is not freed
 * yet (bpf/stackid.bpf.h). */
enum pwru_stackid_kept {
	PWRU_KEPT_OWN = 0,        /* the filters or --filter-track-skb passed the skb itself */
	PWRU_KEPT_BY_STACKID = 1, /* another skb, on the stack of a packet the filters passed */
	PWRU_KEPT_NON_SKB = 2,    /* a function without skb argument (--filter-non-skb-funcs), on
				   * that stack: the event's skb is that packet's */
};

struct pwru_stackid {
	__u64 stack_id; /* the stack: a task stack's base address, or ~cpu for a CPU's IRQ stack */
	__u8 kept;      /* enum pwru_stackid_kept */
	__u8 pad[7];
};

/* Per-probe settings, one frozen copy per loaded program (section .rodata.probe). Argument
 * positions are 0-based and -1 when the probe has no such argument. */
struct probe_cfg {
	__u32 probe_id;
	__s32 location_pos; /* the probe's `location` argument (kfree_skb, consume_skb) */
	__s32 reason_pos;   /* the probe's `enum skb_drop_reason` argument (kfree_skb) */
	__u32 flags;        /* enum pwru_probe_flags */
	/* fentry: the traced function's code [text_start, text_end). An fentry program has no
	 * return address in its context, so its caller is the frame after this range in a short
	 * stack walk. 0 for every other probe. */
	__u64 text_start;
	__u64 text_end;
};

/* Frames walked to find an fentry probe's caller: the program, the trampoline, the traced
 * function and its caller, with room for a deeper glue. */
#define PWRU_CALLER_FRAMES 8

enum pwru_probe_flags {
	PWRU_PROBE_FREES_SKB = 1 << 0, /* the skb is freed here: --filter-track-skb forgets it */
	PWRU_PROBE_DROPS_SKB = 1 << 1, /* a drop (kfree_skb): gets a netfilter probe's names */
};

/* kprobe and kprobe-multi programs serve many functions; their attach cookie says where the
 * function's drop reason is (low byte: 0 none, else 1 + its 0-based argument position) and
 * whether it frees the skb (PWRU_COOKIE_FREES). */
#define PWRU_COOKIE_REASON(pos) ((__u64)(pos) + 1)
#define PWRU_COOKIE_FREES (1ULL << 8)

#endif /* PWRU_EVENT_H */
