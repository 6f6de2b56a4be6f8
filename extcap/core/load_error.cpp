// load_error: an errno from a BPF load turned into a message and a hint.
#include "core/load_error.h"

#include <cerrno>
#include <cstring>

#include "core/tracer.h"

namespace pwru {

Error load_error(const std::string& what, int err, const std::string& verifier_log) {
  err = err < 0 ? -err : err;
  std::string msg = "cannot load " + what + ": " + std::strerror(err);
  if (err == EPERM) {
    return Error{ExitCode::Permission, msg, kPermissionHint};
  }
  // EACCES from a program load is the verifier refusing it, not a missing privilege.
  if (err == EACCES) msg = "cannot load " + what + ": the kernel's verifier refused it";
  if (!verifier_log.empty()) msg += "\nverifier log (tail):\n" + verifier_log;
  return Error{ExitCode::KernelFeature, msg, "please report this with your kernel version"};
}

}  // namespace pwru
