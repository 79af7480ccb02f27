// The Parquet writer settings of a `table` output: parsing and validation of
// compression_level, row_group_rows, page_bytes and dictionary, and their
// effect on the files the sink writes (read back with the Parquet test reader).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "../format/parquet_test_reader.h"
#include "sink/lake_sink.h"
#include "sink_test_util.h"

namespace sluice {
namespace {

using ::sluice::testing::ReadObject;
using ::sluice::testing::TempDir;
using ::testing::HasSubstr;

Result<LakeSinkOptions> Parse(const std::string& json) {
  return ParseLakeSinkOptions(nlohmann::json::parse(json), "p.yaml:4");
}

TEST(LakeSinkOptionsTest, DefaultsAreTheParquetWriterDefaults) {
  auto o = Parse(R"({"table": "t"})");
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  ParquetWriterOptions want;
  ParquetWriterOptions got = o->WriterOptions();
  EXPECT_EQ(got.compression, want.compression);
  EXPECT_EQ(got.compression_level, want.compression_level);
  EXPECT_EQ(got.row_group_rows, want.row_group_rows);
  EXPECT_EQ(got.page_bytes, want.page_bytes);
  EXPECT_EQ(got.dictionary, want.dictionary);
}

TEST(LakeSinkOptionsTest, ParsesWriterKeys) {
  auto o = Parse(R"({"table": "t", "compression": "gzip", "compression_level": 9,
      "row_group_rows": 5000, "page_bytes": "65536", "dictionary": false})");
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  ParquetWriterOptions w = o->WriterOptions();
  EXPECT_EQ(w.compression, Compression::kGzip);
  EXPECT_EQ(w.compression_level, 9);
  EXPECT_EQ(w.row_group_rows, 5000);
  EXPECT_EQ(w.page_bytes, 65536);
  EXPECT_FALSE(w.dictionary);

  // Strings as YAML front ends may pass them; a negative (fast) zstd level.
  auto s = Parse(R"({"table": "t", "dictionary": "true", "compression_level": "-3"})");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_TRUE(s->dictionary);
  EXPECT_EQ(s->compression_level, -3);
}

TEST(LakeSinkOptionsTest, RejectsBadWriterKeys) {
  struct Case {
    std::string json;
    std::string want;
  } cases[] = {
      {R"({"table": "t", "compression_level": 99})", "'compression_level'"},
      {R"({"table": "t", "compression_level": 99})", "out of range"},
      {R"({"table": "t", "compression": "gzip", "compression_level": 0})", "'compression_level'"},
      {R"({"table": "t", "compression_level": "fast"})", "'compression_level'"},
      {R"({"table": "t", "compression_level": 1e12})", "'compression_level'"},
      {R"({"table": "t", "page_bytes": 0})", "'page_bytes'"},
      {R"({"table": "t", "page_bytes": "big"})", "'page_bytes'"},
      {R"({"table": "t", "row_group_rows": -1})", "'row_group_rows'"},
      {R"({"table": "t", "dictionary": "maybe"})", "'dictionary'"},
      {R"({"table": "t", "dictionary": 1})", "'dictionary'"},
      {R"({"table": "t", "dictionary_page_bytes": 1})", "'dictionary_page_bytes'"},
  };
  for (const Case& c : cases) {
    auto o = Parse(c.json);
    ASSERT_FALSE(o.ok()) << c.json;
    EXPECT_EQ(o.status().code(), StatusCode::kInvalidArgument) << c.json;
    EXPECT_THAT(o.status().message(), HasSubstr("p.yaml:4")) << c.json;
    EXPECT_THAT(o.status().message(), HasSubstr(c.want)) << c.json;
  }
  // Validate() judges options built in code the same way.
  LakeSinkOptions bad;
  bad.table = "t";
  bad.compression = Compression::kZstd;
  bad.compression_level = 1000;
  EXPECT_EQ(bad.Validate().code(), StatusCode::kInvalidArgument);
  bad.compression_level = 3;
  EXPECT_TRUE(bad.Validate().ok());
  // Issue 10: a name that would make file names too long is refused here,
  // not by the file system in the middle of a batch.
  bad.table = std::string(128, 'a');
  EXPECT_TRUE(bad.Validate().ok());
  bad.table = std::string(129, 'a');
  EXPECT_EQ(bad.Validate().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.Validate().message(), HasSubstr("1-128 characters"));
}

// The settings reach the files: row groups, codec, pages and dictionary.
TEST(LakeSinkOptionsTest, FilesFollowTheSettings) {
  TempDir dir;
  auto store = NewLocalObjectStore(dir.path() + "/store");
  Schema schema({{"id", DataType::Int64(), false}, {"cur", DataType::String(), true}});
  RecordBatch batch = RecordBatch::Empty(schema);
  for (int64_t i = 0; i < 250; ++i) {
    batch.columns[0].Append<int64_t>(i);
    batch.columns[1].AppendString(i % 3 == 0 ? "EUR" : "USD");
  }
  for (bool dictionary : {false, true}) {
    SCOPED_TRACE(dictionary);
    auto o = Parse(std::string(R"({"table": "t", "compression": "gzip", "compression_level": 1,
        "row_group_rows": 100, "page_bytes": 40, "dictionary": )") +
                   (dictionary ? "true" : "false") + "}");
    ASSERT_TRUE(o.ok()) << o.status().ToString();
    auto sink = NewLakeSink(*o);
    SinkContext ctx;
    ctx.pipeline = "p";
    ctx.batch_id = dictionary ? 2 : 1;
    ctx.attempt = 1;
    ctx.schema = schema;
    ctx.store = store.get();
    ctx.project_dir = dir.path();
    ASSERT_TRUE(sink->Open(ctx).ok());
    ASSERT_TRUE(sink->Write(batch).ok());
    auto staged = sink->Finish();
    ASSERT_TRUE(staged.ok()) << staged.status().ToString();
    ASSERT_TRUE(staged->table.has_value());
    ASSERT_EQ(staged->table->files.size(), 1u);
    std::string file = ReadObject(*store, staged->table->files[0].staging_key);
    parquet::testing::TValue md = parquet::testing::ParseFooter(file);
    const auto& groups = md.At(4).list;
    ASSERT_EQ(groups.size(), 3u);
    for (const auto& g : groups) {
      const parquet::testing::TValue& cur = g.At(1).list.at(1).At(3);
      EXPECT_EQ(cur.At(4).i, 2);  // GZIP
      EXPECT_EQ(cur.Has(11), dictionary);
      auto rc = parquet::testing::ReadChunk(file, cur, true, 0);
      if (!dictionary) {
        EXPECT_GT(rc.pages, 3);  // 40-byte pages of "EUR"/"USD"
      }
    }
    sink->Discard();
  }
}

}  // namespace
}  // namespace sluice
