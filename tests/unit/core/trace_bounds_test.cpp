// check_bounds: each bound's edges, and that every refusal is a usage error naming its option.
#include "core/trace_bounds.h"

#include <gtest/gtest.h>

#include <ostream>
#include <string>

namespace pwru {
namespace {

struct Case {
  const char* name;
  uint32_t snaplen;
  uint32_t ringbuf_bytes;
  const char* backend;
  const char* refused;  // the option the error names, nullptr when the options are in bounds
};

// Each case by its name, in the test's name and where the test discovery prints the parameter
// (which would otherwise be its raw bytes, pointers included).
std::string case_name(const testing::TestParamInfo<Case>& info) { return info.param.name; }
void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class Bounds : public testing::TestWithParam<Case> {};

TEST_P(Bounds, RefusesOnlyWhatIsOutOfBounds) {
  const Case& c = GetParam();
  TraceOptions o;
  o.snaplen = c.snaplen;
  o.ringbuf_bytes = c.ringbuf_bytes;
  o.backend = c.backend;
  Status st = check_bounds(o);
  if (!c.refused) {
    EXPECT_TRUE(st.ok()) << st.error().text();
    return;
  }
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ExitCode::Usage);
  EXPECT_EQ(st.error().message.rfind(std::string("cannot use ") + c.refused, 0), 0u)
      << st.error().message;
  EXPECT_FALSE(st.error().hint.empty());
}

constexpr uint32_t k16M = 16u << 20;

INSTANTIATE_TEST_SUITE_P(
    EachBound, Bounds,
    testing::Values(Case{"defaults", 256, k16M, "auto", nullptr},
                    Case{"snaplen_zero", 0, k16M, "auto", nullptr},
                    Case{"snaplen_most", kMaxSnaplen, k16M, "auto", nullptr},
                    Case{"snaplen_above", kMaxSnaplen + 1, k16M, "auto", "--snaplen 4097"},
                    Case{"ringbuf_least", 0, kMinRingbufBytes, "auto", nullptr},
                    Case{"ringbuf_most", 0, kMaxRingbufBytes, "auto", nullptr},
                    Case{"ringbuf_zero", 0, 0, "auto", "--ringbuf-size 0"},
                    Case{"ringbuf_below", 0, 2048, "auto", "--ringbuf-size 2048"},
                    Case{"ringbuf_not_power", 0, 3u << 20, "auto", "--ringbuf-size 3145728"},
                    Case{"ringbuf_above", 0, kMaxRingbufBytes * 2, "auto", "--ringbuf-size"},
                    Case{"backend_tracepoint", 0, k16M, "tracepoint", nullptr},
                    Case{"backend_fentry", 0, k16M, "fentry", nullptr},
                    Case{"backend_unknown", 0, k16M, "uprobe", "--backend uprobe"},
                    Case{"backend_empty", 0, k16M, "", "--backend"}),
    case_name);

// The extcap dialog offers these ranges: a ring buffer bound that check_bounds refused would be
// offered and then fail the capture.
TEST(Bounds, RangesAreTheirOwnEdges) {
  EXPECT_EQ(kMinRingbufBytes & (kMinRingbufBytes - 1), 0u);
  EXPECT_EQ(kMaxRingbufBytes & (kMaxRingbufBytes - 1), 0u);
  EXPECT_LE(kMaxRingbufBytes, static_cast<uint32_t>(INT32_MAX));
}

}  // namespace
}  // namespace pwru
