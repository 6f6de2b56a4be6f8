// Which kernel functions the function backends probe: skb functions from BTF, kept to those the
// kernel lets us attach to, narrowed by --filter-func.
#pragma once

#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "base/result.h"
#include "core/btf.h"
#include "core/kallsyms.h"
#include "core/tracer.h"

namespace pwru {

struct FunctionSet {
  std::vector<SkbFunction> functions;  // what to probe, sorted by name
  std::string source;                  // where attachability came from
  std::vector<std::string> notes;      // what could not be read, and what was used instead
  bool from_kallsyms = false;          // ftrace's list was not read: every code symbol is in
  int ftrace_errno = 0;                // why not (0: the list is not there)
};

// A function backend's refusal of `set`, explained: when the set is /proc/kallsyms' because
// ftrace's list could not be read, the kernel refused functions that list would have left out,
// so the error says so and, where the list was closed to us, how to open it.
Error explain_refusal(Error e, const FunctionSet& set);

// --filter-func: an ECMAScript regex that must match the whole name (like pwru's); empty
// matches everything. Also applied to tracepoint names with the tracepoint backend.
class FuncFilter {
 public:
  static Result<FuncFilter> compile(const std::string& pattern);
  bool matches(const std::string& name) const { return !re_ || std::regex_match(name, *re_); }
  const std::string& pattern() const { return pattern_; }

 private:
  std::string pattern_;
  std::optional<std::regex> re_;
};

Result<FunctionSet> find_skb_functions(const KernelBtf& btf, const Kallsyms* ksyms,
                                       const FuncFilter& filter);

// --filter-non-skb-funcs: the functions to probe for the packet their stack follows, each once,
// as pwru picks them: exact names, less those probed as skb functions anyway. A name that
// /proc/kallsyms does not have is noted in `summary.skipped`.
std::vector<std::string> non_skb_functions(const std::vector<std::string>& names,
                                           const std::vector<SkbFunction>& skb_functions,
                                           const Kallsyms* ksyms, AttachSummary& summary);

}  // namespace pwru
