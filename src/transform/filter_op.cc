// filter: keeps the rows where an SQL condition is TRUE (FALSE and NULL drop
// the row, as in a WHERE clause).
//
//   - filter: "amount > 0 AND currency IN ('EUR', 'USD')"
//   - filter: { where: "..." }
//
// A row whose condition cannot be evaluated (division by zero, a CAST that
// does not fit) is a bad record naming the expression, not a dropped row.
#include "expr/expr.h"
#include "expr/parser.h"
#include "transform/expr_args.h"
#include "transform/expr_ops.h"
#include "transform/ops.h"
#include "transform/step_args.h"

namespace sluice {
namespace {

class FilterOp final : public Operator {
 public:
  FilterOp(StepSpec spec, ExprArg cond) : spec_(std::move(spec)), cond_(std::move(cond)) {}

  Result<Schema> Bind(const Schema& input) override {
    ASSIGN_OR_RETURN(pred_, expr::BindExpression(*cond_.node, input, cond_.src, cond_.options));
    if (pred_->type.id != TypeId::kBool && !(pred_->IsConst() && pred_->value.null)) {
      return expr::ExprError(cond_.src, pred_->pos,
                             "the condition must be boolean, got " + pred_->type.ToString());
    }
    return input;
  }

  Status Push(RecordBatch&& batch, OperatorContext& ctx) override {
    const int64_t n = batch.num_rows();
    if (n == 0) return Status::OK();
    eval_.Reset(n);
    expr::Vec keep = expr::Evaluate(*pred_, batch, nullptr, &eval_);
    expr::Sel sel = expr::SelectTrue(keep, nullptr);
    int64_t failed = 0;
    if (eval_.HasErrors()) {
      // Failed rows evaluate to NULL, so `sel` already leaves them out.
      failed = static_cast<int64_t>(RowErrorsToBadRecords(eval_, batch, "", ctx.bad).size());
    }
    removed_ += n - static_cast<int64_t>(sel.size()) - failed;
    if (static_cast<int64_t>(sel.size()) == n) return ctx.emit(std::move(batch));
    if (sel.empty()) return Status::OK();
    return ctx.emit(batch.Select(sel));
  }

  Status Finish(OperatorContext&) override { return Status::OK(); }
  int64_t rows_removed() const override { return removed_; }

 private:
  StepSpec spec_;
  ExprArg cond_;
  expr::ExprPtr pred_;
  expr::EvalContext eval_;
  int64_t removed_ = 0;
};

}  // namespace

std::unique_ptr<Operator> MakeFilterOp(const StepSpec& spec, ExprArg condition) {
  return std::make_unique<FilterOp>(spec, std::move(condition));
}

Result<std::unique_ptr<Operator>> NewFilterOp(const StepSpec& spec) {
  std::string pointer;
  const nlohmann::json* value = &spec.args;
  if (spec.args.is_object()) {
    RETURN_IF_ERROR(CheckArgKeys(spec, spec.args, {"where"}));
    if (!spec.args.contains("where")) {
      return StepError(spec, "expected a condition, e.g. `- filter: \"amount > 0\"`");
    }
    value = &spec.args["where"];
    pointer = "/where";
  }
  if (value->is_number()) {
    return StepError(spec,
                     "expected a condition, e.g. `- filter: \"amount > 0\"`, got " + value->dump());
  }
  ASSIGN_OR_RETURN(std::string text, ExprArgText(spec, pointer, *value, "the condition"));
  ASSIGN_OR_RETURN(ExprArg cond, ParseExprArg(spec, pointer, text));
  return MakeFilterOp(spec, std::move(cond));
}

}  // namespace sluice
