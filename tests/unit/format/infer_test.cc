#include <gtest/gtest.h>

#include <string>

#include "format/format.h"
#include "piece_input.h"

namespace sluice {
namespace {

using testing::PieceInput;

Result<Schema> Infer(FileFormat f, const std::string& data, InferOptions o = {},
                     size_t piece = 1 << 20) {
  PieceInput in(data, piece, "sample.txt");
  return InferSchema(f, in, o);
}

std::string Types(const Schema& s) {
  std::string out;
  for (const Field& f : s.fields()) {
    if (!out.empty()) out += ", ";
    out += f.name + ":" + f.type.ToString();
  }
  return out;
}

// One column per case: the values (one per line, after a header "c") and the type.
TEST(InferTest, CsvColumnTypes) {
  struct Case {
    const char* values;
    const char* want;
  };
  const Case cases[] = {
      {"true\nFALSE\nyes\nNo\nt\nF", "bool"},
      {"0\n1\n0", "int32"},  // 0/1 read as numbers, not bools
      {"1\n-2\n+3\n2147483647", "int32"},
      {"1\n2147483648", "int64"},
      {"-9223372036854775808\n9223372036854775807", "int64"},
      {"1.5\n-0.25\n3", "decimal(3,2)"},
      {"-0.07", "decimal(2,2)"},
      {"123.45\n1", "decimal(5,2)"},
      {"0.000000000000000001", "decimal(18,18)"},
      {"123456789012345678.9", "float64"},  // 19 significant digits
      {"99999999999999999999", "float64"},  // beyond int64, no point
      {"1e5\n2", "float64"},
      {"nan\n1.5", "float64"},
      {"-inf\n3", "float64"},
      {"2024-01-01\n1999-12-31", "date"},
      {"2024-01-01\n2024-01-01T10:00:00Z", "timestamp"},
      {"2024-01-01 10:00\n2024-01-01T10:00:00.123+02:00", "timestamp"},
      {"2024-02-30", "string"},
      {"1\nabc", "string"},
      {"true\n1", "string"},
      {"1\n2024-01-01", "string"},
      {"1.5\n2024-01-01", "string"},
      {"\n\n", "string"},  // only blank lines: no rows, still a string column
      {"\"\"\n\"\"", "string"},
      {" 12 \n 3", "int32"},  // numbers are trimmed as the decoder trims them
  };
  for (const auto& c : cases) {
    std::string data = std::string("c\n") + c.values + "\n";
    auto s = Infer(FileFormat::kCsv, data);
    ASSERT_TRUE(s.ok()) << c.values << ": " << s.status().ToString();
    ASSERT_EQ(s->num_fields(), 1) << c.values;
    EXPECT_EQ(s->field(0).type.ToString(), c.want) << "values: " << c.values;
    EXPECT_TRUE(s->field(0).nullable);
  }
}

TEST(InferTest, NullsAndEmptiesDoNotVote) {
  InferOptions o;
  o.csv.null_values = {"", "NA"};
  auto s = Infer(FileFormat::kCsv, "a,b,c\n1,NA,\n,NA,\n3,NA,\"NA\"\n", o);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(Types(*s), "a:int32, b:string, c:string");
}

TEST(InferTest, HeaderNamesAreMadeUniqueAndNonEmpty) {
  auto s = Infer(FileFormat::kCsv, "id,,name,id, name ,column_2,\xff\xfe\n1,2,3,4,5,6,7\n");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  std::vector<std::string> names;
  for (const Field& f : s->fields()) names.push_back(f.name);
  EXPECT_EQ(names, (std::vector<std::string>{"id", "column_2", "name", "id_2", "name_2",
                                             "column_2_2", "column_7"}));
}

TEST(InferTest, NoHeaderUsesColumnNumbersAndWidestRow) {
  InferOptions o;
  o.csv.header = false;
  auto s = Infer(FileFormat::kCsv, "1,a\n2,b,2024-01-01\n3\n", o);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(Types(*s), "column_1:int32, column_2:string, column_3:date");
}

TEST(InferTest, RaggedRowsQuotedNewlinesAndDelimiter) {
  InferOptions o;
  o.csv.delimiter = ';';
  auto s = Infer(FileFormat::kCsv,
                 "a;b;c\n1;\"x\ny;z\";1.5\n2;w\n3;v;2.25;extra;fields\n\"unterminated;4", o);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(Types(*s), "a:int32, b:string, c:decimal(3,2)");
}

TEST(InferTest, SampleRowsLimitsWhatIsRead) {
  InferOptions o;
  o.sample_rows = 3;
  auto s = Infer(FileFormat::kCsv, "a\n1\n2\n3\nnot a number\n", o);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(Types(*s), "a:int32");
  o.sample_rows = 4;
  s = Infer(FileFormat::kCsv, "a\n1\n2\n3\nnot a number\n", o);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(Types(*s), "a:string");
}

TEST(InferTest, EmptyInputIsAnError) {
  auto s = Infer(FileFormat::kCsv, "");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("sample.txt"), std::string::npos);
  EXPECT_FALSE(Infer(FileFormat::kNdjson, "\n\n").ok());
  EXPECT_FALSE(Infer(FileFormat::kParquet, "PAR1").ok());
}

// Issue 10: say what is missing, not that there is no object.
TEST(InferTest, NdjsonWithoutNamedFieldsSaysSo) {
  for (const char* data : {"{}\n", "{\"\":0}\n{}\n"}) {
    auto s = Infer(FileFormat::kNdjson, data);
    ASSERT_FALSE(s.ok()) << data;
    EXPECT_NE(s.status().message().find("sampled have no named field"), std::string::npos)
        << s.status().message();
  }
  auto s = Infer(FileFormat::kNdjson, "[1]\n2\n");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("none of the 2 line(s) sampled is a JSON object"),
            std::string::npos)
      << s.status().message();
}

TEST(InferTest, HeaderOnlyGivesStringColumns) {
  auto s = Infer(FileFormat::kCsv, "a,b\n");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(Types(*s), "a:string, b:string");
}

TEST(InferTest, ThousandsOfColumnsAndLongLines) {
  std::string header, row;
  for (int i = 0; i < 5000; ++i) {
    header += (i ? "," : "") + std::string("c") + std::to_string(i);
    row += (i ? "," : "") + std::to_string(i);
  }
  std::string data = header + "\n" + row + "\n" + row + "\n";
  auto s = Infer(FileFormat::kCsv, data, {}, 4096);
  ASSERT_TRUE(s.ok());
  ASSERT_EQ(s->num_fields(), 5000);
  EXPECT_EQ(s->field(4999).name, "c4999");
  EXPECT_EQ(s->field(4999).type, DataType::Int32());

  std::string big(4 << 20, 'x');
  s = Infer(FileFormat::kCsv, "a,b\n" + big + ",1\n", {}, 65536);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(Types(*s), "a:string, b:int32");
}

TEST(InferTest, NdjsonKeysInFirstSeenOrder) {
  std::string data =
      "{\"id\":1,\"name\":\"a\",\"ok\":true,\"price\":1.25}\n"
      "not json at all\n"
      "[1,2]\n"
      "{\"id\":3000000000,\"price\":10,\"when\":\"2024-01-01\",\"tags\":[1],\"n\":null}\n"
      "{\"when\":\"2024-01-02T03:04:05Z\",\"amount\":\"12\",\"x\":1e3}\n"
      "\n"
      "{\"id\":2,\"late\":false, \"broken\": }\n";
  auto s = Infer(FileFormat::kNdjson, data);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(Types(*s),
            "id:int64, name:string, ok:bool, price:decimal(4,2), when:timestamp, tags:string, "
            "n:string, amount:string, x:float64");
}

TEST(InferTest, NdjsonMixedJsonTypesBecomeString) {
  auto s = Infer(FileFormat::kNdjson, "{\"a\":1,\"b\":true}\n{\"a\":\"1\",\"b\":1}\n");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(Types(*s), "a:string, b:string");
}

TEST(InferTest, SameResultAtEverySplit) {
  std::string csv =
      "\xEF\xBB\xBF"
      "a,b,c\r\n1,\"x\r\ny\",2024-01-01\r\n2,z,2024-01-02 10:00\r\n";
  std::string want = Types(*Infer(FileFormat::kCsv, csv));
  EXPECT_EQ(want, "a:int32, b:string, c:timestamp");
  for (size_t piece = 1; piece <= csv.size(); ++piece) {
    auto s = Infer(FileFormat::kCsv, csv, {}, piece);
    ASSERT_TRUE(s.ok());
    ASSERT_EQ(Types(*s), want) << piece;
  }
  std::string nd = "{\"a\":1.5,\"b\":\"2024-01-01\"}\n{\"a\":2}\r\n";
  std::string want_nd = Types(*Infer(FileFormat::kNdjson, nd));
  EXPECT_EQ(want_nd, "a:decimal(2,1), b:date");
  for (size_t piece = 1; piece <= nd.size(); ++piece) {
    auto s = Infer(FileFormat::kNdjson, nd, {}, piece);
    ASSERT_TRUE(s.ok());
    ASSERT_EQ(Types(*s), want_nd) << piece;
  }
}

}  // namespace
}  // namespace sluice

namespace sluice {
namespace {

TEST(InferFixtureTest, CsvAndNdjsonFixtures) {
  auto csv =
      OpenFileInput(std::string(SLUICE_TEST_DATA_DIR) + "/csv/quoted_multiline_crlf_bom.csv");
  ASSERT_TRUE(csv.ok());
  auto s = InferSchema(FileFormat::kCsv, **csv, {});
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(Types(*s), "id:int32, amount:decimal(4,2), note:string, created_at:timestamp");

  auto nd =
      OpenFileInput(std::string(SLUICE_TEST_DATA_DIR) + "/ndjson/mixed_with_bad_lines.ndjson");
  ASSERT_TRUE(nd.ok());
  s = InferSchema(FileFormat::kNdjson, **nd, {});
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(Types(*s),
            "id:string, amount:string, note:string, created_at:timestamp, tags:string, "
            "extra:string");
}

}  // namespace
}  // namespace sluice
