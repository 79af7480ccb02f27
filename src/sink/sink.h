// Sink: where a pipeline's transformed rows go (a lake table, an SQLite table,
// later PostgreSQL).
//
// One Sink instance serves one attempt at one batch, on one thread:
//   Open(ctx)        before the first row; ctx names the batch and attempt
//   Write(batch)*    transformed rows; the sink stages them (nothing visible yet)
//   Finish()         all rows are staged; returns what the catalog commit needs
//   then exactly one of
//   Load()           makes the staged rows visible exactly once. Called before
//                    the catalog commit; it must be idempotent across attempts
//                    of the same batch (a ledger keyed by batch id), because an
//                    attempt may crash between Load and the commit.
//   Discard()        drops the staged data (bad batch, failed attempt)
// Lake sinks become visible through the catalog commit itself, so their Load
// is a no-op; their staged files are listed in StagedOutput::table.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "catalog/catalog.h"
#include "core/column.h"
#include "core/schema_evolution.h"
#include "core/status.h"
#include "store/object_store.h"

namespace sluice {

class ThreadPool;

// One output as written in a pipeline spec: `- table: orders_clean` is kind
// "table" with args {"table": "orders_clean", "partition_by": [...]}; `- sqlite:
// {path: out.db, table: t}` is kind "sqlite". `where` is "file:line".
struct SinkSpec {
  std::string kind;
  nlohmann::json args;
  std::string where;
};

struct SinkContext {
  std::string pipeline;
  int64_t batch_id = 0;
  int attempt = 0;
  int64_t pipeline_version_id = 0;
  Schema schema;  // schema of the rows Write receives
  ObjectStore* store = nullptr;
  std::string project_dir;  // relative sink paths (sqlite files) resolve against it
  // Threads for encoding (e.g. Parquet column chunks); may be null.
  ThreadPool* pool = nullptr;
  // OK while this attempt still owns the batch; kAborted once a newer attempt
  // has started (Catalog::CheckAttempt). A sink that makes rows visible
  // outside the catalog calls it inside its own transaction, just before
  // committing, so a stale attempt never loads. Empty = no fence (tests, convert).
  std::function<Status()> check_fence;
  // The pipeline's schema_evolution: how the sink's table takes rows whose
  // columns differ from its own (lake tables: in the commit; database
  // outputs: when loaded).
  SchemaEvolution schema_evolution = SchemaEvolution::kReject;
};

// A database output's rows, staged for a loader (architecture 6.2): the
// commit records `request` and publishes `staging_key` to `request.key`
// (equal keys: written in place, nothing to publish).
struct StagedDelivery {
  DeliveryRequest request;
  std::string staging_key;
};

struct StagedOutput {
  std::optional<TableCommit> table;        // lake sinks
  std::optional<OutputLineage> lineage;    // other sinks
  std::optional<StagedDelivery> delivery;  // database outputs loaded after the commit
};

class Sink {
 public:
  virtual ~Sink() = default;
  virtual Status Open(const SinkContext& ctx) = 0;
  virtual Status Write(const RecordBatch& batch) = 0;
  virtual Result<StagedOutput> Finish() = 0;
  virtual Status Load() = 0;
  // Whether Load makes anything visible outside the catalog (a database
  // table); a lake sink's rows become visible through the commit alone.
  virtual bool LoadsOutsideCatalog() const { return true; }
  virtual void Discard() = 0;
  // Cheap check that the destination is reachable/writable.
  virtual Status HealthCheck() = 0;
  // Stable identifier for logs and lineage ("table:orders", "sqlite:out.db#orders").
  virtual std::string Describe() const = 0;
};

// The single registry of sink kinds (sink/registry.cc). Validates spec.args
// (unknown keys rejected) and returns an unopened sink.
Result<std::unique_ptr<Sink>> MakeSink(const SinkSpec& spec);
std::vector<std::string> SinkKinds();

// The keys the catalog references for a batch (its data files and committed
// quarantine file): never deleted by CleanupStaging.
using ReferencedKeys = std::function<Result<std::set<std::string>>()>;

// Removes staged objects of attempts that will never commit: those of
// attempts older than `before_attempt` under staging/<batch>/ (0 = every
// attempt, for a finished batch). Never a newer attempt's: the caller may be a
// worker whose lease has lapsed while a newer attempt is staging its output.
// On a store without rename it also deletes the final objects those attempts
// wrote (named by their write markers) that `referenced` does not return;
// without `referenced` such markers and objects are left alone.
Status CleanupStaging(ObjectStore& store, int64_t batch_id, int before_attempt,
                      const ReferencedKeys& referenced = nullptr);

// The marker written before an output is written straight to `final_key`
// on a store without rename (see staging.cc).
inline constexpr std::string_view kWrittenMarker = "written/";
std::string WrittenMarkerKey(int64_t batch_id, int attempt, const std::string& final_key);
// Deletes the final objects named by the write markers under `prefix`, except
// those `referenced` returns (asked once, only if there are markers; when it
// is empty nothing is deleted). The markers themselves stay.
Status DeleteWrittenObjects(ObjectStore& store, const std::string& prefix,
                            const ReferencedKeys& referenced);

}  // namespace sluice
