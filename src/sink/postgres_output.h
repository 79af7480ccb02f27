// The options of a `postgres` output (issue 12), checked without a
// connection:
//
//   outputs:
//     - postgres:
//         dsn: ${ORDERS_PG}           # libpq URI or key=value string
//         table: analytics.orders     # [schema.]name
//         mode: upsert                # append (default) | upsert | replace_batch
//         key: [order_id]             # upsert: the conflict key (required there)
//         create: if_missing          # if_missing (default) | never
//         max_concurrency: 2          # loads into this output at once (default 1)
//         max_rows_per_second: 200000 # token buckets shared by the output's
//         max_bytes_per_second: 50000000  #   loaders in a process (default: none)
//         statement_timeout: 5m       # per statement (default: the server's)
//         schema_evolution: evolve    # default: the pipeline's (core/schema_evolution.h)
//         high_water_rows: 5000000    # backpressure: pending rows or bytes
//         high_water_bytes: 1073741824  #   above which the pipeline's batches
//         low_water_rows: 2500000     #   wait, until the backlog is below the
//         low_water_bytes: 536870912  #   low marks (default: half the high)
//
// `dsn` has ${VAR} / ${VAR:-default} expanded when the spec is read, so the
// stored spec keeps the reference and each process uses its own environment.
// The expanded DSN is only ever passed to libpq: messages, `Describe()` and
// lineage show `display_dsn`, without the password.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/schema_evolution.h"
#include "core/status.h"
#include "core/types.h"
#include "sink/database_output.h"

namespace sluice {

enum class PgLoadMode { kAppend, kUpsert, kReplaceBatch };
enum class PgCreateMode { kIfMissing, kNever };

std::string_view PgLoadModeName(PgLoadMode mode);

// PostgreSQL's identifiers are at most 63 bytes (longer ones are cut, so two
// columns could become one).
inline constexpr size_t kPgMaxIdentifier = 63;

struct PostgresOutputOptions {
  std::string dsn;          // expanded; for libpq only
  std::string display_dsn;  // without the password
  std::string schema_name;  // empty: the connection's search_path
  std::string table;
  PgLoadMode mode = PgLoadMode::kAppend;
  std::vector<std::string> key;  // upsert only
  PgCreateMode create = PgCreateMode::kIfMissing;
  DeliveryLimits limits;                           // max_concurrency, rates, water marks
  std::chrono::milliseconds statement_timeout{0};  // 0 = the server's
  // The pipeline's schema_evolution (recorded with each delivery; an output
  // may also set its own): whether a load adds new columns and widens
  // (evolve), loads only the table's columns (freeze) or refuses (reject).
  SchemaEvolution schema_evolution = SchemaEvolution::kReject;
  std::string where;  // the spec location, "file:line"

  // "postgres:<display dsn>#<schema.table>": for logs and lineage.
  std::string Describe() const;
  // The rows of `schema` can load into this output: every key column is a
  // field, and no field is named _sluice_batch_id (sluice's own column) or
  // longer than PostgreSQL keeps. kInvalidArgument naming `where`.
  Status CheckSchema(const Schema& schema) const;
};

// Parses and checks the args of a `postgres` output; unknown keys and bad
// values are kInvalidArgument naming `where` and the key.
Result<PostgresOutputOptions> ParsePostgresOutputOptions(const nlohmann::json& args,
                                                         const std::string& where);

}  // namespace sluice
