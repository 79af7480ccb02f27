#include <gtest/gtest.h>

#include "batch_text.h"

namespace sluice {
namespace {

using testing::MakeBatch;
using testing::RunChain;
using testing::RunOne;
using testing::Step;

struct CastCase {
  const char* from;      // input column type
  const char* value;     // input cell ("NULL" for null)
  const char* to;        // target type
  const char* expected;  // output cell, or nullptr when the row must be bad
};

// Every conversion class, its edges, and the rounding rule.
const CastCase kCases[] = {
    // string -> everything
    {"string", "42", "int32", "42"},
    {"string", "-2147483648", "int32", "-2147483648"},
    {"string", "2147483648", "int32", nullptr},
    {"string", " 1", "int32", nullptr},
    {"string", "1.5", "int32", nullptr},
    {"string", "9223372036854775807", "int64", "9223372036854775807"},
    {"string", "9223372036854775808", "int64", nullptr},
    {"string", "2.5", "float64", "2.5"},
    {"string", "abc", "float64", nullptr},
    {"string", "12.5", "decimal(5,2)", "12.50"},
    {"string", "12.345", "decimal(5,2)", nullptr},
    {"string", "1234.5", "decimal(5,2)", nullptr},
    {"string", "yes", "bool", "true"},
    {"string", "0", "bool", "false"},
    {"string", "maybe", "bool", nullptr},
    {"string", "2024-02-29", "date", "2024-02-29"},
    {"string", "2023-02-29", "date", nullptr},
    {"string", "2024-01-02 03:04:05", "timestamp", "2024-01-02T03:04:05Z"},
    {"string", "2024-01-02T03:04:05+01:00", "timestamp", "2024-01-02T02:04:05Z"},
    {"string", "x", "string", "x"},
    // -> string
    {"int32", "-7", "string", "-7"},
    {"int64", "123456789012", "string", "123456789012"},
    {"float64", "0.1", "string", "0.1"},
    {"float64", "-inf", "string", "-inf"},
    {"decimal(6,3)", "-1.500", "string", "-1.500"},
    {"bool", "true", "string", "true"},
    {"date", "1969-12-31", "string", "1969-12-31"},
    {"timestamp", "2024-05-06T07:08:09.5Z", "string", "2024-05-06T07:08:09.500000Z"},
    // integers widen and narrow with range checks
    {"int32", "-5", "int64", "-5"},
    {"int64", "2147483647", "int32", "2147483647"},
    {"int64", "2147483648", "int32", nullptr},
    {"int64", "-2147483649", "int32", nullptr},
    {"int32", "3", "float64", "3"},
    // float -> integer rounds half away from zero
    {"float64", "2.5", "int32", "3"},
    {"float64", "-2.5", "int32", "-3"},
    {"float64", "2.4999", "int64", "2"},
    {"float64", "nan", "int64", nullptr},
    {"float64", "inf", "int32", nullptr},
    {"float64", "3e+09", "int32", nullptr},
    {"float64", "3e9", "int64", "3000000000"},
    {"float64", "1e+19", "int64", nullptr},
    // decimals
    {"int32", "12", "decimal(4,2)", "12.00"},
    {"int32", "123", "decimal(4,2)", nullptr},
    {"int64", "-99", "decimal(2,0)", "-99"},
    {"decimal(5,2)", "1.25", "decimal(5,1)", "1.3"},
    {"decimal(5,2)", "-1.25", "decimal(5,1)", "-1.3"},
    {"decimal(5,2)", "1.24", "decimal(5,1)", "1.2"},
    {"decimal(5,2)", "999.99", "decimal(4,1)", nullptr},
    {"decimal(5,2)", "99.99", "decimal(4,3)", nullptr},
    {"decimal(5,2)", "99.99", "decimal(6,3)", "99.990"},
    {"decimal(18,0)", "999999999999999999", "decimal(18,2)", nullptr},
    {"decimal(4,1)", "2.5", "int32", "3"},
    {"decimal(4,1)", "-2.5", "int64", "-3"},
    {"decimal(6,2)", "-12.34", "float64", "-12.34"},
    {"float64", "1.005", "decimal(4,2)", "1.01"},
    {"float64", "-1.005", "decimal(4,2)", "-1.01"},
    {"float64", "0.125", "decimal(3,2)", "0.13"},
    {"float64", "123.4", "decimal(4,2)", nullptr},
    {"float64", "nan", "decimal(4,2)", nullptr},
    {"float64", "1e-9", "decimal(4,2)", "0.00"},
    // bool <-> int
    {"bool", "true", "int32", "1"},
    {"bool", "false", "int64", "0"},
    {"bool", "true", "float64", "1"},
    {"bool", "true", "decimal(3,2)", "1.00"},
    {"bool", "true", "decimal(2,2)", nullptr},
    {"int32", "0", "bool", "false"},
    {"int64", "-3", "bool", "true"},
    // date <-> timestamp
    {"date", "2024-03-01", "timestamp", "2024-03-01T00:00:00Z"},
    {"timestamp", "2024-03-01T23:59:59Z", "date", "2024-03-01"},
    {"timestamp", "1969-12-31T23:00:00Z", "date", "1969-12-31"},
    {"timestamp", "1970-01-01T00:00:00Z", "date", "1970-01-01"},
    // nulls stay null
    {"string", "NULL", "int32", "NULL"},
    {"float64", "NULL", "decimal(4,2)", "NULL"},
    {"date", "NULL", "string", "NULL"},
};

TEST(CastOp, ConversionTable) {
  for (const auto& c : kCases) {
    SCOPED_TRACE(std::string(c.from) + " '" + c.value + "' -> " + c.to);
    std::string schema = std::string("id int32 | v ") + c.from;
    RecordBatch in = MakeBatch(schema, {std::string("1|") + c.value});
    nlohmann::json args = {{"v", c.to}};
    auto r = RunOne({Step("cast", args.dump())}, std::move(in));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->schema.field(1).type, *DataType::Parse(c.to));
    auto rows = testing::Rows(r->out);
    if (c.expected == nullptr) {
      EXPECT_TRUE(rows.empty());
      ASSERT_EQ(r->bad.size(), 1u);
      EXPECT_EQ(r->bad[0].field, "v");
      EXPECT_EQ(r->bad[0].reason, std::string("cannot cast '") + c.value + "' to " +
                                      DataType::Parse(c.to)->ToString());
    } else {
      EXPECT_TRUE(r->bad.empty()) << r->bad[0].reason;
      ASSERT_EQ(rows.size(), 1u);
      EXPECT_EQ(rows[0], std::string("1|") + c.expected);
    }
  }
}

TEST(CastOp, UnsupportedPairsFailAtBind) {
  const std::pair<const char*, const char*> kBad[] = {
      {"date", "int32"},        {"timestamp", "float64"}, {"int64", "date"},
      {"bool", "timestamp"},    {"float64", "bool"},      {"decimal(4,2)", "bool"},
      {"date", "decimal(9,0)"},
  };
  for (auto [from, to] : kBad) {
    SCOPED_TRACE(std::string(from) + " -> " + to);
    auto schema = testing::ParseSchemaLine(std::string("v ") + from);
    ASSERT_TRUE(schema.ok());
    nlohmann::json args = {{"v", to}};
    auto r = RunChain({Step("cast", args.dump())}, *schema, {});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().message(), std::string("t.yaml:7: cast: cannot cast column 'v' from ") +
                                        from + " to " + DataType::Parse(to)->ToString());
  }
}

TEST(CastOp, BadRowsLeaveTheBatchWithLineFieldReasonAndRaw) {
  RecordBatch in = MakeBatch("id int64 | qty string | note string",
                             {"1|5|ok", "2|x|has, comma", "3|7|NULL", "4|9999999999|\"q\""}, 10);
  auto r = RunOne({Step("cast", R"({"qty": "int32"})")}, std::move(in));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(testing::Rows(r->out), (std::vector<std::string>{"1|5|ok", "3|7|NULL"}));
  EXPECT_EQ(testing::Lines(r->out), (std::vector<int64_t>{10, 12}));
  ASSERT_EQ(r->bad.size(), 2u);
  EXPECT_EQ(r->bad[0].line, 11);
  EXPECT_EQ(r->bad[0].field, "qty");
  EXPECT_EQ(r->bad[0].reason, "cannot cast 'x' to int32");
  EXPECT_EQ(r->bad[0].raw, "2,x,\"has, comma\"");
  EXPECT_EQ(r->bad[1].line, 13);
  EXPECT_EQ(r->bad[1].raw, "4,9999999999,\"\"\"q\"\"\"");
}

TEST(CastOp, RowFailingInTwoColumnsIsOneBadRecordForTheFirstColumnInSpecOrder) {
  RecordBatch in = MakeBatch("a string | b string", {"x|y", "1|2"}, 0);
  // JSON objects are sorted, so the spec order is a then b.
  auto r = RunOne({Step("cast", R"({"b": "int32", "a": "int32"})")}, std::move(in));
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->bad.size(), 1u);
  EXPECT_EQ(r->bad[0].line, 0);  // the batch had no source lines
  EXPECT_EQ(r->bad[0].field, "a");
  EXPECT_EQ(testing::Rows(r->out), (std::vector<std::string>{"1|2"}));
  EXPECT_TRUE(r->out[0].source_lines.empty());
}

TEST(CastOp, KeepsNullabilityAndOtherColumns) {
  RecordBatch in = MakeBatch("id int64 not null | v string", {"1|2"});
  auto r = RunOne({Step("cast", R"({"v": "int64"})")}, std::move(in));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(testing::SchemaLine(r->schema), "id int64 not null | v int64");
  EXPECT_EQ(testing::SchemaLine(r->out[0].schema), "id int64 not null | v int64");
}

TEST(CastOp, AllRowsBadEmitsNothing) {
  RecordBatch in = MakeBatch("v string", {"a", "b"});
  auto r = RunOne({Step("cast", R"({"v": "date"})")}, std::move(in));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->out.empty());
  EXPECT_EQ(r->bad.size(), 2u);
}

TEST(CastOp, ArgumentErrors) {
  const std::pair<const char*, const char*> kBad[] = {
      {R"([])", "t.yaml:7: cast: expected a mapping of column to type"},
      {R"({})", "t.yaml:7: cast: expected a mapping of column to type"},
      {R"({"v": 3})", "t.yaml:7: cast: type for 'v' must be a type name, got 3"},
      {R"({"v": "int128"})", "t.yaml:7: cast: v: unknown type 'int128'"},
      {R"j({"v": "decimal(30,2)"})j", "t.yaml:7: cast: v: decimal precision 30"},
      {R"({"nope": "int32"})", "t.yaml:7: cast: unknown column 'nope' (columns: v)"},
  };
  auto schema = testing::ParseSchemaLine("v string");
  for (auto [args, msg] : kBad) {
    SCOPED_TRACE(args);
    auto r = RunChain({Step("cast", args)}, *schema, {});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(r.status().message().rfind(msg, 0), 0u) << r.status().message();
  }
}

}  // namespace
}  // namespace sluice
