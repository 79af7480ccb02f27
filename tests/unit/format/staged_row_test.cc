#include "format/staged_row.h"

#include <gtest/gtest.h>

#include "decode_helpers.h"
#include "format/batch_builder.h"

namespace sluice {
namespace {

Schema TwoTypes() { return Schema({{"n", DataType::Int32(), false}, {"s", DataType::String()}}); }

TEST(StagedRowTest, ParseTextAsEveryType) {
  struct Case {
    DataType type;
    const char* text;
    bool ok;
    const char* shown;  // FormatCell of the appended value
  };
  const Case cases[] = {
      {DataType::Bool(), "yes", true, "true"},
      {DataType::Bool(), "nope", false, ""},
      {DataType::Int32(), "-5", true, "-5"},
      {DataType::Int32(), "5000000000", false, ""},
      {DataType::Int64(), "5000000000", true, "5000000000"},
      {DataType::Float64(), "2.5", true, "2.5"},
      {DataType::Decimal(6, 3), "1.5", true, "1.500"},
      {DataType::Decimal(6, 3), "1000", false, ""},
      {DataType::String(), "", true, "<>"},
      {DataType::Date(), "2024-02-29", true, "2024-02-29"},
      {DataType::Date(), "2023-02-29", false, ""},
      {DataType::Timestamp(), "2024-02-29 12:00", true, "2024-02-29T12:00:00Z"},
  };
  for (const auto& c : cases) {
    Schema schema({{"v", c.type}});
    StagedRow row(schema);
    row.Reset();
    EXPECT_EQ(row.SetText(0, c.text), c.ok) << c.type.ToString() << " " << c.text;
    EXPECT_EQ(row.value(0).is_null, !c.ok);
    if (!c.ok) continue;
    BatchBuilder builder(schema);
    builder.Begin(1);
    row.AppendTo(&builder);
    RecordBatch b;
    builder.Finish(&b);
    ASSERT_EQ(b.num_rows(), 1);
    EXPECT_EQ(testing::FormatCell(b.columns[0], 0), c.shown);
  }
}

TEST(StagedRowTest, NullsAndRequiredFields) {
  StagedRow row(TwoTypes());
  row.Reset();
  EXPECT_EQ(row.FirstNullInRequired(), 0);
  ASSERT_TRUE(row.SetText(0, "7"));
  EXPECT_EQ(row.FirstNullInRequired(), -1);
  BatchBuilder builder(TwoTypes());
  builder.Begin(4);
  row.AppendTo(&builder);
  ASSERT_TRUE(row.SetText(0, "8"));
  row.value(1).s = "abc";
  row.value(1).is_null = false;
  row.AppendTo(&builder);
  RecordBatch b;
  builder.Finish(&b);
  ASSERT_EQ(b.num_rows(), 2);
  EXPECT_EQ(testing::FormatCell(b.columns[0], 0), "7");
  EXPECT_TRUE(b.columns[1].IsNull(0));
  EXPECT_EQ(testing::FormatCell(b.columns[0], 1), "8");
  EXPECT_EQ(testing::FormatCell(b.columns[1], 1), "<abc>");
  EXPECT_EQ(b.columns[1].null_count(), 1);
}

TEST(StagedRowTest, ReasonAndRawAreCapped) {
  EXPECT_EQ(CannotParseReason("abc", DataType::Int64()), "cannot parse 'abc' as int64");
  std::string long_text(200, 'x');
  std::string reason = CannotParseReason(long_text, DataType::Decimal(5, 2));
  EXPECT_EQ(reason, "cannot parse '" + std::string(64, 'x') + "...' as decimal(5,2)");
  EXPECT_EQ(CapRaw(std::string(kMaxRawBytes + 10, 'r')).size(), kMaxRawBytes);
  EXPECT_EQ(CapRaw("short"), "short");
}

}  // namespace
}  // namespace sluice
