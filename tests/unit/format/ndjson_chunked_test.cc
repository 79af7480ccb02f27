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
                      ThreadPool* pool, bool fast_paths = true) {
  options.pool = pool;
  ChunkedOptions chunking;
  chunking.fast_paths = fast_paths;
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

// The line fast path (FastLineDecoder) keeps exactly what the general path
// keeps, and hands everything else to it: each line below is one way a line
// can leave the fast path's common case.
TEST(NdjsonChunkedTest, FastPathAgreesWithTheExactPath) {
  DecoderOptions options;
  options.schema = Schema({{"id", DataType::Int64(), false},
                           {"n", DataType::Int32(), true},
                           {"p", DataType::Decimal(6, 2), true},
                           {"s", DataType::String(), true},
                           {"t", DataType::Timestamp(), true},
                           {"d", DataType::Date(), true},
                           {"b", DataType::Bool(), true},
                           {"f", DataType::Float64(), true},
                           {"q\"k", DataType::String(), true}});
  const std::string lines =
      R"({"id": 1, "n": 2, "p": 3.25, "s": "x", "t": "2024-01-02T03:04:05Z", "d": "2024-02-29", "b": true, "f": 1.5}
{"n": 2, "id": 2, "s": "out of order"}
{"id": 3, "s": "a", "s": "repeated key"}
{"i\u0064": 4, "s": "escaped key"}
{"id": 5, "q\"k": "key with a quote"}
{"id": 6, "n": "7"}
{"id": 7, "n": 2147483648}
{"id": 8, "n": 1.0}
{"id": 9, "p": "3.25"}
{"id": 10, "p": 01.5}
{"id": 11, "p": 1e2}
{"id": 12, "p": 1.234}
{"id": 13, "p": 10000.00}
{"id": 14, "p": -0.5}
{"id": 15, "s": 42}
{"id": 16, "s": true}
{"id": 17, "s": {"nested": [1, 2]}}
{"id": 18, "s": "caf\u00e9 \"q\""}
{"id": 19, "t": "2024-01-02 03:04:05"}
{"id": 20, "t": "2024-01-02T03:04:05.123+02:00"}
{"id": 21, "t": 5}
{"id": 22, "d": "2023-02-29"}
{"id": 23, "b": "yes"}
{"id": 24, "b": 1}
{"id": 25, "f": "2.5"}
{"id": 26, "f": -1e308}
{"id": null}
{"n": 1}
{"id": 29, "unknown": [1, {"a": nul}]}
{"id": 30, "unknown": {"a": [true]}}
{"id": 31} junk
{"id": 32,}
{"id": 33 "n": 1}
[1, 2]
"just a string"
{"id": 36, "n": null, "p": null, "s": null, "t": null}
{"id": 37, "n": nul}
{"id": 38, "s": "tab	inside"}
{"id": 39, "n": -2147483648, "p": 9999.99}
{}
{"id": 41, "s": ""}
)";
  for (bool ignore_unknown : {true, false}) {
    options.ignore_unknown_fields = ignore_unknown;
    Decoded exact = DecodeChunked(lines, options, 64u << 20, nullptr, false);
    Decoded fast = DecodeChunked(lines, options, 64u << 20, nullptr, true);
    EXPECT_EQ(fast.status.ToString(), exact.status.ToString());
    EXPECT_EQ(fast.Text(), exact.Text());
    if (ignore_unknown) {
      EXPECT_GT(exact.rows.size(), 20u);
      EXPECT_GT(exact.bad.size(), 10u);
    }
  }
  // And on random lines, in chunks, on a pool.
  std::mt19937 rng(11);
  ThreadPool pool(2);
  options.ignore_unknown_fields = true;
  options.schema = Schema({{"id", DataType::Int64(), false},
                           {"qty", DataType::Int32(), true},
                           {"price", DataType::Decimal(12, 2), true},
                           {"note", DataType::String(), true},
                           {"at", DataType::Timestamp(), true}});
  for (int iter = 0; iter < 4; ++iter) {
    std::string data = RandomNdjson(rng, 300);
    EXPECT_EQ(DecodeChunked(data, options, 100, &pool, true).Text(),
              DecodeChunked(data, options, 64u << 20, nullptr, false).Text());
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
