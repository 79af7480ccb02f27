#include <gtest/gtest.h>
#include <xxhash.h>

#include <cstring>

#include "expr_test_util.h"

namespace sluice::expr {
namespace {

using testing::BindError;
using testing::Cells;
using testing::Eval;
using testing::EvalConst;
using testing::MakeBatch;
using testing::One;

// The documented byte layout, built by hand.
struct Bytes {
  std::string b;
  Bytes& Null() {
    b.push_back('\0');
    return *this;
  }
  Bytes& Int(int64_t v) {
    b.push_back('\1');
    for (int k = 0; k < 8; ++k)
      b.push_back(static_cast<char>((static_cast<uint64_t>(v) >> (8 * k)) & 0xFF));
    return *this;
  }
  Bytes& Float(double d) {
    uint64_t bits;
    std::memcpy(&bits, &d, 8);
    return Int(static_cast<int64_t>(bits));
  }
  Bytes& Bool(bool v) {
    b.push_back('\1');
    b.push_back(v ? '\1' : '\0');
    return *this;
  }
  Bytes& Str(const std::string& s) {
    b.push_back('\1');
    uint32_t n = static_cast<uint32_t>(s.size());
    for (int k = 0; k < 4; ++k) b.push_back(static_cast<char>((n >> (8 * k)) & 0xFF));
    b += s;
    return *this;
  }
  std::string Hash() const {
    return std::to_string(static_cast<int64_t>(XXH64(b.data(), b.size(), 0)));
  }
};

TEST(HashFunctions, XxhashOfEachTypeFollowsTheDocumentedBytes) {
  EXPECT_EQ(One("xxhash64(42)"), Bytes().Int(42).Hash());
  EXPECT_EQ(One("xxhash64(CAST(42 AS int64))"), Bytes().Int(42).Hash());
  EXPECT_EQ(One("xxhash64(-1)"), Bytes().Int(-1).Hash());
  EXPECT_EQ(One("xxhash64('abc')"), Bytes().Str("abc").Hash());
  EXPECT_EQ(One("xxhash64('')"), Bytes().Str("").Hash());
  EXPECT_EQ(One("xxhash64(TRUE)"), Bytes().Bool(true).Hash());
  EXPECT_EQ(One("xxhash64(FALSE)"), Bytes().Bool(false).Hash());
  EXPECT_EQ(One("xxhash64(1.5e0)"), Bytes().Float(1.5).Hash());
  EXPECT_EQ(One("xxhash64(1.50)"), Bytes().Int(150).Hash());  // unscaled decimal
  EXPECT_EQ(One("xxhash64(DATE '1970-01-11')"), Bytes().Int(10).Hash());
  EXPECT_EQ(One("xxhash64(TIMESTAMP '1970-01-01 00:00:01')"), Bytes().Int(1000000).Hash());
  EXPECT_EQ(One("xxhash64(NULL)"), Bytes().Null().Hash());
  EXPECT_EQ(One("xxhash64('a', 1, NULL, TRUE)"), Bytes().Str("a").Int(1).Null().Bool(true).Hash());
  // A hand-checked value: XXH64 of the 9 bytes 01 2a 00 00 00 00 00 00 00.
  const unsigned char raw[] = {1, 42, 0, 0, 0, 0, 0, 0, 0};
  EXPECT_EQ(One("xxhash64(42)"), std::to_string(static_cast<int64_t>(XXH64(raw, 9, 0))));
}

TEST(HashFunctions, XxhashNormalisesFloatsAndSeparatesArguments) {
  EXPECT_EQ(One("xxhash64(-0.0e0)"), One("xxhash64(0.0e0)"));
  EXPECT_EQ(One("xxhash64(CAST('nan' AS float64))"), One("xxhash64(-CAST('nan' AS float64))"));
  EXPECT_EQ(One("xxhash64(CAST('nan' AS float64))"), std::to_string(static_cast<int64_t>([] {
              Bytes b;
              b.Int(static_cast<int64_t>(0x7ff8000000000000ULL));
              return XXH64(b.b.data(), b.b.size(), 0);
            }())));
  // Lengths keep ('ab', 'c') apart from ('a', 'bc'); tags keep NULL apart from ''.
  EXPECT_NE(One("xxhash64('ab', 'c')"), One("xxhash64('a', 'bc')"));
  EXPECT_NE(One("xxhash64(NULL)"), One("xxhash64('')"));
  EXPECT_EQ(One("hash('x', 2)"), One("xxhash64('x', 2)"));
  EXPECT_EQ(BindError("xxhash64()"),
            "xxhash64() takes at least 1 arguments, got 0 (xxhash64(value, ...))");
}

TEST(HashFunctions, XxhashOverColumnsHashesNulls) {
  Schema s({{"a", DataType::Int32(), true}, {"s", DataType::String(), true}});
  RecordBatch b = MakeBatch(s, {{"1", "x"}, {"NULL", "y"}, {"3", "NULL"}});
  auto r = Eval("xxhash64(a, s)", b);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.type.ToString(), "int64");
  EXPECT_EQ(r.cells, (Cells{Bytes().Int(1).Str("x").Hash(), Bytes().Null().Str("y").Hash(),
                            Bytes().Int(3).Null().Hash()}));
  Sel sel = {1, 2};
  EXPECT_EQ(Eval("hash(s)", b, &sel).cells,
            (Cells{Bytes().Str("y").Hash(), Bytes().Null().Hash()}));
}

TEST(HashFunctions, Md5AndSha256) {
  EXPECT_EQ(One("md5('')"), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(One("md5('abc')"), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(One("md5('The quick brown fox jumps over the lazy dog')"),
            "9e107d9d372bb6826bd81d3542a419d6");
  EXPECT_EQ(One("sha256('')"), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(One("sha256('abc')"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(One("md5(NULL)"), "NULL");
  EXPECT_EQ(BindError("md5(1)"), "md5(): argument 1: expected a string, got int32 (md5(string))");
  EXPECT_EQ(BindError("sha256('a', 'b')"), "sha256() takes 1 argument, got 2 (sha256(string))");
  Schema s({{"s", DataType::String(), true}});
  RecordBatch b = MakeBatch(s, {{"abc"}, {"NULL"}, {""}});
  EXPECT_EQ(Eval("md5(s)", b).cells, (Cells{"900150983cd24fb0d6963f7d28e17f72", "NULL",
                                            "d41d8cd98f00b204e9800998ecf8427e"}));
  Sel sel = {0, 1};
  EXPECT_EQ(Eval("sha256(s)", b, &sel).cells,
            (Cells{"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "NULL"}));
}

}  // namespace
}  // namespace sluice::expr
