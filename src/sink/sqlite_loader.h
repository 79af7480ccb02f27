// The `sqlite` output: a table of an SQLite database file, loaded through a
// delivery like a `postgres` output (architecture 6.2): the batch's rows are
// staged in the store (sink/delivery_sink.h) and a loader loads them after
// the batch's commit, exactly once.
//
//   outputs:
//     - sqlite: { path: out.db, table: orders }
//
//   path   the database file; a relative path resolves against the project
//          directory. Created if missing (its directory must exist).
//   table  the target table ([A-Za-z_][A-Za-z0-9_]*, not starting with
//          _sluice_). Created from the rows' schema if missing.
//   also   max_rows_per_second, max_bytes_per_second, high/low_water_rows
//          and _bytes (as for postgres; one load at a time per file) and
//          schema_evolution (default: the pipeline's).
//
// Column types (SQLite has no native date, timestamp or decimal):
//   bool, int32, int64  INTEGER  (bool as 0/1)
//   float64             REAL     (NaN is stored as NULL by SQLite)
//   decimal             TEXT     canonical text ("-12.50" for scale 2), exact
//   string              TEXT
//   date                TEXT     YYYY-MM-DD
//   timestamp           TEXT     ISO-8601 UTC, "2024-01-02T03:04:05.123456Z"
//                                (fraction only when non-zero)
// Fields declared not null get NOT NULL in a created table. An existing
// table must store each field it has in the same class (SQLite's affinity
// rules, so a hand-made INT or VARCHAR(20) column matches); a field it
// lacks is refused (schema_evolution: reject), added as a column (evolve)
// or not loaded (freeze).
//
// Every target table has one more column, _sluice_batch_id INTEGER
// (indexed): the batch that loaded the row. A table made by an older
// sluice gets it at the next load (NULL in its old rows). A field of that
// name is refused.
//
// A load is ONE transaction (BEGIN IMMEDIATE) against the ledger
//   _sluice_ledger(batch_id, target, rows, loaded_us, attempt,
//                  PRIMARY KEY(batch_id, target)):
//   - no row for (batch, table): the rows are inserted (with the batch id)
//     straight from the staged stream and the ledger row written;
//   - a row of this attempt: already loaded (a retry after a crash between
//     the commit and its acknowledgement), nothing is written;
//   - a row of an earlier attempt (a replay): that attempt's rows are
//     deleted by _sluice_batch_id and this attempt's inserted in their
//     place, so readers see the old rows or the new, never both or neither;
//   - a row of a newer attempt: kAborted (this attempt is stale);
//   - a row without an attempt (loaded by an older sluice, rows without a
//     batch id): kFailedPrecondition, naming what to delete by hand.
// The database runs in WAL mode with a busy timeout; contention that
// outlasts it is kUnavailable (the delivery is retried).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/schema_evolution.h"
#include "sink/database_output.h"
#include "sql/sqlite_db.h"

namespace sluice {

struct SqliteOutputOptions {
  std::string path;   // as written; relative -> against the project directory
  std::string table;  // target table
  std::string where;  // spec location ("file:line") for errors
  int busy_timeout_ms = 10000;
  DeliveryLimits limits;  // max_concurrency stays 1: SQLite has one writer
  SchemaEvolution schema_evolution = SchemaEvolution::kReject;

  // "sqlite:<path>#<table>".
  std::string Describe() const;
};

// Parses the args of an `sqlite` output. Unknown keys and bad values are
// kInvalidArgument naming `where` and the key.
Result<SqliteOutputOptions> ParseSqliteOutputOptions(const nlohmann::json& args,
                                                     const std::string& where);

// Makes the ledger and, if missing, the table; checks an existing one (see
// above) and adds what schema_evolution allows. Returns the fields to load.
Result<std::vector<std::string>> PrepareSqliteTable(SqliteDb& db, const SqliteOutputOptions& out,
                                                    const Schema& schema);

// Loads the batch (see the top of this file). PrepareSqliteTable first.
// Malformed staged rows are kDataLoss naming the row and field.
Result<LoadResult> LoadIntoSqlite(SqliteDb& db, const SqliteOutputOptions& out,
                                  const LoadRequest& req);

Result<std::unique_ptr<DatabaseOutput>> NewSqliteDatabaseOutput(const nlohmann::json& args,
                                                                const std::string& where,
                                                                const std::string& project_dir);

}  // namespace sluice
