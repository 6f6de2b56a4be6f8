// --filter-trace-tc, --filter-trace-xdp: an fentry/fexit pair (bpf/bpf_progs.bpf.c) on every tc
// (sched_cls) and XDP program loaded when the capture starts. Each entry is an event named as
// pwru names it, `cil_from_container(tc)`, `xdp_prog(xdp)`; each return the same with the
// program's verdict (Event::bpf).
#pragma once

#include <memory>
#include <vector>

#include "base/result.h"
#include "core/backend.h"

namespace pwru {

class BpfProgProbes {
 public:
  // Attaches the pairs of the hooks asked for. Fails (ExitCode::KernelFeature) when the kernel
  // refuses fentry, whatever programs are loaded; a program that cannot be traced (no BTF, a
  // context the verifier cannot type, ...) is named with the reason in `summary.notes`, and an
  // attached one counts two probes in `summary.attached`. Appends one Probe per program.
  static Result<std::unique_ptr<BpfProgProbes>> attach(const BackendSetup& setup, bool tc,
                                                       bool xdp, std::vector<Probe>& probes,
                                                       AttachSummary& summary);
  virtual ~BpfProgProbes() = default;  // detaches every pair
  virtual size_t attached() const = 0;  // programs traced
};

}  // namespace pwru
