// Tests for the pcapng writer (extcap/output/pcapng_writer.cpp): what it writes must read back
// through libpcap, tshark and capinfos, and byte by byte against the pcapng layout.
#include "output/pcapng_writer.h"

#include <gtest/gtest.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "ci_skip.h"
#include "pcapng_blocks.h"
#include "record.h"
#include "sample_events.h"

namespace pwru {
namespace {

using Bytes = std::vector<uint8_t>;

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

struct PcapCloser {
  void operator()(pcap_t* p) const { pcap_close(p); }
};
using PcapPtr = std::unique_ptr<pcap_t, PcapCloser>;

// A tool found at configure time; none means skip here, but fail in CI where it must exist.
#define REQUIRE_TOOL(path)                                                                      \
  do {                                                                                          \
    if (std::string(path).empty()) PWRU_SKIP_OR_FAIL(#path " was not found at configure time"); \
  } while (0)

const CaptureStats kStats = {
    .start_ns = 1'700'000'000'000'000'001ULL,
    .end_ns = 1'700'000'001'999'999'999ULL,
    .received = 10,
    .lost = 7,
    .delivered = 3,
};

class PcapngWriterTest : public testing::Test {
 protected:
  void SetUp() override {
    const testing::TestInfo* info = testing::UnitTest::GetInstance()->current_test_info();
    path_ =
        testing::TempDir() + "pwru_" + info->name() + "_" + std::to_string(getpid()) + ".pcapng";
  }
  void TearDown() override { std::remove(path_.c_str()); }

  // Writes `events` and the stats the way pwrudump does; returns the records written.
  // With `keepalives`, a keep-alive block after the header and after each record.
  std::vector<Bytes> write_capture(const std::vector<Event>& events, bool keepalives = false) {
    std::vector<Bytes> records;
    FilePtr f(std::fopen(path_.c_str(), "wb"));
    EXPECT_TRUE(f) << path_;
    if (!f) return records;
    StdioSink sink(f.get());
    PcapngWriter w(sink);
    check(w.write_header("pwru", "pwru: kernel skb tracer", "Linux 6.1", "pwrudump test"));
    if (keepalives) check(w.write_keepalive());
    for (const Event& ev : events) {
      records.emplace_back();
      encode_record(ev, records.back());
      check(w.write_record(ev.time_ns, records.back()));
      if (keepalives) check(w.write_keepalive());
    }
    check(w.write_stats(kStats));
    check(w.flush());
    return records;
  }

  static void check(const Status& s) { EXPECT_TRUE(s.ok()) << s.error().text(); }

  Bytes file_bytes() const {
    std::ifstream in(path_, std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(in), {});
  }

  std::string path_;
};

uint32_t le32(const Bytes& b, size_t off) {
  return b[off] | (b[off + 1] << 8) | (b[off + 2] << 16) | (uint32_t{b[off + 3]} << 24);
}
uint16_t le16(const Bytes& b, size_t off) {
  return static_cast<uint16_t>(b[off] | (b[off + 1] << 8));
}
uint64_t time_pair(const Bytes& b, size_t off) {
  return (uint64_t{le32(b, off)} << 32) | le32(b, off + 4);
}

std::string u64_bytes(uint64_t v) {
  std::string s;
  for (int i = 0; i < 8; ++i) s.push_back(static_cast<char>(v >> (8 * i)));
  return s;
}
std::string time_bytes(uint64_t ns) {
  return u64_bytes(ns >> 32).substr(0, 4) + u64_bytes(ns).substr(0, 4);
}

using pcapng::Block;

// Splits a little-endian pcapng file into blocks; the framing must hold to the end of the file.
std::vector<Block> read_blocks(const Bytes& file) {
  pcapng::Blocks got = pcapng::read_blocks(file);
  EXPECT_EQ(got.problem, "");
  return std::move(got.blocks);
}

// (code, value) pairs: gtest compares and prints them.
using Options = std::vector<std::pair<uint16_t, std::string>>;

// Parses an options list starting at `off` in `body`; it must end with opt_endofopt.
Options read_options(const Bytes& body, size_t off) {
  Options options;
  while (off + 4 <= body.size()) {
    const uint16_t code = le16(body, off);
    const uint16_t len = le16(body, off + 2);
    if (code == 0) {
      EXPECT_EQ(len, 0);
      EXPECT_EQ(off + 4, body.size()) << "bytes after opt_endofopt";
      return options;
    }
    EXPECT_LE(off + 4 + len, body.size());
    if (off + 4 + len > body.size()) break;
    options.emplace_back(code, std::string(body.begin() + off + 4, body.begin() + off + 4 + len));
    off += 4 + ((len + 3) & ~3U);
  }
  ADD_FAILURE() << "options list without opt_endofopt";
  return options;
}

// Splits an exported-PDU packet into its dissector name and the payload after the END tag.
struct ExportedPdu {
  std::string dissector;
  Bytes payload;
};
ExportedPdu split_exported_pdu(const uint8_t* data, size_t len) {
  ExportedPdu pdu;
  size_t off = 0;
  while (off + 4 <= len) {
    // Big-endian here, unlike the rest of the file.
    const uint16_t tag = static_cast<uint16_t>((data[off] << 8) | data[off + 1]);
    const uint16_t tag_len = static_cast<uint16_t>((data[off + 2] << 8) | data[off + 3]);
    off += 4;
    if (tag == PWRU_EXP_PDU_TAG_END) {
      EXPECT_EQ(tag_len, 0);
      pdu.payload.assign(data + off, data + len);
      return pdu;
    }
    EXPECT_LE(off + tag_len, len);
    if (off + tag_len > len) break;
    if (tag == PWRU_EXP_PDU_TAG_DISSECTOR_NAME) {
      EXPECT_EQ(tag_len % 4, 0) << "name not padded to 4 bytes";
      pdu.dissector.assign(reinterpret_cast<const char*>(data + off), tag_len);
      pdu.dissector.resize(pdu.dissector.find_last_not_of('\0') + 1);
    }
    off += tag_len;
  }
  ADD_FAILURE() << "exported PDU without END tag";
  return pdu;
}

// Runs a shell command; returns its stdout and puts its exit status in `status`.
std::string run(const std::string& command, int& status) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> p(popen(command.c_str(), "r"), pclose);
  if (!p) {
    status = -1;
    return {};
  }
  std::string out;
  char chunk[4096];
  while (size_t n = std::fread(chunk, 1, sizeof chunk, p.get())) out.append(chunk, n);
  const int raw = pclose(p.release());
  status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  return out;
}

TEST_F(PcapngWriterTest, LibpcapReadsPacketsWithNanosecondTimestamps) {
  const std::vector<Event> events = sample::three_hops();
  const std::vector<Bytes> records = write_capture(events);

  char errbuf[PCAP_ERRBUF_SIZE] = {};
  PcapPtr pcap(
      pcap_open_offline_with_tstamp_precision(path_.c_str(), PCAP_TSTAMP_PRECISION_NANO, errbuf));
  ASSERT_TRUE(pcap) << errbuf;
  EXPECT_EQ(pcap_datalink(pcap.get()), PWRU_LINKTYPE_UPPER_PDU);
  EXPECT_EQ(pcap_get_tstamp_precision(pcap.get()), PCAP_TSTAMP_PRECISION_NANO);

  size_t count = 0;
  pcap_pkthdr* hdr = nullptr;
  const u_char* data = nullptr;
  int rc = 0;
  while ((rc = pcap_next_ex(pcap.get(), &hdr, &data)) == 1) {
    ASSERT_LT(count, events.size());
    const Event& ev = events[count];
    // 12 bytes of tags: DISSECTOR_NAME "pwru" (4 + 4) and END (4).
    EXPECT_EQ(hdr->caplen, 12 + records[count].size()) << "packet " << count;
    EXPECT_EQ(hdr->len, hdr->caplen);
    // With NANO precision libpcap puts nanoseconds in tv_usec.
    EXPECT_EQ(uint64_t(hdr->ts.tv_sec) * 1'000'000'000ULL + uint64_t(hdr->ts.tv_usec), ev.time_ns);

    const ExportedPdu pdu = split_exported_pdu(data, hdr->caplen);
    EXPECT_EQ(pdu.dissector, PWRU_DISSECTOR_NAME);
    EXPECT_EQ(pdu.payload, records[count]);
    Result<Event> decoded = decode_record(pdu.payload);
    ASSERT_TRUE(decoded.ok()) << decoded.error().text();
    Event expected = ev;
    expected.time_ns = 0;  // the record leaves it to the pcapng timestamp
    EXPECT_EQ(*decoded, expected);
    ++count;
  }
  EXPECT_EQ(rc, PCAP_ERROR_BREAK) << pcap_geterr(pcap.get());
  EXPECT_EQ(count, events.size());
}

TEST_F(PcapngWriterTest, BlocksFollowThePcapngLayout) {
  const std::vector<Event> events = sample::three_hops();
  const std::vector<Bytes> records = write_capture(events);
  const std::vector<Block> blocks = read_blocks(file_bytes());
  ASSERT_EQ(blocks.size(), 2 + events.size() + 1);

  const Block& shb = blocks[0];
  EXPECT_EQ(shb.type, 0x0A0D0D0AU);
  ASSERT_GE(shb.body.size(), 16U);
  EXPECT_EQ(le32(shb.body, 0), 0x1A2B3C4DU);
  EXPECT_EQ(le16(shb.body, 4), 1);
  EXPECT_EQ(le16(shb.body, 6), 0);
  EXPECT_EQ(time_pair(shb.body, 8), ~uint64_t{0});  // section length unknown
  EXPECT_EQ(read_options(shb.body, 16), (Options{{3, "Linux 6.1"}, {4, "pwrudump test"}}));

  const Block& idb = blocks[1];
  EXPECT_EQ(idb.type, 1U);
  ASSERT_GE(idb.body.size(), 8U);
  EXPECT_EQ(le16(idb.body, 0), PWRU_LINKTYPE_UPPER_PDU);
  EXPECT_EQ(le32(idb.body, 4), 0U);  // snaplen: no limit
  EXPECT_EQ(read_options(idb.body, 8),
            (Options{{2, "pwru"}, {3, "pwru: kernel skb tracer"}, {9, "\x09"}}));

  for (size_t i = 0; i < events.size(); ++i) {
    const Block& epb = blocks[2 + i];
    EXPECT_EQ(epb.type, 6U);
    ASSERT_GE(epb.body.size(), 20U);
    EXPECT_EQ(le32(epb.body, 0), 0U);  // interface 0
    EXPECT_EQ(time_pair(epb.body, 4), events[i].time_ns);
    const uint32_t caplen = le32(epb.body, 12);
    EXPECT_EQ(caplen, 12 + records[i].size());
    EXPECT_EQ(le32(epb.body, 16), caplen);
    // Padding to 4 bytes, no options.
    EXPECT_EQ(epb.body.size(), 20 + ((caplen + 3) & ~3U));
  }

  const Block& isb = blocks.back();
  EXPECT_EQ(isb.type, 5U);
  ASSERT_GE(isb.body.size(), 12U);
  EXPECT_EQ(le32(isb.body, 0), 0U);
  EXPECT_EQ(time_pair(isb.body, 4), kStats.end_ns);
  // Times are (high, low) u32 pairs; counters are plain little-endian u64.
  EXPECT_EQ(read_options(isb.body, 12), (Options{{2, time_bytes(kStats.start_ns)},
                                                 {3, time_bytes(kStats.end_ns)},
                                                 {4, u64_bytes(*kStats.received)},
                                                 {5, u64_bytes(*kStats.lost)},
                                                 {8, u64_bytes(kStats.delivered)}}));
}

TEST_F(PcapngWriterTest, PadsPacketsOfEveryLength) {
  FilePtr f(std::fopen(path_.c_str(), "wb"));
  ASSERT_TRUE(f);
  StdioSink sink(f.get());
  PcapngWriter w(sink);
  check(w.write_header("", "", "", ""));  // empty strings: options left out
  for (uint8_t n = 0; n < 8; ++n) check(w.write_record(n, Bytes(n, n)));
  check(w.flush());
  f.reset();

  const std::vector<Block> blocks = read_blocks(file_bytes());
  ASSERT_EQ(blocks.size(), 2U + 8U);
  EXPECT_EQ(blocks[0].body.size(), 16U) << "SHB without options has no opt_endofopt";
  EXPECT_EQ(read_options(blocks[1].body, 8).size(), 1U) << "if_tsresol only";
  for (uint8_t n = 0; n < 8; ++n) {
    const Block& epb = blocks[2 + n];
    EXPECT_EQ(le32(epb.body, 12), 12U + n);
    EXPECT_EQ(epb.body.size(), 20U + ((12U + n + 3) & ~3U));
    // The record bytes follow the 12 tag bytes; the padding is zeros.
    EXPECT_EQ(Bytes(epb.body.begin() + 32, epb.body.begin() + 32 + n), Bytes(n, n));
    for (size_t i = 32U + n; i < epb.body.size(); ++i) EXPECT_EQ(epb.body[i], 0) << i;
  }
}

TEST_F(PcapngWriterTest, TsharkSeesThePwruDissectorNameInEveryPacket) {
  REQUIRE_TOOL(PWRU_TSHARK);
  const std::vector<Event> events = sample::three_hops();
  write_capture(events);

  const std::string err = path_ + ".stderr";
  int status = 0;
  const std::string out =
      run(std::string(PWRU_TSHARK) + " -r '" + path_ +
              "' -T fields -e frame.number -e exported_pdu.prot_name -e frame.time_epoch 2>'" +
              err + "'",
          status);
  std::ifstream err_in(err);
  const std::string err_text((std::istreambuf_iterator<char>(err_in)), {});
  std::remove(err.c_str());
  ASSERT_EQ(status, 0) << out << err_text;

  std::istringstream lines(out);
  std::string line;
  size_t count = 0;
  while (std::getline(lines, line)) {
    ASSERT_LT(count, events.size()) << out;
    const uint64_t t = events[count].time_ns;
    char epoch[64];
    std::snprintf(epoch, sizeof epoch, "%llu.%09llu",
                  static_cast<unsigned long long>(t / 1'000'000'000ULL),
                  static_cast<unsigned long long>(t % 1'000'000'000ULL));
    EXPECT_EQ(line, std::to_string(count + 1) + "\tpwru\t" + epoch);
    ++count;
  }
  EXPECT_EQ(count, events.size()) << out << err_text;
}

// Wireshark 4.0 shows isb_ifdrop only in the GUI's capture file properties; capinfos at least
// proves it parsed our ISB (the value itself is checked in BlocksFollowThePcapngLayout).
TEST_F(PcapngWriterTest, CapinfosReadsInterfaceAndStatistics) {
  REQUIRE_TOOL(PWRU_CAPINFOS);
  write_capture(sample::three_hops());
  int status = 0;
  const std::string out = run(std::string(PWRU_CAPINFOS) + " '" + path_ + "' 2>&1", status);
  ASSERT_EQ(status, 0) << out;
  for (const char* want :
       {"Number of packets:   3", "File timestamp precision:  nanoseconds (9)",
        "Capture oper-sys:    Linux 6.1", "Capture application: pwrudump test", "Name = pwru",
        "Description = pwru: kernel skb tracer", "Time resolution = 0x09",
        "Number of stat entries = 1", "Capture length = 0"}) {
    EXPECT_NE(out.find(want), std::string::npos) << "missing \"" << want << "\" in:\n" << out;
  }
}

// A keep-alive block is 12 bytes of a local-use type, and readers skip it: libpcap, tshark (the
// packets and nothing else) and capinfos (still one statistics entry).
TEST_F(PcapngWriterTest, KeepaliveBlocksAreSkippedByReaders) {
  const std::vector<Event> events = sample::three_hops();
  write_capture(events, true);
  const std::vector<Block> blocks = read_blocks(file_bytes());
  ASSERT_EQ(blocks.size(), 2 + 2 * events.size() + 2);
  EXPECT_EQ(blocks[2].type, kKeepaliveBlockType);
  EXPECT_TRUE(blocks[2].body.empty());
  EXPECT_EQ(kKeepaliveBlockType >> 31, 1u) << "local use: bit 31 set";

  char errbuf[PCAP_ERRBUF_SIZE] = {};
  PcapPtr pcap(pcap_open_offline(path_.c_str(), errbuf));
  ASSERT_TRUE(pcap) << errbuf;
  size_t count = 0;
  pcap_pkthdr* hdr = nullptr;
  const u_char* data = nullptr;
  while (pcap_next_ex(pcap.get(), &hdr, &data) == 1) ++count;
  EXPECT_EQ(count, events.size());

  REQUIRE_TOOL(PWRU_TSHARK);
  int status = 0;
  std::string out = run(std::string(PWRU_TSHARK) + " -r '" + path_ +
                            "' -T fields -e exported_pdu.prot_name 2>/dev/null",
                        status);
  ASSERT_EQ(status, 0) << out;
  EXPECT_EQ(out, "pwru\npwru\npwru\n");
  REQUIRE_TOOL(PWRU_CAPINFOS);
  out = run(std::string(PWRU_CAPINFOS) + " '" + path_ + "' 2>&1", status);
  ASSERT_EQ(status, 0) << out;
  for (const char* want : {"Number of packets:   3", "Number of stat entries = 1"}) {
    EXPECT_NE(out.find(want), std::string::npos) << "missing \"" << want << "\" in:\n" << out;
  }
}

// Ignores SIGPIPE for one test, as pwrudump must for EPIPE to reach the writer.
class IgnoreSigpipe {
 public:
  IgnoreSigpipe() {
    struct sigaction ign = {};
    ign.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &ign, &old_);
  }
  ~IgnoreSigpipe() { sigaction(SIGPIPE, &old_, nullptr); }
  IgnoreSigpipe(const IgnoreSigpipe&) = delete;
  IgnoreSigpipe& operator=(const IgnoreSigpipe&) = delete;

 private:
  struct sigaction old_ = {};
};

TEST(PcapngWriterErrorTest, ReportsABrokenPipeAndStaysFailed) {
  IgnoreSigpipe ignore;
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  close(fds[0]);  // the reader is gone, like Wireshark after a stop
  FilePtr f(fdopen(fds[1], "wb"));
  ASSERT_TRUE(f);
  StdioSink sink(f.get());
  PcapngWriter w(sink);
  EXPECT_FALSE(w.broken_pipe());
  EXPECT_EQ(w.error_errno(), 0);

  // stdio may buffer the header: the failure shows at the latest on flush().
  Status s = w.write_header("pwru", "", "Linux", "test");
  if (s.ok()) s = w.flush();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ExitCode::Output);
  EXPECT_NE(s.error().message.find("Broken pipe"), std::string::npos) << s.error().message;
  EXPECT_TRUE(w.broken_pipe());
  EXPECT_EQ(w.error_errno(), EPIPE);

  const Status again = w.write_record(1, Bytes{1, 2, 3});
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().message, s.error().message);
}

TEST(PcapngWriterErrorTest, ReportsAFullDiskAsAnOutputErrorThatIsNoBrokenPipe) {
  FilePtr f(std::fopen("/dev/full", "wb"));
  if (!f) PWRU_SKIP_OR_FAIL("no /dev/full here");
  StdioSink sink(f.get());
  PcapngWriter w(sink);
  Status s = w.write_header("pwru", "", "", "");
  if (s.ok()) s = w.flush();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ExitCode::Output);
  EXPECT_EQ(w.error_errno(), ENOSPC);
  EXPECT_FALSE(w.broken_pipe());
  EXPECT_FALSE(s.error().hint.empty());
}

}  // namespace
}  // namespace pwru
