#include "transform/key_table.h"

#include <gtest/gtest.h>

#include <string>
#include <unordered_map>

namespace sluice {
namespace {

TEST(KeyTable, DenseIdsAndExactMatchesAcrossGrowth) {
  KeyTable t;
  std::unordered_map<std::string, int64_t> model;
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < 50000; ++i) {
      // Keys that share prefixes and differ only in length or a late byte.
      std::string key = std::string(i % 7, 'k') + std::to_string(i % 30011);
      auto [id, inserted] = t.Insert(key);
      auto it = model.find(key);
      if (it == model.end()) {
        ASSERT_TRUE(inserted) << key;
        ASSERT_EQ(id, static_cast<int64_t>(model.size()));
        model[key] = id;
      } else {
        ASSERT_FALSE(inserted) << key;
        ASSERT_EQ(id, it->second) << key;
      }
    }
  }
  EXPECT_EQ(t.size(), static_cast<int64_t>(model.size()));
}

TEST(KeyTable, EmbeddedZerosAndEmptyKey) {
  KeyTable t;
  EXPECT_TRUE(t.Insert(std::string_view("", 0)).second);
  EXPECT_TRUE(t.Insert(std::string_view("\0", 1)).second);
  EXPECT_TRUE(t.Insert(std::string_view("\0\0", 2)).second);
  EXPECT_FALSE(t.Insert(std::string_view("\0", 1)).second);
  EXPECT_EQ(t.Insert(std::string_view("", 0)).first, 0);
}

}  // namespace
}  // namespace sluice
