#include "sink/sqlite_sink.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cmath>

#include "core/value_text.h"
#include "sink_test_util.h"

namespace sluice {
namespace {

using ::sluice::testing::FixedColumn;
using ::sluice::testing::MakeBatch;
using ::sluice::testing::StringColumn;
using ::sluice::testing::TempDir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

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

Schema SqliteOrdersSchema() {
  return Schema({{"id", DataType::Int64(), false}, {"cur", DataType::String()}});
}

RecordBatch SqliteOrders(std::vector<std::optional<int64_t>> ids,
                         std::vector<std::optional<std::string>> curs) {
  return MakeBatch(SqliteOrdersSchema(),
                   {FixedColumn<int64_t>(DataType::Int64(), ids), StringColumn(curs)});
}

class SqliteSinkTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_FALSE(dir_.path().empty()); }

  std::string DbPath() const { return dir_.path() + "/out.db"; }

  SinkContext Context(const Schema& schema, int64_t batch = 7, int attempt = 1) {
    SinkContext ctx;
    ctx.pipeline = "orders";
    ctx.batch_id = batch;
    ctx.attempt = attempt;
    ctx.schema = schema;
    ctx.project_dir = dir_.path();
    return ctx;
  }

  static SqliteSinkOptions Options(std::string table = "orders") {
    SqliteSinkOptions o;
    o.path = "out.db";  // relative: resolved against project_dir
    o.table = std::move(table);
    o.where = "pipes/orders.yaml:20";
    return o;
  }

  TempDir dir_;
};

TEST_F(SqliteSinkTest, StagesThenLoads) {
  auto sink = NewSqliteSink(Options());
  EXPECT_EQ(sink->Describe(), "sqlite:out.db#orders");
  ASSERT_OK(sink->Open(Context(SqliteOrdersSchema())));
  ASSERT_OK(sink->Write(SqliteOrders({1, 2}, {"EUR", std::nullopt})));
  ASSERT_OK(sink->Write(SqliteOrders({3}, {"USD"})));
  EXPECT_TRUE(sink->HealthCheck().ok());
  {
    Reader r(DbPath());
    // Staged, not yet visible: no target table before Load.
    EXPECT_THAT(r.Tables(), ElementsAre("_sluice_ledger", "_sluice_stage_b7_a1_orders"));
    EXPECT_EQ(r.Query("SELECT count(*) FROM _sluice_stage_b7_a1_orders")[0][0], "3");
  }
  auto out = sink->Finish();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_FALSE(out->table.has_value());
  ASSERT_TRUE(out->lineage.has_value());
  EXPECT_EQ(out->lineage->output, "sqlite:" + DbPath() + "#orders");
  EXPECT_EQ(out->lineage->rows, 3);
  ASSERT_OK(sink->Load());

  Reader r(DbPath());
  EXPECT_THAT(r.Tables(), ElementsAre("_sluice_ledger", "orders"));
  EXPECT_EQ(r.Query("SELECT id, cur FROM orders ORDER BY id"),
            (std::vector<std::vector<std::string>>{{"1", "EUR"}, {"2", "NULL"}, {"3", "USD"}}));
  auto ledger = r.Query("SELECT batch_id, target, rows, loaded_us > 0 FROM _sluice_ledger");
  EXPECT_EQ(ledger, (std::vector<std::vector<std::string>>{{"7", "orders", "3", "1"}}));
  // Declared types follow the documented mapping; not-null fields stay not null.
  EXPECT_EQ(
      r.Query("SELECT name, type, \"notnull\" FROM pragma_table_info('orders')"),
      (std::vector<std::vector<std::string>>{
          {"id", "INTEGER", "1"}, {"cur", "TEXT", "0"}, {"_sluice_batch_id", "INTEGER", "0"}}));
  EXPECT_EQ(r.Query("SELECT DISTINCT _sluice_batch_id FROM orders"),
            (std::vector<std::vector<std::string>>{{"7"}}));
}

TEST_F(SqliteSinkTest, SecondAttemptAfterLoadReplacesTheRows) {
  // Attempt 1 loads, then "crashes" before the catalog commit; attempt 2 redoes
  // the batch and must not add the rows again: its rows replace attempt 1's.
  {
    auto sink = NewSqliteSink(Options());
    ASSERT_OK(sink->Open(Context(SqliteOrdersSchema(), 7, 1)));
    ASSERT_OK(sink->Write(SqliteOrders({1, 2}, {"a", "b"})));
    ASSERT_TRUE(sink->Finish().ok());
    ASSERT_OK(sink->Load());
  }
  auto sink = NewSqliteSink(Options());
  ASSERT_OK(sink->Open(Context(SqliteOrdersSchema(), 7, 2)));
  ASSERT_OK(sink->Write(SqliteOrders({1, 2}, {"a", "b"})));
  auto out = sink->Finish();
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->lineage->rows, 2);
  ASSERT_OK(sink->Load());
  Reader r(DbPath());
  EXPECT_EQ(r.Query("SELECT count(*) FROM orders")[0][0], "2");
  EXPECT_EQ(r.Query("SELECT count(*) FROM _sluice_ledger")[0][0], "1");
  EXPECT_THAT(r.Tables(), ElementsAre("_sluice_ledger", "orders"));

  // A different batch still loads.
  auto next = NewSqliteSink(Options());
  ASSERT_OK(next->Open(Context(SqliteOrdersSchema(), 8, 1)));
  ASSERT_OK(next->Write(SqliteOrders({3}, {"c"})));
  ASSERT_TRUE(next->Finish().ok());
  ASSERT_OK(next->Load());
  EXPECT_EQ(r.Query("SELECT count(*) FROM orders")[0][0], "3");
  EXPECT_EQ(r.Query("SELECT batch_id, rows, attempt FROM _sluice_ledger ORDER BY batch_id"),
            (std::vector<std::vector<std::string>>{{"7", "2", "2"}, {"8", "1", "1"}}));
}

// Issue 9: a replay of a committed batch (here on a new pipeline version that
// writes other rows) replaces the batch's rows in one transaction; other
// batches' rows are untouched, and a repeated Load of the same attempt
// changes nothing.
TEST_F(SqliteSinkTest, Issue9ReplayReplacesOnlyThatBatchsRows) {
  auto load = [&](int64_t batch, int attempt, RecordBatch rows) {
    auto sink = NewSqliteSink(Options());
    ASSERT_OK(sink->Open(Context(SqliteOrdersSchema(), batch, attempt)));
    ASSERT_OK(sink->Write(rows));
    ASSERT_TRUE(sink->Finish().ok());
    ASSERT_OK(sink->Load());
  };
  load(7, 1, SqliteOrders({1, 2, 3}, {"a", "b", "c"}));
  load(8, 1, SqliteOrders({4}, {"d"}));
  load(7, 3, SqliteOrders({1, 2}, {"A", "B"}));
  Reader r(DbPath());
  EXPECT_EQ(
      r.Query("SELECT id, cur, _sluice_batch_id FROM orders ORDER BY id"),
      (std::vector<std::vector<std::string>>{{"1", "A", "7"}, {"2", "B", "7"}, {"4", "d", "8"}}));
  EXPECT_EQ(r.Query("SELECT batch_id, rows, attempt FROM _sluice_ledger ORDER BY batch_id"),
            (std::vector<std::vector<std::string>>{{"7", "2", "3"}, {"8", "1", "1"}}));

  // A stale attempt (older than the one that loaded) changes nothing.
  auto stale = NewSqliteSink(Options());
  ASSERT_OK(stale->Open(Context(SqliteOrdersSchema(), 7, 2)));
  ASSERT_OK(stale->Write(SqliteOrders({9}, {"z"})));
  ASSERT_TRUE(stale->Finish().ok());
  EXPECT_EQ(stale->Load().code(), StatusCode::kAborted);
  EXPECT_EQ(r.Query("SELECT count(*) FROM orders")[0][0], "3");
}

// Issue 9: tables and ledgers made before rows carried their batch: the
// ledger and the table get the new columns; other batches load as before; a
// batch whose old rows cannot be told apart is refused, not loaded twice.
TEST_F(SqliteSinkTest, Issue9RowsLoadedWithoutABatchIdAreNeverDuplicated) {
  {
    Reader r(DbPath(), /*create=*/true);
    r.Exec(
        "CREATE TABLE _sluice_ledger(batch_id INTEGER, target TEXT, rows INTEGER, "
        "loaded_us INTEGER, PRIMARY KEY(batch_id, target));"
        "CREATE TABLE orders(id INTEGER NOT NULL, cur TEXT);"
        "INSERT INTO orders VALUES (1, 'a'), (2, 'b');"
        "INSERT INTO _sluice_ledger VALUES (7, 'orders', 2, 1);");
  }
  auto again = NewSqliteSink(Options());
  ASSERT_OK(again->Open(Context(SqliteOrdersSchema(), 7, 2)));
  ASSERT_OK(again->Write(SqliteOrders({1, 2}, {"a", "b"})));
  ASSERT_TRUE(again->Finish().ok());
  Status st = again->Load();
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(st.message(), HasSubstr("2 row(s) of batch 7"));
  EXPECT_THAT(st.message(), HasSubstr("_sluice_ledger"));

  auto next = NewSqliteSink(Options());
  ASSERT_OK(next->Open(Context(SqliteOrdersSchema(), 8, 1)));
  ASSERT_OK(next->Write(SqliteOrders({3}, {"c"})));
  ASSERT_TRUE(next->Finish().ok());
  ASSERT_OK(next->Load());
  Reader r(DbPath());
  EXPECT_EQ(r.Query("SELECT id, cur, _sluice_batch_id FROM orders ORDER BY id"),
            (std::vector<std::vector<std::string>>{
                {"1", "a", "NULL"}, {"2", "b", "NULL"}, {"3", "c", "8"}}));
}

TEST_F(SqliteSinkTest, Issue9TheBatchColumnNameIsReserved) {
  auto sink = NewSqliteSink(Options());
  Schema schema({{"id", DataType::Int64()}, {"_SLUICE_batch_id", DataType::Int64()}});
  Status st = sink->Open(Context(schema));
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(st.message(), HasSubstr("reserved"));
}

TEST_F(SqliteSinkTest, OpenDropsStageTablesOfDeadAttempts) {
  {
    // Attempt 1 dies after staging (no Load, no Discard).
    auto sink = NewSqliteSink(Options());
    ASSERT_OK(sink->Open(Context(SqliteOrdersSchema(), 7, 1)));
    ASSERT_OK(sink->Write(SqliteOrders({1}, {"a"})));
  }
  {
    // Other batches and other tables of the same batch are not ours to drop.
    auto other_batch = NewSqliteSink(Options());
    ASSERT_OK(other_batch->Open(Context(SqliteOrdersSchema(), 70, 1)));
    auto other_table = NewSqliteSink(Options("x_orders"));
    ASSERT_OK(other_table->Open(Context(SqliteOrdersSchema(), 7, 1)));
  }
  Reader r(DbPath());
  EXPECT_THAT(r.Tables(),
              ElementsAre("_sluice_ledger", "_sluice_stage_b70_a1_orders",
                          "_sluice_stage_b7_a1_orders", "_sluice_stage_b7_a1_x_orders"));
  auto sink = NewSqliteSink(Options());
  ASSERT_OK(sink->Open(Context(SqliteOrdersSchema(), 7, 3)));
  EXPECT_THAT(r.Tables(),
              ElementsAre("_sluice_ledger", "_sluice_stage_b70_a1_orders",
                          "_sluice_stage_b7_a1_x_orders", "_sluice_stage_b7_a3_orders"));
}

TEST_F(SqliteSinkTest, DiscardDropsStageOnly) {
  {
    auto sink = NewSqliteSink(Options());
    ASSERT_OK(sink->Open(Context(SqliteOrdersSchema(), 1, 1)));
    ASSERT_OK(sink->Write(SqliteOrders({1}, {"a"})));
    ASSERT_TRUE(sink->Finish().ok());
    ASSERT_OK(sink->Load());
  }
  auto sink = NewSqliteSink(Options());
  ASSERT_OK(sink->Open(Context(SqliteOrdersSchema(), 2, 1)));
  ASSERT_OK(sink->Write(SqliteOrders({2, 3}, {"b", "c"})));
  ASSERT_TRUE(sink->Finish().ok());
  sink->Discard();
  Reader r(DbPath());
  EXPECT_THAT(r.Tables(), ElementsAre("_sluice_ledger", "orders"));
  EXPECT_EQ(r.Query("SELECT count(*) FROM orders")[0][0], "1");
  EXPECT_EQ(r.Query("SELECT count(*) FROM _sluice_ledger")[0][0], "1");
}

TEST_F(SqliteSinkTest, SchemaMismatchIsFailedPrecondition) {
  struct Case {
    std::string ddl;
    bool ok;
  };
  const Case cases[] = {
      {"CREATE TABLE orders (id INTEGER, cur TEXT, extra TEXT)", false},
      {"CREATE TABLE orders (id INTEGER)", false},
      {"CREATE TABLE orders (cur TEXT, id INTEGER)", false},
      {"CREATE TABLE orders (id REAL, cur TEXT)", false},
      {"CREATE TABLE orders (id INTEGER, currency TEXT)", false},
      // Same affinities under other spellings are accepted.
      {"CREATE TABLE orders (ID INT, Cur VARCHAR(3))", true},
      {"CREATE TABLE orders (id BIGINT NOT NULL, cur TEXT)", true},
  };
  int n = 0;
  for (const Case& c : cases) {
    SqliteSinkOptions o = Options();
    o.path = "case" + std::to_string(n++) + ".db";
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir_.path() + "/" + o.path).c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, c.ddl.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
    auto sink = NewSqliteSink(o);
    Status st = sink->Open(Context(SqliteOrdersSchema()));
    if (c.ok) {
      EXPECT_TRUE(st.ok()) << c.ddl << ": " << st.ToString();
      ASSERT_OK(sink->Write(SqliteOrders({1}, {"a"})));
      ASSERT_TRUE(sink->Finish().ok());
      EXPECT_TRUE(sink->Load().ok());
    } else {
      EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition) << c.ddl;
      EXPECT_THAT(st.message(), HasSubstr("'orders'")) << c.ddl;
      EXPECT_THAT(st.message(), HasSubstr("pipes/orders.yaml:20")) << c.ddl;
    }
  }
}

TEST_F(SqliteSinkTest, AllTypesRoundTrip) {
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
  auto sink = NewSqliteSink(Options("everything"));
  ASSERT_OK(sink->Open(Context(schema)));
  ASSERT_OK(sink->Write(b));
  ASSERT_TRUE(sink->Finish().ok());
  ASSERT_OK(sink->Load());

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

TEST_F(SqliteSinkTest, ManySmallTransactions) {
  SqliteSinkOptions o = Options();
  o.rows_per_transaction = 3;
  auto sink = NewSqliteSink(o);
  ASSERT_OK(sink->Open(Context(SqliteOrdersSchema())));
  std::vector<std::optional<int64_t>> ids;
  std::vector<std::optional<std::string>> curs;
  for (int i = 0; i < 10; ++i) {
    ids.emplace_back(i);
    curs.emplace_back("c" + std::to_string(i));
  }
  ASSERT_OK(sink->Write(SqliteOrders(ids, curs)));
  ASSERT_OK(sink->Write(SqliteOrders({10}, {"c10"})));
  auto out = sink->Finish();
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->lineage->rows, 11);
  ASSERT_OK(sink->Load());
  Reader r(DbPath());
  EXPECT_EQ(r.Query("SELECT count(*), sum(id) FROM orders")[0],
            (std::vector<std::string>{"11", "55"}));
}

TEST_F(SqliteSinkTest, AbsolutePathIsUsedAsIs) {
  SqliteSinkOptions o = Options();
  o.path = dir_.path() + "/sub/../abs.db";
  auto sink = NewSqliteSink(o);
  SinkContext ctx = Context(SqliteOrdersSchema());
  ctx.project_dir = "/nonexistent";
  ASSERT_OK(sink->Open(ctx));
  ASSERT_OK(sink->Write(SqliteOrders({1}, {"a"})));
  auto out = sink->Finish();
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->lineage->output, "sqlite:" + dir_.path() + "/abs.db#orders");
  ASSERT_OK(sink->Load());
  Reader r(dir_.path() + "/abs.db");
  EXPECT_EQ(r.Query("SELECT count(*) FROM orders")[0][0], "1");
}

TEST_F(SqliteSinkTest, UnopenableDatabaseFailsOpen) {
  SqliteSinkOptions o = Options();
  o.path = "missing_dir/out.db";
  auto sink = NewSqliteSink(o);
  Status st = sink->Open(Context(SqliteOrdersSchema()));
  EXPECT_FALSE(st.ok());
  EXPECT_THAT(st.message(), HasSubstr("missing_dir/out.db"));
  EXPECT_FALSE(sink->HealthCheck().ok());
}

TEST_F(SqliteSinkTest, HealthCheckNeedsOpen) {
  auto sink = NewSqliteSink(Options());
  EXPECT_EQ(sink->HealthCheck().code(), StatusCode::kFailedPrecondition);
}

TEST(ParseSqliteSinkOptions, ParsesAndRejects) {
  auto o = ParseSqliteSinkOptions(nlohmann::json::parse(R"({"path": "a.db", "table": "T_1"})"),
                                  "p.yaml:4");
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->path, "a.db");
  EXPECT_EQ(o->table, "T_1");

  struct Case {
    std::string json;
    std::string want;
  };
  const Case cases[] = {
      {R"({"path": "a.db", "table": "t", "mode": "upsert"})", "'mode'"},
      {R"({"table": "t"})", "'path'"},
      {R"({"path": "a.db"})", "'table'"},
      {R"({"path": "a.db", "table": "a b"})", "a b"},
      {R"({"path": "a.db", "table": "1t"})", "1t"},
      {R"({"path": "a.db", "table": "_sluice_ledger"})", "reserved"},
      {R"({"path": 3, "table": "t"})", "'path'"},
  };
  for (const Case& c : cases) {
    auto bad = ParseSqliteSinkOptions(nlohmann::json::parse(c.json), "p.yaml:4");
    ASSERT_FALSE(bad.ok()) << c.json;
    EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument) << c.json;
    EXPECT_THAT(bad.status().message(), HasSubstr("p.yaml:4")) << c.json;
    EXPECT_THAT(bad.status().message(), HasSubstr(c.want)) << c.json;
  }
}

}  // namespace
}  // namespace sluice
