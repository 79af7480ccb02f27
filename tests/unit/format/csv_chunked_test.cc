// The chunked, parallel CSV decoder must produce exactly what one chunk on
// one thread produces, wherever the chunk boundaries fall.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "core/thread_pool.h"
#include "decode_helpers.h"
#include "format/decoders_internal.h"

namespace sluice {
namespace {

using testing::Decoded;
using testing::Drain;
using testing::PieceInput;

Decoded DecodeChunked(const std::string& data, DecoderOptions options, size_t chunk_bytes,
                      ThreadPool* pool, bool fast_paths = true) {
  options.pool = pool;
  ChunkedOptions chunking;
  chunking.fast_paths = fast_paths;
  chunking.chunk_bytes = chunk_bytes;
  chunking.first_chunk_bytes = chunk_bytes;
  return Drain(
      NewCsvDecoder(std::make_unique<PieceInput>(data, 1 << 20, "in.csv"), options, chunking));
}

Schema OrdersSchema() {
  return Schema({{"id", DataType::Int64(), false},
                 {"qty", DataType::Int32(), true},
                 {"price", DataType::Decimal(12, 2), true},
                 {"note", DataType::String(), true},
                 {"at", DataType::Timestamp(), true}});
}

// Random CSV text: mostly good rows, with quoted fields holding delimiters,
// doubled quotes and line breaks, CRLF, empty lines, bad values, wrong field
// counts, and (when `stray`) quotes inside unquoted fields.
std::string RandomCsv(std::mt19937& rng, int rows, bool stray) {
  std::string s = "id,qty,price,note,at\n";
  auto pick = [&](int n) { return static_cast<int>(rng() % n); };
  for (int r = 0; r < rows; ++r) {
    switch (pick(40)) {
      case 0:
        s += "\n";
        continue;
      case 1:
        s += std::to_string(r) + ",1\n";  // too few fields
        continue;
      case 2:
        s += std::to_string(r) + ",x,1.00,a,2024-01-01T00:00:00Z\n";  // bad int
        continue;
      default:
        break;
    }
    s += std::to_string(r) + ",";
    s += pick(10) == 0 ? "" : std::to_string(pick(1000));
    s += "," + std::to_string(pick(100000)) + "." + std::to_string(10 + pick(90)) + ",";
    switch (pick(8)) {
      case 0:
        s += "\"a, \"\"quoted\"\"\nline\"";
        break;
      case 1:
        s += "\"plain quoted\"";
        break;
      case 2:
        s += stray ? "it\"s" : "its";
        break;
      case 3:
        s += "\"\"";
        break;
      default:
        s += "note " + std::to_string(pick(100));
    }
    s += ",2024-0" + std::to_string(1 + pick(9)) + "-1" + std::to_string(pick(10)) + "T10:20:30Z";
    s += pick(5) == 0 ? "\r\n" : "\n";
  }
  return s;
}

TEST(CsvChunkedTest, AnyChunkingAndThreadCountGivesTheSameOutput) {
  std::mt19937 rng(11);
  ThreadPool pool(3);
  DecoderOptions options;
  options.schema = OrdersSchema();
  options.batch_rows = 50;
  for (int iter = 0; iter < 24; ++iter) {
    const bool stray = iter % 4 == 3;
    std::string csv = RandomCsv(rng, 300, stray);
    Decoded want = DecodeChunked(csv, options, 64u << 20, nullptr);
    ASSERT_TRUE(want.status.ok()) << want.status.ToString();
    ASSERT_GT(want.rows.size(), 200u);
    for (size_t chunk : {size_t{7}, size_t{64}, size_t{333}, size_t{4096}}) {
      for (ThreadPool* p : {static_cast<ThreadPool*>(nullptr), &pool}) {
        Decoded got = DecodeChunked(csv, options, chunk, p);
        ASSERT_EQ(got.Text(), want.Text()) << "chunk " << chunk << " iter " << iter;
        EXPECT_EQ(got.records_read, want.records_read);
      }
    }
  }
}

TEST(CsvChunkedTest, QuotedLineBreaksKeepPhysicalLineNumbers) {
  std::string csv = "id,note\n1,\"a\nb\nc\"\n2,x\n3,\"\n\"\n4,y\n";
  DecoderOptions options;
  options.schema = Schema({{"id", DataType::Int64(), false}, {"note", DataType::String(), true}});
  Decoded d = DecodeChunked(csv, options, 8, nullptr);
  ASSERT_TRUE(d.status.ok()) << d.status.ToString();
  ASSERT_EQ(d.rows.size(), 4u);
  EXPECT_EQ(d.rows[0], "2: 1|<a\nb\nc>");
  EXPECT_EQ(d.rows[1], "5: 2|<x>");
  EXPECT_EQ(d.rows[2], "6: 3|<\n>");
  EXPECT_EQ(d.rows[3], "8: 4|<y>");
}

TEST(CsvChunkedTest, AStrayQuoteBeforeAQuotedLineBreakFallsBackToExactReading) {
  // Quote parity is wrong after `it"s`, so a cut made by parity can land inside
  // the quoted field below; the exact reader must take over.
  std::string csv = "id,note\n1,it\"s\n";
  for (int i = 2; i < 60; ++i) {
    csv += std::to_string(i) + (i % 5 == 0 ? ",\"multi\nline\"\n" : ",plain\n");
  }
  DecoderOptions options;
  options.schema = Schema({{"id", DataType::Int64(), false}, {"note", DataType::String(), true}});
  Decoded want = DecodeChunked(csv, options, 1 << 20, nullptr);
  ASSERT_TRUE(want.status.ok());
  ASSERT_EQ(want.rows.size(), 59u);
  EXPECT_EQ(want.rows[0], "2: 1|<it\"s>");
  ThreadPool pool(2);
  for (size_t chunk = 5; chunk < 80; chunk += 3) {
    EXPECT_EQ(DecodeChunked(csv, options, chunk, &pool).Text(), want.Text()) << chunk;
  }
}

TEST(CsvChunkedTest, AnOpenQuoteAtTheEndIsOneBadRecord) {
  std::string csv = "id,note\n1,a\n2,\"never closed\n3,b\n";
  DecoderOptions options;
  options.schema = Schema({{"id", DataType::Int64(), false}, {"note", DataType::String(), true}});
  for (size_t chunk : {size_t{6}, size_t{1} << 20}) {
    Decoded d = DecodeChunked(csv, options, chunk, nullptr);
    ASSERT_TRUE(d.status.ok()) << d.status.ToString();
    ASSERT_EQ(d.rows.size(), 1u) << chunk;
    ASSERT_EQ(d.bad.size(), 1u) << chunk;
    EXPECT_EQ(d.bad[0].line, 3);
    EXPECT_EQ(d.bad[0].reason, "unterminated quoted field");
  }
}

TEST(CsvChunkedTest, ARecordLargerThanTheLimitIsAFileError) {
  std::string csv = "id,note\n1,\"" + std::string(5000, 'x');  // never closed, no newline
  csv += "\n" + std::string(5000, 'y') + "\n";
  DecoderOptions options;
  options.schema = Schema({{"id", DataType::Int64(), false}, {"note", DataType::String(), true}});
  ChunkedOptions chunking;
  chunking.chunk_bytes = 512;
  chunking.first_chunk_bytes = 512;
  chunking.max_record_bytes = 2048;
  Decoded d = Drain(
      NewCsvDecoder(std::make_unique<PieceInput>(csv, 1 << 20, "big.csv"), options, chunking));
  EXPECT_FALSE(d.status.ok());
  EXPECT_NE(d.status.message().find("big.csv"), std::string::npos) << d.status.ToString();
  EXPECT_NE(d.status.message().find("line 2"), std::string::npos) << d.status.ToString();
}

// A column the schema does not use is still read as the exact reader reads
// it: junk after its closing quote makes the record bad (a fuzz finding: the
// fast path used to skip such a column unseen when a chunk ended right there).
TEST(CsvChunkedTest, JunkAfterAQuoteInASkippedColumnIsABadRecord) {
  DecoderOptions options;
  options.schema = Schema({{"id", DataType::Int64(), false}});
  options.ignore_unknown_fields = true;
  const std::string data = "id,x,y\n1,a,\"ok \"\"q\"\"\"\n2,b,\"multi\nline\"junk\n3,c,\"d\"\n";
  Decoded exact = DecodeChunked(data, options, 1 << 20, nullptr, false);
  ASSERT_TRUE(exact.status.ok()) << exact.status.ToString();
  ASSERT_EQ(exact.bad.size(), 1u) << exact.Text();
  EXPECT_EQ(exact.bad[0].line, 3);
  ThreadPool pool(2);
  for (size_t chunk = 1; chunk <= data.size(); ++chunk) {
    EXPECT_EQ(DecodeChunked(data, options, chunk, &pool, true).Text(), exact.Text())
        << "chunk " << chunk;
  }
}

}  // namespace
}  // namespace sluice
