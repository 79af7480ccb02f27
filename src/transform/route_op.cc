// route: sends each row to one named route, for outputs that take `route: NAME`.
//
//   transform:
//     - route:
//         eu: "country IN ('DE', 'FR')"
//         us: "country = 'US'"
//   outputs:
//     - table: eu_orders
//       route: eu
//     - table: other_orders
//       route: other          # rows no condition matched
//     - table: all_orders     # no route: every row
//
// Conditions are tried in the order written; a row goes to the first whose
// condition is TRUE (FALSE and NULL do not match), else to `other`. The step
// adds a hidden column (kRouteColumn, the route's index) that the pipeline
// runner reads and removes before rows reach an output; it must therefore
// be the last step of the shared transform. A row whose condition cannot be
// evaluated is a bad record.
#include "transform/route.h"

#include "expr/expr.h"
#include "transform/expr_args.h"
#include "transform/ops.h"
#include "transform/step_args.h"

namespace sluice {
namespace {

class RouteOp final : public Operator {
 public:
  RouteOp(StepSpec spec, std::vector<std::string> names, std::vector<std::string> texts)
      : spec_(std::move(spec)), names_(std::move(names)), texts_(std::move(texts)) {}

  Result<Schema> Bind(const Schema& input) override {
    if (input.FieldIndex(kRouteColumn) >= 0) {
      return StepError(spec_, "a pipeline can have only one route step");
    }
    conds_.clear();
    for (size_t k = 0; k < names_.size(); ++k) {
      std::string pointer = ArgPointer("", names_[k]);
      ASSIGN_OR_RETURN(expr::ExprPtr e, CompileArg(spec_, pointer, texts_[k], input));
      if (e->type.id != TypeId::kBool && !(e->IsConst() && e->value.null)) {
        return expr::ExprError(ArgSource(spec_, pointer, texts_[k]), e->pos,
                               "the condition must be boolean, got " + e->type.ToString());
      }
      conds_.push_back(std::move(e));
    }
    std::vector<Field> fields = input.fields();
    fields.push_back({kRouteColumn, DataType::Int32(), false});
    output_ = Schema(std::move(fields));
    return output_;
  }

  Status Push(RecordBatch&& batch, OperatorContext& ctx) override {
    const int64_t n = batch.num_rows();
    if (n == 0) return Status::OK();
    eval_.Reset(n);
    std::vector<int32_t> route(n, static_cast<int32_t>(names_.size()));  // "other"
    expr::Sel rest(n);
    for (int64_t i = 0; i < n; ++i) rest[i] = static_cast<uint32_t>(i);
    for (size_t k = 0; k < conds_.size() && !rest.empty(); ++k) {
      expr::Vec v = expr::Evaluate(*conds_[k], batch, &rest, &eval_);
      expr::Sel hit = expr::SelectTrue(v, &rest);
      for (uint32_t i : hit) route[i] = static_cast<int32_t>(k);
      expr::Sel still;
      still.reserve(rest.size() - hit.size());
      size_t h = 0;
      for (uint32_t i : rest) {
        if (h < hit.size() && hit[h] == i) {
          ++h;
        } else if (!eval_.RowFailed(i)) {
          still.push_back(i);
        }
      }
      rest = std::move(still);
    }
    Column col(DataType::Int32());
    col.Reserve(n);
    for (int64_t i = 0; i < n; ++i) col.Append<int32_t>(route[i]);
    batch.columns.push_back(std::move(col));
    batch.schema = output_;
    if (!eval_.HasErrors()) return ctx.emit(std::move(batch));
    std::vector<uint32_t> failed = RowErrorsToBadRecords(eval_, batch, "", ctx.bad);
    expr::Sel keep = WithoutRows(nullptr, n, failed);
    if (keep.empty()) return Status::OK();
    return ctx.emit(batch.Select(keep));
  }

  Status Finish(OperatorContext&) override { return Status::OK(); }

 private:
  StepSpec spec_;
  std::vector<std::string> names_;
  std::vector<std::string> texts_;
  std::vector<expr::ExprPtr> conds_;
  Schema output_;
  expr::EvalContext eval_;
};

}  // namespace

Result<std::vector<std::string>> RouteNames(const StepSpec& spec) {
  if (!spec.args.is_object() || spec.args.empty()) {
    return StepError(spec,
                     "expected a mapping of route name to condition, e.g. "
                     "{ eu: \"country IN ('DE', 'FR')\" }");
  }
  std::vector<std::string> names = KeysInOrder(spec, "", spec.args);
  for (const auto& n : names) {
    if (n == kOtherRoute) {
      return StepError(spec, "'" + std::string(kOtherRoute) +
                                 "' is the route of rows no condition matches; pick another name");
    }
    if (n.empty()) return StepError(spec, "route name must not be empty");
  }
  names.push_back(kOtherRoute);
  return names;
}

Result<std::unique_ptr<Operator>> NewRouteOp(const StepSpec& spec) {
  ASSIGN_OR_RETURN(std::vector<std::string> names, RouteNames(spec));
  names.pop_back();
  std::vector<std::string> texts;
  for (const auto& n : names) {
    ASSIGN_OR_RETURN(std::string t,
                     ExprArgText(spec, ArgPointer("", n), spec.args[n], "route '" + n + "'"));
    texts.push_back(std::move(t));
  }
  return std::unique_ptr<Operator>(new RouteOp(spec, std::move(names), std::move(texts)));
}

}  // namespace sluice
