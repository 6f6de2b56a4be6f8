// drop_capabilities: the raw capget/capset and prctl calls (libcap is not a dependency).
#include "cli/capabilities.h"

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

namespace pwru {
namespace {

// CAP_BPF came with Linux 5.8 (pwrudump's minimum); older headers may lack the name.
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

uint64_t bit(int cap) { return uint64_t{1} << cap; }

Error cap_error(const char* what, int err) {
  return Error{ExitCode::Failure,
               std::string("cannot give up capabilities (") + what + "): " + std::strerror(err),
               "this is unexpected: please report it with `uname -r` and `getcap` of pwrudump"};
}

// The calling thread's sets become `effective` and `permitted`, with nothing inheritable.
// Lowering either, or raising effective within permitted, never needs a privilege.
bool set_capabilities(uint64_t effective, uint64_t permitted) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; ++i) {
    data[i].effective = static_cast<uint32_t>(effective >> (32 * i));
    data[i].permitted = static_cast<uint32_t>(permitted >> (32 * i));
  }
  return syscall(SYS_capset, &header, data) == 0;
}

}  // namespace

Status drop_capabilities(const std::function<bool()>& maps_readable) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  if (syscall(SYS_capget, &header, data) != 0) return cap_error("capget", errno);
  const uint64_t effective = data[0].effective | uint64_t{data[1].effective} << 32;
  const uint64_t permitted = data[0].permitted | uint64_t{data[1].permitted} << 32;

  // What bpf() checks (bpf_capable): CAP_BPF, or CAP_SYS_ADMIN where that is what we hold.
  uint64_t bpf = 0;
  if (permitted & bit(CAP_BPF)) {
    bpf = bit(CAP_BPF);
  } else if (permitted & bit(CAP_SYS_ADMIN)) {
    bpf = bit(CAP_SYS_ADMIN);
  }

  // The bounding set first: dropping from it needs CAP_SETPCAP, which goes next.
  if (effective & bit(CAP_SETPCAP)) {
    for (int cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; ++cap) {
      if ((bpf & bit(cap)) == 0 && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) {
        return cap_error("bounding set", errno);
      }
    }
  }
  // EINVAL: a kernel without ambient capabilities (before 4.3) has none to clear.
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) {
    return cap_error("ambient set", errno);
  }
  // The ring buffer is read through its mapping, detaching only closes descriptors, and
  // kallsyms, BTF and ftrace's function list were read before attaching: only the map reads may
  // need a capability, and only on older kernels. Ask them without it.
  if (!set_capabilities(0, bpf)) return cap_error("capset", errno);
  const bool keep = bpf != 0 && !maps_readable();
  const uint64_t kept = keep ? bpf : 0;
  if (!set_capabilities(kept, kept)) return cap_error("capset", errno);
  // Nothing we could execute may give any back (pwrudump executes nothing; this makes it sure).
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return cap_error("no_new_privs", errno);
  return Ok{};
}

}  // namespace pwru
