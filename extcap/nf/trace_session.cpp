// TraceSession: per namespace, the owned trace table, the listener and a libnftables context,
// each made in that namespace (on a thread that entered it) and kept for the capture.
#include "nf/trace_session.h"

#include <fcntl.h>
#include <nftables/libnftables.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <span>
#include <thread>
#include <utility>

#include "base/clock.h"
#include "base/unique_fd.h"
#include "nf/listing.h"
#include "nf/netlink.h"
#include "nf/tie.h"

namespace pwru::nf {
namespace {

struct NftFree {
  void operator()(nft_ctx* c) const { nft_ctx_free(c); }
};
using NftCtx = std::unique_ptr<nft_ctx, NftFree>;

// The trace table's families: ip and ip6 (docs/netfilter.md says why not one inet table).
bool own_family(uint8_t family) { return family == 2 || family == 10; }

}  // namespace

std::string trace_table_name() { return "pwrudump_" + std::to_string(getpid()); }

struct Namespace {
  uint32_t inode = 0;
  std::string where;  // for messages: "this network namespace" or the path
  MnlSocket owner;    // closing it makes the kernel delete the trace table
  std::optional<TraceListener> listener;
  NftCtx nft;         // its socket was opened in this namespace
  std::map<std::pair<uint8_t, std::string>, TableListing> listings;  // (family, table)
};

struct TraceSession::Impl {
  std::string table;
  std::vector<std::string> notes;
  std::vector<Namespace> namespaces;
  TraceTie tie;
  bool lost = false;
  std::vector<std::string> read_errors;

  // The listing of (family, table), read again when it lacks what is asked for: a rule added
  // since, or a change the listener reported.
  const TableListing* listing(Namespace& ns, uint8_t family, const std::string& name,
                              const std::optional<uint64_t>& handle, const std::string& base) {
    const auto key = std::make_pair(family, name);
    auto it = ns.listings.find(key);
    const bool fresh = it != ns.listings.end() &&
                       (!handle || it->second.rules.contains(*handle)) &&
                       it->second.hooks.contains(base);
    if (fresh) return &it->second;
    const std::string cmd = "list table " + nf_family_name(family) + " " + name;
    const int rc = nft_run_cmd_from_buffer(ns.nft.get(), cmd.c_str());
    const char* out = nft_ctx_get_output_buffer(ns.nft.get());
    (void)nft_ctx_get_error_buffer(ns.nft.get());  // emptied for the next command
    if (rc != 0 || out == nullptr) return nullptr;
    it = ns.listings.insert_or_assign(key, parse_table_listing(out)).first;
    return &it->second;
  }

  void name_rule(Namespace& ns, TracedDrop& d) {
    const TableListing* l = listing(ns, d.rule.family, d.rule.table, d.rule.handle, d.base_chain);
    if (l == nullptr) return;
    if (auto hook = l->hooks.find(d.base_chain); hook != l->hooks.end()) d.rule.hook = hook->second;
    if (!d.rule.handle) {
      d.rule.rule = "policy drop";
    } else if (auto r = l->rules.find(*d.rule.handle);
               r != l->rules.end() && r->second.chain == d.rule.chain) {
      d.rule.rule = r->second.text;
    }
  }

  void read(Namespace& ns) {
    const uint64_t now = clock_ns(CLOCK_MONOTONIC);
    ListenerSink sink;
    sink.trace = [&](TraceMessage&& m) {
      if (m.table == table && own_family(m.family)) return;
      if (auto d = tie.feed(m, now)) {
        name_rule(ns, *d);
        tie.hold(std::move(*d), now);
      }
    };
    sink.ruleset_changed = [&ns] { ns.listings.clear(); };
    auto complete = ns.listener->read_all(sink);
    if (!complete) {
      if (read_errors.empty()) read_errors.push_back(complete.error().message);
    } else if (!*complete) {
      lost = true;
    }
  }
};

namespace {

uint32_t current_netns_inode() {
  struct stat st{};
  return stat("/proc/thread-self/ns/net", &st) == 0 ? static_cast<uint32_t>(st.st_ino) : 0;
}

// Everything of one namespace, made by the calling thread in the namespace it is in. A table
// that cannot mark by the filter (no xt_bpf in this kernel) marks every packet, and says why.
Result<Namespace> setup_here(const std::string& table, std::string where,
                             std::span<const sock_filter> mark, std::vector<std::string>& notes) {
  Namespace ns;
  ns.where = std::move(where);
  ns.inode = current_netns_inode();
  auto owner = create_trace_table(table, ns.where, mark);
  if (!owner && !mark.empty() && owner.error().code != ExitCode::Permission) {
    notes.push_back(owner.error().message + " with the capture filter's xt_bpf match: every packet "
                    "is traced");
    owner = create_trace_table(table, ns.where, {});
  }
  if (!owner) return owner.error();
  ns.owner = std::move(*owner);
  auto listener = TraceListener::open(ns.inode);
  if (!listener) return listener.error();
  ns.listener.emplace(std::move(*listener));
  ns.nft.reset(nft_ctx_new(NFT_CTX_DEFAULT));
  if (!ns.nft) {
    return Error{ExitCode::Failure, "cannot start libnftables in " + ns.where,
                 "check the free memory"};
  }
  nft_ctx_output_set_flags(ns.nft.get(), NFT_CTX_OUTPUT_HANDLE | NFT_CTX_OUTPUT_STATELESS);
  // Listings and their errors stay in memory: Wireshark reads any stderr byte as a failure.
  if (nft_ctx_buffer_output(ns.nft.get()) != 0 || nft_ctx_buffer_error(ns.nft.get()) != 0) {
    return Error{ExitCode::Failure, "cannot buffer libnftables' output in " + ns.where,
                 "check the free memory"};
  }
  return ns;
}

Result<Namespace> setup_in(const std::string& path, const std::string& table,
                           std::span<const sock_filter> mark, std::vector<std::string>& notes) {
  if (path.empty()) return setup_here(table, "this network namespace", mark, notes);
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    const int err = errno;
    return Error{err == ENOENT ? ExitCode::NotFound : ExitCode::Permission,
                 "cannot open network namespace " + path + ": " + std::strerror(err),
                 "pass --filter-netns as /run/netns/NAME or /proc/PID/ns/net"};
  }
  // setns moves only the calling thread, and sockets stay in the namespace they were made in.
  std::optional<Result<Namespace>> out;
  std::thread([&] {
    if (setns(fd.get(), CLONE_NEWNET) != 0) {
      const int err = errno;
      out.emplace(Error{ExitCode::Permission,
                        "cannot enter network namespace " + path + ": " + std::strerror(err),
                        "--nf-trace in another namespace needs root or CAP_SYS_ADMIN"});
      return;
    }
    out.emplace(setup_here(table, path, mark, notes));
  }).join();
  return std::move(*out);
}

}  // namespace

TraceSession::TraceSession(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TraceSession::~TraceSession() = default;

Result<std::unique_ptr<TraceSession>> TraceSession::open(const std::vector<std::string>& paths,
                                                         const MarkFilter& filter) {
  auto impl = std::make_unique<Impl>();
  impl->table = trace_table_name();
  std::span<const sock_filter> mark;
  if (!filter.expression.empty()) {
    if (filter.program.empty()) {
      impl->notes.push_back("the capture filter \"" + filter.expression + "\" has no form for "
                            "packets that start at IP: every packet is traced");
    } else if (filter.program.size() > kMaxMarkInsns) {
      impl->notes.push_back("the capture filter \"" + filter.expression + "\" takes " +
                            std::to_string(filter.program.size()) + " classic BPF instructions, "
                            "xt_bpf at most " + std::to_string(kMaxMarkInsns) +
                            ": every packet is traced");
    } else {
      mark = filter.program;
    }
  }
  for (const auto& path : paths) {
    auto ns = setup_in(path, impl->table, mark, impl->notes);
    if (!ns) return ns.error();
    impl->namespaces.push_back(std::move(*ns));
  }
  return std::unique_ptr<TraceSession>(new TraceSession(std::move(impl)));
}

std::optional<NfRule> TraceSession::name_drop(const Event& ev) {
  // The kernel queues a drop's trace message before it frees the skb: by the time the event is
  // read from the ring buffer, its message waits on the socket.
  read();
  return impl_->tie.take(ev, clock_ns(CLOCK_MONOTONIC));
}

const std::vector<std::string>& TraceSession::notes() const { return impl_->notes; }

void TraceSession::read() {
  for (auto& ns : impl_->namespaces) impl_->read(ns);
}

std::vector<std::string> TraceSession::problems() const {
  std::vector<std::string> out = impl_->read_errors;
  if (impl_->lost) {
    out.push_back("the kernel dropped netfilter trace messages (the listener fell behind): some "
                  "drops are not named");
  }
  return out;
}

}  // namespace pwru::nf
