#include "format/parquet/rle_encoder.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "parquet_test_reader.h"

namespace sluice::parquet {
namespace {

std::string RleHex(const std::string& s) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    if (!out.empty()) out += ' ';
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

std::string Encode(int bit_width, const std::vector<uint32_t>& values) {
  RleBitPackedEncoder enc(bit_width);
  for (uint32_t v : values) enc.Put(v);
  std::string out;
  enc.FinishTo(&out);
  return out;
}

std::vector<uint32_t> Repeat(uint32_t v, int n) { return std::vector<uint32_t>(n, v); }
std::vector<uint32_t> Concat(std::vector<uint32_t> a, const std::vector<uint32_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// Expected bytes derived by hand from the hybrid grammar in the parquet-format
// Encodings spec: RLE header = count << 1 then the value in ceil(w/8) bytes;
// bit-packed header = (groups << 1) | 1 then values LSB-first.
TEST(RleEncoderTest, KnownByteSequences) {
  struct Case {
    const char* name;
    int bit_width;
    std::vector<uint32_t> values;
    const char* hex;
  } cases[] = {
      {"Empty", 1, {}, ""},
      {"TenOnes", 1, Repeat(1, 10), "14 01"},
      {"ThousandOnes", 1, Repeat(1, 1000), "d0 0f 01"},
      // 5 values padded to one group: 1,0,1,0,1,0,0,0 -> 0b00010101.
      {"ShortLiteral", 1, {1, 0, 1, 0, 1}, "03 15"},
      // 3 zeros + 10 ones: the ones first top up the group (5), the 5 left are
      // too few for RLE, so all 13 are bit-packed in 2 groups.
      {"ShortRunsPacked", 1, Concat(Repeat(0, 3), Repeat(1, 10)), "05 f8 1f"},
      // 3 zeros + 20 ones: one packed group 0,0,0,1,1,1,1,1 then RLE of 15 ones.
      {"PackedThenRle", 1, Concat(Repeat(0, 3), Repeat(1, 20)), "03 f8 1e 01"},
      // The spec's own example: 0..7 with bit width 3.
      {"SpecExampleWidth3", 3, {0, 1, 2, 3, 4, 5, 6, 7}, "03 88 c6 fa"},
      // A 9-bit value takes two bytes in an RLE run.
      {"TwoByteRleValue", 9, Repeat(300, 8), "10 2c 01"},
      {"RleThenRle", 1, Concat(Repeat(1, 8), Repeat(0, 8)), "10 01 10 00"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(RleHex(Encode(c.bit_width, c.values)), c.hex) << c.name;
  }
}

TEST(RleEncoderTest, PutRepeatedMatchesPut) {
  RleBitPackedEncoder a(1), b(1);
  for (int i = 0; i < 3; ++i) a.Put(0);
  for (int i = 0; i < 100; ++i) a.Put(1);
  a.Put(0);
  b.PutRepeated(0, 3);
  b.PutRepeated(1, 60);
  b.PutRepeated(1, 40);
  b.PutRepeated(0, 1);
  b.PutRepeated(1, 0);
  EXPECT_EQ(a.values_put(), 104);
  EXPECT_EQ(b.values_put(), 104);
  std::string sa, sb;
  a.FinishTo(&sa);
  b.FinishTo(&sb);
  EXPECT_EQ(RleHex(sa), RleHex(sb));
}

TEST(RleEncoderTest, FinishResetsForReuse) {
  RleBitPackedEncoder enc(1);
  enc.PutRepeated(1, 10);
  std::string first;
  enc.FinishTo(&first);
  EXPECT_EQ(enc.values_put(), 0);
  enc.Put(1);
  enc.Put(0);
  std::string second = "xx";
  enc.FinishTo(&second);
  EXPECT_EQ(RleHex(first), "14 01");
  EXPECT_EQ(RleHex(second), "78 78 03 01");  // appended after the existing bytes
}

// Random patterns of runs and noise, at several widths, decode back exactly.
TEST(RleEncoderTest, RoundTripsRandomPatterns) {
  std::mt19937 rng(42);
  for (int bit_width : {1, 2, 3, 5, 8, 12, 17, 32}) {
    for (int trial = 0; trial < 30; ++trial) {
      std::vector<uint32_t> values;
      uint64_t max = bit_width == 32 ? 0xffffffffull : (uint64_t{1} << bit_width) - 1;
      int segments = 1 + rng() % 40;
      for (int s = 0; s < segments; ++s) {
        uint32_t v = static_cast<uint32_t>(rng() % (max + 1));
        int len = 1 + rng() % (rng() % 2 ? 3 : 200);
        bool noise = rng() % 3 == 0;
        for (int i = 0; i < len; ++i) {
          values.push_back(noise ? static_cast<uint32_t>(rng() % (max + 1)) : v);
        }
      }
      std::string out = Encode(bit_width, values);
      EXPECT_EQ(testing::DecodeRleHybrid(out, bit_width, values.size()), values)
          << "width " << bit_width << " trial " << trial;
    }
  }
}

// Long alternating input is flushed in pieces; it must still decode.
TEST(RleEncoderTest, LongLiteralStretch) {
  std::vector<uint32_t> values;
  for (int i = 0; i < 5003; ++i) values.push_back(i % 2);
  std::string out = Encode(1, values);
  EXPECT_EQ(testing::DecodeRleHybrid(out, 1, values.size()), values);
  // Packed data is one bit per value plus a few headers.
  EXPECT_LT(out.size(), 5003 / 8 + 20);
}

// --- AppendRleBitPacked: the one-pass encoder of a buffered array -------------

std::string Bulk(int bit_width, const std::vector<uint32_t>& values) {
  ByteBuffer out;
  AppendRleBitPacked(values.data(), values.size(), bit_width, &out);
  return std::string(out.view());
}

// The same grammar as the streaming encoder; where the streaming encoder does
// not split long literal runs the bytes are identical.
TEST(RleEncoderTest, BulkKnownByteSequences) {
  struct Case {
    const char* name;
    int bit_width;
    std::vector<uint32_t> values;
    const char* hex;
  } cases[] = {
      {"Empty", 1, {}, ""},
      {"TenOnes", 1, Repeat(1, 10), "14 01"},
      {"ShortLiteral", 1, {1, 0, 1, 0, 1}, "03 15"},
      {"ShortRunsPacked", 1, Concat(Repeat(0, 3), Repeat(1, 10)), "05 f8 1f"},
      {"PackedThenRle", 1, Concat(Repeat(0, 3), Repeat(1, 20)), "03 f8 1e 01"},
      {"SpecExampleWidth3", 3, {0, 1, 2, 3, 4, 5, 6, 7}, "03 88 c6 fa"},
      {"TwoByteRleValue", 9, Repeat(300, 8), "10 2c 01"},
      {"RleThenRle", 1, Concat(Repeat(1, 8), Repeat(0, 8)), "10 01 10 00"},
      // Width 32: an RLE value takes 4 bytes.
      {"Width32Rle", 32, Repeat(0xdeadbeef, 9), "12 ef be ad de"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(RleHex(Bulk(c.bit_width, c.values)), c.hex) << c.name;
    EXPECT_EQ(Bulk(c.bit_width, c.values), Encode(c.bit_width, c.values)) << c.name;
  }
}

TEST(RleEncoderTest, BulkRoundTripsRandomPatternsAtEveryWidth) {
  std::mt19937 rng(7);
  for (int bit_width = 1; bit_width <= 32; ++bit_width) {
    for (int trial = 0; trial < 20; ++trial) {
      std::vector<uint32_t> values;
      uint64_t max = bit_width == 32 ? 0xffffffffull : (uint64_t{1} << bit_width) - 1;
      int segments = 1 + rng() % 40;
      for (int s = 0; s < segments; ++s) {
        uint32_t v = static_cast<uint32_t>(rng() % (max + 1));
        int len = 1 + rng() % (rng() % 2 ? 9 : 200);
        bool noise = rng() % 3 == 0;
        for (int i = 0; i < len; ++i) {
          values.push_back(noise ? static_cast<uint32_t>(rng() % (max + 1)) : v);
        }
      }
      std::string out = Bulk(bit_width, values);
      size_t used = 0;
      EXPECT_EQ(testing::DecodeRleHybrid(out, bit_width, values.size(), &used), values)
          << "width " << bit_width << " trial " << trial;
      EXPECT_EQ(used, out.size()) << "trailing bytes, width " << bit_width;
    }
  }
}

TEST(RleEncoderTest, BulkBytesMatchWordsAndAppend) {
  std::mt19937 rng(3);
  std::vector<uint8_t> levels;
  for (int i = 0; i < 3000; ++i) levels.push_back(rng() % 7 == 0 ? 0 : 1);
  for (int i = 0; i < 100; ++i) levels.push_back(1);
  std::vector<uint32_t> words(levels.begin(), levels.end());
  ByteBuffer a;
  a.append("xy", 2);  // appends after what is there
  AppendRleBitPacked(levels.data(), levels.size(), 1, &a);
  EXPECT_EQ(a.view().substr(0, 2), "xy");
  EXPECT_EQ(std::string(a.view().substr(2)), Bulk(1, words));
  EXPECT_EQ(testing::DecodeRleHybrid(a.view().substr(2), 1, words.size()), words);
}

TEST(RleEncoderTest, BulkLongRunsAreRleAndLongNoiseIsOneRun) {
  // A million equal values: one RLE run, a few bytes.
  std::vector<uint32_t> same(1'000'000, 5);
  EXPECT_EQ(Bulk(3, same).size(), 4u);  // 3-byte varint header + 1 value byte
  // Distinct values: bit-packed, exactly width bits per value plus a header.
  std::vector<uint32_t> distinct;
  for (uint32_t i = 0; i < 8000; ++i) distinct.push_back(i % 4096);
  std::string out = Bulk(12, distinct);
  EXPECT_EQ(out.size(), 8000u * 12 / 8 + 2);
  EXPECT_EQ(testing::DecodeRleHybrid(out, 12, distinct.size()), distinct);
}

}  // namespace
}  // namespace sluice::parquet
