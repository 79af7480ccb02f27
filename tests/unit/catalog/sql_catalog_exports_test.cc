// SqlCatalog exports (POST /v1/exports): creation with idempotency keys,
// runs fenced by their attempt, retries and final failures, deletion, and
// the reconciliation list, on both backends.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "catalog_test_util.h"

namespace sluice {
namespace {

class ExportsTest : public ::testing::TestWithParam<testing::SqlBackend> {
 protected:
  void SetUp() override {
    auto c = testing::OpenCatalogOn(db_, [this] { return clock_.Now(); });
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    cat_ = std::move(*c);
  }

  static ExportRequest Request(const std::string& owner, const std::string& key = "") {
    ExportRequest r;
    r.table = "orders";
    r.columns = R"(["id","amount"])";
    r.where = "amount > 10";
    r.snapshot = 7;
    r.format = "parquet";
    r.limit = 500;
    r.owner = owner;
    r.idempotency_key = key;
    return r;
  }

  ExportJob Create(const ExportRequest& r) {
    auto c = cat_->CreateExport(r);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? c->job : ExportJob{};
  }

  testing::TestDatabase db_{GetParam()};
  testing::ManualClock clock_;
  std::unique_ptr<Catalog> cat_;
};

TEST_P(ExportsTest, CreateKeepsTheRequestAndQueuesIt) {
  ExportJob j = Create(Request("bi"));
  EXPECT_GT(j.id, 0);
  EXPECT_EQ(j.state, ExportState::kQueued);
  EXPECT_EQ(j.attempts, 0);
  EXPECT_GT(j.created_us, 0);
  auto got = cat_->GetExport(j.id);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->request.table, "orders");
  EXPECT_EQ(got->request.columns, R"(["id","amount"])");
  EXPECT_EQ(got->request.where, "amount > 10");
  EXPECT_EQ(got->request.snapshot, 7);
  EXPECT_EQ(got->request.format, "parquet");
  EXPECT_EQ(got->request.limit, 500);
  EXPECT_EQ(got->request.owner, "bi");
  EXPECT_EQ(cat_->GetExport(j.id + 100).status().code(), StatusCode::kNotFound);
  auto open = cat_->UnfinishedExports();
  ASSERT_TRUE(open.ok());
  EXPECT_EQ(*open, std::vector<int64_t>{j.id});
}

TEST_P(ExportsTest, AnIdempotencyKeyNamesOneExportPerOwner) {
  auto first = cat_->CreateExport(Request("bi", "k1"));
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(first->created);
  auto again = cat_->CreateExport(Request("bi", "k1"));
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->job.id, first->job.id);
  // Another owner's key, another key, or none: new exports.
  auto other_owner = cat_->CreateExport(Request("ops", "k1"));
  auto other_key = cat_->CreateExport(Request("bi", "k2"));
  auto no_key_1 = cat_->CreateExport(Request("bi"));
  auto no_key_2 = cat_->CreateExport(Request("bi"));
  for (auto* c : {&other_owner, &other_key, &no_key_1, &no_key_2}) {
    ASSERT_TRUE(c->ok()) << c->status().ToString();
    EXPECT_TRUE((*c)->created);
  }
  EXPECT_NE(no_key_1->job.id, no_key_2->job.id);
}

TEST_P(ExportsTest, OnlyTheLatestRunFinishes) {
  ExportJob j = Create(Request("bi"));
  auto run1 = cat_->StartExport(j.id);
  ASSERT_TRUE(run1.ok()) << run1.status().ToString();
  EXPECT_EQ(run1->state, ExportState::kRunning);
  EXPECT_EQ(run1->attempts, 1);
  // Its lease expired: a second run starts; the first can no longer end it.
  auto run2 = cat_->StartExport(j.id);
  ASSERT_TRUE(run2.ok());
  EXPECT_EQ(run2->attempts, 2);
  EXPECT_EQ(cat_->FinishExport(j.id, 1, "exports/1/1.parquet", 3, 30, "aa").code(),
            StatusCode::kAborted);
  EXPECT_EQ(cat_->FailExport(j.id, 1, "late", true).code(), StatusCode::kAborted);
  ASSERT_TRUE(cat_->FinishExport(j.id, 2, "exports/1/2.parquet", 4, 40, "bb").ok());
  auto done = cat_->GetExport(j.id);
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->state, ExportState::kDone);
  EXPECT_EQ(done->result_key, "exports/1/2.parquet");
  EXPECT_EQ(done->rows, 4);
  EXPECT_EQ(done->bytes, 40);
  EXPECT_EQ(done->sha256, "bb");
  EXPECT_GT(done->finished_us, done->started_us);
  // A done export starts no more runs and is no longer unfinished.
  auto after = cat_->StartExport(j.id);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->state, ExportState::kDone);
  EXPECT_EQ(after->attempts, 2);
  EXPECT_EQ(cat_->FinishExport(j.id, 2, "x", 0, 0, "").code(), StatusCode::kAborted);
  EXPECT_TRUE(cat_->UnfinishedExports()->empty());
}

TEST_P(ExportsTest, ATransientFailureKeepsItRunningAFinalOneEndsIt) {
  ExportJob j = Create(Request("bi"));
  ASSERT_TRUE(cat_->StartExport(j.id).ok());
  ASSERT_TRUE(cat_->FailExport(j.id, 1, "UNAVAILABLE: store busy", false).ok());
  auto retry = cat_->GetExport(j.id);
  ASSERT_TRUE(retry.ok());
  EXPECT_EQ(retry->state, ExportState::kRunning);
  EXPECT_EQ(retry->error, "UNAVAILABLE: store busy");
  EXPECT_EQ(*cat_->UnfinishedExports(), std::vector<int64_t>{j.id});
  ASSERT_TRUE(cat_->StartExport(j.id).ok());
  ASSERT_TRUE(cat_->FailExport(j.id, 2, "DATA_LOSS: file gone", true).ok());
  auto failed = cat_->GetExport(j.id);
  ASSERT_TRUE(failed.ok());
  EXPECT_EQ(failed->state, ExportState::kFailed);
  EXPECT_EQ(failed->error, "DATA_LOSS: file gone");
  EXPECT_GT(failed->finished_us, 0);
  EXPECT_TRUE(cat_->UnfinishedExports()->empty());
  EXPECT_EQ(cat_->StartExport(j.id)->attempts, 2);  // no run after the end
}

TEST_P(ExportsTest, DeleteForgetsItAndFencesARunningRun) {
  ExportJob j = Create(Request("bi", "k"));
  ASSERT_TRUE(cat_->StartExport(j.id).ok());
  ASSERT_TRUE(cat_->DeleteExport(j.id).ok());
  EXPECT_EQ(cat_->DeleteExport(j.id).code(), StatusCode::kNotFound);
  EXPECT_EQ(cat_->FinishExport(j.id, 1, "k", 1, 1, "").code(), StatusCode::kAborted);
  EXPECT_EQ(cat_->StartExport(j.id).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(cat_->UnfinishedExports()->empty());
  // Its key is free again.
  auto again = cat_->CreateExport(Request("bi", "k"));
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->created);
}

TEST_P(ExportsTest, ListsNewestFirstByOwnerInPages) {
  std::vector<int64_t> bi;
  for (int i = 0; i < 5; ++i) {
    bi.push_back(Create(Request("bi")).id);
    Create(Request("ops"));
  }
  auto page1 = cat_->ListExports("bi", 0, 3);
  ASSERT_TRUE(page1.ok()) << page1.status().ToString();
  ASSERT_EQ(page1->size(), 3u);
  EXPECT_EQ((*page1)[0].id, bi[4]);
  EXPECT_EQ((*page1)[2].id, bi[2]);
  auto page2 = cat_->ListExports("bi", (*page1)[2].id, 3);
  ASSERT_TRUE(page2.ok());
  ASSERT_EQ(page2->size(), 2u);
  EXPECT_EQ((*page2)[1].id, bi[0]);
  for (const ExportJob& j : *page2) EXPECT_EQ(j.request.owner, "bi");
  EXPECT_EQ(cat_->ListExports("", 0, 100)->size(), 10u);
}

INSTANTIATE_TEST_SUITE_P(Backends, ExportsTest, testing::AllBackends(), testing::BackendName);

}  // namespace
}  // namespace sluice
