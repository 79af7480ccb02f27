// Deadlines and freshness (architecture 8.3): a pipeline's `deadline` (a
// batch should be committed this long after it landed) and `expect_every` (a
// batch should arrive at least this often), watched by the server.
//
// The queue already leases earliest deadline first (a process task carries
// its batch's deadline). Each poll, DeadlineMonitor::Check:
//   1. records the active specs' service levels in the catalog (batches
//      registered from then on take the deadline);
//   2. settles deadlines: a batch done in time is met, one done late or not
//      done by its deadline is missed (counted, alerted once);
//   3. estimates when each open batch will be done: the open batches in
//      deadline order are laid out over the workers, each taking its input
//      bytes divided by its pipeline's measured throughput (recent committed
//      batches; else every pipeline's), a batch in processing only what is
//      left of it. A batch whose estimate passes its deadline is marked at
//      risk (alerted once), before the deadline, while there is still time to
//      act;
//   4. freshness: a pipeline whose latest batch arrived longer than
//      expect_every ago (or, with none ever, since the monitor started) is
//      stale (counted, alerted once per arrival) until a batch arrives.
// Marks are compare-and-set in the catalog, so several servers on one
// catalog raise each alert once. Alerts go to the AlertNotifier (a webhook,
// never blocking) and the log; counts to /metrics.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "core/status.h"
#include "engine/alert_notifier.h"
#include "pipeline/spec.h"

namespace sluice {

struct DeadlineMonitorOptions {
  // Batches processed at once (the estimate lays the backlog out over them).
  int workers = 1;
  // Committed batches per pipeline that measure its throughput.
  int64_t history = 20;
  // Open batches looked at per check, earliest deadline first.
  int64_t max_open = 10000;
  // Where each alert goes besides the log and the counters (the server
  // hands them to its AlertNotifier, which never blocks); empty = nowhere.
  std::function<void(AlertEvent)> alert;
  std::function<int64_t()> now_us;  // NowMicros() when empty
};

// What one Check found new.
struct DeadlineReport {
  std::vector<int64_t> at_risk;    // batches newly marked at risk
  std::vector<int64_t> missed;     // batches newly settled as missed
  std::vector<std::string> stale;  // pipelines newly stale
  // Estimated completion per open batch looked at (microseconds since the
  // epoch; absent: no throughput measured yet).
  std::map<int64_t, int64_t> estimates;
};

class DeadlineMonitor {
 public:
  DeadlineMonitor(Catalog& catalog, DeadlineMonitorOptions options);
  Result<DeadlineReport> Check(const std::vector<PipelineSpec>& active);

 private:
  Status SyncSlas(const std::vector<PipelineSpec>& active);
  int64_t Now() const;

  Catalog& catalog_;
  DeadlineMonitorOptions options_;
  int64_t started_us_ = 0;
  std::map<std::string, PipelineSla> recorded_;  // what SyncSlas wrote last
};

}  // namespace sluice
