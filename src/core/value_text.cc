#include "core/value_text.h"

#include <fast_float/fast_float.h>

#include <algorithm>
#include <cstdio>
#include <limits>

namespace sluice {

namespace {

constexpr int64_t kMicrosPerSecond = 1000000;
constexpr int64_t kMicrosPerDay = 86400 * kMicrosPerSecond;

constexpr int64_t kPow10[19] = {1LL,
                                10LL,
                                100LL,
                                1000LL,
                                10000LL,
                                100000LL,
                                1000000LL,
                                10000000LL,
                                100000000LL,
                                1000000000LL,
                                10000000000LL,
                                100000000000LL,
                                1000000000000LL,
                                10000000000000LL,
                                100000000000000LL,
                                1000000000000000LL,
                                10000000000000000LL,
                                100000000000000000LL,
                                1000000000000000000LL};

inline bool IsDigit(char c) { return c >= '0' && c <= '9'; }

inline char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

// Parses exactly `n` digits at s[pos..pos+n).
bool FixedDigits(std::string_view s, size_t pos, int n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (int i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (!IsDigit(c)) return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int y, int m) {
  static constexpr int kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return (m == 2 && IsLeap(y)) ? 29 : kDays[m - 1];
}

// Parses the date prefix "YYYY-MM-DD" (or "YYYY/MM/DD") of s; returns the
// number of bytes used or 0.
size_t ParseDatePrefix(std::string_view s, int32_t* days) {
  int y, m, d;
  if (!FixedDigits(s, 0, 4, &y)) return 0;
  if (s.size() < 10) return 0;
  char sep = s[4];
  if ((sep != '-' && sep != '/') || s[7] != sep) return 0;
  if (!FixedDigits(s, 5, 2, &m) || !FixedDigits(s, 8, 2, &d)) return 0;
  if (m < 1 || m > 12 || d < 1 || d > DaysInMonth(y, m)) return 0;
  *days = DaysFromCivil(y, static_cast<unsigned>(m), static_cast<unsigned>(d));
  return 10;
}

// Appends `v` (non-negative) zero-padded to `width` digits.
void AppendPadded(std::string* out, uint64_t v, int width) {
  char tmp[24];
  int n = 0;
  do {
    tmp[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  for (int i = n; i < width; ++i) out->push_back('0');
  while (n > 0) out->push_back(tmp[--n]);
}

void AppendDate(std::string* out, int32_t days) {
  int y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  if (y < 0) {
    out->push_back('-');
    AppendPadded(out, static_cast<uint64_t>(-static_cast<int64_t>(y)), 4);
  } else {
    AppendPadded(out, static_cast<uint64_t>(y), 4);
  }
  out->push_back('-');
  AppendPadded(out, m, 2);
  out->push_back('-');
  AppendPadded(out, d, 2);
}

template <typename T>
bool ParseSignedInt(std::string_view s, T* out) {
  size_t i = 0;
  bool neg = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    i = 1;
  }
  if (i == s.size()) return false;
  // Accumulate the magnitude in unsigned so that the minimum value fits.
  using U = std::make_unsigned_t<T>;
  const U limit = neg ? static_cast<U>(std::numeric_limits<T>::max()) + 1
                      : static_cast<U>(std::numeric_limits<T>::max());
  U v = 0;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (!IsDigit(c)) return false;
    U digit = static_cast<U>(c - '0');
    if (v > (limit - digit) / 10) return false;
    v = v * 10 + digit;
  }
  *out = neg ? static_cast<T>(U{0} - v) : static_cast<T>(v);
  return true;
}

}  // namespace

int64_t Pow10(int n) { return kPow10[n]; }

bool ParseBool(std::string_view s, bool* out) {
  if (s.empty() || s.size() > 5) return false;
  switch (Lower(s[0])) {
    case 't':
      if (s.size() == 1 || EqualsIgnoreCase(s, "true")) {
        *out = true;
        return true;
      }
      return false;
    case 'y':
      if (s.size() == 1 || EqualsIgnoreCase(s, "yes")) {
        *out = true;
        return true;
      }
      return false;
    case '1':
      if (s.size() != 1) return false;
      *out = true;
      return true;
    case 'f':
      if (s.size() == 1 || EqualsIgnoreCase(s, "false")) {
        *out = false;
        return true;
      }
      return false;
    case 'n':
      if (s.size() == 1 || EqualsIgnoreCase(s, "no")) {
        *out = false;
        return true;
      }
      return false;
    case '0':
      if (s.size() != 1) return false;
      *out = false;
      return true;
    default:
      return false;
  }
}

bool ParseInt32(std::string_view s, int32_t* out) { return ParseSignedInt(s, out); }

bool ParseInt64(std::string_view s, int64_t* out) { return ParseSignedInt(s, out); }

bool ParseFloat64(std::string_view s, double* out) {
  const char* first = s.data();
  const char* last = s.data() + s.size();
  // fast_float follows from_chars and rejects a leading '+'; text inputs use it.
  if (first != last && *first == '+') {
    ++first;
    if (first != last && *first == '-') return false;
  }
  if (first == last) return false;
  double v;
  auto r = fast_float::from_chars(first, last, v);
  if (r.ec != std::errc() || r.ptr != last) return false;
  *out = v;
  return true;
}

bool ParseDecimal(std::string_view s, int precision, int scale, int64_t* out) {
  if (precision < 1 || precision > kMaxDecimalPrecision || scale < 0 || scale > precision) {
    return false;
  }
  size_t i = 0;
  bool neg = false;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) {
    neg = s[i] == '-';
    ++i;
  }
  // Mantissa: digits [int_begin, int_end) '.' [frac_begin, frac_end).
  size_t int_begin = i;
  while (i < s.size() && IsDigit(s[i])) ++i;
  size_t int_end = i;
  size_t frac_begin = i, frac_end = i;
  if (i < s.size() && s[i] == '.') {
    frac_begin = ++i;
    while (i < s.size() && IsDigit(s[i])) ++i;
    frac_end = i;
  }
  size_t int_len = int_end - int_begin;
  size_t frac_len = frac_end - frac_begin;
  if (int_len + frac_len == 0) return false;
  int64_t exp = 0;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    bool exp_neg = false;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) {
      exp_neg = s[i] == '-';
      ++i;
    }
    if (i == s.size()) return false;
    for (; i < s.size(); ++i) {
      if (!IsDigit(s[i])) return false;
      // Saturate: any exponent this large either zeroes or overflows the value.
      if (exp < 100000) exp = exp * 10 + (s[i] - '0');
    }
    if (exp_neg) exp = -exp;
  }
  if (i != s.size()) return false;

  // The value is mantissa_digits * 10^(exp - frac_len); the unscaled result is
  // mantissa_digits * 10^shift. Digits that would fall below the scale must be 0.
  const int64_t shift = static_cast<int64_t>(scale) + exp - static_cast<int64_t>(frac_len);
  const int64_t total = static_cast<int64_t>(int_len + frac_len);
  const int64_t keep = total + shift;  // number of leading mantissa digits kept
  const uint64_t limit = static_cast<uint64_t>(kPow10[precision]);
  uint64_t v = 0;
  for (int64_t k = 0; k < total; ++k) {
    char c = k < static_cast<int64_t>(int_len) ? s[int_begin + k] : s[frac_begin + k - int_len];
    int digit = c - '0';
    if (k >= keep) {
      if (digit != 0) return false;
      continue;
    }
    v = v * 10 + static_cast<uint64_t>(digit);
    if (v >= limit) return false;
  }
  if (shift > 0 && v != 0) {
    if (shift > kMaxDecimalPrecision) return false;
    for (int64_t k = 0; k < shift; ++k) {
      v *= 10;
      if (v >= limit) return false;
    }
  }
  *out = neg ? -static_cast<int64_t>(v) : static_cast<int64_t>(v);
  return true;
}

bool ParseDate(std::string_view s, int32_t* days) {
  return s.size() == 10 && ParseDatePrefix(s, days) == 10;
}

bool ParseTimestamp(std::string_view s, int64_t* micros) {
  int32_t days;
  size_t pos = ParseDatePrefix(s, &days);
  if (pos == 0) return false;
  int64_t value = days * kMicrosPerDay;
  if (pos == s.size()) {
    *micros = value;
    return true;
  }
  if (s[pos] != 'T' && s[pos] != 't' && s[pos] != ' ') return false;
  ++pos;
  int hh, mm, ss = 0;
  if (!FixedDigits(s, pos, 2, &hh) || pos + 2 >= s.size() || s[pos + 2] != ':' ||
      !FixedDigits(s, pos + 3, 2, &mm)) {
    return false;
  }
  pos += 5;
  if (hh > 23 || mm > 59) return false;
  int64_t frac = 0;
  if (pos < s.size() && s[pos] == ':') {
    if (!FixedDigits(s, pos + 1, 2, &ss) || ss > 59) return false;
    pos += 3;
    if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
      ++pos;
      size_t start = pos;
      while (pos < s.size() && IsDigit(s[pos]) && pos - start < 9) {
        if (pos - start < 6) frac = frac * 10 + (s[pos] - '0');
        ++pos;
      }
      size_t n = pos - start;
      if (n == 0) return false;
      for (size_t k = n; k < 6; ++k) frac *= 10;
    }
  }
  value += (hh * 3600LL + mm * 60LL + ss) * kMicrosPerSecond + frac;
  // Optional zone, possibly after one space: Z, +HH, +HHMM, +HH:MM (or '-').
  if (pos < s.size() && s[pos] == ' ') {
    ++pos;
    if (pos == s.size()) return false;
  }
  if (pos == s.size()) {
    *micros = value;
    return true;
  }
  char c = s[pos];
  if (c == 'Z' || c == 'z') {
    if (pos + 1 != s.size()) return false;
    *micros = value;
    return true;
  }
  if (c != '+' && c != '-') return false;
  int oh, om = 0;
  if (!FixedDigits(s, pos + 1, 2, &oh)) return false;
  pos += 3;
  if (pos < s.size()) {
    if (s[pos] == ':') ++pos;
    if (!FixedDigits(s, pos, 2, &om)) return false;
    pos += 2;
  }
  if (pos != s.size() || oh > 23 || om > 59) return false;
  int64_t offset = (oh * 3600LL + om * 60LL) * kMicrosPerSecond;
  // Local time = UTC + offset, so UTC = local - offset.
  *micros = c == '+' ? value - offset : value + offset;
  return true;
}

std::string FormatDecimal(int64_t unscaled, int scale) {
  std::string out;
  uint64_t mag = unscaled < 0 ? uint64_t{0} - static_cast<uint64_t>(unscaled)
                              : static_cast<uint64_t>(unscaled);
  if (unscaled < 0) out.push_back('-');
  if (scale <= 0) {
    AppendPadded(&out, mag, 1);
    return out;
  }
  uint64_t p = 1;
  for (int i = 0; i < scale && i < 19; ++i) p *= 10;
  if (scale > 19) p = 0;  // no int64 value has that many digits; print 0.<digits>
  uint64_t int_part = p == 0 ? 0 : mag / p;
  uint64_t frac_part = p == 0 ? mag : mag % p;
  AppendPadded(&out, int_part, 1);
  out.push_back('.');
  AppendPadded(&out, frac_part, scale);
  return out;
}

std::string FormatDate(int32_t days) {
  std::string out;
  out.reserve(10);
  AppendDate(&out, days);
  return out;
}

std::string FormatTimestamp(int64_t micros) {
  // Floor division so that times before 1970 land on the earlier day.
  int64_t days = micros / kMicrosPerDay;
  int64_t rem = micros % kMicrosPerDay;
  if (rem < 0) {
    rem += kMicrosPerDay;
    --days;
  }
  std::string out;
  out.reserve(27);
  AppendDate(&out, static_cast<int32_t>(days));
  int64_t secs = rem / kMicrosPerSecond;
  int64_t frac = rem % kMicrosPerSecond;
  out.push_back('T');
  AppendPadded(&out, static_cast<uint64_t>(secs / 3600), 2);
  out.push_back(':');
  AppendPadded(&out, static_cast<uint64_t>(secs / 60 % 60), 2);
  out.push_back(':');
  AppendPadded(&out, static_cast<uint64_t>(secs % 60), 2);
  if (frac != 0) {
    out.push_back('.');
    AppendPadded(&out, static_cast<uint64_t>(frac), 6);
  }
  out.push_back('Z');
  return out;
}

// Civil-day arithmetic after H. Hinnant's "chrono-compatible low-level date
// algorithms": eras of 400 years (146097 days) starting on March 1st, so that
// the leap day is the last day of the shifted year.
int32_t DaysFromCivil(int y, unsigned m, unsigned d) {
  int64_t yy = static_cast<int64_t>(y) - (m <= 2 ? 1 : 0);
  int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
  int64_t yoe = yy - era * 400;                                    // [0, 399]
  int64_t mp = m > 2 ? m - 3 : m + 9;                              // [0, 11]
  int64_t doy = (153 * mp + 2) / 5 + static_cast<int64_t>(d) - 1;  // [0, 365]
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;             // [0, 146096]
  return static_cast<int32_t>(era * 146097 + doe - 719468);
}

void CivilFromDays(int32_t days, int* y, unsigned* m, unsigned* d) {
  int64_t z = static_cast<int64_t>(days) + 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;                                       // [0, 146096]
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;  // [0, 399]
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);                // [0, 365]
  int64_t mp = (5 * doy + 2) / 153;                                     // [0, 11]
  *d = static_cast<unsigned>(doy - (153 * mp + 2) / 5 + 1);
  *m = static_cast<unsigned>(mp < 10 ? mp + 3 : mp - 9);
  *y = static_cast<int>(yoe + era * 400 + (*m <= 2 ? 1 : 0));
}

std::string_view TrimBlanks(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t')) --e;
  return s.substr(b, e - b);
}

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = Lower(c);
  return out;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

size_t Utf8SequenceAt(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  if (c < 0x80) return 1;
  size_t len = 0;
  unsigned lo = 0x80, hi = 0xBF;  // range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  if (b(i + 1) < lo || b(i + 1) > hi) return 0;
  for (size_t k = 2; k < len; ++k) {
    if (b(i + k) < 0x80 || b(i + k) > 0xBF) return 0;
  }
  return len;
}

std::string EscapeName(std::string_view name) {
  constexpr size_t kMaxShown = 200;
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(std::min(name.size(), kMaxShown) + 8);
  size_t i = 0;
  while (i < name.size() && i < kMaxShown) {
    const unsigned char c = static_cast<unsigned char>(name[i]);
    if (c == '\n' || c == '\t' || c == '\r') {
      out += c == '\n' ? "\\n" : c == '\t' ? "\\t" : "\\r";
      ++i;
      continue;
    }
    const size_t len = (c < 0x20 || c == 0x7F) ? 0 : Utf8SequenceAt(name, i);
    if (len == 0) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
      ++i;
      continue;
    }
    out.append(name.substr(i, len));
    i += len;
  }
  if (i < name.size()) out += "...";
  return out;
}

namespace {

int EditDistance(std::string_view a, std::string_view b) {
  std::vector<int> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = static_cast<int>(j);
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = static_cast<int>(i);
    for (size_t j = 1; j <= b.size(); ++j) {
      int sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

}  // namespace

std::string ClosestName(std::string_view key, const std::vector<std::string>& known) {
  std::string best;
  int best_d = std::numeric_limits<int>::max();
  for (const auto& k : known) {
    int d = EditDistance(key, k);
    if (d < best_d) {
      best_d = d;
      best = k;
    }
  }
  // Only suggest when the typo is small relative to the word.
  int limit = std::max<int>(1, static_cast<int>(key.size()) / 3);
  // A name that shares nothing with the typo is no suggestion (`b` for `a`).
  if (best_d <= std::min(limit, 3) && best_d < static_cast<int>(key.size())) return best;
  // An abbreviation ("delim" for "delimiter") is a likely slip too.
  if (key.size() >= 3) {
    for (const auto& k : known) {
      if (k.compare(0, key.size(), key) == 0) return k;
    }
  }
  return std::string();
}

}  // namespace sluice
