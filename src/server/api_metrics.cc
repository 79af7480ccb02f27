// GET /metrics: the process's metrics (core/metrics.h's default registry) in
// the Prometheus text format, plus gauges read from the catalog and the
// queue at scrape time (docs/architecture.md 8.2).
//
// The catalog and queue are asked at most once per refresh interval, however
// many scrapes come: max(1 s, 10x the last refresh's duration), so a slow
// catalog is asked less often and a scrape storm cannot hammer it. A scrape
// that finds the values older than that refreshes them (one scrape at a
// time; the others wait for it and use its answer). A query that fails
// leaves its gauges out of that scrape (never stale or invented values) and
// counts sluice_errors_total{port="catalog"|"queue"}.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <set>

#include "core/clock.h"
#include "core/metrics.h"
#include "core/thread_annotations.h"
#include "queue/sql_task_queue.h"
#include "server/api.h"

namespace sluice::server {

namespace {

constexpr std::string_view kExpositionType = "text/plain; version=0.0.4; charset=utf-8";

// The scrape-time gauges of one Service: its callbacks and their cached
// answers. Owned by the /metrics handler (the router), so the callbacks go
// with the service.
class ScrapeGauges {
 public:
  // Reads ctx.project at each refresh (a router built without one, as some
  // tests do, reports none of these gauges).
  explicit ScrapeGauges(const ApiContext& ctx) : ctx_(ctx) {}
  ~ScrapeGauges() {
    // No callback runs once these are reset (a scrape in progress finishes first).
    for (metrics::CallbackHandle& h : handles_) h.Reset();
  }

  void Register() {
    metrics::Registry& r = metrics::Default();
    handles_.push_back(
        r.AddGaugeCallback("sluice_batches", "Batches in the catalog, by pipeline and state.",
                           {"pipeline", "state"}, [this] { return Read(&Snapshot::batches); }));
    handles_.push_back(r.AddGaugeCallback("sluice_queue_depth",
                                          "Tasks in the queue (pending or leased), by kind.",
                                          {"kind"}, [this] { return Read(&Snapshot::depth); }));
    handles_.push_back(r.AddGaugeCallback("sluice_queue_leased",
                                          "Tasks leased by a worker now, by kind.", {"kind"},
                                          [this] { return Read(&Snapshot::leased); }));
    handles_.push_back(r.AddGaugeCallback(
        "sluice_queue_oldest_age_seconds",
        "Age of the oldest task in the queue (since it was first enqueued; 0 when there is none), "
        "by kind.",
        {"kind"}, [this] { return Ages(&Snapshot::oldest_queued_us); }));
    handles_.push_back(r.AddGaugeCallback(
        "sluice_delivery_backlog_rows",
        "Rows waiting to be delivered (pending, loading or failed deliveries), by output.",
        {"output"}, [this] { return Read(&Snapshot::backlog_rows); }));
    handles_.push_back(
        r.AddGaugeCallback("sluice_delivery_backlog_deliveries",
                           "Deliveries not yet delivered (pending, loading or failed), by output.",
                           {"output"}, [this] { return Read(&Snapshot::backlog_deliveries); }));
    handles_.push_back(
        r.AddGaugeCallback("sluice_delivery_failed",
                           "Deliveries that failed for good (a replay retries them), by output.",
                           {"output"}, [this] { return Read(&Snapshot::backlog_failed); }));
    handles_.push_back(r.AddGaugeCallback(
        "sluice_delivery_oldest_pending_age_seconds",
        "Age of the oldest pending delivery (0 when none is pending), by output.", {"output"},
        [this] { return Ages(&Snapshot::oldest_pending_us); }));
    handles_.push_back(r.AddGaugeCallback(
        "sluice_batches_at_risk",
        "Unfinished batches estimated to miss their pipeline's deadline, by pipeline.",
        {"pipeline"}, [this] { return Read(&Snapshot::at_risk); }));
    handles_.push_back(r.AddGaugeCallback(
        "sluice_pipeline_stale",
        "1 while a pipeline has had no batch for longer than its expect_every, by pipeline.",
        {"pipeline"}, [this] { return Read(&Snapshot::stale); }));
    handles_.push_back(r.AddGaugeCallback(
        "sluice_pipeline_last_arrival_age_seconds",
        "Time since a pipeline with expect_every last registered a batch (0: never), by "
        "pipeline.",
        {"pipeline"}, [this] { return Ages(&Snapshot::last_arrival_us); }));
  }

 private:
  struct Snapshot {
    std::vector<metrics::Sample> batches;
    std::vector<metrics::Sample> depth;
    std::vector<metrics::Sample> leased;
    std::vector<metrics::Sample> oldest_queued_us;  // values: enqueue times (0: none)
    std::vector<metrics::Sample> backlog_rows;
    std::vector<metrics::Sample> backlog_deliveries;
    std::vector<metrics::Sample> backlog_failed;
    std::vector<metrics::Sample> oldest_pending_us;  // values: creation times (0: none)
    std::vector<metrics::Sample> at_risk;
    std::vector<metrics::Sample> stale;
    std::vector<metrics::Sample> last_arrival_us;  // values: arrival times (0: never)
  };

  std::vector<metrics::Sample> Read(std::vector<metrics::Sample> Snapshot::*field) {
    MutexLock lock(&mu_);
    RefreshIfStale();
    return snapshot_.*field;
  }

  // Times turned into ages now (the cache holds times, so ages keep growing
  // between refreshes).
  std::vector<metrics::Sample> Ages(std::vector<metrics::Sample> Snapshot::*field) {
    std::vector<metrics::Sample> out = Read(field);
    const int64_t now = NowMicros();
    for (metrics::Sample& s : out) {
      s.value = s.value > 0 ? std::max(0.0, static_cast<double>(now - s.value) / 1e6) : 0.0;
    }
    return out;
  }

  void CountError(std::string_view port, const Status& st) {
    spdlog::warn("metrics: reading the {} failed: {}", port, st.ToString());
    metrics::CountError(port, st, /*retried=*/false);
  }

  void RefreshIfStale() REQUIRES(mu_) {
    const auto now = std::chrono::steady_clock::now();
    if (fetched_ && now - *fetched_ < ttl_) return;
    if (ctx_.project == nullptr) return;
    Project& project = *ctx_.project;
    Stopwatch took;
    Snapshot s;
    if (auto counts = project.catalog().CountBatchesByPipelineAndState(); counts.ok()) {
      // Every state of each pipeline that has batches: a state with none is 0.
      std::set<std::string> pipelines;
      for (const auto& c : *counts) pipelines.insert(c.pipeline);
      constexpr BatchState kStates[] = {BatchState::kLanded,      BatchState::kQueued,
                                        BatchState::kProcessing,  BatchState::kCommitting,
                                        BatchState::kCommitted,   BatchState::kFailed,
                                        BatchState::kQuarantined, BatchState::kDamaged};
      for (const std::string& p : pipelines) {
        for (BatchState st : kStates) {
          int64_t n = 0;
          for (const auto& c : *counts) {
            if (c.pipeline == p && c.state == st) n = c.batches;
          }
          s.batches.push_back({{p, std::string(BatchStateName(st))}, static_cast<double>(n)});
        }
      }
    } else {
      CountError("catalog", counts.status());
    }
    if (auto stats = project.queue().Stats(); stats.ok()) {
      for (const TaskKindStats& k : *stats) {
        const std::string kind(TaskKindName(k.kind));
        s.depth.push_back({{kind}, static_cast<double>(k.tasks)});
        s.leased.push_back({{kind}, static_cast<double>(k.leased)});
        s.oldest_queued_us.push_back({{kind}, static_cast<double>(k.oldest_enqueued_us)});
      }
    } else if (stats.status().code() != StatusCode::kUnimplemented) {
      CountError("queue", stats.status());
    }
    // Deadlines and freshness (architecture 8.3): every pipeline with a
    // service level, at 0 when nothing is at risk.
    if (auto slas = project.catalog().ListPipelineSlas(); slas.ok()) {
      std::map<std::string, int64_t> at_risk;
      if (auto counts = project.catalog().CountDeadlines(NowMicros()); counts.ok()) {
        for (const DeadlineCounts& c : *counts) at_risk[c.pipeline] = c.at_risk;
      } else {
        CountError("catalog", counts.status());
      }
      for (const PipelineSla& sla : *slas) {
        if (sla.deadline_us > 0) {
          s.at_risk.push_back({{sla.pipeline}, static_cast<double>(at_risk[sla.pipeline])});
        }
        if (sla.expect_every_us > 0) {
          s.stale.push_back({{sla.pipeline}, sla.stale_since_us > 0 ? 1.0 : 0.0});
          auto last = project.catalog().LastArrival(sla.pipeline);
          if (!last.ok()) CountError("catalog", last.status());
          s.last_arrival_us.push_back(
              {{sla.pipeline}, last.ok() ? static_cast<double>(*last) : 0.0});
        }
      }
    } else {
      CountError("catalog", slas.status());
    }
    if (auto backlogs = project.catalog().DeliveryBacklogs(); backlogs.ok()) {
      // An output seen before with nothing left to deliver now is at 0.
      std::set<std::string> now_listed;
      for (const DeliveryBacklog& b : *backlogs) {
        now_listed.insert(b.output);
        outputs_seen_.insert(b.output);
        s.backlog_rows.push_back({{b.output}, static_cast<double>(b.rows)});
        s.backlog_deliveries.push_back({{b.output}, static_cast<double>(b.deliveries)});
        s.backlog_failed.push_back({{b.output}, static_cast<double>(b.failed)});
        s.oldest_pending_us.push_back({{b.output}, static_cast<double>(b.oldest_pending_us)});
      }
      for (const std::string& o : outputs_seen_) {
        if (now_listed.count(o) != 0) continue;
        for (auto* v :
             {&s.backlog_rows, &s.backlog_deliveries, &s.backlog_failed, &s.oldest_pending_us}) {
          v->push_back({{o}, 0});
        }
      }
    } else {
      CountError("catalog", backlogs.status());
    }
    snapshot_ = std::move(s);
    fetched_ = std::chrono::steady_clock::now();
    ttl_ = std::max<std::chrono::steady_clock::duration>(
        std::chrono::seconds(1), std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                     std::chrono::duration<double>(10 * took.Seconds())));
  }

  const ApiContext& ctx_;
  std::vector<metrics::CallbackHandle> handles_;
  Mutex mu_;
  std::optional<std::chrono::steady_clock::time_point> fetched_ GUARDED_BY(mu_);
  std::chrono::steady_clock::duration ttl_ GUARDED_BY(mu_) = std::chrono::seconds(1);
  Snapshot snapshot_ GUARDED_BY(mu_);
  std::set<std::string> outputs_seen_ GUARDED_BY(mu_);
};

}  // namespace

void AddMetricsRoutes(Router& router, ApiContext& ctx) {
  metrics::InitErrorMetrics();
  metrics::Default()
      .AddGauge("sluice_build_info", "Always 1; the version of the running sluice as a label.",
                {"version"})
      .With({ctx.version})
      .Set(1);
  auto gauges = std::make_shared<ScrapeGauges>(ctx);
  gauges->Register();
  router.Add({"GET", "/metrics", Role::kReader, [gauges](HttpRequest&, HttpResponse& res) {
                res.status = 200;
                res.content_type = std::string(kExpositionType);
                res.body = metrics::Default().Render();
              }});
}

}  // namespace sluice::server
