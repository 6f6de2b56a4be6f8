// A backend's program templates, one per position of the skb argument, found in its BPF object
// by name rather than listed by hand.
#pragma once

#include <bpf/libbpf.h>
#include <linux/types.h>

#include <array>
#include <cstddef>
#include <string>

#include "base/result.h"
#include "pwru_event.h"

namespace pwru {

template <size_t N>
using ProgramsByPosition = std::array<struct bpf_program*, N>;
// Functions: the skb in one of the first PWRU_FUNC_ARGS arguments; tracepoints: PWRU_TP_ARGS.
using FuncPrograms = ProgramsByPosition<PWRU_FUNC_ARGS>;
using TpPrograms = ProgramsByPosition<PWRU_TP_ARGS>;

// The programs named `prefix` + position + `suffix` ("kprobe_skb_" 0 "_cookie"), positions
// [0, N): each .bpf.c defines one per position with a macro (SKB_AT and the like).
template <size_t N>
Result<ProgramsByPosition<N>> programs_by_position(const struct bpf_object* obj,
                                                   const std::string& prefix,
                                                   const std::string& suffix = "") {
  ProgramsByPosition<N> progs{};
  for (size_t i = 0; i < N; i++) {
    const std::string name = prefix + std::to_string(i) + suffix;
    progs[i] = bpf_object__find_program_by_name(obj, name.c_str());
    if (!progs[i]) {
      return Error{ExitCode::Failure, "cannot find the BPF program " + name + ": not in its object",
                   "this is a bug in pwrudump (bpf/*.bpf.c must define one per position)"};
    }
  }
  return progs;
}

}  // namespace pwru
