// SqliteCatalog: fenced attempts (StartAttempt, CheckAttempt, MarkCommitting,
// FailAttempt), retry state and poison batches. Issue 9: two workers whose
// leases overlapped could both believe they ran the same attempt, a stale one
// could mark a live batch failed, and a batch that killed its process was
// retried forever.
#include <gtest/gtest.h>

#include <string>

#include "catalog/sql_catalog.h"
#include "catalog_test_util.h"
#include "sql/sqlite_db.h"

namespace sluice {
namespace {

using ::sluice::testing::CatalogTempDir;
using ::sluice::testing::ManualClock;
using S = BatchState;
using StartOutcome = StartAttemptResult::Outcome;

class AttemptsTest : public ::testing::TestWithParam<testing::SqlBackend> {
 protected:
  testing::TestDatabase db_{GetParam()};
  void SetUp() override {
    SqliteCatalogOptions opts;
    opts.now_us = [this] { return clock_.Now(); };
    auto c = testing::OpenCatalogOn(db_, opts.now_us);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    cat_ = std::move(c).value();
    ASSERT_TRUE(cat_->DeployPipeline("orders", "spec", "orders.yaml").ok());
  }

  int64_t QueuedBatch() {
    std::string n = std::to_string(next_++);
    auto r = cat_->RegisterBatch({"orders", "landing/orders/" + n + ".csv", "", "sha" + n, 5, ""});
    EXPECT_TRUE(r.ok());
    EXPECT_TRUE(cat_->TransitionBatch(r->batch_id, S::kQueued, "").ok());
    return r->batch_id;
  }

  StartAttemptResult Start(int64_t id, int max_attempts = 0, int64_t lease_expires_us = 0) {
    auto r = cat_->StartAttempt({id, lease_expires_us, max_attempts});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : StartAttemptResult{};
  }

  BatchInfo Batch(int64_t id) { return *cat_->GetBatch(id); }

  ManualClock clock_;
  CatalogTempDir dir_;
  std::unique_ptr<Catalog> cat_;
  int next_ = 0;
};

TEST_P(AttemptsTest, StartMovesToProcessingAndReturnsTheToken) {
  int64_t id = QueuedBatch();
  StartAttemptResult r = Start(id);
  EXPECT_EQ(r.outcome, StartOutcome::kStarted);
  EXPECT_EQ(r.token.batch_id, id);
  EXPECT_EQ(r.token.attempt, 1);
  EXPECT_EQ(r.batch.state, S::kProcessing);
  EXPECT_EQ(Batch(id).attempts, 1);
  EXPECT_EQ(Batch(id).tries, 1);
  EXPECT_TRUE(cat_->CheckAttempt(r.token).ok());
}

// Two workers whose leases overlap get different attempts, and every write of
// the older one is refused as fenced while the newer one goes on.
TEST_P(AttemptsTest, OverlappingAttemptsAreFenced) {
  int64_t id = QueuedBatch();
  AttemptToken old_token = Start(id).token;
  AttemptToken new_token = Start(id).token;  // the lease expired; another worker took over
  ASSERT_NE(old_token.attempt, new_token.attempt);

  EXPECT_EQ(cat_->CheckAttempt(old_token).code(), StatusCode::kAborted);
  EXPECT_EQ(cat_->MarkCommitting(old_token).code(), StatusCode::kAborted);
  // A stale worker cannot mark the live batch failed, nor queue a retry.
  Status failed = cat_->FailAttempt(old_token, {ErrorClass::kPermanent, "stale says boom", 0});
  EXPECT_EQ(failed.code(), StatusCode::kAborted) << failed.ToString();
  EXPECT_EQ(ClassifyError(failed), ErrorClass::kFenced);
  EXPECT_EQ(cat_->FailAttempt(old_token, {ErrorClass::kTransient, "x", 0}).code(),
            StatusCode::kAborted);
  EXPECT_EQ(Batch(id).state, S::kProcessing);
  EXPECT_EQ(Batch(id).reason, "");

  // The live attempt commits; the stale one's commit is refused afterwards too.
  ASSERT_TRUE(cat_->MarkCommitting(new_token).ok());
  CommitRequest stale;
  stale.batch_id = id;
  stale.attempt = old_token.attempt;
  EXPECT_EQ(cat_->CommitBatch(stale).code(), StatusCode::kAborted);
  CommitRequest live = stale;
  live.attempt = new_token.attempt;
  ASSERT_TRUE(cat_->CommitBatch(live).ok());
  EXPECT_EQ(Batch(id).state, S::kCommitted);
  EXPECT_EQ(cat_->CheckAttempt(new_token).code(), StatusCode::kAborted);  // finished
}

TEST_P(AttemptsTest, ExpiredLeaseCannotStartAnAttempt) {
  int64_t id = QueuedBatch();
  clock_.Set(1'000'000);
  auto r = cat_->StartAttempt({id, 500'000, 0});
  EXPECT_EQ(r.status().code(), StatusCode::kAborted) << r.status().ToString();
  EXPECT_EQ(Batch(id).state, S::kQueued);
  EXPECT_EQ(Batch(id).attempts, 0);
  EXPECT_EQ(Start(id, 0, 5'000'000).outcome, StartOutcome::kStarted);
}

TEST_P(AttemptsTest, TransientFailureQueuesARetryThatWaitsUntilDue) {
  int64_t id = QueuedBatch();
  AttemptToken t = Start(id).token;
  clock_.Set(10'000'000);
  ASSERT_TRUE(
      cat_->FailAttempt(t, {ErrorClass::kTransient, "UNAVAILABLE: disk full", 12'000'000}).ok());
  BatchInfo b = Batch(id);
  EXPECT_EQ(b.state, S::kQueued);
  EXPECT_EQ(b.reason, "");
  EXPECT_EQ(b.next_attempt_us, 12'000'000);
  EXPECT_EQ(b.last_error, "UNAVAILABLE: disk full");
  EXPECT_EQ(b.last_error_class, "transient");
  // A retry is a new attempt: the old token is no longer valid.
  EXPECT_EQ(cat_->CheckAttempt(t).code(), StatusCode::kAborted);

  StartAttemptResult early = Start(id);
  EXPECT_EQ(early.outcome, StartOutcome::kNotDue);
  EXPECT_EQ(Batch(id).attempts, 1);
  clock_.Set(12'000'001);
  StartAttemptResult due = Start(id);
  EXPECT_EQ(due.outcome, StartOutcome::kStarted);
  EXPECT_EQ(due.token.attempt, 2);
  EXPECT_EQ(Batch(id).tries, 2);
  EXPECT_EQ(Batch(id).next_attempt_us, 0);
}

TEST_P(AttemptsTest, PermanentFailureEndsTheBatchUntilReplay) {
  int64_t id = QueuedBatch();
  AttemptToken t = Start(id).token;
  ASSERT_TRUE(cat_->FailAttempt(t, {ErrorClass::kPermanent, "INVALID_ARGUMENT: bad spec", 0}).ok());
  EXPECT_EQ(Batch(id).state, S::kFailed);
  EXPECT_EQ(Batch(id).reason, "INVALID_ARGUMENT: bad spec");
  EXPECT_EQ(Batch(id).last_error_class, "permanent");
  EXPECT_EQ(Start(id).outcome, StartOutcome::kFinished);
  EXPECT_EQ(Batch(id).attempts, 1);
  ASSERT_TRUE(cat_->ReplayBatch(id, 0).ok());
  EXPECT_EQ(Batch(id).tries, 0);
  StartAttemptResult again = Start(id, 1);
  EXPECT_EQ(again.outcome, StartOutcome::kStarted);
  EXPECT_EQ(again.token.attempt, 2);  // attempts keep counting: staging paths never repeat
}

TEST_P(AttemptsTest, AFencedFailureIsNotRecorded) {
  int64_t id = QueuedBatch();
  AttemptToken t = Start(id).token;
  EXPECT_EQ(cat_->FailAttempt(t, {ErrorClass::kFenced, "lost lease", 0}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(Batch(id).state, S::kProcessing);
}

// Issue 9, item 5: a batch whose processing kills the process never reports
// back; each restart starts another attempt. Those attempts count, and past
// max_attempts the batch fails as poison with the last known cause.
TEST_P(AttemptsTest, AttemptsThatNeverFinishMakeAPoisonBatch) {
  int64_t id = QueuedBatch();
  for (int i = 1; i <= 3; ++i) {
    StartAttemptResult r = Start(id, 3);
    ASSERT_EQ(r.outcome, StartOutcome::kStarted) << i;
    EXPECT_EQ(r.token.attempt, i);
    // ... and the process dies here: no FailAttempt, no commit.
  }
  EXPECT_EQ(Batch(id).last_error,
            "attempt 2 did not finish (processing when its process died or "
            "lost its lease)");
  StartAttemptResult r = Start(id, 3);
  EXPECT_EQ(r.outcome, StartOutcome::kPoisoned);
  BatchInfo b = Batch(id);
  EXPECT_EQ(b.state, S::kFailed);
  EXPECT_EQ(b.attempts, 3);
  EXPECT_EQ(b.last_error_class, "permanent");
  EXPECT_NE(b.reason.find("poison batch: gave up after 3 attempt(s)"), std::string::npos)
      << b.reason;
  EXPECT_NE(b.reason.find("attempt 3 did not finish"), std::string::npos) << b.reason;
  EXPECT_EQ(Start(id, 3).outcome, StartOutcome::kFinished);
}

TEST_P(AttemptsTest, TransientFailuresCountTowardsMaxAttempts) {
  int64_t id = QueuedBatch();
  for (int i = 1; i <= 2; ++i) {
    clock_.Set(i * 100'000'000LL);
    AttemptToken t = Start(id, 2).token;
    ASSERT_EQ(t.attempt, i);
    ASSERT_TRUE(cat_->FailAttempt(t, {ErrorClass::kTransient, "UNAVAILABLE: busy", 0}).ok());
  }
  StartAttemptResult r = Start(id, 2);
  EXPECT_EQ(r.outcome, StartOutcome::kPoisoned);
  EXPECT_NE(Batch(id).reason.find("last error: UNAVAILABLE: busy"), std::string::npos)
      << Batch(id).reason;
}

TEST_P(AttemptsTest, TerminalBatchesAreFinished) {
  int64_t id = QueuedBatch();
  AttemptToken t = Start(id).token;
  ASSERT_TRUE(cat_->MarkCommitting(t).ok());
  EXPECT_EQ(cat_->MarkCommitting(t).code(), StatusCode::kFailedPrecondition);
  CommitRequest req;
  req.batch_id = id;
  req.attempt = t.attempt;
  ASSERT_TRUE(cat_->CommitBatch(req).ok());
  StartAttemptResult r = Start(id);
  EXPECT_EQ(r.outcome, StartOutcome::kFinished);
  EXPECT_EQ(r.batch.state, S::kCommitted);
  EXPECT_EQ(Batch(id).attempts, 1);
  EXPECT_EQ(cat_->StartAttempt({999, 0, 0}).status().code(), StatusCode::kNotFound);
}

// Issue 9, item 7: an unknown state read from the catalog was taken as landed.
TEST_P(AttemptsTest, UnknownStateInTheCatalogIsAnError) {
  int64_t id = QueuedBatch();
  {
    auto db = db_.Open();
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(
        (*db)
            ->Exec("UPDATE batches SET state = 'teleported' WHERE id = " + std::to_string(id))
            .ok());
  }
  auto b = cat_->GetBatch(id);
  EXPECT_EQ(b.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(b.status().message().find("unknown state 'teleported'"), std::string::npos)
      << b.status().ToString();
  EXPECT_EQ(cat_->StartAttempt({id, 0, 0}).status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(cat_->ListBatches(std::nullopt, "", 0).status().code(), StatusCode::kDataLoss);
}

INSTANTIATE_TEST_SUITE_P(Backends, AttemptsTest, testing::AllBackends(), testing::BackendName);

}  // namespace
}  // namespace sluice
