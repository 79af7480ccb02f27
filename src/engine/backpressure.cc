#include "engine/backpressure.h"

#include "sink/database_output.h"

namespace sluice {

BackpressureState ComputeBackpressure(const std::vector<PipelineSpec>& pipelines,
                                      const std::vector<DeliveryBacklog>& backlogs,
                                      const std::set<std::string>& engaged_before) {
  std::map<std::string, const DeliveryBacklog*> by_output;
  for (const DeliveryBacklog& b : backlogs) by_output[b.output] = &b;
  BackpressureState out;
  for (const PipelineSpec& spec : pipelines) {
    for (const SinkSpec& sink : spec.outputs) {
      if (!IsDatabaseOutputKind(sink.kind)) continue;
      // A spec that deployed has outputs that parse; one that does not (an
      // unset ${VAR} here) cannot be delivered by this process either.
      auto output = ParseDatabaseOutput(sink.kind, sink.args, sink.where, "");
      if (!output.ok()) continue;
      const std::string id = (*output)->Describe();
      const DeliveryLimits& limits = (*output)->Limits();
      auto it = by_output.find(id);
      const int64_t rows = it == by_output.end() ? 0 : it->second->rows;
      const int64_t bytes = it == by_output.end() ? 0 : it->second->bytes;
      const bool above = rows > limits.high_water_rows || bytes > limits.high_water_bytes;
      const bool below = rows < limits.low_water_rows && bytes < limits.low_water_bytes;
      const bool engaged = above || (engaged_before.count(id) > 0 && !below);
      if (!engaged) continue;
      out.engaged.insert(id);
      std::string& why = out.held[spec.name];
      if (!why.empty()) continue;  // the first output named is enough
      why = "backpressure from " + id + " (" + std::to_string(rows) + " rows, " +
            std::to_string(bytes) + " bytes waiting; resumes below " +
            std::to_string(limits.low_water_rows) + " rows and " +
            std::to_string(limits.low_water_bytes) + " bytes)";
    }
  }
  return out;
}

}  // namespace sluice
