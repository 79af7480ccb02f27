// Binding: names -> columns, types -> checked and converted, functions ->
// registry entries, constant sub-expressions -> folded.
//
// Numeric rules (as in PostgreSQL and DuckDB, within sluice's types):
//   integer literals are int32 when they fit, else int64; 1.50 is
//   decimal(3,2); 1e3 is float64.
//   int32 (op) int32 -> int32, with int64 -> int64; `/` on integers truncates
//   toward zero and `%` keeps the dividend's sign (PostgreSQL).
//   with a decimal (integers count as decimal(10,0) / decimal(18,0), an
//   integer literal as the narrowest decimal holding it: 2 -> decimal(1,0)):
//     + - : scale max(s1,s2), precision max(p1-s1,p2-s2)+scale+1
//     *   : scale s1+s2, precision p1+p2
//     /   : scale max(s1,s2,6), precision 18
//     %   : scale max(s1,s2), precision max(p1-s1,p2-s2)+scale
//   precision is capped at 18 (sluice's widest decimal); a result that does
//   not fit fails its row ("numeric overflow").
//   with a float64 -> float64.
//   date +/- integer -> date; date - date -> int64 days.
// Comparisons, IN, CASE and COALESCE convert their operands to a common
// type (CommonType); a string literal compared with a typed value is
// converted to that type when the expression is bound, so
// `day >= '2024-01-01'` compares dates and a bad literal is an error here.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <optional>

#include "core/value_text.h"
#include "expr/expr.h"
#include "expr/like.h"
#include "expr/numeric.h"
#include "expr/parser.h"

namespace sluice::expr {
namespace {

bool Int32RangeLiteral(int64_t v) { return v >= INT32_MIN && v <= INT32_MAX; }

// An integer type as the decimal that holds all its values (capped at 18).
DataType AsDecimal(const DataType& t) {
  if (t.id == TypeId::kDecimal) return t;
  return DataType::Decimal(t.id == TypeId::kInt32 ? 10 : 18, 0);
}

DataType CappedDecimal(int p, int s) {
  return DataType::Decimal(std::min(p, kMaxDecimalPrecision), s);
}

constexpr std::string_view kAggregates[] = {"count", "sum",       "min",           "max",
                                            "avg",   "any_value", "count_distinct"};

class Binder {
 public:
  Binder(const Schema& schema, const SourceText& src, const BindOptions& options)
      : schema_(schema), src_(src), options_(options) {}

  Result<ExprPtr> Bind(const Node& n);

 private:
  Status Error(int pos, std::string_view message) const { return ExprError(src_, pos, message); }
  Result<ExprPtr> BindLiteral(const Node& n);
  Result<ExprPtr> BindColumn(const Node& n);
  Result<ExprPtr> BindBinary(const Node& n);
  Result<ExprPtr> BindArith(Op op, const Node& n, ExprPtr a, ExprPtr b);
  Result<ExprPtr> BindCompare(Op op, int pos, ExprPtr a, ExprPtr b);
  Result<ExprPtr> BindIn(const Node& n);
  Result<ExprPtr> BindCase(const Node& n);
  Result<ExprPtr> BindCall(const Node& n);
  Result<ExprPtr> BindLike(const Node& n);
  // Converts e to `to` (implicit): null constants and string constants
  // convert at bind time; other values get a cast node.
  Result<ExprPtr> Coerce(ExprPtr e, const DataType& to);
  Status RequireBool(const Expr& e, std::string_view what) const;
  Result<DataType> Unify(const std::vector<ExprPtr*>& exprs, int pos, std::string_view what);

  const Schema& schema_;
  const SourceText& src_;
  const BindOptions& options_;
};

ExprPtr MakeExpr(Op op, DataType type, int pos) {
  auto e = std::make_unique<Expr>();
  e->op = op;
  e->type = type;
  e->pos = pos;
  return e;
}

ExprPtr MakeConst(Scalar v, int pos) {
  auto e = MakeExpr(Op::kConst, v.type, pos);
  e->value = std::move(v);
  e->sql = e->value.ToSql();
  return e;
}

// Evaluates a constant expression on one row; nullopt when it fails there
// (the expression is then left to fail at run time on the rows that reach it).
std::optional<Scalar> Fold(const Expr& e) {
  RecordBatch one;
  one.num_rows_no_columns = 1;
  EvalContext ctx;
  ctx.Reset(1);
  Vec v = Evaluate(e, one, nullptr, &ctx);
  if (ctx.HasErrors()) return std::nullopt;
  Scalar s;
  s.type = e.type;
  s.null = !v.IsValid(0);
  if (!s.null) {
    switch (v.phys()) {
      case Phys::kBool:
        s.i = v.Bool(0);
        break;
      case Phys::kInt:
        s.i = v.Int(0);
        break;
      case Phys::kFloat:
        s.f = v.Float(0);
        break;
      case Phys::kString:
        s.s = std::string(v.Str(0));
        break;
    }
  }
  return s;
}

ExprPtr MaybeFold(ExprPtr e) {
  if (e->op == Op::kConst || e->op == Op::kColumn || e->args.empty()) return e;
  for (const auto& a : e->args) {
    if (!a->IsConst()) return e;
  }
  auto v = Fold(*e);
  if (!v) return e;
  int pos = e->pos;
  std::string sql = e->sql;
  ExprPtr c = MakeConst(std::move(*v), pos);
  c->sql = sql;
  return c;
}

Result<ExprPtr> Binder::Bind(const Node& n) {
  ExprPtr e;
  switch (n.kind) {
    case NodeKind::kLiteral:
      return BindLiteral(n);
    case NodeKind::kColumn:
      return BindColumn(n);
    case NodeKind::kStar:
      return Error(n.pos, "'*' is only allowed in count(*)");
    case NodeKind::kUnary: {
      ASSIGN_OR_RETURN(ExprPtr a, Bind(*n.args[0]));
      if (n.op == "NOT") {
        RETURN_IF_ERROR(RequireBool(*a, "NOT"));
        ASSIGN_OR_RETURN(a, Coerce(std::move(a), DataType::Bool()));
        e = MakeExpr(Op::kNot, DataType::Bool(), n.pos);
      } else {
        if (!IsNumericType(a->type.id)) {
          return Error(n.pos, "cannot negate a " + a->type.ToString() + " value");
        }
        e = MakeExpr(Op::kNeg, a->type, n.pos);
      }
      e->args.push_back(std::move(a));
      break;
    }
    case NodeKind::kBinary: {
      ASSIGN_OR_RETURN(e, BindBinary(n));
      break;
    }
    case NodeKind::kIsNull: {
      ASSIGN_OR_RETURN(ExprPtr a, Bind(*n.args[0]));
      e = MakeExpr(n.negated ? Op::kIsNotNull : Op::kIsNull, DataType::Bool(), n.pos);
      e->args.push_back(std::move(a));
      break;
    }
    case NodeKind::kIn: {
      ASSIGN_OR_RETURN(e, BindIn(n));
      break;
    }
    case NodeKind::kBetween: {
      // x BETWEEN lo AND hi  ==  x >= lo AND x <= hi
      ASSIGN_OR_RETURN(ExprPtr x1, Bind(*n.args[0]));
      ASSIGN_OR_RETURN(ExprPtr x2, Bind(*n.args[0]));
      ASSIGN_OR_RETURN(ExprPtr lo, Bind(*n.args[1]));
      ASSIGN_OR_RETURN(ExprPtr hi, Bind(*n.args[2]));
      ASSIGN_OR_RETURN(ExprPtr ge, BindCompare(Op::kGe, n.pos, std::move(x1), std::move(lo)));
      ASSIGN_OR_RETURN(ExprPtr le, BindCompare(Op::kLe, n.pos, std::move(x2), std::move(hi)));
      e = MakeExpr(Op::kAnd, DataType::Bool(), n.pos);
      e->args.push_back(std::move(ge));
      e->args.push_back(std::move(le));
      if (n.negated) {
        auto neg = MakeExpr(Op::kNot, DataType::Bool(), n.pos);
        neg->args.push_back(std::move(e));
        e = std::move(neg);
      }
      break;
    }
    case NodeKind::kLike: {
      ASSIGN_OR_RETURN(e, BindLike(n));
      break;
    }
    case NodeKind::kCase: {
      ASSIGN_OR_RETURN(e, BindCase(n));
      break;
    }
    case NodeKind::kCast: {
      ASSIGN_OR_RETURN(ExprPtr a, Bind(*n.args[0]));
      if (!CanCast(a->type, n.cast_type)) {
        return Error(n.pos, "cannot cast " + a->type.ToString() + " to " + n.cast_type.ToString());
      }
      e = MakeExpr(Op::kCast, n.cast_type, n.pos);
      e->negated = n.flag;
      e->args.push_back(std::move(a));
      break;
    }
    case NodeKind::kCall: {
      ASSIGN_OR_RETURN(e, BindCall(n));
      break;
    }
  }
  if (e->sql.empty()) e->sql = NodeToSql(n);
  return MaybeFold(std::move(e));
}

Result<ExprPtr> Binder::BindLiteral(const Node& n) {
  Scalar v;
  v.null = false;
  switch (n.literal_kind) {
    case LiteralKind::kNull:
      v.null = true;
      v.type = DataType::String();  // adopts any type where it is used
      break;
    case LiteralKind::kBool:
      v.type = DataType::Bool();
      v.i = n.text == "true";
      break;
    case LiteralKind::kInteger: {
      int64_t x;
      if (ParseInt64(n.text, &x)) {
        v.type = Int32RangeLiteral(x) ? DataType::Int32() : DataType::Int64();
        v.i = x;
        break;
      }
      [[fallthrough]];
    }
    case LiteralKind::kDecimal: {
      std::string_view t = n.text;
      bool neg = !t.empty() && t[0] == '-';
      std::string_view digits = neg ? t.substr(1) : t;
      size_t dot = digits.find('.');
      int scale = dot == std::string_view::npos ? 0 : static_cast<int>(digits.size() - dot - 1);
      std::string_view ip = digits.substr(0, dot);
      while (ip.size() > 1 && ip[0] == '0') ip.remove_prefix(1);
      int precision = std::max<int>(static_cast<int>(ip.size()) + scale, scale + 1);
      if (ip == "0") precision = std::max(scale, 1);
      if (precision <= kMaxDecimalPrecision && ParseDecimal(t, precision, scale, &v.i)) {
        v.type = DataType::Decimal(precision, scale);
        break;
      }
      [[fallthrough]];
    }
    case LiteralKind::kFloat:
      if (!ParseFloat64(n.text, &v.f)) return Error(n.pos, "malformed number '" + n.text + "'");
      v.type = DataType::Float64();
      break;
    case LiteralKind::kString:
      v.type = DataType::String();
      v.s = n.text;
      break;
    case LiteralKind::kDate: {
      int32_t d;
      if (!ParseDate(n.text, &d))
        return Error(n.pos, "malformed date '" + n.text + "' (expected YYYY-MM-DD)");
      v.type = DataType::Date();
      v.i = d;
      break;
    }
    case LiteralKind::kTimestamp:
      if (!ParseTimestamp(n.text, &v.i))
        return Error(n.pos, "malformed timestamp '" + n.text + "'");
      v.type = DataType::Timestamp();
      break;
  }
  ExprPtr e = MakeConst(std::move(v), n.pos);
  e->sql = NodeToSql(n);
  return e;
}

Result<ExprPtr> Binder::BindColumn(const Node& n) {
  int lo = 0, hi = schema_.num_fields();
  std::string prefix;
  if (!n.qualifier.empty()) {
    const BindOptions::Qualifier* q = nullptr;
    for (const auto& cand : options_.qualifiers) {
      if (cand.name == n.qualifier || (!n.flag && EqualsIgnoreCase(cand.name, n.qualifier))) {
        q = &cand;
      }
    }
    if (q == nullptr) {
      std::string known;
      for (const auto& cand : options_.qualifiers) known += (known.empty() ? "" : ", ") + cand.name;
      return Error(n.pos, "unknown table '" + n.qualifier + "'" +
                              (known.empty() ? "" : " (known: " + known + ")"));
    }
    prefix = q->prefix;
  }
  (void)lo;
  (void)hi;
  std::string want = prefix + n.name;
  int found = schema_.FieldIndex(want);
  if (found < 0 && !n.flag) {
    // Unquoted names also match regardless of case when that is unambiguous.
    for (int i = 0; i < schema_.num_fields(); ++i) {
      if (EqualsIgnoreCase(schema_.field(i).name, want)) {
        if (found >= 0) {
          return Error(n.pos, "column name '" + n.name +
                                  "' is ambiguous (differs only in case); quote it: \"" + n.name +
                                  "\"");
        }
        found = i;
      }
    }
  }
  if (found < 0 && n.qualifier.empty()) {
    for (const auto& p : options_.fallback_prefixes) {
      int f = schema_.FieldIndex(p + n.name);
      if (f >= 0) {
        found = f;
        break;
      }
    }
  }
  if (found < 0) {
    if (!options_.unknown_column_message.empty()) {
      std::string msg = options_.unknown_column_message;
      size_t at = msg.find("{}");
      if (at != std::string::npos) msg.replace(at, 2, n.name);
      return Error(n.pos, msg);
    }
    std::string list;
    for (const auto& f : schema_.fields()) {
      if (f.name.rfind(options_.hidden_prefix, 0) == 0) continue;
      // A joined reference's columns ("\x02alias.name") show as alias.name.
      list += (list.empty() ? "" : ", ") + (f.name[0] == '\x02' ? f.name.substr(1) : f.name);
    }
    std::vector<std::string> names;
    for (const auto& f : schema_.fields()) names.push_back(f.name);
    std::string near = ClosestName(n.name, names);
    if (!near.empty() && near.rfind(options_.hidden_prefix, 0) != 0) {
      return Error(n.pos, "unknown column '" + n.name + "' (did you mean '" + near +
                              "'? columns: " + list + ")");
    }
    return Error(n.pos, "unknown column '" + n.name + "' (columns: " + list + ")");
  }
  auto e = MakeExpr(Op::kColumn, schema_.field(found).type, n.pos);
  e->column = found;
  e->sql = NodeToSql(n);
  return e;
}

Status Binder::RequireBool(const Expr& e, std::string_view what) const {
  if (e.type.id == TypeId::kBool || (e.IsConst() && e.value.null)) return Status::OK();
  return Error(e.pos, std::string(what) + " needs a boolean, got " + e.type.ToString());
}

Result<ExprPtr> Binder::Coerce(ExprPtr e, const DataType& to) {
  if (e->type == to) return e;
  if (e->IsConst() && e->value.null) {
    e->type = to;
    e->value.type = to;
    return e;
  }
  int pos = e->pos;
  std::string sql = e->sql;
  auto cast = MakeExpr(Op::kCast, to, pos);
  cast->sql = sql;
  bool from_literal = e->IsConst() && e->type.id == TypeId::kString;
  cast->args.push_back(std::move(e));
  if (from_literal) {
    auto v = Fold(*cast);
    if (!v) {
      return Error(pos, "cannot convert " + sql + " to " + to.ToString());
    }
    ExprPtr c = MakeConst(std::move(*v), pos);
    c->sql = sql;
    return c;
  }
  return MaybeFold(std::move(cast));
}

Result<DataType> Binder::Unify(const std::vector<ExprPtr*>& exprs, int pos, std::string_view what) {
  // Typed, non-literal operands decide; string literals and NULL adapt.
  std::optional<DataType> type;
  for (ExprPtr* e : exprs) {
    const Expr& x = **e;
    bool adapts = x.IsConst() && (x.value.null || x.type.id == TypeId::kString);
    if (adapts) continue;
    if (!type) {
      type = x.type;
      continue;
    }
    auto common = CommonType(*type, x.type);
    if (!common.ok()) {
      return Error(x.pos, std::string(what) + ": " + common.status().message());
    }
    type = *common;
  }
  if (!type) {
    // Only literals: strings if any, else the first non-null type.
    type = DataType::String();
    for (ExprPtr* e : exprs) {
      if (!(*e)->value.null) {
        type = (*e)->type;
        break;
      }
    }
  }
  for (ExprPtr* e : exprs) {
    ASSIGN_OR_RETURN(*e, Coerce(std::move(*e), *type));
  }
  (void)pos;
  return *type;
}

Result<ExprPtr> Binder::BindCompare(Op op, int pos, ExprPtr a, ExprPtr b) {
  std::vector<ExprPtr*> both = {&a, &b};
  RETURN_IF_ERROR(Unify(both, pos, "cannot compare").status());
  auto e = MakeExpr(op, DataType::Bool(), pos);
  e->args.push_back(std::move(a));
  e->args.push_back(std::move(b));
  return e;
}

Result<ExprPtr> Binder::BindArith(Op op, const Node& n, ExprPtr a, ExprPtr b) {
  // NULL literals take the other side's type.
  if (a->IsConst() && a->value.null) {
    ASSIGN_OR_RETURN(a, Coerce(std::move(a), b->type));
  }
  if (b->IsConst() && b->value.null) {
    ASSIGN_OR_RETURN(b, Coerce(std::move(b), a->type));
  }
  const DataType ta = a->type, tb = b->type;
  auto make = [&](DataType type) {
    auto e = MakeExpr(op, type, n.pos);
    e->args.push_back(std::move(a));
    e->args.push_back(std::move(b));
    return e;
  };
  // Dates.
  if (ta.id == TypeId::kDate || tb.id == TypeId::kDate) {
    if (ta.id == TypeId::kDate && IsIntegerType(tb.id) && (op == Op::kAdd || op == Op::kSub)) {
      return make(DataType::Date());
    }
    if (tb.id == TypeId::kDate && IsIntegerType(ta.id) && op == Op::kAdd)
      return make(DataType::Date());
    if (ta.id == TypeId::kDate && tb.id == TypeId::kDate && op == Op::kSub) {
      return make(DataType::Int64());
    }
  }
  if (!IsNumericType(ta.id) || !IsNumericType(tb.id)) {
    return Error(n.pos,
                 "operator " + n.op + " cannot combine " + ta.ToString() + " and " + tb.ToString());
  }
  if (ta.id == TypeId::kFloat64 || tb.id == TypeId::kFloat64) {
    ASSIGN_OR_RETURN(a, Coerce(std::move(a), DataType::Float64()));
    ASSIGN_OR_RETURN(b, Coerce(std::move(b), DataType::Float64()));
    return make(DataType::Float64());
  }
  if (IsIntegerType(ta.id) && IsIntegerType(tb.id)) {
    DataType t =
        ta.id == TypeId::kInt64 || tb.id == TypeId::kInt64 ? DataType::Int64() : DataType::Int32();
    return make(t);
  }
  // An integer literal counts as the narrowest decimal holding it, so
  // `price * 2` stays decimal(p+1, s) rather than decimal(p+10, s).
  auto as_decimal = [](const Expr& e) {
    if (e.IsConst() && !e.value.null && IsIntegerType(e.type.id)) {
      int digits = 1;
      for (int64_t v = e.value.i / 10; v != 0; v /= 10) ++digits;
      return DataType::Decimal(digits, 0);
    }
    return AsDecimal(e.type);
  };
  DataType da = as_decimal(*a), db = as_decimal(*b);
  int s1 = da.scale, s2 = db.scale, p1 = da.precision, p2 = db.precision;
  int whole = std::max(p1 - s1, p2 - s2);
  switch (op) {
    case Op::kAdd:
    case Op::kSub:
    case Op::kMod: {
      int s = std::max(s1, s2);
      DataType t = CappedDecimal(whole + s + (op == Op::kMod ? 0 : 1), s);
      ASSIGN_OR_RETURN(a, Coerce(std::move(a), DataType::Decimal(t.precision, s)));
      ASSIGN_OR_RETURN(b, Coerce(std::move(b), DataType::Decimal(t.precision, s)));
      return make(t);
    }
    case Op::kMul: {
      int s = s1 + s2;
      if (s > kMaxDecimalPrecision) {
        return Error(n.pos, "the product of " + ta.ToString() + " and " + tb.ToString() +
                                " needs " + std::to_string(s) +
                                " fraction digits (at most 18); cast an operand to a smaller "
                                "scale or to float64");
      }
      ASSIGN_OR_RETURN(a, Coerce(std::move(a), da));
      ASSIGN_OR_RETURN(b, Coerce(std::move(b), db));
      return make(CappedDecimal(std::max(p1 + p2, s + 1), s));
    }
    default: {  // kDiv
      int s = std::max({s1, s2, 6});
      ASSIGN_OR_RETURN(a, Coerce(std::move(a), da));
      ASSIGN_OR_RETURN(b, Coerce(std::move(b), db));
      return make(DataType::Decimal(kMaxDecimalPrecision, s));
    }
  }
}

Result<ExprPtr> Binder::BindBinary(const Node& n) {
  ASSIGN_OR_RETURN(ExprPtr a, Bind(*n.args[0]));
  ASSIGN_OR_RETURN(ExprPtr b, Bind(*n.args[1]));
  const std::string& op = n.op;
  if (op == "AND" || op == "OR") {
    RETURN_IF_ERROR(RequireBool(*a, op));
    RETURN_IF_ERROR(RequireBool(*b, op));
    ASSIGN_OR_RETURN(a, Coerce(std::move(a), DataType::Bool()));
    ASSIGN_OR_RETURN(b, Coerce(std::move(b), DataType::Bool()));
    auto e = MakeExpr(op == "AND" ? Op::kAnd : Op::kOr, DataType::Bool(), n.pos);
    e->args.push_back(std::move(a));
    e->args.push_back(std::move(b));
    return e;
  }
  if (op == "||") {
    // Concatenation: any value as its text; NULL in either side gives NULL.
    ASSIGN_OR_RETURN(a, Coerce(std::move(a), DataType::String()));
    ASSIGN_OR_RETURN(b, Coerce(std::move(b), DataType::String()));
    auto e = MakeExpr(Op::kCall, DataType::String(), n.pos);
    e->fn = FindFunction("concat_strict");
    e->args.push_back(std::move(a));
    e->args.push_back(std::move(b));
    return e;
  }
  static const std::pair<const char*, Op> kOps[] = {
      {"+", Op::kAdd}, {"-", Op::kSub}, {"*", Op::kMul}, {"/", Op::kDiv},
      {"%", Op::kMod}, {"=", Op::kEq},  {"<>", Op::kNe}, {"<", Op::kLt},
      {"<=", Op::kLe}, {">", Op::kGt},  {">=", Op::kGe},
  };
  for (const auto& [name, o] : kOps) {
    if (op != name) continue;
    if (o >= Op::kEq) return BindCompare(o, n.pos, std::move(a), std::move(b));
    return BindArith(o, n, std::move(a), std::move(b));
  }
  return Error(n.pos, "unknown operator " + op);
}

Result<ExprPtr> Binder::BindIn(const Node& n) {
  std::vector<ExprPtr> items;
  for (const auto& arg : n.args) {
    ASSIGN_OR_RETURN(ExprPtr e, Bind(*arg));
    items.push_back(std::move(e));
  }
  std::vector<ExprPtr*> all;
  for (auto& e : items) all.push_back(&e);
  ASSIGN_OR_RETURN(DataType type, Unify(all, n.pos, "IN"));
  bool constant = true;
  for (size_t i = 1; i < items.size(); ++i) constant = constant && items[i]->IsConst();
  if (!constant) {
    // x IN (a, b) == x = a OR x = b (x is bound once per item).
    ExprPtr result;
    for (size_t i = 1; i < items.size(); ++i) {
      ASSIGN_OR_RETURN(ExprPtr x, Bind(*n.args[0]));
      ASSIGN_OR_RETURN(x, Coerce(std::move(x), type));
      auto eq = MakeExpr(Op::kEq, DataType::Bool(), n.pos);
      eq->args.push_back(std::move(x));
      eq->args.push_back(std::move(items[i]));
      if (!result) {
        result = std::move(eq);
      } else {
        auto o = MakeExpr(Op::kOr, DataType::Bool(), n.pos);
        o->args.push_back(std::move(result));
        o->args.push_back(std::move(eq));
        result = std::move(o);
      }
    }
    if (n.negated) {
      auto neg = MakeExpr(Op::kNot, DataType::Bool(), n.pos);
      neg->args.push_back(std::move(result));
      result = std::move(neg);
    }
    return result;
  }
  auto set = std::make_shared<InSet>();
  for (size_t i = 1; i < items.size(); ++i) {
    const Scalar& v = items[i]->value;
    if (v.null) {
      set->has_null = true;
      continue;
    }
    switch (PhysOf(type.id)) {
      case Phys::kBool:
      case Phys::kInt:
        set->ints.insert(v.i);
        break;
      case Phys::kFloat:
        set->floats.insert(v.f);
        break;
      case Phys::kString:
        if (set->strings.insert(v.s).second) set->string_list.push_back(v.s);
        break;
    }
  }
  auto e = MakeExpr(Op::kIn, DataType::Bool(), n.pos);
  e->negated = n.negated;
  e->args.push_back(std::move(items[0]));
  e->state = std::move(set);
  return e;
}

Result<ExprPtr> Binder::BindLike(const Node& n) {
  ASSIGN_OR_RETURN(ExprPtr a, Bind(*n.args[0]));
  ASSIGN_OR_RETURN(ExprPtr p, Bind(*n.args[1]));
  for (const ExprPtr* x : {&a, &p}) {
    if ((*x)->type.id != TypeId::kString && !((*x)->IsConst() && (*x)->value.null)) {
      return Error((*x)->pos, std::string(n.flag ? "ILIKE" : "LIKE") + " needs strings, got " +
                                  (*x)->type.ToString());
    }
  }
  auto e = MakeExpr(Op::kLike, DataType::Bool(), n.pos);
  e->negated = n.negated;
  e->ilike = n.flag;
  if (p->IsConst() && !p->value.null) {
    auto compiled = LikePattern::Compile(p->value.s, n.flag);
    if (!compiled.ok()) return Error(p->pos, compiled.status().message());
    e->state = std::make_shared<LikePattern>(std::move(*compiled));
  }
  e->args.push_back(std::move(a));
  e->args.push_back(std::move(p));
  return e;
}

Result<ExprPtr> Binder::BindCase(const Node& n) {
  size_t i = 0;
  auto e = MakeExpr(Op::kCase, DataType::String(), n.pos);
  size_t end = n.args.size() - (n.has_else ? 1 : 0);
  if (n.has_operand) ++i;
  std::vector<ExprPtr> values;
  for (; i + 1 < end; i += 2) {
    ExprPtr cond;
    if (n.has_operand) {
      ASSIGN_OR_RETURN(ExprPtr x, Bind(*n.args[0]));
      ASSIGN_OR_RETURN(ExprPtr w, Bind(*n.args[i]));
      ASSIGN_OR_RETURN(cond, BindCompare(Op::kEq, n.args[i]->pos, std::move(x), std::move(w)));
    } else {
      ASSIGN_OR_RETURN(cond, Bind(*n.args[i]));
      RETURN_IF_ERROR(RequireBool(*cond, "WHEN"));
      ASSIGN_OR_RETURN(cond, Coerce(std::move(cond), DataType::Bool()));
    }
    ASSIGN_OR_RETURN(ExprPtr v, Bind(*n.args[i + 1]));
    e->args.push_back(std::move(cond));
    e->args.push_back(std::move(v));
  }
  if (n.has_else) {
    ASSIGN_OR_RETURN(ExprPtr v, Bind(*n.args.back()));
    e->args.push_back(std::move(v));
    e->has_else = true;
  }
  std::vector<ExprPtr*> results;
  for (size_t k = 1; k < e->args.size(); k += 2) results.push_back(&e->args[k]);
  if (e->has_else) results.push_back(&e->args.back());
  ASSIGN_OR_RETURN(e->type, Unify(results, n.pos, "CASE branches"));
  return e;
}

Result<ExprPtr> Binder::BindCall(const Node& n) {
  if (IsAggregateName(n.name)) {
    return Error(n.pos, "aggregate function " + n.name +
                            "() is only allowed in an aggregate step or a sql step with GROUP BY");
  }
  for (const auto& a : n.args) {
    if (a->kind == NodeKind::kStar) return Error(a->pos, "'*' is only allowed in count(*)");
  }
  if (n.flag) return Error(n.pos, "DISTINCT is only allowed in aggregate functions");
  if (n.name == "coalesce" || n.name == "nullif") {
    size_t want_min = n.name == "coalesce" ? 1 : 2;
    if (n.args.size() < want_min || (n.name == "nullif" && n.args.size() != 2)) {
      return Error(n.pos, n.name == "coalesce" ? "coalesce() needs at least one argument"
                                               : "nullif() takes exactly 2 arguments");
    }
    if (n.name == "coalesce") {
      auto e = MakeExpr(Op::kCoalesce, DataType::String(), n.pos);
      for (const auto& a : n.args) {
        ASSIGN_OR_RETURN(ExprPtr x, Bind(*a));
        e->args.push_back(std::move(x));
      }
      std::vector<ExprPtr*> all;
      for (auto& x : e->args) all.push_back(&x);
      ASSIGN_OR_RETURN(e->type, Unify(all, n.pos, "coalesce"));
      return e;
    }
    // nullif(a, b) == CASE WHEN a = b THEN NULL ELSE a END
    ASSIGN_OR_RETURN(ExprPtr a1, Bind(*n.args[0]));
    ASSIGN_OR_RETURN(ExprPtr b, Bind(*n.args[1]));
    ASSIGN_OR_RETURN(ExprPtr cond, BindCompare(Op::kEq, n.pos, std::move(a1), std::move(b)));
    ASSIGN_OR_RETURN(ExprPtr a2, Bind(*n.args[0]));
    Scalar null;
    null.type = a2->type;
    auto e = MakeExpr(Op::kCase, a2->type, n.pos);
    e->has_else = true;
    e->args.push_back(std::move(cond));
    e->args.push_back(MakeConst(null, n.pos));
    e->args.push_back(std::move(a2));
    return e;
  }
  if (n.name == "mod") {
    // mod(a, b) is the % operator, with its typing.
    if (n.args.size() != 2) return Error(n.pos, "mod() takes 2 arguments (mod(number, number))");
    ASSIGN_OR_RETURN(ExprPtr a, Bind(*n.args[0]));
    ASSIGN_OR_RETURN(ExprPtr b, Bind(*n.args[1]));
    Node as_op;
    as_op.pos = n.pos;
    as_op.op = "%";
    return BindArith(Op::kMod, as_op, std::move(a), std::move(b));
  }
  const FunctionDef* fn = FindFunction(n.name);
  if (fn == nullptr) {
    std::string msg = "unknown function " + n.name + "()";
    std::string near = ClosestName(n.name, FunctionNames());
    if (!near.empty()) msg += " (did you mean " + near + "()?)";
    return Error(n.pos, msg);
  }
  int argc = static_cast<int>(n.args.size());
  if (argc < fn->min_args || (fn->max_args >= 0 && argc > fn->max_args)) {
    std::string want = fn->min_args == fn->max_args ? std::to_string(fn->min_args)
                       : fn->max_args < 0
                           ? "at least " + std::to_string(fn->min_args)
                           : std::to_string(fn->min_args) + " to " + std::to_string(fn->max_args);
    return Error(n.pos, n.name + "() takes " + want + " argument" + (want == "1" ? "" : "s") +
                            ", got " + std::to_string(argc) +
                            (fn->signature[0] ? std::string(" (") + fn->signature + ")" : ""));
  }
  auto e = MakeExpr(Op::kCall, DataType::String(), n.pos);
  e->fn = fn;
  e->sql = NodeToSql(n);
  for (const auto& a : n.args) {
    ASSIGN_OR_RETURN(ExprPtr x, Bind(*a));
    e->args.push_back(std::move(x));
  }
  FunctionBinder fb(e.get(), &src_);
  ASSIGN_OR_RETURN(e->type, fn->bind(fb));
  return e;
}

}  // namespace

Status FunctionBinder::CastArg(size_t i, const DataType& to) {
  ExprPtr& a = call_->args[i];
  if (a->type == to) return Status::OK();
  if (a->IsConst() && a->value.null) {
    a->type = to;
    a->value.type = to;
    return Status::OK();
  }
  if (!CanCast(a->type, to))
    return Error(static_cast<int>(i), "expected " + to.ToString() + ", got " + a->type.ToString());
  bool was_const = a->IsConst();
  std::string sql = a->sql;
  auto cast = MakeExpr(Op::kCast, to, a->pos);
  cast->sql = sql;
  cast->args.push_back(std::move(a));
  a = MaybeFold(std::move(cast));
  // A constant that does not convert would fail every row: say so now.
  if (was_const && !a->IsConst()) {
    return Error(static_cast<int>(i), "cannot convert " + sql + " to " + to.ToString());
  }
  return Status::OK();
}

Status FunctionBinder::Error(int i, std::string_view message) const {
  int pos = i < 0 ? call_->pos : call_->args[i]->pos;
  std::string msg = call_->fn->name + std::string("(): ");
  if (i >= 0) msg += "argument " + std::to_string(i + 1) + ": ";
  msg += message;
  if (call_->fn->signature[0]) msg += std::string(" (") + call_->fn->signature + ")";
  return ExprError(*src_, pos, msg);
}

std::string_view FunctionBinder::name() const { return call_->fn->name; }

bool IsAggregateName(std::string_view name) {
  for (auto a : kAggregates) {
    if (name == a) return true;
  }
  return false;
}

Result<DataType> CommonType(const DataType& a, const DataType& b) {
  if (a == b) return a;
  if (IsNumericType(a.id) && IsNumericType(b.id)) {
    if (a.id == TypeId::kFloat64 || b.id == TypeId::kFloat64) return DataType::Float64();
    if (IsIntegerType(a.id) && IsIntegerType(b.id)) return DataType::Int64();
    DataType da = AsDecimal(a), db = AsDecimal(b);
    int s = std::max(da.scale, db.scale);
    int whole = std::max(da.precision - da.scale, db.precision - db.scale);
    return CappedDecimal(whole + s, s);
  }
  bool a_time = a.id == TypeId::kDate || a.id == TypeId::kTimestamp;
  bool b_time = b.id == TypeId::kDate || b.id == TypeId::kTimestamp;
  if (a_time && b_time) return DataType::Timestamp();
  return Status::InvalidArgument(a.ToString() + " and " + b.ToString() +
                                 " have no common type; use CAST");
}

std::string Scalar::ToSql() const {
  if (null) return "NULL";
  switch (type.id) {
    case TypeId::kBool:
      return i ? "TRUE" : "FALSE";
    case TypeId::kInt32:
    case TypeId::kInt64:
      return std::to_string(i);
    case TypeId::kDecimal:
      return FormatDecimal(i, type.scale);
    case TypeId::kFloat64: {
      char buf[64];
      snprintf(buf, sizeof(buf), "%.17g", f);
      return buf;
    }
    case TypeId::kString: {
      std::string out = "'";
      for (char c : s) {
        out += c;
        if (c == '\'') out += '\'';
      }
      return out + "'";
    }
    case TypeId::kDate:
      return "DATE '" + FormatDate(static_cast<int32_t>(i)) + "'";
    case TypeId::kTimestamp:
      return "TIMESTAMP '" + FormatTimestamp(i) + "'";
  }
  return "NULL";
}

Result<ExprPtr> BindExpression(const Node& node, const Schema& schema, const SourceText& src,
                               const BindOptions& options) {
  Binder b(schema, src, options);
  return b.Bind(node);
}

Result<ExprPtr> CompileExpression(const SourceText& src, const Schema& schema,
                                  const BindOptions& options) {
  ASSIGN_OR_RETURN(NodePtr node, ParseExpression(src));
  return BindExpression(*node, schema, src, options);
}

}  // namespace sluice::expr
