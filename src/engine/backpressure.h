// Backpressure from database outputs (architecture 6.2): when what waits to
// be delivered to an output (pending, loading or failed deliveries: rows or
// bytes) rises above the output's high-water mark, the pipelines that feed
// it stop taking new `process` tasks (their landed batches wait) until the
// backlog is below the low-water mark again. A slow or absent database so
// never makes staged rows grow without bound; the lake commits of batches
// already processed are never held back.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "pipeline/spec.h"

namespace sluice {

struct BackpressureState {
  // Outputs above their high mark, or not yet below their low mark again.
  std::set<std::string> engaged;
  // Pipeline -> why it waits: "backpressure from postgres:<output> (R rows,
  // B bytes waiting; resumes below r rows and b bytes)".
  std::map<std::string, std::string> held;
};

// The next state from the active specs, the catalog's backlogs and the
// previous state (its `engaged` set gives the hysteresis; empty for a
// stateless look such as `sluice status`, which then reports an output as
// engaged only while it is above its high mark).
BackpressureState ComputeBackpressure(const std::vector<PipelineSpec>& pipelines,
                                      const std::vector<DeliveryBacklog>& backlogs,
                                      const std::set<std::string>& engaged_before);

}  // namespace sluice
