// --nf-trace: the trace tables, their listeners and the ruleset readers of the traced namespaces,
// the drop each netfilter kfree_skb event was traced to, and the rules packets passed
// (docs/netfilter.md).
#pragma once

#include <linux/filter.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"
#include "record/event.h"

namespace pwru::nf {

class Broker;

// The table --nf-trace adds: one name per process, since another process may not touch it.
std::string trace_table_name();

// Which packets the trace tables mark: those of the capture filter where the kernel can run it.
struct MarkFilter {
  std::string expression;            // the capture filter, for messages; empty: every packet
  std::vector<sock_filter> program;  // its classic BPF from the network header (DLT_RAW);
                                     // empty: it has none (`arp`, `ether host ...`)
};

// The namespaces traced: one (--filter-netns), or every one, those born while capturing too.
struct NamespaceChoice {
  uint32_t inode = 0;  // 0: every namespace
  std::string path;    // how the user named it, tried first to find it; may be empty
};

class TraceSession {
 public:
  // Starts the namespace broker (broker.h), which adds the trace tables to the namespaces: the
  // one chosen, or pwrudump's own and every other one, each failure but pwrudump's own being a
  // note. Needs CAP_NET_ADMIN, and CAP_SYS_ADMIN for other namespaces, now: afterwards pwrudump
  // needs none for --nf-trace (the broker keeps them).
  // Packets are marked by `mark` where xt_bpf can run it, else all of them (notes() says why).
  static Result<std::unique_ptr<TraceSession>> open(const NamespaceChoice& which,
                                                    const MarkFilter& mark);

  // What a user should know of how the tables mark packets, one sentence each.
  const std::vector<std::string>& notes() const;

  // The session's namespace broker, which --diagnose asks too: one privileged process, not two.
  // Lives as long as the session.
  Broker& broker();

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

  // The namespace of an event: one not seen before (born since the last scan, which runs every
  // second from read()) makes the session look for new namespaces soon.
  void saw_netns(uint32_t netns);

  // How often each namespace's listener overflowed (ENOBUFS: trace messages were lost each
  // time) since the last call, by namespace inode: for records that say so.
  std::vector<std::pair<uint32_t, uint64_t>> take_lost();

  // Deletes the trace tables the kernel does not delete itself (Linux before 5.12, no owned
  // tables); the rest go with the session. What could not be deleted, with the command to do it.
  std::vector<Error> remove_tables();

  // What went wrong on the way, for a warning at the end: messages the kernel dropped, a read
  // that failed. Empty when nothing did.
  std::vector<std::string> problems() const;

 private:
  struct Impl;
  struct Lifecycle;
  TraceSession(std::unique_ptr<Impl> impl, std::unique_ptr<Lifecycle> life);
  std::unique_ptr<Lifecycle> life_;  // the broker: outlives the namespaces' sockets
  std::unique_ptr<Impl> impl_;
};

}  // namespace pwru::nf
