// WorkerPool: threads that lease process tasks and run ProcessBatch, or (a
// pool of loaders) load tasks, run by DeliveryLoader::DeliverBatch, or (a
// pool of exporters) export tasks, run by Exporter::Run.
//
// Each worker loops: lease a task -> ProcessBatch -> ack or nack. A lease
// keeper thread renews the leases of tasks in flight every lease/3; if a
// renewal finds the task re-leased elsewhere, that attempt is cancelled (and
// the catalog's fencing refuses whatever it still tries to write). The retry
// decision is ProcessBatch's (by ClassifyError): a transient failure leaves
// the batch queued with a retry time and the task is nacked until then; past
// max_attempts, a permanent failure or a poison batch end `failed`, acked.
//
// Stop() stops leasing and waits for tasks in flight to finish (drain): a
// SIGTERM never abandons a batch half-done, and a kill -9 is covered by lease
// expiry and the idempotent commit. CancelAll() cuts a drain short (a second
// SIGTERM): attempts in flight stand down at their next check and write
// nothing more; their tasks go back to the queue, and the catalog's fencing
// makes whatever a late write tries harmless.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/thread_annotations.h"
#include "core/thread_pool.h"
#include "engine/exporter.h"
#include "engine/loader.h"
#include "engine/processor.h"
#include "engine/project.h"

namespace sluice {

struct BatchDone {
  int64_t batch_id = 0;
  ProcessOutcome outcome = ProcessOutcome::kCommitted;
  Status status;  // non-OK when the task gave up with an error
};

struct WorkerPoolOptions {
  int threads = 2;       // batches at once
  int data_threads = 1;  // decode/encode threads shared by all batches (1 = none extra)
  std::function<void(const ProcessProgress&)> on_progress;
  // Called from a worker thread when a task ends for good (not for retries).
  std::function<void(const BatchDone&)> on_done;
  // Only tasks of these pipelines (sluice ingest -p P); empty = all.
  LeaseFilter filter;
  // The store batches are read from and written to; null = the project's.
  // Tests pass a fault-injecting wrapper of the project's store.
  ObjectStore* store = nullptr;
  // The queue tasks are leased from; null = the project's. Tests pass a
  // wrapper that acts between a worker's lease and its wait.
  TaskQueue* queue = nullptr;
  // Set for a pool of loaders (filter.kind = kLoad): runs load tasks with it.
  DeliveryLoader* loader = nullptr;
  // Set for a pool of exporters (filter.kind = kExport): runs export tasks.
  Exporter* exporter = nullptr;
};

class WorkerPool {
 public:
  WorkerPool(Project& project, WorkerPoolOptions options);
  ~WorkerPool();

  void Start();
  // Wakes idle workers (new tasks were enqueued).
  void Wake();
  // Stops leasing, waits for in-flight tasks, joins the threads.
  void Stop();
  // Stops leasing; tasks in flight go on. Returns at once.
  void StopLeasing();
  // After StopLeasing: waits until every worker has finished its task and
  // left its loop, or `timeout` passed; true if they all have (Stop() then
  // returns promptly).
  bool WaitDrained(std::chrono::milliseconds timeout);
  // Cancels every attempt in flight, and any that starts from now on: each
  // stands down at its next check (between chunks of input) as a fenced
  // attempt, its staged output discarded and its task handed back. The
  // batch is retried by whoever leases it next; the cut attempt counts as
  // one that did not finish.
  void CancelAll();
  // Pipelines whose tasks are not leased until further notice (backpressure);
  // tasks in flight go on.
  void HoldPipelines(std::set<std::string> pipelines);
  // Number of tasks being processed right now.
  int InFlight() const { return in_flight_.load(); }

 private:
  void WorkerLoop(int index);
  void KeeperLoop();
  void RunTask(const Task& task, const std::string& worker);
  // A load or export task: `run` does the work once and says whether it is
  // finished (ack) or when to come back (nack).
  struct StepResult {
    bool finished = true;
    std::chrono::milliseconds retry_in{0};
  };
  void RunStepTask(const Task& task, const char* what,
                   const std::function<Result<StepResult>()>& run);

  TaskQueue& Queue() { return options_.queue != nullptr ? *options_.queue : project_.queue(); }

  Project& project_;
  WorkerPoolOptions options_;
  std::unique_ptr<ThreadPool> data_pool_;
  std::vector<std::thread> threads_;
  std::thread keeper_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> cancel_all_{false};
  std::atomic<int> in_flight_{0};
  std::atomic<int> live_workers_{0};  // worker threads still in their loop
  Mutex mu_;
  CondVar cv_{&mu_};
  // Counts Wake and StopLeasing calls, under mu_: a worker that found no task
  // waits only if none came since it asked (else a signal sent between its
  // lease and its wait was lost, and it slept a whole poll).
  uint64_t wakes_ GUARDED_BY(mu_) = 0;
  std::set<std::string> held_ GUARDED_BY(mu_);
  // Tasks in flight by id, with their cancel flags.
  struct Active {
    Task task;
    std::atomic<bool>* cancel;
  };
  std::map<int64_t, Active> active_ GUARDED_BY(mu_);
};

}  // namespace sluice
