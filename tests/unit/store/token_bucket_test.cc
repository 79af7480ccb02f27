#include "store/internal/token_bucket.h"

#include <gtest/gtest.h>

namespace sluice::internal {
namespace {

TEST(TokenBucketTest, BurstThenSteadyRatePerKey) {
  int64_t now = 5'000'000;
  TokenBuckets b(10, [&] { return now; });
  for (int i = 0; i < 10; ++i) EXPECT_EQ(b.Acquire("lake"), 0) << i;
  // Without time passing, each next request waits one more 1/rate.
  EXPECT_EQ(b.Acquire("lake"), 100'000);
  EXPECT_EQ(b.Acquire("lake"), 200'000);
  // Another prefix has its own budget.
  EXPECT_EQ(b.Acquire("staging"), 0);
  // After the reserved time has passed, the next one waits a single interval.
  now += 200'000;
  EXPECT_EQ(b.Acquire("lake"), 100'000);
  // A long pause refills up to one second's burst, not more.
  now += 60'000'000;
  for (int i = 0; i < 10; ++i) EXPECT_EQ(b.Acquire("lake"), 0) << i;
  EXPECT_EQ(b.Acquire("lake"), 100'000);
}

TEST(TokenBucketTest, ZeroRateIsUnlimited) {
  TokenBuckets b(0, [] { return int64_t{0}; });
  for (int i = 0; i < 100000; ++i) ASSERT_EQ(b.Acquire("k"), 0);
}

}  // namespace
}  // namespace sluice::internal
