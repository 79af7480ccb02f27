// A database output as loaders see it (architecture 6.2): `postgres`
// (sink/pg_loader.h) and `sqlite` (sink/sqlite_loader.h). Both stage a
// batch's rows the same way (a binary COPY stream in the store, see
// sink/pg_copy.h, written by the delivery sink of sink/delivery_sink.h) and
// are loaded after the batch's commit by DeliveryLoader, exactly once per
// (output, batch), through a ledger in the target database:
//
//   Connect   a connection to the output's database
//   Prepare   the table made or checked for the rows' schema (once per
//             output and schema in a process); returns the fields to load
//   Load      the ledger read, the rows of an earlier attempt replaced, the
//             stream loaded and the ledger row written, in one transaction
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "core/types.h"
#include "sql/sql_db.h"

namespace sluice {

struct LoadRequest {
  std::string output_id;  // the ledger's name for the output (stable across versions)
  int64_t batch_id = 0;
  int attempt = 0;
  int64_t pipeline_version = 0;
  // The rows' fields; the stream has them, then _sluice_batch_id (and, in
  // upsert streams staged by an older sluice, _sluice_row).
  Schema schema;
  // The fields the table takes (Prepare's answer; empty = all).
  std::vector<std::string> columns;
  // The staged binary COPY stream, a chunk at a time (see PgDb::CopyIn).
  std::function<Result<bool>(std::string& chunk)> next;
  // Starts `next` again from the first byte: a PostgreSQL upsert first
  // tries the stream straight into the table, only if this is set.
  std::function<Status()> rewind;
};

struct LoadResult {
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
// (LoadRequest::rewind): after a try met a key already there, the next 1,
// 2, 4, ... up to 64 loads (conflicts in a row) go through the temporary
// table at once, so an output that mostly updates rarely reads and sends
// its stream twice; a try that copied resets it. Not thread-safe.
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

// How much of a database a delivery may take, and the backlog that holds
// its pipelines back (engine/backpressure.h).
struct DeliveryLimits {
  int64_t max_concurrency = 1;  // loads into the output at once, per process
  std::optional<int64_t> max_rows_per_second;
  std::optional<int64_t> max_bytes_per_second;
  int64_t high_water_rows = 10'000'000;
  int64_t high_water_bytes = int64_t{1} << 30;
  int64_t low_water_rows = 5'000'000;
  int64_t low_water_bytes = int64_t{1} << 29;
};

class DatabaseOutput {
 public:
  virtual ~DatabaseOutput() = default;
  // The output's id: "postgres:<dsn without password>#<table>",
  // "sqlite:<path as written>#<table>". Deliveries and ledgers use it.
  virtual std::string Describe() const = 0;
  // The target table as the spec names it ("analytics.orders", "orders").
  virtual std::string Table() const = 0;
  // The database: loads into one share max_loads_per_database, one circuit
  // breaker and a pool of connections. May hold a secret (a DSN's
  // password): never printed; `DatabaseDisplay` is.
  virtual const std::string& Database() const = 0;
  virtual std::string DatabaseDisplay() const = 0;
  virtual const DeliveryLimits& Limits() const = 0;
  // An upsert output (UpsertCopyPolicy applies).
  virtual bool Upsert() const { return false; }
  // The rows of `schema` can load here (checked when staging, before any
  // row is written): kInvalidArgument naming the spec location.
  virtual Status CheckSchema(const Schema& schema) const = 0;
  virtual Result<std::unique_ptr<SqlDb>> Connect() const = 0;
  virtual Result<std::vector<std::string>> Prepare(SqlDb& db, const Schema& schema) const = 0;
  virtual Result<LoadResult> Load(SqlDb& db, const LoadRequest& req) const = 0;
  // Whether `error` says the database cannot be reached at all (the
  // breaker counts it), rather than that it refused this load.
  virtual bool Unreachable(const Status& error) const = 0;
};

class SinkArgs;

// The limit keys an output's args may set: max_concurrency (when
// `concurrency`, at most 64), max_rows_per_second, max_bytes_per_second,
// high_water_rows/bytes and low_water_rows/bytes (default: half the high).
// kInvalidArgument naming the key.
Result<DeliveryLimits> ParseDeliveryLimits(const SinkArgs& args, bool concurrency);

// The output kinds loaded through deliveries.
bool IsDatabaseOutputKind(std::string_view kind);

// The output of a spec's `kind` and args (as the spec wrote them, ${VAR}s
// expanded here); kInvalidArgument naming `where` and the key. A relative
// sqlite path resolves against `project_dir` (no matter when only
// Describe, Table, Limits and CheckSchema are used).
Result<std::unique_ptr<DatabaseOutput>> ParseDatabaseOutput(std::string_view kind,
                                                            const nlohmann::json& args,
                                                            const std::string& where,
                                                            const std::string& project_dir);

}  // namespace sluice
