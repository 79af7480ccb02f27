#include "engine/replay.h"

#include <algorithm>
#include <map>
#include <set>

#include <spdlog/spdlog.h>

#include "engine/processor.h"

namespace sluice {

// "-", "2/2 delivered", "1/3 delivered, 1 failed, 1 pending".
std::string DeliverySummary(const std::vector<Delivery>& deliveries) {
  if (deliveries.empty()) return "-";
  std::map<DeliveryState, int> n;
  for (const Delivery& d : deliveries) ++n[d.state];
  std::string s = std::to_string(n[DeliveryState::kDelivered]) + "/" +
                  std::to_string(deliveries.size()) + " delivered";
  for (DeliveryState st :
       {DeliveryState::kFailed, DeliveryState::kPending, DeliveryState::kLoading}) {
    if (n[st] > 0) s += ", " + std::to_string(n[st]) + " " + std::string(DeliveryStateName(st));
  }
  return s;
}

Result<BatchInfo> StartReplay(Project& p, int64_t batch_id, bool latest_version) {
  ASSIGN_OR_RETURN(BatchInfo batch, p.catalog().GetBatch(batch_id));
  int64_t version = 0;
  if (latest_version) {
    ASSIGN_OR_RETURN(PipelineVersion v, p.catalog().GetActiveVersion(batch.pipeline));
    version = v.id;
  }
  // Files of the batch's commit that are still to be published first (a
  // replay refuses while there are any).
  if (Status published = PublishPending(p.store(), p.catalog()); !published.ok()) {
    spdlog::warn("publishing pending files before replaying batch {}: {}", batch_id,
                 published.ToString());
  }
  RETURN_IF_ERROR(p.catalog().ReplayBatch(batch_id, version));
  RETURN_IF_ERROR(p.queue().Enqueue(TaskRequest{TaskKind::kProcess, batch_id, batch.pipeline, 0}));
  return batch;
}

Result<std::vector<DeliveryRetry>> RetryDeliveries(Project& p,
                                                   const std::vector<int64_t>& batch_ids,
                                                   const std::string& output) {
  if (output.empty())
    return Status::InvalidArgument("a delivery retry needs an output id or 'all'");
  std::vector<DeliveryRetry> retries;
  std::set<int64_t> seen;
  for (int64_t id : batch_ids) {
    if (!seen.insert(id).second) continue;
    ASSIGN_OR_RETURN(BatchInfo batch, p.catalog().GetBatch(id));
    ASSIGN_OR_RETURN(std::vector<Delivery> all, p.catalog().BatchDeliveries(id));
    const std::string name = "batch " + std::to_string(id);
    if (all.empty()) {
      return Status::NotFound(name + " (" + std::string(BatchStateName(batch.state)) +
                              ") has no database deliveries");
    }
    DeliveryRetry r{id, batch.pipeline, {}};
    if (output == "all") {
      for (const Delivery& d : all) {
        if (d.state == DeliveryState::kFailed) r.deliveries.push_back(d);
      }
      if (r.deliveries.empty()) {
        return Status::FailedPrecondition(name + " has no failed delivery (" +
                                          DeliverySummary(all) + ")");
      }
    } else {
      auto it = std::find_if(all.begin(), all.end(),
                             [&](const Delivery& d) { return d.output == output; });
      if (it == all.end()) {
        std::string outputs;
        for (const Delivery& d : all) outputs += "\n  " + d.output;
        return Status::NotFound(name + " has no delivery to '" + output +
                                "'; its outputs are:" + outputs + "\n(or use --delivery all)");
      }
      if (it->state != DeliveryState::kFailed) {
        return Status::FailedPrecondition(name + ": the delivery to " + it->output + " is " +
                                          std::string(DeliveryStateName(it->state)) +
                                          ", not failed; only a failed delivery is retried");
      }
      r.deliveries.push_back(*it);
    }
    retries.push_back(std::move(r));
  }
  for (const DeliveryRetry& r : retries) {
    for (const Delivery& d : r.deliveries)
      RETURN_IF_ERROR(p.catalog().RetryDelivery(r.batch_id, d.output));
    // The staged rows are loaded again by a loader; the batch is not
    // processed again. (Should this enqueue fail, a server's reconciliation
    // queues the load of every pending delivery anyway.)
    RETURN_IF_ERROR(p.queue().Enqueue(TaskRequest{TaskKind::kLoad, r.batch_id, r.pipeline, 0}));
  }
  return retries;
}

}  // namespace sluice
