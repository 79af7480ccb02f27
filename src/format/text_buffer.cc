#include "format/text_buffer.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

#include "core/value_text.h"

namespace sluice {

namespace {

constexpr int64_t kMicrosPerSecond = 1000000;
constexpr int64_t kMicrosPerDay = 86400 * kMicrosPerSecond;

// Writes v in exactly `width` digits (v < 10^width).
inline char* WriteFixed(char* p, uint64_t v, int width) {
  for (int i = width - 1; i >= 0; --i) {
    p[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  return p + width;
}

// Writes v with at least `width` digits.
inline char* WritePadded(char* p, uint64_t v, int width) {
  char tmp[24];
  int n = 0;
  do {
    tmp[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  for (int i = n; i < width; ++i) *p++ = '0';
  while (n > 0) *p++ = tmp[--n];
  return p;
}

constexpr uint64_t kPow10[19] = {1ULL,
                                 10ULL,
                                 100ULL,
                                 1000ULL,
                                 10000ULL,
                                 100000ULL,
                                 1000000ULL,
                                 10000000ULL,
                                 100000000ULL,
                                 1000000000ULL,
                                 10000000000ULL,
                                 100000000000ULL,
                                 1000000000000ULL,
                                 10000000000000ULL,
                                 100000000000000ULL,
                                 1000000000000000ULL,
                                 10000000000000000ULL,
                                 100000000000000000ULL,
                                 1000000000000000000ULL};

inline char* Write2(char* p, uint64_t v) {
  p[0] = static_cast<char>('0' + v / 10);
  p[1] = static_cast<char>('0' + v % 10);
  return p + 2;
}

char* WriteDateUncached(char* p, int32_t days) {
  int y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  if (y < 0) {
    *p++ = '-';
    p = WritePadded(p, static_cast<uint64_t>(-static_cast<int64_t>(y)), 4);
  } else if (y < 10000) {
    p = WriteFixed(p, static_cast<uint64_t>(y), 4);
  } else {
    p = WritePadded(p, static_cast<uint64_t>(y), 4);
  }
  *p++ = '-';
  p = Write2(p, m);
  *p++ = '-';
  return Write2(p, d);
}

// The civil-date arithmetic is most of the cost of a date or timestamp, and
// neighbouring values usually fall on the same day: keep the last day's text.
// One per thread, because encoders format row ranges in parallel.
struct DayText {
  int32_t days = std::numeric_limits<int32_t>::min();
  uint32_t len = 0;
  char text[16] = {};  // the longest date ("-5877641-06-23") has 14 characters
};
thread_local DayText last_day;

}  // namespace

void TextBuffer::Grow(size_t need) {
  size_t cap = std::max({capacity_ * 2, size_ + need, size_t{4096}});
  auto fresh = std::make_unique_for_overwrite<char[]>(cap);
  if (size_ != 0) std::memcpy(fresh.get(), data_.get(), size_);
  data_ = std::move(fresh);
  capacity_ = cap;
}

char* WriteInt64(char* p, int64_t v) { return std::to_chars(p, p + kMaxValueChars, v).ptr; }

char* WriteFloat64(char* p, double v) {
  if (std::isnan(v)) {
    std::memcpy(p, "nan", 3);
    return p + 3;
  }
  if (std::isinf(v)) {
    if (v < 0) *p++ = '-';
    std::memcpy(p, "inf", 3);
    return p + 3;
  }
  return std::to_chars(p, p + kMaxValueChars, v).ptr;
}

char* WriteDecimal(char* p, int64_t unscaled, int scale) {
  uint64_t mag = unscaled < 0 ? uint64_t{0} - static_cast<uint64_t>(unscaled)
                              : static_cast<uint64_t>(unscaled);
  if (unscaled < 0) *p++ = '-';
  if (scale <= 0) return std::to_chars(p, p + kMaxValueChars, mag).ptr;
  // Types cap the scale at 18; a larger one still prints every digit after "0.".
  uint64_t pow = scale <= 18 ? kPow10[scale] : 0;
  uint64_t int_part = pow == 0 ? 0 : mag / pow;
  uint64_t frac_part = pow == 0 ? mag : mag % pow;
  p = std::to_chars(p, p + kMaxValueChars, int_part).ptr;
  *p++ = '.';
  return WritePadded(p, frac_part, scale);
}

char* WriteDate(char* p, int32_t days) {
  DayText& cache = last_day;
  if (cache.days != days || cache.len == 0) {
    cache.len = static_cast<uint32_t>(WriteDateUncached(cache.text, days) - cache.text);
    cache.days = days;
  }
  // Copying all 16 bytes is cheaper than a variable-length copy; the caller
  // reserved kMaxValueChars.
  std::memcpy(p, cache.text, sizeof(cache.text));
  return p + cache.len;
}

char* WriteTimestamp(char* p, int64_t micros) {
  // Floor division so that times before 1970 land on the earlier day.
  int64_t days = micros / kMicrosPerDay;
  int64_t rem = micros % kMicrosPerDay;
  if (rem < 0) {
    rem += kMicrosPerDay;
    --days;
  }
  p = WriteDate(p, static_cast<int32_t>(days));
  uint64_t secs = static_cast<uint64_t>(rem / kMicrosPerSecond);
  uint64_t frac = static_cast<uint64_t>(rem % kMicrosPerSecond);
  *p++ = 'T';
  p = Write2(p, secs / 3600);
  *p++ = ':';
  p = Write2(p, secs / 60 % 60);
  *p++ = ':';
  p = Write2(p, secs % 60);
  if (frac != 0) {
    *p++ = '.';
    p = WriteFixed(p, frac, 6);
  }
  *p++ = 'Z';
  return p;
}

}  // namespace sluice
