// Runs the golden files tests/sql/transform/*.test. Format (records are
// separated by blank lines; '#' starts a comment line):
//
//   test <name>
//   step <kind> <JSON args>          one line per step, in chain order
//   input <schema>                   "a int64 not null | b string"
//   <row>                            cells separated by '|'; NULL is a null cell
//   ===                              optional: starts the next pushed batch
//   ----
//   output <schema>                  the bound output schema
//   <row>                            every emitted row, in order
//   bad <line> <field>: <reason>     every bad record, in order (optional)
//   removed <n>                      the chain's RowsRemoved() (optional)
// or, after ----, a single line
//   error <text>                     MakeOperator/Bind fails; the message contains text
//
// Input rows get source lines 1, 2, 3, ... across batches.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "batch_text.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;

struct GoldenCase {
  std::string name;
  int line = 0;
  std::vector<StepSpec> steps;
  std::string input_schema;
  std::vector<std::vector<std::string>> batches;
  std::optional<std::string> error;
  std::string output_schema;
  std::vector<std::string> rows;
  std::vector<std::string> bad;
  std::optional<int64_t> removed;
};

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// Parses a whole file; a malformed file is a test failure naming file:line.
std::vector<GoldenCase> ParseGoldenFile(const fs::path& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) {
    if (!l.empty() && l.back() == '\r') l.pop_back();
    lines.push_back(l);
  }
  std::string file = path.filename().string();
  std::vector<GoldenCase> out;
  size_t i = 0;
  auto fail = [&](const std::string& msg) {
    ADD_FAILURE() << file << ":" << (i + 1) << ": " << msg;
  };
  while (i < lines.size()) {
    if (lines[i].empty() || lines[i][0] == '#') {
      ++i;
      continue;
    }
    GoldenCase c;
    c.line = static_cast<int>(i + 1);
    if (!StartsWith(lines[i], "test ")) {
      fail("expected 'test <name>'");
      return out;
    }
    c.name = lines[i++].substr(5);
    while (i < lines.size() && StartsWith(lines[i], "step ")) {
      std::string rest = lines[i].substr(5);
      size_t sp = rest.find(' ');
      std::string json = sp == std::string::npos ? "null" : rest.substr(sp + 1);
      if (nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false).is_discarded()) {
        fail("step args are not JSON: " + json);
        return out;
      }
      StepSpec s = testing::Step(rest.substr(0, sp), json);
      s.where = file + ":" + std::to_string(i + 1);
      c.steps.push_back(std::move(s));
      ++i;
    }
    if (i >= lines.size() || !StartsWith(lines[i], "input ")) {
      fail("expected 'input <schema>'");
      return out;
    }
    c.input_schema = lines[i++].substr(6);
    c.batches.emplace_back();
    while (i < lines.size() && lines[i] != "----") {
      if (lines[i].empty()) {
        fail("blank line before '----'");
        return out;
      }
      if (lines[i] == "===") {
        c.batches.emplace_back();
      } else {
        c.batches.back().push_back(lines[i]);
      }
      ++i;
    }
    if (i >= lines.size()) {
      fail("missing '----'");
      return out;
    }
    ++i;
    if (i < lines.size() && StartsWith(lines[i], "error ")) {
      c.error = lines[i++].substr(6);
    } else if (i < lines.size() && StartsWith(lines[i], "output ")) {
      c.output_schema = lines[i++].substr(7);
      while (i < lines.size() && !lines[i].empty()) {
        if (StartsWith(lines[i], "bad ")) {
          c.bad.push_back(lines[i]);
        } else if (StartsWith(lines[i], "removed ")) {
          c.removed = std::stoll(lines[i].substr(8));
        } else {
          c.rows.push_back(lines[i]);
        }
        ++i;
      }
    } else {
      fail("expected 'output <schema>' or 'error <text>' after '----'");
      return out;
    }
    out.push_back(std::move(c));
  }
  return out;
}

void RunCase(const GoldenCase& c) {
  auto schema = testing::ParseSchemaLine(c.input_schema);
  ASSERT_TRUE(schema.ok()) << schema.status().ToString();
  std::vector<RecordBatch> inputs;
  int64_t line = 1;
  for (const auto& rows : c.batches) {
    RecordBatch b = RecordBatch::Empty(*schema);
    for (const auto& r : rows) {
      Status st = testing::AppendRow(&b, r);
      ASSERT_TRUE(st.ok()) << st.ToString();
      b.source_lines.push_back(line++);
    }
    inputs.push_back(std::move(b));
  }
  auto r = testing::RunChain(c.steps, *schema, std::move(inputs));
  if (c.error) {
    ASSERT_FALSE(r.ok()) << "expected error containing: " << *c.error;
    EXPECT_NE(r.status().message().find(*c.error), std::string::npos)
        << "got: " << r.status().message();
    return;
  }
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(testing::SchemaLine(r->schema), c.output_schema);
  for (const auto& b : r->out) {
    EXPECT_EQ(b.schema, r->schema) << "emitted batch schema differs from the bound one";
    EXPECT_TRUE(b.source_lines.empty() ||
                static_cast<int64_t>(b.source_lines.size()) == b.num_rows());
  }
  EXPECT_EQ(testing::Rows(r->out), c.rows);
  std::vector<std::string> bad;
  for (const auto& rec : r->bad) {
    bad.push_back("bad " + std::to_string(rec.line) + " " + rec.field + ": " + rec.reason);
  }
  EXPECT_EQ(bad, c.bad);
  if (c.removed) {
    EXPECT_EQ(r->removed, *c.removed);
  }
}

std::vector<std::string> GoldenFiles() {
  std::vector<std::string> files;
  fs::path dir = fs::path(SLUICE_SOURCE_DIR) / "tests" / "sql" / "transform";
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.path().extension() == ".test") files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

class GoldenTest : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenTest, Runs) {
  fs::path path = GetParam();
  std::vector<GoldenCase> cases = ParseGoldenFile(path);
  EXPECT_FALSE(cases.empty()) << path << " holds no test";
  for (const auto& c : cases) {
    SCOPED_TRACE(path.filename().string() + ":" + std::to_string(c.line) + ": " + c.name);
    RunCase(c);
  }
}

INSTANTIATE_TEST_SUITE_P(Transform, GoldenTest, ::testing::ValuesIn(GoldenFiles()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = fs::path(info.param).stem().string();
                           for (char& ch : name) {
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return name;
                         });

TEST(GoldenFiles, Present) { EXPECT_GE(GoldenFiles().size(), 5u); }

}  // namespace
}  // namespace sluice
