// Turns one ring buffer record (bpf/pwru_event.h) into an Event, and counts the records it cannot.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/backend.h"
#include "core/kallsyms.h"
#include "core/skb_expr.h"
#include "record/event.h"

namespace pwru {

class EventDecoder {
 public:
  // Holds on to `probes`, `reasons` and `ksyms` (null: callers shown as addresses): the Tracer
  // owns them for as long as it reads. `stack_bytes` is LoadSettings::stack_bytes;
  // `mono_to_real_ns` turns the kernel's CLOCK_MONOTONIC stamps into wall clock time.
  EventDecoder(const std::vector<Probe>& probes, const std::map<uint32_t, std::string>& reasons,
               const Kallsyms* ksyms, uint32_t stack_bytes, int64_t mono_to_real_ns)
      : probes_(probes), reasons_(reasons), ksyms_(ksyms), stack_bytes_(stack_bytes),
        mono_to_real_(mono_to_real_ns) {}

  // Fills `ev` from the `size` bytes at `data`; false (and counted in malformed()) when they are
  // fewer than the record says it holds. Reuses `ev`, so its buffers keep their capacity: every
  // field is set on each call.
  bool decode(const void* data, size_t size, Event& ev);

  // The --output-skb-metadata expressions the programs were loaded with, which name and format
  // the values of a PWRU_EV2_HAS_META section; held on to like `probes`.
  void set_skb_exprs(const std::vector<SkbExpr>* meta) { meta_ = meta; }

  // Records dropped because they were shorter than their header, stack and packet bytes: events
  // the probes made that never reach an output, so they count as lost.
  uint64_t malformed() const { return malformed_; }
  // Events decoded whose probe id names no attached probe: shown with ProbeKind::Unknown.
  uint64_t unknown_probes() const { return unknown_probes_; }

 private:
  bool is_tracing_glue(uint64_t addr) const;
  void decode_skb_sections(uint8_t flags2, const uint8_t* at, Event& ev) const;

  const std::vector<Probe>& probes_;
  const std::map<uint32_t, std::string>& reasons_;
  const Kallsyms* ksyms_;
  uint32_t stack_bytes_;
  const std::vector<SkbExpr>* meta_ = nullptr;
  int64_t mono_to_real_;
  uint64_t malformed_ = 0;
  uint64_t unknown_probes_ = 0;
};

}  // namespace pwru
