// Files written by sluice's Parquet encoder, read by an independent reader:
// DuckDB, through tests/tools/duckdb_query.mjs (npm @duckdb/node-api). Checks
// column types, every value, statistics, logical types and file metadata.
//
// Needs node and tests/node_modules (scripts/install-deps.sh installs both).
// Missing tools make the tests fail, never skip: CI must run them.
#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "core/io.h"
#include "format/format.h"

extern char** environ;

namespace sluice {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr int64_t kRows = 2500;
constexpr int64_t kGroupRows = 1000;

// --- running DuckDB ----------------------------------------------------------

std::string FindInPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  if (path == nullptr) return "";
  std::string p = path;
  size_t start = 0;
  while (start <= p.size()) {
    size_t end = p.find(':', start);
    if (end == std::string::npos) end = p.size();
    std::string dir = p.substr(start, end - start);
    if (!dir.empty()) {
      std::string candidate = dir + "/" + name;
      if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    }
    start = end + 1;
  }
  return "";
}

std::string ScriptPath() {
  return std::string(SLUICE_SOURCE_DIR) + "/tests/tools/duckdb_query.mjs";
}

// Empty when node and the DuckDB module are there, else what to do about it.
std::string EnvironmentProblem() {
  if (FindInPath("node").empty()) {
    return "node is not on PATH: run scripts/install-deps.sh (installs nodejs and the DuckDB "
           "npm package the Parquet tests read files with)";
  }
  std::string module = std::string(SLUICE_SOURCE_DIR) + "/tests/node_modules/@duckdb/node-api";
  if (!fs::exists(module)) {
    return module + " is missing: run scripts/install-deps.sh (npm install in tests/)";
  }
  if (!fs::exists(ScriptPath())) return ScriptPath() + " is missing";
  return "";
}

struct QueryResult {
  std::vector<std::string> names;
  std::vector<std::string> types;
  json rows;
};

// Runs the SQL with duckdb_query.mjs (argv, no shell); fails the test on error.
std::optional<QueryResult> Query(const std::string& sql) {
  std::string problem = EnvironmentProblem();
  if (!problem.empty()) {
    ADD_FAILURE() << problem;
    return std::nullopt;
  }
  std::string node = FindInPath("node");
  std::string script = ScriptPath();
  char err_path[] = "/tmp/sluice_duckdb_errXXXXXX";
  int err_fd = ::mkstemp(err_path);
  int out_pipe[2];
  if (err_fd < 0 || ::pipe(out_pipe) != 0) {
    ADD_FAILURE() << "cannot create pipe/temp file: " << std::strerror(errno);
    return std::nullopt;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_fd, 2);
  posix_spawn_file_actions_addclose(&actions, out_pipe[0]);
  std::vector<char*> argv = {node.data(), script.data(), const_cast<char*>(sql.c_str()), nullptr};
  pid_t pid = 0;
  int rc = ::posix_spawn(&pid, node.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(out_pipe[1]);
  std::string out;
  if (rc == 0) {
    char buf[65536];
    ssize_t n;
    while ((n = ::read(out_pipe[0], buf, sizeof buf)) > 0) out.append(buf, n);
  }
  ::close(out_pipe[0]);
  int status = 0;
  if (rc == 0) ::waitpid(pid, &status, 0);
  ::close(err_fd);
  auto err = ReadFileToString(err_path);
  ::unlink(err_path);
  if (rc != 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    ADD_FAILURE() << "duckdb_query.mjs failed (spawn " << rc << ", status " << status
                  << ") for SQL:\n"
                  << sql << "\n"
                  << (err.ok() ? *err : "");
    return std::nullopt;
  }
  json j = json::parse(out, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.contains("rows")) {
    ADD_FAILURE() << "unparsable output (" << out.size() << " bytes): " << out.substr(0, 2000);
    return std::nullopt;
  }
  QueryResult r;
  for (const json& c : j["columns"]) {
    r.names.push_back(c["name"]);
    r.types.push_back(c["type"]);
  }
  r.rows = j["rows"];
  return r;
}

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
  std::string problem = EnvironmentProblem();
  EXPECT_EQ(problem, "");
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

}  // namespace
}  // namespace sluice
