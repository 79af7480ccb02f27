#include <gtest/gtest.h>

#include "batch_text.h"

namespace sluice {
namespace {

using testing::MakeBatch;
using testing::RunChain;
using testing::RunOne;
using testing::Step;

TEST(DropOp, RemovesColumnsKeepingOrder) {
  for (const char* args : {R"(["b"])", R"({"columns": ["b"]})"}) {
    SCOPED_TRACE(args);
    RecordBatch in = MakeBatch("a int64 | b string | c bool", {"1|x|true", "NULL|y|false"});
    auto r = RunOne({Step("drop", args)}, std::move(in));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(testing::SchemaLine(r->schema), "a int64 | c bool");
    EXPECT_EQ(testing::Rows(r->out), (std::vector<std::string>{"1|true", "NULL|false"}));
    EXPECT_EQ(testing::Lines(r->out), (std::vector<int64_t>{1, 2}));
  }
}

TEST(DropOp, Errors) {
  const std::pair<const char*, const char*> kBad[] = {
      {R"(["zz"])", "t.yaml:7: drop: unknown column 'zz' (columns: a, b)"},
      {R"(["a", "b"])", "t.yaml:7: drop: would drop every column"},
      {R"(["a", "a"])", "t.yaml:7: drop: columns lists 'a' twice"},
      {R"({"columns": "a"})", "t.yaml:7: drop: columns must be a list of column names"},
      {R"(null)", "t.yaml:7: drop: columns must be a list of column names"},
  };
  auto schema = testing::ParseSchemaLine("a int64 | b string");
  for (auto [args, msg] : kBad) {
    SCOPED_TRACE(args);
    auto r = RunChain({Step("drop", args)}, *schema, {});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().message(), msg);
  }
}

}  // namespace
}  // namespace sluice
