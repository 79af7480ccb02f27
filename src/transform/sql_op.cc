// sql: one SELECT statement over the step's input rows, compiled to the same
// operators as the YAML steps.
//
//   - sql: >
//       SELECT country, sum(quantity * unit_price) AS revenue, count(*) AS orders
//       FROM input
//       WHERE currency = 'EUR'
//       GROUP BY country
//       HAVING count(*) > 10
//
//   SELECT list    columns, `*`, expressions [AS name] (default name: the
//                  expression as written)
//   FROM input     the rows reaching this step (`input` may have an alias)
//   WHERE          -> filter
//   GROUP BY       -> aggregate (keys may be expressions, select-list aliases
//                  or 1-based positions); aggregate functions without GROUP BY
//                  make one group of all rows
//   HAVING         -> the aggregate's having
// JOIN with a reference table comes with the lookup step; ORDER BY and
// LIMIT are rejected (rows keep input order, groups first-seen order).
#include "core/value_text.h"
#include "expr/parser.h"
#include "transform/expr_args.h"
#include "transform/expr_ops.h"
#include "transform/ops.h"
#include "transform/step_args.h"

namespace sluice {
namespace {

bool HasAggregate(const expr::Node& n) {
  if (n.kind == expr::NodeKind::kCall && expr::IsAggregateName(n.name)) return true;
  for (const auto& a : n.args) {
    if (HasAggregate(*a)) return true;
  }
  return false;
}

class SqlOp final : public Operator {
 public:
  SqlOp(StepSpec spec, std::vector<std::unique_ptr<Operator>> ops)
      : spec_(std::move(spec)), chain_(std::move(ops)) {}

  Result<Schema> Bind(const Schema& input) override { return chain_.Bind(input); }
  Status Push(RecordBatch&& batch, OperatorContext& ctx) override {
    return chain_.Push(std::move(batch), ctx.bad, ctx.emit);
  }
  Status Finish(OperatorContext& ctx) override { return chain_.Finish(ctx.bad, ctx.emit); }
  int64_t rows_removed() const override { return chain_.RowsRemoved(); }

 private:
  StepSpec spec_;
  OperatorChain chain_;
};

}  // namespace

Result<std::unique_ptr<Operator>> NewSqlOp(const StepSpec& spec) {
  std::string pointer;
  const nlohmann::json* value = &spec.args;
  if (spec.args.is_object()) {
    RETURN_IF_ERROR(CheckArgKeys(spec, spec.args, {"query"}));
    if (!spec.args.contains("query")) return StepError(spec, "expected { query: \"SELECT ...\" }");
    value = &spec.args["query"];
    pointer = "/query";
  }
  if (!value->is_string()) {
    return StepError(spec,
                     "expected a SELECT statement, e.g. `- sql: \"SELECT * FROM input WHERE "
                     "amount > 0\"`");
  }
  expr::SourceText src = ArgSource(spec, pointer, value->get<std::string>());
  ASSIGN_OR_RETURN(expr::SelectStatement st, expr::ParseSelect(src));
  if (st.from != "input" && !(st.from.size() == 5 && EqualsIgnoreCase(st.from, "input"))) {
    return expr::ExprError(
        src, 0, "FROM must name `input` (the rows reaching this step), got '" + st.from + "'");
  }
  if (st.has_join) {
    return expr::ExprError(src, st.join_pos,
                           "JOIN is not supported in a sql step yet; use a lookup step");
  }
  expr::BindOptions options;
  options.qualifiers.push_back({"input", ""});
  if (!st.from_alias.empty()) options.qualifiers.push_back({st.from_alias, ""});
  auto arg = [&](expr::NodePtr node, std::string name) {
    ExprArg a;
    a.name = std::move(name);
    a.src = src;
    a.node = std::move(node);
    a.options = options;
    return a;
  };

  std::vector<std::unique_ptr<Operator>> ops;
  if (st.where) {
    if (HasAggregate(*st.where)) {
      return expr::ExprError(src, st.where->pos,
                             "aggregate functions are not allowed in WHERE; use HAVING");
    }
    ops.push_back(MakeFilterOp(spec, arg(std::move(st.where), "")));
  }

  bool grouped = !st.group_by.empty() || (st.having != nullptr);
  for (const auto& item : st.items) grouped = grouped || (item.expr && HasAggregate(*item.expr));
  // Output names: alias, else a column's own name, else the text as written.
  std::vector<std::string> names;
  for (const auto& item : st.items) {
    std::string name = item.alias;
    if (name.empty() && item.expr && item.expr->kind == expr::NodeKind::kColumn) {
      name = item.expr->name;
    }
    if (name.empty()) name = item.text;
    names.push_back(name);
  }

  if (!grouped) {
    bool only_star = st.items.size() == 1 && !st.items[0].expr;
    for (const auto& item : st.items) {
      if (!item.star_qualifier.empty() && item.star_qualifier != "input" &&
          item.star_qualifier != st.from_alias) {
        return expr::ExprError(
            src, 0, "unknown table '" + item.star_qualifier + "' in " + item.star_qualifier + ".*");
      }
    }
    if (!only_star) {
      std::vector<ExprArg> items;
      for (size_t i = 0; i < st.items.size(); ++i) {
        items.push_back(arg(std::move(st.items[i].expr), names[i]));
      }
      ops.push_back(MakeProjectOp(spec, std::move(items)));
    }
    return std::unique_ptr<Operator>(new SqlOp(spec, std::move(ops)));
  }

  AggregateArgs agg;
  agg.emit_keys = false;
  for (auto& key : st.group_by) {
    // GROUP BY 2 and GROUP BY alias name select-list items.
    const expr::Node* use = key.get();
    if (key->kind == expr::NodeKind::kLiteral && key->literal_kind == expr::LiteralKind::kInteger) {
      size_t k = static_cast<size_t>(std::stoll(key->text));
      if (k < 1 || k > st.items.size() || !st.items[k - 1].expr) {
        return expr::ExprError(
            src, key->pos, "GROUP BY " + key->text + ": there is no select-list item " + key->text);
      }
      use = st.items[k - 1].expr.get();
    } else if (key->kind == expr::NodeKind::kColumn && key->qualifier.empty()) {
      for (size_t i = 0; i < st.items.size(); ++i) {
        if (!st.items[i].alias.empty() && st.items[i].alias == key->name && st.items[i].expr) {
          use = st.items[i].expr.get();
        }
      }
    }
    std::string name = use->kind == expr::NodeKind::kColumn ? use->name : expr::NodeToSql(*use);
    agg.keys.push_back(arg(expr::CloneNode(*use), name));
  }
  for (size_t i = 0; i < st.items.size(); ++i) {
    if (!st.items[i].expr) {
      return expr::ExprError(src, 0,
                             "SELECT * cannot be used with GROUP BY or aggregates; list "
                             "the columns");
    }
    agg.outputs.push_back(arg(std::move(st.items[i].expr), names[i]));
  }
  if (st.having) agg.having = arg(std::move(st.having), "");
  ops.push_back(MakeAggregateOp(spec, std::move(agg)));
  return std::unique_ptr<Operator>(new SqlOp(spec, std::move(ops)));
}

}  // namespace sluice
