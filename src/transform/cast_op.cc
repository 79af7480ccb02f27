// cast: converts columns to other types.
//
//   - cast: { quantity: int32, amount: decimal(12,2), day: date }
//
// Supported conversions (anything else is an error when the spec is checked):
//   string -> any type      with the strict text parsers of core/value_text.h
//                           (no surrounding spaces; "1.5" is not an int)
//   any type -> string      the canonical text (see core/cell_text.h)
//   between int32, int64, float64 and decimal(p,s)
//   bool -> int32/int64/float64/decimal (true = 1) and int32/int64 -> bool
//                           (0 = false, anything else = true, as in SQL)
//   date <-> timestamp      a date is its midnight UTC; a timestamp becomes the
//                           UTC day it falls in (earlier times are truncated)
// Rounding: whenever a value loses fraction digits (float64 or decimal to an
// integer, decimal to a smaller scale, float64 to decimal) it is rounded half
// away from zero: 2.5 -> 3, -2.5 -> -3, 1.005 -> decimal(4,2) 1.01 (a float64
// is rounded from its shortest text form, so the written digits count).
// A value that does not fit the target (out of range, too many digits for the
// decimal's precision, unparseable text, NaN or infinity to a non-float)
// makes its row a bad record: "cannot cast 'VALUE' to TYPE", naming the
// column; the row leaves the batch. Nulls stay null.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

#include "core/cell_text.h"
#include "core/value_text.h"
#include "transform/ops.h"
#include "transform/step_args.h"

namespace sluice {
namespace {

constexpr int64_t kMicrosPerDay = 86400LL * 1000 * 1000;

bool FitsPrecision(int64_t v, int precision) {
  int64_t limit = Pow10(precision);
  return v > -limit && v < limit;
}

// Divides by 10^k rounding half away from zero.
int64_t DivRound(int64_t v, int k) {
  if (k == 0) return v;
  int64_t d = Pow10(k);
  int64_t q = v / d, r = v % d;
  // |r| >= d/2 without overflow: compare |r| against d - |r|.
  int64_t ar = r < 0 ? -r : r;
  if (ar >= d - ar) q += v < 0 ? -1 : 1;
  return q;
}

bool Rescale(int64_t v, int from_scale, int to_scale, int64_t* out) {
  if (to_scale >= from_scale) {
    return !__builtin_mul_overflow(v, Pow10(to_scale - from_scale), out);
  }
  *out = DivRound(v, from_scale - to_scale);
  return true;
}

bool FloatToInt64(double d, int64_t* out) {
  if (!std::isfinite(d)) return false;
  double r = std::round(d);  // half away from zero
  // 2^63 is exactly representable; anything at or past it does not fit.
  if (r < -9223372036854775808.0 || r >= 9223372036854775808.0) return false;
  *out = static_cast<int64_t>(r);
  return true;
}

// Rounds the shortest decimal text of `d` to `scale` digits: the digits the
// user sees decide the rounding, not the binary value's expansion.
bool FloatToDecimal(double d, int precision, int scale, int64_t* out) {
  if (!std::isfinite(d) || std::fabs(d) >= 1e19) return false;
  char buf[512];
  auto res = std::to_chars(buf, buf + sizeof(buf), d, std::chars_format::fixed);
  if (res.ec != std::errc()) return false;
  std::string_view s(buf, res.ptr - buf);
  bool neg = false;
  if (!s.empty() && s[0] == '-') {
    neg = true;
    s.remove_prefix(1);
  }
  size_t dot = s.find('.');
  std::string_view ip = s.substr(0, dot);
  std::string_view fp = dot == std::string_view::npos ? std::string_view() : s.substr(dot + 1);
  int64_t v = 0;
  auto push = [&v](char c) {
    return !__builtin_mul_overflow(v, int64_t{10}, &v) &&
           !__builtin_add_overflow(v, int64_t{c - '0'}, &v);
  };
  for (char c : ip) {
    if (!push(c)) return false;
  }
  for (int i = 0; i < scale; ++i) {
    if (!push(i < static_cast<int>(fp.size()) ? fp[i] : '0')) return false;
  }
  if (static_cast<int>(fp.size()) > scale && fp[scale] >= '5') {
    if (__builtin_add_overflow(v, int64_t{1}, &v)) return false;
  }
  if (neg) v = -v;
  if (!FitsPrecision(v, precision)) return false;
  *out = v;
  return true;
}

bool IsNumeric(TypeId t) {
  return t == TypeId::kInt32 || t == TypeId::kInt64 || t == TypeId::kFloat64 ||
         t == TypeId::kDecimal;
}

bool CanCast(const DataType& from, const DataType& to) {
  if (from.id == to.id || from.id == TypeId::kString || to.id == TypeId::kString) return true;
  if (IsNumeric(from.id) && IsNumeric(to.id)) return true;
  if (from.id == TypeId::kBool) return IsNumeric(to.id);
  if (to.id == TypeId::kBool) return from.id == TypeId::kInt32 || from.id == TypeId::kInt64;
  bool from_time = from.id == TypeId::kDate || from.id == TypeId::kTimestamp;
  bool to_time = to.id == TypeId::kDate || to.id == TypeId::kTimestamp;
  return from_time && to_time;
}

// Reads a numeric cell (any type CanCast allows into a number) as an integer
// of type T, rounding fractions half away from zero.
template <typename T>
bool ToInteger(const Column& in, int64_t i, T* out) {
  int64_t v = 0;
  switch (in.type().id) {
    case TypeId::kBool:
      v = in.Value<uint8_t>(i);
      break;
    case TypeId::kInt32:
      v = in.Value<int32_t>(i);
      break;
    case TypeId::kInt64:
      v = in.Value<int64_t>(i);
      break;
    case TypeId::kFloat64:
      if (!FloatToInt64(in.Value<double>(i), &v)) return false;
      break;
    case TypeId::kDecimal:
      v = DivRound(in.Value<int64_t>(i), in.type().scale);
      break;
    case TypeId::kString: {
      if constexpr (sizeof(T) == 4) {
        return ParseInt32(in.GetString(i), out);
      } else {
        return ParseInt64(in.GetString(i), out);
      }
    }
    default:
      return false;
  }
  if (v < std::numeric_limits<T>::min() || v > std::numeric_limits<T>::max()) return false;
  *out = static_cast<T>(v);
  return true;
}

bool ToFloat64(const Column& in, int64_t i, double* out) {
  switch (in.type().id) {
    case TypeId::kBool:
      *out = in.Value<uint8_t>(i);
      return true;
    case TypeId::kInt32:
      *out = in.Value<int32_t>(i);
      return true;
    case TypeId::kInt64:
      *out = static_cast<double>(in.Value<int64_t>(i));
      return true;
    case TypeId::kFloat64:
      *out = in.Value<double>(i);
      return true;
    case TypeId::kDecimal:
      *out =
          static_cast<double>(in.Value<int64_t>(i)) / static_cast<double>(Pow10(in.type().scale));
      return true;
    case TypeId::kString:
      return ParseFloat64(in.GetString(i), out);
    default:
      return false;
  }
}

bool ToDecimal(const Column& in, int64_t i, const DataType& to, int64_t* out) {
  int64_t v = 0;
  switch (in.type().id) {
    case TypeId::kBool:
      v = in.Value<uint8_t>(i);
      if (!Rescale(v, 0, to.scale, &v)) return false;
      break;
    case TypeId::kInt32:
      if (!Rescale(in.Value<int32_t>(i), 0, to.scale, &v)) return false;
      break;
    case TypeId::kInt64:
      if (!Rescale(in.Value<int64_t>(i), 0, to.scale, &v)) return false;
      break;
    case TypeId::kFloat64:
      return FloatToDecimal(in.Value<double>(i), to.precision, to.scale, out);
    case TypeId::kDecimal:
      if (!Rescale(in.Value<int64_t>(i), in.type().scale, to.scale, &v)) return false;
      break;
    case TypeId::kString:
      return ParseDecimal(in.GetString(i), to.precision, to.scale, out);
    default:
      return false;
  }
  if (!FitsPrecision(v, to.precision)) return false;
  *out = v;
  return true;
}

bool ToBool(const Column& in, int64_t i, uint8_t* out) {
  switch (in.type().id) {
    case TypeId::kBool:
      *out = in.Value<uint8_t>(i);
      return true;
    case TypeId::kInt32:
      *out = in.Value<int32_t>(i) != 0;
      return true;
    case TypeId::kInt64:
      *out = in.Value<int64_t>(i) != 0;
      return true;
    case TypeId::kString: {
      bool b = false;
      if (!ParseBool(in.GetString(i), &b)) return false;
      *out = b;
      return true;
    }
    default:
      return false;
  }
}

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

bool ToDate(const Column& in, int64_t i, int32_t* out) {
  switch (in.type().id) {
    case TypeId::kDate:
      *out = in.Value<int32_t>(i);
      return true;
    case TypeId::kTimestamp: {
      int64_t days = FloorDiv(in.Value<int64_t>(i), kMicrosPerDay);
      *out = static_cast<int32_t>(days);  // |micros| / day always fits int32
      return true;
    }
    case TypeId::kString:
      return ParseDate(in.GetString(i), out);
    default:
      return false;
  }
}

bool ToTimestamp(const Column& in, int64_t i, int64_t* out) {
  switch (in.type().id) {
    case TypeId::kTimestamp:
      *out = in.Value<int64_t>(i);
      return true;
    case TypeId::kDate:
      return !__builtin_mul_overflow(int64_t{in.Value<int32_t>(i)}, kMicrosPerDay, out);
    case TypeId::kString:
      return ParseTimestamp(in.GetString(i), out);
    default:
      return false;
  }
}

// Applies `fn(row, &value) -> bool` to every valid cell; failed rows get a
// null placeholder (keeping rows aligned) and are listed in *failed.
template <typename Out, typename Fn>
void MapFixed(const Column& in, Column* out, std::vector<uint32_t>* failed, Fn fn) {
  int64_t n = in.size();
  out->Reserve(n);
  for (int64_t i = 0; i < n; ++i) {
    Out v{};
    if (in.IsNull(i)) {
      out->AppendNull();
    } else if (fn(i, &v)) {
      out->Append<Out>(v);
    } else {
      out->AppendNull();
      failed->push_back(static_cast<uint32_t>(i));
    }
  }
}

Column Convert(const Column& in, const DataType& to, std::vector<uint32_t>* failed) {
  Column out(to);
  switch (to.id) {
    case TypeId::kString: {
      out.Reserve(in.size());
      for (int64_t i = 0; i < in.size(); ++i) {
        if (in.IsNull(i)) {
          out.AppendNull();
        } else {
          out.AppendString(CellText(in, i));
        }
      }
      break;
    }
    case TypeId::kBool:
      MapFixed<uint8_t>(in, &out, failed, [&](int64_t i, uint8_t* v) { return ToBool(in, i, v); });
      break;
    case TypeId::kInt32:
      MapFixed<int32_t>(in, &out, failed,
                        [&](int64_t i, int32_t* v) { return ToInteger(in, i, v); });
      break;
    case TypeId::kInt64:
      MapFixed<int64_t>(in, &out, failed,
                        [&](int64_t i, int64_t* v) { return ToInteger(in, i, v); });
      break;
    case TypeId::kFloat64:
      MapFixed<double>(in, &out, failed, [&](int64_t i, double* v) { return ToFloat64(in, i, v); });
      break;
    case TypeId::kDecimal:
      MapFixed<int64_t>(in, &out, failed,
                        [&](int64_t i, int64_t* v) { return ToDecimal(in, i, to, v); });
      break;
    case TypeId::kDate:
      MapFixed<int32_t>(in, &out, failed, [&](int64_t i, int32_t* v) { return ToDate(in, i, v); });
      break;
    case TypeId::kTimestamp:
      MapFixed<int64_t>(in, &out, failed,
                        [&](int64_t i, int64_t* v) { return ToTimestamp(in, i, v); });
      break;
  }
  return out;
}

struct CastTarget {
  std::string column;
  DataType type;
  int index = -1;
};

class CastOp final : public Operator {
 public:
  CastOp(StepSpec spec, std::vector<CastTarget> targets)
      : spec_(std::move(spec)), targets_(std::move(targets)) {}

  Result<Schema> Bind(const Schema& input) override {
    std::vector<Field> fields = input.fields();
    for (auto& t : targets_) {
      ASSIGN_OR_RETURN(t.index, FindColumn(spec_, input, t.column));
      const DataType& from = input.field(t.index).type;
      if (!CanCast(from, t.type)) {
        return StepError(spec_, "cannot cast column '" + t.column + "' from " + from.ToString() +
                                    " to " + t.type.ToString());
      }
      fields[t.index].type = t.type;
    }
    output_ = Schema(std::move(fields));
    return output_;
  }

  Status Push(RecordBatch&& batch, OperatorContext& ctx) override {
    struct Failure {
      uint32_t row;
      size_t target;
    };
    std::vector<Failure> failures;
    std::vector<Column> converted(targets_.size());
    for (size_t t = 0; t < targets_.size(); ++t) {
      const Column& in = batch.columns[targets_[t].index];
      const DataType& to = targets_[t].type;
      if (in.type() == to) continue;
      std::vector<uint32_t> failed;
      converted[t] = Convert(in, to, &failed);
      for (uint32_t r : failed) failures.push_back({r, t});
    }

    std::vector<uint8_t> bad_row;
    if (!failures.empty()) {
      // One bad record per row, for its first failing column in spec order,
      // listed in row order. The raw text is the row before any conversion.
      std::stable_sort(failures.begin(), failures.end(),
                       [](const Failure& a, const Failure& b) { return a.row < b.row; });
      bad_row.assign(batch.num_rows(), 0);
      for (const auto& f : failures) {
        if (bad_row[f.row]) continue;
        bad_row[f.row] = 1;
        const CastTarget& t = targets_[f.target];
        if (ctx.bad == nullptr) continue;
        BadRecord rec;
        rec.line = batch.source_lines.empty() ? 0 : batch.source_lines[f.row];
        rec.field = t.column;
        rec.reason =
            "cannot cast '" + CellText(batch.columns[t.index], f.row) + "' to " + t.type.ToString();
        rec.raw = RowAsCsv(batch, f.row);
        ctx.bad->push_back(std::move(rec));
      }
    }

    for (size_t t = 0; t < targets_.size(); ++t) {
      Column& col = batch.columns[targets_[t].index];
      if (col.type() == targets_[t].type) continue;
      col = std::move(converted[t]);
    }
    batch.schema = output_;
    if (bad_row.empty()) return ctx.emit(std::move(batch));

    std::vector<uint32_t> keep;
    keep.reserve(batch.num_rows());
    for (int64_t i = 0; i < batch.num_rows(); ++i) {
      if (!bad_row[i]) keep.push_back(static_cast<uint32_t>(i));
    }
    if (keep.empty()) return Status::OK();
    return ctx.emit(batch.Select(keep));
  }

  Status Finish(OperatorContext& ctx) override { return Status::OK(); }

 private:
  StepSpec spec_;
  std::vector<CastTarget> targets_;
  Schema output_;
};

}  // namespace

Result<std::unique_ptr<Operator>> NewCastOp(const StepSpec& spec) {
  if (!spec.args.is_object() || spec.args.empty()) {
    return StepError(spec, "expected a mapping of column to type, e.g. { amount: decimal(12,2) }");
  }
  std::vector<CastTarget> targets;
  for (const auto& [column, type] : spec.args.items()) {
    if (!type.is_string()) {
      return StepError(spec, "type for '" + column + "' must be a type name, got " + type.dump());
    }
    auto parsed = DataType::Parse(type.get<std::string>());
    if (!parsed.ok()) return StepError(spec, column + ": " + parsed.status().message());
    targets.push_back({column, *parsed, -1});
  }
  return std::unique_ptr<Operator>(new CastOp(spec, std::move(targets)));
}

}  // namespace sluice
