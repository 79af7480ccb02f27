#include "format/parquet/rle_encoder.h"

#include <algorithm>
#include <cassert>

#include "format/parquet/thrift_compact.h"

namespace sluice::parquet {
namespace {

// Runs shorter than this are cheaper (or no dearer) bit-packed: a group of 8
// costs bit_width bytes, an RLE run at least 2.
constexpr int64_t kMinRleRun = 8;
constexpr size_t kMaxBufferedLiterals = 1024;

void PutVarint(uint64_t v, ByteBuffer* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

// Packs `groups` groups of 8 values LSB-first, bit_width bytes per group.
template <typename T>
void PackGroups(const T* v, size_t groups, int bit_width, char* dst) {
  if (bit_width <= 8) {
    // A group fits one 64-bit word.
    for (size_t g = 0; g < groups; ++g, v += 8, dst += bit_width) {
      uint64_t acc = 0;
      for (int k = 0; k < 8; ++k) acc |= static_cast<uint64_t>(v[k]) << (k * bit_width);
      for (int b = 0; b < bit_width; ++b) dst[b] = static_cast<char>(acc >> (8 * b));
    }
    return;
  }
  for (size_t g = 0; g < groups; ++g, v += 8) {
    uint64_t acc = 0;
    int bits = 0;
    for (int k = 0; k < 8; ++k) {
      acc |= static_cast<uint64_t>(v[k]) << bits;
      bits += bit_width;
      while (bits >= 8) {
        *dst++ = static_cast<char>(acc);
        acc >>= 8;
        bits -= 8;
      }
    }
  }
}

// n values in whole groups, the last one zero padded.
template <typename T>
void AppendBitPackedRun(const T* v, size_t n, int bit_width, ByteBuffer* out) {
  size_t groups = (n + 7) / 8;
  if (groups == 0) return;
  PutVarint((static_cast<uint64_t>(groups) << 1) | 1, out);
  size_t pos = out->size();
  out->resize(pos + groups * bit_width);
  size_t whole = n / 8;
  PackGroups(v, whole, bit_width, out->data() + pos);
  if (whole < groups) {
    T last[8] = {};
    for (size_t i = whole * 8; i < n; ++i) last[i - whole * 8] = v[i];
    PackGroups(last, 1, bit_width, out->data() + pos + whole * bit_width);
  }
}

void AppendRleRun(uint32_t v, size_t n, int bit_width, ByteBuffer* out) {
  PutVarint(static_cast<uint64_t>(n) << 1, out);
  for (int i = 0; i < (bit_width + 7) / 8; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}

template <typename T>
void AppendHybrid(const T* v, size_t n, int bit_width, ByteBuffer* out) {
  size_t lit = 0;  // first value not yet written
  size_t i = 0;
  while (i < n) {
    T x = v[i];
    size_t j = i + 1;
    while (j < n && v[j] == x) ++j;
    if (j - i >= static_cast<size_t>(kMinRleRun)) {
      // The bit-packed values before the run must fill whole groups, so the
      // run first tops up the last group.
      size_t fill = (8 - (i - lit) % 8) % 8;
      if (j - i - fill >= static_cast<size_t>(kMinRleRun)) {
        AppendBitPackedRun(v + lit, i + fill - lit, bit_width, out);
        AppendRleRun(x, j - i - fill, bit_width, out);
        lit = j;
      }
    }
    i = j;
  }
  AppendBitPackedRun(v + lit, n - lit, bit_width, out);
}

}  // namespace

void AppendRleBitPacked(const uint32_t* values, size_t n, int bit_width, ByteBuffer* out) {
  assert(bit_width >= 1 && bit_width <= 32);
  AppendHybrid(values, n, bit_width, out);
}

void AppendRleBitPacked(const uint8_t* values, size_t n, int bit_width, ByteBuffer* out) {
  assert(bit_width >= 1 && bit_width <= 8);
  AppendHybrid(values, n, bit_width, out);
}

RleBitPackedEncoder::RleBitPackedEncoder(int bit_width) : bit_width_(bit_width) {
  assert(bit_width >= 0 && bit_width <= 32);
}

void RleBitPackedEncoder::PutRepeated(uint32_t v, int64_t n) {
  if (n <= 0) return;
  if (v != run_value_ || run_length_ == 0) {
    EndRun();
    run_value_ = v;
  }
  run_length_ += n;
}

void RleBitPackedEncoder::EndRun() {
  if (run_length_ == 0) return;
  values_put_ += run_length_;
  int64_t n = run_length_;
  run_length_ = 0;
  // A bit-packed run must hold whole groups of 8, so the run first tops up the
  // literal buffer to a group boundary; only the rest can become an RLE run.
  int64_t fill = (8 - static_cast<int64_t>(literals_.size() % 8)) % 8;
  if (n - std::min(fill, n) < kMinRleRun) {
    literals_.insert(literals_.end(), n, run_value_);
    // Bound the buffer on long stretches of short runs by ending the
    // bit-packed run early; the next one costs a single header byte.
    if (literals_.size() >= kMaxBufferedLiterals) FlushLiterals(/*pad=*/false);
    return;
  }
  literals_.insert(literals_.end(), fill, run_value_);
  n -= fill;
  FlushLiterals(/*pad=*/true);
  WriteRleRun(run_value_, n);
}

void RleBitPackedEncoder::WriteRleRun(uint32_t v, int64_t n) {
  AppendVarint(static_cast<uint64_t>(n) << 1, &out_);
  int bytes = (bit_width_ + 7) / 8;
  for (int i = 0; i < bytes; ++i) out_.push_back(static_cast<char>(v >> (8 * i)));
}

void RleBitPackedEncoder::FlushLiterals(bool pad) {
  size_t count = pad ? (literals_.size() + 7) / 8 * 8 : literals_.size() / 8 * 8;
  if (count == 0) return;
  literals_.resize(std::max(count, literals_.size()), 0);
  int64_t groups = static_cast<int64_t>(count / 8);
  AppendVarint((static_cast<uint64_t>(groups) << 1) | 1, &out_);
  size_t start = out_.size();
  out_.resize(start + groups * bit_width_);
  char* dst = out_.data() + start;
  // Values go in LSB-first; a group of 8 ends on a byte boundary.
  uint64_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < count; ++i) {
    acc |= static_cast<uint64_t>(literals_[i]) << bits;
    bits += bit_width_;
    while (bits >= 8) {
      *dst++ = static_cast<char>(acc & 0xff);
      acc >>= 8;
      bits -= 8;
    }
  }
  assert(bits == 0);
  literals_.erase(literals_.begin(), literals_.begin() + count);
}

void RleBitPackedEncoder::FinishTo(std::string* out) {
  EndRun();
  FlushLiterals(/*pad=*/true);
  out->append(out_);
  out_.clear();
  values_put_ = 0;
}

}  // namespace sluice::parquet
