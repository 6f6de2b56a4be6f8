// The rules about skbs that pwrudump and the pwru dissector must agree on, written once: the size
// of each record field, the probe kinds' names, which functions free an skb, what is a drop and
// where a journey ends. Header-only plain C++ (no Wireshark, libbpf or allocation; every type is
// trivially destructible), so the dissector may call it where epan can longjmp. Each rule is
// pinned by tests/unit/record/rules_test.cpp.
#pragma once

#include <stdint.h>

#include <string_view>

#include "pwru_bpf.h"
#include "pwru_record.h"

namespace pwru::rules {

// --- Record fields (docs/record-format.md) ---

// What the format says about a TLV type: a name for messages and, for a fixed-size value, its
// exact size (0: strings and bytes, any size).
struct TlvSpec {
  uint16_t type;
  const char* name;
  uint16_t size;
};

inline constexpr TlvSpec kTlvSpecs[] = {
    {PWRU_TLV_SKB, "SKB", 8},
    {PWRU_TLV_FUNC, "FUNC", 0},
    {PWRU_TLV_PROBE, "PROBE", 1},
    {PWRU_TLV_CPU, "CPU", 4},
    {PWRU_TLV_PID, "PID", 4},
    {PWRU_TLV_COMM, "COMM", 0},
    {PWRU_TLV_NETNS, "NETNS", 4},
    {PWRU_TLV_MARK, "MARK", 4},
    {PWRU_TLV_IFINDEX, "IFINDEX", 4},
    {PWRU_TLV_IFNAME, "IFNAME", 0},
    {PWRU_TLV_PROTO, "PROTO", 2},
    {PWRU_TLV_MTU, "MTU", 4},
    {PWRU_TLV_LEN, "LEN", 4},
    {PWRU_TLV_IPV4_SRC, "IPV4_SRC", 4},
    {PWRU_TLV_IPV4_DST, "IPV4_DST", 4},
    {PWRU_TLV_IPV6_SRC, "IPV6_SRC", 16},
    {PWRU_TLV_IPV6_DST, "IPV6_DST", 16},
    {PWRU_TLV_SPORT, "SPORT", 2},
    {PWRU_TLV_DPORT, "DPORT", 2},
    {PWRU_TLV_L4PROTO, "L4PROTO", 1},
    {PWRU_TLV_TCP_FLAGS, "TCP_FLAGS", 1},
    {PWRU_TLV_DROP_REASON, "DROP_REASON", 4},
    {PWRU_TLV_DROP_REASON_NAME, "DROP_REASON_NAME", 0},
    {PWRU_TLV_CALLER, "CALLER", 0},
    {PWRU_TLV_CALLER_ADDR, "CALLER_ADDR", 8},
    {PWRU_TLV_STACK_FRAME, "STACK_FRAME", 0},
    {PWRU_TLV_KTIME, "KTIME", 8},
    {PWRU_TLV_PACKET_LAYER, "PACKET_LAYER", 1},
    {PWRU_TLV_PACKET, "PACKET", 0},
    {PWRU_TLV_NF_FAMILY, "NF_FAMILY", 1},
    {PWRU_TLV_NF_HOOK, "NF_HOOK", 0},
    {PWRU_TLV_NF_TABLE, "NF_TABLE", 0},
    {PWRU_TLV_NF_CHAIN, "NF_CHAIN", 0},
    {PWRU_TLV_NF_HANDLE, "NF_HANDLE", 8},
    {PWRU_TLV_NF_RULE, "NF_RULE", 0},
    {PWRU_TLV_NF_VERDICT, "NF_VERDICT", 4},
    {PWRU_TLV_NF_TIE, "NF_TIE", 1},
    {PWRU_TLV_NF_RULE_STATE, "NF_RULE_STATE", 1},
    {PWRU_TLV_NF_JUMP_TARGET, "NF_JUMP_TARGET", 0},
    {PWRU_TLV_NF_TRACE_TYPE, "NF_TRACE_TYPE", 1},
    {PWRU_TLV_NF_TRACE_LOST, "NF_TRACE_LOST", 4},
    {PWRU_TLV_NF_TRACE_ID, "NF_TRACE_ID", 4},
    {PWRU_TLV_DIAG_KIND, "DIAG_KIND", 1},
    {PWRU_TLV_DIAG_TEXT, "DIAG_TEXT", 0},
    {PWRU_TLV_META_NAME, "META_NAME", 0},
    {PWRU_TLV_META_VALUE, "META_VALUE", 0},
    {PWRU_TLV_SHINFO, "SHINFO", PWRU_SHINFO_LEN},
    {PWRU_TLV_CB, "CB", PWRU_CB_LEN},
    {PWRU_TLV_BPF_PROG, "BPF_PROG", 0},
    {PWRU_TLV_BPF_PROG_ID, "BPF_PROG_ID", 4},
    {PWRU_TLV_BPF_VERDICT, "BPF_VERDICT", 4},
    {PWRU_TLV_BPF_HOOK, "BPF_HOOK", 1},
    {PWRU_TLV_STACK_ID, "STACK_ID", 8},
    {PWRU_TLV_STACK_KEPT, "STACK_KEPT", 1},
};

// Where each type's spec is in kTlvSpecs (-1: none). Types are given out ahead of the code that
// writes them, so the table may skip some; a lookup stays an index: the encoder sizes every
// field of every event.
struct TlvIndex {
  int8_t at[64];
};
inline constexpr TlvIndex kTlvIndex = [] {
  TlvIndex x{};
  for (int8_t& a : x.at) a = -1;
  for (unsigned i = 0; i < sizeof kTlvSpecs / sizeof kTlvSpecs[0]; ++i) {
    x.at[kTlvSpecs[i].type] = static_cast<int8_t>(i);
  }
  return x;
}();

// nullptr: a type this build does not know (a reader skips it).
constexpr const TlvSpec* tlv_spec(unsigned type) {
  return type < sizeof kTlvIndex.at && kTlvIndex.at[type] >= 0 ? &kTlvSpecs[kTlvIndex.at[type]]
                                                                : nullptr;
}

// --- Probe kinds ---

struct ProbeKindName {
  uint8_t kind;  // enum pwru_probe_kind
  const char* name;
};

inline constexpr ProbeKindName kProbeKinds[] = {
    {PWRU_PROBE_TRACEPOINT, "tracepoint"},
    {PWRU_PROBE_KPROBE, "kprobe"},
    {PWRU_PROBE_KPROBE_MULTI, "kprobe-multi"},
    {PWRU_PROBE_FENTRY, "fentry"},
    {PWRU_PROBE_NFTRACE, "nftrace"},
};

// The name of `value` in a table of names; nullptr: one this build does not know (a record from
// a newer pwrudump).
template <unsigned N>
constexpr const char* name_in(const ProbeKindName (&names)[N], unsigned value) {
  for (const ProbeKindName& p : names)
    if (p.kind == value) return p.name;
  return nullptr;
}

constexpr const char* probe_kind_name(unsigned kind) { return name_in(kProbeKinds, kind); }

// --- Why an event was kept (STACK_KEPT; 0: the filters kept it) ---

inline constexpr ProbeKindName kStackKept[] = {
    {0, "filter"},
    {PWRU_STACK_KEPT_BY_STACKID, "stackid"},
    {PWRU_STACK_KEPT_NON_SKB, "non-skb"},
};

constexpr const char* stack_kept_name(unsigned kept) { return name_in(kStackKept, kept); }

// --- Netfilter names (--nf-trace): nft's keywords for NF_FAMILY and NF_VERDICT ---

struct NfName {
  int32_t value;
  const char* name;
};

// NFPROTO_* (include/uapi/linux/netfilter.h) as nft names table families.
inline constexpr NfName kNfFamilies[] = {
    {1, "inet"}, {2, "ip"}, {3, "arp"}, {5, "netdev"}, {7, "bridge"}, {10, "ip6"},
};

// NF_* verdicts and nf_tables' own negative ones (NFT_CONTINUE ... NFT_RETURN).
inline constexpr NfName kNfVerdicts[] = {
    {0, "drop"},      {1, "accept"}, {2, "stolen"}, {3, "queue"}, {4, "repeat"},
    {-1, "continue"}, {-2, "break"}, {-3, "jump"},  {-4, "goto"}, {-5, "return"},
};

// How a trace was tied to its event (enum pwru_nf_tie).
inline constexpr NfName kNfTies[] = {
    {PWRU_NF_TIE_EXACT, "exact"},
    {PWRU_NF_TIE_HEADERS, "headers"},
    {PWRU_NF_TIE_ORDER, "order"},
    {PWRU_NF_TIE_KERNEL, "kernel"},
};

// What became of a traced rule (enum pwru_nf_rule_state).
inline constexpr NfName kNfRuleStates[] = {
    {PWRU_NF_RULE_DELETED, "deleted"},
    {PWRU_NF_RULE_CHANGED, "changed"},
};

// What a trace message reported (enum pwru_nf_trace_type).
inline constexpr NfName kNfTraceTypes[] = {
    {PWRU_NF_TRACE_POLICY, "policy"},
    {PWRU_NF_TRACE_RETURN, "return"},
    {PWRU_NF_TRACE_RULE, "rule"},
};

// The kernel function that sends a trace message: FUNC of a rule-passed record.
inline constexpr std::string_view kNfTraceFunc = "nft_trace_packet";

// nullptr: a value with no name.
template <size_t N>
constexpr const char* nf_name(const NfName (&names)[N], int32_t value) {
  for (const NfName& n : names)
    if (n.value == value) return n.name;
  return nullptr;
}

// --- Functions with a meaning of their own ---

// Functions and tracepoints where an skb's life ends: a journey ends at the first of them, and
// --filter-track-skb forgets the skb there.
inline constexpr std::string_view kFreeFuncs[] = {
    "kfree_skb",           // tracepoint (a drop); before 5.17 also the function
    "consume_skb",         // tracepoint and function (not a drop)
    "kfree_skb_reason",    // function, 5.17 to 6.10
    "sk_skb_reason_drop",  // function, 6.11 on
    "__kfree_skb_reason", "__kfree_skb", "kfree_skbmem", "napi_consume_skb",
};

// With function probes one free shows up as several events (kfree_skb_reason, the kfree_skb
// tracepoint, __kfree_skb, skb_release_data, kfree_skbmem): after the first, these stay in the
// journey it ended. They also run on live skbs (pskb_expand_head calls skb_release_data), where
// they are ordinary hops.
inline constexpr std::string_view kTeardownFuncs[] = {
    "skb_release_head_state", "skb_release_all", "skb_release_data",
    "skb_free_head",          "napi_skb_cache_put",
};

// Frees that only drop: a drop even without a recorded reason (the kfree_skb tracepoint had no
// reason before 5.17; function probes may not record it).
inline constexpr std::string_view kDropFuncs[] = {
    "kfree_skb",
    "kfree_skb_reason",
    "sk_skb_reason_drop",
    "__kfree_skb_reason",
};

// Functions and tracepoints that send a TCP reset in reply to the skb they are given.
inline constexpr std::string_view kResetFuncs[] = {
    "tcp_send_reset",  // tracepoint
    "tcp_v4_send_reset",
    "tcp_v6_send_reset",
};

template <size_t N>
constexpr bool func_in(std::string_view func, const std::string_view (&names)[N]) {
  for (std::string_view n : names)
    if (func == n) return true;
  return false;
}

constexpr bool frees_skb(std::string_view func) { return func_in(func, kFreeFuncs); }
constexpr bool sends_reset(std::string_view func) { return func_in(func, kResetFuncs); }

// --- Drops ---

// The drop reasons that mean "not a drop", as pwrudump names them (enum skb_drop_reason without
// SKB_DROP_REASON_; these two never had that prefix).
inline constexpr std::string_view kReasonConsumed = "SKB_CONSUMED";
inline constexpr std::string_view kReasonNotDroppedYet = "SKB_NOT_DROPPED_YET";
// What captures written before that name was settled call SKB_CONSUMED.
inline constexpr std::string_view kReasonConsumedOld = "CONSUMED";

// A drop: a drop reason other than CONSUMED (kernels 5.19 to 6.2 report every free through the
// kfree_skb tracepoint, delivered packets with SKB_CONSUMED; a reason without a name is a drop),
// or no reason at all at a function that only drops, or a tc or XDP program's verdict that drops
// (`bpf_hook` non-zero: the event has a BPF_VERDICT of that hook, bpf::verdict_drops).
// `trusted_func`: the function name comes from a complete record (a malformed one may have lost
// its reason).
constexpr bool is_drop(bool has_reason, std::string_view reason_name, std::string_view func,
                       bool trusted_func = true, unsigned bpf_hook = 0, int32_t bpf_verdict = 0) {
  if (bpf_hook != 0 && bpf::verdict_drops(bpf_hook, bpf_verdict)) return true;
  if (has_reason) return reason_name != kReasonConsumed && reason_name != kReasonConsumedOld;
  return trusted_func && func_in(func, kDropFuncs);
}

// --- Journeys: one skb address from its first event until it is freed ---

// What the journey rule reads from an event.
struct JourneyEvent {
  std::string_view func;  // empty: the record names none
  bool has_cpu;
  uint32_t cpu;
  bool tracepoint;  // seen by a tracepoint (probe kind known to be PWRU_PROBE_TRACEPOINT)
  bool has_drop_reason;
  // An XDP program's return (BPF_HOOK xdp with a BPF_VERDICT): the buffer, whose data address is
  // the event's skb, is done with as such (dropped, sent, or handed on to an skb of its own).
  bool xdp_return = false;
};

// What the rule keeps of a journey. All-zero is a journey that has not ended (memset-safe).
struct Journey {
  bool ended;                    // a free (or a drop reason) was seen
  bool has_end_cpu;
  uint32_t end_cpu;              // the CPU that freed it
  bool teardown_has_tracepoint;  // one free fires one tracepoint: a second is a new skb
  bool teardown_over;            // kfree_skbmem freed the sk_buff itself: the address is free
};

// Does `ev`, on an address whose latest journey is `latest` (nullptr: none), begin a new journey?
// After a journey ended, only the teardown of the same free continues it.
constexpr bool begins_journey(const Journey* latest, const JourneyEvent& ev) {
  if (latest == nullptr) return true;
  if (!latest->ended) return false;
  if (latest->teardown_over) return true;
  if (!frees_skb(ev.func) && !func_in(ev.func, kTeardownFuncs)) return true;
  // A free runs on one CPU from start to end.
  if (latest->has_end_cpu && ev.has_cpu && ev.cpu != latest->end_cpu) return true;
  return ev.tracepoint && latest->teardown_has_tracepoint;
}

// Adds `ev` to the journey it was placed in. Returns whether `ev` ends the journey.
constexpr bool add_to_journey(Journey& j, const JourneyEvent& ev) {
  bool ends = false;
  if (!j.ended && (frees_skb(ev.func) || ev.has_drop_reason || ev.xdp_return)) {
    ends = true;
    j.ended = true;
    j.has_end_cpu = ev.has_cpu;
    j.end_cpu = ev.cpu;
  }
  if (j.ended) {
    if (ev.tracepoint) j.teardown_has_tracepoint = true;
    if (ev.func == "kfree_skbmem") j.teardown_over = true;
  }
  return ends;
}

}  // namespace pwru::rules
