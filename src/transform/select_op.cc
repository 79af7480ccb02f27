// select: keeps the listed columns, in the listed order.
//
//   - select: [order_id, amount]
//   - select: { columns: [order_id, amount] }
//
// Columns are moved, not copied.
#include "transform/ops.h"
#include "transform/step_args.h"

namespace sluice {
namespace {

class SelectOp final : public Operator {
 public:
  SelectOp(StepSpec spec, std::vector<std::string> columns)
      : spec_(std::move(spec)), columns_(std::move(columns)) {}

  Result<Schema> Bind(const Schema& input) override {
    indices_.clear();
    Schema out;
    for (const auto& name : columns_) {
      ASSIGN_OR_RETURN(int idx, FindColumn(spec_, input, name));
      indices_.push_back(idx);
      out.AddField(input.field(idx));
    }
    output_ = out;
    return out;
  }

  Status Push(RecordBatch&& batch, OperatorContext& ctx) override {
    return ctx.emit(TakeColumns(std::move(batch), indices_, output_));
  }

  Status Finish(OperatorContext& ctx) override { return Status::OK(); }

 private:
  StepSpec spec_;
  std::vector<std::string> columns_;
  std::vector<int> indices_;
  Schema output_;
};

}  // namespace

Result<std::unique_ptr<Operator>> NewSelectOp(const StepSpec& spec) {
  ASSIGN_OR_RETURN(std::vector<std::string> columns, ColumnsArg(spec));
  return std::unique_ptr<Operator>(new SelectOp(spec, std::move(columns)));
}

}  // namespace sluice
