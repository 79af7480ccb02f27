// The expression-based operators built from already-parsed expressions, so
// that both their YAML forms (filter_op.cc, derive_op.cc, aggregate_op.cc)
// and the `sql` step (sql_op.cc) construct them, with errors pointing into
// whichever text the expressions came from.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "expr/ast.h"
#include "expr/expr.h"
#include "expr/source_text.h"
#include "transform/operator.h"

namespace sluice {

// One parsed expression with its source (for errors) and, where it makes a
// column, the column's name.
struct ExprArg {
  std::string name;
  expr::SourceText src;
  expr::NodePtr node;
  expr::BindOptions options;  // e.g. table qualifiers in a sql step
};

// Parses the text at `pointer` of spec.args (file positions from the spec).
Result<ExprArg> ParseExprArg(const StepSpec& spec, const std::string& pointer,
                             const std::string& text, std::string name = "");

std::unique_ptr<Operator> MakeFilterOp(const StepSpec& spec, ExprArg condition);
std::unique_ptr<Operator> MakeDeriveOp(const StepSpec& spec, std::vector<ExprArg> columns);
// Exactly the listed columns, in order; an item without a node is `*` (all
// columns of the input) — the select list of the sql step.
std::unique_ptr<Operator> MakeProjectOp(const StepSpec& spec, std::vector<ExprArg> items);

struct AggregateArgs {
  std::vector<ExprArg> keys;     // group keys (named)
  std::vector<ExprArg> outputs;  // columns over aggregates and keys
  std::optional<ExprArg> having;
  int64_t memory_budget = int64_t{1} << 30;
  bool emit_keys = true;  // output the keys first (the YAML form); sql lists them itself
};
std::unique_ptr<Operator> MakeAggregateOp(const StepSpec& spec, AggregateArgs args);

}  // namespace sluice
