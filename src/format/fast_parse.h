// Fast paths for the common spellings of numbers and times in text formats.
//
// Each function accepts only a narrow, common form (plain digits, a fixed
// ISO-8601 layout) and returns false for anything else, including values it
// could parse but is not sure about; the caller then uses the general parser
// in core/value_text.h. So a fast path never changes what is accepted or the
// value produced: it only skips work for the usual case.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/value_text.h"

namespace sluice::fastparse {

inline bool Digit(char c, unsigned* d) {
  *d = static_cast<unsigned>(static_cast<unsigned char>(c) - '0');
  return *d <= 9;
}

// [-]d{1,18}
inline bool Int64(const char* p, size_t n, int64_t* out) {
  bool neg = false;
  if (n > 0 && *p == '-') {
    neg = true;
    ++p;
    --n;
  }
  if (n == 0 || n > 18) return false;
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) {
    unsigned d;
    if (!Digit(p[i], &d)) return false;
    v = v * 10 + d;
  }
  *out = neg ? -static_cast<int64_t>(v) : static_cast<int64_t>(v);
  return true;
}

// [-]d{1,9}
inline bool Int32(const char* p, size_t n, int32_t* out) {
  int64_t v;
  if (n > (n > 0 && *p == '-' ? 10u : 9u) || !Int64(p, n, &v)) return false;
  *out = static_cast<int32_t>(v);
  return true;
}

// [-]d+[.d{1,scale}], at most 18 digits once scaled; `limit` is 10^precision.
inline bool Decimal(const char* p, size_t n, uint64_t limit, int scale, int64_t* out) {
  bool neg = false;
  if (n > 0 && *p == '-') {
    neg = true;
    ++p;
    --n;
  }
  if (n == 0 || n > 19) return false;
  uint64_t v = 0;
  size_t i = 0, digits = 0;
  unsigned d;
  for (; i < n && Digit(p[i], &d); ++i) v = v * 10 + d;
  if (i == 0) return false;
  digits = i;
  int frac = 0;
  if (i < n) {
    if (p[i] != '.') return false;
    ++i;
    for (; i < n; ++i) {
      if (!Digit(p[i], &d)) return false;
      v = v * 10 + d;
      ++frac;
    }
    if (frac == 0 || frac > scale) return false;
  }
  // The scaled value has digits + scale digits: keep it inside 18 so that
  // scaling cannot overflow.
  if (digits + static_cast<size_t>(scale) > 18) return false;
  for (int k = frac; k < scale; ++k) v *= 10;
  if (v >= limit) return false;
  *out = neg ? -static_cast<int64_t>(v) : static_cast<int64_t>(v);
  return true;
}

inline bool TwoDigits(const char* p, int* out) {
  unsigned a, b;
  if (!Digit(p[0], &a) || !Digit(p[1], &b)) return false;
  *out = static_cast<int>(a * 10 + b);
  return true;
}

// YYYY-MM-DD
inline bool Date(const char* p, size_t n, int32_t* days) {
  if (n != 10 || p[4] != '-' || p[7] != '-') return false;
  int y1, y2, m, d;
  if (!TwoDigits(p, &y1) || !TwoDigits(p + 2, &y2) || !TwoDigits(p + 5, &m) ||
      !TwoDigits(p + 8, &d)) {
    return false;
  }
  const int y = y1 * 100 + y2;
  static constexpr int kDays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m < 1 || m > 12 || d < 1 || d > kDays[m - 1]) return false;
  if (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return false;
  *days = DaysFromCivil(y, static_cast<unsigned>(m), static_cast<unsigned>(d));
  return true;
}

// YYYY-MM-DDTHH:MM:SS[Z]
inline bool Timestamp(const char* p, size_t n, int64_t* micros) {
  if (n != 19 && !(n == 20 && p[19] == 'Z')) return false;
  int32_t days;
  if (p[10] != 'T' || p[13] != ':' || p[16] != ':' || !Date(p, 10, &days)) return false;
  int hh, mm, ss;
  if (!TwoDigits(p + 11, &hh) || !TwoDigits(p + 14, &mm) || !TwoDigits(p + 17, &ss) || hh > 23 ||
      mm > 59 || ss > 59) {
    return false;
  }
  *micros = (static_cast<int64_t>(days) * 86400 + hh * 3600 + mm * 60 + ss) * 1000000;
  return true;
}

}  // namespace sluice::fastparse
