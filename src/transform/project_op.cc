// The select list of a `sql` step: exactly the listed columns, in order.
// `*` stands for every input column; an expression becomes a column named by
// its alias (or its text). Rows whose values cannot be computed are bad
// records naming the column. Columns referenced as they are move through
// without a copy.
#include <algorithm>
#include <iterator>

#include "expr/expr.h"
#include "transform/expr_args.h"
#include "transform/expr_ops.h"
#include "transform/step_args.h"

namespace sluice {
namespace {

struct Item {
  std::string name;
  int column = -1;      // input column passed through
  expr::ExprPtr value;  // or an expression
  const ExprArg* arg = nullptr;
};

class ProjectOp final : public Operator {
 public:
  ProjectOp(StepSpec spec, std::vector<ExprArg> items)
      : spec_(std::move(spec)), args_(std::move(items)) {}

  Result<Schema> Bind(const Schema& input) override {
    items_.clear();
    std::vector<Field> fields;
    for (const ExprArg& a : args_) {
      if (!a.node) {
        // `*` (name "*"): every visible column; "*:" + prefix: the columns
        // of one table of a join (prefix "" = the input's own columns).
        bool all = a.name.rfind("*:", 0) != 0;
        std::string prefix = all ? "" : a.name.substr(2);
        for (int c = 0; c < input.num_fields(); ++c) {
          const std::string& name = input.field(c).name;
          if (name.rfind('\x01', 0) == 0) continue;  // hidden
          bool joined = name.rfind('\x02', 0) == 0;
          if (!all && (prefix.empty() ? joined : name.rfind(prefix, 0) != 0)) continue;
          // A joined column "\x02alias.col" shows as col.
          std::string shown = joined ? name.substr(name.find('.') + 1) : name;
          items_.push_back({shown, c, nullptr, &a});
          Field f = input.field(c);
          f.name = shown;
          fields.push_back(f);
        }
        continue;
      }
      ASSIGN_OR_RETURN(expr::ExprPtr e, expr::BindExpression(*a.node, input, a.src, a.options));
      Item it{a.name, -1, nullptr, &a};
      if (e->op == expr::Op::kColumn) {
        it.column = e->column;
        Field f = input.field(e->column);
        f.name = a.name;
        fields.push_back(f);
      } else {
        fields.push_back({a.name, e->type, true});
        it.value = std::move(e);
      }
      items_.push_back(std::move(it));
    }
    for (size_t i = 0; i < fields.size(); ++i) {
      for (size_t j = 0; j < i; ++j) {
        if (fields[i].name == fields[j].name) {
          const ExprArg* a = items_[i].arg;
          return expr::ExprError(a->src, a->node ? a->node->pos : 0,
                                 "column '" + fields[i].name +
                                     "' appears twice in the select list; rename one with AS");
        }
      }
    }
    uses_.assign(input.num_fields(), 0);
    for (const Item& it : items_) {
      if (it.column >= 0) ++uses_[it.column];
    }
    output_ = Schema(std::move(fields));
    return output_;
  }

  Status Push(RecordBatch&& batch, OperatorContext& ctx) override {
    const int64_t n = batch.num_rows();
    std::vector<Column> computed(items_.size());
    std::vector<uint32_t> failed;  // ascending
    expr::Sel rest;                // rows not failed yet (once some have)
    const size_t bad_before = ctx.bad != nullptr ? ctx.bad->size() : 0;
    for (size_t i = 0; i < items_.size(); ++i) {
      if (!items_[i].value) continue;
      eval_.Reset(n);
      // A row that failed in an earlier column is not evaluated again, so it
      // is one bad record, not one per column.
      const expr::Sel* sel = failed.empty() ? nullptr : &rest;
      expr::Vec v = expr::Evaluate(*items_[i].value, batch, sel, &eval_);
      if (eval_.HasErrors()) {
        std::vector<uint32_t> rows = RowErrorsToBadRecords(eval_, batch, items_[i].name, ctx.bad);
        std::vector<uint32_t> merged;
        std::set_union(failed.begin(), failed.end(), rows.begin(), rows.end(),
                       std::back_inserter(merged));
        failed = std::move(merged);
        rest = WithoutRows(nullptr, n, failed);
      }
      computed[i] = v.ToColumn(sel);
    }
    RecordBatch out;
    out.schema = output_;
    out.source_lines = std::move(batch.source_lines);
    out.num_rows_no_columns = n;
    std::vector<int> left = uses_;
    for (size_t i = 0; i < items_.size(); ++i) {
      int c = items_[i].column;
      if (c < 0) {
        out.columns.push_back(std::move(computed[i]));
      } else if (--left[c] == 0) {
        out.columns.push_back(std::move(batch.columns[c]));
      } else {
        out.columns.push_back(batch.columns[c]);
      }
    }
    if (failed.empty()) return ctx.emit(std::move(out));
    if (ctx.bad != nullptr) {
      std::stable_sort(ctx.bad->begin() + static_cast<std::ptrdiff_t>(bad_before), ctx.bad->end(),
                       [](const BadRecord& a, const BadRecord& b) { return a.line < b.line; });
    }
    expr::Sel keep = WithoutRows(nullptr, n, failed);
    if (keep.empty()) return Status::OK();
    return ctx.emit(out.Select(keep));
  }

  Status Finish(OperatorContext&) override { return Status::OK(); }

 private:
  StepSpec spec_;
  std::vector<ExprArg> args_;
  std::vector<Item> items_;
  std::vector<int> uses_;
  Schema output_;
  expr::EvalContext eval_;
};

}  // namespace

std::unique_ptr<Operator> MakeProjectOp(const StepSpec& spec, std::vector<ExprArg> items) {
  return std::make_unique<ProjectOp>(spec, std::move(items));
}

}  // namespace sluice
