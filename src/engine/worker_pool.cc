#include "engine/worker_pool.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>

#include "core/clock.h"
#include "core/log.h"
#include "core/metrics.h"
#include "queue/sql_task_queue.h"

namespace sluice {

namespace {

// How long a task waits when its ending could not be recorded (the catalog
// did not answer): 0.5 s doubling per delivery of the task, at most a minute.
std::chrono::milliseconds CatalogRetryDelay(const Task& task) {
  return std::chrono::milliseconds(
      std::min<int64_t>(60000, int64_t{500} << std::clamp(task.attempt - 1, 0, 7)));
}

// docs/architecture.md 8.2. Errors and retries: metrics::CountError.
struct WorkerPoolMetricFamilies {
  metrics::Family<metrics::Gauge>& workers = metrics::Default().AddGauge(
      "sluice_workers", "Worker threads running, by the kind of task they take.", {"kind"});
  metrics::Family<metrics::Gauge>& busy = metrics::Default().AddGauge(
      "sluice_workers_busy", "Worker threads running a task now, by kind.", {"kind"});
  metrics::Family<metrics::Histogram>& task_seconds = metrics::Default().AddHistogram(
      "sluice_task_duration_seconds",
      "Time from a task's lease to its ack or nack, by kind (process, load).", {"kind"});
};

WorkerPoolMetricFamilies& PoolMetrics() {
  static WorkerPoolMetricFamilies m;
  return m;
}

// A queue call that failed (a lease, renewal, ack or nack): counted. What
// follows does not depend on it (a lost lease is the new holder's to finish).
void CountQueueError(const Status& st) {
  if (st.ok()) return;
  metrics::CountError("queue", st, /*retried=*/false);
}

}  // namespace

WorkerPool::WorkerPool(Project& project, WorkerPoolOptions options)
    : project_(project), options_(std::move(options)) {
  if (options_.data_threads > 1) data_pool_ = std::make_unique<ThreadPool>(options_.data_threads);
}

WorkerPool::~WorkerPool() { Stop(); }

void WorkerPool::Start() {
  int n = std::max(1, options_.threads);
  live_workers_ = n;
  for (int i = 0; i < n; ++i) threads_.emplace_back([this, i] { WorkerLoop(i); });
  keeper_ = std::thread([this] { KeeperLoop(); });
}

void WorkerPool::Wake() {
  {
    MutexLock lock(&mu_);
    ++wakes_;
  }
  cv_.SignalAll();
}

void WorkerPool::HoldPipelines(std::set<std::string> pipelines) {
  bool released = false;
  {
    MutexLock lock(&mu_);
    for (const std::string& p : held_) released = released || pipelines.count(p) == 0;
    held_ = std::move(pipelines);
    if (released) ++wakes_;
  }
  if (released) cv_.SignalAll();  // their tasks may be taken again
}

void WorkerPool::StopLeasing() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
    ++wakes_;
  }
  cv_.SignalAll();
}

bool WorkerPool::WaitDrained(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  MutexLock lock(&mu_);
  while (live_workers_.load() > 0) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return false;
    // Short waits: a worker's exit signals the condition, but one that is
    // between its last check and the wait must not cost the whole timeout.
    cv_.WaitFor(std::min<std::chrono::milliseconds>(
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now) +
            std::chrono::milliseconds(1),
        std::chrono::milliseconds(50)));
  }
  return true;
}

void WorkerPool::CancelAll() {
  cancel_all_ = true;
  MutexLock lock(&mu_);
  for (auto& [id, a] : active_) a.cancel->store(true);
}

void WorkerPool::Stop() {
  if (threads_.empty() && !keeper_.joinable()) return;
  StopLeasing();
  for (auto& t : threads_) t.join();
  threads_.clear();
  if (keeper_.joinable()) keeper_.join();
}

void WorkerPool::WorkerLoop(int index) {
  const std::string worker = "pid" + std::to_string(::getpid()) + "-w" + std::to_string(index);
  const auto lease = project_.config().lease;
  const std::string kind(TaskKindName(options_.filter.kind));
  metrics::Gauge& workers = PoolMetrics().workers.With({kind});
  metrics::Gauge& busy = PoolMetrics().busy.With({kind});
  metrics::Histogram& task_seconds = PoolMetrics().task_seconds.With({kind});
  workers.Inc();
  while (!stopping_) {
    uint64_t wakes_before = 0;
    LeaseFilter filter = options_.filter;
    {
      MutexLock lock(&mu_);
      wakes_before = wakes_;
      filter.except_pipelines.assign(held_.begin(), held_.end());
    }
    auto task = Queue().Lease(worker, lease, filter);
    if (!task.ok()) {
      spdlog::warn("{}: lease failed: {}", worker, task.status().ToString());
      CountQueueError(task.status());
    }
    if (!task.ok() || !task->has_value()) {
      MutexLock lock(&mu_);
      // A wake before wakes_before was read came before the lease, which saw
      // its task; a stop is checked here as well as at the top of the loop.
      if (wakes_ == wakes_before && !stopping_) {
        cv_.WaitFor(std::min<std::chrono::milliseconds>(project_.config().poll_interval,
                                                        std::chrono::milliseconds(250)));
      }
      continue;
    }
    busy.Inc();
    Stopwatch took;
    RunTask(**task, worker);
    task_seconds.Observe(took.Seconds());
    busy.Dec();
  }
  workers.Dec();
  --live_workers_;
  cv_.SignalAll();  // WaitDrained
}

void WorkerPool::KeeperLoop() {
  const auto lease = project_.config().lease;
  const auto period = std::max<std::chrono::milliseconds>(lease / 3, std::chrono::milliseconds(50));
  MutexLock lock(&mu_);
  while (!stopping_ || !active_.empty()) {
    cv_.WaitFor(period);
    for (auto& [id, a] : active_) {
      Status st = Queue().Renew(a.task, lease);
      CountQueueError(st);
      if (st.code() == StatusCode::kAborted) {
        ScopedLogContext log_context(
            LogContext{.batch_id = a.task.batch_id, .pipeline = a.task.pipeline});
        spdlog::warn("task {} (batch {}): lease lost, cancelling attempt", id, a.task.batch_id);
        a.cancel->store(true);
      }
    }
  }
}

void WorkerPool::RunTask(const Task& task, const std::string& worker) {
  // ProcessBatch adds the attempt and the version. An export task's id is
  // an export's, not a batch's.
  ScopedLogContext log_context(
      task.kind == TaskKind::kExport
          ? LogContext{}
          : LogContext{.batch_id = task.batch_id, .pipeline = task.pipeline});
  std::atomic<bool> cancel{false};
  {
    MutexLock lock(&mu_);
    active_[task.id] = Active{task, &cancel};
    // Read under the lock CancelAll takes after setting it: a task either is
    // in active_ when CancelAll runs, or sees the flag here.
    if (cancel_all_) cancel = true;
  }
  ++in_flight_;
  if (task.kind == TaskKind::kLoad || task.kind == TaskKind::kExport) {
    if (task.kind == TaskKind::kLoad) {
      RunStepTask(task, "deliveries", [&]() -> Result<StepResult> {
        if (options_.loader == nullptr) {
          return Status::FailedPrecondition("a load task reached a pool without a loader");
        }
        ASSIGN_OR_RETURN(auto r, options_.loader->DeliverBatch(task.batch_id, &cancel));
        return StepResult{r.finished, r.retry_in};
      });
    } else {
      RunStepTask(task, "export", [&]() -> Result<StepResult> {
        if (options_.exporter == nullptr) {
          return Status::FailedPrecondition("an export task reached a pool without an exporter");
        }
        ASSIGN_OR_RETURN(ExportStep r, options_.exporter->Run(task.batch_id, &cancel));
        return StepResult{r.finished, r.retry_in};
      });
    }
    {
      MutexLock lock(&mu_);
      active_.erase(task.id);
    }
    --in_flight_;
    if (stopping_) cv_.SignalAll();
    return;
  }
  ProcessEnv env;
  env.store = options_.store != nullptr ? options_.store : &project_.store();
  env.catalog = &project_.catalog();
  env.project_dir = project_.config().project_dir;
  env.on_progress = options_.on_progress;
  env.cancel = &cancel;
  env.pool = data_pool_.get();
  env.lease_expires_us = task.lease_expires_us;
  env.max_attempts = project_.config().max_attempts;
  env.verifier = &project_.archive_verifier();
  env.references = project_.references();
  env.queue = &Queue();
  auto result = ProcessBatch(env, task.batch_id);
  {
    MutexLock lock(&mu_);
    active_.erase(task.id);
  }
  --in_flight_;
  // A stopping keeper waits for active_ to empty; tell it now rather than
  // at its next renewal (lease / 3 away).
  if (stopping_) cv_.SignalAll();

  TaskQueue& queue = Queue();
  if (!result.ok()) {
    // The attempt's ending could not be recorded (the catalog did not
    // answer). Keep the task: it comes back after a pause, and the next
    // StartAttempt counts this attempt as one that did not finish, so a
    // catalog that never recovers cannot make a batch retry forever.
    auto delay = CatalogRetryDelay(task);
    spdlog::error("batch {}: {} (task back in {} ms)", task.batch_id, result.status().ToString(),
                  delay.count());
    CountQueueError(queue.Nack(task, delay));  // a lost lease: the new holder decides
    return;
  }
  const ProcessOutcome outcome = *result;
  switch (outcome) {
    case ProcessOutcome::kCommitted:
    case ProcessOutcome::kQuarantined:
    case ProcessOutcome::kFailed:
    case ProcessOutcome::kAlreadyDone: {
      spdlog::info("batch {}: {} ({})", task.batch_id, ProcessOutcomeName(outcome), worker);
      CountQueueError(queue.Ack(task));  // a lost lease here only means a no-op redelivery
      Status why = Status::OK();
      if (outcome == ProcessOutcome::kFailed) {
        auto b = project_.catalog().GetBatch(task.batch_id);
        why = Status::FailedPrecondition(b.ok() ? b->reason : b.status().ToString());
      }
      if (options_.on_done) options_.on_done({task.batch_id, outcome, why});
      return;
    }
    case ProcessOutcome::kRetry:
    case ProcessOutcome::kNotDue: {
      // The batch is queued with its retry time: the task waits until then.
      auto b = project_.catalog().GetBatch(task.batch_id);
      int64_t wait_us = 0;
      if (b.ok()) wait_us = std::max<int64_t>(0, b->next_attempt_us - NowMicros());
      if (outcome == ProcessOutcome::kRetry && b.ok()) {
        spdlog::warn("batch {}: attempt {} failed ({}), retry {} in {} ms: {}", task.batch_id,
                     b->attempts, b->last_error_class, b->tries + 1, wait_us / 1000, b->last_error);
      }
      CountQueueError(queue.Nack(task, std::chrono::milliseconds(wait_us / 1000)));
      return;
    }
    case ProcessOutcome::kFenced:
      // A newer attempt owns the batch, or this task's lease ran out before
      // the attempt could start. The Nack only takes effect while this worker
      // still holds the lease, handing the task straight back.
      CountQueueError(queue.Nack(task, std::chrono::milliseconds(0)));
      return;
  }
}

void WorkerPool::RunStepTask(const Task& task, const char* what,
                             const std::function<Result<StepResult>()>& run) {
  TaskQueue& queue = Queue();
  auto result = run();
  if (!result.ok()) {
    auto delay = CatalogRetryDelay(task);
    spdlog::error("{} {}: {}: {} (task back in {} ms)",
                  task.kind == TaskKind::kExport ? "export" : "batch", task.batch_id, what,
                  result.status().ToString(), delay.count());
    CountQueueError(queue.Nack(task, delay));
    return;
  }
  if (result->finished) {
    CountQueueError(queue.Ack(task));  // a lost lease: the next holder finds nothing to do
  } else {
    CountQueueError(queue.Nack(task, result->retry_in));
  }
}

}  // namespace sluice
