#include "engine/worker_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "test_project.h"

namespace sluice {
namespace {

using testing::Keys;
using testing::QueryInt;
using testing::WaitFor;

constexpr char kPoolSpec[] = R"(pipeline: orders
source:
  pattern: "*.csv"
  format: csv
schema:
  id: int64 not null
  amount: decimal(10,2)
on_bad_record: fail
outputs:
  - table: orders
  - sqlite: { path: out.db, table: orders }
)";

std::string PoolCsv(int first, int n) {
  std::string s = "id,amount\n";
  for (int i = first; i < first + n; ++i)
    s += std::to_string(i) + "," + std::to_string(i) + ".50\n";
  return s;
}

class WorkerPoolTest : public testing::ProjectTest {
 protected:
  void Start() {
    Open();
    Deploy("orders", kPoolSpec);
  }

  WorkerPoolOptions Options() {
    WorkerPoolOptions o;
    o.threads = config_.workers;
    o.on_done = [this](const BatchDone& d) {
      std::lock_guard lock(mu_);
      done_.push_back(d);
    };
    return o;
  }

  std::vector<BatchDone> Done() {
    std::lock_guard lock(mu_);
    return done_;
  }

  // Blocks the batch's staging prefix with a plain file, so that every staged
  // write of the batch fails with an I/O error, as a full or broken disk would.
  void BlockStaging(int64_t id) {
    std::filesystem::create_directories(config_.store_root + "/staging");
    std::ofstream(config_.store_root + "/staging/" + std::to_string(id)) << "in the way";
  }
  void UnblockStaging(int64_t id) {
    std::filesystem::remove(config_.store_root + "/staging/" + std::to_string(id));
  }

  std::vector<BatchEvent> History(int64_t id) {
    auto h = project_->catalog().BatchHistory(id);
    EXPECT_TRUE(h.ok()) << h.status().ToString();
    return h.ok() ? *h : std::vector<BatchEvent>{};
  }

  std::mutex mu_;
  std::vector<BatchDone> done_;
};

// A queue that runs `hook` once, right after a lease finds no task: the
// moment between a worker's empty lease and its wait for more work.
class HookedQueue final : public TaskQueue {
 public:
  HookedQueue(TaskQueue& base, std::function<void()> hook) : base_(base), hook_(std::move(hook)) {}
  Status Enqueue(const TaskRequest& request) override { return base_.Enqueue(request); }
  Result<std::optional<Task>> Lease(const std::string& worker, std::chrono::milliseconds lease,
                                    const LeaseFilter& filter) override {
    auto task = base_.Lease(worker, lease, filter);
    if (task.ok() && !task->has_value()) {
      std::function<void()> hook;
      {
        std::lock_guard lock(mu_);
        hook.swap(hook_);
      }
      if (hook) hook();
    }
    return task;
  }
  Status Renew(const Task& task, std::chrono::milliseconds lease) override {
    return base_.Renew(task, lease);
  }
  Status Ack(const Task& task) override { return base_.Ack(task); }
  Status Nack(const Task& task, std::chrono::milliseconds delay) override {
    return base_.Nack(task, delay);
  }
  Result<int64_t> Depth() override { return base_.Depth(); }
  Result<int64_t> DepthOf(TaskKind kind) override { return base_.DepthOf(kind); }

 private:
  TaskQueue& base_;
  std::mutex mu_;
  std::function<void()> hook_;
};

// A stop that comes between a worker's empty lease and its wait is not lost:
// the worker would sleep a whole poll (min(poll_interval, 250 ms)) before it
// noticed, and every `ingest` and `server --exit-when-idle` ended that late.
TEST_F(WorkerPoolTest, AStopBetweenAnEmptyLeaseAndTheWaitIsNotLost) {
  config_.poll_interval = std::chrono::seconds(1);  // a worker's wait: 250 ms
  Start();
  std::atomic<bool> fired{false};
  WorkerPool* pool_ptr = nullptr;
  HookedQueue queue(project_->queue(), [&] {
    pool_ptr->StopLeasing();
    fired = true;
  });
  WorkerPoolOptions o = Options();
  o.threads = 1;
  o.queue = &queue;
  WorkerPool pool(*project_, o);
  pool_ptr = &pool;
  pool.Start();
  ASSERT_TRUE(WaitFor([&] { return fired.load(); }));
  EXPECT_TRUE(pool.WaitDrained(std::chrono::milliseconds(150)));
  pool.Stop();
  SLUICE_ASSERT_OK(Deliver());
}

TEST_F(WorkerPoolTest, ProcessesQueuedBatches) {
  config_.workers = 2;
  Start();
  std::vector<int64_t> ids;
  for (int i = 0; i < 4; ++i)
    ids.push_back(LandAndRegister("orders", "f" + std::to_string(i) + ".csv", PoolCsv(i * 10, 5)));
  WorkerPool pool(*project_, Options());
  pool.Start();
  ASSERT_TRUE(WaitFor([&] { return Done().size() == ids.size(); }));
  pool.Stop();
  SLUICE_ASSERT_OK(Deliver());

  for (const BatchDone& d : Done()) {
    EXPECT_TRUE(d.status.ok()) << d.status.ToString();
    EXPECT_EQ(d.outcome, ProcessOutcome::kCommitted);
  }
  for (int64_t id : ids) EXPECT_EQ(Batch(id).state, BatchState::kCommitted);
  EXPECT_EQ(QueryInt(SinkDb(), "SELECT count(*) FROM orders"), 20);
  EXPECT_EQ(QueryInt(SinkDb(), "SELECT count(DISTINCT id) FROM orders"), 20);
  EXPECT_EQ(*project_->queue().DepthOf(TaskKind::kProcess), 0);
  EXPECT_EQ(pool.InFlight(), 0);
  EXPECT_TRUE(Keys(project_->store(), "staging/").empty());
}

TEST_F(WorkerPoolTest, PicksUpWorkEnqueuedWhileIdle) {
  config_.poll_interval = std::chrono::milliseconds(5000);  // idle waits are capped at 250 ms
  Start();
  WorkerPool pool(*project_, Options());
  pool.Start();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const int64_t id = LandAndRegister("orders", "a.csv", PoolCsv(1, 3));
  pool.Wake();
  ASSERT_TRUE(WaitFor([&] { return Done().size() == 1; }, std::chrono::seconds(3)));
  pool.Stop();
  SLUICE_ASSERT_OK(Deliver());
  EXPECT_EQ(Batch(id).state, BatchState::kCommitted);
}

TEST_F(WorkerPoolTest, PermanentFailureIsNotRetried) {
  Start();
  const int64_t id = LandAndRegister("orders", "bad.csv", "id,amount\n1,x\n");
  WorkerPool pool(*project_, Options());
  pool.Start();
  ASSERT_TRUE(WaitFor([&] { return Done().size() == 1; }));
  pool.Stop();
  SLUICE_ASSERT_OK(Deliver());
  EXPECT_EQ(Done()[0].outcome, ProcessOutcome::kFailed);
  BatchInfo b = Batch(id);
  EXPECT_EQ(b.state, BatchState::kFailed);
  EXPECT_EQ(b.attempts, 1);
  EXPECT_NE(b.reason.find("landing/orders/bad.csv:2: field 'amount'"), std::string::npos)
      << b.reason;
  EXPECT_EQ(b.reason.find("will retry"), std::string::npos) << b.reason;
  EXPECT_EQ(*project_->queue().DepthOf(TaskKind::kProcess), 0);
}

// A staging prefix blocked by a plain file fails every staged write with
// ENOTDIR: the store refuses the path, and no retry can fix that, so the
// batch fails at once (issue 9: ENAMETOOLONG and the like were retried).
TEST_F(WorkerPoolTest, ARefusedPathIsPermanent) {
  Start();
  const int64_t id = LandAndRegister("orders", "a.csv", PoolCsv(1, 5));
  BlockStaging(id);
  WorkerPool pool(*project_, Options());
  pool.Start();
  ASSERT_TRUE(WaitFor([&] { return Done().size() == 1; }));
  pool.Stop();
  SLUICE_ASSERT_OK(Deliver());
  EXPECT_EQ(Done()[0].outcome, ProcessOutcome::kFailed);
  BatchInfo b = Batch(id);
  EXPECT_EQ(b.state, BatchState::kFailed);
  EXPECT_EQ(b.attempts, 1);
  EXPECT_EQ(b.last_error_class, "permanent");
  EXPECT_NE(b.reason.find("IO_ERROR"), std::string::npos) << b.reason;
  EXPECT_EQ(*project_->queue().DepthOf(TaskKind::kProcess), 0);
}

// One transient failure: the batch is queued with its retry time and last
// error during the backoff, then the retry commits it; nothing is delivered twice.
TEST_F(WorkerPoolTest, RetriesATransientFailureWithBackoff) {
  Start();
  const int64_t id = LandAndRegister("orders", "a.csv", PoolCsv(1, 5));
  faults_->FailNth(testing::StoreOp::kOpenWrite, 1, Status::Unavailable("injected: disk full"),
                   "staging/");
  WorkerPoolOptions o = Options();
  o.store = faults_.get();
  WorkerPool pool(*project_, o);
  pool.Start();
  ASSERT_TRUE(WaitFor([&] { return Done().size() == 1; }));
  pool.Stop();
  SLUICE_ASSERT_OK(Deliver());

  EXPECT_EQ(Done()[0].outcome, ProcessOutcome::kCommitted);
  BatchInfo b = Batch(id);
  EXPECT_EQ(b.state, BatchState::kCommitted);
  EXPECT_EQ(b.attempts, 2);
  EXPECT_EQ(b.last_error_class, "transient");
  EXPECT_NE(b.last_error.find("injected: disk full"), std::string::npos) << b.last_error;
  EXPECT_EQ(QueryInt(SinkDb(), "SELECT count(*) FROM orders"), 5);
  EXPECT_EQ(*project_->queue().DepthOf(TaskKind::kProcess), 0);

  // The batch waited queued, not failed, and the second attempt started only
  // after the first backoff (0.5 s plus jitter for a first retry).
  int64_t queued_at = 0, retried_at = 0;
  for (const BatchEvent& e : History(id)) {
    EXPECT_NE(e.state, BatchState::kFailed) << e.reason;
    if (e.state == BatchState::kQueued && e.reason.find("attempt 1 failed (transient)") == 0) {
      queued_at = e.at_us;
    }
    if (e.state == BatchState::kProcessing && queued_at != 0 && retried_at == 0) {
      retried_at = e.at_us;
    }
  }
  ASSERT_GT(queued_at, 0);
  ASSERT_GT(retried_at, 0);
  EXPECT_GE(retried_at - queued_at, 450'000);
}

TEST_F(WorkerPoolTest, GivesUpAfterMaxAttempts) {
  config_.max_attempts = 2;
  Start();
  const int64_t id = LandAndRegister("orders", "a.csv", PoolCsv(1, 5));
  faults_->FailAlways(testing::StoreOp::kOpenWrite, Status::Unavailable("injected: busy"),
                      "staging/");
  WorkerPoolOptions o = Options();
  o.store = faults_.get();
  WorkerPool pool(*project_, o);
  pool.Start();
  ASSERT_TRUE(WaitFor([&] { return Done().size() == 1; }, std::chrono::seconds(10)));
  pool.Stop();
  SLUICE_ASSERT_OK(Deliver());

  const BatchDone d = Done()[0];
  EXPECT_EQ(d.batch_id, id);
  EXPECT_EQ(d.outcome, ProcessOutcome::kFailed);
  EXPECT_FALSE(d.status.ok());
  BatchInfo b = Batch(id);
  EXPECT_EQ(b.state, BatchState::kFailed);
  EXPECT_EQ(b.attempts, 2);
  EXPECT_EQ(b.reason.rfind("poison batch: gave up after 2 attempt(s)", 0), 0u) << b.reason;
  EXPECT_NE(b.reason.find("injected: busy"), std::string::npos) << b.reason;
  EXPECT_EQ(*project_->queue().DepthOf(TaskKind::kProcess), 0);  // acked: no further delivery
  EXPECT_EQ(QueryInt(SinkDb(), "SELECT count(*) FROM orders").value_or(0), 0);
}

// Stop() while a batch is being processed waits for it: the batch ends
// committed, not abandoned half-way.
TEST_F(WorkerPoolTest, StopDrainsTheTaskInFlight) {
  Start();
  const int64_t id = LandAndRegister("orders", "a.csv", PoolCsv(1, 5));
  std::atomic<bool> in_flight{false};
  WorkerPoolOptions o = Options();
  o.on_progress = [&](const ProcessProgress&) {
    if (!in_flight.exchange(true)) std::this_thread::sleep_for(std::chrono::milliseconds(300));
  };
  WorkerPool pool(*project_, o);
  pool.Start();
  ASSERT_TRUE(WaitFor([&] { return in_flight.load(); }));
  EXPECT_EQ(pool.InFlight(), 1);
  pool.Stop();
  SLUICE_ASSERT_OK(Deliver());
  EXPECT_EQ(pool.InFlight(), 0);
  EXPECT_EQ(Batch(id).state, BatchState::kCommitted);
  EXPECT_EQ(Done().size(), 1u);
  EXPECT_EQ(*project_->queue().DepthOf(TaskKind::kProcess), 0);
}

// A worker whose attempt was superseded (another worker re-leased the task
// after its lease expired and started a newer attempt) gets kAborted from the
// commit. It no longer owns the batch, so it must leave the batch's state alone:
// marking it failed would break the newer attempt's commit (failed ->
// committing is refused) and spend a retry for nothing.
TEST_F(WorkerPoolTest, SupersededAttemptLeavesTheBatchAlone) {
  Start();
  const int64_t id = LandAndRegister("orders", "a.csv", PoolCsv(1, 5));
  std::atomic<bool> superseded{false};
  WorkerPoolOptions o = Options();
  // Mid-run, a newer attempt starts elsewhere (simulated by its catalog step).
  o.on_progress = [&](const ProcessProgress&) {
    if (!superseded.exchange(true)) {
      EXPECT_TRUE(testing::MoveBatch(project_->catalog(), id, BatchState::kProcessing).ok());
    }
  };
  WorkerPool pool(*project_, o);
  pool.Start();
  ASSERT_TRUE(WaitFor([&] { return Done().size() == 1; }));
  pool.Stop();
  SLUICE_ASSERT_OK(Deliver());
  EXPECT_EQ(Batch(id).state, BatchState::kCommitted);
  for (const BatchEvent& e : History(id)) {
    EXPECT_NE(e.state, BatchState::kFailed) << e.reason;
  }
  EXPECT_EQ(QueryInt(SinkDb(), "SELECT count(*) FROM orders"), 5);
}

// A stopped pool leaves queued work queued (for the next run) and takes no new task.
TEST_F(WorkerPoolTest, StoppedPoolLeavesQueuedWorkAlone) {
  Start();
  {
    WorkerPool pool(*project_, Options());
    pool.Start();
    pool.Stop();
    SLUICE_ASSERT_OK(Deliver());
  }
  const int64_t id = LandAndRegister("orders", "a.csv", PoolCsv(1, 5));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(Batch(id).state, BatchState::kQueued);
  EXPECT_EQ(*project_->queue().DepthOf(TaskKind::kProcess), 1);
}

}  // namespace
}  // namespace sluice
