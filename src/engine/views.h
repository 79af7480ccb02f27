// JSON views of the catalog: the objects `sluice ... --json` prints and the
// HTTP API returns, written once so that both show the same shapes
// (README.md "JSON output", docs/api.md). No view ever holds a secret: a
// delivery's `args` (which may hold a DSN with its password) is never shown.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "catalog/catalog.h"
#include "engine/project.h"

namespace sluice {

nlohmann::json BatchJson(const BatchInfo& b);
nlohmann::json DeliveryJson(const Delivery& d);
nlohmann::json BatchEventJson(const BatchEvent& e);
// A version of a pipeline; with `spec`, its YAML text too.
nlohmann::json PipelineVersionJson(const PipelineVersion& v, bool spec);
nlohmann::json SnapshotJson(const SnapshotInfo& s);
nlohmann::json DataFileJson(ObjectStore& store, const DataFile& f);

// Committed, and every database output has its rows.
bool BatchFullyDelivered(const BatchInfo& b, const std::vector<Delivery>& deliveries);

// Queue depth by task kind: {"process": n, "load": n}.
Result<nlohmann::json> QueueDepthByKind(TaskQueue& queue);

// A table: schema, partitioning, current snapshot and totals; with
// `data_files`, the current snapshot's files too.
Result<nlohmann::json> TableJson(Project& p, const TableInfo& t, bool data_files = true);

// BatchJson plus its deliveries, `done` and the reference inputs it read.
Result<nlohmann::json> BatchWithDeliveriesJson(Project& p, const BatchInfo& b);

// Everything about one batch: BatchWithDeliveriesJson plus its state
// history (a timeline with timestamps), lineage, output files, and the first
// `bad_samples` bad records of its latest attempt that kept any (file, line,
// field and reason, as quarantined).
Result<nlohmann::json> BatchDetailJson(Project& p, int64_t batch_id, int bad_samples);

// The project's status (`sluice status --json`, GET /v1/status): batches by
// state, pipelines with their active versions and row totals, tables,
// queue depth, delivery backlogs.
// With `data_files`, each table lists its current files too (the CLI's
// `status` prints them; the API leaves them to /v1/tables/{t}/files, as they
// grow with every batch).
Result<nlohmann::json> StatusJson(Project& p, bool data_files);

// A batch's deadline as a word: none | open | at_risk | met | missed.
std::string DeadlineStateName(const BatchInfo& b);
// Deadlines and freshness (architecture 8.3): per pipeline with either, its
// service levels, batches at risk now, misses in the last 24 hours, the last
// arrival and whether it is stale; and up to `at_risk_limit` batches at risk,
// earliest deadline first.
Result<nlohmann::json> DeadlinesJson(Project& p, int64_t at_risk_limit);

}  // namespace sluice
