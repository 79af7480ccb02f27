#include "engine/loader.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <utility>

#include "core/clock.h"
#include "core/log.h"
#include "core/metrics.h"
#include "format/compression.h"
#include "sql/sql_db.h"

namespace sluice {

// One output in this process: its concurrency, its token buckets (shared by
// every load into it) and the schema its table was last prepared for.
struct DeliveryLoader::Output {
  int64_t max_concurrency = 1;
  int active = 0;
  std::unique_ptr<TokenBucket> rows;
  std::unique_ptr<TokenBucket> bytes;
  // What the last PreparePostgresTable was for (schema and spec) and its
  // answer: the fields the table takes.
  std::string prepared_for;
  std::vector<std::string> columns;
  UpsertCopyPolicy upsert_copy;
};

// One database (by DSN or file): its breaker, loads in progress and idle
// connections.
struct DeliveryLoader::Database {
  explicit Database(const CircuitBreaker::Options& o) : breaker(o) {}
  std::string display;
  CircuitBreaker breaker;
  int active = 0;
  std::vector<std::unique_ptr<SqlDb>> idle;
};

// How one delivery's load ended.
struct DeliveryLoader::LoadEnd {
  enum class Kind { kDelivered, kFailed, kDone, kRetry } kind = Kind::kRetry;
  std::chrono::milliseconds retry_in{0};
};

namespace {

// Reading the staged object, as COPY chunks, through the output's buckets.
// Rows are charged as the compressed bytes are consumed (the object's rows
// spread over its bytes), the rest at the end, so the row rate holds over
// any span longer than a chunk.
class StagedRows {
 public:
  StagedRows(std::unique_ptr<InputStream> in, const Delivery& d, TokenBucket* rows,
             TokenBucket* bytes, size_t chunk_bytes, const std::atomic<bool>* cancel)
      : in_(std::move(in)),
        total_rows_(d.rows),
        total_bytes_(std::max<int64_t>(1, d.bytes)),
        rows_(rows),
        bytes_(bytes),
        chunk_bytes_(chunk_bytes),
        cancel_(cancel) {}

  Result<bool> Next(std::string& chunk) {
    if (cancel_ != nullptr && cancel_->load()) {
      return Status::Aborted("loader stopping: the load is cancelled");
    }
    chunk.resize(chunk_bytes_);
    ASSIGN_OR_RETURN(size_t n, in_->Read(chunk.data(), chunk.size()));
    chunk.resize(n);
    if (n == 0) {
      Charge(total_rows_ - charged_rows_, 0);
      return false;
    }
    const int64_t consumed = std::min(in_->BytesConsumed(), total_bytes_);
    const int64_t due = total_rows_ * consumed / total_bytes_;
    Charge(due - charged_rows_, static_cast<double>(n));
    return true;
  }

 private:
  void Charge(int64_t rows, double bytes) {
    if (rows > 0) {
      charged_rows_ += rows;
      if (rows_ != nullptr) rows_->Acquire(static_cast<double>(rows));
    }
    if (bytes > 0 && bytes_ != nullptr) bytes_->Acquire(bytes);
  }

  std::unique_ptr<InputStream> in_;
  const int64_t total_rows_;
  const int64_t total_bytes_;
  TokenBucket* rows_;
  TokenBucket* bytes_;
  const size_t chunk_bytes_;
  const std::atomic<bool>* cancel_;
  int64_t charged_rows_ = 0;
};

// docs/architecture.md 8.2. Errors and retries: metrics::CountError.
struct LoaderMetricFamilies {
  metrics::Family<metrics::Counter>& deliveries = metrics::Default().AddCounter(
      "sluice_deliveries_total",
      "Delivery loads tried, by output and outcome (delivered, failed, retry, superseded).",
      {"output", "outcome"});
  metrics::Family<metrics::Histogram>& load_seconds = metrics::Default().AddHistogram(
      "sluice_load_duration_seconds",
      "Time from a delivery's start to its rows being in the database and recorded, by output.",
      {"output"});
  metrics::Family<metrics::Counter>& rows_loaded = metrics::Default().AddCounter(
      "sluice_rows_loaded_total",
      "Rows loaded into database outputs (loads that found their rows already there not "
      "counted), by output.",
      {"output"});
};

LoaderMetricFamilies& LoaderMetrics() {
  static LoaderMetricFamilies m;
  return m;
}

void CountLoaderError(std::string_view port, const Status& st, bool retried) {
  if (st.ok()) return;
  metrics::CountError(port, st, retried);
}

std::unique_ptr<TokenBucket> Bucket(const std::optional<int64_t>& per_second) {
  if (!per_second) return nullptr;
  // One second's worth up front: a burst no larger than the limit itself.
  const double rate = static_cast<double>(*per_second);
  return std::make_unique<TokenBucket>(rate, rate);
}

}  // namespace

LoaderOptions LoaderOptionsFor(const Config& config) {
  LoaderOptions lo;
  lo.max_loads_per_database = config.max_loads_per_database;
  lo.project_dir = config.project_dir;
  return lo;
}

DeliveryLoader::DeliveryLoader(Catalog& catalog, ObjectStore& store, LoaderOptions options)
    : catalog_(catalog), store_(store), options_(std::move(options)) {}

DeliveryLoader::~DeliveryLoader() = default;

std::map<std::string, CircuitBreaker::State> DeliveryLoader::BreakerStates() {
  MutexLock lock(&mu_);
  std::map<std::string, CircuitBreaker::State> out;
  for (const auto& [dsn, db] : databases_) out[db->display] = db->breaker.state();
  return out;
}

DeliveryLoader::Output& DeliveryLoader::OutputFor(const std::string& id,
                                                  const DeliveryLimits& limits) {
  MutexLock lock(&mu_);
  std::unique_ptr<Output>& out = outputs_[id];
  if (out == nullptr) {
    out = std::make_unique<Output>();
    out->rows = Bucket(limits.max_rows_per_second);
    out->bytes = Bucket(limits.max_bytes_per_second);
  }
  // The newest version's setting (the output's id does not change with it).
  out->max_concurrency = std::max<int64_t>(1, limits.max_concurrency);
  return *out;
}

DeliveryLoader::Database& DeliveryLoader::DatabaseFor(const std::string& database,
                                                      const std::string& display) {
  MutexLock lock(&mu_);
  std::unique_ptr<Database>& db = databases_[database];
  if (db == nullptr) {
    db = std::make_unique<Database>(options_.breaker);
    db->display = display;
  }
  return *db;
}

bool DeliveryLoader::TakeSlots(Output& out, Database& db, const std::atomic<bool>* cancel) {
  const auto deadline = std::chrono::steady_clock::now() + options_.slot_wait;
  MutexLock lock(&mu_);
  while (out.active >= out.max_concurrency || db.active >= options_.max_loads_per_database) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline || (cancel != nullptr && cancel->load())) return false;
    slot_freed_.WaitFor(std::min<std::chrono::milliseconds>(
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now) +
            std::chrono::milliseconds(1),
        std::chrono::milliseconds(100)));
  }
  ++out.active;
  ++db.active;
  return true;
}

void DeliveryLoader::ReleaseSlots(Output& out, Database& db) {
  {
    MutexLock lock(&mu_);
    --out.active;
    --db.active;
  }
  slot_freed_.SignalAll();
}

void DeliveryLoader::GiveBack(Database& db, std::unique_ptr<SqlDb> conn) {
  MutexLock lock(&mu_);
  if (static_cast<int>(db.idle.size()) < options_.max_loads_per_database) {
    db.idle.push_back(std::move(conn));
  }
}

std::chrono::milliseconds DeliveryLoader::Backoff(int tries) const {
  const int64_t first = options_.backoff_first.count();
  const int shift = std::clamp(tries - 1, 0, 20);
  const int64_t base = std::min<int64_t>(options_.backoff_max.count(), first << shift);
  // +-25%: loaders that failed together do not come back together.
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_int_distribution<int64_t> jitter(-base / 4, base / 4);
  return std::chrono::milliseconds(std::max<int64_t>(1, base + jitter(rng)));
}

DeliveryLoader::LoadEnd DeliveryLoader::LoadOne(const Delivery& d,
                                                const std::atomic<bool>* cancel) {
  using Kind = LoadEnd::Kind;
  ScopedLogContext log_context(LogContext{.batch_id = d.batch_id,
                                          .attempt = d.attempt,
                                          .pipeline = d.pipeline,
                                          .version = d.pipeline_version_id});
  const std::string name = "batch " + std::to_string(d.batch_id) + " -> " + d.target;
  // The end of a started load, recorded; an error recording it leaves the
  // delivery loading, which the next StartDelivery takes over.
  auto end = [&](const Delivery& started, DeliveryState to, const std::string& error) -> Status {
    Status st = catalog_.EndDelivery(started.batch_id, started.output, started.attempt, to, error);
    if (!st.ok() && st.code() != StatusCode::kAborted) {
      spdlog::warn("{}: delivery state not recorded: {}", name, st.ToString());
      CountLoaderError("catalog", st, /*retried=*/false);
    }
    return st;
  };

  auto parsed = nlohmann::json::parse(d.args, nullptr, /*allow_exceptions=*/false);
  // The output's kind is its id's prefix ("postgres:...", "sqlite:...").
  Result<std::unique_ptr<DatabaseOutput>> options =
      parsed.is_discarded() ? Result<std::unique_ptr<DatabaseOutput>>(
                                  Status::DataLoss("the recorded output spec is not JSON"))
                            : ParseDatabaseOutput(d.output.substr(0, d.output.find(':')), parsed,
                                                  "delivery of batch " + std::to_string(d.batch_id),
                                                  options_.project_dir);
  if (!options.ok()) {
    // This host cannot build the output (an unset ${VAR}, say): the
    // delivery fails with the reason; a replay after the fix loads it.
    auto started = catalog_.StartDelivery(d.batch_id, d.output);
    if (!started.ok()) {
      CountLoaderError("catalog", started.status(), /*retried=*/true);
      return {Kind::kRetry, options_.backoff_first};
    }
    CountLoaderError("output", options.status(), /*retried=*/false);
    end(*started, DeliveryState::kFailed, options.status().message()).IgnoreError();
    spdlog::error("{}: failed: {}", name, options.status().message());
    return {Kind::kFailed, {}};
  }
  const DatabaseOutput& output = **options;
  Output& out = OutputFor(d.output, output.Limits());
  Database& db = DatabaseFor(output.Database(), output.DatabaseDisplay());
  if (!db.breaker.Allow()) {
    const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(db.breaker.RetryIn());
    return {Kind::kRetry, std::max(wait, std::chrono::milliseconds(100))};
  }
  if (!TakeSlots(out, db, cancel)) {
    db.breaker.RecordNeutral();
    return {Kind::kRetry, std::chrono::milliseconds(200)};
  }
  struct Release {
    DeliveryLoader* self;
    Output& out;
    Database& db;
    ~Release() { self->ReleaseSlots(out, db); }
  } release{this, out, db};

  auto started = catalog_.StartDelivery(d.batch_id, d.output);
  if (!started.ok()) {
    db.breaker.RecordNeutral();
    // Delivered meanwhile (by a loader whose lease had lapsed), or gone
    // with a replay's new commit: nothing left to do here.
    const StatusCode c = started.status().code();
    if (c == StatusCode::kFailedPrecondition || c == StatusCode::kNotFound)
      return {Kind::kDone, {}};
    spdlog::warn("{}: {}", name, started.status().ToString());
    CountLoaderError("catalog", started.status(), /*retried=*/true);
    return {Kind::kRetry, options_.backoff_first};
  }
  const Stopwatch load_watch;
  // Where a failure below came from: the database, unless reading the
  // staged rows from the store failed first.
  std::string_view failed_port = "output";

  // Connect (or reuse an idle connection of this database).
  std::unique_ptr<SqlDb> conn;
  {
    MutexLock lock(&mu_);
    if (!db.idle.empty()) {
      conn = std::move(db.idle.back());
      db.idle.pop_back();
    }
  }
  Status st = Status::OK();
  if (conn == nullptr) {
    auto opened = output.Connect();
    if (opened.ok()) {
      conn = std::move(*opened);
    } else {
      st = opened.status();
    }
  }
  std::optional<LoadResult> loaded;
  const std::string prepare_key = d.schema.ToJson() + d.args;
  std::vector<std::string> columns;
  {
    MutexLock lock(&mu_);
    if (out.prepared_for == prepare_key) columns = out.columns;
  }
  if (st.ok() && columns.empty()) {
    auto prepared = output.Prepare(*conn, d.schema);
    if (prepared.ok()) {
      columns = *prepared;
      MutexLock lock(&mu_);
      out.prepared_for = prepare_key;
      out.columns = columns;
    } else {
      st = prepared.status();
    }
  }
  if (st.ok()) {
    auto in = store_.OpenRead(started->key);
    if (in.ok()) {
      auto rows = OpenDecompressed(std::move(*in));
      if (rows.ok()) {
        // Under a byte rate, chunks of a twentieth of a second's worth: a
        // cancel never waits behind a long sleep.
        size_t chunk = options_.chunk_bytes;
        if (const auto& rate = output.Limits().max_bytes_per_second) {
          chunk = std::clamp<size_t>(static_cast<size_t>(*rate / 20), 4096, chunk);
        }
        std::optional<StagedRows> stream;
        stream.emplace(std::move(*rows), *started, out.rows.get(), out.bytes.get(), chunk, cancel);
        LoadRequest req;
        req.output_id = d.output;
        req.batch_id = d.batch_id;
        req.attempt = started->attempt;
        req.pipeline_version = started->pipeline_version_id;
        req.schema = started->schema;
        req.columns = columns;
        req.next = [&stream](std::string& chunk) { return stream->Next(chunk); };
        bool try_copy = false;
        if (output.Upsert()) {
          MutexLock lock(&mu_);
          try_copy = out.upsert_copy.Try();
        }
        // A second read (see pg_loader.h) is charged to the rate again:
        // the database takes its bytes again.
        if (try_copy)
          req.rewind = [&]() -> Status {
            ASSIGN_OR_RETURN(auto again, store_.OpenRead(started->key));
            ASSIGN_OR_RETURN(auto decompressed, OpenDecompressed(std::move(again)));
            stream.emplace(std::move(decompressed), *started, out.rows.get(), out.bytes.get(),
                           chunk, cancel);
            return Status::OK();
          };
        auto r = output.Load(*conn, req);
        if (r.ok()) {
          loaded = *r;
          if (loaded->copy != LoadResult::Copy::kNotTried) {
            MutexLock lock(&mu_);
            out.upsert_copy.Record(loaded->copy == LoadResult::Copy::kConflict);
          }
        } else {
          st = r.status();
        }
      } else {
        st = rows.status();
        failed_port = "store";
      }
    } else if (in.status().code() == StatusCode::kNotFound) {
      failed_port = "store";
      // Not published yet (the committing worker publishes right after the
      // commit), delivered and removed by another loader meanwhile (then
      // EndDelivery refuses whatever this one records), or lost.
      auto pending = catalog_.PendingPublications();
      const bool waiting =
          !pending.ok() || std::any_of(pending->begin(), pending->end(), [&](const Publication& p) {
            return p.final_key == started->key;
          });
      st = waiting
               ? Status::Unavailable("the staged rows " + started->key + " are not published yet")
               : Status::DataLoss("the staged rows " + started->key +
                                  " are missing; `sluice replay " + std::to_string(d.batch_id) +
                                  "` stages them again");
    } else {
      st = in.status();
      failed_port = "store";
    }
  }

  if (loaded) {
    db.breaker.RecordSuccess();
    GiveBack(db, std::move(conn));
    Status ended = end(*started, DeliveryState::kDelivered, "");
    if (ended.code() == StatusCode::kAborted) return {Kind::kDone, {}};
    if (!ended.ok()) return {Kind::kRetry, options_.backoff_first};
    LoaderMetrics().load_seconds.With({d.output}).Observe(load_watch.Seconds());
    if (loaded->outcome != LoadResult::Outcome::kAlreadyLoaded) {
      LoaderMetrics().rows_loaded.With({d.output}).Inc(static_cast<double>(loaded->rows));
    }
    const char* how = loaded->outcome == LoadResult::Outcome::kAlreadyLoaded ? "already loaded"
                      : loaded->outcome == LoadResult::Outcome::kReplaced
                          ? "replaced an earlier attempt's rows"
                          : "loaded";
    spdlog::info("{}: {} rows {} (attempt {}, try {})", name, loaded->rows, how, started->attempt,
                 started->tries);
    // The rows are in the database and recorded so: the staged copy is done.
    Status del = store_.Delete(started->key);
    if (!del.ok() && del.code() != StatusCode::kNotFound) {
      spdlog::warn("{}: staged rows {} not removed: {}", name, started->key, del.ToString());
    }
    return {Kind::kDelivered, {}};
  }

  const ErrorClass cls = ClassifyError(st);
  const bool down = output.Unreachable(st);
  const bool cancelled = cancel != nullptr && cancel->load();
  // A cancelled load (the loader stopping) is no error of the port's.
  if (!cancelled) {
    CountLoaderError(failed_port, st, /*retried=*/cls == ErrorClass::kTransient || down);
  }
  if (cancelled) {
    db.breaker.RecordNeutral();
  } else if (down) {
    db.breaker.RecordFailure();
  } else {
    db.breaker.RecordSuccess();  // the server answered
  }
  // A connection that failed may be broken; a fresh one costs little.
  if (conn != nullptr && !down && cls != ErrorClass::kTransient) GiveBack(db, std::move(conn));
  // kAborted from EndDelivery: a newer attempt's rows are recorded (a
  // replay), or another loader delivered these meanwhile: nothing to do.
  if (cancel != nullptr && cancel->load()) {
    Status ended = end(*started, DeliveryState::kPending, "the loader stopped during the load");
    if (ended.code() == StatusCode::kAborted) return {Kind::kDone, {}};
    return {Kind::kRetry, std::chrono::milliseconds(0)};
  }
  if (cls == ErrorClass::kFenced) {
    end(*started, DeliveryState::kPending, st.message()).IgnoreError();
    return {Kind::kDone, {}};
  }
  if (cls == ErrorClass::kTransient || down) {
    Status ended = end(*started, DeliveryState::kPending, st.message());
    if (ended.code() == StatusCode::kAborted) return {Kind::kDone, {}};
    const auto wait = Backoff(started->tries);
    spdlog::warn("{}: try {} failed, again in {} ms: {}", name, started->tries, wait.count(),
                 st.message());
    return {Kind::kRetry, wait};
  }
  if (end(*started, DeliveryState::kFailed, st.message()).code() == StatusCode::kAborted) {
    return {Kind::kDone, {}};
  }
  spdlog::error("{}: failed (sluice replay --delivery retries it): {}", name, st.message());
  return {Kind::kFailed, {}};
}

Result<DeliverResult> DeliveryLoader::DeliverBatch(int64_t batch_id,
                                                   const std::atomic<bool>* cancel) {
  auto listed = catalog_.BatchDeliveries(batch_id);
  // The worker pool hands the task back after a pause.
  CountLoaderError("catalog", listed.status(), /*retried=*/true);
  ASSIGN_OR_RETURN(std::vector<Delivery> deliveries, std::move(listed));
  DeliverResult result;
  for (const Delivery& d : deliveries) {
    if (d.state == DeliveryState::kDelivered || d.state == DeliveryState::kFailed) continue;
    if (cancel != nullptr && cancel->load()) {
      result.finished = false;
      break;
    }
    LoadEnd e = LoadOne(d, cancel);
    metrics::Family<metrics::Counter>& outcomes = LoaderMetrics().deliveries;
    switch (e.kind) {
      case LoadEnd::Kind::kDelivered:
        outcomes.With({d.output, "delivered"}).Inc();
        ++result.delivered;
        break;
      case LoadEnd::Kind::kFailed:
        outcomes.With({d.output, "failed"}).Inc();
        ++result.failed;
        break;
      case LoadEnd::Kind::kDone:
        outcomes.With({d.output, "superseded"}).Inc();
        break;
      case LoadEnd::Kind::kRetry:
        outcomes.With({d.output, "retry"}).Inc();
        result.retry_in = result.finished ? e.retry_in : std::min(result.retry_in, e.retry_in);
        result.finished = false;
        break;
    }
  }
  return result;
}

Status QueueUnfinishedDeliveries(Catalog& catalog, TaskQueue& queue) {
  constexpr int64_t kAtMost = 10'000;  // per pass; the next pass takes the rest
  ASSIGN_OR_RETURN(std::vector<Delivery> unfinished, catalog.UnfinishedDeliveries(kAtMost));
  std::vector<TaskRequest> tasks;
  int64_t last = -1;
  for (const Delivery& d : unfinished) {
    if (d.batch_id == last) continue;  // one task per batch
    last = d.batch_id;
    tasks.push_back(TaskRequest{TaskKind::kLoad, d.batch_id, d.pipeline, 0});
  }
  return queue.EnqueueAll(tasks);
}

}  // namespace sluice
