// DeadlineMonitor (engine/deadlines.h) over a real catalog with a manual
// clock: service levels recorded from the specs, at-risk estimates from
// measured throughput over the workers, misses and staleness, each alerted
// once.
#include "engine/deadlines.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "../catalog/catalog_test_util.h"
#include "queue/sql_task_queue.h"

namespace sluice {
namespace {

constexpr int64_t kSecond = 1'000'000;

class DeadlineMonitorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = testing::OpenCatalogOn(db_, [this] { return clock_.Now(); });
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    cat_ = std::move(*c);
    ASSERT_TRUE(cat_->DeployPipeline("orders", "spec", "/orders.yaml").ok());
    ASSERT_TRUE(cat_->DeployPipeline("feed", "spec", "/feed.yaml").ok());
    orders_.name = "orders";
    orders_.deadline = std::chrono::seconds(10);
    feed_.name = "feed";
    feed_.expect_every = std::chrono::seconds(60);
  }

  std::unique_ptr<DeadlineMonitor> Monitor(int workers) {
    DeadlineMonitorOptions o;
    o.workers = workers;
    o.now_us = [this] { return clock_.Now(); };
    o.alert = [this](AlertEvent e) { alerts_.push_back(std::move(e)); };
    return std::make_unique<DeadlineMonitor>(*cat_, o);
  }

  DeadlineReport Check(DeadlineMonitor& m) {
    auto r = m.Check({orders_, feed_});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : DeadlineReport{};
  }

  int64_t Register(const std::string& pipeline, int64_t bytes) {
    return testing::RegisterNewBatch(*cat_, pipeline, bytes);
  }

  // A committed batch of `bytes` that took `seconds`: the throughput measure.
  void Committed(int64_t bytes, double seconds) {
    BatchStats stats;
    stats.seconds = seconds;
    Status st = testing::CommitLandedBatch(*cat_, Register("orders", bytes), stats);
    ASSERT_TRUE(st.ok()) << st.ToString();
  }

  std::vector<std::string> Kinds() const {
    std::vector<std::string> out;
    for (const AlertEvent& e : alerts_) out.push_back(e.kind + ":" + std::to_string(e.batch_id));
    return out;
  }

  testing::TestDatabase db_{testing::SqlBackend::kSqlite};
  testing::ManualClock clock_;
  std::unique_ptr<Catalog> cat_;
  PipelineSpec orders_, feed_;
  std::vector<AlertEvent> alerts_;
};

TEST_F(DeadlineMonitorTest, RecordsServiceLevelsThatNewBatchesTake) {
  auto m = Monitor(1);
  Check(*m);
  auto slas = cat_->ListPipelineSlas();
  ASSERT_TRUE(slas.ok());
  ASSERT_EQ(slas->size(), 2u);
  const BatchInfo b = *cat_->GetBatch(Register("orders", 10));
  EXPECT_EQ(b.deadline_us, b.created_us + 10 * kSecond);
  EXPECT_EQ(cat_->GetBatch(Register("feed", 10))->deadline_us, 0);
}

TEST_F(DeadlineMonitorTest, MarksAtRiskWhatTheBacklogPushesPastItsDeadline) {
  auto m = Monitor(1);
  Check(*m);  // records the deadline
  Committed(1000, 1.0);
  Committed(1000, 1.0);                    // 1000 bytes per second
  ASSERT_EQ(Check(*m).missed.size(), 0u);  // both in time
  alerts_.clear();
  std::vector<int64_t> ids;
  for (int i = 0; i < 12; ++i) ids.push_back(Register("orders", 1000));  // 1 s each
  DeadlineReport r = Check(*m);
  // One worker: batch k (from 0) is done k+1 s from now; its deadline is
  // 10 s after it landed, a moment before now: the 10th, 11th and 12th are
  // at risk.
  ASSERT_EQ(r.estimates.size(), 12u);
  EXPECT_EQ(r.at_risk, (std::vector<int64_t>{ids[9], ids[10], ids[11]}));
  EXPECT_EQ(Kinds(), (std::vector<std::string>{"at_risk:" + std::to_string(ids[9]),
                                               "at_risk:" + std::to_string(ids[10]),
                                               "at_risk:" + std::to_string(ids[11])}));
  EXPECT_GT(alerts_[0].estimate_us, alerts_[0].deadline_us);
  EXPECT_EQ(alerts_[0].pipeline, "orders");
  EXPECT_TRUE(Check(*m).at_risk.empty());  // once
  EXPECT_EQ((*cat_->CountDeadlines(0))[0].at_risk, 3);
  // Two workers would have made it: a second monitor with two marks none new.
  auto two = Monitor(2);
  EXPECT_TRUE(two->Check({orders_, feed_})->at_risk.empty());
}

TEST_F(DeadlineMonitorTest, NoThroughputMeasuredYetMeansNoEstimate) {
  auto m = Monitor(1);
  Check(*m);
  for (int i = 0; i < 50; ++i) Register("orders", 1 << 30);
  DeadlineReport r = Check(*m);
  EXPECT_TRUE(r.estimates.empty());
  EXPECT_TRUE(r.at_risk.empty());
}

TEST_F(DeadlineMonitorTest, MissesAreAlertedOnce) {
  auto m = Monitor(4);
  Check(*m);
  const int64_t a = Register("orders", 10);
  const int64_t b = Register("orders", 10);
  clock_.Advance(11 * kSecond);
  DeadlineReport r = Check(*m);
  EXPECT_EQ(r.missed, (std::vector<int64_t>{a, b}));
  ASSERT_EQ(alerts_.size(), 2u);
  EXPECT_EQ(alerts_[0].kind, "missed");
  EXPECT_NE(alerts_[0].message.find("was not committed by its deadline"), std::string::npos)
      << alerts_[0].message;
  EXPECT_TRUE(Check(*m).missed.empty());
  // Another monitor (a second server) does not alert them again.
  EXPECT_TRUE(Monitor(1)->Check({orders_, feed_})->missed.empty());
  EXPECT_EQ((*cat_->CountDeadlines(0))[0].missed, 2);
}

TEST_F(DeadlineMonitorTest, AStalePipelineIsAlertedOncePerSilence) {
  auto m = Monitor(1);
  EXPECT_TRUE(Check(*m).stale.empty());
  clock_.Advance(61 * kSecond);  // nothing ever arrived since the monitor started
  EXPECT_EQ(Check(*m).stale, std::vector<std::string>{"feed"});
  ASSERT_EQ(alerts_.size(), 1u);
  EXPECT_EQ(alerts_[0].kind, "stale");
  EXPECT_EQ(alerts_[0].last_batch_us, 0);
  EXPECT_EQ(alerts_[0].expect_every_us, 60 * kSecond);
  EXPECT_TRUE(Check(*m).stale.empty());
  EXPECT_GT((*cat_->ListPipelineSlas())[0].stale_since_us, 0);  // "feed" sorts first
  // A batch arrives: fresh again; silent for longer than expect_every: stale again.
  Register("feed", 10);
  EXPECT_TRUE(Check(*m).stale.empty());
  EXPECT_EQ((*cat_->ListPipelineSlas())[0].stale_since_us, 0);
  clock_.Advance(61 * kSecond);
  EXPECT_EQ(Check(*m).stale, std::vector<std::string>{"feed"});
  EXPECT_EQ(alerts_.size(), 2u);
}

// The queue on the catalog's database: process tasks by their batch's
// deadline (engine/deadlines.h), on both backends.
class QueueDeadlineTest : public ::testing::TestWithParam<testing::SqlBackend> {
 protected:
  void SetUp() override {
    auto c = testing::OpenCatalogOn(db_, [this] { return clock_.Now(); });
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    cat_ = std::move(*c);
    for (const char* p : {"fast", "slow", "free"}) {
      ASSERT_TRUE(cat_->DeployPipeline(p, std::string("spec ") + p, "/p.yaml").ok());
    }
    ASSERT_TRUE(cat_->SetPipelineSla(PipelineSla{"fast", 10 * kSecond, 0, 0}).ok());
    ASSERT_TRUE(cat_->SetPipelineSla(PipelineSla{"slow", 3600 * kSecond, 0, 0}).ok());
  }
  int64_t Register(const std::string& pipeline) {
    return testing::RegisterNewBatch(*cat_, pipeline);
  }
  BatchInfo Get(int64_t id) { return *cat_->GetBatch(id); }

  testing::TestDatabase db_{GetParam()};
  testing::ManualClock clock_;
  std::unique_ptr<Catalog> cat_;
};

// The queue takes process tasks by their batch's deadline; tasks of batches
// without one, or whose deadline is settled, come after, oldest first.
TEST_P(QueueDeadlineTest, TheQueueLeasesEarliestDeadlineFirst) {
  auto conn = db_.Open();
  ASSERT_TRUE(conn.ok());
  auto q = OpenSqlTaskQueue(std::move(*conn), [this] { return clock_.Now(); });
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  TaskQueue& queue = **q;
  const int64_t no_deadline = Register("free");
  const int64_t late_deadline = Register("slow");  // an hour
  const int64_t settled = Register("fast");
  ASSERT_TRUE(cat_->MarkAtRisk({settled}).ok());
  clock_.Advance(11 * kSecond);
  ASSERT_EQ(testing::BatchIds(*cat_->SettleDeadlines()), std::vector<int64_t>{settled});  // missed
  const int64_t early_deadline = Register("fast");  // 10 s from now
  for (int64_t id : {no_deadline, late_deadline, settled, early_deadline}) {
    ASSERT_TRUE(queue.Enqueue(TaskRequest{TaskKind::kProcess, id, Get(id).pipeline, 0}).ok());
  }
  std::vector<int64_t> order;
  for (int i = 0; i < 4; ++i) {
    auto t = queue.Lease("w", std::chrono::seconds(30));
    ASSERT_TRUE(t.ok() && t->has_value());
    order.push_back((*t)->batch_id);
  }
  EXPECT_EQ(order, (std::vector<int64_t>{early_deadline, late_deadline, no_deadline, settled}));
}

INSTANTIATE_TEST_SUITE_P(Backends, QueueDeadlineTest, testing::AllBackends(), testing::BackendName);

}  // namespace
}  // namespace sluice
