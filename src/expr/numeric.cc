#include "expr/numeric.h"

#include <charconv>
#include <cmath>
#include <string_view>

#include "core/value_text.h"

namespace sluice::expr {

bool FitsPrecision(int64_t v, int precision) {
  if (precision >= 19) return true;
  int64_t limit = Pow10(precision);
  return v > -limit && v < limit;
}

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

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

}  // namespace sluice::expr
