// The namespace broker: a process forked before pwrudump gives up its capabilities, that enters
// network namespaces for it, hands back the sockets it makes there, and reads their rulesets.
#pragma once

#include <linux/filter.h>
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"

namespace pwru::nf {

// A namespace's part of --nf-trace, made in it by the broker: the socket that owns the trace
// tables (closing it makes the kernel delete them) and the trace listener.
struct NamespaceSockets {
  UniqueFd owner;
  UniqueFd listener;
  std::vector<std::string> notes;  // how its tables mark packets, when not by the filter
};

// The broker keeps CAP_SYS_ADMIN (setns), CAP_NET_ADMIN (nftables) and CAP_SYS_PTRACE (opening
// other processes' /proc/PID/ns/net), of those pwrudump had, and nothing else, with no_new_privs;
// iptables-nft-save runs from it with CAP_NET_ADMIN alone. It dies with pwrudump
// (PR_SET_PDEATHSIG, and the end of its socket), its stdin, stdout and stderr are /dev/null, and
// every answer it owes has a deadline: a broker that misses one is killed and no longer asked.
class Broker {
 public:
  // Forks the broker, which makes owned tables `table` marking packets by `mark` (see
  // create_trace_table) when open() asks; the diagnoses' broker is never asked to. Back once the
  // broker holds none of pwrudump's descriptors. Called on the thread that lives as long as the
  // capture: the kernel signals the broker when that thread ends.
  static Result<std::unique_ptr<Broker>> start(const std::string& table,
                                               const std::vector<sock_filter>& mark);
  ~Broker();
  Broker(const Broker&) = delete;
  Broker& operator=(const Broker&) = delete;

  // Adds the trace tables to namespace `inode` (found by `hint`, a path, else among processes
  // and bind mounts) and hands back its sockets; the broker keeps what it lists rules with.
  Result<NamespaceSockets> open(uint32_t inode, const std::string& hint);
  // The inodes of the namespaces that are alive (live_namespaces()).
  Result<std::set<uint32_t>> scan();
  // libnftables' answer to `command` (`list table ip filter`) in namespace `inode`, opened before.
  Result<std::string> list(uint32_t inode, const std::string& command);
  // iptables-nft-save's (ip6tables-nft-save's, family 10) output for `table` in namespace
  // `inode`; nullopt if it failed, or took more than a few seconds.
  std::optional<std::string> save(uint32_t inode, uint8_t family, const std::string& table);
  // Lets namespace `inode` go: the broker's descriptors pin it, as pwrudump's sockets do.
  // Tables it had to delete itself (Linux before 5.12) are deleted.
  void forget(uint32_t inode);
  // Deletes namespace `inode`'s tables where the kernel does not (Linux before 5.12, no owned
  // tables); owned ones go with pwrudump's socket. The error's hint has the nft commands.
  Status remove(uint32_t inode);

  // A NETLINK_ROUTE and a NETLINK_SOCK_DIAG socket made in namespace `inode` (found as open()
  // finds it), for pwrudump's diagnoses: they answer about that namespace wherever they are used.
  // Waits at most `timeout_ms`. Fails with ExitCode::Permission when the broker may not enter it.
  Result<std::pair<UniqueFd, UniqueFd>> netlink(uint32_t inode, const std::string& hint,
                                                int timeout_ms);
  // The value of sysctl `name` ("net/netfilter/nf_conntrack_tcp_loose", read under /proc/sys)
  // in namespace `inode`, without its newline; nullopt if unreadable or later than `timeout_ms`.
  std::optional<std::string> sysctl(uint32_t inode, const std::string& hint,
                                    const std::string& name, int timeout_ms);

  bool alive() const { return sock_.valid(); }
  pid_t pid() const { return pid_; }

  struct Frame;

 private:
  Broker(UniqueFd sock, pid_t pid) : sock_(std::move(sock)), pid_(pid) {}
  // One request and its answer; an Error when the broker failed it, or is gone.
  Result<std::string> ask(uint32_t op, uint32_t inode, uint32_t arg, const std::string& payload,
                          int timeout_ms, std::vector<UniqueFd>* fds = nullptr);
  void stop();

  UniqueFd sock_;
  pid_t pid_ = -1;
};

}  // namespace pwru::nf
