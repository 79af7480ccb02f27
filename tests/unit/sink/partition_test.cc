#include "sink/partition.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/value_text.h"
#include "sink_test_util.h"

namespace sluice {
namespace {

using ::sluice::testing::FixedColumn;
using ::sluice::testing::MakeBatch;
using ::sluice::testing::StringColumn;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(EscapePartitionValue, EscapesUnsafeCharacters) {
  struct Case {
    std::string in;
    std::string want;
  };
  const Case cases[] = {
      {"plain", "plain"},
      {"a/b", "a%2Fb"},
      {"k=v", "k%3Dv"},
      {"100%", "100%25"},
      {"12:30", "12%3A30"},
      {"tab\there", "tab%09here"},
      {"new\nline", "new%0Aline"},
      {"q?*\"'#", "q%3F%2A%22%27%23"},
      {"back\\slash", "back%5Cslash"},
      {"{[^]}", "%7B%5B%5E%5D%7D"},
      {"<|>", "%3C%7C%3E"},
      {"spaces stay", "spaces stay"},
      {"caf\xC3\xA9", "caf\xC3\xA9"},  // UTF-8 kept
      {"..", ".."},
      {"", ""},
      {std::string("nul\0x", 5), "nul%00x"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(EscapePartitionValue(c.in), c.want) << c.in;
    EXPECT_EQ(UnescapePartitionValue(c.want), c.in) << c.want;
  }
}

TEST(UnescapePartitionValue, KeepsMalformedSequences) {
  EXPECT_EQ(UnescapePartitionValue("50%"), "50%");
  EXPECT_EQ(UnescapePartitionValue("%zz"), "%zz");
  EXPECT_EQ(UnescapePartitionValue("%4"), "%4");
  EXPECT_EQ(UnescapePartitionValue("%2f"), "/");
}

TEST(PartitionValueText, RendersEachType) {
  int32_t day = DaysFromCivil(2024, 1, 2);
  int64_t ts = 0;
  ASSERT_TRUE(ParseTimestamp("2024-01-02T03:04:05.250Z", &ts));
  EXPECT_EQ(PartitionValueText(FixedColumn<uint8_t>(DataType::Bool(), {1, 0}), 0), "true");
  EXPECT_EQ(PartitionValueText(FixedColumn<uint8_t>(DataType::Bool(), {1, 0}), 1), "false");
  EXPECT_EQ(PartitionValueText(FixedColumn<int32_t>(DataType::Int32(), {-7}), 0), "-7");
  EXPECT_EQ(PartitionValueText(FixedColumn<int64_t>(DataType::Int64(), {1LL << 40}), 0),
            "1099511627776");
  EXPECT_EQ(PartitionValueText(FixedColumn<int64_t>(DataType::Decimal(12, 2), {-1250}), 0),
            "-12.50");
  EXPECT_EQ(PartitionValueText(FixedColumn<int32_t>(DataType::Date(), {day}), 0), "2024-01-02");
  EXPECT_EQ(PartitionValueText(FixedColumn<int64_t>(DataType::Timestamp(), {ts}), 0),
            "2024-01-02T03:04:05.250000Z");
  EXPECT_EQ(PartitionValueText(StringColumn({"x/y"}), 0), "x/y");
  EXPECT_EQ(PartitionValueText(StringColumn({std::nullopt}), 0), kHiveNullPartition);
  EXPECT_EQ(PartitionValueText(FixedColumn<int64_t>(DataType::Int64(), {std::nullopt}), 0),
            kHiveNullPartition);
}

TEST(ResolvePartitionColumns, ChecksColumns) {
  Schema schema({{"id", DataType::Int64()},
                 {"price", DataType::Float64()},
                 {"day", DataType::Date()},
                 {"cur", DataType::String()}});
  auto ok = ResolvePartitionColumns(schema, {"cur", "day"});
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_THAT(*ok, ElementsAre(3, 2));
  EXPECT_TRUE(ResolvePartitionColumns(schema, {})->empty());

  auto missing = ResolvePartitionColumns(schema, {"nope"});
  EXPECT_EQ(missing.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(missing.status().message(), HasSubstr("'nope'"));

  auto floaty = ResolvePartitionColumns(schema, {"price"});
  EXPECT_EQ(floaty.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(floaty.status().message(), HasSubstr("float64"));

  auto twice = ResolvePartitionColumns(schema, {"day", "day"});
  EXPECT_EQ(twice.status().code(), StatusCode::kInvalidArgument);
}

TEST(SplitByPartition, GroupsInOrderOfFirstAppearance) {
  Schema schema({{"k", DataType::String()}, {"n", DataType::Int32()}, {"v", DataType::Int64()}});
  RecordBatch b =
      MakeBatch(schema, {StringColumn({"a/b", "x", "a/b", std::nullopt, "x", std::nullopt, ""}),
                         FixedColumn<int32_t>(DataType::Int32(), {1, 1, 1, 1, 2, 1, 1}),
                         FixedColumn<int64_t>(DataType::Int64(), {0, 1, 2, 3, 4, 5, 6})});
  auto groups = SplitByPartition(b, {0, 1});
  ASSERT_EQ(groups.size(), 5u);
  EXPECT_EQ(groups[0].path, "k=a%2Fb/n=1");
  EXPECT_THAT(groups[0].rows, ElementsAre(0, 2));
  EXPECT_EQ(groups[1].path, "k=x/n=1");
  EXPECT_THAT(groups[1].rows, ElementsAre(1));
  EXPECT_EQ(groups[2].path, "k=__HIVE_DEFAULT_PARTITION__/n=1");
  EXPECT_THAT(groups[2].rows, ElementsAre(3, 5));
  EXPECT_EQ(groups[3].path, "k=x/n=2");
  EXPECT_THAT(groups[3].rows, ElementsAre(4));
  EXPECT_EQ(groups[4].path, "k=/n=1");
  EXPECT_THAT(groups[4].rows, ElementsAre(6));
}

TEST(SplitByPartition, NullIsNotZero) {
  Schema schema({{"n", DataType::Int64()}});
  RecordBatch b =
      MakeBatch(schema, {FixedColumn<int64_t>(DataType::Int64(), {0, std::nullopt, 0})});
  auto groups = SplitByPartition(b, {0});
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0].path, "n=0");
  EXPECT_THAT(groups[0].rows, ElementsAre(0, 2));
  EXPECT_EQ(groups[1].path, "n=__HIVE_DEFAULT_PARTITION__");
}

TEST(SplitByPartition, UnpartitionedIsOneGroup) {
  Schema schema({{"n", DataType::Int64()}});
  RecordBatch b = MakeBatch(schema, {FixedColumn<int64_t>(DataType::Int64(), {1, 2, 3})});
  auto groups = SplitByPartition(b, {});
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0].path, "");
  EXPECT_THAT(groups[0].rows, ElementsAre(0, 1, 2));
  EXPECT_TRUE(SplitByPartition(RecordBatch::Empty(schema), {0}).empty());
}

TEST(SplitByPartition, EscapesColumnNames) {
  Schema schema({{"a=b", DataType::Int32()}});
  RecordBatch b = MakeBatch(schema, {FixedColumn<int32_t>(DataType::Int32(), {5})});
  EXPECT_EQ(SplitByPartition(b, {0})[0].path, "a%3Db=5");
}

}  // namespace
}  // namespace sluice
