// The options of a `postgres` output: parsed and checked offline, with
// messages that name the spec location and key and never show a password.
#include "sink/postgres_output.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <string>

namespace sluice {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

Result<PostgresOutputOptions> ParsePg(const std::string& json) {
  return ParsePostgresOutputOptions(nlohmann::json::parse(json), "orders.yaml:12");
}

TEST(PostgresOutputTest, DefaultsAndEveryKey) {
  auto d = ParsePg(R"({"dsn": "postgresql://u@db/app", "table": "orders"})");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->mode, PgLoadMode::kAppend);
  EXPECT_EQ(d->create, PgCreateMode::kIfMissing);
  EXPECT_EQ(d->schema_name, "");
  EXPECT_EQ(d->table, "orders");
  EXPECT_EQ(d->limits.max_concurrency, 1);
  EXPECT_FALSE(d->limits.max_rows_per_second.has_value());
  EXPECT_EQ(d->statement_timeout.count(), 0);
  EXPECT_EQ(d->limits.low_water_rows, d->limits.high_water_rows / 2);
  EXPECT_EQ(d->Describe(), "postgres:postgresql://u@db/app#orders");

  auto o = ParsePg(R"({"dsn": "host=db user=u password=s3cret dbname=app",
      "table": "analytics.orders", "mode": "upsert", "key": ["order_id", "day"],
      "create": "never", "max_concurrency": 4, "max_rows_per_second": 200000,
      "max_bytes_per_second": "50000000", "statement_timeout": "5m",
      "high_water_rows": 1000, "high_water_bytes": 1000000, "low_water_rows": 10})");
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->schema_name, "analytics");
  EXPECT_EQ(o->table, "orders");
  EXPECT_EQ(o->mode, PgLoadMode::kUpsert);
  EXPECT_EQ(o->key, (std::vector<std::string>{"order_id", "day"}));
  EXPECT_EQ(o->create, PgCreateMode::kNever);
  EXPECT_EQ(o->limits.max_concurrency, 4);
  EXPECT_EQ(o->limits.max_rows_per_second, 200000);
  EXPECT_EQ(o->limits.max_bytes_per_second, 50000000);
  EXPECT_EQ(o->statement_timeout.count(), 300000);
  EXPECT_EQ(o->limits.low_water_rows, 10);
  EXPECT_EQ(o->limits.low_water_bytes, 500000);
  // The password is in the DSN libpq gets, nowhere else.
  EXPECT_EQ(o->dsn, "host=db user=u password=s3cret dbname=app");
  EXPECT_THAT(o->Describe(), Not(HasSubstr("s3cret")));
  EXPECT_EQ(o->Describe(), "postgres:host=db user=u password=*** dbname=app#analytics.orders");
}

TEST(PostgresOutputTest, TheDsnTakesEnvironmentVariables) {
  setenv("SLUICE_TEST_ORDERS_PG", "postgresql://loader:pw@db:5433/app", 1);
  auto o = ParsePg(R"({"dsn": "${SLUICE_TEST_ORDERS_PG}", "table": "t"})");
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->dsn, "postgresql://loader:pw@db:5433/app");
  EXPECT_EQ(o->display_dsn, "postgresql://loader:***@db:5433/app");
  unsetenv("SLUICE_TEST_ORDERS_PG");
  auto missing = ParsePg(R"({"dsn": "${SLUICE_TEST_ORDERS_PG}", "table": "t"})");
  EXPECT_EQ(missing.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(missing.status().message(), HasSubstr("orders.yaml:12"));
  EXPECT_THAT(missing.status().message(), HasSubstr("SLUICE_TEST_ORDERS_PG is not set"));
}

TEST(PostgresOutputTest, BadValuesNameTheKey) {
  struct Case {
    const char* json;
    const char* key;
    const char* says;
  };
  const Case cases[] = {
      {R"({"table": "t"})", "'dsn'", "is required"},
      {R"({"dsn": "host=db", "table": "t", "extra": 1})", "'extra'", "unknown key"},
      {R"({"dsn": "host=db"})", "'table'", "is required"},
      {R"({"dsn": "host=db", "table": "a.b.c"})", "'table'", "schema.table"},
      {R"({"dsn": "host=db", "table": "1t"})", "'table'", "not a table name"},
      {R"({"dsn": "host=db", "table": "my-table"})", "'table'", "not a table name"},
      {R"({"dsn": "host=db", "table": "_sluice_ledger"})", "'table'", "sluice's own"},
      {R"({"dsn": "host=db", "table": "t", "mode": "merge"})", "'mode'", "not one of"},
      {R"({"dsn": "host=db", "table": "t", "mode": "upsert"})", "'key'", "needs the key"},
      {R"({"dsn": "host=db", "table": "t", "key": ["id"]})", "'key'", "only mode upsert"},
      {R"({"dsn": "host=db", "table": "t", "mode": "upsert", "key": ["id", "id"]})", "'key'",
       "listed twice"},
      {R"({"dsn": "host=db", "table": "t", "create": "always"})", "'create'", "not one of"},
      {R"({"dsn": "host=db", "table": "t", "max_concurrency": 0})", "'max_concurrency'",
       "positive"},
      {R"({"dsn": "host=db", "table": "t", "max_concurrency": 65})", "'max_concurrency'",
       "at most 64"},
      {R"({"dsn": "host=db", "table": "t", "max_rows_per_second": -5})", "'max_rows_per_second'",
       "positive"},
      {R"({"dsn": "host=db", "table": "t", "statement_timeout": "soon"})", "'statement_timeout'",
       "invalid duration"},
      {R"({"dsn": "host=db", "table": "t", "statement_timeout": "0s"})", "'statement_timeout'",
       "greater than zero"},
      {R"({"dsn": "host=db", "table": "t", "high_water_rows": 100, "low_water_rows": 100})",
       "'low_water_rows'", "below high_water_rows"},
      {R"({"dsn": "host=db", "table": "t", "low_water_bytes": 2147483648})", "'low_water_bytes'",
       "below high_water_bytes"},
      {R"({"dsn": "host=db nonsense=1", "table": "t"})", "'dsn'", "invalid connection option"},
      {R"({"dsn": "postgresql://db:port/x", "table": "t"})", "'dsn'",
       "port 'port' is not a number"},
      {R"({"dsn": "host=a,b port=5432,99999", "table": "t"})", "'dsn'", "port '99999'"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.json);
    auto o = ParsePg(c.json);
    ASSERT_FALSE(o.ok());
    EXPECT_EQ(o.status().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(o.status().message(), HasSubstr("orders.yaml:12: postgres output"));
    EXPECT_THAT(o.status().message(), HasSubstr(c.key));
    EXPECT_THAT(o.status().message(), HasSubstr(c.says));
  }
}

// A DSN libpq cannot read is reported without the password it holds, in any
// spelling (libpq's message quotes the part it could not read).
TEST(PostgresOutputTest, ABadDsnNeverShowsItsPassword) {
  for (const char* dsn :
       {"host=db password=hunter2 port", "host=db password hunter2",
        "postgresql://u:hunter2@db:notaport/x", "postgresql://u:hunter2@db/x?nonsense=1"}) {
    SCOPED_TRACE(dsn);
    nlohmann::json args = {{"dsn", dsn}, {"table", "t"}};
    auto o = ParsePostgresOutputOptions(args, "p.yaml:3");
    ASSERT_FALSE(o.ok());
    EXPECT_THAT(o.status().message(), HasSubstr("'dsn'"));
    EXPECT_THAT(o.status().message(), Not(HasSubstr("hunter2")));
  }
}

TEST(PostgresOutputTest, CheckSchemaNamesTheColumn) {
  auto o = ParsePg(R"({"dsn": "host=db", "table": "t", "mode": "upsert", "key": ["id"]})");
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_TRUE(o->CheckSchema(Schema({{"id", DataType::Int64(), false}})).ok());
  Status no_key = o->CheckSchema(Schema({{"other", DataType::Int64(), false}}));
  EXPECT_EQ(no_key.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(no_key.message(), HasSubstr("key column 'id' is not a field"));
  Status own = o->CheckSchema(
      Schema({{"id", DataType::Int64(), false}, {"_sluice_batch_id", DataType::Int64(), true}}));
  EXPECT_THAT(own.message(), HasSubstr("_sluice_batch_id"));
  Status longname = o->CheckSchema(
      Schema({{"id", DataType::Int64(), false}, {std::string(64, 'x'), DataType::String(), true}}));
  EXPECT_THAT(longname.message(), HasSubstr("longer than the 63 bytes"));
}

}  // namespace
}  // namespace sluice
