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
#include <map>
#include <span>
#include <thread>
#include <utility>

#include "base/clock.h"
#include "base/unique_fd.h"
#include "nf/listing.h"
#include "nf/netlink.h"
#include "nf/tie.h"
#include "nf/trace_key.h"

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

bool is_netfilter_drop(const Event& ev) {
  if (ev.drop_reason) return ev.drop_reason_name == "NETFILTER_DROP";
  return ev.func == "kfree_skb" && ev.caller.starts_with("nf_hook_slow+");
}

struct Namespace {
  uint32_t inode = 0;
  std::string where;  // for messages: "this network namespace" or the path
  TraceTable owner;   // its socket owns the trace tables, or it deletes them (Linux < 5.12)
  std::optional<TraceListener> listener;
  NftCtx nft;         // its socket was opened in this namespace
  SaveRunner saver;   // iptables-nft-save in this namespace
  std::map<std::pair<uint8_t, std::string>, TableListing> listings;  // (family, table)
};

struct TraceSession::Impl {
  std::string table;
  std::vector<std::string> notes;
  std::vector<Namespace> namespaces;
  std::unique_ptr<TraceKeyReader> key_reader;  // before `tie`, which calls it
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
    const auto list = [&]() -> std::optional<std::string> {
      const int rc = nft_run_cmd_from_buffer(ns.nft.get(), cmd.c_str());
      const char* out = nft_ctx_get_output_buffer(ns.nft.get());
      (void)nft_ctx_get_error_buffer(ns.nft.get());  // emptied for the next command
      if (rc != 0 || out == nullptr) return std::nullopt;
      return std::string(out);
    };
    const auto text = list();
    if (!text) return nullptr;
    it = ns.listings.insert_or_assign(key, parse_table_listing(*text)).first;
    if (maybe_iptables_table(family, name)) {
      // Both dumps list a chain in the kernel's order; use_iptables_text zips them only if they
      // agree, and only if the table did not change around the save (a rule deleted and one
      // added would keep the counts but shift the positions). Else the nft text stays.
      if (auto save = ns.saver.save(family, name); save && list() == text) {
        (void)use_iptables_text(it->second, *save);
      }
    }
    return &it->second;
  }

  // The exact tie by trace id (trace_id.h): 5.10's needs nothing, 6.1's and later's the key,
  // where kallsyms shows it. Loaded now, while privileged.
  void tie_exactly() {
    key_reader = TraceKeyReader::open();
    TraceIds::KeyReader read;
    if (key_reader) read = [r = key_reader.get()] { return r->read(); };
    tie.tie_exactly(TraceIds(std::move(read)));
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
  impl->tie_exactly();
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

std::vector<Error> TraceSession::remove_tables() {
  std::vector<Error> out;
  for (auto& ns : impl_->namespaces) {
    if (auto st = ns.owner.remove(); !st) out.push_back(st.error());
  }
  return out;
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
