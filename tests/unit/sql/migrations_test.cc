#include "sql/migrations.h"

#include "sql/sqlite_db.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "../catalog/catalog_test_util.h"

namespace sluice {
namespace {

using ::sluice::testing::CatalogTempDir;

std::unique_ptr<SqliteDb> OpenDb(const std::string& path) {
  auto db = SqliteDb::Open(path);
  EXPECT_TRUE(db.ok()) << db.status().ToString();
  return db.ok() ? std::move(db).value() : nullptr;
}

TEST(MigrationsTest, CreatesEveryCatalogTable) {
  CatalogTempDir dir;
  auto db = OpenDb(dir.File("c.db"));
  ASSERT_TRUE(ApplyCatalogMigrations(*db).ok());
  for (const char* t : {"pipelines", "pipeline_versions", "batches", "batch_landings",
                        "batch_events", "lake_tables", "snapshots", "data_files", "lineage",
                        "publications", "tasks", "schema_migrations"}) {
    EXPECT_TRUE(*db->TableExists(t)) << t;
  }
  auto versions = AppliedMigrationVersions(*db);
  ASSERT_TRUE(versions.ok());
  EXPECT_EQ(versions->size(), CatalogMigrations().size());
}

TEST(MigrationsTest, ApplyingTwiceIsANoOp) {
  CatalogTempDir dir;
  auto db = OpenDb(dir.File("c.db"));
  ASSERT_TRUE(ApplyCatalogMigrations(*db).ok());
  ASSERT_TRUE(db->Exec("INSERT INTO pipelines VALUES ('p', 1, 0)").ok());
  Status again = ApplyCatalogMigrations(*db);
  ASSERT_TRUE(again.ok()) << again.ToString();
  // Data survives and no version is recorded twice.
  auto s = db->Prepare("SELECT COUNT(*) FROM pipelines");
  ASSERT_TRUE(*s->Step());
  EXPECT_EQ(s->ColumnInt64(0), 1);
  EXPECT_EQ(AppliedMigrationVersions(*db)->size(), CatalogMigrations().size());
}

TEST(MigrationsTest, OnlyPendingMigrationsRun) {
  CatalogTempDir dir;
  auto db = OpenDb(dir.File("m.db"));
  std::vector<Migration> v1 = {{1, "one", "CREATE TABLE a (x INTEGER)"}};
  ASSERT_TRUE(ApplyMigrations(*db, v1).ok());
  // Version 1 would fail if it ran again (the table exists).
  std::vector<Migration> v2 = v1;
  v2.push_back({2, "two", "CREATE TABLE b (y INTEGER); INSERT INTO b VALUES (7)"});
  Status st = ApplyMigrations(*db, v2);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(*AppliedMigrationVersions(*db), (std::vector<int64_t>{1, 2}));
}

TEST(MigrationsTest, FailingMigrationRollsBackAndNamesItself) {
  CatalogTempDir dir;
  auto db = OpenDb(dir.File("m.db"));
  std::vector<Migration> ms = {{1, "good", "CREATE TABLE a (x)"},
                               {2, "broken", "CREATE TABLE b (y); INSERT INTO nowhere VALUES (1)"}};
  Status st = ApplyMigrations(*db, ms);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("migration 2 (broken)"), std::string::npos) << st.message();
  EXPECT_TRUE(*db->TableExists("a"));
  EXPECT_FALSE(*db->TableExists("b"));  // the whole migration rolled back
  EXPECT_EQ(*AppliedMigrationVersions(*db), (std::vector<int64_t>{1}));
}

TEST(MigrationsTest, NewerDatabaseIsRefused) {
  CatalogTempDir dir;
  auto db = OpenDb(dir.File("m.db"));
  std::vector<Migration> newer = {{1, "one", "CREATE TABLE a (x)"},
                                  {2, "two", "CREATE TABLE b (x)"}};
  ASSERT_TRUE(ApplyMigrations(*db, newer).ok());
  std::vector<Migration> older = {{1, "one", "CREATE TABLE a (x)"}};
  Status st = ApplyMigrations(*db, older);
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition) << st.ToString();
}

TEST(MigrationsTest, ConcurrentOpenersApplyEachMigrationOnce) {
  CatalogTempDir dir;
  const std::string path = dir.File("c.db");
  constexpr int kThreads = 4;
  std::vector<Status> results(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      auto db = SqliteDb::Open(path);
      if (!db.ok()) {
        results[i] = db.status();
        return;
      }
      results[i] = ApplyCatalogMigrations(**db);
    });
  }
  for (auto& t : threads) t.join();
  for (const Status& st : results) EXPECT_TRUE(st.ok()) << st.ToString();
  auto db = OpenDb(path);
  EXPECT_EQ(AppliedMigrationVersions(*db)->size(), CatalogMigrations().size());
}

}  // namespace
}  // namespace sluice
