// parse_options from a list of words, for the options' tests: as a Result, or expected to parse;
// and what --help says of one option.
#pragma once

#include <gtest/gtest.h>

#include <regex>
#include <string>
#include <vector>

#include "cli/options.h"

namespace pwru {

inline Result<Options> parse(std::vector<std::string> args) { return parse_options(args); }

inline Options parse_ok(std::vector<std::string> args) {
  auto o = parse(args);
  EXPECT_TRUE(o.ok()) << (o.ok() ? "" : o.error().text());
  return o.ok() ? o.value() : Options{};
}

// What --help says of `option`, up to the next blank line, each run of white space one space:
// CLI11 wraps help text at different places from one version to the next (2.6 wraps it).
inline std::string help_of(const std::string& option) {
  const std::string help = parse_ok({"--help"}).print;
  const size_t at = help.find(option);
  EXPECT_NE(at, std::string::npos) << option << " in: " << help;
  if (at == std::string::npos) return {};
  const std::string text = help.substr(at, help.find("\n\n", at) - at);
  return std::regex_replace(text, std::regex("\\s+"), " ");
}

}  // namespace pwru
