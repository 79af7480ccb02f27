// DeliveryLoader: the loading side of database outputs (architecture 6.2).
//
// A committed batch with `postgres` outputs has a `load` task in the queue;
// a loader worker (WorkerPool with TaskKind::kLoad) leases it and calls
// DeliverBatch, which loads each of the batch's pending deliveries:
//
//   options   rebuilt from the delivery's recorded spec, in this process's
//             environment (its ${VAR}s), so any host can load
//   breaker   one per database: while it is open no load starts (the task
//             waits); after the open time one load at a time probes it
//   slots     at most the output's max_concurrency loads into one output and
//             max_loads_per_database into one database, in this process
//   StartDelivery (catalog) -> PreparePostgresTable (once per output and
//   schema in this process) -> LoadIntoPostgres, streaming the staged object
//   through the output's token buckets -> EndDelivery
//
// Endings: delivered (the staged object is then deleted); a transient error
// (connection lost, server restarting, deadlock, statement timeout, an
// object not yet published) leaves the delivery pending with the error and
// the task returns after an exponential backoff with jitter; a permanent
// error (a constraint, a value PostgreSQL refuses) fails the delivery with
// PostgreSQL's message until `sluice replay`. Other outputs and batches go
// on. Memory per load is one read chunk: the stream is never materialised.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "core/circuit_breaker.h"
#include "core/rate_limit.h"
#include "core/status.h"
#include "core/thread_annotations.h"
#include "pipeline/config.h"
#include "queue/task_queue.h"
#include "sink/database_output.h"
#include "store/object_store.h"

namespace sluice {

class SqlDb;

struct LoaderOptions {
  int max_loads_per_database = 4;
  // A relative sqlite output path resolves against it.
  std::string project_dir;
  // Bytes read from the staged object per COPY chunk.
  size_t chunk_bytes = 256 * 1024;
  // How long a load waits for a free slot before its task goes back.
  std::chrono::milliseconds slot_wait{1000};
  // Backoff of a delivery's transient failures: first, doubled per try, cap.
  std::chrono::milliseconds backoff_first{500};
  std::chrono::milliseconds backoff_max{60000};
  CircuitBreaker::Options breaker;
};

// A project's loader settings (sluice.yaml's max_loads_per_database, the
// project directory its sqlite outputs' relative paths resolve against).
LoaderOptions LoaderOptionsFor(const Config& config);

// What became of a load task.
struct DeliverResult {
  // Every delivery of the batch is delivered or failed (or was replaced by a
  // newer attempt's): ack the task. Otherwise nack it for `retry_in`.
  bool finished = true;
  std::chrono::milliseconds retry_in{0};
  int delivered = 0;
  int failed = 0;
};

class DeliveryLoader {
 public:
  DeliveryLoader(Catalog& catalog, ObjectStore& store, LoaderOptions options);
  ~DeliveryLoader();
  DeliveryLoader(const DeliveryLoader&) = delete;
  DeliveryLoader& operator=(const DeliveryLoader&) = delete;

  // Loads the batch's pending deliveries (see above). `cancel` (may be null)
  // aborts a load in progress: its COPY is cancelled, its transaction rolled
  // back, the delivery left pending. A non-OK status: the catalog did not
  // answer (keep the task, try later).
  Result<DeliverResult> DeliverBatch(int64_t batch_id, const std::atomic<bool>* cancel);

  // The state of each database's breaker, by display DSN (no password).
  std::map<std::string, CircuitBreaker::State> BreakerStates() EXCLUDES(mu_);

 private:
  struct Output;
  struct Database;
  struct LoadEnd;

  LoadEnd LoadOne(const Delivery& d, const std::atomic<bool>* cancel);
  Output& OutputFor(const std::string& id, const DeliveryLimits& limits) EXCLUDES(mu_);
  Database& DatabaseFor(const std::string& database, const std::string& display) EXCLUDES(mu_);
  bool TakeSlots(Output& out, Database& db, const std::atomic<bool>* cancel) EXCLUDES(mu_);
  void ReleaseSlots(Output& out, Database& db) EXCLUDES(mu_);
  // Keeps a connection that worked for the next load (up to the cap).
  void GiveBack(Database& db, std::unique_ptr<SqlDb> conn) EXCLUDES(mu_);
  std::chrono::milliseconds Backoff(int tries) const;

  Catalog& catalog_;
  ObjectStore& store_;
  LoaderOptions options_;
  Mutex mu_;
  CondVar slot_freed_{&mu_};
  std::map<std::string, std::unique_ptr<Output>> outputs_ GUARDED_BY(mu_);
  std::map<std::string, std::unique_ptr<Database>> databases_ GUARDED_BY(mu_);
};

// Reconciliation: every delivery pending or loading gets a load task
// (idempotent), so a crash between a commit and its enqueue, or a task lost,
// never strands rows on their way to a database.
Status QueueUnfinishedDeliveries(Catalog& catalog, TaskQueue& queue);

}  // namespace sluice
