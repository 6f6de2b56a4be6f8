// Errors as values: what failed, why, and what the user should do about it.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace pwru {

// Process exit codes: each failure class has its own so scripts can tell them apart.
enum class ExitCode : int {
  Ok = 0,
  Failure = 1,        // anything not listed below
  Usage = 2,          // bad command line
  BadFilter = 3,      // pcap filter or regex does not compile
  Permission = 4,     // not allowed to load BPF
  KernelFeature = 5,  // the kernel lacks BTF, a tracepoint, a backend...
  Output = 6,         // cannot write the output file or fifo
};

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
