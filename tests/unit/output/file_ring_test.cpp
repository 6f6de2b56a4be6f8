// Tests for dumpcap's -b (extcap/output/file_ring.cpp): the spec as dumpcap reads it, the names
// of a file set as Wireshark's fileset.c recognises them, and when the ring goes to the next file
// and which files it lets go.
#include "output/file_ring.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>
#include <regex>
#include <string>
#include <vector>

namespace pwru {
namespace {

// Names carry local time: the tests pin it to UTC.
class FileRingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    setenv("TZ", "UTC", 1);
    tzset();
  }
};

Result<RingSpec> parse(std::vector<std::string> specs) { return parse_ring_spec(specs); }

// 2026-12-06 11:41:39 UTC.
constexpr std::time_t kWhen = 1796557299;

TEST_F(FileRingTest, SpecIsDumpcaps) {
  auto ring = parse({"filesize:1000", "files:5"});
  ASSERT_TRUE(ring.ok()) << ring.error().text();
  EXPECT_EQ(ring->filesize_bytes, 1'000'000u);  // kB of 1000 bytes, as dumpcap's
  EXPECT_EQ(ring->files, 5u);
  EXPECT_TRUE(ring->enabled());

  ring = parse({"duration:0.5,packets:10"});  // joined by commas too
  ASSERT_TRUE(ring.ok()) << ring.error().text();
  EXPECT_EQ(ring->duration_ns, 500'000'000u);
  EXPECT_EQ(ring->packets, 10u);
  EXPECT_EQ(ring->files, 0u);

  ring = parse({});
  ASSERT_TRUE(ring.ok());
  EXPECT_FALSE(ring->enabled());
}

TEST_F(FileRingTest, BadSpecsSayWhatIsWrongAndHowToWriteIt) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"filesize", "not KEY:VALUE"},
      {"size:10", "unknown key \"size\""},
      {"filesize:ten", "not a positive integer"},
      {"filesize:0", "not a positive integer"},
      {"filesize:-1", "not a positive integer"},
      {"filesize:99999999999999999999", "too large"},
      {"duration:0", "not a positive number of seconds"},
      {"duration:1s", "not a positive number of seconds"},
      {"files:100000", "less than 100000"},
      {"interval:60", "does not take dumpcap's interval"},
      {"filesize:10,", "an empty criterion"},
      {"", "an empty criterion"},
  };
  for (const auto& [spec, cause] : cases) {
    auto ring = parse({spec});
    ASSERT_FALSE(ring.ok()) << spec;
    EXPECT_EQ(ring.error().code, ExitCode::Usage);
    EXPECT_EQ(ring.error().message.rfind("cannot use -b " + spec + ": ", 0), 0u)
        << ring.error().message;
    EXPECT_NE(ring.error().message.find(cause), std::string::npos) << ring.error().message;
    EXPECT_NE(ring.error().hint.find("-b filesize:1000 -b files:5"), std::string::npos);
  }
  auto files_alone = parse({"files:3"});
  ASSERT_FALSE(files_alone.ok());
  EXPECT_EQ(files_alone.error().message,
            "cannot use -b files:3: nothing says when to go to the next file");
  EXPECT_FALSE(files_alone.error().hint.empty());
}

TEST_F(FileRingTest, NamesAreDumpcapsWhichWiresharkOpensAsAFileSet) {
  EXPECT_EQ(ring_file_name("out.pcapng", 1, kWhen), "out_00001_20261206114139.pcapng");
  EXPECT_EQ(ring_file_name("/tmp/a.b/out.x.pcapng", 42, kWhen),
            "/tmp/a.b/out.x_00042_20261206114139.pcapng");
  // No suffix, and a dot only in a folder's name: nothing is split off.
  EXPECT_EQ(ring_file_name("/tmp/a.b/out", 7, kWhen), "/tmp/a.b/out_00007_20261206114139");
  // Five digits always: dumpcap wraps past 99999.
  EXPECT_EQ(ring_file_name("o.pcapng", kRingMaxFiles + 3, kWhen), "o_00003_20261206114139.pcapng");
  // fileset.c's pattern: _NNNNN_ then 14 digits before the suffix.
  const std::regex fileset(".*_[0-9]{5}_[0-9]{14}(\\.[^.]*)?");
  EXPECT_TRUE(std::regex_match(ring_file_name("x.pcapng", 99999, kWhen), fileset));
}

TEST_F(FileRingTest, GoesOnWhenAnyLimitIsReachedButNeverFromAnEmptyFile) {
  RingSpec spec;
  spec.filesize_bytes = 1000;
  spec.packets = 5;
  spec.duration_ns = 2'000'000'000;
  const FileRing ring("o.pcapng", spec);
  EXPECT_FALSE(ring.due(999, 4, 1'999'999'999));
  EXPECT_TRUE(ring.due(1000, 4, 0));
  EXPECT_TRUE(ring.due(10, 5, 0));
  EXPECT_TRUE(ring.due(10, 1, 2'000'000'000));
  // A file without packets stays: an idle capture makes no empty files.
  EXPECT_FALSE(ring.due(5000, 0, 9'000'000'000));

  // Between events only the duration counts, and only for a file with packets.
  EXPECT_TRUE(ring.timed_out(1, 2'000'000'000));
  EXPECT_FALSE(ring.timed_out(5, 1'999'999'999));
  EXPECT_FALSE(ring.timed_out(0, 9'000'000'000));

  RingSpec size_only;
  size_only.filesize_bytes = 1000;
  const FileRing by_size("o.pcapng", size_only);
  EXPECT_FALSE(by_size.due(999, 1000, UINT64_MAX));
  EXPECT_FALSE(by_size.timed_out(1000, UINT64_MAX));
}

TEST_F(FileRingTest, KeepsTheNewestFilesOfARing) {
  RingSpec spec;
  spec.packets = 1;
  spec.files = 2;
  FileRing ring("o.pcapng", spec);
  EXPECT_EQ(ring.next(kWhen), "o_00001_20261206114139.pcapng");
  EXPECT_TRUE(ring.take_expired().empty());
  EXPECT_EQ(ring.next(kWhen + 1), "o_00002_20261206114140.pcapng");
  EXPECT_TRUE(ring.take_expired().empty());
  EXPECT_EQ(ring.next(kWhen + 2), "o_00003_20261206114141.pcapng");
  EXPECT_EQ(ring.take_expired(), std::vector<std::string>{"o_00001_20261206114139.pcapng"});
  EXPECT_TRUE(ring.take_expired().empty());  // let go once

  // Without files:N every file stays.
  RingSpec keep_all;
  keep_all.packets = 1;
  FileRing all("o.pcapng", keep_all);
  for (int i = 0; i < 5; ++i) (void)all.next(kWhen);
  EXPECT_TRUE(all.take_expired().empty());
}

}  // namespace
}  // namespace pwru
