// Tests for the output files' options (extcap/cli/options.cpp): pwru's --output-file-* and
// dumpcap's -b with their meaning and defaults, the pwru flags pwrudump accepts without a use
// (--kmods, --all-kmods, --filter-kprobe-batch), their groups in --help, and their errors.
#include <gtest/gtest.h>

#include <regex>
#include <string>
#include <vector>

#include "cli/options.h"
#include "cli/parse_helpers.h"

namespace pwru {
namespace {

// The error's text, checked to be a usage error in our format.
std::string usage_error(std::vector<std::string> args) {
  auto o = parse(args);
  EXPECT_FALSE(o.ok());
  if (o.ok()) return {};
  EXPECT_EQ(o.error().code, ExitCode::Usage);
  EXPECT_EQ(o.error().message.rfind("cannot ", 0), 0u) << o.error().message;
  EXPECT_FALSE(o.error().hint.empty()) << o.error().message;
  return o.error().message;
}

TEST(OptionsFiles, DefaultsArePwrus) {
  const Options o = parse_ok({"--output-file", "out"});
  EXPECT_EQ(o.text_rotation.max_bytes, 100u << 20);
  EXPECT_EQ(o.text_rotation.max_backups, 0u);
  EXPECT_EQ(o.text_rotation.max_age_days, 0u);
  EXPECT_FALSE(o.text_rotation.compress);
  EXPECT_FALSE(o.ring.enabled());
}

TEST(OptionsFiles, OutputFileRotation) {
  Options o = parse_ok({"--output-file", "out", "--output-file-max-size", "5",
                        "--output-file-max-backups", "3", "--output-file-max-age", "7",
                        "--output-file-compress"});
  EXPECT_EQ(o.text_rotation.max_bytes, 5u << 20);  // MB of 2^20 bytes, as lumberjack's
  EXPECT_EQ(o.text_rotation.max_backups, 3u);
  EXPECT_EQ(o.text_rotation.max_age_days, 7u);
  EXPECT_TRUE(o.text_rotation.compress);
  // 0 is pwru's default, as lumberjack reads it.
  EXPECT_EQ(parse_ok({"--output-file-max-size", "0"}).text_rotation.max_bytes, 100u << 20);
  EXPECT_NE(usage_error({"--output-file-max-size", "-1"}).find("--output-file-max-size"),
            std::string::npos);
  EXPECT_NE(usage_error({"--output-file-max-backups", "x"}).find("--output-file-max-backups"),
            std::string::npos);
  EXPECT_NE(usage_error({"--output-file-max-age", "99999999999"}).find("too large"),
            std::string::npos);
}

TEST(OptionsFiles, RingOfPcapngFiles) {
  Options o = parse_ok({"-w", "out.pcapng", "-b", "filesize:1000", "-b", "files:5", "icmp"});
  EXPECT_EQ(o.ring.filesize_bytes, 1'000'000u);
  EXPECT_EQ(o.ring.files, 5u);
  EXPECT_EQ(o.filter, "icmp");  // -b takes one value: the filter is not swallowed
  o = parse_ok({"-w", "out.pcapng", "--ring-buffer", "duration:60,files:3"});
  EXPECT_EQ(o.ring.duration_ns, 60'000'000'000u);
  EXPECT_EQ(o.ring.files, 3u);

  EXPECT_NE(usage_error({"-b", "filesize:10"}).find("-b: it needs -w FILE"), std::string::npos);
  EXPECT_NE(usage_error({"-w", "-", "-b", "filesize:10"}).find("-b: it needs -w FILE"),
            std::string::npos);
  EXPECT_NE(usage_error({"-w", "o", "-b", "bogus:1"}).find("unknown key"), std::string::npos);
  // In extcap mode Wireshark's dumpcap writes the files.
  EXPECT_NE(usage_error({"--capture", "--extcap-interface", "pwru", "--fifo", "/tmp/f", "-b",
                         "filesize:10"})
                .find("-b is for -w files"),
            std::string::npos);
}

TEST(OptionsFiles, PwruFlagsWithoutAUseAreAccepted) {
  const Options plain = parse_ok({"icmp"});
  const Options o = parse_ok({"--kmods", "nf_tables,br_netfilter", "--all-kmods",
                              "--filter-kprobe-batch", "50", "icmp"});
  EXPECT_EQ(o.filter, "icmp");
  EXPECT_EQ(o.trace.filter_func, plain.trace.filter_func);
  EXPECT_EQ(o.trace.backend, plain.trace.backend);
  EXPECT_NE(usage_error({"--filter-kprobe-batch", "-3"}).find("--filter-kprobe-batch"),
            std::string::npos);
}

// Each new flag in its group of pwru's: the flag sits after its group's title and before the
// next title.
TEST(OptionsFiles, HelpGroups) {
  // CLI11 2.6 writes "-b, --ring-buffer".
  const std::string help = std::regex_replace(parse_ok({"--help"}).print, std::regex(", +--"), ",--");
  const std::vector<std::pair<std::string, std::string>> flags = {
      {"--kmods", "Filters:"},
      {"--all-kmods", "Filters:"},
      {"-b,--ring-buffer", "Output:"},
      {"--output-file-max-size", "Output:"},
      {"--output-file-max-backups", "Output:"},
      {"--output-file-max-age", "Output:"},
      {"--output-file-compress", "Output:"},
      {"--filter-kprobe-batch", "Backend:"},
  };
  for (const auto& [flag, group] : flags) {
    const size_t title = help.find("\n" + group + "\n");
    const size_t at = help.find("  " + flag + " ", title);
    ASSERT_NE(title, std::string::npos) << group;
    EXPECT_LT(at, help.find("\n\n", title + 2)) << flag << " not in " << group << "\n" << help;
  }
  // What pwrudump does instead is said where the flag is.
  EXPECT_NE(help_of("--kmods").find("pwrudump probes every loaded module by default"),
            std::string::npos);
}

}  // namespace
}  // namespace pwru
