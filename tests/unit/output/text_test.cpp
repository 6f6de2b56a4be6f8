// TextFormatter: pwru's sample output reproduced byte for byte, pwru's column layout, and what
// each output flag adds or removes.
#include "output/text.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <ostream>
#include <vector>

#include "ci_skip.h"
#include "sample_events.h"

namespace pwru {
namespace {

namespace fs = std::filesystem;

// pwru's output as published (the "Sample Output" of `pwru --output-tuple icmp` in "Analysis of
// PWRU", 2025-04-26; pwru prints meta and tuple by default): the header and its first 18 rows.
constexpr const char* kPwruSample =
    "SKB                CPU PROCESS          NETNS      MARK/x        IFACE       PROTO  MTU   LEN   TUPLE FUNC\n"
    "0xffff99cf11aa4100 0   <empty>:0        4026531840 0             eth0:2      0x0800 1500  58    192.168.6.1:0->192.168.6.236:0(icmp) napi_gro_receive\n"
    "0xffff99cf11aa4100 0   <empty>:0        4026531840 0             eth0:2      0x0800 1500  58    192.168.6.1:0->192.168.6.236:0(icmp) dev_gro_receive\n"
    "0xffff99cf11aa4100 0   <empty>:0        4026531840 0             eth0:2      0x0800 1500  58    192.168.6.1:0->192.168.6.236:0(icmp) inet_gro_receive\n"
    "0xffff99cf08de1100 0   <empty>:0        4026531840 0             eth0:2      0x0800 1500  68    192.168.6.1:0->192.168.6.236:0(icmp) napi_gro_receive\n"
    "0xffff99cf08de1100 0   <empty>:0        4026531840 0             eth0:2      0x0800 1500  68    192.168.6.1:0->192.168.6.236:0(icmp) dev_gro_receive\n"
    "0xffff99cf08de1100 0   <empty>:0        4026531840 0             eth0:2      0x0800 1500  68    192.168.6.1:0->192.168.6.236:0(icmp) inet_gro_receive\n"
    "0xffff99cf11aa4100 0   <empty>:0        4026531840 0             eth0:2      0x0800 1500  58    192.168.6.1:0->192.168.6.236:0(icmp) skb_defer_rx_timestamp\n"
    "0xffff99cf08de1100 0   <empty>:0        4026531840 0             eth0:2      0x0800 1500  68    192.168.6.1:0->192.168.6.236:0(icmp) skb_defer_rx_timestamp\n"
    "0xffff99cf11aa4100 0   <empty>:0        4026531840 0             eth0:2      0x0800 1500  58    192.168.6.1:0->192.168.6.236:0(icmp) ip_rcv_core\n"
    "0xffff99cf08de1100 0   <empty>:0        4026531840 0             eth0:2      0x0800 1500  68    192.168.6.1:0->192.168.6.236:0(icmp) ip_rcv_core\n"
    "0xffff99cf11aa4100 0   <empty>:0        4026531840 0             eth0:2      0x0800 1500  58    192.168.6.1:0->192.168.6.236:0(icmp) nf_hook_slow\n"
    "0xffff99cf11aa4100 0   <empty>:0        4026531840 0             eth0:2      0x0800 1500  58    192.168.6.1:0->192.168.6.236:0(icmp) nf_ip_checksum\n"
    "0xffff99cf11aa4100 0   <empty>:0        4026531840 0             eth0:2      0x0800 1500  58    192.168.6.1:0->192.168.6.236:0(icmp) __skb_checksum_complete\n"
    "0xffff99cf11aa4100 0   <empty>:0        4026531840 0             eth0:2      0x0800 1500  58    192.168.6.1:0->192.168.6.236:0(icmp) skb_ensure_writable\n"
    "0xffff99cf11aa4100 0   <empty>:0        4026531840 0             eth0:2      0x0800 1500  58    192.168.6.1:0->192.168.6.236:0(icmp) nf_ip_checksum\n"
    "0xffff99cf08de1100 0   <empty>:0        4026531840 0             eth0:2      0x0800 1500  68    192.168.6.1:0->192.168.6.236:0(icmp) nf_hook_slow\n"
    "0xffff99cf08de1100 0   <empty>:0        4026531840 0             eth0:2      0x0800 1500  68    192.168.6.1:0->192.168.6.236:0(icmp) nf_ip_checksum\n"
    "0xffff99cf08de1100 0   <empty>:0        4026531840 0             eth0:2      0x0800 1500  68    192.168.6.1:0->192.168.6.236:0(icmp) __skb_checksum_complete\n";

// The events behind the sample, from its fields: the two pings' skbs and the functions.
std::vector<Event> pwru_sample_events() {
  constexpr uint64_t kA = 0xffff99cf11aa4100, kB = 0xffff99cf08de1100;
  const std::pair<uint64_t, const char*> rows[] = {
      {kA, "napi_gro_receive"}, {kA, "dev_gro_receive"},   {kA, "inet_gro_receive"},
      {kB, "napi_gro_receive"}, {kB, "dev_gro_receive"},   {kB, "inet_gro_receive"},
      {kA, "skb_defer_rx_timestamp"}, {kB, "skb_defer_rx_timestamp"},
      {kA, "ip_rcv_core"},      {kB, "ip_rcv_core"},       {kA, "nf_hook_slow"},
      {kA, "nf_ip_checksum"},   {kA, "__skb_checksum_complete"}, {kA, "skb_ensure_writable"},
      {kA, "nf_ip_checksum"},   {kB, "nf_hook_slow"},      {kB, "nf_ip_checksum"},
      {kB, "__skb_checksum_complete"},
  };
  std::vector<Event> events;
  for (const auto& [skb, func] : rows) {
    Event ev;
    ev.skb = skb;
    ev.func = func;
    ev.cpu = 0;
    ev.pid = 0;  // softirq: pwru finds no process 0
    ev.netns = 4026531840;
    ev.ifindex = 2;
    ev.ifname = "eth0";
    ev.protocol = 0x0800;
    ev.mtu = 1500;
    ev.len = skb == kA ? 58 : 68;
    ev.ip_version = 4;
    inet_pton(AF_INET, "192.168.6.1", ev.saddr.data());
    inet_pton(AF_INET, "192.168.6.236", ev.daddr.data());
    ev.l4proto = 1;
    events.push_back(ev);
  }
  return events;
}

using sample::icmp_event;
using sample::netfilter_drop;
using sample::named_netfilter_drop;

std::string render(const OutputOptions& options, const std::vector<Event>& events) {
  TextFormatter f(options);
  std::string out = f.header() + "\n";
  for (const Event& ev : events) out += f.format(ev) + "\n";
  return out;
}

// Where the header puts each title, and whether the line has a value starting there.
size_t title_at(const std::string& header, const std::string& title) {
  const size_t at = header.find(title);
  EXPECT_NE(at, std::string::npos) << title << " in " << header;
  return at;
}

// --output-skb-metadata after FUNC as pwru prints it (the last member names a field), cb in
// pwru's form, the shared info on a line of its own.
TEST(TextOutput, SkbFields) {
  OutputOptions o;
  o.meta = o.tuple = false;
  TextFormatter f(o);
  Event ev = pwru_sample_events().front();
  ev.meta = {{"skb->dev->ifindex", "7"}, {"skb->sk->__sk_common.skc_family", std::nullopt},
             {"skb->cb[2]", "1"}};
  ev.cb.assign(48, 0);
  ev.cb[0] = 0x62;
  ev.shinfo = SharedInfo{0x1, 0, 1, 1448, 3, 1, 0, 0, 0, 0};
  const std::string line = f.format(ev);
  EXPECT_NE(line.find(" " + ev.func + " ifindex=7 skc_family=(none) cb[2]=1 cb=[0x00000062,"
                      "0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,"
                      "0x00000000,0x00000000,0x00000000,0x00000000,0x00000000]\n"),
            std::string::npos)
      << line;
  EXPECT_NE(line.find("\n  skb_shared_info: nr_frags=1 gso_size=1448 gso_segs=3 gso_type=0x1 "
                      "tx_flags=0x0 flags=0x0 meta_len=0 dataref=1 tskey=0 frag_list=0x0"),
            std::string::npos)
      << line;
}

TEST(TextOutput, ReproducesPwrusSampleByteForByte) {
  EXPECT_EQ(render(OutputOptions{}, pwru_sample_events()), kPwruSample);
}

// pwru's fmt verbs, column by column: %-18s %-3s %-16s, then with meta " %-10s %-8s %16s" (the
// interface centred in 16), " %#04x" (Go pads the digits: 0x0800), " %-5s %-5s".
TEST(TextOutput, ColumnsHavePwrusWidthsAndAlignment) {
  OutputOptions o;
  TextFormatter f(o);
  const std::string header = f.header();
  Event ev = icmp_event();
  ev.mark = 0xbeef;
  const std::string line = f.format(ev);
  // Left-aligned columns start where their title starts.
  for (const auto& [title, value] :
       std::vector<std::pair<std::string, std::string>>{{"SKB", "0xffff99cf11aa4100 "},
                                                        {"CPU", "3   "},
                                                        {"PROCESS", "ping:1234        "},
                                                        {"NETNS", "4026531840 "},
                                                        {"MARK/x", "beef     "},
                                                        {"PROTO", "0x0800 "},
                                                        {"MTU", "1500  "},
                                                        {"LEN", "84    "},
                                                        {"TUPLE", "10.0.0.1:0->10.0.0.2:0(icmp) "}}) {
    const size_t at = title_at(header, title);
    EXPECT_EQ(line.substr(at, value.size()), value) << title << "\n" << header << "\n" << line;
  }
  // IFACE: the 16 characters after MARK/x's 8 and a space, centred like the title.
  const size_t iface = title_at(header, "MARK/x") + 9;
  EXPECT_EQ(header.substr(iface, 16), "     IFACE      ");
  EXPECT_EQ(line.substr(iface, 16), "    veth1:5     ");
  EXPECT_EQ(line.substr(line.size() - std::string(" net_dev_queue").size()), " net_dev_queue");
}

TEST(TextOutput, TupleColumnWidensToTheLongestSeen) {
  TextFormatter f(OutputOptions{});
  Event shorter = icmp_event();
  Event longer = icmp_event();
  inet_pton(AF_INET, "192.168.100.100", longer.saddr.data());
  const std::string a = f.format(shorter);
  const std::string b = f.format(longer);
  const std::string c = f.format(shorter);
  // The first line is as wide as its own tuple; after a longer one, shorter ones are padded.
  EXPECT_NE(a.find("(icmp) net_dev_queue"), std::string::npos) << a;
  EXPECT_NE(b.find("(icmp) net_dev_queue"), std::string::npos) << b;
  EXPECT_EQ(c.size(), b.size()) << c << "\n" << b;
  EXPECT_NE(c.find("(icmp)" + std::string(8, ' ') + "net_dev_queue"), std::string::npos) << c;
}

TEST(TextOutput, ProcessAndIfaceAsPwru) {
  TextFormatter f(OutputOptions{});
  Event ev = icmp_event();
  ev.comm = "";
  ev.pid = 0;
  ev.ifindex = 0;
  ev.ifname = "";
  std::string line = f.format(ev);
  EXPECT_NE(line.find(" <empty>:0        "), std::string::npos) << line;
  // No device: pwru's bare ifindex, centred.
  EXPECT_NE(line.find(" " + std::string(7, ' ') + "0" + std::string(8, ' ') + " 0x0800"), std::string::npos)
      << line;
  // Longer than 16: the last 16 characters, the first replaced by '~'.
  ev.comm = "kworker/u16:3";
  ev.pid = 1234567;
  ev.ifname = "averylongname0";
  ev.ifindex = 4242;
  line = f.format(ev);
  EXPECT_NE(line.find(" ~r/u16:3:1234567 "), std::string::npos) << line;
  EXPECT_NE(line.find(" ~ylongname0:4242 "), std::string::npos) << line;
}

TEST(TextOutput, Ipv6InBracketsAndTupleWithoutIp) {
  TextFormatter f(OutputOptions{});
  Event ev = icmp_event();
  ev.ip_version = 6;
  ev.protocol = 0x86dd;
  inet_pton(AF_INET6, "fd00::1", ev.saddr.data());
  inet_pton(AF_INET6, "fd00::2", ev.daddr.data());
  ev.l4proto = 17;
  ev.has_ports = true;
  ev.sport = 5353;
  ev.dport = 53;
  std::string line = f.format(ev);
  EXPECT_NE(line.find(" 0x86dd "), std::string::npos) << line;
  EXPECT_NE(line.find(" [fd00::1]:5353->[fd00::2]:53(udp) "), std::string::npos) << line;
  Event arp = icmp_event();
  arp.ip_version = 0;
  arp.protocol = 0x0806;
  arp.func = "arp_rcv";
  line = f.format(arp);
  EXPECT_NE(line.find(" :0->:0() "), std::string::npos) << line;  // pwru's empty tuple
}

// The event's own line, without the lines that follow it (hint, stack, skb).
std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

// What the point of pwrudump needs without any flag: the reason in pwru's form and the caller.
TEST(TextOutput, DropsShowReasonAndCallerByDefault) {
  TextFormatter f(OutputOptions{});
  const std::string line = first_line(f.format(netfilter_drop()));
  const std::string tail = " kfree_skb(SKB_DROP_REASON_NETFILTER_DROP) caller=nf_hook_slow+0x9b";
  ASSERT_GE(line.size(), tail.size()) << line;
  EXPECT_EQ(line.substr(line.size() - tail.size()), tail) << line;

  Event unnamed = netfilter_drop();
  unnamed.drop_reason = 77;
  unnamed.drop_reason_name.clear();
  unnamed.caller.clear();
  EXPECT_NE(f.format(unnamed).find(" kfree_skb(77) caller=0xffffffff81aabbcc"), std::string::npos);
  // A drop before drop reasons (kfree_skb on 5.10) still shows its caller.
  Event old = netfilter_drop();
  old.drop_reason.reset();
  EXPECT_NE(f.format(old).find(" kfree_skb caller=nf_hook_slow+0x9b"), std::string::npos);
  // A free that is no drop says so and shows no caller.
  Event consumed = netfilter_drop();
  consumed.drop_reason = 1;
  consumed.drop_reason_name = "SKB_CONSUMED";
  const std::string c = f.format(consumed);
  EXPECT_NE(c.find(" kfree_skb(SKB_CONSUMED)"), std::string::npos) << c;
  EXPECT_EQ(c.find("caller="), std::string::npos) << c;
  // Other events carry no caller without --output-caller.
  EXPECT_EQ(f.format(icmp_event()).find("ip_finish_output2"), std::string::npos);
}

// --output-hints, on by default: after a drop, what its reason (named on the line above) means
// and what to check (pwru_reasons.h); nothing after other events, nothing with
// --output-hints=false.
TEST(TextOutput, DropsEndWithAHint) {
  TextFormatter f(OutputOptions{});
  const std::string drop = f.format(netfilter_drop());
  EXPECT_NE(drop.find("\n  hint: a netfilter rule or chain policy dropped it; check: nft list "
                      "ruleset"),
            std::string::npos)
      << drop;
  EXPECT_EQ(std::count(drop.begin(), drop.end(), '\n'), 1) << drop;

  Event future = netfilter_drop();
  future.drop_reason_name = "SOME_FUTURE_REASON";
  const std::string f1 = f.format(future);
  EXPECT_TRUE(f1.ends_with("(SKB_DROP_REASON_SOME_FUTURE_REASON) caller=nf_hook_slow+0x9b\n"
                           "  hint: no explanation is known yet"))
      << f1;
  // A value BTF did not name: its number, and the subsystems' generic words above 0xffff.
  Event unnamed = netfilter_drop();
  unnamed.drop_reason = 0x30002;
  unnamed.drop_reason_name.clear();
  EXPECT_NE(f.format(unnamed).find("(196610) caller=nf_hook_slow+0x9b\n  hint: a subsystem's own "
                                   "reason"),
            std::string::npos);

  Event old = netfilter_drop();
  old.drop_reason.reset();  // 5.10: nothing to explain
  Event consumed = netfilter_drop();
  consumed.drop_reason_name = "SKB_CONSUMED";
  for (const Event& ev : {old, consumed, icmp_event()}) {
    EXPECT_EQ(f.format(ev).find("hint:"), std::string::npos) << f.format(ev);
  }
  OutputOptions off;
  off.hints = false;
  EXPECT_EQ(TextFormatter(off).format(netfilter_drop()).find('\n'), std::string::npos);
}

// --diagnose: the finding on a line of its own after the drop's hint, also without hints.
TEST(TextOutput, DiagnosisFollowsTheDrop) {
  Event ev = netfilter_drop();
  ev.diagnosis = Diagnosis{PWRU_DIAG_NO_ROUTE, "no route to 10.9.9.9 in netns b"};
  const std::string line = TextFormatter(OutputOptions{}).format(ev);
  EXPECT_TRUE(line.ends_with("\n  diagnosis: no route to 10.9.9.9 in netns b")) << line;
  EXPECT_LT(line.find("\n  hint: "), line.find("\n  diagnosis: ")) << line;
  OutputOptions off;
  off.hints = false;
  const std::string bare = TextFormatter(off).format(ev);
  EXPECT_EQ(std::count(bare.begin(), bare.end(), '\n'), 1) << bare;
  EXPECT_TRUE(bare.ends_with("\n  diagnosis: no route to 10.9.9.9 in netns b")) << bare;
  EXPECT_EQ(TextFormatter(OutputOptions{}).format(netfilter_drop()).find("diagnosis"),
            std::string::npos);
}

// Each flag, against the default: the header titles it adds or removes and what the line says.
struct FlagCase {
  const char* name;
  std::function<void(OutputOptions&)> set;
  std::vector<std::string> header_adds;
  std::vector<std::string> header_drops;
  std::vector<std::string> line_has;   // substrings of the formatted event
  std::vector<std::string> line_lacks;
};

// GoogleTest would print a FlagCase as its raw bytes (heap addresses among them).
void PrintTo(const FlagCase& c, std::ostream* os) { *os << c.name; }

class TextFlags : public ::testing::TestWithParam<FlagCase> {
 protected:
  void SetUp() override {
    setenv("TZ", "UTC", 1);
    tzset();
  }
};

TEST_P(TextFlags, ChangeWhatTheySay) {
  const FlagCase& c = GetParam();
  OutputOptions base;
  OutputOptions flagged;
  c.set(flagged);
  TextFormatter plain(base), with(flagged);
  const std::string h0 = plain.header(), h1 = with.header();
  const std::string l0 = plain.format(icmp_event()), l1 = with.format(icmp_event());
  for (const auto& t : c.header_adds) {
    EXPECT_EQ(h0.find(t), std::string::npos) << t << " already in: " << h0;
    EXPECT_NE(h1.find(t), std::string::npos) << t << " missing in: " << h1;
  }
  for (const auto& t : c.header_drops) {
    EXPECT_NE(h0.find(t), std::string::npos) << t << " missing in: " << h0;
    EXPECT_EQ(h1.find(t), std::string::npos) << t << " still in: " << h1;
  }
  for (const auto& s : c.line_has) {
    EXPECT_EQ(l0.find(s), std::string::npos) << s << " already in: " << l0;
    EXPECT_NE(l1.find(s), std::string::npos) << s << " missing in: " << l1;
  }
  for (const auto& s : c.line_lacks) {
    EXPECT_NE(l0.find(s), std::string::npos) << s << " missing in: " << l0;
    EXPECT_EQ(l1.find(s), std::string::npos) << s << " still in: " << l1;
  }
}

INSTANTIATE_TEST_SUITE_P(
    EachFlag, TextFlags,
    ::testing::Values(
        FlagCase{"meta_off", [](OutputOptions& o) { o.meta = false; }, {},
                 {"NETNS", "MARK/x", "IFACE", "PROTO", "MTU", "LEN"}, {},
                 {"4026531840", "veth1:5", "0x0800", "1500"}},
        FlagCase{"tuple_off", [](OutputOptions& o) { o.tuple = false; }, {}, {"TUPLE"}, {},
                 {"10.0.0.1:0->10.0.0.2:0(icmp)"}},
        FlagCase{"caller", [](OutputOptions& o) { o.caller = true; }, {"CALLER"}, {},
                 {" net_dev_queue ip_finish_output2+0x1a3"}, {}},
        FlagCase{"stack", [](OutputOptions& o) { o.stack = true; }, {}, {},
                 {"\n__dev_queue_xmit+0x5e2\nip_finish_output2+0x1a3\nip_output+0x6f"}, {}},
        FlagCase{"skb", [](OutputOptions& o) { o.skb = true; }, {}, {},
                 {"\n  skb:      0xffff99cf11aa4100", "\n  len:      84",
                  "\n  protocol: 0x0800 (IPv4)", "\n  dev:      veth1 (ifindex 5, mtu 1500)",
                  "\n  netns:    4026531840", "\n  ip:       10.0.0.1 -> 10.0.0.2 icmp",
                  "4 bytes captured from the network header", "0000  45 00 00 54"},
                 {}},
        FlagCase{"timestamp_current",
                 [](OutputOptions& o) { o.timestamp = TimestampMode::Current; }, {"TIMESTAMP"},
                 {}, {"ping:1234        5000000000       4026531840"}, {}},
        FlagCase{"timestamp_relative",
                 [](OutputOptions& o) { o.timestamp = TimestampMode::Relative; }, {"TIMESTAMP"},
                 {}, {"ping:1234        0                4026531840"}, {}},
        FlagCase{"timestamp_absolute",
                 [](OutputOptions& o) { o.timestamp = TimestampMode::Absolute; },
                 {"TIME                    SKB", "TIMESTAMP"}, {},
                 {"2023-11-14T22:13:20.123 0xffff99cf11aa4100", " 5000000000 "}, {}}),
    [](const ::testing::TestParamInfo<FlagCase>& info) { return std::string(info.param.name); });

// --nf-trace: the drop line ends with the rule, quoted (its own quotes and backslashes escaped);
// unknown parts are left out.
TEST(TextOutput, NamedDropEndsWithTheRule) {
  TextFormatter f(OutputOptions{});
  const std::string line = first_line(f.format(named_netfilter_drop()));
  const std::string tail =
      " caller=nf_hook_slow+0x9b family=inet hook=input table=demo chain=c2 handle=4 "
      "verdict=drop rule=\"ip saddr 10.0.0.1 meta l4proto icmp drop comment \\\"no "
      "\\\\\\\"ping\\\\\\\"\\\"\"";
  ASSERT_GE(line.size(), tail.size()) << line;
  EXPECT_EQ(line.substr(line.size() - tail.size()), tail) << line;

  Event policy = named_netfilter_drop();
  policy.nf->handle.reset();
  policy.nf->hook.clear();
  policy.nf->rule.clear();
  const std::string p = first_line(f.format(policy));
  EXPECT_TRUE(p.ends_with(" family=inet table=demo chain=c2 verdict=drop")) << p;

  // The trace id, as `nft monitor trace` prints it, before the rule's fields.
  Event traced = named_netfilter_drop();
  traced.nf->trace_id = 0x0df8692e;
  const std::string t = f.format(traced);
  EXPECT_NE(t.find(" caller=nf_hook_slow+0x9b trace_id=0df8692e family=inet hook=input "),
            std::string::npos)
      << t;
}

TEST(TextOutput, NfTraceLostRecordEndsWithItsCount) {
  TextFormatter f(OutputOptions{});
  Event ev;
  ev.func = "nf_trace_lost";
  ev.nf_trace_lost = 3;
  const std::string line = f.format(ev);
  EXPECT_TRUE(line.ends_with(" nf_trace_lost nf_trace_lost=3")) << line;
  EXPECT_EQ(f.format(named_netfilter_drop()).find("nf_trace_lost"), std::string::npos);
}

// A tc or XDP program's return: FUNC as pwru prints it, then its verdict; its entry has none.
TEST(TextOutput, BpfProgramVerdict) {
  TextFormatter f(OutputOptions{});
  Event ev;
  ev.func = "xdp_prog(xdp)";
  ev.bpf = BpfProg{"xdp_prog", 5, PWRU_BPF_HOOK_XDP, std::nullopt};
  EXPECT_TRUE(f.format(ev).ends_with(" xdp_prog(xdp)")) << f.format(ev);
  ev.bpf->verdict = 1;
  EXPECT_TRUE(f.format(ev).ends_with(" xdp_prog(xdp) verdict=XDP_DROP")) << f.format(ev);
  EXPECT_TRUE(is_drop(ev));
  ev.bpf->verdict = 2;
  EXPECT_TRUE(f.format(ev).ends_with(" verdict=XDP_PASS")) << f.format(ev);
  EXPECT_FALSE(is_drop(ev));
}

// A rule passed is a line of its own: nft_trace_packet, the verdict, the jump's target, and
// whether the rule was deleted since, before its text as traced.
TEST(TextOutput, RulePassedLine) {
  TextFormatter f(OutputOptions{});
  Event ev = sample::passed_jump();
  ev.nf->state = NfRuleState::Deleted;
  const std::string line = f.format(ev);
  EXPECT_TRUE(line.ends_with(" nft_trace_packet family=inet hook=input table=demo chain=input "
                             "handle=3 verdict=jump target=c2 state=deleted "
                             "rule=\"ip protocol icmp jump c2\""))
      << line;
}

TEST(TextOutput, TcpFlagsInTheTuple) {
  OutputOptions o;
  Event ev = icmp_event();
  ev.l4proto = 6;
  ev.has_ports = true;
  ev.sport = 43210;
  ev.dport = 443;
  ev.tcp_flags = 0x12;  // SYN|ACK
  EXPECT_NE(TextFormatter(o).format(ev).find(" 10.0.0.1:43210->10.0.0.2:443(tcp) "),
            std::string::npos);
  o.tcp_flags = true;
  EXPECT_NE(TextFormatter(o).format(ev).find(" 10.0.0.1:43210->10.0.0.2:443(tcp:SYN|ACK) "),
            std::string::npos);
  // No flags set: pwru leaves the protocol alone.
  ev.tcp_flags = 0;
  EXPECT_NE(TextFormatter(o).format(ev).find("(tcp) "), std::string::npos);
}

// pwru's header with every optional column: the order and the spacing of its PrintHeader.
TEST(TextOutput, HeaderWithEveryColumnInPwrusOrder) {
  OutputOptions o;
  o.timestamp = TimestampMode::Absolute;
  o.netns_names = true;
  o.caller = true;
  o.netns_dir = "/nonexistent";
  EXPECT_EQ(TextFormatter(o).header(),
            "TIME                    SKB                CPU PROCESS          TIMESTAMP        "
            "NETNS      MARK/x        IFACE       PROTO  MTU   LEN      NETNS NAME    "
            "TUPLE FUNC CALLER");
}

// --output-tunnel: TUNNEL after FUNC (and CALLER), as pwru; the tuple inside the tunnel when the
// bytes hold one, pwru's empty tuple when not; before CHANGED, padded when it follows.
TEST(TextOutput, TunnelColumn) {
  OutputOptions o;
  o.tunnel = true;
  TextFormatter f(o);
  EXPECT_TRUE(f.header().ends_with(" TUPLE FUNC TUNNEL")) << f.header();
  EXPECT_TRUE(f.format(sample::vxlan_event())
                  .ends_with(" 172.16.0.1:41000->172.16.0.2:4789(udp) net_dev_queue "
                             "10.0.0.1:0->10.0.0.2:0(icmp)"))
      << f.format(sample::vxlan_event());
  EXPECT_TRUE(f.format(icmp_event()).ends_with(" net_dev_queue :0->:0()")) << f.format(icmp_event());
  // With --output-tcp-flags, an inner TCP segment's flags, as in TUPLE.
  Event tcp = sample::vxlan_event();
  tcp.packet[59] = 6;            // the inner IPv4 header's protocol
  tcp.packet.resize(70);         // the inner TCP header instead of ICMP's
  tcp.packet.insert(tcp.packet.end(), {0x30, 0x39, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x12,
                                       0xff, 0xff, 0, 0, 0, 0});
  OutputOptions flags = o;
  flags.tcp_flags = true;
  EXPECT_TRUE(TextFormatter(flags).format(tcp).ends_with(" 10.0.0.1:12345->10.0.0.2:80(tcp:SYN|ACK)"))
      << TextFormatter(flags).format(tcp);
  EXPECT_TRUE(f.format(tcp).ends_with(" 10.0.0.1:12345->10.0.0.2:80(tcp)")) << f.format(tcp);
  o.caller = true;
  o.changes = true;
  TextFormatter both(o);
  EXPECT_TRUE(both.header().ends_with(" FUNC CALLER TUNNEL CHANGED")) << both.header();
  both.format(sample::vxlan_event());
  Event decapped = icmp_event();
  decapped.ifname = "vx0";
  const std::string line = both.format(decapped);
  // Padded to the inner tuple seen before, 28 characters.
  EXPECT_NE(line.find(" ip_finish_output2+0x1a3 :0->:0()" + std::string(20, ' ') +
                      " decap vxlan 172.16.0.1->172.16.0.2 vni 42"),
            std::string::npos)
      << line;
}

// --output-changes: CHANGED last in the header; on a line, what changed since the skb's previous
// event (journey.h), after FUNC padded to the widest so far; nothing on the first event or
// without the flag.
TEST(TextOutput, ChangedColumn) {
  OutputOptions o;
  o.changes = true;
  TextFormatter f(o);
  EXPECT_TRUE(f.header().ends_with(" TUPLE FUNC CHANGED")) << f.header();
  Event ev = icmp_event();
  EXPECT_TRUE(f.format(ev).ends_with(" net_dev_queue")) << f.format(ev);
  ev.func = "netif_receive_skb";
  ev.ifindex = 6;
  ev.ifname = "veth2";
  ev.mark = 0x2a;
  inet_pton(AF_INET, "10.0.0.3", ev.daddr.data());
  EXPECT_TRUE(f.format(ev).ends_with(
      " netif_receive_skb dnat 10.0.0.2 -> 10.0.0.3, iface veth1:5 -> veth2:6, mark 0x0 -> 0x2a"))
      << f.format(ev);
  ev.func = "ip_rcv";
  ev.mark = 0;
  EXPECT_TRUE(f.format(ev).ends_with(" ip_rcv            mark 0x2a -> 0x0")) << f.format(ev);
  // A drop's caller comes first.
  Event drop = netfilter_drop();
  drop.ifindex = 7;
  EXPECT_NE(f.format(drop).find(" caller=nf_hook_slow+0x9b dnat 10.0.0.3 -> 10.0.0.2"),
            std::string::npos)
      << f.format(drop);
  TextFormatter plain{OutputOptions{}};
  EXPECT_TRUE(plain.header().ends_with(" TUPLE FUNC"));
  plain.format(icmp_event());
  EXPECT_TRUE(plain.format(ev).ends_with(" ip_rcv")) << plain.format(ev);
}

TEST(TextOutput, RelativeTimestampIsSinceTheSkbsPreviousEvent) {
  OutputOptions o;
  o.meta = o.tuple = false;
  o.timestamp = TimestampMode::Relative;
  TextFormatter f(o);
  Event a = icmp_event(), b = icmp_event();
  b.skb = 0xffff888100000000;
  auto ts = [&](Event ev, uint64_t ktime) {
    ev.ktime_ns = ktime;
    const std::string line = f.format(ev);
    return std::stoull(line.substr(std::string("0xffff99cf11aa4100 3   ping:1234        ").size()));
  };
  EXPECT_EQ(ts(a, 1000), 0u);     // first event of a
  EXPECT_EQ(ts(b, 1500), 0u);     // first event of b
  EXPECT_EQ(ts(a, 1700), 700u);   // since a's previous event
  EXPECT_EQ(ts(b, 4500), 3000u);  // since b's
  EXPECT_EQ(ts(a, 1600), 0u);     // stamped earlier on another CPU: 0, not a wrapped number
}

TEST(TextOutput, NetnsNamesColumn) {
  char tmpl[] = "/tmp/pwru_netns_names.XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const fs::path dir = tmpl;
  std::ofstream(dir / "blue").put('x');
  struct stat st{};
  ASSERT_EQ(stat((dir / "blue").c_str(), &st), 0);
  if (st.st_ino > UINT32_MAX) PWRU_SKIP_OR_FAIL("inode of /tmp files wider than a netns inode");
  OutputOptions o;
  o.netns_names = true;
  o.netns_dir = dir.string();
  TextFormatter f(o);
  const std::string header = f.header();
  Event ev = icmp_event();
  ev.netns = static_cast<uint32_t>(st.st_ino);
  const std::string line = f.format(ev);
  const size_t at = header.find("NETNS NAME") - 3;  // centred in 16
  EXPECT_EQ(line.substr(at, 16), "      blue      ") << header << "\n" << line;
  ev.netns = 1;  // no name: blank, the columns stay in place
  EXPECT_EQ(f.format(ev).substr(at, 17), std::string(17, ' '));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace pwru
