// Kernel text addresses to "symbol+0xoffset", from /proc/kallsyms.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "base/result.h"

namespace pwru {

class Kallsyms {
 public:
  // Reads `path` (default /proc/kallsyms). All-zero addresses (kptr_restrict) are an error that
  // says so, since nothing could be symbolized.
  static Result<Kallsyms> load(const std::string& path = "/proc/kallsyms");

  // "sym+0xoff", or "0x<addr>" when no symbol covers it.
  std::string symbolize(uint64_t addr) const;
  // The name of the function containing `addr`, empty when none does.
  const std::string& function_at(uint64_t addr) const;
  // Every address of each code symbol in `names` (static functions may share a name), in one
  // pass over the table.
  std::unordered_map<std::string, std::vector<uint64_t>> addresses(
      const std::unordered_set<std::string>& names) const;
  // Where the symbol at `addr` ends: the next higher symbol's address, 0 when none follows.
  uint64_t end_of(uint64_t addr) const;
  // The names of `names` that are code symbols, in one pass over the table.
  std::unordered_set<std::string> present(const std::unordered_set<std::string>& names) const;
  size_t size() const { return syms_.size(); }

 private:
  struct Sym {
    uint64_t addr;
    std::string name;
  };
  std::vector<Sym> syms_;  // sorted by address
};

}  // namespace pwru
