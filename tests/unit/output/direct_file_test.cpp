// Tests for the pcapng file sink (extcap/output/direct_file.cpp): the file must hold exactly
// the bytes written, in order, however they arrive and whenever they are flushed, with direct
// I/O and through the page cache, also when the disk stalls (the writer held by the test) and
// pieces are borrowed; and a failed write must surface with its errno.
#include "output/direct_file.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <future>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "ci_skip.h"

namespace pwru {
namespace {

using Bytes = std::vector<uint8_t>;
constexpr uint64_t kHourNs = 3600ull * 1'000'000'000;

DirectFileLimits hold_back(uint64_t ns) {
  DirectFileLimits l;
  l.hold_back_ns = ns;
  return l;
}

// A disk that stalls until the test lets it go: the writer thread waits in before_write.
class Stall {
 public:
  // Limits whose writer stalls on each piece until release().
  DirectFileLimits limits(size_t pieces, size_t max_pieces, uint64_t hold_back_ns) {
    DirectFileLimits l = hold_back(hold_back_ns);
    l.pieces = pieces;
    l.max_pieces = max_pieces;
    l.before_write = [this] {
      std::unique_lock lock(mu_);
      ++waiting_;
      changed_.notify_all();
      changed_.wait(lock, [this] { return open_; });
      --waiting_;
    };
    return l;
  }
  void wait_for_writer() {
    std::unique_lock lock(mu_);
    changed_.wait(lock, [this] { return waiting_ > 0; });
  }
  void release() {
    std::lock_guard lock(mu_);
    open_ = true;
    changed_.notify_all();
  }
  // The disk comes back after `delay`, from a thread joined when the result goes (also when an
  // assertion leaves the test early).
  std::jthread release_after(std::chrono::milliseconds delay) {
    return std::jthread([this, delay] {
      std::this_thread::sleep_for(delay);
      release();
    });
  }

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  int waiting_ = 0;
  bool open_ = false;
};

class DirectFileTest : public testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    const testing::TestInfo* info = testing::UnitTest::GetInstance()->current_test_info();
    std::string name = info->name();
    for (char& c : name) {
      if (c == '/') c = '_';
    }
    path_ = testing::TempDir() + "pwru_direct_" + name + "_" + std::to_string(getpid());
  }
  void TearDown() override { std::remove(path_.c_str()); }

  UniqueFd create() const {
    UniqueFd fd(::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    EXPECT_TRUE(fd.valid()) << path_ << ": " << std::strerror(errno);
    return fd;
  }

  Bytes file_bytes() const {
    std::ifstream in(path_, std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(in), {});
  }

  // Whether the file system under the test's folder takes an aligned O_DIRECT write.
  bool takes_direct_io() const {
    const std::string probe = path_ + ".probe";
    UniqueFd fd(::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_DIRECT, 0644));
    std::remove(probe.c_str());
    if (!fd.valid()) return false;
    void* block = std::aligned_alloc(DirectFile::kAlign, DirectFile::kAlign);
    std::memset(block, 0, DirectFile::kAlign);
    const bool ok = ::pwrite(fd.get(), block, DirectFile::kAlign, 0) ==
                    static_cast<ssize_t>(DirectFile::kAlign);
    std::free(block);
    return ok;
  }

  static Bytes random_bytes(size_t n, unsigned seed) {
    std::mt19937 gen(seed);
    Bytes b(n);
    for (auto& x : b) x = static_cast<uint8_t>(gen());
    return b;
  }

  std::string path_;
};

// Every Direct test below checks the O_DIRECT path only where the file system takes it, and the
// page cache otherwise: a file system that refuses it must not pass them unverified in CI.
TEST_P(DirectFileTest, TheTestFolderTakesDirectIo) {
  if (GetParam() && !takes_direct_io()) {
    PWRU_SKIP_OR_FAIL("the file system of " << testing::TempDir() << " refuses O_DIRECT");
  }
}

// Pieces of every size up to ~9 KB, across 1 MiB pieces and 4 KiB blocks, with a flush(false)
// after most of them: each hands a partial piece over, whose tail goes through the page cache
// and is written again with the next piece.
TEST_P(DirectFileTest, HoldsExactlyTheBytesWrittenWithFlushesBetween) {
  const Bytes data = random_bytes(3 * DirectFile::kPiece + 12345, 7);
  const bool supported = takes_direct_io();
  std::mt19937 gen(11);
  {
    DirectFile f(create(), GetParam(), hold_back(0));
    size_t at = 0;
    while (at < data.size()) {
      const size_t n = std::min<size_t>(data.size() - at, 1 + gen() % 9000);
      ASSERT_TRUE(f.write(data.data() + at, n));
      at += n;
      if (gen() % 4 != 0) {
        ASSERT_TRUE(f.flush(false));
      }
    }
    ASSERT_TRUE(f.flush(true));
    EXPECT_FALSE(f.holding());
    EXPECT_EQ(file_bytes(), data);  // complete before the writer thread is stopped
    EXPECT_EQ(f.direct(), GetParam() && supported);  // no fallback on the way
  }
  EXPECT_EQ(file_bytes(), data);
}

// The pcapng writer's pattern: one record at a time, full pieces without flushes between.
TEST_P(DirectFileTest, FullPiecesAndAnUnalignedEnd) {
  const Bytes data = random_bytes(DirectFileLimits{}.pieces * DirectFile::kPiece * 2 + 333, 3);
  const bool supported = takes_direct_io();
  DirectFile f(create(), GetParam());
  for (size_t at = 0; at < data.size(); at += 300) {
    ASSERT_TRUE(f.write(data.data() + at, std::min<size_t>(300, data.size() - at)));
  }
  ASSERT_TRUE(f.flush(true));
  EXPECT_EQ(file_bytes(), data);
  struct stat st{};
  ASSERT_EQ(stat(path_.c_str(), &st), 0);
  EXPECT_EQ(static_cast<size_t>(st.st_size), data.size());
  EXPECT_EQ(f.direct(), GetParam() && supported);
}

// flush(false) keeps a partial piece back for the hold-back time; flush(true) does not.
TEST_P(DirectFileTest, PartialPieceWaitsForTheHoldBackTime) {
  const Bytes data = random_bytes(5000, 5);
  DirectFile f(create(), GetParam(), hold_back(kHourNs));
  ASSERT_TRUE(f.write(data.data(), data.size()));
  ASSERT_TRUE(f.flush(false));
  EXPECT_TRUE(f.holding());
  EXPECT_TRUE(file_bytes().empty());  // nothing was handed to the writer thread
  ASSERT_TRUE(f.flush(true));
  EXPECT_FALSE(f.holding());
  EXPECT_EQ(file_bytes(), data);

  // More after a complete flush: the tail block, written through the page cache, is written
  // again with what follows.
  const Bytes more = random_bytes(DirectFile::kAlign * 3, 6);
  ASSERT_TRUE(f.write(more.data(), more.size()));
  ASSERT_TRUE(f.flush(true));
  EXPECT_EQ(f.direct(), GetParam() && takes_direct_io());
  Bytes both = data;
  both.insert(both.end(), more.begin(), more.end());
  EXPECT_EQ(file_bytes(), both);
}

// The disk stalls with the first piece: the capture's side borrows a piece for each one it
// fills, up to max_pieces, never waiting; once the disk is back every byte is there, in order,
// and the borrowed pieces are given back.
TEST_P(DirectFileTest, StalledDiskBorrowsPiecesAndGivesThemBack) {
  Stall stall;
  const Bytes data = random_bytes(5 * DirectFile::kPiece + 777, 12);
  DirectFile f(create(), GetParam(), stall.limits(2, 6, DirectFileLimits{}.hold_back_ns));
  ASSERT_TRUE(f.write(data.data(), DirectFile::kPiece));  // the first piece, to the writer
  stall.wait_for_writer();
  // Four more whole pieces while the writer is held: 1 written (held) + 4 queued + 1 current
  // = 6 in memory, and write() returns each time. Should it wait for the disk instead, the
  // disk comes back after a minute, so that the test fails rather than hangs.
  auto rest = std::async(std::launch::async, [&] {
    return f.write(data.data() + DirectFile::kPiece, data.size() - DirectFile::kPiece);
  });
  const bool returned = rest.wait_for(std::chrono::minutes(1)) == std::future_status::ready;
  const size_t in_memory = f.pieces_in_memory();
  const bool empty = file_bytes().empty();
  stall.release();
  ASSERT_TRUE(rest.get());
  ASSERT_TRUE(returned) << "write() waited for the stalled disk instead of borrowing a piece";
  EXPECT_EQ(in_memory, 6u);
  EXPECT_TRUE(empty);
  ASSERT_TRUE(f.flush(true));
  EXPECT_EQ(file_bytes(), data);
  EXPECT_EQ(f.peak_pieces(), 6u);
  EXPECT_EQ(f.pieces_in_memory(), 2u);  // the borrowed ones went back
  EXPECT_EQ(f.direct(), GetParam() && takes_direct_io());
}

// With every piece queued the capture's side waits for the writer (the ring buffer holds the
// events meanwhile), and still loses nothing; partial pieces and their tails on the way.
TEST_P(DirectFileTest, WaitsOnceAllPiecesAreQueued) {
  Stall stall;
  const Bytes data = random_bytes(6 * DirectFile::kPiece + 5555, 13);
  DirectFile f(create(), GetParam(), stall.limits(1, 3, 0));
  ASSERT_TRUE(f.write(data.data(), 1000));
  ASSERT_TRUE(f.flush(false));  // a partial piece to the writer, which stalls on it
  stall.wait_for_writer();
  std::jthread disk_back = stall.release_after(std::chrono::milliseconds(100));
  std::mt19937 gen(14);
  bool ok = true;
  for (size_t at = 1000; ok && at < data.size();) {
    const size_t n = std::min<size_t>(data.size() - at, 1 + gen() % 300000);
    ok = f.write(data.data() + at, n) && (gen() % 3 != 0 || f.flush(false));
    at += n;
  }
  disk_back.join();
  ASSERT_TRUE(ok);
  ASSERT_TRUE(f.flush(true));
  EXPECT_EQ(file_bytes(), data);
  EXPECT_EQ(f.peak_pieces(), 3u);
  EXPECT_EQ(f.pieces_in_memory(), 1u);
}

// A pause shorter than borrow_after_ns (here an hour; the disk comes back after 100 ms) is
// waited out, without borrowing: the ring buffer holds the events meanwhile.
TEST_P(DirectFileTest, ShortPauseIsWaitedOutWithoutBorrowing) {
  Stall stall;
  DirectFileLimits limits = stall.limits(2, 6, DirectFileLimits{}.hold_back_ns);
  limits.borrow_after_ns = kHourNs;
  const Bytes data = random_bytes(5 * DirectFile::kPiece + 99, 15);
  DirectFile f(create(), GetParam(), limits);
  ASSERT_TRUE(f.write(data.data(), DirectFile::kPiece));
  stall.wait_for_writer();
  std::jthread disk_back = stall.release_after(std::chrono::milliseconds(100));
  ASSERT_TRUE(f.write(data.data() + DirectFile::kPiece, data.size() - DirectFile::kPiece));
  disk_back.join();
  ASSERT_TRUE(f.flush(true));
  EXPECT_EQ(file_bytes(), data);
  EXPECT_EQ(f.peak_pieces(), 2u);
}

// Direct I/O where the file system takes it, and only when asked for.
TEST_P(DirectFileTest, UsesDirectIoWhereTheFileSystemTakesIt) {
  const bool supported = takes_direct_io();
  const Bytes data = random_bytes(DirectFile::kPiece + 10, 9);
  DirectFile f(create(), GetParam());
  ASSERT_TRUE(f.write(data.data(), data.size()));
  ASSERT_TRUE(f.flush(true));
  EXPECT_EQ(f.direct(), GetParam() && supported);
  EXPECT_EQ(file_bytes(), data);
}

// A write the kernel refuses (here EFBIG, past RLIMIT_FSIZE: no root, no full disk needed)
// surfaces at a later write() or at the final flush, with its errno, and nothing is written
// after it.
TEST_P(DirectFileTest, FailedWriteSurfacesWithItsErrno) {
  const Bytes data = random_bytes(4 * DirectFile::kPiece, 8);
  rlimit saved{};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &saved), 0);
  struct sigaction ignore {}, old {};
  ignore.sa_handler = SIG_IGN;
  ASSERT_EQ(sigaction(SIGXFSZ, &ignore, &old), 0);  // EFBIG instead of the signal
  rlimit small = saved;
  small.rlim_cur = DirectFile::kPiece + DirectFile::kPiece / 2;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);

  bool ok = true;
  int err = 0;
  {
    DirectFile f(create(), GetParam());
    for (size_t at = 0; ok && at < data.size(); at += 1000) {
      ok = f.write(data.data() + at, std::min<size_t>(1000, data.size() - at));
    }
    if (ok) ok = f.flush(true);
    err = errno;
    EXPECT_FALSE(f.flush(true));  // the failure sticks
  }
  setrlimit(RLIMIT_FSIZE, &saved);
  sigaction(SIGXFSZ, &old, nullptr);

  EXPECT_FALSE(ok);
  EXPECT_EQ(err, EFBIG) << std::strerror(err);
  const Bytes got = file_bytes();
  ASSERT_LE(got.size(), small.rlim_cur);
  EXPECT_TRUE(std::equal(got.begin(), got.end(), data.begin()));  // a prefix, never garbage
}

INSTANTIATE_TEST_SUITE_P(DirectAndPageCache, DirectFileTest, testing::Bool(),
                         [](const testing::TestParamInfo<bool>& p) {
                           return p.param ? std::string("Direct") : std::string("PageCache");
                         });

}  // namespace
}  // namespace pwru
