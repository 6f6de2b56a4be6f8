// Diagnoses of drops (--diagnose): for a drop whose reason the system can explain now (no
// listener, no route, rp_filter, forwarding off, MTU, neighbour, conntrack), asks the kernel of
// the drop's network namespace and puts the finding in words, recorded with the drop.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "diag/system_view.h"
#include "record/event.h"

namespace pwru::diag {

// What a diagnosis needs from outside: the namespace broker, which makes sockets in a namespace
// and reads its sysctls, and the names `ip netns` gives namespaces.
struct NamespaceAccess {
  // A NETLINK_ROUTE and a NETLINK_SOCK_DIAG socket of namespace `inode`. An error with
  // ExitCode::Permission: no namespace but pwrudump's own can be diagnosed.
  std::function<Result<std::pair<UniqueFd, UniqueFd>>(uint32_t inode)> netlink;
  // Sysctl `name` ("net/netfilter/nf_conntrack_tcp_loose") of namespace `inode`.
  std::function<std::optional<std::string>(uint32_t inode, const std::string& name)> sysctl;
  // "demo-b"; empty: it has none.
  std::function<std::string(uint32_t inode)> name;
};

// The diagnosis an event asks for (enum pwru_diag_kind), if any: by its drop reason, and for
// forwarding by where it was dropped. Says nothing of whether the system confirms it.
std::optional<uint8_t> diagnosis_kind(const Event& ev);

class Diagnoser {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;

  explicit Diagnoser(NamespaceAccess access, Clock clock = std::chrono::steady_clock::now);

  // The finding for drop `ev`; nullopt when it asks for none, or the system could not confirm
  // it in time. A finding made for the same namespace, kind and packet headers less than a
  // second ago is given again without asking; fresh findings are at most kPerSecond a second.
  std::optional<Diagnosis> diagnose(const Event& ev);

  // Said once each, maybe with a "\nhint: " line: namespaces that could not be entered (no
  // privilege). Taken, then empty.
  std::vector<std::string> take_notes() { return std::exchange(notes_, {}); }

  static constexpr int kPerSecond = 50;
  static constexpr int kQueryMs = 200;  // each netlink question's deadline

 private:
  struct Namespace {
    std::unique_ptr<SystemView> view;        // null: could not be opened
    std::chrono::steady_clock::time_point retry{};
  };
  struct Cached {
    std::optional<Diagnosis> finding;
    std::chrono::steady_clock::time_point at;
  };

  SystemView* view(uint32_t inode);
  std::optional<Diagnosis> examine(uint8_t kind, const Event& ev, SystemView& view);
  std::optional<Diagnosis> conntrack(const Event& ev);
  std::string netns_label(uint32_t inode);

  NamespaceAccess access_;
  Clock clock_;
  std::map<uint32_t, Namespace> namespaces_;
  std::map<std::string, Cached> cache_;
  std::chrono::steady_clock::time_point window_{};
  int fresh_in_window_ = 0;
  bool denied_noted_ = false;
  std::vector<std::string> notes_;
};

}  // namespace pwru::diag
