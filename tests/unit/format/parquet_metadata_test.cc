// Expected bytes derived by hand from parquet.thrift field ids and the compact
// protocol (see parquet_thrift_compact_test.cc for the encoding rules).
#include "format/parquet/parquet_metadata.h"

#include <gtest/gtest.h>

#include <string>

#include "parquet_test_reader.h"

namespace sluice::parquet {
namespace {

std::string Hex(const std::string& s) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    if (!out.empty()) out += ' ';
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

TEST(ParquetMetadataTest, DataPageHeaderBytes) {
  PageHeader h;
  h.type = PageType::kDataPage;
  h.uncompressed_page_size = 100;
  h.compressed_page_size = 50;
  DataPageHeader dp;
  dp.num_values = 10;
  dp.encoding = Encoding::kPlain;
  dp.definition_level_encoding = Encoding::kRle;
  dp.repetition_level_encoding = Encoding::kRle;
  h.data_page_header = dp;
  // 1:i32 0 | 2:i32 100 (zz 200 = c8 01) | 3:i32 50 | 5:struct{1:10 2:0 3:3 4:3} | stop
  EXPECT_EQ(Hex(SerializeToString(h)), "15 00 15 c8 01 15 64 2c 15 14 15 00 15 06 15 06 00 00");
}

TEST(ParquetMetadataTest, DictionaryPageHeaderBytes) {
  PageHeader h;
  h.type = PageType::kDictionaryPage;
  h.uncompressed_page_size = 1;
  h.compressed_page_size = 1;
  h.dictionary_page_header = DictionaryPageHeader{3, Encoding::kPlain, false};
  // 7:struct is a delta of 4 from field 3; is_sorted false is type nibble 2.
  EXPECT_EQ(Hex(SerializeToString(h)), "15 04 15 02 15 02 4c 15 06 15 00 12 00 00");
}

TEST(ParquetMetadataTest, DataPageHeaderV2Bytes) {
  PageHeader h;
  h.type = PageType::kDataPageV2;
  h.uncompressed_page_size = 100;
  h.compressed_page_size = 50;
  DataPageHeaderV2 v2;
  v2.num_values = 10;
  v2.num_nulls = 2;
  v2.num_rows = 10;
  v2.encoding = Encoding::kRleDictionary;
  v2.definition_levels_byte_length = 3;
  v2.repetition_levels_byte_length = 0;
  v2.is_compressed = false;
  h.data_page_header_v2 = v2;
  // 1:3 2:100 3:50 | 8:struct (delta 5) {1:10 2:2 3:10 4:8 5:3 6:0 7:false} | stop
  EXPECT_EQ(Hex(SerializeToString(h)),
            "15 06 15 c8 01 15 64 5c 15 14 15 04 15 14 15 10 15 06 15 00 12 00 00");
}

TEST(ParquetMetadataTest, EncodingStatsFollowStatistics) {
  ColumnMetaData m;
  m.type = PhysicalType::kByteArray;
  m.encodings = {Encoding::kPlain, Encoding::kRle, Encoding::kRleDictionary};
  m.path_in_schema = {"c"};
  m.dictionary_page_offset = 4;
  m.data_page_offset = 40;
  m.encoding_stats = {{PageType::kDictionaryPage, Encoding::kPlain, 1},
                      {PageType::kDataPage, Encoding::kRleDictionary, 7},
                      {PageType::kDataPage, Encoding::kPlain, 2}};
  std::string bytes = SerializeToString(m);
  testing::CompactReader r(bytes);
  testing::TValue v = r.ReadStruct();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.pos(), bytes.size());
  EXPECT_EQ(v.At(11).i, 4);
  const auto& stats = v.At(13).list;
  ASSERT_EQ(stats.size(), 3u);
  EXPECT_EQ(stats[0].At(1).i, 2);
  EXPECT_EQ(stats[0].At(2).i, 0);
  EXPECT_EQ(stats[0].At(3).i, 1);
  EXPECT_EQ(stats[1].At(1).i, 0);
  EXPECT_EQ(stats[1].At(2).i, 8);
  EXPECT_EQ(stats[1].At(3).i, 7);
  EXPECT_EQ(stats[2].At(3).i, 2);
  // Empty encoding_stats are left out.
  m.encoding_stats.clear();
  std::string without = SerializeToString(m);
  testing::CompactReader r2(without);
  EXPECT_FALSE(r2.ReadStruct().Has(13));
}

TEST(ParquetMetadataTest, LogicalTypeBytes) {
  LogicalType ts;
  ts.kind = LogicalType::Kind::kTimestamp;
  ts.adjusted_to_utc = true;
  ts.unit = TimeUnit::kMicros;
  // 8:TimestampType{1:true, 2:TimeUnit{2:MicroSeconds{}}}
  EXPECT_EQ(Hex(SerializeToString(ts)), "8c 11 1c 2c 00 00 00 00");

  LogicalType dec;
  dec.kind = LogicalType::Kind::kDecimal;
  dec.scale = 2;
  dec.precision = 18;
  EXPECT_EQ(Hex(SerializeToString(dec)), "5c 15 04 15 24 00 00");

  LogicalType str;
  str.kind = LogicalType::Kind::kString;
  EXPECT_EQ(Hex(SerializeToString(str)), "1c 00 00");

  LogicalType date;
  date.kind = LogicalType::Kind::kDate;
  EXPECT_EQ(Hex(SerializeToString(date)), "6c 00 00");
}

TEST(ParquetMetadataTest, SchemaElementBytes) {
  SchemaElement e;
  e.name = "d";
  e.type = PhysicalType::kInt64;
  e.repetition = Repetition::kOptional;
  e.converted_type = ConvertedType::kDecimal;
  e.scale = 2;
  e.precision = 18;
  LogicalType lt;
  lt.kind = LogicalType::Kind::kDecimal;
  lt.scale = 2;
  lt.precision = 18;
  e.logical_type = lt;
  EXPECT_EQ(Hex(SerializeToString(e)),
            "15 04 25 02 18 01 64 25 0a 15 04 15 24 2c 5c 15 04 15 24 00 00 00");

  SchemaElement root;
  root.name = "schema";
  root.num_children = 3;
  // 4:"schema" (delta 4), 5:3
  EXPECT_EQ(Hex(SerializeToString(root)), "48 06 73 63 68 65 6d 61 15 06 00");
}

TEST(ParquetMetadataTest, StatisticsBytes) {
  Statistics s;
  s.null_count = 2;
  s.min_value = std::string("a");
  s.max_value = std::string("b");
  // 3:i64 2 | 5:"b" | 6:"a"
  EXPECT_EQ(Hex(SerializeToString(s)), "36 04 28 01 62 18 01 61 00");
}

// A whole footer, parsed back with the independent reader, keeps every field
// at its parquet.thrift id.
TEST(ParquetMetadataTest, FileMetaDataFieldIds) {
  FileMetaData md;
  md.version = 1;
  SchemaElement root;
  root.name = "schema";
  root.num_children = 1;
  SchemaElement leaf;
  leaf.name = "x";
  leaf.type = PhysicalType::kInt32;
  leaf.repetition = Repetition::kRequired;
  md.schema = {root, leaf};
  md.num_rows = 42;
  RowGroup rg;
  rg.num_rows = 42;
  rg.total_byte_size = 500;
  rg.file_offset = 4;
  rg.total_compressed_size = 300;
  rg.ordinal = 0;
  ColumnChunk cc;
  cc.file_offset = 4;
  cc.meta_data.type = PhysicalType::kInt32;
  cc.meta_data.encodings = {Encoding::kPlain, Encoding::kRle};
  cc.meta_data.path_in_schema = {"x"};
  cc.meta_data.codec = CompressionCodec::kZstd;
  cc.meta_data.num_values = 42;
  cc.meta_data.total_uncompressed_size = 500;
  cc.meta_data.total_compressed_size = 300;
  cc.meta_data.data_page_offset = 4;
  Statistics st;
  st.null_count = 0;
  cc.meta_data.statistics = st;
  rg.columns = {cc};
  md.row_groups = {rg};
  md.key_value_metadata = {{"k", std::string("v")}, {"novalue", std::nullopt}};
  md.created_by = "sluice version 0.1.0";
  md.type_defined_column_orders = 1;

  std::string bytes = SerializeToString(md);
  testing::CompactReader r(bytes);
  testing::TValue v = r.ReadStruct();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.pos(), bytes.size());
  EXPECT_EQ(v.At(1).i, 1);
  ASSERT_EQ(v.At(2).list.size(), 2u);
  EXPECT_EQ(v.At(2).list[0].At(4).s, "schema");
  EXPECT_EQ(v.At(2).list[0].At(5).i, 1);
  EXPECT_FALSE(v.At(2).list[0].Has(1));
  EXPECT_EQ(v.At(2).list[1].At(1).i, 1);  // INT32
  EXPECT_EQ(v.At(2).list[1].At(3).i, 0);  // REQUIRED
  EXPECT_EQ(v.At(3).i, 42);
  const testing::TValue& g = v.At(4).list.at(0);
  EXPECT_EQ(g.At(2).i, 500);
  EXPECT_EQ(g.At(3).i, 42);
  EXPECT_EQ(g.At(5).i, 4);
  EXPECT_EQ(g.At(6).i, 300);
  EXPECT_EQ(g.At(7).i, 0);
  const testing::TValue& c = g.At(1).list.at(0);
  EXPECT_EQ(c.At(2).i, 4);
  const testing::TValue& m = c.At(3);
  EXPECT_EQ(m.At(1).i, 1);
  ASSERT_EQ(m.At(2).list.size(), 2u);
  EXPECT_EQ(m.At(2).list[1].i, 3);
  EXPECT_EQ(m.At(3).list.at(0).s, "x");
  EXPECT_EQ(m.At(4).i, 6);
  EXPECT_EQ(m.At(5).i, 42);
  EXPECT_EQ(m.At(6).i, 500);
  EXPECT_EQ(m.At(7).i, 300);
  EXPECT_EQ(m.At(9).i, 4);
  EXPECT_FALSE(m.Has(11));
  EXPECT_EQ(m.At(12).At(3).i, 0);
  ASSERT_EQ(v.At(5).list.size(), 2u);
  EXPECT_EQ(v.At(5).list[0].At(1).s, "k");
  EXPECT_EQ(v.At(5).list[0].At(2).s, "v");
  EXPECT_FALSE(v.At(5).list[1].Has(2));
  EXPECT_EQ(v.At(6).s, "sluice version 0.1.0");
  ASSERT_EQ(v.At(7).list.size(), 1u);
  EXPECT_TRUE(v.At(7).list[0].At(1).fields.empty());  // TYPE_ORDER = TypeDefinedOrder{}
}

TEST(ParquetMetadataTest, EmptyKeyValueMetadataIsOmitted) {
  FileMetaData md;
  SchemaElement root;
  root.name = "schema";
  root.num_children = 0;
  md.schema = {root};
  std::string bytes = SerializeToString(md);
  testing::CompactReader r(bytes);
  testing::TValue v = r.ReadStruct();
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(v.Has(5));
  EXPECT_FALSE(v.Has(6));
  EXPECT_FALSE(v.Has(7));
  EXPECT_TRUE(v.At(4).list.empty());
}

}  // namespace
}  // namespace sluice::parquet
