#include "format/text_buffer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>

#include "core/value_text.h"

namespace sluice {
namespace {

template <typename F>
std::string Written(F write) {
  char buf[kMaxValueChars];
  char* end = write(buf);
  EXPECT_LE(end - buf, static_cast<std::ptrdiff_t>(kMaxValueChars));
  return std::string(buf, end);
}

TEST(TextBufferTest, GrowsAndKeepsContent) {
  TextBuffer b;
  std::string want;
  for (int i = 0; i < 100000; ++i) {
    std::string piece = std::to_string(i) + ",";
    b.Append(piece);
    want += piece;
  }
  b.Push('\n');
  want += '\n';
  EXPECT_EQ(std::string(b.data(), b.size()), want);
  char* p = b.Ensure(10);
  std::memcpy(p, "0123456789", 10);
  b.set_end(p + 4);
  EXPECT_EQ(std::string(b.data() + want.size(), 4), "0123");
  b.Clear();
  EXPECT_EQ(b.size(), 0u);
  EXPECT_GE(b.capacity(), want.size());
}

TEST(TextBufferTest, FormattersMatchValueText) {
  std::mt19937_64 rng(42);
  const int32_t min_day = DaysFromCivil(-9999, 1, 1);
  const int32_t max_day = DaysFromCivil(99999, 12, 31);
  for (int i = 0; i < 20000; ++i) {
    int64_t v = static_cast<int64_t>(rng());
    int scale = static_cast<int>(rng() % 19);
    EXPECT_EQ(Written([&](char* p) { return WriteDecimal(p, v, scale); }), FormatDecimal(v, scale));
    int32_t day = min_day + static_cast<int32_t>(rng() % static_cast<uint64_t>(max_day - min_day));
    EXPECT_EQ(Written([&](char* p) { return WriteDate(p, day); }), FormatDate(day));
    int64_t us = static_cast<int64_t>(rng() % (uint64_t{1} << 58)) - (int64_t{1} << 57);
    EXPECT_EQ(Written([&](char* p) { return WriteTimestamp(p, us); }), FormatTimestamp(us));
    EXPECT_EQ(Written([&](char* p) { return WriteInt64(p, v); }), std::to_string(v));
  }
  const int64_t edges[] = {std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(),
                           0, -1};
  for (int64_t v : edges) {
    for (int scale : {0, 2, 18}) {
      EXPECT_EQ(Written([&](char* p) { return WriteDecimal(p, v, scale); }),
                FormatDecimal(v, scale));
    }
    EXPECT_EQ(Written([&](char* p) { return WriteTimestamp(p, v); }), FormatTimestamp(v));
  }
  EXPECT_EQ(Written([&](char* p) { return WriteDate(p, std::numeric_limits<int32_t>::min()); }),
            FormatDate(std::numeric_limits<int32_t>::min()));
}

TEST(TextBufferTest, FloatsAreShortestAndRoundTrip) {
  struct Case {
    double v;
    const char* text;
  };
  const Case cases[] = {{0.1, "0.1"},
                        {-0.0, "-0"},
                        {1.5, "1.5"},
                        {1e300, "1e+300"},
                        {123456789012.0, "123456789012"},
                        {5e-324, "5e-324"},
                        {std::numeric_limits<double>::infinity(), "inf"},
                        {-std::numeric_limits<double>::infinity(), "-inf"},
                        {std::numeric_limits<double>::quiet_NaN(), "nan"},
                        {-std::numeric_limits<double>::quiet_NaN(), "nan"}};
  for (const Case& c : cases) {
    EXPECT_EQ(Written([&](char* p) { return WriteFloat64(p, c.v); }), c.text);
  }
  std::mt19937_64 rng(7);
  for (int i = 0; i < 20000; ++i) {
    uint64_t bits = rng();
    double d;
    std::memcpy(&d, &bits, 8);
    if (!std::isfinite(d)) continue;
    std::string text = Written([&](char* p) { return WriteFloat64(p, d); });
    double back;
    ASSERT_TRUE(ParseFloat64(text, &back)) << text;
    uint64_t back_bits;
    std::memcpy(&back_bits, &back, 8);
    EXPECT_EQ(back_bits, bits) << text;
  }
}

TEST(TextBufferTest, SwarPredicates) {
  auto word = [](const char* s) { return SwarLoad(s); };
  EXPECT_EQ(SwarHasByte(word("abcdefgh"), ','), 0u);
  EXPECT_NE(SwarHasByte(word("abcdefg,"), ','), 0u);
  EXPECT_NE(SwarHasByte(word(",bcdefgh"), ','), 0u);
  EXPECT_EQ(SwarHasLess(word("abcdefgh"), 0x20), 0u);
  EXPECT_NE(SwarHasLess(word("abc\ndefg"), 0x20), 0u);
  EXPECT_EQ(SwarHasLess(word("\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9"), 0x20), 0u);
  EXPECT_NE(SwarHasZero(word(std::string("abc\0defg", 8).c_str())), 0u);
}

}  // namespace
}  // namespace sluice
