// The command line of pwrudump: one parser for the standalone tracer and for Wireshark's
// extcap calls, returning plain data so main() only dispatches and tests need no process.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"
#include "core/trace_bounds.h"  // the bounds of the options, which the extcap dialog shows too
#include "core/tracer.h"
#include "output/fields.h"
#include "output/file_ring.h"
#include "output/rotating_file.h"

namespace pwru {

// The name of our one extcap interface, as Wireshark lists it.
inline constexpr const char* kExtcapInterface = "pwru";
// The second interface: drops only (the kfree_skb tracepoint), the cheapest "who dropped it".
inline constexpr const char* kExtcapDropsInterface = "pwru-drops";

const char* pwrudump_version();

enum class Action {
  Trace,              // standalone: text lines and/or pcapng (-w)
  Help,               // print Options::print and exit 0
  Version,            // print Options::print and exit 0
  ListFuncs,          // --list-funcs: print what would be probed, one per line
  ExtcapInterfaces,   // --extcap-interfaces
  ExtcapDlts,         // --extcap-dlts --extcap-interface pwru
  ExtcapConfig,       // --extcap-config --extcap-interface pwru
  ExtcapFilterCheck,  // --extcap-capture-filter F --extcap-interface pwru, without --capture
  ExtcapCapture,      // --capture --extcap-interface pwru --fifo PATH
};

struct Options {
  Action action = Action::Trace;
  std::string print;  // Help and Version: the text for stdout

  TraceOptions trace;
  std::string filter;        // pcap filter; positional words joined by spaces, or the extcap one
  std::string write_file;    // -w: pcapng output, "-" = stdout, empty = none
  OutputOptions output;      // --output-*, --timestamp: what a text or JSON line says
  std::string output_file;   // --output-file: text (or JSON) lines go there instead of stdout
  TextRotation text_rotation;  // --output-file-max-*, --output-file-compress
  RingSpec ring;             // -b: -w FILE becomes a set of files, as dumpcap's
  uint64_t output_limit = 0; // -c: stop after this many events were output, 0 = no limit
  std::string ready_file;    // --ready-file: created once the probes are attached
  bool nf_trace = false;     // --nf-trace: name the netfilter rule of each drop (docs/netfilter.md)
  bool diagnose = true;      // --diagnose: explain drops by asking their namespace (extcap/diag)
  bool quiet = false;        // -q; always set in extcap capture mode (stderr means failure)

  // --remote HOST (repeatable): trace these hosts through their transports instead of this
  // kernel (cli/remote_capture.h); --hosts-file: where their commands are (remote/hosts.h).
  std::vector<std::string> remote_hosts;
  std::string hosts_file;

  std::string extcap_interface;
  std::string extcap_version;  // what Wireshark says it is, e.g. "4.0"
  std::string fifo;            // extcap capture: where Wireshark reads pcapng

  bool extcap() const { return action == Action::ExtcapCapture; }
  // The capture runs elsewhere: --remote, or Wireshark's pwru@HOST interface.
  bool remote() const;
  // Where text (or JSON) lines go: empty for nowhere, "-" for stdout, else a file path.
  // -w - takes stdout for pcapng; -w FILE -q asks for the file alone; extcap writes to the fifo.
  std::string text_destination() const;
};

// Parses `args` (without the program name). Errors carry ExitCode::Usage; the filter is only
// compiled later, by the capture. --help and --version are actions, not errors.
Result<Options> parse_options(std::span<const std::string> args);
Result<Options> parse_options(int argc, const char* const* argv);

}  // namespace pwru
