// Lookup joins with reference files, through the YAML step and sql JOIN.
#include <gtest/gtest.h>

#include "core/cell_text.h"
#include "pipeline/runner.h"
#include "test_dir.h"

namespace sluice {
namespace {

using testing::TempDir;

RecordBatch Orders() {
  Schema s({{"id", DataType::Int64(), false},
            {"cust", DataType::Int32(), true},
            {"amount", DataType::Int64(), true}});
  RecordBatch b = RecordBatch::Empty(s);
  const int64_t rows[][3] = {{1, 10, 5}, {2, 20, 7}, {3, 99, 1}, {4, -1, 2}, {5, 10, 3}};
  for (const auto& r : rows) {
    b.columns[0].Append<int64_t>(r[0]);
    if (r[1] < 0) {
      b.columns[1].AppendNull();
    } else {
      b.columns[1].Append<int32_t>(static_cast<int32_t>(r[1]));
    }
    b.columns[2].Append<int64_t>(r[2]);
    b.source_lines.push_back(r[0] + 1);
  }
  return b;
}

struct Ran {
  Status status;
  std::string schema;
  std::vector<std::string> rows;
};

Ran RunWith(const TempDir& dir, const std::string& body) {
  Ran out;
  std::string text =
      "pipeline: p\nschema:\n  id: int64 not null\n  cust: int32\n  amount: int64\n"
      "references:\n  customers: { file: ../ref/customers.csv }\n" +
      body;
  std::string file = dir.Write("pipelines/p.yaml", text);
  auto spec = ParsePipeline(text, file);
  if (!spec.ok()) {
    out.status = spec.status();
    return out;
  }
  auto runner = PipelineRunner::Make(*spec);
  if (!runner.ok()) {
    out.status = runner.status();
    return out;
  }
  out.schema = runner->output_schema(0).ToString();
  auto emit = [&](size_t, RecordBatch&& b) {
    for (int64_t i = 0; i < b.num_rows(); ++i) {
      std::string row;
      for (size_t c = 0; c < b.columns.size(); ++c) {
        row += (c ? "|" : "") + (b.columns[c].IsNull(i) ? "NULL" : CellText(b.columns[c], i));
      }
      out.rows.push_back(row);
    }
    return Status::OK();
  };
  std::vector<BadRecord> bad;
  out.status = runner->Push(Orders(), &bad, emit);
  if (out.status.ok()) out.status = runner->Finish(&bad, emit);
  return out;
}

const char* kCustomers = "id,name,segment\n10,Ada,gold\n20,Bob,\n30,Cy,silver\n";

TEST(Lookup, LeftJoinAddsColumnsAndKeepsUnmatchedRows) {
  TempDir dir;
  dir.Write("ref/customers.csv", kCustomers);
  Ran r = RunWith(dir,
                  "transform:\n  - lookup:\n      from: customers\n      on: { cust: id }\n"
                  "      columns: { name: customer, segment: segment }\n"
                  "outputs:\n  - table: t\n");
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.schema,
            "id: int64 not null\ncust: int32\namount: int64\ncustomer: string\nsegment: string\n");
  EXPECT_EQ(r.rows,
            (std::vector<std::string>{"1|10|5|Ada|gold", "2|20|7|Bob|NULL", "3|99|1|NULL|NULL",
                                      "4|NULL|2|NULL|NULL", "5|10|3|Ada|gold"}));
}

TEST(Lookup, InnerJoinDropsUnmatchedRows) {
  TempDir dir;
  dir.Write("ref/customers.csv", kCustomers);
  Ran r = RunWith(dir,
                  "transform:\n  - lookup: { from: customers, on: { cust: id }, join: inner, "
                  "columns: [name] }\noutputs:\n  - table: t\n");
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.rows, (std::vector<std::string>{"1|10|5|Ada", "2|20|7|Bob", "5|10|3|Ada"}));
}

TEST(Lookup, SqlJoinWithAliasesAggregates) {
  TempDir dir;
  dir.Write("ref/customers.csv", kCustomers);
  Ran r = RunWith(dir,
                  "outputs:\n  - table: t\n    sql: >\n"
                  "      SELECT c.name AS customer, sum(o.amount) AS total, count(*) AS n\n"
                  "      FROM input o JOIN customers c ON o.cust = c.id\n"
                  "      GROUP BY c.name\n");
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.schema, "customer: string\ntotal: int64\nn: int64 not null\n");
  EXPECT_EQ(r.rows, (std::vector<std::string>{"Ada|8|2", "Bob|7|1"}));

  Ran star = RunWith(dir,
                     "transform:\n  - sql: SELECT o.*, segment FROM input o LEFT JOIN customers c "
                     "ON o.cust = c.id WHERE amount > 2\noutputs:\n  - table: t\n");
  ASSERT_TRUE(star.status.ok()) << star.status.ToString();
  EXPECT_EQ(star.schema, "id: int64 not null\ncust: int32\namount: int64\nsegment: string\n");
  EXPECT_EQ(star.rows, (std::vector<std::string>{"1|10|5|gold", "2|20|7|NULL", "5|10|3|gold"}));
}

TEST(Lookup, Errors) {
  TempDir dir;
  dir.Write("ref/customers.csv", "id,name,segment\n10,Ada,gold\n10,Ann,silver\n");
  Ran dup = RunWith(dir,
                    "transform:\n  - lookup: { from: customers, on: { cust: id } }\n"
                    "outputs:\n  - table: t\n");
  EXPECT_NE(dup.status.message().find("reference customers has more than one row for key (id=10): "
                                      "lines 2 and 3"),
            std::string::npos)
      << dup.status.message();
  dir.Write("ref/customers.csv", kCustomers);
  Ran unknown = RunWith(dir,
                        "transform:\n  - lookup: { from: clients, on: { cust: id } }\n"
                        "outputs:\n  - table: t\n");
  EXPECT_NE(unknown.status.message().find("lookup: unknown reference 'clients' (references: "
                                          "customers)"),
            std::string::npos)
      << unknown.status.message();
  Ran clash = RunWith(dir,
                      "transform:\n  - lookup: { from: customers, on: { cust: id }, columns: "
                      "{ name: amount } }\noutputs:\n  - table: t\n");
  EXPECT_NE(clash.status.message().find("is already an input column"), std::string::npos)
      << clash.status.message();
  Ran bad_on = RunWith(dir,
                       "transform:\n  - sql: SELECT * FROM input JOIN customers c ON cust > c.id\n"
                       "outputs:\n  - table: t\n");
  EXPECT_NE(
      bad_on.status.message().find("write each JOIN condition as input_expression = c.column"),
      std::string::npos)
      << bad_on.status.message();
  Ran missing = RunWith(dir,
                        "transform:\n  - sql: SELECT * FROM input JOIN suppliers s ON cust = s.id\n"
                        "outputs:\n  - table: t\n");
  EXPECT_NE(missing.status.message().find("unknown reference 'suppliers' (references: customers)"),
            std::string::npos)
      << missing.status.message();
}

}  // namespace
}  // namespace sluice
