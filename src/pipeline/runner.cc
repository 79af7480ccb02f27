#include "pipeline/runner.h"

#include <algorithm>

#include "transform/route.h"

namespace sluice {

Result<PipelineRunner> PipelineRunner::Make(const PipelineSpec& spec,
                                            std::optional<size_t> only_output) {
  PipelineRunner r;
  ASSIGN_OR_RETURN(OperatorChain shared, BuildChain(spec));
  ASSIGN_OR_RETURN(Schema shared_out, shared.Bind(spec.schema));
  r.shared_.emplace(std::move(shared));
  r.route_column_ = shared_out.FieldIndex(kRouteColumn);
  r.shared_schema_ = spec.output_schema;
  for (size_t i = 0; i < spec.outputs.size(); ++i) {
    if (only_output && *only_output != i) continue;
    Output o;
    o.spec_index = i;
    const OutputSteps* steps = i < spec.output_steps.size() ? &spec.output_steps[i] : nullptr;
    o.schema = spec.output_schema;
    if (steps != nullptr) {
      if (!steps->route.empty()) {
        auto it = std::find(spec.routes.begin(), spec.routes.end(), steps->route);
        if (it == spec.routes.end()) {
          return Status::Internal("output route '" + steps->route + "' has no route step");
        }
        o.route = static_cast<int>(it - spec.routes.begin());
      }
      if (!steps->transform.empty()) {
        std::vector<std::unique_ptr<Operator>> ops;
        for (const auto& s : steps->transform) {
          ASSIGN_OR_RETURN(std::unique_ptr<Operator> op, MakeOperator(s));
          ops.push_back(std::move(op));
        }
        OperatorChain chain(std::move(ops));
        ASSIGN_OR_RETURN(o.schema, chain.Bind(spec.output_schema));
        o.chain.emplace(std::move(chain));
      }
    }
    r.outputs_.push_back(std::move(o));
  }
  if (r.outputs_.empty())
    return Status::InvalidArgument("pipeline " + spec.name + " has no such output");
  return r;
}

Status PipelineRunner::Dispatch(RecordBatch&& batch, std::vector<BadRecord>* bad,
                                const Emit& emit) {
  if (batch.num_rows() == 0) return Status::OK();
  rows_out_ += batch.num_rows();
  std::vector<int32_t> routes;
  if (route_column_ >= 0) {
    const Column& rc = batch.columns[route_column_];
    routes.assign(rc.data<int32_t>(), rc.data<int32_t>() + rc.size());
    batch.columns.erase(batch.columns.begin() + route_column_);
    batch.schema = shared_schema_;
  }
  for (size_t i = 0; i < outputs_.size(); ++i) {
    Output& o = outputs_[i];
    RecordBatch part;
    if (o.route >= 0) {
      std::vector<uint32_t> sel;
      for (size_t r = 0; r < routes.size(); ++r) {
        if (routes[r] == o.route) sel.push_back(static_cast<uint32_t>(r));
      }
      if (sel.empty()) continue;
      part = batch.Select(sel);
    } else if (i + 1 == outputs_.size()) {
      part = std::move(batch);  // the last output may take the batch itself
    } else {
      part = batch;
    }
    auto sink = [&emit, i](RecordBatch&& b) { return emit(i, std::move(b)); };
    if (o.chain) {
      RETURN_IF_ERROR(o.chain->Push(std::move(part), bad, sink));
    } else {
      RETURN_IF_ERROR(sink(std::move(part)));
    }
  }
  return Status::OK();
}

Status PipelineRunner::Push(RecordBatch&& batch, std::vector<BadRecord>* bad, const Emit& emit) {
  return shared_->Push(std::move(batch), bad,
                       [&](RecordBatch&& b) { return Dispatch(std::move(b), bad, emit); });
}

Status PipelineRunner::Finish(std::vector<BadRecord>* bad, const Emit& emit) {
  RETURN_IF_ERROR(
      shared_->Finish(bad, [&](RecordBatch&& b) { return Dispatch(std::move(b), bad, emit); }));
  for (size_t i = 0; i < outputs_.size(); ++i) {
    if (!outputs_[i].chain) continue;
    RETURN_IF_ERROR(outputs_[i].chain->Finish(
        bad, [&emit, i](RecordBatch&& b) { return emit(i, std::move(b)); }));
  }
  return Status::OK();
}

}  // namespace sluice
