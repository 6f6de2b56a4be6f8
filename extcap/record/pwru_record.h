/* The pwru record: one kernel event as stored in a pcapng packet (see docs/record-format.md).
 *
 * Shared by the writer (pwrudump) and the reader (the `pwru` dissector): plain C, <stdint.h> only.
 * A record is a fixed header followed by TLV fields; all integers are little-endian. A reader
 * skips fields whose type it does not know, so adding a field never breaks an older reader.
 * Change the meaning of an existing field only together with PWRU_RECORD_VERSION. */
#ifndef PWRU_RECORD_H
#define PWRU_RECORD_H

#include <stdint.h>

/* The dissector name carried in the exported-PDU tag (LINKTYPE_WIRESHARK_UPPER_PDU, 252). */
#define PWRU_DISSECTOR_NAME "pwru"
#define PWRU_LINKTYPE_UPPER_PDU 252
/* Exported-PDU tags (Wireshark's epan/exported_pdu.h): type and length are big-endian there. */
#define PWRU_EXP_PDU_TAG_END 0
#define PWRU_EXP_PDU_TAG_DISSECTOR_NAME 12

#define PWRU_RECORD_VERSION 1
/* Header: u16 version, u16 header_len (bytes before the first TLV, >= 4). */
#define PWRU_RECORD_HEADER_LEN 4
/* TLV: u16 type, u16 length, then `length` bytes of value. No padding between TLVs. */
#define PWRU_TLV_HEADER_LEN 4

/* TLV types. Sizes in brackets are exact; a field of another size is malformed. */
enum pwru_tlv_type {
	PWRU_TLV_SKB = 1,              /* [8] u64 skb address */
	PWRU_TLV_FUNC = 2,             /* string: function or tracepoint name */
	PWRU_TLV_PROBE = 3,            /* [1] u8 enum pwru_probe_kind */
	PWRU_TLV_CPU = 4,              /* [4] u32 */
	PWRU_TLV_PID = 5,              /* [4] u32 thread group id */
	PWRU_TLV_COMM = 6,             /* string: task name */
	PWRU_TLV_NETNS = 7,            /* [4] u32 network namespace inode */
	PWRU_TLV_MARK = 8,             /* [4] u32 skb->mark */
	PWRU_TLV_IFINDEX = 9,          /* [4] u32 */
	PWRU_TLV_IFNAME = 10,          /* string */
	PWRU_TLV_PROTO = 11,           /* [2] u16 EtherType (skb->protocol) */
	PWRU_TLV_MTU = 12,             /* [4] u32 */
	PWRU_TLV_LEN = 13,             /* [4] u32 skb->len */
	PWRU_TLV_IPV4_SRC = 14,        /* [4] address, network byte order */
	PWRU_TLV_IPV4_DST = 15,        /* [4] */
	PWRU_TLV_IPV6_SRC = 16,        /* [16] */
	PWRU_TLV_IPV6_DST = 17,        /* [16] */
	PWRU_TLV_SPORT = 18,           /* [2] u16 */
	PWRU_TLV_DPORT = 19,           /* [2] u16 */
	PWRU_TLV_L4PROTO = 20,         /* [1] u8 IP protocol number */
	PWRU_TLV_TCP_FLAGS = 21,       /* [1] u8 TCP flags byte (FIN 0x01 ... CWR 0x80) */
	PWRU_TLV_DROP_REASON = 22,     /* [4] u32 kernel enum skb_drop_reason value */
	PWRU_TLV_DROP_REASON_NAME = 23, /* string: name without SKB_DROP_REASON_, e.g. NETFILTER_DROP */
	PWRU_TLV_CALLER = 24,          /* string: symbolized caller, e.g. "nf_hook_slow+0x9b" */
	PWRU_TLV_CALLER_ADDR = 25,     /* [8] u64 kernel text address */
	PWRU_TLV_STACK_FRAME = 26,     /* string, repeated: one kernel stack frame, innermost first */
	PWRU_TLV_KTIME = 27,           /* [8] u64 CLOCK_MONOTONIC ns of the event */
	PWRU_TLV_PACKET_LAYER = 28,    /* [1] u8 enum pwru_packet_layer: what PACKET starts with */
	PWRU_TLV_PACKET = 29,          /* bytes: the first snaplen bytes of linear packet data */
	/* The netfilter rule that dropped the packet (--nf-trace); all present or none. */
	PWRU_TLV_NF_FAMILY = 30,       /* [1] u8 NFPROTO of the table: 1 inet, 2 ip, 10 ip6, ... */
	PWRU_TLV_NF_HOOK = 31,         /* string: its base chain's hook as nft names it, e.g. input */
	PWRU_TLV_NF_TABLE = 32,        /* string: table name */
	PWRU_TLV_NF_CHAIN = 33,        /* string: the rule's chain (after a jump, the jumped-to one) */
	PWRU_TLV_NF_HANDLE = 34,       /* [8] u64 rule handle; absent: the chain's policy */
	PWRU_TLV_NF_RULE = 35,         /* string: the rule as `nft -a list` prints it, no handle */
	PWRU_TLV_NF_VERDICT = 36,      /* [4] s32 verdict: 0 drop, 1 accept, -3 jump, ... */
	PWRU_TLV_NF_TIE = 37,          /* [1] u8 enum pwru_nf_tie: how the trace was tied */
	PWRU_TLV_NF_RULE_STATE = 38,   /* [1] u8 enum pwru_nf_rule_state; absent: the rule is current */
	PWRU_TLV_NF_JUMP_TARGET = 39,  /* string: the chain a jump or goto verdict goes to */
	PWRU_TLV_NF_TRACE_TYPE = 40,   /* [1] u8 enum pwru_nf_trace_type: what the trace reported */
	/* A record of its own: a namespace's netfilter trace listener overflowed (--nf-trace) */
	PWRU_TLV_NF_TRACE_LOST = 41,   /* [4] u32 overflows (ENOBUFS) since the previous such record */
	PWRU_TLV_NF_TRACE_ID = 42,     /* [4] u32 the trace's id as `nft monitor trace` prints it */
	/* What pwrudump found on the system when the drop happened (a diagnosis), with a drop */
	PWRU_TLV_DIAG_KIND = 43,       /* [1] u8 enum pwru_diag_kind */
	PWRU_TLV_DIAG_TEXT = 44,       /* string: the finding in words */
	/* A tc or XDP program's entry or return (--filter-trace-tc, --filter-trace-xdp) */
	PWRU_TLV_BPF_PROG = 46,        /* string: the program's name (its entry function's) */
	PWRU_TLV_BPF_PROG_ID = 47,     /* [4] u32 the kernel's id of the program */
	PWRU_TLV_BPF_VERDICT = 48,     /* [4] s32 its return value: TC_ACT_*, XDP_*; a return only */
	PWRU_TLV_BPF_HOOK = 49,        /* [1] u8 enum pwru_bpf_hook */
	/* skb fields chosen on the command line (--output-skb-metadata): one item per expression,
	 * a META_NAME then its META_VALUE, in the order given */
	PWRU_TLV_META_NAME = 50,       /* string: the expression, e.g. skb->dev->ifindex */
	PWRU_TLV_META_VALUE = 51,      /* string: its value as text shows it; absent: not readable */
	PWRU_TLV_SHINFO = 52,          /* [28] struct skb_shared_info's fields, PWRU_SHINFO_* below */
	PWRU_TLV_CB = 53,              /* [48] skb->cb, the control buffer (--output-skb-cb) */
	/* --filter-track-skb-by-stackid, --filter-non-skb-funcs: the kernel stack of the event */
	PWRU_TLV_STACK_ID = 56,        /* [8] u64 the stack: a task stack's base, ~cpu for an IRQ stack */
	PWRU_TLV_STACK_KEPT = 57,      /* [1] u8 enum pwru_stack_kept; absent: the filters kept it */
};

/* What these values mean for an skb (which functions free it, what is a drop, where a journey
 * ends) is in pwru_rules.h, shared by the writer and the reader. */

enum pwru_probe_kind {
	PWRU_PROBE_TRACEPOINT = 1,
	PWRU_PROBE_KPROBE = 2,
	PWRU_PROBE_KPROBE_MULTI = 3,
	PWRU_PROBE_FENTRY = 4,
	/* Not a probe: a netfilter trace message (--nf-trace) of a rule the packet passed, recorded
	 * with the skb of an event of the same packet. FUNC is nft_trace_packet, the kernel function
	 * that sends it. */
	PWRU_PROBE_NFTRACE = 5,
};

enum pwru_packet_layer {
	PWRU_PACKET_ETHERNET = 1, /* Ethernet header first */
	PWRU_PACKET_NETWORK = 2,  /* IPv4 or IPv6 header first (version nibble tells which) */
};

/* How a netfilter trace was tied to the event (docs/netfilter.md). */
enum pwru_nf_tie {
	PWRU_NF_TIE_EXACT = 1,   /* the trace id the kernel made from the event's skb */
	PWRU_NF_TIE_HEADERS = 2, /* same namespace, same packet headers */
	PWRU_NF_TIE_ORDER = 3,   /* as HEADERS, and several traces had them: the oldest was taken */
	PWRU_NF_TIE_KERNEL = 4,  /* a function backend's probe saw the skb in the chain itself */
};

/* What became of the rule after it was traced, as far as the capture saw (NF_RULE_STATE).
 * NF_RULE is always the text the rule had when traced, or absent. */
enum pwru_nf_rule_state {
	PWRU_NF_RULE_DELETED = 1, /* deleted since */
	PWRU_NF_RULE_CHANGED = 2, /* replaced since (nft replace rule, iptables -R keep the handle) */
};

/* NFT_TRACETYPE_* (include/uapi/linux/netfilter/nf_tables.h). A chain's end without a verdict is
 * RETURN, also where Linux 6.12 and later send it as a rule without handle. */
enum pwru_nf_trace_type {
	PWRU_NF_TRACE_POLICY = 1, /* the base chain's policy */
	PWRU_NF_TRACE_RETURN = 2, /* the end of a chain (no handle); before 6.12 a return rule too */
	PWRU_NF_TRACE_RULE = 3,   /* a rule: its handle and verdict */
};

/* SHINFO's value (--output-skb-shared-info): little-endian fields at these byte offsets. */
#define PWRU_SHINFO_LEN 28
#define PWRU_SHINFO_GSO_TYPE 0   /* u32 SKB_GSO_* bits */
#define PWRU_SHINFO_TSKEY 4      /* u32 */
#define PWRU_SHINFO_DATAREF 8    /* u32 */
#define PWRU_SHINFO_GSO_SIZE 12  /* u16 */
#define PWRU_SHINFO_GSO_SEGS 14  /* u16 */
#define PWRU_SHINFO_NR_FRAGS 16  /* u8 */
#define PWRU_SHINFO_TX_FLAGS 17  /* u8 SKBTX_* bits */
#define PWRU_SHINFO_FLAGS 18     /* u8 SKBFL_* bits */
#define PWRU_SHINFO_META_LEN 19  /* u8 */
#define PWRU_SHINFO_FRAG_LIST 20 /* u64 address of the frag list's first skb, 0: none */
#define PWRU_CB_LEN 48

/* What a diagnosis (DIAG_KIND) looked at; its words are in DIAG_TEXT (pwru_diag.h names them). */
enum pwru_diag_kind {
	PWRU_DIAG_NO_LISTENER = 1,    /* NO_SOCKET: no TCP or UDP socket on the address and port */
	PWRU_DIAG_NO_ROUTE = 2,       /* IP_INNOROUTES, IP_OUTNOROUTES: the route lookup that failed */
	PWRU_DIAG_RP_FILTER = 3,      /* IP_RPFILTER: rp_filter and the reverse route */
	PWRU_DIAG_FORWARDING_OFF = 4, /* a packet to forward, and forwarding is off */
	PWRU_DIAG_TOO_BIG = 5,        /* PKT_TOO_BIG: the length and the route's MTU */
	PWRU_DIAG_NEIGH_FAILED = 6,   /* NEIGH_FAILED: the neighbour entry's state */
	PWRU_DIAG_CT_INVALID = 7,     /* a rule dropped conntrack's invalid packets: its sysctls */
};

/* Where a traced BPF program runs (BPF_HOOK); its verdicts' names are in pwru_bpf.h. */
enum pwru_bpf_hook {
	PWRU_BPF_HOOK_TC = 1,  /* tc (sched_cls): the event's skb is the program's context */
	PWRU_BPF_HOOK_XDP = 2, /* XDP: no skb; SKB is the XDP data address at the program's entry */
};

/* Why an event the filters did not pass was kept (STACK_KEPT): its stack follows a packet they
 * passed, whose events have the same STACK_ID. */
enum pwru_stack_kept {
	PWRU_STACK_KEPT_BY_STACKID = 1, /* another skb on that stack (--filter-track-skb-by-stackid) */
	PWRU_STACK_KEPT_NON_SKB = 2,    /* a function without skb argument (--filter-non-skb-funcs):
					 * SKB is the packet's, the one the stack follows */
};

#endif /* PWRU_RECORD_H */
