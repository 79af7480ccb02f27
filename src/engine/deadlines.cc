// Deadlines and freshness: see deadlines.h.
#include "engine/deadlines.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <functional>
#include <queue>
#include <utility>

#include "core/clock.h"
#include "core/metrics.h"
#include "core/value_text.h"

namespace sluice {

namespace {

// docs/architecture.md 8.2.
struct DeadlineMetricFamilies {
  metrics::Family<metrics::Counter>& misses = metrics::Default().AddCounter(
      "sluice_deadline_misses_total",
      "Batches that missed their pipeline's deadline (noticed by this process).", {"pipeline"});
  metrics::Family<metrics::Counter>& at_risk = metrics::Default().AddCounter(
      "sluice_deadline_at_risk_total",
      "Batches estimated to miss their deadline before it passed (marked by this process).",
      {"pipeline"});
  metrics::Family<metrics::Counter>& stale = metrics::Default().AddCounter(
      "sluice_freshness_misses_total",
      "Times a pipeline went without a batch for longer than expect_every.", {"pipeline"});
};

DeadlineMetricFamilies& DeadlineMetrics() {
  static DeadlineMetricFamilies m;
  return m;
}

constexpr double kMinBatchSeconds = 0.05;  // setup cost of any batch

}  // namespace

DeadlineMonitor::DeadlineMonitor(Catalog& catalog, DeadlineMonitorOptions options)
    : catalog_(catalog), options_(std::move(options)) {
  options_.workers = std::max(1, options_.workers);
  started_us_ = Now();
}

int64_t DeadlineMonitor::Now() const { return options_.now_us ? options_.now_us() : NowMicros(); }

Status DeadlineMonitor::SyncSlas(const std::vector<PipelineSpec>& active) {
  for (const PipelineSpec& spec : active) {
    PipelineSla sla;
    sla.pipeline = spec.name;
    sla.deadline_us = spec.deadline.count() * 1000;
    sla.expect_every_us = spec.expect_every.count() * 1000;
    // Exported at 0 from the start, so that rate() and increase() need no
    // first event.
    if (sla.deadline_us > 0) {
      DeadlineMetrics().misses.With({spec.name});
      DeadlineMetrics().at_risk.With({spec.name});
    }
    if (sla.expect_every_us > 0) DeadlineMetrics().stale.With({spec.name});
    auto it = recorded_.find(spec.name);
    if (it != recorded_.end() && it->second.deadline_us == sla.deadline_us &&
        it->second.expect_every_us == sla.expect_every_us) {
      continue;
    }
    RETURN_IF_ERROR(catalog_.SetPipelineSla(sla));
    recorded_[spec.name] = sla;
  }
  return Status::OK();
}

Result<DeadlineReport> DeadlineMonitor::Check(const std::vector<PipelineSpec>& active) {
  DeadlineReport report;
  RETURN_IF_ERROR(SyncSlas(active));

  // Settle: met or missed.
  ASSIGN_OR_RETURN(std::vector<BatchInfo> missed, catalog_.SettleDeadlines());
  for (const BatchInfo& b : missed) {
    report.missed.push_back(b.id);
    DeadlineMetrics().misses.With({b.pipeline}).Inc();
    const bool done = b.state == BatchState::kCommitted || b.state == BatchState::kQuarantined;
    AlertEvent e;
    e.kind = "missed";
    e.pipeline = b.pipeline;
    e.batch_id = b.id;
    e.deadline_us = b.deadline_us;
    e.at_us = Now();
    e.message = "batch " + std::to_string(b.id) + " of pipeline " + b.pipeline +
                (done ? " was done after its deadline " : " was not committed by its deadline ") +
                FormatTimestamp(b.deadline_us) + " (state " + std::string(BatchStateName(b.state)) +
                ")";
    spdlog::warn("deadline missed: {}", e.message);
    if (options_.alert) options_.alert(std::move(e));
  }

  // Estimate: the open batches, earliest deadline first, over the workers.
  ASSIGN_OR_RETURN(std::vector<BatchInfo> open, catalog_.OpenDeadlineBatches(options_.max_open));
  std::map<std::string, double> rate;  // bytes per second, per pipeline (0: unknown)
  Throughput all;
  auto rate_of = [&](const std::string& pipeline) -> Result<double> {
    auto it = rate.find(pipeline);
    if (it != rate.end()) return it->second;
    ASSIGN_OR_RETURN(Throughput t, catalog_.RecentThroughput(pipeline, options_.history));
    all.batches += t.batches;
    all.bytes += t.bytes;
    all.seconds += t.seconds;
    double r = t.seconds > 0 ? static_cast<double>(t.bytes) / t.seconds : 0;
    rate[pipeline] = r;
    return r;
  };
  for (const BatchInfo& b : open) RETURN_IF_ERROR(rate_of(b.pipeline).status());
  const double fallback = all.seconds > 0 ? static_cast<double>(all.bytes) / all.seconds : 0;
  const int64_t now = Now();
  // Free times of the workers; batches in processing hold one first.
  std::priority_queue<int64_t, std::vector<int64_t>, std::greater<>> lanes;
  for (int i = 0; i < options_.workers; ++i) lanes.push(now);
  auto work_us = [&](const BatchInfo& b) -> int64_t {
    double r = rate[b.pipeline] > 0 ? rate[b.pipeline] : fallback;
    if (r <= 0) return -1;
    double seconds = std::max(kMinBatchSeconds, static_cast<double>(b.size_bytes) / r);
    return static_cast<int64_t>(seconds * 1e6);
  };
  std::vector<const BatchInfo*> order;
  for (const BatchInfo& b : open) {
    if (b.state == BatchState::kProcessing || b.state == BatchState::kCommitting) {
      order.push_back(&b);
    }
  }
  for (const BatchInfo& b : open) {
    if (b.state != BatchState::kProcessing && b.state != BatchState::kCommitting) {
      order.push_back(&b);
    }
  }
  std::vector<int64_t> risky;
  std::map<int64_t, const BatchInfo*> by_id;
  for (const BatchInfo* b : order) {
    int64_t work = work_us(*b);
    if (work < 0) continue;  // nothing measured yet: no estimate
    if (b->state == BatchState::kProcessing || b->state == BatchState::kCommitting) {
      // Begun at its last state change; what is left of it, at least a tenth.
      work = std::max(work / 10, work - (now - b->updated_us));
    }
    int64_t start = lanes.top();
    lanes.pop();
    const int64_t done = start + work;
    lanes.push(done);
    report.estimates[b->id] = done;
    if (done > b->deadline_us && b->at_risk_us == 0) {
      risky.push_back(b->id);
      by_id[b->id] = b;
    }
  }
  if (!risky.empty()) {
    ASSIGN_OR_RETURN(std::vector<int64_t> marked, catalog_.MarkAtRisk(risky));
    for (int64_t id : marked) {
      const BatchInfo& b = *by_id[id];
      report.at_risk.push_back(id);
      DeadlineMetrics().at_risk.With({b.pipeline}).Inc();
      AlertEvent e;
      e.kind = "at_risk";
      e.pipeline = b.pipeline;
      e.batch_id = id;
      e.deadline_us = b.deadline_us;
      e.estimate_us = report.estimates[id];
      e.at_us = now;
      e.message = "batch " + std::to_string(id) + " of pipeline " + b.pipeline +
                  " is estimated to be done at " + FormatTimestamp(e.estimate_us) +
                  ", after its deadline " + FormatTimestamp(b.deadline_us);
      spdlog::warn("deadline at risk: {}", e.message);
      if (options_.alert) options_.alert(std::move(e));
    }
  }

  // Freshness.
  ASSIGN_OR_RETURN(std::vector<PipelineSla> slas, catalog_.ListPipelineSlas());
  std::map<std::string, int64_t> stale_since;
  for (const PipelineSla& s : slas) stale_since[s.pipeline] = s.stale_since_us;
  for (const PipelineSpec& spec : active) {
    if (spec.expect_every.count() <= 0) continue;
    const int64_t every = spec.expect_every.count() * 1000;
    ASSIGN_OR_RETURN(int64_t last, catalog_.LastArrival(spec.name));
    const int64_t since = last > 0 ? last : started_us_;
    if (now - since <= every) {
      if (stale_since[spec.name] != 0) RETURN_IF_ERROR(catalog_.ClearStale(spec.name));
      continue;
    }
    ASSIGN_OR_RETURN(bool raised, catalog_.RaiseStale(spec.name, last));
    if (!raised) continue;
    report.stale.push_back(spec.name);
    DeadlineMetrics().stale.With({spec.name}).Inc();
    AlertEvent e;
    e.kind = "stale";
    e.pipeline = spec.name;
    e.last_batch_us = last;
    e.expect_every_us = every;
    e.at_us = now;
    e.message = "pipeline " + spec.name + " expects a batch every " +
                std::to_string(spec.expect_every.count() / 1000) + " s; " +
                (last > 0 ? "the last arrived at " + FormatTimestamp(last)
                          : std::string("none has arrived since ") + FormatTimestamp(since));
    spdlog::warn("pipeline stale: {}", e.message);
    if (options_.alert) options_.alert(std::move(e));
  }
  return report;
}

}  // namespace sluice
