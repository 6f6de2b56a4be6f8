// The capture: open the outputs, attach through the Tracer, pump events into text (or JSON) lines
// and pcapng until told to stop, then write the statistics and the summary.
#pragma once

#include <csignal>
#include <cstdio>
#include <functional>
#include <memory>

#include "base/result.h"
#include "cli/options.h"
#include "core/tracer.h"

namespace pwru {

// Tracer::open, or a fake in tests.
using TracerFactory =
    std::function<Result<std::unique_ptr<Tracer>>(const TraceOptions&, const ProgressFn&)>;

// The process's standard streams, passed in so tests can capture them.
struct Console {
  std::FILE* out = stdout;  // text lines, or pcapng with -w -
  std::FILE* err = stderr;  // progress, summary, lost-event warnings
  bool err_is_tty = false;  // progress is drawn only on a terminal
};

// How often the loop wakes up to look at the stop flag and at readers that went away.
inline constexpr int kPollTimeoutMs = 100;

// With `-w -` on a pipe or socket, after this long without a write, a keep-alive block
// (PcapngWriter::write_keepalive): how a capture relayed by ssh ends when nothing is traced.
inline constexpr int kKeepaliveMs = 1000;

// Runs `options` (Action::Trace or Action::ExtcapCapture) until `stop` becomes non-zero, the
// output limit is reached or the reader of a pipe or socket output goes away (all normal
// stops), or something fails. The statistics block and the summary are written in every case where the
// output still takes them. Errors carry their ExitCode; the caller prints them.
Status run_capture(const Options& options, const TracerFactory& open_tracer,
                   const volatile std::sig_atomic_t& stop, const Console& console);

// For an error found before run_capture (a bad command line) when Wireshark started the capture
// (`options` has the fifo and interface): writes the fifo's pcapng header, so that Wireshark
// shows only `error` (without it, also that the fifo is no capture device), and returns `error`.
Error fail_extcap_capture(const Options& options, Error error, const Console& console);

}  // namespace pwru
