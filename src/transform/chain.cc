#include "transform/operator.h"

namespace sluice {

Result<Schema> OperatorChain::Bind(const Schema& input) {
  Schema schema = input;
  for (auto& op : ops_) {
    ASSIGN_OR_RETURN(schema, op->Bind(schema));
  }
  return schema;
}

Status OperatorChain::PushFrom(size_t i, RecordBatch&& batch, std::vector<BadRecord>* bad,
                               const std::function<Status(RecordBatch&&)>& sink) {
  if (i == ops_.size()) return sink(std::move(batch));
  OperatorContext ctx;
  ctx.bad = bad;
  // Depth-first: a batch an operator emits runs through the rest of the chain
  // before the operator continues, so at most one batch per stage is live.
  ctx.emit = [this, i, bad, &sink](RecordBatch&& out) {
    return PushFrom(i + 1, std::move(out), bad, sink);
  };
  return ops_[i]->Push(std::move(batch), ctx);
}

Status OperatorChain::Push(RecordBatch&& batch, std::vector<BadRecord>* bad,
                           const std::function<Status(RecordBatch&&)>& sink) {
  return PushFrom(0, std::move(batch), bad, sink);
}

Status OperatorChain::Finish(std::vector<BadRecord>* bad,
                             const std::function<Status(RecordBatch&&)>& sink) {
  // In order: what operator i flushes must reach operator i+1 before that one
  // flushes its own state.
  for (size_t i = 0; i < ops_.size(); ++i) {
    OperatorContext ctx;
    ctx.bad = bad;
    ctx.emit = [this, i, bad, &sink](RecordBatch&& out) {
      return PushFrom(i + 1, std::move(out), bad, sink);
    };
    RETURN_IF_ERROR(ops_[i]->Finish(ctx));
  }
  return Status::OK();
}

int64_t OperatorChain::RowsRemoved() const {
  int64_t total = 0;
  for (const auto& op : ops_) total += op->rows_removed();
  return total;
}

}  // namespace sluice
