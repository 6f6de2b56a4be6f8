// Errors as values: what failed, why, and what the user should do about it.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace pwru {

// Process exit codes: each failure class has its own so scripts (and the tests) can tell them
// apart. A stop that was asked for (SIGINT, SIGTERM, the reader of the fifo or pipe leaving,
// -c reached) is Ok. The table is in the README, `pwrudump --help` and the man page: keep them
// in step (ExitCodeTable below is what --help prints).
enum class ExitCode : int {
  Ok = 0,
  Failure = 1,         // anything not listed below (a bug, an unexpected kernel answer)
  Usage = 2,           // bad command line: unknown option or backend, bad value
  BadFilter = 3,       // the pcap filter does not compile or cannot run in the kernel
  Permission = 4,      // not allowed to load BPF (or to enter a namespace)
  KernelFeature = 5,   // the kernel lacks what was asked for: a backend, a tracepoint...
  Output = 6,          // cannot write the output file, fifo or ready file
  BadFuncFilter = 7,   // --filter-func is not a regular expression, or matches nothing
  NotFound = 8,        // the namespace or interface named by --filter-netns/-ifname is not there
  NoBtf = 9,           // the kernel's BTF (or --kernel-btf FILE) is missing or unreadable
  Remote = 10,         // a remote host (--remote, pwru@HOST) could not be traced: each is named
};

// One line per code, for --help and the man page.
inline constexpr const char* kExitCodeTable =
    "Exit status:\n"
    "  0  traced until stopped: SIGINT, SIGTERM, the reader of the fifo or pipe left, -c reached\n"
    "  1  an unexpected failure (please report it)\n"
    "  2  bad command line: unknown option or backend, bad value\n"
    "  3  the pcap filter does not compile or cannot run in the kernel\n"
    "  4  no permission: run as root, or grant CAP_BPF and CAP_PERFMON\n"
    "  5  the kernel lacks what was asked for (backend, tracepoint, ring buffer)\n"
    "  6  cannot write the output (file, fifo, stdout, ready file)\n"
    "  7  --filter-func is not a regular expression or matches nothing\n"
    "  8  the namespace or interface named by --filter-netns or --filter-ifname does not exist\n"
    "  9  no usable kernel BTF (/sys/kernel/btf/vmlinux or --kernel-btf FILE)\n"
    "  10 a remote host (--remote, pwru@HOST) could not be traced; each one is named\n"
    "  killed by a signal (SIGKILL, a second SIGINT): the shell's 128+N; the kernel removes the\n"
    "  probes with the process, and the pcapng file is readable up to its last whole block";

struct Error {
  ExitCode code = ExitCode::Failure;
  std::string message;  // "cannot <verb> <object>: <cause>"
  std::string hint;     // the fix, may be empty

  std::string text() const { return hint.empty() ? message : message + "\nhint: " + hint; }
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}    // NOLINT(google-explicit-constructor)
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() { return std::get<0>(v_); }
  const T& value() const { return std::get<0>(v_); }
  T& operator*() { return value(); }
  T* operator->() { return &value(); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

// Result<void>
struct Ok {};
using Status = Result<Ok>;

}  // namespace pwru
