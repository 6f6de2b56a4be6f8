// Where the pcapng writer's bytes go: a stdio stream (stdout, a fifo, a device), or an output
// file written in large aligned pieces straight to the disk (direct_file.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>

namespace pwru {

class ByteSink {
 public:
  virtual ~ByteSink() = default;
  // Takes all `len` bytes or fails; false leaves the cause in errno (0: a short write).
  virtual bool write(const uint8_t* data, size_t len) = 0;
  // Hands what was written on to the reader. `complete` false (after each batch of events) lets
  // a sink hold a partial piece back for a moment; true (at the end) leaves nothing behind.
  virtual bool flush(bool complete) = 0;
  // True while bytes written are held back by a flush(false): the caller flushes again later,
  // with or without new events.
  virtual bool holding() const = 0;
};

// Writes through a stdio stream it does not own; flush() is fflush(), which holds nothing back.
class StdioSink final : public ByteSink {
 public:
  explicit StdioSink(std::FILE* out) : out_(out) {}
  bool write(const uint8_t* data, size_t len) override {
    return std::fwrite(data, 1, len, out_) == len;
  }
  bool flush(bool) override { return std::fflush(out_) == 0; }
  bool holding() const override { return false; }

 private:
  std::FILE* out_;
};

}  // namespace pwru
