// parse_options from a list of words, for the options' tests: as a Result, or expected to parse.
#pragma once

#include <gtest/gtest.h>

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

}  // namespace pwru
