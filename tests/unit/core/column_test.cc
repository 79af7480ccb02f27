#include "core/column.h"

#include <gtest/gtest.h>

namespace sluice {
namespace {

TEST(ColumnTest, AppendsFixedWidthAndNulls) {
  Column c(DataType::Int64());
  c.Append<int64_t>(7);
  c.AppendNull();
  c.Append<int64_t>(-3);
  ASSERT_EQ(c.size(), 3);
  EXPECT_EQ(c.null_count(), 1);
  EXPECT_TRUE(c.IsValid(0));
  EXPECT_TRUE(c.IsNull(1));
  EXPECT_TRUE(c.IsValid(2));
  EXPECT_EQ(c.Value<int64_t>(0), 7);
  EXPECT_EQ(c.Value<int64_t>(2), -3);
}

TEST(ColumnTest, StringsKeepOffsets) {
  Column c(DataType::String());
  c.AppendString("ab");
  c.AppendNull();
  c.AppendString("");
  c.AppendString("xyz");
  ASSERT_EQ(c.size(), 4);
  EXPECT_EQ(c.GetString(0), "ab");
  EXPECT_TRUE(c.IsNull(1));
  EXPECT_EQ(c.GetString(2), "");
  EXPECT_TRUE(c.IsValid(2));
  EXPECT_EQ(c.GetString(3), "xyz");
}

TEST(ColumnTest, ValidityBeyondFirstByte) {
  Column c(DataType::Int32());
  for (int i = 0; i < 20; ++i) c.Append<int32_t>(i);
  c.AppendNull();
  for (int i = 0; i < 20; ++i) c.Append<int32_t>(i);
  for (int i = 0; i < 41; ++i) EXPECT_EQ(c.IsNull(i), i == 20) << i;
}

TEST(RecordBatchTest, SelectAndSliceCarryLines) {
  Schema s({{"a", DataType::Int32(), true}, {"b", DataType::String(), true}});
  RecordBatch b = RecordBatch::Empty(s);
  for (int i = 0; i < 5; ++i) {
    b.columns[0].Append<int32_t>(i);
    b.columns[1].AppendString(std::string(i, 'x'));
    b.source_lines.push_back(i + 2);
  }
  RecordBatch sel = b.Select({4, 1});
  ASSERT_EQ(sel.num_rows(), 2);
  EXPECT_EQ(sel.columns[0].Value<int32_t>(0), 4);
  EXPECT_EQ(sel.columns[1].GetString(1), "x");
  EXPECT_EQ(sel.source_lines, (std::vector<int64_t>{6, 3}));
  RecordBatch sl = b.Slice(1, 3);
  ASSERT_EQ(sl.num_rows(), 3);
  EXPECT_EQ(sl.columns[1].GetString(2), "xxx");
}

TEST(DataTypeTest, ParsesAndRejects) {
  EXPECT_EQ(DataType::Parse("decimal(12, 2)").value(), DataType::Decimal(12, 2));
  EXPECT_EQ(DataType::Parse("BIGINT").value(), DataType::Int64());
  EXPECT_FALSE(DataType::Parse("decimal(40,2)").ok());
  EXPECT_FALSE(DataType::Parse("decimal(4,5)").ok());
  EXPECT_FALSE(DataType::Parse("blob").ok());
}

TEST(SchemaTest, JsonRoundTrip) {
  Schema s({{"a", DataType::Decimal(9, 3), false}, {"b", DataType::Timestamp(), true}});
  auto back = Schema::FromJson(s.ToJson());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, s);
}

}  // namespace
}  // namespace sluice
