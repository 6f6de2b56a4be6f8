// A transport: the command that reaches a host (ssh, kubectl exec...), run by /bin/sh in a
// process group of its own, its stdout (the remote pcapng) and stderr (its messages) piped to us.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "base/result.h"
#include "base/unique_fd.h"

namespace pwru {

class Transport {
 public:
  // Starts `command_line` with stdin from /dev/null. Both pipes are non-blocking.
  static Result<Transport> start(const std::string& command_line);

  Transport(Transport&& other) noexcept;
  Transport& operator=(Transport&&) = delete;
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;
  // stop(), if not done.
  ~Transport();

  int out_fd() const { return out_.get(); }
  int err_fd() const { return err_.get(); }
  void close_out() { out_.reset(); }
  void close_err() { err_.reset(); }

  // The exit status once the shell exited (without waiting), else nullopt: 0..255 for an exit,
  // 128+N for a signal, as the shell shows it.
  std::optional<int> poll_exit();
  // SIGTERM to the whole process group (the shell, ssh, kubectl and their children), then
  // SIGKILL if some are left after `grace_ms`; waits for the shell. The remote side stops as
  // its connection goes (docs/many-hosts.md). Returns the shell's status.
  int stop(int grace_ms = 2000);

 private:
  Transport(pid_t pid, UniqueFd out, UniqueFd err) : pid_(pid), out_(std::move(out)),
                                                     err_(std::move(err)) {}
  pid_t pid_ = -1;  // also the process group's id
  std::optional<int> status_;
  UniqueFd out_, err_;
};

}  // namespace pwru
