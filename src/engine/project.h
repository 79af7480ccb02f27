// Project: an opened sluice deployment (config + object store + catalog +
// task queue), shared by every command and by the server's threads.
//
// Embedded mode: a local directory store, an SQLite catalog and the queue in
// the same SQLite file. Opening a project creates what is missing (store
// directories, catalog schema). Thread-safe after Open.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "core/thread_annotations.h"
#include "pipeline/config.h"
#include "pipeline/spec.h"
#include "queue/task_queue.h"
#include "source/landing.h"
#include "store/object_store.h"
#include "transform/reference.h"

namespace sluice {

struct SyncReport {
  std::vector<std::string> deployed;  // "orders v3 (sha256 1a2b3c4d)" for new versions
  std::vector<std::string> errors;    // specs that failed to parse (not deployed)
  // Specs in this process's pipelines directory that are not the active
  // version because another process deployed a different text since this
  // file last changed. They are not deployed again until the file changes;
  // one line per pipeline, naming both versions.
  std::vector<std::string> differs;
};

// The spelling of a spec file's path that deploys record (absolute and
// normalised), so that the per-file record matches however the directory
// was named.
std::string PipelineFileKey(const std::string& path);

// Makes `store` belong to `catalog` (its identity in the store's
// .sluice-store.json), or checks that it does: kFailedPrecondition, with what
// to do, for a store that belongs to another catalog, or that holds data while
// the catalog is new and empty (a truncated or replaced catalog.db).
Status ClaimStore(ObjectStore& store, Catalog& catalog, const Config& config);

class Project {
 public:
  static Result<std::unique_ptr<Project>> Open(const Config& config);
  ~Project();

  const Config& config() const { return config_; }
  ObjectStore& store() { return *store_; }
  Catalog& catalog() { return *catalog_; }
  TaskQueue& queue() { return *queue_; }
  // What ScanLanding, IngestLocalFile and RecoverLanded work with: this
  // project's store, catalog, queue, archive verifier and landing clock.
  LandingContext landing() {
    return {store_.get(),       catalog_.get(), queue_.get(),
            &archive_verifier_, landing_clock_, &landing_scan_state_};
  }
  // The archive copies this process has hashed (see ArchiveVerifier); every
  // attempt's ProcessEnv points here.
  ArchiveVerifier& archive_verifier() { return archive_verifier_; }
  // Replaces the wall clock of the settle rule (source.settle), so that tests
  // take a file at once instead of sleeping. Call before the project is shared.
  void SetLandingClockForTesting(std::function<int64_t()> now_us) {
    landing_clock_ = std::move(now_us);
  }

  // Reads every spec in the pipelines directory and deploys those whose text
  // changed (a new immutable version becomes active; batches already
  // registered keep the version they were pinned to). Deploys are explicit:
  // a file is deployed only when its text differs from what was last
  // deployed from it (Catalog::DeployFromFile) and from what this process
  // last read from it, so processes whose files differ never take turns
  // activating their texts; such a difference is reported in `differs`.
  Result<SyncReport> SyncPipelines();
  // Active specs, parsed, by pipeline name (as of the last SyncPipelines).
  Result<std::vector<PipelineSpec>> ActivePipelines();

  // Where this project's pipelines open reference tables: its own cache
  // (shared by its workers and pipelines, never by another project) and its
  // lake. Valid while the project is open.
  ReferenceEnv references() { return ReferenceEnv{&reference_cache_, lake_tables_.get()}; }
  ReferenceCache& reference_cache() { return reference_cache_; }

 private:
  explicit Project(Config c) : config_(std::move(c)) {}
  Config config_;
  std::unique_ptr<ObjectStore> store_;
  // Where incremental landing scans left off (stores without rename).
  LandingScanState landing_scan_state_;
  std::unique_ptr<Catalog> catalog_;
  std::unique_ptr<TaskQueue> queue_;
  // Lookups with `references: { x: { table: T } }` read this project's lake.
  std::unique_ptr<LakeTableProvider> lake_tables_;
  ReferenceCache reference_cache_;
  ArchiveVerifier archive_verifier_;
  std::function<int64_t()> landing_clock_;  // empty: NowMicros
  // Spec file path -> SHA-256 of the text this process last deployed or
  // found deployed from it. A file whose text equals this is never deployed
  // again by this process, whatever the catalog's record says (two hosts may
  // hold different files under one path).
  Mutex sync_mu_;
  std::map<std::string, std::string> synced_ GUARDED_BY(sync_mu_);
};

}  // namespace sluice
