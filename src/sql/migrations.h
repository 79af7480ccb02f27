// Versioned schema migrations for the catalog database (which also holds the
// embedded task queue's `tasks` table).
//
// Migrations are written in SQLite's spelling; on PostgreSQL they run as
// PostgresDdl translates them, so both backends get the same migrations.
//
// Each migration has a version number and runs in its own write transaction
// (SqlDb::Transaction) that also records the version in `schema_migrations`. The
// version check happens inside that transaction, so applying is idempotent
// and two processes opening the same database at once apply each migration
// exactly once (the second waits for the write lock, then sees it done).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "sql/sql_db.h"

namespace sluice {

struct Migration {
  int64_t version = 0;  // strictly increasing, never reused
  std::string name;     // short description, stored with the version
  std::string sql;      // one or more statements
};

// `sqlite_ddl` as PostgreSQL spells it: INTEGER -> BIGINT, a rowid alias
// (`id INTEGER PRIMARY KEY`, with or without AUTOINCREMENT) -> BIGSERIAL,
// REAL -> DOUBLE PRECISION, BLOB -> BYTEA, SQLite's random hex id ->
// md5(gen_random_uuid()::text). Everything else is common SQL.
std::string PostgresDdl(const std::string& sqlite_ddl);

// The catalog's migrations, in order.
const std::vector<Migration>& CatalogMigrations();

// Applies the migrations in `migrations` whose version is not yet recorded.
// Fails with kFailedPrecondition if the database records a version newer than
// the last one known (written by a newer sluice).
Status ApplyMigrations(SqlDb& db, const std::vector<Migration>& migrations);

// ApplyMigrations(db, CatalogMigrations()): brings a catalog database (and its
// `tasks` table) up to date.
Status ApplyCatalogMigrations(SqlDb& db);

// Versions recorded in schema_migrations, ascending (empty for a new file).
Result<std::vector<int64_t>> AppliedMigrationVersions(SqlDb& db);

}  // namespace sluice
