// nf_tables' trace_key, the secret of its trace ids on Linux 6.1 and later: found in kallsyms,
// read by a BPF program run on demand (docs/netfilter.md, "How a trace is tied to its drop").
#pragma once

#include <cstdint>
#include <istream>
#include <memory>
#include <optional>

#include "nf/trace_id.h"

namespace pwru::nf {

// The address of nf_tables' `trace_key.N` (a function-local static, hence the suffix) in
// /proc/kallsyms' lines. nullopt when it is not listed (nf_tables built in without
// CONFIG_KALLSYMS_ALL), hidden (addresses shown as 0 without CAP_SYSLOG), or not one symbol.
std::optional<uint64_t> find_trace_key(std::istream& kallsyms);

class TraceKeyReader {
 public:
  // Loads the reader for the key /proc/kallsyms lists; nullptr when there is none, or the
  // program cannot load (no CAP_BPF and CAP_PERFMON): the tie then stays by headers. Called
  // while pwrudump still holds its privileges; running the loaded program later needs none on
  // Linux 5.19 and later (before, bpf() refuses it without CAP_BPF: the tie stays by headers).
  static std::unique_ptr<TraceKeyReader> open();

  // The key, nullopt while the kernel has not made it (it does at the first packet an nftables
  // base chain sees once tracing is on) or when the read fails.
  std::optional<SipKey> read();

  ~TraceKeyReader();
  TraceKeyReader(const TraceKeyReader&) = delete;
  TraceKeyReader& operator=(const TraceKeyReader&) = delete;

 private:
  struct Impl;
  explicit TraceKeyReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace pwru::nf
