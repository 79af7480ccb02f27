#include <gtest/gtest.h>

#include "batch_text.h"

namespace sluice {
namespace {

using testing::MakeBatch;
using testing::RunChain;
using testing::Step;

TEST(OperatorChain, ThreadsSchemaAndRowsThroughEveryStep) {
  RecordBatch in =
      MakeBatch("id string | amount string | junk string", {"1|2.50|x", "2|oops|y", "1|3.00|z"}, 5);
  Schema schema = in.schema;
  auto r = RunChain({Step("cast", R"j({"id": "int64", "amount": "decimal(6,2)"})j"),
                     Step("dedupe", R"({"key": ["id"], "keep": "last"})"),
                     Step("rename", R"({"amount": "total"})"), Step("drop", R"(["junk"])")},
                    schema, {std::move(in)});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(testing::SchemaLine(r->schema), "id int64 | total decimal(6,2)");
  EXPECT_EQ(testing::Rows(r->out), (std::vector<std::string>{"1|3.00"}));
  EXPECT_EQ(testing::Lines(r->out), (std::vector<int64_t>{7}));
  ASSERT_EQ(r->bad.size(), 1u);
  EXPECT_EQ(r->bad[0].line, 6);
  EXPECT_EQ(r->removed, 1);
}

TEST(OperatorChain, FinishFlushesInOrderSoLaterStepsSeeEarlierFlushes) {
  RecordBatch in = MakeBatch("id int32 | v string", {"1|a", "2|a", "1|b", "3|c"});
  Schema schema = in.schema;
  auto r = RunChain({Step("dedupe", R"({"key": ["id"], "keep": "last"})"),
                     Step("dedupe", R"({"key": ["v"], "keep": "last"})")},
                    schema, {std::move(in)});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  // First step: 2|a 1|b 3|c; second keeps one per v.
  EXPECT_EQ(testing::Rows(r->out), (std::vector<std::string>{"2|a", "1|b", "3|c"}));
  EXPECT_EQ(r->removed, 1);
}

TEST(OperatorChain, EmptyChainPassesBatchesThrough) {
  RecordBatch in = MakeBatch("id int32", {"1", "2"});
  Schema schema = in.schema;
  auto r = RunChain({}, schema, {std::move(in)});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->schema, schema);
  EXPECT_EQ(testing::Rows(r->out), (std::vector<std::string>{"1", "2"}));
}

TEST(OperatorChain, BindSeesThePreviousStepsOutput) {
  Schema schema = *testing::ParseSchemaLine("a int32");
  auto r = RunChain({Step("rename", R"({"a": "b"})"), Step("select", R"(["a"])")}, schema, {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "t.yaml:7: select: unknown column 'a' (columns: b)");
}

TEST(OperatorChain, SinkErrorsAbortPushAndFinish) {
  std::vector<std::unique_ptr<Operator>> ops;
  ops.push_back(MakeOperator(Step("dedupe", R"({"key": ["id"], "keep": "last"})")).value());
  ops.push_back(MakeOperator(Step("select", R"(["id"])")).value());
  OperatorChain chain(std::move(ops));
  RecordBatch in = MakeBatch("id int32", {"1"});
  ASSERT_TRUE(chain.Bind(in.schema).ok());
  std::vector<BadRecord> bad;
  auto failing = [](RecordBatch&&) { return Status::Unavailable("sink down"); };
  ASSERT_TRUE(chain.Push(std::move(in), &bad, failing).ok());  // held by dedupe
  Status st = chain.Finish(&bad, failing);
  EXPECT_EQ(st.code(), StatusCode::kUnavailable);
  EXPECT_EQ(st.message(), "sink down");

  std::vector<std::unique_ptr<Operator>> ops2;
  ops2.push_back(MakeOperator(Step("select", R"(["id"])")).value());
  OperatorChain chain2(std::move(ops2));
  RecordBatch in2 = MakeBatch("id int32", {"1"});
  ASSERT_TRUE(chain2.Bind(in2.schema).ok());
  EXPECT_EQ(chain2.Push(std::move(in2), &bad, failing).code(), StatusCode::kUnavailable);
}

TEST(Registry, KindsAndUnknownKind) {
  EXPECT_EQ(OperatorKinds(),
            (std::vector<std::string>{"aggregate", "cast", "dedupe", "derive", "drop", "filter",
                                      "lookup", "rename", "route", "select", "sql"}));
  for (const auto& kind : OperatorKinds()) {
    EXPECT_FALSE(MakeOperator(Step(kind, "17")).ok()) << kind;
  }
  auto r = MakeOperator(Step("explode", "{}"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "t.yaml:7: unknown transform step 'explode' (known: aggregate, cast, dedupe, derive, "
            "drop, filter, lookup, rename, route, select, sql)");
}

}  // namespace
}  // namespace sluice
