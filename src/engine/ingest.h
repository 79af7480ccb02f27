// One-shot ingestion (`sluice ingest`): register local files as batches of a
// pipeline, process them in this process, and report per batch.
//
// The zero-config path (`ingest --table T FILE`) needs no pipeline file: it
// infers the schema from the first file, writes pipelines/T.yaml (a plain
// spec the user can edit later), deploys it and ingests into lake table T.
#pragma once

#include <chrono>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "engine/processor.h"
#include "engine/project.h"

namespace sluice {

struct IngestReport {
  std::string file;
  int64_t batch_id = 0;
  std::string state;  // final batch state, or "duplicate"
  std::string note;   // reason / which batch it duplicates
  BatchStats stats;
  // The batch's database outputs as the command left them: delivered,
  // failed, or still pending (a server's loaders finish those).
  std::vector<Delivery> deliveries;
};

struct IngestOptions {
  std::string pipeline;
  std::vector<std::string> files;
  std::function<void(const ProcessProgress&)> on_progress;
  // How long the command loads its batches' deliveries into databases
  // (retrying transient errors) before it leaves the rest pending for a
  // server; 0 = leave them all.
  std::chrono::milliseconds delivery_wait{60'000};
};

Result<std::vector<IngestReport>> RunIngest(Project& project, const IngestOptions& options);

// Runs a worker pool in this process, taking only `pipeline`'s tasks, until
// every listed batch is committed, quarantined or failed (a batch queued for a
// retry is waited for).
Status ProcessUntilDone(Project& project, const std::string& pipeline,
                        const std::set<int64_t>& batches,
                        const std::function<void(const ProcessProgress&)>& on_progress);

// Loads the deliveries of `batches` (into database outputs) with loader
// threads in this process, leasing those batches' load tasks like a
// server's loaders, until each is delivered or failed, or `wait` has passed
// (the rest stay pending for a server).
Status DeliverUntilDone(Project& project, const std::string& pipeline,
                        const std::set<int64_t>& batches, std::chrono::milliseconds wait);

// Creates pipeline `table` (spec written to the pipelines directory and
// deployed) from the schema inferred from `sample_file`, unless a pipeline of
// that name exists. Returns a message describing what was done.
Result<std::string> EnsureTablePipeline(Project& project, const std::string& table,
                                        const std::string& sample_file,
                                        int64_t sample_rows = InferOptions().sample_rows);

// Infers the pipeline spec for a file (format, CSV dialect, schema), named `name`,
// from its first `sample_rows` records (and places through it, see InferOptions).
// The pipeline quarantines a batch with any record that does not fit: the
// schema is a guess, and a record it misses calls for a wider type, not for
// loading the rest without it.
Result<PipelineSpec> InferPipeline(const std::string& file, const std::string& name,
                                   int64_t sample_rows = InferOptions().sample_rows);

}  // namespace sluice
