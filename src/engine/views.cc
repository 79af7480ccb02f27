#include "engine/views.h"

#include <algorithm>
#include <map>

#include "core/clock.h"
#include "engine/backpressure.h"
#include "engine/processor.h"

namespace sluice {

using nlohmann::json;

json BatchJson(const BatchInfo& b) {
  return json{{"id", b.id},
              {"pipeline", b.pipeline},
              {"pipeline_version", b.pipeline_version_id},
              {"state", std::string(BatchStateName(b.state))},
              {"reason", b.reason},
              {"object_key", b.object_key},
              {"archive_key", b.archive_key},
              {"sha256", b.sha256},
              {"size_bytes", b.size_bytes},
              {"attempts", b.attempts},
              {"tries", b.tries},
              {"next_attempt_us", b.next_attempt_us},
              {"last_error", b.last_error},
              {"last_error_class", b.last_error_class},
              {"duplicate_landings", b.duplicate_landings},
              {"rows_read", b.stats.rows_read},
              {"rows_written", b.stats.rows_written},
              {"rows_quarantined", b.stats.rows_quarantined},
              {"rows_skipped", b.stats.rows_skipped},
              {"duplicates_removed", b.stats.duplicates_removed},
              {"seconds", b.stats.seconds},
              {"created_us", b.created_us},
              {"updated_us", b.updated_us},
              {"deadline", DeadlineStateName(b)},
              {"deadline_us", b.deadline_us},
              {"at_risk_us", b.at_risk_us},
              {"missed_us", b.missed_us > 0 ? b.missed_us : 0}};
}

std::string DeadlineStateName(const BatchInfo& b) {
  if (b.deadline_us == 0) return "none";
  if (b.missed_us < 0) return "met";
  if (b.missed_us > 0) return "missed";
  return b.at_risk_us > 0 ? "at_risk" : "open";
}

Result<json> DeadlinesJson(Project& p, int64_t at_risk_limit) {
  const int64_t now_us = NowMicros();
  constexpr int64_t kDay = 86'400'000'000;
  ASSIGN_OR_RETURN(std::vector<PipelineSla> slas, p.catalog().ListPipelineSlas());
  ASSIGN_OR_RETURN(std::vector<DeadlineCounts> counts, p.catalog().CountDeadlines(now_us - kDay));
  std::map<std::string, DeadlineCounts> by_pipeline;
  for (const DeadlineCounts& c : counts) by_pipeline[c.pipeline] = c;
  json pipelines = json::array();
  for (const PipelineSla& s : slas) {
    if (s.deadline_us == 0 && s.expect_every_us == 0) continue;
    ASSIGN_OR_RETURN(int64_t last, p.catalog().LastArrival(s.pipeline));
    const DeadlineCounts& c = by_pipeline[s.pipeline];
    pipelines.push_back(
        {{"pipeline", s.pipeline},
         {"deadline_seconds", s.deadline_us > 0 ? json(s.deadline_us / 1e6) : json(nullptr)},
         {"expect_every_seconds",
          s.expect_every_us > 0 ? json(s.expect_every_us / 1e6) : json(nullptr)},
         {"at_risk", c.at_risk},
         {"missed_24h", c.missed},
         {"last_arrival_us", last},
         {"stale", s.stale_since_us > 0},
         {"stale_since_us", s.stale_since_us}});
  }
  ASSIGN_OR_RETURN(std::vector<BatchInfo> open, p.catalog().OpenDeadlineBatches(at_risk_limit * 4));
  json at_risk = json::array();
  for (const BatchInfo& b : open) {
    if (b.at_risk_us == 0) continue;
    if (static_cast<int64_t>(at_risk.size()) >= at_risk_limit) break;
    json bj = BatchJson(b);
    bj["seconds_left"] = static_cast<double>(b.deadline_us - now_us) / 1e6;
    at_risk.push_back(std::move(bj));
  }
  return json{{"pipelines", pipelines}, {"at_risk", at_risk}};
}

json DeliveryJson(const Delivery& d) {
  return json{{"output", d.output},
              {"target", d.target},
              {"state", std::string(DeliveryStateName(d.state))},
              {"attempt", d.attempt},
              {"rows", d.rows},
              {"bytes", d.bytes},
              {"tries", d.tries},
              {"last_error", d.last_error},
              {"created_us", d.created_us},
              {"updated_us", d.updated_us}};
}

json BatchEventJson(const BatchEvent& e) {
  return json{
      {"state", std::string(BatchStateName(e.state))}, {"reason", e.reason}, {"at_us", e.at_us}};
}

json PipelineVersionJson(const PipelineVersion& v, bool spec) {
  json j{{"pipeline", v.pipeline},         {"version", v.id},
         {"content_hash", v.content_hash}, {"source_path", v.source_path},
         {"created_us", v.created_us},     {"active", v.active}};
  if (spec) j["spec"] = v.spec_text;
  return j;
}

json SnapshotJson(const SnapshotInfo& s) {
  return json{{"id", s.id},
              {"table", s.table},
              {"batch_id", s.batch_id},
              {"added_files", s.added_files},
              {"added_rows", s.added_rows},
              {"created_us", s.created_us}};
}

json DataFileJson(ObjectStore& store, const DataFile& f) {
  return json{{"key", f.key},
              {"path", store.Locate(f.key)},
              {"partition", f.partition},
              {"rows", f.rows},
              {"bytes", f.bytes},
              {"sha256", f.sha256},
              {"batch_id", f.batch_id},
              {"snapshot", f.snapshot_id}};
}

bool BatchFullyDelivered(const BatchInfo& b, const std::vector<Delivery>& deliveries) {
  if (b.state != BatchState::kCommitted) return false;
  for (const Delivery& d : deliveries) {
    if (d.state != DeliveryState::kDelivered) return false;
  }
  return true;
}

Result<json> QueueDepthByKind(TaskQueue& queue) {
  ASSIGN_OR_RETURN(int64_t process, queue.DepthOf(TaskKind::kProcess));
  ASSIGN_OR_RETURN(int64_t load, queue.DepthOf(TaskKind::kLoad));
  ASSIGN_OR_RETURN(int64_t exports, queue.DepthOf(TaskKind::kExport));
  return json{{"process", process}, {"load", load}, {"export", exports}};
}

Result<json> TableJson(Project& p, const TableInfo& t, bool data_files) {
  json cols = json::array();
  for (const Field& f : t.schema.fields()) {
    cols.push_back({{"name", f.name}, {"type", f.type.ToString()}, {"nullable", f.nullable}});
  }
  json j{{"name", t.name},
         {"columns", cols},
         {"partition_by", t.partition_by},
         {"snapshot", t.current_snapshot},
         {"files", t.num_files},
         {"rows", t.num_rows},
         {"bytes", t.total_bytes},
         {"location", p.store().Locate("lake/" + t.name)}};
  if (data_files) {
    ASSIGN_OR_RETURN(std::vector<DataFile> files, p.catalog().ListFiles(t.name, 0));
    json jf = json::array();
    for (const DataFile& f : files) jf.push_back(DataFileJson(p.store(), f));
    j["data_files"] = std::move(jf);
  }
  return j;
}

Result<json> BatchWithDeliveriesJson(Project& p, const BatchInfo& b) {
  ASSIGN_OR_RETURN(std::vector<Delivery> deliveries, p.catalog().BatchDeliveries(b.id));
  json j = BatchJson(b);
  json dj = json::array();
  for (const Delivery& d : deliveries) dj.push_back(DeliveryJson(d));
  j["deliveries"] = std::move(dj);
  j["done"] = BatchFullyDelivered(b, deliveries);
  // What the batch's transform read: reference files by content hash, lake
  // tables by snapshot.
  ASSIGN_OR_RETURN(std::vector<Lineage> lineage, p.catalog().BatchLineage(b.id));
  json refs = json::array();
  for (const Lineage& l : lineage) {
    if (!l.output.starts_with("reference:")) continue;
    refs.push_back({{"name", l.output.substr(10)},
                    {"source", l.file_key},
                    {"content_sha256", l.content_sha256},
                    {"snapshot_id", l.snapshot_id}});
  }
  j["references"] = std::move(refs);
  return j;
}

namespace {

// The first `limit` records of an attempt's bad_records.ndjson (none when
// the attempt kept none). Reads at most 1 MiB.
Result<json> BadRecordSamples(ObjectStore& store, const std::string& key, int limit) {
  json out = json::array();
  if (limit <= 0) return out;
  auto in = store.OpenRead(key);
  if (!in.ok()) {
    if (in.status().code() == StatusCode::kNotFound) return out;
    return in.status();
  }
  constexpr size_t kMaxRead = 1 << 20;
  std::string text;
  char buf[64 << 10];
  while (text.size() < kMaxRead) {
    ASSIGN_OR_RETURN(size_t n, (*in)->Read(buf, sizeof(buf)));
    if (n == 0) break;
    text.append(buf, n);
    if (std::count(text.begin(), text.end(), '\n') >= limit) break;
  }
  size_t start = 0;
  while (start < text.size() && static_cast<int>(out.size()) < limit) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) break;  // a line cut by the read limit
    json rec = json::parse(text.begin() + static_cast<std::ptrdiff_t>(start),
                           text.begin() + static_cast<std::ptrdiff_t>(end), nullptr, false);
    if (!rec.is_discarded()) out.push_back(std::move(rec));
    start = end + 1;
  }
  return out;
}

}  // namespace

Result<json> BatchDetailJson(Project& p, int64_t batch_id, int bad_samples) {
  ASSIGN_OR_RETURN(BatchInfo b, p.catalog().GetBatch(batch_id));
  ASSIGN_OR_RETURN(json j, BatchWithDeliveriesJson(p, b));
  ASSIGN_OR_RETURN(std::vector<BatchEvent> history, p.catalog().BatchHistory(batch_id));
  json h = json::array();
  for (const BatchEvent& e : history) h.push_back(BatchEventJson(e));
  j["history"] = std::move(h);
  ASSIGN_OR_RETURN(std::vector<Lineage> lineage, p.catalog().BatchLineage(batch_id));
  json l = json::array();
  for (const Lineage& e : lineage) {
    if (e.output.starts_with("reference:")) continue;
    l.push_back({{"output", e.output},
                 {"file_key", e.file_key},
                 {"rows", e.rows},
                 {"pipeline_version", e.pipeline_version_id}});
  }
  j["lineage"] = std::move(l);
  ASSIGN_OR_RETURN(std::vector<DataFile> files, p.catalog().ListBatchFiles(batch_id));
  json f = json::array();
  for (const DataFile& d : files) {
    json fj = DataFileJson(p.store(), d);
    fj["table"] = d.table;
    f.push_back(std::move(fj));
  }
  j["files"] = std::move(f);
  // The committed attempt's bad records, else the latest attempt's.
  const int attempt = b.committed_attempt > 0 ? b.committed_attempt : b.attempts;
  json samples = json::array();
  if (attempt > 0) {
    const std::string key = QuarantineKey(b.pipeline, b.id, attempt);
    ASSIGN_OR_RETURN(samples, BadRecordSamples(p.store(), key, bad_samples));
    j["bad_records_key"] = b.stats.rows_quarantined > 0 ? json(key) : json(nullptr);
  } else {
    j["bad_records_key"] = nullptr;
  }
  j["bad_record_samples"] = std::move(samples);
  return j;
}

Result<json> StatusJson(Project& p, bool data_files) {
  ASSIGN_OR_RETURN(auto counts, p.catalog().CountBatchesByState());
  ASSIGN_OR_RETURN(std::vector<PipelineVersion> pipelines, p.catalog().ListActivePipelines());
  ASSIGN_OR_RETURN(std::vector<TableInfo> tables, p.catalog().ListTables());
  ASSIGN_OR_RETURN(int64_t depth, p.queue().Depth());
  ASSIGN_OR_RETURN(json depth_by_kind, QueueDepthByKind(p.queue()));
  ASSIGN_OR_RETURN(std::vector<DeliveryBacklog> backlogs, p.catalog().DeliveryBacklogs());
  const int64_t now_us = NowMicros();
  // Per database output with anything not yet delivered. `output` and
  // `target` show no password.
  json deliveries = json::array();
  for (const DeliveryBacklog& b : backlogs) {
    json age = nullptr;
    if (b.oldest_pending_us > 0) {
      age = static_cast<double>(std::max<int64_t>(0, now_us - b.oldest_pending_us)) / 1e6;
    }
    deliveries.push_back({{"output", b.output},
                          {"target", b.target},
                          {"pending", b.deliveries - b.failed},
                          {"failed", b.failed},
                          {"rows", b.rows},
                          {"bytes", b.bytes},
                          {"oldest_pending_seconds", age}});
  }
  // Pipelines a server holds back (their outputs' backlog above the high
  // water mark; a server releases them below the low mark, which this
  // stateless look cannot tell apart from "never held").
  std::map<std::string, std::string> waiting;
  if (auto active = p.ActivePipelines(); active.ok()) {
    waiting = ComputeBackpressure(*active, backlogs, {}).held;
  }
  // Per-pipeline row totals over every batch (summed in the catalog: a
  // status never reads every batch row into memory).
  ASSIGN_OR_RETURN(auto sums, p.catalog().SumBatchStatsByPipeline());
  std::map<std::string, BatchStats> per_pipeline(sums.begin(), sums.end());
  json j;
  j["project"] = p.config().project_dir;
  j["store"] = p.store().Describe();
  j["catalog"] = CatalogDisplay(p.config());
  j["queue_depth"] = depth;
  j["queue_depth_by_kind"] = depth_by_kind;
  json states = json::object();
  for (auto& [s, n] : counts) states[std::string(BatchStateName(s))] = n;
  j["batches_by_state"] = states;
  j["pipelines"] = json::array();
  for (const PipelineVersion& v : pipelines) {
    const BatchStats& s = per_pipeline[v.pipeline];
    j["pipelines"].push_back(
        {{"name", v.pipeline},
         {"version", v.id},
         {"content_hash", v.content_hash},
         {"rows_read", s.rows_read},
         {"rows_written", s.rows_written},
         {"rows_quarantined", s.rows_quarantined},
         {"rows_skipped", s.rows_skipped},
         {"duplicates_removed", s.duplicates_removed},
         {"waiting", waiting.count(v.pipeline) > 0 ? json(waiting[v.pipeline]) : json(nullptr)}});
  }
  j["tables"] = json::array();
  for (const TableInfo& t : tables) {
    ASSIGN_OR_RETURN(json tj, TableJson(p, t, data_files));
    j["tables"].push_back(std::move(tj));
  }
  j["deliveries"] = std::move(deliveries);
  ASSIGN_OR_RETURN(j["deadlines"], DeadlinesJson(p, 20));
  return j;
}

}  // namespace sluice
