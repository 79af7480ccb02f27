#include <gtest/gtest.h>

#include <limits>
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
      {"price", DataType::Decimal(12, 2)},
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

Decoded Csv(const std::string& data, const DecoderOptions& o, size_t piece = 1 << 20) {
  return DecodeString(FileFormat::kCsv, data, o, piece, "orders.csv");
}

TEST(CsvDecoderTest, AllTypesWithNullsAndExtremes) {
  std::string data =
      "id,flag,qty,score,price,name,day,at\n"
      "1,true,42,1.5,123.45,alice,2024-03-15,2024-03-15T10:20:30Z\n"
      "9223372036854775807,F,2147483647,1.7976931348623157e308,9999999999.99,\"\",9999-12-31,"
      "9999-12-31 23:59:59.999999\n"
      "-9223372036854775808,no,-2147483648,-inf,-9999999999.99,\"a,b\",0001-01-01,"
      "1970-01-01T00:00:00+01:00\n"
      ",,,,,,,\n";
  Decoded d = Csv(data, Opts(AllTypes()));
  ASSERT_TRUE(d.status.ok()) << d.status.ToString();
  EXPECT_TRUE(d.bad.empty()) << d.Text();
  ASSERT_EQ(d.rows.size(), 4u);
  EXPECT_EQ(d.rows[0], "2: 1|true|42|1.5|123.45|<alice>|2024-03-15|2024-03-15T10:20:30Z");
  EXPECT_EQ(d.rows[1],
            "3: 9223372036854775807|false|2147483647|1.7976931348623157e+308|9999999999.99|<>|"
            "9999-12-31|9999-12-31T23:59:59.999999Z");
  EXPECT_EQ(d.rows[2],
            "4: -9223372036854775808|false|-2147483648|-inf|-9999999999.99|<a,b>|0001-01-01|"
            "1969-12-31T23:00:00Z");
  EXPECT_EQ(d.rows[3], "5: NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL");
  EXPECT_EQ(d.records_read, 4);
}

TEST(CsvDecoderTest, HeaderMatchesByNameThenCaseInsensitively) {
  Schema s({{"id", DataType::Int64()}, {"Name", DataType::String()}, {"extra", DataType::Int32()}});
  Decoded d = Csv("NAME,unused,id\nbob,x,7\n", Opts(s));
  ASSERT_TRUE(d.status.ok()) << d.status.ToString();
  ASSERT_EQ(d.rows.size(), 1u);
  EXPECT_EQ(d.rows[0], "2: 7|<bob>|NULL");  // 'extra' is missing from the file: NULL

  // Exact match wins over a case-insensitive one.
  Schema s2({{"a", DataType::Int32()}, {"A", DataType::Int32()}});
  Decoded d2 = Csv("A,a\n1,2\n", Opts(s2));
  ASSERT_TRUE(d2.status.ok()) << d2.status.ToString();
  EXPECT_EQ(d2.rows.at(0), "2: 2|1");
}

TEST(CsvDecoderTest, UnknownColumnFailsWhenNotIgnored) {
  DecoderOptions o = Opts(Schema({{"id", DataType::Int64()}}));
  o.ignore_unknown_fields = false;
  Decoded d = Csv("id,surprise\n1,2\n", o);
  ASSERT_FALSE(d.status.ok());
  EXPECT_EQ(d.status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(d.status.message().find("surprise"), std::string::npos);
  EXPECT_NE(d.status.message().find("orders.csv"), std::string::npos);
}

TEST(CsvDecoderTest, MissingRequiredColumnIsFileError) {
  Decoded d = Csv("flag,qty\ntrue,1\n", Opts(AllTypes(/*id_required=*/true)));
  ASSERT_FALSE(d.status.ok());
  EXPECT_EQ(d.status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(d.status.message().find("'id'"), std::string::npos) << d.status.ToString();
  EXPECT_NE(d.status.message().find("orders.csv"), std::string::npos);
}

TEST(CsvDecoderTest, DuplicateHeaderColumnIsFileError) {
  Decoded d = Csv("id,id\n1,2\n", Opts(Schema({{"id", DataType::Int64()}})));
  ASSERT_FALSE(d.status.ok());
  EXPECT_EQ(d.status.message(),
            "column 'id' appears twice in the header of 'orders.csv' (column 2 reads as 'id_2'); "
            "name it 'id_2' in the schema to read it, or rename it in the file");
}

// Issue 10: a repeated name reads as name_2, name_3 (as inference names it).
TEST(CsvDecoderTest, RepeatedHeaderNamesReadWithSuffixes) {
  Decoded d = Csv("id,ID,id\n1,2,3\n",
                  Opts(Schema({{"id", DataType::Int64()}, {"id_2", DataType::Int64()}})));
  ASSERT_TRUE(d.status.ok()) << d.Text();
  EXPECT_EQ(d.Text(), "2: 1|3\n");  // "ID" is another name (ignored as unknown)
}

// Issue 10: names in messages are escaped (a NUL no longer cuts the message).
TEST(CsvDecoderTest, NamesInMessagesAreEscaped) {
  DecoderOptions o = Opts(Schema({{"id", DataType::Int64()}}));
  o.ignore_unknown_fields = false;
  Decoded d = Csv(std::string("id,b\0c\x01\n1,2\n", 13), o);
  ASSERT_FALSE(d.status.ok());
  EXPECT_EQ(d.status.message(),
            "column 'b\\x00c\\x01' in the header of 'orders.csv' is not in the schema");
}

TEST(CsvDecoderTest, NoHeaderIsPositional) {
  DecoderOptions o = Opts(Schema({{"a", DataType::Int32()}, {"b", DataType::String()}}));
  o.csv.header = false;
  Decoded d = Csv("1,x\n2,y\n3\n", o);
  ASSERT_TRUE(d.status.ok());
  ASSERT_EQ(d.rows.size(), 2u);
  EXPECT_EQ(d.rows[0], "1: 1|<x>");
  EXPECT_EQ(d.rows[1], "2: 2|<y>");
  ASSERT_EQ(d.bad.size(), 1u);
  EXPECT_EQ(d.bad[0].line, 3);
  EXPECT_EQ(d.bad[0].reason, "expected 2 fields, found 1");
  EXPECT_EQ(d.bad[0].raw, "3");
}

TEST(CsvDecoderTest, QuotingRules) {
  DecoderOptions o = Opts(Schema({{"a", DataType::String()}, {"b", DataType::String()}}));
  std::string data =
      "a,b\n"
      "\"x,y\",\"he said \"\"hi\"\"\"\n"
      "\"multi\nline\",\"crlf\r\ninside\"\n"
      "\"\",\n"
      "say \"what\",\"\"\"\"\n";
  Decoded d = Csv(data, o);
  ASSERT_TRUE(d.status.ok());
  EXPECT_TRUE(d.bad.empty()) << d.Text();
  ASSERT_EQ(d.rows.size(), 4u);
  EXPECT_EQ(d.rows[0], "2: <x,y>|<he said \"hi\">");
  EXPECT_EQ(d.rows[1], "3: <multi\nline>|<crlf\r\ninside>");
  EXPECT_EQ(d.rows[2], "6: <>|NULL");  // quoted empty is a string, unquoted empty is NULL
  EXPECT_EQ(d.rows[3], "7: <say \"what\">|<\">");
}

TEST(CsvDecoderTest, CustomNullValuesOnlyUnquoted) {
  DecoderOptions o = Opts(Schema({{"a", DataType::String()}, {"b", DataType::Int32()}}));
  o.csv.null_values = {"NA", "\\N"};
  Decoded d = Csv("a,b\nNA,\\N\n\"NA\",NA\n,5\n", o);
  ASSERT_TRUE(d.status.ok());
  ASSERT_EQ(d.rows.size(), 3u) << d.Text();
  EXPECT_EQ(d.rows[0], "2: NULL|NULL");
  EXPECT_EQ(d.rows[1], "3: <NA>|NULL");
  EXPECT_EQ(d.rows[2], "4: <>|5");  // "" is not a null value here
}

TEST(CsvDecoderTest, LineEndingsBomBlankLinesAndMissingFinalNewline) {
  DecoderOptions o = Opts(Schema({{"a", DataType::Int32()}, {"b", DataType::String()}}));
  std::string data =
      "\xEF\xBB\xBF"
      "a,b\r\n1,x\r\n\r\n\n2,\"y\"\r\n3,z";
  Decoded d = Csv(data, o);
  ASSERT_TRUE(d.status.ok()) << d.status.ToString();
  EXPECT_TRUE(d.bad.empty()) << d.Text();
  ASSERT_EQ(d.rows.size(), 3u);
  EXPECT_EQ(d.rows[0], "2: 1|<x>");
  EXPECT_EQ(d.rows[1], "5: 2|<y>");
  EXPECT_EQ(d.rows[2], "6: 3|<z>");
}

TEST(CsvDecoderTest, TabDelimiterAndCustomQuote) {
  DecoderOptions o = Opts(Schema({{"a", DataType::String()}, {"b", DataType::Int32()}}));
  o.csv.delimiter = '\t';
  o.csv.quote = '\'';
  Decoded d = Csv("a\tb\n'x\ty'\t1\n'it''s'\t2\n", o);
  ASSERT_TRUE(d.status.ok());
  ASSERT_EQ(d.rows.size(), 2u);
  EXPECT_EQ(d.rows[0], "2: <x\ty>|1");
  EXPECT_EQ(d.rows[1], "3: <it's>|2");
}

TEST(CsvDecoderTest, BadRecordsCarryLineFieldReasonAndRaw) {
  DecoderOptions o = Opts(AllTypes(/*id_required=*/true));
  std::string data =
      "id,flag,qty,score,price,name,day,at\n"                     // 1
      "1,true,1,1,1,\"two\nlines\",2024-01-01,2024-01-01\n"       // 2-3 good
      "abc,true,1,1,1,x,2024-01-01,2024-01-01\n"                  // 4 bad int64
      "2,maybe,1,1,1,x,2024-01-01,2024-01-01\n"                   // 5 bad bool
      ",true,1,1,1,x,2024-01-01,2024-01-01\n"                     // 6 null in not-null
      "3,true,1,1,1234567890123.4,x,2024-01-01,2024-01-01\n"      // 7 decimal too wide
      "4,true,1,1,1,\"quoted\nnewline\",2024-02-30,2024-01-01\n"  // 8-9 bad date
      "5,true,1\n"                                                // 10 wrong count
      "6,true,1,1,1,\"x\"junk,2024-01-01,2024-01-01\n"            // 11 junk after quote
      "7,true,99999999999,1,1,x,2024-01-01,2024-01-01\n"          // 12 int32 overflow
      "8,true,1,1,1,x,2024-01-01,2024-01-01 25:00\r\n"            // 13 bad timestamp
      "9,true,1,1,1,x,2024-01-01,2024-01-01\n"                    // 14 good
      "10,true,1,1,1,\"never closed\n,2024\n";                    // 15 unterminated
  Decoded d = Csv(data, o);
  ASSERT_TRUE(d.status.ok()) << d.status.ToString();
  ASSERT_EQ(d.rows.size(), 2u) << d.Text();
  EXPECT_EQ(d.rows[0].substr(0, 5), "2: 1|");
  EXPECT_EQ(d.rows[1].substr(0, 6), "14: 9|");
  struct Want {
    int64_t line;
    const char* field;
    const char* reason;
  };
  const Want want[] = {
      {4, "id", "cannot parse 'abc' as int64"},
      {5, "flag", "cannot parse 'maybe' as bool"},
      {6, "id", "null in not-null field"},
      {7, "price", "cannot parse '1234567890123.4' as decimal(12,2)"},
      {8, "day", "cannot parse '2024-02-30' as date"},
      {10, "", "expected 8 fields, found 3"},
      {11, "", "unexpected character after closing quote"},
      {12, "qty", "cannot parse '99999999999' as int32"},
      {13, "at", "cannot parse '2024-01-01 25:00' as timestamp"},
      {15, "", "unterminated quoted field"},
  };
  ASSERT_EQ(d.bad.size(), std::size(want)) << d.Text();
  for (size_t i = 0; i < std::size(want); ++i) {
    EXPECT_EQ(d.bad[i].line, want[i].line) << i;
    EXPECT_EQ(d.bad[i].field, want[i].field) << i;
    EXPECT_EQ(d.bad[i].reason, want[i].reason) << i;
  }
  EXPECT_EQ(d.bad[0].raw, "abc,true,1,1,1,x,2024-01-01,2024-01-01");
  EXPECT_EQ(d.bad[4].raw, "4,true,1,1,1,\"quoted\nnewline\",2024-02-30,2024-01-01");
  EXPECT_EQ(d.bad[8].raw, "8,true,1,1,1,x,2024-01-01,2024-01-01 25:00");  // no CR
  EXPECT_EQ(d.bad[9].raw, "10,true,1,1,1,\"never closed\n,2024\n");
  EXPECT_EQ(d.records_read, 12);
}

TEST(CsvDecoderTest, NumericValuesAreTrimmedStringsAreNot) {
  DecoderOptions o = Opts(Schema(
      {{"a", DataType::Int32()}, {"b", DataType::String()}, {"c", DataType::Decimal(5, 2)}}));
  Decoded d = Csv("a,b,c\n 7 , x ,\t1.5\n  , y , \n", o);
  ASSERT_TRUE(d.status.ok());
  ASSERT_EQ(d.rows.size(), 2u) << d.Text();
  EXPECT_EQ(d.rows[0], "2: 7|< x >|1.50");
  EXPECT_EQ(d.rows[1], "3: NULL|< y >|NULL");  // blank numerics are NULL
}

TEST(CsvDecoderTest, InvalidUtf8InStringIsBadRecord) {
  DecoderOptions o = Opts(Schema({{"a", DataType::String()}, {"b", DataType::Int32()}}));
  Decoded d = Csv("a,b\nok,1\nbad\xff\xfe,2\n", o);
  ASSERT_TRUE(d.status.ok());
  ASSERT_EQ(d.rows.size(), 1u);
  ASSERT_EQ(d.bad.size(), 1u);
  EXPECT_EQ(d.bad[0].line, 3);
  EXPECT_EQ(d.bad[0].field, "a");
  EXPECT_EQ(d.bad[0].reason, "invalid UTF-8");
}

TEST(CsvDecoderTest, BatchesAreCutAtBatchRows) {
  DecoderOptions o = Opts(Schema({{"a", DataType::Int32()}}));
  o.batch_rows = 3;
  std::string data = "a\n";
  for (int i = 0; i < 10; ++i) data += std::to_string(i) + "\n";
  Decoded d = Csv(data, o);
  ASSERT_TRUE(d.status.ok());
  EXPECT_EQ(d.batches, 4);
  ASSERT_EQ(d.rows.size(), 10u);
  EXPECT_EQ(d.rows[9], "11: 9");
}

TEST(CsvDecoderTest, EmptyInputsProduceNothing) {
  for (const char* data : {"", "\xEF\xBB\xBF", "a,b\n", "a,b", "\n\n", "a,b\r\n\r\n"}) {
    Decoded d = Csv(data, Opts(Schema({{"a", DataType::Int32()}, {"b", DataType::String()}})));
    ASSERT_TRUE(d.status.ok()) << d.status.ToString();
    EXPECT_TRUE(d.rows.empty()) << data;
    EXPECT_TRUE(d.bad.empty()) << data;
    EXPECT_EQ(d.batches, 0) << data;
  }
}

TEST(CsvDecoderTest, InvalidOptionsAreRejected) {
  DecoderOptions o = Opts(Schema({{"a", DataType::Int32()}}));
  o.csv.quote = ',';
  auto dec = NewCsvDecoder(std::make_unique<PieceInput>("a\n1\n", 10), o);
  EXPECT_FALSE(dec.ok());
  o.csv.quote = '"';
  o.csv.delimiter = '\n';
  EXPECT_FALSE(NewCsvDecoder(std::make_unique<PieceInput>("a\n1\n", 10), o).ok());
}

TEST(CsvDecoderTest, ReadErrorIsFileLevel) {
  std::string data = "a\n";
  for (int i = 0; i < 100000; ++i) data += "12345\n";
  auto in = std::make_unique<testing::FailingInput>(data, data.size() / 2);
  Decoded d = DecodeAll(FileFormat::kCsv, std::move(in), Opts(Schema({{"a", DataType::Int32()}})));
  ASSERT_FALSE(d.status.ok());
  EXPECT_EQ(d.status.code(), StatusCode::kIOError);
}

// The same bytes split at every possible position must decode identically.
TEST(CsvDecoderTest, EverySplitPointGivesTheSameOutput) {
  std::string data =
      "\xEF\xBB\xBF"
      "id,flag,qty,score,price,name,day,at\r\n"
      "1,true,42,1.5,123.45,\"multi\r\nline, \"\"quoted\"\"\",2024-03-15,2024-03-15T10:20:30Z\r\n"
      "\r\n"
      "x,true,1,1,1,a,2024-01-01,2024-01-01\n"
      ",,,,,,,\n"
      "2,f,-3,-1e-3,-0.5,\"\",2000-02-29,2000-02-29 23:59:59.5+02:00\n"
      "3,t,1\n"
      "4,yes,7,inf,7,\"ab\"cd,2024-01-01,2024-01-01\n"
      "5,no,8,8,8,\"tail, no newline\",2024-01-02,2024-01-02T00:00";
  DecoderOptions o = Opts(AllTypes());
  o.batch_rows = 2;
  Decoded whole = Csv(data, o);
  ASSERT_TRUE(whole.status.ok()) << whole.status.ToString();
  EXPECT_EQ(whole.rows.size(), 4u) << whole.Text();
  EXPECT_EQ(whole.bad.size(), 3u) << whole.Text();
  for (size_t piece = 1; piece <= data.size(); ++piece) {
    Decoded d = Csv(data, o, piece);
    ASSERT_EQ(d.Text(), whole.Text()) << "piece size " << piece;
  }
}

TEST(CsvDecoderTest, CompressedInputsDecodeLikePlainOnes) {
  std::string data = "a,b\n";
  for (int i = 0; i < 20000; ++i) data += std::to_string(i) + ",\"v" + std::to_string(i) + "\"\n";
  DecoderOptions o = Opts(Schema({{"a", DataType::Int64()}, {"b", DataType::String()}}));
  Decoded plain = Csv(data, o);
  ASSERT_EQ(plain.rows.size(), 20000u);
  // Two gzip members split mid-record, and a zstd stream.
  std::string half1 = data.substr(0, data.size() / 2), half2 = data.substr(data.size() / 2);
  for (const std::string& compressed : {GzipOf(half1) + GzipOf(half2), ZstdOf(data)}) {
    for (size_t piece : {7, 1 << 16}) {
      auto in = OpenDecompressed(std::make_unique<PieceInput>(compressed, piece, "x.csv.gz"));
      ASSERT_TRUE(in.ok());
      Decoded d = DecodeAll(FileFormat::kCsv, std::move(*in), o);
      EXPECT_EQ(d.Text(), plain.Text());
    }
  }
}

TEST(CsvDecoderTest, VeryLongFieldAcrossManyBlocks) {
  std::string big(5 << 20, 'q');
  std::string data = "a,b\n1,\"" + big + "\"\n2," + big + "\n";
  DecoderOptions o = Opts(Schema({{"a", DataType::Int32()}, {"b", DataType::String()}}));
  auto dec = NewCsvDecoder(std::make_unique<PieceInput>(data, 100000), o);
  ASSERT_TRUE(dec.ok());
  std::vector<std::string> values;
  std::vector<int64_t> lines;
  std::vector<BadRecord> bad;
  for (;;) {
    RecordBatch b;
    auto more = (*dec)->Next(&b, &bad);
    ASSERT_TRUE(more.ok());
    if (!*more) break;
    for (int64_t r = 0; r < b.num_rows(); ++r) {
      values.emplace_back(b.columns[1].GetString(r));
      lines.push_back(b.source_lines[r]);
    }
  }
  EXPECT_TRUE(bad.empty());
  ASSERT_EQ(values.size(), 2u);
  EXPECT_EQ(values[0], big);
  EXPECT_EQ(values[1], big);
  EXPECT_EQ(lines, (std::vector<int64_t>{2, 3}));
}

}  // namespace
}  // namespace sluice

namespace sluice {
namespace {

Decoded DecodeFixture(const std::string& rel, const DecoderOptions& o) {
  auto file = OpenFileInput(std::string(SLUICE_TEST_DATA_DIR) + "/" + rel);
  EXPECT_TRUE(file.ok()) << rel;
  if (!file.ok()) return {};
  auto in = OpenDecompressed(std::move(*file));
  EXPECT_TRUE(in.ok());
  return DecodeAll(FileFormat::kCsv, std::move(*in), o);
}

Schema FixtureSchema() {
  return Schema({{"id", DataType::Int64(), false},
                 {"amount", DataType::Decimal(10, 2)},
                 {"note", DataType::String()},
                 {"created_at", DataType::Timestamp()}});
}

TEST(CsvDecoderFixtureTest, QuotedMultilineCrlfBom) {
  Decoded d = DecodeFixture("csv/quoted_multiline_crlf_bom.csv", Opts(FixtureSchema()));
  ASSERT_TRUE(d.status.ok()) << d.status.ToString();
  EXPECT_TRUE(d.bad.empty()) << d.Text();
  EXPECT_EQ(d.Text(),
            "2: 1|12.50|<plain>|2024-01-15T08:00:00Z\n"
            "3: 2|-3.25|<two\r\nlines, with comma>|2024-01-15T09:30:00Z\n"
            "6: 3|0.00|<say \"hi\">|2024-01-15T23:00:00Z\n"
            "7: 4|NULL|NULL|NULL\n");
}

TEST(CsvDecoderFixtureTest, BadRows) {
  Decoded d = DecodeFixture("csv/bad_rows.csv", Opts(FixtureSchema()));
  ASSERT_TRUE(d.status.ok()) << d.status.ToString();
  EXPECT_EQ(d.Text(),
            "2: 1|12.50|<ok>|2024-01-15T00:00:00Z\n"
            "BAD 3 [id] cannot parse 'abc' as int64 {abc,1.00,bad id,2024-01-15}\n"
            "BAD 4 [amount] cannot parse '1.005' as decimal(10,2) "
            "{2,1.005,too many decimals,2024-01-15}\n"
            "BAD 5 [] expected 4 fields, found 3 {3,1.00,short row}\n"
            "BAD 6 [id] null in not-null field {,1.00,missing id,2024-01-15}\n"
            "BAD 7 [] unterminated quoted field {4,1.00,\"unterminated,2024-01-15\n}\n");
}

}  // namespace
}  // namespace sluice

namespace sluice {
namespace {

TEST(CsvDecoderTest, ReusedBatchObjectIsResetBetweenCalls) {
  DecoderOptions o = Opts(Schema({{"a", DataType::Int32()}, {"b", DataType::String()}}));
  o.batch_rows = 2;
  auto dec = NewCsvDecoder(std::make_unique<PieceInput>("a,b\n,x\n2,\n3,yy\n4,zzz\n5,w\n", 3), o);
  ASSERT_TRUE(dec.ok());
  RecordBatch b;
  std::vector<BadRecord> bad;
  std::vector<std::string> seen;
  while (true) {
    auto more = (*dec)->Next(&b, &bad);
    ASSERT_TRUE(more.ok());
    if (!*more) break;
    ASSERT_EQ(b.source_lines.size(), static_cast<size_t>(b.num_rows()));
    std::string s;
    for (int64_t r = 0; r < b.num_rows(); ++r) {
      s += testing::FormatCell(b.columns[0], r) + "/" + testing::FormatCell(b.columns[1], r) + " ";
    }
    seen.push_back(s + std::to_string(b.columns[0].null_count()));
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"NULL/<x> 2/NULL 1", "3/<yy> 4/<zzz> 0", "5/<w> 0"}));
  EXPECT_EQ(b.num_rows(), 0);
}

}  // namespace
}  // namespace sluice
