// Landing-zone discovery and batch registration.
//
// Files arrive under landing/<pipeline>/** in the object store. A writer
// should finish a file with a rename, so only complete files are visible:
// dotfiles and in-progress names (*.tmp, *.tmp-*) are ignored. Writers that
// append in place (scp, SFTP, `>>`) are covered by the settle rule: a file is
// taken only once it has not changed for `source.settle` (its size, mtime and
// change time), and not when it changed while being hashed. Symbolic links are
// never followed: the store does not list them and the scan reports each one
// it passes (ScanSummary::skipped).
//
// Each file taken is hashed (SHA-256), registered in the catalog (idempotent
// on pipeline, key and hash), then moved to archive/<pipeline>/<hash
// prefix>/<relative name>, queued and handed to the task queue. The order
// makes every step safe to repeat after a crash: a file still in landing is
// simply registered again (a no-op) and moved; a batch left in `landed` is
// finished by RecoverLanded.
//
// An archive object is never replaced (ObjectStore::Rename refuses): a file
// landed again whose archive key is taken (the same name and content, or the
// same content under another name) goes to a key of its own,
// archive/<pipeline>/duplicates/<hash prefix>/<landing time>/<relative name>.
// Nothing taken from landing is deleted.
//
// Explicit ingestion of a local file (sluice ingest FILE) copies the file
// straight to its archive key, then registers it the same way.
//
// The archived bytes are checked against the registered SHA-256 before every
// attempt (VerifyArchive); an ArchiveVerifier remembers the copies this
// process has hashed, so that each input is normally read in full once.
//
// A store without an atomic rename (ObjectStore::AtomicRename() false: S3)
// has no move, so nothing is moved there. A landed object is registered where
// it landed (archive key = object key), hashed once by streaming it, and is
// its own archive: landing/ then keeps every object ever landed, and should
// be written once per key. An object overwritten in place is new content (a
// new batch, found by the next full listing); the batch of its old content
// can no longer be processed or replayed (VerifyArchive: kDataLoss). Objects
// appear whole on such a store, so the settle rule does not apply: an object
// is taken as soon as it is listed. Listing is incremental (a watermark per
// landing prefix, with a full listing at start-up and every
// LandingContext::full_rescan; see LandingScanState). The catalog keeps each
// landing's ETag, so after a restart, or in another process, an object
// registered under its current ETag is not read again. Explicit ingestion
// hashes the local file, then uploads it straight to its archive key (an
// object already there with that content is kept).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "catalog/catalog.h"
#include "core/status.h"
#include "core/thread_annotations.h"
#include "pipeline/spec.h"
#include "queue/task_queue.h"
#include "source/landing_scan_state.h"
#include "store/object_store.h"

namespace sluice {

// Remembers, per archive key, the fingerprint (size, mtime, change time; on
// a store with content tags, size and ETag) and SHA-256 of an archive object
// this process has hashed in full: at
// registration (ScanLanding, IngestLocalFile) and after a full verification.
// While the store reports the same fingerprint the object still holds those
// bytes, and VerifyArchive skips the hash. Owned by the caller (a project,
// a test): nothing is shared between processes, so a restart, which is when a
// power failure may have cut an unsynced copy short, starts with nothing
// trusted. Thread-safe.
class ArchiveVerifier {
 public:
  // At most this many keys are remembered; past it an arbitrary one is
  // forgotten (which costs one more hash, never a wrong answer).
  static constexpr size_t kMaxKeys = 1 << 16;

  // Records that `info.key` holds bytes with SHA-256 `sha256` while the
  // store reports `info`'s fingerprint.
  void Remember(const ObjectInfo& info, const std::string& sha256) EXCLUDES(mu_);
  // True if `info` (a fresh Stat) has the fingerprint remembered for its key
  // and the remembered SHA-256 is `sha256`.
  bool Matches(const ObjectInfo& info, const std::string& sha256) const EXCLUDES(mu_);
  void Forget(const std::string& key) EXCLUDES(mu_);
  // As after a restart (tests).
  void Clear() EXCLUDES(mu_);
  size_t size() const EXCLUDES(mu_);

 private:
  struct Fingerprint {
    int64_t size = 0;
    int64_t mtime_us = 0;
    int64_t change_us = 0;
    std::string etag;
    std::string sha256;
  };
  mutable Mutex mu_;
  std::unordered_map<std::string, Fingerprint> known_ GUARDED_BY(mu_);
};

struct LandingContext {
  ObjectStore* store = nullptr;
  Catalog* catalog = nullptr;
  TaskQueue* queue = nullptr;
  // Where the archive copies registered here are remembered (see
  // ArchiveVerifier); null: nothing is remembered, so every verification
  // hashes in full.
  ArchiveVerifier* verifier = nullptr;
  // Wall clock for the settle rule and duplicate keys, microseconds since
  // the epoch; empty: NowMicros. Tests set it rather than sleep.
  std::function<int64_t()> now_us = nullptr;
  // Stores without an atomic rename (S3) only: what earlier scans of this
  // process saw of each landing prefix (watermark, objects taken), so that a
  // poll lists only new keys and asks the catalog about none it took. Null:
  // every scan lists in full and asks the catalog about every object (one
  // query each; only objects whose ETag it does not know are read).
  LandingScanState* scan_state = nullptr;
  // Stores without an atomic rename only: how often a scan lists a landing
  // prefix in full, to find keys landed below the watermark (producers that
  // do not write keys in increasing order). Such a key is taken at most this
  // long after it landed; each full listing costs one request per 1000
  // objects under the prefix.
  std::chrono::milliseconds full_rescan{std::chrono::minutes(10)};
};

struct RegisterOutcome {
  RegisterBatchResult::Outcome outcome = RegisterBatchResult::Outcome::kNew;
  int64_t batch_id = 0;
  std::string key;  // the object key that was registered
};

struct ScanSummary {
  std::vector<RegisterOutcome> registered;  // one per file taken from landing
  std::vector<std::string> errors;          // per-file problems (file left in place)
  // Entries never taken, with the reason: symbolic links (never followed)
  // and special files. Reported on every scan while they are there; the
  // caller logs them (once per key is enough).
  std::vector<SkippedEntry> skipped;
  // Files left for a later scan because they changed within `source.settle`
  // or while being hashed (a writer still at work). Not errors; a caller
  // waiting for landing to drain must not stop while this is non-zero.
  int64_t waiting = 0;
};

// The archive key of content `sha256` landed as `relative_name` for `pipeline`.
std::string ArchiveKey(const std::string& pipeline, const std::string& sha256,
                       const std::string& relative_name);

// Registers every settled file under landing/<spec.name>/ whose base name
// matches spec.source.pattern (glob). On a store without an atomic rename,
// registers in place the objects listed since the last scan (every object at
// a full listing) that neither ctx.scan_state nor the catalog
// (LandedObjectKnown) knows under their ETag; a catalog error leaves the
// object in ScanSummary::errors, to be tried again on the next scan.
Result<ScanSummary> ScanLanding(const LandingContext& ctx, const PipelineSpec& spec);

// Copies a local file into the archive and registers it (explicit ingest).
// On a store without an atomic rename the file is hashed first, then
// uploaded straight to its archive key (no Rename, no LocalPath).
Result<RegisterOutcome> IngestLocalFile(const LandingContext& ctx, const std::string& pipeline,
                                        const std::string& path);

// What IngestStream registered: the outcome, and the upload's hash and size.
struct StreamIngest {
  RegisterOutcome registered;
  std::string sha256;
  int64_t bytes = 0;
};

// Streams bytes into the archive and registers them as a batch of
// `pipeline` named `name` (an HTTP upload). `read` calls its argument with
// each piece of the body, in order, and returns the first error of the
// stream or of that callback. Memory holds one piece at a time. Nothing is
// registered until every byte is durable in the store (fsynced, or an object
// written whole), so an upload cut short registers nothing and leaves no
// object behind. The batch's object key is "upload://<name>"; the same
// content again, under any name, is the same batch (kDuplicateContent or
// kSameObject). On a store with rename the bytes go to a private incoming
// key and are renamed to their content-addressed archive key; on one
// without, they stay at the unique key they were written to, which becomes
// the batch's archive key.
Result<StreamIngest> IngestStream(
    const LandingContext& ctx, const std::string& pipeline, const std::string& name,
    const std::function<Status(const std::function<Status(std::string_view)>&)>& read);

// Before every attempt (and so every replay): checks that the batch's archive
// object holds exactly the registered bytes (SHA-256; skipped while
// `verifier` remembers the object unchanged since this process hashed it).
// A batch ingested from a local file (object key file://...) had its copy
// registered before it reached the disk, so a damaged or missing copy is
// first copied again from the original when that still has the registered
// content. Otherwise kDataLoss, naming the batch, the archive key, the
// expected SHA-256 and what is there instead; other errors are the store's
// (transient ones stay transient).
// With `verified`, sets it to the version found to hold the registered bytes
// (left as it is when the copy had to be made again): read it with
// OpenReadVersion, so that the bytes processed are the bytes verified.
Status VerifyArchive(ArchiveVerifier& verifier, ObjectStore& store, const BatchInfo& batch,
                     ObjectInfo* verified = nullptr);

// For a batch registered from landing whose input is not archived yet (a
// crash between registration and the move): moves the landing file to the
// batch's archive key if, and only if, it still holds the registered bytes.
// OK when the input is archived already, or when the landing file is gone
// (VerifyArchive then reports it); kDataLoss when the landing file now holds
// other content: it stays in landing, where the scan takes it as new content.
// A batch registered in place (archive key = object key) has nothing to move.
Status ArchiveLandedInput(ObjectStore& store, ArchiveVerifier* verifier, const BatchInfo& batch);

// Finishes registrations interrupted by a crash: batches still `landed` get
// their input moved to the archive (ArchiveLandedInput; a batch whose landing
// file no longer holds its content fails with the reason), are queued and
// enqueued; batches queued, processing or committing are (re-)enqueued (the
// queue ignores duplicates).
Status RecoverLanded(const LandingContext& ctx);

}  // namespace sluice
