// run_capture with a scripted fake Tracer: filter hand-over, limit, outputs, statistics block, summary,
// stop by signal flag and by the fifo reader leaving. No root, no BPF.
#include "cli/capture_loop.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <regex>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <thread>

#include "filter/test_packets.h"
#include "output/pcapng_writer.h"
#include "pcapng_blocks.h"

namespace pwru {
namespace {

namespace fs = std::filesystem;

// Plays batches of events, then sets the stop flag as a SIGTERM would.
class FakeTracer : public Tracer {
 public:
  struct Script {
    std::vector<std::vector<Event>> batches;
    std::vector<Event> pending;  // still in the ring buffer at the stop: drain() hands them over
    uint64_t lost = 0;
    uint64_t lost_while_attached = 0;  // counted only until detach(), added to `lost` there
    std::optional<Error> poll_error;             // returned once the batches are played
    std::optional<Error> lost_error;             // lost() fails with it
    uint64_t unknown_probes = 0;
    // A running count, lost_per_poll per poll so far, that lost() may give while attached (as
    // for -b, which reads it at each new file); unset, such a read fails the test.
    std::optional<uint64_t> lost_per_poll;
    std::function<void(size_t poll)> before_poll;  // runs before each poll, 0-based
  };

  FakeTracer(Script script, volatile std::sig_atomic_t* stop)
      : script_(std::move(script)), stop_(stop) {
    summary_.backend = "fake";
    summary_.attached = 2;
  }

  Result<int> poll(int timeout_ms, const Sink& sink) override {
    EXPECT_EQ(timeout_ms, kPollTimeoutMs);
    if (script_.before_poll) script_.before_poll(polls_);
    ++polls_;
    if (next_ < script_.batches.size()) {
      int handed = 0;
      for (const Event& ev : script_.batches[next_]) {
        ++handed;
        if (!sink(ev)) break;
      }
      ++next_;
      return handed;
    }
    if (script_.poll_error) return *script_.poll_error;
    *stop_ = 1;
    return 0;
  }
  void detach() override {
    EXPECT_FALSE(detached_) << "detached twice";
    detached_ = true;
    script_.lost += script_.lost_while_attached;
  }
  Result<int> drain(const Sink& sink) override {
    EXPECT_TRUE(detached_) << "drained before the probes were detached";
    int handed = 0;
    for (const Event& ev : script_.pending) {
      ++handed;
      if (!sink(ev)) break;
    }
    script_.pending.clear();
    return handed;
  }
  // Only final once detached: read earlier, it would miss the last losses.
  Result<uint64_t> lost() const override {
    if (!detached_ && script_.lost_per_poll) return *script_.lost_per_poll * polls_;
    EXPECT_TRUE(detached_) << "lost() read while the probes still run";
    if (script_.lost_error) return *script_.lost_error;
    return script_.lost;
  }
  uint64_t unknown_probes() const override { return script_.unknown_probes; }
  const AttachSummary& summary() const override { return summary_; }
  AttachSummary& mutable_summary() { return summary_; }

 private:
  Script script_;
  volatile std::sig_atomic_t* stop_;
  AttachSummary summary_;
  size_t next_ = 0;
  size_t polls_ = 0;
  bool detached_ = false;
};

FakeTracer::Script play(std::vector<std::vector<Event>> batches, uint64_t lost = 0) {
  FakeTracer::Script script;
  script.batches = std::move(batches);
  script.lost = lost;
  return script;
}

Event icmp_event(uint32_t pid, const char* func) {
  Event ev;
  ev.time_ns = 1'700'000'000'000'000'000ull + pid;
  ev.skb = 0xffff888100000000ull + pid;
  ev.func = func;
  ev.pid = pid;
  ev.comm = "ping";
  ev.ifindex = 1;
  ev.ifname = "lo";
  ev.protocol = 0x0800;
  ev.ip_version = 4;
  ev.saddr = {127, 0, 0, 1};
  ev.daddr = {127, 0, 0, 1};
  ev.l4proto = 1;
  ev.layer = PacketLayer::Ethernet;
  ev.packet = testing::ethernet(0x0800, testing::ipv4_icmp({127, 0, 0, 1}, {127, 0, 0, 1}));
  ev.len = static_cast<uint32_t>(ev.packet.size());
  return ev;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

using pcapng::Block;
using pcapng::isb_counters;
using pcapng::kEpb, pcapng::kIdb, pcapng::kIsb, pcapng::kShb;
using pcapng::kIsbIfDrop, pcapng::kIsbIfRecv, pcapng::kIsbUsrDeliv;

// The blocks of a whole pcapng file: every byte in a complete block.
std::vector<Block> pcapng_blocks(const std::string& data) {
  pcapng::Blocks got = pcapng::read_blocks(data);
  EXPECT_EQ(got.problem, "");
  return std::move(got.blocks);
}

std::vector<uint32_t> block_types(const std::vector<Block>& blocks) {
  std::vector<uint32_t> types;
  for (const auto& b : blocks) types.push_back(b.type);
  return types;
}


class CaptureLoop : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/pwru_capture_test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    out_ = std::tmpfile();
    err_ = std::tmpfile();
    ASSERT_TRUE(out_ && err_);
    // As main() does: a reader leaving must show up as EPIPE, not kill the test.
    std::signal(SIGPIPE, SIG_IGN);
  }
  void TearDown() override {
    std::fclose(out_);
    std::fclose(err_);
    fs::remove_all(dir_);
  }

  Status run(const Options& options, FakeTracer::Script script) {
    opened_ = false;
    TracerFactory factory = [&](const TraceOptions& trace, const ProgressFn&)
        -> Result<std::unique_ptr<Tracer>> {
      opened_ = true;
      opened_with_ = trace;
      if (open_error_) return *open_error_;
      auto tracer = std::make_unique<FakeTracer>(script, &stop_);
      tracer->mutable_summary().skipped = skipped_;
      return std::unique_ptr<Tracer>(std::move(tracer));
    };
    return run_capture(options, factory, stop_, Console{out_, err_, false});
  }

  // run() with the write end `fd` (a pipe or socket) as stdout, closed afterwards.
  Status run_into(int fd, const Options& options, FakeTracer::Script script) {
    std::FILE* stream = fdopen(fd, "w");
    if (stream == nullptr) return Error{ExitCode::Failure, "fdopen failed", ""};
    std::swap(out_, stream);
    Status st = run(options, std::move(script));
    std::swap(out_, stream);
    std::fclose(stream);
    return st;
  }

  static std::string slurp(std::FILE* f) {
    std::fflush(f);
    std::rewind(f);
    std::string s;
    char buf[4096];
    for (size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) s.append(buf, n);
    return s;
  }
  std::string out() { return slurp(out_); }
  std::string err() { return slurp(err_); }

  static Options parsed(std::vector<std::string> args) {
    auto o = parse_options(args);
    EXPECT_TRUE(o.ok()) << (o.ok() ? "" : o.error().text());
    return o.ok() ? o.value() : Options{};
  }

  fs::path dir_;
  std::FILE* out_ = nullptr;
  std::FILE* err_ = nullptr;
  volatile std::sig_atomic_t stop_ = 0;
  bool opened_ = false;
  TraceOptions opened_with_;
  std::optional<Error> open_error_;
  std::vector<std::string> skipped_;
};

size_t count_lines(const std::string& s) { return static_cast<size_t>(std::count(s.begin(), s.end(), '\n')); }

// The filter goes to the tracer (the kernel applies it); what comes back is all output.
TEST_F(CaptureLoop, TextToStdoutFilterGoesToTheTracer) {
  Status st = run(parsed({"--snaplen", "128", "icmp"}),
                  play({{icmp_event(1, "net_dev_queue")}, {icmp_event(3, "kfree_skb")}}));
  ASSERT_TRUE(st.ok()) << st.error().text();
  EXPECT_EQ(opened_with_.snaplen, 128u);
  EXPECT_EQ(opened_with_.pcap_filter, "icmp");
  const std::string text = out();
  EXPECT_EQ(count_lines(text), 3u) << text;
  EXPECT_EQ(text.rfind("SKB ", 0), 0u);
  EXPECT_NE(text.find("ping:1 "), std::string::npos);
  EXPECT_NE(text.find(" kfree_skb\n"), std::string::npos);
  EXPECT_EQ(err(), "attached 2 probes (fake)\n2 events, 0 lost\n");
}

// --output-json replaces the text: no header, one object per event, same destination rules.
TEST_F(CaptureLoop, JsonLinesInsteadOfText) {
  const fs::path pcap = dir_ / "out.pcapng";
  ASSERT_TRUE(run(parsed({"--output-json", "-w", pcap.string()}),
                  play({{icmp_event(1, "net_dev_queue")}, {icmp_event(1, "kfree_skb")}}))
                  .ok());
  const std::string text = out();
  EXPECT_EQ(count_lines(text), 2u) << text;
  EXPECT_EQ(text.rfind("{\"skb\":\"0xffff888100000001\",", 0), 0u) << text;
  EXPECT_NE(text.find("\"func\":\"kfree_skb\""), std::string::npos) << text;
  EXPECT_EQ(text.find("SKB "), std::string::npos) << text;
  // Both events are one skb's first and last: journey 0 on both lines.
  EXPECT_EQ(text.find("\"journey\":1"), std::string::npos) << text;
  EXPECT_EQ(block_types(pcapng_blocks(read_file(pcap))),
            (std::vector<uint32_t>{kShb, kIdb, kEpb, kEpb, kIsb}));
}

// -c counts events, as pwru's --output-limit-lines does, even when an event prints its stack.
TEST_F(CaptureLoop, LimitCountsEventsNotLines) {
  std::vector<Event> events;
  for (uint32_t pid = 1; pid <= 3; ++pid) {
    Event ev = icmp_event(pid, "net_dev_queue");
    ev.stack = {"frame_a+0x1", "frame_b+0x2"};
    events.push_back(ev);
  }
  ASSERT_TRUE(run(parsed({"--output-stack", "-c", "2"}), play({events})).ok());
  const std::string text = out();
  EXPECT_EQ(count_lines(text), 1u + 2u * 3u) << text;
  EXPECT_NE(text.find(" net_dev_queue\nframe_a+0x1\nframe_b+0x2\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("ping:3 "), std::string::npos) << text;
}

TEST_F(CaptureLoop, OutputFlagsReachTheText) {
  ASSERT_TRUE(run(parsed({"--output-meta=false", "--output-tuple=false", "--timestamp", "current"}),
                  play({{icmp_event(1, "net_dev_queue")}}))
                  .ok());
  const std::string text = out();
  EXPECT_EQ(text.rfind("SKB                CPU PROCESS          TIMESTAMP        FUNC\n", 0), 0u)
      << text;
}

TEST_F(CaptureLoop, SkippedProbesAreSummarized) {
  skipped_ = {"a: no such tracepoint", "b: x", "c: y", "d: z"};
  ASSERT_TRUE(run(parsed({}), play({})).ok());
  EXPECT_EQ(err(),
            "attached 2 probes (fake), skipped 4 (a: no such tracepoint; b: x; c: y; and 1 more)\n"
            "0 events, 0 lost\n");
}

TEST_F(CaptureLoop, PcapngFileWithLimitAndStatistics) {
  const fs::path pcap = dir_ / "out.pcapng";
  Status st = run(parsed({"-w", pcap.string(), "-c", "2"}),
                  play({{icmp_event(1, "a"), icmp_event(2, "b"), icmp_event(3, "c")}}, 7));
  ASSERT_TRUE(st.ok()) << st.error().text();
  auto blocks = pcapng_blocks(read_file(pcap));
  EXPECT_EQ(block_types(blocks), (std::vector<uint32_t>{kShb, kIdb, kEpb, kEpb, kIsb}));
  auto counters = isb_counters(blocks.back());
  EXPECT_EQ(counters[kIsbIfDrop], 7u);
  EXPECT_EQ(counters[kIsbUsrDeliv], 2u);
  EXPECT_EQ(counters[kIsbIfRecv], 2u + 7u);  // the third event was never handed over
  // -w FILE leaves the text on stdout.
  EXPECT_EQ(count_lines(out()), 3u);
  const std::string e = err();
  EXPECT_NE(e.find("2 events, 7 lost\n"), std::string::npos) << e;
  EXPECT_NE(e.find("WARNING: 7 events lost"), std::string::npos) << e;
  EXPECT_NE(e.find("--ringbuf-size 64M"), std::string::npos) << e;
}

TEST_F(CaptureLoop, PcapngToStdoutLeavesNoText) {
  ASSERT_TRUE(run(parsed({"-w", "-"}), play({{icmp_event(1, "a")}})).ok());
  auto blocks = pcapng_blocks(out());
  EXPECT_EQ(block_types(blocks), (std::vector<uint32_t>{kShb, kIdb, kEpb, kIsb}));
}

TEST_F(CaptureLoop, QuietHidesSummaryButNeverLostEvents) {
  const fs::path pcap = dir_ / "out.pcapng";
  ASSERT_TRUE(run(parsed({"-q", "-w", pcap.string()}), play({{icmp_event(1, "a")}}, 3)).ok());
  EXPECT_EQ(out(), "");  // -w FILE -q: no text at all
  const std::string e = err();
  EXPECT_EQ(e.find("attached"), std::string::npos) << e;
  EXPECT_EQ(e.find("1 events"), std::string::npos) << e;
  EXPECT_NE(e.find("WARNING: 3 events lost"), std::string::npos) << e;
}

TEST_F(CaptureLoop, TextToOutputFile) {
  const fs::path text = dir_ / "out.txt";
  ASSERT_TRUE(run(parsed({"--output-file", text.string()}), play({{icmp_event(1, "a")}})).ok());
  EXPECT_EQ(count_lines(read_file(text)), 2u);
  EXPECT_EQ(out(), "");
}

// --output-summary after the text lines, apart by a blank line, also when -c stopped it; with
// JSON lines or no text (-w -), on stderr, so that the JSON or pcapng stays clean.
TEST_F(CaptureLoop, SummaryFollowsTheTextOrGoesToStderr) {
  Event drop = icmp_event(1, "kfree_skb");
  drop.drop_reason = 6;
  drop.drop_reason_name = "NETFILTER_DROP";
  const auto script = [&] { return play({{icmp_event(1, "ip_rcv"), drop, icmp_event(2, "ip_rcv")}}); };
  const std::string line =
      "journey 0: 127.0.0.1:0->127.0.0.1:0(icmp) via lo (netns 0), dropped at kfree_skb: "
      "NETFILTER_DROP; hint: ";
  ASSERT_TRUE(run(parsed({"--output-summary", "-c", "2"}), script()).ok());
  std::string text = out();
  EXPECT_NE(text.find(" kfree_skb(SKB_DROP_REASON_NETFILTER_DROP)\n  hint: "), std::string::npos);
  EXPECT_NE(text.find("\n\n" + line), std::string::npos) << text;
  EXPECT_NE(text.find("\n1 journey: 1 ended in a drop, 0 ended without one, 0 had not ended when "
                      "the capture stopped\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(err().find("journey"), std::string::npos);

  std::rewind(out_);
  ASSERT_EQ(ftruncate(fileno(out_), 0), 0);
  ASSERT_TRUE(run(parsed({"--output-summary", "--output-json"}), script()).ok());
  text = out();
  EXPECT_EQ(text.find("journey 0:"), std::string::npos) << text;
  std::string e = err();
  EXPECT_NE(e.find(line), std::string::npos) << e;
  EXPECT_NE(e.find("\n2 journeys: 1 ended in a drop, 0 ended without one, 1 had not ended"),
            std::string::npos)
      << e;

  std::rewind(err_);
  ASSERT_EQ(ftruncate(fileno(err_), 0), 0);
  stop_ = 0;  // the JSON run played every batch: its tracer set the flag
  ASSERT_TRUE(run(parsed({"--output-summary", "-w", "-"}), script()).ok());
  e = err();
  EXPECT_NE(e.find(line), std::string::npos) << e;
}

TEST_F(CaptureLoop, ExtcapWritesTheFifoAndNothingOnStderr) {
  const fs::path fifo = dir_ / "fifo";  // a plain file stands in for Wireshark's fifo
  Options o = parsed({"--capture", "--extcap-interface", "pwru", "--fifo", fifo.string(),
                      "--extcap-capture-filter", "icmp"});
  ASSERT_TRUE(run(o, play({{icmp_event(1, "a")}}, 5)).ok());
  EXPECT_EQ(opened_with_.pcap_filter, "icmp");
  auto blocks = pcapng_blocks(read_file(fifo));
  EXPECT_EQ(block_types(blocks), (std::vector<uint32_t>{kShb, kIdb, kEpb, kIsb}));
  EXPECT_EQ(isb_counters(blocks.back())[kIsbIfDrop], 5u);  // lost events reach Wireshark here
  EXPECT_EQ(out(), "");
  EXPECT_EQ(err(), "");
}

// Wireshark waits for the fifo's header: a bad capture filter is reported after it, so Wireshark
// shows only our message.
TEST_F(CaptureLoop, ExtcapBadFilterComesAfterTheFifoHeader) {
  const fs::path fifo = dir_ / "fifo";
  Status st = run(parsed({"--capture", "--extcap-interface", "pwru", "--fifo", fifo.string(),
                          "--extcap-capture-filter", "tcp port"}),
                  play({}));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ExitCode::BadFilter);
  EXPECT_FALSE(opened_);
  EXPECT_EQ(block_types(pcapng_blocks(read_file(fifo))), (std::vector<uint32_t>{kShb, kIdb}));
}

// A command line that did not parse, from Wireshark: the header goes to the fifo, the error is
// returned as it was; a path that is no fifo is never created or written.
TEST_F(CaptureLoop, FailExtcapCaptureWritesTheHeaderToARealFifoOnly) {
  Options o;
  o.action = Action::ExtcapCapture;
  o.extcap_interface = "pwru";
  o.fifo = (dir_ / "fifo").string();
  ASSERT_EQ(mkfifo(o.fifo.c_str(), 0600), 0);
  int reader = ::open(o.fifo.c_str(), O_RDONLY | O_NONBLOCK);
  ASSERT_GE(reader, 0);
  Error e = fail_extcap_capture(o, Error{ExitCode::Usage, "cannot use --backend x", "pass y"},
                                Console{out_, err_, false});
  EXPECT_EQ(e.code, ExitCode::Usage);
  EXPECT_EQ(e.message, "cannot use --backend x");
  std::string got(4096, '\0');
  ssize_t n = ::read(reader, got.data(), got.size());
  ::close(reader);
  ASSERT_GT(n, 0);
  got.resize(static_cast<size_t>(n));
  EXPECT_EQ(block_types(pcapng_blocks(got)), (std::vector<uint32_t>{kShb, kIdb}));
  EXPECT_EQ(err(), "");

  o.fifo = (dir_ / "plain").string();
  (void)fail_extcap_capture(o, Error{}, Console{out_, err_, false});
  EXPECT_FALSE(fs::exists(o.fifo));
}

// Wireshark closing its end of the fifo is a normal stop: exit 0, silent, no hang.
TEST_F(CaptureLoop, FifoReaderLeavingIsANormalStop) {
  const fs::path fifo = dir_ / "fifo";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK);  // so opening for writing returns
  ASSERT_GE(reader, 0);
  Options o = parsed({"--capture", "--extcap-interface", "pwru", "--fifo", fifo.string()});
  FakeTracer::Script script;
  // The second batch is written after the reader left: EPIPE, or the loop's own check.
  script.batches = {{icmp_event(1, "a")}, {icmp_event(2, "b")}};
  script.before_poll = [&](size_t poll) {
    if (poll == 1) {
      ::close(reader);
      reader = -1;
    }
    ASSERT_LT(poll, 3u) << "the loop should have noticed the reader leaving";
  };
  script.poll_error = Error{ExitCode::Failure, "should not get here", ""};
  Status st = run(o, script);
  EXPECT_TRUE(st.ok()) << st.error().text();
  EXPECT_EQ(err(), "");
  if (reader >= 0) ::close(reader);
}

// `pwrudump icmp | head -1`: the text reader leaving ends the capture without an error.
TEST_F(CaptureLoop, TextPipeReaderLeavingIsANormalStop) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  ::close(fds[0]);
  FakeTracer::Script script;
  script.batches = {{icmp_event(1, "a")}, {icmp_event(2, "b")}, {icmp_event(3, "c")}};
  script.poll_error = Error{ExitCode::Failure, "should not get here", ""};
  Status st = run_into(fds[1], parsed({"-q"}), script);
  EXPECT_TRUE(st.ok()) << st.error().text();
}

// Polls that see no event, each taking as long as a real one would.
FakeTracer::Script idle_polls(size_t n) {
  FakeTracer::Script script;
  script.batches.assign(n, {});
  script.before_poll = [](size_t) {
    std::this_thread::sleep_for(std::chrono::milliseconds(kPollTimeoutMs));
  };
  return script;
}

// `-w -` into a pipe with nothing traced: keep-alive blocks, about one per kKeepaliveMs, between
// the header and the statistics block.
TEST_F(CaptureLoop, IdlePipeOnStdoutGetsKeepaliveBlocks) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  Status st = run_into(fds[1], parsed({"-q", "-w", "-"}), idle_polls(25));  // 2.5 s
  ASSERT_TRUE(st.ok()) << st.error().text();
  std::string data;
  char buf[4096];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) data.append(buf, static_cast<size_t>(n));
  ::close(fds[0]);
  const std::vector<uint32_t> types = block_types(pcapng_blocks(data));
  ASSERT_GE(types.size(), 4u);
  EXPECT_EQ(types.front(), kShb);
  EXPECT_EQ(types[1], kIdb);
  EXPECT_EQ(types.back(), kIsb);
  const auto keepalives = std::count(types.begin(), types.end(), kKeepaliveBlockType);
  EXPECT_EQ(keepalives, static_cast<long>(types.size()) - 3) << "only keep-alive blocks between";
  EXPECT_GE(keepalives, 2);
  EXPECT_LE(keepalives, 3);
  EXPECT_EQ(err(), "");
}

// ssh between us and Wireshark: Wireshark stops, but ssh notices only when it next writes. The
// keep-alive block makes it write, fail and close our pipe: the capture ends although nothing
// is traced, silently and without an error.
TEST_F(CaptureLoop, RelayWhoseReaderLeftEndsAnIdleCapture) {
  int to_relay[2], to_reader[2];
  ASSERT_EQ(pipe(to_relay), 0);
  ASSERT_EQ(pipe(to_reader), 0);
  std::thread relay([&] {  // as ssh does: copy until a write fails, then close both ends
    char buf[4096];
    for (ssize_t n; (n = ::read(to_relay[0], buf, sizeof buf)) > 0;) {
      if (::write(to_reader[1], buf, static_cast<size_t>(n)) != n) break;
    }
    ::close(to_relay[0]);
    ::close(to_reader[1]);
  });
  FakeTracer::Script script = idle_polls(60);
  script.before_poll = [&](size_t poll) {
    if (poll == 1) ::close(to_reader[0]);  // the header went through; Wireshark stops
    ASSERT_LT(poll, 30u) << "an idle capture behind a relay whose reader left kept running";
    std::this_thread::sleep_for(std::chrono::milliseconds(kPollTimeoutMs));
  };
  script.poll_error = Error{ExitCode::Failure, "should not get here", ""};
  Status st = run_into(to_relay[1], parsed({"-q", "-w", "-"}), script);
  relay.join();
  EXPECT_TRUE(st.ok()) << st.error().text();
  EXPECT_EQ(err(), "");
}

// A socket on stdout (sshd may hand one over instead of a pipe): its peer closing is a stop.
TEST_F(CaptureLoop, SocketPeerClosingIsANormalStop) {
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  FakeTracer::Script script = idle_polls(10);
  script.before_poll = [&](size_t poll) {
    if (poll == 1) ::close(sv[1]);
    ASSERT_LT(poll, 3u) << "the loop should have noticed the peer closing";
  };
  script.poll_error = Error{ExitCode::Failure, "should not get here", ""};
  Status st = run_into(sv[0], parsed({"-q", "-w", "-"}), script);
  EXPECT_TRUE(st.ok()) << st.error().text();
  EXPECT_EQ(err(), "");
}

TEST_F(CaptureLoop, StopFlagBeforeTheFirstPollStillWritesStatistics) {
  const fs::path pcap = dir_ / "out.pcapng";
  FakeTracer::Script script;
  stop_ = 1;  // the signal came during attach
  ASSERT_TRUE(run(parsed({"-q", "-w", pcap.string()}), script).ok());
  EXPECT_EQ(block_types(pcapng_blocks(read_file(pcap))),
            (std::vector<uint32_t>{kShb, kIdb, kIsb}));
}

// SIGINT with events still in the ring buffer: they are written, after the probes are gone, and
// written + lost counts every event the probes made.
TEST_F(CaptureLoop, StopBySignalDrainsTheRingBufferAfterDetaching) {
  const fs::path pcap = dir_ / "out.pcapng";
  FakeTracer::Script script = play({{icmp_event(1, "a")}}, 2);
  script.pending = {icmp_event(2, "b"), icmp_event(3, "c")};
  script.lost_while_attached = 4;
  ASSERT_TRUE(run(parsed({"-q", "-w", pcap.string()}), script).ok());
  const auto blocks = pcapng_blocks(read_file(pcap));
  EXPECT_EQ(block_types(blocks), (std::vector<uint32_t>{kShb, kIdb, kEpb, kEpb, kEpb, kIsb}));
  auto counters = isb_counters(blocks.back());
  EXPECT_EQ(counters[kIsbIfDrop], 6u);
  EXPECT_EQ(counters[kIsbUsrDeliv], 3u);
  EXPECT_EQ(counters[kIsbIfRecv], 9u);
  EXPECT_NE(err().find("WARNING: 6 events lost"), std::string::npos) << err();
}

// -c reached: the events behind the limit stay unread, as before the stop.
TEST_F(CaptureLoop, LimitStopDoesNotDrain) {
  FakeTracer::Script script = play({{icmp_event(1, "a"), icmp_event(2, "b")}});
  script.pending = {icmp_event(3, "c")};
  ASSERT_TRUE(run(parsed({"-c", "2"}), script).ok());
  const std::string text = out();
  EXPECT_EQ(count_lines(text), 1u + 2u) << text;
  EXPECT_EQ(text.find("ping:3 "), std::string::npos) << text;
}

TEST_F(CaptureLoop, ReadyFileAppearsAfterAttach) {
  const fs::path ready = dir_ / "ready";
  FakeTracer::Script script;
  script.before_poll = [&](size_t) { EXPECT_TRUE(fs::exists(ready)); };
  ASSERT_TRUE(run(parsed({"--ready-file", ready.string()}), script).ok());
  EXPECT_TRUE(fs::exists(ready));
}

TEST_F(CaptureLoop, ReadyFileThatCannotBeCreatedIsAnOutputError) {
  Status st = run(parsed({"-q", "--ready-file", (dir_ / "no/such/ready").string()}), play({}));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ExitCode::Output);
  EXPECT_EQ(st.error().message.rfind("cannot create ready file ", 0), 0u) << st.error().message;
}

TEST_F(CaptureLoop, BadFilterFailsBeforeAttaching) {
  Status st = run(parsed({"tcp", "port"}), play({}));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ExitCode::BadFilter);
  EXPECT_FALSE(opened_);
}

TEST_F(CaptureLoop, UnwritableOutputIsAnOutputError) {
  Status st = run(parsed({"-w", (dir_ / "no/such/dir/x.pcapng").string()}), play({}));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ExitCode::Output);
  EXPECT_EQ(st.error().message.rfind("cannot open the pcapng file ", 0), 0u);
  EXPECT_NE(st.error().message.find("No such file or directory"), std::string::npos);
  EXPECT_FALSE(opened_);
}

TEST_F(CaptureLoop, TracerErrorsKeepTheirCodeAndGetAHint) {
  open_error_ = Error{ExitCode::Permission, "cannot load BPF program: Operation not permitted", ""};
  Status st = run(parsed({}), play({}));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ExitCode::Permission);
  EXPECT_EQ(st.error().message, "cannot load BPF program: Operation not permitted");
  EXPECT_NE(st.error().hint.find("CAP_BPF"), std::string::npos);

  open_error_ = Error{ExitCode::KernelFeature, "cannot find BTF", "pass --kernel-btf FILE"};
  st = run(parsed({}), play({}));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().hint, "pass --kernel-btf FILE");
}

TEST_F(CaptureLoop, PollErrorIsReturnedAfterTheStatistics) {
  const fs::path pcap = dir_ / "out.pcapng";
  FakeTracer::Script script;
  script.batches = {{icmp_event(1, "a")}};
  script.poll_error = Error{ExitCode::Failure, "cannot poll ring buffer: Bad file descriptor", ""};
  Status st = run(parsed({"-q", "-w", pcap.string()}), script);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message, "cannot poll ring buffer: Bad file descriptor");
  EXPECT_EQ(block_types(pcapng_blocks(read_file(pcap))),
            (std::vector<uint32_t>{kShb, kIdb, kEpb, kIsb}));
}

// A lost count that cannot be read is not "0 lost": the summary, the statistics block and the
// exit status all say it is unknown.
TEST_F(CaptureLoop, UnreadableLostCountIsReportedNotZero) {
  const fs::path pcap = dir_ / "out.pcapng";
  FakeTracer::Script script = play({{icmp_event(1, "a")}});
  script.lost_error = Error{ExitCode::Failure, "cannot read the lost-event count: Bad address",
                            "the trace may have holes"};
  Status st = run(parsed({"-w", pcap.string()}), script);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message, "cannot read the lost-event count: Bad address");
  auto blocks = pcapng_blocks(read_file(pcap));
  ASSERT_EQ(block_types(blocks), (std::vector<uint32_t>{kShb, kIdb, kEpb, kIsb}));
  auto counters = isb_counters(blocks.back());
  EXPECT_EQ(counters.count(kIsbIfDrop), 0u) << "an unknown drop count written as a number";
  EXPECT_EQ(counters.count(kIsbIfRecv), 0u);
  EXPECT_EQ(counters[kIsbUsrDeliv], 1u);
  const std::string e = err();
  EXPECT_NE(e.find("1 events, lost count unknown\n"), std::string::npos) << e;
  EXPECT_EQ(e.find("0 lost"), std::string::npos) << e;
}

TEST_F(CaptureLoop, ExtcapUnreadableLostCountFailsTheCapture) {
  const fs::path fifo = dir_ / "fifo";
  Options o = parsed({"--capture", "--extcap-interface", "pwru", "--fifo", fifo.string()});
  FakeTracer::Script script = play({{icmp_event(1, "a")}});
  script.lost_error = Error{ExitCode::Failure, "cannot read the lost-event count: Bad address",
                            "the trace may have holes"};
  Status st = run(o, script);
  ASSERT_FALSE(st.ok());  // main() prints it: Wireshark shows it as the capture's error
  EXPECT_EQ(isb_counters(pcapng_blocks(read_file(fifo)).back()).count(kIsbIfDrop), 0u);
  EXPECT_EQ(err(), "");
}

TEST_F(CaptureLoop, EventsFromUnknownProbesAreReportedEvenWhenQuiet) {
  FakeTracer::Script script = play({{icmp_event(1, "a")}});
  script.unknown_probes = 2;
  ASSERT_TRUE(run(parsed({"-q"}), script).ok());
  EXPECT_NE(err().find("WARNING: 2 events came from a probe id that names no probe"),
            std::string::npos)
      << err();
}

// -b: each file of the set is whole (header, its events, one statistics block), and the files'
// statistics add up to the capture: each counts what was lost while it was being written.
TEST_F(CaptureLoop, RingOfFilesAddsUpToTheCapture) {
  FakeTracer::Script script = play({{icmp_event(1, "a"), icmp_event(2, "b"), icmp_event(3, "c")},
                                    {icmp_event(4, "d"), icmp_event(5, "e")}},
                                   100);
  script.lost_per_poll = 10;
  const fs::path pcap = dir_ / "ring.pcapng";
  Status st = run(parsed({"-q", "-w", pcap.string(), "-b", "packets:2"}), script);
  ASSERT_TRUE(st.ok()) << st.error().text();
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir_)) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  ASSERT_EQ(files.size(), 3u);
  EXPECT_FALSE(fs::exists(pcap));  // -w names the set; dumpcap makes no file of that name either
  const std::vector<std::vector<uint32_t>> types = {
      {kShb, kIdb, kEpb, kEpb, kIsb}, {kShb, kIdb, kEpb, kEpb, kIsb}, {kShb, kIdb, kEpb, kIsb}};
  // a and b; c and d (c started the second file, when 10 were lost); e, and the rest of the loss.
  const std::vector<uint64_t> dropped = {10, 10, 80};
  const std::vector<uint64_t> delivered = {2, 2, 1};
  for (size_t i = 0; i < files.size(); ++i) {
    EXPECT_TRUE(std::regex_match(files[i].filename().string(),
                                 std::regex("ring_0000" + std::to_string(i + 1) +
                                            "_[0-9]{14}\\.pcapng")))
        << files[i];
    auto blocks = pcapng_blocks(read_file(files[i]));
    EXPECT_EQ(block_types(blocks), types[i]) << files[i];
    auto counters = isb_counters(blocks.back());
    EXPECT_EQ(counters[kIsbIfDrop], dropped[i]) << files[i];
    EXPECT_EQ(counters[kIsbUsrDeliv], delivered[i]) << files[i];
    EXPECT_EQ(counters[kIsbIfRecv], dropped[i] + delivered[i]) << files[i];
  }
}

// -b files:N: the newest N files stay.
TEST_F(CaptureLoop, RingKeepsTheNewestFiles) {
  std::vector<Event> events;
  for (uint32_t i = 1; i <= 7; ++i) events.push_back(icmp_event(i, "a"));
  FakeTracer::Script script = play({events});
  script.lost_per_poll = 0;
  const fs::path pcap = dir_ / "ring.pcapng";
  ASSERT_TRUE(run(parsed({"-q", "-w", pcap.string(), "-b", "packets:1", "-b", "files:2"}), script)
                  .ok());
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir_)) names.push_back(e.path().filename());
  std::sort(names.begin(), names.end());
  ASSERT_EQ(names.size(), 2u);
  EXPECT_EQ(names[0].substr(0, 11), "ring_00006_");
  EXPECT_EQ(names[1].substr(0, 11), "ring_00007_");
}

}  // namespace
}  // namespace pwru
