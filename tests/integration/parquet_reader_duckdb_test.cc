// Parquet files written by DuckDB, read by sluice's Parquet decoder: every
// value must be exactly what DuckDB itself reads back from the same file.
// Covers DuckDB's encodings (PLAIN, RLE_DICTIONARY, DELTA_BINARY_PACKED,
// DELTA_LENGTH_BYTE_ARRAY, BYTE_STREAM_SPLIT), data page v1 and v2, every
// codec DuckDB writes, small row groups, and all its flat column types.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/io.h"
#include "core/value_text.h"
#include "duckdb_runner.h"
#include "format/format.h"
#include "format/parquet_reader.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr int kReaderRows = 5000;

// The source table; one row with a UBIGINT above INT64_MAX (i = 7).
std::string CreateTable() {
  return "CREATE TABLE t AS SELECT i::BIGINT AS id, "
         "CASE WHEN i % 7 = 3 THEN NULL ELSE i % 3 = 0 END AS b, "
         "CASE WHEN i % 13 = 1 THEN NULL ELSE ((i * 37) % 256 - 128)::TINYINT END AS i8, "
         "((i * 91) % 65536 - 32768)::SMALLINT AS i16, "
         "(CASE WHEN i % 11 = 5 THEN NULL WHEN i = 1 THEN -2147483648 WHEN i = 2 THEN 2147483647 "
         " ELSE (i * 7919) % 2000003 - 1000000 END)::INTEGER AS i32, "
         "(CASE WHEN i % 13 = 6 THEN NULL WHEN i = 3 THEN -9223372036854775808 "
         " WHEN i = 4 THEN 9223372036854775807 "
         " ELSE i * 1234567891011 * (CASE WHEN i % 2 = 1 THEN -1 ELSE 1 END) END)::BIGINT AS i64, "
         "(i % 256)::UTINYINT AS u8, (i * 13 % 65536)::USMALLINT AS u16, "
         "(i * 858993459 % 4294967296)::UINTEGER AS u32, "
         "(CASE WHEN i = 7 THEN 18446744073709551615 ELSE i * 1844674407370955 END)::UBIGINT AS "
         "u64, "
         "CASE WHEN i % 17 = 2 THEN NULL ELSE (i - 2500) / 7.0 END::DOUBLE AS f64, "
         "CASE WHEN i % 17 = 3 THEN NULL ELSE (i - 2500) / 8.0 END::FLOAT AS f32, "
         "CASE WHEN i % 19 = 4 THEN NULL ELSE ((i * 7) % 19999 - 9999)::DECIMAL(5,0) / 10 "
         " END::DECIMAL(4,1) AS dec4, "
         "(((i * 12345) % 10000000000 - 5000000000)::DECIMAL(12,0) / 100)::DECIMAL(12,2) AS dec12, "
         "((i * 987654321987)::DECIMAL(18,0) / 1000)::DECIMAL(18,3) AS dec18, "
         "((i::DECIMAL(30,0) * 987654321987654321::DECIMAL(30,0)) / -100000)::DECIMAL(30,5) AS "
         "dec30, "
         "CASE WHEN i % 5 = 0 THEN NULL WHEN i % 5 = 1 THEN '' "
         " WHEN i % 5 = 2 THEN 'h\xc3\xa9llo \xe2\x9c\x93 \xe6\x97\xa5\xe6\x9c\xac "
         "\xf0\x9f\xa6\x86' "
         " ELSE 'row-' || i END AS s, "
         "['red', 'green', 'blue'][i % 3 + 1] AS s_low, "
         "CASE WHEN i % 23 = 0 THEN NULL ELSE DATE '1970-01-01' + (i * 37 % 40000 - "
         "20000)::INTEGER "
         " END AS d, "
         "CASE WHEN i % 29 = 0 THEN NULL ELSE make_timestamp((i - 2500) * 1234567890123) END AS "
         "ts, "
         "make_timestamp((i - 2500) * 1234567890123)::TIMESTAMP_MS AS ts_ms, "
         "make_timestamp((i - 2500) * 1234567890123)::TIMESTAMP_NS AS ts_ns, "
         "make_timestamp((i - 2500) * 1234567890123)::TIMESTAMPTZ AS tstz, "
         "md5(i::VARCHAR)::UUID AS uid "
         "FROM range(" +
         std::to_string(kReaderRows) + ") r(i)";
}

// DuckDB's read of the file, in the JSON forms Cell() produces.
std::string ExpectedSelect(const std::string& path) {
  return "SELECT id, b, i8, i16, i32, i64, u8, u16, u32::BIGINT, "
         "CASE WHEN u64 > 9223372036854775807 THEN NULL ELSE u64::VARCHAR END, f64, f32::DOUBLE, "
         "dec4::VARCHAR, dec12::VARCHAR, dec18::VARCHAR, dec30::VARCHAR, s, s_low, d::VARCHAR, "
         "epoch_us(ts)::VARCHAR, epoch_us(ts_ms)::VARCHAR, epoch_us(ts_ns::TIMESTAMP)::VARCHAR, "
         "epoch_us(tstz)::VARCHAR, uid::VARCHAR FROM read_parquet('" +
         path + "') ORDER BY id";
}

// The schema sluice reads with: natural types, except DECIMAL(30,5) (no
// sluice decimal holds it) read as exact text.
Schema ReadSchema() {
  return Schema({{"id", DataType::Int64()},
                 {"b", DataType::Bool()},
                 {"i8", DataType::Int32()},
                 {"i16", DataType::Int32()},
                 {"i32", DataType::Int32()},
                 {"i64", DataType::Int64()},
                 {"u8", DataType::Int32()},
                 {"u16", DataType::Int32()},
                 {"u32", DataType::Int64()},
                 {"u64", DataType::Int64()},
                 {"f64", DataType::Float64()},
                 {"f32", DataType::Float64()},
                 {"dec4", DataType::Decimal(4, 1)},
                 {"dec12", DataType::Decimal(12, 2)},
                 {"dec18", DataType::Decimal(18, 3)},
                 {"dec30", DataType::String()},
                 {"s", DataType::String()},
                 {"s_low", DataType::String()},
                 {"d", DataType::Date()},
                 {"ts", DataType::Timestamp()},
                 {"ts_ms", DataType::Timestamp()},
                 {"ts_ns", DataType::Timestamp()},
                 {"tstz", DataType::Timestamp()},
                 {"uid", DataType::String()}});
}

json Cell(const Column& c, int64_t i) {
  if (c.IsNull(i)) return nullptr;
  switch (c.type().id) {
    case TypeId::kBool:
      return c.Value<uint8_t>(i) != 0;
    case TypeId::kInt32:
      return c.Value<int32_t>(i);
    case TypeId::kInt64:
    case TypeId::kTimestamp:
      return std::to_string(c.Value<int64_t>(i));
    case TypeId::kFloat64:
      return c.Value<double>(i);
    case TypeId::kDecimal:
      return FormatDecimal(c.Value<int64_t>(i), c.type().scale);
    case TypeId::kString:
      return std::string(c.GetString(i));
    case TypeId::kDate:
      return FormatDate(c.Value<int32_t>(i));
  }
  return nullptr;
}

struct Read {
  Status status;
  std::vector<json> rows;  // ordered by the first column
  std::vector<BadRecord> bad;
  std::vector<int64_t> lines;
};

Read Decode(const std::string& path, const Schema& schema, int64_t batch_rows,
            const ParquetReadOptions& po = {}) {
  Read r;
  auto in = OpenFileInput(path);
  if (!in.ok()) {
    r.status = in.status();
    return r;
  }
  DecoderOptions o;
  o.schema = schema;
  o.batch_rows = batch_rows;
  auto dec = NewParquetDecoder(std::move(*in), o, po);
  if (!dec.ok()) {
    r.status = dec.status();
    return r;
  }
  while (true) {
    RecordBatch b;
    auto more = (*dec)->Next(&b, &r.bad);
    if (!more.ok()) {
      r.status = more.status();
      return r;
    }
    if (!*more) break;
    EXPECT_LE(b.num_rows(), batch_rows);
    for (int64_t i = 0; i < b.num_rows(); ++i) {
      json row = json::array();
      for (const Column& c : b.columns) row.push_back(Cell(c, i));
      r.rows.push_back(std::move(row));
      r.lines.push_back(b.source_lines[i]);
    }
  }
  std::sort(r.rows.begin(), r.rows.end(), [](const json& a, const json& b) {
    return std::stoll(a[0].get<std::string>()) < std::stoll(b[0].get<std::string>());
  });
  return r;
}

class ParquetReaderDuckDb : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("sluice_pqread_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  // Writes the test table with DuckDB's COPY options; returns the path.
  std::string Write(const std::string& name, const std::string& options) {
    std::string path = Path(name);
    auto r =
        duckdb::Query({CreateTable(), "COPY t TO '" + path + "' (FORMAT parquet, " + options + ")",
                       "SELECT count(*) FROM t"});
    EXPECT_TRUE(r.has_value());
    return path;
  }

  fs::path dir_;
};

struct Variant {
  const char* name;
  const char* options;
  int64_t batch_rows;
};

TEST_F(ParquetReaderDuckDb, EveryValueMatchesDuckDbsOwnRead) {
  const Variant variants[] = {
      {"snappy_v1", "COMPRESSION snappy", 65536},
      {"zstd_v2", "COMPRESSION zstd, PARQUET_VERSION V2", 1000},
      {"gzip_v1_small_groups", "COMPRESSION gzip, ROW_GROUP_SIZE 700", 333},
      {"none_v2_no_dict", "COMPRESSION uncompressed, PARQUET_VERSION V2, DICTIONARY_SIZE_LIMIT 1",
       4096},
      {"lz4_raw_v1", "COMPRESSION lz4_raw, ROW_GROUP_SIZE 2048", 7},
      {"zstd_v1_no_dict", "COMPRESSION zstd, DICTIONARY_SIZE_LIMIT 1, ROW_GROUP_SIZE 1500", 777},
  };
  for (const Variant& v : variants) {
    SCOPED_TRACE(v.name);
    std::string path = Write(std::string(v.name) + ".parquet", v.options);
    auto expected = duckdb::Query({ExpectedSelect(path)});
    ASSERT_TRUE(expected.has_value());
    Read got = Decode(path, ReadSchema(), v.batch_rows);
    ASSERT_TRUE(got.status.ok()) << got.status.ToString();
    // The UBIGINT above INT64_MAX is a bad record; DuckDB's row for it is dropped too.
    ASSERT_EQ(got.bad.size(), 1u);
    EXPECT_EQ(got.bad[0].field, "u64");
    EXPECT_EQ(got.bad[0].line, 8);
    EXPECT_NE(got.bad[0].reason.find("18446744073709551615"), std::string::npos);
    std::vector<json> want;
    for (const json& row : expected->rows) {
      if (row[0] != "7") want.push_back(row);
    }
    ASSERT_EQ(got.rows.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i) {
      ASSERT_EQ(got.rows[i], want[i]) << "row " << i;
    }
  }
}

TEST_F(ParquetReaderDuckDb, InferredSchemaHasNaturalTypes) {
  std::string path = Write("infer.parquet", "COMPRESSION zstd");
  // DECIMAL(30,5) has no sluice type: inference names the column.
  auto in = OpenFileInput(path);
  ASSERT_TRUE(in.ok());
  auto bad = InferSchema(FileFormat::kParquet, **in, {});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("dec30"), std::string::npos) << bad.status().ToString();
  EXPECT_NE(bad.status().message().find("DECIMAL(30,5)"), std::string::npos);

  auto r = duckdb::Query({CreateTable(), "ALTER TABLE t DROP COLUMN dec30",
                          "COPY t TO '" + path + "' (FORMAT parquet)", "SELECT 1"});
  ASSERT_TRUE(r.has_value());
  in = OpenFileInput(path);
  ASSERT_TRUE(in.ok());
  auto schema = InferSchema(FileFormat::kParquet, **in, {});
  ASSERT_TRUE(schema.ok()) << schema.status().ToString();
  Schema want = ReadSchema();
  Schema expected;
  for (const Field& f : want.fields()) {
    if (f.name != "dec30") expected.AddField(f);
  }
  EXPECT_EQ(schema->ToString(), expected.ToString());
}

TEST_F(ParquetReaderDuckDb, DeclaredTypesConvertOrMakeBadRecords) {
  std::string path = Write("convert.parquet", "COMPRESSION snappy, ROW_GROUP_SIZE 1000");
  Schema schema({{"id", DataType::Int64()},
                 {"i32", DataType::Int64()},          // widened
                 {"i8", DataType::String()},          // as text
                 {"dec4", DataType::Decimal(10, 3)},  // rescaled
                 {"f32", DataType::Int32()},          // only whole numbers fit
                 {"s_low", DataType::String()},
                 {"missing", DataType::Date()}});  // not in the file: NULL
  Read got = Decode(path, schema, 4096);
  ASSERT_TRUE(got.status.ok()) << got.status.ToString();
  auto expected = duckdb::Query(
      {"SELECT id, i32::VARCHAR, i8::VARCHAR, (dec4::DECIMAL(10,3))::VARCHAR, f32::INTEGER, s_low "
       "FROM read_parquet('" +
       path + "') WHERE f32 IS NULL OR f32 = round(f32) ORDER BY id"});
  ASSERT_TRUE(expected.has_value());
  ASSERT_EQ(got.rows.size(), expected->rows.size());
  for (size_t i = 0; i < got.rows.size(); ++i) {
    json want = expected->rows[i];
    want.push_back(nullptr);
    ASSERT_EQ(got.rows[i], want) << "row " << i;
  }
  // Every other row has a fraction in f32: a bad record naming the row and column.
  EXPECT_EQ(got.bad.size() + got.rows.size(), static_cast<size_t>(kReaderRows));
  ASSERT_FALSE(got.bad.empty());
  for (const BadRecord& b : got.bad) {
    EXPECT_EQ(b.field, "f32");
    EXPECT_NE(b.reason.find("int32"), std::string::npos) << b.reason;
    EXPECT_NE(b.raw.find("\"id\":" + std::to_string(b.line - 1)), std::string::npos) << b.raw;
  }
}

TEST_F(ParquetReaderDuckDb, RowGroupsOutsideAFilterAreSkipped) {
  std::string path = Write("prune.parquet", "ROW_GROUP_SIZE 2048");
  // DuckDB decides the row group bounds; read them from its metadata.
  auto groups =
      duckdb::Query({"SELECT stats_min::BIGINT, stats_max::BIGINT FROM parquet_metadata('" + path +
                     "') WHERE path_in_schema = 'id' ORDER BY row_group_id"});
  ASSERT_TRUE(groups.has_value());
  ASSERT_GE(groups->rows.size(), 3u);
  const int64_t lo = std::stoll(groups->rows[1][0].get<std::string>());
  const int64_t hi = std::stoll(groups->rows[1][1].get<std::string>());
  ParquetReadOptions po;
  po.row_group_filters.push_back({"id", std::to_string(lo + 1), std::to_string(lo + 2)});
  Read got = Decode(path, Schema({{"id", DataType::Int64()}}), 65536, po);
  ASSERT_TRUE(got.status.ok()) << got.status.ToString();
  // Only the second row group is read (pruning does not filter rows inside it).
  ASSERT_EQ(static_cast<int64_t>(got.rows.size()), hi - lo + 1);
  EXPECT_EQ(got.rows.front()[0], std::to_string(lo));
  EXPECT_EQ(got.rows.back()[0], std::to_string(hi));
  EXPECT_EQ(got.lines.front(), lo + 1);
  po.row_group_filters = {{"d", std::nullopt, "1900-01-01"}};
  got = Decode(path, Schema({{"id", DataType::Int64()}}), 65536, po);
  ASSERT_TRUE(got.status.ok());
  EXPECT_TRUE(got.rows.empty());
}

TEST_F(ParquetReaderDuckDb, UnsupportedFeaturesNameTheColumnAndFeature) {
  std::string brotli = Path("brotli.parquet");
  std::string nested = Path("nested.parquet");
  auto r = duckdb::Query({"COPY (SELECT i AS a FROM range(10) r(i)) TO '" + brotli +
                              "' (FORMAT parquet, COMPRESSION brotli)",
                          "COPY (SELECT i AS a, [i, i + 1] AS xs FROM range(10) r(i)) TO '" +
                              nested + "' (FORMAT parquet)",
                          "SELECT 1"});
  ASSERT_TRUE(r.has_value());
  Read got = Decode(brotli, Schema({{"a", DataType::Int64()}}), 100);
  EXPECT_EQ(got.status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(got.status.message().find("BROTLI"), std::string::npos) << got.status.ToString();
  EXPECT_NE(got.status.message().find("'a'"), std::string::npos);
  got = Decode(nested, Schema({{"a", DataType::Int64()}}), 100);
  EXPECT_EQ(got.status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(got.status.message().find("nested column 'xs'"), std::string::npos)
      << got.status.ToString();
}

}  // namespace
}  // namespace sluice
