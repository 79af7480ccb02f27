// A Catalog over a pool of catalogs on one database (each with its own
// connection): every call borrows one member for its duration. The catalog's
// rules hold across connections as they do across processes (the database
// serialises writers), so members are interchangeable.
#include <memory>
#include <utility>
#include <vector>

#include "catalog/sql_catalog.h"
#include "sql/pool.h"

namespace sluice {

namespace {

class PooledCatalog final : public Catalog {
 public:
  explicit PooledCatalog(std::vector<std::unique_ptr<Catalog>> members)
      : pool_(std::move(members)) {}

  Result<PipelineVersion> DeployPipeline(const std::string& pipeline, const std::string& spec_text,
                                         const std::string& source_path) override {
    return pool_.Acquire()->DeployPipeline(pipeline, spec_text, source_path);
  }
  Result<DeployOutcome> DeployFromFile(const std::string& pipeline, const std::string& spec_text,
                                       const std::string& source_path) override {
    return pool_.Acquire()->DeployFromFile(pipeline, spec_text, source_path);
  }
  Result<PipelineVersion> GetActiveVersion(const std::string& pipeline) override {
    return pool_.Acquire()->GetActiveVersion(pipeline);
  }
  Result<PipelineVersion> GetVersion(int64_t version_id) override {
    return pool_.Acquire()->GetVersion(version_id);
  }
  Result<std::vector<PipelineVersion>> ListActivePipelines() override {
    return pool_.Acquire()->ListActivePipelines();
  }
  Result<std::vector<PipelineVersion>> ListPipelineVersions(const std::string& pipeline) override {
    return pool_.Acquire()->ListPipelineVersions(pipeline);
  }
  Result<RegisterBatchResult> RegisterBatch(const RegisterBatchRequest& req) override {
    return pool_.Acquire()->RegisterBatch(req);
  }
  Result<std::vector<RegisterBatchResult>> RegisterBatches(
      const std::vector<RegisterBatchRequest>& reqs) override {
    return pool_.Acquire()->RegisterBatches(reqs);
  }
  Result<std::vector<int64_t>> QueueLandedBatches(const std::vector<int64_t>& batch_ids) override {
    return pool_.Acquire()->QueueLandedBatches(batch_ids);
  }
  Result<bool> LandedObjectKnown(const std::string& pipeline, const std::string& object_key,
                                 const std::string& etag) override {
    return pool_.Acquire()->LandedObjectKnown(pipeline, object_key, etag);
  }
  Status TransitionBatch(int64_t batch_id, BatchState to, const std::string& reason) override {
    return pool_.Acquire()->TransitionBatch(batch_id, to, reason);
  }
  Result<StartAttemptResult> StartAttempt(const StartAttemptRequest& req) override {
    return pool_.Acquire()->StartAttempt(req);
  }
  Status CheckAttempt(const AttemptToken& token) override {
    return pool_.Acquire()->CheckAttempt(token);
  }
  Status MarkCommitting(const AttemptToken& token) override {
    return pool_.Acquire()->MarkCommitting(token);
  }
  Status FailAttempt(const AttemptToken& token, const AttemptFailure& failure) override {
    return pool_.Acquire()->FailAttempt(token, failure);
  }
  Result<BatchInfo> GetBatch(int64_t batch_id) override {
    return pool_.Acquire()->GetBatch(batch_id);
  }
  Result<std::vector<BatchInfo>> ListBatches(std::optional<BatchState> state,
                                             const std::string& pipeline, int64_t limit) override {
    return pool_.Acquire()->ListBatches(state, pipeline, limit);
  }
  Result<BatchPage> ListBatchPage(std::optional<BatchState> state, const std::string& pipeline,
                                  int64_t before_id, int64_t limit) override {
    return pool_.Acquire()->ListBatchPage(state, pipeline, before_id, limit);
  }
  Result<std::vector<BatchEvent>> BatchHistory(int64_t batch_id) override {
    return pool_.Acquire()->BatchHistory(batch_id);
  }
  Result<std::vector<std::pair<BatchState, int64_t>>> CountBatchesByState() override {
    return pool_.Acquire()->CountBatchesByState();
  }
  Result<std::vector<PipelineStateCount>> CountBatchesByPipelineAndState() override {
    return pool_.Acquire()->CountBatchesByPipelineAndState();
  }
  Result<std::vector<std::pair<std::string, BatchStats>>> SumBatchStatsByPipeline() override {
    return pool_.Acquire()->SumBatchStatsByPipeline();
  }
  Status CommitBatch(const CommitRequest& req) override {
    return pool_.Acquire()->CommitBatch(req);
  }
  Status ReplayBatch(int64_t batch_id, int64_t version_id) override {
    return pool_.Acquire()->ReplayBatch(batch_id, version_id);
  }
  Result<std::vector<Publication>> PendingPublications() override {
    return pool_.Acquire()->PendingPublications();
  }
  Result<std::vector<Delivery>> BatchDeliveries(int64_t batch_id) override {
    return pool_.Acquire()->BatchDeliveries(batch_id);
  }
  Result<Delivery> StartDelivery(int64_t batch_id, const std::string& output) override {
    return pool_.Acquire()->StartDelivery(batch_id, output);
  }
  Status EndDelivery(int64_t batch_id, const std::string& output, int attempt, DeliveryState to,
                     const std::string& error) override {
    return pool_.Acquire()->EndDelivery(batch_id, output, attempt, to, error);
  }
  Result<std::vector<DeliveryBacklog>> DeliveryBacklogs() override {
    return pool_.Acquire()->DeliveryBacklogs();
  }
  Result<std::vector<Delivery>> UnfinishedDeliveries(int64_t limit) override {
    return pool_.Acquire()->UnfinishedDeliveries(limit);
  }
  Result<Backfill> StartBackfill(const std::string& pipeline, int64_t since_us,
                                 int64_t version_id) override {
    return pool_.Acquire()->StartBackfill(pipeline, since_us, version_id);
  }
  Status AdvanceBackfill(const std::string& pipeline, int64_t cursor_batch_id,
                         int64_t replayed) override {
    return pool_.Acquire()->AdvanceBackfill(pipeline, cursor_batch_id, replayed);
  }
  Status SetPipelineSla(const PipelineSla& sla) override {
    return pool_.Acquire()->SetPipelineSla(sla);
  }
  Result<std::vector<PipelineSla>> ListPipelineSlas() override {
    return pool_.Acquire()->ListPipelineSlas();
  }
  Result<std::vector<BatchInfo>> OpenDeadlineBatches(int64_t limit) override {
    return pool_.Acquire()->OpenDeadlineBatches(limit);
  }
  Result<std::vector<int64_t>> MarkAtRisk(const std::vector<int64_t>& batch_ids) override {
    return pool_.Acquire()->MarkAtRisk(batch_ids);
  }
  Result<std::vector<BatchInfo>> SettleDeadlines() override {
    return pool_.Acquire()->SettleDeadlines();
  }
  Result<Throughput> RecentThroughput(const std::string& pipeline, int64_t last_n) override {
    return pool_.Acquire()->RecentThroughput(pipeline, last_n);
  }
  Result<int64_t> LastArrival(const std::string& pipeline) override {
    return pool_.Acquire()->LastArrival(pipeline);
  }
  Result<bool> RaiseStale(const std::string& pipeline, int64_t last_arrival_us) override {
    return pool_.Acquire()->RaiseStale(pipeline, last_arrival_us);
  }
  Status ClearStale(const std::string& pipeline) override {
    return pool_.Acquire()->ClearStale(pipeline);
  }
  Result<std::vector<DeadlineCounts>> CountDeadlines(int64_t missed_since_us) override {
    return pool_.Acquire()->CountDeadlines(missed_since_us);
  }
  Result<CreatedExport> CreateExport(const ExportRequest& request) override {
    return pool_.Acquire()->CreateExport(request);
  }
  Result<ExportJob> GetExport(int64_t id) override { return pool_.Acquire()->GetExport(id); }
  Result<std::vector<ExportJob>> ListExports(const std::string& owner, int64_t before_id,
                                             int64_t limit) override {
    return pool_.Acquire()->ListExports(owner, before_id, limit);
  }
  Result<ExportJob> StartExport(int64_t id) override { return pool_.Acquire()->StartExport(id); }
  Status FinishExport(int64_t id, int attempt, const std::string& result_key, int64_t rows,
                      int64_t bytes, const std::string& sha256) override {
    return pool_.Acquire()->FinishExport(id, attempt, result_key, rows, bytes, sha256);
  }
  Status FailExport(int64_t id, int attempt, const std::string& error, bool final) override {
    return pool_.Acquire()->FailExport(id, attempt, error, final);
  }
  Status DeleteExport(int64_t id) override { return pool_.Acquire()->DeleteExport(id); }
  Result<std::vector<int64_t>> UnfinishedExports() override {
    return pool_.Acquire()->UnfinishedExports();
  }
  Status FinishBackfill(const std::string& pipeline) override {
    return pool_.Acquire()->FinishBackfill(pipeline);
  }
  Status RetryDelivery(int64_t batch_id, const std::string& output) override {
    return pool_.Acquire()->RetryDelivery(batch_id, output);
  }
  Status MarkPublished(const std::string& staging_key) override {
    return pool_.Acquire()->MarkPublished(staging_key);
  }
  Status MarkPublishedAll(const std::vector<std::string>& staging_keys) override {
    return pool_.Acquire()->MarkPublishedAll(staging_keys);
  }
  Status RecordLostPublication(const std::string& staging_key, const std::string& error) override {
    return pool_.Acquire()->RecordLostPublication(staging_key, error);
  }
  Status MarkDamaged(int64_t batch_id, const std::string& reason) override {
    return pool_.Acquire()->MarkDamaged(batch_id, reason);
  }
  Result<std::string> CatalogId() override { return pool_.Acquire()->CatalogId(); }
  Status CheckIntegrity() override { return pool_.Acquire()->CheckIntegrity(); }
  Result<std::vector<TableInfo>> ListTables() override { return pool_.Acquire()->ListTables(); }
  Result<TableInfo> GetTable(const std::string& name) override {
    return pool_.Acquire()->GetTable(name);
  }
  Result<std::vector<DataFile>> ListFiles(const std::string& table, int64_t snapshot_id) override {
    return pool_.Acquire()->ListFiles(table, snapshot_id);
  }
  Result<std::vector<SnapshotInfo>> ListSnapshots(const std::string& table) override {
    return pool_.Acquire()->ListSnapshots(table);
  }
  Result<std::vector<DataFile>> ListAllFiles() override { return pool_.Acquire()->ListAllFiles(); }
  Status DropRetirement(const std::string& staging_key) override {
    return pool_.Acquire()->DropRetirement(staging_key);
  }
  Result<std::vector<DataFile>> ListBatchFiles(int64_t batch_id) override {
    return pool_.Acquire()->ListBatchFiles(batch_id);
  }
  Result<std::vector<Lineage>> BatchLineage(int64_t batch_id) override {
    return pool_.Acquire()->BatchLineage(batch_id);
  }

 private:
  Pool<Catalog> pool_;
};

}  // namespace

std::unique_ptr<Catalog> NewCatalogPool(std::vector<std::unique_ptr<Catalog>> members) {
  if (members.size() == 1) return std::move(members.front());
  return std::make_unique<PooledCatalog>(std::move(members));
}

}  // namespace sluice
