// status, batches, tables, replay: read-mostly views of the catalog.
// The --json shapes are stable (documented in README.md, "JSON output").
#include <cstdio>
#include <map>

#include <nlohmann/json.hpp>

#include "cli/cli.h"
#include "cli/format_util.h"
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
  for (const Status& st :
       {counts.status(), pipelines.status(), tables.status(), batches.status(), depth.status()}) {
    if (!st.ok()) return Fail(st);
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
    json states = json::object();
    for (auto& [s, n] : *counts) states[std::string(BatchStateName(s))] = n;
    j["batches_by_state"] = states;
    j["pipelines"] = json::array();
    for (const PipelineVersion& v : *pipelines) {
      const BatchStats& s = per_pipeline[v.pipeline];
      j["pipelines"].push_back({{"name", v.pipeline},
                                {"version", v.id},
                                {"content_hash", v.content_hash},
                                {"rows_read", s.rows_read},
                                {"rows_written", s.rows_written},
                                {"rows_quarantined", s.rows_quarantined},
                                {"rows_skipped", s.rows_skipped},
                                {"duplicates_removed", s.duplicates_removed}});
    }
    j["tables"] = json::array();
    for (const TableInfo& t : *tables) {
      auto tj = TableJson(p, t);
      if (!tj.ok()) return Fail(tj.status());
      j["tables"].push_back(*tj);
    }
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }
  std::printf("project  %s\nstore    %s\ncatalog  %s\nqueue    %lld task(s)\n\n",
              p.config().project_dir.c_str(), p.store().Describe().c_str(),
              CatalogDisplay(p.config()).c_str(), static_cast<long long>(*depth));
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
  if (g.json) {
    json arr = json::array();
    for (const BatchInfo& b : *batches) {
      json j = BatchJson(b);
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
  std::printf("%-6s %-16s %-12s %10s %10s %10s %8s  %-20s %s\n", "id", "pipeline", "state",
              "rows_in", "rows_out", "bad", "dupes", "updated", "input");
  for (const BatchInfo& b : *batches) {
    std::printf(
        "%-6lld %-16s %-12s %10lld %10lld %10lld %8lld  %-20s %s\n", static_cast<long long>(b.id),
        b.pipeline.c_str(), std::string(BatchStateName(b.state)).c_str(),
        static_cast<long long>(b.stats.rows_read), static_cast<long long>(b.stats.rows_written),
        static_cast<long long>(b.stats.rows_quarantined + b.stats.rows_skipped),
        static_cast<long long>(b.stats.duplicates_removed), HumanTime(b.updated_us).c_str(),
        b.object_key.c_str());
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
  auto after = p.catalog().GetBatch(batch_id);
  if (!after.ok()) return Fail(after.status());
  std::printf("batch %lld: %s, %lld rows read, %lld written, %lld quarantined\n",
              static_cast<long long>(batch_id), std::string(BatchStateName(after->state)).c_str(),
              static_cast<long long>(after->stats.rows_read),
              static_cast<long long>(after->stats.rows_written),
              static_cast<long long>(after->stats.rows_quarantined));
  if (!after->reason.empty()) std::printf("reason: %s\n", after->reason.c_str());
  return after->state == BatchState::kCommitted ? 0 : 3;
}

}  // namespace sluice::cli
