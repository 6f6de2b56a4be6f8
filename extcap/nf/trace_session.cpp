// TraceSession: per namespace, the owned trace table, the listener and a libnftables context,
// each made in that namespace (on a thread that entered it) and kept for the capture.
#include "nf/trace_session.h"

#include <fcntl.h>
#include <nftables/libnftables.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <linux/close_range.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <map>
#include <set>
#include <span>
#include <thread>
#include <utility>
#include <variant>

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

// The iptables-nft-save runner of one namespace: a shell started in it while pwrudump still had
// the privileges to enter it (setns needs CAP_SYS_ADMIN, which the capture gives up), reading
// "FAMILY TABLE" lines and answering with the save and an end line. A clean environment, stderr
// on /dev/null (Wireshark reads any stderr byte as a failure), no other fd of ours. It exits when
// its socket closes: with pwrudump, even after SIGKILL.
class SaveRunner {
 public:
  SaveRunner() = default;
  SaveRunner(SaveRunner&& o) noexcept
      : sock_(std::move(o.sock_)), pid_(std::exchange(o.pid_, -1)) {}
  SaveRunner& operator=(SaveRunner&& o) noexcept {
    stop();
    sock_ = std::move(o.sock_);
    pid_ = std::exchange(o.pid_, -1);
    return *this;
  }
  ~SaveRunner() { stop(); }

  // Started by the thread that is in the namespace; an empty runner if it cannot start.
  static SaveRunner start() {
    SaveRunner r;
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) return r;
    UniqueFd ours(fds[0]), theirs(fds[1]);
    UniqueFd null(open("/dev/null", O_RDWR | O_CLOEXEC));
    if (!null.valid()) return r;
    static constexpr const char* kLoop =
        "while read -r family table; do "
        "case $family in ip) save=iptables-nft-save;; ip6) save=ip6tables-nft-save;; "
        "*) save=false;; esac; "
        "$save -t \"$table\" 2>/dev/null; echo \"#pwrudump-end $?\"; done";
    const char* argv[] = {"/bin/sh", "-c", kLoop, nullptr};
    const char* envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", nullptr};
    const pid_t pid = fork();
    if (pid < 0) return r;
    if (pid == 0) {
      // Only async-signal-safe calls: the parent has other threads.
      if (dup2(theirs.get(), 0) < 0 || dup2(theirs.get(), 1) < 0 || dup2(null.get(), 2) < 0) {
        _exit(127);
      }
      close_range(3, ~0U, 0);
      execve(argv[0], const_cast<char* const*>(argv), const_cast<char* const*>(envp));
      _exit(127);
    }
    r.sock_ = std::move(ours);
    r.pid_ = pid;
    return r;
  }

  // iptables-nft-save's (ip6tables-nft-save's for ip6) output for the table; nullopt if it fails.
  std::optional<std::string> save(uint8_t family, const std::string& table) {
    if (!sock_.valid()) return std::nullopt;
    const std::string ask = (family == 10 ? "ip6 " : "ip ") + table + "\n";
    const ssize_t sent = send(sock_.get(), ask.data(), ask.size(), MSG_NOSIGNAL);
    if (sent != static_cast<ssize_t>(ask.size())) {
      sock_ = UniqueFd();
      return std::nullopt;
    }
    constexpr std::string_view kEnd = "#pwrudump-end ";
    std::string out;
    char buf[4096];
    for (;;) {
      const size_t end = out.rfind(kEnd);
      if (end != std::string::npos && out.ends_with("\n") && (end == 0 || out[end - 1] == '\n')) {
        const bool ok = out.compare(end, std::string::npos, "#pwrudump-end 0\n") == 0;
        out.resize(end);
        if (!ok) return std::nullopt;
        return out;
      }
      const ssize_t n = recv(sock_.get(), buf, sizeof buf, 0);
      if (n > 0) {
        out.append(buf, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        sock_ = UniqueFd();  // the runner is gone: nft text from now on
        return std::nullopt;
      }
    }
  }

 private:
  // Closing the socket ends the shell's read loop.
  void stop() {
    sock_ = UniqueFd();
    if (pid_ > 0) {
      while (waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {}
    }
    pid_ = -1;
  }

  UniqueFd sock_;
  pid_t pid_ = -1;
};
}  // namespace

std::string trace_table_name() { return "pwrudump_" + std::to_string(getpid()); }

struct Namespace {
  uint32_t inode = 0;
  std::string where;  // for messages: "this network namespace" or the path
  MnlSocket owner;    // closing it makes the kernel delete the trace table
  std::optional<TraceListener> listener;
  NftCtx nft;         // its socket was opened in this namespace
  SaveRunner saver;   // iptables-nft-save in this namespace
  std::map<std::pair<uint8_t, std::string>, TableListing> listings;  // (family, table)
  RuleHistory history;  // the text each handle had, as the stream went
};

// What a listener read, in socket order, and when.
struct Item {
  std::variant<TraceMessage, RuleChange, std::monostate> what;  // monostate: another change
  uint64_t read_ns = 0;  // CLOCK_MONOTONIC: what it reports happened before
};

struct TraceSession::Impl {
  std::string table;
  std::vector<std::string> notes;
  std::vector<Namespace> namespaces;
  TraceTie tie;
  bool lost = false;
  std::vector<std::string> read_errors;

  // Ours, or another pwrudump's tracing the same namespace: marking, not the user's ruleset.
  bool own(uint8_t family, const std::string& name) const {
    return own_family(family) && (name == table || name.starts_with("pwrudump_"));
  }

  // Appends what the namespace's listener holds to `items`.
  void drain(Namespace& ns, std::deque<Item>& items) {
    const uint64_t now = clock_ns(CLOCK_MONOTONIC);
    ListenerSink sink;
    sink.trace = [&](TraceMessage&& m) { items.push_back(Item{std::move(m), now}); };
    sink.rule_changed = [&](RuleChange&& c) { items.push_back(Item{std::move(c), now}); };
    sink.ruleset_changed = [&] { items.push_back(Item{std::monostate{}, now}); };
    auto complete = ns.listener->read_all(sink);
    if (!complete) {
      if (read_errors.empty()) read_errors.push_back(complete.error().message);
    } else if (!*complete) {
      lost = true;
    }
  }

  // Reads the listing of (family, name) when the history lacks the handle's text or the base
  // chain's hook. The listing is the ruleset of now, later than the trace being named: the
  // listener is read again right after it, and the handles that change in what it still holds
  // keep no text from it (RuleHistory::listed).
  const TableListing* listing(Namespace& ns, uint8_t family, const std::string& name,
                              const std::optional<uint64_t>& handle, const std::string& base,
                              std::deque<Item>& items) {
    const auto key = std::make_pair(family, name);
    auto it = ns.listings.find(key);
    const RuleHistory::Entry* known = handle ? ns.history.find(family, name, *handle) : nullptr;
    const bool fresh = it != ns.listings.end() && it->second.hooks.contains(base) &&
                       (!handle || (known != nullptr && (known->text || known->deleted)));
    if (fresh) return &it->second;
    const std::string cmd = "list table " + nf_family_name(family) + " " + name;
    const auto list = [&]() -> std::optional<std::string> {
      const int rc = nft_run_cmd_from_buffer(ns.nft.get(), cmd.c_str());
      const char* out = nft_ctx_get_output_buffer(ns.nft.get());
      (void)nft_ctx_get_error_buffer(ns.nft.get());  // emptied for the next command
      if (rc != 0 || out == nullptr) return std::nullopt;
      return std::string(out);
    };
    const auto text = list();
    if (!text) return it != ns.listings.end() ? &it->second : nullptr;
    it = ns.listings.insert_or_assign(key, parse_table_listing(*text)).first;
    if (maybe_iptables_table(family, name)) {
      // Both dumps list a chain in the kernel's order; use_iptables_text zips them only if they
      // agree, and only if the table did not change around the save (a rule deleted and one
      // added would keep the counts but shift the positions). Else the nft text stays.
      if (auto save = ns.saver.save(family, name); save && list() == text) {
        (void)use_iptables_text(it->second, *save);
      }
    }
    drain(ns, items);
    std::set<uint64_t> later;
    for (const Item& i : items) {
      const auto* c = std::get_if<RuleChange>(&i.what);
      if (c == nullptr || c->family != family || c->table != name) continue;
      if (!c->handle) {
        for (const auto& [h, rule] : it->second.rules) later.insert(h);
      } else {
        later.insert(*c->handle);
      }
    }
    ns.history.listed(family, name, it->second, later);
    return &it->second;
  }

  // The hook, and the text the rule has at this place in the stream, never another's.
  void name_rule(Namespace& ns, NfRule& r, const std::string& base, std::deque<Item>& items) {
    const TableListing* l = listing(ns, r.family, r.table, r.handle, base, items);
    if (l != nullptr) {
      if (auto hook = l->hooks.find(base); hook != l->hooks.end()) r.hook = hook->second;
    }
    if (r.type == NfTraceType::Policy) {
      r.rule = "policy " + nf_verdict_name(r.verdict);
      return;
    }
    if (!r.handle) return;
    const RuleHistory::Entry* e = ns.history.find(r.family, r.table, *r.handle);
    if (e == nullptr) return;
    if (e->text && e->chain == r.chain) r.rule = *e->text;
    // Traced just after its deletion (a packet still in the old ruleset generation).
    if (e->deleted) r.state = NfRuleState::Deleted;
  }

  void read(Namespace& ns) {
    std::deque<Item> items;
    drain(ns, items);
    while (!items.empty()) {
      Item item = std::move(items.front());
      items.pop_front();
      if (auto* m = std::get_if<TraceMessage>(&item.what)) {
        if (own(m->family, m->table)) continue;
        if (auto d = tie.feed(*m, item.read_ns)) {
          name_rule(ns, d->rule, d->base_chain, items);
          for (NfRule& r : d->passed) name_rule(ns, r, d->base_chain, items);
          tie.hold(std::move(*d), item.read_ns);
        }
        if (auto call = tie.ended_call()) {
          for (NfRule& r : call->rules) name_rule(ns, r, call->base_chain, items);
          tie.hold(std::move(*call), item.read_ns);
        }
      } else if (auto* c = std::get_if<RuleChange>(&item.what)) {
        if (own(c->family, c->table)) continue;
        const NfRuleState state = ns.history.changed(*c);
        tie.mark(RuleChangeMark{ns.inode, c->family, c->table, c->handle, state});
        if (!c->handle) ns.listings.erase(std::make_pair(c->family, c->table));
      } else {
        ns.listings.clear();  // chains may have come or gone: hooks are read again
      }
    }
  }

  bool traces(uint32_t netns) const {
    for (const auto& ns : namespaces) {
      if (ns.inode == netns) return true;
    }
    return false;
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
  ns.saver = SaveRunner::start();
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

TraceSession::Placement TraceSession::place(const Event& ev) {
  Placement out;
  if (!impl_->traces(ev.netns)) return out;
  // Every message of a hook that came before the event is on the socket by now.
  read();
  auto placed = impl_->tie.place(ev, clock_ns(CLOCK_MONOTONIC));
  for (NfRule& r : placed.before) out.before.push_back(passed_event(ev, std::move(r)));
  out.drop = std::move(placed.drop);
  return out;
}

std::vector<Event> TraceSession::expired(bool all) {
  std::vector<Event> out;
  for (Following& f : impl_->tie.expired(clock_ns(CLOCK_MONOTONIC), all)) {
    for (NfRule& r : f.rules) out.push_back(passed_event(f.event, std::move(r)));
  }
  return out;
}

uint64_t TraceSession::untied() const { return impl_->tie.untied(); }

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
