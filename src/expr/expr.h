// Typed (bound) expressions, the function registry and the evaluator.
//
//   ParseExpression (parser.h) -> BindExpression (this file) -> Evaluate
//
// Binding resolves columns against a schema, checks types, inserts implicit
// casts, picks functions and folds constant sub-expressions. Evaluation is
// vectorised: each node runs one kernel over all selected rows of a batch
// (a switch per node and batch, never a virtual call or allocation per row).
//
// Errors in rows (division by zero, overflow, a CAST that does not fit, a
// malformed format string) do not stop evaluation: EvalContext records the
// first error of each row with its message, the row's value is null, and the
// operator decides what to do with the row (it becomes a bad record).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "core/column.h"
#include "core/status.h"
#include "core/types.h"
#include "expr/ast.h"
#include "expr/source_text.h"
#include "expr/vec.h"

namespace sluice::expr {

// A constant value.
struct Scalar {
  DataType type;
  bool null = true;
  int64_t i = 0;  // bool, int32, int64, decimal (unscaled), date, timestamp
  double f = 0;   // float64
  std::string s;  // string

  std::string ToSql() const;
};

enum class Op : uint8_t {
  kColumn,
  kConst,
  kNeg,
  kNot,
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMod,
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
  kAnd,
  kOr,
  kIsNull,
  kIsNotNull,
  kIn,        // args[0] IN (args[1..]); negated = NOT IN
  kLike,      // args[0] LIKE args[1]; state = compiled pattern when constant
  kCase,      // cond, value, cond, value, ..., [else]
  kCoalesce,  // first non-null argument, evaluated lazily
  kCast,      // args[0] to type; negated = TRY_CAST (null instead of an error)
  kCall,      // fn(args)
};

struct FunctionDef;
struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  Op op = Op::kConst;
  DataType type;
  int pos = 0;            // offset in the source text, for errors
  int column = -1;        // kColumn: index in the batch
  Scalar value;           // kConst
  bool negated = false;   // kIn, kLike (NOT), kCast (TRY_CAST)
  bool ilike = false;     // kLike
  bool has_else = false;  // kCase
  std::vector<ExprPtr> args;
  const FunctionDef* fn = nullptr;    // kCall
  std::shared_ptr<const void> state;  // per-call compiled state (regex, format, value set)
  std::string sql;                    // the source text of this node (for messages)

  bool IsConst() const { return op == Op::kConst; }
};

class EvalContext;

// ---- functions

// What a function's bind step sees and may change: argument types (it may
// cast arguments), constant arguments, and per-call state.
class FunctionBinder {
 public:
  FunctionBinder(Expr* call, const SourceText* src) : call_(call), src_(src) {}
  size_t argc() const { return call_->args.size(); }
  const DataType& type(size_t i) const { return call_->args[i]->type; }
  // The constant value of argument i, or null when it is not a constant.
  const Scalar* constant(size_t i) const {
    return call_->args[i]->IsConst() ? &call_->args[i]->value : nullptr;
  }
  // Converts argument i to `to` (an implicit cast; an error if not allowed).
  Status CastArg(size_t i, const DataType& to);
  void SetState(std::shared_ptr<const void> state) { call_->state = std::move(state); }
  // An error pointing at argument i (or at the call with i < 0).
  Status Error(int i, std::string_view message) const;
  std::string_view name() const;

 private:
  Expr* call_;
  const SourceText* src_;
};

// Kernel: computes `out` (already Make()-d with the result type, n rows) for
// the selected rows. For strict functions the selection holds only rows where
// every argument is valid and the evaluator sets nulls; others handle nulls.
using KernelFn = void (*)(const Expr& call, const std::vector<Vec>& args, const Sel* sel, Vec* out,
                          EvalContext* ctx);
using BindFn = Result<DataType> (*)(FunctionBinder& b);

struct FunctionDef {
  const char* name;
  int min_args;
  int max_args;  // -1 = any number
  BindFn bind;
  KernelFn kernel;
  bool strict = true;          // null in any argument -> null result (kernel skips the row)
  const char* signature = "";  // for error messages: "lower(string)"
};

// The registry (functions.cc); null when unknown.
const FunctionDef* FindFunction(std::string_view name);
std::vector<std::string> FunctionNames();

// ---- binding

struct BindOptions {
  // Qualifiers a column reference may carry (`input.x`, `r.y`): each maps to
  // the schema fields whose names start with `prefix` (empty prefix: all).
  // Empty: no qualified names allowed.
  struct Qualifier {
    std::string name;
    std::string prefix;
  };
  std::vector<Qualifier> qualifiers;
  // Replaces "unknown column" errors (e.g. after GROUP BY: "must appear in
  // GROUP BY or inside an aggregate function"); {} is the column name.
  std::string unknown_column_message;
  // Columns whose names start with this are internal and never suggested.
  std::string hidden_prefix = "\x01";
  // Unqualified names not found in the schema are tried with these prefixes
  // (a joined reference's columns), in order.
  std::vector<std::string> fallback_prefixes;
};

// Binds a parsed expression against `schema`. Errors point into src.text.
Result<ExprPtr> BindExpression(const Node& node, const Schema& schema, const SourceText& src,
                               const BindOptions& options = {});
// Parses and binds.
Result<ExprPtr> CompileExpression(const SourceText& src, const Schema& schema,
                                  const BindOptions& options = {});
// Whether `name` is an aggregate function (count, sum, ...).
bool IsAggregateName(std::string_view name);
// The smallest type both may be converted to (comparisons, IN, CASE,
// COALESCE), or an error message.
Result<DataType> CommonType(const DataType& a, const DataType& b);

// Whether CAST(from AS to) is allowed (see cast.cc for the rules).
bool CanCast(const DataType& from, const DataType& to);

// ---- evaluation

// The constant list of an IN (the binder builds it; values in the tested
// expression's physical class).
struct InSet {
  // Looked up by string_view: no allocation per row.
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  std::unordered_set<int64_t> ints;
  std::unordered_set<double> floats;
  std::unordered_set<std::string, StringHash, std::equal_to<>> strings;
  // The same strings as a list, for short lists (compared directly: cheaper
  // than hashing each row's value).
  std::vector<std::string> string_list;
  bool has_null = false;
};

struct RowError {
  int64_t row;
  std::string message;
};

class EvalContext {
 public:
  // `src` is accepted for symmetry with binding; messages carry each
  // expression's own text.
  explicit EvalContext(const SourceText* /*src*/ = nullptr) {}
  // Starts a batch of n rows (clears errors).
  void Reset(int64_t n);
  // Records an error for `row` (only the first error of a row is kept).
  void Fail(int64_t row, const Expr& at, std::string_view message);
  bool HasErrors() const { return !errors_.empty(); }
  bool RowFailed(int64_t row) const { return !failed_.empty() && failed_[row]; }
  const std::vector<RowError>& errors() const { return errors_; }

 private:
  int64_t rows_ = 0;
  std::vector<uint8_t> failed_;
  std::vector<RowError> errors_;
};

// Evaluates `e` over the selected rows of `batch`.
Vec Evaluate(const Expr& e, const RecordBatch& batch, const Sel* sel, EvalContext* ctx);

// Rows of `sel` (all rows when null) where a boolean Vec is true (not null).
Sel SelectTrue(const Vec& v, const Sel* sel);

// Casts v's selected rows to `to`; rows that do not convert fail in ctx
// (or become null with try_cast).
Vec CastVec(const Vec& v, const DataType& to, const Sel* sel, const Expr& at, bool try_cast,
            EvalContext* ctx);

}  // namespace sluice::expr
