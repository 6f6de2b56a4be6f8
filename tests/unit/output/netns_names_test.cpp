// NetnsNames: names by inode from a folder standing in for /run/netns, and when it is reread.
#include "output/netns_names.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

namespace pwru {
namespace {

namespace fs = std::filesystem;

class NetnsNamesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/pwru_netns_names_test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  uint64_t add(const std::string& name) {
    std::ofstream(dir_ / name).put('x');
    struct stat st{};
    EXPECT_EQ(stat((dir_ / name).c_str(), &st), 0);
    return st.st_ino;
  }

  NetnsNames names() {
    return NetnsNames(dir_.string(), [this] { return now_; });
  }

  fs::path dir_;
  std::chrono::steady_clock::time_point now_{std::chrono::seconds(100)};
};

TEST_F(NetnsNamesTest, NamesByInode) {
  const uint64_t blue = add("blue"), red = add("red");
  NetnsNames n = names();
  EXPECT_EQ(n.name(blue), "blue");
  EXPECT_EQ(n.name(red), "red");
  EXPECT_EQ(n.scans(), 1u);  // one read answers both
  fs::create_directory(dir_ / "a-folder");
  EXPECT_EQ(n.name(blue), "blue");
}

// `ip netns add` after the trace started: the first event of the new namespace finds its name.
TEST_F(NetnsNamesTest, AnUnknownInodeRereadsTheFolder) {
  const uint64_t blue = add("blue");
  NetnsNames n = names();
  EXPECT_EQ(n.name(blue), "blue");
  const uint64_t green = add("green");
  EXPECT_EQ(n.name(green), "green");
  EXPECT_EQ(n.scans(), 2u);
}

// The host's own namespace has no name: looking it up on every event must not reread the folder
// on every event.
TEST_F(NetnsNamesTest, UnnamedInodesRereadAtMostOnceASecond) {
  add("blue");
  NetnsNames n = names();
  constexpr uint64_t kHost = 4026531840;
  EXPECT_EQ(n.name(kHost), "");
  EXPECT_EQ(n.name(kHost), "");
  EXPECT_EQ(n.name(kHost), "");
  EXPECT_EQ(n.scans(), 1u);
  now_ += std::chrono::milliseconds(1500);
  EXPECT_EQ(n.name(kHost), "");
  EXPECT_EQ(n.scans(), 2u);
}

TEST_F(NetnsNamesTest, NoFolderMeansNoNames) {
  NetnsNames n((dir_ / "missing").string());
  EXPECT_EQ(n.name(1), "");
}

}  // namespace
}  // namespace pwru
