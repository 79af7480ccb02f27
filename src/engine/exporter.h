// Exports (POST /v1/exports; architecture 10.1): the rows of one committed
// table snapshot, written into one object of the store by an export task, to
// be downloaded later. An accepted export is a catalog row plus an `export`
// task; it survives a restart (the task comes back when its lease expires,
// reconciliation re-queues an export whose task was lost) and finishes.
//
//   PrepareExport   checks a request (OpenTableReader plans it) and pins its
//                   snapshot: the export reads what was current when it was
//                   accepted, however long it waits in the queue
//   Exporter::Run   one run of an export task: StartExport (attempt + 1) ->
//                   read + encode into exports/<id>/<attempt>.<ext> ->
//                   FinishExport (fenced by the attempt: a run whose lease was
//                   taken over loses and deletes its own object)
//
// A run that fails transiently (the store or catalog did not answer) is
// retried with backoff up to max_attempts runs; an export whose request can
// never be answered (its table or snapshot files are gone, a file is
// corrupt) fails at once. Cancelled runs (server stop) leave the export
// queued for the next run.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

#include "catalog/catalog.h"
#include "core/status.h"
#include "engine/table_reader.h"
#include "queue/task_queue.h"
#include "store/object_store.h"

namespace sluice {

class ThreadPool;

// Validates `request` (table, columns, where, format, limit) as a data
// request and sets its snapshot to the one it reads (the table's current
// one when it names none). Errors as OpenTableReader and ParseRowsFormat.
Status PrepareExport(Catalog& catalog, ObjectStore& store, ExportRequest* request);

// The table read an export makes.
Result<TableReadRequest> ExportReadRequest(const ExportRequest& request);

// The name a download suggests: <table>-<snapshot>.<format>.
std::string ExportFileName(const ExportJob& job);

// The store key prefix of an export's objects ("exports/<id>/").
std::string ExportPrefix(int64_t id);

struct ExporterOptions {
  int max_attempts = 5;
  // Encodes in parallel (WriteTableRows); not owned; may be null.
  ThreadPool* pool = nullptr;
};

// What a run leaves to the task: finished (ack), or run again after retry_in.
struct ExportStep {
  bool finished = true;
  std::chrono::milliseconds retry_in{0};
};

class Exporter {
 public:
  Exporter(Catalog& catalog, ObjectStore& store, ExporterOptions options)
      : catalog_(catalog), store_(store), options_(options) {}
  // One run of export `id`. A non-OK Result means the catalog could not
  // record how the run ended (the task comes back later).
  Result<ExportStep> Run(int64_t id, const std::atomic<bool>* cancel);

 private:
  Catalog& catalog_;
  ObjectStore& store_;
  ExporterOptions options_;
};

// An export task for every export queued or running (after a crash between
// CreateExport and its enqueue, or a lost task). Idempotent.
Status QueueUnfinishedExports(Catalog& catalog, TaskQueue& queue);

}  // namespace sluice
