#include "queue/sql_task_queue.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "../sql/test_database.h"
#include "catalog/catalog.h"
#include "catalog/sql_catalog.h"
#include "sql/migrations.h"
#include "sql/sqlite_db.h"

namespace sluice {
namespace {

using std::chrono::milliseconds;

// A queue on `db` (either backend) with `now_us` as its clock.
Result<std::unique_ptr<TaskQueue>> OpenQueueOn(const testing::TestDatabase& db,
                                               std::function<int64_t()> now_us) {
  ASSIGN_OR_RETURN(std::unique_ptr<SqlDb> conn, db.Open());
  return OpenSqlTaskQueue(std::move(conn), std::move(now_us));
}

class QueueTempDir {
 public:
  QueueTempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "sluice_queue_XXXXXX").string();
    char* made = mkdtemp(tmpl.data());
    path_ = made != nullptr ? made : "";
  }
  ~QueueTempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

class SqlTaskQueueTest : public ::testing::TestWithParam<testing::SqlBackend> {
 protected:
  testing::TestDatabase db_{GetParam()};
  void SetUp() override {
    q_ = Open();
    ASSERT_NE(q_, nullptr);
  }

  // A queue on the shared file whose clock is now_ (moved by the test).
  std::unique_ptr<TaskQueue> Open() {
    SqliteTaskQueueOptions opts;
    opts.now_us = [this] { return now_.load(); };
    auto q = OpenQueueOn(db_, opts.now_us);
    EXPECT_TRUE(q.ok()) << q.status().ToString();
    return q.ok() ? std::move(q).value() : nullptr;
  }

  std::optional<Task> LeaseOne(TaskQueue& q, const std::string& worker, milliseconds lease) {
    auto t = q.Lease(worker, lease);
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    return t.ok() ? *t : std::nullopt;
  }

  void AdvanceMs(int64_t ms) { now_ += ms * 1000; }

  QueueTempDir dir_;
  std::atomic<int64_t> now_{1'700'000'000'000'000};
  std::unique_ptr<TaskQueue> q_;
};

TEST_P(SqlTaskQueueTest, CreatesTheTableWhenOpenedBeforeTheCatalog) {
  auto db = db_.Open();
  ASSERT_TRUE(db.ok());
  EXPECT_TRUE(*(*db)->TableExists("tasks"));
  EXPECT_TRUE(*(*db)->TableExists("batches"));  // the full catalog schema
  // And the catalog opens the same file afterwards without re-migrating.
  auto conn = db_.Open();
  ASSERT_TRUE(conn.ok());
  auto cat = OpenSqlCatalog(std::move(conn).value(), nullptr);
  ASSERT_TRUE(cat.ok()) << cat.status().ToString();
  EXPECT_EQ(AppliedMigrationVersions(**db)->size(), CatalogMigrations().size());
}

TEST_P(SqlTaskQueueTest, EnqueueLeaseAck) {
  ASSERT_TRUE(q_->Enqueue(TaskKind::kProcess, 7).ok());
  EXPECT_EQ(*q_->Depth(), 1);
  auto t = LeaseOne(*q_, "w1", milliseconds(1000));
  ASSERT_TRUE(t.has_value());
  EXPECT_GT(t->id, 0);
  EXPECT_EQ(t->kind, TaskKind::kProcess);
  EXPECT_EQ(t->batch_id, 7);
  EXPECT_EQ(t->attempt, 1);
  EXPECT_EQ(t->lease_expires_us, now_.load() + 1'000'000);
  EXPECT_FALSE(LeaseOne(*q_, "w2", milliseconds(1000)).has_value());  // leased
  EXPECT_EQ(*q_->Depth(), 1);
  ASSERT_TRUE(q_->Ack(*t).ok());
  EXPECT_EQ(*q_->Depth(), 0);
  EXPECT_FALSE(LeaseOne(*q_, "w1", milliseconds(1000)).has_value());
}

TEST_P(SqlTaskQueueTest, EnqueueIsIdempotentWhileLive) {
  ASSERT_TRUE(q_->Enqueue(TaskKind::kProcess, 1).ok());
  ASSERT_TRUE(q_->Enqueue(TaskKind::kProcess, 1).ok());
  EXPECT_EQ(*q_->Depth(), 1);
  auto t = LeaseOne(*q_, "w", milliseconds(1000));
  ASSERT_TRUE(t.has_value());
  ASSERT_TRUE(q_->Enqueue(TaskKind::kProcess, 1).ok());  // still leased: no-op
  EXPECT_EQ(*q_->Depth(), 1);
  ASSERT_TRUE(q_->Ack(*t).ok());
  ASSERT_TRUE(q_->Enqueue(TaskKind::kProcess, 1).ok());  // done: a new task
  EXPECT_EQ(*q_->Depth(), 1);
  auto again = LeaseOne(*q_, "w", milliseconds(1000));
  ASSERT_TRUE(again.has_value());
  EXPECT_NE(again->id, t->id);
  EXPECT_EQ(again->attempt, 1);
}

TEST_P(SqlTaskQueueTest, EnqueueAllAddsEachOnceInOrder) {
  ASSERT_TRUE(q_->Enqueue(TaskKind::kProcess, 2).ok());
  ASSERT_TRUE(q_->EnqueueAll({TaskRequest{TaskKind::kProcess, 1, "p", 0},
                              TaskRequest{TaskKind::kProcess, 2, "p", 0},
                              TaskRequest{TaskKind::kProcess, 3, "p", 0},
                              TaskRequest{TaskKind::kProcess, 1, "p", 0}})
                  .ok());
  EXPECT_EQ(*q_->Depth(), 3);  // 2 was live already; 1 twice is one task
  std::vector<int64_t> order;
  while (auto t = LeaseOne(*q_, "w", milliseconds(1000))) order.push_back(t->batch_id);
  EXPECT_EQ(order, (std::vector<int64_t>{2, 1, 3}));
  EXPECT_TRUE(q_->EnqueueAll({}).ok());
}

TEST_P(SqlTaskQueueTest, LeasesOldestFirst) {
  for (int64_t b : {30, 10, 20}) ASSERT_TRUE(q_->Enqueue(TaskKind::kProcess, b).ok());
  std::vector<int64_t> order;
  while (auto t = LeaseOne(*q_, "w", milliseconds(1000))) order.push_back(t->batch_id);
  EXPECT_EQ(order, (std::vector<int64_t>{30, 10, 20}));
}

LeaseFilter Only(std::vector<std::string> pipelines) {
  LeaseFilter f;
  f.pipelines = std::move(pipelines);
  return f;
}

// Issue 9: `sluice ingest -p other` took any task in the shared queue,
// including another pipeline's batch that kills the process.
TEST_P(SqlTaskQueueTest, LeaseFilterTakesOnlyThosePipelines) {
  ASSERT_TRUE(q_->Enqueue(TaskRequest{TaskKind::kProcess, 1, "poison", 0}).ok());
  ASSERT_TRUE(q_->Enqueue(TaskRequest{TaskKind::kProcess, 2, "orders", 0}).ok());
  ASSERT_TRUE(q_->Enqueue(TaskRequest{TaskKind::kProcess, 3, "events", 0}).ok());
  LeaseFilter only_orders = Only({"orders"});
  auto t = q_->Lease("w", milliseconds(1000), only_orders);
  ASSERT_TRUE(t.ok() && t->has_value());
  EXPECT_EQ((*t)->batch_id, 2);
  EXPECT_EQ((*t)->pipeline, "orders");
  auto none = q_->Lease("w", milliseconds(1000), only_orders);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  auto two = q_->Lease("w", milliseconds(1000), Only({"events", "nope"}));
  ASSERT_TRUE(two.ok() && two->has_value());
  EXPECT_EQ((*two)->batch_id, 3);
  auto any = LeaseOne(*q_, "w", milliseconds(1000));
  ASSERT_TRUE(any.has_value());
  EXPECT_EQ(any->batch_id, 1);
}

// A load task and a process task of one batch are two tasks; a lease takes
// one kind only, so a processing worker never runs a load nor a loader a batch.
TEST_P(SqlTaskQueueTest, ALeaseTakesOneKindOnly) {
  ASSERT_TRUE(q_->Enqueue(TaskRequest{TaskKind::kLoad, 1, "orders", 0}).ok());
  ASSERT_TRUE(q_->Enqueue(TaskRequest{TaskKind::kProcess, 1, "orders", 0}).ok());
  ASSERT_TRUE(q_->Enqueue(TaskRequest{TaskKind::kLoad, 1, "orders", 0}).ok());  // no-op
  EXPECT_EQ(*q_->Depth(), 2);
  LeaseFilter loads;
  loads.kind = TaskKind::kLoad;
  auto l = q_->Lease("loader", milliseconds(1000), loads);
  ASSERT_TRUE(l.ok() && l->has_value());
  EXPECT_EQ((*l)->kind, TaskKind::kLoad);
  EXPECT_EQ((*l)->batch_id, 1);
  EXPECT_FALSE(q_->Lease("loader", milliseconds(1000), loads)->has_value());
  auto p = LeaseOne(*q_, "w", milliseconds(1000));
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->kind, TaskKind::kProcess);
  EXPECT_FALSE(LeaseOne(*q_, "w", milliseconds(1000)).has_value());
}

// Backpressure holds one pipeline's tasks back; the others' flow.
TEST_P(SqlTaskQueueTest, LeaseFilterCanHoldPipelinesBack) {
  ASSERT_TRUE(q_->Enqueue(TaskRequest{TaskKind::kProcess, 1, "orders", 0}).ok());
  ASSERT_TRUE(q_->Enqueue(TaskRequest{TaskKind::kProcess, 2, "events", 0}).ok());
  ASSERT_TRUE(q_->Enqueue(TaskRequest{TaskKind::kProcess, 3, "audit", 0}).ok());
  LeaseFilter held;
  held.except_pipelines = {"orders", "audit"};
  auto t = q_->Lease("w", milliseconds(1000), held);
  ASSERT_TRUE(t.ok() && t->has_value());
  EXPECT_EQ((*t)->batch_id, 2);
  EXPECT_FALSE(q_->Lease("w", milliseconds(1000), held)->has_value());
  LeaseFilter both = Only({"orders", "audit"});
  both.except_pipelines = {"orders"};
  auto a = q_->Lease("w", milliseconds(1000), both);
  ASSERT_TRUE(a.ok() && a->has_value());
  EXPECT_EQ((*a)->batch_id, 3);
}

TEST_P(SqlTaskQueueTest, NotBeforeDelaysDelivery) {
  const int64_t now = now_.load();
  ASSERT_TRUE(q_->Enqueue(TaskRequest{TaskKind::kProcess, 1, "orders", now + 5000}).ok());
  EXPECT_FALSE(LeaseOne(*q_, "w", milliseconds(1000)).has_value());
  AdvanceMs(5);
  auto t = LeaseOne(*q_, "w", milliseconds(1000));
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->batch_id, 1);
}

TEST_P(SqlTaskQueueTest, ExpiredLeaseIsRedeliveredAndOldHolderAborted) {
  ASSERT_TRUE(q_->Enqueue(TaskKind::kProcess, 5).ok());
  auto first = LeaseOne(*q_, "w1", milliseconds(100));
  ASSERT_TRUE(first.has_value());
  AdvanceMs(100);  // exactly at expiry: still w1's
  EXPECT_FALSE(LeaseOne(*q_, "w2", milliseconds(100)).has_value());
  AdvanceMs(1);
  auto second = LeaseOne(*q_, "w2", milliseconds(100));
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->id, first->id);
  EXPECT_EQ(second->attempt, 2);
  EXPECT_EQ(q_->Renew(*first, milliseconds(100)).code(), StatusCode::kAborted);
  EXPECT_EQ(q_->Ack(*first).code(), StatusCode::kAborted);
  EXPECT_EQ(q_->Nack(*first, milliseconds(0)).code(), StatusCode::kAborted);
  EXPECT_EQ(*q_->Depth(), 1);
  ASSERT_TRUE(q_->Ack(*second).ok());
  EXPECT_EQ(*q_->Depth(), 0);
}

TEST_P(SqlTaskQueueTest, RenewKeepsTheLease) {
  ASSERT_TRUE(q_->Enqueue(TaskKind::kProcess, 5).ok());
  auto t = LeaseOne(*q_, "w1", milliseconds(100));
  ASSERT_TRUE(t.has_value());
  AdvanceMs(90);
  ASSERT_TRUE(q_->Renew(*t, milliseconds(100)).ok());
  AdvanceMs(90);  // past the first lease, inside the renewed one
  EXPECT_FALSE(LeaseOne(*q_, "w2", milliseconds(100)).has_value());
  ASSERT_TRUE(q_->Ack(*t).ok());
}

TEST_P(SqlTaskQueueTest, NackRedeliversAfterDelay) {
  ASSERT_TRUE(q_->Enqueue(TaskKind::kProcess, 5).ok());
  auto t = LeaseOne(*q_, "w1", milliseconds(1000));
  ASSERT_TRUE(t.has_value());
  ASSERT_TRUE(q_->Nack(*t, milliseconds(500)).ok());
  EXPECT_EQ(*q_->Depth(), 1);
  AdvanceMs(499);
  EXPECT_FALSE(LeaseOne(*q_, "w1", milliseconds(1000)).has_value());
  AdvanceMs(1);
  auto again = LeaseOne(*q_, "w2", milliseconds(1000));
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->attempt, 2);
  // The nacked lease is no longer ours.
  EXPECT_EQ(q_->Ack(*t).code(), StatusCode::kAborted);
  ASSERT_TRUE(q_->Ack(*again).ok());
}

// Stats (for /metrics): every kind always, counts that agree with DepthOf,
// and the oldest task's enqueue time kept through a nack.
TEST_P(SqlTaskQueueTest, StatsPerKind) {
  auto text = [](const std::vector<TaskKindStats>& v) {
    std::string out;
    for (const TaskKindStats& k : v) {
      out += std::string(TaskKindName(k.kind)) + ":" + std::to_string(k.tasks) + "/" +
             std::to_string(k.leased) + "@" + std::to_string(k.oldest_enqueued_us) + " ";
    }
    return out;
  };
  const int64_t t0 = now_.load();
  auto stats = q_->Stats();
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(text(*stats), "process:0/0@0 load:0/0@0 export:0/0@0 ");
  ASSERT_TRUE(q_->Enqueue(TaskKind::kProcess, 1).ok());
  AdvanceMs(10);
  ASSERT_TRUE(q_->Enqueue(TaskKind::kProcess, 2).ok());
  ASSERT_TRUE(q_->Enqueue(TaskKind::kLoad, 2).ok());
  ASSERT_TRUE(q_->Enqueue(TaskKind::kExport, 2).ok());  // an export's id, not a batch's
  auto t = LeaseOne(*q_, "w", milliseconds(1000));      // batch 1's, the oldest
  ASSERT_TRUE(t.has_value());
  const std::string exports = "export:1/0@" + std::to_string(t0 + 10'000) + " ";
  EXPECT_EQ(text(*q_->Stats()), "process:2/1@" + std::to_string(t0) + " load:1/0@" +
                                    std::to_string(t0 + 10'000) + " " + exports);
  EXPECT_EQ((*q_->Stats())[0].tasks, *q_->DepthOf(TaskKind::kProcess));
  // A retried task keeps its age.
  AdvanceMs(10);
  ASSERT_TRUE(q_->Nack(*t, milliseconds(100)).ok());
  EXPECT_EQ(text(*q_->Stats()), "process:2/0@" + std::to_string(t0) + " load:1/0@" +
                                    std::to_string(t0 + 10'000) + " " + exports);
  AdvanceMs(100);
  auto again = LeaseOne(*q_, "w", milliseconds(1000));
  ASSERT_TRUE(again.has_value());
  ASSERT_EQ(again->batch_id, 1);
  ASSERT_TRUE(q_->Ack(*again).ok());
  EXPECT_EQ(text(*q_->Stats()), "process:1/0@" + std::to_string(t0 + 10'000) + " load:1/0@" +
                                    std::to_string(t0 + 10'000) + " " + exports);
}

TEST_P(SqlTaskQueueTest, TwoQueuesOnOneFileShareTasks) {
  auto other = Open();
  ASSERT_NE(other, nullptr);
  ASSERT_TRUE(q_->Enqueue(TaskKind::kProcess, 1).ok());
  auto t = LeaseOne(*other, "w", milliseconds(1000));
  ASSERT_TRUE(t.has_value());
  EXPECT_FALSE(LeaseOne(*q_, "w", milliseconds(1000)).has_value());
  ASSERT_TRUE(q_->Ack(*t).ok());  // any connection may ack a live lease
  EXPECT_EQ(*other->Depth(), 0);
}

// Real clock, real threads, two connections: every task is delivered exactly
// once while leases are live, and all of them get done.
TEST(SqlTaskQueueConcurrencyTest, ConcurrentLeasesNeverShareALiveTask) {
  QueueTempDir dir;
  const std::string path = dir.File("catalog.db");
  std::vector<std::unique_ptr<TaskQueue>> queues;
  for (int i = 0; i < 2; ++i) {
    auto q = OpenSqliteTaskQueue(path);
    ASSERT_TRUE(q.ok()) << q.status().ToString();
    queues.push_back(std::move(q).value());
  }
  constexpr int kTasks = 120;
  for (int i = 0; i < kTasks; ++i) ASSERT_TRUE(queues[0]->Enqueue(TaskKind::kProcess, i).ok());

  std::mutex mu;
  std::map<int64_t, int> deliveries;
  std::set<int64_t> in_flight;
  std::atomic<int> errors{0}, overlaps{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < 6; ++w) {
    threads.emplace_back([&, w] {
      TaskQueue& q = *queues[w % 2];
      std::string name = "worker-" + std::to_string(w);
      while (true) {
        auto t = q.Lease(name, milliseconds(30'000));
        if (!t.ok()) {
          ++errors;
          return;
        }
        if (!t->has_value()) return;
        int64_t b = (*t)->batch_id;
        {
          std::lock_guard lock(mu);
          if (!in_flight.insert(b).second) ++overlaps;
          ++deliveries[b];
        }
        std::this_thread::yield();
        {
          std::lock_guard lock(mu);
          in_flight.erase(b);
        }
        if (!q.Ack(**t).ok()) ++errors;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(overlaps.load(), 0);
  ASSERT_EQ(deliveries.size(), static_cast<size_t>(kTasks));
  for (const auto& [b, n] : deliveries) EXPECT_EQ(n, 1) << "batch " << b;
  EXPECT_EQ(*queues[0]->Depth(), 0);
}

// Real clock: a worker that stops renewing loses the task to another after a
// short lease.
TEST(SqlTaskQueueConcurrencyTest, ShortLeaseExpiresOnTheRealClock) {
  QueueTempDir dir;
  auto q = OpenSqliteTaskQueue(dir.File("catalog.db"));
  ASSERT_TRUE(q.ok());
  ASSERT_TRUE((*q)->Enqueue(TaskKind::kProcess, 1).ok());
  auto first = (*q)->Lease("stuck", milliseconds(50));
  ASSERT_TRUE(first.ok() && first->has_value());
  auto none = (*q)->Lease("other", milliseconds(50));
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  std::this_thread::sleep_for(milliseconds(80));
  auto second = (*q)->Lease("other", milliseconds(5000));
  ASSERT_TRUE(second.ok() && second->has_value());
  EXPECT_EQ((*second)->attempt, 2);
  EXPECT_EQ((*q)->Ack(**first).code(), StatusCode::kAborted);
  EXPECT_TRUE((*q)->Ack(**second).ok());
}

TEST(TaskKindTest, NamesRoundTrip) {
  EXPECT_EQ(TaskKindName(TaskKind::kProcess), "process");
  EXPECT_EQ(*ParseTaskKind("process"), TaskKind::kProcess);
  EXPECT_EQ(TaskKindName(TaskKind::kLoad), "load");
  EXPECT_EQ(*ParseTaskKind("load"), TaskKind::kLoad);
  EXPECT_FALSE(ParseTaskKind("reload").ok());
}

INSTANTIATE_TEST_SUITE_P(Backends, SqlTaskQueueTest, testing::AllBackends(), testing::BackendName);

}  // namespace
}  // namespace sluice
