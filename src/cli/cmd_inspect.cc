// status, batches, tables, replay: read-mostly views of the catalog.
// The --json shapes are stable (documented in README.md, "JSON output").
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "cli/cli.h"
#include "cli/format_util.h"
#include "core/clock.h"
#include "engine/backpressure.h"
#include "engine/ingest.h"
#include "engine/processor.h"

namespace sluice::cli {

namespace {

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
              {"updated_us", b.updated_us}};
}

// A batch's deliveries for --json. Never `args`: it may hold a DSN with its
// password (`output` and `target` show it as ***).
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

// Committed, and every database output has its rows.
bool BatchDone(const BatchInfo& b, const std::vector<Delivery>& deliveries) {
  if (b.state != BatchState::kCommitted) return false;
  for (const Delivery& d : deliveries) {
    if (d.state != DeliveryState::kDelivered) return false;
  }
  return true;
}

// "-", "2/2 delivered", "1/3 delivered, 1 failed, 1 pending".
std::string DeliverySummary(const std::vector<Delivery>& deliveries) {
  if (deliveries.empty()) return "-";
  std::map<DeliveryState, int> n;
  for (const Delivery& d : deliveries) ++n[d.state];
  std::string s = std::to_string(n[DeliveryState::kDelivered]) + "/" +
                  std::to_string(deliveries.size()) + " delivered";
  for (DeliveryState st :
       {DeliveryState::kFailed, DeliveryState::kPending, DeliveryState::kLoading}) {
    if (n[st] > 0) s += ", " + std::to_string(n[st]) + " " + std::string(DeliveryStateName(st));
  }
  return s;
}

// Continuation lines of a multi-line message (PostgreSQL's DETAIL) indented
// under its first.
std::string IndentLines(const std::string& text, const std::string& indent) {
  std::string out;
  for (char c : text) {
    out += c;
    if (c == '\n') out += indent;
  }
  return out;
}

// Queue depth by task kind (the names the queue stores).
Result<json> QueueDepthByKind(TaskQueue& queue) {
  ASSIGN_OR_RETURN(int64_t process, queue.DepthOf(TaskKind::kProcess));
  ASSIGN_OR_RETURN(int64_t load, queue.DepthOf(TaskKind::kLoad));
  return json{{"process", process}, {"load", load}};
}

Result<json> TableJson(Project& p, const TableInfo& t) {
  json cols = json::array();
  for (const Field& f : t.schema.fields()) {
    cols.push_back({{"name", f.name}, {"type", f.type.ToString()}, {"nullable", f.nullable}});
  }
  ASSIGN_OR_RETURN(std::vector<DataFile> files, p.catalog().ListFiles(t.name, 0));
  json jf = json::array();
  for (const DataFile& f : files) {
    jf.push_back({{"key", f.key},
                  {"path", p.store().Locate(f.key)},
                  {"partition", f.partition},
                  {"rows", f.rows},
                  {"bytes", f.bytes},
                  {"sha256", f.sha256},
                  {"batch_id", f.batch_id},
                  {"snapshot", f.snapshot_id}});
  }
  return json{{"name", t.name},
              {"columns", cols},
              {"partition_by", t.partition_by},
              {"snapshot", t.current_snapshot},
              {"files", t.num_files},
              {"rows", t.num_rows},
              {"bytes", t.total_bytes},
              {"location", p.store().Locate("lake/" + t.name)},
              {"data_files", jf}};
}

}  // namespace

int CmdStatus(const GlobalFlags& g) {
  auto project = OpenProject(g);
  if (!project.ok()) return Fail(project.status());
  Project& p = **project;
  auto sync = p.SyncPipelines();
  if (!sync.ok()) return Fail(sync.status());
  auto counts = p.catalog().CountBatchesByState();
  auto pipelines = p.catalog().ListActivePipelines();
  auto tables = p.catalog().ListTables();
  auto batches = p.catalog().ListBatches(std::nullopt, "", 0);
  auto depth = p.queue().Depth();
  auto depth_by_kind = QueueDepthByKind(p.queue());
  auto backlogs = p.catalog().DeliveryBacklogs();
  for (const Status& st : {counts.status(), pipelines.status(), tables.status(), batches.status(),
                           depth.status(), depth_by_kind.status(), backlogs.status()}) {
    if (!st.ok()) return Fail(st);
  }
  const int64_t now_us = NowMicros();
  // Per database output with anything not yet delivered. `output` and
  // `target` show no password.
  json deliveries = json::array();
  for (const DeliveryBacklog& b : *backlogs) {
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
    waiting = ComputeBackpressure(*active, *backlogs, {}).held;
  }
  // Per-pipeline row totals over committed and quarantined batches.
  std::map<std::string, BatchStats> per_pipeline;
  for (const BatchInfo& b : *batches) {
    BatchStats& s = per_pipeline[b.pipeline];
    s.rows_read += b.stats.rows_read;
    s.rows_written += b.stats.rows_written;
    s.rows_quarantined += b.stats.rows_quarantined;
    s.rows_skipped += b.stats.rows_skipped;
    s.duplicates_removed += b.stats.duplicates_removed;
  }
  if (g.json) {
    json j;
    j["project"] = p.config().project_dir;
    j["store"] = p.store().Describe();
    j["catalog"] = CatalogDisplay(p.config());
    j["queue_depth"] = *depth;
    j["queue_depth_by_kind"] = *depth_by_kind;
    json states = json::object();
    for (auto& [s, n] : *counts) states[std::string(BatchStateName(s))] = n;
    j["batches_by_state"] = states;
    j["pipelines"] = json::array();
    for (const PipelineVersion& v : *pipelines) {
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
    for (const TableInfo& t : *tables) {
      auto tj = TableJson(p, t);
      if (!tj.ok()) return Fail(tj.status());
      j["tables"].push_back(*tj);
    }
    j["deliveries"] = std::move(deliveries);
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }
  std::printf(
      "project  %s\nstore    %s\ncatalog  %s\nqueue    %lld task(s): %lld process, %lld load\n\n",
      p.config().project_dir.c_str(), p.store().Describe().c_str(),
      CatalogDisplay(p.config()).c_str(), static_cast<long long>(*depth),
      (*depth_by_kind)["process"].get<long long>(), (*depth_by_kind)["load"].get<long long>());
  std::printf("batches by state:\n");
  if (counts->empty()) std::printf("  (none)\n");
  for (auto& [s, n] : *counts) {
    std::printf("  %-12s %lld\n", std::string(BatchStateName(s)).c_str(),
                static_cast<long long>(n));
  }
  std::printf("\npipelines:\n  %-20s %8s %12s %12s %12s %10s %10s\n", "name", "version", "rows_in",
              "rows_out", "quarantined", "skipped", "dupes");
  for (const PipelineVersion& v : *pipelines) {
    const BatchStats& s = per_pipeline[v.pipeline];
    std::printf("  %-20s %8lld %12lld %12lld %12lld %10lld %10lld\n", v.pipeline.c_str(),
                static_cast<long long>(v.id), static_cast<long long>(s.rows_read),
                static_cast<long long>(s.rows_written), static_cast<long long>(s.rows_quarantined),
                static_cast<long long>(s.rows_skipped),
                static_cast<long long>(s.duplicates_removed));
    if (waiting.count(v.pipeline) > 0) {
      std::printf("    waiting: %s\n", waiting[v.pipeline].c_str());
    }
  }
  std::printf("\ntables:\n");
  if (tables->empty()) std::printf("  (none)\n");
  for (const TableInfo& t : *tables) {
    std::printf("  %s: %lld rows, %lld file(s), %s, snapshot %lld\n", t.name.c_str(),
                static_cast<long long>(t.num_rows), static_cast<long long>(t.num_files),
                HumanBytes(static_cast<double>(t.total_bytes)).c_str(),
                static_cast<long long>(t.current_snapshot));
    auto files = p.catalog().ListFiles(t.name, 0);
    if (!files.ok()) return Fail(files.status());
    for (const DataFile& f : *files) {
      std::printf("    %s (%lld rows)\n", p.store().Locate(f.key).c_str(),
                  static_cast<long long>(f.rows));
    }
  }
  std::printf("\ndeliveries not yet delivered:\n");
  if (deliveries.empty()) {
    std::printf("  (none)\n");
  } else {
    std::printf("  %8s %8s %12s %10s %10s  %s\n", "pending", "failed", "rows", "bytes", "oldest",
                "output");
  }
  for (const json& d : deliveries) {
    const json& age = d["oldest_pending_seconds"];
    std::printf(
        "  %8lld %8lld %12lld %10s %10s  %s\n", d["pending"].get<long long>(),
        d["failed"].get<long long>(), d["rows"].get<long long>(),
        HumanBytes(d["bytes"].get<double>()).c_str(),
        age.is_null() ? "-" : HumanDuration(static_cast<int64_t>(age.get<double>() * 1e6)).c_str(),
        d["output"].get<std::string>().c_str());
    if (d["target"] != d["output"]) {
      std::printf("%56s-> %s\n", "", d["target"].get<std::string>().c_str());
    }
  }
  return 0;
}

int CmdBatches(const GlobalFlags& g, const std::string& state, const std::string& pipeline,
               int64_t limit, int64_t before) {
  std::optional<BatchState> filter;
  if (!state.empty()) {
    auto s = ParseBatchState(state);
    if (!s.ok()) return Fail(s.status());
    filter = *s;
  }
  auto project = OpenProject(g);
  if (!project.ok()) return Fail(project.status());
  // A page (--limit, from --before), or everything.
  auto page = (*project)->catalog().ListBatchPage(filter, pipeline, before, limit > 0 ? limit : -1);
  if (!page.ok()) return Fail(page.status());
  const std::vector<BatchInfo>* batches = &page->batches;
  if (page->next_before_id != 0) {
    std::fprintf(stderr, "sluice: more batches: --before %lld\n",
                 static_cast<long long>(page->next_before_id));
  }
  // Each batch's database deliveries: one catalog call per listed batch.
  std::vector<std::vector<Delivery>> deliveries;
  for (const BatchInfo& b : *batches) {
    auto d = (*project)->catalog().BatchDeliveries(b.id);
    if (!d.ok()) return Fail(d.status());
    deliveries.push_back(std::move(*d));
  }
  if (g.json) {
    json arr = json::array();
    for (size_t i = 0; i < batches->size(); ++i) {
      const BatchInfo& b = (*batches)[i];
      json j = BatchJson(b);
      json dj = json::array();
      for (const Delivery& d : deliveries[i]) dj.push_back(DeliveryJson(d));
      j["deliveries"] = std::move(dj);
      j["done"] = BatchDone(b, deliveries[i]);
      // What the batch's transform read: reference files by content hash,
      // lake tables by snapshot.
      auto lineage = (*project)->catalog().BatchLineage(b.id);
      if (!lineage.ok()) return Fail(lineage.status());
      json refs = json::array();
      for (const Lineage& l : *lineage) {
        if (!l.output.starts_with("reference:")) continue;
        refs.push_back({{"name", l.output.substr(10)},
                        {"source", l.file_key},
                        {"content_sha256", l.content_sha256},
                        {"snapshot_id", l.snapshot_id}});
      }
      j["references"] = std::move(refs);
      arr.push_back(std::move(j));
    }
    std::printf("%s\n", arr.dump(2).c_str());
    return 0;
  }
  std::printf("%-6s %-16s %-12s %10s %10s %10s %8s  %-24s %-20s %s\n", "id", "pipeline", "state",
              "rows_in", "rows_out", "bad", "dupes", "deliveries", "updated", "input");
  for (size_t i = 0; i < batches->size(); ++i) {
    const BatchInfo& b = (*batches)[i];
    std::printf(
        "%-6lld %-16s %-12s %10lld %10lld %10lld %8lld  %-24s %-20s %s\n",
        static_cast<long long>(b.id), b.pipeline.c_str(),
        std::string(BatchStateName(b.state)).c_str(), static_cast<long long>(b.stats.rows_read),
        static_cast<long long>(b.stats.rows_written),
        static_cast<long long>(b.stats.rows_quarantined + b.stats.rows_skipped),
        static_cast<long long>(b.stats.duplicates_removed), DeliverySummary(deliveries[i]).c_str(),
        HumanTime(b.updated_us).c_str(), b.object_key.c_str());
    if (b.duplicate_landings > 0) {
      std::printf("       + %lld duplicate landing(s) of the same content\n",
                  static_cast<long long>(b.duplicate_landings));
    }
    if (!b.reason.empty()) std::printf("       reason: %s\n", b.reason.c_str());
    if (b.state == BatchState::kQueued && b.next_attempt_us > 0) {
      std::printf("       retry %d due %s after %s error: %s\n", b.tries + 1,
                  HumanTime(b.next_attempt_us).c_str(), b.last_error_class.c_str(),
                  b.last_error.c_str());
    } else if (b.tries > 1 && b.reason.empty() && !b.last_error.empty()) {
      std::printf("       %d attempts; last error (%s): %s\n", b.tries, b.last_error_class.c_str(),
                  b.last_error.c_str());
    }
    PrintDeliveries(deliveries[i], b.id, /*delivered_too=*/false);
  }
  return 0;
}

int CmdTables(const GlobalFlags& g) {
  auto project = OpenProject(g);
  if (!project.ok()) return Fail(project.status());
  Project& p = **project;
  auto tables = p.catalog().ListTables();
  if (!tables.ok()) return Fail(tables.status());
  json arr = json::array();
  for (const TableInfo& t : *tables) {
    auto tj = TableJson(p, t);
    if (!tj.ok()) return Fail(tj.status());
    arr.push_back(*tj);
  }
  if (g.json) {
    std::printf("%s\n", arr.dump(2).c_str());
    return 0;
  }
  for (const json& t : arr) {
    std::printf("%s  (%lld rows, %lld files, snapshot %lld)\n  location: %s\n",
                t["name"].get<std::string>().c_str(), t["rows"].get<long long>(),
                t["files"].get<long long>(), t["snapshot"].get<long long>(),
                t["location"].get<std::string>().c_str());
    for (const json& c : t["columns"]) {
      std::printf("    %-24s %s%s\n", c["name"].get<std::string>().c_str(),
                  c["type"].get<std::string>().c_str(),
                  c["nullable"].get<bool>() ? "" : " not null");
    }
    if (!t["partition_by"].empty())
      std::printf("  partitioned by %s\n", t["partition_by"].dump().c_str());
  }
  if (arr.empty()) std::printf("no tables yet\n");
  return 0;
}

void PrintDeliveries(const std::vector<Delivery>& deliveries, int64_t batch_id,
                     bool delivered_too) {
  // A line per delivery, with its last error (the target shows no password;
  // the error is the database's own text).
  for (const Delivery& d : deliveries) {
    if (d.state == DeliveryState::kDelivered && !delivered_too) continue;
    std::printf("       -> %s: %s, %d tr%s", d.output.c_str(),
                std::string(DeliveryStateName(d.state)).c_str(), d.tries,
                d.tries == 1 ? "y" : "ies");
    if (d.state == DeliveryState::kPending || d.state == DeliveryState::kLoading) {
      std::printf(" (a server's loaders will load it)");
    }
    if (d.state != DeliveryState::kDelivered && !d.last_error.empty()) {
      std::printf(": %s", IndentLines(d.last_error, "          ").c_str());
    }
    std::printf("\n");
  }
  if (std::any_of(deliveries.begin(), deliveries.end(),
                  [](const Delivery& d) { return d.state == DeliveryState::kFailed; })) {
    std::printf("       retry with: sluice replay %lld --delivery all\n",
                static_cast<long long>(batch_id));
  }
}

int CmdReplay(const GlobalFlags& g, int64_t batch_id, bool latest_version) {
  auto project = OpenProject(g);
  if (!project.ok()) return Fail(project.status());
  Project& p = **project;
  auto sync = p.SyncPipelines();
  if (!sync.ok()) return Fail(sync.status());
  auto batch = p.catalog().GetBatch(batch_id);
  if (!batch.ok()) return Fail(batch.status());
  int64_t version = 0;
  if (latest_version) {
    auto v = p.catalog().GetActiveVersion(batch->pipeline);
    if (!v.ok()) return Fail(v.status());
    version = v->id;
  }
  // Files of the batch's commit that are still to be published first (a
  // replay refuses while there are any).
  Status published = PublishPending(p.store(), p.catalog());
  if (!published.ok()) {
    std::fprintf(stderr, "sluice: publishing pending files: %s\n", published.ToString().c_str());
  }
  Status st = p.catalog().ReplayBatch(batch_id, version);
  if (st.ok())
    st = p.queue().Enqueue(TaskRequest{TaskKind::kProcess, batch_id, batch->pipeline, 0});
  if (!st.ok()) return Fail(st);
  std::printf("batch %lld (was %s) replayed from %s\n", static_cast<long long>(batch_id),
              std::string(BatchStateName(batch->state)).c_str(), batch->archive_key.c_str());
  st = ProcessUntilDone(p, batch->pipeline, {batch_id}, nullptr);
  if (!st.ok()) return Fail(st);
  // The new attempt's rows replace the batch's rows in its databases too.
  st = DeliverUntilDone(p, batch->pipeline, {batch_id}, std::chrono::minutes(1));
  if (!st.ok()) return Fail(st);
  auto after = p.catalog().GetBatch(batch_id);
  if (!after.ok()) return Fail(after.status());
  std::printf("batch %lld: %s, %lld rows read, %lld written, %lld quarantined\n",
              static_cast<long long>(batch_id), std::string(BatchStateName(after->state)).c_str(),
              static_cast<long long>(after->stats.rows_read),
              static_cast<long long>(after->stats.rows_written),
              static_cast<long long>(after->stats.rows_quarantined));
  if (!after->reason.empty()) std::printf("reason: %s\n", after->reason.c_str());
  auto deliveries = p.catalog().BatchDeliveries(batch_id);
  if (!deliveries.ok()) return Fail(deliveries.status());
  PrintDeliveries(*deliveries, batch_id, /*delivered_too=*/true);
  for (const Delivery& d : *deliveries) {
    if (d.state == DeliveryState::kFailed) return 3;
  }
  return after->state == BatchState::kCommitted ? 0 : 3;
}

int CmdReplayDeliveries(const GlobalFlags& g, const std::vector<int64_t>& batch_ids,
                        const std::string& output) {
  if (output.empty()) {
    return Fail(Status::InvalidArgument("--delivery needs an output id or 'all'"));
  }
  auto project = OpenProject(g);
  if (!project.ok()) return Fail(project.status());
  Project& p = **project;
  // Every batch is checked before any delivery is retried: a typo in one id
  // or output retries nothing.
  struct Retry {
    int64_t batch_id;
    std::string pipeline;
    std::vector<Delivery> deliveries;  // the failed ones to retry
  };
  std::vector<Retry> retries;
  std::set<int64_t> seen;
  for (int64_t id : batch_ids) {
    if (!seen.insert(id).second) continue;
    auto batch = p.catalog().GetBatch(id);
    if (!batch.ok()) return Fail(batch.status());
    auto all = p.catalog().BatchDeliveries(id);
    if (!all.ok()) return Fail(all.status());
    const std::string name = "batch " + std::to_string(id);
    if (all->empty()) {
      return Fail(Status::NotFound(name + " (" + std::string(BatchStateName(batch->state)) +
                                   ") has no database deliveries"));
    }
    Retry r{id, batch->pipeline, {}};
    if (output == "all") {
      for (const Delivery& d : *all) {
        if (d.state == DeliveryState::kFailed) r.deliveries.push_back(d);
      }
      if (r.deliveries.empty()) {
        return Fail(Status::FailedPrecondition(name + " has no failed delivery (" +
                                               DeliverySummary(*all) + ")"));
      }
    } else {
      auto it = std::find_if(all->begin(), all->end(),
                             [&](const Delivery& d) { return d.output == output; });
      if (it == all->end()) {
        std::string outputs;
        for (const Delivery& d : *all) outputs += "\n  " + d.output;
        return Fail(Status::NotFound(name + " has no delivery to '" + output +
                                     "'; its outputs are:" + outputs +
                                     "\n(or use --delivery all)"));
      }
      if (it->state != DeliveryState::kFailed) {
        return Fail(Status::FailedPrecondition(name + ": the delivery to " + it->output + " is " +
                                               std::string(DeliveryStateName(it->state)) +
                                               ", not failed; only a failed delivery " +
                                               "is retried"));
      }
      r.deliveries.push_back(*it);
    }
    retries.push_back(std::move(r));
  }
  for (const Retry& r : retries) {
    for (const Delivery& d : r.deliveries) {
      Status st = p.catalog().RetryDelivery(r.batch_id, d.output);
      if (!st.ok()) return Fail(st);
      std::printf("batch %lld -> %s: pending again (was failed after %d tr%s)\n",
                  static_cast<long long>(r.batch_id), d.output.c_str(), d.tries,
                  d.tries == 1 ? "y" : "ies");
    }
    // The staged rows are loaded again by a loader; the batch is not
    // processed again. (Should this enqueue fail, a server's reconciliation
    // queues the load of every pending delivery anyway.)
    Status st = p.queue().Enqueue(TaskRequest{TaskKind::kLoad, r.batch_id, r.pipeline, 0});
    if (!st.ok()) return Fail(st);
  }
  std::printf("%zu load task(s) queued; a server's loaders load the staged rows (sluice server)\n",
              retries.size());
  return 0;
}

}  // namespace sluice::cli
