// find_skb_functions: BTF's skb functions intersected with what ftrace (or kallsyms) offers.
#include "core/functions.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <unordered_set>

namespace pwru {
namespace {

// ftrace's list of functions that kprobe-multi and fentry can attach to (and kprobes do best on).
const char* const kFilterFunctionPaths[] = {
    "/sys/kernel/tracing/available_filter_functions",
    "/sys/kernel/debug/tracing/available_filter_functions",
};

// Lines are "name" or "name [module]". Keeps the names of `wanted` that the file lists: the
// file has tens of thousands of lines, the wanted set a few thousand, so only those are stored.
bool read_filter_functions(const char* path, const std::unordered_set<std::string>& wanted,
                           std::unordered_set<std::string>& out, int& err) {
  std::ifstream in(path);
  if (!in) {
    err = errno;
    return false;
  }
  std::string line, name;
  size_t lines = 0;
  while (std::getline(in, line)) {
    ++lines;
    name.assign(line, 0, line.find_first_of(" \t"));
    if (wanted.count(name)) out.insert(name);
  }
  if (in.bad() || lines == 0) {
    err = in.bad() ? EIO : ENODATA;
    return false;
  }
  return true;
}

}  // namespace

Result<FuncFilter> FuncFilter::compile(const std::string& pattern) {
  FuncFilter f;
  f.pattern_ = pattern;
  if (pattern.empty()) return f;
  try {
    f.re_.emplace(pattern, std::regex::ECMAScript | std::regex::optimize);
  } catch (const std::regex_error& e) {
    return Error{ExitCode::BadFuncFilter,
                 "cannot compile --filter-func \"" + pattern + "\": " + e.what(),
                 "pass a regular expression that matches whole function names, e.g. 'ip_rcv.*'"};
  }
  return f;
}

Result<FunctionSet> find_skb_functions(const KernelBtf& btf, const Kallsyms* ksyms,
                                       const FuncFilter& filter) {
  FunctionSet set;

  // The candidates first: BTF's skb functions that --filter-func keeps.
  std::vector<SkbFunction> candidates;
  std::unordered_set<std::string> wanted;
  for (auto& fn : btf.skb_functions()) {
    if (!filter.matches(fn.name)) continue;
    wanted.insert(fn.name);
    candidates.push_back(std::move(fn));
  }

  std::unordered_set<std::string> attachable;
  for (const char* path : kFilterFunctionPaths) {
    int err = 0;
    if (read_filter_functions(path, wanted, attachable, err)) {
      set.source = path;
      break;
    }
    if (err != ENOENT) {
      set.notes.push_back(std::string("cannot read ") + path + ": " + std::strerror(err));
      if (set.ftrace_errno == 0) set.ftrace_errno = err;
    }
    attachable.clear();
  }
  if (set.source.empty()) {
    if (!ksyms) {
      return Error{ExitCode::KernelFeature,
                   "cannot tell which functions can be probed: neither available_filter_functions "
                   "nor /proc/kallsyms is readable",
                   "run as root, and mount tracefs on /sys/kernel/tracing"};
    }
    // Without ftrace's list, every code symbol is a candidate; some will refuse to attach and be
    // reported as skipped.
    attachable = ksyms->present(wanted);
    set.source = "/proc/kallsyms";
    set.from_kallsyms = true;
    set.notes.push_back("using /proc/kallsyms instead: some functions may refuse to attach");
  }

  for (auto& fn : candidates)
    if (attachable.count(fn.name)) set.functions.push_back(std::move(fn));
  if (set.functions.empty()) {
    std::string why = "no function with an skb argument is attachable (source: " + set.source + ")";
    bool filtered = !filter.pattern().empty();
    if (filtered) why = "no skb function matches --filter-func \"" + filter.pattern() + "\"";
    return Error{filtered ? ExitCode::BadFuncFilter : ExitCode::KernelFeature,
                 "cannot find functions to probe: " + why,
                 filtered ? "check the pattern against `pwrudump --list-funcs`"
                          : "trace the tracepoints instead: --backend tracepoint"};
  }
  return set;
}

std::vector<std::string> non_skb_functions(const std::vector<std::string>& names,
                                           const std::vector<SkbFunction>& skb_functions,
                                           const Kallsyms* ksyms, AttachSummary& summary) {
  std::unordered_set<std::string> taken;
  for (const auto& fn : skb_functions) taken.insert(fn.name);
  std::unordered_set<std::string> wanted(names.begin(), names.end());
  const std::unordered_set<std::string> known =
      ksyms ? ksyms->present(wanted) : std::unordered_set<std::string>{};
  std::vector<std::string> out;
  for (const auto& name : names) {
    if (!taken.insert(name).second) continue;
    if (!known.count(name)) {
      summary.skipped.push_back(name + " (--filter-non-skb-funcs): not in /proc/kallsyms");
      continue;
    }
    out.push_back(name);
  }
  return out;
}

Error explain_refusal(Error e, const FunctionSet& set) {
  if (!set.from_kallsyms) return e;
  e.message += " (the kernel was offered every skb function of /proc/kallsyms: ftrace's list, "
               "available_filter_functions, ";
  if (set.ftrace_errno == 0) {
    e.message += "is not there)";
    e.hint = "mount tracefs (mount -t tracefs nodev /sys/kernel/tracing), or pick another "
             "backend: --backend tracepoint";
    return e;
  }
  e.message += std::string("cannot be read: ") + std::strerror(set.ftrace_errno) + ")";
  // tracefs is mode 0700: only root, or CAP_DAC_READ_SEARCH, reads ftrace's list.
  if (set.ftrace_errno == EACCES) {
    e.hint = "grant pwrudump CAP_DAC_READ_SEARCH too, so it reads ftrace's list of functions "
             "(docs/privileges.md), run it as root, or pick another backend: --backend tracepoint";
  }
  return e;
}

}  // namespace pwru
