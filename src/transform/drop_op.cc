// drop: removes the listed columns; the others keep their order.
//
//   - drop: [internal_note, raw_payload]
//   - drop: { columns: [internal_note] }
//
// Dropping every column is an error: no output can store rows without columns.
#include <set>

#include "transform/ops.h"
#include "transform/step_args.h"

namespace sluice {
namespace {

class DropOp final : public Operator {
 public:
  DropOp(StepSpec spec, std::vector<std::string> columns)
      : spec_(std::move(spec)), columns_(std::move(columns)) {}

  Result<Schema> Bind(const Schema& input) override {
    std::set<int> dropped;
    for (const auto& name : columns_) {
      ASSIGN_OR_RETURN(int idx, FindColumn(spec_, input, name));
      dropped.insert(idx);
    }
    keep_.clear();
    Schema out;
    for (int i = 0; i < input.num_fields(); ++i) {
      if (dropped.count(i)) continue;
      keep_.push_back(i);
      out.AddField(input.field(i));
    }
    if (keep_.empty()) return StepError(spec_, "would drop every column");
    output_ = out;
    return out;
  }

  Status Push(RecordBatch&& batch, OperatorContext& ctx) override {
    return ctx.emit(TakeColumns(std::move(batch), keep_, output_));
  }

  Status Finish(OperatorContext& ctx) override { return Status::OK(); }

 private:
  StepSpec spec_;
  std::vector<std::string> columns_;
  std::vector<int> keep_;
  Schema output_;
};

}  // namespace

Result<std::unique_ptr<Operator>> NewDropOp(const StepSpec& spec) {
  ASSIGN_OR_RETURN(std::vector<std::string> columns, ColumnsArg(spec));
  return std::unique_ptr<Operator>(new DropOp(spec, std::move(columns)));
}

}  // namespace sluice
