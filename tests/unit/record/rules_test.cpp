// The rules pwrudump and the dissector share (pwru_rules.h), one table per rule: field sizes,
// probe kind names, which functions free an skb, what is a drop, where a journey ends.
#include "pwru_rules.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace pwru::rules {
namespace {

// docs/record-format.md, section 2: every TLV type with its exact size (0: any size).
TEST(Rules, FieldSizesAreTheDocumentedOnes) {
  const struct {
    unsigned type;
    const char* name;
    uint16_t size;
  } documented[] = {
      {1, "SKB", 8},          {2, "FUNC", 0},          {3, "PROBE", 1},
      {4, "CPU", 4},          {5, "PID", 4},           {6, "COMM", 0},
      {7, "NETNS", 4},        {8, "MARK", 4},          {9, "IFINDEX", 4},
      {10, "IFNAME", 0},      {11, "PROTO", 2},        {12, "MTU", 4},
      {13, "LEN", 4},         {14, "IPV4_SRC", 4},     {15, "IPV4_DST", 4},
      {16, "IPV6_SRC", 16},   {17, "IPV6_DST", 16},    {18, "SPORT", 2},
      {19, "DPORT", 2},       {20, "L4PROTO", 1},      {21, "TCP_FLAGS", 1},
      {22, "DROP_REASON", 4}, {23, "DROP_REASON_NAME", 0}, {24, "CALLER", 0},
      {25, "CALLER_ADDR", 8}, {26, "STACK_FRAME", 0},  {27, "KTIME", 8},
      {28, "PACKET_LAYER", 1}, {29, "PACKET", 0},      {30, "NF_FAMILY", 1},
      {31, "NF_HOOK", 0},     {32, "NF_TABLE", 0},     {33, "NF_CHAIN", 0},
      {34, "NF_HANDLE", 8},   {35, "NF_RULE", 0},      {36, "NF_VERDICT", 4},
      {37, "NF_TIE", 1},      {38, "NF_RULE_STATE", 1}, {39, "NF_JUMP_TARGET", 0},
      {40, "NF_TRACE_TYPE", 1}, {41, "NF_TRACE_LOST", 4}, {42, "NF_TRACE_ID", 4},
      {43, "DIAG_KIND", 1},   {44, "DIAG_TEXT", 0},
      {46, "BPF_PROG", 0},    {47, "BPF_PROG_ID", 4},  {48, "BPF_VERDICT", 4},
      {49, "BPF_HOOK", 1},
      {50, "META_NAME", 0},   {51, "META_VALUE", 0},   {52, "SHINFO", 28},
      {53, "CB", 48},
      {56, "STACK_ID", 8},    {57, "STACK_KEPT", 1},
  };
  ASSERT_EQ(std::size(kTlvSpecs), std::size(documented));
  for (const auto& d : documented) {
    const TlvSpec* spec = tlv_spec(d.type);
    ASSERT_NE(spec, nullptr) << d.type;
    EXPECT_EQ(spec->type, d.type);
    EXPECT_STREQ(spec->name, d.name) << d.type;
    EXPECT_EQ(spec->size, d.size) << d.name;
  }
  for (unsigned unknown : {0u, 45u, 0xffffu}) EXPECT_EQ(tlv_spec(unknown), nullptr) << unknown;
}

// Why an event was kept (STACK_KEPT), as JSON's kept_by and the dissector name it.
TEST(Rules, StackKeptNames) {
  EXPECT_STREQ(stack_kept_name(0), "filter");
  EXPECT_STREQ(stack_kept_name(PWRU_STACK_KEPT_BY_STACKID), "stackid");
  EXPECT_STREQ(stack_kept_name(PWRU_STACK_KEPT_NON_SKB), "non-skb");
  EXPECT_EQ(stack_kept_name(3), nullptr);
}

TEST(Rules, ProbeKindNames) {
  EXPECT_STREQ(probe_kind_name(PWRU_PROBE_TRACEPOINT), "tracepoint");
  EXPECT_STREQ(probe_kind_name(PWRU_PROBE_KPROBE), "kprobe");
  EXPECT_STREQ(probe_kind_name(PWRU_PROBE_KPROBE_MULTI), "kprobe-multi");
  EXPECT_STREQ(probe_kind_name(PWRU_PROBE_FENTRY), "fentry");
  EXPECT_STREQ(probe_kind_name(PWRU_PROBE_NFTRACE), "nftrace");
  EXPECT_EQ(probe_kind_name(0), nullptr);
  EXPECT_EQ(probe_kind_name(6), nullptr);
}

TEST(Rules, FunctionsWithAMeaning) {
  const struct {
    const char* func;
    bool frees, drops_only, resets;
  } table[] = {
      {"kfree_skb", true, true, false},
      {"consume_skb", true, false, false},
      {"kfree_skb_reason", true, true, false},
      {"sk_skb_reason_drop", true, true, false},
      {"__kfree_skb_reason", true, true, false},
      {"__kfree_skb", true, false, false},
      {"kfree_skbmem", true, false, false},
      {"napi_consume_skb", true, false, false},
      {"skb_release_data", false, false, false},  // teardown, but also a hop of a live skb
      {"net_dev_queue", false, false, false},
      {"tcp_send_reset", false, false, true},
      {"tcp_v4_send_reset", false, false, true},
      {"tcp_v6_send_reset", false, false, true},
      {"", false, false, false},                  // a record without FUNC
      {"kfree_skb_", false, false, false},        // names match whole
  };
  for (const auto& t : table) {
    EXPECT_EQ(frees_skb(t.func), t.frees) << t.func;
    EXPECT_EQ(is_drop(false, "", t.func), t.drops_only) << t.func;
    EXPECT_EQ(sends_reset(t.func), t.resets) << t.func;
  }
}

TEST(Rules, WhatIsADrop) {
  const struct {
    bool has_reason;
    const char* reason;
    const char* func;
    bool trusted_func;
    bool drop;
  } table[] = {
      {true, "NETFILTER_DROP", "kfree_skb", true, true},
      {true, "NO_SOCKET", "consume_skb", true, true},      // a reason decides, not the function
      {true, "SKB_CONSUMED", "kfree_skb", true, false},    // 5.19-6.2: every free is kfree_skb
      {true, "CONSUMED", "kfree_skb", true, false},        // older captures' name
      {true, "", "kfree_skb", true, true},                 // a reason without a name
      {true, "", "ip_rcv", false, true},
      {false, "", "kfree_skb", true, true},                // before 5.17: no reason at all
      {false, "", "kfree_skb", false, false},              // ... unless the record is malformed
      {false, "", "consume_skb", true, false},
      {false, "", "ip_rcv", true, false},
  };
  for (const auto& t : table)
    EXPECT_EQ(is_drop(t.has_reason, t.reason, t.func, t.trusted_func), t.drop)
        << t.reason << " at " << t.func << (t.trusted_func ? "" : " (malformed)");
}

// tc and XDP verdicts (pwru_bpf.h): their names per hook, and the three that drop, which make an
// event a drop whatever else it has.
TEST(RulesTest, BpfVerdicts) {
  using pwru::bpf::verdict_drops;
  using pwru::bpf::verdict_name;
  EXPECT_STREQ(verdict_name(PWRU_BPF_HOOK_TC, 2), "TC_ACT_SHOT");
  EXPECT_STREQ(verdict_name(PWRU_BPF_HOOK_TC, -1), "TC_ACT_UNSPEC");
  EXPECT_STREQ(verdict_name(PWRU_BPF_HOOK_TC, 7), "TC_ACT_REDIRECT");
  EXPECT_STREQ(verdict_name(PWRU_BPF_HOOK_XDP, 1), "XDP_DROP");
  EXPECT_STREQ(verdict_name(PWRU_BPF_HOOK_XDP, 2), "XDP_PASS");
  EXPECT_EQ(verdict_name(PWRU_BPF_HOOK_XDP, 9), nullptr);
  EXPECT_EQ(verdict_name(0, 0), nullptr);
  EXPECT_STREQ(pwru::bpf::hook_name(PWRU_BPF_HOOK_TC), "tc");
  EXPECT_STREQ(pwru::bpf::hook_name(PWRU_BPF_HOOK_XDP), "xdp");
  for (int32_t v = -1; v <= 8; v++) {
    EXPECT_EQ(verdict_drops(PWRU_BPF_HOOK_TC, v), v == 2) << v;
    EXPECT_EQ(verdict_drops(PWRU_BPF_HOOK_XDP, v), v == 0 || v == 1) << v;
    EXPECT_FALSE(verdict_drops(0, v));
  }
  EXPECT_TRUE(is_drop(false, "", "tc_drop_icmp(tc)", true, PWRU_BPF_HOOK_TC, 2));
  EXPECT_FALSE(is_drop(false, "", "tc_drop_icmp(tc)", true, PWRU_BPF_HOOK_TC, 0));
  EXPECT_TRUE(is_drop(false, "", "xdp_prog(xdp)", true, PWRU_BPF_HOOK_XDP, 0));
  EXPECT_FALSE(is_drop(false, "", "xdp_prog(xdp)", true, PWRU_BPF_HOOK_XDP, 2));
  EXPECT_FALSE(is_drop(false, "", "xdp_prog(xdp)", true, 0, 1));  // no verdict recorded
  // An XDP program's return ends the journey of its buffer's address; the next event there
  // begins another.
  Journey j{};
  JourneyEvent entry{"xdp_prog(xdp)", true, 0, false, false};
  JourneyEvent ret = entry;
  ret.xdp_return = true;
  EXPECT_FALSE(add_to_journey(j, entry));
  EXPECT_TRUE(add_to_journey(j, ret));
  EXPECT_TRUE(begins_journey(&j, entry));
}

// Events on one skb address, and the journey index each gets: the same walk the extcap's
// JourneyTracker and the dissector's pwru_journey_step make.
struct Ev {
  const char* func;
  bool tracepoint = true;
  uint32_t cpu = 0;
  bool reason = false;
};

std::vector<int> journeys(const std::vector<Ev>& events) {
  std::vector<int> out;
  Journey j{};
  bool any = false;
  int index = -1;
  for (const Ev& e : events) {
    const JourneyEvent ev{e.func, true, e.cpu, e.tracepoint, e.reason};
    if (begins_journey(any ? &j : nullptr, ev)) {
      j = Journey{};
      ++index;
      any = true;
    }
    add_to_journey(j, ev);
    out.push_back(index);
  }
  return out;
}

TEST(Rules, WhereAJourneyEnds) {
  const struct {
    const char* what;
    std::vector<Ev> events;
    std::vector<int> want;
  } table[] = {
      {"hops until a free, then a new skb",
       {{"net_dev_queue"}, {"net_dev_xmit"}, {"consume_skb"}, {"net_dev_queue"}},
       {0, 0, 0, 1}},
      {"a drop reason ends it whatever the function",
       {{"ip_rcv"}, {"tcp_v4_rcv", true, 0, true}, {"ip_rcv"}},
       {0, 0, 1}},
      {"one free through function probes and a tracepoint, on one CPU",
       {{"ip_rcv", false, 1}, {"kfree_skb_reason", false, 1}, {"kfree_skb", true, 1},
        {"skb_release_head_state", false, 1}, {"skb_release_data", false, 1},
        {"kfree_skbmem", false, 1}, {"skb_release_data", false, 1}},
       {0, 0, 0, 0, 0, 0, 1}},
      {"teardown on another CPU is another skb",
       {{"kfree_skb_reason", false, 1}, {"skb_release_data", false, 2}},
       {0, 1}},
      {"one free fires one tracepoint",
       {{"consume_skb"}, {"consume_skb"}, {"kfree_skb"}},
       {0, 1, 2}},
      {"a hop after a free is another skb",
       {{"kfree_skb_reason", false, 1}, {"ip_rcv", false, 1}},
       {0, 1}},
      {"teardown functions on a live skb are hops",
       {{"ip_rcv", false}, {"skb_release_data", false}, {"ip_local_deliver", false}},
       {0, 0, 0}},
  };
  for (const auto& t : table) EXPECT_EQ(journeys(t.events), t.want) << t.what;
}

TEST(Rules, AJourneyEndsOnceAndRemembersItsCpu) {
  Journey j{};
  EXPECT_FALSE(add_to_journey(j, {"ip_rcv", true, 3, false, false}));
  EXPECT_TRUE(add_to_journey(j, {"kfree_skb", true, 3, true, true}));
  EXPECT_TRUE(j.ended);
  EXPECT_EQ(j.end_cpu, 3u);
  EXPECT_FALSE(add_to_journey(j, {"kfree_skbmem", true, 3, false, false}));
  EXPECT_TRUE(j.teardown_over);
  // A record without a CPU does not tell another CPU's free apart.
  Journey k{};
  add_to_journey(k, {"kfree_skb_reason", false, 0, false, false});
  EXPECT_FALSE(begins_journey(&k, {"skb_release_data", true, 7, false, false}));
}

}  // namespace
}  // namespace pwru::rules
