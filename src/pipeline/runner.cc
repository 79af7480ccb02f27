#include "pipeline/runner.h"

#include <algorithm>

#include "sink/partition.h"
#include "transform/route.h"

namespace sluice {

namespace {

// "col=value" (escaped) is one directory name; file systems allow 255 bytes.
// Below that, with room for the name and a margin.
constexpr size_t kMaxPartitionDirBytes = 200;

}  // namespace

Result<PipelineRunner> PipelineRunner::Make(const PipelineSpec& spec,
                                            std::optional<size_t> only_output) {
  ASSIGN_OR_RETURN(ResolvedReferences references, OpenPipelineReferences(spec, ReferenceEnv{}));
  return Make(spec, references, only_output);
}

Result<PipelineRunner> PipelineRunner::Make(const PipelineSpec& spec,
                                            const ResolvedReferences& references,
                                            std::optional<size_t> only_output) {
  PipelineRunner r;
  ASSIGN_OR_RETURN(OperatorChain shared, BuildChain(spec, &references));
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
          ASSIGN_OR_RETURN(std::unique_ptr<Operator> op, MakeOperator(s, &references));
          ops.push_back(std::move(op));
        }
        OperatorChain chain(std::move(ops));
        ASSIGN_OR_RETURN(o.schema, chain.Bind(spec.output_schema));
        o.chain.emplace(std::move(chain));
      }
    }
    const SinkSpec& sink = spec.outputs[i];
    if (sink.kind == "table" && sink.args.is_object() && sink.args.contains("partition_by") &&
        sink.args["partition_by"].is_array()) {
      std::vector<std::string> by;
      for (const auto& c : sink.args["partition_by"]) {
        if (c.is_string()) by.push_back(c.get<std::string>());
      }
      // An unusable partition_by is the sink's to report, when it opens.
      auto cols = ResolvePartitionColumns(o.schema, by);
      if (cols.ok()) o.partition_cols = std::move(*cols);
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
    auto sink = [this, &emit, &o, bad, i](RecordBatch&& b) {
      return emit(i, DropUnusablePartitions(o, std::move(b), bad));
    };
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
    Output& o = outputs_[i];
    RETURN_IF_ERROR(o.chain->Finish(bad, [this, &emit, &o, bad, i](RecordBatch&& b) {
      return emit(i, DropUnusablePartitions(o, std::move(b), bad));
    }));
  }
  return Status::OK();
}

RecordBatch PipelineRunner::DropUnusablePartitions(const Output& o, RecordBatch&& b,
                                                   std::vector<BadRecord>* bad) const {
  if (o.partition_cols.empty() || b.num_rows() == 0) return std::move(b);
  std::vector<uint32_t> keep;
  bool dropped = false;
  for (int64_t r = 0; r < b.num_rows(); ++r) {
    bool ok = true;
    for (int c : o.partition_cols) {
      const Column& col = b.columns[c];
      // Only strings can be long: other types render in a few dozen bytes.
      if (col.type().id != TypeId::kString || col.IsNull(r)) continue;
      const std::string_view v = col.GetString(r);
      const std::string& name = b.schema.field(c).name;
      // Escaping at most triples a byte; skip the work for short values.
      if (name.size() + 1 + 3 * v.size() <= kMaxPartitionDirBytes) continue;
      const size_t bytes = EscapePartitionValue(name).size() + 1 + EscapePartitionValue(v).size();
      if (bytes <= kMaxPartitionDirBytes) continue;
      ok = false;
      BadRecord rec;
      rec.line = r < static_cast<int64_t>(b.source_lines.size()) ? b.source_lines[r] : 0;
      rec.field = name;
      rec.reason = "partition value of " + std::to_string(v.size()) + " bytes makes a " +
                   std::to_string(bytes) + "-byte directory name; at most " +
                   std::to_string(kMaxPartitionDirBytes) + " fit (partition by a shorter column)";
      bad->push_back(std::move(rec));
      break;
    }
    if (ok) {
      keep.push_back(static_cast<uint32_t>(r));
    } else {
      dropped = true;
    }
  }
  if (!dropped) return std::move(b);
  return b.Select(keep);
}

}  // namespace sluice
