#include "format/parquet/column_statistics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>

namespace sluice::parquet {
namespace {

template <typename T>
T Decode(const std::optional<std::string>& bytes) {
  T v{};
  EXPECT_TRUE(bytes.has_value());
  if (bytes) {
    EXPECT_EQ(bytes->size(), sizeof(T));
    std::memcpy(&v, bytes->data(), sizeof(T));
  }
  return v;
}

TEST(ColumnStatisticsTest, CompareUnsignedBytes) {
  EXPECT_LT(CompareUnsignedBytes("", "a"), 0);
  EXPECT_LT(CompareUnsignedBytes("a", "ab"), 0);
  EXPECT_GT(CompareUnsignedBytes("\x80", "\x7f"), 0);  // signed chars would say otherwise
  EXPECT_EQ(CompareUnsignedBytes("abc", "abc"), 0);
}

TEST(ColumnStatisticsTest, MergesIntegerSlices) {
  ColumnStatistics s(PhysicalType::kInt32);
  s.MergeInt(5, 9);
  s.MergeInt(-3, 4);
  s.MergeInt(0, 12);
  s.AddNulls(2);
  s.AddNulls(1);
  Statistics t = s.ToThrift();
  EXPECT_EQ(t.null_count, 3);
  EXPECT_EQ(Decode<int32_t>(t.min_value), -3);
  EXPECT_EQ(Decode<int32_t>(t.max_value), 12);
  EXPECT_EQ(t.min, t.min_value);
  EXPECT_EQ(t.max, t.max_value);

  s.Reset();
  t = s.ToThrift();
  EXPECT_EQ(t.null_count, 0);
  EXPECT_FALSE(t.min_value.has_value());
  EXPECT_FALSE(t.min.has_value());
}

TEST(ColumnStatisticsTest, DoubleSlicesWithOnlyNaNAddNoRange) {
  ColumnStatistics s(PhysicalType::kDouble);
  // A slice of only NaN reports min > max (the loop's initial values).
  s.MergeDouble(std::numeric_limits<double>::max(), std::numeric_limits<double>::lowest(), true);
  EXPECT_FALSE(s.ToThrift().min_value.has_value());
  s.MergeDouble(1.5, 2.5, false);
  // The NaN seen earlier still suppresses min/max for the chunk.
  EXPECT_FALSE(s.ToThrift().min_value.has_value());
  s.Reset();
  s.MergeDouble(1.5, 2.5, false);
  s.MergeDouble(-1.0, 0.0, false);
  Statistics t = s.ToThrift();
  EXPECT_EQ(Decode<double>(t.min_value), -1.0);
  double mx = Decode<double>(t.max_value);
  EXPECT_EQ(mx, 2.5);
}

TEST(ColumnStatisticsTest, StringsAndBooleans) {
  ColumnStatistics s(PhysicalType::kByteArray);
  s.MergeString("m", "q");
  s.MergeString("\xc3\xa9", "\xc3\xa9");
  s.MergeString("", "b");
  Statistics t = s.ToThrift();
  EXPECT_EQ(t.min_value, "");
  EXPECT_EQ(t.max_value, "\xc3\xa9");
  EXPECT_FALSE(t.min.has_value());

  ColumnStatistics b(PhysicalType::kBoolean);
  b.MergeInt(0, 0);
  b.MergeInt(1, 1);
  t = b.ToThrift();
  EXPECT_EQ(t.min_value, std::string(1, '\0'));
  EXPECT_EQ(t.max_value, std::string(1, '\1'));
}

}  // namespace
}  // namespace sluice::parquet
