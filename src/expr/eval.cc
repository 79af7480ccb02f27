// The vectorised evaluator: one kernel call per node and batch.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <iterator>
#include <limits>
#include <string>
#include <unordered_set>

#include "core/value_text.h"
#include "expr/expr.h"
#include "expr/like.h"
#include "expr/numeric.h"

namespace sluice::expr {
namespace {

Vec EvaluateIn(const Expr& e, const RecordBatch& batch, const Sel* sel, EvalContext* ctx);

// Rows of sel (or all n) where every Vec in vs is valid.
Sel ValidRows(const std::vector<const Vec*>& vs, int64_t n, const Sel* sel) {
  Sel out;
  out.reserve(sel ? sel->size() : n);
  ForRows(n, sel, [&](int64_t i) {
    for (const Vec* v : vs) {
      if (!v->IsValid(i)) return;
    }
    out.push_back(static_cast<uint32_t>(i));
  });
  return out;
}

bool AnyNulls(const std::vector<const Vec*>& vs) {
  for (const Vec* v : vs) {
    if (v->has_nulls()) return true;
  }
  return false;
}

// ---- arithmetic

bool Int32Range(int64_t v) {
  return v >= std::numeric_limits<int32_t>::min() && v <= std::numeric_limits<int32_t>::max();
}

// a (op) b on int64 values; false on overflow or division by zero (`why`
// tells which).
template <Op kOp>
inline bool IntOp(int64_t a, int64_t b, int64_t* r, const char** why) {
  if constexpr (kOp == Op::kAdd) {
    return !__builtin_add_overflow(a, b, r);
  } else if constexpr (kOp == Op::kSub) {
    return !__builtin_sub_overflow(a, b, r);
  } else if constexpr (kOp == Op::kMul) {
    return !__builtin_mul_overflow(a, b, r);
  } else if constexpr (kOp == Op::kDiv) {
    if (b == 0) {
      *why = "division by zero";
      return false;
    }
    if (a == std::numeric_limits<int64_t>::min() && b == -1) return false;
    *r = a / b;
    return true;
  } else {
    if (b == 0) {
      *why = "division by zero";
      return false;
    }
    *r = b == -1 ? 0 : a % b;
    return true;
  }
}

template <Op kOp, bool kAConst, bool kBConst>
void IntArith(const Vec& a, const Vec& b, const Sel* sel, Vec* out, const Expr& e,
              EvalContext* ctx) {
  const int64_t* pa = a.ints();
  const int64_t* pb = b.ints();
  int64_t* po = out->mutable_ints();
  const TypeId t = e.type.id;
  const bool check32 = t == TypeId::kInt32;
  const bool checkp = t == TypeId::kDecimal;
  const int prec = e.type.precision;
  bool any_bad = false;
  ForRows(out->size(), sel, [&](int64_t i) {
    int64_t r = 0;
    const char* why = nullptr;
    bool ok = IntOp<kOp>(pa[kAConst ? 0 : i], pb[kBConst ? 0 : i], &r, &why);
    po[i] = r;
    if (!ok || (check32 && !Int32Range(r)) || (checkp && !FitsPrecision(r, prec))) {
      any_bad = true;
    }
  });
  if (!any_bad) return;
  // Second pass only when something failed: word the errors.
  ForRows(out->size(), sel, [&](int64_t i) {
    int64_t r = 0;
    const char* why = nullptr;
    bool ok = IntOp<kOp>(pa[kAConst ? 0 : i], pb[kBConst ? 0 : i], &r, &why);
    if (ok && !(check32 && !Int32Range(r)) && !(checkp && !FitsPrecision(r, prec))) return;
    if (!out->IsValid(i)) return;
    out->SetNull(i);
    ctx->Fail(
        i, e,
        why != nullptr ? why : "numeric overflow (result does not fit " + e.type.ToString() + ")");
  });
}

template <Op kOp>
void IntArithDispatch(const Vec& a, const Vec& b, const Sel* sel, Vec* out, const Expr& e,
                      EvalContext* ctx) {
  if (a.is_const() && b.is_const()) {
    IntArith<kOp, true, true>(a, b, sel, out, e, ctx);
  } else if (a.is_const()) {
    IntArith<kOp, true, false>(a, b, sel, out, e, ctx);
  } else if (b.is_const()) {
    IntArith<kOp, false, true>(a, b, sel, out, e, ctx);
  } else {
    IntArith<kOp, false, false>(a, b, sel, out, e, ctx);
  }
}

void FloatArith(Op op, const Vec& a, const Vec& b, const Sel* sel, Vec* out, const Expr& e,
                EvalContext* ctx) {
  double* po = out->mutable_floats();
  ForRows(out->size(), sel, [&](int64_t i) {
    double x = a.Float(i), y = b.Float(i);
    switch (op) {
      case Op::kAdd:
        po[i] = x + y;
        break;
      case Op::kSub:
        po[i] = x - y;
        break;
      case Op::kMul:
        po[i] = x * y;
        break;
      case Op::kDiv:
      case Op::kMod:
        if (y == 0) {
          if (out->IsValid(i)) {
            out->SetNull(i);
            ctx->Fail(i, e, "division by zero");
          }
          return;
        }
        po[i] = op == Op::kDiv ? x / y : std::fmod(x, y);
        break;
      default:
        break;
    }
  });
}

// Decimal division: a (scale sa) / b (scale sb) at the result's scale,
// rounded half away from zero, through 128-bit intermediates.
void DecimalDivide(const Vec& a, const Vec& b, const Sel* sel, Vec* out, const Expr& e,
                   EvalContext* ctx) {
  int sa = a.type().id == TypeId::kDecimal ? a.type().scale : 0;
  int sb = b.type().id == TypeId::kDecimal ? b.type().scale : 0;
  int shift = e.type.scale + sb - sa;  // >= 0 by construction (binder)
  __int128 mul = 1;
  for (int k = 0; k < shift; ++k) mul *= 10;
  int64_t* po = out->mutable_ints();
  ForRows(out->size(), sel, [&](int64_t i) {
    int64_t y = b.Int(i);
    if (y == 0) {
      if (out->IsValid(i)) {
        out->SetNull(i);
        ctx->Fail(i, e, "division by zero");
      }
      return;
    }
    // A scaled dividend past 128 bits means |quotient| > 2^127 / 2^63: it
    // cannot fit int64 either.
    __int128 num = 0;
    bool overflow = __builtin_mul_overflow(static_cast<__int128>(a.Int(i)), mul, &num);
    __int128 q = 0;
    if (!overflow) {
      q = num / y;
      __int128 r = num % y;
      __int128 ar = r < 0 ? -r : r, ay = y < 0 ? -static_cast<__int128>(y) : y;
      if (2 * ar >= ay) q += ((num < 0) != (y < 0)) ? -1 : 1;
    }
    if (overflow || q > std::numeric_limits<int64_t>::max() ||
        q < std::numeric_limits<int64_t>::min() ||
        !FitsPrecision(static_cast<int64_t>(q), e.type.precision)) {
      if (out->IsValid(i)) {
        out->SetNull(i);
        ctx->Fail(i, e, "numeric overflow (result does not fit " + e.type.ToString() + ")");
      }
      return;
    }
    po[i] = static_cast<int64_t>(q);
  });
}

Vec Arith(const Expr& e, const Vec& a, const Vec& b, const Sel* sel, EvalContext* ctx) {
  Vec out = Vec::Make(e.type, a.size());
  out.AndValidity(a, sel);
  out.AndValidity(b, sel);
  if (e.type.id == TypeId::kFloat64) {
    FloatArith(e.op, a, b, sel, &out, e, ctx);
    return out;
  }
  if (e.type.id == TypeId::kDecimal && e.op == Op::kDiv) {
    DecimalDivide(a, b, sel, &out, e, ctx);
    return out;
  }
  switch (e.op) {
    case Op::kAdd:
      IntArithDispatch<Op::kAdd>(a, b, sel, &out, e, ctx);
      break;
    case Op::kSub:
      IntArithDispatch<Op::kSub>(a, b, sel, &out, e, ctx);
      break;
    case Op::kMul:
      IntArithDispatch<Op::kMul>(a, b, sel, &out, e, ctx);
      break;
    case Op::kDiv:
      IntArithDispatch<Op::kDiv>(a, b, sel, &out, e, ctx);
      break;
    default:
      IntArithDispatch<Op::kMod>(a, b, sel, &out, e, ctx);
      break;
  }
  return out;
}

Vec Negate(const Expr& e, const Vec& a, const Sel* sel, EvalContext* ctx) {
  Vec out = Vec::Make(e.type, a.size());
  out.AndValidity(a, sel);
  if (a.phys() == Phys::kFloat) {
    double* po = out.mutable_floats();
    ForRows(a.size(), sel, [&](int64_t i) { po[i] = -a.Float(i); });
    return out;
  }
  int64_t* po = out.mutable_ints();
  bool is32 = e.type.id == TypeId::kInt32;
  ForRows(a.size(), sel, [&](int64_t i) {
    int64_t x = a.Int(i);
    if (x == std::numeric_limits<int64_t>::min() || (is32 && !Int32Range(-x))) {
      if (out.IsValid(i)) {
        out.SetNull(i);
        ctx->Fail(i, e, "numeric overflow (result does not fit " + e.type.ToString() + ")");
      }
      return;
    }
    po[i] = -x;
  });
  return out;
}

// ---- comparison

template <typename Get, typename Cmp>
void CompareLoop(int64_t n, const Sel* sel, uint8_t* out, Get get, Cmp cmp) {
  ForRows(n, sel, [&](int64_t i) { out[i] = cmp(get(i)); });
}

inline int ThreeWay(std::string_view a, std::string_view b) { return a.compare(b); }

template <typename T>
inline int ThreeWay(T a, T b) {
  return (a > b) - (a < b);
}

inline bool Holds(Op op, int c) {
  switch (op) {
    case Op::kEq:
      return c == 0;
    case Op::kNe:
      return c != 0;
    case Op::kLt:
      return c < 0;
    case Op::kLe:
      return c <= 0;
    case Op::kGt:
      return c > 0;
    default:
      return c >= 0;
  }
}

template <Op kOp, bool kAConst, bool kBConst>
void CompareInts(const Vec& a, const Vec& b, const Sel* sel, uint8_t* out) {
  const int64_t* pa = a.ints();
  const int64_t* pb = b.ints();
  ForRows(a.size(), sel, [&](int64_t i) {
    int64_t x = pa[kAConst ? 0 : i], y = pb[kBConst ? 0 : i];
    if constexpr (kOp == Op::kEq) out[i] = x == y;
    if constexpr (kOp == Op::kNe) out[i] = x != y;
    if constexpr (kOp == Op::kLt) out[i] = x < y;
    if constexpr (kOp == Op::kLe) out[i] = x <= y;
    if constexpr (kOp == Op::kGt) out[i] = x > y;
    if constexpr (kOp == Op::kGe) out[i] = x >= y;
  });
}

template <Op kOp>
void CompareIntsDispatch(const Vec& a, const Vec& b, const Sel* sel, uint8_t* out) {
  if (b.is_const() && !a.is_const()) {
    CompareInts<kOp, false, true>(a, b, sel, out);
  } else if (a.is_const() && !b.is_const()) {
    CompareInts<kOp, true, false>(a, b, sel, out);
  } else if (a.is_const()) {
    CompareInts<kOp, true, true>(a, b, sel, out);
  } else {
    CompareInts<kOp, false, false>(a, b, sel, out);
  }
}

void CompareStrings(Op op, const Vec& a, const Vec& b, const Sel* sel, uint8_t* out) {
  if ((op == Op::kEq || op == Op::kNe) && b.is_const() && !a.is_const()) {
    // Column = 'literal': compare lengths first, then bytes.
    std::string_view k = b.Str(0);
    const uint32_t* off = a.offsets();
    const char* chars = a.chars();
    const uint32_t len = static_cast<uint32_t>(k.size());
    const bool eq = op == Op::kEq;
    ForRows(a.size(), sel, [&](int64_t i) {
      uint32_t s = off[i], l = off[i + 1] - s;
      bool same = l == len && (len == 0 || std::memcmp(chars + s, k.data(), len) == 0);
      out[i] = same == eq;
    });
    return;
  }
  ForRows(a.size(), sel, [&](int64_t i) { out[i] = Holds(op, ThreeWay(a.Str(i), b.Str(i))); });
}

Vec Compare(const Expr& e, const Vec& a, const Vec& b, const Sel* sel) {
  Vec out = Vec::Make(DataType::Bool(), a.size());
  out.AndValidity(a, sel);
  out.AndValidity(b, sel);
  uint8_t* po = out.mutable_bools();
  switch (a.phys()) {
    case Phys::kInt:
      switch (e.op) {
        case Op::kEq:
          CompareIntsDispatch<Op::kEq>(a, b, sel, po);
          break;
        case Op::kNe:
          CompareIntsDispatch<Op::kNe>(a, b, sel, po);
          break;
        case Op::kLt:
          CompareIntsDispatch<Op::kLt>(a, b, sel, po);
          break;
        case Op::kLe:
          CompareIntsDispatch<Op::kLe>(a, b, sel, po);
          break;
        case Op::kGt:
          CompareIntsDispatch<Op::kGt>(a, b, sel, po);
          break;
        default:
          CompareIntsDispatch<Op::kGe>(a, b, sel, po);
          break;
      }
      break;
    case Phys::kFloat:
      // SQL orders NaN above every number and equal to itself (as
      // PostgreSQL and DuckDB do), so sorting and grouping stay total.
      ForRows(a.size(), sel, [&](int64_t i) {
        double x = a.Float(i), y = b.Float(i);
        int c = std::isnan(x) ? (std::isnan(y) ? 0 : 1) : std::isnan(y) ? -1 : ThreeWay(x, y);
        po[i] = Holds(e.op, c);
      });
      break;
    case Phys::kBool:
      ForRows(a.size(), sel,
              [&](int64_t i) { po[i] = Holds(e.op, ThreeWay<int>(a.Bool(i), b.Bool(i))); });
      break;
    case Phys::kString:
      CompareStrings(e.op, a, b, sel, po);
      break;
  }
  return out;
}

// ---- selection helpers

Sel Subtract(const Sel& from, const Sel& remove) {
  Sel out;
  out.reserve(from.size());
  std::set_difference(from.begin(), from.end(), remove.begin(), remove.end(),
                      std::back_inserter(out));
  return out;
}

Sel AllRows(int64_t n, const Sel* sel) {
  if (sel != nullptr) return *sel;
  Sel out(n);
  for (int64_t i = 0; i < n; ++i) out[i] = static_cast<uint32_t>(i);
  return out;
}

// Copies row i of src into out (same type), or makes it null.
void CopyRow(const Vec& src, int64_t i, Vec* out) {
  if (!src.IsValid(i)) {
    out->SetNull(i);
    return;
  }
  switch (src.phys()) {
    case Phys::kBool:
      out->mutable_bools()[i] = src.Bool(i);
      break;
    case Phys::kInt:
      out->mutable_ints()[i] = src.Int(i);
      break;
    case Phys::kFloat:
      out->mutable_floats()[i] = src.Float(i);
      break;
    case Phys::kString:
      out->PutString(i, src.Str(i));
      break;
  }
}

// Builds the result of CASE/COALESCE: row i takes its value from
// branches[source[i]] (-1 = null).
Vec Gather(const DataType& type, int64_t n, const Sel* sel, const std::vector<Vec>& branches,
           const std::vector<int16_t>& source) {
  Vec out = Vec::Make(type, n);
  if (PhysOf(type.id) == Phys::kString) out.BeginStrings();
  ForRows(n, sel, [&](int64_t i) {
    int s = source[i];
    if (s < 0) {
      out.SetNull(i);
    } else {
      CopyRow(branches[s], i, &out);
    }
  });
  if (PhysOf(type.id) == Phys::kString) out.EndStrings();
  return out;
}

Vec EvaluateIn(const Expr& e, const RecordBatch& batch, const Sel* sel, EvalContext* ctx) {
  const int64_t n = batch.num_rows();
  const auto* set = static_cast<const InSet*>(e.state.get());
  Vec a = Evaluate(*e.args[0], batch, sel, ctx);
  Vec out = Vec::Make(DataType::Bool(), n);
  out.AndValidity(a, sel);
  uint8_t* po = out.mutable_bools();
  if (a.phys() == Phys::kString && set->string_list.size() <= 8) {
    // Short string lists: compare lengths, then bytes; no hashing.
    const auto& list = set->string_list;
    ForRows(n, sel, [&](int64_t i) {
      if (!a.IsValid(i)) return;
      std::string_view s = a.Str(i);
      bool found = false;
      for (const std::string& x : list) {
        if (x.size() == s.size() && (s.empty() || std::memcmp(x.data(), s.data(), s.size()) == 0)) {
          found = true;
          break;
        }
      }
      if (!found && set->has_null) {
        out.SetNull(i);
        return;
      }
      po[i] = found != e.negated;
    });
    return out;
  }
  ForRows(n, sel, [&](int64_t i) {
    if (!a.IsValid(i)) return;
    bool found = false;
    switch (a.phys()) {
      case Phys::kBool:
      case Phys::kInt:
        found = set->ints.count(a.phys() == Phys::kBool ? int64_t{a.Bool(i)} : a.Int(i)) > 0;
        break;
      case Phys::kFloat:
        found = set->floats.count(a.Float(i)) > 0;
        break;
      case Phys::kString:
        found = set->strings.find(a.Str(i)) != set->strings.end();
        break;
    }
    if (!found && set->has_null) {
      out.SetNull(i);  // x IN (.., NULL) is NULL when x is not found
      return;
    }
    po[i] = found != e.negated;
  });
  return out;
}

}  // namespace

Sel SelectTrue(const Vec& v, const Sel* sel) {
  Sel out;
  if (v.is_const()) {
    if (v.IsValid(0) && v.Bool(0)) return AllRows(v.size(), sel);
    return out;
  }
  const uint8_t* b = v.bools();
  const uint8_t* valid = v.valid();
  if (sel == nullptr) {
    int64_t n = v.size();
    out.resize(n);
    size_t k = 0;
    // Branch-free compaction.
    if (valid == nullptr) {
      for (int64_t i = 0; i < n; ++i) {
        out[k] = static_cast<uint32_t>(i);
        k += b[i];
      }
    } else {
      for (int64_t i = 0; i < n; ++i) {
        out[k] = static_cast<uint32_t>(i);
        k += b[i] & valid[i];
      }
    }
    out.resize(k);
    return out;
  }
  out.reserve(sel->size());
  for (uint32_t i : *sel) {
    if (b[i] && (valid == nullptr || valid[i])) out.push_back(i);
  }
  return out;
}

void EvalContext::Reset(int64_t n) {
  errors_.clear();
  failed_.clear();
  rows_ = n;
}

void EvalContext::Fail(int64_t row, const Expr& at, std::string_view message) {
  if (failed_.empty()) failed_.assign(std::max<int64_t>(rows_, row + 1), 0);
  if (failed_[row]) return;
  failed_[row] = 1;
  std::string msg(message);
  if (!at.sql.empty()) msg += " in '" + at.sql + "'";
  errors_.push_back({row, std::move(msg)});
}

namespace {

Vec EvaluateNode(const Expr& e, const RecordBatch& batch, const Sel* sel, EvalContext* ctx) {
  const int64_t n = batch.num_rows();
  switch (e.op) {
    case Op::kColumn:
      return Vec::FromColumn(batch.columns[e.column]);
    case Op::kConst: {
      const Scalar& s = e.value;
      if (s.null) return Vec::Null(e.type, n);
      switch (PhysOf(e.type.id)) {
        case Phys::kBool:
          return Vec::ConstBool(s.i != 0, n);
        case Phys::kInt:
          return Vec::ConstInt(e.type, s.i, n);
        case Phys::kFloat:
          return Vec::ConstFloat(s.f, n);
        case Phys::kString:
          return Vec::ConstString(s.s, n);
      }
      return Vec::Null(e.type, n);
    }
    case Op::kNeg: {
      Vec a = Evaluate(*e.args[0], batch, sel, ctx);
      return Negate(e, a, sel, ctx);
    }
    case Op::kNot: {
      Vec a = Evaluate(*e.args[0], batch, sel, ctx);
      Vec out = Vec::Make(DataType::Bool(), n);
      out.AndValidity(a, sel);
      uint8_t* po = out.mutable_bools();
      ForRows(n, sel, [&](int64_t i) { po[i] = !a.Bool(i); });
      return out;
    }
    case Op::kAdd:
    case Op::kSub:
    case Op::kMul:
    case Op::kDiv:
    case Op::kMod: {
      Vec a = Evaluate(*e.args[0], batch, sel, ctx);
      Vec b = Evaluate(*e.args[1], batch, sel, ctx);
      return Arith(e, a, b, sel, ctx);
    }
    case Op::kEq:
    case Op::kNe:
    case Op::kLt:
    case Op::kLe:
    case Op::kGt:
    case Op::kGe: {
      Vec a = Evaluate(*e.args[0], batch, sel, ctx);
      Vec b = Evaluate(*e.args[1], batch, sel, ctx);
      return Compare(e, a, b, sel);
    }
    case Op::kAnd:
    case Op::kOr: {
      // Three-valued logic; the right side is evaluated only on rows the
      // left side does not decide (FALSE for AND, TRUE for OR), so
      // `b <> 0 AND a / b > 1` never divides by zero.
      const bool is_and = e.op == Op::kAnd;
      Vec a = Evaluate(*e.args[0], batch, sel, ctx);
      Sel rest;
      ForRows(n, sel, [&](int64_t i) {
        if (!a.IsValid(i) || a.Bool(i) == is_and) rest.push_back(static_cast<uint32_t>(i));
      });
      Vec out = Vec::Make(DataType::Bool(), n);
      uint8_t* po = out.mutable_bools();
      ForRows(n, sel, [&](int64_t i) { po[i] = !is_and; });  // decided rows
      if (rest.empty()) return out;
      Vec b = Evaluate(*e.args[1], batch, &rest, ctx);
      for (uint32_t i : rest) {
        bool av = a.IsValid(i), bv = b.IsValid(i);
        bool bb = bv && b.Bool(i);
        if (bv && bb != is_and) {  // right side decides
          po[i] = !is_and;
        } else if (av && bv) {
          po[i] = is_and;  // both neutral: AND true, OR false
        } else {
          out.SetNull(i);
        }
      }
      return out;
    }
    case Op::kIsNull:
    case Op::kIsNotNull: {
      Vec a = Evaluate(*e.args[0], batch, sel, ctx);
      Vec out = Vec::Make(DataType::Bool(), n);
      uint8_t* po = out.mutable_bools();
      const bool want_null = e.op == Op::kIsNull;
      ForRows(n, sel, [&](int64_t i) { po[i] = a.IsValid(i) != want_null; });
      return out;
    }
    case Op::kIn:
      return EvaluateIn(e, batch, sel, ctx);
    case Op::kLike: {
      Vec a = Evaluate(*e.args[0], batch, sel, ctx);
      Vec p = Evaluate(*e.args[1], batch, sel, ctx);
      Vec out = Vec::Make(DataType::Bool(), n);
      out.AndValidity(a, sel);
      out.AndValidity(p, sel);
      uint8_t* po = out.mutable_bools();
      const auto* compiled = static_cast<const LikePattern*>(e.state.get());
      if (compiled != nullptr) {
        std::string scratch;  // ILIKE's folded copy, reused across rows
        ForRows(n, sel,
                [&](int64_t i) { po[i] = compiled->Matches(a.Str(i), &scratch) != e.negated; });
      } else {
        ForRows(n, sel, [&](int64_t i) {
          if (!out.IsValid(i)) return;
          auto pat = LikePattern::Compile(p.Str(i), e.ilike);
          if (!pat.ok()) {
            out.SetNull(i);
            ctx->Fail(i, e, pat.status().message());
            return;
          }
          std::string scratch;
          po[i] = pat->Matches(a.Str(i), &scratch) != e.negated;
        });
      }
      return out;
    }
    case Op::kCase: {
      size_t pairs = (e.args.size() - (e.has_else ? 1 : 0)) / 2;
      std::vector<Vec> branches;
      std::vector<int16_t> source(n, -1);
      Sel rest = AllRows(n, sel);
      for (size_t k = 0; k < pairs && !rest.empty(); ++k) {
        Vec cond = Evaluate(*e.args[2 * k], batch, &rest, ctx);
        Sel hit = SelectTrue(cond, &rest);
        if (hit.empty()) continue;
        branches.push_back(Evaluate(*e.args[2 * k + 1], batch, &hit, ctx));
        for (uint32_t i : hit) source[i] = static_cast<int16_t>(branches.size() - 1);
        rest = Subtract(rest, hit);
      }
      if (e.has_else && !rest.empty()) {
        branches.push_back(Evaluate(*e.args.back(), batch, &rest, ctx));
        for (uint32_t i : rest) source[i] = static_cast<int16_t>(branches.size() - 1);
      }
      return Gather(e.type, n, sel, branches, source);
    }
    case Op::kCoalesce: {
      std::vector<Vec> branches;
      std::vector<int16_t> source(n, -1);
      Sel rest = AllRows(n, sel);
      for (size_t k = 0; k < e.args.size() && !rest.empty(); ++k) {
        branches.push_back(Evaluate(*e.args[k], batch, &rest, ctx));
        const Vec& v = branches.back();
        Sel still;
        for (uint32_t i : rest) {
          if (v.IsValid(i)) {
            source[i] = static_cast<int16_t>(k);
          } else {
            still.push_back(i);
          }
        }
        rest = std::move(still);
      }
      return Gather(e.type, n, sel, branches, source);
    }
    case Op::kCast: {
      Vec a = Evaluate(*e.args[0], batch, sel, ctx);
      const DataType& from = a.type();
      // Casts that keep every value as it is only change the type.
      bool same_values = from == e.type ||
                         (from.id == TypeId::kInt32 && e.type.id == TypeId::kInt64) ||
                         (from.id == TypeId::kInt32 && e.type.id == TypeId::kDecimal &&
                          e.type.scale == 0 && e.type.precision >= 10);
      if (same_values) {
        a.set_type(e.type);
        return a;
      }
      return CastVec(a, e.type, sel, e, e.negated, ctx);
    }
    case Op::kCall: {
      std::vector<Vec> args;
      args.reserve(e.args.size());
      for (const auto& arg : e.args) args.push_back(Evaluate(*arg, batch, sel, ctx));
      Vec out = Vec::Make(e.type, n);
      if (!e.fn->strict) {
        e.fn->kernel(e, args, sel, &out, ctx);
        return out;
      }
      std::vector<const Vec*> ptrs;
      for (const auto& a : args) ptrs.push_back(&a);
      for (const Vec* a : ptrs) out.AndValidity(*a, sel);
      if (!AnyNulls(ptrs)) {
        e.fn->kernel(e, args, sel, &out, ctx);
      } else {
        Sel valid = ValidRows(ptrs, n, sel);
        e.fn->kernel(e, args, &valid, &out, ctx);
      }
      return out;
    }
  }
  return Vec::Null(e.type, n);
}

}  // namespace

Vec Evaluate(const Expr& e, const RecordBatch& batch, const Sel* sel, EvalContext* ctx) {
  Vec v = EvaluateNode(e, batch, sel, ctx);
  if (ctx == nullptr || !ctx->HasErrors()) return v;
  // A failed row's value is null at every node, so that no operator above it
  // turns it into a value again (`x AND false`, `x IS NULL`, coalesce, CASE):
  // operators rely on failed rows being null (a filter must not keep them).
  const int64_t n = batch.num_rows();
  const bool str = v.phys() == Phys::kString;
  Vec out = Vec::Make(v.type(), n);
  if (str) out.BeginStrings();
  ForRows(n, sel, [&](int64_t i) {
    if (ctx->RowFailed(i)) {
      out.SetNull(i);
    } else {
      CopyRow(v, i, &out);
    }
  });
  if (str) out.EndStrings();
  return out;
}

}  // namespace sluice::expr
