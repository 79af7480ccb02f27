// Pipeline unit tests (`sluice test`): NAME.test.yaml beside the pipeline
// NAME.yaml lists cases, each an input, the rows every output should receive
// and the records the pipeline should reject. A case runs the real decoder
// (so schema validation is exactly as in production) and the real transform
// (PipelineRunner: shared steps, routes, per-output steps), in memory: no
// project, catalog, store or sink is involved.
//
//   tests:
//     - name: a resent order keeps its last version
//       input:                          # rows as mappings, rendered as NDJSON lines
//         - { order_id: 1, amount: "12.50", day: 2026-11-01 }
//         - { order_id: 1, amount: "13.00", day: 2026-11-01 }
//       # or input_csv: |     CSV text with a header, in the pipeline's CSV dialect
//       # or input_ndjson: |  NDJSON text
//       # or input_file: fixtures/x.csv  (relative to the test file; format as in production)
//       expect:                         # per output: its name, KIND:NAME or outputs[N]
//         orders_clean:
//           - { order_id: 1, amount: "13.00" }
//       expect_bad:                     # rejected records (absent: none may be rejected)
//         - { line: 3, field: amount, reason: "cannot parse" }
//       ordered: false                  # compare rows as multisets (default: in order)
//
// Cells compare as text (CellText; YAML null is NULL) on the columns each
// expected row lists. An output not under `expect` is not checked. A bad
// record matches an expectation when every key given matches: `line` and
// `field` exactly, `reason` and `raw` as substrings. `line` is the input row
// (1-based) for `input`, else the physical line of the input text or file.
// The pipeline's on_bad_record policy and max_bad_ratio are not applied: a
// case checks which records are rejected, not what the batch does with them.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/bad_record.h"
#include "core/status.h"
#include "pipeline/spec.h"

namespace sluice {

// One expected cell: text, or NULL when absent.
struct ExpectedCell {
  std::string column;
  std::optional<std::string> text;
};

struct ExpectedRow {
  std::vector<ExpectedCell> cells;  // in the order written
  int line = 0;                     // in the test file
};

struct ExpectedOutput {
  std::string key;    // as written under `expect`
  size_t output = 0;  // index in spec.outputs
  std::vector<ExpectedRow> rows;
  int line = 0;
};

struct ExpectedBad {
  std::optional<int64_t> line;
  std::optional<std::string> field;
  std::optional<std::string> reason;  // substring
  std::optional<std::string> raw;     // substring
  int file_line = 0;                  // in the test file
};

enum class PipelineTestInput { kRows, kCsv, kNdjson, kFile };

struct PipelineTestCase {
  std::string name;
  int line = 0;  // of the case in the test file
  PipelineTestInput input_kind = PipelineTestInput::kRows;
  // kRows: NDJSON lines rendered from the rows; kCsv/kNdjson: the text;
  // kFile: the resolved path.
  std::string input;
  std::vector<int> input_row_lines;  // kRows: test-file line of each row
  std::vector<ExpectedOutput> expect;
  std::vector<ExpectedBad> expect_bad;  // absent in the file = none expected
  bool ordered = true;
};

struct PipelineTestFile {
  std::string path;  // the test file
  PipelineSpec spec;
  std::vector<PipelineTestCase> cases;
  // The reference tables of this file's runs: opened once and shared by its
  // cases (no project: no lake tables).
  std::shared_ptr<ReferenceCache> references = std::make_shared<ReferenceCache>();
};

// The pipeline file a test file belongs to: NAME.test.yaml -> NAME.yaml (or
// NAME.yml when only that exists).
std::string PipelineFileForTest(const std::string& test_path);
// The test file of a pipeline file: NAME.yaml -> NAME.test.yaml (or
// NAME.test.yml when only that exists).
std::string TestFileForPipeline(const std::string& pipeline_path);

// Parses test-file text against an already parsed pipeline. Errors read
// "FILE:LINE: KEY: message" (unknown keys, outputs and columns included).
Result<PipelineTestFile> ParsePipelineTests(const std::string& text, const std::string& file,
                                            const PipelineSpec& spec);
// Reads a test file and the pipeline beside it.
Result<PipelineTestFile> LoadPipelineTests(const std::string& test_path);

// The outcome of one output's comparison.
struct OutputTestResult {
  std::string key;     // as written under `expect`
  std::string output;  // "outputs[N] (table: orders)"
  bool passed = true;
  int64_t expected_rows = 0;
  int64_t actual_rows = 0;
  // Unified-diff-like lines: "  row" (equal), "- row" (expected only),
  // "+ row" (actual only), rows as YAML flow mappings of the listed columns;
  // then the first differing cell. Empty when passed.
  std::vector<std::string> diff;
  std::string first_difference;
};

struct PipelineTestResult {
  std::string name;
  std::string file;
  int line = 0;
  bool passed = false;
  // A case that could not run (unreadable input file, file-level decode
  // error); `passed` is false.
  std::optional<Status> error;
  std::vector<OutputTestResult> outputs;    // one per expected output
  std::vector<std::string> missing_bad;     // expectations no record matched
  std::vector<std::string> unexpected_bad;  // rejected records nobody expected
  std::vector<BadRecord> bad;               // every rejected record
  // The readable failure report (what `sluice test` prints under FAIL).
  std::string Diff() const;
};

PipelineTestResult RunPipelineTest(const PipelineTestFile& file, const PipelineTestCase& test);
std::vector<PipelineTestResult> RunPipelineTests(const PipelineTestFile& file);

}  // namespace sluice
