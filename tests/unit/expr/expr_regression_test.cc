// Regressions found by the expression fuzzer (tests/fuzz/expr_fuzz.cc; each
// input is also a seed under tests/fuzz/corpus/expr_fuzz/). The undefined
// behaviour ones only fail loudly in a sanitizer build (SLUICE_ENABLE_ASAN or
// the fuzz build), but their results are checked everywhere.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "expr_test_util.h"

namespace sluice::expr {
namespace {

using testing::Eval;
using testing::MakeBatch;

ExprPtr Compile(const std::string& text, const Schema& schema) {
  SourceText src{text, "", 0, 1, ""};
  auto e = CompileExpression(src, schema);
  EXPECT_TRUE(e.ok()) << e.status().ToString();
  return e.ok() ? std::move(*e) : nullptr;
}

// Timestamps near INT64_MIN (a Parquet file may hold any int64): splitting
// into days and time of day computed days * 86400e6, which overflows.
// Seeds: date_funcs, strftime.
TEST(ExprRegression, TimeOfDayOfTheSmallestTimestamp) {
  RecordBatch b = RecordBatch::Empty(Schema({{"ts", DataType::Timestamp()}}));
  b.columns[0].Append<int64_t>(std::numeric_limits<int64_t>::min());
  b.columns[0].Append<int64_t>(std::numeric_limits<int64_t>::min() + 1);
  b.columns[0].Append<int64_t>(-1);
  EXPECT_EQ(Eval("date_part('hour', ts)", b).cells, (std::vector<std::string>{"19", "19", "23"}));
  EXPECT_EQ(Eval("extract(minute FROM ts)", b).cells, (std::vector<std::string>{"59", "59", "59"}));
  EXPECT_EQ(Eval("date_part('dow', ts)", b).cells.size(), 3u);
  EXPECT_EQ(Eval("strftime(ts, '%H:%M')", b).cells,
            (std::vector<std::string>{"19:59", "19:59", "23:59"}));
}

// `x = ''`: the constant's bytes may be a null pointer, and memcmp(p, null, 0)
// is undefined. Seed: regexp.
TEST(ExprRegression, CompareWithEmptyStringConstant) {
  RecordBatch b = MakeBatch(Schema({{"s", DataType::String()}}), {{""}, {"x"}, {"NULL"}});
  EXPECT_EQ(Eval("s = ''", b).cells, (std::vector<std::string>{"true", "false", "NULL"}));
  EXPECT_EQ(Eval("s <> ''", b).cells, (std::vector<std::string>{"false", "true", "NULL"}));
  EXPECT_EQ(Eval("regexp_replace(s, 'x', '') = ''", b).cells,
            (std::vector<std::string>{"true", "true", "NULL"}));
}

// A failed row's value must be null at the top, whatever the operators above
// the failing one do with a null (AND false, IS NULL, coalesce, CASE): the
// filter step keeps SelectTrue's rows and also reports failed rows as bad
// records, so a failed row that came out TRUE was both kept and rejected.
// Seed: compare_types (`dt < ts AND i <= l` with a date too far away to be a
// timestamp).
TEST(ExprRegression, FailedRowsAreNullAtTheTop) {
  Schema schema({{"s", DataType::String()}});
  RecordBatch b = MakeBatch(schema, {{"1"}, {"x"}, {"3"}});
  for (const char* text : {"CAST(s AS int64) IS NULL", "CAST(s AS int64) > 0 OR true",
                           "coalesce(CAST(s AS int64), 0) = 0",
                           "CASE WHEN CAST(s AS int64) > 0 THEN false ELSE true END",
                           "NOT (CAST(s AS int64) > 0 AND false)"}) {
    SCOPED_TRACE(text);
    ExprPtr e = Compile(text, schema);
    ASSERT_NE(e, nullptr);
    for (bool with_sel : {false, true}) {
      Sel all{0, 1, 2};
      const Sel* sel = with_sel ? &all : nullptr;
      EvalContext ctx;
      ctx.Reset(b.num_rows());
      Vec v = Evaluate(*e, b, sel, &ctx);
      ASSERT_TRUE(ctx.RowFailed(1));
      EXPECT_FALSE(ctx.RowFailed(0));
      EXPECT_FALSE(v.IsValid(1));
      Sel keep = SelectTrue(v, sel);
      EXPECT_EQ(std::count(keep.begin(), keep.end(), 1u), 0);
      EXPECT_TRUE(v.ToColumn(sel).IsNull(1));
    }
  }
  // Row-local: the rows that did not fail keep their values.
  EXPECT_EQ(Eval("coalesce(CAST(s AS int64), 0)", b).cells[2], "3");
}

// An empty batch: ToColumn copied zero bytes from a null buffer. Seed:
// crash_empty_batch_decimal (config byte 6, text `d`).
TEST(ExprRegression, EmptyBatchToColumn) {
  Schema schema(
      {{"d", DataType::Decimal(12, 2)}, {"f", DataType::Float64()}, {"s", DataType::String()}});
  RecordBatch b = RecordBatch::Empty(schema);
  for (const char* text : {"d", "f", "s", "d * 2", "f + 1", "lower(s)"}) {
    SCOPED_TRACE(text);
    ExprPtr e = Compile(text, schema);
    ASSERT_NE(e, nullptr);
    EvalContext ctx;
    ctx.Reset(0);
    Vec v = Evaluate(*e, b, nullptr, &ctx);
    Column c = v.ToColumn(nullptr);
    EXPECT_EQ(c.size(), 0);
    Sel none;
    EXPECT_EQ(v.ToColumn(&none).size(), 0);
  }
}

}  // namespace
}  // namespace sluice::expr
