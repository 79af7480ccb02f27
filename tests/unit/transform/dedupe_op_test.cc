#include <gtest/gtest.h>

#include "batch_text.h"

namespace sluice {
namespace {

using testing::MakeBatch;
using testing::RunChain;
using testing::Step;

struct DedupeCase {
  const char* name;
  const char* args;
  const char* schema;
  std::vector<std::vector<std::string>> batches;  // rows per pushed batch
  std::vector<std::string> expected;
  std::vector<int64_t> lines;  // source lines of the output rows
  int64_t removed;
};

TEST(DedupeOp, Table) {
  const DedupeCase kCases[] = {
      {"first across batches",
       R"({"key": ["id"]})",
       "id int64 | v string",
       {{"1|a", "2|b", "1|c"}, {"2|d", "3|e"}},
       {"1|a", "2|b", "3|e"},
       {1, 2, 5},
       2},
      {"last, order of the last occurrence",
       R"({"key": ["id"], "keep": "last"})",
       "id int64 | v string",
       {{"1|a1", "2|b1"}, {"1|a2"}},
       {"2|b1", "1|a2"},
       {2, 3},
       1},
      {"last with a key repeated inside one batch",
       R"({"key": "id", "keep": "last"})",
       "id int64 | v string",
       {{"1|a", "1|b", "2|c", "1|d"}},
       {"2|c", "1|d"},
       {3, 4},
       2},
      {"nulls compare equal",
       R"({"key": ["k"]})",
       "k string | v int32",
       {{"NULL|1", "x|2", "NULL|3"}},
       {"NULL|1", "x|2"},
       {1, 2},
       1},
      {"null is not the empty string",
       R"({"key": ["k"]})",
       "k string | v int32",
       {{"NULL|1", "|2"}},
       {"NULL|1", "|2"},
       {1, 2},
       0},
      {"string boundaries in a composite key",
       R"({"key": ["a", "b"]})",
       "a string | b string",
       {{"ab|c", "a|bc", "ab|c"}},
       {"ab|c", "a|bc"},
       {1, 2},
       1},
      {"negative zero and NaN",
       R"({"key": ["f"]})",
       "f float64",
       {{"0", "-0", "nan", "nan", "1"}},
       {"0", "nan", "1"},
       {1, 3, 5},
       2},
      {"every type as a key",
       R"({"key": ["b", "i", "l", "d", "s", "dt", "ts"]})",
       "b bool | i int32 | l int64 | d decimal(5,2) | s string | dt date | ts timestamp",
       {{"true|1|2|3.50|x|2024-01-01|2024-01-01T00:00:00Z",
         "true|1|2|3.50|x|2024-01-01|2024-01-01T00:00:01Z",
         "true|1|2|3.50|x|2024-01-01|2024-01-01T00:00:00Z"}},
       {"true|1|2|3.50|x|2024-01-01|2024-01-01T00:00:00Z",
        "true|1|2|3.50|x|2024-01-01|2024-01-01T00:00:01Z"},
       {1, 2},
       1},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.name);
    std::vector<RecordBatch> in;
    int64_t line = 1;
    for (const auto& rows : c.batches) {
      in.push_back(MakeBatch(c.schema, rows, line));
      line += static_cast<int64_t>(rows.size());
    }
    Schema schema = in[0].schema;
    auto r = RunChain({Step("dedupe", c.args)}, schema, std::move(in));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->schema, schema);
    EXPECT_EQ(testing::Rows(r->out), c.expected);
    EXPECT_EQ(testing::Lines(r->out), c.lines);
    EXPECT_EQ(r->removed, c.removed);
  }
}

TEST(DedupeOp, KeepFirstStreamsWithoutWaitingForFinish) {
  auto op = MakeOperator(Step("dedupe", R"({"key": ["id"]})"));
  ASSERT_TRUE(op.ok());
  RecordBatch in = MakeBatch("id int32", {"1", "1", "2"});
  ASSERT_TRUE((*op)->Bind(in.schema).ok());
  std::vector<RecordBatch> out;
  OperatorContext ctx;
  ctx.emit = [&out](RecordBatch&& b) {
    out.push_back(std::move(b));
    return Status::OK();
  };
  ASSERT_TRUE((*op)->Push(std::move(in), ctx).ok());
  EXPECT_EQ(testing::Rows(out), (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ((*op)->rows_removed(), 1);
}

// Enough rows that keep=last compacts its store several times and emits
// more than one output batch; checks the survivors against a simple model.
TEST(DedupeOp, KeepLastSurvivesCompactionAndLargeInputs) {
  constexpr int kBatches = 20;
  constexpr int kRows = 10000;
  constexpr int kKeys = 70001;                          // survivors > one 64K output batch
  std::map<int64_t, std::pair<int64_t, int64_t>> last;  // key -> (position, value)
  std::vector<RecordBatch> in;
  int64_t pos = 0;
  uint64_t x = 12345;
  for (int b = 0; b < kBatches; ++b) {
    RecordBatch batch =
        RecordBatch::Empty(*testing::ParseSchemaLine("k int64 | v int64 | s string"));
    for (int i = 0; i < kRows; ++i, ++pos) {
      x = x * 6364136223846793005ULL + 1442695040888963407ULL;
      int64_t key = static_cast<int64_t>((x >> 33) % kKeys);
      batch.columns[0].Append<int64_t>(key);
      batch.columns[1].Append<int64_t>(pos);
      batch.columns[2].AppendString("s" + std::to_string(key));
      batch.source_lines.push_back(pos + 1);
      last[key] = {pos, pos};
    }
    in.push_back(std::move(batch));
  }
  Schema schema = in[0].schema;
  auto r = RunChain({Step("dedupe", R"({"key": ["k"], "keep": "last"})")}, schema, std::move(in));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_GT(r->out.size(), 1u);
  std::vector<std::pair<int64_t, int64_t>> expected;  // (position, key), by position
  for (const auto& [k, pv] : last) expected.push_back({pv.first, k});
  std::sort(expected.begin(), expected.end());
  std::vector<std::pair<int64_t, int64_t>> got;
  for (const auto& b : r->out) {
    for (int64_t i = 0; i < b.num_rows(); ++i) {
      int64_t v = b.columns[1].Value<int64_t>(i);
      int64_t k = b.columns[0].Value<int64_t>(i);
      ASSERT_EQ(b.columns[2].GetString(i), "s" + std::to_string(k));
      ASSERT_EQ(b.source_lines[i], v + 1);
      got.push_back({v, k});
    }
  }
  EXPECT_EQ(got, expected);
  EXPECT_EQ(r->removed, kBatches * kRows - static_cast<int64_t>(last.size()));
}

TEST(DedupeOp, RebindResetsState) {
  auto op = MakeOperator(Step("dedupe", R"({"key": ["id"]})"));
  ASSERT_TRUE(op.ok());
  Schema schema = *testing::ParseSchemaLine("id int32");
  std::vector<RecordBatch> out;
  OperatorContext ctx;
  ctx.emit = [&out](RecordBatch&& b) {
    out.push_back(std::move(b));
    return Status::OK();
  };
  for (int round = 0; round < 2; ++round) {
    ASSERT_TRUE((*op)->Bind(schema).ok());
    ASSERT_TRUE((*op)->Push(MakeBatch("id int32", {"1", "1"}), ctx).ok());
    EXPECT_EQ((*op)->rows_removed(), 1);
  }
  EXPECT_EQ(testing::Rows(out), (std::vector<std::string>{"1", "1"}));
}

TEST(DedupeOp, Errors) {
  const std::pair<const char*, const char*> kBad[] = {
      {R"({"keep": "last"})", "t.yaml:7: dedupe: missing argument 'key'"},
      {R"({"key": ["zz"]})", "t.yaml:7: dedupe: unknown column 'zz' (columns: id, v)"},
      {R"({"key": []})", "t.yaml:7: dedupe: key must not be empty"},
      {R"({"key": ["id"], "keep": "middle"})",
       "t.yaml:7: dedupe: keep must be 'first' or 'last', got \"middle\""},
      {R"({"key": ["id"], "order": "x"})",
       "t.yaml:7: dedupe: unknown argument 'order' (expected: key, keep, order_by)"},
      {R"(["id"])",
       "t.yaml:7: dedupe: expected { key: [columns], keep: first|last, order_by: expression }"},
  };
  Schema schema = *testing::ParseSchemaLine("id int64 | v string");
  for (auto [args, msg] : kBad) {
    SCOPED_TRACE(args);
    auto r = RunChain({Step("dedupe", args)}, schema, {});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().message(), msg);
  }
}

}  // namespace
}  // namespace sluice
