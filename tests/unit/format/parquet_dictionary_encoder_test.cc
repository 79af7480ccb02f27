#include "format/parquet/dictionary_encoder.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

namespace sluice::parquet {
namespace {

constexpr int64_t kNoLimit = int64_t{1} << 40;

TEST(DictionaryEncoderTest, IndexBitWidth) {
  struct Case {
    uint32_t entries;
    int bits;
  } cases[] = {{0, 1},
               {1, 1},
               {2, 1},
               {3, 2},
               {4, 2},
               {5, 3},
               {255, 8},
               {256, 8},
               {257, 9},
               {65536, 16},
               {65537, 17},
               {1u << 20, 20},
               {(1u << 20) + 1, 21},
               {0xffffffffu, 32}};
  for (const Case& c : cases) EXPECT_EQ(DictionaryIndexBitWidth(c.entries), c.bits) << c.entries;
}

TEST(DictionaryEncoderTest, EqualBytesAgreesWithMemcmpAtEveryLength) {
  std::mt19937 rng(1);
  for (size_t n = 0; n <= 40; ++n) {
    for (int trial = 0; trial < 50; ++trial) {
      std::string a(n, '\0');
      for (char& c : a) c = static_cast<char>(rng() % 3);  // few symbols: equal often
      std::string b = a;
      if (n > 0 && rng() % 2) b[rng() % n] ^= static_cast<char>(1 + rng() % 255);
      EXPECT_EQ(EqualBytes(a.data(), b.data(), n), std::memcmp(a.data(), b.data(), n) == 0) << n;
    }
  }
}

TEST(DictionaryEncoderTest, HashBytesSeparatesNearStrings) {
  // Strings that differ in one byte anywhere, at every length: no two of
  // them may collide on the full 64-bit hash (the loads overlap differently
  // at each length, so this covers every path).
  std::map<uint64_t, std::string> seen;
  for (size_t n = 0; n <= 70; ++n) {
    std::string base(n, 'x');
    for (size_t i = 0; i <= n; ++i) {
      std::string s = base;
      if (i < n) s[i] = 'y';
      auto [it, inserted] = seen.emplace(HashBytes(s.data(), s.size()), s);
      EXPECT_TRUE(inserted || it->second == s) << "'" << s << "' and '" << it->second << "'";
    }
  }
  EXPECT_EQ(HashBytes("abc", 3), HashBytes(std::string("abc").data(), 3));
}

TEST(DictionaryEncoderTest, FixedIndicesFollowFirstAppearance) {
  FixedDictionary<int64_t> d;
  std::vector<int64_t> in = {7, -1, 7, 0, std::numeric_limits<int64_t>::min(), -1, 0, 42};
  std::vector<uint32_t> got;
  for (int64_t v : in) {
    uint32_t idx = 99;
    ASSERT_TRUE(d.GetOrInsert(v, kNoLimit, &idx));
    got.push_back(idx);
  }
  EXPECT_EQ(got, (std::vector<uint32_t>{0, 1, 0, 2, 3, 1, 2, 4}));
  EXPECT_EQ(d.size(), 5u);
  EXPECT_EQ(d.bytes(), 40);
  ByteBuffer page;
  d.AppendPlain(&page);
  ASSERT_EQ(page.size(), 40u);
  std::vector<int64_t> values(5);
  std::memcpy(values.data(), page.data(), 40);
  EXPECT_EQ(values, (std::vector<int64_t>{7, -1, 0, std::numeric_limits<int64_t>::min(), 42}));
  ByteBuffer plain;
  d.AppendPlainOf(got.data(), got.size(), &plain);
  ASSERT_EQ(plain.size(), in.size() * 8);
  EXPECT_EQ(std::memcmp(plain.data(), in.data(), plain.size()), 0);
}

TEST(DictionaryEncoderTest, DoublesAreKeyedOnTheirBits) {
  FixedDictionary<double> d;
  double nan1 = std::nan("1");
  double nan2 = std::nan("2");
  uint32_t a, b, c, e, f, g;
  ASSERT_TRUE(d.GetOrInsert(0.0, kNoLimit, &a));
  ASSERT_TRUE(d.GetOrInsert(-0.0, kNoLimit, &b));
  ASSERT_TRUE(d.GetOrInsert(nan1, kNoLimit, &c));
  ASSERT_TRUE(d.GetOrInsert(nan1, kNoLimit, &e));  // NaN != NaN, but the bits match
  ASSERT_TRUE(d.GetOrInsert(nan2, kNoLimit, &f));
  ASSERT_TRUE(d.GetOrInsert(-0.0, kNoLimit, &g));
  EXPECT_NE(a, b);
  EXPECT_EQ(c, e);
  EXPECT_NE(c, f);
  EXPECT_EQ(b, g);
  EXPECT_EQ(d.size(), 4u);
  EXPECT_TRUE(std::signbit(d.values()[b]));
}

TEST(DictionaryEncoderTest, FixedMatchesAReferenceMapThroughGrowth) {
  std::mt19937 rng(5);
  FixedDictionary<int32_t> d;
  std::unordered_map<int32_t, uint32_t> ref;
  for (int i = 0; i < 200000; ++i) {
    // A mix of a small hot set and many rare values, so the table grows
    // while hits keep coming.
    int32_t v = rng() % 4 ? static_cast<int32_t>(rng() % 50) : static_cast<int32_t>(rng());
    uint32_t idx;
    ASSERT_TRUE(d.GetOrInsert(v, kNoLimit, &idx));
    auto [it, inserted] = ref.emplace(v, static_cast<uint32_t>(ref.size()));
    ASSERT_EQ(idx, it->second) << i;
  }
  EXPECT_EQ(d.size(), ref.size());
  d.Clear();
  EXPECT_EQ(d.size(), 0u);
  uint32_t idx;
  ASSERT_TRUE(d.GetOrInsert(12345, kNoLimit, &idx));
  EXPECT_EQ(idx, 0u);
}

TEST(DictionaryEncoderTest, FixedLimitRefusesOnlyNewValues) {
  FixedDictionary<int32_t> d;
  uint32_t idx;
  const int64_t limit = 12;  // three int32 values
  ASSERT_TRUE(d.GetOrInsert(1, limit, &idx));
  ASSERT_TRUE(d.GetOrInsert(2, limit, &idx));
  ASSERT_TRUE(d.GetOrInsert(3, limit, &idx));
  EXPECT_FALSE(d.GetOrInsert(4, limit, &idx));
  EXPECT_EQ(d.size(), 3u);
  ASSERT_TRUE(d.GetOrInsert(2, limit, &idx));
  EXPECT_EQ(idx, 1u);
  EXPECT_FALSE(d.GetOrInsert(4, limit, &idx));
}

TEST(DictionaryEncoderTest, StringsArenaIsThePlainPage) {
  StringDictionary d;
  std::vector<std::string> in = {"EUR",
                                 "",
                                 "USD",
                                 "EUR",
                                 std::string("a\0b", 3),
                                 "a long string that takes the looped hash path",
                                 "",
                                 "USD"};
  std::vector<uint32_t> got;
  for (const std::string& s : in) {
    uint32_t idx = 99;
    ASSERT_TRUE(d.GetOrInsert(s.data(), static_cast<uint32_t>(s.size()), kNoLimit, &idx));
    got.push_back(idx);
  }
  EXPECT_EQ(got, (std::vector<uint32_t>{0, 1, 2, 0, 3, 4, 1, 2}));
  ASSERT_EQ(d.size(), 5u);
  EXPECT_EQ(d.value(3), std::string_view("a\0b", 3));
  ByteBuffer page;
  d.AppendPlain(&page);
  EXPECT_EQ(static_cast<int64_t>(page.size()), d.bytes());
  // PLAIN BYTE_ARRAY: 4-byte LE length, then the bytes, in index order.
  std::string want;
  for (uint32_t i = 0; i < d.size(); ++i) {
    std::string_view v = d.value(i);
    uint32_t len = static_cast<uint32_t>(v.size());
    want.append(reinterpret_cast<const char*>(&len), 4);
    want.append(v);
  }
  EXPECT_EQ(std::string(page.view()), want);
  ByteBuffer plain;
  d.AppendPlainOf(got.data(), got.size(), &plain);
  std::string want_plain;
  for (const std::string& s : in) {
    uint32_t len = static_cast<uint32_t>(s.size());
    want_plain.append(reinterpret_cast<const char*>(&len), 4);
    want_plain.append(s);
  }
  EXPECT_EQ(std::string(plain.view()), want_plain);
}

TEST(DictionaryEncoderTest, StringsMatchAReferenceMapThroughGrowth) {
  std::mt19937 rng(9);
  StringDictionary d;
  std::unordered_map<std::string, uint32_t> ref;
  std::string s;
  for (int i = 0; i < 100000; ++i) {
    s.clear();
    int len = rng() % 4 == 0 ? static_cast<int>(rng() % 40) : static_cast<int>(rng() % 4);
    for (int k = 0; k < len; ++k) s.push_back(static_cast<char>('a' + rng() % 3));
    uint32_t idx;
    ASSERT_TRUE(d.GetOrInsert(s.data(), static_cast<uint32_t>(s.size()), kNoLimit, &idx));
    auto [it, inserted] = ref.emplace(s, static_cast<uint32_t>(ref.size()));
    ASSERT_EQ(idx, it->second) << i << " '" << s << "'";
    ASSERT_EQ(d.value(idx), s);
  }
  EXPECT_EQ(d.size(), ref.size());
  d.Clear();
  EXPECT_EQ(d.size(), 0u);
  EXPECT_EQ(d.bytes(), 0);
}

TEST(DictionaryEncoderTest, StringLimitCountsLengthPrefixes) {
  StringDictionary d;
  uint32_t idx;
  // "ab" and "cd" take 4 + 2 bytes each: 12 fit exactly.
  ASSERT_TRUE(d.GetOrInsert("ab", 2, 12, &idx));
  ASSERT_TRUE(d.GetOrInsert("cd", 2, 12, &idx));
  EXPECT_EQ(d.bytes(), 12);
  EXPECT_FALSE(d.GetOrInsert("", 0, 12, &idx));
  ASSERT_TRUE(d.GetOrInsert("ab", 2, 12, &idx));
  EXPECT_EQ(idx, 0u);
  EXPECT_EQ(d.size(), 2u);
}

}  // namespace
}  // namespace sluice::parquet
