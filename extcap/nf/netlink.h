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
#include "nf/listing.h"
#include "nf/tie.h"

namespace pwru::nf {

struct MnlClose {
  void operator()(mnl_socket* s) const { mnl_socket_close(s); }
};
using MnlSocket = std::unique_ptr<mnl_socket, MnlClose>;

// The most instructions xt_bpf takes as bytecode (XT_BPF_MAX_NUM_INSTR).
inline constexpr size_t kMaxMarkInsns = 64;

// Adds the tables `name` (families ip and ip6), owned by the returned socket's port: the kernel
// deletes them when that socket closes, exit and SIGKILL included (NFT_TABLE_F_OWNER, Linux
// 5.12). Each has a chain at prerouting and one at output, first of their hooks, whose one rule
// is `meta nftrace set 1 accept`, behind an xt_bpf match of `mark` (classic BPF from the network
// header, at most kMaxMarkInsns) when it is not empty: only the packets it accepts are traced.
// `where` names the namespace in messages.
Result<MnlSocket> create_trace_table(const std::string& name, const std::string& where,
                                     std::span<const sock_filter> mark);

// What the listener hands on: a trace message, a rule added or deleted (or a table deleted) when
// rule_changed is set, or word that the ruleset changed otherwise.
struct ListenerSink {
  std::function<void(TraceMessage&&)> trace;
  std::function<void()> ruleset_changed;
  std::function<void(RuleChange&&)> rule_changed;
};

// A non-blocking socket in NFNLGRP_NFTRACE and NFNLGRP_NFTABLES: traces and ruleset changes
// arrive in kernel order on one queue.
class TraceListener {
 public:
  static Result<TraceListener> open(uint32_t netns);

  // Reads every waiting message. False when the kernel dropped messages (ENOBUFS): the count
  // is unknown.
  Result<bool> read_all(const ListenerSink& sink);

 private:
  MnlSocket socket_;
  uint32_t netns_ = 0;
};

}  // namespace pwru::nf
