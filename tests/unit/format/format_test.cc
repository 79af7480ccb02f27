#include "format/format.h"

#include <gtest/gtest.h>

#include "piece_input.h"

namespace sluice {
namespace {

TEST(FormatTest, NamesRoundTrip) {
  for (FileFormat f : {FileFormat::kCsv, FileFormat::kNdjson, FileFormat::kParquet}) {
    auto parsed = ParseFileFormat(FileFormatName(f));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, f);
  }
}

TEST(FormatTest, ParseFileFormat) {
  struct Case {
    const char* in;
    bool ok;
    FileFormat want;
  };
  const Case cases[] = {
      {"csv", true, FileFormat::kCsv},         {"CSV", true, FileFormat::kCsv},
      {"tsv", true, FileFormat::kCsv},         {"ndjson", true, FileFormat::kNdjson},
      {"jsonl", true, FileFormat::kNdjson},    {"JSON", true, FileFormat::kNdjson},
      {"parquet", true, FileFormat::kParquet}, {"xml", false, FileFormat::kCsv},
      {"", false, FileFormat::kCsv},
  };
  for (const auto& c : cases) {
    auto r = ParseFileFormat(c.in);
    ASSERT_EQ(r.ok(), c.ok) << c.in;
    if (c.ok) {
      EXPECT_EQ(*r, c.want) << c.in;
    } else {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    }
  }
}

TEST(FormatTest, FileFormatFromName) {
  struct Case {
    const char* in;
    bool ok;
    FileFormat want;
  };
  const Case cases[] = {
      {"landing/orders/2024-01-01.csv", true, FileFormat::kCsv},
      {"a.CSV.GZ", true, FileFormat::kCsv},
      {"a.tsv.zst", true, FileFormat::kCsv},
      {"a.csv.gzip", true, FileFormat::kCsv},
      {"a.csv.zstd", true, FileFormat::kCsv},
      {"events.ndjson", true, FileFormat::kNdjson},
      {"events.jsonl.gz", true, FileFormat::kNdjson},
      {"events.json", true, FileFormat::kNdjson},
      {"part-0.parquet", true, FileFormat::kParquet},
      {"noext", false, FileFormat::kCsv},
      {"a.gz", false, FileFormat::kCsv},
      {"dir.csv/file.txt", false, FileFormat::kCsv},
      {"a.txt", false, FileFormat::kCsv},
  };
  for (const auto& c : cases) {
    auto r = FileFormatFromName(c.in);
    ASSERT_EQ(r.ok(), c.ok) << c.in;
    if (c.ok) {
      EXPECT_EQ(*r, c.want) << c.in;
    } else {
      EXPECT_NE(r.status().message().find(c.in), std::string::npos);
    }
  }
}

TEST(FormatTest, ParseCompression) {
  EXPECT_EQ(*ParseCompression("none"), Compression::kUncompressed);
  EXPECT_EQ(*ParseCompression("snappy"), Compression::kSnappy);
  EXPECT_EQ(*ParseCompression("GZIP"), Compression::kGzip);
  EXPECT_EQ(*ParseCompression("zstd"), Compression::kZstd);
  EXPECT_FALSE(ParseCompression("lzma").ok());
}

TEST(FormatTest, NewDecoderDispatches) {
  DecoderOptions o;
  o.schema = Schema({{"a", DataType::Int32()}});
  auto csv = NewDecoder(FileFormat::kCsv, std::make_unique<testing::PieceInput>("a\n5\n", 2), o);
  ASSERT_TRUE(csv.ok());
  RecordBatch b;
  std::vector<BadRecord> bad;
  ASSERT_TRUE(*(*csv)->Next(&b, &bad));
  EXPECT_EQ(b.num_rows(), 1);

  auto nd =
      NewDecoder(FileFormat::kNdjson, std::make_unique<testing::PieceInput>("{\"a\":5}\n", 2), o);
  ASSERT_TRUE(nd.ok());
  ASSERT_TRUE(*(*nd)->Next(&b, &bad));
  EXPECT_EQ(b.columns[0].Value<int32_t>(0), 5);

  auto pq = NewDecoder(FileFormat::kParquet,
                       std::make_unique<testing::PieceInput>("PAR1", 2, "x.parquet"), o);
  ASSERT_FALSE(pq.ok());
  // Parquet dispatches to the Parquet decoder: four bytes are not a file.
  EXPECT_EQ(pq.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(pq.status().message().find("not a valid parquet file"), std::string::npos);
  EXPECT_NE(pq.status().message().find("x.parquet"), std::string::npos);
}

}  // namespace
}  // namespace sluice
