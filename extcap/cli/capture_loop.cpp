// Runs one capture from the outputs' opening to the final statistics block and summary.
#include "cli/capture_loop.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "base/clock.h"
#include "base/unique_fd.h"
#include "core/kfilter.h"
#include "diag/diagnoser.h"
#include "filter/pcap_filter.h"
#include "nf/broker.h"
#include "nf/trace_session.h"
#include "output/direct_file.h"
#include "output/fields.h"
#include "output/file_ring.h"
#include "output/formatter.h"
#include "output/netns_names.h"
#include "output/pcapng_writer.h"
#include "output/summary.h"
#include "output/rotating_file.h"
#include "record/record.h"

namespace pwru {

namespace {

struct FileClose {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

std::string errno_text(int err) { return err == 0 ? "short write" : std::strerror(err); }

std::string os_name() {
  utsname u{};
  if (uname(&u) != 0) return {};
  return std::string(u.sysname) + " " + u.release;
}

// Bytes of stdio buffer for an output file or fifo.
constexpr size_t kStreamBuffer = 256 * 1024;

// An output stream and the name messages use for it. Owns the file unless it is stdout. A
// pcapng output that is a regular file is written with direct I/O (DirectFile); the rest (text,
// fifos, devices, stdout) through stdio.
class Output {
 public:
  // `path` "-" is `stdout_stream`. Opening a fifo blocks until its reader opens it, as
  // Wireshark does right after starting us; a signal interrupts the wait.
  static Result<Output> open(const std::string& path, const std::string& what,
                             std::FILE* stdout_stream, bool pcapng) {
    Output out;
    struct stat st{};
    if (path == "-") {
      out.name_ = "stdout";
      out.stream_ = stdout_stream;
    } else {
      out.name_ = path;
      UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666));
      if (!fd.valid() || fstat(fd.get(), &st) != 0) {
        int err = errno;
        return Error{ExitCode::Output, "cannot open " + what + " " + path + ": " + errno_text(err),
                     "check that the folder exists and that you may write there"};
      }
      if (pcapng && S_ISREG(st.st_mode)) {
        try {
          out.sink_ = std::make_unique<DirectFile>(std::move(fd));
        } catch (const std::system_error& e) {
          return Error{ExitCode::Output,
                       "cannot start the thread that writes " + what + " " + path + ": " + e.what(),
                       "check the process and thread limits (ulimit -u)"};
        }
        return out;
      }
      out.owned_.reset(::fdopen(fd.get(), "wb"));
      if (!out.owned_) {
        int err = errno;
        return Error{ExitCode::Output, "cannot open " + what + " " + path + ": " + errno_text(err),
                     "check the free memory"};
      }
      (void)fd.release();  // the FILE owns it now
      out.stream_ = out.owned_.get();
      // Each batch is flushed anyway (flush_batch); within a busy one, stdio's default 4 KiB
      // means a system call per ~12 events. glibc ignores setvbuf's size without a buffer
      // of our own, so the Output owns one.
      out.buffer_ = std::make_unique<char[]>(kStreamBuffer);
      std::setvbuf(out.stream_, out.buffer_.get(), _IOFBF, kStreamBuffer);
    }
    out.is_pipe_ = fstat(fileno(out.stream_), &st) == 0 &&
                   (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode));
    // Only stdout: behind it may sit a relay (ssh) that notices its own reader leaving only
    // when it writes. A named fifo is read by Wireshark itself.
    out.relayed_ = path == "-" && out.is_pipe_;
    out.sink_ = std::make_unique<StdioSink>(out.stream_);
    return out;
  }

  // Text goes here; null for a pcapng file written directly.
  std::FILE* stream() const { return stream_; }
  ByteSink& sink() const { return *sink_; }
  const std::string& name() const { return name_; }

  // A pipe, fifo or socket whose reader closed its end: Wireshark stopping the capture, `| head`
  // having seen enough, sshd closing the session. Asked between batches too, so a stop is
  // noticed without events. (A pipe reports POLLERR, a socket shut down both ways POLLHUP.)
  bool reader_gone() const {
    if (!is_pipe_) return false;
    pollfd p{fileno(stream_), 0, 0};
    return ::poll(&p, 1, 0) == 1 && (p.revents & (POLLERR | POLLHUP)) != 0;
  }

  // stdout is a pipe or socket: keep-alive blocks are written to it while nothing is traced.
  bool relayed() const { return relayed_; }

 private:
  std::string name_;
  std::FILE* stream_ = nullptr;
  // Declared before owned_, so the FILE is closed (and flushed) before its buffer is freed.
  std::unique_ptr<char[]> buffer_;
  std::unique_ptr<std::FILE, FileClose> owned_;
  std::unique_ptr<ByteSink> sink_;
  bool is_pipe_ = false;
  bool relayed_ = false;
};

// 32 MiB rather than 33554432 bytes; the flag accepts the same suffixes.
std::string size_text(uint64_t bytes) {
  if (bytes % (1u << 20) == 0) return std::to_string(bytes >> 20) + "M";
  if (bytes % (1u << 10) == 0) return std::to_string(bytes >> 10) + "K";
  return std::to_string(bytes);
}

std::string attach_summary(const AttachSummary& s) {
  std::string line = "attached " + std::to_string(s.attached) + " probes";
  if (!s.backend.empty()) line += " (" + s.backend + ")";
  if (s.skipped.empty()) return line;
  line += ", skipped " + std::to_string(s.skipped.size()) + " (";
  // The first few reasons tell what is wrong; the full list would flood the terminal.
  constexpr size_t kShown = 3;
  for (size_t i = 0; i < s.skipped.size() && i < kShown; ++i) {
    if (i > 0) line += "; ";
    line += s.skipped[i];
  }
  if (s.skipped.size() > kShown) {
    line += "; and " + std::to_string(s.skipped.size() - kShown) + " more";
  }
  return line + ")";
}

// Hints for tracer errors that came without one.
Error with_hint(Error e) {
  if (!e.hint.empty()) return e;
  switch (e.code) {
    case ExitCode::Permission: e.hint = kPermissionHint; break;
    case ExitCode::KernelFeature:
      e.hint = "this kernel lacks what the tracer needs; see the cause above";
      break;
    default: e.hint = kReportHint; break;
  }
  return e;
}

class Capture {
 public:
  Capture(const Options& options, const volatile std::sig_atomic_t& stop, const Console& console)
      : options_(options), stop_(stop), console_(console) {}

  Status run(const TracerFactory& open_tracer) {
    // The kernel applies the filter (the Tracer compiles it again); checking it here first
    // fails a typo before anything is attached, and on the command line before any file is
    // made. Wireshark waits for the fifo's header: without it, it reports the fifo as a missing
    // device next to our message.
    if (!options_.extcap()) {
      if (auto st = check_filter(); !st) return st;
    }
    if (auto st = start_outputs(); !st || stopping_) return st;
    if (options_.extcap()) {
      if (auto st = check_filter(); !st) return st;
    }
    return attach_and_pump(open_tracer);
  }

  // An error found before the capture could start, in extcap mode: the fifo gets its header
  // first, so that Wireshark shows just the error. Only a real fifo: never create a file.
  Error fail_before_start(Error error) {
    struct stat st{};
    if (options_.extcap() && stat(options_.fifo.c_str(), &st) == 0 && S_ISFIFO(st.st_mode)) {
      (void)start_outputs();
    }
    return error;
  }

 private:
  // Opens the outputs and writes the pcapng header. A signal while a fifo waits for its reader,
  // or the reader leaving at once, is a normal stop (stopping_).
  Status start_outputs() {
    if (auto st = open_outputs(); !st) {
      stopping_ = stop_ != 0;
      return stopping_ ? Status(Ok{}) : st;
    }
    if (pcapng_) {
      if (auto st = write_pcapng_header(); !st) {
        stopping_ = pcapng_reader_gone();
        return stopping_ ? Status(Ok{}) : st.error();
      }
    }
    return Ok{};
  }

  // Flushed at once: Wireshark waits for the header before it shows the capture running, and
  // attaching may take seconds.
  Status write_pcapng_header() {
    const bool drops = options_.extcap_interface == kExtcapDropsInterface;
    auto st = pcapng_->write_header(drops ? kExtcapDropsInterface : kExtcapInterface,
                                    drops ? "pwru-drops: packets the Linux kernel drops (eBPF)"
                                          : "pwru: packets through the Linux kernel (eBPF)",
                                    os_name(), std::string("pwrudump ") + pwrudump_version());
    if (st) st = pcapng_->flush();
    last_write_ns_ = clock_ns(CLOCK_MONOTONIC);
    file_ = FileStart{clock_ns(CLOCK_REALTIME), last_write_ns_, handed_, delivered_, file_.lost, 0};
    return st;
  }

  Status check_filter() const {
    if (auto problem = pcap_filter_problem(options_.filter)) {
      return Error{ExitCode::BadFilter,
                   "cannot compile pcap filter \"" + options_.filter + "\": " + *problem,
                   "check the expression against `man 7 pcap-filter`"};
    }
    return Ok{};
  }

  // --nf-trace's namespaces: the one --filter-netns names, else every one.
  Result<nf::NamespaceChoice> nf_namespaces() const {
    const std::string& netns = options_.trace.filter_netns;
    nf::NamespaceChoice which;
    if (netns.empty()) return which;
    auto inode = parse_netns(netns);
    if (!inode) return inode.error();
    which.inode = *inode;
    if (netns.rfind("inode:", 0) != 0) which.path = netns;
    return which;
  }

  // Before the probes: the namespace broker starts with the capabilities it keeps (CAP_NET_ADMIN,
  // CAP_SYS_ADMIN), which the tracer factory gives up once attached.
  Status open_nf_trace() {
    if (!options_.nf_trace) return Ok{};
    auto namespaces = nf_namespaces();
    if (!namespaces) return namespaces.error();
    auto session = nf::TraceSession::open(*namespaces, nf_mark_filter());
    if (!session) return session.error();
    nf_ = std::move(*session);
    if (!options_.quiet) {
      for (const auto& note : nf_->notes()) {
        std::fprintf(console_.err, "note: --nf-trace: %s\n", note.c_str());
      }
    }
    return Ok{};
  }

  // --diagnose: asks --nf-trace's namespace broker, else one of its own, started before the
  // probes for the same reason. Without one, drops are not diagnosed: a note says so.
  void open_diagnoses() {
    if (!options_.diagnose) return;
    if (!nf_) {
      auto broker = nf::Broker::start("", {});
      if (!broker) {
        if (!options_.quiet) {
          std::fprintf(console_.err, "note: --diagnose: drops are not diagnosed: %s\n",
                       broker.error().text().c_str());
        }
        return;
      }
      diag_broker_ = std::move(*broker);
    }
    diag_names_ = std::make_unique<NetnsNames>(options_.output.netns_dir);
    nf::Broker* b = nf_ ? &nf_->broker() : diag_broker_.get();
    NetnsNames* names = diag_names_.get();
    // The broker finds a named namespace by its bind mount first.
    auto path = [names, dir = options_.output.netns_dir](uint32_t inode) {
      const std::string& name = names->name(inode);
      return name.empty() ? std::string() : dir + "/" + name;
    };
    constexpr int kBrokerMs = 1000;
    diag::NamespaceAccess access;
    access.netlink = [b, path](uint32_t inode) {
      return b->netlink(inode, path(inode), kBrokerMs);
    };
    access.sysctl = [b, path](uint32_t inode, const std::string& name) {
      return b->sysctl(inode, path(inode), name, kBrokerMs);
    };
    access.name = [names](uint32_t inode) { return names->name(inode); };
    diagnoser_ = std::make_unique<diag::Diagnoser>(std::move(access));
  }

  // The capture filter as the trace tables run it: libpcap's program for packets that start at
  // IP, which is where skb->data points at the hooks they use.
  nf::MarkFilter nf_mark_filter() const {
    nf::MarkFilter mark;
    auto filter = PacketFilter::compile(options_.filter);  // checked before: it compiles
    if (!filter || filter->matches_all()) return mark;
    mark.expression = options_.filter;
    for (const CbpfInsn& i : filter->program(PacketLayer::Network)) {
      mark.program.push_back(sock_filter{i.code, i.jt, i.jf, i.k});
    }
    return mark;
  }

  Status attach_and_pump(const TracerFactory& open_tracer) {
    if (auto st = open_nf_trace(); !st) return st;
    open_diagnoses();
    auto tracer = attach(open_tracer);
    if (!tracer) return with_hint(tracer.error());
    tracer_ = std::move(*tracer);
    start_ns_ = clock_ns(CLOCK_REALTIME);

    if (!stop_) {
      if (auto st = create_ready_file(); !st) failure_ = st.error();
    }
    if (text_ && !failure_) {
      if (const std::string header = formatter_->header(); !header.empty()) write_text(header);
    }
    if (!failure_ && !stopping_) pump();
    // Detached first, so that the events still in the ring buffer are the last ones and the
    // lost count is final: written + lost is then every event the probes made.
    tracer_->detach();
    if (!failure_ && !stopping_) drain();
    if (nf_ && !failure_) {
      report_nf_lost();  // what the last reads found
      if (written_in_batch_ > 0) flush_batch();
    }
    finish();
    if (failure_) return *failure_;
    return Ok{};
  }

  Status open_outputs() {
    if (options_.extcap()) {
      auto out = Output::open(options_.fifo, "the Wireshark fifo", console_.out, true);
      if (!out) return out.error();
      pcapng_out_.emplace(std::move(*out));
    } else if (!options_.write_file.empty()) {
      std::string path = options_.write_file;
      if (options_.ring.enabled()) {
        ring_.emplace(path, options_.ring);
        path = ring_->next(std::time(nullptr));
      }
      auto out = Output::open(path, "the pcapng file", console_.out, true);
      if (!out) return out.error();
      pcapng_out_.emplace(std::move(*out));
    }
    if (pcapng_out_) pcapng_.emplace(pcapng_out_->sink());

    const std::string text = options_.text_destination();
    if (!text.empty()) {
      auto out = Output::open(text, "the text output", console_.out, false);
      if (!out) return out.error();
      text_.emplace(std::move(*out));
      formatter_ = make_formatter(options_.output);
      // pwru's rotation, for a file: never a fifo, a device or /dev/null.
      struct stat st{};
      if (text == options_.output_file && stat(text.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
        text_rotation_ = std::make_unique<RotatingFile>(text, options_.text_rotation);
      }
    }
    if (options_.output.summary && !options_.extcap()) {
      summary_.emplace(options_.output.netns_names ? std::optional(options_.output.netns_dir)
                                                   : std::nullopt);
    }
    return Ok{};
  }

  // Progress and the attach summary go to stderr for a person watching; never in extcap mode,
  // where Wireshark reports every stderr byte as an error (quiet is set there).
  Result<std::unique_ptr<Tracer>> attach(const TracerFactory& open_tracer) {
    const bool draw = console_.err_is_tty && !options_.quiet;
    bool drawn = false;
    ProgressFn progress;
    if (draw) {
      progress = [this, &drawn](size_t done, size_t total) {
        std::fprintf(console_.err, "\rattaching probes: %zu/%zu", done, total);
        std::fflush(console_.err);
        drawn = true;
      };
    }
    auto tracer = open_tracer(options_.trace, progress);
    if (drawn) std::fputs("\r\033[K", console_.err);  // clear the progress line
    if (tracer && !options_.quiet) {
      // Why auto passed over better backends, and which sources were unreadable.
      for (const auto& note : (*tracer)->summary().notes)
        std::fprintf(console_.err, "note: %s\n", note.c_str());
      std::fprintf(console_.err, "%s\n", attach_summary((*tracer)->summary()).c_str());
    }
    return tracer;
  }

  Status create_ready_file() const {
    if (options_.ready_file.empty()) return Ok{};
    int fd = ::open(options_.ready_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
      int err = errno;
      return Error{ExitCode::Output,
                   "cannot create ready file " + options_.ready_file + ": " + errno_text(err),
                   "check that the folder exists and that you may write there"};
    }
    ::close(fd);
    return Ok{};
  }

  void pump() {
    const Tracer::Sink sink = [this](const Event& ev) { return deliver(ev); };
    while (!stop_ && !stopping_) {
      auto handed = tracer_->poll(kPollTimeoutMs, sink);
      if (!handed) {
        failure_ = handed.error();
        return;
      }
      if (nf_) {
        nf_->read();  // keeps the trace queues short between drops
        write_expired(false);
        report_nf_lost();
      }
      // A file may hold back a partial piece after a batch (DirectFile): asked again on each
      // turn, with or without new events, until it is out.
      if (written_in_batch_ > 0 || (pcapng_ && pcapng_->holding())) {
        flush_batch();
        written_in_batch_ = 0;
      } else if (pcapng_out_ && pcapng_out_->relayed()) {
        keep_alive();
      }
      if (ring_) (void)next_file_if_due(/*between_events=*/true);  // -b duration
      if ((pcapng_out_ && pcapng_out_->reader_gone()) || (text_ && text_->reader_gone())) {
        stopping_ = true;
      }
    }
  }

  // A stop by signal: what the probes made before it is still written.
  void drain() {
    const Tracer::Sink sink = [this](const Event& ev) { return deliver(ev); };
    if (auto handed = tracer_->drain(sink); !handed) failure_ = handed.error();
    if (!stopping_) write_expired(true);
    if (written_in_batch_ > 0) flush_batch();
  }

  // The tracer's sink: false ends the batch when output stopped or the limit was reached.
  // Events arrive filtered by the kernel.
  bool deliver(const Event& kernel_event) {
    if (ring_ && !next_file_if_due(false)) return false;
    ++handed_;
    if (nf_) nf_->saw_netns(kernel_event.netns);
    std::optional<Event> named;
    if (nf_) {
      // The rules its packet passed before it (--nf-trace), and the rule that dropped it.
      auto placed = nf_->place(kernel_event);
      for (const Event& passed : placed.before) {
        if (!write(passed)) return false;
      }
      if (placed.drop) {
        named = kernel_event;
        named->nf = std::move(placed.drop);
      }
    }
    if (diagnoser_ && is_drop(named ? *named : kernel_event)) {
      if (auto found = diagnoser_->diagnose(named ? *named : kernel_event)) {
        if (!named) named = kernel_event;
        named->diagnosis = std::move(found);
      }
      if (!options_.quiet) {
        for (const auto& note : diagnoser_->take_notes()) {
          std::fprintf(console_.err, "note: %s\n", note.c_str());
        }
      }
    }
    const Event& ev = named ? *named : kernel_event;
    if (!write(ev)) return false;
    ++delivered_;
    if (options_.output_limit != 0 && delivered_ >= options_.output_limit) {
      stopping_ = true;
      return false;
    }
    return true;
  }

  // One record to every output. Rules passed are records too, but not kernel events: neither
  // the limit nor the counts include them.
  bool write(const Event& ev) {
    if (pcapng_) {
      record_.clear();
      encode_record(ev, record_);
      if (auto st = pcapng_->write_record(ev.time_ns, record_); !st) {
        pcapng_failed(st.error());
        return false;
      }
      ++file_.records;
    }
    if (text_ && !write_text(formatter_->format(ev))) return false;
    if (summary_) summary_->add(ev);
    ++written_in_batch_;
    return true;
  }

  // --nf-trace's rules passed whose wait for a later event of their packet ran out.
  void write_expired(bool all) {
    if (!nf_) return;
    for (const Event& passed : nf_->expired(all)) {
      if (!write(passed)) return;
    }
  }

  // --nf-trace's lost trace messages, as records of their own (NF_TRACE_LOST) where they
  // happened, so Wireshark shows them too: one per namespace whose listener overflowed since.
  // Not kernel events either: neither the limit nor the counts include them.
  void report_nf_lost() {
    if (!nf_ || failure_) return;
    for (const auto& [netns, overflows] : nf_->take_lost()) {
      Event ev;
      ev.time_ns = clock_ns(CLOCK_REALTIME);
      ev.ktime_ns = clock_ns(CLOCK_MONOTONIC);
      ev.func = "nf_trace_lost";
      ev.probe = ProbeKind::Unknown;  // no probe made it: pwrudump did
      ev.pid = static_cast<uint32_t>(getpid());
      ev.comm = "pwrudump";
      ev.netns = netns;
      ev.nf_trace_lost = static_cast<uint32_t>(std::min<uint64_t>(overflows, UINT32_MAX));
      if (!write(ev)) return;
    }
  }

  // A keep-alive block once nothing was written for kKeepaliveMs. A reader gone shows as EPIPE.
  void keep_alive() {
    const uint64_t now = clock_ns(CLOCK_MONOTONIC);
    if (now - last_write_ns_ < uint64_t{kKeepaliveMs} * 1'000'000u) return;
    last_write_ns_ = now;
    auto st = pcapng_->write_keepalive();
    if (st) st = pcapng_->flush(false);
    if (!st) pcapng_failed(st.error());
  }

  // Each batch is flushed so Wireshark (or a terminal behind a pipe) shows events live.
  void flush_batch() {
    if (pcapng_) {
      if (auto st = pcapng_->flush(false); !st) pcapng_failed(st.error());
      last_write_ns_ = clock_ns(CLOCK_MONOTONIC);
    }
    if (text_ && std::fflush(text_->stream()) != 0) text_failed(errno);
  }

  bool write_text(const std::string& line) {
    if (text_rotation_ && text_rotation_->due(line.size() + 1) && !rotate_text()) return false;
    std::FILE* f = text_->stream();
    if (std::fputs(line.c_str(), f) < 0 || std::fputc('\n', f) == EOF) {
      text_failed(errno);
      return false;
    }
    if (text_rotation_) text_rotation_->wrote(line.size() + 1);
    return true;
  }

  // --output-summary: after the text lines, apart by a blank line; on stderr when the lines are
  // JSON (a JSON reader must not meet it) or there are none (-w).
  void write_summary() {
    if (!summary_) return;
    const bool after_text = text_ && !options_.output.json;
    if (after_text && (text_broken_ || !write_text(""))) return;
    for (const std::string& line : summary_->lines()) {
      if (!after_text) {
        std::fprintf(console_.err, "%s\n", line.c_str());
      } else if (!write_text(line)) {
        return;
      }
    }
  }

  // --output-file past its size: renamed aside, started anew with the header (pwru's rotation).
  bool rotate_text() {
    if (std::fflush(text_->stream()) != 0) {
      text_failed(errno);
      return false;
    }
    text_.reset();
    auto st = text_rotation_->rotate();
    if (st) {
      auto out = Output::open(options_.output_file, "the text output", console_.out, false);
      if (out) text_.emplace(std::move(*out));
      else st = out.error();
    }
    if (!st) {
      stopping_ = true;
      text_broken_ = true;
      if (!failure_) failure_ = st.error();
      return false;
    }
    const std::string header = formatter_->header();
    return header.empty() || write_text(header);
  }

  // -b: once the file is full (size, packets, duration), it gets its statistics block and
  // the next file begins; the oldest go beyond files:N. False when that failed (the capture stops).
  bool next_file_if_due(bool between_events) {
    if (stopping_) return false;
    const uint64_t elapsed = clock_ns(CLOCK_MONOTONIC) - file_.mono_ns;
    if (between_events ? !ring_->timed_out(file_.records, elapsed)
                       : !ring_->due(pcapng_->bytes_written(), file_.records, elapsed)) {
      return true;
    }
    Result<uint64_t> lost = tracer_->lost();
    write_file_stats(lost);
    if (stopping_) return false;
    pcapng_.reset();
    pcapng_out_.reset();  // closed: all of it is in the file
    file_.lost = lost ? *lost : file_.lost;
    const std::string next = ring_->next(std::time(nullptr));
    for (const std::string& old : ring_->take_expired()) {
      if (::unlink(old.c_str()) != 0 && errno != ENOENT) {
        std::fprintf(console_.err, "pwrudump: WARNING: cannot remove %s: %s\nhint: %s\n",
                     old.c_str(), std::strerror(errno), "remove it by hand; the ring goes on");
      }
    }
    auto out = Output::open(next, "the pcapng file", console_.out, true);
    Status st = out ? Status(Ok{}) : Status(out.error());
    if (out) {
      pcapng_out_.emplace(std::move(*out));
      pcapng_.emplace(pcapng_out_->sink());
      st = write_pcapng_header();
    }
    if (!st) {
      stopping_ = true;
      if (!failure_) failure_ = st.error();
      return false;
    }
    return true;
  }

  // The statistics block of the file being closed: what it holds and what was lost while it
  // was the file written, so the files of a ring add up to the whole capture.
  void write_file_stats(const Result<uint64_t>& lost) {
    CaptureStats stats;
    stats.start_ns = file_.start_ns;
    stats.end_ns = clock_ns(CLOCK_REALTIME);
    if (lost) {
      stats.lost = lost.value() - std::min(lost.value(), file_.lost);
      stats.received = handed_ - file_.handed + *stats.lost;
    }
    stats.delivered = delivered_ - file_.delivered;
    auto st = pcapng_->write_stats(stats);
    if (st) st = pcapng_->flush();
    if (!st) pcapng_failed(st.error());
  }

  bool pcapng_reader_gone() const {
    return pcapng_->broken_pipe() || pcapng_out_->reader_gone();
  }

  // The reader leaving is how Wireshark may end a capture: stop without an error.
  void pcapng_failed(const Error& e) {
    stopping_ = true;
    if (!pcapng_reader_gone() && !failure_) failure_ = e;
  }

  void text_failed(int err) {
    stopping_ = true;
    text_broken_ = true;
    if (err != EPIPE && !text_->reader_gone() && !failure_) {
      failure_ = Error{ExitCode::Output,
                       "cannot write text to " + text_->name() + ": " + errno_text(err),
                       "check the free space where the output goes"};
    }
  }

  void finish() {
    // Read once the probes are gone, so the count is final. Unreadable, it is reported as
    // unknown everywhere and fails the capture: a trace with holes must never look complete.
    Result<uint64_t> lost = tracer_->lost();
    if (!lost && !failure_) failure_ = lost.error();
    if (pcapng_ && !pcapng_reader_gone()) {
      if (!ring_) file_.start_ns = start_ns_;  // one file: the capture's start, as always
      write_file_stats(lost);
    }
    write_summary();
    if (text_ && !text_broken_ && std::fflush(text_->stream()) != 0) text_failed(errno);
    if (text_rotation_ && !options_.extcap()) {
      text_rotation_->wait();
      for (const std::string& w : text_rotation_->take_warnings()) {
        std::fprintf(console_.err, "pwrudump: WARNING: %s\nhint: %s\n", w.c_str(),
                     "remove or compress the old --output-file files by hand");
      }
    }

    // Before 5.12 the kernel does not delete the trace tables: pwrudump does, on every stop.
    const std::vector<Error> tables_left = nf_ ? nf_->remove_tables() : std::vector<Error>{};
    if (options_.extcap()) return;  // the statistics block carries the counts to Wireshark
    for (const Error& e : tables_left) {
      std::fprintf(console_.err, "pwrudump: WARNING: %s\n", e.text().c_str());
    }
    if (nf_) {
      if (const uint64_t untied = nf_->untied(); untied > 0 && !options_.quiet) {
        std::fprintf(console_.err,
                     "note: --nf-trace: %llu base chain calls passed by packets with no event in "
                     "the capture are not shown\n",
                     static_cast<unsigned long long>(untied));
      }
      // Even with -q: an unnamed drop must not look like one no rule made.
      for (const auto& problem : nf_->problems()) {
        std::fprintf(console_.err,
                     "pwrudump: WARNING: --nf-trace: %s\nhint: narrow the capture (pcap filter, "
                     "--filter-netns) or report it if it repeats\n",
                     problem.c_str());
      }
    }
    if (!options_.quiet) {
      std::string line = std::to_string(delivered_) + " events, " +
                         (lost ? std::to_string(*lost) + " lost" : "lost count unknown");
      std::fprintf(console_.err, "%s\n", line.c_str());
    }
    if (const uint64_t unknown = tracer_->unknown_probes(); unknown > 0) {
      std::fprintf(console_.err,
                   "pwrudump: WARNING: %llu events came from a probe id that names no probe "
                   "(shown as probe#N, kind unknown)\nhint: please report this bug\n",
                   static_cast<unsigned long long>(unknown));
    }
    if (lost && *lost > 0) {
      // Even with -q: a trace with holes must never look complete.
      const uint64_t size = options_.trace.ringbuf_bytes;
      const uint64_t bigger = std::min<uint64_t>(size * 4, kMaxRingbufBytes);
      std::string hint = bigger > size ? "pass a larger ring buffer, e.g. --ringbuf-size " + size_text(bigger)
                                       : "narrow what is traced: the ring buffer is at its largest";
      std::fprintf(console_.err,
                   "pwrudump: WARNING: %llu events lost: the ring buffer (--ringbuf-size %s) was full\n"
                   "hint: %s\n",
                   static_cast<unsigned long long>(*lost), size_text(size).c_str(), hint.c_str());
    }
  }

  const Options& options_;
  const volatile std::sig_atomic_t& stop_;
  const Console& console_;

  std::optional<Output> pcapng_out_;
  std::optional<PcapngWriter> pcapng_;
  std::optional<Output> text_;
  std::unique_ptr<EventFormatter> formatter_;  // text or JSON lines, with text_
  std::optional<DropSummary> summary_;         // --output-summary
  std::unique_ptr<RotatingFile> text_rotation_;  // --output-file, a regular file
  std::optional<FileRing> ring_;                 // -b
  // Where the pcapng file being written began: its statistics block counts from here.
  struct FileStart {
    uint64_t start_ns = 0;  // CLOCK_REALTIME
    uint64_t mono_ns = 0;   // CLOCK_MONOTONIC, for -b duration
    uint64_t handed = 0;
    uint64_t delivered = 0;
    uint64_t lost = 0;
    uint64_t records = 0;   // written to it, for -b packets
  } file_;
  std::unique_ptr<nf::TraceSession> nf_;  // --nf-trace; its tables live as long as it does
  std::unique_ptr<Tracer> tracer_;
  // --diagnose; the diagnoser asks the broker (nf_'s with --nf-trace) and the names, so it is
  // destroyed first.
  std::unique_ptr<nf::Broker> diag_broker_;
  std::unique_ptr<NetnsNames> diag_names_;
  std::unique_ptr<diag::Diagnoser> diagnoser_;

  std::vector<uint8_t> record_;  // reused for every event
  uint64_t start_ns_ = 0;
  uint64_t last_write_ns_ = 0;  // CLOCK_MONOTONIC of the last pcapng write, for keep_alive()
  uint64_t handed_ = 0;     // events the tracer handed over
  uint64_t delivered_ = 0;  // events that matched and were output
  uint64_t written_in_batch_ = 0;
  bool stopping_ = false;   // a normal stop: limit reached, reader gone, or an output failed
  bool text_broken_ = false;
  std::optional<Error> failure_;
};

}  // namespace

Status run_capture(const Options& options, const TracerFactory& open_tracer,
                   const volatile std::sig_atomic_t& stop, const Console& console) {
  Capture capture(options, stop, console);
  return capture.run(open_tracer);
}

Error fail_extcap_capture(const Options& options, Error error, const Console& console) {
  const volatile std::sig_atomic_t no_stop = 0;
  Capture capture(options, no_stop, console);
  return capture.fail_before_start(std::move(error));
}

}  // namespace pwru
