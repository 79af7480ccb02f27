#include "engine/server.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <thread>

namespace sluice {

namespace {

// Deletes staging/<batch>/ for batches that can no longer use it.
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
  for (int64_t id : batches) {
    auto b = project.catalog().GetBatch(id);
    if (b.ok() && (IsTerminal(b->state))) {
      RETURN_IF_ERROR(CleanupStaging(project.store(), id, 0));
    }
  }
  return Status::OK();
}

}  // namespace

Status Recover(Project& project) {
  RETURN_IF_ERROR(PublishPending(project.store(), project.catalog()));
  RETURN_IF_ERROR(RecoverLanded(project.landing()));
  return CollectStaging(project);
}

Status RunServer(Project& project, const ServerOptions& options, const std::atomic<bool>& stop) {
  ASSIGN_OR_RETURN(SyncReport sync, project.SyncPipelines());
  for (const auto& d : sync.deployed) spdlog::info("deployed pipeline {}", d);
  for (const auto& e : sync.errors) spdlog::error("pipeline not deployed: {}", e);
  RETURN_IF_ERROR(Recover(project));

  WorkerPoolOptions wopts;
  wopts.threads = project.config().workers;
  wopts.data_threads = project.config().threads;
  wopts.on_done = options.on_done;
  WorkerPool pool(project, wopts);
  pool.Start();
  spdlog::info("sluice server: store {}, catalog {}, {} workers, {} threads, polling every {} ms",
               project.store().Describe(), project.config().catalog_path, wopts.threads,
               wopts.data_threads, project.config().poll_interval.count());

  Status result = Status::OK();
  // Reconciliation: every batch that is not finished must have a task. A
  // crash between a state change and its enqueue, or a task lost with a
  // damaged queue, would otherwise strand a batch until the next restart.
  const auto reconcile_every = std::max<std::chrono::milliseconds>(
      project.config().lease, std::chrono::milliseconds(10'000));
  auto next_reconcile = std::chrono::steady_clock::now() + reconcile_every;
  while (!stop) {
    if (std::chrono::steady_clock::now() >= next_reconcile) {
      Status rec = RecoverLanded(project.landing());
      if (!rec.ok()) spdlog::error("reconciliation: {}", rec.ToString());
      next_reconcile = std::chrono::steady_clock::now() + reconcile_every;
    }
    auto sync2 = project.SyncPipelines();
    if (sync2.ok()) {
      for (const auto& d : sync2->deployed) spdlog::info("deployed pipeline {}", d);
    }
    size_t found = 0;
    auto pipelines = project.ActivePipelines();
    if (!pipelines.ok()) {
      spdlog::error("cannot read pipelines: {}", pipelines.status().ToString());
    } else {
      for (const PipelineSpec& spec : *pipelines) {
        auto scan = ScanLanding(project.landing(), spec);
        if (!scan.ok()) {
          spdlog::error("landing scan of {}: {}", spec.name, scan.status().ToString());
          continue;
        }
        for (const auto& e : scan->errors) spdlog::error("landing: {}", e);
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
    if (found > 0) pool.Wake();
    if (options.exit_when_idle && found == 0 && pool.InFlight() == 0) {
      auto depth = project.queue().Depth();
      if (depth.ok() && *depth == 0) break;
    }
    // Sleep in small steps so that a stop request is honoured promptly.
    auto deadline = std::chrono::steady_clock::now() + project.config().poll_interval;
    while (!stop && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      if (options.exit_when_idle && pool.InFlight() == 0) {
        auto depth = project.queue().Depth();
        if (depth.ok() && *depth == 0) break;
      }
    }
  }
  spdlog::info("sluice server: stopping; finishing {} task(s) in flight", pool.InFlight());
  pool.Stop();
  return result;
}

}  // namespace sluice
