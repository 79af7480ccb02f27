// KeyTable: a hash set of byte strings that gives each distinct key a dense id
// (0, 1, 2, ... in insertion order). Keys are compared byte for byte, so two
// keys with the same hash are never confused. Memory is one byte arena, an
// offset per key and the slot array, not one heap object per key.
#pragma once

#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

namespace sluice {

class KeyTable {
 public:
  KeyTable();
  static uint64_t Hash(std::string_view key);
  // Returns the key's id and whether it was inserted now. `hash` is Hash(key).
  std::pair<int64_t, bool> Insert(std::string_view key, uint64_t hash);
  std::pair<int64_t, bool> Insert(std::string_view key) { return Insert(key, Hash(key)); }
  // The key's id, or -1 when it is not in the table.
  int64_t Find(std::string_view key) const;
  // Hints the cache about a coming Insert: with many keys each lookup is a
  // cache miss, so callers prefetch a few keys ahead.
  void Prefetch(uint64_t hash) const { __builtin_prefetch(&slots_[hash & (slots_.size() - 1)]); }
  int64_t size() const { return static_cast<int64_t>(starts_.size()) - 1; }
  int64_t MemoryUsage() const;

 private:
  // The hash sits next to the id so that most probes that miss are settled
  // without touching the arena (one cache line per probe).
  struct Slot {
    uint64_t hash = 0;
    int64_t id = -1;  // -1 = empty
  };
  void Grow();

  std::vector<char> arena_;       // key bytes, back to back
  std::vector<uint64_t> starts_;  // id -> offset in arena_ (size()+1 entries)
  std::vector<Slot> slots_;       // open addressing, linear probing; power-of-two size
};

}  // namespace sluice
