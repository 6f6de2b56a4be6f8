// --nf-trace: the trace tables, their listeners and the ruleset readers of the traced namespaces,
// and the drop each netfilter kfree_skb event was traced to (docs/netfilter.md).
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

// Whether `ev` frees an skb that netfilter dropped: kfree_skb with reason NETFILTER_DROP, or,
// before Linux 5.17 (kfree_skb has no reason), kfree_skb called by nf_hook_slow.
bool is_netfilter_drop(const Event& ev);

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

  // Reads what the listeners hold, then the rule that dropped `ev` (is_netfilter_drop), if a
  // trace of its namespace reported a drop of the same packet.
  std::optional<NfRule> name_drop(const Event& ev);

  // Reads what the listeners hold: called between batches too, so that a namespace's queue
  // does not overflow while no drop asks.
  void read();

  // Deletes the trace tables the kernel does not delete itself (Linux before 5.12, no owned
  // tables); the rest go with the session. What could not be deleted, with the command to do it.
  std::vector<Error> remove_tables();

  // What went wrong on the way, for a warning at the end: messages the kernel dropped, a read
  // that failed. Empty when nothing did.
  std::vector<std::string> problems() const;

 private:
  struct Impl;
  explicit TraceSession(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace pwru::nf
