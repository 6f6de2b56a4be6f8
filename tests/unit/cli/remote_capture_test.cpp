// pwru@HOST and --remote (extcap/cli/remote_capture.cpp) with transports that stand in for ssh:
// `cat` of a pcapng that PcapngWriter made as a remote pwrudump would, and commands that fail as
// ssh does. The real ssh is tests/hosts.
#include "cli/remote_capture.h"

#include "cli/extcap_protocol.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "output/byte_sink.h"
#include "output/pcapng_writer.h"
#include "parse_helpers.h"
#include "pcapng_blocks.h"
#include "record/record.h"
#include "sample_events.h"

namespace pwru {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string read_stream(std::FILE* f) {
  std::string out;
  std::rewind(f);
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  return out;
}

class RemoteCaptureTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::TempDir() + "pwru_remote_" + std::to_string(getpid()) + "_" +
           testing::UnitTest::GetInstance()->current_test_info()->name();
    ASSERT_EQ(system(("rm -rf " + dir_ + " && mkdir -p " + dir_).c_str()), 0);
  }
  void TearDown() override { (void)system(("rm -rf " + dir_).c_str()); }

  // A remote pwrudump's stream: header, one event per time, and optionally its statistics.
  std::string remote_capture(const std::string& name, const std::vector<uint64_t>& times,
                             std::optional<uint64_t> lost) {
    const std::string path = dir_ + "/" + name + ".pcapng";
    std::FILE* f = std::fopen(path.c_str(), "wb");
    StdioSink sink(f);
    PcapngWriter w(sink);
    EXPECT_TRUE(w.write_header("pwru", "pwru: packets", "Linux 9.9.9-" + name, "pwrudump").ok());
    EXPECT_TRUE(w.write_keepalive().ok());
    for (uint64_t t : times) {
      std::vector<uint8_t> record;
      Event ev = sample::icmp_event();
      ev.func = "f_" + name;
      encode_record(ev, record);
      EXPECT_TRUE(w.write_record(t, record).ok());
    }
    if (lost) {
      EXPECT_TRUE(w.write_stats({1, 2, times.size() + *lost, *lost, times.size()}).ok());
    }
    EXPECT_TRUE(w.flush().ok());
    std::fclose(f);
    return path;
  }

  void write_hosts(const std::string& text) { std::ofstream(dir_ + "/hosts") << text; }

  Status run(std::vector<std::string> args) {
    args.insert(args.begin(), {"--hosts-file", dir_ + "/hosts"});
    Options o = parse_ok(args);
    out_ = std::tmpfile();
    err_ = std::tmpfile();
    const volatile std::sig_atomic_t no_stop = 0;
    Console console{out_, err_, false};
    Status st = run_remote(o, no_stop, console);
    out_text_ = read_stream(out_);
    err_text_ = read_stream(err_);
    std::fclose(out_);
    std::fclose(err_);
    return st;
  }

  std::string dir_;
  std::FILE* out_ = nullptr;
  std::FILE* err_ = nullptr;
  std::string out_text_, err_text_;
};

// The IDB's if_name and if_description.
std::pair<std::string, std::string> idb_names(const pcapng::Block& b) {
  std::pair<std::string, std::string> out;
  size_t off = 8;
  while (off + 4 <= b.body.size()) {
    uint16_t code, len;
    std::memcpy(&code, b.body.data() + off, 2);
    std::memcpy(&len, b.body.data() + off + 2, 2);
    if (code == 0) break;
    std::string v(reinterpret_cast<const char*>(b.body.data() + off + 4), len);
    if (code == 2) out.first = v;
    if (code == 3) out.second = v;
    off += 4 + ((len + 3u) & ~3u);
  }
  return out;
}

TEST_F(RemoteCaptureTest, TwoHostsMergedIntoOneFileWithAnInterfaceEach) {
  const auto h1 = remote_capture("h1", {10, 30}, 5);
  const auto h2 = remote_capture("h2", {20, 40}, std::nullopt);
  // The arguments go in a comment: `cat` stands in for the remote pwrudump.
  write_hosts("h1 cat " + h1 + " # {}\nh2 cat " + h2 + " # {}\n");
  const std::string out = dir_ + "/all.pcapng";
  ASSERT_TRUE(run({"--remote", "h1", "--remote", "h2", "-w", out, "icmp"}).ok()) << err_text_;
  auto file = pcapng::read_blocks(read_file(out));
  ASSERT_EQ(file.problem, "");
  ASSERT_FALSE(file.blocks.empty());
  EXPECT_EQ(file.blocks[0].type, pcapng::kShb);
  std::map<uint32_t, std::string> iface;  // id -> host
  std::map<std::string, std::vector<uint64_t>> times;
  std::map<std::string, std::map<uint16_t, uint64_t>> stats;
  for (const auto& b : file.blocks) {
    if (b.type == pcapng::kIdb) {
      auto [name, description] = idb_names(b);
      const std::string host = name.substr(5);
      EXPECT_EQ(name, "pwru@" + host);
      EXPECT_EQ(description, "pwru on " + host + " (Linux 9.9.9-" + host + ")");
      iface[static_cast<uint32_t>(iface.size())] = host;
    } else if (b.type == pcapng::kEpb) {
      const uint32_t id = pcapng::le32(b.body, 0);
      ASSERT_TRUE(iface.count(id)) << "an event before its interface";
      times[iface[id]].push_back(uint64_t{pcapng::le32(b.body, 4)} << 32 | pcapng::le32(b.body, 8));
    } else if (b.type == pcapng::kIsb) {
      stats[iface.at(pcapng::le32(b.body, 0))] = pcapng::isb_counters(b);
    } else {
      EXPECT_EQ(b.type, pcapng::kShb) << "only pcapng's own blocks are relayed";
    }
  }
  EXPECT_EQ(iface.size(), 2u);
  EXPECT_EQ(times["h1"], (std::vector<uint64_t>{10, 30}));
  EXPECT_EQ(times["h2"], (std::vector<uint64_t>{20, 40}));
  // h1's own statistics carry its lost count; h2's, written here, what was relayed.
  EXPECT_EQ(stats["h1"][pcapng::kIsbIfDrop], 5u);
  EXPECT_EQ(stats["h2"][pcapng::kIsbUsrDeliv], 2u);
  EXPECT_EQ(stats["h2"].count(pcapng::kIsbIfDrop), 0u);
  EXPECT_NE(err_text_.find("host h1 lost 5 events"), std::string::npos) << err_text_;
}

TEST_F(RemoteCaptureTest, TextAndJsonLinesSayTheHost) {
  write_hosts("h1 cat " + remote_capture("h1", {10}, std::nullopt) + " # {}\n");
  ASSERT_TRUE(run({"--remote", "h1", "--output-json"}).ok()) << err_text_;
  EXPECT_EQ(out_text_.rfind("{\"host\":\"h1\",", 0), 0u) << out_text_;
  EXPECT_NE(out_text_.find("\"func\":\"f_h1\""), std::string::npos) << out_text_;
  ASSERT_TRUE(run({"--remote", "h1"}).ok()) << err_text_;
  EXPECT_EQ(out_text_.rfind("HOST ", 0), 0u) << out_text_;
  EXPECT_NE(out_text_.find("\nh1   "), std::string::npos) << out_text_;
  EXPECT_NE(out_text_.find("f_h1"), std::string::npos) << out_text_;
}

// --output-summary: each host's drops, its name first, after the lines (on stderr without them).
TEST_F(RemoteCaptureTest, SummaryPerHost) {
  write_hosts("h1 cat " + remote_capture("h1", {10}, std::nullopt) + " # {}\n");
  ASSERT_TRUE(run({"--remote", "h1", "--output-summary"}).ok()) << err_text_;
  const size_t blank = out_text_.find("\n\n");
  ASSERT_NE(blank, std::string::npos) << out_text_;
  EXPECT_EQ(out_text_.find("\nh1   ", blank), blank + 1) << out_text_;
  ASSERT_TRUE(run({"--remote", "h1", "--output-summary", "-q", "-w", dir_ + "/x.pcapng"}).ok());
  EXPECT_EQ(out_text_, "");
  EXPECT_EQ(err_text_.rfind("h1   ", 0), 0u) << err_text_;
}

TEST_F(RemoteCaptureTest, AFailingHostIsNamedWithWhatItsTransportSaidAndTheOthersGoOn) {
  write_hosts("good cat " + remote_capture("good", {10, 20}, std::nullopt) +
              " # {}\nbad echo 'ssh: connect to host bad port 22: Connection refused' >&2; "
              "exit 255 # {}\n");
  const std::string out = dir_ + "/all.pcapng";
  auto st = run({"--remote", "good", "--remote", "bad", "-w", out});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ExitCode::Remote);
  EXPECT_EQ(st.error().message, "cannot trace every host: 1 of 2 failed (bad)");
  EXPECT_NE(err_text_.find("pwrudump: cannot trace host bad (echo): ssh: connect to host bad "
                           "port 22: Connection refused"),
            std::string::npos)
      << err_text_;
  auto file = pcapng::read_blocks(read_file(out));
  size_t events = 0;
  std::vector<std::string> descriptions;
  for (const auto& b : file.blocks) {
    if (b.type == pcapng::kEpb) ++events;
    if (b.type == pcapng::kIdb) descriptions.push_back(idb_names(b).second);
  }
  EXPECT_EQ(events, 2u);
  ASSERT_EQ(descriptions.size(), 2u);
  // The failed host has its interface too, which says why it is empty.
  bool named = false;
  for (const auto& d : descriptions) named |= d.find("pwru on bad: ssh: connect") == 0;
  EXPECT_TRUE(named) << descriptions[0] << " / " << descriptions[1];
}

TEST_F(RemoteCaptureTest, ExtcapInterfaceOfAHost) {
  write_hosts("h1 cat " + remote_capture("h1", {10}, std::nullopt) + " # {}\n");
  const std::string fifo = dir_ + "/fifo";
  ASSERT_TRUE(run({"--capture", "--extcap-interface", "pwru@h1", "--fifo", fifo}).ok())
      << err_text_;
  EXPECT_EQ(err_text_, "");
  auto file = pcapng::read_blocks(read_file(fifo));
  ASSERT_GE(file.blocks.size(), 4u);
  EXPECT_EQ(file.blocks[1].type, pcapng::kIdb);
  EXPECT_EQ(idb_names(file.blocks[1]), std::make_pair(std::string("pwru@h1"),
                                                      std::string("pwru on h1 (Linux 9.9.9-h1)")));
  EXPECT_EQ(file.blocks[2].type, pcapng::kEpb);
}

TEST_F(RemoteCaptureTest, ExtcapHostThatCannotBeReached) {
  write_hosts("h1 echo 'ssh: Could not resolve hostname h1' >&2; exit 255 # {}\n");
  auto st = run({"--capture", "--extcap-interface", "pwru@h1", "--fifo", dir_ + "/fifo"});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ExitCode::Remote);
  EXPECT_EQ(st.error().message, "cannot trace host h1 (echo): ssh: Could not resolve hostname h1");
  EXPECT_EQ(st.error().hint.rfind("check that `echo 'ssh: Could not", 0), 0u) << st.error().hint;
}

TEST(RemoteArgs, TheDialogsOptionsAsPwrudumpFlags) {
  Options o = parse_ok({"--capture", "--extcap-interface", "pwru@web1", "--fifo", "/f",
                        "--snaplen", "64", "--backend", "tracepoint", "--ringbuf-size",
                        "16777216", "--filter-netns", "/run/netns/x", "--filter-track-skb",
                        "--nf-trace", "--output-limit-lines", "0", "--extcap-capture-filter",
                        "icmp and host 10.0.0.2"});
  EXPECT_EQ(remote_args(o),
            (std::vector<std::string>{"-q", "-w", "-", "--snaplen", "64", "--backend",
                                      "tracepoint", "--filter-netns", "/run/netns/x",
                                      "--filter-track-skb", "--nf-trace", "--",
                                      "icmp and host 10.0.0.2"}));
  // What the remote pwrudump makes of them: the same options.
  auto args = remote_args(o);
  Options back = parse_ok(args);
  EXPECT_EQ(back.trace.snaplen, 64u);
  EXPECT_EQ(back.trace.filter_netns, "/run/netns/x");
  EXPECT_EQ(back.filter, "icmp and host 10.0.0.2");
  EXPECT_EQ(back.write_file, "-");
  EXPECT_TRUE(back.quiet);
  // The skb expressions (core/skb_expr.h) are resolved by the remote's BTF: they travel as text.
  EXPECT_EQ(remote_args(parse_ok({"--remote", "a", "--filter-skb-expr", "skb->len > 1000",
                                  "--output-skb-metadata", "skb->hash,skb->mark",
                                  "--output-skb-shared-info", "--output-skb-cb",
                                  "--filter-trace-tc", "--filter-trace-xdp"})),
            (std::vector<std::string>{"-q", "-w", "-", "--filter-skb-expr", "skb->len > 1000",
                                      "--output-skb-metadata", "skb->hash",
                                      "--output-skb-metadata", "skb->mark", "--filter-trace-tc",
                                      "--filter-trace-xdp", "--output-skb-shared-info",
                                      "--output-skb-cb"}));
  // Tracking by stack, and the non-skb functions, one flag each as the remote parses them.
  EXPECT_EQ(remote_args(parse_ok({"--remote", "a", "--filter-track-skb-by-stackid",
                                  "--filter-non-skb-funcs", "fib_table_lookup,ip_route_input_slow"})),
            (std::vector<std::string>{"-q", "-w", "-", "--filter-track-skb-by-stackid",
                                      "--filter-non-skb-funcs", "fib_table_lookup",
                                      "--filter-non-skb-funcs", "ip_route_input_slow"}));
  EXPECT_EQ(interface_host("pwru@web1"), "web1");
  EXPECT_EQ(interface_host("pwru"), "");
}

TEST(RemoteOptions, HostNamesAndWhatDoesNotGoWithRemote) {
  EXPECT_EQ(parse_ok({"--remote", "a", "--remote", "b.lab", "icmp"}).remote_hosts,
            (std::vector<std::string>{"a", "b.lab"}));
  auto bad = parse({"--remote", "root@a"});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ExitCode::Usage);
  EXPECT_NE(bad.error().message.find("cannot use --remote root@a: the name holds '@'"),
            std::string::npos)
      << bad.error().message;
  auto ring = parse({"--remote", "a", "-w", "x.pcapng", "-b", "filesize:100"});
  ASSERT_FALSE(ring.ok());
  EXPECT_NE(ring.error().message.find("cannot use --remote with -b"), std::string::npos);
  // Wireshark's calls for a host's interface parse; a bad name in one does not.
  EXPECT_EQ(parse_ok({"--extcap-dlts", "--extcap-interface", "pwru@web1"}).action,
            Action::ExtcapDlts);
  EXPECT_TRUE(parse_ok({"--capture", "--extcap-interface", "pwru@web1", "--fifo", "/f"}).remote());
  EXPECT_FALSE(parse_ok({"--capture", "--extcap-interface", "pwru", "--fifo", "/f"}).remote());
  EXPECT_FALSE(parse({"--extcap-config", "--extcap-interface", "pwru@a;b"}).ok());
}

TEST(RemoteOptions, AnInterfacePerHostOfTheHostsFile) {
  const std::string text = extcap_interfaces_sentences(
      {Host{"web1", "", 1}, Host{"node-a", "kubectl exec -i ds/p -- pwrudump {}", 2}});
  EXPECT_NE(text.find("interface {value=pwru@web1}{display=pwru on web1: packets through its "
                      "kernel, over ssh}\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("interface {value=pwru@node-a}{display=pwru on node-a: packets through "
                      "its kernel, over kubectl}\n"),
            std::string::npos)
      << text;
  // pwrudump's own first, as without a hosts file.
  EXPECT_EQ(text.find(extcap_interfaces_sentences()), 0u);
}

}  // namespace
}  // namespace pwru
