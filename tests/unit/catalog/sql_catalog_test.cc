// SqliteCatalog: pipelines, batch registration, the state machine, history.
// Commit, replay and tables are tested in sqlite_catalog_tables_test.cc.
#include "catalog/sql_catalog.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <set>
#include <thread>
#include <vector>

#include "catalog_test_util.h"
#include "sql/migrations.h"

namespace sluice {
namespace {

using ::sluice::testing::CatalogTempDir;
using ::sluice::testing::ManualClock;
using Outcome = RegisterBatchResult::Outcome;
using S = BatchState;

class SqliteCatalogTest : public ::testing::TestWithParam<testing::SqlBackend> {
 protected:
  testing::TestDatabase db_{GetParam()};
  void SetUp() override {
    cat_ = Open();
    ASSERT_NE(cat_, nullptr);
  }

  std::unique_ptr<Catalog> Open() {
    SqliteCatalogOptions opts;
    opts.now_us = [this] { return clock_.Now(); };
    auto c = testing::OpenCatalogOn(db_, opts.now_us);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(c).value() : nullptr;
  }

  PipelineVersion Deploy(const std::string& name, const std::string& spec) {
    auto v = cat_->DeployPipeline(name, spec, "/etc/sluice/" + name + ".yaml");
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    return v.ok() ? *v : PipelineVersion{};
  }

  RegisterBatchResult Register(const std::string& key, const std::string& sha,
                               const std::string& pipeline = "orders") {
    RegisterBatchRequest req{pipeline, key, "archive/" + key, sha, 100, ""};
    auto r = cat_->RegisterBatch(req);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : RegisterBatchResult{};
  }

  S StateOf(int64_t id) {
    auto b = cat_->GetBatch(id);
    EXPECT_TRUE(b.ok()) << b.status().ToString();
    return b.ok() ? b->state : S::kLanded;
  }

  ManualClock clock_;
  CatalogTempDir dir_;
  std::unique_ptr<Catalog> cat_;
};

// --- pipelines ---------------------------------------------------------------

TEST_P(SqliteCatalogTest, DeployCreatesVersionAndActivatesIt) {
  PipelineVersion v1 = Deploy("orders", "pipeline: orders\n");
  EXPECT_GT(v1.id, 0);
  EXPECT_EQ(v1.pipeline, "orders");
  EXPECT_EQ(v1.content_hash.size(), 64u);
  EXPECT_EQ(v1.spec_text, "pipeline: orders\n");
  EXPECT_EQ(v1.source_path, "/etc/sluice/orders.yaml");
  EXPECT_TRUE(v1.active);
  EXPECT_GT(v1.created_us, 0);

  PipelineVersion v2 = Deploy("orders", "pipeline: orders\n# v2\n");
  EXPECT_NE(v2.id, v1.id);
  EXPECT_NE(v2.content_hash, v1.content_hash);
  EXPECT_EQ(cat_->GetActiveVersion("orders")->id, v2.id);
  EXPECT_FALSE(cat_->GetVersion(v1.id)->active);
  EXPECT_TRUE(cat_->GetVersion(v2.id)->active);
}

TEST_P(SqliteCatalogTest, RedeployingKnownContentReactivatesTheSameVersion) {
  PipelineVersion v1 = Deploy("orders", "a");
  Deploy("orders", "b");
  PipelineVersion again = Deploy("orders", "a");
  EXPECT_EQ(again.id, v1.id);
  EXPECT_TRUE(again.active);
  EXPECT_EQ(cat_->GetActiveVersion("orders")->id, v1.id);
}

TEST_P(SqliteCatalogTest, SameContentInTwoPipelinesIsTwoVersions) {
  PipelineVersion a = Deploy("a", "same");
  PipelineVersion b = Deploy("b", "same");
  EXPECT_NE(a.id, b.id);
  EXPECT_EQ(a.content_hash, b.content_hash);
}

TEST_P(SqliteCatalogTest, UnknownPipelineAndVersionAreNotFound) {
  EXPECT_EQ(cat_->GetActiveVersion("nope").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(cat_->GetVersion(42).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(cat_->DeployPipeline("", "x", "").status().code(), StatusCode::kInvalidArgument);
}

TEST_P(SqliteCatalogTest, ListActivePipelinesSortedByName) {
  Deploy("zeta", "1");
  Deploy("alpha", "1");
  PipelineVersion a2 = Deploy("alpha", "2");
  auto list = cat_->ListActivePipelines();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].pipeline, "alpha");
  EXPECT_EQ((*list)[0].id, a2.id);
  EXPECT_TRUE((*list)[0].active);
  EXPECT_EQ((*list)[1].pipeline, "zeta");
}

TEST_P(SqliteCatalogTest, ListPipelineVersionsNewestFirstWithTheActiveOne) {
  PipelineVersion v1 = Deploy("orders", "1");
  PipelineVersion v2 = Deploy("orders", "2");
  Deploy("other", "1");
  auto list = cat_->ListPipelineVersions("orders");
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].id, v2.id);
  EXPECT_TRUE((*list)[0].active);
  EXPECT_EQ((*list)[1].id, v1.id);
  EXPECT_FALSE((*list)[1].active);
  EXPECT_EQ((*list)[1].spec_text, "1");
  // Rolling back: the old text deployed again reuses its row.
  ASSERT_TRUE(cat_->DeployPipeline("orders", v1.spec_text, v1.source_path).ok());
  list = cat_->ListPipelineVersions("orders");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_TRUE((*list)[1].active);
  EXPECT_FALSE((*list)[0].active);
  EXPECT_EQ(cat_->ListPipelineVersions("nope").status().code(), StatusCode::kNotFound);
}

TEST_P(SqliteCatalogTest, StatePersistsAcrossReopen) {
  PipelineVersion v = Deploy("orders", "spec");
  int64_t id = Register("landing/orders/a.csv", "h1").batch_id;
  cat_.reset();
  cat_ = Open();
  ASSERT_NE(cat_, nullptr);
  EXPECT_EQ(cat_->GetActiveVersion("orders")->id, v.id);
  EXPECT_EQ(cat_->GetBatch(id)->object_key, "landing/orders/a.csv");
}

// --- registration --------------------------------------------------------------

TEST_P(SqliteCatalogTest, RegisterNewBatchPinsActiveVersion) {
  PipelineVersion v = Deploy("orders", "spec");
  RegisterBatchResult r = Register("landing/orders/a.csv", "h1");
  EXPECT_EQ(r.outcome, Outcome::kNew);
  auto b = cat_->GetBatch(r.batch_id);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->pipeline, "orders");
  EXPECT_EQ(b->pipeline_version_id, v.id);
  EXPECT_EQ(b->object_key, "landing/orders/a.csv");
  EXPECT_EQ(b->archive_key, "archive/landing/orders/a.csv");
  EXPECT_EQ(b->sha256, "h1");
  EXPECT_EQ(b->size_bytes, 100);
  EXPECT_EQ(b->state, S::kLanded);
  EXPECT_EQ(b->attempts, 0);
  EXPECT_EQ(b->duplicate_landings, 0);
  EXPECT_GT(b->created_us, 0);
  auto h = cat_->BatchHistory(r.batch_id);
  ASSERT_TRUE(h.ok());
  ASSERT_EQ(h->size(), 1u);
  EXPECT_EQ((*h)[0].state, S::kLanded);

  // A later deploy does not move an existing batch.
  Deploy("orders", "spec v2");
  EXPECT_EQ(cat_->GetBatch(r.batch_id)->pipeline_version_id, v.id);
}

TEST_P(SqliteCatalogTest, RegisterWithoutDeployedVersionFails) {
  RegisterBatchRequest req{"ghost", "landing/ghost/a.csv", "", "h", 1, ""};
  auto r = cat_->RegisterBatch(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("'ghost'"), std::string::npos);
  EXPECT_EQ(cat_->ListBatches(std::nullopt, "", 0)->size(), 0u);
}

TEST_P(SqliteCatalogTest, RegisterRejectsMissingFields) {
  Deploy("orders", "spec");
  EXPECT_EQ(cat_->RegisterBatch({"orders", "k", "", "", 1, ""}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(cat_->RegisterBatch({"orders", "", "", "h", 1, ""}).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_P(SqliteCatalogTest, RegistrationIsIdempotent) {
  Deploy("orders", "spec");
  Deploy("other", "spec");
  struct Step {
    const char* pipeline;
    const char* key;
    const char* sha;
    Outcome want;
    int want_batch;  // index of the batch created by an earlier kNew step
    int64_t want_duplicates;
  };
  const Step steps[] = {
      {"orders", "a.csv", "h1", Outcome::kNew, 0, 0},
      {"orders", "a.csv", "h1", Outcome::kSameObject, 0, 0},
      {"orders", "b.csv", "h1", Outcome::kDuplicateContent, 0, 1},
      {"orders", "b.csv", "h1", Outcome::kSameObject, 0, 1},  // the duplicate counted once
      {"orders", "c.csv", "h1", Outcome::kDuplicateContent, 0, 2},
      {"orders", "a.csv", "h2", Outcome::kNew, 1, 0},  // same key, new content
      {"other", "a.csv", "h1", Outcome::kNew, 2, 0},   // another pipeline
  };
  std::vector<int64_t> created;
  for (size_t i = 0; i < std::size(steps); ++i) {
    const Step& s = steps[i];
    SCOPED_TRACE("step " + std::to_string(i));
    RegisterBatchResult r = Register(s.key, s.sha, s.pipeline);
    EXPECT_EQ(r.outcome, s.want);
    if (s.want == Outcome::kNew) created.push_back(r.batch_id);
    ASSERT_LT(static_cast<size_t>(s.want_batch), created.size());
    EXPECT_EQ(r.batch_id, created[s.want_batch]);
    EXPECT_EQ(cat_->GetBatch(r.batch_id)->duplicate_landings, s.want_duplicates);
  }
  EXPECT_EQ(cat_->ListBatches(std::nullopt, "", 0)->size(), 3u);
  // Registration history is one row per batch, whatever the repeats.
  EXPECT_EQ(cat_->BatchHistory(created[0])->size(), 1u);
}

// A group registers in one transaction with the rules of one at a time: in
// order, a later request seeing what an earlier one of the group made.
TEST_P(SqliteCatalogTest, RegisterBatchesAppliesEachRequestInOrder) {
  Deploy("orders", "spec");
  Register("old.csv", "h0");
  auto r = cat_->RegisterBatches({{"orders", "a.csv", "", "h1", 5, ""},
                                  {"orders", "b.csv", "", "h1", 5, ""},
                                  {"orders", "old.csv", "", "h0", 5, ""},
                                  {"orders", "c.csv", "", "h2", 5, ""}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 4u);
  EXPECT_EQ((*r)[0].outcome, Outcome::kNew);
  EXPECT_EQ((*r)[1].outcome, Outcome::kDuplicateContent);
  EXPECT_EQ((*r)[1].batch_id, (*r)[0].batch_id);
  EXPECT_EQ((*r)[2].outcome, Outcome::kSameObject);
  EXPECT_EQ((*r)[3].outcome, Outcome::kNew);
  EXPECT_EQ(cat_->GetBatch((*r)[0].batch_id)->duplicate_landings, 1);
  EXPECT_EQ(cat_->ListBatches(std::nullopt, "", 0)->size(), 3u);

  // All or nothing: a request that cannot register takes the group with it.
  auto bad = cat_->RegisterBatches(
      {{"orders", "d.csv", "", "h3", 5, ""}, {"nowhere", "e.csv", "", "h4", 5, ""}});
  EXPECT_EQ(bad.status().code(), StatusCode::kFailedPrecondition) << bad.status().ToString();
  EXPECT_EQ(cat_->ListBatches(std::nullopt, "", 0)->size(), 3u);
  EXPECT_EQ(cat_->RegisterBatches({{"orders", "", "", "h5", 5, ""}}).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_P(SqliteCatalogTest, ConcurrentRegistrationYieldsOneBatch) {
  Deploy("orders", "spec");
  // Two catalogs on one file stand for two processes; threads share each.
  std::unique_ptr<Catalog> second = Open();
  ASSERT_NE(second, nullptr);
  constexpr int kThreads = 8;
  constexpr int kContents = 5;
  std::vector<std::vector<RegisterBatchResult>> results(kThreads);
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Catalog* c = t % 2 == 0 ? cat_.get() : second.get();
      for (int i = 0; i < kContents; ++i) {
        // Half the threads land the same content under a second key.
        std::string key = "landing/orders/f" + std::to_string(i) + (t < 4 ? ".csv" : ".copy.csv");
        auto r = c->RegisterBatch({"orders", key, "", "sha" + std::to_string(i), 10, ""});
        if (!r.ok()) {
          ++errors;
          continue;
        }
        results[t].push_back(*r);
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_EQ(errors.load(), 0);
  auto all = cat_->ListBatches(std::nullopt, "orders", 0);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), static_cast<size_t>(kContents));
  for (int i = 0; i < kContents; ++i) {
    std::set<int64_t> ids;
    int news = 0, dups = 0;
    for (int t = 0; t < kThreads; ++t) {
      ids.insert(results[t][i].batch_id);
      if (results[t][i].outcome == Outcome::kNew) ++news;
      if (results[t][i].outcome == Outcome::kDuplicateContent) ++dups;
    }
    EXPECT_EQ(ids.size(), 1u) << "content " << i;
    EXPECT_EQ(news, 1) << "content " << i;
    EXPECT_EQ(dups, 1) << "content " << i;  // the second key, recorded once
    EXPECT_EQ(cat_->GetBatch(*ids.begin())->duplicate_landings, 1);
  }
}

TEST_P(SqliteCatalogTest, ConcurrentRegistrationFromSeveralProcesses) {
  Deploy("orders", "spec");
  constexpr int kProcs = 3;
  constexpr int kContents = 6;
  // Connections must not cross fork(): close ours until the children end.
  cat_.reset();
  std::vector<pid_t> kids;
  for (int p = 0; p < kProcs; ++p) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      // Child: its own catalog connection; exit code 0 only if every call worked.
      auto c = testing::OpenCatalogOn(db_, nullptr);
      if (!c.ok()) _exit(2);
      for (int i = 0; i < kContents; ++i) {
        std::string key = "landing/orders/p" + std::to_string(p) + "-" + std::to_string(i);
        if (!(*c)->RegisterBatch({"orders", key, "", "sha" + std::to_string(i), 1, ""}).ok()) {
          _exit(3);
        }
      }
      _exit(0);
    }
    kids.push_back(pid);
  }
  for (pid_t pid : kids) {
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
  }
  cat_ = Open();
  ASSERT_NE(cat_, nullptr);
  auto all = cat_->ListBatches(std::nullopt, "orders", 0);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), static_cast<size_t>(kContents));
  for (const BatchInfo& b : *all) EXPECT_EQ(b.duplicate_landings, kProcs - 1) << b.sha256;
}

// --- landed objects by ETag ------------------------------------------------------

TEST_P(SqliteCatalogTest, LandedObjectKnownByItsExactETag) {
  Deploy("orders", "spec");
  Deploy("other", "spec");
  auto reg = [&](const std::string& pipeline, const std::string& key, const std::string& sha,
                 const std::string& etag) {
    auto r = cat_->RegisterBatch({pipeline, key, key, sha, 10, etag});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : RegisterBatchResult{};
  };
  auto known = [&](const std::string& pipeline, const std::string& key, const std::string& etag) {
    auto k = cat_->LandedObjectKnown(pipeline, key, etag);
    EXPECT_TRUE(k.ok()) << k.status().ToString();
    return k.ok() && *k;
  };
  EXPECT_FALSE(known("orders", "a.csv", "e1"));  // nothing registered yet

  RegisterBatchResult first = reg("orders", "a.csv", "h1", "e1");
  EXPECT_EQ(first.outcome, Outcome::kNew);
  EXPECT_TRUE(known("orders", "a.csv", "e1"));
  EXPECT_FALSE(known("orders", "a.csv", "e2"));  // another version of the key
  EXPECT_FALSE(known("orders", "b.csv", "e1"));  // another key
  EXPECT_FALSE(known("other", "a.csv", "e1"));   // another pipeline
  EXPECT_FALSE(known("orders", "a.csv", ""));    // no tag says nothing
  EXPECT_FALSE(known("orders", "a.csv", "E1"));  // tags compare exactly

  // Registered without a tag (the local store): never known by one.
  reg("orders", "c.csv", "h3", "");
  EXPECT_FALSE(known("orders", "c.csv", ""));

  // The same bytes written again under the key (a multipart upload): another
  // ETag, the same landing, which now keeps the new tag.
  RegisterBatchResult again = reg("orders", "a.csv", "h1", "e1-2");
  EXPECT_EQ(again.outcome, Outcome::kSameObject);
  EXPECT_EQ(again.batch_id, first.batch_id);
  EXPECT_TRUE(known("orders", "a.csv", "e1-2"));
  EXPECT_FALSE(known("orders", "a.csv", "e1"));
  // Registered again without a tag: the stored one stays.
  EXPECT_EQ(reg("orders", "a.csv", "h1", "").outcome, Outcome::kSameObject);
  EXPECT_TRUE(known("orders", "a.csv", "e1-2"));

  // A duplicate landing (that content under another key) keeps its tag too.
  EXPECT_EQ(reg("orders", "d.csv", "h1", "e4").outcome, Outcome::kDuplicateContent);
  EXPECT_TRUE(known("orders", "d.csv", "e4"));
  // New content under a known key: each version is known by its own tag.
  EXPECT_EQ(reg("orders", "a.csv", "h5", "e5").outcome, Outcome::kNew);
  EXPECT_TRUE(known("orders", "a.csv", "e5"));
  EXPECT_TRUE(known("orders", "a.csv", "e1-2"));

  // Kept in the catalog, not in this handle: another process sees the same.
  std::unique_ptr<Catalog> second = Open();
  ASSERT_NE(second, nullptr);
  auto k = second->LandedObjectKnown("orders", "a.csv", "e5");
  ASSERT_TRUE(k.ok()) << k.status().ToString();
  EXPECT_TRUE(*k);
  EXPECT_EQ(cat_->ListBatches(std::nullopt, "", 0)->size(), 3u);
}

// A catalog from before migration 6: its landings have no tag, so they are
// not known by one until registered again, which records it.
TEST_P(SqliteCatalogTest, MigrationKeepsOldLandingsAndRecordsTheirETagLater) {
  testing::TestDatabase old_db(GetParam());  // the fixture's is migrated already
  {
    auto db = old_db.Open();
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    std::vector<Migration> before;
    for (const Migration& m : CatalogMigrations()) {
      if (m.version < 6) before.push_back(m);
    }
    // ApplyMigrations takes the last entry as the newest version it knows.
    ASSERT_TRUE(ApplyMigrations(**db, before).ok());
    for (const char* sql :
         {"INSERT INTO pipeline_versions (id, pipeline, content_hash, spec_text, source_path, "
          "created_us) VALUES (7, 'orders', 'c', 'spec', '/a/orders.yaml', 1)",
          "INSERT INTO pipelines VALUES ('orders', 7, 1)",
          "INSERT INTO batches (id, pipeline, version_id, object_key, archive_key, sha256, "
          "size_bytes, state, created_us, updated_us) VALUES (3, 'orders', 7, 'a.csv', 'a.csv', "
          "'h1', 10, 'queued', 1, 1)",
          "INSERT INTO batch_landings (id, batch_id, pipeline, object_key, sha256, landed_us, "
          "is_duplicate) VALUES (1, 3, 'orders', 'a.csv', 'h1', 1, 0)"}) {
      Status st = (*db)->Exec(sql);
      ASSERT_TRUE(st.ok()) << st.ToString();
    }
  }
  auto opened = testing::OpenCatalogOn(old_db, nullptr);  // migrates to the newest version
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  Catalog& cat = **opened;
  auto known = cat.LandedObjectKnown("orders", "a.csv", "e1");
  ASSERT_TRUE(known.ok()) << known.status().ToString();
  EXPECT_FALSE(*known);
  auto r = cat.RegisterBatch({"orders", "a.csv", "a.csv", "h1", 10, "e1"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->outcome, Outcome::kSameObject);
  EXPECT_EQ(r->batch_id, 3);
  known = cat.LandedObjectKnown("orders", "a.csv", "e1");
  ASSERT_TRUE(known.ok()) << known.status().ToString();
  EXPECT_TRUE(*known);
  EXPECT_EQ(cat.GetBatch(3)->state, S::kQueued);
}

// The PostgreSQL catalog of a process is a pool of connections: its threads
// work side by side and the rules still hold across the members.
TEST(PooledPostgresCatalogTest, ThreadsShareAPoolOfConnections) {
  testing::TestDatabase db(testing::SqlBackend::kPostgres);
  PostgresCatalogOptions opts;
  opts.connections = 3;
  auto cat = OpenPostgresCatalog(db.location(), opts);
  ASSERT_TRUE(cat.ok()) << cat.status().ToString();
  ASSERT_TRUE((*cat)->DeployPipeline("orders", "spec", "orders.yaml").ok());
  constexpr int kThreads = 6;
  constexpr int kContents = 10;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kContents; ++i) {
        std::string key = "landing/orders/t" + std::to_string(t) + "-" + std::to_string(i);
        RegisterBatchRequest req{"orders", key, "", "sha" + std::to_string(i), 1, "e-" + key};
        if (!(*cat)->RegisterBatch(req).ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  auto all = (*cat)->ListBatches(std::nullopt, "orders", 0);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(all->size(), static_cast<size_t>(kContents));
  for (const BatchInfo& b : *all) EXPECT_EQ(b.duplicate_landings, kThreads - 1);
  // Whichever member registered it, any member knows it by its ETag.
  auto known = (*cat)->LandedObjectKnown("orders", "landing/orders/t5-9", "e-landing/orders/t5-9");
  ASSERT_TRUE(known.ok()) << known.status().ToString();
  EXPECT_TRUE(*known);
  // Three sessions of this catalog are open on the server.
  auto admin = db.Open();
  ASSERT_TRUE(admin.ok());
  auto n = (*admin)->Prepare(
      "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND "
      "application_name = 'sluice' AND pid <> pg_backend_pid()");
  ASSERT_TRUE(n.ok());
  ASSERT_TRUE(*n->Step());
  EXPECT_EQ(n->ColumnInt64(0), 3);
}

// --- state machine ---------------------------------------------------------------

class StateMachineTest : public SqliteCatalogTest {
 protected:
  // A new batch driven into `state` through the public API.
  int64_t BatchIn(S state) {
    int64_t id = Register("k" + std::to_string(next_), "sha" + std::to_string(next_)).batch_id;
    ++next_;
    auto go = [&](S to) { EXPECT_TRUE(testing::MoveBatch(*cat_, id, to, "").ok()); };
    switch (state) {
      case S::kLanded:
        break;
      case S::kQueued:
        go(S::kQueued);
        break;
      case S::kProcessing:
        go(S::kQueued), go(S::kProcessing);
        break;
      case S::kCommitting:
        go(S::kQueued), go(S::kProcessing), go(S::kCommitting);
        break;
      case S::kCommitted: {
        go(S::kQueued), go(S::kProcessing), go(S::kCommitting);
        CommitRequest req;
        req.batch_id = id;
        req.attempt = 1;
        EXPECT_TRUE(cat_->CommitBatch(req).ok());
        break;
      }
      case S::kFailed:
        go(S::kQueued), go(S::kProcessing), go(S::kFailed);
        break;
      case S::kQuarantined:
        go(S::kQueued), go(S::kProcessing), go(S::kQuarantined);
        break;
      case S::kDamaged: {
        go(S::kQueued), go(S::kProcessing), go(S::kCommitting);
        CommitRequest req;
        req.batch_id = id;
        req.attempt = 1;
        EXPECT_TRUE(cat_->CommitBatch(req).ok());
        EXPECT_TRUE(cat_->MarkDamaged(id, "lost a file").ok());
        break;
      }
    }
    EXPECT_EQ(StateOf(id), state);
    return id;
  }
  int next_ = 0;
};

// TransitionBatch makes only registration's moves; attempts move batches
// through the fenced calls (sqlite_catalog_attempts_test.cc).
TEST_P(StateMachineTest, TransitionBatchMakesOnlyRegistrationMoves) {
  Deploy("orders", "spec");
  const S all[] = {S::kLanded,    S::kQueued, S::kProcessing,  S::kCommitting,
                   S::kCommitted, S::kFailed, S::kQuarantined, S::kDamaged};
  const std::set<std::pair<S, S>> allowed = {
      {S::kLanded, S::kQueued}, {S::kLanded, S::kFailed}, {S::kQueued, S::kFailed}};
  for (S from : all) {
    for (S to : all) {
      SCOPED_TRACE(std::string(BatchStateName(from)) + " -> " + std::string(BatchStateName(to)));
      int64_t id = BatchIn(from);
      BatchInfo before = *cat_->GetBatch(id);
      size_t events_before = cat_->BatchHistory(id)->size();
      Status st = cat_->TransitionBatch(id, to, "why");
      BatchInfo after = *cat_->GetBatch(id);
      size_t events_after = cat_->BatchHistory(id)->size();
      if (allowed.count({from, to})) {
        EXPECT_TRUE(st.ok()) << st.ToString();
        EXPECT_EQ(after.state, to);
        EXPECT_EQ(events_after, events_before + 1);
        EXPECT_EQ(after.attempts, before.attempts);
        EXPECT_EQ(after.reason, to == S::kFailed ? "why" : "");
        EXPECT_GT(after.updated_us, before.updated_us);
      } else {
        EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition) << st.ToString();
        EXPECT_NE(st.message().find("batch " + std::to_string(id)), std::string::npos);
        EXPECT_EQ(after.state, from);
        EXPECT_EQ(events_after, events_before);
        EXPECT_EQ(after.attempts, before.attempts);
      }
    }
  }
}

// Queueing a group moves only the batches still landed, one history row each.
TEST_P(StateMachineTest, QueueLandedBatchesMovesOnlyLandedOnes) {
  Deploy("orders", "spec");
  const int64_t landed1 = BatchIn(S::kLanded);
  const int64_t queued = BatchIn(S::kQueued);
  const int64_t processing = BatchIn(S::kProcessing);
  const int64_t landed2 = BatchIn(S::kLanded);
  const size_t queued_events = cat_->BatchHistory(queued)->size();
  auto moved = cat_->QueueLandedBatches({landed1, queued, processing, landed2, 999999});
  ASSERT_TRUE(moved.ok()) << moved.status().ToString();
  EXPECT_EQ(*moved, (std::vector<int64_t>{landed1, landed2}));
  EXPECT_EQ(cat_->GetBatch(landed1)->state, S::kQueued);
  EXPECT_EQ(cat_->GetBatch(landed2)->state, S::kQueued);
  EXPECT_EQ(cat_->BatchHistory(landed1)->back().state, S::kQueued);
  EXPECT_EQ(cat_->GetBatch(processing)->state, S::kProcessing);
  EXPECT_EQ(cat_->BatchHistory(queued)->size(), queued_events);
  // Again: nothing is landed any more.
  EXPECT_TRUE(cat_->QueueLandedBatches({landed1, landed2})->empty());
}

TEST_P(StateMachineTest, UnknownBatchIsNotFound) {
  EXPECT_EQ(cat_->TransitionBatch(999, S::kQueued, "").code(), StatusCode::kNotFound);
  EXPECT_EQ(cat_->GetBatch(999).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(cat_->BatchHistory(999).status().code(), StatusCode::kNotFound);
}

TEST_P(StateMachineTest, HistoryRecordsEveryMoveInOrder) {
  Deploy("orders", "spec");
  int64_t id = BatchIn(S::kLanded);
  ASSERT_TRUE(cat_->TransitionBatch(id, S::kQueued, "").ok());
  ASSERT_TRUE(cat_->StartAttempt({id, 0, 0}).ok());  // attempt 1
  ASSERT_TRUE(cat_->FailAttempt({id, 1}, {ErrorClass::kTransient, "disk full", 0}).ok());
  ASSERT_TRUE(cat_->StartAttempt({id, 0, 0}).ok());  // attempt 2, dies
  ASSERT_TRUE(cat_->StartAttempt({id, 0, 0}).ok());  // attempt 3
  ASSERT_TRUE(cat_->MarkCommitting({id, 3}).ok());
  const S expected[] = {S::kLanded,     S::kQueued,     S::kProcessing, S::kQueued,
                        S::kProcessing, S::kProcessing, S::kCommitting};
  auto h = cat_->BatchHistory(id);
  ASSERT_TRUE(h.ok());
  ASSERT_EQ(h->size(), std::size(expected));
  for (size_t i = 0; i < std::size(expected); ++i) {
    EXPECT_EQ((*h)[i].state, expected[i]) << i;
    EXPECT_EQ((*h)[i].batch_id, id);
    if (i > 0) {
      EXPECT_GT((*h)[i].at_us, (*h)[i - 1].at_us);
    }
  }
  EXPECT_NE((*h)[3].reason.find("disk full"), std::string::npos) << (*h)[3].reason;
  EXPECT_NE((*h)[5].reason.find("attempt 2 did not finish"), std::string::npos) << (*h)[5].reason;
  BatchInfo b = *cat_->GetBatch(id);
  EXPECT_EQ(b.attempts, 3);
  EXPECT_EQ(b.tries, 3);
}

TEST_P(StateMachineTest, ListAndCountBatches) {
  Deploy("orders", "spec");
  Deploy("other", "spec");
  int64_t a = BatchIn(S::kLanded);
  int64_t b = BatchIn(S::kQueued);
  int64_t c = BatchIn(S::kFailed);
  int64_t d = Register("x", "other-sha", "other").batch_id;

  auto all = cat_->ListBatches(std::nullopt, "", 0);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 4u);
  EXPECT_EQ((*all)[0].id, d);  // newest first
  EXPECT_EQ((*all)[3].id, a);

  auto landed = cat_->ListBatches(S::kLanded, "", 0);
  ASSERT_EQ(landed->size(), 2u);
  EXPECT_EQ((*cat_->ListBatches(S::kLanded, "orders", 0))[0].id, a);
  EXPECT_EQ(cat_->ListBatches(S::kQueued, "", 0)->at(0).id, b);
  EXPECT_EQ(cat_->ListBatches(std::nullopt, "orders", 2)->size(), 2u);
  EXPECT_EQ(cat_->ListBatches(std::nullopt, "orders", 2)->at(0).id, c);
  EXPECT_EQ(cat_->ListBatches(std::nullopt, "nobody", 0)->size(), 0u);

  // Pages (issue 11): keyed by id, newest first; paging one by one gives
  // the whole listing.
  auto first = cat_->ListBatchPage(std::nullopt, "orders", 0, 2);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_EQ(first->batches.size(), 2u);
  EXPECT_EQ(first->batches[0].id, c);
  EXPECT_EQ(first->next_before_id, first->batches[1].id);
  auto second = cat_->ListBatchPage(std::nullopt, "orders", first->next_before_id, 2);
  ASSERT_TRUE(second.ok());
  ASSERT_FALSE(second->batches.empty());
  EXPECT_LT(second->batches[0].id, first->batches[1].id);
  std::vector<int64_t> paged;
  int64_t before = 0;
  do {
    auto page = cat_->ListBatchPage(std::nullopt, "", before, 1);
    ASSERT_TRUE(page.ok());
    for (const BatchInfo& b : page->batches) paged.push_back(b.id);
    before = page->next_before_id;
  } while (before != 0);
  std::vector<int64_t> all_ids;
  for (const BatchInfo& b : *all) all_ids.push_back(b.id);
  EXPECT_EQ(paged, all_ids);
  EXPECT_EQ(cat_->ListBatchPage(std::nullopt, "", 0, 0).status().code(),
            StatusCode::kInvalidArgument);

  auto counts = cat_->CountBatchesByState();
  ASSERT_TRUE(counts.ok());
  ASSERT_EQ(counts->size(), 8u);
  for (const auto& [state, n] : *counts) {
    int64_t want = state == S::kLanded ? 2 : (state == S::kQueued || state == S::kFailed) ? 1 : 0;
    EXPECT_EQ(n, want) << BatchStateName(state);
  }
}

// For /metrics' sluice_batches{pipeline,state}: one row per pair that has
// batches, ordered by pipeline and state name; counts follow transitions.
TEST_P(StateMachineTest, CountBatchesByPipelineAndState) {
  EXPECT_TRUE(cat_->CountBatchesByPipelineAndState()->empty());
  Deploy("orders", "spec");
  Deploy("b-other", "spec");
  BatchIn(S::kCommitted);
  BatchIn(S::kCommitted);
  int64_t queued = BatchIn(S::kQueued);
  BatchIn(S::kFailed);
  Register("x1", "other-sha-1", "b-other");
  Register("x2", "other-sha-2", "b-other");
  using C = Catalog::PipelineStateCount;
  auto counts = cat_->CountBatchesByPipelineAndState();
  ASSERT_TRUE(counts.ok()) << counts.status().ToString();
  auto text = [](const std::vector<C>& v) {
    std::string out;
    for (const C& c : v) {
      out += c.pipeline + "/" + std::string(BatchStateName(c.state)) + "=" +
             std::to_string(c.batches) + " ";
    }
    return out;
  };
  EXPECT_EQ(text(*counts), "b-other/landed=2 orders/committed=2 orders/failed=1 orders/queued=1 ");
  // Agrees with the per-state totals.
  int64_t total = 0;
  for (const C& c : *counts) total += c.batches;
  int64_t by_state = 0;
  auto per_state = cat_->CountBatchesByState();
  ASSERT_TRUE(per_state.ok());
  for (const auto& [state, n] : *per_state) by_state += n;
  EXPECT_EQ(total, by_state);
  ASSERT_TRUE(testing::MoveBatch(*cat_, queued, S::kProcessing, "").ok());
  EXPECT_EQ(text(*cat_->CountBatchesByPipelineAndState()),
            "b-other/landed=2 orders/committed=2 orders/failed=1 orders/processing=1 ");
}

// For /v1/status: row counters summed per pipeline in the catalog.
TEST_P(StateMachineTest, SumBatchStatsByPipeline) {
  EXPECT_TRUE(cat_->SumBatchStatsByPipeline()->empty());
  Deploy("orders", "spec");
  Deploy("b-other", "spec");
  auto commit = [&](int64_t id, int64_t read, int64_t written) {
    BatchStats stats;
    stats.rows_read = read;
    stats.rows_written = written;
    stats.rows_quarantined = read - written;
    stats.duplicates_removed = 1;
    Status st = testing::CommitLandedBatch(*cat_, id, stats);
    ASSERT_TRUE(st.ok()) << st.ToString();
  };
  commit(Register("o1", "sha-o1").batch_id, 10, 8);
  commit(Register("o2", "sha-o2").batch_id, 5, 5);
  Register("o3", "sha-o3");  // landed: zeros
  commit(Register("x1", "sha-x1", "b-other").batch_id, 7, 7);
  auto sums = cat_->SumBatchStatsByPipeline();
  ASSERT_TRUE(sums.ok()) << sums.status().ToString();
  ASSERT_EQ(sums->size(), 2u);
  EXPECT_EQ((*sums)[0].first, "b-other");
  EXPECT_EQ((*sums)[0].second.rows_read, 7);
  EXPECT_EQ((*sums)[1].first, "orders");
  EXPECT_EQ((*sums)[1].second.rows_read, 15);
  EXPECT_EQ((*sums)[1].second.rows_written, 13);
  EXPECT_EQ((*sums)[1].second.rows_quarantined, 2);
  EXPECT_EQ((*sums)[1].second.rows_skipped, 0);
  EXPECT_EQ((*sums)[1].second.duplicates_removed, 2);
}

INSTANTIATE_TEST_SUITE_P(Backends, SqliteCatalogTest, testing::AllBackends(), testing::BackendName);

INSTANTIATE_TEST_SUITE_P(Backends, StateMachineTest, testing::AllBackends(), testing::BackendName);

}  // namespace
}  // namespace sluice
