// Catalog: the port to sluice's state store.
//
// It records pipelines and their immutable versions, batches and every state
// transition, lake tables with their snapshots and data files, lineage, and the
// staged files waiting to be published. Implementations: SqliteCatalog
// (embedded, WAL; sqlite_catalog.cc), PostgreSQL later.
//
// Every method is one transaction and is safe to call from several threads and
// several processes at once. Timestamps are microseconds since the Unix epoch.
//
// Batch state machine (see docs/architecture.md):
//   landed -> queued -> processing -> committing -> committed
//   processing|committing -> queued (a transient failure: retried at next_attempt_us)
//   processing|committing -> failed (a permanent failure, or past max_attempts: poison)
//   processing|committing -> quarantined (bad input past policy)
//   failed|quarantined|committed -> queued (replay)
// committed and quarantined are terminal except through ReplayBatch, and
// failed waits for a replay; a transition out of them is kFailedPrecondition.
//
// Fencing. Only StartAttempt moves a batch to processing; it returns an
// AttemptToken (the batch's attempt number, which only grows). Every later
// write of that attempt (MarkCommitting, FailAttempt, CommitBatch) carries the
// token and is refused with kAborted once a newer attempt has started, so a
// worker that lost its lease (paused, partitioned, slow) cannot change a batch
// that someone else now owns. Sinks outside the catalog check the token with
// CheckAttempt inside their own transaction.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/schema_evolution.h"
#include "core/status.h"
#include "core/types.h"

namespace sluice {

enum class BatchState {
  kLanded,
  kQueued,
  kProcessing,
  kCommitting,
  kCommitted,
  kFailed,
  kQuarantined,
  // Committed, but some of its output is lost or damaged (a staged file gone
  // before publication, a lake file deleted or truncated). Terminal like
  // committed; `sluice check --repair` or a replay rebuilds it.
  kDamaged,
};
std::string_view BatchStateName(BatchState s);
Result<BatchState> ParseBatchState(std::string_view name);
inline bool IsTerminal(BatchState s) {
  return s == BatchState::kCommitted || s == BatchState::kQuarantined || s == BatchState::kDamaged;
}

struct PipelineVersion {
  int64_t id = 0;
  std::string pipeline;
  std::string content_hash;  // sha256 hex of spec_text
  std::string spec_text;     // the YAML as deployed
  std::string source_path;   // file it was read from
  int64_t created_us = 0;
  bool active = false;
};

// What Catalog::DeployFromFile did.
struct DeployOutcome {
  bool deployed = false;    // the text differed from the last one deployed from the file
  PipelineVersion version;  // the version of the file's text
  PipelineVersion active;   // the pipeline's active version after the call
};

struct BatchStats {
  int64_t rows_read = 0;         // records seen in the input, good and bad
  int64_t rows_written = 0;      // rows that reached the outputs (after transforms)
  int64_t rows_quarantined = 0;  // bad records written to quarantine
  int64_t rows_skipped = 0;      // bad records dropped (on_bad_record: skip)
  int64_t duplicates_removed = 0;
  double seconds = 0;  // processing wall time of the winning attempt
};

struct BatchInfo {
  int64_t id = 0;
  std::string pipeline;
  int64_t pipeline_version_id = 0;
  std::string object_key;   // where it landed (landing/<pipeline>/...)
  std::string archive_key;  // where the input is kept once taken from landing
  std::string sha256;
  int64_t size_bytes = 0;
  BatchState state = BatchState::kLanded;
  std::string reason;              // why it failed / was quarantined (empty otherwise)
  int attempts = 0;                // processing attempts started, ever (the fencing token)
  int tries = 0;                   // attempts since registration or the last replay
  int committed_attempt = 0;       // the attempt whose outputs are visible (0 = none yet)
  int64_t next_attempt_us = 0;     // a queued retry waits until then (0 = now)
  std::string last_error;          // the latest attempt's error (kept after a retry succeeds)
  std::string last_error_class;    // "transient", "permanent" or "fenced" (ErrorClassName)
  int64_t duplicate_landings = 0;  // later landings of the same content
  BatchStats stats;
  int64_t created_us = 0;
  int64_t updated_us = 0;
  // Deadlines (architecture 8.3): when the batch should be committed (0 =
  // its pipeline has no deadline); when it was first estimated to miss it
  // (0 = never); when its miss was noticed (0 = not settled yet, -1 = met).
  int64_t deadline_us = 0;
  int64_t at_risk_us = 0;
  int64_t missed_us = 0;
};

// One page of a batch listing (Catalog::ListBatchPage).
struct BatchPage {
  std::vector<BatchInfo> batches;  // newest first
  int64_t next_before_id = 0;      // the cursor for the next page; 0 when this is the last
};

// Proof that a worker owns a processing attempt (see "Fencing" above).
struct AttemptToken {
  int64_t batch_id = 0;
  int attempt = 0;
};

struct StartAttemptRequest {
  int64_t batch_id = 0;
  // When the caller's task lease ends; an attempt is refused (kAborted) when
  // it has already passed. 0 = no lease (a one-shot caller).
  int64_t lease_expires_us = 0;
  // A batch whose tries reached this is poison: it is failed with its last
  // known cause instead of starting another attempt. 0 = no limit.
  int max_attempts = 0;
};

struct StartAttemptResult {
  enum class Outcome {
    kStarted,   // token is the new attempt; the batch is processing
    kFinished,  // committed, quarantined or failed: nothing to do
    kPoisoned,  // tries reached max_attempts: the batch is now failed
    kNotDue,    // a retry that must wait until batch.next_attempt_us
  };
  Outcome outcome = Outcome::kStarted;
  AttemptToken token;
  BatchInfo batch;  // as it is after the call
};

// How an attempt ended without a commit.
struct AttemptFailure {
  ErrorClass error_class = ErrorClass::kPermanent;
  std::string error;
  // kTransient: the batch goes back to queued, due at this time. Ignored otherwise.
  int64_t next_attempt_us = 0;
};

struct BatchEvent {
  int64_t batch_id = 0;
  BatchState state = BatchState::kLanded;
  std::string reason;
  int64_t at_us = 0;
};

struct RegisterBatchRequest {
  std::string pipeline;
  std::string object_key;
  std::string archive_key;
  std::string sha256;
  int64_t size_bytes = 0;
  // The store's content tag (S3 ETag) of the version whose bytes were
  // hashed; empty where the store has none (the local store, an ingested
  // file). Kept with the landing so that a later scan can tell, without
  // reading the object, that it registered this version already
  // (Catalog::LandedObjectKnown).
  std::string etag;
};

struct RegisterBatchResult {
  enum class Outcome {
    kNew,               // a new batch was created in state landed
    kSameObject,        // this (pipeline, key, sha256) was registered before: no-op
    kDuplicateContent,  // same content under another key: recorded as a duplicate landing
  };
  Outcome outcome = Outcome::kNew;
  int64_t batch_id = 0;  // the new batch, or the one that already holds this content
};

struct TableInfo {
  std::string name;
  Schema schema;
  std::vector<std::string> partition_by;
  int64_t current_snapshot = 0;  // 0 = no snapshot yet
  int64_t num_files = 0;         // in the current snapshot
  int64_t num_rows = 0;
  int64_t total_bytes = 0;
  int64_t created_us = 0;
};

struct DataFile {
  std::string table;
  std::string key;          // final location in the lake (lake/<table>/...)
  std::string staging_key;  // where the writer left it before publication
  std::string partition;    // "day=2024-01-01/currency=EUR", empty if unpartitioned
  int64_t rows = 0;
  int64_t bytes = 0;
  int64_t batch_id = 0;
  int64_t snapshot_id = 0;  // snapshot that added it
  std::string sha256;       // of the file's bytes as written (empty: not recorded)
};

struct SnapshotInfo {
  int64_t id = 0;
  std::string table;
  int64_t batch_id = 0;
  int64_t added_files = 0;
  int64_t added_rows = 0;
  int64_t created_us = 0;
};

// Output of a batch into one lake table.
struct TableCommit {
  std::string table;
  Schema schema;
  std::vector<std::string> partition_by;
  std::vector<DataFile> files;  // table, key, staging_key, partition, rows, bytes
  // reject: the table's schema must equal `schema`; evolve and freeze: the
  // commit widens it and adds new nullable columns (CompareSchemas), and
  // refuses incompatible changes.
  SchemaEvolution evolution = SchemaEvolution::kReject;
};

// The schema table `tc.table` has once the commit is in, from its schema now
// and the commit's evolution; kFailedPrecondition naming every column that
// cannot change so (under reject: any difference).
Result<Schema> TableSchemaAfter(const Schema& existing, const TableCommit& tc);

// Rows a batch delivered to a non-lake output (e.g. an SQLite sink table).
struct OutputLineage {
  std::string output;  // "sqlite:/path/db.sqlite#table"
  int64_t rows = 0;
};

// A reference table a batch's transform read: a file with the SHA-256 of its
// bytes, or a lake table at a snapshot. Recorded in the batch's lineage as
// output "reference:<name>", so that a retry or replay can say what reference
// data the batch saw.
struct ReferenceLineage {
  std::string name;            // as declared under `references:`
  std::string source;          // the file's path, or "table:<name>"
  std::string content_sha256;  // a file's; empty for a lake table
  int64_t snapshot_id = 0;     // a lake table's; 0 for a file
};

// A staged object to move to its final key after the commit (quarantine files).
struct Publication {
  std::string staging_key;
  std::string final_key;
  int64_t batch_id = 0;  // filled in by PendingPublications
  // A retirement: staging_key is a lake file that a replay's commit removed
  // from the current snapshot, final_key where it goes (retired/...), so that
  // a reader globbing lake/ no longer sees it. MarkPublished then points the
  // file's catalog entry at its new key (older snapshots stay readable).
  bool retire = false;
};

// A batch's rows for one database output: staged in the store when the batch
// commits and loaded later by a loader (issue 12; architecture 6.2).
enum class DeliveryState { kPending, kLoading, kDelivered, kFailed };
std::string_view DeliveryStateName(DeliveryState s);
Result<DeliveryState> ParseDeliveryState(std::string_view name);

// What a commit records for one database output.
struct DeliveryRequest {
  std::string output;  // the output's id within the pipeline, e.g. "postgres:orders"
  std::string target;  // where it goes, for people (no password)
  std::string key;     // the staged rows' object (final key)
  int64_t rows = 0;
  int64_t bytes = 0;
  // The output as the pipeline spec wrote it (its args, JSON, with ${VAR}
  // references unexpanded, so each loader uses its own environment) and the
  // staged rows' schema: all a loader on any host needs besides the object.
  std::string args = "{}";
  Schema schema;
  int64_t pipeline_version_id = 0;
};

struct Delivery {
  int64_t batch_id = 0;
  std::string pipeline;  // the batch's
  std::string output;
  std::string target;
  std::string key;
  int attempt = 0;  // the batch attempt whose rows are staged
  int64_t rows = 0;
  int64_t bytes = 0;
  DeliveryState state = DeliveryState::kPending;
  int tries = 0;           // loads started
  std::string last_error;  // of the last failed or retried load
  int64_t created_us = 0;
  int64_t updated_us = 0;
  std::string args = "{}";  // see DeliveryRequest
  Schema schema;
  int64_t pipeline_version_id = 0;
};

// What waits to be delivered to one output: pending, loading and failed
// deliveries, their rows and bytes, and the oldest pending one's time.
struct DeliveryBacklog {
  std::string output;
  std::string target;
  int64_t deliveries = 0;
  int64_t failed = 0;
  int64_t rows = 0;
  int64_t bytes = 0;
  int64_t oldest_pending_us = 0;  // 0: none pending
};

struct CommitRequest {
  int64_t batch_id = 0;
  int attempt = 0;
  BatchState final_state = BatchState::kCommitted;  // or kQuarantined
  std::string reason;                               // for kQuarantined
  BatchStats stats;
  std::vector<TableCommit> tables;  // empty for kQuarantined
  std::vector<OutputLineage> outputs;
  std::vector<Publication> extra_publications;
  std::vector<ReferenceLineage> references;
  // Database outputs to load later: recorded pending, for this attempt. A
  // replay's commit replaces the batch's earlier deliveries.
  std::vector<DeliveryRequest> deliveries;
  // Nothing outside the catalog was loaded for this attempt (a batch that
  // writes only lake tables, or is quarantined whole): the commit may come
  // straight from processing, without MarkCommitting's transaction, whose
  // only purpose is to mark that loads into other sinks may have begun.
  bool from_processing = false;
};

// `sluice backfill`: replays a pipeline's batches oldest first; the cursor
// (the last batch replayed) makes a run resumable after a crash.
struct Backfill {
  std::string pipeline;
  int64_t since_us = 0;    // batches registered at or after this time
  int64_t version_id = 0;  // the version batches are replayed with (0 = their own)
  int64_t cursor_batch_id = 0;
  int64_t replayed = 0;
  int64_t started_us = 0;
  int64_t finished_us = 0;  // 0 while it runs (or was interrupted)
  bool resumed = false;     // StartBackfill found it unfinished
};

// An export (POST /v1/exports): the rows of one table snapshot, written by
// an export task into one object of the store (architecture 10.1).
enum class ExportState { kQueued, kRunning, kDone, kFailed };
std::string_view ExportStateName(ExportState s);
Result<ExportState> ParseExportState(std::string_view name);

struct ExportRequest {
  std::string table;
  std::string columns = "[]";  // a JSON array of column names; [] = all
  std::string where;           // the pipeline expression language; "" = every row
  int64_t snapshot = 0;        // the snapshot read (resolved when accepted)
  std::string format;          // csv | ndjson | json | parquet
  int64_t limit = -1;          // -1 = every row
  std::string owner;           // the token's name that asked
  // A client's key for retrying a request: (owner, key) names one export.
  // Empty = none.
  std::string idempotency_key;
};

struct ExportJob {
  int64_t id = 0;
  ExportRequest request;
  ExportState state = ExportState::kQueued;
  int attempts = 0;        // runs started
  std::string error;       // the last run's failure (kept while it is retried)
  std::string result_key;  // the object, once done
  int64_t rows = 0;
  int64_t bytes = 0;
  std::string sha256;  // of the object, hex
  int64_t created_us = 0;
  int64_t started_us = 0;   // the latest run's start
  int64_t finished_us = 0;  // done or failed
};

// A pipeline's service levels (the active spec's `deadline` and
// `expect_every`, microseconds; 0 = none), and since when it is stale (0 =
// it is not, as last seen).
struct PipelineSla {
  std::string pipeline;
  int64_t deadline_us = 0;
  int64_t expect_every_us = 0;
  int64_t stale_since_us = 0;
};

// Recent processing of a pipeline: input bytes and processing seconds.
struct Throughput {
  int64_t batches = 0;
  int64_t bytes = 0;
  double seconds = 0;
};

struct DeadlineCounts {
  std::string pipeline;
  int64_t at_risk = 0;  // unfinished batches estimated to miss their deadline
  int64_t missed = 0;   // misses noticed since the time asked for
};

struct Lineage {
  int64_t batch_id = 0;
  int64_t pipeline_version_id = 0;
  std::string output;    // "table:<name>" or a sink name
  std::string file_key;  // empty for non-file outputs; a reference's source
  int64_t rows = 0;
  std::string content_sha256;  // a reference file's ("reference:<name>" rows)
  int64_t snapshot_id = 0;     // a reference lake table's snapshot
};

class Catalog {
 public:
  virtual ~Catalog() = default;

  // --- pipelines -----------------------------------------------------------
  // Stores a version of `pipeline` with this content (new row only if the hash
  // is new for the pipeline) and makes it the active one. Returns it.
  virtual Result<PipelineVersion> DeployPipeline(const std::string& pipeline,
                                                 const std::string& spec_text,
                                                 const std::string& source_path) = 0;
  // Explicit deploys: in one transaction, compares the text with the one last
  // deployed from `source_path` for `pipeline` and, only if it differs (or
  // nothing was deployed from that file yet), deploys it as DeployPipeline
  // does and records it as the file's last deploy. An unchanged file changes
  // nothing, even when another file's text has been made active since, so
  // processes whose files differ do not take turns. Returns both versions.
  virtual Result<DeployOutcome> DeployFromFile(const std::string& pipeline,
                                               const std::string& spec_text,
                                               const std::string& source_path) = 0;
  virtual Result<PipelineVersion> GetActiveVersion(const std::string& pipeline) = 0;
  virtual Result<PipelineVersion> GetVersion(int64_t version_id) = 0;
  // Active version of every pipeline, by name.
  virtual Result<std::vector<PipelineVersion>> ListActivePipelines() = 0;
  // Every version of `pipeline`, newest first (kNotFound if it was never
  // deployed). Rolling back is a DeployPipeline of an older version's text:
  // its row is reused and becomes the active one.
  virtual Result<std::vector<PipelineVersion>> ListPipelineVersions(
      const std::string& pipeline) = 0;

  // --- batches ---------------------------------------------------------------
  // Idempotent registration (see RegisterBatchResult). A new batch is pinned to
  // the pipeline's active version (kFailedPrecondition if it has none) and
  // starts in state landed with one history row.
  // Every outcome records req.etag with the landing of (pipeline, key,
  // sha256); a landing registered again with another non-empty ETag (the same
  // bytes written again, e.g. as a multipart upload) keeps the new one.
  virtual Result<RegisterBatchResult> RegisterBatch(const RegisterBatchRequest& req) = 0;
  // RegisterBatch of each request, in order, in one transaction: all are
  // registered or none (a scan of many small files pays for one commit, not
  // one each).
  virtual Result<std::vector<RegisterBatchResult>> RegisterBatches(
      const std::vector<RegisterBatchRequest>& reqs) = 0;
  // True iff a landing of `object_key` for `pipeline` was registered with
  // this ETag (non-empty; an empty `etag` is never known): the object's
  // current version is registered already, by this process or another, and
  // need not be read. A read: changes nothing.
  virtual Result<bool> LandedObjectKnown(const std::string& pipeline, const std::string& object_key,
                                         const std::string& etag) = 0;
  // Moves a batch to `to`, appending a history row: landed -> queued, and
  // landed|queued -> failed (registration problems). Attempts move batches
  // only through StartAttempt, MarkCommitting, FailAttempt and CommitBatch;
  // other moves return kFailedPrecondition.
  virtual Status TransitionBatch(int64_t batch_id, BatchState to, const std::string& reason) = 0;
  // In one transaction, moves those of `batch_ids` that are landed to queued
  // (with a history row each) and returns them; a batch in another state is
  // left alone (another scanner queued it, or it moved on).
  virtual Result<std::vector<int64_t>> QueueLandedBatches(
      const std::vector<int64_t>& batch_ids) = 0;

  // --- attempts (fenced; see the top of this file) ----------------------------
  // In one transaction: checks the lease has not expired, that the batch can
  // be worked (see StartAttemptResult), and moves it to processing with
  // attempts + 1 and tries + 1. A batch found processing or committing had an
  // attempt that never finished (its process died or lost the lease): that is
  // recorded as its last error, and it counts towards max_attempts.
  virtual Result<StartAttemptResult> StartAttempt(const StartAttemptRequest& req) = 0;
  // OK if `token` is still the batch's latest attempt and the batch is
  // processing or committing; kAborted (fenced) otherwise.
  virtual Status CheckAttempt(const AttemptToken& token) = 0;
  // processing -> committing, fenced.
  virtual Status MarkCommitting(const AttemptToken& token) = 0;
  // Ends the attempt without a commit, fenced: kTransient -> queued (retry at
  // next_attempt_us), kPermanent -> failed with the error as reason. The
  // error and its class are kept as last_error/last_error_class either way.
  virtual Status FailAttempt(const AttemptToken& token, const AttemptFailure& failure) = 0;
  virtual Result<BatchInfo> GetBatch(int64_t batch_id) = 0;
  // Batches in a state (all if nullopt), newest first, at most `limit` (0 = all).
  // For listings that may be long, page with ListBatchPage instead.
  virtual Result<std::vector<BatchInfo>> ListBatches(std::optional<BatchState> state,
                                                     const std::string& pipeline,
                                                     int64_t limit) = 0;
  // One page of that listing: at most `limit` (> 0; -1: all) batches with an id below
  // `before_id` (0: from the newest). The cursor is the id, not an offset, so
  // batches changing state while a caller pages never shift a page.
  virtual Result<BatchPage> ListBatchPage(std::optional<BatchState> state,
                                          const std::string& pipeline, int64_t before_id,
                                          int64_t limit) = 0;
  virtual Result<std::vector<BatchEvent>> BatchHistory(int64_t batch_id) = 0;
  // Count of batches per state, for status displays.
  virtual Result<std::vector<std::pair<BatchState, int64_t>>> CountBatchesByState() = 0;
  // Count of batches per pipeline and state (one GROUP BY over the batches;
  // /metrics caches it): only the pairs that have batches, ordered by
  // pipeline, then state name.
  struct PipelineStateCount {
    std::string pipeline;
    BatchState state = BatchState::kLanded;
    int64_t batches = 0;
  };
  virtual Result<std::vector<PipelineStateCount>> CountBatchesByPipelineAndState() = 0;
  // Row counters (BatchStats without seconds) summed over every batch of
  // each pipeline that has batches, in pipeline order.
  virtual Result<std::vector<std::pair<std::string, BatchStats>>> SumBatchStatsByPipeline() = 0;

  // The atomic end of a batch: in one transaction, checks that the batch is in
  // committing (or processing, with req.from_processing) and that req.attempt equals the batch's
  // `attempts` (a zombie attempt superseded by a newer one gets kAborted and changes nothing),
  // creates missing tables (or checks the schema of existing ones), adds one snapshot per table
  // with the files, writes lineage, stats and publications, and moves the batch to final_state. If
  // the batch is already committed/quarantined returns kAlreadyExists and changes nothing (another
  // attempt won).
  virtual Status CommitBatch(const CommitRequest& req) = 0;
  // Re-pins a failed, quarantined, committed or damaged batch to `version_id` (0 = keep)
  // and moves it to queued. Stats and tries are reset; `attempts` keeps counting, so the
  // replay's staging paths never collide with an earlier attempt's. The files a committed or
  // damaged batch added stay current until the replay commits: that commit replaces them (removes
  // the old, adds the new) in one snapshot per table, so readers never see the table without the
  // batch or with it twice. A replay that ends failed leaves them current.
  virtual Status ReplayBatch(int64_t batch_id, int64_t version_id) = 0;

  // --- backfills -------------------------------------------------------------
  // The pipeline's unfinished backfill (resumed, with its own since and
  // version), or a new one with these.
  virtual Result<Backfill> StartBackfill(const std::string& pipeline, int64_t since_us,
                                         int64_t version_id) = 0;
  // Records progress: every batch up to `cursor_batch_id` is replayed.
  virtual Status AdvanceBackfill(const std::string& pipeline, int64_t cursor_batch_id,
                                 int64_t replayed) = 0;
  virtual Status FinishBackfill(const std::string& pipeline) = 0;

  // --- deadlines and freshness (architecture 8.3) ---------------------------------
  // Records a pipeline's service levels; batches registered from now on take
  // its deadline. The stale mark is kept.
  virtual Status SetPipelineSla(const PipelineSla& sla) = 0;
  virtual Result<std::vector<PipelineSla>> ListPipelineSlas() = 0;
  // Unfinished batches (landed, queued, processing, committing) with a
  // deadline not settled yet, earliest deadline first.
  virtual Result<std::vector<BatchInfo>> OpenDeadlineBatches(int64_t limit) = 0;
  // Marks these batches at risk (now); returns those not marked before.
  virtual Result<std::vector<int64_t>> MarkAtRisk(const std::vector<int64_t>& batch_ids) = 0;
  // Settles every batch whose deadline is decided: met (committed or
  // quarantined by it) or missed (done after it, or not done and past it).
  // Returns the batches newly missed, each once across every caller.
  virtual Result<std::vector<BatchInfo>> SettleDeadlines() = 0;
  // The last `last_n` committed batches of the pipeline that were timed.
  virtual Result<Throughput> RecentThroughput(const std::string& pipeline, int64_t last_n) = 0;
  // When the pipeline's latest batch was registered; 0 = never.
  virtual Result<int64_t> LastArrival(const std::string& pipeline) = 0;
  // Marks the pipeline stale for want of a batch since `last_arrival_us`;
  // true only for the first caller per arrival (the alert is raised once).
  virtual Result<bool> RaiseStale(const std::string& pipeline, int64_t last_arrival_us) = 0;
  // A batch arrived: the pipeline is not stale (any more).
  virtual Status ClearStale(const std::string& pipeline) = 0;
  // Per pipeline with deadlines: batches at risk now, misses noticed since
  // `missed_since_us`.
  virtual Result<std::vector<DeadlineCounts>> CountDeadlines(int64_t missed_since_us) = 0;

  // --- exports ----------------------------------------------------------------
  // Records a queued export. With an idempotency key that (owner, key)
  // already names: that export, and `created` false (its request may differ:
  // the caller compares).
  struct CreatedExport {
    ExportJob job;
    bool created = false;
  };
  virtual Result<CreatedExport> CreateExport(const ExportRequest& request) = 0;
  // kNotFound naming the id.
  virtual Result<ExportJob> GetExport(int64_t id) = 0;
  // Newest first, ids below `before_id` (0 = from the newest); `owner`
  // empty = everyone's.
  virtual Result<std::vector<ExportJob>> ListExports(const std::string& owner, int64_t before_id,
                                                     int64_t limit) = 0;
  // A run starts: queued or running (a run that died) -> running, attempts +
  // 1; returns the export as it is now (a done or failed one unchanged: the
  // caller has nothing to do). kNotFound if it was deleted.
  virtual Result<ExportJob> StartExport(int64_t id) = 0;
  // The end of run `attempt`: done with its object, or (`final` false) a
  // failure to retry, or (`final` true) failed for good. kAborted if a later
  // run started meanwhile, the export was deleted or has ended (nothing
  // changes: the caller's object is not the export's).
  virtual Status FinishExport(int64_t id, int attempt, const std::string& result_key, int64_t rows,
                              int64_t bytes, const std::string& sha256) = 0;
  virtual Status FailExport(int64_t id, int attempt, const std::string& error, bool final) = 0;
  // Forgets an export (its object is the caller's to delete). kNotFound if
  // there is none.
  virtual Status DeleteExport(int64_t id) = 0;
  // Ids of exports queued or running (each needs an export task).
  virtual Result<std::vector<int64_t>> UnfinishedExports() = 0;

  // --- deliveries (database outputs loaded after the commit) ------------------
  virtual Result<std::vector<Delivery>> BatchDeliveries(int64_t batch_id) = 0;
  // A loader takes a delivery: pending, failed (a retry) or loading (its
  // loader died) -> loading, tries + 1; returns it. kFailedPrecondition if it
  // is delivered, kNotFound if there is none.
  virtual Result<Delivery> StartDelivery(int64_t batch_id, const std::string& output) = 0;
  // The end of a load of `attempt`'s rows: delivered, failed (with the
  // error), or pending again (a transient error; `error` kept). kAborted if a
  // replay has recorded a newer attempt's rows meanwhile, or if another
  // loader delivered it meanwhile and this load did not (nothing changes).
  virtual Status EndDelivery(int64_t batch_id, const std::string& output, int attempt,
                             DeliveryState to, const std::string& error) = 0;
  // Per output with anything not yet delivered.
  virtual Result<std::vector<DeliveryBacklog>> DeliveryBacklogs() = 0;
  // Deliveries pending or loading (at most `limit`, oldest first): every one
  // needs a load task (reconciliation), and `sluice ingest` waits for them.
  virtual Result<std::vector<Delivery>> UnfinishedDeliveries(int64_t limit) = 0;
  // `sluice replay` of a failed delivery: failed -> pending, tries reset, the
  // staged rows loaded again without processing the batch again.
  // kFailedPrecondition unless it is failed.
  virtual Status RetryDelivery(int64_t batch_id, const std::string& output) = 0;

  // --- publication (redo log of staged -> final renames) ----------------------
  virtual Result<std::vector<Publication>> PendingPublications() = 0;
  virtual Status MarkPublished(const std::string& staging_key) = 0;
  // MarkPublished of each key in one transaction, all or none.
  virtual Status MarkPublishedAll(const std::vector<std::string>& staging_keys) = 0;
  // Forgets a 'retire' publication without moving anything: on a store
  // without rename a replaced lake file stays under its key (readers of such a
  // lake go through the catalog, which has it removed in the replay's
  // snapshot). OK if there is no such publication.
  virtual Status DropRetirement(const std::string& staging_key) = 0;
  // A publication that can never happen (its staged object is gone, or its
  // final key is taken and is never replaced): it leaves the redo log, and its
  // batch, if committed, becomes damaged with `error` as the reason, in one
  // transaction. Other batches are not held back.
  virtual Status RecordLostPublication(const std::string& staging_key,
                                       const std::string& error) = 0;

  // --- integrity ---------------------------------------------------------------
  // A committed batch whose output is lost or damaged (found by `sluice
  // check`): committed -> damaged with the reason. No-op if already damaged.
  virtual Status MarkDamaged(int64_t batch_id, const std::string& reason) = 0;
  // The catalog's identity, made once when it was created; the store records
  // it so that a store is never used with another catalog.
  virtual Result<std::string> CatalogId() = 0;
  // A fast consistency check of the catalog's own storage (SQLite's
  // quick_check); kDataLoss naming what is wrong.
  virtual Status CheckIntegrity() = 0;

  // --- tables ----------------------------------------------------------------
  virtual Result<std::vector<TableInfo>> ListTables() = 0;
  virtual Result<TableInfo> GetTable(const std::string& name) = 0;
  // Files visible in a snapshot (current if snapshot_id == 0).
  virtual Result<std::vector<DataFile>> ListFiles(const std::string& table,
                                                  int64_t snapshot_id) = 0;
  virtual Result<std::vector<SnapshotInfo>> ListSnapshots(const std::string& table) = 0;
  // Every data file the catalog has ever recorded, of every table and
  // snapshot (files a replay removed stay, for older snapshots).
  virtual Result<std::vector<DataFile>> ListAllFiles() = 0;
  // Every data file recorded for one batch, of every attempt that committed
  // (a replay's removed files included).
  virtual Result<std::vector<DataFile>> ListBatchFiles(int64_t batch_id) = 0;
  virtual Result<std::vector<Lineage>> BatchLineage(int64_t batch_id) = 0;
};

// Opens (creating if needed) an SQLite catalog at `path` and applies pending
// migrations. The database is in WAL mode with a busy timeout.
Result<std::unique_ptr<Catalog>> OpenSqliteCatalog(const std::string& path);
// Opens the catalog at `location`: a PostgreSQL URI (postgres:// or
// postgresql://) or else the path of an SQLite file.
Result<std::unique_ptr<Catalog>> OpenCatalog(const std::string& location);
// True if `location` names a PostgreSQL database.
bool IsPostgresLocation(const std::string& location);

}  // namespace sluice
