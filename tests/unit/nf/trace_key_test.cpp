// find_trace_key: nf_tables' trace_key among /proc/kallsyms' lines.
#include "nf/trace_key.h"

#include <gtest/gtest.h>

#include <sstream>

namespace pwru::nf {
namespace {

std::optional<uint64_t> find(const std::string& text) {
  std::istringstream in(text);
  return find_trace_key(in);
}

TEST(TraceKey, FoundAsAModuleSymbol) {
  // Debian 6.1's nf_tables.ko: the static local of nft_trace_init.
  EXPECT_EQ(find("ffffffffc0a10000 t nft_trace_init\t[nf_tables]\n"
                 "ffffffffc0a2e2a0 d trace_key.4\t[nf_tables]\n"
                 "ffffffffc0b00000 d trace_key.9\t[some_other]\n"),
            0xffffffffc0a2e2a0ULL);
}

TEST(TraceKey, FoundBuiltInWithKallsymsAll) {
  EXPECT_EQ(find("ffffffff83a1c5e0 b trace_key.12\n"), 0xffffffff83a1c5e0ULL);
}

TEST(TraceKey, NotFound) {
  EXPECT_EQ(find("ffffffff81000000 T _text\n"), std::nullopt);  // built in, no KALLSYMS_ALL
  EXPECT_EQ(find("0000000000000000 d trace_key.4\t[nf_tables]\n"), std::nullopt);  // no CAP_SYSLOG
  EXPECT_EQ(find("ffffffffc0a2e2a0 t trace_key.4\t[nf_tables]\n"), std::nullopt);  // not data
  // Two built-in candidates: which one is nf_tables' is unknown.
  EXPECT_EQ(find("ffffffff83a1c5e0 b trace_key.12\nffffffff83a1c600 b trace_key.13\n"),
            std::nullopt);
}

}  // namespace
}  // namespace pwru::nf
