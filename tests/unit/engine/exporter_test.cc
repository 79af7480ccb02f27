// Exporter (engine/exporter.h): one run of an export task writes the pinned
// snapshot's rows into the store, and every way a run can end leaves the
// export where the next run (or nobody) should pick it up.
#include "engine/exporter.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>

#include "core/hash.h"
#include "test_project.h"

namespace sluice {
namespace {

constexpr char kExportSpec[] = R"(pipeline: events
source:
  pattern: "*.csv"
  format: csv
schema:
  id: int64 not null
  cat: string
outputs:
  - table: events
    row_group_rows: 16
)";

std::string ExportCsv(int first, int last) {
  std::string s = "id,cat\n";
  for (int i = first; i <= last; ++i) s += std::to_string(i) + ",c" + std::to_string(i % 3) + "\n";
  return s;
}

class ExporterTest : public testing::ProjectTest {
 protected:
  void SetUp() override {
    ProjectTest::SetUp();
    Open();
    Deploy("events", kExportSpec);
    Commit(1, 100);
  }

  void Commit(int first, int last) {
    const int64_t id =
        LandAndRegister("events", "b" + std::to_string(first) + ".csv", ExportCsv(first, last));
    ASSERT_GT(id, 0);
    auto r = ProcessBatch(Env(), id);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(*r, ProcessOutcome::kCommitted) << Batch(id).reason;
  }

  ExportRequest Request(const std::string& format = "csv", const std::string& where = "") {
    ExportRequest r;
    r.table = "events";
    r.format = format;
    r.where = where;
    r.owner = "t";
    return r;
  }

  // A prepared, recorded export.
  ExportJob Accept(ExportRequest r) {
    Status st = PrepareExport(project_->catalog(), project_->store(), &r);
    EXPECT_TRUE(st.ok()) << st.ToString();
    auto c = project_->catalog().CreateExport(r);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? c->job : ExportJob{};
  }

  ExportStep Run(int64_t id, ObjectStore* store = nullptr,
                 const std::atomic<bool>* cancel = nullptr) {
    Exporter ex(project_->catalog(), store != nullptr ? *store : project_->store(),
                ExporterOptions{.max_attempts = 3});
    auto step = ex.Run(id, cancel);
    EXPECT_TRUE(step.ok()) << step.status().ToString();
    return step.ok() ? *step : ExportStep{};
  }

  ExportJob Get(int64_t id) {
    auto j = project_->catalog().GetExport(id);
    EXPECT_TRUE(j.ok()) << j.status().ToString();
    return j.ok() ? *j : ExportJob{};
  }

  // What a data request of the same rows answers, at `snapshot`.
  std::string Expected(const std::string& format, int64_t snapshot, const std::string& where = "") {
    TableReadRequest r;
    r.table = "events";
    r.snapshot = snapshot;
    r.where = where;
    auto reader = OpenTableReader(project_->catalog(), project_->store(), r);
    EXPECT_TRUE(reader.ok()) << reader.status().ToString();
    if (!reader.ok()) return "";
    std::string text;
    auto out = NewStringOutput(&text);
    EXPECT_TRUE(WriteTableRows(**reader, format, *out).ok());
    return text;
  }
};

TEST_F(ExporterTest, WritesThePinnedSnapshotIntoTheStore) {
  ExportJob j = Accept(Request("csv", "id % 2 = 0"));
  const int64_t pinned = j.request.snapshot;
  ASSERT_GT(pinned, 0);
  Commit(101, 150);  // after the export was accepted: not in it
  ExportStep step = Run(j.id);
  EXPECT_TRUE(step.finished);
  ExportJob done = Get(j.id);
  ASSERT_EQ(done.state, ExportState::kDone) << done.error;
  EXPECT_EQ(done.attempts, 1);
  EXPECT_EQ(done.rows, 50);
  EXPECT_EQ(done.result_key, ExportPrefix(j.id) + "1.csv");
  const std::string content = testing::ReadKey(project_->store(), done.result_key);
  EXPECT_EQ(content, Expected("csv", pinned, "id % 2 = 0"));
  EXPECT_EQ(done.bytes, static_cast<int64_t>(content.size()));
  EXPECT_EQ(done.sha256, Sha256Hex(content));
  EXPECT_EQ(ExportFileName(done), "events-" + std::to_string(pinned) + ".csv");
  // Another run of a done export does nothing.
  EXPECT_TRUE(Run(j.id).finished);
  EXPECT_EQ(Get(j.id).attempts, 1);
}

TEST_F(ExporterTest, EveryFormatMatchesADataRequest) {
  for (const char* format : {"csv", "ndjson", "json", "parquet"}) {
    ExportJob j = Accept(Request(format));
    ASSERT_TRUE(Run(j.id).finished);
    ExportJob done = Get(j.id);
    ASSERT_EQ(done.state, ExportState::kDone) << format << ": " << done.error;
    EXPECT_EQ(testing::ReadKey(project_->store(), done.result_key),
              Expected(format, j.request.snapshot))
        << format;
  }
}

TEST_F(ExporterTest, PrepareRefusesWhatADataRequestRefuses) {
  auto prepare = [&](ExportRequest r) {
    return PrepareExport(project_->catalog(), project_->store(), &r).code();
  };
  ExportRequest r = Request();
  r.table = "nope";
  EXPECT_EQ(prepare(r), StatusCode::kNotFound);
  EXPECT_EQ(prepare(Request("xml")), StatusCode::kInvalidArgument);
  EXPECT_EQ(prepare(Request("csv", "id +")), StatusCode::kInvalidArgument);
  EXPECT_EQ(prepare(Request("csv", "cat")), StatusCode::kInvalidArgument);  // not boolean
  r = Request();
  r.columns = R"(["id","missing"])";
  EXPECT_EQ(prepare(r), StatusCode::kInvalidArgument);
  r = Request();
  r.snapshot = 999999;
  EXPECT_EQ(prepare(r), StatusCode::kNotFound);
  r = Request();
  r.limit = -2;
  EXPECT_EQ(prepare(r), StatusCode::kInvalidArgument);
}

TEST_F(ExporterTest, ACancelledRunLeavesItForTheNextRun) {
  ExportJob j = Accept(Request());
  std::atomic<bool> cancel{true};
  ExportStep step = Run(j.id, nullptr, &cancel);
  EXPECT_FALSE(step.finished);
  EXPECT_EQ(step.retry_in.count(), 0);
  EXPECT_EQ(Get(j.id).state, ExportState::kRunning);
  EXPECT_TRUE(testing::Keys(project_->store(), ExportPrefix(j.id)).empty());
  EXPECT_TRUE(Run(j.id).finished);
  ExportJob done = Get(j.id);
  EXPECT_EQ(done.state, ExportState::kDone);
  EXPECT_EQ(done.attempts, 2);
  EXPECT_EQ(testing::Keys(project_->store(), ExportPrefix(j.id)),
            std::vector<std::string>{ExportPrefix(j.id) + "2.csv"});
}

TEST_F(ExporterTest, ATransientStoreFailureIsRetriedThenGivesUp) {
  ExportJob j = Accept(Request());
  testing::FaultInjectingStore faulty(project_->store());
  faulty.FailNth(testing::StoreOp::kOpenWrite, 1, Status::Unavailable("store busy"), "exports/");
  ExportStep step = Run(j.id, &faulty);
  EXPECT_FALSE(step.finished);
  EXPECT_GT(step.retry_in.count(), 0);
  ExportJob retrying = Get(j.id);
  EXPECT_EQ(retrying.state, ExportState::kRunning);
  EXPECT_NE(retrying.error.find("store busy"), std::string::npos);
  EXPECT_TRUE(Run(j.id, &faulty).finished);
  EXPECT_EQ(Get(j.id).state, ExportState::kDone);

  // max_attempts (3) runs that all fail: failed for good.
  ExportJob k = Accept(Request());
  faulty.FailAlways(testing::StoreOp::kOpenWrite, Status::Unavailable("store down"), "exports/");
  EXPECT_FALSE(Run(k.id, &faulty).finished);
  EXPECT_FALSE(Run(k.id, &faulty).finished);
  EXPECT_TRUE(Run(k.id, &faulty).finished);
  ExportJob failed = Get(k.id);
  EXPECT_EQ(failed.state, ExportState::kFailed);
  EXPECT_EQ(failed.attempts, 3);
  EXPECT_NE(failed.error.find("store down"), std::string::npos);
}

TEST_F(ExporterTest, AMissingDataFileFailsItAtOnce) {
  ExportJob j = Accept(Request());
  auto files = project_->catalog().ListFiles("events", j.request.snapshot);
  ASSERT_TRUE(files.ok());
  ASSERT_FALSE(files->empty());
  ASSERT_TRUE(project_->store().Delete(files->front().key).ok());
  EXPECT_TRUE(Run(j.id).finished);
  ExportJob failed = Get(j.id);
  EXPECT_EQ(failed.state, ExportState::kFailed);
  EXPECT_EQ(failed.attempts, 1);
  EXPECT_NE(failed.error.find(files->front().key), std::string::npos) << failed.error;
  EXPECT_TRUE(testing::Keys(project_->store(), ExportPrefix(j.id)).empty());
}

TEST_F(ExporterTest, ARunOvertakenByAnotherDeletesItsOwnFile) {
  ExportJob j = Accept(Request());
  testing::FaultInjectingStore faulty(project_->store());
  // While run 1 writes, its lease expires and run 2 starts (and finishes).
  faulty.BeforeNext(
      testing::StoreOp::kClose,
      [&](const std::string&) {
        auto second = project_->catalog().StartExport(j.id);
        ASSERT_TRUE(second.ok());
        ASSERT_TRUE(project_->catalog().FinishExport(j.id, 2, "exports/x", 0, 0, "").ok());
      },
      ExportPrefix(j.id));
  EXPECT_TRUE(Run(j.id, &faulty).finished);
  ExportJob now = Get(j.id);
  EXPECT_EQ(now.attempts, 2);
  EXPECT_EQ(now.result_key, "exports/x");
  EXPECT_TRUE(testing::Keys(project_->store(), ExportPrefix(j.id)).empty());
}

TEST_F(ExporterTest, QueueUnfinishedExportsQueuesEachOnce) {
  ExportJob a = Accept(Request());
  ExportJob b = Accept(Request());
  ASSERT_TRUE(Run(b.id).finished);  // done: no task
  ASSERT_TRUE(QueueUnfinishedExports(project_->catalog(), project_->queue()).ok());
  ASSERT_TRUE(QueueUnfinishedExports(project_->catalog(), project_->queue()).ok());
  EXPECT_EQ(*project_->queue().DepthOf(TaskKind::kExport), 1);
  LeaseFilter f;
  f.kind = TaskKind::kExport;
  auto t = project_->queue().Lease("w", std::chrono::seconds(10), f);
  ASSERT_TRUE(t.ok() && t->has_value());
  EXPECT_EQ((*t)->batch_id, a.id);
}

}  // namespace
}  // namespace sluice
