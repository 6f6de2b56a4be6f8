// pwrudump's entry point: parse the command line, answer Wireshark's extcap queries, or trace.
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <optional>
#include <string>

#include "cli/capabilities.h"
#include "cli/capture_loop.h"
#include "cli/extcap_protocol.h"
#include "cli/options.h"
#include "cli/remote_capture.h"
#include "core/tracer.h"

namespace {

// The only mutable global: signal handlers may touch nothing else.
volatile std::sig_atomic_t g_stop = 0;

void on_stop_signal(int) { g_stop = 1; }

void install_signal_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  // No SA_RESTART: the signal must interrupt the ring buffer poll (and a blocking fifo open)
  // so the loop sees the flag at once. SA_RESETHAND: a second Ctrl-C kills a capture whose
  // detach hangs, instead of being swallowed.
  sa.sa_flags = SA_RESETHAND;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  // The terminal going away (`ssh -t server pwrudump -w FILE` losing its connection) stops
  // the capture as Ctrl-C does: FILE still gets its statistics block.
  sigaction(SIGHUP, &sa, nullptr);
  // A reader closing the fifo or pipe must come back as EPIPE, a normal stop, not kill us
  // before the statistics block is written to the other outputs.
  std::signal(SIGPIPE, SIG_IGN);
}

// Tracer::open, then, like dumpcap once its capture is open, giving up every capability the rest
// of the capture does not need (--nf-trace's namespace broker, started before, keeps its own).
pwru::Result<std::unique_ptr<pwru::Tracer>> open_then_drop_privileges(
    const pwru::TraceOptions& options, const pwru::ProgressFn& progress) {
  auto tracer = pwru::Tracer::open(options, progress);
  if (!tracer) return tracer;
  // Reading the lost count now only tells whether this kernel lets us read our maps.
  auto maps_readable = [&tracer] { return (*tracer)->lost().ok(); };
  if (auto st = pwru::drop_capabilities(maps_readable); !st) return st.error();
  return tracer;
}

int fail(const pwru::Error& e) {
  std::fprintf(stderr, "pwrudump: %s\n", e.text().c_str());
  return static_cast<int>(e.code);
}

// Wireshark's capture call (`--capture --fifo PATH --extcap-interface IF`) found in a command
// line that did not parse: the error then goes to Wireshark with the fifo's header written.
std::optional<pwru::Options> extcap_capture_call(int argc, char** argv) {
  pwru::Options o;
  bool capture = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--capture") capture = true;
    if (i + 1 < argc && arg == "--fifo") o.fifo = argv[i + 1];
    if (i + 1 < argc && arg == "--extcap-interface") o.extcap_interface = argv[i + 1];
  }
  if (!capture || o.fifo.empty()) return std::nullopt;
  o.action = pwru::Action::ExtcapCapture;
  o.quiet = true;
  return o;
}

// Metadata answers: a failed write to stdout must not look like a valid (empty) answer.
int print(const std::string& text) {
  if (std::fputs(text.c_str(), stdout) < 0 || std::fflush(stdout) != 0) {
    return static_cast<int>(pwru::ExitCode::Output);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  using pwru::Action;
  auto options = pwru::parse_options(argc, argv);
  if (!options) {
    if (auto call = extcap_capture_call(argc, argv)) {
      return fail(pwru::fail_extcap_capture(*call, options.error(), pwru::Console{}));
    }
    return fail(options.error());
  }

  switch (options->action) {
    case Action::Help:
    case Action::Version: return print(options->print);
    case Action::ExtcapInterfaces: {
      // A hosts file that cannot be read leaves its hosts out, not pwrudump's own interfaces.
      auto hosts = pwru::configured_hosts(*options);
      if (!hosts) (void)fail(hosts.error());
      return print(pwru::extcap_interfaces_sentences(hosts ? *hosts : std::vector<pwru::Host>{}));
    }
    case Action::ExtcapDlts: return print(pwru::extcap_dlts_sentences());
    case Action::ExtcapConfig: return print(pwru::extcap_config_sentences());
    case Action::ExtcapFilterCheck: return print(pwru::extcap_filter_check(options->filter));
    case Action::ListFuncs: {
      auto list = pwru::list_probes(options->trace);
      if (!list) return fail(list.error());
      // Which list the names come from changes what will attach: say it when it is not ftrace's.
      for (const auto& n : list->notes) std::fprintf(stderr, "pwrudump: note: %s\n", n.c_str());
      std::string text;
      for (const auto& n : list->names) text += n + "\n";
      return print(text);
    }
    case Action::Trace:
    case Action::ExtcapCapture: break;
  }

  install_signal_handlers();
  const pwru::Console console{stdout, stderr, isatty(STDERR_FILENO) == 1};
  if (options->remote()) {
    auto status = pwru::run_remote(*options, g_stop, console);
    if (!status) return fail(status.error());
    return 0;
  }
  auto open_tracer = [](const pwru::TraceOptions& o, const pwru::ProgressFn& progress) {
    return open_then_drop_privileges(o, progress);
  };
  auto status = pwru::run_capture(*options, open_tracer, g_stop, console);
  if (!status) return fail(status.error());
  return 0;
}
