#include "engine/server.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/metrics.h"
#include "engine/alert_notifier.h"
#include "engine/backpressure.h"
#include "engine/deadlines.h"
#include "engine/loader.h"

namespace sluice {

Status CollectStaging(Project& project) {
  ASSIGN_OR_RETURN(std::vector<ObjectInfo> objects, project.store().List("staging/"));
  std::set<int64_t> batches;
  for (const ObjectInfo& o : objects) {
    std::string rest = o.key.substr(std::string("staging/").size());
    auto slash = rest.find('/');
    try {
      batches.insert(std::stoll(rest.substr(0, slash)));
    } catch (...) {
      continue;  // not a batch directory
    }
  }
  // Finished batches and their last attempt, read before the publication log:
  // CommitBatch makes a batch terminal and logs its publications in one
  // transaction, so a batch seen terminal here has its unpublished files in
  // the log read below. Another process may have committed it a moment ago
  // and be publishing now; its staged files are not garbage until published.
  std::vector<std::pair<int64_t, int>> finished;
  for (int64_t id : batches) {
    auto b = project.catalog().GetBatch(id);
    if (b.ok() && IsTerminal(b->state)) finished.emplace_back(id, b->attempts);
  }
  ASSIGN_OR_RETURN(std::vector<Publication> pending, project.catalog().PendingPublications());
  std::set<int64_t> publishing;
  for (const Publication& p : pending) publishing.insert(p.batch_id);
  for (const auto& [id, attempts] : finished) {
    if (publishing.count(id) > 0) continue;
    // Up to its last attempt: a replay may have started a newer one since.
    RETURN_IF_ERROR(
        CleanupStaging(project.store(), id, attempts + 1, ReferencedBy(project.catalog(), id)));
  }
  return Status::OK();
}

namespace {

// The batch and attempt an output key was written by: lake files are
// ".../part-b<batch>-a<attempt>-<n>.parquet", quarantine files
// "quarantine/<pipeline>/<batch>/a<attempt>/bad_records.ndjson", staged
// database rows "deliveries/<pipeline>/<output>/b<batch>-a<attempt>.pgcopy.zst".
std::optional<std::pair<int64_t, int>> OutputAttempt(const std::string& key) {
  auto number = [](std::string_view text, size_t& pos) -> std::optional<int64_t> {
    size_t start = pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') ++pos;
    if (pos == start || pos - start > 18) return std::nullopt;
    return std::stoll(std::string(text.substr(start, pos - start)));
  };
  std::string_view k = key;
  if (k.starts_with("lake/")) {
    size_t slash = k.rfind('/');
    size_t pos = k.find("part-b", slash);
    if (pos == std::string_view::npos) return std::nullopt;
    pos += 6;
    auto batch = number(k, pos);
    if (!batch || k.substr(pos, 2) != "-a") return std::nullopt;
    pos += 2;
    auto attempt = number(k, pos);
    if (!attempt || pos >= k.size() || k[pos] != '-') return std::nullopt;
    return std::make_pair(*batch, static_cast<int>(*attempt));
  }
  if (k.starts_with("deliveries/") && k.ends_with(".pgcopy.zst")) {
    // deliveries/<pipeline>/<output>/b<batch>-a<attempt>.pgcopy.zst
    size_t pos = k.rfind('/') + 1;
    if (k.substr(pos, 1) != "b") return std::nullopt;
    ++pos;
    auto batch = number(k, pos);
    if (!batch || k.substr(pos, 2) != "-a") return std::nullopt;
    pos += 2;
    auto attempt = number(k, pos);
    if (!attempt || k.substr(pos) != ".pgcopy.zst") return std::nullopt;
    return std::make_pair(*batch, static_cast<int>(*attempt));
  }
  if (k.starts_with("quarantine/") && k.ends_with("/bad_records.ndjson")) {
    // quarantine/<pipeline>/<batch>/a<attempt>/bad_records.ndjson
    std::string_view dir = k.substr(0, k.size() - std::string_view("/bad_records.ndjson").size());
    size_t a = dir.rfind('/');
    size_t b = a == std::string_view::npos ? a : dir.rfind('/', a - 1);
    if (b == std::string_view::npos || dir.substr(a + 1, 1) != "a") return std::nullopt;
    size_t pos = b + 1;
    auto batch = number(dir, pos);
    if (!batch || pos != a) return std::nullopt;
    pos = a + 2;
    auto attempt = number(dir, pos);
    if (!attempt || pos != dir.size()) return std::nullopt;
    return std::make_pair(*batch, static_cast<int>(*attempt));
  }
  return std::nullopt;
}

}  // namespace

Result<int64_t> SweepLostOutputs(Project& project) {
  ObjectStore& store = project.store();
  if (store.AtomicRename()) return int64_t{0};
  std::map<int64_t, std::vector<std::pair<std::string, int>>> by_batch;
  for (const char* prefix : {"lake/", "quarantine/", "deliveries/"}) {
    ASSIGN_OR_RETURN(std::vector<ObjectInfo> objects, store.List(prefix));
    for (const ObjectInfo& o : objects) {
      if (auto owner = OutputAttempt(o.key)) {
        by_batch[owner->first].emplace_back(o.key, owner->second);
      }
    }
  }
  int64_t deleted = 0;
  for (const auto& [batch_id, keys] : by_batch) {
    auto b = project.catalog().GetBatch(batch_id);
    if (!b.ok()) {
      if (b.status().code() == StatusCode::kNotFound) continue;  // not this catalog's
      return b.status();
    }
    std::optional<std::set<std::string>> referenced;
    for (const auto& [key, attempt] : keys) {
      // An attempt that may still commit is not lost: the latest one of a
      // batch that is not finished, and the one that committed.
      if (attempt == b->committed_attempt) continue;
      if (attempt >= b->attempts && !IsTerminal(b->state)) continue;
      if (!referenced) {
        ASSIGN_OR_RETURN(referenced, ReferencedBy(project.catalog(), batch_id)());
      }
      if (referenced->count(key) > 0) continue;  // an earlier commit's, replaced by a replay
      RETURN_IF_ERROR(store.Delete(key));
      ++deleted;
    }
  }
  return deleted;
}

Status Recover(Project& project) {
  RETURN_IF_ERROR(PublishPending(project.store(), project.catalog()));
  RETURN_IF_ERROR(RecoverLanded(project.landing()));
  RETURN_IF_ERROR(QueueUnfinishedDeliveries(project.catalog(), project.queue()));
  RETURN_IF_ERROR(QueueUnfinishedExports(project.catalog(), project.queue()));
  RETURN_IF_ERROR(CollectStaging(project));
  ASSIGN_OR_RETURN(int64_t swept, SweepLostOutputs(project));
  if (swept > 0) spdlog::info("deleted {} output object(s) of attempts that lost", swept);
  return Status::OK();
}

namespace {

// Logs the messages of `now` that were not in `seen` (once per change, not
// on every poll), then remembers `now`.
void LogNew(std::set<std::string>& seen, const std::vector<std::string>& now,
            spdlog::level::level_enum level, const char* prefix) {
  std::set<std::string> next(now.begin(), now.end());
  for (const std::string& m : next) {
    if (seen.count(m) == 0) spdlog::log(level, "{}{}", prefix, m);
  }
  seen = std::move(next);
}

// Adds `problem` to the report unless it is there already; past the cap, only counts it.
void AddProblem(ServerReport& report, std::set<std::string>& known, const std::string& problem) {
  if (!known.insert(problem).second) return;
  if (report.problems.size() < ServerReport::kMaxProblems) {
    report.problems.push_back(problem);
  } else {
    ++report.more_problems;
  }
}

// Holds back the processing of pipelines whose database outputs are over
// their high-water marks (engine/backpressure.h); logs each change.
void ApplyBackpressure(Project& project, const std::vector<PipelineSpec>& pipelines,
                       BackpressureState& state, WorkerPool& pool) {
  const bool any = std::any_of(pipelines.begin(), pipelines.end(), [](const PipelineSpec& p) {
    return std::any_of(p.outputs.begin(), p.outputs.end(),
                       [](const SinkSpec& o) { return IsDatabaseOutputKind(o.kind); });
  });
  if (!any && state.held.empty()) return;
  auto backlogs = project.catalog().DeliveryBacklogs();
  if (!backlogs.ok()) {
    spdlog::warn("backpressure: delivery backlogs unknown: {}", backlogs.status().ToString());
    return;
  }
  BackpressureState next = ComputeBackpressure(pipelines, *backlogs, state.engaged);
  for (const auto& [pipeline, why] : next.held) {
    if (state.held.count(pipeline) == 0) spdlog::warn("pipeline {}: waiting: {}", pipeline, why);
  }
  std::set<std::string> held;
  for (const auto& [pipeline, why] : state.held) {
    if (next.held.count(pipeline) == 0)
      spdlog::info("pipeline {}: backpressure released", pipeline);
  }
  for (const auto& [pipeline, why] : next.held) held.insert(pipeline);
  pool.HoldPipelines(std::move(held));
  state = std::move(next);
}

}  // namespace

Status RunServer(Project& project, const ServerOptions& options, const std::atomic<bool>& stop,
                 ServerReport* report_out) {
  ServerReport report;
  // Spec problems and differences are logged once per change, not every poll.
  std::set<std::string> logged_errors, logged_differs, logged_skipped;
  // What the latest poll could not do (files left in landing, a scan the
  // catalog refused, specs not deployed). Each poll replaces it: a file that
  // failed once and was registered later is not a problem at exit.
  std::vector<std::string> poll_problems;
  ASSIGN_OR_RETURN(SyncReport sync, project.SyncPipelines());
  for (const auto& d : sync.deployed) spdlog::info("deployed pipeline {}", d);
  LogNew(logged_errors, sync.errors, spdlog::level::err, "pipeline not deployed: ");
  LogNew(logged_differs, sync.differs, spdlog::level::warn, "pipeline spec differs: ");
  RETURN_IF_ERROR(Recover(project));

  // Batches that end during the run (called on worker threads; read after
  // the pool has stopped).
  std::mutex done_mu;
  std::vector<std::string> failed_batches;
  WorkerPoolOptions wopts;
  wopts.threads = project.config().workers;
  wopts.data_threads = project.config().threads;
  wopts.store = options.store;
  wopts.on_done = [&](const BatchDone& d) {
    {
      std::lock_guard lock(done_mu);
      switch (d.outcome) {
        case ProcessOutcome::kCommitted:
          ++report.committed;
          break;
        case ProcessOutcome::kQuarantined:
          ++report.quarantined;
          break;
        case ProcessOutcome::kFailed:
          ++report.failed;
          failed_batches.push_back("batch " + std::to_string(d.batch_id) +
                                   " failed: " + d.status.message());
          break;
        default:
          break;
      }
    }
    if (options.on_done) options.on_done(d);
  };
  WorkerPool pool(project, wopts);
  BackpressureState backpressure;
  if (auto active = project.ActivePipelines(); active.ok()) {
    ApplyBackpressure(project, *active, backpressure, pool);  // before the first lease
  }
  pool.Start();
  ObjectStore& store = options.store != nullptr ? *options.store : project.store();
  // A pool of its own for one other task kind, started.
  auto side_pool = [&](TaskKind kind, int threads, DeliveryLoader* loader, Exporter* exporter) {
    WorkerPoolOptions o;
    o.threads = threads;
    o.store = options.store;
    o.filter.kind = kind;
    o.loader = loader;
    o.exporter = exporter;
    auto p = std::make_unique<WorkerPool>(project, o);
    p->Start();
    return p;
  };
  // Loaders: deliveries into databases, decoupled from processing.
  std::unique_ptr<DeliveryLoader> loader;
  std::unique_ptr<WorkerPool> loaders;
  if (project.config().loaders > 0) {
    loader = std::make_unique<DeliveryLoader>(project.catalog(), store,
                                              LoaderOptionsFor(project.config()));
    loaders = side_pool(TaskKind::kLoad, project.config().loaders, loader.get(), nullptr);
  }
  // Exporters: exports (POST /v1/exports) written into the store.
  std::unique_ptr<Exporter> exporter;
  std::unique_ptr<WorkerPool> exporters;
  if (project.config().exporters > 0) {
    exporter = std::make_unique<Exporter>(
        project.catalog(), store,
        ExporterOptions{.max_attempts = project.config().max_attempts, .pool = nullptr});
    exporters = side_pool(TaskKind::kExport, project.config().exporters, nullptr, exporter.get());
  }
  // Deadlines and freshness: alerts to the webhook (if any), checked each poll.
  std::unique_ptr<AlertNotifier> notifier;
  if (!project.config().alerts.webhook.empty()) {
    AlertNotifierOptions nopts;
    nopts.url = project.config().alerts.webhook;
    nopts.authorization = project.config().alerts.authorization;
    nopts.timeout = project.config().alerts.timeout;
    RETURN_IF_ERROR(nopts.Validate());
    notifier = std::make_unique<AlertNotifier>(nopts);
  }
  DeadlineMonitorOptions dopts;
  dopts.workers = wopts.threads;
  if (notifier) dopts.alert = [&notifier](AlertEvent e) { notifier->Notify(std::move(e)); };
  DeadlineMonitor deadlines(project.catalog(), dopts);
  auto in_flight = [&] {
    return pool.InFlight() + (loaders ? loaders->InFlight() : 0) +
           (exporters ? exporters->InFlight() : 0);
  };
  // Nothing queued that this server runs (a server without loaders or
  // exporters leaves those tasks to another host's).
  auto queue_empty = [&] {
    auto process = project.queue().DepthOf(TaskKind::kProcess);
    if (!process.ok() || *process != 0) return false;
    if (loaders) {
      auto load = project.queue().DepthOf(TaskKind::kLoad);
      if (!load.ok() || *load != 0) return false;
    }
    if (exporters) {
      auto exports = project.queue().DepthOf(TaskKind::kExport);
      if (!exports.ok() || *exports != 0) return false;
    }
    return true;
  };
  spdlog::info("sluice server: store {}, catalog {}, {} workers, {} threads, polling every {} ms",
               project.store().Describe(), CatalogDisplay(project.config()), wopts.threads,
               wopts.data_threads, project.config().poll_interval.count());

  Status result = Status::OK();
  // Reconciliation: every batch that is not finished must have a task. A
  // crash between a state change and its enqueue, or a task lost with a
  // damaged queue, would otherwise strand a batch until the next restart.
  const auto reconcile_every = std::max<std::chrono::milliseconds>(
      project.config().lease, std::chrono::milliseconds(10'000));
  auto next_reconcile = std::chrono::steady_clock::now() + reconcile_every;
  bool first_poll = true;
  while (!stop) {
    if (std::chrono::steady_clock::now() >= next_reconcile) {
      Status rec = RecoverLanded(project.landing());
      if (!rec.ok()) spdlog::error("reconciliation: {}", rec.ToString());
      Status del = QueueUnfinishedDeliveries(project.catalog(), project.queue());
      if (!del.ok()) spdlog::error("reconciliation of deliveries: {}", del.ToString());
      Status exp = QueueUnfinishedExports(project.catalog(), project.queue());
      if (!exp.ok()) spdlog::error("reconciliation of exports: {}", exp.ToString());
      next_reconcile = std::chrono::steady_clock::now() + reconcile_every;
    }
    std::vector<std::string> problems;
    if (first_poll) {
      first_poll = false;  // synced just above
    } else {
      auto again = project.SyncPipelines();
      if (again.ok()) {
        sync = std::move(*again);
        for (const auto& d : sync.deployed) spdlog::info("deployed pipeline {}", d);
        LogNew(logged_errors, sync.errors, spdlog::level::err, "pipeline not deployed: ");
        LogNew(logged_differs, sync.differs, spdlog::level::warn, "pipeline spec differs: ");
      } else {
        problems.push_back("pipeline sync: " + again.status().ToString());
      }
    }
    for (const auto& e : sync.errors) problems.push_back("pipeline not deployed: " + e);
    size_t found = 0;
    int64_t waiting = 0;  // files still being written (source.settle)
    auto pipelines = project.ActivePipelines();
    // Before this poll's registrations are queued: a held pipeline's new
    // batches must not slip through before the hold.
    if (pipelines.ok()) ApplyBackpressure(project, *pipelines, backpressure, pool);
    if (pipelines.ok()) {
      auto checked = deadlines.Check(*pipelines);
      if (!checked.ok()) {
        spdlog::error("deadline check: {}", checked.status().ToString());
        metrics::CountError("catalog", checked.status(), true);
      }
    }
    if (!pipelines.ok()) {
      spdlog::error("cannot read pipelines: {}", pipelines.status().ToString());
      problems.push_back("cannot read pipelines: " + pipelines.status().ToString());
    } else {
      for (const PipelineSpec& spec : *pipelines) {
        auto scan = ScanLanding(project.landing(), spec);
        if (!scan.ok()) {
          spdlog::error("landing scan of {}: {}", spec.name, scan.status().ToString());
          problems.push_back("landing scan of " + spec.name + ": " + scan.status().ToString());
          continue;
        }
        for (const auto& e : scan->errors) {
          spdlog::error("landing: {}", e);
          problems.push_back("landing: " + e);
        }
        // Symbolic links and special files are never taken; said once per key.
        for (const SkippedEntry& sk : scan->skipped) {
          std::string line = sk.key + " not taken: " + sk.reason;
          if (logged_skipped.insert(line).second) spdlog::warn("landing: {}", line);
          problems.push_back("landing: " + line);
        }
        waiting += scan->waiting;
        for (const auto& r : scan->registered) {
          if (r.outcome == RegisterBatchResult::Outcome::kDuplicateContent) {
            spdlog::info("{}: duplicate of batch {}, not processed again", r.key, r.batch_id);
          } else if (r.outcome == RegisterBatchResult::Outcome::kNew) {
            spdlog::info("{}: registered as batch {}", r.key, r.batch_id);
          }
        }
        found += scan->registered.size();
      }
    }
    poll_problems = std::move(problems);
    if (found > 0) pool.Wake();
    // Idle: nothing registered, nothing still being written, nothing to do.
    const bool landing_quiet = found == 0 && waiting == 0;
    if (options.exit_when_idle && landing_quiet && in_flight() == 0 && queue_empty()) break;
    // Sleep in small steps so that a stop request is honoured promptly.
    auto deadline = std::chrono::steady_clock::now() + project.config().poll_interval;
    while (!stop && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      if (options.exit_when_idle && waiting == 0 && in_flight() == 0 && queue_empty()) break;
    }
  }
  spdlog::info("sluice server: stopping; finishing {} task(s) in flight", in_flight());
  pool.StopLeasing();
  if (loaders) loaders->StopLeasing();
  if (exporters) {
    // An export may run for a long time: it is not waited for. A cancelled
    // run stays queued (its task goes back) and starts over on the next run.
    exporters->StopLeasing();
    exporters->CancelAll();
  }
  auto drained = [&] {
    const bool workers = pool.WaitDrained(std::chrono::milliseconds(25));
    const bool exports = !exporters || exporters->WaitDrained(std::chrono::milliseconds(25));
    return (!loaders || loaders->WaitDrained(std::chrono::milliseconds(25))) && workers && exports;
  };
  while (!drained()) {
    if (options.force_stop != nullptr && options.force_stop->load()) {
      // Safe to cut short: a cancelled attempt stands down as a fenced one
      // (it writes nothing more and its task goes back to the queue), and an
      // attempt that cannot notice in time is covered like a kill -9 (its
      // lease expires; the catalog refuses its late writes).
      report.forced = true;
      report.cancelled = in_flight();
      spdlog::warn(
          "sluice server: second stop signal: cancelling {} attempt(s) in flight; their batches "
          "are retried by the next run",
          report.cancelled);
      pool.CancelAll();
      if (loaders) loaders->CancelAll();
      break;
    }
  }
  pool.Stop();
  if (loaders) loaders->Stop();
  if (exporters) exporters->Stop();
  // Alerts still queued get a moment to be delivered; none holds the exit up.
  if (notifier) notifier->Stop(std::chrono::milliseconds(2000));

  std::set<std::string> known;
  for (const std::string& f : failed_batches) AddProblem(report, known, f);
  for (const std::string& p : poll_problems) AddProblem(report, known, p);
  if (report_out != nullptr) *report_out = std::move(report);
  return result;
}

}  // namespace sluice
