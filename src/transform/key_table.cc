#include "transform/key_table.h"

#include <cstring>

#include <xxhash.h>

namespace sluice {

KeyTable::KeyTable() : starts_{0}, slots_(1024) {}

uint64_t KeyTable::Hash(std::string_view key) { return XXH3_64bits(key.data(), key.size()); }

std::pair<int64_t, bool> KeyTable::Insert(std::string_view key, uint64_t h) {
  uint64_t mask = slots_.size() - 1;
  for (uint64_t s = h & mask;; s = (s + 1) & mask) {
    Slot& slot = slots_[s];
    if (slot.id < 0) {
      int64_t id = size();
      arena_.insert(arena_.end(), key.begin(), key.end());
      starts_.push_back(arena_.size());
      slot = {h, id};
      // Keep the load under 1/2 so that probe runs stay short.
      if (static_cast<uint64_t>(size()) * 2 > slots_.size()) Grow();
      return {id, true};
    }
    if (slot.hash != h) continue;
    uint64_t start = starts_[slot.id];
    uint64_t len = starts_[slot.id + 1] - start;
    if (len == key.size() &&
        (len == 0 || std::memcmp(arena_.data() + start, key.data(), len) == 0)) {
      return {slot.id, false};
    }
  }
}

int64_t KeyTable::Find(std::string_view key) const {
  const uint64_t h = Hash(key);
  const uint64_t mask = slots_.size() - 1;
  for (uint64_t s = h & mask;; s = (s + 1) & mask) {
    const Slot& slot = slots_[s];
    if (slot.id < 0) return -1;
    if (slot.hash != h) continue;
    uint64_t start = starts_[slot.id];
    uint64_t len = starts_[slot.id + 1] - start;
    if (len == key.size() &&
        (len == 0 || std::memcmp(arena_.data() + start, key.data(), len) == 0)) {
      return slot.id;
    }
  }
}

void KeyTable::Grow() {
  std::vector<Slot> slots(slots_.size() * 2);
  uint64_t mask = slots.size() - 1;
  for (const Slot& old : slots_) {
    if (old.id < 0) continue;
    uint64_t s = old.hash & mask;
    while (slots[s].id >= 0) s = (s + 1) & mask;
    slots[s] = old;
  }
  slots_ = std::move(slots);
}

int64_t KeyTable::MemoryUsage() const {
  return static_cast<int64_t>(arena_.capacity() + starts_.capacity() * sizeof(uint64_t) +
                              slots_.capacity() * sizeof(Slot));
}

}  // namespace sluice
