// SqliteCatalog::DeployFromFile: explicit deploys (issue 9, item 8). A file
// is deployed only when its text differs from what was last deployed from it.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "catalog/sql_catalog.h"
#include "catalog_test_util.h"
#include "core/hash.h"
#include "sql/migrations.h"

namespace sluice {
namespace {

using ::sluice::testing::CatalogTempDir;
using ::sluice::testing::ManualClock;

class DeployFromFileTest : public ::testing::TestWithParam<testing::SqlBackend> {
 protected:
  testing::TestDatabase db_{GetParam()};
  std::unique_ptr<Catalog> Open() {
    SqliteCatalogOptions opts;
    opts.now_us = [this] { return clock_.Now(); };
    auto c = testing::OpenCatalogOn(db_, opts.now_us);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(c).value() : nullptr;
  }

  DeployOutcome Deploy(Catalog& cat, const std::string& text, const std::string& path) {
    auto d = cat.DeployFromFile("orders", text, path);
    EXPECT_TRUE(d.ok()) << d.status().ToString();
    return d.ok() ? *d : DeployOutcome{};
  }

  int64_t Versions() {
    auto db = db_.Open();
    EXPECT_TRUE(db.ok());
    auto s = (*db)->Prepare("SELECT COUNT(*) FROM pipeline_versions");
    EXPECT_TRUE(s.ok() && *s->Step());
    return s->ColumnInt64(0);
  }

  ManualClock clock_;
  CatalogTempDir dir_;
};

TEST_P(DeployFromFileTest, DeploysOnlyWhenTheFileChanged) {
  auto cat = Open();
  ASSERT_NE(cat, nullptr);
  DeployOutcome first = Deploy(*cat, "spec a", "/a/orders.yaml");
  EXPECT_TRUE(first.deployed);
  EXPECT_EQ(first.version.spec_text, "spec a");
  EXPECT_EQ(first.active.id, first.version.id);

  DeployOutcome again = Deploy(*cat, "spec a", "/a/orders.yaml");
  EXPECT_FALSE(again.deployed);
  EXPECT_EQ(again.version.id, first.version.id);
  EXPECT_EQ(again.active.id, first.version.id);

  // Another file with another text: its first deploy makes it active.
  DeployOutcome other = Deploy(*cat, "spec b", "/b/orders.yaml");
  EXPECT_TRUE(other.deployed);
  EXPECT_EQ(other.active.spec_text, "spec b");

  // The first file has not changed since its deploy: nothing happens, and the
  // caller learns that its text is not the active one.
  for (int i = 0; i < 5; ++i) {
    DeployOutcome a = Deploy(*cat, "spec a", "/a/orders.yaml");
    EXPECT_FALSE(a.deployed);
    EXPECT_EQ(a.version.id, first.version.id);
    EXPECT_EQ(a.active.id, other.version.id);
    DeployOutcome b = Deploy(*cat, "spec b", "/b/orders.yaml");
    EXPECT_FALSE(b.deployed);
  }
  auto active = cat->GetActiveVersion("orders");
  ASSERT_TRUE(active.ok());
  EXPECT_EQ(active->spec_text, "spec b");
  EXPECT_EQ(Versions(), 2);

  // The first file changes back to a text deployed before (from elsewhere):
  // that is a change of this file, so it is deployed, re-activating the
  // existing immutable version.
  DeployOutcome back = Deploy(*cat, "spec b", "/a/orders.yaml");
  EXPECT_TRUE(back.deployed);
  EXPECT_EQ(back.version.id, other.version.id);
  DeployOutcome changed = Deploy(*cat, "spec c", "/a/orders.yaml");
  EXPECT_TRUE(changed.deployed);
  EXPECT_EQ(changed.active.spec_text, "spec c");
  EXPECT_EQ(Versions(), 3);
}

TEST_P(DeployFromFileTest, PipelinesAreIndependent) {
  auto cat = Open();
  ASSERT_NE(cat, nullptr);
  auto a = cat->DeployFromFile("orders", "x", "/p/x.yaml");
  auto b = cat->DeployFromFile("users", "x", "/p/x.yaml");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE(a->deployed);
  EXPECT_TRUE(b->deployed);
  EXPECT_EQ(b->active.pipeline, "users");
}

TEST_P(DeployFromFileTest, RecordSurvivesReopening) {
  {
    auto cat = Open();
    ASSERT_NE(cat, nullptr);
    EXPECT_TRUE(Deploy(*cat, "spec a", "/a/orders.yaml").deployed);
    EXPECT_TRUE(Deploy(*cat, "spec b", "/b/orders.yaml").deployed);
  }
  auto cat = Open();
  ASSERT_NE(cat, nullptr);
  DeployOutcome a = Deploy(*cat, "spec a", "/a/orders.yaml");
  EXPECT_FALSE(a.deployed);
  EXPECT_EQ(a.active.spec_text, "spec b");
}

TEST_P(DeployFromFileTest, RejectsEmptyNames) {
  auto cat = Open();
  ASSERT_NE(cat, nullptr);
  EXPECT_EQ(cat->DeployFromFile("", "x", "/p").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(cat->DeployFromFile("orders", "x", "").status().code(), StatusCode::kInvalidArgument);
}

// A catalog from before migration 3: the active version's file counts as
// deployed from, so an upgraded server does not deploy every file again.
TEST_P(DeployFromFileTest, MigrationSeedsTheActiveVersions) {
  {
    auto db = db_.Open();
    ASSERT_TRUE(db.ok());
    std::vector<Migration> before;
    for (const Migration& m : CatalogMigrations()) {
      if (m.version != 3) before.push_back(m);
    }
    // ApplyMigrations takes the last entry as the newest version it knows.
    ASSERT_TRUE(ApplyMigrations(**db, before).ok());
    ASSERT_FALSE(*(*db)->TableExists("pipeline_deploys"));
    auto v = (*db)->Prepare(
        "INSERT INTO pipeline_versions (id, pipeline, content_hash, spec_text, source_path, "
        "created_us) VALUES (7, 'orders', ?1, 'old', '/a/orders.yaml', 1)");
    ASSERT_TRUE(v.ok());
    v->Bind(1, Sha256Hex("old"));
    ASSERT_TRUE(v->Exec().ok());
    ASSERT_TRUE((*db)->Exec("INSERT INTO pipelines VALUES ('orders', 7, 1)").ok());
  }
  auto cat = Open();
  ASSERT_NE(cat, nullptr);
  auto db = db_.Open();
  ASSERT_TRUE(db.ok());
  auto s = (*db)->Prepare("SELECT pipeline, source_path, version_id FROM pipeline_deploys");
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE(*s->Step());
  EXPECT_EQ(s->ColumnText(0), "orders");
  EXPECT_EQ(s->ColumnText(1), "/a/orders.yaml");
  EXPECT_EQ(s->ColumnInt64(2), 7);
  DeployOutcome same = Deploy(*cat, "old", "/a/orders.yaml");
  EXPECT_FALSE(same.deployed);
  EXPECT_EQ(same.active.id, 7);
}

INSTANTIATE_TEST_SUITE_P(Backends, DeployFromFileTest, testing::AllBackends(),
                         testing::BackendName);

}  // namespace
}  // namespace sluice
