// TextBuffer and the value formatters shared by the text encoders (CSV, NDJSON).
//
// The encoders format whole batches into one growable byte buffer and hand it
// to the OutputStream in large blocks, so that no value costs an allocation or
// a virtual call. A formatter writes at a raw pointer into space the caller
// reserved with Ensure(kMaxValueChars) and returns the new end; the output is
// byte-identical to the value_text.h formatters (which build std::strings),
// so every text sluice writes reads back through its own parsers.
//
// Not thread-safe; parallel encoders give each task its own buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>

namespace sluice {

// Enough room for any single non-string value (the longest is a timestamp far
// from the epoch, about 35 characters).
inline constexpr size_t kMaxValueChars = 64;

class TextBuffer {
 public:
  explicit TextBuffer(size_t capacity = 0) { Reserve(capacity); }
  TextBuffer(const TextBuffer&) = delete;
  TextBuffer& operator=(const TextBuffer&) = delete;
  TextBuffer(TextBuffer&&) = default;
  TextBuffer& operator=(TextBuffer&&) = default;

  // Makes room for n more bytes and returns where they go; commit what was
  // written with set_end().
  char* Ensure(size_t n) {
    if (capacity_ - size_ < n) Grow(n);
    return data_.get() + size_;
  }
  char* end() { return data_.get() + size_; }
  void set_end(char* p) { size_ = static_cast<size_t>(p - data_.get()); }

  void Append(const char* p, size_t n) {
    char* dst = Ensure(n);
    if (n != 0) std::memcpy(dst, p, n);
    size_ += n;
  }
  void Append(std::string_view s) { Append(s.data(), s.size()); }
  void Push(char c) {
    *Ensure(1) = c;
    ++size_;
  }

  const char* data() const { return data_.get(); }
  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }
  void Clear() { size_ = 0; }
  void Reserve(size_t capacity) {
    if (capacity > capacity_) Grow(capacity - size_);
  }

 private:
  void Grow(size_t need);

  std::unique_ptr<char[]> data_;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

// Each writes one value at p (which has kMaxValueChars bytes of room) and
// returns the end of what it wrote.
char* WriteInt64(char* p, int64_t v);
// Shortest text that parses back to the same double ("0.1", "1e+300", "-0");
// NaN and infinities as "nan", "inf", "-inf" (what ParseFloat64 accepts).
char* WriteFloat64(char* p, double v);
// Unscaled value with `scale` fraction digits, as FormatDecimal.
char* WriteDecimal(char* p, int64_t unscaled, int scale);
// YYYY-MM-DD, as FormatDate.
char* WriteDate(char* p, int32_t days);
// YYYY-MM-DDTHH:MM:SS[.ffffff]Z, as FormatTimestamp.
char* WriteTimestamp(char* p, int64_t micros);

// Word-at-a-time byte tests (SWAR), so string scans look at 8 bytes per step
// on any CPU. Each is nonzero iff some byte of v has the property.
inline constexpr uint64_t kOnes = 0x0101010101010101ULL;
inline constexpr uint64_t kHighs = 0x8080808080808080ULL;
inline uint64_t SwarHasZero(uint64_t v) { return (v - kOnes) & ~v & kHighs; }
inline uint64_t SwarHasByte(uint64_t v, unsigned char b) { return SwarHasZero(v ^ (kOnes * b)); }
// Some byte < n (n <= 128), judging bytes >= 0x80 as not less.
inline uint64_t SwarHasLess(uint64_t v, unsigned char n) { return (v - kOnes * n) & ~v & kHighs; }
inline uint64_t SwarLoad(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

}  // namespace sluice
