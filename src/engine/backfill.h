// `sluice backfill`: replays a pipeline's batches (committed, quarantined,
// damaged or failed), oldest first, in windows of at most `window` batches
// at once, each window processed and delivered (database outputs included:
// a replay replaces the batch's rows there) before the next starts. The
// catalog keeps the run's cursor, so a backfill interrupted by a crash or a
// signal resumes where it stopped when started again. A batch already
// committed with the version a --latest-version run replays with, or (a run
// with each batch's own version) committed after the run began, is not
// replayed again.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "engine/project.h"

namespace sluice {

struct BackfillOptions {
  std::string pipeline;
  int64_t since_us = 0;         // batches registered at or after this time
  bool latest_version = false;  // replay with the active version, not each batch's own
  int window = 2;               // batches processed at once
  std::chrono::milliseconds delivery_wait{60'000};
  // After each window: batches replayed so far and how many there are.
  std::function<void(int64_t done, int64_t total)> on_progress;
};

struct BackfillReport {
  Backfill run;           // as started or resumed
  int64_t replayed = 0;   // by this invocation
  int64_t committed = 0;  // of those, committed
  int64_t other = 0;      // quarantined or failed (see `sluice batches`)
};

Result<BackfillReport> RunBackfill(Project& project, const BackfillOptions& options);

}  // namespace sluice
