// The batch driver on its own: counters, the bad-record policies, the early
// stop on max_bad_ratio, --max-bad and cancellation.
#include "engine/batch_driver.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/cell_text.h"
#include "core/hash.h"
#include "core/thread_pool.h"

namespace sluice {
// Named (the test binary is a unity build): helpers here do not meet other
// test files' helpers of the same name.
namespace batch_driver_test {
namespace {

// id, then a divisor: `100 / d` fails its row (a transform bad record) when d = 0.
constexpr char kSpec[] = R"y(pipeline: p
source: { format: csv }
schema:
  id: int64 not null
  d: int64
on_bad_record: quarantine
max_bad_ratio: 1
transform:
  - filter: "id <> 4"
  - derive: { q: "100 / d" }
  - dedupe: { key: [id] }
outputs:
  - table: t
)y";

PipelineSpec Spec(const std::string& text = kSpec) {
  auto spec = ParsePipeline(text, "p.yaml");
  EXPECT_TRUE(spec.ok()) << spec.status().ToString();
  return spec.ok() ? *spec : PipelineSpec{};
}

struct Bad {
  int64_t line;
  BadRecordOrigin origin;
};

class CollectSink final : public DriverSink {
 public:
  Status Write(size_t output, RecordBatch&& rows) override {
    ++batches;
    for (int64_t r = 0; r < rows.num_rows(); ++r) {
      std::string row = std::to_string(output) + ":";
      for (size_t c = 0; c < rows.columns.size(); ++c) {
        row += (c ? "|" : "") + (rows.columns[c].IsNull(r) ? "NULL" : CellText(rows.columns[c], r));
      }
      this->rows.push_back(row);
    }
    return Status::OK();
  }
  Status Quarantine(const std::vector<BadRecord>& b, BadRecordOrigin origin) override {
    for (const BadRecord& r : b) bad.push_back({r.line, origin});
    return Status::OK();
  }
  int batches = 0;
  std::vector<std::string> rows;
  std::vector<Bad> bad;
};

BatchDriverOptions Options(const PipelineSpec& spec) {
  BatchDriverOptions o = DriverOptionsForSpec(spec);
  o.input_name = "in.csv";
  return o;
}

Result<DriverResult> RunOn(BatchDriverOptions options, const std::string& text, DriverSink& sink) {
  BatchDriver driver(std::move(options));
  RETURN_IF_ERROR(driver.Open(DriverInput{NewStringInput(text, "in.csv"), true}));
  return driver.Run(sink);
}

// Lines: 1 header; 2..8 records. Line 3 does not parse (decode), line 5 is
// filtered, line 6 divides by zero (transform), line 8 repeats id 1.
constexpr char kInput[] = "id,d\n1,10\nx,1\n2,0\n4,5\n3,0\n5,50\n1,10\n";

TEST(BatchDriver, CountsRowsAndBadRecordsOfEachStage) {
  PipelineSpec spec = Spec();
  CollectSink sink;
  auto r = RunOn(Options(spec), kInput, sink);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->end, DriverEnd::kFinished);
  EXPECT_EQ(r->records_read, 7);
  EXPECT_EQ(r->rows_decoded, 6);  // the unparsable record is not a row
  EXPECT_EQ(r->bad, 3);           // x, and two divisions by zero
  EXPECT_EQ(r->rows_quarantined, 3);
  EXPECT_EQ(r->rows_skipped, 0);
  EXPECT_EQ(r->rows_out, 2);      // 1 and 5 (4 filtered, 2 and 3 bad, 1 again a duplicate)
  EXPECT_EQ(r->rows_removed, 2);  // the filtered row and the duplicate
  EXPECT_EQ(r->rows_emitted, 2);
  EXPECT_EQ(sink.rows, (std::vector<std::string>{"0:1|10|10", "0:5|50|2"}));
  ASSERT_EQ(sink.bad.size(), 3u);
  EXPECT_EQ(sink.bad[0].line, 3);
  EXPECT_EQ(sink.bad[0].origin, BadRecordOrigin::kDecode);
  EXPECT_EQ(sink.bad[1].line, 4);
  EXPECT_EQ(sink.bad[1].origin, BadRecordOrigin::kTransform);
  EXPECT_EQ(sink.bad[2].line, 6);
  EXPECT_EQ(sink.bad[2].origin, BadRecordOrigin::kTransform);
  EXPECT_EQ(r->first_bad.rfind("in.csv:3: field 'id': ", 0), 0u) << r->first_bad;
  EXPECT_TRUE(r->OverRatio(0.0));
  EXPECT_FALSE(r->OverRatio(0.5));
}

TEST(BatchDriver, RatioZeroStopsAtTheFirstBadRecord) {
  PipelineSpec spec = Spec();
  BatchDriverOptions o = Options(spec);
  o.max_bad_ratio = 0;
  CollectSink sink;
  auto r = RunOn(o, kInput, sink);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->end, DriverEnd::kStoppedEarly);
  EXPECT_TRUE(r->OverRatio(0));
  EXPECT_NE(r->first_bad.find("reading stopped early"), std::string::npos) << r->first_bad;
}

TEST(BatchDriver, OutputsAreKnownAfterOpen) {
  PipelineSpec spec = Spec();
  BatchDriver driver(Options(spec));
  ASSERT_TRUE(driver.Open(DriverInput{NewStringInput(kInput, "in.csv"), false}).ok());
  ASSERT_EQ(driver.num_outputs(), 1u);
  EXPECT_EQ(driver.spec_output(0), 0u);
  EXPECT_EQ(driver.output_schema(0).ToString(), "id: int64 not null\nd: int64\nq: int64\n");
}

TEST(BatchDriver, WithoutATransformRowsPassThrough) {
  BatchDriverOptions o;
  o.input_name = "in.csv";
  o.schema = Schema({{"id", DataType::Int64(), false}, {"d", DataType::Int64(), true}});
  CollectSink sink;
  auto r = RunOn(o, kInput, sink);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->rows_decoded, 6);
  EXPECT_EQ(r->rows_emitted, 6);
  EXPECT_EQ(r->rows_out, 6);
  EXPECT_EQ(r->bad, 1);
  EXPECT_EQ(sink.rows.front(), "0:1|10");
  EXPECT_EQ(sink.rows.size(), 6u);
}

TEST(BatchDriver, FailPolicyEndsAtTheFirstBadRecord) {
  PipelineSpec spec = Spec();
  BatchDriverOptions o = Options(spec);
  o.on_bad_record = BadRecordPolicy::kFail;
  CollectSink sink;
  auto r = RunOn(o, kInput, sink);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message().rfind("bad record (on_bad_record: fail): in.csv:3: field 'id'", 0),
            0u)
      << r.status().message();
  EXPECT_TRUE(sink.bad.empty());
}

TEST(BatchDriver, SkipPolicyCountsWithoutQuarantining) {
  PipelineSpec spec = Spec();
  BatchDriverOptions o = Options(spec);
  o.on_bad_record = BadRecordPolicy::kSkip;
  CollectSink sink;
  auto r = RunOn(o, kInput, sink);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->bad, 3);
  EXPECT_EQ(r->rows_skipped, 3);
  EXPECT_EQ(r->rows_quarantined, 0);
  EXPECT_TRUE(sink.bad.empty());
  EXPECT_EQ(sink.rows.size(), 2u);
}

TEST(BatchDriver, MaxBadRecordsStopsTheRun) {
  PipelineSpec spec = Spec();
  BatchDriverOptions o = Options(spec);
  o.max_bad_records = 2;
  CollectSink sink;
  auto r = RunOn(o, kInput, sink);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->end, DriverEnd::kTooManyBad);
  EXPECT_EQ(r->bad, 3);

  o.max_bad_records = 3;  // exactly at the limit: fine
  CollectSink sink2;
  r = RunOn(o, kInput, sink2);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->end, DriverEnd::kFinished);
}

std::string Lines(const std::string& line, int n) {
  std::string s;
  s.reserve(line.size() * n);
  for (int i = 0; i < n; ++i) s += line;
  return s;
}

constexpr char kPlainSpec[] = R"y(pipeline: p
source: { format: csv }
schema:
  id: int64 not null
max_bad_ratio: 0.1
outputs:
  - table: t
)y";

TEST(BatchDriver, StopsEarlyOnceMaxBadRatioCannotBeMet) {
  PipelineSpec spec = Spec(kPlainSpec);
  // Decoded in chunks on a pool, the bad records come out chunk by chunk
  // (one thread would hand them all out with the first batch of rows).
  ThreadPool pool(2);
  BatchDriverOptions o = Options(spec);
  o.pool = &pool;
  const int n = 200000;
  CollectSink sink;
  auto r = RunOn(o, "id\n" + Lines("x\n", n), sink);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->end, DriverEnd::kStoppedEarly);
  EXPECT_LT(r->records_read, n);
  EXPECT_EQ(r->bad, r->records_read);
  EXPECT_TRUE(r->OverRatio(0.1));
  EXPECT_NE(
      r->first_bad.find("; reading stopped early at record " + std::to_string(r->records_read)),
      std::string::npos)
      << r->first_bad;
  EXPECT_NE(r->first_bad.find("max_bad_ratio 10.00% could no longer be met"), std::string::npos);
}

TEST(BatchDriver, NeverStopsABatchThatWouldPass) {
  PipelineSpec spec = Spec(kPlainSpec);
  // Bad records bunched at the start: 1000 of 201000 is below 10% at the end.
  CollectSink sink;
  auto r = RunOn(Options(spec), "id\n" + Lines("x\n", 1000) + Lines("7\n", 200000), sink);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->end, DriverEnd::kFinished);
  EXPECT_EQ(r->records_read, 201000);
  EXPECT_EQ(r->rows_emitted, 200000);
  EXPECT_FALSE(r->OverRatio(0.1));
}

TEST(BatchDriver, RatioOfOneNeverStops) {
  PipelineSpec spec = Spec(kPlainSpec);
  ThreadPool pool(2);
  BatchDriverOptions o = Options(spec);
  o.pool = &pool;
  o.max_bad_ratio = 1.0;
  CollectSink sink;
  auto r = RunOn(o, "id\n" + Lines("x\n", 200000), sink);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->end, DriverEnd::kFinished);
  EXPECT_EQ(r->records_read, 200000);
  EXPECT_EQ(sink.bad.size(), 200000u);
}

TEST(BatchDriver, CancelStopsBeforeTheNextBatch) {
  PipelineSpec spec = Spec(kPlainSpec);
  std::atomic<bool> cancel{false};
  BatchDriverOptions o = Options(spec);
  o.cancel = &cancel;
  int reports = 0;
  o.on_progress = [&](const DriverProgress& p) {
    ++reports;
    EXPECT_FALSE(p.done);
    cancel = true;  // after the first batch
  };
  CollectSink sink;
  const int n = 200000;
  auto r = RunOn(o, "id\n" + Lines("7\n", n), sink);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->end, DriverEnd::kCancelled);
  EXPECT_EQ(reports, 1);
  EXPECT_EQ(sink.batches, 1);
  EXPECT_GT(r->rows_decoded, 0);
  EXPECT_LT(r->rows_decoded, n);

  // Set before the run: nothing is read.
  CollectSink none;
  o.on_progress = nullptr;
  r = RunOn(o, "id\n" + Lines("7\n", 10), none);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->end, DriverEnd::kCancelled);
  EXPECT_TRUE(none.rows.empty());
}

TEST(BatchDriver, ProgressEndsWithDone) {
  PipelineSpec spec = Spec(kPlainSpec);
  BatchDriverOptions o = Options(spec);
  std::vector<DriverProgress> seen;
  o.on_progress = [&](const DriverProgress& p) { seen.push_back(p); };
  CollectSink sink;
  auto r = RunOn(o, "id\n" + Lines("7\n", 100), sink);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_FALSE(seen.empty());
  EXPECT_TRUE(seen.back().done);
  EXPECT_EQ(seen.back().records_read, 100);
  EXPECT_EQ(seen.back().rows_decoded, 100);
}

TEST(BatchDriver, OpensTheReferencesAndReportsWhatItRead) {
  const std::string dir = (std::filesystem::path(::testing::TempDir()) / "sluice_batch_driver_refs")
                              .lexically_normal()
                              .string();
  std::filesystem::create_directories(dir);
  const std::string ref = dir + "/customers.csv";
  const std::string text = "id,name\n10,Ada\n";
  std::ofstream(ref, std::ios::binary | std::ios::trunc) << text;
  PipelineSpec spec = Spec(std::string(R"y(pipeline: p
source: { format: csv }
schema:
  id: int64 not null
references:
  customers: { file: )y") + ref +
                           R"y( }
transform:
  - lookup: { from: customers, on: { id: id }, columns: [name] }
outputs:
  - table: t
)y");
  ReferenceCache cache;
  BatchDriverOptions o = Options(spec);
  o.references = ReferenceEnv{&cache, nullptr};
  CollectSink sink;
  auto r = RunOn(o, "id\n10\n11\n", sink);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(sink.rows, (std::vector<std::string>{"0:10|Ada", "0:11|NULL"}));
  ASSERT_EQ(r->references.size(), 1u);
  EXPECT_EQ(r->references[0].name, "customers");
  EXPECT_EQ(r->references[0].kind, ReferenceKind::kFile);
  EXPECT_EQ(r->references[0].content_sha256, Sha256Hex(text));
  EXPECT_EQ(r->references[0].file, ref);
  EXPECT_EQ(cache.size(), 1u);

  // A missing reference fails the open step, naming it and its file.
  std::filesystem::remove(ref);
  ReferenceCache fresh;
  o.references = ReferenceEnv{&fresh, nullptr};
  BatchDriver driver(o);
  Status opened = driver.Open(DriverInput{NewStringInput("id\n10\n", "in.csv"), false});
  ASSERT_FALSE(opened.ok());
  EXPECT_NE(opened.message().find("reference customers: cannot read '" + ref + "'"),
            std::string::npos)
      << opened.message();
  std::filesystem::remove_all(dir);
}

TEST(BatchDriver, RunBeforeOpenIsAnInternalError) {
  PipelineSpec spec = Spec();
  BatchDriver driver(Options(spec));
  CollectSink sink;
  auto r = driver.Run(sink);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
}

}  // namespace
}  // namespace batch_driver_test
}  // namespace sluice
