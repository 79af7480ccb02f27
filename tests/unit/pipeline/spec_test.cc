#include "pipeline/spec.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <utility>

#include "test_dir.h"

namespace sluice {
namespace {

using testing::TempDir;

bool SpecStartsWith(const std::string& s, const std::string& p) { return s.rfind(p, 0) == 0; }

const char* kExample = R"(pipeline: orders
source:
  pattern: "*.csv*"
  format: csv
  csv: { delimiter: ";", quote: "'", header: false, null_values: ["", "NA"] }
schema:
  order_id: int64 not null
  amount: decimal(12,2)
  day: date
  note: string NOT NULL
on_bad_record: skip
max_bad_ratio: 0.01
transform:
  - rename: { amount: total }
  - dedupe: { key: [order_id], keep: last }
outputs:
  - table: orders_clean
    partition_by: [day]
    compression: zstd
  - sqlite: { path: out.db, table: orders }
)";

TEST(ParsePipeline, ValidExample) {
  auto r = ParsePipeline(kExample, "orders.yaml");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const PipelineSpec& s = *r;
  EXPECT_EQ(s.name, "orders");
  EXPECT_EQ(s.file, "orders.yaml");
  EXPECT_EQ(s.text, kExample);
  EXPECT_EQ(s.source.pattern, "*.csv*");
  EXPECT_FALSE(s.source.format_from_name);
  EXPECT_EQ(s.source.format, FileFormat::kCsv);
  EXPECT_EQ(s.source.csv.delimiter, ';');
  EXPECT_EQ(s.source.csv.quote, '\'');
  EXPECT_FALSE(s.source.csv.header);
  EXPECT_EQ(s.source.csv.null_values, (std::vector<std::string>{"", "NA"}));
  EXPECT_EQ(s.schema.ToString(),
            "order_id: int64 not null\namount: decimal(12,2)\nday: date\nnote: string not null\n");
  EXPECT_EQ(s.on_bad_record, BadRecordPolicy::kSkip);
  EXPECT_DOUBLE_EQ(s.max_bad_ratio, 0.01);
  ASSERT_EQ(s.transform.size(), 2u);
  EXPECT_EQ(s.transform[0].kind, "rename");
  EXPECT_EQ(s.transform[0].args, nlohmann::json({{"amount", "total"}}));
  EXPECT_EQ(s.transform[0].where, "orders.yaml:14");
  EXPECT_EQ(s.transform[1].kind, "dedupe");
  EXPECT_EQ(s.transform[1].args, nlohmann::json::parse(R"({"key": ["order_id"], "keep": "last"})"));
  EXPECT_EQ(s.transform[1].where, "orders.yaml:15");
  ASSERT_EQ(s.outputs.size(), 2u);
  EXPECT_EQ(s.outputs[0].kind, "table");
  EXPECT_EQ(s.outputs[0].args, nlohmann::json::parse(
                                   R"({"table": "orders_clean", "partition_by": ["day"],
                                       "compression": "zstd"})"));
  EXPECT_EQ(s.outputs[0].where, "orders.yaml:17");
  EXPECT_EQ(s.outputs[1].kind, "sqlite");
  EXPECT_EQ(s.outputs[1].args, nlohmann::json::parse(R"({"path": "out.db", "table": "orders"})"));
  EXPECT_EQ(s.outputs[1].where, "orders.yaml:20");
  EXPECT_EQ(s.output_schema.ToString(),
            "order_id: int64 not null\ntotal: decimal(12,2)\nday: date\nnote: string not null\n");
}

TEST(ParsePipeline, MinimalSpecGetsDefaults) {
  auto r =
      ParsePipeline("pipeline: p1\nschema: { a: int32 }\noutputs: [ { table: t } ]\n", "m.yaml");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->source.pattern, "*");
  EXPECT_TRUE(r->source.format_from_name);
  EXPECT_EQ(r->source.csv.delimiter, ',');
  EXPECT_TRUE(r->source.csv.header);
  EXPECT_EQ(r->on_bad_record, BadRecordPolicy::kQuarantine);
  EXPECT_EQ(r->schema_evolution, SchemaEvolution::kReject);
  auto evolving = ParsePipeline(
      "pipeline: p1\nschema: { a: int32 }\nschema_evolution: evolve\noutputs: [ { table: t } ]\n",
      "m.yaml");
  ASSERT_TRUE(evolving.ok()) << evolving.status().ToString();
  EXPECT_EQ(evolving->schema_evolution, SchemaEvolution::kEvolve);
  EXPECT_EQ(r->max_bad_ratio, 0.0);
  EXPECT_TRUE(r->transform.empty());
  EXPECT_EQ(r->output_schema, r->schema);
}

// Issue 9: landing files are taken once they have settled; the time is per
// pipeline, a duration spelled like the other durations.
TEST(ParsePipeline, SourceSettle) {
  const char* kBase = "pipeline: p\nschema: { a: int32 }\noutputs: [ { table: t } ]\n";
  auto plain = ParsePipeline(kBase, "p.yaml");
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_EQ(plain->source.settle, std::chrono::seconds(2));
  const std::pair<const char*, int64_t> kCases[] = {{"3s", 3000}, {"500ms", 500}, {"0s", 0},
                                                    {"0", 0},     {"1.5", 1500},  {"2m", 120000}};
  for (const auto& [text, ms] : kCases) {
    SCOPED_TRACE(text);
    auto r = ParsePipeline(std::string(kBase) + "source:\n  settle: " + text + "\n", "p.yaml");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->source.settle.count(), ms);
  }
}

// Issue 13: a pipeline's deadline and expected arrival interval, durations
// as elsewhere; none by default; rendered back.
TEST(ParsePipeline, DeadlineAndExpectEvery) {
  const char* kBase = "pipeline: p\nschema: { a: int32 }\noutputs: [ { table: t } ]\n";
  auto plain = ParsePipeline(kBase, "p.yaml");
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_EQ(plain->deadline.count(), 0);
  EXPECT_EQ(plain->expect_every.count(), 0);
  auto r = ParsePipeline(std::string(kBase) + "deadline: 15m\nexpect_every: 500ms\n", "p.yaml");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->deadline, std::chrono::minutes(15));
  EXPECT_EQ(r->expect_every, std::chrono::milliseconds(500));
  auto again = ParsePipeline(RenderPipeline(*r), "p.yaml");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->deadline, r->deadline);
  EXPECT_EQ(again->expect_every, r->expect_every);
}

TEST(ParsePipeline, StepArgsKeepYamlScalarTypes) {
  auto r = ParsePipeline(R"(pipeline: p
schema: { a: string, b: int64 }
transform:
  - select: [a, b]
  - rename: { a: "true" }
outputs:
  - table: t
    row_group_rows: 1000
)",
                         "p.yaml");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->transform[1].args, nlohmann::json({{"a", "true"}}));
  EXPECT_TRUE(r->outputs[0].args["row_group_rows"].is_number_integer());
  EXPECT_EQ(r->output_schema.field(0).name, "true");
}

TEST(ParsePipeline, TabDelimiterSpellings) {
  for (const char* d : {R"("\t")", R"('\t')", "tab", "\"\\t\""}) {
    std::string text = std::string("pipeline: p\nsource: { csv: { delimiter: ") + d +
                       " } }\nschema: { a: int32 }\noutputs: [ { table: t } ]\n";
    auto r = ParsePipeline(text, "p.yaml");
    ASSERT_TRUE(r.ok()) << d << ": " << r.status().ToString();
    EXPECT_EQ(r->source.csv.delimiter, '\t') << d;
  }
}

TEST(ParsePipeline, TsvFormatMeansTabDelimitedCsv) {
  auto tsv = ParsePipeline(
      "pipeline: p\nsource: { format: tsv }\nschema: { a: int32 }\n"
      "outputs: [ { table: t } ]\n",
      "p.yaml");
  ASSERT_TRUE(tsv.ok()) << tsv.status().ToString();
  EXPECT_EQ(tsv->source.format, FileFormat::kCsv);
  EXPECT_EQ(tsv->source.csv.delimiter, '\t');
  auto explicit_delim = ParsePipeline(
      "pipeline: p\nsource: { format: TSV, csv: { delimiter: '|' } }\nschema: { a: int32 }\n"
      "outputs: [ { table: t } ]\n",
      "p.yaml");
  ASSERT_TRUE(explicit_delim.ok()) << explicit_delim.status().ToString();
  EXPECT_EQ(explicit_delim->source.csv.delimiter, '|');
}

struct ErrorCase {
  const char* text;
  const char* message;  // prefix of the whole message
};

TEST(ParsePipeline, ErrorsNameFileLineAndKey) {
  const ErrorCase kCases[] = {
      {"schema: { a: int32 }\noutputs: [ { table: t } ]\n",
       "p.yaml:1: pipeline: required key is missing"},
      {"pipeline: p\noutputs: [ { table: t } ]\n", "p.yaml:1: schema: required key is missing"},
      {"pipeline: p\nschema: { a: int32 }\n", "p.yaml:1: outputs: required key is missing"},
      {"", "p.yaml:1: pipeline: required key is missing"},
      {"pipeline: Orders-1\n",
       "p.yaml:1: pipeline: name must be 1-64 characters of a-z, 0-9 and _, got 'Orders-1'"},
      {"pipeline: p\npipelin: q\n", "p.yaml:2: pipelin: unknown key (did you mean 'pipeline'?)"},
      {"pipeline: p\nschedule: daily\n",
       "p.yaml:2: schedule: unknown key (known keys: pipeline, source, schema"},
      {"pipeline: p\nschema: {}\n", "p.yaml:2: schema: must list at least one column"},
      {"pipeline: p\nschema:\n  a: int32\n  b: int65\n",
       "p.yaml:4: schema.b: unknown type 'int65'"},
      {"pipeline: p\nschema:\n  a: int32\n  a: string\n", "p.yaml:4: schema.a: duplicate key"},
      {"pipeline: p\nschema:\n  a: [int32]\n", "p.yaml:3: schema.a: expected a type"},
      {"pipeline: p\nschema:\n  a: decimal(40,2)\n",
       "p.yaml:3: schema.a: decimal precision 40 out of range"},
      {"pipeline: p\non_bad_record: ignore\n",
       "p.yaml:2: on_bad_record: expected fail, skip or quarantine, got 'ignore'"},
      {"pipeline: p\nschema_evolution: grow\n",
       "p.yaml:2: schema_evolution: 'grow' is not a schema evolution (evolve, freeze or reject)"},
      {"pipeline: p\nmax_bad_ratio: 1.5\n",
       "p.yaml:2: max_bad_ratio: must be between 0 and 1 (a fraction of records), got 1.5"},
      {"pipeline: p\nmax_bad_ratio: lots\n",
       "p.yaml:2: max_bad_ratio: expected a number, got a string ('lots')"},
      {"pipeline: p\nsource:\n  csv:\n    delimiter: ab\n",
       "p.yaml:4: source.csv.delimiter: must be a single character (or \"\\t\" / tab), got 'ab'"},
      {"pipeline: p\nsource:\n  csv: { delim: x }\n",
       "p.yaml:3: source.csv.delim: unknown key (did you mean 'delimiter'?)"},
      {"pipeline: p\nsource:\n  csv: { header: yes }\n",
       "p.yaml:3: source.csv.header: expected true or false, got a string ('yes')"},
      {"pipeline: p\nsource:\n  csv: { null_values: NA }\n",
       "p.yaml:3: source.csv.null_values: expected a list, got a string ('NA')"},
      {"pipeline: p\nsource:\n  csv: { delimiter: '\"' }\n",
       "p.yaml:3: source.csv: delimiter and quote must differ"},
      {"pipeline: p\nsource: { format: xml }\n",
       "p.yaml:2: source.format: unknown file format 'xml'"},
      {"pipeline: p\nsource:\n  format: ndjson\n  csv: { header: true }\n",
       "p.yaml:4: source.csv: only applies to csv input, but format is ndjson"},
      {"pipeline: p\nsource: { pattern: 'a/*.csv' }\n",
       "p.yaml:2: source.pattern: matches file names only and cannot contain '/'"},
      {"pipeline: p\nsource: [x]\n", "p.yaml:2: source: expected a mapping, got a list"},
      {"pipeline: p\nsource:\n  settle: -1s\n",
       "p.yaml:3: source.settle: invalid duration '-1s' (expected e.g. 250ms, 2s, 5m, 1h"},
      {"pipeline: p\nsource: { settle: soon }\n", "p.yaml:2: source.settle: invalid duration"},
      {"pipeline: p\nsource: { settle: 3 days }\n",
       "p.yaml:2: source.settle: invalid duration unit ' days'"},
      {"pipeline: p\nsource: { settle: [1s] }\n", "p.yaml:2: source.settle: expected"},
      {"pipeline: p\ndeadline: 0s\n", "p.yaml:2: deadline: must be greater than zero"},
      {"pipeline: p\nexpect_every: soon\n", "p.yaml:2: expect_every: invalid duration"},
      {"pipeline: p\nschema: { a: int32 }\ntransform:\n  - explode: { a: 1 }\n"
       "outputs: [ { table: t } ]\n",
       "p.yaml:4: unknown transform step 'explode' (known: aggregate, cast, dedupe, "},
      {"pipeline: p\nschema: { a: int32 }\ntransform:\n  - select: [a]\n  - select: [zz]\n"
       "outputs: [ { table: t } ]\n",
       "p.yaml:5: select: unknown column 'zz' (columns: a)"},
      {"pipeline: p\nschema: { a: date }\ntransform:\n  - cast: { a: int32 }\n"
       "outputs: [ { table: t } ]\n",
       "p.yaml:4: cast: cannot cast column 'a' from date to int32"},
      {"pipeline: p\nschema: { a: int32 }\ntransform:\n  - select: [a]\n    drop: [a]\n"
       "outputs: [ { table: t } ]\n",
       "p.yaml:4: transform[0]: each step is a mapping with one key"},
      {"pipeline: p\nschema: { a: int32 }\ntransform: select\noutputs: [ { table: t } ]\n",
       "p.yaml:3: transform: expected a list of steps"},
      {"pipeline: p\nschema: { a: int32 }\noutputs: []\n",
       "p.yaml:3: outputs: expected a non-empty list"},
      {"pipeline: p\nschema: { a: int32 }\noutputs:\n  - kafka: { topic: t }\n",
       "p.yaml:4: unknown output kind 'kafka'"},
      {"pipeline: p\nschema: { a: int32 }\noutputs:\n  - table: t\n    partition_by: [day]\n",
       "p.yaml:5: partition_by: unknown column 'day' (columns after transform: a)"},
      {"pipeline: p\nschema: { a: int32, day: date }\ntransform:\n  - drop: [day]\noutputs:\n"
       "  - table: t\n    partition_by: day\n",
       "p.yaml:7: partition_by: unknown column 'day' (columns after transform: a)"},
      {"pipeline: p\nschema: { a: int32 }\noutputs:\n  - table: t\n    compresion: zstd\n",
       "p.yaml:4: table output: "},
      {"pipeline: p\nschema: { a: int32 }\noutputs:\n  - table: t\n  - table: t\n",
       "p.yaml:5: table: duplicate output 'table:t' (also at p.yaml:4)"},
      {"pipeline: p\nschema: { a: int32 }\noutputs:\n  - sqlite: { path: o.db, table: t }\n"
       "    table: x\n",
       "p.yaml:5: outputs[0].table: options go either inside `sqlite: {...}` or next to a plain "
       "value, not both"},
      {"pipeline: p\nschema: { a: int32 }\noutputs:\n  - table: [t]\n",
       "p.yaml:4: outputs[0].table: expected a name or a mapping of options, not a list"},
      {"pipeline: p\nschema: { a: int32 }\noutputs:\n  - t\n",
       "p.yaml:4: outputs[0]: expected a mapping such as `- table: NAME`"},
      {"pipeline: p\nschema:\n  a: [int32\n", "p.yaml:4: invalid YAML: "},
      {"- pipeline: p\n", "p.yaml:1: a pipeline spec must be a YAML mapping"},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.text);
    auto r = ParsePipeline(c.text, "p.yaml");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_TRUE(SpecStartsWith(r.status().message(), c.message)) << r.status().message();
  }
}

void ExpectSameSpec(const PipelineSpec& a, const PipelineSpec& b) {
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.source.pattern, b.source.pattern);
  EXPECT_EQ(a.source.format_from_name, b.source.format_from_name);
  EXPECT_EQ(a.source.format, b.source.format);
  EXPECT_EQ(a.source.csv.delimiter, b.source.csv.delimiter);
  EXPECT_EQ(a.source.csv.quote, b.source.csv.quote);
  EXPECT_EQ(a.source.csv.header, b.source.csv.header);
  EXPECT_EQ(a.source.csv.null_values, b.source.csv.null_values);
  EXPECT_EQ(a.source.settle, b.source.settle);
  EXPECT_EQ(a.schema, b.schema);
  EXPECT_EQ(a.on_bad_record, b.on_bad_record);
  EXPECT_EQ(a.max_bad_ratio, b.max_bad_ratio);
  ASSERT_EQ(a.transform.size(), b.transform.size());
  for (size_t i = 0; i < a.transform.size(); ++i) {
    EXPECT_EQ(a.transform[i].kind, b.transform[i].kind);
    EXPECT_EQ(a.transform[i].args, b.transform[i].args) << b.transform[i].args.dump();
  }
  ASSERT_EQ(a.outputs.size(), b.outputs.size());
  for (size_t i = 0; i < a.outputs.size(); ++i) {
    EXPECT_EQ(a.outputs[i].kind, b.outputs[i].kind);
    EXPECT_EQ(a.outputs[i].args, b.outputs[i].args) << b.outputs[i].args.dump();
    EXPECT_EQ(a.output_steps[i].route, b.output_steps[i].route);
    EXPECT_EQ(a.output_steps[i].schema, b.output_steps[i].schema);
    ASSERT_EQ(a.output_steps[i].transform.size(), b.output_steps[i].transform.size());
  }
  EXPECT_EQ(a.output_schema, b.output_schema);
  EXPECT_EQ(a.routes, b.routes);
}

TEST(RenderPipeline, RoundTrips) {
  const char* kSpecs[] = {
      kExample,
      "pipeline: p1\nschema: { a: int32 }\noutputs: [ { table: t } ]\n",
      R"y(pipeline: tricky_2
source:
  pattern: "[ab]*.tsv"
  csv: { delimiter: "\t", quote: "|", header: true, null_values: ["NULL", "", "-", "n/a"] }
schema:
  "weird: name": string
  "123": int64
  flag: bool not null
  ts: timestamp
  ratio: float64
on_bad_record: fail
max_bad_ratio: 0.3333333333333333
transform:
  - rename: { "weird: name": "#note", "123": "true" }
  - cast: { ratio: "decimal(9,4)", flag: int32 }
  - select: { columns: ["#note", "true", flag, ratio, ts] }
  - dedupe: { key: ["#note", ts], keep: first }
outputs:
  - sqlite: { path: "out dir/o.db", table: "t1" }
  - table: lake_t
    partition_by: [ts]
    compression: snappy
    row_group_rows: 5000
)y",
      R"y(pipeline: expressions
schema: { a: int32, b: string }
transform:
  - derive: { z: a + 1, c: "z * 2", "b": "upper(b)" }
  - route: { small: "a < 10", mid: a < 100 }
outputs:
  - table: t_small
    route: small
    transform:
      - aggregate: { group_by: [b], aggregates: { zz: "sum(z)", aa: "count(*)" } }
  - sqlite: { path: o.db, table: t }
    route: other
    sql: SELECT b FROM input
)y",
      R"(pipeline: settled
source: { settle: 250ms }
schema: { id: int64 }
outputs:
  - table: s_t
)",
      R"(pipeline: nd
source: { format: ndjson, settle: 0s }
schema: { id: int64 }
on_bad_record: quarantine
max_bad_ratio: 1
outputs:
  - table: nd_t
)",
  };
  for (const char* text : kSpecs) {
    SCOPED_TRACE(text);
    auto a = ParsePipeline(text, "a.yaml");
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    std::string rendered = RenderPipeline(*a);
    auto b = ParsePipeline(rendered, "b.yaml");
    ASSERT_TRUE(b.ok()) << b.status().ToString() << "\n" << rendered;
    ExpectSameSpec(*a, *b);
    EXPECT_EQ(b->text, rendered);
    // Rendering is a fixed point after one round.
    EXPECT_EQ(RenderPipeline(*b), rendered);
  }
}

TEST(RenderPipeline, ReadsLikeTheDocs) {
  auto a = ParsePipeline(kExample, "a.yaml");
  ASSERT_TRUE(a.ok());
  std::string r = RenderPipeline(*a);
  EXPECT_NE(r.find("pipeline: orders\n"), std::string::npos) << r;
  EXPECT_NE(r.find("  order_id: int64 not null\n"), std::string::npos) << r;
  EXPECT_NE(r.find("  - table: orders_clean\n"), std::string::npos) << r;
  EXPECT_NE(r.find("  - rename: {amount: total}\n"), std::string::npos) << r;
}

TEST(LoadPipelineDir, SortedYamlFilesOnly) {
  TempDir dir;
  dir.Write("b.yml", "pipeline: beta\nschema: { a: int32 }\noutputs: [ { table: b } ]\n");
  dir.Write("a.yaml", "pipeline: alpha\nschema: { a: int32 }\noutputs: [ { table: a } ]\n");
  dir.Write("notes.txt", "not a spec");
  dir.Write("sub/c.yaml", "pipeline: gamma\n");  // subdirectories are not read
  auto r = LoadPipelineDir(dir.path());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].name, "alpha");
  EXPECT_EQ((*r)[0].file, dir.path() + "/a.yaml");
  EXPECT_EQ((*r)[1].name, "beta");
}

TEST(LoadPipelineDir, DuplicateNamesAndBadFiles) {
  TempDir dir;
  dir.Write("a.yaml", "pipeline: same\nschema: { a: int32 }\noutputs: [ { table: a } ]\n");
  dir.Write("b.yaml",
            "# second\npipeline: same\nschema: { a: int32 }\noutputs: [ { table: b } ]\n");
  auto r = LoadPipelineDir(dir.path());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), dir.path() +
                                      "/b.yaml:2: pipeline: duplicate pipeline name "
                                      "'same' (also in " +
                                      dir.path() + "/a.yaml)");

  TempDir dir2;
  dir2.Write("x.yaml", "pipeline: x\nschema: { a: int33 }\noutputs: [ { table: a } ]\n");
  auto bad = LoadPipelineDir(dir2.path());
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(SpecStartsWith(bad.status().message(), dir2.path() + "/x.yaml:2: schema.a:"))
      << bad.status().message();

  auto missing = LoadPipelineDir(dir.path() + "/nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
}

TEST(LoadPipelineFile, ReadsExactText) {
  TempDir dir;
  std::string path = dir.Write("orders.yaml", kExample);
  auto r = LoadPipelineFile(path);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->text, kExample);
  EXPECT_EQ(r->file, path);
  EXPECT_EQ(r->transform[0].where, path + ":14");
  EXPECT_EQ(LoadPipelineFile(dir.path() + "/none.yaml").status().code(), StatusCode::kNotFound);
}

TEST(BuildChain, ReturnsABoundChainThatRuns) {
  auto spec = ParsePipeline(kExample, "orders.yaml");
  ASSERT_TRUE(spec.ok());
  auto chain = BuildChain(*spec);
  ASSERT_TRUE(chain.ok()) << chain.status().ToString();
  RecordBatch in = RecordBatch::Empty(spec->schema);
  for (int64_t id : {1, 2, 1}) {
    in.columns[0].Append<int64_t>(id);
    in.columns[1].Append<int64_t>(id * 100);
    in.columns[2].Append<int32_t>(19000);
    in.columns[3].AppendString("n" + std::to_string(id));
  }
  std::vector<RecordBatch> out;
  std::vector<BadRecord> bad;
  auto sink = [&out](RecordBatch&& b) {
    out.push_back(std::move(b));
    return Status::OK();
  };
  ASSERT_TRUE(chain->Push(std::move(in), &bad, sink).ok());
  ASSERT_TRUE(chain->Finish(&bad, sink).ok());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].schema, spec->output_schema);
  EXPECT_EQ(out[0].num_rows(), 2);
  EXPECT_EQ(chain->RowsRemoved(), 1);
}

TEST(BadRecordPolicy, Names) {
  EXPECT_EQ(BadRecordPolicyName(BadRecordPolicy::kFail), "fail");
  EXPECT_EQ(BadRecordPolicyName(BadRecordPolicy::kSkip), "skip");
  EXPECT_EQ(BadRecordPolicyName(BadRecordPolicy::kQuarantine), "quarantine");
}

TEST(ParseSchemaYaml, BareMappingOrUnderSchemaKey) {
  const Schema want({{"id", DataType::Int64(), false},
                     {"price", DataType::Decimal(12, 2)},
                     {"at", DataType::Timestamp()}});
  auto bare =
      ParseSchemaYaml("id: int64 not null\nprice: decimal(12,2)\nat: timestamp\n", "s.yaml");
  ASSERT_TRUE(bare.ok()) << bare.status().ToString();
  EXPECT_EQ(*bare, want);
  auto wrapped = ParseSchemaYaml(
      "schema:\n  id: int64 NOT NULL\n  price: decimal(12,2)\n  at: timestamp\n", "s.yaml");
  ASSERT_TRUE(wrapped.ok()) << wrapped.status().ToString();
  EXPECT_EQ(*wrapped, want);
  // A whole pipeline spec: only its schema is taken.
  auto spec = ParseSchemaYaml(
      "pipeline: p\nschema:\n  id: int64 not null\n  price: decimal(12,2)\n  at: timestamp\n"
      "outputs:\n  - table: t\n",
      "p.yaml");
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(*spec, want);
}

TEST(ParseSchemaYaml, ErrorsNameFileLineAndColumn) {
  auto bad_type = ParseSchemaYaml("id: int64\nname: strin\n", "s.yaml");
  ASSERT_FALSE(bad_type.ok());
  EXPECT_EQ(bad_type.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad_type.status().message().find("s.yaml:2: schema.name"), std::string::npos)
      << bad_type.status().message();
  EXPECT_FALSE(ParseSchemaYaml("", "s.yaml").ok());
  EXPECT_FALSE(ParseSchemaYaml("- a\n- b\n", "s.yaml").ok());
  EXPECT_EQ(LoadSchemaFile("/nonexistent/schema.yaml").status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace sluice

namespace sluice {
namespace {

std::string SpecError(const std::string& transform) {
  std::string text = "pipeline: p\nschema:\n  amount: decimal(12,2)\n  name: string\ntransform:\n" +
                     transform + "outputs:\n  - table: t\n";
  auto r = ParsePipeline(text, "p.yaml");
  return r.ok() ? "OK" : r.status().message();
}

TEST(ParsePipeline, ExpressionErrorsPointIntoTheFile) {
  // Plain scalar: line 6, the expression starts at column 13.
  EXPECT_EQ(SpecError("  - filter: amout > 1\n"),
            "p.yaml:6:13: filter: unknown column 'amout' (did you mean 'amount'? columns: amount, "
            "name)\n    amout > 1\n    ^");
  // Quoted scalar: the column is inside the quotes.
  EXPECT_EQ(SpecError("  - filter: \"amount > nam\"\n").substr(0, 53),
            "p.yaml:6:23: filter: unknown column 'nam' (did you me");
  // Mapping value, second key.
  EXPECT_EQ(SpecError("  - derive:\n      a: amount * 2\n      b: name + 1\n").substr(0, 63),
            "p.yaml:8:15: derive: operator + cannot combine string and int32");
  // Block scalar: the text starts on the next line; errors count its lines.
  EXPECT_EQ(SpecError("  - filter: |\n      amount > 1\n      AND nme = 'x'\n").substr(0, 45),
            "p.yaml:8:11: filter: unknown column 'nme' (di");
  // Derived columns keep the written order (JSON objects would sort them).
  auto r = ParsePipeline(
      "pipeline: p\nschema:\n  a: int32\ntransform:\n  - derive:\n      z: a + 1\n      b: z * 2\n"
      "outputs:\n  - table: t\n",
      "p.yaml");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->output_schema.ToString(), "a: int32\nz: int32\nb: int32\n");
}

}  // namespace
}  // namespace sluice

namespace sluice {
namespace {

TEST(ParsePipeline, NumbersInExpressionsKeepTheirSpelling) {
  auto r = ParsePipeline(
      "pipeline: p\nschema:\n  a: int32\ntransform:\n  - derive:\n      fee: 2.50\n"
      "      big: 1e3\noutputs:\n  - table: t\n",
      "p.yaml");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  // 2.50 is decimal(3,2) as written, not the double 2.5 YAML-to-JSON makes of it.
  EXPECT_EQ(r->output_schema.ToString(), "a: int32\nfee: decimal(3,2)\nbig: float64\n");
}

// Issue 9, item 8: a 9 KB gzip of invalid lines wrote a 128 MB quarantine
// file. The file now holds at most max_quarantined_records records.
TEST(ParsePipeline, MaxQuarantinedRecords) {
  const std::string base = "pipeline: p\nschema: { id: int64 }\noutputs: [ { table: p } ]\n";
  auto def = ParsePipeline(base, "p.yaml");
  ASSERT_TRUE(def.ok()) << def.status().ToString();
  EXPECT_EQ(def->max_quarantined_records, 10000);
  for (auto [text, want] : std::vector<std::pair<std::string, int64_t>>{
           {"5", 5}, {"0", 0}, {"1000000000", 1000000000}}) {
    auto r = ParsePipeline(base + "max_quarantined_records: " + text + "\n", "p.yaml");
    ASSERT_TRUE(r.ok()) << text << ": " << r.status().ToString();
    EXPECT_EQ(r->max_quarantined_records, want);
  }
  for (const char* bad : {"-1", "1.5", "lots", "1000000001", "[1]"}) {
    auto r = ParsePipeline(base + "max_quarantined_records: " + bad + "\n", "p.yaml");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_TRUE(SpecStartsWith(r.status().message(),
                               "p.yaml:4: max_quarantined_records: must be a "
                               "whole number of records from 0 to "))
        << r.status().message();
  }
}

}  // namespace
}  // namespace sluice
