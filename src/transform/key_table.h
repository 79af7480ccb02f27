// KeyTable: a hash set of byte strings that gives each distinct key a dense id
// (0, 1, 2, ... in insertion order). Keys are compared byte for byte, so two
// keys with the same hash are never confused. Memory is one byte arena plus
// three integer arrays, not one heap object per key.
#pragma once

#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

namespace sluice {

class KeyTable {
 public:
  KeyTable();
  // Returns the key's id and whether it was inserted now.
  std::pair<int64_t, bool> Insert(std::string_view key);
  int64_t size() const { return static_cast<int64_t>(hashes_.size()); }
  int64_t MemoryUsage() const;

 private:
  void Grow();

  std::vector<char> arena_;       // key bytes, back to back
  std::vector<uint64_t> starts_;  // id -> offset in arena_ (size()+1 entries)
  std::vector<uint64_t> hashes_;  // id -> hash
  std::vector<int64_t> slots_;    // open addressing, -1 = empty; power-of-two size
};

}  // namespace sluice
