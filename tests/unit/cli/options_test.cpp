// parse_options: defaults, filter joining, checked values, and the extcap actions.
#include "cli/options.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace pwru {
namespace {

Result<Options> parse(std::vector<std::string> args) { return parse_options(args); }

Options parse_ok(std::vector<std::string> args) {
  auto o = parse(args);
  EXPECT_TRUE(o.ok()) << (o.ok() ? "" : o.error().text());
  return o.ok() ? o.value() : Options{};
}

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
  EXPECT_EQ(o.trace.ringbuf_bytes, 32u << 20);
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

TEST(Options, Backend) {
  EXPECT_EQ(parse_ok({}).trace.backend, "auto");
  for (const char* name : {"auto", "kprobe-multi", "kprobe", "fentry", "tracepoint"}) {
    EXPECT_EQ(parse_ok({"--backend", name}).trace.backend, name);
  }
  expect_usage_error({"--backend", "uprobe"}, "uprobe");
}

TEST(Options, FunctionSelection) {
  Options o = parse_ok({"--filter-func", "ip_rcv.*", "--list-funcs"});
  EXPECT_EQ(o.trace.filter_func, "ip_rcv.*");
  EXPECT_EQ(o.action, Action::ListFuncs);
  expect_usage_error({"--kernel-btf", "/nonexistent/vmlinux"}, "/nonexistent/vmlinux");
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

TEST(Options, RingbufSize) {
  EXPECT_EQ(parse_ok({"--ringbuf-size", "4096"}).trace.ringbuf_bytes, 4096u);
  EXPECT_EQ(parse_ok({"--ringbuf-size", "64M"}).trace.ringbuf_bytes, 64u << 20);
  EXPECT_EQ(parse_ok({"--ringbuf-size", "256k"}).trace.ringbuf_bytes, 256u << 10);
  EXPECT_EQ(parse_ok({"--ringbuf-size", "1G"}).trace.ringbuf_bytes, 1u << 30);
  expect_usage_error({"--ringbuf-size", "1000"}, "power of two");
  expect_usage_error({"--ringbuf-size", "3M"}, "power of two");
  expect_usage_error({"--ringbuf-size", "2048"}, "power of two");
  expect_usage_error({"--ringbuf-size", "2G"}, "power of two");
  expect_usage_error({"--ringbuf-size", "1T"}, "--ringbuf-size");
  expect_usage_error({"--ringbuf-size", "M"}, "--ringbuf-size");
}

TEST(Options, UnknownOptionIsUsageError) {
  expect_usage_error({"--no-such-option"}, "command line");
}

TEST(Options, HelpIsGroupedLikePwru) {
  Options o = parse_ok({"--help"});
  EXPECT_EQ(o.action, Action::Help);
  size_t filters = o.print.find("Filters:");
  size_t output = o.print.find("Output:");
  size_t backend = o.print.find("Backend:");
  ASSERT_NE(filters, std::string::npos) << o.print;
  ASSERT_NE(output, std::string::npos) << o.print;
  ASSERT_NE(backend, std::string::npos) << o.print;
  EXPECT_LT(filters, output);
  EXPECT_LT(output, backend);
  for (const char* flag : {"--write", "--output-limit-lines", "--snaplen", "--ringbuf-size",
                           "--output-file", "--ready-file", "--quiet", "--version"}) {
    EXPECT_NE(o.print.find(flag), std::string::npos) << flag;
  }
  EXPECT_EQ(parse_ok({"-h"}).action, Action::Help);
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
