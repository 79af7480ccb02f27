#include "engine/backfill.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>
#include <vector>

#include "engine/ingest.h"
#include "engine/processor.h"

namespace sluice {

namespace {

bool Replayable(BatchState s) {
  return s == BatchState::kCommitted || s == BatchState::kQuarantined ||
         s == BatchState::kDamaged || s == BatchState::kFailed;
}

}  // namespace

Result<BackfillReport> RunBackfill(Project& project, const BackfillOptions& options) {
  Catalog& catalog = project.catalog();
  RETURN_IF_ERROR(project.SyncPipelines().status());
  ASSIGN_OR_RETURN(PipelineVersion active, catalog.GetActiveVersion(options.pipeline));
  // A replay refuses while the batch's files are still to be published.
  RETURN_IF_ERROR(PublishPending(project.store(), catalog));
  BackfillReport report;
  ASSIGN_OR_RETURN(report.run, catalog.StartBackfill(options.pipeline, options.since_us,
                                                     options.latest_version ? active.id : 0));
  const Backfill& run = report.run;
  ASSIGN_OR_RETURN(std::vector<BatchInfo> all,
                   catalog.ListBatches(std::nullopt, options.pipeline, 0));
  std::vector<BatchInfo> todo;
  for (const BatchInfo& b : all) {
    if (b.id <= run.cursor_batch_id || b.created_us < run.since_us) continue;
    // Committed with the version the run replays with (--latest-version), or
    // since the run began (each batch's own version): replayed already,
    // before a crash, or processed so anyway.
    const bool fresh = b.state == BatchState::kCommitted &&
                       (run.version_id != 0 ? b.pipeline_version_id == run.version_id
                                            : b.updated_us >= run.started_us);
    if (fresh) continue;
    // Replayable, or still in flight (replayed just before a crash): waited for.
    todo.push_back(b);
  }
  std::sort(todo.begin(), todo.end(),
            [](const BatchInfo& a, const BatchInfo& b) { return a.id < b.id; });
  const int window = std::max(1, options.window);
  int64_t replayed_total = run.replayed;
  const int64_t total = run.replayed + static_cast<int64_t>(todo.size());
  for (size_t start = 0; start < todo.size(); start += window) {
    const size_t end = std::min(todo.size(), start + window);
    std::set<int64_t> ids;
    for (size_t i = start; i < end; ++i) {
      const BatchInfo& b = todo[i];
      if (Replayable(b.state)) {
        RETURN_IF_ERROR(catalog.ReplayBatch(b.id, run.version_id));
        RETURN_IF_ERROR(
            project.queue().Enqueue(TaskRequest{TaskKind::kProcess, b.id, b.pipeline, 0}));
      }
      ids.insert(b.id);
    }
    RETURN_IF_ERROR(ProcessUntilDone(project, options.pipeline, ids, nullptr));
    RETURN_IF_ERROR(DeliverUntilDone(project, options.pipeline, ids, options.delivery_wait));
    for (int64_t id : ids) {
      ASSIGN_OR_RETURN(BatchInfo b, catalog.GetBatch(id));
      ++report.replayed;
      if (b.state == BatchState::kCommitted) {
        ++report.committed;
      } else {
        ++report.other;
        spdlog::warn("backfill: batch {} ended {}: {}", id, BatchStateName(b.state), b.reason);
      }
    }
    replayed_total += static_cast<int64_t>(ids.size());
    RETURN_IF_ERROR(catalog.AdvanceBackfill(options.pipeline, todo[end - 1].id, replayed_total));
    if (options.on_progress) options.on_progress(replayed_total, total);
  }
  RETURN_IF_ERROR(catalog.FinishBackfill(options.pipeline));
  return report;
}

}  // namespace sluice
