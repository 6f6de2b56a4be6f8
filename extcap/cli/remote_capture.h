// Captures on other hosts: pwru@HOST in Wireshark, `pwrudump --remote HOST...` without it. Each
// host's pwrudump writes pcapng to the stdout of its transport (ssh, kubectl exec...); the
// blocks are relayed into one pcapng with one interface per host, pwru@HOST, merged in time
// order within a short window, and optionally decoded to text or JSON lines with the host's name
// (docs/many-hosts.md).
#pragma once

#include <csignal>
#include <string>
#include <vector>

#include "base/result.h"
#include "cli/capture_loop.h"
#include "cli/options.h"
#include "remote/hosts.h"

namespace pwru {

// How long an event of one host waits for the other hosts' events before it is written: the
// merge puts events in time order only within this window.
inline constexpr int kMergeWindowMs = 300;

// The arguments of the remote pwrudump for `options`: the trace options that differ from the
// defaults as pwrudump's own flags, then `-q -w -`, then `--` and the filter.
std::vector<std::string> remote_args(const Options& options);

// The hosts of the hosts file (--hosts-file, else the default places): a missing file is none,
// unless --hosts-file named it.
Result<std::vector<Host>> configured_hosts(const Options& options);

// The host an extcap interface names: "web1" for pwru@web1, "" for pwru and pwru-drops.
std::string interface_host(const std::string& extcap_interface);

// Captures until `stop`, every host's stream ending, or the reader of the output leaving. A host
// that fails is named with what its transport said; the others go on. Errors: the host's own in
// extcap mode (one host); with --remote, ExitCode::Remote when some host failed (each was
// printed on console.err as it failed).
Status run_remote(const Options& options, const volatile std::sig_atomic_t& stop,
                  const Console& console);

}  // namespace pwru
