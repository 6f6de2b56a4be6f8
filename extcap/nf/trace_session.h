// --nf-trace: the trace tables, their listeners and the ruleset readers of the traced namespaces,
// the drop each netfilter kfree_skb event was traced to, and the rules packets passed
// (docs/netfilter.md).
#pragma once

#include <linux/filter.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "record/event.h"

namespace pwru::nf {

// The table --nf-trace adds: one name per process, since another process may not touch it.
std::string trace_table_name();

// Which packets the trace tables mark: those of the capture filter where the kernel can run it.
struct MarkFilter {
  std::string expression;            // the capture filter, for messages; empty: every packet
  std::vector<sock_filter> program;  // its classic BPF from the network header (DLT_RAW);
                                     // empty: it has none (`arp`, `ether host ...`)
};

class TraceSession {
 public:
  // Adds the trace table to each namespace, "" being pwrudump's own, else a path to a namespace
  // file (/run/netns/NAME, /proc/PID/ns/net). Needs CAP_NET_ADMIN, and CAP_SYS_ADMIN to enter
  // another namespace; afterwards only CAP_NET_ADMIN (ruleset listings).
  // Packets are marked by `mark` where xt_bpf can run it, else all of them (notes() says why).
  static Result<std::unique_ptr<TraceSession>> open(const std::vector<std::string>& netns_paths,
                                                    const MarkFilter& mark);

  // What a user should know of how the tables mark packets, one sentence each.
  const std::vector<std::string>& notes() const;

  ~TraceSession();
  TraceSession(const TraceSession&) = delete;
  TraceSession& operator=(const TraceSession&) = delete;

  // What goes with `ev`, an event being written: the records of the rules its packet passed
  // that certainly came before it (ProbeKind::NfTrace, its skb and time), to write first, and,
  // for a NETFILTER_DROP event, the rule that dropped it. Reads what the listeners hold first.
  struct Placement {
    std::vector<Event> before;
    std::optional<NfRule> drop;
  };
  Placement place(const Event& ev);

  // Records of rules passed whose wait for a later event of their packet ran out (all of them
  // with `all`, at the end): written now, after the packet's last event seen.
  std::vector<Event> expired(bool all = false);

  // Base chain calls passed whose packet had no event in the capture: not written.
  uint64_t untied() const;

  // Reads what the listeners hold: called between batches too, so that a namespace's queue
  // does not overflow while no drop asks.
  void read();

  // What went wrong on the way, for a warning at the end: messages the kernel dropped, a read
  // that failed. Empty when nothing did.
  std::vector<std::string> problems() const;

 private:
  struct Impl;
  explicit TraceSession(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace pwru::nf
