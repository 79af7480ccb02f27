// SqlCatalog deadlines and freshness (architecture 8.3), on both backends.
// (The queue's earliest-deadline-first leasing: engine/deadlines_test.cc.)
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "catalog_test_util.h"

namespace sluice {
namespace {

constexpr int64_t kSecond = 1'000'000;

class DeadlinesTest : public ::testing::TestWithParam<testing::SqlBackend> {
 protected:
  void SetUp() override {
    auto c = testing::OpenCatalogOn(db_, [this] { return clock_.Now(); });
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    cat_ = std::move(*c);
    for (const char* p : {"fast", "slow", "free"}) {
      ASSERT_TRUE(cat_->DeployPipeline(p, std::string("spec ") + p, "/p.yaml").ok());
    }
    ASSERT_TRUE(cat_->SetPipelineSla(PipelineSla{"fast", 10 * kSecond, 0, 0}).ok());
    ASSERT_TRUE(cat_->SetPipelineSla(PipelineSla{"slow", 3600 * kSecond, 60 * kSecond, 0}).ok());
  }

  int64_t Register(const std::string& pipeline) {
    return testing::RegisterNewBatch(*cat_, pipeline);
  }

  BatchInfo Get(int64_t id) {
    auto b = cat_->GetBatch(id);
    EXPECT_TRUE(b.ok()) << b.status().ToString();
    return b.ok() ? *b : BatchInfo{};
  }

  // Committed, timed `seconds`.
  void Commit(int64_t id, double seconds = 1) {
    BatchStats stats;
    stats.seconds = seconds;
    Status st = testing::CommitLandedBatch(*cat_, id, stats);
    ASSERT_TRUE(st.ok()) << st.ToString();
  }

  testing::TestDatabase db_{GetParam()};
  testing::ManualClock clock_;
  std::unique_ptr<Catalog> cat_;
};

TEST_P(DeadlinesTest, ABatchTakesItsPipelinesDeadlineWhenRegistered) {
  const int64_t a = Register("fast");
  const BatchInfo b = Get(a);
  EXPECT_EQ(b.deadline_us, b.created_us + 10 * kSecond);
  EXPECT_EQ(Get(Register("free")).deadline_us, 0);
  // A new deadline applies to later batches only.
  ASSERT_TRUE(cat_->SetPipelineSla(PipelineSla{"fast", 20 * kSecond, 0, 0}).ok());
  EXPECT_EQ(Get(a).deadline_us, b.created_us + 10 * kSecond);
  const BatchInfo later = Get(Register("fast"));
  EXPECT_EQ(later.deadline_us, later.created_us + 20 * kSecond);
  auto slas = cat_->ListPipelineSlas();
  ASSERT_TRUE(slas.ok());
  ASSERT_EQ(slas->size(), 2u);
  EXPECT_EQ((*slas)[0].pipeline, "fast");
  EXPECT_EQ((*slas)[0].deadline_us, 20 * kSecond);
  EXPECT_EQ((*slas)[1].expect_every_us, 60 * kSecond);
}

TEST_P(DeadlinesTest, SettlesEachBatchOnceMetOrMissed) {
  const int64_t in_time = Register("fast");
  const int64_t late = Register("fast");
  const int64_t waiting = Register("fast");
  const int64_t failed = Register("fast");
  const int64_t no_deadline = Register("free");
  Commit(in_time);
  ASSERT_TRUE(testing::MoveBatch(*cat_, failed, BatchState::kFailed, "bad").ok());
  auto open = cat_->OpenDeadlineBatches(100);
  ASSERT_TRUE(open.ok());
  EXPECT_EQ(testing::BatchIds(*open),
            (std::vector<int64_t>{late, waiting}));  // landed, by deadline

  auto settled = cat_->SettleDeadlines();
  ASSERT_TRUE(settled.ok()) << settled.status().ToString();
  EXPECT_TRUE(settled->empty());  // nothing past its deadline yet
  EXPECT_EQ(Get(in_time).missed_us, -1);

  clock_.Advance(11 * kSecond);
  Commit(late);
  settled = cat_->SettleDeadlines();
  ASSERT_TRUE(settled.ok());
  EXPECT_EQ(testing::BatchIds(*settled), (std::vector<int64_t>{late, waiting, failed}));
  EXPECT_GT(Get(waiting).missed_us, 0);
  EXPECT_EQ(Get(no_deadline).missed_us, 0);
  // Each once.
  EXPECT_TRUE(cat_->SettleDeadlines()->empty());
  EXPECT_TRUE(cat_->OpenDeadlineBatches(100)->empty());
  auto counts = cat_->CountDeadlines(0);
  ASSERT_TRUE(counts.ok());
  ASSERT_EQ(counts->size(), 1u);
  EXPECT_EQ((*counts)[0].pipeline, "fast");
  EXPECT_EQ((*counts)[0].missed, 3);
  EXPECT_EQ((*counts)[0].at_risk, 0);
  // Misses before the time asked for are not counted (nor is a pipeline
  // with nothing at risk and no miss since then listed).
  EXPECT_TRUE(cat_->CountDeadlines(clock_.Now() + kSecond)->empty());
}

TEST_P(DeadlinesTest, AtRiskIsMarkedOnceAndCountedWhileOpen) {
  const int64_t a = Register("fast");
  const int64_t b = Register("fast");
  auto marked = cat_->MarkAtRisk({a, b});
  ASSERT_TRUE(marked.ok()) << marked.status().ToString();
  EXPECT_EQ(*marked, (std::vector<int64_t>{a, b}));
  EXPECT_TRUE(cat_->MarkAtRisk({a})->empty());
  EXPECT_GT(Get(a).at_risk_us, 0);
  EXPECT_EQ((*cat_->CountDeadlines(0))[0].at_risk, 2);
  Commit(a);  // in time: no longer open, not at risk now
  EXPECT_EQ((*cat_->CountDeadlines(0))[0].at_risk, 1);
  EXPECT_TRUE(cat_->MarkAtRisk({Register("free")})->empty());  // no deadline
}

TEST_P(DeadlinesTest, StaleIsRaisedOncePerArrivalAndCleared) {
  EXPECT_EQ(*cat_->LastArrival("slow"), 0);
  auto first = cat_->RaiseStale("slow", 0);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(*first);
  EXPECT_FALSE(*cat_->RaiseStale("slow", 0));
  EXPECT_GT((*cat_->ListPipelineSlas())[1].stale_since_us, 0);
  const int64_t id = Register("slow");
  const int64_t arrived = Get(id).created_us;
  EXPECT_EQ(*cat_->LastArrival("slow"), arrived);
  ASSERT_TRUE(cat_->ClearStale("slow").ok());
  EXPECT_EQ((*cat_->ListPipelineSlas())[1].stale_since_us, 0);
  EXPECT_TRUE(*cat_->RaiseStale("slow", arrived));  // a new episode
  EXPECT_FALSE(*cat_->RaiseStale("slow", arrived));
  // The SLA can change without losing the mark.
  ASSERT_TRUE(cat_->SetPipelineSla(PipelineSla{"slow", 0, 30 * kSecond, 0}).ok());
  EXPECT_FALSE(*cat_->RaiseStale("slow", arrived));
}

TEST_P(DeadlinesTest, ThroughputOfTheLatestCommittedBatches) {
  EXPECT_EQ(cat_->RecentThroughput("fast", 10)->batches, 0);
  for (int i = 0; i < 4; ++i) Commit(Register("fast"), 2.0);
  Register("fast");  // not committed: not counted
  auto t = cat_->RecentThroughput("fast", 3);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->batches, 3);
  EXPECT_EQ(t->bytes, 3000);
  EXPECT_DOUBLE_EQ(t->seconds, 6.0);
}

INSTANTIATE_TEST_SUITE_P(Backends, DeadlinesTest, testing::AllBackends(), testing::BackendName);

}  // namespace
}  // namespace sluice
