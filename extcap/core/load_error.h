// The error for a BPF object, program, map or link the kernel refused, with what to do about it.
#pragma once

#include <string>

#include "base/result.h"

namespace pwru {

// "cannot load <what>: <errno text>" with the fix: privileges for EPERM/EACCES.
Error load_error(const std::string& what, int err, const std::string& verifier_log = {});

}  // namespace pwru
