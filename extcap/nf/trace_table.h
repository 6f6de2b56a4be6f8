// The trace tables of one namespace, owned by the kernel's rules or by pwrudump's: on Linux 5.12
// and later the kernel deletes them with their socket; before (no NFT_TABLE_F_OWNER), pwrudump
// deletes them itself, a watcher process does when pwrudump dies, and the next start deletes
// what both missed (docs/netfilter.md).
#pragma once

#include <libmnl/libmnl.h>
#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"

namespace pwru::nf {

struct MnlClose {
  void operator()(mnl_socket* s) const { mnl_socket_close(s); }
};
using MnlSocket = std::unique_ptr<mnl_socket, MnlClose>;

// Deletes the tables `name` of families ip and ip6 through `socket`, which is in their namespace
// and may send nftables requests (CAP_NET_ADMIN). Tables already gone are no error. Callable from
// any process that holds such a socket. An error's hint gives the `nft delete table` commands.
Status delete_trace_table(mnl_socket* socket, const std::string& name);

// The `nft delete table` commands that delete `name`'s tables by hand, as one line.
std::string delete_table_commands(const std::string& name);

// Deletes the tables pwrudump_PID that no running pwrudump made: PID is gone, is no pwrudump, or
// is this process (which has made none yet). Only tables that are not owned: the kernel deletes
// owned ones itself. Errors are ignored: a table left over only costs a name and some CPU.
void delete_stale_trace_tables(mnl_socket* socket);

class TraceTable {
 public:
  // Tables the kernel deletes when `socket` closes (NFT_TABLE_F_OWNER).
  static TraceTable owned(MnlSocket socket);
  // Tables nobody else deletes: a watcher process is started that deletes them when this
  // process is gone without remove() (SIGKILL included), through its copy of `socket`.
  static TraceTable unowned(MnlSocket socket, const std::string& name);

  TraceTable() = default;
  TraceTable(TraceTable&& o) noexcept;
  TraceTable& operator=(TraceTable&& o) noexcept;
  ~TraceTable();

  // Deletes tables that are not owned, and stops the watcher; once. Owned ones: nothing to do.
  Status remove();

  bool owned() const { return name_.empty(); }
  // The socket: for owned tables, the one whose close deletes them (may be handed on).
  mnl_socket* socket() const { return socket_.get(); }

 private:
  MnlSocket socket_;
  std::string name_;  // empty: owned
  UniqueFd watch_;    // the watcher reads EOF from its end when this closes
  pid_t watcher_ = -1;
};

}  // namespace pwru::nf
