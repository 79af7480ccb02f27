#include "engine/worker_pool.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>

namespace sluice {

namespace {

std::string_view OutcomeName(ProcessOutcome o) {
  switch (o) {
    case ProcessOutcome::kCommitted:
      return "committed";
    case ProcessOutcome::kQuarantined:
      return "quarantined";
    case ProcessOutcome::kFailed:
      return "failed";
    case ProcessOutcome::kAlreadyDone:
      return "already done";
  }
  return "?";
}

}  // namespace

WorkerPool::WorkerPool(Project& project, WorkerPoolOptions options)
    : project_(project), options_(std::move(options)) {
  if (options_.data_threads > 1) data_pool_ = std::make_unique<ThreadPool>(options_.data_threads);
}

WorkerPool::~WorkerPool() { Stop(); }

void WorkerPool::Start() {
  int n = std::max(1, options_.threads);
  for (int i = 0; i < n; ++i) threads_.emplace_back([this, i] { WorkerLoop(i); });
  keeper_ = std::thread([this] { KeeperLoop(); });
}

void WorkerPool::Wake() { cv_.notify_all(); }

void WorkerPool::Stop() {
  if (threads_.empty() && !keeper_.joinable()) return;
  stopping_ = true;
  cv_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
  if (keeper_.joinable()) keeper_.join();
}

void WorkerPool::WorkerLoop(int index) {
  const std::string worker = "pid" + std::to_string(::getpid()) + "-w" + std::to_string(index);
  const auto lease = project_.config().lease;
  while (!stopping_) {
    auto task = project_.queue().Lease(worker, lease);
    if (!task.ok()) {
      spdlog::warn("{}: lease failed: {}", worker, task.status().ToString());
    }
    if (!task.ok() || !task->has_value()) {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, std::min<std::chrono::milliseconds>(project_.config().poll_interval,
                                                             std::chrono::milliseconds(250)));
      continue;
    }
    RunTask(**task, worker);
  }
}

void WorkerPool::KeeperLoop() {
  const auto lease = project_.config().lease;
  const auto period = std::max<std::chrono::milliseconds>(lease / 3, std::chrono::milliseconds(50));
  std::unique_lock lock(mu_);
  while (!stopping_ || !active_.empty()) {
    cv_.wait_for(lock, period);
    for (auto& [id, a] : active_) {
      Status st = project_.queue().Renew(a.task, lease);
      if (st.code() == StatusCode::kAborted) {
        spdlog::warn("task {} (batch {}): lease lost, cancelling attempt", id, a.task.batch_id);
        a.cancel->store(true);
      }
    }
  }
}

void WorkerPool::RunTask(const Task& task, const std::string& worker) {
  std::atomic<bool> cancel{false};
  {
    std::lock_guard lock(mu_);
    active_[task.id] = Active{task, &cancel};
  }
  ++in_flight_;
  ProcessEnv env;
  env.store = &project_.store();
  env.catalog = &project_.catalog();
  env.project_dir = project_.config().project_dir;
  env.on_progress = options_.on_progress;
  env.cancel = &cancel;
  env.pool = data_pool_.get();
  auto result = ProcessBatch(env, task.batch_id);
  {
    std::lock_guard lock(mu_);
    active_.erase(task.id);
  }
  --in_flight_;

  Catalog& catalog = project_.catalog();
  if (result.ok()) {
    spdlog::info("batch {}: {} ({})", task.batch_id, OutcomeName(*result), worker);
    project_.queue().Ack(task).IgnoreError();  // a lost lease here only means a no-op redelivery
    if (options_.on_done) options_.on_done({task.batch_id, *result, Status::OK()});
    return;
  }
  const Status& st = result.status();
  if (st.code() == StatusCode::kAborted) {
    // Shutdown, a lost lease, or a newer attempt superseded this one: leave the
    // batch to whoever holds the task now. The Nack only takes effect if this
    // worker still holds the lease (shutdown), handing the task straight back.
    spdlog::info("batch {}: attempt stopped ({})", task.batch_id, st.message());
    project_.queue().Nack(task, std::chrono::milliseconds(0)).IgnoreError();
    return;
  }
  if (task.attempt >= project_.config().max_attempts) {
    std::string why =
        "gave up after " + std::to_string(task.attempt) + " attempts: " + st.ToString();
    spdlog::error("batch {}: {}", task.batch_id, why);
    catalog.TransitionBatch(task.batch_id, BatchState::kFailed, why).IgnoreError();
    project_.queue().Ack(task).IgnoreError();
    if (options_.on_done) options_.on_done({task.batch_id, ProcessOutcome::kFailed, st});
    return;
  }
  auto delay = std::chrono::milliseconds(
      std::min<int64_t>(60000, int64_t{500} << std::min(task.attempt, 7)));
  spdlog::warn("batch {}: attempt {} failed, retrying in {} ms: {}", task.batch_id, task.attempt,
               delay.count(), st.ToString());
  catalog
      .TransitionBatch(
          task.batch_id, BatchState::kFailed,
          "attempt " + std::to_string(task.attempt) + " failed (will retry): " + st.ToString())
      .IgnoreError();
  project_.queue().Nack(task, delay).IgnoreError();
}

}  // namespace sluice
