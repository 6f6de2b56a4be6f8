// Kallsyms: parses /proc/kallsyms once and answers lookups by binary search.
#include "core/kallsyms.h"

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

namespace pwru {

Result<Kallsyms> Kallsyms::load(const std::string& path) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "re"), &std::fclose);
  if (!f) {
    return Error{ExitCode::KernelFeature,
                 "cannot read " + path + ": " + std::strerror(errno),
                 "mount /proc: callers and kprobe-multi need its kallsyms"};
  }
  Kallsyms ks;
  char line[512];
  // "ADDR TYPE NAME[\t[MODULE]]", parsed by hand: sscanf over the ~200k lines is the largest
  // libc item in a profile of `--list-funcs` (docs/performance.md).
  while (std::fgets(line, sizeof(line), f.get())) {
    char* p = nullptr;
    const uint64_t addr = std::strtoull(line, &p, 16);
    if (p == line || *p != ' ') continue;
    const char type = p[1];
    if (type != 't' && type != 'T') continue;  // callers are code
    if (p[2] != ' ') continue;
    const char* name = p + 3;
    const size_t len = std::strcspn(name, " \t\n");
    if (len == 0) continue;
    ks.syms_.push_back({addr, std::string(name, len)});
  }
  if (ks.syms_.empty() || ks.syms_.back().addr == 0) {
    return Error{ExitCode::Permission, "cannot symbolize kernel addresses: " + path +
                                           " shows no addresses",
                 "run as root, or set kernel.kptr_restrict=0"};
  }
  std::sort(ks.syms_.begin(), ks.syms_.end(),
            [](const Sym& a, const Sym& b) { return a.addr < b.addr; });
  return ks;
}

namespace {
const std::string kNoName;
}  // namespace

const std::string& Kallsyms::function_at(uint64_t addr) const {
  auto it = std::upper_bound(syms_.begin(), syms_.end(), addr,
                             [](uint64_t a, const Sym& s) { return a < s.addr; });
  return it == syms_.begin() ? kNoName : std::prev(it)->name;
}

std::string Kallsyms::symbolize(uint64_t addr) const {
  auto it = std::upper_bound(syms_.begin(), syms_.end(), addr,
                             [](uint64_t a, const Sym& s) { return a < s.addr; });
  char buf[32];
  if (it == syms_.begin()) {
    std::snprintf(buf, sizeof(buf), "0x%" PRIx64, addr);
    return buf;
  }
  --it;
  std::snprintf(buf, sizeof(buf), "+0x%" PRIx64, addr - it->addr);
  return it->name + buf;
}

std::unordered_map<std::string, std::vector<uint64_t>> Kallsyms::addresses(
    const std::unordered_set<std::string>& names) const {
  std::unordered_map<std::string, std::vector<uint64_t>> out;
  for (const Sym& s : syms_)
    if (names.count(s.name)) out[s.name].push_back(s.addr);
  return out;
}

uint64_t Kallsyms::end_of(uint64_t addr) const {
  auto it = std::upper_bound(syms_.begin(), syms_.end(), addr,
                             [](uint64_t a, const Sym& s) { return a < s.addr; });
  return it == syms_.end() ? 0 : it->addr;
}

std::unordered_set<std::string> Kallsyms::present(
    const std::unordered_set<std::string>& names) const {
  std::unordered_set<std::string> out;
  for (const Sym& s : syms_)
    if (names.count(s.name)) out.insert(s.name);
  return out;
}

}  // namespace pwru
