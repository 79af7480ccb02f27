#include "pipeline/runner.h"

#include <gtest/gtest.h>

#include "core/cell_text.h"

namespace sluice {
namespace {

RecordBatch RunnerOrders() {
  Schema s({{"id", DataType::Int64(), false},
            {"country", DataType::String(), true},
            {"amount", DataType::Int64(), true}});
  RecordBatch b = RecordBatch::Empty(s);
  const struct {
    int64_t id;
    const char* country;
    int64_t amount;
  } rows[] = {{1, "DE", 10}, {2, "US", 20}, {3, "FR", 30}, {4, nullptr, 40}, {5, "DE", 50}};
  for (const auto& r : rows) {
    b.columns[0].Append<int64_t>(r.id);
    if (r.country) {
      b.columns[1].AppendString(r.country);
    } else {
      b.columns[1].AppendNull();
    }
    b.columns[2].Append<int64_t>(r.amount);
    b.source_lines.push_back(r.id + 1);
  }
  return b;
}

std::vector<std::vector<std::string>> RunSpec(const std::string& yaml,
                                              Schema* first_schema = nullptr) {
  auto spec = ParsePipeline(yaml, "p.yaml");
  EXPECT_TRUE(spec.ok()) << spec.status().ToString();
  if (!spec.ok()) return {};
  auto runner = PipelineRunner::Make(*spec);
  EXPECT_TRUE(runner.ok()) << runner.status().ToString();
  std::vector<std::vector<std::string>> out(runner->num_outputs());
  auto emit = [&](size_t o, RecordBatch&& b) {
    for (int64_t i = 0; i < b.num_rows(); ++i) {
      std::string row;
      for (size_t c = 0; c < b.columns.size(); ++c) {
        row += (c ? "|" : "") + (b.columns[c].IsNull(i) ? "NULL" : CellText(b.columns[c], i));
      }
      out[o].push_back(row);
    }
    return Status::OK();
  };
  std::vector<BadRecord> bad;
  EXPECT_TRUE(runner->Push(RunnerOrders(), &bad, emit).ok());
  EXPECT_TRUE(runner->Finish(&bad, emit).ok());
  if (first_schema != nullptr) *first_schema = runner->output_schema(0);
  return out;
}

const char* kHead =
    "pipeline: p\nschema:\n  id: int64 not null\n  country: string\n  amount: int64\n";

TEST(PipelineRunner, RoutesSendEachRowToTheFirstMatchingRoute) {
  std::string yaml = std::string(kHead) +
                     "transform:\n"
                     "  - filter: amount > 15\n"
                     "  - route:\n"
                     "      eu: \"country IN ('DE', 'FR')\"\n"
                     "      big: amount >= 30\n"
                     "outputs:\n"
                     "  - table: eu\n    route: eu\n"
                     "  - table: big\n    route: big\n"
                     "  - table: rest\n    route: other\n"
                     "  - table: everything\n";
  Schema s;
  auto out = RunSpec(yaml, &s);
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0], (std::vector<std::string>{"3|FR|30", "5|DE|50"}));
  EXPECT_EQ(out[1], (std::vector<std::string>{"4|NULL|40"}));  // NULL country: not eu
  EXPECT_EQ(out[2], (std::vector<std::string>{"2|US|20"}));
  EXPECT_EQ(out[3], (std::vector<std::string>{"2|US|20", "3|FR|30", "4|NULL|40", "5|DE|50"}));
  EXPECT_EQ(s.ToString(), "id: int64 not null\ncountry: string\namount: int64\n");
}

TEST(PipelineRunner, OutputsRunTheirOwnStepsAfterTheSharedOnes) {
  std::string yaml = std::string(kHead) +
                     "transform:\n"
                     "  - derive: { doubled: amount * 2 }\n"
                     "outputs:\n"
                     "  - table: detail\n"
                     "  - table: by_country\n"
                     "    transform:\n"
                     "      - aggregate:\n"
                     "          group_by: [country]\n"
                     "          aggregates: { total: sum(doubled), n: count(*) }\n"
                     "  - table: small\n"
                     "    transform:\n"
                     "      - filter: amount < 25\n"
                     "      - select: [id]\n";
  auto spec = ParsePipeline(yaml, "p.yaml");
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->output_steps[1].schema.ToString(),
            "country: string\ntotal: int64\nn: int64 not null\n");
  auto out = RunSpec(yaml);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].size(), 5u);
  EXPECT_EQ(out[0][0], "1|DE|10|20");
  EXPECT_EQ(out[1], (std::vector<std::string>{"DE|120|2", "US|40|1", "FR|60|1", "NULL|80|1"}));
  EXPECT_EQ(out[2], (std::vector<std::string>{"1", "2"}));
}

// Issue 10: a partition value too long for a directory name makes its row a
// bad record; the batch goes on (it used to fail at the file system).
TEST(PipelineRunner, PartitionValuesTooLongForADirectoryAreBadRecords) {
  std::string yaml = std::string(kHead) +
                     "transform:\n"
                     "  - derive: { tag: \"CASE WHEN id = 2 THEN rpad('x', 300, 'x') "
                     "WHEN id = 3 THEN rpad('/', 70, '/') ELSE country END\" }\n"
                     "outputs:\n"
                     "  - table: t\n    partition_by: [tag]\n"
                     "  - table: flat\n";
  auto spec = ParsePipeline(yaml, "p.yaml");
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  auto runner = PipelineRunner::Make(*spec);
  ASSERT_TRUE(runner.ok()) << runner.status().ToString();
  std::vector<std::vector<int64_t>> ids(2);
  auto emit = [&](size_t o, RecordBatch&& b) {
    for (int64_t i = 0; i < b.num_rows(); ++i) ids[o].push_back(b.columns[0].Value<int64_t>(i));
    return Status::OK();
  };
  std::vector<BadRecord> bad;
  ASSERT_TRUE(runner->Push(RunnerOrders(), &bad, emit).ok());
  ASSERT_TRUE(runner->Finish(&bad, emit).ok());
  EXPECT_EQ(ids[0], (std::vector<int64_t>{1, 4, 5}));
  EXPECT_EQ(ids[1], (std::vector<int64_t>{1, 2, 3, 4, 5}));  // unpartitioned: all rows
  ASSERT_EQ(bad.size(), 2u);
  EXPECT_EQ(bad[0].line, 3);
  EXPECT_EQ(bad[0].field, "tag");
  EXPECT_EQ(bad[0].reason,
            "partition value of 300 bytes makes a 304-byte directory name; at most 200 fit "
            "(partition by a shorter column)");
  EXPECT_EQ(bad[1].line, 4);  // 70 bytes, 210 once escaped ('/' is %2F)
}

TEST(PipelineRunner, SpecErrors) {
  auto err = [](const std::string& body) {
    auto r = ParsePipeline(std::string(kHead) + body, "p.yaml");
    return r.ok() ? std::string("OK") : r.status().message();
  };
  EXPECT_EQ(err("transform:\n  - route: { a: amount > 1 }\n  - select: [id]\noutputs:\n"
                "  - table: t\n"),
            "p.yaml:7: route: must be the last step of transform (give outputs their own steps "
            "with transform: under the output)");
  EXPECT_EQ(err("transform:\n  - route: { a: amount > 1 }\noutputs:\n  - table: t\n    route: b\n"),
            "p.yaml:10: route: unknown route 'b' (routes: a, other)");
  EXPECT_EQ(err("outputs:\n  - table: t\n    route: b\n"),
            "p.yaml:8: route: no route step in transform defines route 'b'");
  EXPECT_EQ(err("outputs:\n  - table: t\n    transform:\n      - filter: nope > 1\n"),
            "p.yaml:9:17: filter: unknown column 'nope' (columns: id, country, amount)\n"
            "    nope > 1\n    ^");
  EXPECT_EQ(err("outputs:\n  - table: t\n    partition_by: [total]\n    transform:\n"
                "      - aggregate: { group_by: [country], aggregates: { n: count(*) } }\n")
                .substr(0, 61),
            "p.yaml:8: partition_by: unknown column 'total' (columns after");
  EXPECT_EQ(
      err("transform:\n  - route: { other: amount > 1 }\noutputs:\n  - table: t\n").substr(0, 40),
      "p.yaml:7: route: 'other' is the route of");
}

}  // namespace
}  // namespace sluice
