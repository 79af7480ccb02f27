// The chunked NDJSON decoder gives the same output for any chunking and pool.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "core/thread_pool.h"
#include "decode_helpers.h"
#include "format/decoders_internal.h"
#include "format/ndjson_lines.h"

namespace sluice {
namespace {

using testing::Decoded;
using testing::Drain;
using testing::PieceInput;

Decoded DecodeChunked(const std::string& data, DecoderOptions options, size_t chunk_bytes,
                      ThreadPool* pool) {
  options.pool = pool;
  ChunkedOptions chunking;
  chunking.chunk_bytes = chunk_bytes;
  chunking.first_chunk_bytes = chunk_bytes;
  return Drain(NewNdjsonDecoder(std::make_unique<PieceInput>(data, 1 << 20, "in.ndjson"), options,
                                chunking));
}

std::string RandomNdjson(std::mt19937& rng, int rows) {
  std::string s;
  auto pick = [&](int n) { return static_cast<int>(rng() % n); };
  for (int r = 0; r < rows; ++r) {
    switch (pick(30)) {
      case 0:
        s += "\n";
        continue;
      case 1:
        s += "{\"id\": " + std::to_string(r) + ", \"qty\": \"many\"}\n";  // type mismatch
        continue;
      case 2:
        s += "{\"id\": " + std::to_string(r) + ", \"note\": \"unterminated}\n";  // bad JSON
        continue;
      case 3:
        s += "[1,2]\n";
        continue;
      default:
        break;
    }
    s += "{\"id\": " + std::to_string(r);
    if (pick(5) != 0) s += ", \"qty\": " + std::to_string(pick(1000));
    s += ", \"price\": " + std::to_string(pick(10000)) + "." + std::to_string(10 + pick(90));
    if (pick(4) != 0) s += ", \"note\": \"n\\\"" + std::to_string(pick(100)) + "\\u00e9\"";
    if (pick(6) == 0) s += ", \"extra\": {\"a\": [1, {\"b\": null}]}";
    s += ", \"at\": \"2024-05-0" + std::to_string(1 + pick(9)) + "T01:02:03Z\"}";
    s += pick(6) == 0 ? "\r\n" : "\n";
  }
  return s;
}

TEST(NdjsonChunkedTest, AnyChunkingAndThreadCountGivesTheSameOutput) {
  std::mt19937 rng(5);
  ThreadPool pool(3);
  DecoderOptions options;
  options.schema = Schema({{"id", DataType::Int64(), false},
                           {"qty", DataType::Int32(), true},
                           {"price", DataType::Decimal(12, 2), true},
                           {"note", DataType::String(), true},
                           {"at", DataType::Timestamp(), true}});
  options.batch_rows = 40;
  for (int iter = 0; iter < 12; ++iter) {
    std::string data = RandomNdjson(rng, 300);
    Decoded want = DecodeChunked(data, options, 64u << 20, nullptr);
    ASSERT_TRUE(want.status.ok()) << want.status.ToString();
    ASSERT_GT(want.rows.size(), 200u);
    ASSERT_GT(want.bad.size(), 5u);
    for (size_t chunk : {size_t{9}, size_t{100}, size_t{1000}}) {
      for (ThreadPool* p : {static_cast<ThreadPool*>(nullptr), &pool}) {
        Decoded got = DecodeChunked(data, options, chunk, p);
        ASSERT_EQ(got.Text(), want.Text()) << "chunk " << chunk;
        EXPECT_EQ(got.records_read, want.records_read);
      }
    }
  }
}

TEST(NdjsonChunkedTest, UnknownKeyErrorNamesTheAbsoluteLine) {
  std::string data;
  for (int i = 1; i <= 50; ++i) data += "{\"id\": " + std::to_string(i) + "}\n";
  data += "{\"id\": 51, \"surprise\": 1}\n";
  DecoderOptions options;
  options.schema = Schema({{"id", DataType::Int64(), false}});
  options.ignore_unknown_fields = false;
  ThreadPool pool(2);
  Decoded d = DecodeChunked(data, options, 64, &pool);
  ASSERT_FALSE(d.status.ok());
  EXPECT_NE(d.status.message().find("key 'surprise' on line 51 of 'in.ndjson'"), std::string::npos)
      << d.status.ToString();
}

TEST(NdjsonChunkedTest, ReportsTheKernel) {
  const std::string k = NdjsonKernel();
  EXPECT_TRUE(k == "haswell" || k == "generic") << k;
}

}  // namespace
}  // namespace sluice
