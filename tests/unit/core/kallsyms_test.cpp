// Kallsyms on hand-written symbol tables.
#include "core/kallsyms.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

namespace pwru {
namespace {

std::string write_temp(const std::string& text) {
  char path[] = "/tmp/pwru-kallsyms-XXXXXX";
  int fd = mkstemp(path);
  EXPECT_GE(fd, 0);
  close(fd);
  std::ofstream(path) << text;
  return path;
}

TEST(Kallsyms, SymbolizesWithOffset) {
  std::string path = write_temp(
      "ffffffff81000000 T _stext\n"
      "ffffffff81200000 t nf_hook_slow\n"
      "ffffffff81100000 T ip_rcv\n"
      "ffffffff81300000 D some_data\n"
      "ffffffff81400000 T last_fn [mod]\n");
  auto ks = Kallsyms::load(path);
  ASSERT_TRUE(ks.ok()) << ks.error().text();
  EXPECT_EQ(ks->size(), 4u);  // the data symbol is not code
  EXPECT_EQ(ks->symbolize(0xffffffff8120009b), "nf_hook_slow+0x9b");
  EXPECT_EQ(ks->symbolize(0xffffffff81100000), "ip_rcv+0x0");
  EXPECT_EQ(ks->symbolize(0xffffffff8130000a), "nf_hook_slow+0x10000a");
  EXPECT_EQ(ks->symbolize(0x1000), "0x1000");
  // A function ends where the next code symbol starts; the last one has no known end.
  EXPECT_EQ(ks->end_of(0xffffffff81100000), 0xffffffff81200000u);
  EXPECT_EQ(ks->end_of(0xffffffff81200010), 0xffffffff81400000u);
  EXPECT_EQ(ks->end_of(0xffffffff81400000), 0u);
  std::remove(path.c_str());
}

TEST(Kallsyms, HiddenAddressesAreAnError) {
  std::string path = write_temp("0000000000000000 T _stext\n0000000000000000 T ip_rcv\n");
  auto ks = Kallsyms::load(path);
  ASSERT_FALSE(ks.ok());
  EXPECT_EQ(ks.error().code, ExitCode::Permission);
  EXPECT_NE(ks.error().hint.find("kptr_restrict"), std::string::npos);
  std::remove(path.c_str());
}

TEST(Kallsyms, ModulesAndMalformedLines) {
  std::string path = write_temp(
      "ffffffffc0001000 t vxlan_rcv\t[vxlan]\n"
      "garbage\n"
      "ffffffff81000000 T\n"
      "ffffffff81000008 TT wrong_type\n"
      "\n"
      "ffffffff81000010 T ip_rcv\n");
  auto ks = Kallsyms::load(path);
  ASSERT_TRUE(ks.ok()) << ks.error().text();
  EXPECT_EQ(ks->size(), 2u);
  EXPECT_EQ(ks->function_at(0xffffffffc0001004), "vxlan_rcv");
  EXPECT_EQ(ks->symbolize(0xffffffff81000011), "ip_rcv+0x1");
  auto found = ks->present({"vxlan_rcv", "ip_rcv", "not_there"});
  EXPECT_EQ(found, (std::unordered_set<std::string>{"vxlan_rcv", "ip_rcv"}));
  std::remove(path.c_str());
}

TEST(Kallsyms, MissingFile) {
  auto ks = Kallsyms::load("/nonexistent/kallsyms");
  ASSERT_FALSE(ks.ok());
}

}  // namespace
}  // namespace pwru
