#include <gtest/gtest.h>

#include <limits>
#include <string>

#include "core/thread_pool.h"
#include "format/text_encoder.h"
#include "random_batch.h"

namespace sluice {
namespace {

using testing::DecodeRows;
using testing::RandomValues;
using testing::RecordingOutput;
using testing::Redecoded;
using testing::RowsText;

std::string EncodeCsv(const RecordBatch& batch, const CsvOptions& options,
                      ThreadPool* pool = nullptr) {
  std::string out;
  auto enc = NewCsvEncoder(NewStringOutput(&out), batch.schema, options, pool);
  EXPECT_TRUE(enc.ok()) << enc.status().ToString();
  if (!enc.ok()) return "";
  Status st = (*enc)->Write(batch);
  EXPECT_TRUE(st.ok()) << st.ToString();
  st = (*enc)->Finish();
  EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ((*enc)->rows_written(), batch.num_rows());
  EXPECT_EQ((*enc)->bytes_written(), static_cast<int64_t>(out.size()));
  return out;
}

RecordBatch OneString(std::string_view s) {
  RecordBatch b = RecordBatch::Empty(Schema({{"s", DataType::String()}}));
  b.columns[0].AppendString(s);
  return b;
}

TEST(CsvEncoderTest, QuotesOnlyWhatNeedsIt) {
  struct Case {
    std::string value;
    std::string text;
  };
  const Case cases[] = {
      {"plain", "plain"},
      {"", "\"\""},  // empty string, not NULL
      {"a,b", "\"a,b\""},
      {"say \"hi\"", "\"say \"\"hi\"\"\""},
      {"\"", "\"\"\"\""},
      {"two\nlines", "\"two\nlines\""},
      {"cr\r", "\"cr\r\""},
      {" lead", "\" lead\""},
      {"trail\t", "\"trail\t\""},
      {"in side", "in side"},
      {"quote\"in the middle of a long value", "\"quote\"\"in the middle of a long value\""},
      {"日本語 ünïcödé", "日本語 ünïcödé"},
      {"NULL", "NULL"},  // not a null marker in the default dialect
  };
  CsvOptions o;
  o.header = false;
  for (const Case& c : cases) {
    EXPECT_EQ(EncodeCsv(OneString(c.value), o), c.text + "\n") << c.value;
  }
}

TEST(CsvEncoderTest, HeaderNullsAndEveryType) {
  Schema s({{"id", DataType::Int64()},
            {"flag", DataType::Bool()},
            {"qty", DataType::Int32()},
            {"score", DataType::Float64()},
            {"price", DataType::Decimal(12, 2)},
            {"name", DataType::String()},
            {"day", DataType::Date()},
            {"at", DataType::Timestamp()},
            {"odd, name", DataType::String()}});
  RecordBatch b = RecordBatch::Empty(s);
  auto row = [&](int64_t id, uint8_t flag, int32_t qty, double score, int64_t price,
                 std::string_view name, int32_t day, int64_t at, std::string_view odd) {
    b.columns[0].Append(id);
    b.columns[1].Append(flag);
    b.columns[2].Append(qty);
    b.columns[3].Append(score);
    b.columns[4].Append(price);
    b.columns[5].AppendString(name);
    b.columns[6].Append(day);
    b.columns[7].Append(at);
    b.columns[8].AppendString(odd);
  };
  row(1, 1, 42, 0.1, 12345, "alice", 19797, 1710498030000000, "x");
  row(std::numeric_limits<int64_t>::min(), 0, std::numeric_limits<int32_t>::min(), -0.0, -5, "", -1,
      -1, "y");
  row(std::numeric_limits<int64_t>::max(), 1, std::numeric_limits<int32_t>::max(), 1e300,
      999999999999, "b", 0, 123456, "z");
  row(0, 0, 0, std::numeric_limits<double>::quiet_NaN(), 0, "c", 0, 0, "");
  row(0, 0, 0, -std::numeric_limits<double>::infinity(), 0, "d", 0, 0, "");
  for (auto& c : b.columns) c.AppendNull();
  EXPECT_EQ(EncodeCsv(b, CsvOptions()),
            "id,flag,qty,score,price,name,day,at,\"odd, name\"\n"
            "1,true,42,0.1,123.45,alice,2024-03-15,2024-03-15T10:20:30Z,x\n"
            "-9223372036854775808,false,-2147483648,-0,-0.05,\"\",1969-12-31,"
            "1969-12-31T23:59:59.999999Z,y\n"
            "9223372036854775807,true,2147483647,1e+300,9999999999.99,b,1970-01-01,"
            "1970-01-01T00:00:00.123456Z,z\n"
            "0,false,0,nan,0.00,c,1970-01-01,1970-01-01T00:00:00Z,\"\"\n"
            "0,false,0,-inf,0.00,d,1970-01-01,1970-01-01T00:00:00Z,\"\"\n"
            ",,,,,,,,\n");
}

TEST(CsvEncoderTest, DialectNullMarkerAndOddDelimiter) {
  Schema s({{"name", DataType::String()}, {"price", DataType::Decimal(6, 2)}});
  RecordBatch b = RecordBatch::Empty(s);
  b.columns[0].AppendString("NULL");
  b.columns[1].Append<int64_t>(150);
  b.columns[0].AppendNull();
  b.columns[1].AppendNull();
  b.columns[0].AppendString("it's;x");
  b.columns[1].Append<int64_t>(-1);

  CsvOptions semi;
  semi.delimiter = ';';
  semi.quote = '\'';
  semi.null_values = {"NULL", ""};
  // The string "NULL" is quoted so that it does not read back as NULL.
  EXPECT_EQ(EncodeCsv(b, semi), "name;price\n'NULL';1.50\nNULL;NULL\n'it''s;x';-0.01\n");

  // A '.' delimiter collides with decimals, which then get quoted.
  CsvOptions dot;
  dot.delimiter = '.';
  EXPECT_EQ(EncodeCsv(b, dot), "name.price\nNULL.\"1.50\"\n.\nit's;x.\"-0.01\"\n");
}

TEST(CsvEncoderTest, RejectsBadOptionsAndMismatchedBatches) {
  Schema s({{"a", DataType::Int64()}});
  std::string out;
  CsvOptions nl;
  nl.delimiter = '\n';
  EXPECT_EQ(NewCsvEncoder(NewStringOutput(&out), s, nl).status().code(),
            StatusCode::kInvalidArgument);
  CsvOptions same;
  same.quote = ',';
  EXPECT_EQ(NewCsvEncoder(NewStringOutput(&out), s, same).status().code(),
            StatusCode::kInvalidArgument);
  CsvOptions marker;
  marker.null_values = {"a,b"};
  EXPECT_EQ(NewCsvEncoder(NewStringOutput(&out), s, marker).status().code(),
            StatusCode::kInvalidArgument);

  auto enc = NewCsvEncoder(NewStringOutput(&out), s, CsvOptions());
  ASSERT_TRUE(enc.ok());
  RecordBatch wrong = RecordBatch::Empty(Schema({{"a", DataType::String()}}));
  wrong.columns[0].AppendString("x");
  Status st = (*enc)->Write(wrong);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("field 'a'"), std::string::npos) << st.message();
}

TEST(CsvEncoderTest, WritesLargeBlocksAndPublishesOnlyOnFinish) {
  Schema s({{"id", DataType::Int64()}, {"name", DataType::String()}});
  RecordBatch b = RecordBatch::Empty(s);
  for (int64_t i = 0; i < 200000; ++i) {
    b.columns[0].Append(i);
    b.columns[1].AppendString("name number " + std::to_string(i));
  }
  RecordingOutput::Log log;
  auto enc = NewCsvEncoder(std::make_unique<RecordingOutput>(&log), s, CsvOptions());
  ASSERT_TRUE(enc.ok());
  ASSERT_TRUE((*enc)->Write(b).ok());
  EXPECT_FALSE(log.closed);
  ASSERT_TRUE((*enc)->Finish().ok());
  EXPECT_TRUE(log.closed);
  EXPECT_FALSE(log.aborted);
  ASSERT_GE(log.writes.size(), 2u);
  for (size_t i = 0; i + 1 < log.writes.size(); ++i) EXPECT_GE(log.writes[i], size_t{1} << 20);
  EXPECT_EQ((*enc)->Finish().code(), StatusCode::kFailedPrecondition);
}

TEST(CsvEncoderTest, AbortsWithoutFinishOrAfterAFailedWrite) {
  Schema s({{"id", DataType::Int64()}});
  RecordBatch b = RecordBatch::Empty(s);
  b.columns[0].Append<int64_t>(1);
  {
    RecordingOutput::Log log;
    {
      auto enc = NewCsvEncoder(std::make_unique<RecordingOutput>(&log), s, CsvOptions());
      ASSERT_TRUE(enc.ok());
      ASSERT_TRUE((*enc)->Write(b).ok());
    }
    EXPECT_TRUE(log.aborted);
    EXPECT_FALSE(log.closed);
  }
  {
    RecordingOutput::Log log;
    auto enc = NewCsvEncoder(std::make_unique<RecordingOutput>(&log, /*fail_writes=*/true), s,
                             CsvOptions());
    ASSERT_TRUE(enc.ok());
    ASSERT_TRUE((*enc)->Write(b).ok());  // still buffered
    Status st = (*enc)->Finish();
    EXPECT_EQ(st.code(), StatusCode::kIOError);
    EXPECT_TRUE(log.aborted);
    EXPECT_FALSE(log.closed);
  }
}

// Random schemas and values survive CSV and come back from the CSV decoder
// unchanged, in several dialects, serially and on a pool (same bytes).
TEST(CsvEncoderTest, RandomRoundTripThroughTheDecoder) {
  ThreadPool pool(2);
  CsvOptions semi;
  semi.delimiter = ';';
  semi.null_values = {"NULL"};
  CsvOptions tab;
  tab.delimiter = '\t';
  tab.quote = '\'';
  tab.null_values = {"\\N", ""};
  CsvOptions no_header;
  no_header.header = false;
  const CsvOptions dialects[] = {CsvOptions(), semi, tab, no_header};
  for (uint64_t seed = 1; seed <= 16; ++seed) {
    RandomValues rnd(seed);
    Schema schema = rnd.RandomSchema();
    RecordBatch batch = rnd.Batch(schema, seed % 8 == 0 ? 10000 : 300);
    const CsvOptions& dialect = dialects[seed % std::size(dialects)];
    std::string serial = EncodeCsv(batch, dialect);
    std::string parallel = EncodeCsv(batch, dialect, &pool);
    ASSERT_EQ(serial, parallel) << "seed " << seed;

    DecoderOptions opts;
    opts.schema = schema;
    opts.csv = dialect;
    Redecoded back = DecodeRows(FileFormat::kCsv, serial, opts);
    ASSERT_TRUE(back.status.ok()) << "seed " << seed << ": " << back.status.ToString();
    EXPECT_TRUE(back.bad.empty()) << "seed " << seed << ": " << back.bad.front();
    std::vector<std::string> want = RowsText(batch);
    ASSERT_EQ(back.rows.size(), want.size()) << "seed " << seed;
    for (size_t r = 0; r < want.size(); ++r) {
      ASSERT_EQ(back.rows[r], want[r]) << "seed " << seed << " row " << r << "\n"
                                       << schema.ToString();
    }
  }
}

TEST(CsvEncoderTest, SeveralBatchesAndAnEmptyOne) {
  Schema s({{"a", DataType::Int32()}, {"b", DataType::String()}});
  std::string out;
  auto enc = NewCsvEncoder(NewStringOutput(&out), s, CsvOptions());
  ASSERT_TRUE(enc.ok());
  for (int k = 0; k < 3; ++k) {
    RecordBatch b = RecordBatch::Empty(s);
    for (int i = 0; i < k; ++i) {
      b.columns[0].Append<int32_t>(k * 10 + i);
      b.columns[1].AppendString("v");
    }
    ASSERT_TRUE((*enc)->Write(b).ok());
  }
  ASSERT_TRUE((*enc)->Finish().ok());
  EXPECT_EQ(out, "a,b\n10,v\n20,v\n21,v\n");
  EXPECT_EQ((*enc)->rows_written(), 3);
}

}  // namespace
}  // namespace sluice
