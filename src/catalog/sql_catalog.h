// The catalog over SQL (SqlCatalog, catalog/internal/sql_catalog_impl.h): the
// catalog's rules written once over SqlDb, with two backends: an SQLite file
// (embedded mode) and a PostgreSQL database (several processes and hosts
// share one catalog). Both run the same migrations and the same statements.
//
// Choices the Catalog contract leaves open, as the SQL catalog makes them:
// - Snapshot ids come from one sequence shared by all tables, so they grow
//   within each table but are not dense per table. A ReplayBatch of a
//   committed batch adds a 'remove' snapshot (added_files = 0) per table.
// - TransitionBatch never moves a batch to committed: only CommitBatch does,
//   atomically with its files. Quarantine is reachable both ways.
// - CommitBatch with an empty file list still creates the table and a
//   snapshot; a file whose staging_key is empty (or equal to its key) gets no
//   publication.
// - ReplayBatch drops the batch's lineage rows and resets its stats; the
//   removed files stay in data_files (visible to older snapshots).
// - MarkPublished is idempotent; kNotFound for a staging key never recorded.
// - Connections: one per catalog, guarded by a mutex; open one catalog per
//   process and share it between threads.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "sql/pg_db.h"
#include "sql/sqlite_db.h"

namespace sluice {

struct SqliteCatalogOptions {
  // Source of every timestamp the catalog writes (microseconds since the
  // epoch); NowMicros() when empty.
  std::function<int64_t()> now_us;
  SqliteDb::Options db;
};

Result<std::unique_ptr<Catalog>> OpenSqliteCatalog(const std::string& path,
                                                   const SqliteCatalogOptions& options);

struct PostgresCatalogOptions {
  std::function<int64_t()> now_us;
  PgDb::Options db;
  // Connections (one catalog each, see NewCatalogPool) that the process's
  // threads share.
  int connections = 4;
};

// Opens the catalog in the PostgreSQL database `dsn` (a libpq URI or
// key=value string) and applies pending migrations.
Result<std::unique_ptr<Catalog>> OpenPostgresCatalog(const std::string& dsn,
                                                     const PostgresCatalogOptions& options);

// One Catalog over several interchangeable ones on the same database: each
// call borrows a member (waiting while all are busy). One member is returned
// as it is.
std::unique_ptr<Catalog> NewCatalogPool(std::vector<std::unique_ptr<Catalog>> members);

// A catalog over an open database (migrations applied here).
Result<std::unique_ptr<Catalog>> OpenSqlCatalog(std::unique_ptr<SqlDb> db,
                                                std::function<int64_t()> now_us);

}  // namespace sluice
