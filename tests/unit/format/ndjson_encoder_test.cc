#include <gtest/gtest.h>
#include <simdjson.h>

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

std::string EncodeNdjson(const RecordBatch& batch, ThreadPool* pool = nullptr) {
  std::string out;
  auto enc = NewNdjsonEncoder(NewStringOutput(&out), batch.schema, pool);
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

TEST(NdjsonEncoderTest, EscapesStrings) {
  struct Case {
    std::string value;
    std::string json;
  };
  const Case cases[] = {
      {"plain", R"("plain")"},
      {"", R"("")"},
      {"say \"hi\"", R"("say \"hi\"")"},
      {"back\\slash", R"("back\\slash")"},
      {"a\nb\rc\td\be\ff", R"("a\nb\rc\td\be\ff")"},
      {std::string("nul\0x", 5), R"("nul\u0000x")"},
      {"\x01\x1f\x7f", "\"\\u0001\\u001f\x7f\""},
      {"long ascii run then \"quote\" and more", R"("long ascii run then \"quote\" and more")"},
      {"日本語 ünïcödé \xF0\x9F\x98\x80", "\"日本語 ünïcödé \xF0\x9F\x98\x80\""},
      {"</script>\u2028", "\"</script>\u2028\""},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(EncodeNdjson(OneString(c.value)), "{\"s\":" + c.json + "}\n") << c.value;
  }
}

TEST(NdjsonEncoderTest, ReplacesInvalidUtf8ByteByByte) {
  struct Case {
    std::string value;
    std::string json;
  };
  const std::string r = "\xEF\xBF\xBD";
  const Case cases[] = {
      {"a\xFFz", "\"a" + r + "z\""},                      // never valid
      {"\x80", "\"" + r + "\""},                          // lone continuation
      {"\xC3", "\"" + r + "\""},                          // truncated at the end
      {"\xC3(", "\"" + r + "(\""},                        // lead without continuation
      {"\xC0\xAF", "\"" + r + r + "\""},                  // overlong '/'
      {"\xED\xA0\x80", "\"" + r + r + r + "\""},          // UTF-16 surrogate
      {"\xF4\x90\x80\x80", "\"" + r + r + r + r + "\""},  // above U+10FFFF
      {"\xE2\x82\xAC ok", "\"\xE2\x82\xAC ok\""},         // valid euro sign
  };
  for (const Case& c : cases) {
    std::string out = EncodeNdjson(OneString(c.value));
    EXPECT_EQ(out, "{\"s\":" + c.json + "}\n");
    EXPECT_TRUE(simdjson::validate_utf8(out.data(), out.size()));
  }
}

TEST(NdjsonEncoderTest, EveryTypeAndNull) {
  Schema s({{"id", DataType::Int64()},
            {"flag", DataType::Bool()},
            {"qty", DataType::Int32()},
            {"score", DataType::Float64()},
            {"price", DataType::Decimal(12, 2)},
            {"name", DataType::String()},
            {"day", DataType::Date()},
            {"at", DataType::Timestamp()},
            {"we\"ird\n", DataType::Int32()}});
  RecordBatch b = RecordBatch::Empty(s);
  b.columns[0].Append<int64_t>(std::numeric_limits<int64_t>::min());
  b.columns[1].Append<uint8_t>(1);
  b.columns[2].Append<int32_t>(-7);
  b.columns[3].Append<double>(1e-7);
  b.columns[4].Append<int64_t>(-5);
  b.columns[5].AppendString("x");
  b.columns[6].Append<int32_t>(19797);
  b.columns[7].Append<int64_t>(1710498030000001);
  b.columns[8].Append<int32_t>(0);
  for (auto& c : b.columns) c.AppendNull();
  b.columns[0].Append<int64_t>(0);
  b.columns[1].Append<uint8_t>(0);
  b.columns[2].Append<int32_t>(0);
  b.columns[3].Append<double>(-std::numeric_limits<double>::infinity());
  b.columns[4].Append<int64_t>(100);
  b.columns[5].AppendString("");
  b.columns[6].Append<int32_t>(-719162);
  b.columns[7].Append<int64_t>(0);
  b.columns[8].Append<int32_t>(1);
  EXPECT_EQ(EncodeNdjson(b),
            R"({"id":-9223372036854775808,"flag":true,"qty":-7,"score":1e-07,"price":-0.05,)"
            R"("name":"x","day":"2024-03-15","at":"2024-03-15T10:20:30.000001Z","we\"ird\n":0})"
            "\n"
            R"({"id":null,"flag":null,"qty":null,"score":null,"price":null,"name":null,)"
            R"("day":null,"at":null,"we\"ird\n":null})"
            "\n"
            R"({"id":0,"flag":false,"qty":0,"score":"-inf","price":1.00,"name":"",)"
            R"("day":"0001-01-01","at":"1970-01-01T00:00:00Z","we\"ird\n":1})"
            "\n");
}

TEST(NdjsonEncoderTest, EveryLineIsValidJson) {
  RandomValues rnd(7);
  Schema schema = rnd.RandomSchema();
  std::string out = EncodeNdjson(rnd.Batch(schema, 500));
  simdjson::dom::parser parser;
  size_t start = 0, lines = 0;
  while (start < out.size()) {
    size_t nl = out.find('\n', start);
    ASSERT_NE(nl, std::string::npos);
    simdjson::dom::element el;
    auto err = parser.parse(out.data() + start, nl - start).get(el);
    ASSERT_EQ(err, simdjson::SUCCESS) << out.substr(start, nl - start);
    EXPECT_TRUE(el.is_object());
    start = nl + 1;
    ++lines;
  }
  EXPECT_EQ(lines, 500u);
}

TEST(NdjsonEncoderTest, MismatchedBatchFailsAndFailedWriteAborts) {
  Schema s({{"a", DataType::Int64()}});
  RecordingOutput::Log log;
  auto enc = NewNdjsonEncoder(std::make_unique<RecordingOutput>(&log, /*fail_writes=*/true), s);
  ASSERT_TRUE(enc.ok());
  RecordBatch wrong = RecordBatch::Empty(Schema({{"a", DataType::Int32()}}));
  wrong.columns[0].Append<int32_t>(1);
  EXPECT_EQ((*enc)->Write(wrong).code(), StatusCode::kInvalidArgument);
  RecordBatch right = RecordBatch::Empty(s);
  right.columns[0].Append<int64_t>(1);
  ASSERT_TRUE((*enc)->Write(right).ok());
  EXPECT_EQ((*enc)->Finish().code(), StatusCode::kIOError);
  EXPECT_TRUE(log.aborted);
  EXPECT_FALSE(log.closed);
}

// Random schemas and values come back from the NDJSON decoder unchanged,
// serially and on a pool (same bytes).
TEST(NdjsonEncoderTest, RandomRoundTripThroughTheDecoder) {
  ThreadPool pool(2);
  for (uint64_t seed = 100; seed < 116; ++seed) {
    RandomValues rnd(seed);
    Schema schema = rnd.RandomSchema();
    RecordBatch batch = rnd.Batch(schema, seed % 8 == 0 ? 10000 : 300);
    std::string serial = EncodeNdjson(batch);
    std::string parallel = EncodeNdjson(batch, &pool);
    ASSERT_EQ(serial, parallel) << "seed " << seed;

    DecoderOptions opts;
    opts.schema = schema;
    Redecoded back = DecodeRows(FileFormat::kNdjson, serial, opts);
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

}  // namespace
}  // namespace sluice
