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
#include "sink/database_output.h"
#include "sink/postgres_output.h"
#include "sql/pg_db.h"

namespace sluice {

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
Result<LoadResult> LoadIntoPostgres(PgDb& db, const PostgresOutputOptions& out,
                                    const LoadRequest& req);

// The output of a `postgres` spec's args, for loaders (connections named
// "sluice loader", waiting on locks without a timeout: a batch's advisory
// lock waits for its other loader).
Result<std::unique_ptr<DatabaseOutput>> NewPostgresDatabaseOutput(const nlohmann::json& args,
                                                                  const std::string& where);

}  // namespace sluice
