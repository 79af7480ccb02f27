// Files written by sluice's Parquet encoder, read by an independent reader:
// DuckDB, through tests/tools/duckdb_query.mjs (npm @duckdb/node-api). Checks
// column types, every value, statistics, logical types and file metadata.
//
// Needs node and tests/node_modules (scripts/install-deps.sh installs both).
// Missing tools make the tests fail, never skip: CI must run them.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "../unit/format/parquet_test_reader.h"
#include "core/io.h"
#include "core/thread_pool.h"
#include "duckdb_runner.h"
#include "format/format.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr int64_t kRows = 2500;
constexpr int64_t kGroupRows = 1000;

// --- running DuckDB ----------------------------------------------------------

using duckdb::QueryResult;

std::optional<QueryResult> Query(const std::string& sql) { return duckdb::Query({sql}); }

// --- the data written ----------------------------------------------------------

Schema TestSchema() {
  return Schema({
      {"id", DataType::Int64(), false},
      {"b", DataType::Bool(), true},
      {"i32", DataType::Int32(), true},
      {"i64", DataType::Int64(), true},
      {"f64", DataType::Float64(), true},
      {"dec", DataType::Decimal(18, 2), true},
      {"s", DataType::String(), true},
      {"d", DataType::Date(), true},
      {"ts", DataType::Timestamp(), true},
      {"s_req", DataType::String(), false},
      {"i32_req", DataType::Int32(), false},
      {"all_null", DataType::Int32(), true},
  });
}

// DuckDB's names for the columns of TestSchema().
const char* const kDuckDbTypes[] = {"BIGINT",  "BOOLEAN", "INTEGER",
                                    "BIGINT",  "DOUBLE",  "DECIMAL(18,2)",
                                    "VARCHAR", "DATE",    "TIMESTAMP WITH TIME ZONE",
                                    "VARCHAR", "INTEGER", "INTEGER"};

const char kUnicode[] =
    "h\xc3\xa9llo w\xc3\xb6rld \xe2\x9c\x93 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\xa6\x86";

// One row of the test data; nullopt = NULL.
struct Row {
  int64_t id;
  std::optional<bool> b;
  std::optional<int32_t> i32;
  std::optional<int64_t> i64;
  std::optional<double> f64;
  std::optional<int64_t> dec;
  std::optional<std::string> s;
  std::optional<int32_t> d;
  std::optional<int64_t> ts;
  std::string s_req;
  int32_t i32_req;
};

Row MakeRow(int64_t r) {
  Row row;
  row.id = r;
  if (r % 7 != 3) row.b = r % 3 == 0;
  if (r % 11 != 5) {
    row.i32 = r == 1   ? std::numeric_limits<int32_t>::min()
              : r == 2 ? std::numeric_limits<int32_t>::max()
                       : static_cast<int32_t>((r * 7919) % 2000003 - 1000000);
  }
  if (r % 13 != 6) {
    row.i64 = (r == 3 || r == 1500) ? std::numeric_limits<int64_t>::min()
              : r == 4              ? std::numeric_limits<int64_t>::max()
                                    : r * 1234567891011 * (r % 2 ? -1 : 1);
  }
  if (r % 17 != 2) {
    double v = static_cast<double>(r) * 0.1 - 77.7;
    if (r == 5) v = -0.0;
    if (r == 6) v = 1e308;
    if (r == 7) v = 5e-324;
    if (r == 8) v = -std::numeric_limits<double>::infinity();
    if (r == 9) v = std::numeric_limits<double>::infinity();
    if (r == 2100) v = std::nan("");  // only row group 2 has a NaN
    row.f64 = v;
  }
  if (r % 19 != 4) {
    row.dec = r == 10 ? 999999999999999999 : r == 11 ? -999999999999999999 : (r - 1200) * 12345;
  }
  if (r % 23 != 7) {
    if (r == 12 || r % 5 == 0) {
      row.s = "";
    } else if (r == 13 || r == 2013) {
      row.s = kUnicode;
    } else if (r == 14) {
      row.s = "\xc3\xa9";  // sorts after ASCII as unsigned bytes
    } else {
      row.s = "str" + std::to_string(r * 31 % 1000);
    }
  }
  if (r % 29 != 8) {
    row.d = r == 15   ? -719162  // 0001-01-01
            : r == 16 ? -1       // 1969-12-31
            : r == 17 ? 2932896  // 9999-12-31
                      : static_cast<int32_t>(r * 13 - 20000);
  }
  if (r % 31 != 9) {
    row.ts = r == 18   ? -62135596800000000  // 0001-01-01 00:00:00
             : r == 19 ? -1                  // 1969-12-31 23:59:59.999999
             : r == 20 ? 253402300799999999  // 9999-12-31 23:59:59.999999
                       : r * 1000003333 - 500000000000000;
  }
  row.s_req = r % 4 == 0 ? "" : "row" + std::to_string(r);
  row.i32_req = static_cast<int32_t>(-r);
  return row;
}

RecordBatch MakeBatch(const Schema& schema, int64_t first, int64_t n) {
  RecordBatch b = RecordBatch::Empty(schema);
  for (int64_t r = first; r < first + n; ++r) {
    Row row = MakeRow(r);
    auto put = [](Column& c, const auto& v) {
      if (!v) {
        c.AppendNull();
      } else {
        c.Append(*v);
      }
    };
    b.columns[0].Append<int64_t>(row.id);
    if (row.b) {
      b.columns[1].Append<uint8_t>(*row.b ? 1 : 0);
    } else {
      b.columns[1].AppendNull();
    }
    put(b.columns[2], row.i32);
    put(b.columns[3], row.i64);
    put(b.columns[4], row.f64);
    put(b.columns[5], row.dec);
    if (row.s) {
      b.columns[6].AppendString(*row.s);
    } else {
      b.columns[6].AppendNull();
    }
    put(b.columns[7], row.d);
    put(b.columns[8], row.ts);
    b.columns[9].AppendString(row.s_req);
    b.columns[10].Append<int32_t>(row.i32_req);
    b.columns[11].AppendNull();
  }
  return b;
}

std::string DecimalText(int64_t unscaled, int scale) {
  bool neg = unscaled < 0;
  uint64_t magnitude =
      neg ? uint64_t{0} - static_cast<uint64_t>(unscaled) : static_cast<uint64_t>(unscaled);
  std::string digits = std::to_string(magnitude);
  while (static_cast<int>(digits.size()) <= scale) digits.insert(0, "0");
  if (scale > 0) digits.insert(digits.size() - scale, ".");
  return (neg ? "-" : "") + digits;
}

// Unsigned byte order, as Parquet and DuckDB compare strings.
bool LessBytes(const std::string& a, const std::string& b) {
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return static_cast<unsigned char>(x) < static_cast<unsigned char>(y);
  });
}

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/sluice_parquet_duckdbXXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Writes kRows rows in uneven batches (several row groups and pages).
std::string WriteTestFile(const std::string& dir, Compression compression,
                          const std::string& name) {
  std::string path = dir + "/" + name + ".parquet";
  Schema schema = TestSchema();
  ParquetWriterOptions o;
  o.compression = compression;
  o.row_group_rows = kGroupRows;
  o.page_bytes = 2048;
  o.key_value_metadata = {{"sluice.test", "duckdb"}};
  auto out = OpenFileOutput(path, /*sync=*/false);
  EXPECT_TRUE(out.ok()) << out.status().ToString();
  if (!out.ok()) return path;
  auto enc = NewParquetEncoder(std::move(out).value(), schema, o);
  EXPECT_TRUE(enc.ok()) << enc.status().ToString();
  if (!enc.ok()) return path;
  int64_t first = 0;
  for (int64_t n : {1, 999, 0, 1300, 200}) {
    Status st = (*enc)->Write(MakeBatch(schema, first, n));
    EXPECT_TRUE(st.ok()) << st.ToString();
    first += n;
  }
  EXPECT_EQ(first, kRows);
  Status st = (*enc)->Finish();
  EXPECT_TRUE(st.ok()) << st.ToString();
  return path;
}

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    out += c;
    if (c == '\'') out += '\'';
  }
  return out + "'";
}

// --- tests ---------------------------------------------------------------------

TEST(ParquetDuckDbTest, EnvironmentIsReady) {
  auto r = Query("SELECT 42");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->rows[0][0], 42);
}

struct CodecCase {
  Compression compression;
  const char* duckdb_name;
};
void PrintTo(const CodecCase& c, std::ostream* os) { *os << c.duckdb_name; }

class ParquetDuckDbCodecTest : public ::testing::TestWithParam<CodecCase> {};

TEST_P(ParquetDuckDbCodecTest, TypesValuesStatisticsAndMetadata) {
  TempDir dir;
  std::string path = WriteTestFile(dir.path(), GetParam().compression, GetParam().duckdb_name);
  std::string file = "read_parquet(" + Quote(path) + ")";
  Schema schema = TestSchema();

  // Column types as typeof() sees the values.
  std::string typeof_sql = "SELECT ";
  for (int c = 0; c < 12; ++c) {
    typeof_sql += (c ? ", typeof(" : "typeof(") + schema.field(c).name + ")";
  }
  auto types = Query(typeof_sql + " FROM " + file + " LIMIT 1");
  ASSERT_TRUE(types);
  for (int c = 0; c < 12; ++c) EXPECT_EQ(types->rows[0][c], kDuckDbTypes[c]);

  // Every value, in exact forms: integers as text, dates as day numbers,
  // timestamps as epoch microseconds, doubles as DuckDB's round-trip text.
  auto values = Query(
      "SELECT id, b, i32, i64::VARCHAR, f64::VARCHAR, dec::VARCHAR, s, "
      "date_diff('day', DATE '1970-01-01', d)::VARCHAR, epoch_us(ts)::VARCHAR, s_req, i32_req, "
      "all_null FROM " +
      file + " ORDER BY id");
  ASSERT_TRUE(values);
  ASSERT_EQ(values->rows.size(), static_cast<size_t>(kRows));
  for (int64_t r = 0; r < kRows; ++r) {
    const json& got = values->rows[r];
    Row want = MakeRow(r);
    SCOPED_TRACE("row " + std::to_string(r));
    ASSERT_EQ(got[0], std::to_string(r));
    if (want.b) {
      EXPECT_EQ(got[1], *want.b);
    } else {
      EXPECT_TRUE(got[1].is_null());
    }
    if (want.i32) {
      EXPECT_EQ(got[2], *want.i32);
    } else {
      EXPECT_TRUE(got[2].is_null());
    }
    if (want.i64) {
      EXPECT_EQ(got[3], std::to_string(*want.i64));
    } else {
      EXPECT_TRUE(got[3].is_null());
    }
    if (want.f64) {
      ASSERT_TRUE(got[4].is_string());
      double v = std::strtod(got[4].get<std::string>().c_str(), nullptr);
      if (std::isnan(*want.f64)) {
        EXPECT_TRUE(std::isnan(v)) << got[4];
      } else {
        EXPECT_EQ(std::memcmp(&v, &*want.f64, sizeof v), 0)
            << got[4] << " vs " << *want.f64;  // bit-exact, so -0.0 keeps its sign
      }
    } else {
      EXPECT_TRUE(got[4].is_null());
    }
    if (want.dec) {
      EXPECT_EQ(got[5], DecimalText(*want.dec, 2));
    } else {
      EXPECT_TRUE(got[5].is_null());
    }
    if (want.s) {
      EXPECT_EQ(got[6], *want.s);
    } else {
      EXPECT_TRUE(got[6].is_null());
    }
    if (want.d) {
      EXPECT_EQ(got[7], std::to_string(*want.d));
    } else {
      EXPECT_TRUE(got[7].is_null());
    }
    if (want.ts) {
      EXPECT_EQ(got[8], std::to_string(*want.ts));
    } else {
      EXPECT_TRUE(got[8].is_null());
    }
    EXPECT_EQ(got[9], want.s_req);
    EXPECT_EQ(got[10], want.i32_req);
    EXPECT_TRUE(got[11].is_null());
  }

  // Row-group statistics: null counts and integer/string/decimal/bool min-max
  // against values computed here; all columns against DuckDB's own min/max
  // over the rows of each group.
  auto meta = Query(
      "SELECT row_group_id, path_in_schema, stats_null_count, stats_min_value, stats_max_value, "
      "compression, num_values, row_group_num_rows FROM parquet_metadata(" +
      Quote(path) + ") ORDER BY row_group_id, column_id");
  ASSERT_TRUE(meta);
  ASSERT_EQ(meta->rows.size(), 3u * 12);
  std::string agg = "SELECT file_row_number // " + std::to_string(kGroupRows) + " AS g";
  for (int c = 0; c < 12; ++c) {
    const std::string& n = schema.field(c).name;
    agg += ", min(" + n + ")::VARCHAR, max(" + n + ")::VARCHAR";
  }
  auto minmax = Query(agg + " FROM read_parquet(" + Quote(path) +
                      ", file_row_number = true) GROUP BY g ORDER BY g");
  ASSERT_TRUE(minmax);
  ASSERT_EQ(minmax->rows.size(), 3u);
  for (int g = 0; g < 3; ++g) {
    int64_t lo = g * kGroupRows;
    int64_t hi = std::min(kRows, lo + kGroupRows);
    std::vector<int64_t> nulls(12, 0);
    std::optional<int64_t> i64min, i64max, decmin, decmax;
    std::optional<int32_t> i32min, i32max;
    std::optional<std::string> smin, smax;
    bool has_nan = false;
    bool has_inf = false;
    for (int64_t r = lo; r < hi; ++r) {
      Row row = MakeRow(r);
      nulls[1] += !row.b;
      nulls[2] += !row.i32;
      nulls[3] += !row.i64;
      nulls[4] += !row.f64;
      nulls[5] += !row.dec;
      nulls[6] += !row.s;
      nulls[7] += !row.d;
      nulls[8] += !row.ts;
      nulls[11] += 1;
      if (row.f64 && std::isnan(*row.f64)) has_nan = true;
      if (row.f64 && std::isinf(*row.f64)) has_inf = true;
      if (row.i32) {
        i32min = std::min(i32min.value_or(*row.i32), *row.i32);
        i32max = std::max(i32max.value_or(*row.i32), *row.i32);
      }
      if (row.i64) {
        i64min = std::min(i64min.value_or(*row.i64), *row.i64);
        i64max = std::max(i64max.value_or(*row.i64), *row.i64);
      }
      if (row.dec) {
        decmin = std::min(decmin.value_or(*row.dec), *row.dec);
        decmax = std::max(decmax.value_or(*row.dec), *row.dec);
      }
      if (row.s) {
        if (!smin || LessBytes(*row.s, *smin)) smin = row.s;
        if (!smax || LessBytes(*smax, *row.s)) smax = row.s;
      }
    }
    for (int c = 0; c < 12; ++c) {
      const json& m = meta->rows[g * 12 + c];
      const std::string& name = schema.field(c).name;
      SCOPED_TRACE("group " + std::to_string(g) + " column " + name);
      EXPECT_EQ(m[0], std::to_string(g));
      EXPECT_EQ(m[1], name);
      EXPECT_EQ(m[2], std::to_string(nulls[c]));
      EXPECT_EQ(m[5], GetParam().duckdb_name);
      EXPECT_EQ(m[6], std::to_string(hi - lo));
      EXPECT_EQ(m[7], std::to_string(hi - lo));
      const json& want_min = minmax->rows[g][1 + 2 * c];
      const json& want_max = minmax->rows[g][2 + 2 * c];
      // NaN: sluice writes no min/max. Infinities are written (the unit tests
      // check the bytes) but DuckDB does not show non-finite double statistics.
      if (name == "f64" && (has_nan || has_inf)) {
        EXPECT_TRUE(m[3].is_null()) << m[3];
        EXPECT_TRUE(m[4].is_null()) << m[4];
        continue;
      }
      EXPECT_EQ(m[3], want_min);
      EXPECT_EQ(m[4], want_max);
      if (name == "i32") {
        EXPECT_EQ(m[3], std::to_string(*i32min));
        EXPECT_EQ(m[4], std::to_string(*i32max));
      } else if (name == "i64") {
        EXPECT_EQ(m[3], std::to_string(*i64min));
        EXPECT_EQ(m[4], std::to_string(*i64max));
      } else if (name == "dec") {
        EXPECT_EQ(m[3], DecimalText(*decmin, 2));
        EXPECT_EQ(m[4], DecimalText(*decmax, 2));
      } else if (name == "s") {
        EXPECT_EQ(m[3], *smin);
        EXPECT_EQ(m[4], *smax);
      } else if (name == "b") {
        EXPECT_EQ(m[3], "false");
        EXPECT_EQ(m[4], "true");
      } else if (name == "all_null") {
        EXPECT_TRUE(m[3].is_null());
        EXPECT_TRUE(m[4].is_null());
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Codecs, ParquetDuckDbCodecTest,
                         ::testing::Values(CodecCase{Compression::kUncompressed, "UNCOMPRESSED"},
                                           CodecCase{Compression::kSnappy, "SNAPPY"},
                                           CodecCase{Compression::kGzip, "GZIP"},
                                           CodecCase{Compression::kZstd, "ZSTD"}),
                         [](const ::testing::TestParamInfo<CodecCase>& info) {
                           return std::string(info.param.duckdb_name);
                         });

// Schema, logical types, file metadata and statistics-based pruning: the same
// for every codec, so checked on one file.
TEST(ParquetDuckDbTest, SchemaMetadataAndPruning) {
  TempDir dir;
  std::string path = WriteTestFile(dir.path(), Compression::kZstd, "meta");
  std::string file = "read_parquet(" + Quote(path) + ")";
  Schema schema = TestSchema();
  // Column types as DESCRIBE reports them.
  auto desc = Query("DESCRIBE SELECT * FROM " + file);
  ASSERT_TRUE(desc);
  ASSERT_EQ(desc->rows.size(), 12u);
  for (int c = 0; c < 12; ++c) {
    EXPECT_EQ(desc->rows[c][0], schema.field(c).name);
    EXPECT_EQ(desc->rows[c][1], kDuckDbTypes[c]) << schema.field(c).name;
  }
  // A few values as DuckDB prints them.
  auto shown = Query("SELECT dec::VARCHAR, d::VARCHAR, ts::VARCHAR FROM " + file +
                     " WHERE id IN (10, 11, 15, 16, 17, 18, 19, 20) ORDER BY id");
  ASSERT_TRUE(shown);
  ASSERT_EQ(shown->rows.size(), 8u);
  EXPECT_EQ(shown->rows[0][0], "9999999999999999.99");
  EXPECT_EQ(shown->rows[1][0], "-9999999999999999.99");
  EXPECT_EQ(shown->rows[2][1], "0001-01-01");
  EXPECT_EQ(shown->rows[3][1], "1969-12-31");
  EXPECT_EQ(shown->rows[4][1], "9999-12-31");
  EXPECT_EQ(shown->rows[5][2], "0001-01-01 00:00:00+00");
  EXPECT_EQ(shown->rows[6][2], "1969-12-31 23:59:59.999999+00");
  EXPECT_EQ(shown->rows[7][2], "9999-12-31 23:59:59.999999+00");

  // Statistics drive row-group pruning in DuckDB: wrong min/max would lose rows.
  int64_t want_after_e = 0, want_pre_epoch = 0;
  for (int64_t r = 0; r < kRows; ++r) {
    Row row = MakeRow(r);
    if (row.s && !LessBytes(*row.s, "\xc3\xa9")) ++want_after_e;
    if (row.d && *row.d < 0) ++want_pre_epoch;
  }
  auto filtered =
      Query("SELECT (SELECT count(*) FROM " + file + " WHERE i64 = 9223372036854775807), " +
            "(SELECT count(*) FROM " + file + " WHERE i64 = -9223372036854775808), " +
            "(SELECT count(*) FROM " + file + " WHERE s = " + Quote(kUnicode) + "), " +
            "(SELECT count(*) FROM " + file + " WHERE s >= " + Quote("\xc3\xa9") + "), " +
            "(SELECT count(*) FROM " + file + " WHERE d < DATE '1970-01-01'), " +
            "(SELECT count(*) FROM " + file + " WHERE f64 = 'inf'::DOUBLE), " +
            "(SELECT count(*) FROM " + file + " WHERE dec = -9999999999999999.99)");
  ASSERT_TRUE(filtered);
  const json& f = filtered->rows[0];
  EXPECT_EQ(f[0], "1");
  EXPECT_EQ(f[1], "2");
  EXPECT_EQ(f[2], "2");
  EXPECT_EQ(f[3], std::to_string(want_after_e));
  EXPECT_EQ(f[4], std::to_string(want_pre_epoch));
  EXPECT_EQ(f[5], "1");
  EXPECT_EQ(f[6], "1");

  // Logical types and repetition as DuckDB reads the schema.
  auto ps = Query(
      "SELECT name, type, repetition_type, converted_type, scale, precision, "
      "logical_type FROM parquet_schema(" +
      Quote(path) + ") ORDER BY column_id");
  ASSERT_TRUE(ps);
  ASSERT_EQ(ps->rows.size(), 13u);
  EXPECT_EQ(ps->rows[0][0], "schema");
  struct Expect {
    const char* type;
    const char* repetition;
    const char* converted;  // nullptr: none
    const char* logical;    // substring of DuckDB's rendering; nullptr: none
  } expect[] = {
      {"INT64", "REQUIRED", nullptr, nullptr},
      {"BOOLEAN", "OPTIONAL", nullptr, nullptr},
      {"INT32", "OPTIONAL", nullptr, nullptr},
      {"INT64", "OPTIONAL", nullptr, nullptr},
      {"DOUBLE", "OPTIONAL", nullptr, nullptr},
      {"INT64", "OPTIONAL", "DECIMAL", "DecimalType(scale=2, precision=18)"},
      {"BYTE_ARRAY", "OPTIONAL", "UTF8", "StringType()"},
      {"INT32", "OPTIONAL", "DATE", "DateType()"},
      {"INT64", "OPTIONAL", "TIMESTAMP_MICROS", "isAdjustedToUTC=1"},
      {"BYTE_ARRAY", "REQUIRED", "UTF8", "StringType()"},
      {"INT32", "REQUIRED", nullptr, nullptr},
      {"INT32", "OPTIONAL", nullptr, nullptr},
  };
  for (int c = 0; c < 12; ++c) {
    const json& e = ps->rows[c + 1];
    SCOPED_TRACE(schema.field(c).name);
    EXPECT_EQ(e[0], schema.field(c).name);
    EXPECT_EQ(e[1], expect[c].type);
    EXPECT_EQ(e[2], expect[c].repetition);
    if (expect[c].converted) {
      EXPECT_EQ(e[3], expect[c].converted);
    } else {
      EXPECT_TRUE(e[3].is_null()) << e[3];
    }
    if (expect[c].logical) {
      ASSERT_TRUE(e[6].is_string());
      EXPECT_NE(e[6].get<std::string>().find(expect[c].logical), std::string::npos) << e[6];
    } else {
      EXPECT_TRUE(e[6].is_null()) << e[6];
    }
  }
  EXPECT_EQ(ps->rows[6][4], "2");
  EXPECT_EQ(ps->rows[6][5], "18");
  EXPECT_NE(ps->rows[9][6].get<std::string>().find("MICROS=MicroSeconds()"), std::string::npos);

  // File-level metadata.
  auto fm = Query(
      "SELECT created_by, num_rows, num_row_groups, format_version FROM "
      "parquet_file_metadata(" +
      Quote(path) + ")");
  ASSERT_TRUE(fm);
  EXPECT_EQ(fm->rows[0][0], "sluice version 0.1.0");
  EXPECT_EQ(fm->rows[0][1], std::to_string(kRows));
  EXPECT_EQ(fm->rows[0][2], "3");
  auto kv =
      Query("SELECT decode(key), decode(value) FROM parquet_kv_metadata(" + Quote(path) + ")");
  ASSERT_TRUE(kv);
  ASSERT_EQ(kv->rows.size(), 1u);
  EXPECT_EQ(kv->rows[0][0], "sluice.test");
  EXPECT_EQ(kv->rows[0][1], "duckdb");
}

TEST(ParquetDuckDbTest, ZeroRowFile) {
  TempDir dir;
  std::string path = dir.path() + "/empty.parquet";
  Schema schema({{"a", DataType::Int64(), false}, {"t", DataType::Timestamp(), true}});
  auto out = OpenFileOutput(path, false);
  ASSERT_TRUE(out.ok());
  auto enc = NewParquetEncoder(std::move(out).value(), schema, {});
  ASSERT_TRUE(enc.ok());
  ASSERT_TRUE((*enc)->Finish().ok());
  auto r = Query("SELECT count(*), typeof(any_value(a)), typeof(any_value(t)) FROM read_parquet(" +
                 Quote(path) + ")");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->rows[0][0], "0");
  auto d = Query("DESCRIBE SELECT * FROM read_parquet(" + Quote(path) + ")");
  ASSERT_TRUE(d);
  ASSERT_EQ(d->rows.size(), 2u);
  EXPECT_EQ(d->rows[0][1], "BIGINT");
  EXPECT_EQ(d->rows[1][1], "TIMESTAMP WITH TIME ZONE");
}

// Wide strings over many pages and row groups, with the default page size.
TEST(ParquetDuckDbTest, LargeStringsAcrossPages) {
  TempDir dir;
  std::string path = dir.path() + "/wide.parquet";
  Schema schema({{"k", DataType::Int32(), false}, {"v", DataType::String(), true}});
  ParquetWriterOptions o;
  o.row_group_rows = 3000;
  auto out = OpenFileOutput(path, false);
  ASSERT_TRUE(out.ok());
  auto enc = NewParquetEncoder(std::move(out).value(), schema, o);
  ASSERT_TRUE(enc.ok());
  int64_t total_len = 0;
  for (int batch = 0; batch < 4; ++batch) {
    RecordBatch b = RecordBatch::Empty(schema);
    for (int i = 0; i < 2000; ++i) {
      int k = batch * 2000 + i;
      b.columns[0].Append<int32_t>(k);
      if (k % 10 == 9) {
        b.columns[1].AppendNull();
      } else {
        std::string v(static_cast<size_t>(k % 1000) + 1, static_cast<char>('a' + k % 26));
        total_len += static_cast<int64_t>(v.size());
        b.columns[1].AppendString(v);
      }
    }
    ASSERT_TRUE((*enc)->Write(b).ok());
  }
  ASSERT_TRUE((*enc)->Finish().ok());
  auto r = Query(
      "SELECT count(*), count(v), sum(length(v))::VARCHAR, "
      "bool_and(v = repeat(chr(97 + k % 26), k % 1000 + 1)) FROM read_parquet(" +
      Quote(path) + ")");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->rows[0][0], "8000");
  EXPECT_EQ(r->rows[0][1], "7200");
  EXPECT_EQ(r->rows[0][2], std::to_string(total_len));
  EXPECT_EQ(r->rows[0][3], true);
  auto g = Query("SELECT num_row_groups FROM parquet_file_metadata(" + Quote(path) + ")");
  ASSERT_TRUE(g);
  EXPECT_EQ(g->rows[0][0], "3");
}

// --- dictionary encoding, page v2, pipelined encoding ---------------------------

Schema DictSchema() {
  return Schema({
      {"id", DataType::Int64(), false},
      {"cat", DataType::String(), true},
      {"qty", DataType::Int32(), true},
      {"price", DataType::Decimal(9, 2), true},
      {"small", DataType::Decimal(4, 1), true},
      {"big", DataType::Decimal(18, 4), true},
      {"day", DataType::Date(), true},
      {"ts", DataType::Timestamp(), true},
      {"f64", DataType::Float64(), true},
      {"flag", DataType::Bool(), true},
      {"fb", DataType::String(), true},
      {"s_req", DataType::String(), false},
  });
}
constexpr int64_t kDictRows = 5000;
constexpr int64_t kDictGroupRows = 2000;

// Row r of DictSchema() as the text DuckDB's query below prints; "" = NULL
// (no non-null value prints as empty: s_req's empty string is never NULL).
std::vector<std::string> DictRow(int64_t r) {
  std::vector<std::string> v(12);
  const int64_t m = r % 97;
  v[0] = std::to_string(r);
  if (r % 10 != 3) v[1] = "cat" + std::to_string(r % 12);
  if (r % 11 != 4) v[2] = std::to_string(r % 50 - 25);
  if (r % 13 != 5) v[3] = DecimalText(m % 20 == 0 ? 9999999 : (m % 20) * 1999 - 19000, 2);
  if (r % 7 != 6) v[4] = DecimalText(m % 2 == 0 ? -999 : (m % 9) * 111, 1);
  if (r % 17 != 7) {
    v[5] = DecimalText(m % 15 == 0   ? 999999999999999999
                       : m % 15 == 1 ? -999999999999999999
                                     : (m % 15) * 123456789 - 987654321,
                       4);
  }
  if (r % 19 != 8) v[6] = std::to_string((m % 30) * 400 - 6000);        // days
  if (r % 23 != 9) v[7] = std::to_string((m % 25) * 3600000000LL - 7);  // epoch us
  if (r % 29 != 1)
    v[8] = m % 10 == 0 ? "-0.0" : m % 10 == 1 ? "1e+308" : std::to_string(m % 10) + ".5";
  if (r % 31 != 2) v[9] = r % 3 == 0 ? "true" : "false";
  // Low cardinality for the first 800 rows of each row group, unique after:
  // the dictionary fills up and the chunk goes on in PLAIN.
  if (r % 37 != 3)
    v[10] = r % kDictGroupRows < 800 ? "k" + std::to_string(r % 40) : "unique-" + std::to_string(r);
  v[11] = r % 3 == 0 ? "" : r % 3 == 1 ? "a" : "b";
  return v;
}

RecordBatch DictBatch(int64_t first, int64_t n) {
  Schema schema = DictSchema();
  RecordBatch b = RecordBatch::Empty(schema);
  for (int64_t r = first; r < first + n; ++r) {
    std::vector<std::string> v = DictRow(r);
    const int64_t m = r % 97;
    auto null_or = [&](int c, auto append) {
      if (c != 0 && c != 11 && v[c].empty()) {
        b.columns[c].AppendNull();
      } else {
        append(b.columns[c]);
      }
    };
    null_or(0, [&](Column& c) { c.Append<int64_t>(r); });
    null_or(1, [&](Column& c) { c.AppendString(v[1]); });
    null_or(2, [&](Column& c) { c.Append<int32_t>(static_cast<int32_t>(r % 50 - 25)); });
    null_or(3,
            [&](Column& c) { c.Append<int64_t>(m % 20 == 0 ? 9999999 : (m % 20) * 1999 - 19000); });
    null_or(4, [&](Column& c) { c.Append<int64_t>(m % 2 == 0 ? -999 : (m % 9) * 111); });
    null_or(5, [&](Column& c) {
      c.Append<int64_t>(m % 15 == 0   ? 999999999999999999
                        : m % 15 == 1 ? -999999999999999999
                                      : (m % 15) * 123456789 - 987654321);
    });
    null_or(6, [&](Column& c) { c.Append<int32_t>(static_cast<int32_t>((m % 30) * 400 - 6000)); });
    null_or(7, [&](Column& c) { c.Append<int64_t>((m % 25) * 3600000000LL - 7); });
    null_or(8, [&](Column& c) {
      c.Append<double>(m % 10 == 0   ? -0.0
                       : m % 10 == 1 ? 1e308
                                     : static_cast<double>(m % 10) + 0.5);
    });
    null_or(9, [&](Column& c) { c.Append<uint8_t>(r % 3 == 0); });
    null_or(10, [&](Column& c) { c.AppendString(v[10]); });
    b.columns[11].AppendString(v[11]);
  }
  return b;
}

struct DictMode {
  const char* name;
  bool v2;
  int threads;
};
void PrintTo(const DictMode& m, std::ostream* os) { *os << m.name; }

class ParquetDuckDbDictionaryTest : public ::testing::TestWithParam<DictMode> {};

TEST_P(ParquetDuckDbDictionaryTest, DictionaryPagesFallbackAndValues) {
  TempDir dir;
  std::string path = dir.path() + "/dict.parquet";
  std::unique_ptr<ThreadPool> pool =
      GetParam().threads > 0 ? std::make_unique<ThreadPool>(GetParam().threads) : nullptr;
  ParquetWriterOptions o;
  o.row_group_rows = kDictGroupRows;
  o.page_bytes = 1024;
  o.dictionary_page_bytes = 2048;
  o.data_page_v2 = GetParam().v2;
  o.pool = pool.get();
  {
    auto out = OpenFileOutput(path, /*sync=*/false);
    ASSERT_TRUE(out.ok());
    auto enc = NewParquetEncoder(std::move(out).value(), DictSchema(), o);
    ASSERT_TRUE(enc.ok()) << enc.status().ToString();
    int64_t first = 0;
    for (int64_t n : {700, 1, 2299, 2000}) {
      ASSERT_TRUE((*enc)->Write(DictBatch(first, n)).ok());
      first += n;
    }
    ASSERT_EQ(first, kDictRows);
    ASSERT_TRUE((*enc)->Finish().ok());
  }
  std::string file = "read_parquet(" + Quote(path) + ")";

  auto types = Query("SELECT typeof(price), typeof(small), typeof(big) FROM " + file + " LIMIT 1");
  ASSERT_TRUE(types);
  EXPECT_EQ(types->rows[0][0], "DECIMAL(9,2)");
  EXPECT_EQ(types->rows[0][1], "DECIMAL(4,1)");
  EXPECT_EQ(types->rows[0][2], "DECIMAL(18,4)");

  // Every value, as text in exact forms.
  auto values = Query(
      "SELECT id::VARCHAR, cat, qty::VARCHAR, price::VARCHAR, small::VARCHAR, big::VARCHAR, "
      "date_diff('day', DATE '1970-01-01', day)::VARCHAR, epoch_us(ts)::VARCHAR, f64::VARCHAR, "
      "flag::VARCHAR, fb, s_req FROM " +
      file + " ORDER BY id");
  ASSERT_TRUE(values);
  ASSERT_EQ(values->rows.size(), static_cast<size_t>(kDictRows));
  for (int64_t r = 0; r < kDictRows; ++r) {
    std::vector<std::string> want = DictRow(r);
    const json& got = values->rows[r];
    for (int c = 0; c < 12; ++c) {
      if (c == 8 && !want[c].empty()) {
        ASSERT_TRUE(got[c].is_string()) << "row " << r;
        double g = std::strtod(got[c].get<std::string>().c_str(), nullptr);
        double w = std::strtod(want[c].c_str(), nullptr);
        ASSERT_EQ(std::memcmp(&g, &w, sizeof g), 0) << "row " << r << ": " << got[c];
      } else if (want[c].empty() && c != 11) {
        ASSERT_TRUE(got[c].is_null()) << "row " << r << " column " << c << ": " << got[c];
      } else {
        ASSERT_EQ(got[c], want[c]) << "row " << r << " column " << c;
      }
    }
  }

  // Encodings per chunk: dictionaries where values repeat, PLAIN for the
  // unique id and booleans, both for the column that outgrew its dictionary.
  auto meta = Query(
      "SELECT row_group_id, path_in_schema, encodings, dictionary_page_offset IS NOT NULL, "
      "stats_min_value, stats_max_value FROM parquet_metadata(" +
      Quote(path) + ") ORDER BY row_group_id, column_id");
  ASSERT_TRUE(meta);
  ASSERT_EQ(meta->rows.size(), 3u * 12);
  for (const json& m : meta->rows) {
    std::string col = m[1];
    std::string enc = m[2];
    SCOPED_TRACE("group " + m[0].get<std::string>() + " column " + col + ": " + enc);
    bool dict = enc.find("RLE_DICTIONARY") != std::string::npos;
    bool plain = enc.find("PLAIN") != std::string::npos;
    if (col == "id" || col == "flag") {
      EXPECT_FALSE(dict);
      EXPECT_EQ(m[3], false);
    } else {
      EXPECT_TRUE(dict);
      EXPECT_EQ(m[3], true);
    }
    EXPECT_TRUE(plain);  // PLAIN pages, or the PLAIN dictionary page
  }
  // The fallback really happened: each "fb" chunk has data pages of both
  // encodings (encoding_stats, read with the independent test reader).
  auto bytes = ReadFileToString(path);
  ASSERT_TRUE(bytes.ok());
  parquet::testing::TValue md = parquet::testing::ParseFooter(*bytes);
  for (const parquet::testing::TValue& g : md.At(4).list) {
    const parquet::testing::TValue& fb = g.At(1).list.at(10).At(3);
    EXPECT_EQ(fb.At(3).list.at(0).s, "fb");
    int data_type = GetParam().v2 ? 3 : 0;
    std::map<int64_t, int64_t> pages;  // encoding -> data pages
    for (const auto& e : fb.At(13).list) {
      if (e.At(1).i == data_type) pages[e.At(2).i] += e.At(3).i;
    }
    EXPECT_GT(pages[8], 0);  // RLE_DICTIONARY
    EXPECT_GT(pages[0], 0);  // PLAIN
  }

  // Statistics against DuckDB's own min/max per row group.
  std::string agg = "SELECT file_row_number // " + std::to_string(kDictGroupRows) + " AS g";
  Schema schema = DictSchema();
  for (int c = 0; c < 12; ++c) {
    const std::string& n = schema.field(c).name;
    agg += ", min(" + n + ")::VARCHAR, max(" + n + ")::VARCHAR";
  }
  auto minmax = Query(agg + " FROM read_parquet(" + Quote(path) +
                      ", file_row_number = true) GROUP BY g ORDER BY g");
  ASSERT_TRUE(minmax);
  ASSERT_EQ(minmax->rows.size(), 3u);
  for (int g = 0; g < 3; ++g) {
    for (int c = 0; c < 12; ++c) {
      const json& m = meta->rows[g * 12 + c];
      SCOPED_TRACE("group " + std::to_string(g) + " column " + schema.field(c).name);
      EXPECT_EQ(m[4], minmax->rows[g][1 + 2 * c]);
      EXPECT_EQ(m[5], minmax->rows[g][2 + 2 * c]);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Modes, ParquetDuckDbDictionaryTest,
    ::testing::Values(DictMode{"V1Inline", false, 0}, DictMode{"V2Inline", true, 0},
                      DictMode{"V1Pool2", false, 2}, DictMode{"V2Pool2", true, 2}),
    [](const ::testing::TestParamInfo<DictMode>& i) { return std::string(i.param.name); });

}  // namespace
}  // namespace sluice
