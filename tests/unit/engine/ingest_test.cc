#include "engine/ingest.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>

#include "core/io.h"
#include "test_project.h"

namespace sluice {
namespace {

using testing::Keys;
using testing::QueryInt;

constexpr char kSpec[] = R"(pipeline: orders
source:
  pattern: "*"
  format: csv
schema:
  id: int64 not null
  amount: decimal(10,2)
on_bad_record: quarantine
max_bad_ratio: 0.2
outputs:
  - table: orders
  - sqlite: { path: out.db, table: orders }
)";

constexpr char kA[] = "id,amount\n1,1.00\n2,2.00\n3,3.00\n";
constexpr char kB[] = "id,amount\n4,4.00\n5,5.00\n";
constexpr char kBad[] = "id,amount\n6,x\n7,y\n8,8.00\n";  // 2 of 3 bad: over 0.2

// Every kind of column inference tells apart.
constexpr char kSales[] =
    "sale_id,price,sold_at,customer\n"
    "1,9.99,2024-03-01T10:00:00Z,ann\n"
    "2,12.50,2024-03-01 11:30:00,bob\n"
    "3,7.25,2024-03-02T09:15:00Z,cy\n";

class IngestTest : public testing::ProjectTest {
 protected:
  std::string Input(const std::string& name, const std::string& content) {
    return dir_.Write("inputs/" + name, content);
  }

  Result<std::vector<IngestReport>> Ingest(const std::string& pipeline,
                                           std::vector<std::string> files) {
    IngestOptions o;
    o.pipeline = pipeline;
    o.files = std::move(files);
    return RunIngest(*project_, o);
  }
};

TEST_F(IngestTest, ReportsEachFileIncludingDuplicates) {
  Open();
  WritePipeline("orders", kSpec);  // RunIngest deploys it
  const std::string a = Input("a.csv", kA);
  const std::string b = Input("b.csv", kB);
  const std::string copy = Input("copy_of_a.csv", kA);
  const std::string bad = Input("bad.csv", kBad);
  auto r = Ingest("orders", {a, b, copy, bad});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 4u);
  const auto& rep = *r;

  EXPECT_EQ(rep[0].file, a);
  EXPECT_EQ(rep[0].state, "committed");
  EXPECT_EQ(rep[0].stats.rows_read, 3);
  EXPECT_EQ(rep[0].stats.rows_written, 3);
  EXPECT_EQ(rep[1].state, "committed");
  EXPECT_EQ(rep[1].stats.rows_written, 2);
  EXPECT_NE(rep[1].batch_id, rep[0].batch_id);

  EXPECT_EQ(rep[2].file, copy);
  EXPECT_EQ(rep[2].state, "duplicate");
  EXPECT_EQ(rep[2].batch_id, rep[0].batch_id);
  EXPECT_NE(rep[2].note.find("batch " + std::to_string(rep[0].batch_id)), std::string::npos)
      << rep[2].note;

  EXPECT_EQ(rep[3].state, "quarantined");
  EXPECT_NE(rep[3].note.find("2 of 3 records are bad"), std::string::npos) << rep[3].note;

  EXPECT_EQ(QueryInt(SinkDb(), "SELECT count(*) FROM orders"), 5);
  EXPECT_EQ(*project_->queue().Depth(), 0);
  EXPECT_TRUE(Keys(project_->store(), "staging/").empty());
  // The inputs are copied, not moved.
  EXPECT_TRUE(std::filesystem::exists(a));
}

TEST_F(IngestTest, IngestingTheSameFileAgainIsADuplicate) {
  Open();
  WritePipeline("orders", kSpec);
  const std::string a = Input("a.csv", kA);
  auto first = Ingest("orders", {a});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto second = Ingest("orders", {a});
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  ASSERT_EQ(second->size(), 1u);
  EXPECT_EQ((*second)[0].state, "duplicate");
  EXPECT_EQ((*second)[0].batch_id, (*first)[0].batch_id);
  EXPECT_NE((*second)[0].note.find("already ingested"), std::string::npos) << (*second)[0].note;
  EXPECT_NE((*second)[0].note.find("committed"), std::string::npos) << (*second)[0].note;
  EXPECT_EQ(QueryInt(SinkDb(), "SELECT count(*) FROM orders"), 3);
}

TEST_F(IngestTest, PermanentFailureIsReported) {
  Open();
  WritePipeline("orders", std::string(kSpec).replace(std::string(kSpec).find("quarantine"),
                                                     std::string("quarantine").size(), "fail"));
  auto r = Ingest("orders", {Input("bad.csv", kBad)});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].state, "failed");
  EXPECT_NE((*r)[0].note.find("bad.csv:2: field 'amount'"), std::string::npos) << (*r)[0].note;
}

TEST_F(IngestTest, UnknownPipelineAndMissingFileAreErrors) {
  Open();
  WritePipeline("orders", kSpec);
  auto unknown = Ingest("nope", {Input("a.csv", kA)});
  EXPECT_FALSE(unknown.ok());
  auto missing = Ingest("orders", {dir_.path() + "/inputs/missing.csv"});
  EXPECT_FALSE(missing.ok());
  auto batches = project_->catalog().ListBatches(std::nullopt, "", 0);
  ASSERT_TRUE(batches.ok());
  EXPECT_TRUE(batches->empty());
}

// Issue 9, item 5: `ingest -p P` took any task in the shared queue, so a
// poison batch of another pipeline killed it too. It now works P's batches only.
TEST_F(IngestTest, IngestWorksOnlyItsPipelinesBatches) {
  Open();
  WritePipeline("orders", kSpec);
  std::string other = kSpec;
  other.replace(other.find("pipeline: orders"), 16, "pipeline: events");
  other.replace(other.find("table: orders\n"), 14, "table: events\n");
  other.replace(other.find("table: orders }"), 15, "table: events }");
  WritePipeline("events", other);
  ASSERT_TRUE(project_->SyncPipelines().ok());
  const int64_t waiting = LandAndRegister("events", "e.csv", kB);
  ASSERT_EQ(Batch(waiting).state, BatchState::kQueued);

  auto reports = Ingest("orders", {Input("a.csv", kA)});
  ASSERT_TRUE(reports.ok()) << reports.status().ToString();
  ASSERT_EQ(reports->size(), 1u);
  EXPECT_EQ((*reports)[0].state, "committed");
  BatchInfo untouched = Batch(waiting);
  EXPECT_EQ(untouched.state, BatchState::kQueued);
  EXPECT_EQ(untouched.attempts, 0);
}

// A batch left queued without a task (a crash between the state change and
// the enqueue) used to make `sluice ingest` wait forever for it.
TEST_F(IngestTest, IngestRequeuesABatchThatHasNoTask) {
  Open();
  WritePipeline("orders", kSpec);
  ASSERT_TRUE(project_->SyncPipelines().ok());
  const std::string file = Input("a.csv", kA);
  // Registered and queued by an earlier run that died before enqueueing.
  auto first = IngestLocalFile(project_->landing(), "orders", file);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto q = project_->queue().Lease("crashed", std::chrono::milliseconds(60'000));
  ASSERT_TRUE(q.ok() && q->has_value());
  ASSERT_TRUE(project_->queue().Ack(**q).ok());  // the task is gone, the batch still queued
  ASSERT_EQ(Batch(first->batch_id).state, BatchState::kQueued);

  auto reports = Ingest("orders", {file});
  ASSERT_TRUE(reports.ok()) << reports.status().ToString();
  EXPECT_EQ(Batch(first->batch_id).state, BatchState::kCommitted);
}

TEST_F(IngestTest, ProcessUntilDoneWithNoBatchesReturns) {
  Open();
  EXPECT_TRUE(ProcessUntilDone(*project_, "orders", {}, nullptr).ok());
}

TEST_F(IngestTest, ReportsProgress) {
  Open();
  WritePipeline("orders", kSpec);
  std::atomic<int> calls{0};
  IngestOptions o;
  o.pipeline = "orders";
  o.files = {Input("a.csv", kA)};
  o.on_progress = [&](const ProcessProgress&) { ++calls; };
  ASSERT_TRUE(RunIngest(*project_, o).ok());
  EXPECT_GT(calls.load(), 0);
}

// Field name -> type name, from a schema.
std::map<std::string, std::string> Types(const Schema& s) {
  std::map<std::string, std::string> out;
  for (const Field& f : s.fields()) out[f.name] = f.type.ToString();
  return out;
}

TEST_F(IngestTest, EnsureTablePipelineWritesAnInferredSpec) {
  Open();
  const std::string sample = Input("sales.csv", kSales);
  auto msg = EnsureTablePipeline(*project_, "sales", sample);
  ASSERT_TRUE(msg.ok()) << msg.status().ToString();
  EXPECT_EQ(msg->rfind("created pipeline 'sales'", 0), 0u) << *msg;
  EXPECT_NE(msg->find("4 columns"), std::string::npos) << *msg;

  const std::string path = config_.pipelines_dir + "/sales.yaml";
  auto spec = LoadPipelineFile(path);
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->name, "sales");
  std::map<std::string, std::string> types = Types(spec->schema);
  EXPECT_EQ(types["sale_id"].rfind("int", 0), 0u) << types["sale_id"];
  EXPECT_EQ(types["price"], "decimal(4,2)");
  EXPECT_EQ(types["sold_at"], "timestamp");
  EXPECT_EQ(types["customer"], "string");
  ASSERT_EQ(spec->outputs.size(), 1u);
  EXPECT_EQ(spec->outputs[0].kind, "table");

  // Deployed exactly as written.
  auto active = project_->catalog().GetActiveVersion("sales");
  ASSERT_TRUE(active.ok());
  auto text = ReadFileToString(path);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(active->spec_text, *text);

  // The pipeline works on the file it was inferred from.
  auto r = Ingest("sales", {sample});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)[0].state, "committed") << (*r)[0].note;
  EXPECT_EQ((*r)[0].stats.rows_written, 3);
  auto table = project_->catalog().GetTable("sales");
  ASSERT_TRUE(table.ok());
  EXPECT_EQ(table->num_rows, 3);
}

TEST_F(IngestTest, EnsureTablePipelineReusesAnExistingPipeline) {
  Open();
  WritePipeline("orders", kSpec);
  auto before = ReadFileToString(config_.pipelines_dir + "/orders.yaml");
  ASSERT_TRUE(before.ok());
  auto msg = EnsureTablePipeline(*project_, "orders", Input("sales.csv", kSales));
  ASSERT_TRUE(msg.ok()) << msg.status().ToString();
  EXPECT_EQ(*msg, "using existing pipeline 'orders'");
  EXPECT_EQ(*ReadFileToString(config_.pipelines_dir + "/orders.yaml"), *before);

  // Created once, then reused.
  ASSERT_TRUE(EnsureTablePipeline(*project_, "sales", Input("s.csv", kSales)).ok());
  auto again = EnsureTablePipeline(*project_, "sales", Input("s.csv", kSales));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, "using existing pipeline 'sales'");
}

TEST_F(IngestTest, EnsureTablePipelineRefusesToOverwriteABrokenSpec) {
  Open();
  WritePipeline("sales", "pipeline: sales\nnot valid: [\n");
  auto msg = EnsureTablePipeline(*project_, "sales", Input("sales.csv", kSales));
  ASSERT_FALSE(msg.ok());
  EXPECT_EQ(msg.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(*ReadFileToString(config_.pipelines_dir + "/sales.yaml"),
            "pipeline: sales\nnot valid: [\n");
}

TEST(InferPipelineTest, SniffsTheDelimiter) {
  testing::ScratchDir dir;
  struct Case {
    const char* name;
    const char* content;
    char delimiter;
  };
  const Case cases[] = {
      {"comma.csv", "a,b,c\n1,2,3\n", ','},      {"semicolon.csv", "a;b;c\n1;2,5;3\n", ';'},
      {"tab.csv", "a\tb\tc\n1\t2\t3\n", '\t'},   {"pipe.csv", "a|b\n1|2\n", '|'},
      {"quoted.csv", "\"x;y;z\",b\n1,2\n", ','},  // delimiters inside quotes do not count
  };
  for (const Case& c : cases) {
    auto spec = InferPipeline(dir.Write(c.name, c.content), "t");
    ASSERT_TRUE(spec.ok()) << c.name << ": " << spec.status().ToString();
    EXPECT_EQ(spec->source.csv.delimiter, c.delimiter) << c.name;
    EXPECT_EQ(spec->name, "t");
    EXPECT_EQ(spec->source.format, FileFormat::kCsv);
  }
}

TEST(InferPipelineTest, NdjsonAndErrors) {
  testing::ScratchDir dir;
  auto spec = InferPipeline(dir.Write("e.ndjson", "{\"id\": 1, \"v\": \"x\"}\n"), "events");
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->source.format, FileFormat::kNdjson);
  EXPECT_EQ(spec->schema.num_fields(), 2);
  EXPECT_EQ(spec->on_bad_record, BadRecordPolicy::kQuarantine);

  EXPECT_FALSE(InferPipeline(dir.Write("x.unknownext", "a,b\n"), "t").ok());
  EXPECT_FALSE(InferPipeline(dir.path() + "/missing.csv", "t").ok());
}

}  // namespace
}  // namespace sluice
