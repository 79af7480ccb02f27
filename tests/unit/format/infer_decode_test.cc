// Issue 10: a schema inferred from a file reads that file back. Each case is
// inferred, then decoded with the inferred schema; no value the sample held
// may turn NULL and no row may be rejected.
#include <gtest/gtest.h>

#include <string>

#include "../pipeline/test_dir.h"
#include "decode_helpers.h"
#include "format/compression.h"
#include "format/format.h"

namespace sluice {
namespace {

using testing::Decoded;
using testing::DecodeString;
using testing::PieceInput;

struct RoundTrip {
  Schema schema;
  Decoded decoded;
  std::string Types() const {
    std::string out;
    for (const Field& f : schema.fields()) {
      if (!out.empty()) out += ", ";
      out += f.name + ":" + f.type.ToString();
    }
    return out;
  }
};

RoundTrip InferAndDecode(const std::string& data, InferOptions io = {}, size_t piece = 1 << 20) {
  RoundTrip rt;
  PieceInput in(data, piece, "d.csv");
  auto s = InferSchema(FileFormat::kCsv, in, io);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  if (!s.ok()) return rt;
  rt.schema = *s;
  DecoderOptions o;
  o.schema = *s;
  o.csv = io.csv;
  o.ignore_unknown_fields = false;
  rt.decoded = DecodeString(FileFormat::kCsv, data, o, piece, "d.csv");
  return rt;
}

TEST(InferDecodeTest, AnUnnamedColumnIsReadUnderItsInferredName) {
  RoundTrip rt = InferAndDecode("a,,c\n1,2,3\n");
  EXPECT_EQ(rt.Types(), "a:int32, column_2:int32, c:int32");
  ASSERT_TRUE(rt.decoded.status.ok()) << rt.decoded.Text();
  EXPECT_EQ(rt.decoded.Text(), "2: 1|2|3\n");

  rt = InferAndDecode(",\nx,y\n");
  EXPECT_EQ(rt.Types(), "column_1:string, column_2:string");
  EXPECT_EQ(rt.decoded.Text(), "2: <x>|<y>\n");
}

TEST(InferDecodeTest, QuotedEmptyInANumberColumnIsNull) {
  RoundTrip rt = InferAndDecode("a,b,c\n1,\"\",\"\"\n2,3,4\n");
  EXPECT_EQ(rt.Types(), "a:int32, b:int32, c:int32");
  EXPECT_EQ(rt.decoded.Text(), "2: 1|NULL|NULL\n3: 2|3|4\n");
  // A string column keeps the empty string.
  rt = InferAndDecode("a,s\n1,\"\"\n2,x\n");
  EXPECT_EQ(rt.decoded.Text(), "2: 1|<>\n3: 2|<x>\n");
}

TEST(InferDecodeTest, BlanksAreStringsWhenTheEmptyStringIsNotNull) {
  InferOptions io;
  io.csv.null_values = {"NA"};
  RoundTrip rt = InferAndDecode("a,b\n1,\n2,NA\n,3\n", io);
  EXPECT_EQ(rt.Types(), "a:string, b:string");
  EXPECT_EQ(rt.decoded.Text(), "2: <1>|<>\n3: <2>|NULL\n4: <>|<3>\n");
}

TEST(InferDecodeTest, RepeatedHeaderNamesAreReadPositionally) {
  RoundTrip rt = InferAndDecode("a,a,A, a ,a_2\n1,2,3,4,5\n");
  EXPECT_EQ(rt.Types(), "a:int32, a_2:int32, A:int32, a_3:int32, a_2_2:int32");
  EXPECT_EQ(rt.decoded.Text(), "2: 1|2|3|4|5\n");
}

TEST(InferDecodeTest, LeadingZerosKeepCodesAsStrings) {
  RoundTrip rt = InferAndDecode("zip,county,n,x\n08123,00501,0,0.5\n10001,12345,10,00.5\n");
  EXPECT_EQ(rt.Types(), "zip:string, county:string, n:int32, x:string");
  EXPECT_EQ(rt.decoded.Text(), "2: <08123>|<00501>|0|<0.5>\n3: <10001>|<12345>|10|<00.5>\n");
  rt = InferAndDecode("v\n-007\n");
  EXPECT_EQ(rt.Types(), "v:string");
}

TEST(InferDecodeTest, CrOnlyLineEndingsAreLines) {
  RoundTrip rt = InferAndDecode("a,b\r1,x\r2,y\r");
  EXPECT_EQ(rt.Types(), "a:int32, b:string");
  EXPECT_EQ(rt.decoded.Text(), "2: 1|<x>\n3: 2|<y>\n");
  // A quoted line break in such a file is a line feed, like every other.
  rt = InferAndDecode("a,b\r1,\"x\ry\"\r");
  EXPECT_EQ(rt.decoded.Text(), "2: 1|<x\ny>\n");
  // Read in pieces of every size (a CR at the end of a piece decides nothing).
  for (size_t piece = 1; piece < 12; ++piece) {
    rt = InferAndDecode("a,b\r1,x\r2,y", {}, piece);
    EXPECT_EQ(rt.decoded.Text(), "2: 1|<x>\n3: 2|<y>\n") << piece;
    rt = InferAndDecode("a,b\r\n1,x\r\n", {}, piece);
    EXPECT_EQ(rt.decoded.Text(), "2: 1|<x>\n") << piece;
  }
  // A header longer than the look-ahead (1 MiB) hides the line ends: a clear
  // error, never one header line and 0 rows reported as success.
  {
    const std::string big = std::string(1100000, 'h') + "\r1\r2\r";
    DecoderOptions o;
    o.schema = Schema({{"x", DataType::String()}});
    Decoded d = DecodeString(FileFormat::kCsv, big, o, 1 << 20, "d.csv");
    ASSERT_FALSE(d.status.ok());
    EXPECT_NE(d.status.message().find("holds a carriage return in column 1"), std::string::npos)
        << d.status.message();
  }
  // A CR inside a quoted header name before the first line break is data.
  rt = InferAndDecode("\"a\rb\",c\n1,2\n");
  EXPECT_EQ(rt.Types(), "a\rb:int32, c:int32");
  EXPECT_EQ(rt.decoded.Text(), "2: 1|2\n");
}

// A large file is also sampled at places spread through it: a value that
// first appears far past the first 20,000 records still votes.
TEST(InferDecodeTest, LargeFilesAreSampledThroughout) {
  sluice::testing::TempDir dir;
  std::string csv = "id,code\n", ndjson;
  for (int i = 1; i <= 300000; ++i) {
    const bool late = i > 30000 && i % 5000 == 0;
    const std::string code = late ? "N/A" : std::to_string(i % 1000);
    csv += std::to_string(i) + "," + code + "\n";
    ndjson += "{\"id\":" + std::to_string(i) +
              ",\"code\":" + (late ? std::string("\"N/A\"") : code) + "}\n";
  }
  // Past the first 20,000 records, an "N/A" every 5,000 rows: each window
  // (256 KiB) holds one.
  for (int rep = 0; rep < 2; ++rep) {
    const bool json = rep == 1;
    const std::string path = dir.Write(json ? "d.ndjson" : "d.csv", json ? ndjson : csv);
    const FileFormat format = json ? FileFormat::kNdjson : FileFormat::kCsv;
    for (bool windows : {false, true}) {
      auto in = OpenFileInput(path);
      ASSERT_TRUE(in.ok());
      auto plain = OpenDecompressed(std::move(*in));
      ASSERT_TRUE(plain.ok());
      InferOptions io;
      io.sample_windows = windows;
      auto s = InferSchema(format, **plain, io);
      ASSERT_TRUE(s.ok()) << s.status().ToString();
      EXPECT_EQ(s->field(1).type.ToString(), windows ? "string" : "int32") << path;
    }
  }
  // Without a header, a window (maybe out of step with the quotes) never adds
  // a column that no record of the head has: every row would then be short.
  std::string wide;
  for (int i = 1; i <= 300000; ++i) {
    wide += std::to_string(i) + (i > 30000 && i % 5000 == 0 ? ",x,extra\n" : ",7\n");
  }
  auto in = OpenFileInput(dir.Write("wide.csv", wide));
  ASSERT_TRUE(in.ok());
  InferOptions io;
  io.csv.header = false;
  auto s = InferSchema(FileFormat::kCsv, **in, io);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->num_fields(), 2);
}

}  // namespace
}  // namespace sluice
