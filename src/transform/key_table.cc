#include "transform/key_table.h"

#include <cstring>

#include <xxhash.h>

namespace sluice {

KeyTable::KeyTable() : starts_{0}, slots_(1024, -1) {}

std::pair<int64_t, bool> KeyTable::Insert(std::string_view key) {
  uint64_t h = XXH3_64bits(key.data(), key.size());
  uint64_t mask = slots_.size() - 1;
  for (uint64_t s = h & mask;; s = (s + 1) & mask) {
    int64_t id = slots_[s];
    if (id < 0) {
      id = size();
      arena_.insert(arena_.end(), key.begin(), key.end());
      starts_.push_back(arena_.size());
      hashes_.push_back(h);
      slots_[s] = id;
      // Keep the load under 1/2 so that probe runs stay short.
      if (static_cast<uint64_t>(size()) * 2 > slots_.size()) Grow();
      return {id, true};
    }
    if (hashes_[id] != h) continue;
    uint64_t len = starts_[id + 1] - starts_[id];
    if (len == key.size() &&
        (len == 0 || std::memcmp(arena_.data() + starts_[id], key.data(), len) == 0)) {
      return {id, false};
    }
  }
}

void KeyTable::Grow() {
  std::vector<int64_t> slots(slots_.size() * 2, -1);
  uint64_t mask = slots.size() - 1;
  for (int64_t id = 0; id < size(); ++id) {
    uint64_t s = hashes_[id] & mask;
    while (slots[s] >= 0) s = (s + 1) & mask;
    slots[s] = id;
  }
  slots_ = std::move(slots);
}

int64_t KeyTable::MemoryUsage() const {
  return static_cast<int64_t>(arena_.capacity() + starts_.capacity() * 8 + hashes_.capacity() * 8 +
                              slots_.capacity() * 8);
}

}  // namespace sluice
