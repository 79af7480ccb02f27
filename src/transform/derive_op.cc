// derive: adds or replaces columns computed by SQL expressions.
//
//   - derive:
//       total: quantity * unit_price
//       day: CAST(created_at AS date)
//       total_eur: total * 0.92          # sees `total` from the line above
//
// Columns are computed in the order written; each expression sees the
// columns before it, including ones derived above. A new name is appended
// at the end; an existing name is replaced in place (its type may change).
// A row whose value cannot be computed (division by zero, overflow, a CAST
// that does not fit) becomes a bad record naming the column, and leaves the
// batch.
#include <algorithm>
#include <iterator>

#include "expr/expr.h"
#include "transform/expr_args.h"
#include "transform/expr_ops.h"
#include "transform/ops.h"
#include "transform/step_args.h"

namespace sluice {
namespace {

struct Derived {
  ExprArg arg;
  expr::ExprPtr expr;
  int index = -1;  // column index in the output
};

class DeriveOp final : public Operator {
 public:
  DeriveOp(StepSpec spec, std::vector<Derived> cols)
      : spec_(std::move(spec)), cols_(std::move(cols)) {}

  Result<Schema> Bind(const Schema& input) override {
    std::vector<Field> fields = input.fields();
    for (auto& d : cols_) {
      Schema current(fields);
      ASSIGN_OR_RETURN(d.expr,
                       expr::BindExpression(*d.arg.node, current, d.arg.src, d.arg.options));
      Field f{d.arg.name, d.expr->type, true};
      d.index = current.FieldIndex(d.arg.name);
      if (d.index >= 0) {
        fields[d.index] = f;
      } else {
        d.index = static_cast<int>(fields.size());
        fields.push_back(f);
      }
    }
    output_ = Schema(std::move(fields));
    return output_;
  }

  Status Push(RecordBatch&& batch, OperatorContext& ctx) override {
    const int64_t n = batch.num_rows();
    std::vector<uint32_t> failed;  // ascending
    expr::Sel sel;
    const size_t bad_before = ctx.bad != nullptr ? ctx.bad->size() : 0;
    for (auto& d : cols_) {
      eval_.Reset(n);
      const expr::Sel* use = failed.empty() ? nullptr : &sel;
      expr::Vec v = expr::Evaluate(*d.expr, batch, use, &eval_);
      if (eval_.HasErrors()) {
        std::vector<uint32_t> rows = RowErrorsToBadRecords(eval_, batch, d.arg.name, ctx.bad);
        std::vector<uint32_t> merged;
        std::merge(failed.begin(), failed.end(), rows.begin(), rows.end(),
                   std::back_inserter(merged));
        failed = std::move(merged);
        sel = WithoutRows(nullptr, n, failed);
        use = &sel;
      }
      Column col = v.ToColumn(use);
      if (d.index < static_cast<int>(batch.columns.size())) {
        batch.columns[d.index] = std::move(col);
      } else {
        batch.columns.push_back(std::move(col));
      }
    }
    batch.schema = output_;
    if (!failed.empty() && ctx.bad != nullptr) {
      // Bad records in row order, whichever column failed.
      std::stable_sort(ctx.bad->begin() + static_cast<std::ptrdiff_t>(bad_before), ctx.bad->end(),
                       [](const BadRecord& a, const BadRecord& b) { return a.line < b.line; });
    }
    if (failed.empty()) return ctx.emit(std::move(batch));
    if (sel.empty()) return Status::OK();
    return ctx.emit(batch.Select(sel));
  }

  Status Finish(OperatorContext&) override { return Status::OK(); }

 private:
  StepSpec spec_;
  std::vector<Derived> cols_;
  Schema output_;
  expr::EvalContext eval_;
};

}  // namespace

std::unique_ptr<Operator> MakeDeriveOp(const StepSpec& spec, std::vector<ExprArg> columns) {
  std::vector<Derived> cols;
  for (auto& c : columns) cols.push_back(Derived{std::move(c), nullptr, -1});
  return std::make_unique<DeriveOp>(spec, std::move(cols));
}

Result<std::unique_ptr<Operator>> NewDeriveOp(const StepSpec& spec) {
  if (!spec.args.is_object() || spec.args.empty()) {
    return StepError(spec,
                     "expected a mapping of column name to SQL expression, e.g. "
                     "{ total: \"quantity * unit_price\" }");
  }
  std::vector<ExprArg> cols;
  for (const std::string& name : KeysInOrder(spec, "", spec.args)) {
    if (name.empty()) return StepError(spec, "column name must not be empty");
    ASSIGN_OR_RETURN(std::string text,
                     ExprArgText(spec, ArgPointer("", name), spec.args[name], "'" + name + "'"));
    ASSIGN_OR_RETURN(ExprArg arg, ParseExprArg(spec, ArgPointer("", name), text, name));
    cols.push_back(std::move(arg));
  }
  return MakeDeriveOp(spec, std::move(cols));
}

}  // namespace sluice
