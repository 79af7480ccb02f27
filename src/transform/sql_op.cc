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
//   [LEFT|INNER] JOIN ref [AS r] ON input_expr = r.column [AND ...]
//                  -> lookup with a reference table declared under
//                  `references:` (each input row matches at most one
//                  reference row; see lookup_op.cc). Reference columns are
//                  named r.column, or plainly when the input has no such
//                  column.
// ORDER BY and LIMIT are rejected (rows keep input order, groups first-seen
// order).
#include "core/value_text.h"
#include "expr/parser.h"
#include "transform/expr_args.h"
#include "transform/expr_ops.h"
#include "transform/lookup.h"
#include "transform/ops.h"
#include "transform/step_args.h"

namespace sluice {
namespace {

// Whether n refers to a column qualified with `alias`.
bool Mentions(const expr::Node& n, const std::string& alias) {
  if (n.kind == expr::NodeKind::kColumn && n.qualifier == alias) return true;
  for (const auto& a : n.args) {
    if (Mentions(*a, alias)) return true;
  }
  return false;
}

// The equality conditions of an ON clause, split at AND.
void Conjuncts(expr::NodePtr n, std::vector<expr::NodePtr>* out) {
  if (n->kind == expr::NodeKind::kBinary && n->op == "AND") {
    Conjuncts(std::move(n->args[0]), out);
    Conjuncts(std::move(n->args[1]), out);
    return;
  }
  out->push_back(std::move(n));
}

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

std::vector<std::string> SqlReferences(const StepSpec& spec) {
  const nlohmann::json* value = &spec.args;
  if (spec.args.is_object()) {
    if (!spec.args.contains("query")) return {};
    value = &spec.args["query"];
  }
  if (!value->is_string()) return {};
  expr::SourceText src;
  src.text = value->get<std::string>();
  auto st = expr::ParseSelect(src);
  if (!st.ok() || !st->has_join) return {};
  return {st->join_table};
}

Result<std::unique_ptr<Operator>> NewSqlOp(const StepSpec& spec,
                                           const ResolvedReferences* references) {
  std::string pointer;
  const nlohmann::json* value = &spec.args;
  if (spec.args.is_object()) {
    RETURN_IF_ERROR(CheckArgKeys(spec, spec.args, {"query", "references"}));
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
  expr::BindOptions options;
  options.qualifiers.push_back({"input", ""});
  if (!st.from_alias.empty()) options.qualifiers.push_back({st.from_alias, ""});

  std::vector<std::unique_ptr<Operator>> ops;
  std::string ref_alias;
  if (st.has_join) {
    const nlohmann::json* refs = spec.args.is_object() && spec.args.contains("references")
                                     ? &spec.args["references"]
                                     : nullptr;
    if (refs == nullptr || !refs->contains(st.join_table)) {
      std::string known;
      if (refs != nullptr) {
        for (const auto& [k, v] : refs->items()) known += (known.empty() ? "" : ", ") + k;
      }
      return expr::ExprError(src, st.join_pos,
                             "unknown reference '" + st.join_table + "' (" +
                                 (known.empty() ? "declare it under references: in the pipeline "
                                                  "spec"
                                                : "references: " + known) +
                                 ")");
    }
    LookupArgs look;
    ASSIGN_OR_RETURN(look.source, ReferenceSource::FromJson((*refs)[st.join_table]));
    ref_alias = st.join_alias.empty() ? st.join_table : st.join_alias;
    const std::string prefix = "\x02" + ref_alias + ".";
    look.prefix = prefix;
    look.include_keys = true;
    look.left = st.left_join;
    std::vector<expr::NodePtr> conds;
    Conjuncts(std::move(st.join_on), &conds);
    for (auto& c : conds) {
      bool ok = c->kind == expr::NodeKind::kBinary && c->op == "=";
      int ref_side = -1;
      if (ok) {
        for (int side = 0; side < 2; ++side) {
          const expr::Node& x = *c->args[side];
          if (x.kind == expr::NodeKind::kColumn && x.qualifier == ref_alias &&
              !Mentions(*c->args[1 - side], ref_alias)) {
            ref_side = side;
          }
        }
      }
      if (ref_side < 0) {
        return expr::ExprError(src, c->pos,
                               "write each JOIN condition as input_expression = " + ref_alias +
                                   ".column (equalities joined by AND)");
      }
      look.ref_keys.push_back(c->args[ref_side]->name);
      ExprArg key;
      key.src = src;
      key.node = std::move(c->args[1 - ref_side]);
      key.options = options;
      look.input_keys.push_back(std::move(key));
    }
    ops.push_back(MakeLookupOp(spec, std::move(look), references));
    options.qualifiers.push_back({ref_alias, prefix});
    options.fallback_prefixes.push_back(prefix);
  }
  auto arg = [&](expr::NodePtr node, std::string name) {
    ExprArg a;
    a.name = std::move(name);
    a.src = src;
    a.node = std::move(node);
    a.options = options;
    return a;
  };

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
    bool only_star = st.items.size() == 1 && !st.items[0].expr && !st.has_join;
    std::vector<ExprArg> items;
    for (size_t i = 0; i < st.items.size(); ++i) {
      const std::string& q = st.items[i].star_qualifier;
      if (!st.items[i].expr) {
        // `*`, `input.*` / `alias.*`, or `ref.*`.
        std::string which = "*";
        if (q == "input" || (!q.empty() && q == st.from_alias)) {
          which = "*:";
        } else if (!q.empty() && q == ref_alias) {
          which = "*:\x02" + ref_alias + ".";
        } else if (!q.empty()) {
          return expr::ExprError(src, 0, "unknown table '" + q + "' in " + q + ".*");
        }
        items.push_back(arg(nullptr, which));
        continue;
      }
      items.push_back(arg(std::move(st.items[i].expr), names[i]));
    }
    if (!only_star) ops.push_back(MakeProjectOp(spec, std::move(items)));
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
