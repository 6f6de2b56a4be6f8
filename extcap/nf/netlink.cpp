// The trace table's batch and the trace listener: libnftnl builds and parses, libmnl carries.
#include "nf/netlink.h"

#include <libnftnl/batch.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>
#include <libnftnl/trace.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/xt_bpf.h>
#include <sys/socket.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <new>
#include <vector>

namespace pwru::nf {
namespace {

// NFT_TABLE_F_OWNER: in the uapi header of 5.12 and later; Debian 12's headers have it, older
// build hosts may not.
constexpr uint32_t kTableOwner = 0x2;
// Before every chain of the hook, the kernel's own included (conntrack, defrag at -400).
constexpr int32_t kFirstPriority = INT_MIN + 1;
constexpr int kListenerBuffer = 8 << 20;

// libnftnl's objects, freed by their own functions (which take const pointers).
template <typename T, void (*Free)(const T*)>
struct Freer {
  void operator()(T* p) const { Free(p); }
};
using Table = std::unique_ptr<nftnl_table, Freer<nftnl_table, nftnl_table_free>>;
using Chain = std::unique_ptr<nftnl_chain, Freer<nftnl_chain, nftnl_chain_free>>;
using Rule = std::unique_ptr<nftnl_rule, Freer<nftnl_rule, nftnl_rule_free>>;
using Trace = std::unique_ptr<nftnl_trace, Freer<nftnl_trace, nftnl_trace_free>>;

struct BatchStop {
  void operator()(mnl_nlmsg_batch* b) const { mnl_nlmsg_batch_stop(b); }
};

Error netlink_error(const std::string& what, int err) {
  if (err == EPERM || err == EACCES) {
    return Error{ExitCode::Permission, "cannot " + what + ": " + std::strerror(err),
                 "--nf-trace needs root or CAP_NET_ADMIN (and CAP_SYS_ADMIN for another "
                 "namespace)"};
  }
  if (err == EINVAL || err == EOPNOTSUPP) {
    return Error{ExitCode::KernelFeature, "cannot " + what + ": " + std::strerror(err),
                 "--nf-trace needs nf_tables with owned tables (Linux 5.12 or later); on older "
                 "kernels it is not done yet"};
  }
  if (err == ENOENT || err == EPROTONOSUPPORT || err == EAFNOSUPPORT) {
    return Error{ExitCode::KernelFeature, "cannot " + what + ": " + std::strerror(err),
                 "load nf_tables (`modprobe nf_tables`)"};
  }
  return Error{ExitCode::Failure, "cannot " + what + ": " + std::strerror(err),
               "this is unexpected: please report it with `uname -r` and `nft --version`"};
}

// Appends one message to the batch, built by `build` at the batch's current position.
template <typename Build>
void append(mnl_nlmsg_batch* b, Build&& build) {
  build(static_cast<char*>(mnl_nlmsg_batch_current(b)));
  mnl_nlmsg_batch_next(b);
}

void add_table(mnl_nlmsg_batch* b, uint32_t& seq, uint16_t family, const std::string& name) {
  Table t(nftnl_table_alloc());
  nftnl_table_set_str(t.get(), NFTNL_TABLE_NAME, name.c_str());
  nftnl_table_set_u32(t.get(), NFTNL_TABLE_FLAGS, kTableOwner);
  append(b, [&](char* buf) {
    nlmsghdr* n = nftnl_table_nlmsg_build_hdr(buf, NFT_MSG_NEWTABLE, family,
                                              NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK, seq++);
    nftnl_table_nlmsg_build_payload(n, t.get());
  });
}

void add_chain(mnl_nlmsg_batch* b, uint32_t& seq, uint16_t family, const std::string& table,
               const char* chain, uint32_t hook) {
  Chain c(nftnl_chain_alloc());
  nftnl_chain_set_str(c.get(), NFTNL_CHAIN_TABLE, table.c_str());
  nftnl_chain_set_str(c.get(), NFTNL_CHAIN_NAME, chain);
  nftnl_chain_set_u32(c.get(), NFTNL_CHAIN_HOOKNUM, hook);
  nftnl_chain_set_s32(c.get(), NFTNL_CHAIN_PRIO, kFirstPriority);
  nftnl_chain_set_str(c.get(), NFTNL_CHAIN_TYPE, "filter");
  append(b, [&](char* buf) {
    nlmsghdr* n = nftnl_chain_nlmsg_build_hdr(buf, NFT_MSG_NEWCHAIN, family,
                                              NLM_F_CREATE | NLM_F_ACK, seq++);
    nftnl_chain_nlmsg_build_payload(n, c.get());
  });
}

// `meta nftrace set 1 accept`: the accept ends only this chain, and saves the two messages
// (end of chain, policy) that a rule without a verdict would add per packet.
void add_trace_rule(mnl_nlmsg_batch* b, uint32_t& seq, uint16_t family, const std::string& table,
                    const char* chain, std::span<const sock_filter> mark) {
  Rule r(nftnl_rule_alloc());
  nftnl_rule_set_str(r.get(), NFTNL_RULE_TABLE, table.c_str());
  nftnl_rule_set_str(r.get(), NFTNL_RULE_CHAIN, chain);
  nftnl_rule_set_u32(r.get(), NFTNL_RULE_FAMILY, family);
  // The rule owns each expression once added.
  if (!mark.empty()) {
    // xt_bpf revision 0 through nft_compat, as iptables' `-m bpf --bytecode` makes it. libnftnl
    // keeps the info's pointer and frees it with the expression: it must come from malloc.
    auto* info = static_cast<xt_bpf_info*>(std::calloc(1, sizeof(xt_bpf_info)));
    if (info == nullptr) throw std::bad_alloc();
    info->bpf_program_num_elem = static_cast<uint16_t>(mark.size());
    std::memcpy(info->bpf_program, mark.data(), mark.size_bytes());
    nftnl_expr* match = nftnl_expr_alloc("match");
    nftnl_expr_set_str(match, NFTNL_EXPR_MT_NAME, "bpf");
    nftnl_expr_set_u32(match, NFTNL_EXPR_MT_REV, 0);
    nftnl_expr_set(match, NFTNL_EXPR_MT_INFO, info, sizeof(xt_bpf_info));
    nftnl_rule_add_expr(r.get(), match);
  }
  nftnl_expr* one = nftnl_expr_alloc("immediate");
  nftnl_expr_set_u32(one, NFTNL_EXPR_IMM_DREG, NFT_REG_1);
  const uint8_t value = 1;
  nftnl_expr_set(one, NFTNL_EXPR_IMM_DATA, &value, sizeof value);
  nftnl_rule_add_expr(r.get(), one);
  nftnl_expr* meta = nftnl_expr_alloc("meta");
  nftnl_expr_set_u32(meta, NFTNL_EXPR_META_KEY, NFT_META_NFTRACE);
  nftnl_expr_set_u32(meta, NFTNL_EXPR_META_SREG, NFT_REG_1);
  nftnl_rule_add_expr(r.get(), meta);
  nftnl_expr* accept = nftnl_expr_alloc("immediate");
  nftnl_expr_set_u32(accept, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
  nftnl_expr_set_u32(accept, NFTNL_EXPR_IMM_VERDICT, NF_ACCEPT);
  nftnl_rule_add_expr(r.get(), accept);
  append(b, [&](char* buf) {
    nlmsghdr* n = nftnl_rule_nlmsg_build_hdr(buf, NFT_MSG_NEWRULE, family,
                                             NLM_F_CREATE | NLM_F_APPEND | NLM_F_ACK, seq++);
    nftnl_rule_nlmsg_build_payload(n, r.get());
  });
}

// Reads the answers to `expected` messages sent with NLM_F_ACK; the first error wins.
int read_acks(mnl_socket* s, size_t expected) {
  std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
  int first_error = 0;
  while (expected > 0) {
    const ssize_t len = mnl_socket_recvfrom(s, buf.data(), buf.size());
    if (len < 0) return errno;
    int left = static_cast<int>(len);
    for (auto* n = reinterpret_cast<nlmsghdr*>(buf.data()); mnl_nlmsg_ok(n, left);
         n = mnl_nlmsg_next(n, &left)) {
      if (n->nlmsg_type != NLMSG_ERROR) continue;
      const auto* e = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(n));
      if (e->error != 0 && first_error == 0) first_error = -e->error;
      if (expected > 0) --expected;
    }
    // An error aborts the batch: the kernel answers only what failed, and the acks asked for.
    if (first_error != 0) return first_error;
  }
  return 0;
}

std::vector<uint8_t> trace_bytes(const nftnl_trace* t, uint16_t attr) {
  if (!nftnl_trace_is_set(t, attr)) return {};
  uint32_t len = 0;
  const auto* p = static_cast<const uint8_t*>(nftnl_trace_get_data(t, attr, &len));
  return p ? std::vector<uint8_t>(p, p + len) : std::vector<uint8_t>{};
}

std::string trace_str(const nftnl_trace* t, uint16_t attr) {
  const char* s = nftnl_trace_is_set(t, attr) ? nftnl_trace_get_str(t, attr) : nullptr;
  return s ? s : "";
}

// A rule added or deleted, or a table deleted: what the rule history follows (RuleHistory).
std::optional<RuleChange> rule_change(const nlmsghdr* n) {
  const auto type = NFNL_MSG_TYPE(n->nlmsg_type);
  RuleChange c;
  if (type == NFT_MSG_NEWRULE || type == NFT_MSG_DELRULE) {
    Rule r(nftnl_rule_alloc());
    if (!r || nftnl_rule_nlmsg_parse(n, r.get()) < 0 ||
        !nftnl_rule_is_set(r.get(), NFTNL_RULE_HANDLE)) {
      return std::nullopt;
    }
    c.family = static_cast<uint8_t>(nftnl_rule_get_u32(r.get(), NFTNL_RULE_FAMILY));
    const char* table = nftnl_rule_get_str(r.get(), NFTNL_RULE_TABLE);
    const char* chain = nftnl_rule_get_str(r.get(), NFTNL_RULE_CHAIN);
    c.table = table ? table : "";
    c.chain = chain ? chain : "";
    c.handle = nftnl_rule_get_u64(r.get(), NFTNL_RULE_HANDLE);
    c.added = type == NFT_MSG_NEWRULE;
    return c;
  }
  if (type == NFT_MSG_DELTABLE) {
    Table t(nftnl_table_alloc());
    if (!t || nftnl_table_nlmsg_parse(n, t.get()) < 0) return std::nullopt;
    c.family = static_cast<uint8_t>(nftnl_table_get_u32(t.get(), NFTNL_TABLE_FAMILY));
    const char* name = nftnl_table_get_str(t.get(), NFTNL_TABLE_NAME);
    c.table = name ? name : "";
    return c;
  }
  return std::nullopt;
}

}  // namespace

Result<MnlSocket> create_trace_table(const std::string& name, const std::string& where,
                                     std::span<const sock_filter> mark) {
  if (mark.size() > kMaxMarkInsns) mark = {};  // would overflow xt_bpf_info: the caller checks
  MnlSocket s(mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC));
  if (!s) return netlink_error("open a netfilter netlink socket", errno);
  if (mnl_socket_bind(s.get(), 0, MNL_SOCKET_AUTOPID) < 0) {
    return netlink_error("bind a netfilter netlink socket", errno);
  }
  std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE * 2);
  std::unique_ptr<mnl_nlmsg_batch, BatchStop> b(mnl_nlmsg_batch_start(buf.data(), buf.size()));
  uint32_t seq = static_cast<uint32_t>(time(nullptr));
  append(b.get(), [&](char* p) { nftnl_batch_begin(p, seq++); });
  size_t acks = 0;
  for (uint16_t family : {uint16_t{NFPROTO_IPV4}, uint16_t{NFPROTO_IPV6}}) {
    add_table(b.get(), seq, family, name);
    add_chain(b.get(), seq, family, name, "pre", NF_INET_PRE_ROUTING);
    add_chain(b.get(), seq, family, name, "out", NF_INET_LOCAL_OUT);
    add_trace_rule(b.get(), seq, family, name, "pre", mark);
    add_trace_rule(b.get(), seq, family, name, "out", mark);
    acks += 5;
  }
  append(b.get(), [&](char* p) { nftnl_batch_end(p, seq++); });
  if (mnl_socket_sendto(s.get(), mnl_nlmsg_batch_head(b.get()), mnl_nlmsg_batch_size(b.get())) < 0) {
    return netlink_error("send the trace table " + name + " in " + where, errno);
  }
  if (int err = read_acks(s.get(), acks); err != 0) {
    return netlink_error("create the trace table " + name + " in " + where, err);
  }
  return s;
}

Result<TraceListener> TraceListener::open(uint32_t netns) {
  TraceListener l;
  l.netns_ = netns;
  l.socket_.reset(mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC | SOCK_NONBLOCK));
  if (!l.socket_) return netlink_error("open a netfilter netlink socket", errno);
  if (mnl_socket_bind(l.socket_.get(), 0, MNL_SOCKET_AUTOPID) < 0) {
    return netlink_error("bind a netfilter netlink socket", errno);
  }
  for (int group : {int{NFNLGRP_NFTRACE}, int{NFNLGRP_NFTABLES}}) {
    if (mnl_socket_setsockopt(l.socket_.get(), NETLINK_ADD_MEMBERSHIP, &group, sizeof group) < 0) {
      return netlink_error("listen to nftables traces", errno);
    }
  }
  // A reader that falls behind loses messages (ENOBUFS); a large buffer rides out bursts.
  // SO_RCVBUFFORCE passes rmem_max with CAP_NET_ADMIN, which --nf-trace needs anyway.
  int size = kListenerBuffer;
  const int fd = mnl_socket_get_fd(l.socket_.get());
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0) {
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  }
  return l;
}

Result<bool> TraceListener::read_all(const ListenerSink& sink) {
  std::vector<char> buf(64 * 1024);
  bool complete = true;
  for (;;) {
    const ssize_t len = mnl_socket_recvfrom(socket_.get(), buf.data(), buf.size());
    if (len < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return complete;
      if (errno == EINTR) continue;
      if (errno == ENOBUFS) {
        complete = false;
        continue;
      }
      return netlink_error("read nftables traces", errno);
    }
    int left = static_cast<int>(len);
    for (auto* n = reinterpret_cast<nlmsghdr*>(buf.data()); mnl_nlmsg_ok(n, left);
         n = mnl_nlmsg_next(n, &left)) {
      if (NFNL_SUBSYS_ID(n->nlmsg_type) != NFNL_SUBSYS_NFTABLES) continue;
      if (NFNL_MSG_TYPE(n->nlmsg_type) != NFT_MSG_TRACE) {
        if (auto change = rule_change(n); change && sink.rule_changed) {
          sink.rule_changed(std::move(*change));
        } else {
          sink.ruleset_changed();
        }
        continue;
      }
      Trace t(nftnl_trace_alloc());
      if (!t || nftnl_trace_nlmsg_parse(n, t.get()) < 0) continue;
      TraceMessage m;
      m.netns = netns_;
      m.id = nftnl_trace_get_u32(t.get(), NFTNL_TRACE_ID);
      m.family = static_cast<uint8_t>(nftnl_trace_get_u32(t.get(), NFTNL_TRACE_FAMILY));
      m.type = nftnl_trace_get_u32(t.get(), NFTNL_TRACE_TYPE);
      m.table = trace_str(t.get(), NFTNL_TRACE_TABLE);
      m.chain = trace_str(t.get(), NFTNL_TRACE_CHAIN);
      if (nftnl_trace_is_set(t.get(), NFTNL_TRACE_RULE_HANDLE)) {
        m.handle = nftnl_trace_get_u64(t.get(), NFTNL_TRACE_RULE_HANDLE);
      }
      if (nftnl_trace_is_set(t.get(), NFTNL_TRACE_VERDICT)) {
        m.verdict = static_cast<int32_t>(nftnl_trace_get_u32(t.get(), NFTNL_TRACE_VERDICT));
      }
      if (nftnl_trace_is_set(t.get(), NFTNL_TRACE_POLICY)) {
        m.policy = nftnl_trace_get_u32(t.get(), NFTNL_TRACE_POLICY);
      }
      m.jump_target = trace_str(t.get(), NFTNL_TRACE_JUMP_TARGET);
      m.network_header = trace_bytes(t.get(), NFTNL_TRACE_NETWORK_HEADER);
      m.transport_header = trace_bytes(t.get(), NFTNL_TRACE_TRANSPORT_HEADER);
      sink.trace(std::move(m));
    }
  }
}

}  // namespace pwru::nf
