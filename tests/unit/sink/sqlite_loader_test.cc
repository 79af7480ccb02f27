// The sqlite output's loading side: PrepareSqliteTable and LoadIntoSqlite
// read a staged binary COPY stream (as the delivery sink writes it) into an
// SQLite file exactly once per batch, through the file's ledger.
#include "sink/sqlite_loader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cmath>

#include "core/value_text.h"
#include "format/compression.h"
#include "sink/delivery_sink.h"
#include "sink/pg_copy.h"
#include "sink_test_util.h"

namespace sluice {
namespace {

using ::sluice::testing::FixedColumn;
using ::sluice::testing::MakeBatch;
using ::sluice::testing::StringColumn;
using ::sluice::testing::TempDir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Reads query results as text rows ("NULL" for NULL) with the plain sqlite3
// API, independent of the sink's own wrapper.
class Reader {
 public:
  explicit Reader(const std::string& path, bool create = false) {
    const int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);
    if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
      ADD_FAILURE() << "cannot open " << path;
    }
  }
  ~Reader() { sqlite3_close_v2(db_); }

  std::vector<std::vector<std::string>> Query(const std::string& sql) {
    std::vector<std::vector<std::string>> rows;
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
      ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db_);
      return rows;
    }
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      std::vector<std::string> row;
      for (int c = 0; c < sqlite3_column_count(stmt); ++c) {
        const unsigned char* t = sqlite3_column_text(stmt, c);
        row.emplace_back(t == nullptr ? "NULL" : reinterpret_cast<const char*>(t));
      }
      rows.push_back(std::move(row));
    }
    sqlite3_finalize(stmt);
    return rows;
  }

  void Exec(const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      ADD_FAILURE() << sql << ": " << (err ? err : "?");
      sqlite3_free(err);
    }
  }

  std::vector<double> Doubles(const std::string& sql) {
    std::vector<double> out;
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
      ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db_);
      return out;
    }
    while (sqlite3_step(stmt) == SQLITE_ROW) out.push_back(sqlite3_column_double(stmt, 0));
    sqlite3_finalize(stmt);
    return out;
  }

  std::vector<std::string> Tables() {
    std::vector<std::string> names;
    for (auto& r : Query("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")) {
      names.push_back(r[0]);
    }
    return names;
  }

 private:
  sqlite3* db_ = nullptr;
};

#define ASSERT_OK(expr)                      \
  do {                                       \
    ::sluice::Status _st = (expr);           \
    ASSERT_TRUE(_st.ok()) << _st.ToString(); \
  } while (0)

using Rows = std::vector<std::vector<std::string>>;

Schema SqliteOrdersSchema() {
  return Schema({{"id", DataType::Int64(), false}, {"cur", DataType::String()}});
}

RecordBatch SqliteOrders(std::vector<std::optional<int64_t>> ids,
                         std::vector<std::optional<std::string>> curs) {
  return MakeBatch(SqliteOrdersSchema(),
                   {FixedColumn<int64_t>(DataType::Int64(), ids), StringColumn(curs)});
}

class SqliteLoaderTest : public ::testing::Test {
 protected:
  std::string DbPath() const { return dir_.path() + "/out.db"; }

  SqliteOutputOptions Options(std::string table = "orders",
                              SchemaEvolution evolution = SchemaEvolution::kReject) {
    SqliteOutputOptions o;
    o.path = DbPath();
    o.table = std::move(table);
    o.where = "pipes/orders.yaml:20";
    o.schema_evolution = evolution;
    return o;
  }

  // Stages `rows` as the delivery sink does (the rows, then the batch id)
  // and loads them, sending the stream in chunks of `chunk` bytes.
  Result<LoadResult> Load(const SqliteOutputOptions& out, const RecordBatch& rows, int64_t batch,
                          int attempt, size_t chunk = 7) {
    PgCopyEncoder enc(rows.schema, batch);
    std::string data;
    enc.Header(data);
    RETURN_IF_ERROR(enc.Rows(rows, data));
    enc.Trailer(data);
    return LoadStream(out, rows.schema, data, batch, attempt, chunk);
  }

  Result<LoadResult> LoadStream(const SqliteOutputOptions& out, const Schema& schema,
                                const std::string& data, int64_t batch, int attempt,
                                size_t chunk = 7) {
    ASSIGN_OR_RETURN(std::unique_ptr<SqliteDb> db, SqliteDb::Open(DbPath()));
    ASSIGN_OR_RETURN(std::vector<std::string> columns, PrepareSqliteTable(*db, out, schema));
    LoadRequest req;
    req.output_id = out.Describe();
    req.batch_id = batch;
    req.attempt = attempt;
    req.schema = schema;
    req.columns = columns;
    size_t sent = 0;
    req.next = [&](std::string& c) -> Result<bool> {
      const size_t n = std::min(chunk, data.size() - sent);
      c = data.substr(sent, n);
      sent += n;
      return sent < data.size();
    };
    return LoadIntoSqlite(*db, out, req);
  }

  TempDir dir_;
};

TEST_F(SqliteLoaderTest, LoadsOnceAndARetryIsANoOp) {
  auto r = Load(Options(), SqliteOrders({1, 2, 3}, {"EUR", std::nullopt, "USD"}), 7, 1);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->outcome, LoadResult::Outcome::kLoaded);
  EXPECT_EQ(r->rows, 3);
  // The same attempt again (a crash between the load and its acknowledgement).
  auto again = Load(Options(), SqliteOrders({1, 2, 3}, {"EUR", std::nullopt, "USD"}), 7, 1);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->outcome, LoadResult::Outcome::kAlreadyLoaded);
  EXPECT_EQ(again->rows, 3);
  Reader db(DbPath());
  EXPECT_EQ(db.Query("SELECT id, cur, _sluice_batch_id FROM orders ORDER BY id"),
            (Rows{{"1", "EUR", "7"}, {"2", "NULL", "7"}, {"3", "USD", "7"}}));
  EXPECT_EQ(db.Query("SELECT batch_id, target, rows, attempt FROM _sluice_ledger"),
            (Rows{{"7", "orders", "3", "1"}}));
  EXPECT_EQ(db.Query("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'orders'"),
            (Rows{{"_sluice_idx_orders_batch"}}));
  // The created table keeps `not null`.
  EXPECT_EQ(db.Query("SELECT name, \"notnull\" FROM pragma_table_info('orders')"),
            (Rows{{"id", "1"}, {"cur", "0"}, {"_sluice_batch_id", "0"}}));
}

TEST_F(SqliteLoaderTest, AReplayReplacesOnlyThatBatchsRowsAndAStaleAttemptIsRefused) {
  ASSERT_OK(Load(Options(), SqliteOrders({1, 2}, {"a", "b"}), 7, 1).status());
  ASSERT_OK(Load(Options(), SqliteOrders({10}, {"other"}), 8, 1).status());
  auto replay = Load(Options(), SqliteOrders({1}, {"new"}), 7, 3);
  ASSERT_TRUE(replay.ok()) << replay.status().ToString();
  EXPECT_EQ(replay->outcome, LoadResult::Outcome::kReplaced);
  auto stale = Load(Options(), SqliteOrders({99}, {"stale"}), 7, 2);
  EXPECT_EQ(stale.status().code(), StatusCode::kAborted) << stale.status().ToString();
  Reader db(DbPath());
  EXPECT_EQ(db.Query("SELECT id, cur, _sluice_batch_id FROM orders ORDER BY id"),
            (Rows{{"1", "new", "7"}, {"10", "other", "8"}}));
  EXPECT_EQ(db.Query("SELECT batch_id, rows, attempt FROM _sluice_ledger ORDER BY batch_id"),
            (Rows{{"7", "1", "3"}, {"8", "1", "1"}}));
}

TEST_F(SqliteLoaderTest, RowsLoadedWithoutABatchIdAreNeverDuplicated) {
  {
    Reader r(DbPath(), /*create=*/true);
    r.Exec(
        "CREATE TABLE _sluice_ledger(batch_id INTEGER, target TEXT, rows INTEGER, "
        "loaded_us INTEGER, PRIMARY KEY(batch_id, target));"
        "CREATE TABLE orders(id INTEGER NOT NULL, cur TEXT);"
        "INSERT INTO orders VALUES (1, 'a'), (2, 'b');"
        "INSERT INTO _sluice_ledger VALUES (7, 'orders', 2, 1);");
  }
  auto again = Load(Options(), SqliteOrders({1, 2}, {"a", "b"}), 7, 2);
  EXPECT_EQ(again.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(again.status().message(), HasSubstr("2 row(s) of batch 7"));
  EXPECT_THAT(again.status().message(), HasSubstr("_sluice_ledger"));
  ASSERT_OK(Load(Options(), SqliteOrders({3}, {"c"}), 8, 1).status());
  Reader r(DbPath());
  EXPECT_EQ(r.Query("SELECT id, cur, _sluice_batch_id FROM orders ORDER BY id"),
            (Rows{{"1", "a", "NULL"}, {"2", "b", "NULL"}, {"3", "c", "8"}}));
}

TEST_F(SqliteLoaderTest, AnExistingTableIsCheckedAndEvolvedByThePolicy) {
  {
    Reader r(DbPath(), /*create=*/true);
    r.Exec("CREATE TABLE orders(ID INT NOT NULL, cur VARCHAR(3), extra TEXT)");
  }
  Schema wider({{"id", DataType::Int64(), false},
                {"cur", DataType::String()},
                {"amount", DataType::Decimal(10, 2)}});
  RecordBatch rows =
      MakeBatch(wider, {FixedColumn<int64_t>(DataType::Int64(), {1}), StringColumn({"EUR"}),
                        FixedColumn<int64_t>(DataType::Decimal(10, 2), {250})});
  auto rejected = Load(Options(), rows, 1, 1);
  EXPECT_EQ(rejected.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(rejected.status().message(), HasSubstr("no column 'amount'"));
  EXPECT_THAT(rejected.status().message(), HasSubstr("schema_evolution: reject"));
  EXPECT_THAT(rejected.status().message(), HasSubstr("pipes/orders.yaml:20"));
  ASSERT_OK(Load(Options("orders", SchemaEvolution::kFreeze), rows, 1, 1).status());
  ASSERT_OK(Load(Options("orders", SchemaEvolution::kEvolve), rows, 2, 1).status());
  Reader r(DbPath());
  EXPECT_EQ(r.Query("SELECT ID, cur, extra, amount, _sluice_batch_id FROM orders ORDER BY 5"),
            (Rows{{"1", "EUR", "NULL", "NULL", "1"}, {"1", "EUR", "NULL", "2.50", "2"}}));
  // A field stored in another class is refused, naming both types.
  Schema text_id({{"id", DataType::String(), false}, {"cur", DataType::String()}});
  auto clash =
      Load(Options(), MakeBatch(text_id, {StringColumn({"x"}), StringColumn({"y"})}), 3, 1);
  EXPECT_EQ(clash.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(clash.status().message(), HasSubstr("column 'id' is INT"));
  EXPECT_THAT(clash.status().message(), HasSubstr("as TEXT"));
}

TEST_F(SqliteLoaderTest, AMalformedStreamWritesNothing) {
  PgCopyEncoder enc(SqliteOrdersSchema(), 5);
  std::string data;
  enc.Header(data);
  ASSERT_OK(enc.Rows(SqliteOrders({1, 2}, {"a", "b"}), data));
  enc.Trailer(data);
  // Cut short: the end-of-data marker and part of a row are missing.
  auto cut = LoadStream(Options(), SqliteOrdersSchema(), data.substr(0, data.size() - 5), 5, 1);
  EXPECT_EQ(cut.status().code(), StatusCode::kDataLoss) << cut.status().ToString();
  Reader r(DbPath());
  EXPECT_EQ(r.Query("SELECT count(*) FROM orders"), (Rows{{"0"}}));
  EXPECT_EQ(r.Query("SELECT count(*) FROM _sluice_ledger"), (Rows{{"0"}}));
}

TEST_F(SqliteLoaderTest, TheDeliverySinkStagesWhatTheLoaderReads) {
  auto store = NewLocalObjectStore(dir_.path() + "/store");
  auto output = NewSqliteDatabaseOutput(
      nlohmann::json::parse(R"({"path": "out.db", "table": "orders"})"), "p.yaml:3", dir_.path());
  ASSERT_TRUE(output.ok()) << output.status().ToString();
  EXPECT_EQ((*output)->Describe(), "sqlite:out.db#orders");
  EXPECT_EQ((*output)->Database(), DbPath());  // resolved against the project
  auto sink = NewDeliverySink(std::move(*output), R"({"path": "out.db", "table": "orders"})");
  SinkContext ctx;
  ctx.pipeline = "orders";
  ctx.batch_id = 4;
  ctx.attempt = 1;
  ctx.schema = SqliteOrdersSchema();
  ctx.store = store.get();
  ASSERT_OK(sink->Open(ctx));
  ASSERT_OK(sink->Write(SqliteOrders({1, 2}, {"a", std::nullopt})));
  auto staged = sink->Finish();
  ASSERT_TRUE(staged.ok()) << staged.status().ToString();
  ASSERT_TRUE(staged->delivery.has_value());
  EXPECT_EQ(staged->delivery->request.output, "sqlite:out.db#orders");
  EXPECT_EQ(staged->delivery->request.rows, 2);
  auto in = store->OpenRead(staged->delivery->staging_key);
  ASSERT_TRUE(in.ok()) << in.status().ToString();
  auto rows = OpenDecompressed(std::move(*in));
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  std::string data;
  char buf[4096];
  while (true) {
    auto n = (*rows)->Read(buf, sizeof buf);
    ASSERT_TRUE(n.ok());
    if (*n == 0) break;
    data.append(buf, *n);
  }
  ASSERT_OK(LoadStream(Options(), SqliteOrdersSchema(), data, 4, 1).status());
  Reader r(DbPath());
  EXPECT_EQ(r.Query("SELECT id, cur, _sluice_batch_id FROM orders ORDER BY id"),
            (Rows{{"1", "a", "4"}, {"2", "NULL", "4"}}));
}

TEST_F(SqliteLoaderTest, TheBatchColumnNameIsReserved) {
  auto output = NewSqliteDatabaseOutput(
      nlohmann::json::parse(R"({"path": "out.db", "table": "orders"})"), "p.yaml:3", "");
  ASSERT_TRUE(output.ok());
  Status st = (*output)->CheckSchema(Schema({{"_SLUICE_batch_id", DataType::Int64()}}));
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(st.message(), HasSubstr("reserved"));
  EXPECT_THAT(st.message(), HasSubstr("p.yaml:3"));
}

TEST_F(SqliteLoaderTest, AllTypesRoundTrip) {
  Schema schema({{"b", DataType::Bool()},
                 {"i32", DataType::Int32()},
                 {"i64", DataType::Int64()},
                 {"f", DataType::Float64()},
                 {"d", DataType::Decimal(12, 2)},
                 {"s", DataType::String()},
                 {"day", DataType::Date()},
                 {"ts", DataType::Timestamp()}});
  int64_t ts1 = 0;
  int64_t ts2 = 0;
  ASSERT_TRUE(ParseTimestamp("2024-03-04T05:06:07.123456Z", &ts1));
  ASSERT_TRUE(ParseTimestamp("1969-12-31T23:59:59Z", &ts2));
  RecordBatch b = MakeBatch(
      schema, {FixedColumn<uint8_t>(DataType::Bool(), {1, 0, std::nullopt}),
               FixedColumn<int32_t>(DataType::Int32(), {-2147483647 - 1, 42, std::nullopt}),
               FixedColumn<int64_t>(DataType::Int64(), {INT64_MAX, -1, std::nullopt}),
               FixedColumn<double>(DataType::Float64(), {0.1, -2.5e300, std::nullopt}),
               FixedColumn<int64_t>(DataType::Decimal(12, 2), {123456789012LL, -5, std::nullopt}),
               StringColumn({"h\xC3\xA9llo", "", std::nullopt}),
               FixedColumn<int32_t>(DataType::Date(), {DaysFromCivil(2024, 2, 29),
                                                       DaysFromCivil(1900, 1, 1), std::nullopt}),
               FixedColumn<int64_t>(DataType::Timestamp(), {ts1, ts2, std::nullopt})});
  ASSERT_OK(Load(Options("everything"), b, 7, 1).status());

  Reader r(DbPath());
  EXPECT_EQ(r.Query("SELECT name, type FROM pragma_table_info('everything')"),
            (std::vector<std::vector<std::string>>{{"b", "INTEGER"},
                                                   {"i32", "INTEGER"},
                                                   {"i64", "INTEGER"},
                                                   {"f", "REAL"},
                                                   {"d", "TEXT"},
                                                   {"s", "TEXT"},
                                                   {"day", "TEXT"},
                                                   {"ts", "TEXT"},
                                                   {"_sluice_batch_id", "INTEGER"}}));
  auto rows = r.Query(
      "SELECT b, i32, i64, typeof(f), d, s, day, ts, typeof(b), typeof(i64), typeof(f),"
      " typeof(d), typeof(day) FROM everything ORDER BY rowid");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_THAT(r.Doubles("SELECT f FROM everything WHERE f IS NOT NULL ORDER BY rowid"),
              ElementsAre(0.1, -2.5e300));
  EXPECT_THAT(rows[0],
              ElementsAre("1", "-2147483648", "9223372036854775807", "real", "1234567890.12",
                          "h\xC3\xA9llo", "2024-02-29", "2024-03-04T05:06:07.123456Z", "integer",
                          "integer", "real", "text", "text"));
  EXPECT_THAT(rows[1],
              ElementsAre("0", "42", "-1", "real", "-0.05", "", "1900-01-01",
                          "1969-12-31T23:59:59Z", "integer", "integer", "real", "text", "text"));
  EXPECT_THAT(rows[2], ElementsAre("NULL", "NULL", "NULL", "null", "NULL", "NULL", "NULL", "NULL",
                                   "null", "null", "null", "null", "null"));
}

TEST(ParseSqliteOutputOptions, ParsesAndRejects) {
  auto o = ParseSqliteOutputOptions(
      nlohmann::json::parse(
          R"({"path": "a.db", "table": "T_1", "max_rows_per_second": 5, "schema_evolution": "evolve"})"),
      "p.yaml:4");
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->path, "a.db");
  EXPECT_EQ(o->table, "T_1");
  EXPECT_EQ(o->limits.max_rows_per_second, 5);
  EXPECT_EQ(o->limits.max_concurrency, 1);
  EXPECT_EQ(o->schema_evolution, SchemaEvolution::kEvolve);

  struct Case {
    std::string json;
    std::string want;
  };
  const Case cases[] = {
      {R"({"path": "a.db", "table": "t", "mode": "upsert"})", "'mode'"},
      {R"({"path": "a.db", "table": "t", "max_concurrency": 2})", "'max_concurrency'"},
      {R"({"table": "t"})", "'path'"},
      {R"({"path": "a.db"})", "'table'"},
      {R"({"path": "a.db", "table": "a b"})", "a b"},
      {R"({"path": "a.db", "table": "1t"})", "1t"},
      {R"({"path": "a.db", "table": "_sluice_ledger"})", "reserved"},
      {R"({"path": 3, "table": "t"})", "'path'"},
      {R"({"path": "a.db", "table": "t", "low_water_rows": 9, "high_water_rows": 9})",
       "low_water_rows"},
  };
  for (const Case& c : cases) {
    auto bad = ParseSqliteOutputOptions(nlohmann::json::parse(c.json), "p.yaml:4");
    ASSERT_FALSE(bad.ok()) << c.json;
    EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument) << c.json;
    EXPECT_THAT(bad.status().message(), HasSubstr("p.yaml:4")) << c.json;
    EXPECT_THAT(bad.status().message(), HasSubstr(c.want)) << c.json;
  }
}

}  // namespace
}  // namespace sluice
