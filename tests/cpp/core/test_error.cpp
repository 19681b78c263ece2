// The error classes of error.hpp: a caller's mistake (MLCORE_CHECK → Error) and a broken internal
// invariant (MLCORE_ASSERT → InternalError) are told apart, so that a handler for the first (and
// Python's ValueError) never hides the second.
#include <gtest/gtest.h>

#include <string>

#include "mlcore/error.hpp"

namespace mlcore {
namespace {

int checked_half(int n) {
  MLCORE_ASSERT(n % 2 == 0, "n = " << n);
  return n / 2;
}

TEST(Errors, AssertPassesWhenTheInvariantHolds) { EXPECT_EQ(checked_half(6), 3); }

TEST(Errors, BrokenAssertThrowsInternalErrorWithWhereAndWhat) {
  try {
    checked_half(7);
    FAIL() << "MLCORE_ASSERT did not throw";
  } catch (const Error&) {
    FAIL() << "an internal bug must not look like a caller's mistake (mlcore::Error)";
  } catch (const InternalError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("test_error.cpp:"), std::string::npos) << what;
    EXPECT_NE(what.find("n % 2 == 0"), std::string::npos) << what;
    EXPECT_NE(what.find("n = 7"), std::string::npos) << what;
    EXPECT_NE(what.find("bug in mlcore"), std::string::npos) << what;
  }
}

TEST(Errors, CheckThrowsErrorNotInternalError) {
  auto bad_input = [] { MLCORE_CHECK(false, "k must be positive, got " << -1); };
  EXPECT_THROW(bad_input(), Error);
  try {
    bad_input();
  } catch (const std::exception& e) {
    EXPECT_EQ(dynamic_cast<const InternalError*>(&e), nullptr);
    EXPECT_STREQ(e.what(), "k must be positive, got -1");
  }
}

}  // namespace
}  // namespace mlcore
