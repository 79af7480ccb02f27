#include <gtest/gtest.h>

#include "batch_text.h"

namespace sluice {
namespace {

using testing::MakeBatch;
using testing::RunChain;
using testing::RunOne;
using testing::Step;

TEST(RenameOp, RenamesAndSwaps) {
  struct Case {
    const char* args;
    const char* schema;
  };
  const Case kCases[] = {
      {R"({"a": "id"})", "id int64 not null | b string | c bool"},
      {R"({"a": "b", "b": "a"})", "b int64 not null | a string | c bool"},
      {R"({"a": "x", "b": "y", "c": "z"})", "x int64 not null | y string | z bool"},
      {R"({"c": "c"})", "a int64 not null | b string | c bool"},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.args);
    RecordBatch in = MakeBatch("a int64 not null | b string | c bool", {"1|x|true"});
    auto r = RunOne({Step("rename", c.args)}, std::move(in));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(testing::SchemaLine(r->schema), c.schema);
    ASSERT_EQ(r->out.size(), 1u);
    EXPECT_EQ(testing::SchemaLine(r->out[0].schema), c.schema);
    EXPECT_EQ(testing::Rows(r->out), (std::vector<std::string>{"1|x|true"}));
  }
}

TEST(RenameOp, Errors) {
  const std::pair<const char*, const char*> kBad[] = {
      {R"({"zz": "a"})", "t.yaml:7: rename: unknown column 'zz' (columns: a, b)"},
      {R"({"a": "b"})", "t.yaml:7: rename: renaming would create two columns named 'b'"},
      {R"({"a": "c", "b": "c"})", "t.yaml:7: rename: renaming would create two columns named 'c'"},
      {R"({"a": 5})", "t.yaml:7: rename: new name for 'a' must be a non-empty string"},
      {R"({"a": ""})", "t.yaml:7: rename: new name for 'a' must be a non-empty string"},
      {R"(["a"])", "t.yaml:7: rename: expected a mapping of old name to new name"},
      {R"({})", "t.yaml:7: rename: expected a mapping of old name to new name"},
  };
  auto schema = testing::ParseSchemaLine("a int64 | b string");
  for (auto [args, msg] : kBad) {
    SCOPED_TRACE(args);
    auto r = RunChain({Step("rename", args)}, *schema, {});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().message().rfind(msg, 0), 0u) << r.status().message();
  }
}

}  // namespace
}  // namespace sluice
