// Runs a transport with posix_spawn: a new session (its own process group, no terminal), default
// signal dispositions, and pipes for stdout and stderr.
#include "remote/transport.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

extern char** environ;

namespace pwru {
namespace {

int shell_status(int wstatus) {
  if (WIFEXITED(wstatus)) return WEXITSTATUS(wstatus);
  if (WIFSIGNALED(wstatus)) return 128 + WTERMSIG(wstatus);
  return 1;
}

// RAII for the spawn attributes and file actions.
struct SpawnSetup {
  posix_spawnattr_t attr;
  posix_spawn_file_actions_t actions;
  SpawnSetup() {
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_init(&actions);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;
};

}  // namespace

Result<Transport> Transport::start(const std::string& command_line) {
  int out[2], err[2];
  if (pipe2(out, O_CLOEXEC) != 0) {
    return Error{ExitCode::Failure, std::string("cannot make a pipe: ") + std::strerror(errno),
                 "raise the limit of open files"};
  }
  UniqueFd out_r(out[0]), out_w(out[1]);
  if (pipe2(err, O_CLOEXEC) != 0) {
    return Error{ExitCode::Failure, std::string("cannot make a pipe: ") + std::strerror(errno),
                 "raise the limit of open files"};
  }
  UniqueFd err_r(err[0]), err_w(err[1]);

  SpawnSetup s;
  // pwrudump ignores SIGPIPE and handles SIGINT/SIGTERM/SIGHUP: the transport gets the defaults.
  sigset_t defaults;
  sigemptyset(&defaults);
  for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGHUP}) sigaddset(&defaults, sig);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&s.attr, &defaults);
  posix_spawnattr_setsigmask(&s.attr, &none);
  posix_spawnattr_setflags(&s.attr,
                           POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  posix_spawn_file_actions_addopen(&s.actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&s.actions, out_w.get(), 1);
  posix_spawn_file_actions_adddup2(&s.actions, err_w.get(), 2);

  const char* argv[] = {"/bin/sh", "-c", command_line.c_str(), nullptr};
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, "/bin/sh", &s.actions, &s.attr,
                             const_cast<char* const*>(argv), environ);
  if (rc != 0) {
    return Error{ExitCode::Failure, std::string("cannot run /bin/sh: ") + std::strerror(rc),
                 "check that /bin/sh exists"};
  }
  for (int fd : {out_r.get(), err_r.get()}) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  return Transport(pid, std::move(out_r), std::move(err_r));
}

Transport::Transport(Transport&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)), status_(other.status_), out_(std::move(other.out_)),
      err_(std::move(other.err_)) {}

Transport::~Transport() {
  if (pid_ > 0) stop();
}

std::optional<int> Transport::poll_exit() {
  if (status_ || pid_ <= 0) return status_;
  int wstatus = 0;
  if (waitpid(pid_, &wstatus, WNOHANG) == pid_) status_ = shell_status(wstatus);
  return status_;
}

int Transport::stop(int grace_ms) {
  if (pid_ <= 0) return status_.value_or(1);
  // The group outlives its shell when the shell exec'd nothing or left children: signal it
  // whatever the shell's state, then reap the shell.
  kill(-pid_, SIGTERM);
  for (int waited = 0; waited < grace_ms; waited += 20) {
    poll_exit();
    // Done when no process of the group is left (kill 0 fails with ESRCH).
    if (status_ && kill(-pid_, 0) != 0) break;
    poll(nullptr, 0, 20);
  }
  if (kill(-pid_, 0) == 0) kill(-pid_, SIGKILL);
  if (!status_) {
    int wstatus = 0;
    if (waitpid(pid_, &wstatus, 0) == pid_) status_ = shell_status(wstatus);
  }
  pid_ = -1;
  out_.reset();
  err_.reset();
  return status_.value_or(1);
}

}  // namespace pwru
