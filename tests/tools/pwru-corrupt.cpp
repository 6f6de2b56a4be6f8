// Writes corrupted copies of a valid pwrudump capture, deterministically, for the bad-input test
// (tests/fuzz/corrupt_test.sh): damaged records and damaged pcapng blocks.
//
// usage: pwru-corrupt SOURCE.pcapng OUTDIR
//   Writes OUTDIR/<category>.pcapng and OUTDIR/manifest.tsv, one line per file:
//     file <TAB> category <TAB> frames <TAB> malformed <TAB> short
//   frames: how many frames tshark must read ("-": the file is damaged, any number up to the
//   source's, and tshark may report the damage); malformed: the frames the pwru dissector must
//   mark malformed, comma-separated, "" for none, "-" not checked; short: frames that must show
//   "packet size limited during capture" or be marked malformed (a record cut by the EPB).
//   Record categories damage every record of the source, twice over (different damage each
//   time); which records are malformed says the reference reader, pwru::decode_record. Where the
//   damage is malformed (or valid) by construction, the tool checks that the reader agrees.
// usage: pwru-corrupt --records SOURCE.pcapng OUTDIR
//   Writes each record of SOURCE as OUTDIR/record-NN (the fuzz target's seed corpus).
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "pcapng_blocks.h"
#include "pwru_record.h"
#include "pwru_rules.h"
#include "record.h"

namespace {

using Bytes = std::vector<uint8_t>;

using pwru::pcapng::kEpb, pwru::pcapng::kIdb, pwru::pcapng::kIsb, pwru::pcapng::kShb;
constexpr size_t kEpbFixed = 20;  // interface id, timestamp (2), captured and original length
constexpr uint8_t kPduTags[] = {0x00, 0x0c, 0x00, 0x04, 'p', 'w', 'r', 'u',
                                0x00, 0x00, 0x00, 0x00};
constexpr size_t kTagsLen = sizeof kPduTags;

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "pwru-corrupt: %s\n", what.c_str());
  std::exit(1);
}

uint32_t get32(const Bytes& b, size_t at) {
  return uint32_t{b[at]} | uint32_t{b[at + 1]} << 8 | uint32_t{b[at + 2]} << 16 |
         uint32_t{b[at + 3]} << 24;
}
void set32(Bytes& b, size_t at, uint32_t v) {
  for (size_t i = 0; i < 4; ++i) b[at + i] = static_cast<uint8_t>(v >> (8 * i));
}
uint16_t get16(const Bytes& b, size_t at) { return static_cast<uint16_t>(b[at] | b[at + 1] << 8); }
void set16(Bytes& b, size_t at, uint16_t v) {
  b[at] = static_cast<uint8_t>(v);
  b[at + 1] = static_cast<uint8_t>(v >> 8);
}

// A pcapng block as pwrudump writes it (little-endian): its type and the body between the two
// length fields, padding and options included.
using pwru::pcapng::Block;

std::vector<Block> read_blocks(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) die("cannot open " + path + ": " + std::strerror(errno));
  const Bytes file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  pwru::pcapng::Blocks got = pwru::pcapng::read_blocks(file);
  if (!got.problem.empty()) die(path + ": " + got.problem);
  if (got.blocks.empty() || got.blocks[0].type != kShb) die(path + ": not a pcapng file");
  return std::move(got.blocks);
}

Bytes serialize(const std::vector<Block>& blocks) {
  Bytes out;
  for (const Block& b : blocks) {
    const size_t at = out.size();
    out.resize(at + 8);
    set32(out, at, b.type);
    set32(out, at + 4, static_cast<uint32_t>(b.body.size() + 12));
    out.insert(out.end(), b.body.begin(), b.body.end());
    out.resize(out.size() + 4);
    set32(out, out.size() - 4, static_cast<uint32_t>(b.body.size() + 12));
  }
  return out;
}

// The record an EPB carries (after the exported-PDU tags).
Bytes epb_record(const Block& epb) {
  const uint32_t caplen = get32(epb.body, 12);
  if (epb.body.size() < kEpbFixed + caplen || caplen < kTagsLen ||
      !std::equal(std::begin(kPduTags), std::end(kPduTags), epb.body.begin() + kEpbFixed))
    die("an EPB of the source does not hold a pwru record");
  return Bytes(epb.body.begin() + kEpbFixed + kTagsLen, epb.body.begin() + kEpbFixed + caplen);
}

// The EPB with its packet data replaced by `record` (padded, no options).
void set_epb_record(Block& epb, const Bytes& record) {
  Bytes body(epb.body.begin(), epb.body.begin() + kEpbFixed);
  const auto caplen = static_cast<uint32_t>(kTagsLen + record.size());
  set32(body, 12, caplen);
  set32(body, 16, caplen);
  body.insert(body.end(), std::begin(kPduTags), std::end(kPduTags));
  body.insert(body.end(), record.begin(), record.end());
  body.resize((body.size() + 3) / 4 * 4);
  epb.body = std::move(body);
}

bool malformed(const Bytes& record) { return !pwru::decode_record(record); }

// Offsets of the TLVs of an intact record.
std::vector<size_t> tlvs(const Bytes& r) {
  std::vector<size_t> out;
  for (size_t off = get16(r, 2); off + PWRU_TLV_HEADER_LEN <= r.size();
       off += PWRU_TLV_HEADER_LEN + get16(r, off + 2))
    out.push_back(off);
  return out;
}

// The exact size of a fixed-size TLV type, 0 for strings, bytes and unknown types: the record's
// own table (pwru_rules.h).
uint16_t fixed_size(uint16_t type) {
  for (const auto& spec : pwru::rules::kTlvSpecs)
    if (spec.type == type) return spec.size;
  return 0;
}

// The first type past every known one: what a reader must skip as unknown.
uint16_t first_unknown_type() {
  uint16_t last = 0;
  for (const auto& spec : pwru::rules::kTlvSpecs) last = std::max(last, spec.type);
  return static_cast<uint16_t>(last + 1);
}

std::vector<size_t> tlvs_where(const Bytes& r, const std::function<bool(uint16_t, uint16_t)>& f) {
  std::vector<size_t> out;
  for (size_t off : tlvs(r))
    if (f(get16(r, off), get16(r, off + 2))) out.push_back(off);
  return out;
}

using Rng = std::mt19937;  // its output is fixed by the standard: the same files everywhere
size_t below(Rng& rng, size_t n) { return n == 0 ? 0 : static_cast<size_t>(rng() % n); }
template <typename T>
const T& pick(Rng& rng, const std::vector<T>& v) { return v[below(rng, v.size())]; }

Bytes random_bytes(Rng& rng, size_t n) {
  Bytes b(n);
  for (uint8_t& x : b) x = static_cast<uint8_t>(rng());
  return b;
}

void insert(Bytes& r, size_t at, const Bytes& b) {
  r.insert(r.begin() + static_cast<long>(at), b.begin(), b.end());
}

// A value resized in place: its TLV length follows, so the rest of the record still parses.
void resize_value(Bytes& r, size_t tlv, size_t new_len) {
  const size_t len = get16(r, tlv + 2), value = tlv + PWRU_TLV_HEADER_LEN;
  if (new_len < len)
    r.erase(r.begin() + static_cast<long>(value + new_len), r.begin() + static_cast<long>(value + len));
  else
    insert(r, value + len, Bytes(new_len - len, 0x5a));
  set16(r, tlv + 2, static_cast<uint16_t>(new_len));
}

Bytes tlv(uint16_t type, const Bytes& value) {
  Bytes t(PWRU_TLV_HEADER_LEN);
  set16(t, 0, type);
  set16(t, 2, static_cast<uint16_t>(value.size()));
  t.insert(t.end(), value.begin(), value.end());
  return t;
}

// What the damage of a category makes of a record, by construction.
enum class Expect { Reference, Malformed, Valid };

struct RecordCategory {
  const char* name;
  Expect expect;
  // Damages the record; nullopt: this record has nothing to damage this way (left intact).
  std::function<std::optional<Bytes>(Bytes, Rng&)> damage;
};

const std::vector<RecordCategory>& record_categories() {
  static const std::vector<RecordCategory> categories = {
      {"record-cut", Expect::Reference,
       [](Bytes r, Rng& rng) -> std::optional<Bytes> {
         r.resize(below(rng, r.size()));
         return r;
       }},
      {"tlv-length-too-long", Expect::Malformed,
       [](Bytes r, Rng& rng) -> std::optional<Bytes> {
         const size_t at = pick(rng, tlvs(r));
         const size_t room = r.size() - at - PWRU_TLV_HEADER_LEN;
         if (room >= UINT16_MAX) return std::nullopt;
         set16(r, at + 2, static_cast<uint16_t>(room + 1 + below(rng, UINT16_MAX - room)));
         return r;
       }},
      {"tlv-length-too-short", Expect::Reference,
       [](Bytes r, Rng& rng) -> std::optional<Bytes> {
         const auto with_value = tlvs_where(r, [](uint16_t, uint16_t len) { return len > 0; });
         const size_t at = pick(rng, with_value);
         set16(r, at + 2, static_cast<uint16_t>(below(rng, get16(r, at + 2))));
         return r;
       }},
      {"tlv-length-zero", Expect::Reference,
       [](Bytes r, Rng& rng) -> std::optional<Bytes> {
         set16(r, pick(rng, tlvs(r)) + 2, 0);
         return r;
       }},
      {"fixed-field-wrong-size", Expect::Malformed,
       [](Bytes r, Rng& rng) -> std::optional<Bytes> {
         const size_t at =
             pick(rng, tlvs_where(r, [](uint16_t type, uint16_t) { return fixed_size(type) != 0; }));
         size_t len = below(rng, 24);
         if (len == fixed_size(get16(r, at))) ++len;
         resize_value(r, at, len);
         return r;
       }},
      {"tlv-wrong-type", Expect::Reference,
       [](Bytes r, Rng& rng) -> std::optional<Bytes> {
         const uint16_t types[] = {0, 1, 2, 4, 13, 16, 22, 26, 28, 29, 30, 255, 0x8000, 0xffff};
         set16(r, pick(rng, tlvs(r)), types[below(rng, std::size(types))]);
         return r;
       }},
      {"bad-version", Expect::Malformed,
       [](Bytes r, Rng& rng) -> std::optional<Bytes> {
         const uint16_t versions[] = {0, 2, 3, 0x100, 0xffff};
         set16(r, 0, versions[below(rng, std::size(versions))]);
         return r;
       }},
      {"bad-header-length", Expect::Malformed,
       [](Bytes r, Rng& rng) -> std::optional<Bytes> {
         const uint16_t lens[] = {0, 1, 2, 3, static_cast<uint16_t>(r.size() + 1), 0xffff};
         set16(r, 2, lens[below(rng, std::size(lens))]);
         return r;
       }},
      {"header-grown", Expect::Valid,  // a newer writer's longer header: skipped, not an error
       [](Bytes r, Rng& rng) -> std::optional<Bytes> {
         const size_t extra = 1 + below(rng, 64);
         insert(r, PWRU_RECORD_HEADER_LEN, random_bytes(rng, extra));
         set16(r, 2, static_cast<uint16_t>(PWRU_RECORD_HEADER_LEN + extra));
         return r;
       }},
      {"bit-flips", Expect::Reference,
       [](Bytes r, Rng& rng) -> std::optional<Bytes> {
         for (size_t n = 1 + below(rng, 8); n > 0; --n)
           r[below(rng, r.size())] ^= static_cast<uint8_t>(1u << below(rng, 8));
         return r;
       }},
      {"mixed-address-families", Expect::Malformed,
       [](Bytes r, Rng& rng) -> std::optional<Bytes> {
         const auto addrs = tlvs_where(r, [](uint16_t type, uint16_t) {
           return type >= PWRU_TLV_IPV4_SRC && type <= PWRU_TLV_IPV6_DST;
         });
         if (addrs.empty()) return std::nullopt;
         const size_t at = pick(rng, addrs);
         const bool v4 = get16(r, at) <= PWRU_TLV_IPV4_DST;
         const Bytes other = tlv(v4 ? PWRU_TLV_IPV6_DST : PWRU_TLV_IPV4_SRC,
                                 random_bytes(rng, v4 ? 16 : 4));
         insert(r, below(rng, 2) == 0 ? at : at + PWRU_TLV_HEADER_LEN + get16(r, at + 2), other);
         return r;
       }},
      {"packet-cut", Expect::Valid,  // a short snapshot: the payload's dissectors see a cut packet
       [](Bytes r, Rng& rng) -> std::optional<Bytes> {
         const auto packets =
             tlvs_where(r, [](uint16_t type, uint16_t) { return type == PWRU_TLV_PACKET; });
         if (packets.empty()) return std::nullopt;
         resize_value(r, packets[0], below(rng, get16(r, packets[0] + 2)));
         return r;
       }},
      {"huge-values", Expect::Valid,  // every fixed field all ones: unknown probe, layer, reason
       [](Bytes r, Rng&) -> std::optional<Bytes> {
         for (size_t at : tlvs(r)) {
           const uint16_t type = get16(r, at);
           if (fixed_size(type) != 0 && type != PWRU_TLV_IPV4_SRC && type != PWRU_TLV_IPV4_DST)
             std::fill_n(r.begin() + static_cast<long>(at + PWRU_TLV_HEADER_LEN), fixed_size(type), 0xff);
         }
         return r;
       }},
      {"many-fields", Expect::Valid,  // thousands of stack frames and unknown fields
       [](Bytes r, Rng& rng) -> std::optional<Bytes> {
         for (size_t n = 0; n < 3000; ++n) {
           const bool frame = below(rng, 2) == 0;
           const Bytes value = frame ? Bytes{'f', '+', static_cast<uint8_t>('0' + n % 10)}
                                     : random_bytes(rng, below(rng, 8));
           // Past the last known type: unknown fields, skipped.
           const auto type =
               static_cast<uint16_t>(frame ? size_t{PWRU_TLV_STACK_FRAME}
                                           : first_unknown_type() + below(rng, 1000));
           const Bytes t = tlv(type, value);
           r.insert(r.end(), t.begin(), t.end());
         }
         return r;
       }},
      {"odd-strings", Expect::Valid,  // empty, NUL bytes, invalid UTF-8, control characters
       [](Bytes r, Rng& rng) -> std::optional<Bytes> {
         const Bytes odd[] = {{}, {0}, {'a', 0, 'b'}, {0xff, 0xfe, 0xc3}, {'\n', '\t', 0x1b, '%', 's', '%', 'n'},
                              Bytes(300, '+')};
         const auto strings = tlvs_where(r, [](uint16_t type, uint16_t) {
           return type == PWRU_TLV_FUNC || type == PWRU_TLV_COMM || type == PWRU_TLV_IFNAME ||
                  type == PWRU_TLV_DROP_REASON_NAME || type == PWRU_TLV_CALLER ||
                  type == PWRU_TLV_STACK_FRAME;
         });
         // From the last, so that the earlier offsets stay right.
         for (auto it = strings.rbegin(); it != strings.rend(); ++it) {
           const Bytes& s = odd[below(rng, std::size(odd))];
           resize_value(r, *it, s.size());
           std::copy(s.begin(), s.end(), r.begin() + static_cast<long>(*it + PWRU_TLV_HEADER_LEN));
         }
         return r;
       }},
      {"random-bytes", Expect::Reference,
       [](Bytes r, Rng& rng) -> std::optional<Bytes> {
         r = random_bytes(rng, below(rng, 48));
         if (r.size() >= 2 && below(rng, 2) == 0) set16(r, 0, PWRU_RECORD_VERSION);  // get further
         return r;
       }},
  };
  return categories;
}

struct ManifestLine {
  std::string file, category, frames, malformed, shorts;
};

void write_file(const std::string& path, const Bytes& data) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) die("cannot create " + path + ": " + std::strerror(errno));
  if (std::fwrite(data.data(), 1, data.size(), f) != data.size() || std::fclose(f) != 0)
    die("cannot write " + path + ": " + std::strerror(errno));
}

std::string join(const std::vector<size_t>& v) {
  std::string s;
  for (size_t x : v) s += (s.empty() ? "" : ",") + std::to_string(x);
  return s;
}

size_t epb_count(const std::vector<Block>& blocks) {
  size_t n = 0;
  for (const Block& b : blocks) n += b.type == kEpb;
  return n;
}

// Every record of the source damaged, twice over: frames 1..N then N+1..2N.
ManifestLine record_file(const std::vector<Block>& source, const RecordCategory& cat,
                         const std::string& dir) {
  Rng rng(static_cast<uint32_t>(std::hash<std::string>{}(cat.name) & 0xffffffff) ^ 20231114u);
  // The blocks before the first EPB (SHB, IDB), the EPBs twice, the blocks after them (ISB).
  std::vector<Block> out, epbs, tail;
  for (const Block& b : source) (b.type == kEpb ? epbs : epbs.empty() ? out : tail).push_back(b);
  std::vector<size_t> bad;
  size_t frame = 0;
  for (int round = 0; round < 2; ++round) {
    for (const Block& b : epbs) {
      ++frame;
      Block epb = b;
      const std::optional<Bytes> damaged = cat.damage(epb_record(b), rng);
      const Bytes record = damaged.value_or(epb_record(b));
      const bool is_malformed = malformed(record);
      if (damaged && cat.expect != Expect::Reference &&
          is_malformed != (cat.expect == Expect::Malformed))
        die(std::string(cat.name) + ": frame " + std::to_string(frame) + " came out " +
            (is_malformed ? "malformed" : "valid") + " against the category's intent");
      if (is_malformed) bad.push_back(frame);
      set_epb_record(epb, record);
      out.push_back(std::move(epb));
    }
  }
  out.insert(out.end(), tail.begin(), tail.end());
  const std::string file = std::string(cat.name) + ".pcapng";
  write_file(dir + "/" + file, serialize(out));
  return {file, cat.name, std::to_string(frame), join(bad), ""};
}

// Damage to the pcapng structure itself, applied to the serialized source.
struct FileCategory {
  const char* name;
  // Changes the blocks or the bytes; returns the frames whose record the EPB cuts (short).
  std::function<std::vector<size_t>(std::vector<Block>&, Bytes&)> damage;
  bool readable;  // tshark must read every frame (else: "-")
};

size_t nth_block(const std::vector<Block>& blocks, uint32_t type, size_t n = 0) {
  for (size_t i = 0; i < blocks.size(); ++i)
    if (blocks[i].type == type && n-- == 0) return i;
  die("the source has too few blocks of type " + std::to_string(type));
}

// Byte offset of block `index` in the serialized file.
size_t block_offset(const std::vector<Block>& blocks, size_t index) {
  size_t off = 0;
  for (size_t i = 0; i < index; ++i) off += blocks[i].body.size() + 12;
  return off;
}

const std::vector<FileCategory>& file_categories() {
  using Blocks = std::vector<Block>;
  static const std::vector<FileCategory> categories = {
      {"file-empty", [](Blocks&, Bytes& f) { f.clear(); return std::vector<size_t>{}; }, false},
      {"file-only-shb", [](Blocks& b, Bytes& f) { f.resize(b[0].body.size() + 12); return std::vector<size_t>{}; }, false},
      {"file-cut-in-epb-header", [](Blocks& b, Bytes& f) {
         f.resize(block_offset(b, nth_block(b, kEpb, 3)) + 14); return std::vector<size_t>{}; }, false},
      {"file-cut-in-record", [](Blocks& b, Bytes& f) {
         f.resize(block_offset(b, nth_block(b, kEpb, 4)) + 60); return std::vector<size_t>{}; }, false},
      {"file-cut-before-trailer", [](Blocks& b, Bytes& f) {
         const size_t i = nth_block(b, kEpb, 5);
         f.resize(block_offset(b, i) + b[i].body.size() + 10); return std::vector<size_t>{}; }, false},
      {"file-no-isb", [](Blocks& b, Bytes& f) {
         f.resize(block_offset(b, nth_block(b, kIsb))); return std::vector<size_t>{}; }, true},
      {"block-length-too-small", [](Blocks& b, Bytes& f) {
         set32(f, block_offset(b, nth_block(b, kEpb, 2)) + 4, 16); return std::vector<size_t>{}; }, false},
      {"block-length-too-large", [](Blocks& b, Bytes& f) {
         set32(f, block_offset(b, nth_block(b, kEpb, 2)) + 4, 0x7ffffff0); return std::vector<size_t>{}; }, false},
      {"block-length-unaligned", [](Blocks& b, Bytes& f) {
         const size_t at = block_offset(b, nth_block(b, kEpb, 2)) + 4;
         set32(f, at, get32(f, at) + 2); return std::vector<size_t>{}; }, false},
      {"block-trailer-mismatch", [](Blocks& b, Bytes& f) {
         const size_t i = nth_block(b, kEpb, 2);
         const size_t at = block_offset(b, i) + b[i].body.size() + 8;
         set32(f, at, get32(f, at) + 4); return std::vector<size_t>{}; }, false},
      {"epb-caplen-beyond-block", [](Blocks& b, Bytes& f) {
         const size_t at = block_offset(b, nth_block(b, kEpb, 2)) + 8 + 12;
         set32(f, at, get32(f, at) + 400); return std::vector<size_t>{}; }, false},
      {"epb-caplen-huge", [](Blocks& b, Bytes& f) {
         set32(f, block_offset(b, nth_block(b, kEpb, 2)) + 8 + 12, 0xfffffff0); return std::vector<size_t>{}; }, false},
      {"epb-caplen-below-origlen", [](Blocks& b, Bytes&) {
         // Every record cut by its EPB (captured < original length), as a snapshot length would.
         std::vector<size_t> cut;
         for (Block& epb : b) {
           if (epb.type != kEpb) continue;
           cut.push_back(cut.size() + 1);
           const uint32_t caplen = get32(epb.body, 12);
           const auto keep = static_cast<uint32_t>(kTagsLen + (cut.size() * 7) % (caplen - kTagsLen));
           epb.body.resize((kEpbFixed + keep + 3) / 4 * 4);
           std::fill(epb.body.begin() + kEpbFixed + keep, epb.body.end(), 0);
           set32(epb.body, 12, keep);
         }
         return cut; }, true},
      {"epb-caplen-zero", [](Blocks& b, Bytes&) {
         Bytes& body = b[nth_block(b, kEpb, 2)].body;
         body.resize(kEpbFixed);
         set32(body, 12, 0);  // the original length stays: all of frame 3 is cut
         return std::vector<size_t>{3}; }, true},
      {"epb-bad-interface", [](Blocks& b, Bytes& f) {
         set32(f, block_offset(b, nth_block(b, kEpb, 2)) + 8, 7); return std::vector<size_t>{}; }, false},
      {"idb-link-type-ethernet", [](Blocks& b, Bytes& f) {
         f[block_offset(b, nth_block(b, kIdb)) + 8] = 1; return std::vector<size_t>{}; }, true},
      {"idb-tsresol-odd", [](Blocks& b, Bytes&) {
         Bytes& body = b[nth_block(b, kIdb)].body;
         for (size_t off = 8; off + 4 <= body.size(); off += 4 + (get16(body, off + 2) + 3) / 4 * 4)
           // 2^-63 s: the finest Wireshark 4.4 and later accept (2^-127 they refuse to open).
           if (get16(body, off) == 9) body[off + 4] = 0xbf;
         return std::vector<size_t>{}; }, true},
      {"isb-counts-huge", [](Blocks& b, Bytes&) {
         Bytes& body = b[nth_block(b, kIsb)].body;
         for (size_t off = 12; off + 4 <= body.size(); off += 4 + (get16(body, off + 2) + 3) / 4 * 4)
           if (get16(body, off) == 4 || get16(body, off) == 5 || get16(body, off) == 8)
             std::fill_n(body.begin() + static_cast<long>(off + 4), 8, 0xff);
         return std::vector<size_t>{}; }, true},
      {"isb-bad-interface", [](Blocks& b, Bytes&) {
         set32(b[nth_block(b, kIsb)].body, 0, 3); return std::vector<size_t>{}; }, false},
      {"isb-option-too-long", [](Blocks& b, Bytes&) {
         set16(b[nth_block(b, kIsb)].body, 14, 0x1000); return std::vector<size_t>{}; }, false},
      {"shb-bad-magic", [](Blocks&, Bytes& f) { set32(f, 8, 0x12345678); return std::vector<size_t>{}; }, false},
      {"shb-major-version-2", [](Blocks&, Bytes& f) { set16(f, 12, 2); return std::vector<size_t>{}; }, false},
      {"second-section-without-idb", [](Blocks& b, Bytes&) {
         b.insert(b.begin() + static_cast<long>(nth_block(b, kEpb, 4)), b[0]); return std::vector<size_t>{}; }, false},
  };
  return categories;
}

// The block-level categories rewrite blocks first (then serialized) or bytes of the
// serialization: a category touching `blocks` is re-serialized before its byte edits.
ManifestLine file_file(const std::vector<Block>& source, const FileCategory& cat,
                       const std::string& dir) {
  std::vector<Block> blocks = source;
  Bytes bytes = serialize(blocks);
  const std::vector<Block> before = blocks;
  std::vector<size_t> shorts = cat.damage(blocks, bytes);
  bool blocks_changed = blocks.size() != before.size();
  for (size_t i = 0; !blocks_changed && i < blocks.size(); ++i)
    blocks_changed = blocks[i].body != before[i].body;
  if (blocks_changed) bytes = serialize(blocks);
  const std::string file = std::string(cat.name) + ".pcapng";
  write_file(dir + "/" + file, bytes);
  std::vector<size_t> bad;
  size_t frame = 0;
  for (const Block& b : source)
    if (b.type == kEpb && malformed(epb_record(b))) bad.push_back(++frame);
    else if (b.type == kEpb) ++frame;
  // A record cut by its EPB may be marked malformed as well as short: not checked then.
  return {file, cat.name, cat.readable ? std::to_string(epb_count(source)) : "-",
          cat.readable && shorts.empty() ? join(bad) : "-", join(shorts)};
}

}  // namespace

int main(int argc, char** argv) {
  const bool records = argc == 4 && std::string(argv[1]) == "--records";
  if (argc != 3 && !records) {
    std::fprintf(stderr, "usage: pwru-corrupt [--records] SOURCE.pcapng OUTDIR\n");
    return 2;
  }
  const std::string source_path = argv[argc - 2], dir = argv[argc - 1];
  const std::vector<Block> source = read_blocks(source_path);

  if (records) {
    int n = 0;
    for (const Block& b : source) {
      if (b.type != kEpb) continue;
      char name[32];
      std::snprintf(name, sizeof name, "/record-%02d", ++n);
      write_file(dir + name, epb_record(b));
    }
    return 0;
  }

  std::vector<ManifestLine> lines;
  for (const RecordCategory& cat : record_categories()) lines.push_back(record_file(source, cat, dir));
  for (const FileCategory& cat : file_categories()) lines.push_back(file_file(source, cat, dir));
  std::string manifest;
  for (const ManifestLine& l : lines)
    manifest += l.file + '\t' + l.category + '\t' + l.frames + '\t' + l.malformed + '\t' + l.shorts + '\n';
  write_file(dir + "/manifest.tsv", Bytes(manifest.begin(), manifest.end()));
  return 0;
}
