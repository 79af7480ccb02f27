// A fresh, empty database per test on either backend, so that one suite of
// catalog and queue tests (the conformance suite) runs against both:
//   - SQLite: a file in a temporary directory;
//   - PostgreSQL: a new database on the server named by SLUICE_TEST_PG_DSN
//     (a libpq URI; scripts/test-services.sh starts one and scripts/test.sh
//     exports it), dropped afterwards.
// Without SLUICE_TEST_PG_DSN the PostgreSQL cases fail, saying how to start
// the server: a conformance suite that silently skips a backend proves nothing.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "sql/pg_db.h"
#include "sql/sqlite_db.h"

namespace sluice::testing {

enum class SqlBackend { kSqlite, kPostgres };

inline std::string BackendName(const ::testing::TestParamInfo<SqlBackend>& info) {
  return info.param == SqlBackend::kSqlite ? "Sqlite" : "Postgres";
}

// Both backends, for INSTANTIATE_TEST_SUITE_P.
inline auto AllBackends() { return ::testing::Values(SqlBackend::kSqlite, SqlBackend::kPostgres); }

// `uri` (postgresql://user@host:port/db?opts) naming database `name` instead.
inline std::string WithDatabase(const std::string& uri, const std::string& name) {
  size_t scheme = uri.find("://");
  size_t slash = uri.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  size_t query = uri.find('?');
  std::string head = slash == std::string::npos ? uri.substr(0, query) : uri.substr(0, slash);
  std::string tail = query == std::string::npos ? "" : uri.substr(query);
  return head + "/" + name + tail;
}

// The rows of `sql`, each as its columns' text joined by '|' ("NULL" for a
// null); a failed query adds a test failure and ends the list.
inline std::vector<std::string> QueryText(SqlDb& db, const std::string& sql) {
  std::vector<std::string> out;
  auto s = db.Prepare(sql);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  if (!s.ok()) return out;
  while (true) {
    auto row = s->Step();
    EXPECT_TRUE(row.ok()) << row.status().ToString();
    if (!row.ok() || !*row) break;
    std::string line;
    for (int c = 0; c < s->ColumnCount(); ++c) {
      line += (c ? "|" : "") + (s->ColumnIsNull(c) ? std::string("NULL") : s->ColumnText(c));
    }
    out.push_back(line);
  }
  return out;
}

class TestDatabase {
 public:
  explicit TestDatabase(SqlBackend backend) : backend_(backend) {
    if (backend == SqlBackend::kSqlite) {
      std::string tmpl = (std::filesystem::temp_directory_path() / "sluice_db_XXXXXX").string();
      char* made = mkdtemp(tmpl.data());
      dir_ = made != nullptr ? made : "";
      location_ = dir_ + "/catalog.db";
      return;
    }
    const char* admin = std::getenv("SLUICE_TEST_PG_DSN");
    if (admin == nullptr || *admin == '\0') {
      ADD_FAILURE() << "SLUICE_TEST_PG_DSN is not set: start the test servers with "
                       "`scripts/test-services.sh start DIR` and export DIR/env "
                       "(`set -a; . DIR/env; set +a`), or run scripts/test.sh";
      return;
    }
    admin_ = admin;
    static std::atomic<int> counter{0};
    name_ = "sluice_t_" + std::to_string(getpid()) + "_" + std::to_string(counter++);
    auto db = PgDb::Open(admin_);
    if (!db.ok()) {
      ADD_FAILURE() << db.status().ToString();
      return;
    }
    Status st = (*db)->Exec("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
    if (st.ok()) st = (*db)->Exec("CREATE DATABASE " + name_);
    if (!st.ok()) {
      ADD_FAILURE() << st.ToString();
      return;
    }
    location_ = WithDatabase(admin_, name_);
  }
  ~TestDatabase() {
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
    if (!name_.empty()) {
      auto db = PgDb::Open(admin_);
      if (db.ok()) (*db)->Exec("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)").IgnoreError();
    }
  }
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;

  SqlBackend backend() const { return backend_; }
  bool postgres() const { return backend_ == SqlBackend::kPostgres; }
  // The SQLite file's path or the PostgreSQL URI (what `catalog:` takes).
  const std::string& location() const { return location_; }
  // A connection of its own.
  Result<std::unique_ptr<SqlDb>> Open() const {
    if (postgres()) {
      ASSIGN_OR_RETURN(std::unique_ptr<PgDb> db, PgDb::Open(location_));
      return std::unique_ptr<SqlDb>(std::move(db));
    }
    ASSIGN_OR_RETURN(std::unique_ptr<SqliteDb> db, SqliteDb::Open(location_));
    return std::unique_ptr<SqlDb>(std::move(db));
  }

 private:
  SqlBackend backend_;
  std::string dir_;
  std::string admin_;
  std::string name_;
  std::string location_;
};

}  // namespace sluice::testing
