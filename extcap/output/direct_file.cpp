// Pieces with O_DIRECT from a writer thread, a partial piece's tail through the page cache
// (direct_file.h).
#include "output/direct_file.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <new>

#include "base/clock.h"

namespace pwru {
namespace {

// All of [data, data + len) at `at`, across short writes. false: errno says why (0: no progress).
bool pwrite_all(int fd, const uint8_t* data, size_t len, uint64_t at) {
  while (len > 0) {
    const ssize_t n = ::pwrite(fd, data, len, static_cast<off_t>(at));
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    if (n == 0) {
      errno = 0;
      return false;
    }
    data += n;
    len -= static_cast<size_t>(n);
    at += static_cast<uint64_t>(n);
  }
  return true;
}

// Blocks every signal for its lifetime: a thread started meanwhile inherits the mask, so SIGINT
// and SIGTERM keep going to the capture's thread, whose ring buffer poll they must interrupt.
class SignalsBlocked {
 public:
  SignalsBlocked() {
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &saved_);
  }
  ~SignalsBlocked() { pthread_sigmask(SIG_SETMASK, &saved_, nullptr); }
  SignalsBlocked(const SignalsBlocked&) = delete;
  SignalsBlocked& operator=(const SignalsBlocked&) = delete;

 private:
  sigset_t saved_{};
};

}  // namespace

void DirectFile::Unmap::operator()(uint8_t* p) const { ::munmap(p, kPiece); }

bool DirectFile::map(Piece& p, bool populate) {
  void* m = ::mmap(nullptr, kPiece, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | (populate ? MAP_POPULATE : 0), -1, 0);
  if (m == MAP_FAILED) return false;
  p.data.reset(static_cast<uint8_t*>(m));
  return true;
}

DirectFile::DirectFile(UniqueFd fd, bool direct, DirectFileLimits limits)
    : fd_(std::move(fd)),
      limits_(std::move(limits)),
      pieces_(std::max<size_t>({limits_.pieces, limits_.max_pieces, 1})) {
  const size_t kept = kept_pieces();
  for (size_t i = 0; i < pieces_.size(); ++i) {
    if (i >= kept) {
      spare_.push_back(&pieces_[i]);
      continue;
    }
    // Not populated: a capture that keeps up touches only the few it cycles through.
    if (!map(pieces_[i], false)) throw std::bad_alloc();
    if (i > 0) free_.push_back(&pieces_[i]);
  }
  current_ = &pieces_[0];
  peak_ = kept;
  // EINVAL here: this file system has no direct I/O (e.g. tmpfs before Linux 6.6).
  direct_ = direct && set_direct(true);
  SignalsBlocked blocked;
  writer_ = std::thread([this] { writer_loop(); });
}

DirectFile::~DirectFile() {
  (void)flush(true);
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  work_.notify_one();
  writer_.join();
}

bool DirectFile::set_direct(bool on) {
  const int flags = ::fcntl(fd_.get(), F_GETFL);
  if (flags < 0) return false;
  const int want = on ? (flags | O_DIRECT) : (flags & ~O_DIRECT);
  return want == flags || ::fcntl(fd_.get(), F_SETFL, want) == 0;
}

bool DirectFile::failed_locked() {
  if (error_ < 0) return false;
  errno = error_;
  return true;
}

bool DirectFile::write(const uint8_t* data, size_t len) {
  if (len == 0) return true;
  if (!holding_) {
    holding_ = true;
    holding_since_ = clock_ns(CLOCK_MONOTONIC);
  }
  while (len > 0) {
    const size_t n = std::min(len, kPiece - current_->used);
    std::memcpy(current_->data.get() + current_->used, data, n);
    current_->used += n;
    data += n;
    len -= n;
    if (current_->used == kPiece && !hand_over()) return false;
  }
  return true;
}

bool DirectFile::hand_over() {
  Piece* full = current_;
  std::unique_lock lock(mu_);
  for (;;) {
    if (failed_locked()) return false;
    if (!free_.empty()) break;
    // The writer is behind, most likely waiting on the disk. A short pause the ring buffer
    // takes (10 ms at a million events/s fill a fraction of the default 16 MiB); a longer one, and
    // everything until the writer has caught up, gets borrowed pieces.
    if (!lagging_ && !spare_.empty() &&
        freed_.wait_for(lock, std::chrono::nanoseconds(limits_.borrow_after_ns),
                        [this] { return !free_.empty() || error_ >= 0; })) {
      continue;
    }
    // Populated: faulted in at once here, not page by page in the memcpy, when time counts.
    if (!spare_.empty() && map(*spare_.back(), true)) {
      free_.push_back(spare_.back());
      spare_.pop_back();
      peak_ = std::max(peak_, mapped_locked());
      lagging_ = true;
      break;
    }
    // All max_pieces queued (or no memory to borrow): wait for the writer to finish one.
    freed_.wait(lock);
  }
  Piece* next = free_.back();
  free_.pop_back();
  // Of a partial piece, the writer writes the whole blocks directly and the rest through the
  // page cache; the next piece starts with that rest and writes its block again, directly.
  // Should the writer give up direct I/O meanwhile, the same bytes are written twice, no harm.
  const size_t rest = direct() ? full->used % kAlign : 0;
  next->at = full->at + (full->used - rest);
  next->used = rest;
  std::memcpy(next->data.get(), full->data.get() + (full->used - rest), rest);
  queue_.push_back(full);
  current_ = next;
  lock.unlock();
  work_.notify_one();
  return true;
}

bool DirectFile::flush(bool complete) {
  if (holding_ &&
      (complete || clock_ns(CLOCK_MONOTONIC) - holding_since_ >= limits_.hold_back_ns)) {
    if (!hand_over()) return false;
    holding_ = false;
  }
  std::unique_lock lock(mu_);
  if (complete) {
    freed_.wait(lock, [this] { return (queue_.empty() && !writing_) || error_ >= 0; });
  }
  return !failed_locked();
}

size_t DirectFile::peak_pieces() {
  std::lock_guard lock(mu_);
  return peak_;
}

size_t DirectFile::pieces_in_memory() {
  std::lock_guard lock(mu_);
  return mapped_locked();
}

namespace {

// The writer only writes to a descriptor it was given, so it gives up every capability it was
// started with: they belong to each thread, and the capture's thread gives up its own only once
// the probes are attached (docs/privileges.md). Lowering never needs a privilege, so this cannot
// fail for want of one.
void give_up_capabilities() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct none[_LINUX_CAPABILITY_U32S_3] = {};
  (void)syscall(SYS_capset, &header, none);
}

}  // namespace

void DirectFile::writer_loop() {
  give_up_capabilities();
  std::unique_lock lock(mu_);
  for (;;) {
    work_.wait(lock, [this] { return stop_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stop_, with nothing left
    Piece* p = queue_.front();
    queue_.pop_front();
    writing_ = true;
    const bool skip = error_ >= 0;  // after a failure, nothing more: the file ends where it broke
    lock.unlock();
    if (!skip && limits_.before_write) limits_.before_write();
    const bool ok = skip || write_piece(*p);
    const int err = errno;
    lock.lock();
    if (!ok && error_ < 0) error_ = err;
    writing_ = false;
    p->used = 0;
    free_.push_back(p);
    // Caught up: the borrowed pieces go back (any of them: they are all alike). Not before, as
    // a writer that is behind again soon would have the capture map and fault in new ones.
    std::vector<std::unique_ptr<uint8_t, Unmap>> give_back;
    if (queue_.empty()) lagging_ = false;
    while (queue_.empty() && mapped_locked() > kept_pieces() &&
           !free_.empty()) {
      give_back.push_back(std::move(free_.back()->data));
      spare_.push_back(free_.back());
      free_.pop_back();
    }
    freed_.notify_one();
    if (!give_back.empty()) {
      lock.unlock();
      give_back.clear();  // munmap, without holding up the capture
      lock.lock();
    }
  }
}

bool DirectFile::write_piece(const Piece& p) {
  size_t done = 0;
  if (direct()) {
    const size_t whole = p.used & ~(kAlign - 1);
    if (whole > 0) {
      if (pwrite_all(fd_.get(), p.data.get(), whole, p.at)) {
        done = whole;
      } else {
        // EINVAL: the file system took O_DIRECT at open but not these sizes or this alignment.
        // Nothing was written then; the page cache takes this piece and every later one.
        if (errno != EINVAL || !set_direct(false)) return false;
        direct_ = false;
      }
    }
  }
  if (done == p.used) return true;
  // The rest: less than a block, which O_DIRECT cannot write, or all of it without direct I/O.
  // Before the next piece writes that block directly, the kernel writes back and drops the
  // cached page, so the file never shows stale bytes.
  const bool toggle = direct();
  if (toggle && !set_direct(false)) return false;
  const bool ok = pwrite_all(fd_.get(), p.data.get() + done, p.used - done, p.at + done);
  const int err = errno;
  if (toggle && !set_direct(true)) direct_ = false;  // the page cache from here on
  errno = err;
  return ok;
}

}  // namespace pwru
