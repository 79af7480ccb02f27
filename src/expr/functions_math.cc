// Math functions.
//
//   abs(x), sign(x)       abs keeps x's type (abs of the smallest integer is a
//                         row error); sign is int32 -1/0/1 (DuckDB; 0 for NaN;
//                         PostgreSQL returns x's type).
//   round(x[, d])         half away from zero for every type (PostgreSQL
//                         rounds float64 half to even). decimal(p,s) ->
//                         decimal(p, min(s, d)); d must then be a constant;
//                         d < 0 rounds to tens, hundreds, ... and gives
//                         decimal(p+1, 0) (one more digit: 999 -> 1000).
//                         float64: the digits a reader sees decide (2.675
//                         -> 2.68, as for CAST to decimal). Integers: d >= 0
//                         is the identity, d < 0 rounds to a power of ten.
//   floor(x), ceil(x)     decimal(p,s) -> decimal(p,0), float64 -> float64,
//                         integers unchanged. ceiling is an alias.
//   mod(a, b)             bound by binder.cc as the % operator: the common numeric type,
//                         the dividend's sign, division by zero a row error.
//   greatest/least(...)   the arguments in their common type; NULLs are
//                         ignored (PostgreSQL), NULL only when all are; NaN is
//                         greater than every number.
//   sqrt, power/pow, exp, ln, log10, log2
//                         float64; domain errors (sqrt or log of a negative
//                         number, log of zero, zero to a negative power, a
//                         negative number to a fractional power, a finite
//                         result too large for float64) fail the row; NaN
//                         stays NaN.
#include <cmath>
#include <limits>
#include <optional>
#include <string>

#include "core/value_text.h"
#include "expr/functions.h"
#include "expr/numeric.h"

namespace sluice::expr {
namespace {

// Argument i must be a number; a NULL literal becomes `null_type`.
Status ArgIsNumber(FunctionBinder& b, size_t i, const DataType& null_type) {
  const Scalar* c = b.constant(i);
  if (c != nullptr && c->null && !IsNumericType(b.type(i).id)) return b.CastArg(i, null_type);
  if (IsNumericType(b.type(i).id)) return Status::OK();
  return b.Error(static_cast<int>(i), "expected a number, got " + b.type(i).ToString());
}

void Overflow(int64_t i, const Expr& call, Vec* out, EvalContext* ctx) {
  out->SetNull(i);
  ctx->Fail(i, call, "numeric overflow (result does not fit " + call.type.ToString() + ")");
}

bool FitsType(int64_t v, const DataType& t) {
  if (t.id == TypeId::kInt32) {
    return v >= std::numeric_limits<int32_t>::min() && v <= std::numeric_limits<int32_t>::max();
  }
  if (t.id == TypeId::kDecimal) return FitsPrecision(v, t.precision);
  return true;
}

// ---- abs, sign

Result<DataType> BindSameNumber(FunctionBinder& b) {
  RETURN_IF_ERROR(ArgIsNumber(b, 0, DataType::Int64()));
  return b.type(0);
}

void AbsKernel(const Expr& call, const std::vector<Vec>& args, const Sel* sel, Vec* out,
               EvalContext* ctx) {
  const Vec& x = args[0];
  if (x.phys() == Phys::kFloat) {
    double* o = out->mutable_floats();
    ForRows(out->size(), sel, [&](int64_t i) { o[i] = std::fabs(x.Float(i)); });
    return;
  }
  int64_t* o = out->mutable_ints();
  ForRows(out->size(), sel, [&](int64_t i) {
    int64_t v = x.Int(i);
    if (v == std::numeric_limits<int64_t>::min() || !FitsType(v < 0 ? -v : v, call.type)) {
      Overflow(i, call, out, ctx);
      return;
    }
    o[i] = v < 0 ? -v : v;
  });
}

Result<DataType> BindSign(FunctionBinder& b) {
  RETURN_IF_ERROR(ArgIsNumber(b, 0, DataType::Int64()));
  return DataType::Int32();
}

void SignKernel(const Expr&, const std::vector<Vec>& args, const Sel* sel, Vec* out, EvalContext*) {
  const Vec& x = args[0];
  int64_t* o = out->mutable_ints();
  if (x.phys() == Phys::kFloat) {
    ForRows(out->size(), sel, [&](int64_t i) {
      double v = x.Float(i);
      o[i] = (v > 0) - (v < 0);
    });
    return;
  }
  ForRows(out->size(), sel, [&](int64_t i) {
    int64_t v = x.Int(i);
    o[i] = (v > 0) - (v < 0);
  });
}

// ---- round, floor, ceil

struct RoundState {
  int64_t digits;
};

Result<DataType> BindRound(FunctionBinder& b) {
  RETURN_IF_ERROR(ArgIsNumber(b, 0, DataType::Float64()));
  if (b.argc() < 2) {
    const DataType& t = b.type(0);
    if (t.id == TypeId::kDecimal) return DataType::Decimal(t.precision, 0);
    return t;
  }
  RETURN_IF_ERROR(ArgIsInteger(b, 1));
  const DataType t = b.type(0);
  if (t.id != TypeId::kDecimal) return t;
  const Scalar* d = b.constant(1);
  if (d == nullptr) {
    return b.Error(1, "the number of digits must be a constant when rounding a decimal");
  }
  if (d->null) return t;
  b.SetState(std::make_shared<const RoundState>(RoundState{d->i}));
  if (d->i >= t.scale) return t;
  if (d->i >= 0) return DataType::Decimal(t.precision, static_cast<int>(d->i));
  return DataType::Decimal(std::min(t.precision + 1, kMaxDecimalPrecision), 0);
}

// x rounded to `d` fraction digits, half away from zero.
double RoundFloat(double x, int64_t d) {
  if (!std::isfinite(x)) return x;
  if (d == 0) return std::round(x);
  if (d > 0) {
    int64_t u;
    if (d <= 15 && FloatToDecimal(x, 18, static_cast<int>(d), &u)) {
      return static_cast<double>(u) / static_cast<double>(Pow10(static_cast<int>(d)));
    }
    if (d > 308) return x;
    double m = std::pow(10.0, static_cast<double>(d));
    double y = x * m;
    return std::isfinite(y) ? std::round(y) / m : x;
  }
  if (d < -308) return 0.0 * x;
  double m = std::pow(10.0, static_cast<double>(-d));
  return std::round(x / m) * m;
}

// v (at `scale` digits) rounded to d digits, at max(d, 0) digits; false on
// overflow.
bool RoundScaled(int64_t v, int scale, int64_t d, int64_t* out) {
  if (d >= scale) {
    *out = v;
    return true;
  }
  int64_t k = scale - d;  // digits dropped
  if (k > 18) {
    *out = 0;
    return true;
  }
  int64_t r = DivRound(v, static_cast<int>(k));
  if (d >= 0) {
    *out = r;
    return true;
  }
  return !__builtin_mul_overflow(r, Pow10(static_cast<int>(-d)), out);
}

void RoundKernel(const Expr& call, const std::vector<Vec>& args, const Sel* sel, Vec* out,
                 EvalContext* ctx) {
  const Vec& x = args[0];
  const bool has_digits = args.size() > 1;
  if (x.phys() == Phys::kFloat) {
    double* o = out->mutable_floats();
    ForRows(out->size(), sel,
            [&](int64_t i) { o[i] = RoundFloat(x.Float(i), has_digits ? args[1].Int(i) : 0); });
    return;
  }
  int64_t* o = out->mutable_ints();
  const int scale = x.type().id == TypeId::kDecimal ? x.type().scale : 0;
  const auto* st = static_cast<const RoundState*>(call.state.get());
  ForRows(out->size(), sel, [&](int64_t i) {
    int64_t d = st != nullptr ? st->digits : has_digits ? args[1].Int(i) : 0;
    if (!RoundScaled(x.Int(i), scale, d, &o[i]) || !FitsType(o[i], call.type)) {
      Overflow(i, call, out, ctx);
    }
  });
}

Result<DataType> BindFloorCeil(FunctionBinder& b) {
  RETURN_IF_ERROR(ArgIsNumber(b, 0, DataType::Float64()));
  const DataType& t = b.type(0);
  if (t.id == TypeId::kDecimal) return DataType::Decimal(t.precision, 0);
  return t;
}

template <bool kCeil>
void FloorCeilKernel(const Expr&, const std::vector<Vec>& args, const Sel* sel, Vec* out,
                     EvalContext*) {
  const Vec& x = args[0];
  if (x.phys() == Phys::kFloat) {
    double* o = out->mutable_floats();
    ForRows(out->size(), sel,
            [&](int64_t i) { o[i] = kCeil ? std::ceil(x.Float(i)) : std::floor(x.Float(i)); });
    return;
  }
  int64_t* o = out->mutable_ints();
  const int64_t unit = x.type().id == TypeId::kDecimal ? Pow10(x.type().scale) : 1;
  ForRows(out->size(), sel, [&](int64_t i) {
    int64_t v = x.Int(i);
    if (unit == 1) {
      o[i] = v;
    } else {
      // -v cannot overflow: |v| < 10^18.
      o[i] = kCeil ? -FloorDiv(-v, unit) : FloorDiv(v, unit);
    }
  });
}

// ---- greatest, least

Result<DataType> BindGreatestLeast(FunctionBinder& b) {
  // Typed arguments decide; NULL and string literals adapt (as comparisons do).
  std::optional<DataType> type;
  for (size_t i = 0; i < b.argc(); ++i) {
    const Scalar* c = b.constant(i);
    if (c != nullptr && (c->null || b.type(i).id == TypeId::kString)) continue;
    if (!type) {
      type = b.type(i);
      continue;
    }
    auto common = CommonType(*type, b.type(i));
    if (!common.ok()) return b.Error(static_cast<int>(i), common.status().message());
    type = *common;
  }
  if (!type) {
    type = DataType::String();
    for (size_t i = 0; i < b.argc(); ++i) {
      if (!b.constant(i)->null) {
        type = b.type(i);
        break;
      }
    }
  }
  for (size_t i = 0; i < b.argc(); ++i) {
    const Scalar* c = b.constant(i);
    std::string text = c != nullptr && !c->null ? c->s : "";
    bool literal = c != nullptr && !c->null && b.type(i).id == TypeId::kString;
    RETURN_IF_ERROR(b.CastArg(i, *type));
    if (literal && b.constant(i) == nullptr) {
      return b.Error(static_cast<int>(i), "cannot convert '" + text + "' to " + type->ToString());
    }
  }
  return *type;
}

// a after b in the order (NaN after every number).
inline bool After(double a, double b) { return std::isnan(a) ? !std::isnan(b) : a > b; }

template <bool kGreatest>
void GreatestLeastKernel(const Expr&, const std::vector<Vec>& args, const Sel* sel, Vec* out,
                         EvalContext*) {
  const int64_t n = out->size();
  switch (out->phys()) {
    case Phys::kFloat: {
      double* o = out->mutable_floats();
      ForRows(n, sel, [&](int64_t i) {
        bool any = false;
        double best = 0;
        for (const Vec& a : args) {
          if (!a.IsValid(i)) continue;
          double v = a.Float(i);
          if (!any || (kGreatest ? After(v, best) : After(best, v))) best = v;
          any = true;
        }
        if (any) {
          o[i] = best;
        } else {
          out->SetNull(i);
        }
      });
      return;
    }
    case Phys::kString: {
      out->BeginStrings();
      ForRows(n, sel, [&](int64_t i) {
        const Vec* best = nullptr;
        for (const Vec& a : args) {
          if (!a.IsValid(i)) continue;
          if (best == nullptr || (kGreatest ? a.Str(i) > best->Str(i) : a.Str(i) < best->Str(i))) {
            best = &a;
          }
        }
        if (best != nullptr) {
          out->PutString(i, best->Str(i));
        } else {
          out->SetNull(i);
        }
      });
      out->EndStrings();
      return;
    }
    case Phys::kBool:
    case Phys::kInt: {
      const bool is_bool = out->phys() == Phys::kBool;
      int64_t* oi = is_bool ? nullptr : out->mutable_ints();
      uint8_t* ob = is_bool ? out->mutable_bools() : nullptr;
      ForRows(n, sel, [&](int64_t i) {
        bool any = false;
        int64_t best = 0;
        for (const Vec& a : args) {
          if (!a.IsValid(i)) continue;
          int64_t v = is_bool ? a.Bool(i) : a.Int(i);
          if (!any || (kGreatest ? v > best : v < best)) best = v;
          any = true;
        }
        if (!any) {
          out->SetNull(i);
        } else if (is_bool) {
          ob[i] = static_cast<uint8_t>(best);
        } else {
          oi[i] = best;
        }
      });
      return;
    }
  }
}

// ---- float functions

Result<DataType> BindFloats(FunctionBinder& b) {
  for (size_t i = 0; i < b.argc(); ++i) {
    RETURN_IF_ERROR(ArgIsNumber(b, i, DataType::Float64()));
    RETURN_IF_ERROR(b.CastArg(i, DataType::Float64()));
  }
  return DataType::Float64();
}

// Each returns the result, or sets *error.
double Sqrt(double x, const char** error) {
  if (x < 0) *error = "sqrt of a negative number";
  return std::sqrt(x);
}
double Exp(double x, const char**) { return std::exp(x); }
template <double (*kLog)(double)>
double Log(double x, const char** error) {
  if (x < 0) *error = "logarithm of a negative number";
  if (x == 0) *error = "logarithm of zero";
  return kLog(x);
}

template <double (*kFn)(double, const char**)>
void UnaryFloatKernel(const Expr& call, const std::vector<Vec>& args, const Sel* sel, Vec* out,
                      EvalContext* ctx) {
  double* o = out->mutable_floats();
  ForRows(out->size(), sel, [&](int64_t i) {
    const char* error = nullptr;
    double x = args[0].Float(i);
    double r = kFn(x, &error);
    if (error == nullptr && std::isinf(r) && std::isfinite(x))
      error = "value out of range: overflow";
    if (error != nullptr) {
      out->SetNull(i);
      ctx->Fail(i, call, error);
      return;
    }
    o[i] = r;
  });
}

void PowerKernel(const Expr& call, const std::vector<Vec>& args, const Sel* sel, Vec* out,
                 EvalContext* ctx) {
  double* o = out->mutable_floats();
  ForRows(out->size(), sel, [&](int64_t i) {
    double x = args[0].Float(i), y = args[1].Float(i);
    const char* error = nullptr;
    double r = std::pow(x, y);
    if (x == 0 && y < 0) {
      error = "zero raised to a negative power is undefined";
    } else if (x < 0 && std::isfinite(y) && std::trunc(y) != y) {
      error = "a negative number raised to a non-integer power";
    } else if (std::isinf(r) && std::isfinite(x) && std::isfinite(y)) {
      error = "value out of range: overflow";
    }
    if (error != nullptr) {
      out->SetNull(i);
      ctx->Fail(i, call, error);
      return;
    }
    o[i] = r;
  });
}

}  // namespace

void AddMathFunctions(std::vector<FunctionDef>* out) {
  out->push_back({"abs", 1, 1, BindSameNumber, AbsKernel, true, "abs(number)"});
  out->push_back({"sign", 1, 1, BindSign, SignKernel, true, "sign(number)"});
  out->push_back({"round", 1, 2, BindRound, RoundKernel, true, "round(number[, digits])"});
  out->push_back({"floor", 1, 1, BindFloorCeil, FloorCeilKernel<false>, true, "floor(number)"});
  out->push_back({"ceil", 1, 1, BindFloorCeil, FloorCeilKernel<true>, true, "ceil(number)"});
  out->push_back({"ceiling", 1, 1, BindFloorCeil, FloorCeilKernel<true>, true, "ceiling(number)"});
  out->push_back({"greatest", 1, -1, BindGreatestLeast, GreatestLeastKernel<true>, false,
                  "greatest(value, ...)"});
  out->push_back(
      {"least", 1, -1, BindGreatestLeast, GreatestLeastKernel<false>, false, "least(value, ...)"});
  out->push_back({"sqrt", 1, 1, BindFloats, UnaryFloatKernel<Sqrt>, true, "sqrt(number)"});
  out->push_back({"exp", 1, 1, BindFloats, UnaryFloatKernel<Exp>, true, "exp(number)"});
  out->push_back({"ln", 1, 1, BindFloats,
                  UnaryFloatKernel<Log<static_cast<double (*)(double)>(std::log)>>, true,
                  "ln(number)"});
  out->push_back({"log10", 1, 1, BindFloats,
                  UnaryFloatKernel<Log<static_cast<double (*)(double)>(std::log10)>>, true,
                  "log10(number)"});
  out->push_back({"log2", 1, 1, BindFloats,
                  UnaryFloatKernel<Log<static_cast<double (*)(double)>(std::log2)>>, true,
                  "log2(number)"});
  out->push_back({"power", 2, 2, BindFloats, PowerKernel, true, "power(base, exponent)"});
  out->push_back({"pow", 2, 2, BindFloats, PowerKernel, true, "pow(base, exponent)"});
}

}  // namespace sluice::expr
