// The extcap sentences: exact lines, well-formed for Wireshark's parser, and in step with
// parse_options.
#include "cli/extcap_protocol.h"

#include <gtest/gtest.h>

#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "cli/options.h"

namespace pwru {
namespace {

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// Wireshark drops lines it cannot parse without a word; a value must not contain "}{".
void expect_well_formed(const std::string& text) {
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n');
  static const std::regex sentence(R"(^[a-z]+ (\{[a-z]+=[^{}]*\})+$)");
  for (const auto& line : lines(text)) {
    EXPECT_TRUE(std::regex_match(line, sentence)) << line;
  }
}

// {key=value} of one sentence.
std::string field(const std::string& line, const std::string& key) {
  const std::string open = "{" + key + "=";
  size_t start = line.find(open);
  if (start == std::string::npos) return {};
  start += open.size();
  return line.substr(start, line.find('}', start) - start);
}

TEST(ExtcapProtocol, Interfaces) {
  const std::string text = extcap_interfaces_sentences();
  expect_well_formed(text);
  auto l = lines(text);
  ASSERT_EQ(l.size(), 3u);
  EXPECT_EQ(l[0].rfind(std::string("extcap {version=") + pwrudump_version() + "}{help=", 0), 0u)
      << l[0];
  EXPECT_EQ(l[1], "interface {value=pwru}{display=pwru: packets through the Linux kernel (eBPF)}");
  EXPECT_EQ(l[2], "interface {value=pwru-drops}{display=pwru-drops: only packets the kernel drops, "
                  "and who dropped them}");
}

TEST(ExtcapProtocol, Dlts) {
  EXPECT_EQ(extcap_dlts_sentences(),
            "dlt {number=252}{name=WIRESHARK_UPPER_PDU}{display=pwru kernel events}\n");
}

std::vector<std::string> arg_lines(const std::string& text) {
  std::vector<std::string> out;
  for (const auto& l : lines(text))
    if (l.rfind("arg ", 0) == 0) out.push_back(l);
  return out;
}

TEST(ExtcapProtocol, ConfigLines) {
  const std::string text = extcap_config_sentences();
  expect_well_formed(text);
  auto l = arg_lines(text);
  std::vector<std::string> calls;
  for (size_t i = 0; i < l.size(); ++i) {
    EXPECT_EQ(field(l[i], "number"), std::to_string(i));
    EXPECT_FALSE(field(l[i], "tooltip").empty()) << l[i];
    EXPECT_FALSE(field(l[i], "group").empty()) << l[i];
    calls.push_back(field(l[i], "call"));
  }
  EXPECT_EQ(calls, (std::vector<std::string>{"--snaplen", "--output-limit-lines", "--filter-func",
                                             "--filter-netns", "--filter-mark", "--filter-ifname",
                                             "--filter-track-skb", "--backend", "--ringbuf-size",
                                             "--nf-trace", "--filter-tunnel-pcap-l2",
                                             "--filter-tunnel-pcap-l3", "--filter-skb-expr",
                                             "--output-skb-metadata", "--output-skb-shared-info",
                                             "--output-skb-cb", "--filter-trace-tc",
                                             "--filter-trace-xdp",
                                             "--filter-track-skb-by-stackid",
                                             "--filter-non-skb-funcs"}));
  EXPECT_EQ(l[0].rfind("arg {number=0}{call=--snaplen}{display=Packet bytes per event}{tooltip=", 0),
            0u);
  EXPECT_NE(l[0].find("}{type=integer}{range=0,4096}{default=256}{group=Capture}"),
            std::string::npos)
      << l[0];
  EXPECT_EQ(field(l[1], "default"), "0");
  EXPECT_NE(field(l[1], "tooltip").find("0 means no limit"), std::string::npos);
  EXPECT_EQ(field(l[6], "type"), "boolflag");
  EXPECT_EQ(field(l[7], "type"), "selector");
  EXPECT_EQ(field(l[8], "range"), "4096,1073741824");
  EXPECT_EQ(field(l[8], "default"), "16777216");
  EXPECT_EQ(field(l[8], "group"), "Backend");
  EXPECT_EQ(field(l[9], "type"), "boolflag");
  EXPECT_EQ(field(l[9], "display"), "Name the netfilter rule; adds a trace table while capturing");
  EXPECT_EQ(field(l[10], "group"), "Filters");
  EXPECT_EQ(field(l[11], "type"), "string");
  EXPECT_EQ(field(l[16], "type"), "boolflag");  // --filter-trace-tc
  EXPECT_EQ(field(l[17], "type"), "boolflag");  // --filter-trace-xdp
  EXPECT_EQ(field(l[18], "type"), "boolflag");  // --filter-track-skb-by-stackid
  EXPECT_EQ(field(l[19], "type"), "string");    // --filter-non-skb-funcs
  // The backend selector's values: every backend, auto marked as the default (4.0 ignores an
  // arg-level default for selectors).
  EXPECT_NE(text.find("value {arg=7}{value=auto}{display=auto}{default=true}\n"), std::string::npos);
  for (const char* b : {"kprobe-multi", "kprobe", "fentry", "tracepoint"}) {
    EXPECT_NE(text.find(std::string("value {arg=7}{value=") + b + "}"), std::string::npos) << b;
  }
}

// Wireshark passes each arg back as `call value` (a boolflag as `call` alone): every default,
// both ends of every range and every selector value must be accepted by the capture's own
// parser, and a default must be the parser's default.
TEST(ExtcapProtocol, ConfigArgsRoundTripThroughTheParser) {
  const Options defaults = parse_options(std::vector<std::string>{}).value();
  const std::string text = extcap_config_sentences();
  for (const auto& line : arg_lines(text)) {
    const std::string call = field(line, "call");
    const std::string type = field(line, "type");
    std::vector<std::vector<std::string>> tries;
    if (type == "integer") {
      const std::string range = field(line, "range");
      for (const std::string& v : {field(line, "default"), range.substr(0, range.find(',')),
                                   range.substr(range.find(',') + 1)}) {
        tries.push_back({call, v});
      }
    } else if (type == "selector") {
      for (const auto& v : lines(text))
        if (v.rfind("value {arg=" + field(line, "number") + "}", 0) == 0)
          tries.push_back({call, field(v, "value")});
    } else if (type == "boolflag") {
      tries.push_back({call});
    }
    for (const auto& t : tries) {
      std::vector<std::string> args = {"--capture", "--extcap-interface", "pwru", "--fifo", "f"};
      args.insert(args.end(), t.begin(), t.end());
      auto o = parse_options(args);
      EXPECT_TRUE(o.ok()) << line << ": " << (o.ok() ? "" : o.error().text());
    }
    if (type != "integer") continue;
    auto o = parse_options(std::vector<std::string>{call, field(line, "default")});
    ASSERT_TRUE(o.ok());
    EXPECT_EQ(o->trace.snaplen, defaults.trace.snaplen) << call;
    EXPECT_EQ(o->trace.ringbuf_bytes, defaults.trace.ringbuf_bytes) << call;
    EXPECT_EQ(o->output_limit, defaults.output_limit) << call;
  }
}

TEST(ExtcapProtocol, FilterCheck) {
  EXPECT_EQ(extcap_filter_check("icmp and host 10.0.0.2"), "");
  EXPECT_EQ(extcap_filter_check("arp"), "");
  EXPECT_EQ(extcap_filter_check(""), "");
  const std::string bad = extcap_filter_check("tcp port");
  ASSERT_FALSE(bad.empty());
  EXPECT_NE(bad.find("syntax error"), std::string::npos) << bad;
  EXPECT_EQ(bad.back(), '\n');
  EXPECT_EQ(bad.find('\n'), bad.size() - 1);  // Wireshark shows the first line
}

}  // namespace
}  // namespace pwru
