// The interface every tracing backend implements, and the ordered registry of backends.
//
// A backend loads its BPF programs (bpf/<name>.bpf.c), points them at the shared maps, attaches
// them, and names each probe it attached. It knows nothing about filters or outputs.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/event.h"
#include "core/result.h"
#include "core/tracer.h"

namespace pwru {

class KernelBtf;

// What user space knows about probe number `probe_id` (its index in the probe table).
struct Probe {
  std::string name;  // function or tracepoint name, shown as pwru.func
  ProbeKind kind;
};

struct BackendSetup {
  const KernelBtf& btf;
  int events_fd;     // ring buffer shared by all backends
  int lost_fd;       // per-CPU count of events the ring buffer refused
  uint32_t snaplen;
};

class Backend {
 public:
  virtual ~Backend() = default;  // detaches everything it attached
  virtual std::string_view name() const = 0;
  // Loads and attaches. Appends one entry per attached probe to `probes` (its probe_id is the
  // index) and records attached/skipped counts in `summary`.
  virtual Status attach(const BackendSetup& setup, std::vector<Probe>& probes,
                        AttachSummary& summary, const ProgressFn& progress) = 0;
};

// One entry per backend, best first.
struct BackendInfo {
  std::string_view name;
  std::unique_ptr<Backend> (*make)();
};
const std::vector<BackendInfo>& backend_registry();

std::unique_ptr<Backend> make_tracepoint_backend();

}  // namespace pwru
