// The function backends' netfilter probes (bpf/nf.bpf.c): entry and return of nft_do_chain,
// ipt_do_table and ip6t_do_table, which name the table, base chain, hook and verdict of each
// netfilter chain a traced packet goes through, and of its drop, without changing the ruleset.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "core/backend.h"

namespace pwru {

// The functions probed, and the module each lives in when it is not built into the kernel.
struct NfFunction {
  std::string_view name;
  std::string_view module;
};
inline constexpr NfFunction kNfFunctions[] = {
    {"nft_do_chain", "nf_tables"},
    {"ipt_do_table", "ip_tables"},
    {"ip6t_do_table", "ip6_tables"},
};

class NfProbes {
 public:
  // Attaches the probes of the functions this kernel has now (a module loaded later is not
  // probed), in the flavour of `backend`: kprobe and kretprobe for the kprobe backends, fentry
  // and fexit for fentry. Appends one Probe per function. Never fails the capture: what cannot be
  // attached is said in `summary.notes`; attached() is then 0.
  static std::unique_ptr<NfProbes> attach(const BackendSetup& setup, std::string_view backend,
                                          std::vector<Probe>& probes, AttachSummary& summary);
  virtual ~NfProbes() = default;  // detaches, entries before returns
  virtual size_t attached() const = 0;
};

}  // namespace pwru
