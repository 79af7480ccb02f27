// Dictionaries of one column chunk for the RLE_DICTIONARY encoding: each
// distinct value gets the next index (0, 1, ...), and the dictionary page is
// the distinct values in index order, PLAIN-encoded.
//
// Both dictionaries are open-addressing hash tables with linear probing, kept
// at most half full. FixedDictionary keys on the value's bits (so -0.0 and
// 0.0, or NaNs with different payloads, are distinct entries: a reader gets
// back exactly the bits written). StringDictionary keeps the distinct strings
// in one arena that already is the PLAIN dictionary page (4-byte length +
// bytes per value), so inserting allocates nothing per value; its slots hold
// a 32-bit hash and the index, the entry table the arena offset and length.
//
// Lookups are inline: they run once per value in the writer's hot loop.
// Threading: not thread-safe; one dictionary per column writer.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "format/parquet/byte_buffer.h"

namespace sluice::parquet {

// Bits needed for indices 0..n-1, at least 1: a bit width of 0 is legal for a
// one-entry dictionary, but not every reader accepts it.
int DictionaryIndexBitWidth(uint32_t n);

// 64-bit mixer (the finaliser of a multiply-xorshift hash); cheap and good
// enough to spread integer keys over a power-of-two table.
inline uint64_t MixBits(uint64_t x) {
  x ^= x >> 32;
  x *= 0xd6e8feb86659fd93ULL;
  x ^= x >> 32;
  x *= 0xd6e8feb86659fd93ULL;
  x ^= x >> 32;
  return x;
}

namespace internal {
inline constexpr uint64_t kMulA = 0x9e3779b97f4a7c15ULL;
inline constexpr uint64_t kMulB = 0xc2b2ae3d27d4eb4fULL;
// 64x64 -> 128 multiply folded to 64 bits: mixes every input bit into every
// output bit.
inline uint64_t Fold(uint64_t a, uint64_t b) {
  unsigned __int128 r = static_cast<unsigned __int128>(a) * b;
  return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
}
uint64_t HashLongBytes(const char* p, size_t n);
}  // namespace internal

// Hash of a byte string, tuned for the short strings dictionaries see most:
// up to 16 bytes take two (possibly overlapping) loads, one multiply and no
// loop or call.
inline uint64_t HashBytes(const char* p, size_t n) {
  if (n > 16) return internal::HashLongBytes(p, n);
  uint64_t a = 0;
  uint64_t b = 0;
  if (n >= 8) {
    std::memcpy(&a, p, 8);
    std::memcpy(&b, p + n - 8, 8);
  } else if (n >= 4) {
    uint32_t lo, hi;
    std::memcpy(&lo, p, 4);
    std::memcpy(&hi, p + n - 4, 4);
    a = lo;
    b = hi;
  } else if (n > 0) {
    // First, middle and last byte cover every length 1..3.
    a = (uint64_t{static_cast<uint8_t>(p[0])} << 16) |
        (uint64_t{static_cast<uint8_t>(p[n >> 1])} << 8) | static_cast<uint8_t>(p[n - 1]);
  }
  // Adding the raw words back keeps inputs apart even when one factor of the
  // product happens to be zero.
  return internal::Fold(a ^ internal::kMulA, b ^ internal::kMulB ^ n) + a + b;
}

// a[0, n) == b[0, n), without a library call for short strings (the common
// dictionary case, where memcmp's call costs more than the compare).
inline bool EqualBytes(const char* a, const char* b, size_t n) {
  if (n >= 8) {
    if (n > 16) return std::memcmp(a, b, n) == 0;
    uint64_t a0, b0, a1, b1;
    std::memcpy(&a0, a, 8);
    std::memcpy(&b0, b, 8);
    std::memcpy(&a1, a + n - 8, 8);
    std::memcpy(&b1, b + n - 8, 8);
    return ((a0 ^ b0) | (a1 ^ b1)) == 0;
  }
  if (n >= 4) {
    uint32_t a0, b0, a1, b1;
    std::memcpy(&a0, a, 4);
    std::memcpy(&b0, b, 4);
    std::memcpy(&a1, a + n - 4, 4);
    std::memcpy(&b1, b + n - 4, 4);
    return ((a0 ^ b0) | (a1 ^ b1)) == 0;
  }
  for (size_t i = 0; i < n; ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

// T is the PLAIN value type: int32_t, int64_t or double.
template <typename T>
class FixedDictionary {
 public:
  static_assert(sizeof(T) == 4 || sizeof(T) == 8, "fixed-width PLAIN values only");
  using Bits = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;

  FixedDictionary() { Clear(); }

  // Index of v, inserting it when new. Returns false (and inserts nothing)
  // when v is new and the dictionary already holds `max_bytes` of values.
  bool GetOrInsert(T v, int64_t max_bytes, uint32_t* index) {
    Bits key;
    std::memcpy(&key, &v, sizeof(T));
    size_t slot = static_cast<size_t>(MixBits(key)) & mask_;
    while (true) {
      Slot& s = slots_[slot];
      if (s.index_plus_1 == 0) break;
      if (s.key == key) {
        *index = s.index_plus_1 - 1;
        return true;
      }
      slot = (slot + 1) & mask_;
    }
    if (bytes() + static_cast<int64_t>(sizeof(T)) > max_bytes) return false;
    *index = static_cast<uint32_t>(values_.size());
    values_.push_back(v);
    slots_[slot] = Slot{key, *index + 1};
    if (values_.size() * 2 > slots_.size()) Grow();
    return true;
  }

  uint32_t size() const { return static_cast<uint32_t>(values_.size()); }
  // Size of the PLAIN dictionary page.
  int64_t bytes() const { return static_cast<int64_t>(values_.size() * sizeof(T)); }
  const T* values() const { return values_.data(); }
  // Appends the PLAIN dictionary page (the values in index order).
  void AppendPlain(ByteBuffer* out) const {
    out->append(values_.data(), values_.size() * sizeof(T));
  }
  // Appends the PLAIN value of each index (the encoding a fallback needs).
  void AppendPlainOf(const uint32_t* indices, size_t n, ByteBuffer* out) const {
    size_t pos = out->size();
    out->resize(pos + n * sizeof(T));
    char* dst = out->data() + pos;
    for (size_t i = 0; i < n; ++i)
      std::memcpy(dst + i * sizeof(T), &values_[indices[i]], sizeof(T));
  }
  // Forgets every value; keeps small tables, shrinks big ones so that one odd
  // chunk does not pin megabytes for the writer's life.
  void Clear() {
    values_.clear();
    size_t want = slots_.size() > kMaxKeptSlots ? kInitialSlots : slots_.size();
    if (want < kInitialSlots) want = kInitialSlots;
    // assign() keeps the capacity; a fresh vector gives a big table back.
    if (want < slots_.capacity()) std::vector<Slot>().swap(slots_);
    slots_.assign(want, Slot{});
    mask_ = want - 1;
  }
  // Heap bytes held (table and values), for memory accounting and tests.
  int64_t reserved_bytes() const {
    return static_cast<int64_t>(slots_.capacity() * sizeof(Slot) + values_.capacity() * sizeof(T));
  }

 private:
  // Small to start with: a writer holds one dictionary per column, and a wide
  // schema (tens of thousands of columns) must not pay a big table for each.
  static constexpr size_t kInitialSlots = 16;
  static constexpr size_t kMaxKeptSlots = 64 * 1024;
  struct Slot {
    Bits key = 0;
    uint32_t index_plus_1 = 0;  // 0: empty
  };

  void Grow() {
    std::vector<Slot> old(slots_.size() * 2);
    old.swap(slots_);
    mask_ = slots_.size() - 1;
    for (const Slot& s : old) {
      if (s.index_plus_1 == 0) continue;
      size_t slot = static_cast<size_t>(MixBits(s.key)) & mask_;
      while (slots_[slot].index_plus_1 != 0) slot = (slot + 1) & mask_;
      slots_[slot] = s;
    }
  }

  std::vector<T> values_;
  std::vector<Slot> slots_;
  size_t mask_ = 0;
};

class StringDictionary {
 public:
  StringDictionary() { Clear(); }

  // Index of the n bytes at p, inserting them when new. Returns false (and
  // inserts nothing) when the string is new and would take the PLAIN page
  // past `max_bytes`.
  bool GetOrInsert(const char* p, uint32_t n, int64_t max_bytes, uint32_t* index) {
    uint64_t h = HashBytes(p, n);
    uint32_t tag = static_cast<uint32_t>(h >> 32);
    size_t slot = static_cast<size_t>(h) & mask_;
    while (true) {
      const Slot& s = slots_[slot];
      if (s.index_plus_1 == 0) break;
      if (s.tag == tag) {
        const Entry& e = entries_[s.index_plus_1 - 1];
        if (e.length == n && EqualBytes(arena_.data() + e.offset, p, n)) {
          *index = s.index_plus_1 - 1;
          return true;
        }
      }
      slot = (slot + 1) & mask_;
    }
    if (bytes() + 4 + static_cast<int64_t>(n) > max_bytes) return false;
    *index = static_cast<uint32_t>(entries_.size());
    char len[4];
    for (int i = 0; i < 4; ++i) len[i] = static_cast<char>(n >> (8 * i));
    arena_.append(len, 4);
    entries_.push_back(Entry{static_cast<uint32_t>(arena_.size()), n});
    hashes_.push_back(h);
    if (n > 0) arena_.append(p, n);  // p may be null for an empty string
    slots_[slot] = Slot{tag, *index + 1};
    if (entries_.size() * 2 > slots_.size()) Grow();
    return true;
  }

  uint32_t size() const { return static_cast<uint32_t>(entries_.size()); }
  int64_t bytes() const { return static_cast<int64_t>(arena_.size()); }
  std::string_view value(uint32_t i) const {
    return {arena_.data() + entries_[i].offset, entries_[i].length};
  }
  void AppendPlain(ByteBuffer* out) const { out->append(arena_); }
  void AppendPlainOf(const uint32_t* indices, size_t n, ByteBuffer* out) const;
  void Clear();
  // Heap bytes held (tables and arena), for memory accounting and tests.
  int64_t reserved_bytes() const {
    return static_cast<int64_t>(arena_.capacity() + entries_.capacity() * sizeof(Entry) +
                                slots_.capacity() * sizeof(Slot) +
                                hashes_.capacity() * sizeof(uint64_t));
  }

 private:
  // Small to start with (see FixedDictionary).
  static constexpr size_t kInitialSlots = 16;
  static constexpr size_t kMaxKeptSlots = 64 * 1024;
  struct Slot {
    uint32_t tag = 0;  // high half of the hash
    uint32_t index_plus_1 = 0;
  };
  struct Entry {
    uint32_t offset;  // of the bytes in arena_ (after their length)
    uint32_t length;
  };

  void Grow();

  std::string arena_;  // the PLAIN dictionary page
  std::vector<Entry> entries_;
  std::vector<Slot> slots_;
  size_t mask_ = 0;
  // Full hashes of the entries, so that growing does not rehash the bytes.
  std::vector<uint64_t> hashes_;
};

}  // namespace sluice::parquet
