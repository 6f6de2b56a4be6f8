// An output file written in pieces of 1 MiB with O_DIRECT, from a thread of its own: straight
// from a few reused buffers to the device, not copied into the page cache first, and never with
// the capture waiting on the disk.
//
// Why: at a million events/s a capture grows by ~350 MB/s. Written through the page cache, that
// copy into freshly allocated pages takes most of pwrudump's CPU (and on a VM whose host backs
// memory on first touch, longer still), and a long capture pushes the host's own cached files
// out of memory. Direct writes cost the kernel a fraction of that, but each one waits for the
// device, at times for longer than the ring buffer lasts (docs/performance.md): the writer
// thread waits, while the capture fills the next piece and keeps draining the ring buffer.
//
// A disk that stalls: once the `pieces` kept for the file are all queued for borrow_after_ns,
// write() borrows more from memory, up to `max_pieces` in all, and the writer gives them back
// once it has caught up (nothing left in its queue). The page cache cannot take that role:
// while a direct write that extends the file is in flight, ext4 holds the file's lock, and a
// write through the page cache waits for it just as long (measured: docs/performance.md).
// Only with all `max_pieces` queued does write() wait: the ring buffer then holds the events,
// and counts what it cannot.
//
// What a reader of the growing file sees: whole pieces as they fill, and after each batch of
// events everything else too, but at most every hold_back_ns: a partial piece waits that long
// for more events, so a busy capture still writes 1 MiB at a time. The last bytes of such a
// partial piece, less than one block, are written through the page cache (O_DIRECT needs whole
// blocks) and written again, directly, with the next piece. A file system that refuses O_DIRECT
// (at open or at the first write) gets the same pieces through the page cache.
#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "base/unique_fd.h"
#include "output/byte_sink.h"

namespace pwru {

struct DirectFileLimits {
  size_t pieces = 8;        // 1 MiB buffers kept for the file's lifetime
  size_t max_pieces = 128;  // with those borrowed while the disk stalls; >= pieces
  // How long write() waits for a kept piece before it starts to borrow; once borrowing, it
  // borrows without waiting until the writer has caught up.
  uint64_t borrow_after_ns = 10'000'000;
  uint64_t hold_back_ns = 200'000'000;
  // Called on the writer thread before each piece is written. Tests hold the writer with it, as
  // a stalled disk would, to see the capture's side borrow and give back; null in pwrudump.
  std::function<void()> before_write;
};

class DirectFile final : public ByteSink {
 public:
  static constexpr size_t kPiece = size_t{1} << 20;
  // O_DIRECT wants buffer, offset and length aligned to the device's logical block; 4 KiB covers
  // the block sizes in use. A device that wants more refuses the first write: page cache then.
  static constexpr size_t kAlign = 4096;

  // `fd`: a regular file opened for writing, empty, its offset at 0; owned from here on.
  // `direct` false writes through the page cache from the start. `limits`: see above.
  // Starts the writer thread (std::system_error if it cannot; std::bad_alloc without memory for
  // the first pieces).
  explicit DirectFile(UniqueFd fd, bool direct = true, DirectFileLimits limits = {});
  // Writes what is left and waits for it: the capture flushes and reports failures before this.
  ~DirectFile() override;
  DirectFile(const DirectFile&) = delete;
  DirectFile& operator=(const DirectFile&) = delete;

  // A failed write of the writer thread surfaces here or in flush(), with its errno.
  bool write(const uint8_t* data, size_t len) override;
  // flush(true) returns once everything is in the file.
  bool flush(bool complete) override;
  bool holding() const override { return holding_; }

  // Whether writes still bypass the page cache.
  bool direct() const { return direct_.load(std::memory_order_relaxed); }
  // The most pieces in memory at once so far, kept and borrowed; and those in memory now.
  size_t peak_pieces();
  size_t pieces_in_memory();

 private:
  // Pieces are mapped, not malloc'd, so that a borrowed one goes back to the system at once
  // (malloc keeps freed memory for later) and comes aligned to the page.
  struct Unmap {
    void operator()(uint8_t* p) const;
  };
  struct Piece {
    std::unique_ptr<uint8_t, Unmap> data;  // null: not in memory (spare_)
    size_t used = 0;  // bytes in data, which go at `at`
    uint64_t at = 0;  // file offset; a multiple of kAlign while direct
  };

  // Queues current_ for the writer and starts the next piece where it ends: a free one, else a
  // borrowed one, else the first the writer frees. Of a partial piece the last bytes (less than
  // a block) are copied into the next one, which begins at their block. false: the writer
  // failed.
  bool hand_over();
  static bool map(Piece& p, bool populate);
  bool failed_locked();  // with mu_ held: the writer failed; sets errno
  size_t kept_pieces() const { return std::max<size_t>(limits_.pieces, 1); }
  // With mu_ held: pieces in memory (kept and borrowed); the others are spare_.
  size_t mapped_locked() const { return pieces_.size() - spare_.size(); }
  void writer_loop();
  bool write_piece(const Piece& p);  // on the writer thread
  bool set_direct(bool on);

  UniqueFd fd_;
  const DirectFileLimits limits_;
  std::atomic<bool> direct_{false};  // cleared by the writer thread, read by both
  std::vector<Piece> pieces_;        // max_pieces; never resized, so Piece* stay valid

  // The capture's side.
  Piece* current_ = nullptr;
  bool holding_ = false;        // bytes in current_ that no reader of the file can see yet
  uint64_t holding_since_ = 0;  // CLOCK_MONOTONIC ns of the oldest of them

  // Shared, under mu_.
  std::mutex mu_;
  std::condition_variable work_;   // the writer waits for queue_ or stop_
  std::condition_variable freed_;  // the capture waits for free_ or idle
  std::deque<Piece*> queue_;
  std::vector<Piece*> free_;   // in memory, empty
  std::vector<Piece*> spare_;  // not in memory
  bool lagging_ = false;       // borrowed since the writer last caught up
  size_t peak_ = 0;
  bool writing_ = false;  // the writer holds a piece
  bool stop_ = false;
  int error_ = -1;  // errno of the first failed write (0: a short write), -1 none

  std::thread writer_;  // last: started once everything above exists
};

}  // namespace pwru
