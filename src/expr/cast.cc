// CAST and TRY_CAST, on evaluation vectors.
//
//   string -> any type      the strict text parsers of core/value_text.h (no
//                           surrounding spaces; "1.5" is not an int)
//   any type -> string      the canonical text (core/cell_text.h)
//   between int32, int64, float64 and decimal(p,s)
//   bool -> numeric (true = 1); int32/int64 -> bool (0 = false, else true)
//   date <-> timestamp      a date is its midnight UTC; a timestamp becomes
//                           the UTC day it falls in
// Lost fraction digits are rounded half away from zero (numeric.h). A value
// that does not fit fails its row "cannot cast 'VALUE' to TYPE" (CAST) or
// becomes null (TRY_CAST).
#include <limits>
#include <string>

#include "core/cell_text.h"
#include "core/value_text.h"
#include "expr/expr.h"
#include "expr/numeric.h"

namespace sluice::expr {
namespace {

// Text of row i of v in the canonical spelling.
void AppendText(const Vec& v, int64_t i, std::string* out) {
  switch (v.type().id) {
    case TypeId::kBool:
      *out += v.Bool(i) ? "true" : "false";
      return;
    case TypeId::kInt32:
    case TypeId::kInt64:
      *out += std::to_string(v.Int(i));
      return;
    case TypeId::kDecimal:
      *out += FormatDecimal(v.Int(i), v.type().scale);
      return;
    case TypeId::kDate:
      *out += FormatDate(static_cast<int32_t>(v.Int(i)));
      return;
    case TypeId::kTimestamp:
      *out += FormatTimestamp(v.Int(i));
      return;
    case TypeId::kFloat64:
      *out += FormatFloat64(v.Float(i));
      return;
    case TypeId::kString:
      *out += v.Str(i);
      return;
  }
}

bool IntRange(int64_t v, TypeId to) {
  return to != TypeId::kInt32 ||
         (v >= std::numeric_limits<int32_t>::min() && v <= std::numeric_limits<int32_t>::max());
}

// Converts one valid value; false when it does not fit.
bool ToInt(const Vec& v, int64_t i, const DataType& to, int64_t* out) {
  const DataType& from = v.type();
  int64_t x = 0;
  switch (from.id) {
    case TypeId::kBool:
      x = v.Bool(i);
      break;
    case TypeId::kInt32:
    case TypeId::kInt64:
      x = v.Int(i);
      break;
    case TypeId::kDecimal:
      x = DivRound(v.Int(i), from.scale);
      break;
    case TypeId::kFloat64:
      if (!FloatToInt64(v.Float(i), &x)) return false;
      break;
    case TypeId::kString:
      if (to.id == TypeId::kInt32) {
        int32_t y;
        if (!ParseInt32(v.Str(i), &y)) return false;
        x = y;
      } else if (!ParseInt64(v.Str(i), &x)) {
        return false;
      }
      break;
    default:
      return false;
  }
  if (!IntRange(x, to.id)) return false;
  *out = x;
  return true;
}

bool ToDecimal(const Vec& v, int64_t i, const DataType& to, int64_t* out) {
  const DataType& from = v.type();
  int64_t x = 0;
  switch (from.id) {
    case TypeId::kBool:
      if (!Rescale(v.Bool(i), 0, to.scale, &x)) return false;
      break;
    case TypeId::kInt32:
    case TypeId::kInt64:
      if (!Rescale(v.Int(i), 0, to.scale, &x)) return false;
      break;
    case TypeId::kDecimal:
      if (!Rescale(v.Int(i), from.scale, to.scale, &x)) return false;
      break;
    case TypeId::kFloat64:
      return FloatToDecimal(v.Float(i), to.precision, to.scale, out);
    case TypeId::kString:
      return ParseDecimal(v.Str(i), to.precision, to.scale, out);
    default:
      return false;
  }
  if (!FitsPrecision(x, to.precision)) return false;
  *out = x;
  return true;
}

bool ToFloat(const Vec& v, int64_t i, double* out) {
  switch (v.type().id) {
    case TypeId::kBool:
      *out = v.Bool(i);
      return true;
    case TypeId::kInt32:
    case TypeId::kInt64:
      *out = static_cast<double>(v.Int(i));
      return true;
    case TypeId::kDecimal:
      *out = static_cast<double>(v.Int(i)) / static_cast<double>(Pow10(v.type().scale));
      return true;
    case TypeId::kFloat64:
      *out = v.Float(i);
      return true;
    case TypeId::kString:
      return ParseFloat64(v.Str(i), out);
    default:
      return false;
  }
}

bool ToBool(const Vec& v, int64_t i, uint8_t* out) {
  switch (v.type().id) {
    case TypeId::kBool:
      *out = v.Bool(i);
      return true;
    case TypeId::kInt32:
    case TypeId::kInt64:
      *out = v.Int(i) != 0;
      return true;
    case TypeId::kString: {
      bool b = false;
      if (!ParseBool(v.Str(i), &b)) return false;
      *out = b;
      return true;
    }
    default:
      return false;
  }
}

bool ToDate(const Vec& v, int64_t i, int64_t* out) {
  switch (v.type().id) {
    case TypeId::kDate:
      *out = v.Int(i);
      return true;
    case TypeId::kTimestamp:
      *out = FloorDiv(v.Int(i), kMicrosPerDay);
      return true;
    case TypeId::kString: {
      int32_t d;
      if (!ParseDate(v.Str(i), &d)) return false;
      *out = d;
      return true;
    }
    default:
      return false;
  }
}

bool ToTimestamp(const Vec& v, int64_t i, int64_t* out) {
  switch (v.type().id) {
    case TypeId::kTimestamp:
      *out = v.Int(i);
      return true;
    case TypeId::kDate:
      return !__builtin_mul_overflow(v.Int(i), kMicrosPerDay, out);
    case TypeId::kString:
      return ParseTimestamp(v.Str(i), out);
    default:
      return false;
  }
}

}  // namespace

bool CanCast(const DataType& from, const DataType& to) {
  if (from.id == to.id || from.id == TypeId::kString || to.id == TypeId::kString) return true;
  if (IsNumericType(from.id) && IsNumericType(to.id)) return true;
  if (from.id == TypeId::kBool) return IsNumericType(to.id);
  if (to.id == TypeId::kBool) return from.id == TypeId::kInt32 || from.id == TypeId::kInt64;
  bool from_time = from.id == TypeId::kDate || from.id == TypeId::kTimestamp;
  bool to_time = to.id == TypeId::kDate || to.id == TypeId::kTimestamp;
  return from_time && to_time;
}

Vec CastVec(const Vec& v, const DataType& to, const Sel* sel, const Expr& at, bool try_cast,
            EvalContext* ctx) {
  int64_t n = v.size();
  if (v.type() == to) {
    // Same type: a view would do, but Vec views are not copyable; rebuild
    // through the constant path when possible, else copy values.
    if (v.is_const()) return Vec::ConstFrom(v, 0, n);
  }
  Vec out = Vec::Make(to, n);
  out.AndValidity(v, sel);
  auto fail = [&](int64_t i) {
    out.SetNull(i);
    if (try_cast) return;
    std::string text;
    AppendText(v, i, &text);
    if (text.size() > 64) text = text.substr(0, 61) + "...";
    ctx->Fail(i, at, "cannot cast '" + text + "' to " + to.ToString());
  };
  auto valid = [&](int64_t i) { return v.IsValid(i); };
  // Converts every valid selected row with conv(row, &out[row]); a false
  // return fails the row.
  auto each = [&](auto* o, auto&& conv) {
    ForRows(n, sel, [&](int64_t i) {
      if (valid(i) && !conv(i, &o[i])) fail(i);
    });
  };
  switch (to.id) {
    case TypeId::kString: {
      out.BeginStrings();
      std::string text;
      ForRows(n, sel, [&](int64_t i) {
        if (!valid(i)) return;
        text.clear();
        AppendText(v, i, &text);
        out.PutString(i, text);
      });
      out.EndStrings();
      break;
    }
    case TypeId::kBool:
      each(out.mutable_bools(), [&](int64_t i, uint8_t* o) { return ToBool(v, i, o); });
      break;
    case TypeId::kInt32:
    case TypeId::kInt64:
      if (v.type().id == TypeId::kInt32 || v.type().id == TypeId::kInt64) {
        // Integer to integer: a copy with a range check, no per-row switch.
        each(out.mutable_ints(), [&](int64_t i, int64_t* o) {
          *o = v.Int(i);
          return IntRange(*o, to.id);
        });
      } else {
        each(out.mutable_ints(), [&](int64_t i, int64_t* o) { return ToInt(v, i, to, o); });
      }
      break;
    case TypeId::kDecimal:
      each(out.mutable_ints(), [&](int64_t i, int64_t* o) { return ToDecimal(v, i, to, o); });
      break;
    case TypeId::kFloat64:
      each(out.mutable_floats(), [&](int64_t i, double* o) { return ToFloat(v, i, o); });
      break;
    case TypeId::kDate:
      each(out.mutable_ints(), [&](int64_t i, int64_t* o) { return ToDate(v, i, o); });
      break;
    case TypeId::kTimestamp:
      each(out.mutable_ints(), [&](int64_t i, int64_t* o) { return ToTimestamp(v, i, o); });
      break;
  }
  return out;
}

}  // namespace sluice::expr
