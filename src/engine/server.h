// The embedded daemon (`sluice server`): one process running the scheduler
// (recovery, pipeline sync, landing polls) and a pool of worker threads.
//
// Start-up recovery, in order: publish staged files whose commit already
// happened; finish interrupted registrations and re-enqueue unfinished
// batches; delete staging left by finished batches. Then every poll interval:
// re-read pipeline specs (deploying changed ones), scan each pipeline's
// landing prefix, wake the workers. `stop` (set by SIGTERM/SIGINT) makes the
// server stop scanning and leasing, finish tasks in flight, and return.
#pragma once

#include <atomic>
#include <functional>

#include "engine/project.h"
#include "engine/worker_pool.h"

namespace sluice {

struct ServerOptions {
  // Return once the landing zone is empty and no task is queued or running.
  bool exit_when_idle = false;
  std::function<void(const BatchDone&)> on_done;
};

// Publishes pending files, requeues interrupted batches and removes dead staging.
Status Recover(Project& project);

Status RunServer(Project& project, const ServerOptions& options, const std::atomic<bool>& stop);

}  // namespace sluice
