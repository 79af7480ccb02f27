#include "format/parquet/parquet_convert.h"

#include <simdjson.h>

#include <charconv>
#include <cmath>
#include <cstring>

#include "core/value_text.h"
#include "format/staged_row.h"

namespace sluice::parquet {

namespace {

constexpr int64_t kMicrosPerDay = int64_t{86400} * 1000000;
constexpr int64_t kJulianEpochDay = 2440588;  // Julian day number of 1970-01-01

// A column under construction in its unpacked form: valid has one byte per
// row (empty = all valid) so that rows can be nulled cheaply.
struct Work {
  DataType type;
  int64_t n = 0;
  std::vector<uint8_t> data;
  std::vector<char> chars;
  std::vector<uint8_t> valid;

  bool IsValid(int64_t i) const { return valid.empty() || valid[i] != 0; }
  void SetNull(int64_t i) {
    if (valid.empty()) valid.assign(static_cast<size_t>(n), 1);
    valid[i] = 0;
  }
  template <typename T>
  T Get(int64_t i) const {
    T v;
    std::memcpy(&v, data.data() + i * sizeof(T), sizeof(T));
    return v;
  }
  template <typename T>
  void Set(int64_t i, T v) {
    std::memcpy(data.data() + i * sizeof(T), &v, sizeof(T));
  }
  std::string_view Str(int64_t i) const {
    const auto* off = reinterpret_cast<const uint32_t*>(data.data());
    return {chars.data() + off[i], off[i + 1] - off[i]};
  }

  Column Finish() {
    int64_t nulls = 0;
    std::vector<uint8_t> bits;
    if (!valid.empty()) {
      bits.assign(static_cast<size_t>((n + 7) / 8), 0);
      int64_t set = 0;
      for (int64_t i = 0; i < n; ++i) {
        const uint8_t v = valid[i] & 1;
        bits[i >> 3] |= static_cast<uint8_t>(v << (i & 7));
        set += v;
      }
      nulls = n - set;
    }
    return Column::FromParts(type, n, std::move(data), std::move(chars), std::move(bits), nulls);
  }
};

// Builds a string column row by row.
struct StringOut {
  std::vector<uint32_t> off{0};
  std::vector<char> chars;
  void Add(std::string_view s) {
    chars.insert(chars.end(), s.begin(), s.end());
    off.push_back(static_cast<uint32_t>(chars.size()));
  }
  void Into(Work* w) {
    w->data.resize(off.size() * sizeof(uint32_t));
    std::memcpy(w->data.data(), off.data(), w->data.size());
    w->chars = std::move(chars);
  }
};

void Issue(std::vector<RowIssue>* issues, Work* w, int64_t row, int field, std::string reason) {
  issues->push_back(RowIssue{row, field, std::move(reason)});
  w->SetNull(row);
}

template <typename From, typename To>
std::vector<uint8_t> Widen(const std::vector<uint8_t>& in, int64_t n) {
  std::vector<uint8_t> out(static_cast<size_t>(n) * sizeof(To));
  for (int64_t i = 0; i < n; ++i) {
    From v;
    std::memcpy(&v, in.data() + i * sizeof(From), sizeof(From));
    To t = static_cast<To>(v);
    std::memcpy(out.data() + i * sizeof(To), &t, sizeof(To));
  }
  return out;
}

double HalfToDouble(uint16_t h) {
  int exp = (h >> 10) & 0x1f;
  int mant = h & 0x3ff;
  double v;
  if (exp == 0) {
    v = std::ldexp(mant, -24);
  } else if (exp == 31) {
    v = mant == 0 ? INFINITY : NAN;
  } else {
    v = std::ldexp(mant + 1024, exp - 25);
  }
  return (h & 0x8000) ? -v : v;
}

// Big-endian two's complement bytes (DECIMAL on byte arrays) into an int128;
// false when they do not fit.
bool BigEndianToInt128(const uint8_t* p, size_t len, __int128* out) {
  if (len == 0) {
    *out = 0;
    return true;
  }
  const bool neg = (p[0] & 0x80) != 0;
  // Leading bytes beyond 16 must be pure sign extension.
  while (len > 16) {
    if (p[0] != (neg ? 0xff : 0x00)) return false;
    ++p;
    --len;
  }
  unsigned __int128 v = neg ? ~static_cast<unsigned __int128>(0) : 0;
  for (size_t i = 0; i < len; ++i) v = (v << 8) | p[i];
  *out = static_cast<__int128>(v);
  return true;
}

std::string Int128ToString(__int128 v) {
  if (v == 0) return "0";
  bool neg = v < 0;
  unsigned __int128 u =
      neg ? -static_cast<unsigned __int128>(v) : static_cast<unsigned __int128>(v);
  std::string s;
  while (u > 0) {
    s.push_back(static_cast<char>('0' + static_cast<int>(u % 10)));
    u /= 10;
  }
  if (neg) s.push_back('-');
  return std::string(s.rbegin(), s.rend());
}

std::string FormatDecimal128(__int128 v, int scale) {
  std::string digits = Int128ToString(v < 0 ? -v : v);
  if (scale > 0) {
    if (static_cast<int>(digits.size()) <= scale) {
      digits.insert(0, static_cast<size_t>(scale + 1) - digits.size(), '0');
    }
    digits.insert(digits.size() - static_cast<size_t>(scale), ".");
  }
  return v < 0 ? "-" + digits : digits;
}

std::string FormatTime(int64_t v, int unit) {
  const int64_t per_sec = unit == 1 ? 1000 : unit == 2 ? 1000000 : 1000000000;
  const int digits = unit == 1 ? 3 : unit == 2 ? 6 : 9;
  bool neg = v < 0;
  uint64_t u = neg ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
  uint64_t secs = u / per_sec, frac = u % per_sec;
  char buf[64];
  int n = std::snprintf(buf, sizeof buf, "%s%02llu:%02llu:%02llu", neg ? "-" : "",
                        static_cast<unsigned long long>(secs / 3600),
                        static_cast<unsigned long long>(secs / 60 % 60),
                        static_cast<unsigned long long>(secs % 60));
  std::string s(buf, static_cast<size_t>(n));
  if (frac != 0) {
    n = std::snprintf(buf, sizeof buf, ".%0*llu", digits, static_cast<unsigned long long>(frac));
    s.append(buf, static_cast<size_t>(n));
  }
  return s;
}

std::string FormatUuid(const uint8_t* p) {
  static const char kHex[] = "0123456789abcdef";
  std::string s;
  s.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s.push_back('-');
    s.push_back(kHex[p[i] >> 4]);
    s.push_back(kHex[p[i] & 15]);
  }
  return s;
}

std::string NumText(int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

std::string NumText(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v < 0 ? "-inf" : "inf";
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

// The text of row i of a natural column, as value_text would print it.
std::string ValueText(const Work& w, int64_t i) {
  switch (w.type.id) {
    case TypeId::kBool:
      return w.Get<uint8_t>(i) ? "true" : "false";
    case TypeId::kInt32:
      return NumText(static_cast<int64_t>(w.Get<int32_t>(i)));
    case TypeId::kInt64:
      return NumText(w.Get<int64_t>(i));
    case TypeId::kFloat64:
      return NumText(w.Get<double>(i));
    case TypeId::kDecimal:
      return FormatDecimal(w.Get<int64_t>(i), w.type.scale);
    case TypeId::kString:
      return std::string(w.Str(i));
    case TypeId::kDate:
      return FormatDate(w.Get<int32_t>(i));
    case TypeId::kTimestamp:
      return FormatTimestamp(w.Get<int64_t>(i));
  }
  return "";
}

std::string Shorten(std::string s) {
  if (s.size() > 64) {
    s.resize(61);
    s += "...";
  }
  return s;
}

// The natural column of a leaf whose DECIMAL precision fits (see parquet_types.h).
Work ToNatural(RawColumn& raw, const LeafType& leaf, const DataType& natural, int field,
               std::vector<RowIssue>* issues) {
  Work w;
  w.type = natural;
  w.n = raw.size;
  if (raw.null_count > 0) w.valid = std::move(raw.valid);
  const int64_t n = raw.size;
  auto adopt = [&] {
    w.data = std::move(raw.data);
    w.chars = std::move(raw.chars);
  };
  switch (leaf.kind) {
    case LeafKind::kBool:
    case LeafKind::kDate:
      adopt();
      break;
    case LeafKind::kInt: {
      const bool phys32 = leaf.physical == ptype::kInt32;
      const bool out32 = natural.id == TypeId::kInt32;
      if (phys32 && out32) {
        adopt();
      } else if (phys32) {
        // INT32 holding UINT_32: zero-extend.
        w.data = leaf.is_unsigned ? Widen<uint32_t, int64_t>(raw.data, n)
                                  : Widen<int32_t, int64_t>(raw.data, n);
      } else if (!out32) {
        adopt();
        if (leaf.is_unsigned) {
          for (int64_t i = 0; i < n; ++i) {
            if (w.IsValid(i) && w.Get<int64_t>(i) < 0) {
              Issue(issues, &w, i, field,
                    "value " + std::to_string(static_cast<uint64_t>(w.Get<int64_t>(i))) +
                        " is out of range for int64");
            }
          }
        }
      } else {
        // INT64 annotated as a narrower integer.
        w.data.resize(static_cast<size_t>(n) * 4);
        for (int64_t i = 0; i < n; ++i) {
          int64_t v;
          std::memcpy(&v, raw.data.data() + i * 8, 8);
          if (w.IsValid(i) && (v < INT32_MIN || v > INT32_MAX)) {
            Issue(issues, &w, i, field, "value " + NumText(v) + " is out of range for int32");
            v = 0;
          }
          w.Set<int32_t>(i, static_cast<int32_t>(v));
        }
      }
      break;
    }
    case LeafKind::kFloat:
      if (leaf.physical == ptype::kDouble) {
        adopt();
      } else if (leaf.physical == ptype::kFloat) {
        w.data = Widen<float, double>(raw.data, n);
      } else {
        w.data.resize(static_cast<size_t>(n) * 8);
        for (int64_t i = 0; i < n; ++i) {
          uint16_t h;
          std::memcpy(&h, raw.data.data() + i * 2, 2);
          w.Set<double>(i, HalfToDouble(h));
        }
      }
      break;
    case LeafKind::kString:
      if (leaf.physical == ptype::kByteArray) {
        adopt();
      } else {
        // FIXED_LEN_BYTE_ARRAY: the bytes are already laid out back to back.
        const int64_t width = raw.width;
        w.data.resize(static_cast<size_t>(n + 1) * 4);
        w.chars.resize(static_cast<size_t>(n * width));
        uint32_t pos = 0;
        w.Set<uint32_t>(0, 0);
        for (int64_t i = 0; i < n; ++i) {
          if (w.IsValid(i)) {
            std::memcpy(w.chars.data() + pos, raw.data.data() + i * width, width);
            pos += static_cast<uint32_t>(width);
          }
          w.Set<uint32_t>(i + 1, pos);
        }
        w.chars.resize(pos);
      }
      break;
    case LeafKind::kUuid:
    case LeafKind::kTime: {
      StringOut out;
      for (int64_t i = 0; i < n; ++i) {
        if (!w.IsValid(i)) {
          out.Add("");
        } else if (leaf.kind == LeafKind::kUuid) {
          out.Add(FormatUuid(raw.data.data() + i * 16));
        } else {
          int64_t v;
          if (leaf.physical == ptype::kInt32) {
            int32_t x;
            std::memcpy(&x, raw.data.data() + i * 4, 4);
            v = x;
          } else {
            std::memcpy(&v, raw.data.data() + i * 8, 8);
          }
          out.Add(FormatTime(v, leaf.unit));
        }
      }
      out.Into(&w);
      break;
    }
    case LeafKind::kDecimal: {
      const int64_t limit = Pow10(leaf.precision) - 1;
      if (leaf.physical == ptype::kInt64) {
        adopt();
      } else if (leaf.physical == ptype::kInt32) {
        w.data = Widen<int32_t, int64_t>(raw.data, n);
      } else {
        w.data.assign(static_cast<size_t>(n) * 8, 0);
        for (int64_t i = 0; i < n; ++i) {
          if (!w.IsValid(i)) continue;
          const uint8_t* p;
          size_t len;
          if (leaf.physical == ptype::kFixedLenByteArray) {
            p = raw.data.data() + i * raw.width;
            len = static_cast<size_t>(raw.width);
          } else {
            const uint32_t* off = raw.offsets();
            p = reinterpret_cast<const uint8_t*>(raw.chars.data()) + off[i];
            len = off[i + 1] - off[i];
          }
          __int128 v = 0;
          if (!BigEndianToInt128(p, len, &v) || v > limit || v < -limit) {
            Issue(issues, &w, i, field,
                  "decimal value does not fit DECIMAL(" + std::to_string(leaf.precision) + "," +
                      std::to_string(leaf.scale) + ")");
            continue;
          }
          w.Set<int64_t>(i, static_cast<int64_t>(v));
        }
        break;
      }
      for (int64_t i = 0; i < n; ++i) {
        int64_t v = w.Get<int64_t>(i);
        if (w.IsValid(i) && (v > limit || v < -limit)) {
          Issue(issues, &w, i, field,
                "decimal value " + NumText(v) + " does not fit DECIMAL(" +
                    std::to_string(leaf.precision) + "," + std::to_string(leaf.scale) + ")");
          w.Set<int64_t>(i, 0);
        }
      }
      break;
    }
    case LeafKind::kTimestamp:
      if (leaf.physical == ptype::kInt96) {
        w.data.assign(static_cast<size_t>(n) * 8, 0);
        for (int64_t i = 0; i < n; ++i) {
          if (!w.IsValid(i)) continue;
          int64_t nanos;
          int32_t julian;
          std::memcpy(&nanos, raw.data.data() + i * 12, 8);
          std::memcpy(&julian, raw.data.data() + i * 12 + 8, 4);
          int64_t day_us, us;
          if (__builtin_mul_overflow(static_cast<int64_t>(julian) - kJulianEpochDay, kMicrosPerDay,
                                     &day_us) ||
              __builtin_add_overflow(day_us, nanos / 1000, &us)) {
            Issue(issues, &w, i, field, "INT96 timestamp is out of range");
            continue;
          }
          w.Set<int64_t>(i, us);
        }
      } else {
        adopt();
        if (leaf.unit == 1) {
          for (int64_t i = 0; i < n; ++i) {
            int64_t v = w.Get<int64_t>(i), us;
            if (__builtin_mul_overflow(v, int64_t{1000}, &us)) {
              Issue(issues, &w, i, field, "timestamp " + NumText(v) + " ms is out of range");
              us = 0;
            }
            w.Set<int64_t>(i, us);
          }
        } else if (leaf.unit == 3) {
          for (int64_t i = 0; i < n; ++i) {
            int64_t v = w.Get<int64_t>(i);
            // Floor division: a time before 1970 stays before its microsecond.
            int64_t q = v / 1000 - ((v % 1000) < 0 ? 1 : 0);
            w.Set<int64_t>(i, q);
          }
        }
      }
      break;
    case LeafKind::kUnsupported:
      break;
  }
  return w;
}

// Reads a DECIMAL with precision above 18 as exact text.
Work WideDecimalToString(RawColumn& raw, const LeafType& leaf, int field,
                         std::vector<RowIssue>* issues) {
  Work w;
  w.type = DataType::String();
  w.n = raw.size;
  if (raw.null_count > 0) w.valid = std::move(raw.valid);
  StringOut out;
  for (int64_t i = 0; i < raw.size; ++i) {
    if (!w.IsValid(i)) {
      out.Add("");
      continue;
    }
    __int128 v = 0;
    bool ok = true;
    if (leaf.physical == ptype::kInt32 || leaf.physical == ptype::kInt64) {
      int64_t x = 0;
      if (leaf.physical == ptype::kInt32) {
        int32_t y;
        std::memcpy(&y, raw.data.data() + i * 4, 4);
        x = y;
      } else {
        std::memcpy(&x, raw.data.data() + i * 8, 8);
      }
      v = x;
    } else if (leaf.physical == ptype::kFixedLenByteArray) {
      ok = BigEndianToInt128(raw.data.data() + i * raw.width, static_cast<size_t>(raw.width), &v);
    } else {
      const uint32_t* off = raw.offsets();
      ok = BigEndianToInt128(reinterpret_cast<const uint8_t*>(raw.chars.data()) + off[i],
                             off[i + 1] - off[i], &v);
    }
    if (!ok) {
      Issue(issues, &w, i, field, "decimal value has more than 38 digits");
      out.Add("");
      continue;
    }
    out.Add(FormatDecimal128(v, leaf.scale));
  }
  out.Into(&w);
  return w;
}

// One value of `from` converted to `to`, for the rows whose natural type
// differs from the declared one. False (with *reason) when not representable.
bool CastValue(const Work& from, int64_t i, Work* to, std::string* reason) {
  const TypeId f = from.type.id;
  const DataType& t = to->type;
  auto integral = [&](int64_t* v) {
    switch (f) {
      case TypeId::kInt32:
        *v = from.Get<int32_t>(i);
        return true;
      case TypeId::kInt64:
        *v = from.Get<int64_t>(i);
        return true;
      case TypeId::kBool:
        return false;
      default:
        return false;
    }
  };
  int64_t iv = 0;
  const bool is_int = integral(&iv);
  auto fail = [&](const std::string& text) {
    *reason = "cannot convert " + from.type.ToString() + " value '" + Shorten(text) + "' to " +
              t.ToString();
    return false;
  };
  switch (t.id) {
    case TypeId::kInt32:
      if (is_int) {
        if (iv < INT32_MIN || iv > INT32_MAX) return fail(NumText(iv));
        to->Set<int32_t>(i, static_cast<int32_t>(iv));
        return true;
      }
      break;
    case TypeId::kInt64:
      if (is_int) {
        to->Set<int64_t>(i, iv);
        return true;
      }
      break;
    case TypeId::kFloat64:
      if (is_int) {
        // Only integers a double holds exactly.
        if (iv > (int64_t{1} << 53) || iv < -(int64_t{1} << 53)) return fail(NumText(iv));
        to->Set<double>(i, static_cast<double>(iv));
        return true;
      }
      if (f == TypeId::kDecimal) {
        to->Set<double>(i, static_cast<double>(from.Get<int64_t>(i)) / Pow10(from.type.scale));
        return true;
      }
      break;
    case TypeId::kDecimal: {
      int64_t unscaled = 0;
      int from_scale = 0;
      if (is_int) {
        unscaled = iv;
      } else if (f == TypeId::kDecimal) {
        unscaled = from.Get<int64_t>(i);
        from_scale = from.type.scale;
      } else {
        break;
      }
      int64_t v = unscaled;
      if (t.scale >= from_scale) {
        if (__builtin_mul_overflow(unscaled, Pow10(t.scale - from_scale), &v)) {
          return fail(ValueText(from, i));
        }
      } else {
        int64_t div = Pow10(from_scale - t.scale);
        if (unscaled % div != 0) return fail(ValueText(from, i));
        v = unscaled / div;
      }
      int64_t limit = Pow10(t.precision) - 1;
      if (v > limit || v < -limit) return fail(ValueText(from, i));
      to->Set<int64_t>(i, v);
      return true;
    }
    case TypeId::kTimestamp:
      if (f == TypeId::kDate) {
        to->Set<int64_t>(i, static_cast<int64_t>(from.Get<int32_t>(i)) * kMicrosPerDay);
        return true;
      }
      break;
    default:
      break;
  }
  // Everything else goes through text, with the parsers the text formats use:
  // lossless exactly when the text parses back.
  std::string text = ValueText(from, i);
  std::string_view trimmed = text;
  if (f == TypeId::kString) {
    while (!trimmed.empty() && (trimmed.front() == ' ' || trimmed.front() == '\t')) {
      trimmed.remove_prefix(1);
    }
    while (!trimmed.empty() && (trimmed.back() == ' ' || trimmed.back() == '\t')) {
      trimmed.remove_suffix(1);
    }
  }
  StagedValue sv;
  if (!ParseTextAs(trimmed, t, &sv)) {
    *reason = f == TypeId::kString ? CannotParseReason(text, t) : "";
    if (reason->empty()) fail(text);
    return false;
  }
  switch (t.id) {
    case TypeId::kBool:
      to->Set<uint8_t>(i, static_cast<uint8_t>(sv.i != 0));
      break;
    case TypeId::kInt32:
    case TypeId::kDate:
      to->Set<int32_t>(i, static_cast<int32_t>(sv.i));
      break;
    case TypeId::kInt64:
    case TypeId::kDecimal:
    case TypeId::kTimestamp:
      to->Set<int64_t>(i, sv.i);
      break;
    case TypeId::kFloat64:
      to->Set<double>(i, sv.f);
      break;
    case TypeId::kString:
      break;
  }
  return true;
}

Work Cast(Work from, const DataType& target, int field, std::vector<RowIssue>* issues) {
  Work to;
  to.type = target;
  to.n = from.n;
  to.valid = from.valid;
  if (target.id == TypeId::kString) {
    StringOut out;
    for (int64_t i = 0; i < from.n; ++i) out.Add(from.IsValid(i) ? ValueText(from, i) : "");
    out.Into(&to);
    return to;
  }
  to.data.assign(static_cast<size_t>(from.n * target.FixedWidth()), 0);
  std::string reason;
  for (int64_t i = 0; i < from.n; ++i) {
    if (!from.IsValid(i)) continue;
    if (!CastValue(from, i, &to, &reason)) Issue(issues, &to, i, field, reason);
  }
  return to;
}

void CheckUtf8(Work* w, int field, std::vector<RowIssue>* issues) {
  if (simdjson::validate_utf8(w->chars.data(), w->chars.size())) return;
  for (int64_t i = 0; i < w->n; ++i) {
    std::string_view s = w->Str(i);
    if (w->IsValid(i) && !simdjson::validate_utf8(s.data(), s.size())) {
      Issue(issues, w, i, field, "invalid UTF-8");
    }
  }
}

}  // namespace

bool CanConvert(const LeafType& leaf, const DataType& target) {
  if (leaf.kind == LeafKind::kUnsupported) return false;
  if (leaf.kind == LeafKind::kDecimal && leaf.precision > kMaxDecimalPrecision) {
    return target.id == TypeId::kString;
  }
  return true;
}

Column ConvertColumn(RawColumn& raw, const LeafType& leaf, const DataType& target, int field,
                     std::vector<RowIssue>* issues) {
  Work w;
  if (leaf.kind == LeafKind::kDecimal && leaf.precision > kMaxDecimalPrecision) {
    w = WideDecimalToString(raw, leaf, field, issues);
  } else {
    auto natural = NaturalType(leaf, "", "");
    w = ToNatural(raw, leaf, natural.ok() ? *natural : target, field, issues);
    if (w.type.id == TypeId::kString && leaf.kind == LeafKind::kString)
      CheckUtf8(&w, field, issues);
    if (w.type != target) w = Cast(std::move(w), target, field, issues);
  }
  return w.Finish();
}

}  // namespace sluice::parquet
