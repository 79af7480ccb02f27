#include "sql/sqlite_db.h"

#include <gtest/gtest.h>

#include <string>

#include "../catalog/catalog_test_util.h"

namespace sluice {
namespace {

using ::sluice::testing::CatalogTempDir;

class SqliteDbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = SqliteDb::Open(dir_.File("t.db"));
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    ASSERT_TRUE(db_->Exec("CREATE TABLE kv (k TEXT PRIMARY KEY, v INTEGER, d REAL, b BLOB)").ok());
  }

  int64_t Count() {
    auto s = db_->Prepare("SELECT COUNT(*) FROM kv");
    EXPECT_TRUE(s.ok());
    EXPECT_TRUE(*s->Step());
    return s->ColumnInt64(0);
  }

  CatalogTempDir dir_;
  std::unique_ptr<SqliteDb> db_;
};

TEST_F(SqliteDbTest, OpensInWalMode) {
  auto s = db_->Prepare("PRAGMA journal_mode");
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE(*s->Step());
  EXPECT_EQ(s->ColumnText(0), "wal");
}

TEST_F(SqliteDbTest, BindStepAndColumnsRoundTrip) {
  auto ins = db_->Prepare("INSERT INTO kv (k, v, d, b) VALUES (?1, ?2, ?3, ?4)");
  ASSERT_TRUE(ins.ok());
  std::string blob("a\0b", 3);
  ins->Bind(1, "key").Bind(2, int64_t{1} << 40).Bind(3, 2.5).BindBlob(4, blob);
  ASSERT_TRUE(ins->Exec().ok());
  EXPECT_EQ(db_->Changes(), 1);
  EXPECT_GT(db_->LastInsertRowId(), 0);

  ins->Reset();
  ins->ClearBindings();
  ins->Bind(1, "nulls").BindNull(2).Bind(3, 0.0).Bind(4, std::optional<int64_t>());
  ASSERT_TRUE(ins->Exec().ok());

  auto sel = db_->Prepare("SELECT k, v, d, b FROM kv ORDER BY k");
  ASSERT_TRUE(sel.ok());
  ASSERT_TRUE(*sel->Step());
  EXPECT_EQ(sel->ColumnCount(), 4);
  EXPECT_EQ(sel->ColumnText(0), "key");
  EXPECT_EQ(sel->ColumnInt64(1), int64_t{1} << 40);
  EXPECT_DOUBLE_EQ(sel->ColumnDouble(2), 2.5);
  EXPECT_EQ(sel->ColumnText(3), blob);
  ASSERT_TRUE(*sel->Step());
  EXPECT_EQ(sel->ColumnText(0), "nulls");
  EXPECT_TRUE(sel->ColumnIsNull(1));
  EXPECT_EQ(sel->ColumnOptionalInt64(1), std::nullopt);
  EXPECT_TRUE(sel->ColumnIsNull(3));
  EXPECT_FALSE(*sel->Step());
}

TEST_F(SqliteDbTest, TransactionCommitsOnOk) {
  Status st = db_->Transaction([&] { return db_->Exec("INSERT INTO kv (k) VALUES ('a')"); });
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_FALSE(db_->InTransaction());
  EXPECT_EQ(Count(), 1);
}

TEST_F(SqliteDbTest, TransactionRollsBackOnError) {
  Status st = db_->Transaction([&]() -> Status {
    RETURN_IF_ERROR(db_->Exec("INSERT INTO kv (k) VALUES ('a')"));
    return Status::FailedPrecondition("changed my mind");
  });
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition);
  EXPECT_FALSE(db_->InTransaction());
  EXPECT_EQ(Count(), 0);
}

TEST_F(SqliteDbTest, NestedTransactionRunsInsideOuter) {
  Status st = db_->Transaction([&]() -> Status {
    RETURN_IF_ERROR(db_->Transaction([&] { return db_->Exec("INSERT INTO kv (k) VALUES ('a')"); }));
    EXPECT_TRUE(db_->InTransaction());
    return Status::Aborted("outer fails");
  });
  EXPECT_EQ(st.code(), StatusCode::kAborted);
  EXPECT_EQ(Count(), 0);
}

TEST_F(SqliteDbTest, UniqueViolationIsAlreadyExistsAndNamesPath) {
  ASSERT_TRUE(db_->Exec("INSERT INTO kv (k) VALUES ('a')").ok());
  auto ins = db_->Prepare("INSERT INTO kv (k) VALUES (?1)");
  ASSERT_TRUE(ins.ok());
  ins->Bind(1, "a");
  Status st = ins->Exec();
  EXPECT_EQ(st.code(), StatusCode::kAlreadyExists);
  EXPECT_NE(st.message().find(dir_.File("t.db")), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("UNIQUE"), std::string::npos) << st.message();
}

TEST_F(SqliteDbTest, BadSqlIsInternalError) {
  auto s = db_->Prepare("SELEC nonsense");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kInternal);
  EXPECT_NE(s.status().message().find("t.db"), std::string::npos);
  EXPECT_EQ(db_->Exec("INSERT INTO missing VALUES (1)").code(), StatusCode::kInternal);
}

TEST_F(SqliteDbTest, BindOutOfRangeIsReportedByStep) {
  auto s = db_->Prepare("SELECT ?1");
  ASSERT_TRUE(s.ok());
  s->Bind(5, int64_t{1});
  auto r = s->Step();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("bind parameter 5"), std::string::npos)
      << r.status().message();
}

TEST_F(SqliteDbTest, TableExists) {
  EXPECT_TRUE(*db_->TableExists("kv"));
  EXPECT_FALSE(*db_->TableExists("nope"));
}

TEST_F(SqliteDbTest, WriterLockedOutReportsUnavailable) {
  SqliteDb::Options opts;
  opts.busy_timeout_ms = 20;
  opts.busy_retries = 1;
  auto other = SqliteDb::Open(dir_.File("t.db"), opts);
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE(db_->BeginImmediate().ok());
  Status st =
      (*other)->Transaction([&] { return (*other)->Exec("INSERT INTO kv (k) VALUES ('x')"); });
  EXPECT_EQ(st.code(), StatusCode::kUnavailable) << st.ToString();
  EXPECT_TRUE(st.IsRetryable());
  // Readers are not blocked by the writer in WAL mode.
  auto r = (*other)->Prepare("SELECT COUNT(*) FROM kv");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->Step().ok());
  ASSERT_TRUE(db_->Commit().ok());
  EXPECT_TRUE((*other)
                  ->Transaction([&] { return (*other)->Exec("INSERT INTO kv (k) VALUES ('x')"); })
                  .ok());
}

TEST(SqliteDbOpenTest, MissingDirectoryIsIOErrorNamingPath) {
  auto db = SqliteDb::Open("/nonexistent-dir-for-sluice/x.db");
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), StatusCode::kIOError);
  EXPECT_NE(db.status().message().find("/nonexistent-dir-for-sluice/x.db"), std::string::npos);
}

TEST(SqliteDbOpenTest, InMemoryDatabaseWorks) {
  auto db = SqliteDb::Open(":memory:");
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  EXPECT_TRUE((*db)->Exec("CREATE TABLE t (x)").ok());
}

}  // namespace
}  // namespace sluice
