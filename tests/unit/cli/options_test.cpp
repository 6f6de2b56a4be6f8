// parse_options: defaults, filter joining, checked values, and the extcap actions.
#include "cli/options.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include "cli/parse_helpers.h"

namespace pwru {
namespace {

// The error, checked to be a usage error whose message names `needle`.
void expect_usage_error(std::vector<std::string> args, const std::string& needle) {
  auto o = parse(args);
  ASSERT_FALSE(o.ok()) << "parsed: " << ::testing::PrintToString(args);
  EXPECT_EQ(o.error().code, ExitCode::Usage);
  EXPECT_EQ(o.error().message.rfind("cannot ", 0), 0u) << o.error().message;
  EXPECT_NE(o.error().message.find(needle), std::string::npos) << o.error().message;
  EXPECT_FALSE(o.error().hint.empty());
}

TEST(Options, Defaults) {
  Options o = parse_ok({});
  EXPECT_EQ(o.action, Action::Trace);
  EXPECT_EQ(o.trace.snaplen, 256u);
  EXPECT_EQ(o.trace.ringbuf_bytes, 16u << 20);
  EXPECT_EQ(o.output_limit, 0u);
  EXPECT_EQ(o.filter, "");
  EXPECT_FALSE(o.quiet);
  EXPECT_EQ(o.text_destination(), "-");
}

TEST(Options, FilterWordsAreJoinedBySpaces) {
  EXPECT_EQ(parse_ok({"tcp", "and", "port", "80"}).filter, "tcp and port 80");
  EXPECT_EQ(parse_ok({"icmp and host 10.0.0.2"}).filter, "icmp and host 10.0.0.2");
  Options o = parse_ok({"-c", "5", "host", "10.0.0.2", "--snaplen", "128", "and", "icmp"});
  EXPECT_EQ(o.filter, "host 10.0.0.2 and icmp");
  EXPECT_EQ(o.output_limit, 5u);
  EXPECT_EQ(o.trace.snaplen, 128u);
  // After --, words that look like options belong to the filter too.
  EXPECT_EQ(parse_ok({"--", "ip[0]", "&", "0xf", "!=", "5"}).filter, "ip[0] & 0xf != 5");
}

// pwru-drops is the pwru interface narrowed to the kfree_skb tracepoint and real drops.
TEST(Options, DropsInterface) {
  Options o = parse_ok({"--capture", "--extcap-interface", "pwru-drops", "--fifo", "f"});
  EXPECT_EQ(o.trace.backend, "tracepoint");
  EXPECT_EQ(o.trace.filter_func, "kfree_skb");
  EXPECT_TRUE(o.trace.drops_only);
  Options p = parse_ok({"--capture", "--extcap-interface", "pwru", "--fifo", "f"});
  EXPECT_EQ(p.trace.backend, "auto");
  EXPECT_FALSE(p.trace.drops_only);
  expect_usage_error({"--capture", "--extcap-interface", "eth0", "--fifo", "f"}, "eth0");
}

TEST(Options, Backend) {
  EXPECT_EQ(parse_ok({}).trace.backend, "auto");
  for (const char* name : {"auto", "kprobe-multi", "kprobe", "fentry", "tracepoint"}) {
    EXPECT_EQ(parse_ok({"--backend", name}).trace.backend, name);
  }
  expect_usage_error({"--backend", "uprobe"}, "--backend uprobe: no such backend");
  EXPECT_NE(parse({"--backend", "uprobe"}).error().hint.find("auto, kprobe-multi"),
            std::string::npos);
}

TEST(Options, FunctionSelection) {
  Options o = parse_ok({"--filter-func", "ip_rcv.*", "--list-funcs"});
  EXPECT_EQ(o.trace.filter_func, "ip_rcv.*");
  EXPECT_EQ(o.action, Action::ListFuncs);
  // A missing --kernel-btf is reported where the BTF is loaded, as exit code 9 (NoBtf).
  EXPECT_EQ(parse_ok({"--kernel-btf", "/nonexistent/vmlinux"}).trace.kernel_btf,
            "/nonexistent/vmlinux");
}

TEST(Options, OutputOptions) {
  Options o = parse_ok({"-w", "out.pcapng", "--output-file", "out.txt", "--ready-file", "/tmp/r",
                        "-q", "--output-limit-lines", "9"});
  EXPECT_EQ(o.write_file, "out.pcapng");
  EXPECT_EQ(o.output_file, "out.txt");
  EXPECT_EQ(o.ready_file, "/tmp/r");
  EXPECT_TRUE(o.quiet);
  EXPECT_EQ(o.output_limit, 9u);
  EXPECT_EQ(parse_ok({"--write=x.pcapng"}).write_file, "x.pcapng");
}

TEST(Options, TextDestination) {
  EXPECT_EQ(parse_ok({"-w", "f.pcapng"}).text_destination(), "-");
  EXPECT_EQ(parse_ok({"-w", "f.pcapng", "-q"}).text_destination(), "");
  EXPECT_EQ(parse_ok({"-w", "-"}).text_destination(), "");
  EXPECT_EQ(parse_ok({"-w", "-", "--output-file", "t"}).text_destination(), "t");
  EXPECT_EQ(parse_ok({"-q"}).text_destination(), "-");
  EXPECT_EQ(parse_ok({"--output-file", "t"}).text_destination(), "t");
}

TEST(Options, Snaplen) {
  EXPECT_EQ(parse_ok({"--snaplen", "0"}).trace.snaplen, 0u);
  EXPECT_EQ(parse_ok({"--snaplen", "4096"}).trace.snaplen, 4096u);
  expect_usage_error({"--snaplen", "4097"}, "--snaplen 4097");
  expect_usage_error({"--snaplen", "abc"}, "--snaplen");
  expect_usage_error({"--snaplen", "-1"}, "--snaplen");
  expect_usage_error({"--snaplen", "99999999999999999999999"}, "too large");
  expect_usage_error({"--snaplen", "4294967297"}, "too large");  // not cut to 32 bits
  expect_usage_error({"--snaplen"}, "--snaplen");
}

// The kernel filters on the whole linear packet: --snaplen only limits what is kept.
TEST(Options, FilterGoesToTheKernelWhateverTheSnaplen) {
  Options o = parse_ok({"--snaplen", "0", "tcp", "port", "80"});
  EXPECT_EQ(o.trace.pcap_filter, "tcp port 80");
  EXPECT_EQ(o.trace.snaplen, 0u);
}

TEST(Options, MetadataFilters) {
  Options o = parse_ok({"--filter-netns", "inode:4026531840", "--filter-mark", "0x2a/0xff",
                        "--filter-ifname", "veth1", "--filter-track-skb"});
  EXPECT_EQ(o.trace.filter_netns, "inode:4026531840");
  EXPECT_EQ(o.trace.filter_mark, "0x2a/0xff");
  EXPECT_EQ(o.trace.filter_ifname, "veth1");
  EXPECT_TRUE(o.trace.track_skb);
}

// pwru's stack tracking: --filter-non-skb-funcs takes names, comma separated or repeated.
TEST(Options, StackTracking) {
  Options o = parse_ok({"--filter-track-skb-by-stackid", "--filter-non-skb-funcs",
                        "fib_table_lookup,neigh_lookup", "--filter-non-skb-funcs", "arp_solicit",
                        "icmp", "and", "host", "10.0.0.2"});
  EXPECT_TRUE(o.trace.track_skb_by_stackid);
  EXPECT_EQ(o.trace.pcap_filter, "icmp and host 10.0.0.2");
  EXPECT_EQ(o.trace.non_skb_funcs,
            (std::vector<std::string>{"fib_table_lookup", "neigh_lookup", "arp_solicit"}));
  EXPECT_FALSE(parse_ok({}).trace.track_skb_by_stackid);
}

// pwru's tunnel filters go to the tracer as given; the capture filter stays the words' own.
TEST(Options, TunnelFilters) {
  Options o = parse_ok({"--filter-tunnel-pcap-l2", "ether src 02:00:00:00:00:01",
                        "--filter-tunnel-pcap-l3", "icmp and host 10.0.0.2", "udp port 4789"});
  EXPECT_EQ(o.trace.tunnel_pcap_l2, "ether src 02:00:00:00:00:01");
  EXPECT_EQ(o.trace.tunnel_pcap_l3, "icmp and host 10.0.0.2");
  EXPECT_EQ(o.trace.pcap_filter, "udp port 4789");
  EXPECT_TRUE(parse_ok({}).trace.tunnel_pcap_l2.empty());
  EXPECT_TRUE(parse_ok({}).trace.tunnel_pcap_l3.empty());
}

// pwru's tc and XDP program tracing: off by default, each on its own.
TEST(Options, TraceBpfPrograms) {
  EXPECT_FALSE(parse_ok({}).trace.trace_tc);
  EXPECT_FALSE(parse_ok({}).trace.trace_xdp);
  Options tc = parse_ok({"--filter-trace-tc"});
  EXPECT_TRUE(tc.trace.trace_tc);
  EXPECT_FALSE(tc.trace.trace_xdp);
  Options xdp = parse_ok({"--filter-trace-xdp"});
  EXPECT_FALSE(xdp.trace.trace_tc);
  EXPECT_TRUE(xdp.trace.trace_xdp);
}

// --nf-trace: off by default; its help says what it adds and that it goes away on exit.
TEST(Options, NfTrace) {
  EXPECT_FALSE(parse_ok({}).nf_trace);
  EXPECT_TRUE(parse_ok({"--nf-trace", "icmp"}).nf_trace);
  const std::string text = help_of("--nf-trace");
  for (const char* says : {"pwrudump_PID", "removes them when pwrudump exits", "CAP_NET_ADMIN"}) {
    EXPECT_NE(text.find(says), std::string::npos) << says << " in: " << text;
  }
}

// The function backends' netfilter probes: on unless turned off, as pwru's output flags are.
TEST(Options, NfProbes) {
  EXPECT_TRUE(parse_ok({}).trace.nf_probes);
  EXPECT_FALSE(parse_ok({"--nf-probes=false", "icmp"}).trace.nf_probes);
  EXPECT_TRUE(parse_ok({"--nf-probes=true"}).trace.nf_probes);
  const std::string text = help_of("--nf-probes");
  for (const char* says : {"nft_do_chain", "iptables-legacy", "no rule handle",
                           "Changes no ruleset", "=false"}) {
    EXPECT_NE(text.find(says), std::string::npos) << says << " in: " << text;
  }
}

TEST(Options, RingbufSize) {
  EXPECT_EQ(parse_ok({"--ringbuf-size", "4096"}).trace.ringbuf_bytes, 4096u);
  EXPECT_EQ(parse_ok({"--ringbuf-size", "64M"}).trace.ringbuf_bytes, 64u << 20);
  EXPECT_EQ(parse_ok({"--ringbuf-size", "256k"}).trace.ringbuf_bytes, 256u << 10);
  EXPECT_EQ(parse_ok({"--ringbuf-size", "1G"}).trace.ringbuf_bytes, 1u << 30);
  expect_usage_error({"--ringbuf-size", "1000"}, "power of two");
  expect_usage_error({"--ringbuf-size", "3M"}, "power of two");
  expect_usage_error({"--ringbuf-size", "2048"}, "power of two");
  expect_usage_error({"--ringbuf-size", "2G"}, "power of two");
  expect_usage_error({"--ringbuf-size", "4G"}, "too large");  // more than the field holds
  expect_usage_error({"--ringbuf-size", "1T"}, "--ringbuf-size");
  expect_usage_error({"--ringbuf-size", "M"}, "--ringbuf-size");
}

TEST(Options, UnknownOptionIsUsageError) {
  expect_usage_error({"--no-such-option"}, "command line");
}

// The section of the help that lists `flag` ("-q,--quiet"): the last "Name:" heading above it.
// CLI11 2.5 and later put the long names in a column of their own ("-q,     --quiet").
std::string help_group_of(const std::string& layout, const std::string& flag) {
  const std::string help = std::regex_replace(layout, std::regex(", +--"), ",--");
  const size_t at = help.find("  " + flag + " ");
  const size_t at_eol = help.find("  " + flag + "\n");
  const size_t pos = std::min(at, at_eol);
  if (pos == std::string::npos) return "<not listed>";
  const size_t end = help.rfind(":\n", pos);
  const size_t start = help.rfind("\n\n", end);
  return help.substr(start + 2, end - start - 2);
}

TEST(Options, HelpIsGroupedLikePwru) {
  Options o = parse_ok({"--help"});
  EXPECT_EQ(o.action, Action::Help);
  size_t filters = o.print.find("\nFilters:\n");
  size_t tracking = o.print.find("\nTracking:\n");
  size_t output = o.print.find("\nOutput:\n");
  size_t backend = o.print.find("\nBackend:\n");
  size_t misc = o.print.find("\nMisc:\n");
  ASSERT_NE(filters, std::string::npos) << o.print;
  ASSERT_NE(tracking, std::string::npos) << o.print;
  ASSERT_NE(output, std::string::npos) << o.print;
  ASSERT_NE(backend, std::string::npos) << o.print;
  ASSERT_NE(misc, std::string::npos) << o.print;
  EXPECT_LT(filters, tracking);
  EXPECT_LT(tracking, output);
  EXPECT_LT(output, backend);
  EXPECT_LT(backend, misc);
  const std::map<std::string, std::vector<std::string>> groups = {
      {"Filters", {"--filter-func", "--filter-netns", "--filter-mark", "--filter-ifname",
                   "--filter-tunnel-pcap-l2", "--filter-tunnel-pcap-l3", "--filter-trace-tc",
                   "--filter-trace-xdp"}},
      {"Tracking", {"--filter-track-skb", "--filter-track-skb-by-stackid",
                    "--filter-non-skb-funcs"}},
      {"Netfilter", {"--nf-trace", "--nf-probes"}},
      {"Output", {"--output-meta", "--output-tuple", "--output-caller", "--output-stack",
                  "--output-tcp-flags", "--output-skb", "--output-netns-names", "--output-hints",
                  "--output-summary", "--output-changes", "--output-tunnel", "--output-json",
                  "--timestamp",
                  "--output-file", "-c,--output-limit-lines",
                  "-w,--write", "--snaplen", "-q,--quiet"}},
      {"Backend", {"--backend", "--kernel-btf", "--ringbuf-size", "--list-funcs"}},
      {"Misc", {"-h,--help", "--version", "--ready-file", "--debug"}},
  };
  for (const auto& [group, flags] : groups) {
    for (const auto& flag : flags) EXPECT_EQ(help_group_of(o.print, flag), group) << flag;
  }
  EXPECT_EQ(parse_ok({"-h"}).action, Action::Help);
}

// pwru's defaults: meta and tuple on, everything else off, no timestamp, text; and pwrudump's
// drop hints on.
TEST(Options, OutputFlagDefaultsArePwrus) {
  const OutputOptions out = parse_ok({}).output;
  EXPECT_TRUE(out.meta);
  EXPECT_TRUE(out.tuple);
  EXPECT_FALSE(out.caller);
  EXPECT_FALSE(out.stack);
  EXPECT_FALSE(out.tcp_flags);
  EXPECT_FALSE(out.skb);
  EXPECT_FALSE(out.netns_names);
  EXPECT_FALSE(out.json);
  EXPECT_TRUE(out.hints);
  EXPECT_FALSE(out.summary);
  EXPECT_FALSE(out.changes);
  EXPECT_FALSE(out.tunnel);
  EXPECT_EQ(out.timestamp, TimestampMode::None);
  EXPECT_FALSE(parse_ok({}).trace.output_stack);
}

// Each flag sets its own field and no other.
TEST(Options, EachOutputFlagSetsItsField) {
  struct Case {
    std::vector<std::string> args;
    bool OutputOptions::*field;
    bool value;
  };
  const Case cases[] = {
      {{"--output-meta=false"}, &OutputOptions::meta, false},
      {{"--output-tuple=false"}, &OutputOptions::tuple, false},
      {{"--output-meta=true"}, &OutputOptions::meta, true},
      {{"--output-caller"}, &OutputOptions::caller, true},
      {{"--output-stack"}, &OutputOptions::stack, true},
      {{"--output-tcp-flags"}, &OutputOptions::tcp_flags, true},
      {{"--output-skb"}, &OutputOptions::skb, true},
      {{"--output-netns-names"}, &OutputOptions::netns_names, true},
      {{"--output-json"}, &OutputOptions::json, true},
      {{"--output-hints=false"}, &OutputOptions::hints, false},
      {{"--output-summary"}, &OutputOptions::summary, true},
      {{"--output-changes"}, &OutputOptions::changes, true},
      {{"--output-tunnel"}, &OutputOptions::tunnel, true},
  };
  const OutputOptions defaults = parse_ok({}).output;
  bool OutputOptions::*const all[] = {&OutputOptions::meta,  &OutputOptions::tuple,
                                      &OutputOptions::caller, &OutputOptions::stack,
                                      &OutputOptions::tcp_flags, &OutputOptions::skb,
                                      &OutputOptions::netns_names, &OutputOptions::json,
                                      &OutputOptions::hints, &OutputOptions::summary,
                                      &OutputOptions::changes, &OutputOptions::tunnel};
  for (const Case& c : cases) {
    const OutputOptions out = parse_ok(c.args).output;
    for (auto field : all) {
      EXPECT_EQ(out.*field, field == c.field ? c.value : defaults.*field) << c.args[0];
    }
  }
  // The stack is recorded by the tracer and printed by the output: one flag does both.
  EXPECT_TRUE(parse_ok({"--output-stack"}).trace.output_stack);
  // A word after a flag is the filter's, as with pwru: `--output-meta false` is not a value.
  EXPECT_EQ(parse_ok({"--output-meta", "icmp"}).filter, "icmp");
  expect_usage_error({"--output-meta=maybe"}, "command line");
}

// Diagnoses are on unless switched off, and --help lists the flag with the output's.
TEST(Options, Diagnose) {
  EXPECT_TRUE(parse_ok({}).diagnose);
  EXPECT_FALSE(parse_ok({"--diagnose=false"}).diagnose);
  EXPECT_TRUE(parse_ok({"--diagnose"}).diagnose);
  EXPECT_EQ(help_group_of(parse_ok({"--help"}).print, "--diagnose"), "Output");
}

TEST(Options, Timestamp) {
  EXPECT_EQ(parse_ok({"--timestamp", "none"}).output.timestamp, TimestampMode::None);
  EXPECT_EQ(parse_ok({"--timestamp", "current"}).output.timestamp, TimestampMode::Current);
  EXPECT_EQ(parse_ok({"--timestamp=relative"}).output.timestamp, TimestampMode::Relative);
  EXPECT_EQ(parse_ok({"--timestamp", "absolute"}).output.timestamp, TimestampMode::Absolute);
  expect_usage_error({"--timestamp", "yesterday"}, "--timestamp yesterday");
  expect_usage_error({"--timestamp"}, "--timestamp");
}

TEST(Options, Version) {
  Options o = parse_ok({"--version"});
  EXPECT_EQ(o.action, Action::Version);
  EXPECT_EQ(o.print, std::string("pwrudump ") + pwrudump_version() + "\n");
}

TEST(Options, ExtcapInterfaces) {
  EXPECT_EQ(parse_ok({"--extcap-interfaces"}).action, Action::ExtcapInterfaces);
  Options o = parse_ok({"--extcap-interfaces", "--extcap-version=4.0"});
  EXPECT_EQ(o.action, Action::ExtcapInterfaces);
  EXPECT_EQ(o.extcap_version, "4.0");
}

TEST(Options, ExtcapDltsAndConfigNeedOurInterface) {
  EXPECT_EQ(parse_ok({"--extcap-dlts", "--extcap-interface", "pwru"}).action, Action::ExtcapDlts);
  EXPECT_EQ(parse_ok({"--extcap-config", "--extcap-interface", "pwru"}).action,
            Action::ExtcapConfig);
  expect_usage_error({"--extcap-dlts"}, "no --extcap-interface");
  expect_usage_error({"--extcap-config", "--extcap-interface", "eth0"}, "\"eth0\"");
  expect_usage_error({"--extcap-dlts", "--extcap-interface", "eth0"}, "unknown extcap interface");
}

TEST(Options, ExtcapFilterCheck) {
  Options o = parse_ok({"--extcap-capture-filter", "tcp port 80", "--extcap-interface", "pwru"});
  EXPECT_EQ(o.action, Action::ExtcapFilterCheck);
  EXPECT_EQ(o.filter, "tcp port 80");
  expect_usage_error({"--extcap-capture-filter", "icmp", "--extcap-interface", "x"}, "\"x\"");
}

TEST(Options, ExtcapCapture) {
  Options o = parse_ok({"--capture", "--extcap-interface", "pwru", "--fifo", "/tmp/fifo",
                        "--extcap-capture-filter", "icmp", "--snaplen", "512",
                        "--ringbuf-size", "8388608", "--output-limit-lines", "0"});
  EXPECT_EQ(o.action, Action::ExtcapCapture);
  EXPECT_TRUE(o.extcap());
  EXPECT_EQ(o.fifo, "/tmp/fifo");
  EXPECT_EQ(o.filter, "icmp");
  EXPECT_EQ(o.trace.snaplen, 512u);
  EXPECT_EQ(o.trace.ringbuf_bytes, 8u << 20);
  EXPECT_TRUE(o.quiet);  // stderr output would be an error in Wireshark
  EXPECT_EQ(o.text_destination(), "");
  // Wireshark may also pass the control pipes; they must not fail the capture.
  EXPECT_EQ(parse_ok({"--capture", "--extcap-interface", "pwru", "--fifo", "f",
                      "--extcap-control-in", "a", "--extcap-control-out", "b"})
                .action,
            Action::ExtcapCapture);
}

// libbpf's messages on stderr would read as a failure in Wireshark: --debug is for the command line.
TEST(Options, DebugOnlyOnTheCommandLine) {
  EXPECT_FALSE(parse_ok({}).trace.debug);
  EXPECT_TRUE(parse_ok({"--debug", "icmp"}).trace.debug);
  EXPECT_FALSE(parse_ok({"--capture", "--extcap-interface", "pwru", "--fifo", "f", "--debug"})
                   .trace.debug);
}

TEST(Options, ExtcapCaptureMistakes) {
  expect_usage_error({"--capture", "--extcap-interface", "pwru"}, "--fifo");
  expect_usage_error({"--capture", "--fifo", "f"}, "no --extcap-interface");
  expect_usage_error({"--capture", "--extcap-interface", "pwru", "--fifo", "f", "-w", "x"}, "-w");
  expect_usage_error({"--capture", "--extcap-interface", "pwru", "--fifo", "f",
                      "--extcap-capture-filter", "icmp", "tcp"},
                     "both");
  expect_usage_error({"--fifo", "f"}, "--fifo");
}

}  // namespace
}  // namespace pwru
