#include "engine/table_where.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

#include "core/value_text.h"

namespace sluice::table_internal {
namespace {

struct TrBound {
  int64_t i = 0;
  double f = 0;
  std::string s;
};

enum class TrFit { kValue, kUnbounded, kImpossible };

__int128 TrPow10(int n) {
  __int128 p = 1;
  for (int k = 0; k < n; ++k) p *= 10;
  return p;
}

__int128 TrDivRound(__int128 x, __int128 d, bool up) {
  __int128 q = x / d;
  const __int128 r = x % d;
  if (r != 0 && ((r > 0) == up)) q += up ? 1 : -1;
  return q;
}

// The constant `v` (of type `t`, the type the comparison is made in)
// as a bound on a column of type `col`, rounded outwards (down for a lower
// bound, up for an upper one) where the column cannot hold it exactly.
// kUnbounded: the bound says nothing about the column; kImpossible: no
// value of the column satisfies it.
TrFit TrToColumn(const expr::Scalar& v, const DataType& t, const DataType& col, bool lower,
                 TrBound* out) {
  if (v.null) return TrFit::kImpossible;  // a comparison with NULL is never true
  switch (TrDomainOf(col.id)) {
    case TrDomain::kNone:
      return TrFit::kUnbounded;
    case TrDomain::kString:
      if (t.id != TypeId::kString) return TrFit::kUnbounded;
      out->s = v.s;
      return TrFit::kValue;
    case TrDomain::kFloat:
      if (t.id != TypeId::kFloat64 || std::isnan(v.f)) return TrFit::kUnbounded;
      out->f = v.f;
      return TrFit::kValue;
    case TrDomain::kInt:
      break;
  }
  const bool col_int = col.id == TypeId::kInt32 || col.id == TypeId::kInt64;
  const int col_scale = col.id == TypeId::kDecimal ? col.scale : 0;
  __int128 x = 0;
  if (col_int || col.id == TypeId::kDecimal) {
    if (t.id == TypeId::kInt32 || t.id == TypeId::kInt64) {
      x = static_cast<__int128>(v.i) * TrPow10(col_scale);
    } else if (t.id == TypeId::kDecimal) {
      const int ts = t.scale;
      x = ts >= col_scale ? TrDivRound(v.i, TrPow10(ts - col_scale), !lower)
                          : static_cast<__int128>(v.i) * TrPow10(col_scale - ts);
    } else if (t.id == TypeId::kFloat64) {
      const double scaled = v.f * static_cast<double>(TrPow10(col_scale));
      // Beyond 2^52 doubles skip integers; such a bound prunes nothing useful.
      if (!std::isfinite(scaled) || std::fabs(scaled) >= 4503599627370496.0) {
        return TrFit::kUnbounded;
      }
      x = static_cast<__int128>(lower ? std::floor(scaled) : std::ceil(scaled));
    } else {
      return TrFit::kUnbounded;
    }
  } else if (col.id == TypeId::kDate) {
    if (t.id == TypeId::kDate) {
      x = v.i;
    } else if (t.id == TypeId::kTimestamp) {
      // date <= ts  <=>  date <= floor(ts / day); for a lower bound the floor
      // is one day too early at most.
      x = TrDivRound(v.i, int64_t{86400} * 1000000, false);
    } else {
      return TrFit::kUnbounded;
    }
  } else if (col.id == TypeId::kTimestamp) {
    if (t.id != TypeId::kTimestamp) return TrFit::kUnbounded;
    x = v.i;
  } else {
    return TrFit::kUnbounded;
  }
  __int128 lo = std::numeric_limits<int64_t>::min(), hi = std::numeric_limits<int64_t>::max();
  if (col.id == TypeId::kInt32 || col.id == TypeId::kDate) {
    lo = std::numeric_limits<int32_t>::min();
    hi = std::numeric_limits<int32_t>::max();
  } else if (col.id == TypeId::kDecimal) {
    hi = TrPow10(col.precision) - 1;
    lo = -hi;
  }
  if (x < lo) return lower ? TrFit::kUnbounded : TrFit::kImpossible;
  if (x > hi) return lower ? TrFit::kImpossible : TrFit::kUnbounded;
  out->i = static_cast<int64_t>(x);
  return TrFit::kValue;
}

// The column a comparison side reads, when it is a column or an
// order-preserving widening of one (the binder's implicit casts), else null.
const expr::Expr* TrColumnSide(const expr::Expr& e) {
  if (e.op == expr::Op::kColumn) return &e;
  if (e.op != expr::Op::kCast || e.args.size() != 1 || e.args[0]->op != expr::Op::kColumn) {
    return nullptr;
  }
  const DataType& from = e.args[0]->type;
  const DataType& to = e.type;
  const bool from_int = from.id == TypeId::kInt32 || from.id == TypeId::kInt64;
  if (from_int &&
      (to.id == TypeId::kInt64 || to.id == TypeId::kDecimal || to.id == TypeId::kFloat64)) {
    return e.args[0].get();
  }
  if (from.id == TypeId::kDecimal && to.id == TypeId::kDecimal && to.scale >= from.scale) {
    return e.args[0].get();
  }
  if (from.id == TypeId::kDate && to.id == TypeId::kTimestamp) return e.args[0].get();
  return nullptr;
}

}  // namespace

TrDomain TrDomainOf(TypeId id) {
  switch (id) {
    case TypeId::kInt32:
    case TypeId::kInt64:
    case TypeId::kDecimal:
    case TypeId::kDate:
    case TypeId::kTimestamp:
      return TrDomain::kInt;
    case TypeId::kFloat64:
      return TrDomain::kFloat;
    case TypeId::kString:
      return TrDomain::kString;
    case TypeId::kBool:
      return TrDomain::kNone;  // two values: nothing worth pruning
  }
  return TrDomain::kNone;
}

void TrRangeBuilder::Add(const expr::Expr& e) {
  using expr::Op;
  if (impossible_) return;
  if (e.op == Op::kAnd) {
    for (const auto& a : e.args) Add(*a);
    return;
  }
  if (e.IsConst()) {
    if (e.value.null || (e.type.id == TypeId::kBool && e.value.i == 0)) impossible_ = true;
    return;
  }
  if (e.op == Op::kIn) {
    AddIn(e);
    return;
  }
  if (e.op < Op::kEq || e.op > Op::kGe || e.op == Op::kNe || e.args.size() != 2) return;
  const expr::Expr* col = TrColumnSide(*e.args[0]);
  const expr::Expr* cst = e.args[1].get();
  Op op = e.op;
  if (col == nullptr || !cst->IsConst()) {
    // constant op column: flip the comparison.
    col = TrColumnSide(*e.args[1]);
    cst = e.args[0].get();
    if (col == nullptr || !cst->IsConst()) return;
    if (op == Op::kLt)
      op = Op::kGt;
    else if (op == Op::kLe)
      op = Op::kGe;
    else if (op == Op::kGt)
      op = Op::kLt;
    else if (op == Op::kGe)
      op = Op::kLe;
  }
  const DataType& t = cst->type;
  const bool lo = op == Op::kEq || op == Op::kGt || op == Op::kGe;
  const bool hi = op == Op::kEq || op == Op::kLt || op == Op::kLe;
  if (lo) Bound(col->column, cst->value, t, true);
  if (hi) Bound(col->column, cst->value, t, false);
}

std::vector<TrRange> TrRangeBuilder::Take() {
  std::vector<TrRange> out;
  for (TrRange& r : ranges_) {
    if (r.has_lo || r.has_hi) out.push_back(std::move(r));
  }
  return out;
}

void TrRangeBuilder::AddIn(const expr::Expr& e) {
  if (e.negated || e.state == nullptr || e.args.empty()) return;
  const expr::Expr* col = TrColumnSide(*e.args[0]);
  if (col == nullptr) return;
  const auto* set = static_cast<const expr::InSet*>(e.state.get());
  const DataType& t = e.args[0]->type;
  expr::Scalar mn, mx;
  mn.type = mx.type = t;
  switch (expr::PhysOf(t.id)) {
    case expr::Phys::kBool:
      return;
    case expr::Phys::kInt:
      if (set->ints.empty()) break;
      mn.i = *std::min_element(set->ints.begin(), set->ints.end());
      mx.i = *std::max_element(set->ints.begin(), set->ints.end());
      mn.null = mx.null = false;
      break;
    case expr::Phys::kFloat:
      if (set->floats.empty()) break;
      for (double f : set->floats) {
        if (std::isnan(f)) return;
      }
      mn.f = *std::min_element(set->floats.begin(), set->floats.end());
      mx.f = *std::max_element(set->floats.begin(), set->floats.end());
      mn.null = mx.null = false;
      break;
    case expr::Phys::kString:
      if (set->string_list.empty()) break;
      mn.s = *std::min_element(set->string_list.begin(), set->string_list.end());
      mx.s = *std::max_element(set->string_list.begin(), set->string_list.end());
      mn.null = mx.null = false;
      break;
  }
  // `x IN (NULL)` (no value besides NULL) is never true: mn stays null.
  Bound(col->column, mn, t, true);
  Bound(col->column, mx, t, false);
}

void TrRangeBuilder::Bound(int field, const expr::Scalar& v, const DataType& t, bool lower) {
  if (field < 0 || field >= read_.num_fields()) return;
  const DataType& ct = read_.field(field).type;
  TrBound b;
  switch (TrToColumn(v, t, ct, lower, &b)) {
    case TrFit::kUnbounded:
      return;
    case TrFit::kImpossible:
      impossible_ = true;
      return;
    case TrFit::kValue:
      break;
  }
  TrRange& r = RangeOf(field);
  const TrDomain d = TrDomainOf(ct.id);
  if (lower) {
    if (!r.has_lo || (d == TrDomain::kInt && b.i > r.ilo) ||
        (d == TrDomain::kFloat && b.f > r.flo) || (d == TrDomain::kString && b.s > r.slo)) {
      r.ilo = b.i;
      r.flo = b.f;
      r.slo = std::move(b.s);
    }
    r.has_lo = true;
  } else {
    if (!r.has_hi || (d == TrDomain::kInt && b.i < r.ihi) ||
        (d == TrDomain::kFloat && b.f < r.fhi) || (d == TrDomain::kString && b.s < r.shi)) {
      r.ihi = b.i;
      r.fhi = b.f;
      r.shi = std::move(b.s);
    }
    r.has_hi = true;
  }
  if (r.has_lo && r.has_hi &&
      ((d == TrDomain::kInt && r.ilo > r.ihi) || (d == TrDomain::kFloat && r.flo > r.fhi) ||
       (d == TrDomain::kString && r.slo > r.shi))) {
    impossible_ = true;
  }
}

TrRange& TrRangeBuilder::RangeOf(int field) {
  for (TrRange& r : ranges_) {
    if (r.field == field) return r;
  }
  TrRange r;
  r.field = field;
  r.type = read_.field(field).type;
  ranges_.push_back(std::move(r));
  return ranges_.back();
}

std::string TrBoundText(const TrRange& r, bool lower) {
  const int64_t i = lower ? r.ilo : r.ihi;
  switch (r.type.id) {
    case TypeId::kInt32:
    case TypeId::kInt64:
      return std::to_string(i);
    case TypeId::kDecimal:
      return FormatDecimal(i, r.type.scale);
    case TypeId::kDate:
      return FormatDate(static_cast<int32_t>(i));
    case TypeId::kTimestamp:
      return FormatTimestamp(i);
    case TypeId::kFloat64: {
      char buf[64];
      auto res = std::to_chars(buf, buf + sizeof(buf), lower ? r.flo : r.fhi);
      return std::string(buf, res.ptr);
    }
    case TypeId::kString:
      return lower ? r.slo : r.shi;
    case TypeId::kBool:
      break;
  }
  return "";
}

bool TrInside(const TrRange& r, const StagedValue& v, std::string_view text) {
  switch (TrDomainOf(r.type.id)) {
    case TrDomain::kInt:
      return !((r.has_lo && v.i < r.ilo) || (r.has_hi && v.i > r.ihi));
    case TrDomain::kFloat:
      return !((r.has_lo && v.f < r.flo) || (r.has_hi && v.f > r.fhi));
    case TrDomain::kString:
      return !((r.has_lo && text < std::string_view(r.slo)) ||
               (r.has_hi && text > std::string_view(r.shi)));
    case TrDomain::kNone:
      break;
  }
  return true;
}

void TrCollectColumns(const expr::Expr& e, std::vector<bool>* used) {
  if (e.op == expr::Op::kColumn && e.column >= 0 && e.column < static_cast<int>(used->size())) {
    (*used)[e.column] = true;
  }
  for (const auto& a : e.args) TrCollectColumns(*a, used);
}

}  // namespace sluice::table_internal
