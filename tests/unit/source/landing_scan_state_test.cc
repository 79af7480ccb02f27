#include "source/landing_scan_state.h"

#include <gtest/gtest.h>

namespace sluice::landing_scan_state_test {
namespace {

constexpr char kP[] = "landing/orders/";
constexpr int64_t kMinute = 60'000'000;

TEST(LandingScanStateTest, FullFirstThenAfterTheWatermarkThenFullAgain) {
  LandingScanState st;
  auto pass = st.BeginPass(kP, 1 * kMinute, 10 * kMinute);
  EXPECT_TRUE(pass.full);
  EXPECT_EQ(pass.start_after, "");
  st.Listed(kP, "landing/orders/b");
  st.Listed(kP, "landing/orders/a");  // the watermark never goes back
  st.EndPass(kP, pass, true);
  EXPECT_EQ(st.watermark(kP), "landing/orders/b");

  pass = st.BeginPass(kP, 5 * kMinute, 10 * kMinute);
  EXPECT_FALSE(pass.full);
  EXPECT_EQ(pass.start_after, "landing/orders/b");
  st.EndPass(kP, pass, true);

  pass = st.BeginPass(kP, 11 * kMinute, 10 * kMinute);
  EXPECT_TRUE(pass.full);
  st.EndPass(kP, pass, false);  // cut short: still due
  EXPECT_TRUE(st.BeginPass(kP, 12 * kMinute, 10 * kMinute).full);
  // Prefixes are apart.
  EXPECT_TRUE(st.BeginPass("landing/other/", 12 * kMinute, 10 * kMinute).full);
}

TEST(LandingScanStateTest, RemembersKeyAndEtagAndForgetsWhatAFullListingMissed) {
  LandingScanState st;
  auto pass = st.BeginPass(kP, kMinute, kMinute);
  st.Remember(kP, "landing/orders/a", "e1");
  st.Remember(kP, "landing/orders/b", "e1");
  st.EndPass(kP, pass, true);
  EXPECT_TRUE(st.Known(kP, "landing/orders/a", "e1"));
  EXPECT_FALSE(st.Known(kP, "landing/orders/a", "e2"));  // overwritten: another ETag
  EXPECT_FALSE(st.Known(kP, "landing/orders/c", "e1"));

  // The next full listing sees only a (b was deleted).
  pass = st.BeginPass(kP, 3 * kMinute, kMinute);
  ASSERT_TRUE(pass.full);
  EXPECT_TRUE(st.Known(kP, "landing/orders/a", "e1"));
  st.EndPass(kP, pass, true);
  EXPECT_EQ(st.known(kP), 1u);
  EXPECT_FALSE(st.Known(kP, "landing/orders/b", "e1"));
}

TEST(LandingScanStateTest, BoundedAndRetries) {
  LandingScanState st(2);
  st.Remember(kP, "a", "e");
  st.Remember(kP, "b", "e");
  st.Remember(kP, "c", "e");
  EXPECT_EQ(st.known(kP), 2u);
  EXPECT_TRUE(st.Known(kP, "c", "e"));

  st.Retry(kP, "x");
  st.Retry(kP, "x");
  st.Retry(kP, "y");
  EXPECT_EQ(st.TakeRetries(kP), (std::vector<std::string>{"x", "y"}));
  EXPECT_TRUE(st.TakeRetries(kP).empty());

  LandingScanState none(0);  // remembers nothing
  none.Remember(kP, "a", "e");
  EXPECT_FALSE(none.Known(kP, "a", "e"));
}

}  // namespace
}  // namespace sluice::landing_scan_state_test
