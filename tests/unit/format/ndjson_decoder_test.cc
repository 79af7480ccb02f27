#include <gtest/gtest.h>

#include <string>

#include "compress_test_util.h"
#include "decode_helpers.h"
#include "format/compression.h"
#include "format/format.h"

namespace sluice {
namespace {

using testing::DecodeAll;
using testing::Decoded;
using testing::DecodeString;
using testing::GzipOf;
using testing::PieceInput;
using testing::ZstdOf;

Schema AllTypes(bool id_required = false) {
  return Schema({
      {"id", DataType::Int64(), !id_required},
      {"flag", DataType::Bool()},
      {"qty", DataType::Int32()},
      {"score", DataType::Float64()},
      {"price", DataType::Decimal(18, 4)},
      {"name", DataType::String()},
      {"day", DataType::Date()},
      {"at", DataType::Timestamp()},
  });
}

DecoderOptions Opts(Schema s) {
  DecoderOptions o;
  o.schema = std::move(s);
  return o;
}

Decoded Json(const std::string& data, const DecoderOptions& o, size_t piece = 1 << 20) {
  return DecodeString(FileFormat::kNdjson, data, o, piece, "events.ndjson");
}

TEST(NdjsonDecoderTest, AllTypesWithNullsAndExtremes) {
  std::string data =
      R"({"id":1,"flag":true,"qty":42,"score":1.5,"price":123.45,"name":"alice","day":"2024-03-15","at":"2024-03-15T10:20:30Z"})"
      "\n"
      R"({"id":9223372036854775807,"flag":false,"qty":2147483647,"score":1.7976931348623157e308,"price":99999999999999.9999,"name":"","day":"9999-12-31","at":"9999-12-31 23:59:59.999999"})"
      "\n"
      R"({"id":-9223372036854775808,"flag":"yes","qty":-2147483648,"score":-5e-324,"price":-0.0001,"name":"\u00e9\n\"q\"","day":"0001-01-01","at":"1970-01-01T00:00:00+01:00"})"
      "\n"
      R"({"id":null,"flag":null,"qty":null,"score":null,"price":null,"name":null,"day":null,"at":null})"
      "\n"
      "{}\n";
  Decoded d = Json(data, Opts(AllTypes()));
  ASSERT_TRUE(d.status.ok()) << d.status.ToString();
  EXPECT_TRUE(d.bad.empty()) << d.Text();
  ASSERT_EQ(d.rows.size(), 5u);
  EXPECT_EQ(d.rows[0], "1: 1|true|42|1.5|123.4500|<alice>|2024-03-15|2024-03-15T10:20:30Z");
  EXPECT_EQ(d.rows[1],
            "2: 9223372036854775807|false|2147483647|1.7976931348623157e+308|"
            "99999999999999.9999|<>|9999-12-31|9999-12-31T23:59:59.999999Z");
  EXPECT_EQ(d.rows[2],
            "3: -9223372036854775808|true|-2147483648|-4.9406564584124654e-324|-0.0001|"
            "<\xC3\xA9\n\"q\">|0001-01-01|1969-12-31T23:00:00Z");
  EXPECT_EQ(d.rows[3], "4: NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL");
  EXPECT_EQ(d.rows[4], "5: NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL");
}

TEST(NdjsonDecoderTest, DecimalsComeFromTheDigitsNotADouble) {
  DecoderOptions o = Opts(Schema({{"p", DataType::Decimal(18, 2)}}));
  // 0.1 + 0.2-style values and a 17-digit value a double cannot hold exactly.
  Decoded d = Json("{\"p\":0.30}\n{\"p\":1234567890123456.78}\n{\"p\":\"12.5\"}\n{\"p\":1e2}\n", o);
  ASSERT_TRUE(d.status.ok());
  ASSERT_EQ(d.rows.size(), 4u) << d.Text();
  EXPECT_EQ(d.rows[0], "1: 0.30");
  EXPECT_EQ(d.rows[1], "2: 1234567890123456.78");
  EXPECT_EQ(d.rows[2], "3: 12.50");
  EXPECT_EQ(d.rows[3], "4: 100.00");
}

TEST(NdjsonDecoderTest, NumbersAndStringsConvertToTheFieldType) {
  DecoderOptions o = Opts(
      Schema({{"i", DataType::Int32()}, {"s", DataType::String()}, {"f", DataType::Float64()}}));
  Decoded d = Json(R"({"i":"17","s":12.50,"f":"2.5"}
{"i":3,"s":true,"f":4}
)",
                   o);
  ASSERT_TRUE(d.status.ok());
  ASSERT_EQ(d.rows.size(), 2u) << d.Text();
  EXPECT_EQ(d.rows[0], "1: 17|<12.50>|2.5");
  EXPECT_EQ(d.rows[1], "2: 3|<true>|4");
}

TEST(NdjsonDecoderTest, NestedValuesBecomeMinifiedJsonInStringFields) {
  DecoderOptions o = Opts(Schema({{"tags", DataType::String()}, {"meta", DataType::String()}}));
  Decoded d = Json(R"({"tags": [ 1, "two" , {"x" : null} ], "meta": { "a" : { "b" : [ ] } } })"
                   "\n",
                   o);
  ASSERT_TRUE(d.status.ok());
  ASSERT_EQ(d.rows.size(), 1u) << d.Text();
  EXPECT_EQ(d.rows[0], R"(1: <[1,"two",{"x":null}]>|<{"a":{"b":[]}}>)");
}

TEST(NdjsonDecoderTest, BadRecords) {
  DecoderOptions o = Opts(AllTypes(/*id_required=*/true));
  std::string data =
      "{\"id\":1}\n"                         // 1 good
      "{\"id\":\"abc\"}\n"                   // 2 string not int64
      "{\"id\":1.5}\n"                       // 3 float into int64
      "{\"id\":2,\"qty\":3000000000}\n"      // 4 int32 overflow
      "{\"id\":3,\"flag\":1}\n"              // 5 number into bool
      "{\"flag\":true}\n"                    // 6 missing required key
      "{\"id\":null}\n"                      // 7 explicit null in required
      "{\"id\":4,\"qty\":[1]}\n"             // 8 array into int32
      "{\"id\":5,\"day\":\"2024-13-01\"}\n"  // 9 bad date text
      "{\"id\":6,\"price\":1.00001}\n"       // 10 too many decimals
      "[1,2]\n"                              // 11 not an object
      "{\"id\":7,}\n"                        // 12 syntax error
      "{\"id\":8} trailing\n"                // 13 trailing content
      "{\"id\":9,\"zz\":tru}\n"              // 14 bad literal in an unknown key
      "  \t \r\n"                            // 15 blank: skipped
      "{\"id\":10,\"name\":\"\xff\"}\n"      // 16 invalid UTF-8
      "{\"id\":11}";                         // 17 good, no final newline
  Decoded d = Json(data, o);
  ASSERT_TRUE(d.status.ok()) << d.status.ToString();
  ASSERT_EQ(d.rows.size(), 2u) << d.Text();
  EXPECT_EQ(d.rows[0].substr(0, 5), "1: 1|");
  EXPECT_EQ(d.rows[1].substr(0, 7), "17: 11|");
  struct Want {
    int64_t line;
    const char* field;
    const char* reason_prefix;
  };
  const Want want[] = {
      {2, "id", "cannot parse 'abc' as int64"},
      {3, "id", "cannot parse '1.5' as int64"},
      {4, "qty", "cannot parse '3000000000' as int32"},
      {5, "flag", "expected bool, found JSON number"},
      {6, "id", "null in not-null field"},
      {7, "id", "null in not-null field"},
      {8, "qty", "expected int32, found JSON array"},
      {9, "day", "cannot parse '2024-13-01' as date"},
      {10, "price", "cannot parse '1.00001' as decimal(18,4)"},
      {11, "", "expected a JSON object, found array"},
      {12, "", "invalid JSON"},
      {13, "", "invalid JSON"},
      {14, "", "invalid JSON"},
      {16, "", "invalid JSON"},
  };
  ASSERT_EQ(d.bad.size(), std::size(want)) << d.Text();
  for (size_t i = 0; i < std::size(want); ++i) {
    EXPECT_EQ(d.bad[i].line, want[i].line) << i;
    EXPECT_EQ(d.bad[i].field, want[i].field) << i;
    EXPECT_EQ(d.bad[i].reason.rfind(want[i].reason_prefix, 0), 0u) << i << ": " << d.bad[i].reason;
  }
  EXPECT_EQ(d.bad[0].raw, "{\"id\":\"abc\"}");
  EXPECT_EQ(d.records_read, 16);
}

TEST(NdjsonDecoderTest, UnknownKeysIgnoredOrFatal) {
  DecoderOptions o = Opts(Schema({{"a", DataType::Int32()}}));
  Decoded d = Json("{\"a\":1,\"b\":{\"deep\":[1,2,{\"c\":\"d\"}]}}\n", o);
  ASSERT_TRUE(d.status.ok());
  ASSERT_EQ(d.rows.size(), 1u);
  EXPECT_EQ(d.rows[0], "1: 1");
  o.ignore_unknown_fields = false;
  Decoded strict = Json("{\"a\":1}\n{\"a\":2,\"b\":3}\n", o);
  ASSERT_FALSE(strict.status.ok());
  EXPECT_EQ(strict.status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(strict.status.message().find("'b'"), std::string::npos);
  EXPECT_NE(strict.status.message().find("line 2"), std::string::npos);
  EXPECT_NE(strict.status.message().find("events.ndjson"), std::string::npos);
}

TEST(NdjsonDecoderTest, CrlfBomAndBlankLines) {
  DecoderOptions o = Opts(Schema({{"a", DataType::Int32()}}));
  Decoded d = Json("\xEF\xBB\xBF{\"a\":1}\r\n\r\n\n{\"a\":2}\r\n", o);
  ASSERT_TRUE(d.status.ok());
  EXPECT_TRUE(d.bad.empty()) << d.Text();
  ASSERT_EQ(d.rows.size(), 2u);
  EXPECT_EQ(d.rows[0], "1: 1");
  EXPECT_EQ(d.rows[1], "4: 2");
}

TEST(NdjsonDecoderTest, EverySplitPointGivesTheSameOutput) {
  std::string data =
      "\xEF\xBB\xBF{\"id\":1,\"flag\":true,\"qty\":2,\"score\":0.5,\"price\":\"1.25\","
      "\"name\":\"x\\ny\",\"day\":\"2024-01-01\",\"at\":\"2024-01-01T00:00:00.5Z\"}\r\n"
      "\n"
      "{\"id\":\"bad\"}\n"
      "{\"name\":{\"nested\":[1,2]},\"extra\":[true,false,null]}\n"
      "not json\n"
      "{\"id\":3,\"price\":-12.3456}";
  DecoderOptions o = Opts(AllTypes());
  o.batch_rows = 1;
  Decoded whole = Json(data, o);
  ASSERT_TRUE(whole.status.ok()) << whole.status.ToString();
  EXPECT_EQ(whole.rows.size(), 3u) << whole.Text();
  EXPECT_EQ(whole.bad.size(), 2u) << whole.Text();
  for (size_t piece = 1; piece <= data.size(); ++piece) {
    Decoded d = Json(data, o, piece);
    ASSERT_EQ(d.Text(), whole.Text()) << "piece size " << piece;
  }
}

TEST(NdjsonDecoderTest, CompressedInputsDecodeLikePlainOnes) {
  std::string data;
  for (int i = 0; i < 5000; ++i) {
    data += "{\"a\":" + std::to_string(i) + ",\"b\":\"v" + std::to_string(i) + "\"}\n";
  }
  DecoderOptions o = Opts(Schema({{"a", DataType::Int64()}, {"b", DataType::String()}}));
  Decoded plain = Json(data, o);
  ASSERT_EQ(plain.rows.size(), 5000u);

  const std::string zs = ZstdOf(data, 1);
  const std::string gz = GzipOf(data);
  for (const std::string& compressed : {gz, zs}) {
    auto in = OpenDecompressed(std::make_unique<PieceInput>(compressed, 333, "e.ndjson.zst"));
    ASSERT_TRUE(in.ok());
    Decoded d = DecodeAll(FileFormat::kNdjson, std::move(*in), o);
    EXPECT_EQ(d.Text(), plain.Text());
  }
}

TEST(NdjsonDecoderTest, LongLinesAcrossBlocks) {
  std::string big(3 << 20, 'z');
  std::string data = "{\"s\":\"" + big + "\"}\n{\"s\":\"small\"}\n";
  Decoded d = Json(data, Opts(Schema({{"s", DataType::String()}})), 65536);
  ASSERT_TRUE(d.status.ok());
  ASSERT_EQ(d.rows.size(), 2u);
  EXPECT_EQ(d.rows[0], "1: <" + big + ">");
  EXPECT_EQ(d.rows[1], "2: <small>");
}

TEST(NdjsonDecoderTest, DeepNestingIsABadRecordNotACrash) {
  std::string deep(5000, '[');
  deep += std::string(5000, ']');
  Decoded d =
      Json("{\"a\":" + deep + "}\n{\"a\":\"ok\"}\n", Opts(Schema({{"a", DataType::String()}})));
  ASSERT_TRUE(d.status.ok());
  ASSERT_EQ(d.rows.size(), 1u);
  ASSERT_EQ(d.bad.size(), 1u);
  EXPECT_EQ(d.bad[0].line, 1);
}

}  // namespace
}  // namespace sluice

namespace sluice {
namespace {

TEST(NdjsonDecoderFixtureTest, MixedWithBadLines) {
  auto file =
      OpenFileInput(std::string(SLUICE_TEST_DATA_DIR) + "/ndjson/mixed_with_bad_lines.ndjson");
  ASSERT_TRUE(file.ok());
  DecoderOptions o = Opts(Schema({{"id", DataType::Int64(), false},
                                  {"amount", DataType::Decimal(10, 3)},
                                  {"note", DataType::String()},
                                  {"created_at", DataType::Timestamp()},
                                  {"tags", DataType::String()}}));
  Decoded d = DecodeAll(FileFormat::kNdjson, std::move(*file), o);
  ASSERT_TRUE(d.status.ok()) << d.status.ToString();
  ASSERT_EQ(d.bad.size(), 2u) << d.Text();
  EXPECT_EQ(d.bad[0].line, 4);
  EXPECT_EQ(d.bad[0].field, "id");
  EXPECT_EQ(d.bad[1].line, 5);
  EXPECT_EQ(d.bad[1].raw, "not json");
  ASSERT_EQ(d.rows.size(), 4u);
  EXPECT_EQ(d.rows[0], R"(1: 1|12.500|<plain>|2024-01-15T08:00:00Z|<["a","b"]>)");
  EXPECT_EQ(d.rows[1], "2: 2|-3.250|NULL|2024-01-15T09:30:00Z|NULL");
  EXPECT_EQ(d.rows[2], "6: 3|0.001|NULL|2024-01-16T00:00:00Z|NULL");
  EXPECT_EQ(d.rows[3], "7: 4|100.000|NULL|NULL|NULL");
}

}  // namespace
}  // namespace sluice
