// Tests for pwru's --output-file rotation (extcap/output/rotating_file.cpp): lumberjack's backup
// names, what the mill removes and compresses, and a real rotation in a scratch folder.
#include "output/rotating_file.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

namespace pwru {
namespace {

namespace fs = std::filesystem;

class RotatingFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    setenv("TZ", "UTC", 1);
    tzset();
    char tmpl[] = "/tmp/pwru-rotate.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::set<std::string> names() const {
    std::set<std::string> out;
    for (const auto& e : fs::directory_iterator(dir_)) out.insert(e.path().filename());
    return out;
  }
  void write(const std::string& name, const std::string& text) const {
    std::ofstream(dir_ / name) << text;
  }

  fs::path dir_;
};

// 2026-12-06 11:41:39.042 UTC.
constexpr int64_t kMs = 1796557299042;
constexpr int64_t kDay = 24 * 3600 * 1000LL;

TEST_F(RotatingFileTest, BackupNamesAreLumberjacks) {
  EXPECT_EQ(backup_name("/var/log/out.json", kMs), "/var/log/out-2026-12-06T11-41-39.042.json");
  EXPECT_EQ(backup_name("trace", kMs), "trace-2026-12-06T11-41-39.042");
  EXPECT_EQ(backup_name("a.b/trace", kMs), "a.b/trace-2026-12-06T11-41-39.042");
}

TEST_F(RotatingFileTest, BackupsAreReadBackFromTheirNames) {
  auto b = parse_backup("/x/out.json", "out-2026-12-06T11-41-39.042.json");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->unix_ms, kMs);
  auto gz = parse_backup("/x/out.json", "out-2026-12-06T11-41-39.042.json.gz");
  ASSERT_TRUE(gz);
  EXPECT_EQ(gz->unix_ms, kMs);
  for (const char* other : {"out.json", "out-2026-12-06T11-41-39.042.txt",
                            "other-2026-12-06T11-41-39.042.json", "out-2026-12-06T11-41-39.json",
                            "out-2026-12-06T11-41-39.042x.json", "out-yesterday.json"}) {
    EXPECT_FALSE(parse_backup("/x/out.json", other)) << other;
  }
}

TEST_F(RotatingFileTest, MillKeepsTheNewestBackupsAndCountsAFileAndItsGzAsOne) {
  const std::vector<Backup> backups = {
      {"o-1.json", kMs - 3}, {"o-4.json", kMs}, {"o-3.json.gz", kMs - 1},
      {"o-3.json", kMs - 1}, {"o-2.json", kMs - 2},
  };
  TextRotation keep2;
  keep2.max_backups = 2;
  MillPlan plan = plan_mill(backups, keep2, kMs);
  EXPECT_EQ(plan.remove, (std::vector<std::string>{"o-2.json", "o-1.json"}));
  EXPECT_TRUE(plan.compress.empty());

  TextRotation compress;
  compress.compress = true;
  plan = plan_mill(backups, compress, kMs);
  EXPECT_TRUE(plan.remove.empty());
  EXPECT_EQ(plan.compress, (std::vector<std::string>{"o-4.json", "o-3.json", "o-2.json", "o-1.json"}));

  TextRotation aged;
  aged.max_age_days = 1;
  plan = plan_mill({{"old.json", kMs - kDay - 1}, {"new.json", kMs - kDay + 1}}, aged, kMs);
  EXPECT_EQ(plan.remove, std::vector<std::string>{"old.json"});

  // pwru's defaults: keep every backup, whatever its age, as it is.
  plan = plan_mill(backups, TextRotation{}, kMs);
  EXPECT_TRUE(plan.remove.empty());
  EXPECT_TRUE(plan.compress.empty());
}

TEST_F(RotatingFileTest, DueOnlyWhenTheNextLineWouldPassTheLimit) {
  TextRotation small;
  small.max_bytes = 100;
  RotatingFile file((dir_ / "out").string(), small);
  EXPECT_FALSE(file.due(500));  // an empty file takes any line, even a longer one
  file.wrote(60);
  EXPECT_FALSE(file.due(40));
  EXPECT_TRUE(file.due(41));
  EXPECT_EQ(TextRotation{}.max_bytes, 100u << 20);  // pwru's default: 100 MB
}

TEST_F(RotatingFileTest, RotateRenamesAsideAndTheMillPrunesAndCompresses) {
  TextRotation rotation;
  rotation.max_bytes = 10;
  rotation.max_backups = 2;
  rotation.compress = true;
  const std::string path = (dir_ / "out.txt").string();
  // A backup of an earlier run counts too, as pwru's: it is the oldest, so it goes.
  write("out-2000-01-01T00-00-00.000.txt", "old\n");
  write("unrelated.txt", "stays\n");
  RotatingFile file(path, rotation);
  for (int i = 0; i < 3; ++i) {
    write("out.txt", "line " + std::to_string(i) + "\n");
    file.wrote(7);
    ASSERT_TRUE(file.rotate().ok());
    EXPECT_FALSE(fs::exists(path));
    EXPECT_FALSE(file.due(7));  // the new file starts empty
  }
  file.wait();
  EXPECT_TRUE(file.take_warnings().empty());
  std::set<std::string> left = names();
  EXPECT_EQ(left.size(), 3u);
  EXPECT_TRUE(left.count("unrelated.txt"));
  std::set<std::string> contents;
  for (const std::string& name : left) {
    if (name == "unrelated.txt") continue;
    ASSERT_TRUE(parse_backup(path, name)) << name;
    ASSERT_TRUE(name.ends_with(".txt.gz")) << name;
    gzFile in = gzopen((dir_ / name).c_str(), "rb");
    ASSERT_NE(in, nullptr);
    char buf[64] = {};
    const int n = gzread(in, buf, sizeof buf - 1);
    gzclose(in);
    ASSERT_GT(n, 0);
    contents.insert(buf);
  }
  EXPECT_EQ(contents, (std::set<std::string>{"line 1\n", "line 2\n"}));
}

TEST_F(RotatingFileTest, RotateFailsClearly) {
  RotatingFile file((dir_ / "missing" / "out.txt").string(), TextRotation{});
  auto st = file.rotate();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ExitCode::Output);
  EXPECT_EQ(st.error().message.rfind("cannot rename " + (dir_ / "missing" / "out.txt").string(), 0),
            0u)
      << st.error().message;
  EXPECT_FALSE(st.error().hint.empty());
}

}  // namespace
}  // namespace pwru
