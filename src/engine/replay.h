// Replays and delivery retries, as `sluice replay` and the HTTP API ask for
// them: checked first, then recorded in the catalog and queued for workers.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "engine/project.h"

namespace sluice {

// "-", "2/2 delivered", "1/3 delivered, 1 failed, 1 pending".
std::string DeliverySummary(const std::vector<Delivery>& deliveries);

// Makes batch `batch_id` processed again from its archived input (with the
// pipeline's active version when `latest_version`, else the one it is
// pinned to) and queues it. Returns the batch as it was before. Files of its
// last commit still to be published are published first (a replay is
// refused while there are any).
Result<BatchInfo> StartReplay(Project& p, int64_t batch_id, bool latest_version);

struct DeliveryRetry {
  int64_t batch_id = 0;
  std::string pipeline;
  std::vector<Delivery> deliveries;  // the failed ones made pending again
};

// Makes the failed deliveries of `batch_ids` to `output` (an output id, or
// "all") pending again and queues a load task per batch; nothing is
// processed again. Every batch is checked before any delivery is retried, so
// a typo in one id or output retries nothing: kNotFound (no such batch, no
// deliveries, no such output: the message lists the batch's outputs) or
// kFailedPrecondition (nothing failed).
Result<std::vector<DeliveryRetry>> RetryDeliveries(Project& p,
                                                   const std::vector<int64_t>& batch_ids,
                                                   const std::string& output);

}  // namespace sluice
