// The decoded event model: one kernel event as every sink (text, JSON, pcapng record) sees it.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "pwru_record.h"

namespace pwru {

enum class ProbeKind : uint8_t {
  Unknown = 0,  // a probe id user space never gave out; no pwru_probe_kind uses 0
  Tracepoint = PWRU_PROBE_TRACEPOINT,
  Kprobe = PWRU_PROBE_KPROBE,
  KprobeMulti = PWRU_PROBE_KPROBE_MULTI,
  Fentry = PWRU_PROBE_FENTRY,
  NfTrace = PWRU_PROBE_NFTRACE,  // not a probe: a rule the packet passed (--nf-trace)
};

const char* probe_kind_name(ProbeKind kind);

enum class PacketLayer : uint8_t {
  None = 0,
  Ethernet = PWRU_PACKET_ETHERNET,
  Network = PWRU_PACKET_NETWORK,
};

// How a netfilter trace was tied to an skb event (--nf-trace, docs/netfilter.md): by the trace id
// the kernel made from the skb, else by the packet's headers in the same namespace, alone or, when
// several traces carried the same headers, by order; or not tied at all, but seen on the skb by a
// function backend's netfilter probe (Kernel).
enum class NfTie : uint8_t {
  Exact = PWRU_NF_TIE_EXACT,
  Headers = PWRU_NF_TIE_HEADERS,
  Order = PWRU_NF_TIE_ORDER,
  Kernel = PWRU_NF_TIE_KERNEL,
};

const char* nf_tie_name(NfTie tie);

// Why an event was kept, as pwru_rules.h names it ("filter", "stackid", "non-skb").
const char* stack_kept_name(uint8_t kept);

// What became of a traced rule since it was traced (--nf-trace): still as traced, deleted, or
// replaced under the same handle.
enum class NfRuleState : uint8_t {
  Current = 0,
  Deleted = PWRU_NF_RULE_DELETED,
  Changed = PWRU_NF_RULE_CHANGED,
};

const char* nf_rule_state_name(NfRuleState state);

// What a trace message reported: NFT_TRACETYPE_*; 0 when a record carries none.
enum class NfTraceType : uint8_t {
  Unknown = 0,
  Policy = PWRU_NF_TRACE_POLICY,
  Return = PWRU_NF_TRACE_RETURN,
  Rule = PWRU_NF_TRACE_RULE,
};

const char* nf_trace_type_name(NfTraceType type);

// The netfilter rule that gave a packet its verdict, as nftables' trace named it (--nf-trace).
struct NfRule {
  uint8_t family = 0;              // NFPROTO of the table: 1 inet, 2 ip, 3 arp, 5 netdev, 7 bridge, 10 ip6
  std::string hook;                // its base chain's hook as nft names it ("input"); empty: unknown
  std::string table;
  std::string chain;               // the chain holding the rule: after a jump, the jumped-to one
  std::optional<uint64_t> handle;  // none: the chain's policy gave the verdict
  std::string rule;                // as `nft -a list` prints it, without "# handle N"; empty: unknown
  int32_t verdict = 0;             // NF_DROP 0, NF_ACCEPT 1, NFT_JUMP -3, ... (nf_verdict_name)
  NfTie tie = NfTie::Headers;
  NfRuleState state = NfRuleState::Current;  // `rule` is the text it had when traced
  std::string jump_target;         // the chain of a jump or goto verdict
  NfTraceType type = NfTraceType::Unknown;
  std::optional<uint32_t> trace_id;  // NFTA_TRACE_ID as `nft monitor trace` prints it

  bool operator==(const NfRule&) const = default;
};

// nft's family keyword ("inet", "ip6"), the number when there is none.
std::string nf_family_name(uint8_t family);
// nft's verdict keyword ("drop", "jump"), the number when there is none.
std::string nf_verdict_name(int32_t verdict);

// What pwrudump found on the system when a drop happened (--diagnose): kind is enum
// pwru_diag_kind (pwru_diag.h names it), text the finding in words.
struct Diagnosis {
  uint8_t kind = 0;
  std::string text;

  bool operator==(const Diagnosis&) const = default;
};

// --output-skb-metadata: one expression's value at the event.
struct SkbMeta {
  std::string name;                  // the expression, "skb->dev->ifindex"
  std::optional<std::string> value;  // as text shows it; none: a null pointer on the way

  bool operator==(const SkbMeta&) const = default;
};

// --output-skb-shared-info: the skb's struct skb_shared_info (pwru_shinfo in bpf/pwru_event.h).
struct SharedInfo {
  uint32_t gso_type = 0;  // SKB_GSO_* bits
  uint32_t tskey = 0;
  uint32_t dataref = 0;
  uint16_t gso_size = 0;
  uint16_t gso_segs = 0;
  uint8_t nr_frags = 0;
  uint8_t tx_flags = 0;   // SKBTX_* bits
  uint8_t flags = 0;      // SKBFL_* bits
  uint8_t meta_len = 0;
  uint64_t frag_list = 0; // address, 0: none

  bool operator==(const SharedInfo&) const = default;
};

// The tc or XDP program an event is the entry or return of (--filter-trace-tc,
// --filter-trace-xdp): its name, id and hook (PWRU_BPF_HOOK_*), and on a return its verdict
// (TC_ACT_*, XDP_*: bpf::verdict_name in pwru_bpf.h).
struct BpfProg {
  std::string name;
  uint32_t id = 0;
  uint8_t hook = 0;
  std::optional<int32_t> verdict;

  bool operator==(const BpfProg&) const = default;
};

struct Event {
  uint64_t time_ns = 0;   // wall clock, ns since the Unix epoch
  uint64_t ktime_ns = 0;  // CLOCK_MONOTONIC ns, as the kernel stamped it
  uint64_t skb = 0;
  std::string func;       // function or tracepoint name
  ProbeKind probe = ProbeKind::Tracepoint;
  uint32_t cpu = 0;
  uint32_t pid = 0;
  std::string comm;
  uint32_t netns = 0;
  uint32_t mark = 0;
  uint32_t ifindex = 0;   // 0: the skb had no device
  std::string ifname;
  uint16_t protocol = 0;  // EtherType
  uint32_t mtu = 0;
  uint32_t len = 0;
  // skb->hash and skb->skb_iif: what nftables makes a traced packet's id from, with the skb
  // address (--nf-trace's exact tie). Not in the record.
  uint32_t skb_hash = 0;
  uint32_t skb_iif = 0;

  uint8_t ip_version = 0;  // 0: no tuple, else 4 or 6
  std::array<uint8_t, 16> saddr{};  // network byte order; IPv4 in the first 4 bytes
  std::array<uint8_t, 16> daddr{};
  uint8_t l4proto = 0;
  bool has_ports = false;
  uint16_t sport = 0;
  uint16_t dport = 0;
  std::optional<uint8_t> tcp_flags;

  std::optional<uint32_t> drop_reason;
  std::string drop_reason_name;  // without the SKB_DROP_REASON_ prefix
  uint64_t caller_addr = 0;      // 0: unknown
  std::string caller;            // symbolized, "sym+0xoff"
  std::vector<std::string> stack;  // innermost frame first
  // --nf-trace: the rule that dropped it, when one was tied; on a ProbeKind::NfTrace record,
  // the rule the packet passed.
  std::optional<NfRule> nf;
  // A record of its own, no skb's: netns's netfilter trace listener overflowed this many times
  // since the previous one (--nf-trace); trace messages were lost, drops may be unnamed.
  std::optional<uint32_t> nf_trace_lost;
  std::optional<Diagnosis> diagnosis;  // on a drop only
  std::vector<SkbMeta> meta;           // --output-skb-metadata, in the order given
  std::optional<SharedInfo> shinfo;    // --output-skb-shared-info
  std::vector<uint8_t> cb;             // --output-skb-cb: skb->cb (PWRU_CB_LEN bytes); empty: none
  std::optional<BpfProg> bpf;  // an event of a tc or XDP program; `func` is "name(tc)"
  // --filter-track-skb-by-stackid, --filter-non-skb-funcs: the kernel stack the event ran on
  // (STACK_ID), and why it was kept: 0 the filters, else enum pwru_stack_kept (STACK_KEPT).
  std::optional<uint64_t> stack_id;
  uint8_t stack_kept = 0;

  PacketLayer layer = PacketLayer::None;
  std::vector<uint8_t> packet;

  bool operator==(const Event&) const = default;
};

}  // namespace pwru
