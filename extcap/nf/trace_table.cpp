// TraceTable: deleting trace tables that are not owned, by pwrudump, by its watcher process, or
// at the next start (libnftnl builds the requests, libmnl carries them).
#include "nf/trace_table.h"

#include <fcntl.h>
#include <libnftnl/table.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <ctime>
#include <fstream>
#include <set>
#include <utility>

#include "nf/netlink.h"

namespace pwru::nf {
namespace {

constexpr uint32_t kTableOwner = 0x2;  // NFT_TABLE_F_OWNER (Linux 5.12)
constexpr const char* kPrefix = "pwrudump_";

struct TableFree {
  void operator()(nftnl_table* t) const { nftnl_table_free(t); }
};
using Table = std::unique_ptr<nftnl_table, TableFree>;

constexpr uint16_t kFamilies[] = {NFPROTO_IPV4, NFPROTO_IPV6};

// One batch deleting the table `name` of `family`; with an ack when the sender reads it. One
// batch per table: a batch is all or nothing, and one table may be gone already.
std::vector<char> delete_batch(const std::string& name, uint16_t family, bool ack) {
  std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
  mnl_nlmsg_batch* b = mnl_nlmsg_batch_start(buf.data(), buf.size());
  uint32_t seq = static_cast<uint32_t>(time(nullptr));
  nftnl_batch_begin(static_cast<char*>(mnl_nlmsg_batch_current(b)), seq++);
  mnl_nlmsg_batch_next(b);
  Table t(nftnl_table_alloc());
  nftnl_table_set_str(t.get(), NFTNL_TABLE_NAME, name.c_str());
  nlmsghdr* n = nftnl_table_nlmsg_build_hdr(static_cast<char*>(mnl_nlmsg_batch_current(b)),
                                            NFT_MSG_DELTABLE, family,
                                            static_cast<uint16_t>(ack ? NLM_F_ACK : 0), seq++);
  nftnl_table_nlmsg_build_payload(n, t.get());
  mnl_nlmsg_batch_next(b);
  nftnl_batch_end(static_cast<char*>(mnl_nlmsg_batch_current(b)), seq++);
  mnl_nlmsg_batch_next(b);
  buf.resize(mnl_nlmsg_batch_size(b));
  mnl_nlmsg_batch_stop(b);
  return buf;
}

// Whether process `pid` runs, and is a pwrudump: its table is in use. A zombie does not run:
// killed, it waits for a parent (a subreaper, say) to reap it.
bool running_pwrudump(pid_t pid) {
  if (pid == getpid()) return false;  // this process has made no table yet
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  // "PID (COMM) STATE ...": COMM may hold spaces and parentheses, the last ')' ends it.
  const size_t open = line.find('('), close = line.rfind(')');
  if (open == std::string::npos || close == std::string::npos || close + 2 >= line.size()) {
    return false;
  }
  const char state = line[close + 2];
  return line.compare(open + 1, close - open - 1, "pwrudump") == 0 && state != 'Z' && state != 'X';
}

// The names of the tables pwrudump_PID in the socket's namespace that are not owned.
std::set<std::string> unowned_pwrudump_tables(mnl_socket* s) {
  std::set<std::string> names;
  std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
  const uint32_t seq = static_cast<uint32_t>(time(nullptr));
  nlmsghdr* n = nftnl_table_nlmsg_build_hdr(buf.data(), NFT_MSG_GETTABLE, NFPROTO_UNSPEC,
                                            NLM_F_DUMP, seq);
  if (mnl_socket_sendto(s, n, n->nlmsg_len) < 0) return names;
  const auto collect = [](const nlmsghdr* msg, void* data) -> int {
    Table t(nftnl_table_alloc());
    if (!t || nftnl_table_nlmsg_parse(msg, t.get()) < 0) return MNL_CB_OK;
    const char* name = nftnl_table_get_str(t.get(), NFTNL_TABLE_NAME);
    const uint32_t flags = nftnl_table_is_set(t.get(), NFTNL_TABLE_FLAGS)
                               ? nftnl_table_get_u32(t.get(), NFTNL_TABLE_FLAGS)
                               : 0;
    if (name != nullptr && std::string_view(name).starts_with(kPrefix) && !(flags & kTableOwner)) {
      static_cast<std::set<std::string>*>(data)->insert(name);
    }
    return MNL_CB_OK;
  };
  const unsigned portid = mnl_socket_get_portid(s);
  for (;;) {
    const ssize_t len = mnl_socket_recvfrom(s, buf.data(), buf.size());
    if (len <= 0) break;
    if (mnl_cb_run(buf.data(), static_cast<size_t>(len), seq, portid, collect, &names) <= MNL_CB_STOP) {
      break;
    }
  }
  return names;
}

// The watcher: waits for EOF on `watch` (every copy of the other end closed: pwrudump is gone),
// then sends `batch` through `sock`. Runs in a child of a threaded process: only
// async-signal-safe calls.
[[noreturn]] void watch_then_delete(int watch, int sock, int null,
                                    const std::vector<std::vector<char>>& batches) {
  // Not stopped by the signals that stop pwrudump (a terminal's Ctrl-C reaches the group): its
  // work comes after them. Its stdio on /dev/null: it must not hold Wireshark's pipes open.
  struct sigaction ignore{};
  ignore.sa_handler = SIG_IGN;
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE}) sigaction(sig, &ignore, nullptr);
  dup2(null, 0);
  dup2(null, 1);
  dup2(null, 2);
  const unsigned lo = static_cast<unsigned>(std::min(watch, sock));
  const unsigned hi = static_cast<unsigned>(std::max(watch, sock));
  if (lo > 3) close_range(3, lo - 1, 0);
  if (hi > lo + 1) close_range(lo + 1, hi - 1, 0);
  close_range(hi + 1, ~0U, 0);
  // It needs CAP_NET_ADMIN alone (nftables requests), if it has that.
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct caps[_LINUX_CAPABILITY_U32S_3] = {};
  if (syscall(SYS_capget, &header, caps) == 0) {
    const uint32_t net_admin = caps[0].permitted & (1U << CAP_NET_ADMIN);
    caps[0] = {net_admin, net_admin, 0};
    caps[1] = {0, 0, 0};
    (void)syscall(SYS_capset, &header, caps);
  }
  char c;
  while (read(watch, &c, 1) != 0) {
    if (errno != EINTR) break;
  }
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  for (const auto& batch : batches) {
    (void)sendto(sock, batch.data(), batch.size(), 0, reinterpret_cast<sockaddr*>(&kernel),
                 sizeof kernel);
  }
  _exit(0);
}

}  // namespace

std::string delete_table_commands(const std::string& name) {
  return "nft delete table ip " + name + "; nft delete table ip6 " + name;
}

Status delete_trace_table(mnl_socket* socket, const std::string& name) {
  int err = 0;
  for (uint16_t family : kFamilies) {
    const std::vector<char> batch = delete_batch(name, family, true);
    int e = mnl_socket_sendto(socket, batch.data(), batch.size()) < 0 ? errno
                                                                       : read_acks(socket, 1);
    if (e != ENOENT && err == 0) err = e;  // gone already is fine
  }
  if (err == 0) return Ok{};
  return Error{ExitCode::Failure,
               "cannot delete the trace table " + name + ": " + std::strerror(err),
               "delete it by hand, in its network namespace: " + delete_table_commands(name)};
}

void delete_stale_trace_tables(mnl_socket* socket) {
  for (const std::string& name : unowned_pwrudump_tables(socket)) {
    int pid = 0;
    const char* digits = name.c_str() + std::strlen(kPrefix);
    const auto [end, ec] = std::from_chars(digits, name.c_str() + name.size(), pid);
    if (ec != std::errc() || *end != '\0' || pid <= 0) continue;  // not a name pwrudump gives
    if (!running_pwrudump(pid)) (void)delete_trace_table(socket, name);
  }
}

TraceTable TraceTable::owned(MnlSocket socket) {
  TraceTable t;
  t.socket_ = std::move(socket);
  return t;
}

TraceTable TraceTable::unowned(MnlSocket socket, const std::string& name) {
  TraceTable t;
  t.socket_ = std::move(socket);
  t.name_ = name;
  // Built now: the watcher may only make async-signal-safe calls.
  std::vector<std::vector<char>> batches;
  for (uint16_t family : kFamilies) batches.push_back(delete_batch(name, family, false));
  int fds[2];
  UniqueFd null(open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!null.valid() || pipe2(fds, O_CLOEXEC) != 0) return t;  // only the normal stop deletes
  UniqueFd watch(fds[0]), keep(fds[1]);
  const pid_t pid = fork();
  if (pid == 0) watch_then_delete(watch.get(), mnl_socket_get_fd(t.socket_.get()), null.get(), batches);
  if (pid < 0) return t;
  t.watch_ = std::move(keep);
  t.watcher_ = pid;
  return t;
}

TraceTable::TraceTable(TraceTable&& o) noexcept
    : socket_(std::move(o.socket_)),
      name_(std::exchange(o.name_, {})),
      watch_(std::move(o.watch_)),
      watcher_(std::exchange(o.watcher_, -1)) {}

TraceTable& TraceTable::operator=(TraceTable&& o) noexcept {
  if (this != &o) {
    (void)remove();
    socket_ = std::move(o.socket_);
    name_ = std::exchange(o.name_, {});
    watch_ = std::move(o.watch_);
    watcher_ = std::exchange(o.watcher_, -1);
  }
  return *this;
}

TraceTable::~TraceTable() { (void)remove(); }

Status TraceTable::remove() {
  Status st = Ok{};
  if (!name_.empty() && socket_) st = delete_trace_table(socket_.get(), name_);
  name_.clear();
  // The watcher wakes up, finds the tables gone, and exits.
  watch_ = UniqueFd();
  if (watcher_ > 0) {
    while (waitpid(watcher_, nullptr, 0) < 0 && errno == EINTR) {}
    watcher_ = -1;
  }
  return st;
}

}  // namespace pwru::nf
