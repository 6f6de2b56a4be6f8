// Broker: the main side asks over a socketpair; the forked side serves, one request at a time.
#include "nf/broker.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <linux/securebits.h>
#include <nftables/libnftables.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <functional>
#include <map>
#include <span>

#include "base/clock.h"
#include "nf/netlink.h"
#include "nf/netns_set.h"

namespace pwru::nf {

// The header of every request and answer; `len` bytes of payload follow. Answers carry the
// request's op, and in `arg` 0 or the ExitCode of the error whose message and hint (joined by a
// NUL) are the payload.
struct Broker::Frame {
  uint32_t op = 0;
  uint32_t inode = 0;
  uint32_t arg = 0;
  uint32_t len = 0;
};

namespace {

enum Op : uint32_t { kOpen = 1, kScan, kList, kSave, kForget, kRemove, kNetlink, kSysctl };

// Deadlines. A save runs a program: 5 s for it, and the broker's answer a little later.
constexpr int kSaveMs = 5000;
constexpr int kAnswerMs = 8000;
constexpr size_t kMaxPayload = size_t{64} << 20;
constexpr int kMaxFds = 2;

using Frame = Broker::Frame;

struct NftFree {
  void operator()(nft_ctx* c) const { nft_ctx_free(c); }
};
using NftCtx = std::unique_ptr<nft_ctx, NftFree>;

uint64_t bit(int cap) { return uint64_t{1} << cap; }

// Waits until `fd` is readable or `deadline` (CLOCK_MONOTONIC ns, 0: none) passes.
bool wait_readable(int fd, uint64_t deadline) {
  for (;;) {
    int ms = -1;
    if (deadline != 0) {
      const uint64_t now = clock_ns(CLOCK_MONOTONIC);
      if (now >= deadline) return false;
      ms = static_cast<int>((deadline - now + 999'999) / 1'000'000);
    }
    pollfd p{fd, POLLIN, 0};
    const int n = poll(&p, 1, ms);
    if (n > 0) return true;
    if (n < 0 && errno != EINTR) return false;
  }
}

bool write_all(int fd, const char* p, size_t n) {
  while (n > 0) {
    const ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

bool read_all(int fd, char* p, size_t n, uint64_t deadline) {
  while (n > 0) {
    if (!wait_readable(fd, deadline)) return false;
    const ssize_t r = recv(fd, p, n, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

// The header goes with the descriptors in one sendmsg, the payload after it.
bool send_frame(int fd, const Frame& f, std::string_view payload, std::span<const int> fds) {
  iovec iov{const_cast<Frame*>(&f), sizeof f};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)] = {};
  if (!fds.empty()) {
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
  }
  ssize_t w;
  do {
    w = sendmsg(fd, &msg, MSG_NOSIGNAL);
  } while (w < 0 && errno == EINTR);
  if (w < 0) return false;
  const auto* head = reinterpret_cast<const char*>(&f);
  return write_all(fd, head + w, sizeof f - static_cast<size_t>(w)) &&
         write_all(fd, payload.data(), payload.size());
}

// False when the peer is gone, broke the protocol, or missed `deadline` (0: none). `cut`: the
// frame was read whole, but descriptors it carried were lost (no free descriptor here).
bool recv_frame(int fd, uint64_t deadline, Frame& f, std::string& payload,
                std::vector<UniqueFd>& fds, bool* cut = nullptr) {
  if (!wait_readable(fd, deadline)) return false;
  iovec iov{&f, sizeof f};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)] = {};
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t r;
  do {
    r = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
  } while (r < 0 && errno == EINTR);
  if (r <= 0) return false;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    const size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < n; ++i) {
      int one;
      std::memcpy(&one, CMSG_DATA(c) + i * sizeof(int), sizeof one);
      fds.emplace_back(one);
    }
  }
  if ((msg.msg_flags & MSG_CTRUNC) != 0) {
    if (cut == nullptr) return false;
    *cut = true;
  }
  auto* head = reinterpret_cast<char*>(&f);
  if (!read_all(fd, head + r, sizeof f - static_cast<size_t>(r), deadline)) return false;
  if (f.len > kMaxPayload) return false;
  payload.resize(f.len);
  return read_all(fd, payload.data(), payload.size(), deadline);
}

// ---- The broker's side ----

// Keeps `keep` of the permitted capabilities, CAP_NET_ADMIN inheritable too (for the ambient set
// of iptables-nft-save), and makes sure nothing executed gets more: as root, the bounding set and
// SECBIT_NOROOT (else execve would give root every capability back), then no_new_privs.
bool restrict_capabilities() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  if (syscall(SYS_capget, &header, data) != 0) return false;
  const uint64_t permitted = data[0].permitted | uint64_t{data[1].permitted} << 32;
  const uint64_t effective = data[0].effective | uint64_t{data[1].effective} << 32;
  const uint64_t keep =
      permitted & (bit(CAP_SYS_ADMIN) | bit(CAP_NET_ADMIN) | bit(CAP_SYS_PTRACE));
  if (effective & bit(CAP_SETPCAP)) {
    for (int cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; ++cap) {
      if ((keep & bit(cap)) == 0 && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) return false;
    }
    if (prctl(PR_SET_SECUREBITS, SECBIT_NOROOT | SECBIT_NOROOT_LOCKED, 0, 0, 0) != 0) return false;
  }
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) {
    return false;
  }
  for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; ++i) {
    data[i].effective = data[i].permitted = static_cast<uint32_t>(keep >> (32 * i));
    data[i].inheritable = static_cast<uint32_t>((keep & bit(CAP_NET_ADMIN)) >> (32 * i));
  }
  if (syscall(SYS_capset, &header, data) != 0) return false;
  return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0;
}

std::string error_payload(const Error& e) { return e.message + '\0' + e.hint; }

class Server {
 public:
  Server(UniqueFd sock, const std::string& table, const std::vector<sock_filter>& mark)
      : sock_(std::move(sock)), table_(table), mark_(mark) {}

  [[noreturn]] void run() {
    origin_.reset(open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
    origin_inode_ = current_netns_inode();
    for (;;) {
      Frame f;
      std::string payload;
      std::vector<UniqueFd> ignored;
      if (!recv_frame(sock_.get(), 0, f, payload, ignored)) _exit(0);  // pwrudump is done
      Frame answer{f.op, f.inode, 0, 0};
      std::vector<UniqueFd> fds;
      Result<std::string> out = serve(f, payload, fds);
      std::string body;
      if (out) {
        body = std::move(*out);
      } else {
        answer.arg = static_cast<uint32_t>(out.error().code);
        body = error_payload(out.error());
      }
      answer.len = static_cast<uint32_t>(body.size());
      std::vector<int> raw;
      for (const auto& fd : fds) raw.push_back(fd.get());
      if (!send_frame(sock_.get(), answer, body, raw)) _exit(0);
    }
  }

 private:
  struct Entered {
    UniqueFd ns;
    std::string where;
    NftCtx nft;  // its socket was opened in the namespace
    // Tables the kernel does not delete (Linux before 5.12), and their watcher: kept here, with
    // the privilege to delete them. Owned tables' sockets go to pwrudump.
    TraceTable table;
  };

  Result<std::string> serve(const Frame& f, const std::string& payload,
                            std::vector<UniqueFd>& fds) {
    switch (f.op) {
      case kOpen: return open_ns(f.inode, payload, fds);
      case kScan: {
        std::string out;
        for (const auto& entry : live_namespaces()) {
          out.append(reinterpret_cast<const char*>(&entry.first), sizeof entry.first);
        }
        return out;
      }
      case kList: return list(f.inode, payload);
      case kSave: return save(f.inode, static_cast<uint8_t>(f.arg), payload);
      case kForget: entered_.erase(f.inode); return std::string();
      case kRemove: {
        auto it = entered_.find(f.inode);
        if (it == entered_.end()) return std::string();
        if (auto st = it->second.table.remove(); !st) return st.error();
        return std::string();
      }
      case kNetlink: return netlink(f.inode, payload, fds);
      case kSysctl: return sysctl(f.inode, payload);
      default: return Error{ExitCode::Failure, "cannot serve request " + std::to_string(f.op), ""};
    }
  }

  // Runs `fn` in namespace `ns`, named `where` in messages; the broker returns to its own at
  // once, or dies: nothing else would be right.
  Result<std::string> in_netns(int ns, const std::string& where,
                               const std::function<Result<std::string>()>& fn,
                               const char* hint = "--nf-trace in other namespaces needs root or "
                                                  "CAP_SYS_ADMIN") {
    if (setns(ns, CLONE_NEWNET) != 0) {
      const int err = errno;
      return Error{ExitCode::Permission, "cannot enter " + where + ": " + std::strerror(err), hint};
    }
    auto out = fn();
    if (setns(origin_.get(), CLONE_NEWNET) != 0) _exit(1);
    return out;
  }

  Result<std::string> open_ns(uint32_t inode, const std::string& hint,
                              std::vector<UniqueFd>& fds) {
    Entered e;
    e.where = inode == origin_inode_ ? "pwrudump's network namespace"
              : hint.empty()         ? "network namespace inode:" + std::to_string(inode)
                                     : hint;
    e.ns = inode == origin_inode_ ? UniqueFd(fcntl(origin_.get(), F_DUPFD_CLOEXEC, 0))
                                  : open_netns(inode, hint);
    if (!e.ns.valid()) {
      return Error{ExitCode::NotFound,
                   "cannot find " + e.where + ": no process or bind mount holds it any more",
                   "pass --filter-netns a namespace that exists"};
    }
    std::vector<std::string> notes;
    auto made = in_netns(e.ns.get(), e.where, [&]() -> Result<std::string> {
      auto owner = create_trace_table(table_, e.where, mark_);
      if (!owner && !mark_.empty() && owner.error().code != ExitCode::Permission) {
        notes.push_back(owner.error().message + " with the capture filter's xt_bpf match: "
                        "every packet is traced");
        owner = create_trace_table(table_, e.where, {});
      }
      if (!owner) return owner.error();
      auto listener = open_trace_socket();
      if (!listener) return listener.error();
      e.nft.reset(nft_ctx_new(NFT_CTX_DEFAULT));
      if (!e.nft || nft_ctx_buffer_output(e.nft.get()) != 0 ||
          nft_ctx_buffer_error(e.nft.get()) != 0) {
        return Error{ExitCode::Failure, "cannot start libnftables in " + e.where,
                     "check the free memory"};
      }
      nft_ctx_output_set_flags(e.nft.get(), NFT_CTX_OUTPUT_HANDLE | NFT_CTX_OUTPUT_STATELESS);
      // The broker's copies close when these go: then pwrudump's alone own the tables.
      fds.emplace_back(fcntl(mnl_socket_get_fd(owner->socket()), F_DUPFD_CLOEXEC, 0));
      fds.emplace_back(fcntl(mnl_socket_get_fd(listener->get()), F_DUPFD_CLOEXEC, 0));
      if (!fds[0].valid() || !fds[1].valid()) {
        return Error{ExitCode::Failure, "cannot hand over the sockets of " + e.where,
                     "check the limit of open files (ulimit -n)"};
      }
      if (!owner->owned()) e.table = std::move(*owner);
      return std::string();
    });
    if (!made) {
      fds.clear();
      return made;
    }
    std::string out;
    for (const auto& n : notes) out += n + '\n';
    entered_.insert_or_assign(inode, std::move(e));
    return out;
  }

  // Runs `fn` in namespace `inode` (found by `hint`) for the diagnoses; in the broker's own
  // without setns, which needs no privilege.
  Result<std::string> for_diagnosis(uint32_t inode, const std::string& hint,
                                    const std::function<Result<std::string>()>& fn) {
    if (inode == origin_inode_) return fn();
    const std::string where =
        hint.empty() ? "network namespace inode:" + std::to_string(inode) : hint;
    UniqueFd ns = open_netns(inode, hint);
    if (!ns.valid()) {
      return Error{ExitCode::NotFound, "cannot find " + where + ": it is gone", ""};
    }
    return in_netns(ns.get(), where, fn,
                    "run pwrudump as root, or grant it CAP_SYS_ADMIN (and CAP_SYS_PTRACE)");
  }

  Result<std::string> netlink(uint32_t inode, const std::string& hint,
                              std::vector<UniqueFd>& fds) {
    auto made = for_diagnosis(inode, hint, [&]() -> Result<std::string> {
      for (int proto : {NETLINK_ROUTE, NETLINK_SOCK_DIAG}) {
        fds.emplace_back(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, proto));
        if (!fds.back().valid()) {
          const int err = errno;
          return Error{ExitCode::Failure,
                       std::string("cannot open a netlink socket: ") + std::strerror(err),
                       "check the limit of open files (ulimit -n)"};
        }
      }
      return std::string();
    });
    if (!made) fds.clear();
    return made;
  }

  // /proc/sys shows the sysctls of the namespace of whoever looks them up.
  Result<std::string> sysctl(uint32_t inode, const std::string& request) {
    const size_t nul = request.find('\0');
    const std::string name = request.substr(0, nul);
    const std::string hint = nul == std::string::npos ? "" : request.substr(nul + 1);
    const Error unreadable{ExitCode::Failure, "cannot read sysctl " + name, ""};
    if (name.rfind("net/", 0) != 0 || name.find("..") != std::string::npos) return unreadable;
    return for_diagnosis(inode, hint, [&]() -> Result<std::string> {
      UniqueFd fd(::open(("/proc/sys/" + name).c_str(), O_RDONLY | O_CLOEXEC));
      char buf[256];
      const ssize_t n = fd.valid() ? read(fd.get(), buf, sizeof buf) : -1;
      if (n < 0) return unreadable;
      std::string out(buf, static_cast<size_t>(n));
      while (!out.empty() && out.back() == '\n') out.pop_back();
      return out;
    });
  }

  Result<std::string> list(uint32_t inode, const std::string& command) {
    auto it = entered_.find(inode);
    if (it == entered_.end()) {
      return Error{ExitCode::Failure, "cannot list inode:" + std::to_string(inode), ""};
    }
    nft_ctx* nft = it->second.nft.get();
    // In the namespace: nft names interfaces by index there.
    return in_netns(it->second.ns.get(), it->second.where, [&]() -> Result<std::string> {
      const int rc = nft_run_cmd_from_buffer(nft, command.c_str());
      const char* out = nft_ctx_get_output_buffer(nft);
      const char* err = nft_ctx_get_error_buffer(nft);
      if (rc != 0 || out == nullptr) {
        return Error{ExitCode::Failure,
                     "cannot " + command + ": " + std::string(err ? err : "libnftables failed"), ""};
      }
      return std::string(out);
    });
  }

  // iptables-nft-save in the namespace, with CAP_NET_ADMIN alone (ambient), a clean
  // environment, nothing of ours but its stdout pipe, killed after kSaveMs.
  Result<std::string> save(uint32_t inode, uint8_t family, const std::string& table) {
    const Error failed{ExitCode::Failure, "cannot save " + table, ""};
    auto it = entered_.find(inode);
    if (it == entered_.end()) return failed;
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) return failed;
    UniqueFd rd(p[0]), wr(p[1]);
    UniqueFd null(open("/dev/null", O_RDWR | O_CLOEXEC));
    const char* prog = family == 10 ? "ip6tables-nft-save" : "iptables-nft-save";
    const char* argv[] = {prog, "-t", table.c_str(), nullptr};
    const char* envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", nullptr};
    const pid_t pid = fork();
    if (pid < 0) return failed;
    if (pid == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (setns(it->second.ns.get(), CLONE_NEWNET) != 0 || !null.valid() ||
          dup2(null.get(), 0) < 0 || dup2(wr.get(), 1) < 0 || dup2(null.get(), 2) < 0) {
        _exit(127);
      }
      (void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_ADMIN, 0, 0);
      syscall(SYS_close_range, 3U, ~0U, 0U);
      execvpe(prog, const_cast<char* const*>(argv), const_cast<char* const*>(envp));
      _exit(127);
    }
    wr.reset();
    std::string out;
    const uint64_t deadline = clock_ns(CLOCK_MONOTONIC) + uint64_t{kSaveMs} * 1'000'000;
    bool done = false;
    char buf[16384];
    while (wait_readable(rd.get(), deadline)) {
      const ssize_t n = read(rd.get(), buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0 || out.size() > kMaxPayload) {
        done = n == 0;
        break;
      }
      out.append(buf, static_cast<size_t>(n));
    }
    if (!done) kill(pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    if (!done || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return failed;
    return out;
  }

  UniqueFd sock_;
  const std::string table_;
  const std::vector<sock_filter> mark_;
  UniqueFd origin_;
  uint32_t origin_inode_ = 0;
  std::map<uint32_t, Entered> entered_;
};

}  // namespace

Result<std::unique_ptr<Broker>> Broker::start(const std::string& table,
                                              const std::vector<sock_filter>& mark) {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    const int err = errno;
    return Error{ExitCode::Failure, std::string("cannot start the namespace broker: ") +
                                        std::strerror(err),
                 "check the limit of open files (ulimit -n)"};
  }
  UniqueFd ours(fds[0]), theirs(fds[1]);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) {
    const int err = errno;
    return Error{ExitCode::Failure,
                 std::string("cannot start the namespace broker: ") + std::strerror(err),
                 "check the process limit (ulimit -u)"};
  }
  if (pid == 0) {
    // The broker: it must never outlive pwrudump, never write where pwrudump writes, and never
    // run pwrudump's exit handlers (_exit only). pwrudump may have a thread already (a pcapng
    // file's writer): glibc's fork leaves malloc usable here, and no other lock of it is taken.
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) _exit(0);
    signal(SIGINT, SIG_IGN);  // a terminal's Ctrl-C: pwrudump stops, and then the broker
    signal(SIGHUP, SIG_IGN);
    signal(SIGTERM, SIG_DFL);
    signal(SIGPIPE, SIG_IGN);
    const int null = ::open("/dev/null", O_RDWR);
    if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0 ||
        dup2(theirs.get(), 3) != 3) {
      _exit(1);
    }
    syscall(SYS_close_range, 4U, ~0U, 0U);
    // pwrudump waits for this: until then the broker holds copies of its descriptors, and a
    // pipe's reader leaving would go unnoticed.
    const char started = 1;
    if (!write_all(3, &started, 1)) _exit(1);
    if (!restrict_capabilities()) _exit(1);
    try {
      Server(UniqueFd(3), table, mark).run();
    } catch (...) {
    }
    _exit(1);
  }
  auto broker = std::unique_ptr<Broker>(new Broker(std::move(ours), pid));
  char started = 0;
  const uint64_t deadline = clock_ns(CLOCK_MONOTONIC) + uint64_t{kAnswerMs} * 1'000'000;
  if (!read_all(broker->sock_.get(), &started, 1, deadline)) {
    return Error{ExitCode::Failure, "cannot start the namespace broker: it did not start",
                 "report it if it repeats"};  // the destructor reaps it
  }
  return broker;
}

Broker::~Broker() { stop(); }

// The broker reads the end of its socket as its end; one that does not go is killed.
void Broker::stop() {
  sock_.reset();
  if (pid_ <= 0) return;
  for (int i = 0; i < 100; ++i) {
    const pid_t r = waitpid(pid_, nullptr, WNOHANG);
    if (r == pid_ || (r < 0 && errno != EINTR)) {
      pid_ = -1;
      return;
    }
    timespec ts{0, 10'000'000};
    nanosleep(&ts, nullptr);
  }
  kill(pid_, SIGKILL);
  while (waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {}
  pid_ = -1;
}

Result<std::string> Broker::ask(uint32_t op, uint32_t inode, uint32_t arg,
                                const std::string& payload, int timeout_ms,
                                std::vector<UniqueFd>* fds) {
  const Error gone{ExitCode::Failure, "cannot reach the namespace broker: it is gone",
                   "report it if it repeats"};
  if (!sock_.valid()) return gone;
  Frame f{op, inode, arg, static_cast<uint32_t>(payload.size())};
  Frame answer;
  std::string body;
  std::vector<UniqueFd> got;
  bool cut = false;
  const uint64_t deadline = clock_ns(CLOCK_MONOTONIC) + uint64_t(timeout_ms) * 1'000'000;
  if (!send_frame(sock_.get(), f, payload, {}) ||
      !recv_frame(sock_.get(), deadline, answer, body, got, &cut) || answer.op != op) {
    // Out of step or gone: a late answer would be taken for the next question's.
    stop();
    return Error{ExitCode::Failure, "cannot reach the namespace broker: it did not answer",
                 "report it if it repeats"};
  }
  if (answer.arg != 0) {
    const size_t nul = body.find('\0');
    return Error{static_cast<ExitCode>(answer.arg), body.substr(0, nul),
                 nul == std::string::npos ? "" : body.substr(nul + 1)};
  }
  if (cut) {
    return Error{ExitCode::Failure,
                 "cannot receive the sockets of network namespace inode:" + std::to_string(inode) +
                     ": no free file descriptor",
                 "raise the limit of open files (ulimit -n)"};
  }
  if (fds != nullptr) *fds = std::move(got);
  return body;
}

Result<NamespaceSockets> Broker::open(uint32_t inode, const std::string& hint) {
  std::vector<UniqueFd> fds;
  auto notes = ask(kOpen, inode, 0, hint, kAnswerMs, &fds);
  if (!notes) return notes.error();
  if (fds.size() != 2) {
    return Error{ExitCode::Failure, "cannot receive the sockets of network namespace inode:" +
                                        std::to_string(inode),
                 "check the limit of open files (ulimit -n)"};
  }
  NamespaceSockets out{std::move(fds[0]), std::move(fds[1]), {}};
  for (size_t pos = 0, nl; (nl = notes->find('\n', pos)) != std::string::npos; pos = nl + 1) {
    out.notes.push_back(notes->substr(pos, nl - pos));
  }
  return out;
}

Result<std::set<uint32_t>> Broker::scan() {
  auto body = ask(kScan, 0, 0, "", kAnswerMs);
  if (!body) return body.error();
  std::set<uint32_t> out;
  for (size_t i = 0; i + sizeof(uint32_t) <= body->size(); i += sizeof(uint32_t)) {
    uint32_t inode;
    std::memcpy(&inode, body->data() + i, sizeof inode);
    out.insert(inode);
  }
  return out;
}

Result<std::string> Broker::list(uint32_t inode, const std::string& command) {
  return ask(kList, inode, 0, command, kAnswerMs);
}

std::optional<std::string> Broker::save(uint32_t inode, uint8_t family, const std::string& table) {
  auto out = ask(kSave, inode, family, table, kAnswerMs);
  if (!out) return std::nullopt;
  return std::move(*out);
}

Result<std::pair<UniqueFd, UniqueFd>> Broker::netlink(uint32_t inode, const std::string& hint,
                                                      int timeout_ms) {
  std::vector<UniqueFd> fds;
  auto out = ask(kNetlink, inode, 0, hint, timeout_ms, &fds);
  if (!out) return out.error();
  if (fds.size() != 2) {
    return Error{ExitCode::Failure, "cannot receive the netlink sockets of network namespace "
                                    "inode:" + std::to_string(inode),
                 "check the limit of open files (ulimit -n)"};
  }
  return std::make_pair(std::move(fds[0]), std::move(fds[1]));
}

std::optional<std::string> Broker::sysctl(uint32_t inode, const std::string& hint,
                                          const std::string& name, int timeout_ms) {
  auto out = ask(kSysctl, inode, 0, name + '\0' + hint, timeout_ms);
  if (!out) return std::nullopt;
  return std::move(*out);
}

void Broker::forget(uint32_t inode) { (void)ask(kForget, inode, 0, "", kAnswerMs); }

Status Broker::remove(uint32_t inode) {
  auto out = ask(kRemove, inode, 0, "", kAnswerMs);
  if (!out) return out.error();
  return Ok{};
}

}  // namespace pwru::nf
