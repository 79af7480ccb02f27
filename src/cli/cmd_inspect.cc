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
#include "engine/replay.h"
#include "engine/views.h"

namespace sluice::cli {

namespace {

using nlohmann::json;

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

}  // namespace

int CmdStatus(const GlobalFlags& g) {
  auto project = OpenProject(g);
  if (!project.ok()) return Fail(project.status());
  Project& p = **project;
  auto sync = p.SyncPipelines();
  if (!sync.ok()) return Fail(sync.status());
  auto status = StatusJson(p, /*data_files=*/true);
  if (!status.ok()) return Fail(status.status());
  const json& j = *status;
  if (g.json) {
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }
  const json& by_kind = j["queue_depth_by_kind"];
  std::printf(
      "project  %s\nstore    %s\ncatalog  %s\nqueue    %lld task(s): %lld process, %lld load, "
      "%lld export\n\n",
      j["project"].get<std::string>().c_str(), j["store"].get<std::string>().c_str(),
      j["catalog"].get<std::string>().c_str(), j["queue_depth"].get<long long>(),
      by_kind["process"].get<long long>(), by_kind["load"].get<long long>(),
      by_kind["export"].get<long long>());
  std::printf("batches by state:\n");
  if (j["batches_by_state"].empty()) std::printf("  (none)\n");
  for (auto it = j["batches_by_state"].begin(); it != j["batches_by_state"].end(); ++it) {
    std::printf("  %-12s %lld\n", it.key().c_str(), it.value().get<long long>());
  }
  std::printf("\npipelines:\n  %-20s %8s %12s %12s %12s %10s %10s\n", "name", "version", "rows_in",
              "rows_out", "quarantined", "skipped", "dupes");
  for (const json& v : j["pipelines"]) {
    std::printf("  %-20s %8lld %12lld %12lld %12lld %10lld %10lld\n",
                v["name"].get<std::string>().c_str(), v["version"].get<long long>(),
                v["rows_read"].get<long long>(), v["rows_written"].get<long long>(),
                v["rows_quarantined"].get<long long>(), v["rows_skipped"].get<long long>(),
                v["duplicates_removed"].get<long long>());
    if (!v["waiting"].is_null()) {
      std::printf("    waiting: %s\n", v["waiting"].get<std::string>().c_str());
    }
  }
  std::printf("\ntables:\n");
  if (j["tables"].empty()) std::printf("  (none)\n");
  for (const json& t : j["tables"]) {
    std::printf("  %s: %lld rows, %lld file(s), %s, snapshot %lld\n",
                t["name"].get<std::string>().c_str(), t["rows"].get<long long>(),
                t["files"].get<long long>(), HumanBytes(t["bytes"].get<double>()).c_str(),
                t["snapshot"].get<long long>());
    for (const json& f : t["data_files"]) {
      std::printf("    %s (%lld rows)\n", f["path"].get<std::string>().c_str(),
                  f["rows"].get<long long>());
    }
  }
  const json& deadlines = j["deadlines"];
  if (!deadlines["pipelines"].empty()) {
    std::printf("\ndeadlines and freshness:\n  %-20s %10s %12s %8s %10s  %s\n", "pipeline",
                "deadline", "expect_every", "at_risk", "missed_24h", "last arrival");
    const int64_t now = NowMicros();
    for (const json& d : deadlines["pipelines"]) {
      auto secs = [](const json& v) {
        return v.is_null() ? std::string("-")
                           : HumanDuration(static_cast<int64_t>(v.get<double>() * 1e6));
      };
      const int64_t last = d["last_arrival_us"].get<int64_t>();
      std::string arrival = last > 0 ? HumanDuration(now - last) + " ago" : "never";
      if (d["stale"].get<bool>()) arrival += "  STALE";
      std::printf("  %-20s %10s %12s %8lld %10lld  %s\n", d["pipeline"].get<std::string>().c_str(),
                  secs(d["deadline_seconds"]).c_str(), secs(d["expect_every_seconds"]).c_str(),
                  d["at_risk"].get<long long>(), d["missed_24h"].get<long long>(), arrival.c_str());
    }
    for (const json& b : deadlines["at_risk"]) {
      const double left = b["seconds_left"].get<double>();
      std::printf("  at risk: batch %lld (%s), %s\n", b["id"].get<long long>(),
                  b["pipeline"].get<std::string>().c_str(),
                  left >= 0 ? (HumanDuration(static_cast<int64_t>(left * 1e6)) + " left").c_str()
                            : "deadline passed");
    }
  }
  const json& deliveries = j["deliveries"];
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
    for (const BatchInfo& b : *batches) {
      auto j = BatchWithDeliveriesJson(**project, b);
      if (!j.ok()) return Fail(j.status());
      arr.push_back(std::move(*j));
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
  auto batch = StartReplay(p, batch_id, latest_version);
  if (!batch.ok()) return Fail(batch.status());
  std::printf("batch %lld (was %s) replayed from %s\n", static_cast<long long>(batch_id),
              std::string(BatchStateName(batch->state)).c_str(), batch->archive_key.c_str());
  Status st = ProcessUntilDone(p, batch->pipeline, {batch_id}, nullptr);
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
  auto retries = RetryDeliveries(p, batch_ids, output);
  if (!retries.ok()) return Fail(retries.status());
  for (const DeliveryRetry& r : *retries) {
    for (const Delivery& d : r.deliveries) {
      std::printf("batch %lld -> %s: pending again (was failed after %d tr%s)\n",
                  static_cast<long long>(r.batch_id), d.output.c_str(), d.tries,
                  d.tries == 1 ? "y" : "ies");
    }
  }
  std::printf("%zu load task(s) queued; a server's loaders load the staged rows (sluice server)\n",
              retries->size());
  return 0;
}

}  // namespace sluice::cli
