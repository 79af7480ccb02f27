#include "engine/server.h"

#include <gtest/gtest.h>

#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/hash.h"
#include "test_project.h"

namespace sluice {
namespace {

using testing::Keys;
using testing::QueryInt;
using testing::StoreOp;
using testing::WaitFor;

constexpr char kServerSpec[] = R"(pipeline: orders
source:
  pattern: "*.csv"
  format: csv
schema:
  id: int64 not null
  amount: decimal(10,2)
on_bad_record: quarantine
max_bad_ratio: 0.5
outputs:
  - table: orders
  - sqlite: { path: out.db, table: orders }
)";

std::string Csv(int first, int n) {
  std::string s = "id,amount\n";
  for (int i = first; i < first + n; ++i)
    s += std::to_string(i) + "," + std::to_string(i) + ".25\n";
  return s;
}

class ServerTest : public testing::ProjectTest {
 protected:
  ServerOptions Options(bool exit_when_idle) {
    ServerOptions o;
    o.exit_when_idle = exit_when_idle;
    o.on_done = [this](const BatchDone& d) {
      std::lock_guard lock(mu_);
      done_.push_back(d);
    };
    return o;
  }

  size_t DoneCount() {
    std::lock_guard lock(mu_);
    return done_.size();
  }

  int64_t CountIn(BatchState s) {
    auto b = project_->catalog().ListBatches(s, "", 0);
    EXPECT_TRUE(b.ok());
    return b.ok() ? static_cast<int64_t>(b->size()) : -1;
  }

  std::optional<int64_t> SinkRows() { return QueryInt(SinkDb(), "SELECT count(*) FROM orders"); }

  std::mutex mu_;
  std::vector<BatchDone> done_;
};

TEST_F(ServerTest, ExitWhenIdleProcessesLandedFilesAndReturns) {
  Open();
  WritePipeline("orders", kServerSpec);  // deployed by the server itself
  Land("orders", "a.csv", Csv(1, 10));
  Land("orders", "sub/b.csv", Csv(11, 10));
  Land("orders", "dup.csv", Csv(1, 10));  // same content as a.csv
  Land("orders", ".c.csv", Csv(21, 10));  // a writer's temporary: left alone
  std::atomic<bool> stop{false};

  Status st = RunServer(*project_, Options(true), stop);
  ASSERT_TRUE(st.ok()) << st.ToString();

  EXPECT_EQ(CountIn(BatchState::kCommitted), 2);
  EXPECT_EQ(DoneCount(), 2u);
  EXPECT_EQ(SinkRows(), 20);
  EXPECT_EQ(Keys(project_->store(), "landing/"), std::vector<std::string>{});
  EXPECT_TRUE(std::filesystem::exists(config_.store_root + "/landing/orders/.c.csv"));
  EXPECT_EQ(*project_->queue().Depth(), 0);
  EXPECT_TRUE(Keys(project_->store(), "staging/").empty());
  EXPECT_FALSE(Keys(project_->store(), "lake/orders/").empty());
}

TEST_F(ServerTest, ExitWhenIdleWithNothingToDoReturnsAtOnce) {
  Open();
  WritePipeline("orders", kServerSpec);
  std::atomic<bool> stop{false};
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(RunServer(*project_, Options(true), stop).ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  auto active = project_->catalog().GetActiveVersion("orders");
  EXPECT_TRUE(active.ok()) << "the server deploys the pipelines it finds";
}

// A stop request from another thread (SIGTERM) makes the server stop scanning,
// finish what is in flight and return; work not started stays queued for the
// next run, which completes it.
TEST_F(ServerTest, StopFlagDrainsAndReturns) {
  Open();
  WritePipeline("orders", kServerSpec);
  for (int i = 0; i < 4; ++i) Land("orders", "f" + std::to_string(i) + ".csv", Csv(i * 10, 10));
  std::atomic<bool> stop{false};
  ServerOptions opts = Options(false);
  opts.on_done = [&](const BatchDone&) {
    std::lock_guard lock(mu_);
    done_.push_back({});
    stop = true;  // stop after the first batch
  };
  auto server = std::async(std::launch::async, [&] { return RunServer(*project_, opts, stop); });
  ASSERT_EQ(server.wait_for(std::chrono::seconds(20)), std::future_status::ready);
  Status st = server.get();
  ASSERT_TRUE(st.ok()) << st.ToString();

  // Nothing is left half-done.
  EXPECT_EQ(CountIn(BatchState::kProcessing), 0);
  EXPECT_EQ(CountIn(BatchState::kCommitting), 0);
  EXPECT_GE(CountIn(BatchState::kCommitted), 1);
  EXPECT_EQ(CountIn(BatchState::kCommitted) + CountIn(BatchState::kQueued), 4);
  // A committed batch's SQLite rows are loaded, or wait in its delivery for
  // the next server's loaders.
  EXPECT_LE(SinkRows().value_or(0), CountIn(BatchState::kCommitted) * 10);
  EXPECT_TRUE(Keys(project_->store(), "staging/").empty());

  // The next run finishes the rest.
  stop = false;
  ASSERT_TRUE(RunServer(*project_, Options(true), stop).ok());
  EXPECT_EQ(CountIn(BatchState::kCommitted), 4);
  EXPECT_EQ(SinkRows(), 40);
}

// A long-running server picks up files that land while it runs.
TEST_F(ServerTest, PollsLandingWhileRunning) {
  Open();
  WritePipeline("orders", kServerSpec);
  std::atomic<bool> stop{false};
  auto server =
      std::async(std::launch::async, [&] { return RunServer(*project_, Options(false), stop); });
  Land("orders", "late.csv", Csv(1, 3));
  // Committed, then loaded into the SQLite output by the server's loaders.
  bool done = WaitFor([&] { return DoneCount() == 1 && SinkRows() == 3; });
  stop = true;
  ASSERT_EQ(server.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  ASSERT_TRUE(server.get().ok());
  ASSERT_TRUE(done);
  EXPECT_EQ(CountIn(BatchState::kCommitted), 1);
  EXPECT_EQ(SinkRows(), 3);
}

// Start-up recovery: publications of a commit whose publish crashed are
// redone, interrupted registrations are queued, and staging of finished
// batches is deleted while that of unfinished ones is kept.
// Issue 9, item 6: one staged file lost before publication stopped every
// server start ("publishing staging/3/...: no object", exit 2). Start-up now
// records it (the batch is damaged), and the server goes on with the rest.
TEST_F(ServerTest, ALostStagedFileDoesNotStopTheServer) {
  Open();
  WritePipeline("orders", kServerSpec);
  ASSERT_TRUE(project_->SyncPipelines().ok());
  const int64_t committed = LandAndRegister("orders", "a.csv", Csv(1, 5));
  faults_->FailAlways(StoreOp::kRename, Status::Unavailable("crash"), "staging/");
  ProcessBatch(Env(), committed).IgnoreError();  // committed; publication never ran
  faults_->Clear();
  ASSERT_EQ(Batch(committed).state, BatchState::kCommitted);
  auto pending = project_->catalog().PendingPublications();
  ASSERT_TRUE(pending.ok() && !pending->empty());
  ASSERT_TRUE(project_->store().Delete(pending->front().staging_key).ok());
  Land("orders", "b.csv", Csv(6, 5));

  std::atomic<bool> stop{false};
  Status st = RunServer(*project_, Options(true), stop);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(Batch(committed).state, BatchState::kDamaged);
  EXPECT_EQ(CountIn(BatchState::kCommitted), 1);  // b.csv
  EXPECT_TRUE(project_->catalog().PendingPublications()->empty());
}

TEST_F(ServerTest, RecoverRepairsWhatACrashLeft) {
  Open();
  Deploy("orders", kServerSpec);

  // Batch 1: committed, but its files were never published.
  const int64_t committed = LandAndRegister("orders", "a.csv", Csv(1, 5));
  faults_->FailAlways(StoreOp::kRename, Status::IOError("crash"), "staging/");
  ProcessBatch(Env(), committed).IgnoreError();  // publication fails after the commit
  faults_->Clear();
  ASSERT_EQ(Batch(committed).state, BatchState::kCommitted);
  ASSERT_TRUE(Keys(project_->store(), "lake/").empty());
  // ... plus garbage from a dead attempt of that batch.
  {
    auto out = project_->store().OpenWrite("staging/" + std::to_string(committed) + "/a1/x");
    ASSERT_TRUE(out.ok());
    ASSERT_TRUE((*out)->Close().ok());
  }

  // Batch 2: registered, but the crash came before the move out of landing.
  Land("orders", "b.csv", Csv(6, 5));
  RegisterBatchRequest req;
  req.pipeline = "orders";
  req.object_key = "landing/orders/b.csv";
  req.sha256 = Sha256Hex(Csv(6, 5));
  req.archive_key = ArchiveKey("orders", req.sha256, "b.csv");
  req.size_bytes = static_cast<int64_t>(Csv(6, 5).size());
  auto landed = project_->catalog().RegisterBatch(req);
  ASSERT_TRUE(landed.ok());

  // Batch 3: mid-processing when the process died (staged data of its attempt).
  const int64_t running = LandAndRegister("orders", "c.csv", Csv(11, 5));
  ASSERT_TRUE(testing::MoveBatch(project_->catalog(), running, BatchState::kProcessing).ok());
  const std::string running_stage =
      "staging/" + std::to_string(running) + "/a1/orders/part-00000.parquet";
  {
    auto out = project_->store().OpenWrite(running_stage);
    ASSERT_TRUE(out.ok());
    ASSERT_TRUE((*out)->Close().ok());
  }

  ASSERT_TRUE(Recover(*project_).ok());

  auto pending = project_->catalog().PendingPublications();
  ASSERT_TRUE(pending.ok());
  EXPECT_TRUE(pending->empty());
  auto files = project_->catalog().ListFiles("orders", 0);
  ASSERT_TRUE(files.ok());
  ASSERT_FALSE(files->empty());
  for (const DataFile& f : *files) EXPECT_TRUE(project_->store().Stat(f.key).ok()) << f.key;

  EXPECT_EQ(Batch(landed->batch_id).state, BatchState::kQueued);
  EXPECT_TRUE(project_->store().Stat(req.archive_key).ok());
  EXPECT_EQ(Keys(project_->store(), "landing/"), std::vector<std::string>{});

  EXPECT_EQ(Keys(project_->store(), "staging/"), std::vector<std::string>{running_stage});

  // Every unfinished batch has a task; the run after recovery finishes them.
  std::atomic<bool> stop{false};
  ASSERT_TRUE(RunServer(*project_, Options(true), stop).ok());
  EXPECT_EQ(CountIn(BatchState::kCommitted), 3);
  EXPECT_EQ(SinkRows(), 15);
  EXPECT_TRUE(Keys(project_->store(), "staging/").empty());
}

// Found by the crash test (two servers): a server starting up collected the
// staging of a batch that another server had just committed and was still
// publishing; the publisher then found its staged files gone and marked the
// batch damaged. Staged files of a committed batch are kept until published.
TEST_F(ServerTest, StagingOfACommittedBatchIsKeptUntilPublished) {
  Open();
  Deploy("orders", kServerSpec);
  const int64_t id = LandAndRegister("orders", "a.csv", Csv(1, 5));
  // The commit is done, the publication not yet (as if in another process).
  faults_->FailAlways(StoreOp::kRename, Status::IOError("not yet"), "staging/");
  ProcessBatch(Env(), id).IgnoreError();
  faults_->Clear();
  ASSERT_EQ(Batch(id).state, BatchState::kCommitted);
  const std::vector<std::string> staged = Keys(project_->store(), "staging/");
  ASSERT_FALSE(staged.empty());

  ASSERT_TRUE(CollectStaging(*project_).ok());  // the other server starting up
  EXPECT_EQ(Keys(project_->store(), "staging/"), staged);

  ASSERT_TRUE(PublishPending(project_->store(), project_->catalog()).ok());
  EXPECT_EQ(Batch(id).state, BatchState::kCommitted);
  auto files = project_->catalog().ListFiles("orders", 0);
  ASSERT_TRUE(files.ok());
  ASSERT_FALSE(files->empty());
  for (const DataFile& f : *files) EXPECT_TRUE(project_->store().Stat(f.key).ok()) << f.key;
  // Once published, what is left of the batch's staging is garbage.
  ASSERT_TRUE(CollectStaging(*project_).ok());
  EXPECT_TRUE(Keys(project_->store(), "staging/").empty());
}

TEST_F(ServerTest, BrokenPipelineSpecDoesNotStopTheServer) {
  Open();
  WritePipeline("orders", kServerSpec);
  WritePipeline("broken", "pipeline: broken\nschema: {}\nnot_a_key: 1\n");
  Land("orders", "a.csv", Csv(1, 4));
  std::atomic<bool> stop{false};
  ASSERT_TRUE(RunServer(*project_, Options(true), stop).ok());
  EXPECT_EQ(CountIn(BatchState::kCommitted), 1);
  EXPECT_FALSE(project_->catalog().GetActiveVersion("broken").ok());
}

// --- wrong success signals (issue 9, item 8) ---------------------------------------

// Runs SQL against the project's catalog file (a fault injected from outside,
// as a damaged or refusing database would be).
void ExecCatalogSql(const std::string& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  const std::string msg = err != nullptr ? err : "";
  sqlite3_free(err);
  sqlite3_close(db);
  ASSERT_EQ(rc, SQLITE_OK) << msg;
}

// `server --exit-when-idle` exited 0 with files still in landing when their
// registration failed. The run now reports what it could not do.
TEST_F(ServerTest, Issue9ExitWhenIdleReportsFilesThatCouldNotBeRegistered) {
  Open();
  WritePipeline("orders", kServerSpec);
  ASSERT_TRUE(project_->SyncPipelines().ok());
  ExecCatalogSql(config_.catalog_path,
                 "CREATE TRIGGER refuse BEFORE INSERT ON batches "
                 "BEGIN SELECT RAISE(ABORT, 'injected: registration refused'); END;");
  Land("orders", "a.csv", Csv(1, 3));
  std::atomic<bool> stop{false};
  ServerReport report;
  auto start = std::chrono::steady_clock::now();
  Status st = RunServer(*project_, Options(true), stop, &report);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  ASSERT_EQ(report.problems.size(), 1u);
  EXPECT_NE(report.problems[0].find("landing/orders/a.csv"), std::string::npos)
      << report.problems[0];
  EXPECT_NE(report.problems[0].find("registration refused"), std::string::npos)
      << report.problems[0];
  EXPECT_TRUE(std::filesystem::exists(config_.store_root + "/landing/orders/a.csv"));
  EXPECT_EQ(report.committed, 0);

  // Once registration works again, a run is clean and the file is taken.
  ExecCatalogSql(config_.catalog_path, "DROP TRIGGER refuse;");
  ServerReport clean;
  ASSERT_TRUE(RunServer(*project_, Options(true), stop, &clean).ok());
  EXPECT_TRUE(clean.problems.empty()) << clean.problems.front();
  EXPECT_EQ(clean.committed, 1);
  EXPECT_EQ(SinkRows(), 3);
}

// Issue 9: a file still being written (changed within source.settle) is not
// taken, and --exit-when-idle does not call landing idle while it waits: the
// run ends only after the file has settled and its batch committed.
TEST_F(ServerTest, Issue9ExitWhenIdleWaitsForAFileThatIsStillSettling) {
  Open();
  std::atomic<int64_t> offset_us{0};
  project_->SetLandingClockForTesting([&offset_us] { return NowMicros() + offset_us.load(); });
  WritePipeline("orders", kServerSpec);
  Land("orders", "a.csv", Csv(1, 3));
  std::atomic<bool> stop{false};
  ServerReport report;
  auto run = std::async(std::launch::async,
                        [&] { return RunServer(*project_, Options(true), stop, &report); });
  // Several polls (20 ms apart) pass; the file is younger than 2 s on this clock.
  EXPECT_EQ(run.wait_for(std::chrono::milliseconds(300)), std::future_status::timeout);
  EXPECT_EQ(CountIn(BatchState::kCommitted), 0);
  offset_us = int64_t{3600} * 1'000'000;
  ASSERT_EQ(run.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  Status st = run.get();
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(report.committed, 1);
  EXPECT_EQ(SinkRows(), 3);
}

// Issue 9: a symbolic link in landing is never followed; the run says which
// entry it left and why (a problem at exit), and ingests everything else.
TEST_F(ServerTest, Issue9ASymlinkInLandingIsReportedNotFollowed) {
  Open();
  WritePipeline("orders", kServerSpec);
  Land("orders", "a.csv", Csv(1, 3));
  const std::string outside = dir_.Write("outside/secret.csv", Csv(100, 5));
  std::filesystem::create_symlink(outside, config_.store_root + "/landing/orders/link.csv");
  std::atomic<bool> stop{false};
  ServerReport report;
  ASSERT_TRUE(RunServer(*project_, Options(true), stop, &report).ok());
  EXPECT_EQ(report.committed, 1);
  EXPECT_EQ(SinkRows(), 3);
  ASSERT_EQ(report.problems.size(), 1u);
  EXPECT_NE(report.problems[0].find("landing/orders/link.csv"), std::string::npos)
      << report.problems[0];
  EXPECT_NE(report.problems[0].find("symbolic link"), std::string::npos) << report.problems[0];
  EXPECT_TRUE(std::filesystem::exists(outside));
  EXPECT_TRUE(std::filesystem::is_symlink(config_.store_root + "/landing/orders/link.csv"));
}

TEST_F(ServerTest, Issue9ExitWhenIdleReportsBatchesThatFailed) {
  Open();
  std::string strict = kServerSpec;
  strict.replace(strict.find("on_bad_record: quarantine"),
                 std::string("on_bad_record: quarantine").size(), "on_bad_record: fail");
  WritePipeline("orders", strict);
  Land("orders", "good.csv", Csv(1, 3));
  Land("orders", "bad.csv", "id,amount\n1,1.00\nx,2.00\n");
  std::atomic<bool> stop{false};
  ServerReport report;
  ASSERT_TRUE(RunServer(*project_, Options(true), stop, &report).ok());
  EXPECT_EQ(report.committed, 1);
  EXPECT_EQ(report.failed, 1);
  ASSERT_EQ(report.problems.size(), 1u);
  EXPECT_EQ(report.problems[0].rfind("batch ", 0), 0u) << report.problems[0];
  EXPECT_NE(report.problems[0].find("bad.csv:3"), std::string::npos) << report.problems[0];
}

TEST_F(ServerTest, Issue9ACleanRunReportsNoProblems) {
  Open();
  WritePipeline("orders", kServerSpec);
  Land("orders", "a.csv", Csv(1, 3));
  Land("orders", "half_bad.csv", "id,amount\n1,1.00\nx,2.00\ny,3.00\n");  // over 0.5: quarantined
  std::atomic<bool> stop{false};
  ServerReport report;
  ASSERT_TRUE(RunServer(*project_, Options(true), stop, &report).ok());
  EXPECT_TRUE(report.problems.empty()) << report.problems.front();
  EXPECT_EQ(report.committed, 1);
  EXPECT_EQ(report.quarantined, 1);
  EXPECT_FALSE(report.forced);
}

// A second SIGTERM could not force a draining server out: it waited for every
// attempt in flight. Now the attempts are cancelled, the server returns at
// once, and the next run commits the batch exactly once.
TEST_F(ServerTest, Issue9ForceStopCancelsAttemptsInFlight) {
  Open();
  WritePipeline("orders", kServerSpec);
  Land("orders", "a.csv", Csv(1, 50));
  std::atomic<bool> stop{false}, force{false}, in_flight{false};
  // The attempt blocks when it opens its input until the test has asked
  // for the forced stop, then goes on to its first cancellation check.
  faults_->BeforeNext(
      StoreOp::kOpenRead,
      [&](const std::string&) {
        in_flight = true;
        WaitFor([&] { return force.load(); }, std::chrono::seconds(20));
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
      },
      "archive/");
  ServerOptions opts = Options(false);
  opts.force_stop = &force;
  opts.store = faults_.get();
  ServerReport report;
  auto server =
      std::async(std::launch::async, [&] { return RunServer(*project_, opts, stop, &report); });
  ASSERT_TRUE(WaitFor([&] { return in_flight.load(); }, std::chrono::seconds(20)));
  stop = true;
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // draining now
  force = true;
  ASSERT_EQ(server.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  ASSERT_TRUE(server.get().ok());
  EXPECT_TRUE(report.forced);
  EXPECT_EQ(report.cancelled, 1);
  EXPECT_EQ(report.committed, 0);
  EXPECT_EQ(CountIn(BatchState::kProcessing), 1) << "the cancelled attempt did not finish";
  EXPECT_EQ(SinkRows().value_or(0), 0);
  EXPECT_TRUE(Keys(project_->store(), "lake/").empty());

  // The next run retries it (the cut attempt counts as unfinished) and
  // commits it once.
  stop = false;
  force = false;
  ServerReport next;
  ASSERT_TRUE(RunServer(*project_, Options(true), stop, &next).ok());
  EXPECT_TRUE(next.problems.empty()) << next.problems.front();
  EXPECT_EQ(CountIn(BatchState::kCommitted), 1);
  EXPECT_EQ(SinkRows(), 50);
}

}  // namespace
}  // namespace sluice
