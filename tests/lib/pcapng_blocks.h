// pcapng read block by block: the one pcapng reader of the C++ tests and test tools.
// A block is `u32 type, u32 total length, body, u32 total length`, little-endian
// (docs/record-format.md).
#pragma once

#include <cstdint>
#include <cstring>
#include <map>
#include <span>
#include <string>
#include <vector>

namespace pwru::pcapng {

constexpr uint32_t kShb = 0x0A0D0D0A, kIdb = 1, kIsb = 5, kEpb = 6;
constexpr uint16_t kIsbIfRecv = 4, kIsbIfDrop = 5, kIsbUsrDeliv = 8;

struct Block {
  uint32_t type;
  std::vector<uint8_t> body;  // between the leading and trailing length, padding included
};

struct Blocks {
  std::vector<Block> blocks;  // the complete blocks, in order
  size_t end = 0;             // offset after the last of them
  std::string problem;        // why reading stopped before the end of the file; empty if it did not
};

inline uint32_t le32(std::span<const uint8_t> b, size_t off) {
  uint32_t v;
  std::memcpy(&v, b.data() + off, 4);
  return v;  // pwrudump writes little-endian, and the tests run on x86-64
}

inline Blocks read_blocks(std::span<const uint8_t> file) {
  Blocks out;
  size_t& off = out.end;
  while (off < file.size()) {
    const std::string at = " at offset " + std::to_string(off);
    if (file.size() - off < 12) {
      out.problem = "a block is cut short" + at;
      break;
    }
    const uint32_t len = le32(file, off + 4);
    if (len < 12 || len % 4 != 0 || len > file.size() - off) {
      out.problem = "bad block length " + std::to_string(len) + at;
      break;
    }
    if (le32(file, off + len - 4) != len) {
      out.problem = "the trailing length of the block" + at + " differs from " +
                    std::to_string(len);
      break;
    }
    out.blocks.push_back(
        {le32(file, off), std::vector<uint8_t>(file.begin() + static_cast<long>(off + 8),
                                               file.begin() + static_cast<long>(off + len - 4))});
    off += len;
  }
  return out;
}

inline Blocks read_blocks(const std::string& file) {
  return read_blocks(
      std::span(reinterpret_cast<const uint8_t*>(file.data()), file.size()));
}

// The 8-byte options of an Interface Statistics Block, by option code.
inline std::map<uint16_t, uint64_t> isb_counters(const Block& isb) {
  std::map<uint16_t, uint64_t> out;
  size_t off = 12;  // interface id, timestamp
  while (off + 4 <= isb.body.size()) {
    uint16_t code, len;
    std::memcpy(&code, isb.body.data() + off, 2);
    std::memcpy(&len, isb.body.data() + off + 2, 2);
    if (code == 0) break;
    if (len == 8 && off + 12 <= isb.body.size()) {
      std::memcpy(&out[code], isb.body.data() + off + 4, 8);
    }
    off += 4 + ((len + 3u) & ~3u);
  }
  return out;
}

}  // namespace pwru::pcapng
