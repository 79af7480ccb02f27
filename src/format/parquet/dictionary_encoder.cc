#include "format/parquet/dictionary_encoder.h"

namespace sluice::parquet {
namespace {

inline uint64_t Load64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

}  // namespace

int DictionaryIndexBitWidth(uint32_t n) {
  int bits = 1;
  while (bits < 32 && (uint64_t{1} << bits) < n) ++bits;
  return bits;
}

namespace internal {

uint64_t HashLongBytes(const char* p, size_t n) {
  uint64_t s0 = kMulA;
  uint64_t s1 = kMulB;
  size_t i = 0;
  for (; i + 16 < n; i += 16) {
    s0 = Fold(s0 ^ Load64(p + i), kMulB ^ Load64(p + i + 8));
    s1 += s0;
  }
  uint64_t a = Load64(p + n - 16) ^ s0;
  uint64_t b = Load64(p + n - 8) ^ s1;
  return MixBits(Fold(a ^ kMulA, b ^ kMulB ^ n) + a + b);
}

}  // namespace internal

void StringDictionary::AppendPlainOf(const uint32_t* indices, size_t n, ByteBuffer* out) const {
  size_t total = 0;
  for (size_t i = 0; i < n; ++i) total += 4 + entries_[indices[i]].length;
  size_t pos = out->size();
  out->resize(pos + total);
  char* dst = out->data() + pos;
  for (size_t i = 0; i < n; ++i) {
    const Entry& e = entries_[indices[i]];
    // The arena holds each value's 4-byte length right before its bytes.
    std::memcpy(dst, arena_.data() + e.offset - 4, 4 + e.length);
    dst += 4 + e.length;
  }
}

void StringDictionary::Clear() {
  arena_.clear();
  entries_.clear();
  hashes_.clear();
  size_t want = slots_.size() > kMaxKeptSlots ? kInitialSlots : slots_.size();
  if (want < kInitialSlots) want = kInitialSlots;
  // assign() keeps the capacity; a fresh vector gives a big table back.
  if (want < slots_.capacity()) std::vector<Slot>().swap(slots_);
  slots_.assign(want, Slot{});
  mask_ = want - 1;
  if (arena_.capacity() > (size_t{4} << 20)) arena_.shrink_to_fit();
}

void StringDictionary::Grow() {
  std::vector<Slot> fresh(slots_.size() * 2);
  slots_.swap(fresh);
  mask_ = slots_.size() - 1;
  for (uint32_t i = 0; i < entries_.size(); ++i) {
    size_t slot = static_cast<size_t>(hashes_[i]) & mask_;
    while (slots_[slot].index_plus_1 != 0) slot = (slot + 1) & mask_;
    slots_[slot] = Slot{static_cast<uint32_t>(hashes_[i] >> 32), i + 1};
  }
}

}  // namespace sluice::parquet
