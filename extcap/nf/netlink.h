// The netfilter sockets of one namespace, RAII: the socket that owns the trace table and the
// listener of trace and ruleset messages (libmnl, messages built and parsed by libnftnl).
#pragma once

#include <libmnl/libmnl.h>
#include <linux/filter.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "base/result.h"
#include "base/unique_fd.h"
#include "nf/listing.h"
#include "nf/tie.h"
#include "nf/trace_table.h"

namespace pwru::nf {

// The most instructions xt_bpf takes as bytecode (XT_BPF_MAX_NUM_INSTR).
inline constexpr size_t kMaxMarkInsns = 64;

// Adds the tables `name` (families ip and ip6), owned by the returned socket's port: the kernel
// deletes them when that socket closes, exit and SIGKILL included (NFT_TABLE_F_OWNER, Linux
// 5.12); a kernel without owned tables gets tables that are not (trace_table.h). Each has a
// chain at prerouting and one at output, first of their hooks, whose one rule is `meta nftrace
// set 1 accept`, behind an xt_bpf match of `mark` (classic BPF from the network header, at most
// kMaxMarkInsns) when it is not empty: only the packets it accepts are traced. `where` names the
// namespace in messages.
Result<TraceTable> create_trace_table(const std::string& name, const std::string& where,
                                      std::span<const sock_filter> mark);

// Reads the answers to `expected` messages sent with NLM_F_ACK: 0, or the first error (an error
// aborts a batch: the kernel answers only what failed, and the acks asked for).
int read_acks(mnl_socket* s, size_t expected);

// What the listener hands on: a trace message, a rule added or deleted (or a table deleted) when
// rule_changed is set, or word that the ruleset changed otherwise.
struct ListenerSink {
  std::function<void(TraceMessage&&)> trace;
  std::function<void()> ruleset_changed;
  std::function<void(RuleChange&&)> rule_changed;
};

// A non-blocking socket of the calling thread's namespace in NFNLGRP_NFTRACE and
// NFNLGRP_NFTABLES: traces and ruleset changes arrive in kernel order on one queue.
Result<MnlSocket> open_trace_socket();

// Reads a socket open_trace_socket() made, maybe in another process (the namespace broker).
class TraceListener {
 public:
  // `netns`: the inode of the socket's namespace, which the messages are tagged with.
  static Result<TraceListener> adopt(UniqueFd socket, uint32_t netns);

  // Reads every waiting message. Returns how often the queue overflowed (ENOBUFS) since the
  // last read: the kernel dropped messages each time, how many it does not say.
  Result<uint64_t> read_all(const ListenerSink& sink);

 private:
  MnlSocket socket_;
  uint32_t netns_ = 0;
};

}  // namespace pwru::nf
