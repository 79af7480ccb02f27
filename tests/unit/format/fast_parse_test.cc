// The fast paths may decline anything, but what they accept must be accepted by
// the general parsers with the same value.
#include "format/fast_parse.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "core/value_text.h"

namespace sluice {
namespace {

std::string RandomText(std::mt19937& rng, const std::string& alphabet, size_t max_len) {
  std::string s(rng() % (max_len + 1), ' ');
  for (char& c : s) c = alphabet[rng() % alphabet.size()];
  return s;
}

TEST(FastParseTest, IntegersAgreeWithTheGeneralParser) {
  std::mt19937 rng(1);
  int accepted = 0;
  for (int i = 0; i < 200000; ++i) {
    std::string s = RandomText(rng, i % 2 ? "0123456789" : "0123456789-+ x", i % 3 ? 20 : 6);
    int64_t fast = 0, slow = 0;
    if (fastparse::Int64(s.data(), s.size(), &fast)) {
      ++accepted;
      ASSERT_TRUE(ParseInt64(s, &slow)) << s;
      ASSERT_EQ(fast, slow) << s;
    }
    int32_t f32 = 0, s32 = 0;
    if (fastparse::Int32(s.data(), s.size(), &f32)) {
      ASSERT_TRUE(ParseInt32(s, &s32)) << s;
      ASSERT_EQ(f32, s32) << s;
    }
  }
  EXPECT_GT(accepted, 50000);
  int64_t v = 0;
  EXPECT_TRUE(fastparse::Int64("-123456789012345678", 19, &v));
  EXPECT_EQ(v, -123456789012345678);
  EXPECT_FALSE(fastparse::Int64("9223372036854775807", 19, &v));  // left to the general parser
  EXPECT_FALSE(fastparse::Int64("-", 1, &v));
  int32_t w = 0;
  EXPECT_TRUE(fastparse::Int32("-999999999", 10, &w));
  EXPECT_EQ(w, -999999999);
  EXPECT_FALSE(fastparse::Int32("2147483648", 10, &w));
}

TEST(FastParseTest, DecimalsAgreeWithTheGeneralParser) {
  std::mt19937 rng(2);
  int accepted = 0;
  for (int i = 0; i < 200000; ++i) {
    std::string s = RandomText(rng, i % 2 ? "0123456789." : "0123456789.-e", i % 3 ? 22 : 8);
    const int precision = 1 + static_cast<int>(rng() % 18);
    const int scale = static_cast<int>(rng() % (precision + 1));
    int64_t fast = 0, slow = 0;
    if (fastparse::Decimal(s.data(), s.size(), static_cast<uint64_t>(Pow10(precision)), scale,
                           &fast)) {
      ++accepted;
      ASSERT_TRUE(ParseDecimal(s, precision, scale, &slow))
          << s << " " << precision << "," << scale;
      ASSERT_EQ(fast, slow) << s;
    }
  }
  EXPECT_GT(accepted, 5000);
  int64_t v = 0;
  EXPECT_TRUE(fastparse::Decimal("-12.5", 5, 10000, 2, &v));
  EXPECT_EQ(v, -1250);
  EXPECT_FALSE(fastparse::Decimal("1.234", 5, 10000, 2, &v));   // more digits than the scale
  EXPECT_FALSE(fastparse::Decimal("100.00", 6, 10000, 2, &v));  // over the precision
}

TEST(FastParseTest, DatesAndTimestampsAgreeWithTheGeneralParser) {
  std::mt19937 rng(3);
  int accepted = 0;
  for (int i = 0; i < 200000; ++i) {
    // Mostly well-shaped, with random digits (so invalid days and months too).
    std::string s = "2024-02-29T23:59:59Z";
    for (size_t k : {0u, 1u, 2u, 3u, 5u, 6u, 8u, 9u, 11u, 12u, 14u, 15u, 17u, 18u}) {
      if (rng() % 3 == 0) s[k] = static_cast<char>('0' + rng() % 10);
    }
    if (rng() % 10 == 0) s[rng() % s.size()] = "x-: T"[rng() % 5];
    if (rng() % 3 == 0) s.pop_back();
    int64_t fast = 0, slow = 0;
    if (fastparse::Timestamp(s.data(), s.size(), &fast)) {
      ++accepted;
      ASSERT_TRUE(ParseTimestamp(s, &slow)) << s;
      ASSERT_EQ(fast, slow) << s;
    }
    std::string d = s.substr(0, 10);
    int32_t fd = 0, sd = 0;
    if (fastparse::Date(d.data(), d.size(), &fd)) {
      ASSERT_TRUE(ParseDate(d, &sd)) << d;
      ASSERT_EQ(fd, sd) << d;
    }
  }
  EXPECT_GT(accepted, 20000);
  int32_t d = 0;
  EXPECT_FALSE(fastparse::Date("2023-02-29", 10, &d));
  EXPECT_TRUE(fastparse::Date("2000-02-29", 10, &d));
  EXPECT_FALSE(fastparse::Date("1900-02-29", 10, &d));
}

}  // namespace
}  // namespace sluice
