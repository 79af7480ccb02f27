// Pipeline specs: the YAML a user writes for one pipeline, parsed and validated.
//
//   pipeline: orders
//   source:
//     pattern: "*.csv*"            # glob on the file name under landing/orders/
//     format: csv                  # csv | ndjson (default: from the file name)
//     csv: { delimiter: ",", quote: "\"", header: true, null_values: [""] }
//     settle: 2s                   # a file is taken once unchanged this long
//   schema:
//     order_id: int64 not null
//     amount: decimal(12,2)
//   on_bad_record: quarantine      # fail | skip | quarantine
//   max_bad_ratio: 0.01            # over this, the batch ends quarantined
//   max_quarantined_records: 10000 # bad records written per batch (all are counted)
//   schema_evolution: evolve       # reject (default) | evolve | freeze: when a new
//                                  #   version's columns differ from its tables'
//   deadline: 15m                  # a batch should be committed this long after it
//                                  #   landed (earliest deadline first; at-risk and
//                                  #   missed alerts; architecture 8.3)
//   expect_every: 1h               # a batch should arrive at least this often
//                                  #   (else the pipeline is stale: an alert)
//   transform:
//     - rename: { amount: total }
//     - dedupe: { key: [order_id], keep: last }
//   outputs:
//     - table: orders_clean
//       partition_by: [day]
//       compression: zstd
//     - sqlite: { path: out.db, table: orders }
//     - table: revenue_by_day        # an output's own steps run after the shared ones
//       transform:
//         - aggregate: { group_by: [day], aggregates: { revenue: "sum(total)" } }
//     - table: big_orders
//       sql: "SELECT * FROM input WHERE total > 1000"
//     - table: eu_orders             # with a `route` step last in transform
//       route: eu
//
// ParsePipeline type-checks the whole spec (binds the transform chain against
// the schema and checks outputs), so a spec that parses can run. Binding needs
// the reference tables the steps read: ParsePipeline opens them first
// (OpenPipelineReferences) from the ReferenceEnv it is given. Errors name
// file:line and the key.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "core/schema_evolution.h"
#include "core/status.h"
#include "core/types.h"
#include "format/format.h"
#include "sink/sink.h"
#include "transform/operator.h"
#include "transform/reference.h"

namespace sluice {

enum class BadRecordPolicy { kFail, kSkip, kQuarantine };
std::string_view BadRecordPolicyName(BadRecordPolicy p);

struct SourceSpec {
  std::string pattern = "*";
  bool format_from_name = true;  // format not given: guess per file from its name
  FileFormat format = FileFormat::kCsv;
  CsvOptions csv;
  // A landed file is taken only once its size, mtime and change time are this
  // old (a writer that appends in place, like scp or SFTP, is still at work
  // before that). 0 takes every file at once: for writers that publish with
  // a rename only.
  std::chrono::milliseconds settle{2000};
};

// What one output does after the shared transform: its own steps (`transform:`
// or `sql:` under the output) and the route it takes (`route: NAME`).
struct OutputSteps {
  std::vector<StepSpec> transform;
  std::string route;  // empty: every row
  Schema schema;      // the rows this output receives
};

// A reference table a lookup step (or a sql JOIN) reads: `references:` in the spec.
struct ReferenceSpec {
  std::string file;  // as written (relative to the spec's directory)
  int line = 0;
  ReferenceSource source;  // resolved: absolute path, format, dialect, schema
};

struct PipelineSpec {
  std::string name;
  SourceSpec source;
  Schema schema;
  BadRecordPolicy on_bad_record = BadRecordPolicy::kQuarantine;
  double max_bad_ratio =
      0.0;  // fraction of records; 0 = any bad record quarantines (quarantine policy)
  // Bad records written to a batch's quarantine file; the rest are counted
  // (rows_quarantined) and summed up in the file's last line, so a file of
  // garbage cannot fill the disk with quarantine output.
  int64_t max_quarantined_records = 10000;
  // How the pipeline's lake tables and database outputs take a batch whose
  // columns differ from theirs (core/schema_evolution.h).
  SchemaEvolution schema_evolution = SchemaEvolution::kReject;
  // Landing to committed, per batch; 0 = none.
  std::chrono::milliseconds deadline{0};
  // The longest time between two arrivals before the pipeline is stale; 0 = none.
  std::chrono::milliseconds expect_every{0};
  std::vector<StepSpec> transform;
  std::vector<ReferenceSpec> references;
  std::vector<SinkSpec> outputs;
  std::vector<OutputSteps> output_steps;  // one per output
  std::vector<std::string> routes;        // when the shared transform ends in a route step
  Schema output_schema;  // schema after the shared transform (without the route column)
  std::string file;      // where it was read from
  std::string text;      // the exact YAML text (its sha256 is the version hash)
};

// 1-64 characters of a-z, 0-9 and _ (a pipeline name; also the table name
// that `ingest --table` gives its pipeline).
bool ValidPipelineName(const std::string& name);

// Parses a pipeline spec from YAML text. `file` is used in error messages.
// The references its steps read are opened from `references` (default: a
// cache of this call's own and no lake tables).
Result<PipelineSpec> ParsePipeline(const std::string& text, const std::string& file,
                                   const ReferenceEnv& references = {});
// Reads and parses a file.
Result<PipelineSpec> LoadPipelineFile(const std::string& path, const ReferenceEnv& references = {});
// Every *.yaml / *.yml in `dir`, sorted; a duplicate pipeline name is an error.
// Pipeline test files (*.test.yaml, see `sluice test`) are not pipelines.
Result<std::vector<PipelineSpec>> LoadPipelineDir(const std::string& dir,
                                                  const ReferenceEnv& references = {});
// The pipeline spec files LoadPipelineDir reads, sorted.
Result<std::vector<std::string>> ListPipelineFiles(const std::string& dir);
// Whether a file name is a pipeline test file (NAME.test.yaml / .test.yml).
bool IsPipelineTestFile(const std::string& name);
// The sources of the references the steps of `steps` read (declared under
// `references:`; names no step uses are left out), in the order declared.
std::vector<ReferenceSource> StepReferenceSources(const std::vector<StepSpec>& steps,
                                                  const std::vector<ReferenceSpec>& declared);
// The open step for a parsed spec: every reference its shared and per-output
// steps read, opened (OpenReferences), before any of them is bound.
Result<ResolvedReferences> OpenPipelineReferences(const PipelineSpec& spec,
                                                  const ReferenceEnv& env);
// Builds the operator chain of a spec (fresh operators for one batch), already
// bound to spec.schema, so Push can be called at once (binding again is harmless).
// Steps that read references take them from `references` (opened before).
Result<OperatorChain> BuildChain(const PipelineSpec& spec,
                                 const ResolvedReferences* references = nullptr);
// Renders a spec back to YAML (used by `ingest --table` and `infer`).
std::string RenderPipeline(const PipelineSpec& spec);
// Parses a schema on its own, written as a pipeline's `schema:` block: a
// mapping `name: TYPE [not null]` in column order, either at the top level or
// under a `schema:` key (so a whole pipeline spec works too). Used by
// `sluice convert --schema`. Errors read "FILE:LINE: KEY: message".
Result<Schema> ParseSchemaYaml(const std::string& text, const std::string& file);
Result<Schema> LoadSchemaFile(const std::string& path);

}  // namespace sluice
