// The Thrift compact reader and the footer / page header parsers: round trips
// of what the writer's serializer produces, unknown fields of every type,
// and malformed input (truncation, nesting bombs, lying list sizes).
#include <gtest/gtest.h>

#include "format/parquet/parquet_footer.h"
#include "format/parquet/parquet_metadata.h"
#include "format/parquet/thrift_compact.h"
#include "format/parquet/thrift_reader.h"

namespace sluice::parquet {
namespace {

FileMetaData SampleMeta() {
  FileMetaData m;
  m.version = 2;
  SchemaElement root;
  root.name = "schema";
  root.num_children = 3;
  SchemaElement a;
  a.name = "a";
  a.type = PhysicalType::kInt64;
  a.repetition = Repetition::kOptional;
  a.logical_type = LogicalType{LogicalType::Kind::kTimestamp, 0, 0, false, TimeUnit::kNanos};
  SchemaElement b;
  b.name = "b\xc3\xa9";
  b.type = PhysicalType::kInt64;
  b.repetition = Repetition::kRequired;
  b.converted_type = ConvertedType::kDecimal;
  b.scale = 2;
  b.precision = 12;
  b.logical_type = LogicalType{LogicalType::Kind::kDecimal, 2, 12};
  SchemaElement c;
  c.name = "c";
  c.type = PhysicalType::kByteArray;
  c.repetition = Repetition::kOptional;
  c.converted_type = ConvertedType::kUtf8;
  c.logical_type = LogicalType{};
  m.schema = {root, a, b, c};
  m.num_rows = 123456789012;
  RowGroup g;
  g.num_rows = 42;
  g.total_byte_size = 1000;
  for (int i = 0; i < 3; ++i) {
    ColumnChunk cc;
    cc.file_offset = 100 + i;
    cc.meta_data.type = i == 2 ? PhysicalType::kByteArray : PhysicalType::kInt64;
    cc.meta_data.encodings = {Encoding::kRleDictionary, Encoding::kRle};
    cc.meta_data.path_in_schema = {m.schema[i + 1].name};
    cc.meta_data.codec = CompressionCodec::kZstd;
    cc.meta_data.num_values = 42;
    cc.meta_data.total_compressed_size = 77 + i;
    cc.meta_data.total_uncompressed_size = 99;
    cc.meta_data.data_page_offset = 4 + i * 100;
    if (i == 2) cc.meta_data.dictionary_page_offset = 300;
    Statistics st;
    st.null_count = i;
    st.min_value = std::string("\x01\x00", 2);
    st.max_value = "zz";
    st.min = "legacy";
    cc.meta_data.statistics = st;
    g.columns.push_back(cc);
  }
  m.row_groups = {g, g};
  m.key_value_metadata = {{"k", std::string("v")}, {"empty", std::nullopt}};
  m.created_by = "test";
  m.type_defined_column_orders = 3;
  return m;
}

TEST(ParquetThriftReader, FileMetaDataRoundTrip) {
  std::string bytes = SerializeToString(SampleMeta());
  auto parsed = ParseFileMeta(bytes);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  const FileMeta& m = *parsed;
  EXPECT_EQ(m.version, 2);
  EXPECT_EQ(m.num_rows, 123456789012);
  ASSERT_EQ(m.schema.size(), 4u);
  EXPECT_EQ(m.schema[0].num_children, 3);
  EXPECT_FALSE(m.schema[0].type.has_value());
  EXPECT_EQ(m.schema[1].type, ptype::kInt64);
  EXPECT_EQ(m.schema[1].repetition, 1);
  ASSERT_TRUE(m.schema[1].logical.has_value());
  EXPECT_EQ(m.schema[1].logical->id, logical::kTimestamp);
  EXPECT_EQ(m.schema[1].logical->unit, 3);
  EXPECT_FALSE(m.schema[1].logical->adjusted_to_utc);
  EXPECT_EQ(m.schema[2].name, "b\xc3\xa9");
  EXPECT_EQ(m.schema[2].converted, converted::kDecimal);
  EXPECT_EQ(m.schema[2].precision, 12);
  EXPECT_EQ(m.schema[2].scale, 2);
  EXPECT_EQ(m.schema[2].logical->precision, 12);
  EXPECT_EQ(m.schema[3].logical->id, logical::kString);
  ASSERT_EQ(m.row_groups.size(), 2u);
  EXPECT_EQ(m.row_groups[1].num_rows, 42);
  ASSERT_EQ(m.row_groups[1].columns.size(), 3u);
  const ChunkMeta& c = m.row_groups[1].columns[2];
  EXPECT_EQ(c.type, ptype::kByteArray);
  EXPECT_EQ(c.encodings, (std::vector<int32_t>{8, 3}));
  EXPECT_EQ(c.path, (std::vector<std::string>{"c"}));
  EXPECT_EQ(c.codec, codec::kZstd);
  EXPECT_EQ(c.total_compressed_size, 79);
  EXPECT_EQ(c.data_page_offset, 204);
  EXPECT_EQ(c.dictionary_page_offset, 300);
  ASSERT_TRUE(c.statistics.has_value());
  EXPECT_EQ(c.statistics->null_count, 2);
  EXPECT_EQ(c.statistics->min_value, std::string("\x01\x00", 2));
  EXPECT_EQ(c.statistics->max_value, "zz");
  EXPECT_EQ(c.statistics->min, "legacy");
  EXPECT_FALSE(c.statistics->max.has_value());
  ASSERT_EQ(m.key_value.size(), 2u);
  EXPECT_EQ(m.key_value[0], (std::pair<std::string, std::string>{"k", "v"}));
  EXPECT_EQ(m.created_by, "test");
  EXPECT_EQ(m.type_defined_order, (std::vector<bool>{true, true, true}));
  EXPECT_FALSE(m.encrypted);
}

TEST(ParquetThriftReader, PageHeaderRoundTrip) {
  PageHeader h;
  h.type = PageType::kDictionaryPage;
  h.uncompressed_page_size = 1000;
  h.compressed_page_size = 400;
  h.crc = 77;
  h.dictionary_page_header = DictionaryPageHeader{12, Encoding::kPlain, true};
  std::string bytes = SerializeToString(h) + "tail";
  PageHeaderInfo info;
  size_t used = 0;
  std::string err;
  ASSERT_EQ(ParsePageHeader(bytes, &info, &used, &err), HeaderParse::kOk) << err;
  EXPECT_EQ(used, bytes.size() - 4);
  EXPECT_EQ(info.type, page::kDictionary);
  EXPECT_EQ(info.uncompressed_size, 1000);
  EXPECT_EQ(info.compressed_size, 400);
  ASSERT_TRUE(info.dict.has_value());
  EXPECT_EQ(info.dict->num_values, 12);
  // Every proper prefix is "truncated", never a crash or a bogus success.
  for (size_t n = 0; n + 4 < bytes.size(); ++n) {
    EXPECT_EQ(ParsePageHeader(std::string_view(bytes).substr(0, n), &info, &used, &err),
              HeaderParse::kTruncated)
        << n;
  }
}

TEST(ParquetThriftReader, UnknownFieldsOfEveryTypeAreSkipped) {
  std::string bytes;
  CompactWriter w(&bytes);
  w.BeginStruct();
  w.FieldBool(20, true);
  w.FieldBool(21, false);
  w.FieldI16(22, -5);
  w.FieldI64(23, INT64_MIN);
  w.FieldDouble(24, 3.5);
  w.FieldBinary(25, "skip me");
  w.FieldListBegin(26, CompactType::kI32, 20);
  for (int i = 0; i < 20; ++i) w.ElemI32(i);
  w.FieldListBegin(27, CompactType::kStruct, 2);
  for (int i = 0; i < 2; ++i) {
    w.BeginStruct();
    w.FieldStructBegin(1);
    w.FieldBinary(3, "deep");
    w.EndStruct();
    w.EndStruct();
  }
  w.EndStruct();
  // A map field (id 28, type 11) and a byte field (id 29, type 3), hand-encoded
  // after removing the stop byte.
  bytes.pop_back();
  bytes.push_back(static_cast<char>(0x1B));  // delta 1, map
  bytes.push_back(2);                        // 2 entries
  bytes.push_back(static_cast<char>(0x58));  // i32 keys, binary values
  bytes += std::string("\x02\x01x\x04\x01y", 6);
  bytes.push_back(static_cast<char>(0x13));  // delta 1, byte
  bytes.push_back(static_cast<char>(0xff));
  // Then the one field FileMetaData knows: num_rows (3) as a long-form id.
  bytes.push_back(0x06);
  bytes.push_back(0x06);
  bytes.push_back(0x0e);  // zigzag 7
  bytes.push_back(0);
  auto m = ParseFileMeta(bytes);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->num_rows, 7);
}

TEST(ParquetThriftReader, MalformedInputFailsCleanly) {
  std::string good = SerializeToString(SampleMeta());
  for (size_t n = 0; n < good.size(); ++n) {
    auto m = ParseFileMeta(std::string_view(good).substr(0, n));
    EXPECT_FALSE(m.ok()) << n;
    if (!m.ok()) {
      EXPECT_EQ(m.status().code(), StatusCode::kDataLoss);
    }
  }
  // Structs nested a million deep inside an unknown field.
  std::string bomb(1000000, static_cast<char>(0x1C));
  auto m = ParseFileMeta(bomb);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("nested too deeply"), std::string::npos);
  // A list that claims a billion elements in a few bytes.
  std::string liar = "\x19\xFC\x80\x94\xeb\xdc\x03";
  EXPECT_FALSE(ParseFileMeta(liar).ok());
  // A varint that never ends.
  EXPECT_FALSE(ParseFileMeta(std::string("\x16") + std::string(20, '\xff')).ok());
  // Field type 13 does not exist.
  EXPECT_FALSE(ParseFileMeta(std::string("\x1d\x00", 2)).ok());
}

TEST(ParquetThriftReader, ReaderTypeMismatchIsSkippedNotMisread) {
  std::string bytes;
  CompactWriter w(&bytes);
  w.BeginStruct();
  w.FieldBinary(1, "not an int");
  w.FieldI64(3, 5);
  w.EndStruct();
  auto m = ParseFileMeta(bytes);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->version, 0);
  EXPECT_EQ(m->num_rows, 5);
}

}  // namespace
}  // namespace sluice::parquet
