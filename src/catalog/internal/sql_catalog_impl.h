// The catalog over SQL (see catalog/sql_catalog.h), shared by sql_catalog.cc
// (pipelines, batches), sql_catalog_attempts.cc (fenced attempts),
// sql_catalog_tables.cc (commit, replay, tables, publications) and
// sql_catalog_deploys.cc (explicit deploys from spec files). Every rule is
// here, once; the backend (SqlDb) provides storage and transactions.
//
// Concurrency: one connection guarded by mu_, so calls from several threads of
// one process are serialised; every write runs in SqlDb::Transaction, which
// serialises writers across processes and hosts too (SQLite: BEGIN
// IMMEDIATE; PostgreSQL: an advisory lock), and reads run in read
// transactions (one snapshot, never blocked by writers).
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
#include "sql/sql_db.h"

namespace sluice {

// Files, rows and bytes of a table that a snapshot adds or removes.
struct FileTotals {
  int64_t files = 0;
  int64_t rows = 0;
  int64_t bytes = 0;
};

class SqlCatalog final : public Catalog {
 public:
  SqlCatalog(std::unique_ptr<SqlDb> db, std::function<int64_t()> now_us)
      : db_(std::move(db)), now_us_(std::move(now_us)) {}

  Result<PipelineVersion> DeployPipeline(const std::string& pipeline, const std::string& spec_text,
                                         const std::string& source_path) override;
  Result<DeployOutcome> DeployFromFile(const std::string& pipeline, const std::string& spec_text,
                                       const std::string& source_path) override;
  Result<PipelineVersion> GetActiveVersion(const std::string& pipeline) override;
  Result<PipelineVersion> GetVersion(int64_t version_id) override;
  Result<std::vector<PipelineVersion>> ListActivePipelines() override;
  Result<std::vector<PipelineVersion>> ListPipelineVersions(const std::string& pipeline) override;

  Result<RegisterBatchResult> RegisterBatch(const RegisterBatchRequest& req) override;
  Result<std::vector<RegisterBatchResult>> RegisterBatches(
      const std::vector<RegisterBatchRequest>& reqs) override;
  Result<bool> LandedObjectKnown(const std::string& pipeline, const std::string& object_key,
                                 const std::string& etag) override;
  Status TransitionBatch(int64_t batch_id, BatchState to, const std::string& reason) override;
  Result<std::vector<int64_t>> QueueLandedBatches(const std::vector<int64_t>& batch_ids) override;
  Result<BatchInfo> GetBatch(int64_t batch_id) override;
  Result<std::vector<BatchInfo>> ListBatches(std::optional<BatchState> state,
                                             const std::string& pipeline, int64_t limit) override;
  Result<BatchPage> ListBatchPage(std::optional<BatchState> state, const std::string& pipeline,
                                  int64_t before_id, int64_t limit) override;
  Result<std::vector<BatchEvent>> BatchHistory(int64_t batch_id) override;
  Result<std::vector<std::pair<BatchState, int64_t>>> CountBatchesByState() override;
  Result<std::vector<PipelineStateCount>> CountBatchesByPipelineAndState() override;
  Result<std::vector<std::pair<std::string, BatchStats>>> SumBatchStatsByPipeline() override;

  Result<StartAttemptResult> StartAttempt(const StartAttemptRequest& req) override;
  Status CheckAttempt(const AttemptToken& token) override;
  Status MarkCommitting(const AttemptToken& token) override;
  Status FailAttempt(const AttemptToken& token, const AttemptFailure& failure) override;

  Status CommitBatch(const CommitRequest& req) override;
  Status ReplayBatch(int64_t batch_id, int64_t version_id) override;

  Result<std::vector<Publication>> PendingPublications() override;
  Result<std::vector<Delivery>> BatchDeliveries(int64_t batch_id) override;
  Result<Delivery> StartDelivery(int64_t batch_id, const std::string& output) override;
  Status EndDelivery(int64_t batch_id, const std::string& output, int attempt, DeliveryState to,
                     const std::string& error) override;
  Result<std::vector<DeliveryBacklog>> DeliveryBacklogs() override;
  Result<std::vector<Delivery>> UnfinishedDeliveries(int64_t limit) override;
  Result<Backfill> StartBackfill(const std::string& pipeline, int64_t since_us,
                                 int64_t version_id) override;
  Status AdvanceBackfill(const std::string& pipeline, int64_t cursor_batch_id,
                         int64_t replayed) override;
  Status FinishBackfill(const std::string& pipeline) override;
  Status RetryDelivery(int64_t batch_id, const std::string& output) override;
  Status SetPipelineSla(const PipelineSla& sla) override;
  Result<std::vector<PipelineSla>> ListPipelineSlas() override;
  Result<std::vector<BatchInfo>> OpenDeadlineBatches(int64_t limit) override;
  Result<std::vector<int64_t>> MarkAtRisk(const std::vector<int64_t>& batch_ids) override;
  Result<std::vector<BatchInfo>> SettleDeadlines() override;
  Result<Throughput> RecentThroughput(const std::string& pipeline, int64_t last_n) override;
  Result<int64_t> LastArrival(const std::string& pipeline) override;
  Result<bool> RaiseStale(const std::string& pipeline, int64_t last_arrival_us) override;
  Status ClearStale(const std::string& pipeline) override;
  Result<std::vector<DeadlineCounts>> CountDeadlines(int64_t missed_since_us) override;
  Result<CreatedExport> CreateExport(const ExportRequest& request) override;
  Result<ExportJob> GetExport(int64_t id) override;
  Result<std::vector<ExportJob>> ListExports(const std::string& owner, int64_t before_id,
                                             int64_t limit) override;
  Result<ExportJob> StartExport(int64_t id) override;
  Status FinishExport(int64_t id, int attempt, const std::string& result_key, int64_t rows,
                      int64_t bytes, const std::string& sha256) override;
  Status FailExport(int64_t id, int attempt, const std::string& error, bool final) override;
  Status DeleteExport(int64_t id) override;
  Result<std::vector<int64_t>> UnfinishedExports() override;
  Status MarkPublished(const std::string& staging_key) override;
  Status MarkPublishedAll(const std::vector<std::string>& staging_keys) override;
  Status DropRetirement(const std::string& staging_key) override;
  Status RecordLostPublication(const std::string& staging_key, const std::string& error) override;
  Status MarkDamaged(int64_t batch_id, const std::string& reason) override;
  Result<std::string> CatalogId() override;
  Status CheckIntegrity() override;

  Result<std::vector<TableInfo>> ListTables() override;
  Result<TableInfo> GetTable(const std::string& name) override;
  Result<std::vector<DataFile>> ListFiles(const std::string& table, int64_t snapshot_id) override;
  Result<std::vector<SnapshotInfo>> ListSnapshots(const std::string& table) override;
  Result<std::vector<DataFile>> ListAllFiles() override;
  Result<std::vector<DataFile>> ListBatchFiles(int64_t batch_id) override;
  Result<std::vector<Lineage>> BatchLineage(int64_t batch_id) override;

 private:
  // Helpers below expect mu_ held and (for writes) a transaction open.
  int64_t Now() const { return now_us_(); }
  // The batch row, or kNotFound naming the id.
  Result<BatchInfo> LoadBatch(int64_t batch_id) REQUIRES(mu_);
  Status AppendEvent(int64_t batch_id, BatchState state, const std::string& reason, int64_t at_us)
      REQUIRES(mu_);
  Result<PipelineVersion> LoadVersion(int64_t version_id) REQUIRES(mu_);
  // Inside a write transaction: records version `spec_text` of `pipeline`
  // (content hash `hash`) unless known, makes it the active one and returns
  // its id. Versions are immutable: known content re-activates its existing
  // row, keeping its original source_path and time.
  Result<int64_t> ActivateVersion(const std::string& pipeline, const std::string& hash,
                                  const std::string& spec_text, const std::string& source_path,
                                  int64_t now_us) REQUIRES(mu_);
  // The batch if `token` is its latest attempt and it is processing or
  // committing; kAborted (fenced) naming `what` otherwise.
  Result<BatchInfo> LoadFenced(const AttemptToken& token, const char* what) REQUIRES(mu_);
  Result<TableInfo> LoadTable(const std::string& name) REQUIRES(mu_);
  // The export row, or kNotFound naming the id.
  Result<ExportJob> LoadExport(int64_t id) REQUIRES(mu_);
  // RegisterBatch inside a write transaction.
  Result<RegisterBatchResult> RegisterLocked(const RegisterBatchRequest& req, int64_t now)
      REQUIRES(mu_);
  // Creates the table or checks that `tc` matches it; returns its current
  // snapshot (0 for a new table).
  Result<int64_t> EnsureTable(const TableCommit& tc, int64_t now) REQUIRES(mu_);
  // `replaced`: the batch's earlier files in this table (a replay), removed in
  // the same snapshot.
  Status CommitTable(const TableCommit& tc, const BatchInfo& batch, int64_t now,
                     const std::vector<std::string>& replaced) REQUIRES(mu_);
  // The batch's files in each table's current snapshot.
  Result<std::map<std::string, std::vector<std::string>>> CurrentFilesOfBatch(int64_t batch_id)
      REQUIRES(mu_);
  // Marks the batch's current files of `table` removed in `snapshot_id` and
  // records their retirement out of lake/; returns what left the table.
  Result<FileTotals> RetireFiles(const std::string& table, const BatchInfo& batch,
                                 const std::vector<std::string>& keys, int64_t snapshot_id,
                                 int64_t now) REQUIRES(mu_);
  // Makes `snapshot_id` the table's current one, its counts moved by what
  // the snapshot added and removed.
  Status SetCurrentSnapshot(const std::string& table, int64_t snapshot_id, const FileTotals& added,
                            const FileTotals& removed) REQUIRES(mu_);
  // A 'remove' snapshot of `table` without the batch's files.
  Status RemoveTableFiles(const std::string& table, const BatchInfo& batch,
                          const std::vector<std::string>& keys, int64_t now) REQUIRES(mu_);
  Status MarkDamagedLocked(int64_t batch_id, const std::string& reason) REQUIRES(mu_);
  Status MarkPublishedLocked(const std::string& staging_key) REQUIRES(mu_);
  // Inside CommitBatch: the batch's deliveries become `deliveries`, pending,
  // of `attempt` (a replay's replace the earlier ones).
  Status RecordDeliveries(const BatchInfo& batch, int attempt,
                          const std::vector<DeliveryRequest>& deliveries, int64_t now)
      REQUIRES(mu_);
  Status AddPublication(const std::string& staging_key, const std::string& final_key,
                        int64_t batch_id, int64_t now, const char* kind = "publish") REQUIRES(mu_);

  Mutex mu_;
  std::unique_ptr<SqlDb> db_ PT_GUARDED_BY(mu_);
  std::function<int64_t()> now_us_;
};

inline std::string BatchName(int64_t id) { return "batch " + std::to_string(id); }

// Column list and reader for batch rows, shared by both files.
extern const char* const kBatchColumns;
Result<BatchInfo> ReadBatchRow(const SqlStatement& stmt);
// Runs an INSERT ... RETURNING id and returns the id.
Result<int64_t> InsertReturningId(SqlStatement& insert);

}  // namespace sluice
