// Byte sequences below were derived by hand from the Thrift compact protocol
// spec: field header = (id delta << 4) | type, or type then zigzag id; ints
// are zigzag varints; bool fields live in the header's type nibble; lists
// start with (size << 4) | elem_type, or 0xF0 | elem_type plus a varint size.
#include "format/parquet/thrift_compact.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

#include "parquet_test_reader.h"

namespace sluice::parquet {
namespace {

std::string ThriftHex(const std::string& s) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    if (!out.empty()) out += ' ';
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

TEST(ThriftCompactTest, Varints) {
  struct Case {
    uint64_t v;
    const char* hex;
  } cases[] = {
      {0, "00"},
      {1, "01"},
      {127, "7f"},
      {128, "80 01"},
      {300, "ac 02"},
      {16384, "80 80 01"},
      {std::numeric_limits<uint64_t>::max(), "ff ff ff ff ff ff ff ff ff 01"},
  };
  for (const Case& c : cases) {
    std::string out;
    AppendVarint(c.v, &out);
    EXPECT_EQ(ThriftHex(out), c.hex) << c.v;
  }
}

TEST(ThriftCompactTest, ZigZag) {
  EXPECT_EQ(ZigZag32(0), 0u);
  EXPECT_EQ(ZigZag32(-1), 1u);
  EXPECT_EQ(ZigZag32(1), 2u);
  EXPECT_EQ(ZigZag32(-2), 3u);
  EXPECT_EQ(ZigZag32(std::numeric_limits<int32_t>::max()), 0xfffffffeu);
  EXPECT_EQ(ZigZag32(std::numeric_limits<int32_t>::min()), 0xffffffffu);
  EXPECT_EQ(ZigZag64(-1), 1u);
  EXPECT_EQ(ZigZag64(std::numeric_limits<int64_t>::max()), 0xfffffffffffffffeull);
  EXPECT_EQ(ZigZag64(std::numeric_limits<int64_t>::min()), 0xffffffffffffffffull);
}

struct FieldCase {
  const char* name;
  void (*write)(CompactWriter*);
  const char* hex;
};

class ThriftCompactFieldTest : public ::testing::TestWithParam<FieldCase> {};

TEST_P(ThriftCompactFieldTest, Bytes) {
  std::string out;
  CompactWriter w(&out);
  w.BeginStruct();
  GetParam().write(&w);
  w.EndStruct();
  EXPECT_EQ(ThriftHex(out), GetParam().hex);
}

INSTANTIATE_TEST_SUITE_P(
    Fields, ThriftCompactFieldTest,
    ::testing::Values(
        FieldCase{"Empty", [](CompactWriter*) {}, "00"},
        FieldCase{"I32", [](CompactWriter* w) { w->FieldI32(1, 5); }, "15 0a 00"},
        FieldCase{"NegativeI32", [](CompactWriter* w) { w->FieldI32(1, -3); }, "15 05 00"},
        FieldCase{"I16", [](CompactWriter* w) { w->FieldI16(7, 2); }, "74 04 00"},
        // Delta 16 does not fit the nibble: type byte, then zigzag(17) = 34.
        FieldCase{"LongFieldDelta",
                  [](CompactWriter* w) {
                    w->FieldI32(1, 1);
                    w->FieldI64(17, -1);
                  },
                  "15 02 06 22 01 00"},
        // A decreasing id also takes the long form.
        FieldCase{"DecreasingId",
                  [](CompactWriter* w) {
                    w->FieldI32(5, 0);
                    w->FieldI32(2, 0);
                  },
                  "55 00 05 04 00 00"},
        FieldCase{"Bools",
                  [](CompactWriter* w) {
                    w->FieldBool(2, true);
                    w->FieldBool(3, false);
                  },
                  "21 12 00"},
        FieldCase{"I64Min",
                  [](CompactWriter* w) { w->FieldI64(1, std::numeric_limits<int64_t>::min()); },
                  "16 ff ff ff ff ff ff ff ff ff 01 00"},
        FieldCase{"Double", [](CompactWriter* w) { w->FieldDouble(1, 1.0); },
                  "17 00 00 00 00 00 00 f0 3f 00"},
        FieldCase{"Binary", [](CompactWriter* w) { w->FieldBinary(4, "ab"); }, "48 02 61 62 00"},
        FieldCase{"EmptyBinary", [](CompactWriter* w) { w->FieldBinary(1, ""); }, "18 00 00"},
        FieldCase{"ShortList",
                  [](CompactWriter* w) {
                    w->FieldListBegin(1, CompactType::kI32, 3);
                    w->ElemI32(1);
                    w->ElemI32(2);
                    w->ElemI32(-1);
                  },
                  "19 35 02 04 01 00"},
        FieldCase{"BinaryList",
                  [](CompactWriter* w) {
                    w->FieldListBegin(3, CompactType::kBinary, 1);
                    w->ElemBinary("x");
                  },
                  "39 18 01 78 00"},
        // After a nested struct the outer struct's last id (1) is restored, so
        // field 2 is a delta of 1.
        FieldCase{"NestedStruct",
                  [](CompactWriter* w) {
                    w->FieldStructBegin(1);
                    w->FieldI32(1, 7);
                    w->EndStruct();
                    w->FieldI32(2, 1);
                  },
                  "1c 15 0e 00 15 02 00"},
        FieldCase{"ListOfStructs",
                  [](CompactWriter* w) {
                    w->FieldListBegin(2, CompactType::kStruct, 2);
                    w->BeginStruct();
                    w->FieldI32(1, 1);
                    w->EndStruct();
                    w->BeginStruct();
                    w->EndStruct();
                  },
                  "29 2c 15 02 00 00 00"}),
    [](const ::testing::TestParamInfo<FieldCase>& info) { return info.param.name; });

TEST(ThriftCompactTest, LongListUsesVarintSize) {
  std::string out;
  CompactWriter w(&out);
  w.ListBegin(CompactType::kI32, 14);
  EXPECT_EQ(ThriftHex(out), "e5");
  out.clear();
  w.ListBegin(CompactType::kI32, 15);
  EXPECT_EQ(ThriftHex(out), "f5 0f");
  out.clear();
  w.ListBegin(CompactType::kStruct, 300);
  EXPECT_EQ(ThriftHex(out), "fc ac 02");
}

// Round trip through the independent test reader: a deep, mixed struct.
TEST(ThriftCompactTest, ReadsBackWithIndependentParser) {
  std::string out;
  CompactWriter w(&out);
  w.BeginStruct();
  w.FieldI32(1, -123456);
  w.FieldListBegin(2, CompactType::kStruct, 20);
  for (int i = 0; i < 20; ++i) {
    w.BeginStruct();
    w.FieldBinary(4, "name" + std::to_string(i));
    w.FieldI64(100, int64_t{1} << (i * 3));
    w.EndStruct();
  }
  w.FieldBool(3, true);
  w.FieldDouble(40, -2.5);
  w.EndStruct();

  testing::CompactReader r(out);
  testing::TValue v = r.ReadStruct();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.pos(), out.size());
  EXPECT_EQ(v.At(1).i, -123456);
  ASSERT_EQ(v.At(2).list.size(), 20u);
  EXPECT_EQ(v.At(2).list[7].At(4).s, "name7");
  EXPECT_EQ(v.At(2).list[19].At(100).i, int64_t{1} << 57);
  EXPECT_TRUE(v.At(3).b);
  EXPECT_EQ(v.At(40).d, -2.5);
}

}  // namespace
}  // namespace sluice::parquet
