// The embedded daemon (`sluice server`): one process running the scheduler
// (recovery, pipeline sync, landing polls) and a pool of worker threads.
//
// Start-up recovery, in order: publish staged files whose commit already
// happened; finish interrupted registrations and re-enqueue unfinished
// batches; delete staging left by finished batches. Then every poll interval:
// re-read pipeline specs (deploying changed ones), scan each pipeline's
// landing prefix, wake the workers. `stop` (set by SIGTERM/SIGINT) makes the
// server stop scanning and leasing, finish tasks in flight, and return.
// `force_stop` (a second signal) cuts that drain short: attempts in flight are
// cancelled (WorkerPool::CancelAll) and the server returns as soon as they
// have stood down; their batches are retried by a later run.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "engine/project.h"
#include "engine/worker_pool.h"

namespace sluice {

struct ServerOptions {
  // Return once the landing zone is empty and no task is queued or running.
  bool exit_when_idle = false;
  std::function<void(const BatchDone&)> on_done;
  // Set while draining after `stop` (a second SIGTERM/SIGINT): cancel the
  // attempts in flight instead of waiting for them. Null: never.
  const std::atomic<bool>* force_stop = nullptr;
  // The store the workers process batches with; null = the project's. Tests
  // pass a fault-injecting wrapper (WorkerPoolOptions::store).
  ObjectStore* store = nullptr;
};

// What a server run left undone, for its exit status and summary.
struct ServerReport {
  // Work that could not be registered or processed: each error of the last
  // landing poll (files still in landing that could not be read or
  // registered, a scan the catalog refused), specs that could not be
  // deployed, and every batch that ended failed during the run. Empty after
  // a clean run. Repeated messages appear once; past kMaxProblems only
  // `more_problems` counts them.
  std::vector<std::string> problems;
  int64_t more_problems = 0;
  static constexpr size_t kMaxProblems = 100;
  // Batches that ended during this run, by outcome.
  int64_t committed = 0;
  int64_t quarantined = 0;
  int64_t failed = 0;
  // A second signal cut the drain short; `cancelled` attempts were in
  // flight and stood down (their batches are retried by a later run).
  bool forced = false;
  int cancelled = 0;
};

// Publishes pending files, requeues interrupted batches and removes dead staging.
Status Recover(Project& project);
// Deletes the staging of finished batches (up to their last attempt), except
// of those whose files are still to be published (maybe by another process
// that committed them a moment ago).
Status CollectStaging(Project& project);

// On a store without rename: deletes the lake, quarantine and staged
// delivery objects of attempts that lost (their keys name batch and attempt)
// and that the catalog does not reference, whether or not their write
// markers survived (a zombie may finish a file after a newer attempt cleaned
// its markers). Lists lake/, quarantine/ and deliveries/ in full, so it runs
// at start-up (Recover), not per poll.
// Returns how many objects it deleted.
Result<int64_t> SweepLostOutputs(Project& project);

// Runs the server until `stop` (or, with exit_when_idle, until there is
// nothing left to do). A non-OK Status is a failure to start or run at all;
// what the run could not do is in `report` (if given).
Status RunServer(Project& project, const ServerOptions& options, const std::atomic<bool>& stop,
                 ServerReport* report = nullptr);

}  // namespace sluice
