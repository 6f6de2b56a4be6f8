// The interface every tracing backend implements, and the ordered registry of backends.
//
// A backend loads its BPF programs (bpf/<name>.bpf.c), points them at the shared maps, attaches
// them, and names each probe it attached. It knows nothing about filters or outputs.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "core/btf.h"
#include "core/functions.h"
#include "core/kallsyms.h"
#include "core/kfilter.h"
#include "core/load_settings.h"
#include "core/tracer.h"
#include "record/event.h"
#include "pwru_event.h"

namespace pwru {

// The fix when a backend cannot run here.
inline constexpr const char* kOtherBackendHint =
    "pick another with --backend, or let --backend auto choose";

// What user space knows about probe number `probe_id` (its index in the probe table). A probe
// whose name is empty serves many functions; each event names its function by address.
struct Probe {
  std::string name;  // function or tracepoint name, shown as pwru.func
  ProbeKind kind;
  // A tc or XDP program's entry and return (core/bpf_progs.h): its name, id and hook; the
  // events add the verdict.
  std::optional<BpfProg> bpf = {};
};

// The one probe of a program that serves many functions (kprobe, kprobe-multi), whose events
// name their function by address: appended to `probes`, its settings returned for the program.
inline struct probe_cfg shared_probe(std::vector<Probe>& probes, ProbeKind kind) {
  struct probe_cfg cfg = {};
  cfg.probe_id = static_cast<__u32>(probes.size());
  cfg.location_pos = -1;
  cfg.reason_pos = -1;
  probes.push_back(Probe{"", kind});
  return cfg;
}

// Everything a backend needs, found once by the Tracer and passed down.
struct BackendSetup {
  const KernelBtf& btf;
  const Kallsyms* ksyms;                      // null when /proc/kallsyms is unreadable
  SharedMaps maps;                            // ring buffer, lost counter, tracked skbs
  LoadSettings load;                          // snaplen, kernel stack
  const KernelFilter& kfilter;                // netns, mark, ifindex, tracking, pcap filter
  const std::vector<SkbFunction>& functions;  // for function backends
  const FuncFilter& func_filter;              // --filter-func
  // The tracepoint backend next to a function backend attaches only the tracepoints that carry
  // what functions do not (a `location` or a drop reason).
  bool extras_only = false;
  // --filter-non-skb-funcs, for the function backends (non_skb_functions): each attached with the
  // program that reports it for the packet its stack follows (bpf/stackid.bpf.h).
  std::vector<std::string> non_skb_funcs = {};
};

class Backend {
 public:
  virtual ~Backend() = default;  // detaches everything it attached, bounded in time
  virtual std::string_view name() const = 0;
  // Whether this kernel (and these privileges) can run the backend; the error says why not
  // ("auto" reports it and tries the next).
  virtual Status check_available(const BackendSetup& setup) = 0;
  // Loads and attaches. Appends one entry per probe to `probes` (its probe_id is the index) and
  // records attached/skipped counts in `summary`.
  virtual Status attach(const BackendSetup& setup, std::vector<Probe>& probes,
                        AttachSummary& summary, const ProgressFn& progress) = 0;
};

// One entry per backend, best first: "auto" takes the first whose check_available() succeeds.
struct BackendInfo {
  std::string_view name;
  bool traces_functions;
  std::unique_ptr<Backend> (*make)();
};
const std::vector<BackendInfo>& backend_registry();

// Whether this kernel runs BPF trampolines: a two-instruction fentry program loaded on the vmlinux
// function `btf_id` and attached (backends/fentry.cpp). The error (ExitCode::KernelFeature) says
// why not, with `hint` as its fix.
Status check_fentry(uint32_t btf_id, const char* hint);

std::unique_ptr<Backend> make_kprobe_multi_backend();
std::unique_ptr<Backend> make_kprobe_backend();
std::unique_ptr<Backend> make_fentry_backend();
std::unique_ptr<Backend> make_tracepoint_backend();

}  // namespace pwru
