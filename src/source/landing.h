// Landing-zone discovery and batch registration.
//
// Files arrive under landing/<pipeline>/** in the object store. A writer
// finishes a file with a rename, so only complete files are visible: dotfiles
// and in-progress names (*.tmp, *.tmp-*) are ignored. Each file is hashed
// (SHA-256), registered in the catalog (idempotent on pipeline, key and hash),
// then moved to archive/<pipeline>/<hash prefix>/<relative name>, queued and
// handed to the task queue. The order makes every step safe to repeat after a
// crash: a file still in landing is simply registered again (a no-op) and
// moved; a batch left in `landed` is finished by RecoverLanded.
//
// Explicit ingestion of a local file (sluice ingest FILE) copies the file
// straight to its archive key, then registers it the same way.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "core/status.h"
#include "pipeline/spec.h"
#include "queue/task_queue.h"
#include "store/object_store.h"

namespace sluice {

struct LandingContext {
  ObjectStore* store = nullptr;
  Catalog* catalog = nullptr;
  TaskQueue* queue = nullptr;
};

struct RegisterOutcome {
  RegisterBatchResult::Outcome outcome = RegisterBatchResult::Outcome::kNew;
  int64_t batch_id = 0;
  std::string key;  // the object key that was registered
};

struct ScanSummary {
  std::vector<RegisterOutcome> registered;  // one per file taken from landing
  std::vector<std::string> errors;          // per-file problems (file left in place)
};

// The archive key of content `sha256` landed as `relative_name` for `pipeline`.
std::string ArchiveKey(const std::string& pipeline, const std::string& sha256,
                       const std::string& relative_name);

// Registers every complete file under landing/<spec.name>/ whose base name
// matches spec.source.pattern (glob).
Result<ScanSummary> ScanLanding(const LandingContext& ctx, const PipelineSpec& spec);

// Copies a local file into the archive and registers it (explicit ingest).
Result<RegisterOutcome> IngestLocalFile(const LandingContext& ctx, const std::string& pipeline,
                                        const std::string& path);

// For a batch ingested from a local file (object key file://...), before it is
// processed: IngestLocalFile registers the archive copy before it is on disk
// (the processor syncs it before the commit), so a copy this process did not
// write may have been cut short by a power failure. Such a copy is checked
// against the batch's hash and, if damaged, copied again from the original
// when that still has the registered content; otherwise FailedPrecondition.
Status CheckIngestedArchive(ObjectStore& store, const BatchInfo& batch);
// The archive copy `key` is synced: CheckIngestedArchive need not remember
// it any longer (keeps a long-running process from collecting every key).
void ForgetFreshArchive(const std::string& key);
// Tests: forget which archive copies this process wrote, as after a restart.
void ForgetFreshArchives();

// Finishes registrations interrupted by a crash: batches still `landed` get
// their input moved to the archive, are queued and enqueued; batches queued,
// processing or committing are (re-)enqueued (the queue ignores duplicates).
Status RecoverLanded(const LandingContext& ctx);

}  // namespace sluice
