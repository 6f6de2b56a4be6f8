// Relays the pcapng of remote pwrudumps (one transport per host) into one pcapng and, on the
// command line, into text or JSON lines with a host column.
#include "cli/remote_capture.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <memory>
#include <optional>

#include "base/clock.h"
#include "base/unique_fd.h"
#include "output/byte_sink.h"
#include "output/formatter.h"
#include "output/pcapng_reader.h"
#include "output/pcapng_writer.h"
#include "output/summary.h"
#include "pwru_record.h"
#include "record/record.h"
#include "remote/hosts.h"
#include "remote/transport.h"

namespace pwru {
namespace {

constexpr size_t kMaxStderrKept = 4096;
constexpr uint64_t kNsPerMs = 1000000;

std::string errno_text(int err) { return err == 0 ? "short write" : std::strerror(err); }

uint64_t now_ms() { return clock_ns(CLOCK_MONOTONIC) / kNsPerMs; }

// What a host's transport said on stderr, on one line: its last lines, joined by "; ".
std::string one_line(const std::string& text) {
  std::string out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (!line.empty()) {
      if (!out.empty()) out += "; ";
      out += line;
    }
    start = end + 1;
  }
  return out;
}

struct Pending {
  uint64_t time_ns;
  uint64_t arrived_ms;
  PcapngBlock block;
};

// One host: its transport, its stream, what came of it.
struct Source {
  Host host;
  std::string command;
  std::optional<Transport> proc;
  PcapngStreamReader reader;
  bool out_open = true;       // its stdout still gives bytes
  uint64_t out_closed_ms = 0; // when it stopped giving them
  bool section = false;       // its section header came
  std::string kernel;         // its shb_os, "Linux 6.1.0-..."
  std::optional<uint32_t> iface;  // our interface id for it
  std::string err_text;
  std::deque<Pending> queue;
  uint64_t relayed = 0;       // its events written
  bool stats = false;         // its own statistics block came (and was written)
  std::optional<uint64_t> lost;  // what that block said was lost
  std::string failure;        // why it failed; empty while it did not
  std::optional<DropSummary> summary;  // --output-summary: its journeys (each host's own)
  bool done = false;          // ended, failed or stopped: nothing more comes

  std::string label() const {
    return "host " + host.name + " (" + transport_name(host) + ")";
  }
};

// Where pcapng and text go. Files and stdout through stdio; a fifo (Wireshark's) too.
class Sink {
 public:
  static Result<std::unique_ptr<Sink>> open(const std::string& path, std::FILE* stdout_stream,
                                            const std::string& what) {
    auto s = std::make_unique<Sink>();
    if (path == "-") {
      s->stream_ = stdout_stream;
    } else {
      // A fifo blocks here until its reader (Wireshark) opens it; a signal ends the wait.
      UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666));
      if (!fd.valid()) {
        const int err = errno;
        return Error{err == EINTR ? ExitCode::Ok : ExitCode::Output,
                     "cannot open " + what + " " + path + ": " + errno_text(err),
                     "check that the folder exists and that you may write there"};
      }
      s->owned_ = ::fdopen(fd.get(), "wb");
      if (s->owned_ == nullptr) {
        return Error{ExitCode::Output, "cannot open " + what + " " + path, "check free memory"};
      }
      (void)fd.release();
      s->stream_ = s->owned_;
    }
    struct stat st{};
    s->pipe_ = fstat(fileno(s->stream_), &st) == 0 &&
               (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode));
    s->bytes_ = std::make_unique<StdioSink>(s->stream_);
    return s;
  }
  Sink() = default;
  Sink(const Sink&) = delete;
  Sink& operator=(const Sink&) = delete;
  ~Sink() {
    if (owned_ != nullptr) std::fclose(owned_);
  }
  std::FILE* stream() const { return stream_; }
  ByteSink& bytes() { return *bytes_; }
  bool pipe() const { return pipe_; }
  int fd() const { return fileno(stream_); }

 private:
  std::FILE* stream_ = nullptr;
  std::FILE* owned_ = nullptr;
  bool pipe_ = false;
  std::unique_ptr<ByteSink> bytes_;
};

class RemoteCapture {
 public:
  RemoteCapture(const Options& options, const volatile std::sig_atomic_t& stop,
                const Console& console)
      : options_(options), stop_(stop), console_(console) {}

  Status run() {
    auto hosts = hosts_to_trace();
    if (!hosts) return hosts.error();
    if (auto st = open_outputs(); !st) return st;
    if (stopped_) return Ok{};
    start_ns_ = clock_ns(CLOCK_REALTIME);
    const std::vector<std::string> args = remote_args(options_);
    for (auto& h : *hosts) {
      Source s;
      s.host = std::move(h);
      s.command = transport_command(s.host, args);
      if (options_.output.summary && !options_.extcap()) {
        s.summary.emplace(options_.output.netns_names ? std::optional(options_.output.netns_dir)
                                                      : std::nullopt);
      }
      sources_.push_back(std::move(s));
    }
    for (auto& s : sources_) {
      auto proc = Transport::start(s.command);
      if (!proc) {
        host_failed(s, proc.error().message);
        continue;
      }
      s.proc.emplace(std::move(*proc));
    }
    return finish(pump());
  }

 private:
  Result<std::vector<Host>> hosts_to_trace() const {
    auto listed = configured_hosts(options_);
    if (!listed) return listed.error();
    std::vector<std::string> names = options_.remote_hosts;
    if (options_.extcap()) names = {interface_host(options_.extcap_interface)};
    std::vector<Host> out;
    for (const auto& n : names) out.push_back(find_host(*listed, n));
    return out;
  }

  Status open_outputs() {
    std::string pcapng_path = options_.extcap() ? options_.fifo : options_.write_file;
    if (!pcapng_path.empty()) {
      auto sink = Sink::open(pcapng_path, console_.out, options_.extcap() ? "fifo" : "output file");
      if (!sink) {
        if (sink.error().code == ExitCode::Ok) {
          stopped_ = true;
          return Ok{};
        }
        return sink.error();
      }
      pcapng_sink_ = std::move(*sink);
      pcapng_.emplace(pcapng_sink_->bytes());
      std::string app = std::string("pwrudump ") + pwrudump_version();
      if (auto st = pcapng_->write_section("", app); !st) return st;
      if (auto st = pcapng_->flush(); !st) return st;
      last_write_ms_ = now_ms();
    }
    const std::string text = options_.extcap() ? std::string() : options_.text_destination();
    if (!text.empty()) {
      if (text == "-") {
        text_ = console_.out;
      } else {
        auto sink = Sink::open(text, console_.out, "output file");
        if (!sink) return sink.error();
        text_sink_ = std::move(*sink);
        text_ = text_sink_->stream();
      }
      formatter_ = make_formatter(options_.output);
    }
    return Ok{};
  }

  // The host's interface: pwru@HOST, "pwru on HOST" and its kernel when known.
  Status add_interface(Source& s) {
    if (s.iface || !pcapng_) return Ok{};
    s.iface = next_iface_++;
    std::string description = "pwru on " + s.host.name;
    if (!s.kernel.empty()) description += " (" + s.kernel + ")";
    if (!s.failure.empty()) description += ": " + s.failure;
    return write_checked(pcapng_->write_interface(std::string(kHostInterfacePrefix) + s.host.name,
                                                  description));
  }

  // A failed write to the pcapng output: the reader leaving a pipe is a normal stop.
  Status write_checked(Status st) {
    if (st) {
      last_write_ms_ = now_ms();
      return st;
    }
    if (pcapng_ && pcapng_->broken_pipe()) {
      stopped_ = true;
      return Ok{};
    }
    return st;
  }

  void host_failed(Source& s, const std::string& why) {
    if (s.done) return;
    s.done = true;
    s.failure = why;
    if (s.proc) s.proc->stop();
    ++failed_;
    // Its interface says why in the file; on the command line, the message comes at once.
    if (!options_.extcap()) {
      (void)add_interface(s);
      std::fprintf(console_.err, "pwrudump: cannot trace %s: %s\nhint: %s\n", s.label().c_str(),
                   why.c_str(), command_hint(s).c_str());
    }
  }

  static std::string command_hint(const Source& s) {
    return "check that `" + s.command + "` runs pwrudump there (docs/many-hosts.md)";
  }

  // Why a transport that ended gave no capture, in its own words where it said any.
  std::string transport_failure(Source& s, int status) const {
    std::string said = one_line(s.err_text);
    if (said.empty()) said = "the command exited with status " + std::to_string(status);
    return said;
  }

  Status pump() {
    while (!stopped_ && stop_ == 0) {
      std::vector<pollfd> fds;
      std::vector<std::pair<Source*, bool>> owners;  // source, true for stdout
      for (auto& s : sources_) {
        if (s.done || !s.proc) continue;
        if (s.out_open && s.proc->out_fd() >= 0) {
          fds.push_back({s.proc->out_fd(), POLLIN, 0});
          owners.push_back({&s, true});
        }
        if (s.proc->err_fd() >= 0) {
          fds.push_back({s.proc->err_fd(), POLLIN, 0});
          owners.push_back({&s, false});
        }
      }
      if (owners.empty()) break;  // every host ended
      if (pcapng_sink_ && pcapng_sink_->pipe()) fds.push_back({pcapng_sink_->fd(), 0, 0});
      const int n = ::poll(fds.data(), fds.size(), kPollTimeoutMs);
      if (n < 0 && errno != EINTR) {
        return Error{ExitCode::Failure, std::string("cannot poll the transports: ") +
                                            std::strerror(errno), kReportHintText};
      }
      if (pcapng_sink_ && pcapng_sink_->pipe() &&
          (fds.back().revents & (POLLERR | POLLHUP)) != 0) {
        stopped_ = true;  // Wireshark closed the fifo, or `| tshark` left
        break;
      }
      for (size_t i = 0; i < owners.size(); ++i) {
        if (fds[i].revents == 0) continue;
        auto [s, is_out] = owners[i];
        if (s->done) continue;
        if (auto st = is_out ? read_out(*s) : read_err(*s); !st) return st;
      }
      for (auto& s : sources_) check_ended(s);
      if (auto st = emit(false); !st || stopped_) return st;
      if (auto st = keepalive(); !st) return st;
    }
    return Ok{};
  }

  Status read_out(Source& s) {
    uint8_t buf[65536];
    const ssize_t got = ::read(s.proc->out_fd(), buf, sizeof buf);
    if (got < 0) {
      if (errno == EAGAIN || errno == EINTR) return Ok{};
      host_failed(s, std::string("cannot read its output: ") + std::strerror(errno));
      return Ok{};
    }
    if (got == 0) {
      s.out_open = false;
      s.out_closed_ms = now_ms();
      s.proc->close_out();
      return Ok{};
    }
    s.reader.feed({buf, static_cast<size_t>(got)});
    for (;;) {
      auto block = s.reader.next();
      if (!block) {
        host_failed(s, block.error().message);
        return Ok{};
      }
      if (!*block) return Ok{};
      if (auto st = take(s, std::move(**block)); !st || s.done) return st;
    }
  }

  Status read_err(Source& s) {
    char buf[4096];
    const ssize_t got = ::read(s.proc->err_fd(), buf, sizeof buf);
    if (got > 0) {
      s.err_text.append(buf, static_cast<size_t>(got));
      if (s.err_text.size() > kMaxStderrKept) {
        s.err_text.erase(0, s.err_text.size() - kMaxStderrKept);
      }
    } else if (got == 0) {
      s.proc->close_err();
    }
    return Ok{};
  }

  // One block of a host's stream.
  Status take(Source& s, PcapngBlock block) {
    switch (block.type()) {
      case kPcapngShb: {
        s.section = true;
        if (auto os = block.option(24, kPcapngShbOs)) {
          s.kernel.assign(reinterpret_cast<const char*>(os->data()), os->size());
        }
        return Ok{};
      }
      case kPcapngIdb: {
        if ((block.u32(8) & 0xFFFF) != PWRU_LINKTYPE_UPPER_PDU) {
          host_failed(s, "its capture is not pwrudump's (link type " +
                             std::to_string(block.u32(8) & 0xFFFF) + ")");
          return Ok{};
        }
        auto tsresol = block.option(16, kPcapngIfTsresol);
        if (!tsresol || tsresol->size() != 1 || (*tsresol)[0] != 9) {
          host_failed(s, "its capture does not have nanosecond timestamps (if_tsresol 9)");
          return Ok{};
        }
        return add_interface(s);
      }
      case kPcapngEpb: {
        if (block.epb_interface() != 0) {
          host_failed(s, "its capture has more than one interface");
          return Ok{};
        }
        if (!s.iface) {
          if (auto st = add_interface(s); !st) return st;
        }
        const uint64_t t = block.epb_time();
        s.queue.push_back({t, now_ms(), std::move(block)});
        return Ok{};
      }
      case kPcapngIsb: {
        // Its own statistics: the lost count is its kernel's. Everything before it goes first.
        if (auto st = emit(true); !st) return st;
        if (!s.iface) {
          if (auto st = add_interface(s); !st) return st;
        }
        if (auto drop = block.option(20, kPcapngIsbIfDrop); drop && drop->size() == 8) {
          uint64_t v = 0;
          std::memcpy(&v, drop->data(), 8);
          s.lost = v;
        }
        s.stats = true;
        if (!pcapng_) return Ok{};
        block.set_u32(8, *s.iface);
        return write_checked(pcapng_->write_block(block.bytes));
      }
      default:
        return Ok{};  // keep-alive blocks and anything else: not relayed
    }
  }

  // A host whose output ended: a normal end (its pwrudump stopped by itself, -c) or a failure.
  void check_ended(Source& s) {
    if (s.done || !s.proc || s.out_open) return;
    // What it says as it goes (ssh's error) comes until it exits and closes stderr.
    constexpr uint64_t kStderrWaitMs = 2000;
    if (s.proc->err_fd() >= 0 && now_ms() - s.out_closed_ms < kStderrWaitMs) return;
    const int status = s.proc->stop(500);
    if (status == 0 && s.section && s.reader.pending() == 0) {
      s.done = true;
    } else {
      host_failed(s, transport_failure(s, status));
    }
  }

  // Writes queued events in time order: the oldest of all while every host still running has
  // one queued, or once it waited kMergeWindowMs; with `all`, everything.
  Status emit(bool all) {
    const uint64_t now = now_ms();
    for (;;) {
      Source* first = nullptr;
      bool someone_empty = false;
      for (auto& s : sources_) {
        if (s.queue.empty()) {
          if (!s.done) someone_empty = true;
          continue;
        }
        if (first == nullptr || s.queue.front().time_ns < first->queue.front().time_ns) first = &s;
      }
      if (first == nullptr) return Ok{};
      const uint64_t waited = now - first->queue.front().arrived_ms;
      if (!all && someone_empty && waited < static_cast<uint64_t>(kMergeWindowMs)) {
        return Ok{};
      }
      Pending p = std::move(first->queue.front());
      first->queue.pop_front();
      if (auto st = write_event(*first, p); !st || stopped_) return st;
    }
  }

  Status write_event(Source& s, Pending& p) {
    ++s.relayed;
    if (pcapng_) {
      p.block.set_u32(8, *s.iface);
      if (auto st = write_checked(pcapng_->write_block(p.block.bytes)); !st || stopped_) return st;
    }
    if (text_ != nullptr || s.summary) write_text(s, p);
    if (pcapng_) return write_checked(pcapng_->flush(false));
    return Ok{};
  }

  // The event decoded: a text or JSON line, and the host's --output-summary.
  void write_text(Source& s, const Pending& p) {
    auto record = pwru_record_of(p.block.epb_packet());
    if (!record) return;
    auto ev = decode_record(*record);
    if (!ev) {
      std::fprintf(console_.err, "pwrudump: cannot decode an event of host %s: %s\n",
                   s.host.name.c_str(), ev.error().message.c_str());
      return;
    }
    ev->time_ns = p.time_ns;
    if (s.summary) s.summary->add(*ev);
    if (text_ == nullptr) return;
    if (!header_done_) {
      header_done_ = true;
      const std::string header = formatter_->header();
      if (!header.empty() && !options_.output.json) {
        std::fprintf(text_, "%-*s %s\n", host_width(), "HOST", header.c_str());
      }
    }
    std::string line = formatter_->format(*ev);
    if (options_.output.json) {
      // The host is a key of its own, first: {"host":"web1",...}
      if (!line.empty() && line.front() == '{') {
        line.insert(1, "\"host\":\"" + s.host.name + "\"" + (line.size() > 2 ? "," : ""));
      }
      std::fprintf(text_, "%s\n", line.c_str());
    } else {
      // Every line of the event (--output-stack, --output-skb add some) starts with the host.
      size_t start = 0;
      while (start <= line.size()) {
        size_t end = line.find('\n', start);
        if (end == std::string::npos) end = line.size();
        std::fprintf(text_, "%-*s %s\n", host_width(), s.host.name.c_str(),
                     line.substr(start, end - start).c_str());
        start = end + 1;
      }
    }
    std::fflush(text_);
  }

  // --output-summary, each host's journeys with its name first: after the text lines, apart by a
  // blank line; on stderr when the lines are JSON or there are none (as a local capture's).
  void write_summaries() {
    const bool after_text = text_ != nullptr && !options_.output.json;
    std::FILE* to = after_text ? text_ : console_.err;
    bool first = true;
    for (auto& s : sources_) {
      if (!s.summary) continue;
      if (first && after_text) std::fputc('\n', to);
      first = false;
      for (const std::string& line : s.summary->lines()) {
        std::fprintf(to, "%-*s %s\n", host_width(), s.host.name.c_str(), line.c_str());
      }
    }
  }

  int host_width() const {
    size_t w = 4;
    for (const auto& s : sources_) w = std::max(w, s.host.name.size());
    return static_cast<int>(w);
  }

  // To a pipe or fifo, after a second without writes: the reader leaving is found without events.
  Status keepalive() {
    if (!pcapng_ || !pcapng_sink_->pipe() ||
        now_ms() - last_write_ms_ < static_cast<uint64_t>(kKeepaliveMs)) {
      return Ok{};
    }
    if (auto st = write_checked(pcapng_->write_keepalive()); !st || stopped_) return st;
    return write_checked(pcapng_->flush());
  }

  // Stops every transport, writes what is queued and the statistics of hosts whose own did not
  // come, and says what failed.
  Status finish(Status st) {
    for (auto& s : sources_) {
      if (s.proc) s.proc->stop();
    }
    if (st && !stopped_) st = emit(true);
    const uint64_t end_ns = clock_ns(CLOCK_REALTIME);
    for (auto& s : sources_) {
      if (!st || stopped_ || !pcapng_) break;
      if (!s.iface) st = add_interface(s);
      // Stopped from here, the remote's own statistics went with its connection: ours say what
      // was relayed, and leave the lost count out rather than claim nothing was lost.
      if (st && !s.stats) {
        st = write_checked(pcapng_->write_stats(CaptureStats{start_ns_, end_ns, std::nullopt,
                                                             std::nullopt, s.relayed},
                                                *s.iface));
      }
    }
    if (pcapng_ && st && !stopped_) st = write_checked(pcapng_->flush());
    write_summaries();
    if (text_ != nullptr) std::fflush(text_);
    if (!st) return st;
    for (auto& s : sources_) {
      if (s.lost && *s.lost > 0) {
        std::fprintf(console_.err,
                     "pwrudump: WARNING: host %s lost %llu events (its ring buffer was full)\n",
                     s.host.name.c_str(), static_cast<unsigned long long>(*s.lost));
      }
      // What a host that did not fail said on stderr (pwrudump -q says only what matters).
      if (s.failure.empty() && !one_line(s.err_text).empty()) {
        std::fprintf(console_.err, "pwrudump: %s said: %s\n", s.label().c_str(),
                     one_line(s.err_text).c_str());
      }
    }
    if (failed_ == 0) return Ok{};
    if (options_.extcap()) {
      const Source& s = sources_.front();
      return Error{ExitCode::Remote, "cannot trace " + s.label() + ": " + s.failure,
                   command_hint(s)};
    }
    std::string names;
    for (const auto& s : sources_) {
      if (s.failure.empty()) continue;
      names += (names.empty() ? "" : ", ") + s.host.name;
    }
    return Error{ExitCode::Remote,
                 "cannot trace every host: " + std::to_string(failed_) + " of " +
                     std::to_string(sources_.size()) + " failed (" + names + ")",
                 "see the error of each above; the others were traced"};
  }

  static constexpr const char* kReportHintText = "this is unexpected: please report it";

  const Options& options_;
  const volatile std::sig_atomic_t& stop_;
  const Console& console_;
  std::vector<Source> sources_;
  std::unique_ptr<Sink> pcapng_sink_, text_sink_;
  std::optional<PcapngWriter> pcapng_;
  std::FILE* text_ = nullptr;
  std::unique_ptr<EventFormatter> formatter_;
  bool header_done_ = false;
  bool stopped_ = false;
  uint32_t next_iface_ = 0;
  size_t failed_ = 0;
  uint64_t start_ns_ = 0;
  uint64_t last_write_ms_ = 0;
};

void add_flag_value(std::vector<std::string>& args, const char* flag, const std::string& value) {
  if (value.empty()) return;
  args.emplace_back(flag);
  args.push_back(value);
}

}  // namespace

std::vector<std::string> remote_args(const Options& o) {
  const TraceOptions d;
  const TraceOptions& t = o.trace;
  std::vector<std::string> args = {"-q", "-w", "-"};
  if (t.snaplen != d.snaplen) add_flag_value(args, "--snaplen", std::to_string(t.snaplen));
  if (t.ringbuf_bytes != d.ringbuf_bytes) {
    add_flag_value(args, "--ringbuf-size", std::to_string(t.ringbuf_bytes));
  }
  if (t.backend != d.backend) add_flag_value(args, "--backend", t.backend);
  add_flag_value(args, "--filter-func", t.filter_func);
  add_flag_value(args, "--filter-netns", t.filter_netns);
  add_flag_value(args, "--filter-mark", t.filter_mark);
  add_flag_value(args, "--filter-ifname", t.filter_ifname);
  add_flag_value(args, "--filter-tunnel-pcap-l2", t.tunnel_pcap_l2);
  add_flag_value(args, "--filter-tunnel-pcap-l3", t.tunnel_pcap_l3);
  add_flag_value(args, "--kernel-btf", t.kernel_btf);
  add_flag_value(args, "--filter-skb-expr", t.filter_skb_expr);
  for (const auto& field : t.skb_metadata) add_flag_value(args, "--output-skb-metadata", field);
  if (t.track_skb) args.emplace_back("--filter-track-skb");
  if (t.track_skb_by_stackid) args.emplace_back("--filter-track-skb-by-stackid");
  for (const auto& func : t.non_skb_funcs) add_flag_value(args, "--filter-non-skb-funcs", func);
  if (t.trace_tc) args.emplace_back("--filter-trace-tc");
  if (t.trace_xdp) args.emplace_back("--filter-trace-xdp");
  if (t.output_stack) args.emplace_back("--output-stack");
  if (t.output_shinfo) args.emplace_back("--output-skb-shared-info");
  if (t.output_cb) args.emplace_back("--output-skb-cb");
  if (!t.nf_probes) args.emplace_back("--nf-probes=false");
  if (o.nf_trace) args.emplace_back("--nf-trace");
  if (!o.diagnose) args.emplace_back("--diagnose=false");
  if (o.output_limit != 0) add_flag_value(args, "-c", std::to_string(o.output_limit));
  if (!o.filter.empty()) {
    args.emplace_back("--");
    args.push_back(o.filter);
  }
  return args;
}

Result<std::vector<Host>> configured_hosts(const Options& options) {
  return load_hosts(hosts_file_path(options.hosts_file), !options.hosts_file.empty());
}

std::string interface_host(const std::string& extcap_interface) {
  if (!extcap_interface.starts_with(kHostInterfacePrefix)) return {};
  return extcap_interface.substr(kHostInterfacePrefix.size());
}

Status run_remote(const Options& options, const volatile std::sig_atomic_t& stop,
                  const Console& console) {
  RemoteCapture capture(options, stop, console);
  return capture.run();
}

}  // namespace pwru
