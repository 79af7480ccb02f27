// Loading one batch's rows into a `postgres` output, exactly once per
// (output, batch), in one PostgreSQL transaction (issue 12):
//
//   BEGIN; SET LOCAL statement_timeout (if configured)
//   pg_advisory_xact_lock(output, batch)       loaders of one batch take turns
//   the ledger row of (output, batch), if any:
//     this attempt     -> already loaded: nothing is written (a retry after a
//                         crash between COMMIT and its acknowledgement)
//     a newer attempt  -> kAborted: this one is stale
//     an older attempt -> a replay: its rows are replaced (below)
//   append         COPY target (fields, _sluice_batch_id) FROM STDIN (FORMAT
//                  binary), streamed from the staged file in the pipeline's order
//   replace_batch  DELETE FROM target WHERE _sluice_batch_id = batch, then as append
//   upsert         SAVEPOINT; COPY target FROM STDIN as append: done if every
//                  key is new and once in the batch; at the first unique
//                  violation (23505) back to the savepoint, and
//                  CREATE TEMP TABLE ... ON COMMIT DROP (the fields,
//                  _sluice_batch_id, _sluice_row numbered as COPY reads them),
//                  COPY the stream again into it, then SAVEPOINT; INSERT ...
//                  SELECT ... ON CONFLICT (key) DO UPDATE ... WHERE the row
//                  changes; if a key is twice in the batch (21000), back to
//                  the savepoint and SELECT DISTINCT ON (key) ... ORDER BY
//                  key, _sluice_row DESC instead: of rows with one key the
//                  pipeline's last wins, never a PostgreSQL error
//   (append and upsert replays delete the earlier attempt's rows first, by
//   _sluice_batch_id, like replace_batch)
//   the ledger row: (output, batch_id, attempt, pipeline_version, rows, loaded_at)
//   COMMIT
//
// The ledger is `sluice_ledger` in the target's schema. Memory does not grow
// with the batch: the stream is sent as it is read.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/types.h"
#include "sink/postgres_output.h"
#include "sql/pg_db.h"

namespace sluice {

struct PgLoadRequest {
  std::string output_id;  // the ledger's name for the output (stable across versions)
  int64_t batch_id = 0;
  int attempt = 0;
  int64_t pipeline_version = 0;
  // The rows' fields; the stream has them, then _sluice_batch_id (and, in
  // upsert streams staged by an older sluice, _sluice_row).
  Schema schema;
  // The fields the table takes (PreparePostgresTable's answer; empty = all).
  std::vector<std::string> columns;
  // The staged binary COPY stream, a chunk at a time (see PgDb::CopyIn).
  std::function<Result<bool>(std::string& chunk)> next;
  // Starts `next` again from the first byte: an upsert first tries the
  // stream straight into the table, only if this is set.
  std::function<Status()> rewind;
};

struct PgLoadResult {
  enum class Outcome { kLoaded, kAlreadyLoaded, kReplaced };
  Outcome outcome = Outcome::kLoaded;
  int64_t rows = 0;  // rows the load wrote (the earlier load's, when already loaded)
  // Upsert: whether the stream went straight into the table (every key
  // new), met a key already there (then took the temporary table), or the
  // COPY was not tried.
  enum class Copy { kNotTried, kCopied, kConflict };
  Copy copy = Copy::kNotTried;
};

// Whether an upsert into one output tries COPY straight into the table
// (PgLoadRequest::rewind): after a try met a key already there, the next
// 1, 2, 4, ... up to 64 loads (conflicts in a row) go through the temporary
// table at once, so an output that mostly updates rarely reads and sends its
// stream twice; a try that copied resets it. Not thread-safe.
class UpsertCopyPolicy {
 public:
  static constexpr int kMaxSkips = 64;
  // Whether this load tries (and counts a skip if not).
  bool Try() {
    if (skips_ == 0) return true;
    --skips_;
    return false;
  }
  // A tried load's outcome.
  void Record(bool conflict) {
    backoff_ = conflict ? std::min(kMaxSkips, std::max(1, backoff_ * 2)) : 0;
    skips_ = backoff_;
  }

 private:
  int skips_ = 0;
  int backoff_ = 0;
};

// Creates the output's table from `schema` when it is missing and
// `create: if_missing` (with _sluice_batch_id int8, indexed, and for upsert
// a unique key), and the ledger; otherwise checks that the table has a column
// of the same type for every field (kFailedPrecondition naming the column,
// its type and the type the output writes), adding _sluice_batch_id if an
// older table lacks it.
// Under the output's schema_evolution an existing table missing a field gets
// it as a new nullable column and a narrower column is widened (evolve), or
// the field is left out (freeze); returns the fields to load.
Result<std::vector<std::string>> PreparePostgresTable(PgDb& db, const PostgresOutputOptions& out,
                                                      const Schema& schema);

// `sluice validate --connect`: whether the output's table can take `schema`,
// changing nothing. A sentence for people, or kFailedPrecondition naming the
// column (as PreparePostgresTable would refuse it).
Result<std::string> CheckPostgresTable(PgDb& db, const PostgresOutputOptions& out,
                                       const Schema& schema);

// Loads the batch (see the top of this file). PreparePostgresTable first.
Result<PgLoadResult> LoadIntoPostgres(PgDb& db, const PostgresOutputOptions& out,
                                      const PgLoadRequest& req);

}  // namespace sluice
