// libFuzzer target over the pwru record: each input is one record, read by both of its readers.
//
// The reference decoder (pwru::decode_record) and the dissector parse records with code of their
// own (spans; tvbs), so both run on every input, and they must agree: the dissector marks a record
// malformed (pwru.truncated, pwru.bad_version, pwru.bad_length, pwru.mixed_families) exactly when
// the decoder rejects it. A record the decoder accepts must survive encode -> decode -> encode
// unchanged. The dissector runs as tshark -2 runs it: the record is two frames of a capture (the
// second continues the first one's journey), a first pass without a tree, a second with one,
// with the three stats trees listening on the "pwru" tap and printed at the end.
//
// One epan session serves kInputsPerSession inputs, as one long capture (a fresh session costs a
// quarter of a second), so an input's journeys may continue an earlier input's. A crash may then
// need the inputs before it: with PWRU_FUZZ_SESSION_LOG=FILE every input of the current session
// is appended to FILE (a 4-byte little-endian length, then the input) before it runs, and
// PWRU_FUZZ_REPLAY=FILE runs such a file's inputs in order in one session, then exits: the crash
// again, with its history.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <span>
#include <vector>

#include <wireshark.h>
#include <cfile.h>
#include <epan/dfilter/dfilter.h>
#include <epan/epan.h>
#include <epan/epan_dissect.h>
#include <epan/frame_data.h>
#include <epan/prefs.h>
#include <epan/proto.h>
#include <epan/stats_tree_priv.h>
#include <epan/tap.h>
#include <wiretap/wtap.h>
#include <wsutil/filesystem.h>
#include <wsutil/privileges.h>
#include <wsutil/wslog.h>
#include <sanitizer/lsan_interface.h>

#include "packet-pwru.h"
#include "pwru-compat.h"
#include "pwru_record.h"
#include "record.h"

namespace {

// What a frame of a pwrudump capture holds before the record: the exported-PDU tags naming the
// pwru dissector (docs/record-format.md).
constexpr uint8_t kPduTags[] = {0x00, 0x0c, 0x00, 0x04, 'p', 'w', 'r', 'u',
                                0x00, 0x00, 0x00, 0x00};

constexpr const char* kMalformedFilter =
    "pwru.truncated || pwru.bad_version || pwru.bad_length || pwru.mixed_families";
constexpr const char* kStatsTrees[] = {"pwru_funcs", "pwru_drops", "pwru_journeys"};
constexpr guint32 kFrames = 2;
constexpr guint32 kInputsPerSession = 10000;

dfilter_t* malformed_filter = nullptr;
epan_t* session = nullptr;
std::vector<stats_tree*> stats_trees;
// Frame numbers go on from input to input, as in one capture.
guint32 frame_count = 0;
// PWRU_FUZZ_SESSION_LOG: the inputs of the current session, rewritten with every new session.
const char* session_log_path = nullptr;
std::FILE* session_log = nullptr;
std::vector<uint8_t> frame_bytes;
Buffer frame_buffer;  // the record's bytes where Wireshark wants them (pwru_rec_set_bytes)
frame_data frames[kFrames];

// The input's frames are the last kFrames of the capture; earlier ones are gone.
const nstime_t* frame_ts(struct packet_provider_data*, guint32 frame_num) {
  if (frame_num <= frame_count || frame_num > frame_count + kFrames) return nullptr;
  return &frames[frame_num - frame_count - 1].abs_ts;
}

// One session for many inputs, as for one long capture: a fresh one per input would cost a
// quarter of a second (every protocol's init and cleanup routines).
epan_t* new_session() {
  static struct packet_provider_data prov = {};
  static const struct packet_provider_funcs funcs = [] {
    struct packet_provider_funcs f = {};
    f.get_frame_ts = frame_ts;
    return f;
  }();
  return epan_new(&prov, &funcs);
}

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "record_fuzzer: %s\n", what);
  std::abort();
}

// A record the decoder accepted: what the encoder writes for its event decodes, and encodes to
// the same bytes again.
void check_round_trip(const pwru::Event& ev) {
  std::vector<uint8_t> once, twice;
  pwru::encode_record(ev, once);
  auto again = pwru::decode_record(once);
  if (!again) die("the decoder rejects what the encoder wrote");
  pwru::encode_record(*again, twice);
  if (once != twice) die("encode -> decode -> encode changed the record");
}

// Dissects the input's frame `i` (0-based); returns whether pwru marked it malformed (only
// known with a tree).
bool dissect_frame(guint32 i, bool with_tree, frame_data** prev_dis, guint32* cum_bytes) {
  const guint32 num = frame_count + 1 + i;
  wtap_rec rec;
  pwru_rec_init(&rec, &frame_buffer);
  rec.rec_type = REC_TYPE_PACKET;
  rec.presence_flags = WTAP_HAS_TS | WTAP_HAS_CAP_LEN;
  rec.ts.secs = 1700000000;
  rec.ts.nsecs = static_cast<int>(i * 1000);
  rec.tsprec = WTAP_TSPREC_NSEC;
  rec.rec_header.packet_header.caplen = static_cast<guint32>(frame_bytes.size());
  rec.rec_header.packet_header.len = static_cast<guint32>(frame_bytes.size());
  rec.rec_header.packet_header.pkt_encap = WTAP_ENCAP_WIRESHARK_UPPER_PDU;

  frame_data* fd = &frames[i];
  if (!with_tree) frame_data_init(fd, num, &rec, 0, *cum_bytes);
  nstime_t elapsed = NSTIME_INIT_ZERO;
  const frame_data* ref = nullptr;
  frame_data_set_before_dissect(fd, &elapsed, &ref, *prev_dis);

  epan_dissect_t* edt = epan_dissect_new(session, with_tree, with_tree);
  if (with_tree) epan_dissect_prime_with_dfilter(edt, malformed_filter);
  pwru_rec_set_bytes(&rec, &frame_buffer, frame_bytes.data(), frame_bytes.size());
  pwru_dissect_record(edt, WTAP_FILE_TYPE_SUBTYPE_UNKNOWN, &rec, &frame_buffer, fd,
                      /*with_taps=*/true);
  const bool malformed = with_tree && dfilter_apply_edt(malformed_filter, edt);
  epan_dissect_free(edt);
  if (!with_tree) frame_data_set_after_dissect(fd, cum_bytes);
  fd->visited = 1;
  *prev_dis = fd;
  pwru_rec_cleanup(&rec, &frame_buffer);
  return malformed;
}

// Appends `input` to the session log, flushed, so that it is on disk when this input crashes;
// the log starts over with every session (frame_count 0).
void log_input(std::span<const uint8_t> input) {
  if (session_log_path == nullptr) return;
  if (frame_count == 0 || session_log == nullptr) {
    if (session_log != nullptr) std::fclose(session_log);
    session_log = std::fopen(session_log_path, "wb");
    if (session_log == nullptr) die("cannot write PWRU_FUZZ_SESSION_LOG");
  }
  const auto n = static_cast<uint32_t>(input.size());
  const uint8_t len[4] = {static_cast<uint8_t>(n), static_cast<uint8_t>(n >> 8),
                          static_cast<uint8_t>(n >> 16), static_cast<uint8_t>(n >> 24)};
  if (std::fwrite(len, 1, sizeof(len), session_log) != sizeof(len) ||
      std::fwrite(input.data(), 1, input.size(), session_log) != input.size() ||
      std::fflush(session_log) != 0) {
    die("cannot write PWRU_FUZZ_SESSION_LOG");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

// Runs the inputs of a session log in order, in one session, as the fuzzer ran them; exits 0
// when none crashed.
[[noreturn]] void replay_session(const char* path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) die("cannot read PWRU_FUZZ_REPLAY");
  const std::vector<uint8_t> log((std::istreambuf_iterator<char>(in)), {});
  session_log_path = nullptr;  // the replay must not overwrite what it reads
  size_t off = 0, inputs = 0;
  while (off + 4 <= log.size()) {
    const uint32_t n = log[off] | log[off + 1] << 8 | log[off + 2] << 16 |
                       static_cast<uint32_t>(log[off + 3]) << 24;
    off += 4;
    if (n > log.size() - off) die("PWRU_FUZZ_REPLAY ends inside an input");
    LLVMFuzzerTestOneInput(log.data() + off, n);
    off += n;
    inputs++;
  }
  std::fprintf(stderr, "record_fuzzer: replayed %zu inputs of %s, no crash\n", inputs, path);
  std::exit(0);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char*** argv) {
  pwru_log_init("record_fuzzer");
  init_process_policies();
  relinquish_special_privs_perm();
  if (char* err = pwru_configuration_init((*argv)[0]); err != nullptr) die(err);
  // The dissector compiled in, registered as the plugin glue (dissector/plugin.cpp) does; no
  // plugin folders, so an installed pwru.so cannot register the protocol a second time.
  static proto_plugin plug;
  plug.register_protoinfo = proto_register_pwru;
  plug.register_handoff = proto_reg_handoff_pwru;
  proto_register_plugin(&plug);
  wtap_init(FALSE);
  if (!epan_init(nullptr, nullptr, FALSE)) die("cannot initialize epan");
  register_pwru_stat_trees();
  epan_load_settings();
  prefs_apply_all();
  gchar* err_msg = nullptr;
  if (!pwru_dfilter_compile(kMalformedFilter, &malformed_filter, &err_msg)) die(err_msg);
  // The stats trees listen for the whole run, as in tshark -z. Wireshark 4.0's stats_tree_new
  // loses a few bytes (stats_tree_free would not find them either): not ours, not reported.
  {
    __lsan::ScopedDisabler not_ours;
    for (const char* abbr : kStatsTrees) {
      stats_tree_cfg* cfg = stats_tree_get_cfg_by_abbr(abbr);
      if (cfg == nullptr) die("a pwru stats tree is not registered");
      stats_tree* st = stats_tree_new(cfg, nullptr, nullptr);
      GString* err = register_tap_listener(cfg->tapname, st, nullptr, cfg->flags,
                                           stats_tree_reset, stats_tree_packet, nullptr, nullptr);
      if (err != nullptr) die(err->str);
      if (cfg->init != nullptr) cfg->init(st);
      stats_trees.push_back(st);
    }
  }
  session = new_session();
  session_log_path = std::getenv("PWRU_FUZZ_SESSION_LOG");
  if (const char* replay = std::getenv("PWRU_FUZZ_REPLAY")) replay_session(replay);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // A record is one pcapng packet: the EPB length field bounds it to 32 bits, Wireshark reads
  // at most 256 KiB per packet. Larger inputs say nothing new.
  if (size > 65536 * 4) return -1;
  const std::span<const uint8_t> record(data, size);

  auto decoded = pwru::decode_record(record);
  if (decoded) check_round_trip(*decoded);

  frame_bytes.assign(std::begin(kPduTags), std::end(kPduTags));
  frame_bytes.insert(frame_bytes.end(), data, data + size);

  // A capture of kInputsPerSession inputs, then a new one, so that long runs keep the journeys
  // in bounded memory. (The stats trees keep a node for every name seen: stats_tree_reinit would
  // drop them, but then stats_tree_reset leaks in Wireshark 4.0.)
  if (frame_count == kInputsPerSession * kFrames) {
    epan_free(session);
    session = new_session();
    frame_count = 0;
  }
  log_input(record);
  // Counted from zero for every input.
  for (stats_tree* st : stats_trees) stats_tree_reset(st);

  // Two passes, as tshark -2 and the GUI read a file.
  frame_data* prev_dis = nullptr;
  guint32 cum_bytes = 0;
  for (guint32 i = 0; i < kFrames; ++i) dissect_frame(i, false, &prev_dis, &cum_bytes);
  prev_dis = nullptr;
  for (guint32 i = 0; i < kFrames; ++i) {
    const bool malformed = dissect_frame(i, true, &prev_dis, &cum_bytes);
    if (malformed != !decoded) {
      std::fprintf(stderr, "record_fuzzer: frame %u: the dissector %s, the decoder %s\n", i + 1,
                   malformed ? "marks the record malformed" : "reads the record",
                   decoded ? "reads it" : decoded.error().text().c_str());
      std::abort();
    }
  }

  for (stats_tree* st : stats_trees) {
    GString* text = stats_tree_format_as_str(st, ST_FORMAT_PLAIN, 0, TRUE);
    g_string_free(text, TRUE);
  }
  for (frame_data& fd : frames) frame_data_destroy(&fd);
  frame_count += kFrames;
  return 0;
}
