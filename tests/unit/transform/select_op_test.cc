#include <gtest/gtest.h>

#include "batch_text.h"

namespace sluice {
namespace {

using testing::MakeBatch;
using testing::RunChain;
using testing::RunOne;
using testing::Step;

TEST(SelectOp, KeepsAndReordersColumnsInBothSpellings) {
  for (const char* args : {R"(["c", "a"])", R"({"columns": ["c", "a"]})"}) {
    SCOPED_TRACE(args);
    RecordBatch in =
        MakeBatch("a int64 not null | b string | c date", {"1|x|2024-01-01", "2|NULL|NULL"});
    auto r = RunOne({Step("select", args)}, std::move(in));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(testing::SchemaLine(r->schema), "c date | a int64 not null");
    EXPECT_EQ(testing::Rows(r->out), (std::vector<std::string>{"2024-01-01|1", "NULL|2"}));
    EXPECT_EQ(testing::Lines(r->out), (std::vector<int64_t>{1, 2}));
  }
}

TEST(SelectOp, Errors) {
  const std::pair<const char*, const char*> kBad[] = {
      {R"(["zz"])", "t.yaml:7: select: unknown column 'zz' (columns: a, b)"},
      {R"(["a", "a"])", "t.yaml:7: select: columns lists 'a' twice"},
      {R"([])", "t.yaml:7: select: columns must not be empty"},
      {R"("a")", "t.yaml:7: select: columns must be a list of column names"},
      {R"([1])", "t.yaml:7: select: columns must be a list of column names, got 1"},
      {R"({"cols": ["a"]})", "t.yaml:7: select: unknown argument 'cols' (expected: columns)"},
      {R"({})", "t.yaml:7: select: missing argument 'columns'"},
  };
  auto schema = testing::ParseSchemaLine("a int64 | b string");
  for (auto [args, msg] : kBad) {
    SCOPED_TRACE(args);
    auto r = RunChain({Step("select", args)}, *schema, {});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().message(), msg);
  }
}

}  // namespace
}  // namespace sluice
