// PWRU_SKIP_OR_FAIL: a missing requirement skips a test on a developer's machine and fails it in
// CI (CI=true), where everything must run; the same rule as the shell tests' skip_or_fail.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <string_view>

// Not pwru::testing: that name would hide GoogleTest's ::testing inside namespace pwru.
namespace pwru::ci {

// Whether this run is CI's, where every test must run.
inline bool required() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string_view(ci) == "true";
}

}  // namespace pwru::ci

// A macro, because FAIL() and GTEST_SKIP() return from the test body that uses them.
#define PWRU_SKIP_OR_FAIL(why)                                              \
  do {                                                                      \
    if (::pwru::ci::required()) FAIL() << "CI must run this test: " << why; \
    GTEST_SKIP() << why;                                                    \
  } while (0)
