#include "engine/pipeline_tests.h"

#include <gtest/gtest.h>

#include <string>

#include "test_project.h"

namespace sluice {
namespace {

// A pipeline with a shared filter, a route, per-output steps and two outputs
// sharing a name.
constexpr char kPipeline[] = R"y(pipeline: sales
source:
  format: csv
  csv: { delimiter: ";", null_values: ["", "NA"] }
schema:
  id: int64 not null
  region: string
  amount: decimal(10,2)
  day: date
transform:
  - filter: "amount >= 0"
  - route:
      eu: "region IN ('DE', 'FR')"
outputs:
  - table: sales
  - sqlite: { path: out.db, table: sales }
  - table: eu_sales
    route: eu
  - table: totals
    transform:
      - aggregate: { group_by: [region], aggregates: { total: sum(amount) } }
)y";

PipelineSpec Spec() {
  auto spec = ParsePipeline(kPipeline, "sales.yaml");
  EXPECT_TRUE(spec.ok()) << spec.status().ToString();
  return spec.ok() ? *spec : PipelineSpec{};
}

Result<PipelineTestFile> Parse(const std::string& text) {
  return ParsePipelineTests(text, "sales.test.yaml", Spec());
}

// Parses and runs the only case of `text`.
PipelineTestResult RunOne(const std::string& text) {
  auto file = Parse(text);
  EXPECT_TRUE(file.ok()) << file.status().ToString();
  if (!file.ok() || file->cases.empty()) return {};
  return RunPipelineTest(*file, file->cases.front());
}

std::string ParseError(const std::string& text) {
  auto file = Parse(text);
  return file.ok() ? "(parsed)" : file.status().message();
}

constexpr char kRows[] = R"(
    input:
      - { id: 1, region: DE, amount: "12.50", day: 2026-11-01 }
      - { id: 2, region: US, amount: 7.5, day: 2026-11-01 }
      - { id: 3, region: FR, amount: "-1.00" }
      - { id: 4, region: null, amount: 3 }
)";

TEST(PipelineTests, PassingCaseChecksEveryListedOutput) {
  auto r = RunOne(std::string("tests:\n  - name: ok") + kRows + R"(
    expect:
      sales:
        - { id: 1, amount: "12.50", day: 2026-11-01 }
        - { id: 2, amount: 7.50 }
        - { id: 4, region: null, day: null }
      eu_sales:
        - { id: 1, region: DE }
      totals:
        - { region: DE, total: "12.50" }
        - { region: US, total: "7.50" }
        - { region: null, total: "3.00" }
)");
  EXPECT_TRUE(r.passed) << r.Diff();
  EXPECT_FALSE(r.error.has_value());
  // `sales` names the lake table and the SQLite copy: both are checked.
  ASSERT_EQ(r.outputs.size(), 4u);
  EXPECT_EQ(r.outputs[0].output, "outputs[0], table: sales");
  EXPECT_EQ(r.outputs[1].output, "outputs[1], sqlite: sales");
  EXPECT_TRUE(r.bad.empty());
}

TEST(PipelineTests, FailingCaseShowsADiffAndTheFirstDifferentCell) {
  auto r = RunOne(std::string("tests:\n  - name: wrong total") + kRows + R"(
    expect:
      table:sales:
        - { id: 1, amount: "12.50" }
        - { id: 2, amount: "7.00" }
        - { id: 4, amount: "3.00" }
      eu_sales: []
)");
  EXPECT_FALSE(r.passed);
  ASSERT_EQ(r.outputs.size(), 2u);
  EXPECT_EQ(r.outputs[0].expected_rows, 3);
  EXPECT_EQ(r.outputs[0].actual_rows, 3);
  EXPECT_EQ(r.Diff(),
            "  output table:sales (outputs[0], table: sales): 3 row(s) expected, 3 actual\n"
            "      { id: 1, amount: 12.50 }\n"
            "    - { id: 2, amount: 7.00 }\n"
            "    + { id: 2, amount: 7.50 }\n"
            "      { id: 4, amount: 3.00 }\n"
            "    first difference: expected row 2 (sales.test.yaml:12) vs actual row 2, column "
            "amount: expected \"7.00\", got \"7.50\"\n"
            "  output eu_sales (outputs[2], table: eu_sales): 0 row(s) expected, 1 actual\n"
            "    + { id: 1, region: DE, amount: 12.50, day: 2026-11-01 }\n"
            "    first difference: actual row 1 is not expected\n");
}

TEST(PipelineTests, MissingAndExtraRowsInOrder) {
  auto r = RunOne(std::string("tests:\n  - name: order matters") + kRows + R"(
    expect:
      outputs[0]:
        - { id: 2 }
        - { id: 1 }
        - { id: 4 }
        - { id: 5 }
)");
  EXPECT_FALSE(r.passed);
  ASSERT_EQ(r.outputs.size(), 1u);
  EXPECT_EQ(r.outputs[0].diff,
            (std::vector<std::string>{"+ { id: 1 }", "  { id: 2 }", "- { id: 1 }", "  { id: 4 }",
                                      "- { id: 5 }"}));
}

TEST(PipelineTests, UnorderedComparesMultisets) {
  std::string expect = R"(
    expect:
      sales:
        - { id: 4 }
        - { id: 1 }
        - { id: 2 }
)";
  auto ordered = RunOne(std::string("tests:\n  - name: o") + kRows + expect);
  EXPECT_FALSE(ordered.passed);
  auto unordered = RunOne(std::string("tests:\n  - name: u\n    ordered: false") + kRows + expect);
  EXPECT_TRUE(unordered.passed) << unordered.Diff();

  // A row expected twice needs two actual rows.
  auto twice = RunOne(std::string("tests:\n  - name: u\n    ordered: false") + kRows + R"(
    expect:
      sales: [{ id: 4 }, { id: 1 }, { id: 1 }, { id: 2 }]
)");
  EXPECT_FALSE(twice.passed);
  EXPECT_EQ(twice.outputs[0].diff.back(), "- { id: 1 }");
  EXPECT_EQ(twice.outputs[0].first_difference,
            "expected row 3 (sales.test.yaml:11) is missing: { id: 1 }");
}

TEST(PipelineTests, BadRecordsMustBeExpected) {
  const std::string input = R"(tests:
  - name: bad
    input:
      - { id: 1, amount: "1.00" }
      - { id: x, amount: "2.00" }
      - { id: 3, amount: "1.234" }
      - { amount: "4.00" }
)";
  // Without expect_bad, every rejected record is a failure.
  auto r = RunOne(input);
  EXPECT_FALSE(r.passed);
  ASSERT_EQ(r.bad.size(), 3u);
  EXPECT_EQ(r.unexpected_bad.size(), 3u);
  EXPECT_EQ(r.unexpected_bad[0],
            "{ line: 2, field: id, reason: \"cannot parse 'x' as int64\" }  # input row at "
            "sales.test.yaml:5");

  auto ok = RunOne(input + R"(    expect_bad:
      - { line: 2, field: id, reason: "cannot parse" }
      - { field: amount, raw: "1.234" }
      - { line: 4, reason: "null in not-null field" }
)");
  EXPECT_TRUE(ok.passed) << ok.Diff();

  auto wrong = RunOne(input + R"(    expect_bad:
      - { line: 2, field: id }
      - { line: 3, field: day }
)");
  EXPECT_FALSE(wrong.passed);
  EXPECT_EQ(wrong.Diff(),
            "  bad records: 1 expected but not rejected, 2 rejected unexpectedly\n"
            "    - { line: 3, field: day }  # sales.test.yaml:10\n"
            "    + { line: 3, field: amount, reason: \"cannot parse '1.234' as decimal(10,2)\" }"
            "  # input row at sales.test.yaml:6\n"
            "    + { line: 4, field: id, reason: \"null in not-null field\" }"
            "  # input row at sales.test.yaml:7\n");
}

TEST(PipelineTests, CsvInputUsesThePipelinesDialect) {
  auto r = RunOne(R"(tests:
  - name: csv
    input_csv: |
      id;region;amount;day
      1;NA;"1,5";2026-01-02
      2;DE;2.25;
      3;FR;zz;
    expect:
      sales:
        - { id: 2, region: DE, amount: "2.25", day: null }
      eu_sales:
        - { id: 2 }
    expect_bad:
      - { line: 2, field: amount }
      - { line: 4, field: amount, reason: "cannot parse 'zz'" }
)");
  EXPECT_TRUE(r.passed) << r.Diff();
}

TEST(PipelineTests, InputFileIsRelativeToTheTestFile) {
  testing::ScratchDir dir;
  dir.Write("sales.yaml", kPipeline);
  dir.Write("fixtures/in.csv", "id;region;amount;day\n7;DE;1.00;\n8;US;2.00;\n");
  const std::string test = dir.Write("sales.test.yaml", R"(tests:
  - name: from a file
    input_file: fixtures/in.csv
    expect:
      eu_sales: [{ id: 7 }]
)");
  EXPECT_EQ(PipelineFileForTest(test), dir.path() + "/sales.yaml");
  EXPECT_EQ(TestFileForPipeline(dir.path() + "/sales.yaml"), test);
  auto file = LoadPipelineTests(test);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  auto results = RunPipelineTests(*file);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_TRUE(results[0].passed) << results[0].Diff();

  // A missing fixture is an error naming the test file's line.
  dir.Write("sales.test.yaml", "tests:\n  - name: x\n    input_file: nope.csv\n");
  auto missing = LoadPipelineTests(test);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("sales.test.yaml:3: tests[0].input_file: input file"),
            std::string::npos)
      << missing.status().message();
}

TEST(PipelineTests, RunErrorsAreReportedPerCase) {
  // A CSV without the required header column cannot be decoded at all.
  auto r = RunOne(R"(tests:
  - name: no header
    input_csv: |
      region;amount
      DE;1.00
)");
  EXPECT_FALSE(r.passed);
  ASSERT_TRUE(r.error.has_value());
  EXPECT_NE(r.Diff().find("error: "), std::string::npos);
}

TEST(PipelineTests, TestFileErrorsNameFileAndLine) {
  EXPECT_EQ(ParseError("tets: []\n"),
            "sales.test.yaml:1: tets: unknown key (did you mean 'tests'?)");
  EXPECT_EQ(ParseError("tests: []\n"),
            "sales.test.yaml:1: tests: expected a non-empty list of tests");
  EXPECT_EQ(ParseError("tests:\n  - name: a\n    input: []\n    expcet: {}\n"),
            "sales.test.yaml:4: tests[0].expcet: unknown key (did you mean 'expect'?)");
  EXPECT_EQ(ParseError("tests:\n  - name: a\n    expect: {}\n"),
            "sales.test.yaml:2: tests[0]: a test needs an input (input, input_csv, "
            "input_ndjson or input_file)");
  EXPECT_EQ(ParseError("tests:\n  - input: []\n"),
            "sales.test.yaml:2: tests[0].name: a test needs a name");
  EXPECT_EQ(ParseError("tests:\n  - name: a\n    input: []\n    input_csv: x\n"),
            "sales.test.yaml:4: tests[0].input_csv: a test has one input (input, input_csv, "
            "input_ndjson or input_file)");
  EXPECT_EQ(ParseError("tests:\n  - name: a\n    input:\n      - { id: 1, regoin: DE }\n"),
            "sales.test.yaml:4: tests[0].input[0]: unknown column 'regoin' (did you mean "
            "'region'?)");
  EXPECT_EQ(ParseError("tests:\n  - name: a\n    input: []\n    expect:\n      sale: []\n"),
            "sales.test.yaml:5: tests[0].expect: unknown output 'sale' (did you mean 'sales'?)");
  EXPECT_EQ(ParseError("tests:\n  - name: a\n    input: []\n    expect:\n      outputs[9]: []\n"),
            "sales.test.yaml:5: tests[0].expect.outputs[9]: no such output (the pipeline has 4: "
            "outputs[0] to outputs[3])");
  // Columns are checked against the output's own schema (after its steps).
  EXPECT_EQ(ParseError("tests:\n  - name: a\n    input: []\n    expect:\n      totals:\n"
                       "        - { region: DE, amount: 1 }\n"),
            "sales.test.yaml:6: tests[0].expect.totals[0]: unknown column 'amount' (columns: "
            "region, total)");
  EXPECT_EQ(ParseError("tests:\n  - name: a\n    input: []\n    expect:\n      sales: []\n"
                       "      outputs[1]: []\n"),
            "sales.test.yaml:6: tests[0].expect.outputs[1]: outputs[1], sqlite: sales is "
            "already checked under 'sales'");
  EXPECT_EQ(ParseError("tests:\n  - name: a\n    input: []\n    expect_bad:\n"
                       "      - { line: two }\n"),
            "sales.test.yaml:5: tests[0].expect_bad[0].line: expected a line number (1, 2, ...)");
  EXPECT_EQ(ParseError("tests:\n  - name: a\n    input: []\n    expect_bad:\n"
                       "      - { lines: 2 }\n"),
            "sales.test.yaml:5: tests[0].expect_bad[0].lines: unknown key (did you mean "
            "'line'?)");
  EXPECT_EQ(ParseError("tests:\n  - name: a\n    input: []\n  - name: a\n    input: []\n"),
            "sales.test.yaml:4: tests[1].name: duplicate test name 'a' (first at line 2)");
  EXPECT_EQ(ParseError("tests:\n  - name: a\n    input: []\n    ordered: maybe\n"),
            "sales.test.yaml:4: tests[0].ordered: expected true or false, got a string ('maybe')");
}

TEST(PipelineTests, InlineValuesKeepTheirYamlTypes) {
  // A quoted number is a JSON string; a plain one a JSON number with its
  // digits kept; both decode into a decimal. A quoted "null" is the text null.
  auto r = RunOne(R"(tests:
  - name: types
    input:
      - { id: 1, region: "null", amount: 12345678.91 }
      - { id: 2, region: ~, amount: "0.10" }
    expect:
      sales:
        - { id: 1, region: "null", amount: "12345678.91" }
        - { id: 2, region: null, amount: 0.10 }
)");
  EXPECT_TRUE(r.passed) << r.Diff();
}

}  // namespace
}  // namespace sluice
