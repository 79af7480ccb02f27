// The batch processor: one attempt at turning a batch's input into staged
// outputs, then committing them. Decoding, the transform, the bad-record
// policy and the early stop are the batch driver's (engine/batch_driver.h);
// the processor owns the catalog attempt, the sinks and the commit.
//
//   archive/<pipeline>/...  --OpenDecompressed--> Decoder (schema, bad records)
//     --> OperatorChain (transform steps) --> Sinks (staged: Parquet in staging/,
//     SQLite stage tables)
//   bad records --> policy: fail | skip | quarantine (staged NDJSON with reasons)
//   end of input --> over max_bad_ratio? quarantined : committing
//     --> Sink::Load (idempotent via ledgers) --> Catalog::CommitBatch (one
//     transaction: snapshots, files, lineage, state) --> publish staged files
//
// Memory is bounded by the decoder's batch size and the sinks' row-group
// buffers, not by the input size. A ProcessBatch call runs on one worker thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "catalog/catalog.h"
#include "core/status.h"
#include "pipeline/spec.h"
#include "queue/task_queue.h"
#include "sink/sink.h"
#include "store/object_store.h"

namespace sluice {

class ArchiveVerifier;  // source/landing.h

class ThreadPool;

struct ProcessProgress {
  int64_t batch_id = 0;
  int64_t bytes_done = 0;  // input bytes consumed (compressed bytes if compressed)
  int64_t bytes_total = -1;
  int64_t rows_read = 0;
  double seconds = 0;
};

struct ProcessEnv {
  ObjectStore* store = nullptr;
  Catalog* catalog = nullptr;
  std::string project_dir;
  // Called after each decoded chunk (from the worker thread); may be empty.
  std::function<void(const ProcessProgress&)> on_progress;
  // Set when the attempt must stop early (shutdown or lost lease).
  const std::atomic<bool>* cancel = nullptr;
  // Threads for decoding and encoding inside the batch (shared between
  // batches); null runs everything on the calling thread.
  ThreadPool* pool = nullptr;
  // The caller's task lease (StartAttemptRequest::lease_expires_us); 0 = none.
  int64_t lease_expires_us = 0;
  // Attempts a batch gets before it fails as poison (config max_attempts); 0 = no limit.
  int max_attempts = 0;
  // Clock for retry times; NowMicros() when empty.
  std::function<int64_t()> now_us;
  // Archive copies this process has hashed (Project::archive_verifier); null:
  // every attempt hashes its input in full.
  ArchiveVerifier* verifier = nullptr;
  // Where reference tables are opened from (Project::references): the
  // project's cache and lake. Default: a cache per attempt, no lake tables.
  ReferenceEnv references;
  // Where a committed batch's load task goes when it has database outputs
  // to deliver (architecture 6.2); null: left to reconciliation.
  TaskQueue* queue = nullptr;
};

enum class ProcessOutcome {
  kCommitted,    // outputs visible
  kQuarantined,  // bad input past the pipeline's policy
  kFailed,       // permanent failure or poison; reason recorded on the batch
  kAlreadyDone,  // finished before this call (committed, quarantined or failed)
  kRetry,        // transient failure recorded: the batch is queued until next_attempt_us
  kNotDue,       // a queued retry whose next_attempt_us has not come yet; nothing done
  kFenced,       // a newer attempt owns the batch (or the lease had expired); nothing written
};
std::string_view ProcessOutcomeName(ProcessOutcome o);

// Where an attempt's bad records are kept (NDJSON, one object per record with
// its file, line, field and reason): quarantine/<pipeline>/<batch>/a<attempt>/.
std::string QuarantineKey(const std::string& pipeline, int64_t batch_id, int attempt);

// Runs one attempt at `batch_id`: Catalog::StartAttempt (fenced token), process,
// commit. Every ending is decided by the retry taxonomy (ClassifyError) and
// recorded in the catalog with the token; the outcome tells the caller what
// to do with its task (ack, or nack until the retry is due). A non-OK Status
// means the ending could not be recorded (e.g. the catalog is unreachable):
// keep the task; the next StartAttempt counts this attempt as unfinished.
Result<ProcessOutcome> ProcessBatch(const ProcessEnv& env, int64_t batch_id);

// Renames every pending staged file to its final key and marks it published.
// Safe to run at any time and repeatedly (redo after a crash). A final key is
// never replaced. A staged file that is gone (and not at its final key), or
// whose final key holds something else, is recorded lost and its batch
// damaged (Catalog::RecordLostPublication); the others go on. Returns an
// error only for publications that could not be decided now.
Status PublishPending(ObjectStore& store, Catalog& catalog);

// What CleanupStaging must keep of `batch_id`'s outputs: every data file the
// catalog records for it and its committed attempt's quarantine file.
ReferencedKeys ReferencedBy(Catalog& catalog, int64_t batch_id);

}  // namespace sluice
