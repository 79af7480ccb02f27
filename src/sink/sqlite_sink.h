// SQLite sink (kind "sqlite"): loads a batch's rows into a table of an SQLite
// database file, exactly once.
//
//   outputs:
//     - sqlite: { path: out.db, table: orders }
//
//   path   the database file; a relative path resolves against the project
//          directory. Created if missing (its directory must exist).
//   table  the target table ([A-Za-z_][A-Za-z0-9_]*, not starting with _sluice_).
//          Created from the output schema if missing; if it exists its columns
//          must have the same names, order and storage types, otherwise Open
//          fails with kFailedPrecondition naming the table.
//
// Column types (SQLite has no native date, timestamp or decimal):
//   bool, int32, int64  INTEGER  (bool as 0/1)
//   float64             REAL     (NaN is stored as NULL by SQLite)
//   decimal             TEXT     canonical text ("-12.50" for scale 2), exact
//   string              TEXT
//   date                TEXT     YYYY-MM-DD
//   timestamp           TEXT     ISO-8601 UTC, "2024-01-02T03:04:05.123456Z"
//                                (fraction only when non-zero)
// Fields declared not null get NOT NULL in a created table.
//
// Staging. Open creates the stage table _sluice_stage_b<batch>_a<attempt>_<table>
// in the same database (the table name is part of it so that two sqlite
// outputs of one pipeline into one file do not share a stage table); Write
// inserts into it in transactions of at most 50k rows, each committed before
// Write returns (no lock is held between calls). Open also drops the stage
// tables of other attempts of the same batch and table: a dead attempt's stage
// table is cleaned up by the next attempt, since CleanupStaging only sees the
// object store.
//
// Every target table has one more column, _sluice_batch_id INTEGER (last,
// indexed): the batch that loaded the row. A table made by an older sluice
// gets it at the next load (NULL in its old rows). A schema field of that name
// is refused.
//
// Load runs ONE transaction, after the attempt's fence check, against the ledger
//   _sluice_ledger(batch_id, target, rows, loaded_us, attempt,
//                  PRIMARY KEY(batch_id, target)):
//   - no row for (batch, table): the stage rows are copied into the target
//     (with the batch id) and the ledger row written;
//   - a row of this attempt: already loaded (a repeated Load), nothing is copied;
//   - a row of an earlier attempt (a replay, or a retry after a crash between
//     the load and the catalog commit): that attempt's rows are deleted by
//     _sluice_batch_id and this attempt's copied in their place, so readers
//     see the old rows or the new, never both or neither; the ledger row
//     names this attempt;
//   - a row of a newer attempt: kAborted (this attempt is stale);
//   - a row without an attempt (loaded by an older sluice, rows without a
//     batch id): kFailedPrecondition, naming what to delete by hand.
// The stage table is dropped in the same transaction. Discard drops the
// stage table. The database runs in WAL mode with a busy timeout; contention
// that outlasts it is kUnavailable (retry the batch).
#pragma once

#include <memory>
#include <string>

#include "sink/sink.h"

namespace sluice {

struct SqliteSinkOptions {
  std::string path;   // database file; relative -> against SinkContext::project_dir
  std::string table;  // target table
  std::string where;  // spec location ("file:line") for errors
  int busy_timeout_ms = 10000;
  int64_t rows_per_transaction = 50000;  // stage inserts per transaction

  Status Validate() const;
};

// Parses the args of an `sqlite` output. Unknown keys and bad values are
// kInvalidArgument naming `where` and the key.
Result<SqliteSinkOptions> ParseSqliteSinkOptions(const nlohmann::json& args,
                                                 const std::string& where);

std::unique_ptr<Sink> NewSqliteSink(SqliteSinkOptions options);

}  // namespace sluice
