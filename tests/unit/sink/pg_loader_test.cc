// LoadIntoPostgres and PreparePostgresTable against a real PostgreSQL: each
// mode, the ledger's exactly-once (a retry is a no-op, a stale attempt is
// refused, a replay replaces), upsert's duplicate keys, table checks.
#include "sink/pg_loader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <thread>
#include <vector>

#include "../sql/test_database.h"
#include "sink/pg_copy.h"

namespace sluice {
namespace {

using ::testing::HasSubstr;
using testing::SqlBackend;
using testing::TestDatabase;

Schema Orders() {
  return Schema({{"id", DataType::Int64(), false},
                 {"amount", DataType::Decimal(12, 2), true},
                 {"note", DataType::String(), true}});
}

struct Row {
  int64_t id;
  int64_t cents;
  std::string note;
};

class PgLoaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = PgDb::Open(tdb_.location());
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
  }

  PostgresOutputOptions Output(const std::string& extra) {
    auto o = ParsePostgresOutputOptions(
        nlohmann::json::parse(R"({"dsn": "host=unused", "table": "orders")" + extra + "}"),
        "p.yaml:9");
    EXPECT_TRUE(o.ok()) << o.status().ToString();
    return o.ok() ? *o : PostgresOutputOptions();
  }

  // How the request's stream comes: rewindable (as the loader's), read
  // once only, or staged with row numbers by an older sluice.
  enum class Stream { kRewindable, kOnce, kNumbered };

  Result<LoadResult> Load(const PostgresOutputOptions& out, int64_t batch, int attempt,
                          const std::vector<Row>& rows, Stream how = Stream::kRewindable) {
    ASSIGN_OR_RETURN(std::vector<std::string> columns, PreparePostgresTable(*db_, out, Orders()));
    RecordBatch b = RecordBatch::Empty(Orders());
    for (const Row& r : rows) {
      b.columns[0].Append<int64_t>(r.id);
      b.columns[1].Append<int64_t>(r.cents);
      b.columns[2].AppendString(r.note);
    }
    PgCopyEncoder enc(Orders(), batch, /*row_numbers=*/how == Stream::kNumbered);
    std::string data;
    enc.Header(data);
    RETURN_IF_ERROR(enc.Rows(b, data));
    enc.Trailer(data);
    LoadRequest req;
    req.output_id = "orders#0";
    req.batch_id = batch;
    req.attempt = attempt;
    req.pipeline_version = 3;
    req.schema = Orders();
    req.columns = columns;
    // Two chunks: a peek at the first row reads across a chunk's end.
    size_t sent = 0;
    req.next = [&](std::string& chunk) -> Result<bool> {
      const size_t n = sent == 0 ? std::min<size_t>(data.size(), 20) : data.size() - sent;
      chunk = data.substr(sent, n);
      sent += n;
      return sent < data.size();
    };
    if (how == Stream::kRewindable) {
      req.rewind = [&]() -> Status {
        ++rewinds_;
        sent = 0;
        return Status::OK();
      };
    }
    return LoadIntoPostgres(*db_, out, req);
  }

  std::vector<std::string> Query(const std::string& sql) { return testing::QueryText(*db_, sql); }

  TestDatabase tdb_{SqlBackend::kPostgres};
  std::unique_ptr<PgDb> db_;
  int rewinds_ = 0;
};

TEST_F(PgLoaderTest, AppendLoadsOnceAndARetryIsANoOp) {
  PostgresOutputOptions out = Output("");
  auto r = Load(out, 7, 1, {{1, 150, "a"}, {2, -99, "b"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->outcome, LoadResult::Outcome::kLoaded);
  EXPECT_EQ(r->rows, 2);
  // The same attempt again (a crash after COMMIT, before the acknowledgement).
  auto again = Load(out, 7, 1, {{1, 150, "a"}, {2, -99, "b"}});
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->outcome, LoadResult::Outcome::kAlreadyLoaded);
  EXPECT_EQ(again->rows, 2);
  EXPECT_EQ(Query("SELECT id, amount, note, _sluice_batch_id FROM orders ORDER BY id"),
            (std::vector<std::string>{"1|1.50|a|7", "2|-0.99|b|7"}));
  EXPECT_EQ(Query("SELECT output, batch_id, attempt, pipeline_version, rows FROM sluice_ledger"),
            std::vector<std::string>{"orders#0|7|1|3|2"});
  // A stale attempt is refused and changes nothing.
  auto replayed = Load(out, 7, 3, {{1, 100, "new"}});
  ASSERT_TRUE(replayed.ok()) << replayed.status().ToString();
  EXPECT_EQ(replayed->outcome, LoadResult::Outcome::kReplaced);
  auto stale = Load(out, 7, 2, {{9, 9, "stale"}});
  EXPECT_EQ(stale.status().code(), StatusCode::kAborted) << stale.status().ToString();
  // The replay replaced the batch's rows in one step; other batches stay.
  ASSERT_TRUE(Load(out, 8, 1, {{5, 5, "other"}}).ok());
  EXPECT_EQ(Query("SELECT id, note, _sluice_batch_id FROM orders ORDER BY id"),
            (std::vector<std::string>{"1|new|7", "5|other|8"}));
}

TEST_F(PgLoaderTest, UpsertKeepsThePipelinesLastRowPerKey) {
  PostgresOutputOptions out = Output(R"(, "mode": "upsert", "key": ["id"])");
  for (Stream how : {Stream::kRewindable, Stream::kOnce, Stream::kNumbered}) {
    SCOPED_TRACE(static_cast<int>(how));
    ASSERT_TRUE(db_->Exec("DROP TABLE IF EXISTS orders, sluice_ledger").ok());
    ASSERT_TRUE(Load(out, 1, 1, {{1, 100, "first"}, {2, 200, "two"}}, how).ok());
    // Key 1 twice in one batch: the later row wins, without a PostgreSQL error.
    auto r = Load(out, 2, 1, {{1, 111, "dup-early"}, {3, 300, "three"}, {1, 112, "dup-late"}}, how);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->rows, 2);
    // Key 4 twice, new to the table: the later row wins too.
    ASSERT_TRUE(Load(out, 3, 1, {{4, 1, "early"}, {5, 5, "five"}, {4, 2, "late"}}, how).ok());
    EXPECT_EQ(Query("SELECT id, amount, note, _sluice_batch_id FROM orders ORDER BY id"),
              (std::vector<std::string>{"1|1.12|dup-late|2", "2|2.00|two|1", "3|3.00|three|2",
                                        "4|0.02|late|3", "5|0.05|five|3"}));
    EXPECT_EQ(Query("SELECT batch_id, rows FROM sluice_ledger ORDER BY batch_id"),
              (std::vector<std::string>{"1|2", "2|2", "3|2"}));
  }
}

TEST_F(PgLoaderTest, UpsertOfNewKeysCopiesStraightIntoTheTable) {
  PostgresOutputOptions out = Output(R"(, "mode": "upsert", "key": ["id"])");
  ASSERT_TRUE(Load(out, 1, 1, {{1, 100, "one"}, {2, 200, "two"}}).ok());
  ASSERT_TRUE(Load(out, 2, 1, {{3, 300, "three"}}).ok());
  EXPECT_EQ(rewinds_, 0);  // every key new: one COPY, read once
  // Only the last row's key exists: the rows COPY wrote before it are
  // rolled back, the stream is read again and upserted.
  auto r = Load(out, 3, 1, {{4, 400, "four"}, {5, 500, "five"}, {1, 111, "one again"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->rows, 3);
  EXPECT_EQ(rewinds_, 1);
  EXPECT_EQ(r->copy, LoadResult::Copy::kConflict);
  auto fresh = Load(out, 5, 1, {{7, 700, "seven"}});
  ASSERT_TRUE(fresh.ok()) << fresh.status().ToString();
  EXPECT_EQ(fresh->copy, LoadResult::Copy::kCopied);
  EXPECT_EQ(Load(out, 6, 1, {{8, 800, "eight"}}, Stream::kOnce)->copy, LoadResult::Copy::kNotTried);
  EXPECT_EQ(Query("SELECT id, note, _sluice_batch_id FROM orders ORDER BY id"),
            (std::vector<std::string>{"1|one again|3", "2|two|1", "3|three|2", "4|four|3",
                                      "5|five|3", "7|seven|5", "8|eight|6"}));
  // A unique violation on another index is the table's, not the key's:
  // refused with PostgreSQL's words after the second read, nothing written.
  ASSERT_TRUE(db_->Exec("CREATE UNIQUE INDEX one_note ON orders (note)").ok());
  auto dup = Load(out, 4, 1, {{6, 1, "two"}});
  EXPECT_EQ(dup.status().code(), StatusCode::kAlreadyExists) << dup.status().ToString();
  EXPECT_THAT(dup.status().message(), HasSubstr("one_note"));
  EXPECT_EQ(Query("SELECT count(*) FROM orders"), std::vector<std::string>{"7"});
  EXPECT_EQ(Query("SELECT count(*) FROM sluice_ledger"), std::vector<std::string>{"5"});
}

TEST(UpsertCopyPolicyTest, BacksOffAfterConflictsAndResetsAfterACopy) {
  UpsertCopyPolicy p;
  auto tries = [&p](int loads) {
    std::string s;
    for (int i = 0; i < loads; ++i) s += p.Try() ? 'T' : '.';
    return s;
  };
  EXPECT_EQ(tries(3), "TTT");  // nothing recorded: always
  p.Record(true);
  EXPECT_EQ(tries(2), ".T");
  p.Record(true);
  EXPECT_EQ(tries(3), "..T");
  p.Record(true);
  EXPECT_EQ(tries(5), "....T");
  for (int i = 0; i < 10; ++i) p.Record(true);
  EXPECT_EQ(tries(UpsertCopyPolicy::kMaxSkips + 1),
            std::string(UpsertCopyPolicy::kMaxSkips, '.') + "T");
  p.Record(false);
  EXPECT_EQ(tries(2), "TT");
}

TEST_F(PgLoaderTest, ReplaceBatchDeletesWhatAnEarlierLoadWrote) {
  PostgresOutputOptions out = Output(R"(, "mode": "replace_batch")");
  // Rows of batch 4 written without a ledger row (say, by hand): replaced.
  ASSERT_TRUE(PreparePostgresTable(*db_, out, Orders()).ok());
  ASSERT_TRUE(db_->Exec("INSERT INTO orders VALUES (40, 1, 'old', 4), (41, 1, 'keep', 5)").ok());
  auto r = Load(out, 4, 1, {{42, 2, "new"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Query("SELECT id, note FROM orders ORDER BY id"),
            (std::vector<std::string>{"41|keep", "42|new"}));
}

TEST_F(PgLoaderTest, AFailedLoadWritesNothing) {
  PostgresOutputOptions out = Output("");
  ASSERT_TRUE(PreparePostgresTable(*db_, out, Orders()).ok());
  ASSERT_TRUE(db_->Exec("ALTER TABLE orders ADD CONSTRAINT positive CHECK (id > 0)").ok());
  auto r = Load(out, 6, 1, {{1, 1, "fine"}, {-1, 1, "rejected"}});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("positive"));
  EXPECT_THAT(r.status().message(), HasSubstr("23514"));
  EXPECT_EQ(Query("SELECT count(*) FROM orders"), std::vector<std::string>{"0"});
  EXPECT_EQ(Query("SELECT count(*) FROM sluice_ledger"), std::vector<std::string>{"0"});
  // The connection goes on: the next batch loads.
  EXPECT_TRUE(Load(out, 7, 1, {{2, 1, "next"}}).ok());
}

TEST_F(PgLoaderTest, TablesAreCreatedOrCheckedColumnByColumn) {
  PostgresOutputOptions never = Output(R"(, "create": "never")");
  Status missing = PreparePostgresTable(*db_, never, Orders()).status();
  EXPECT_EQ(missing.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(missing.message(), HasSubstr("does not exist (create: never)"));

  ASSERT_TRUE(db_->Exec("CREATE SCHEMA sales").ok());
  ASSERT_TRUE(db_->Exec("CREATE TABLE sales.orders (id bigint, amount numeric(12,2), note "
                        "varchar(10))")
                  .ok());
  auto o = ParsePostgresOutputOptions(
      nlohmann::json::parse(R"({"dsn": "host=x", "table": "sales.orders"})"), "p.yaml:2");
  ASSERT_TRUE(o.ok());
  Status wrong = PreparePostgresTable(*db_, *o, Orders()).status();
  EXPECT_EQ(wrong.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(wrong.message(),
              HasSubstr("column 'note' is character varying(10) but the output writes text"));
  // `validate --connect` says the same, changing nothing.
  auto checked = CheckPostgresTable(*db_, *o, Orders());
  EXPECT_EQ(checked.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(checked.status().message(), HasSubstr("column 'note' is character varying(10)"));
  ASSERT_TRUE(db_->Exec("ALTER TABLE sales.orders ALTER COLUMN note TYPE text").ok());
  checked = CheckPostgresTable(*db_, *o, Orders());
  ASSERT_TRUE(checked.ok()) << checked.status().ToString();
  EXPECT_THAT(*checked, HasSubstr("adds _sluice_batch_id"));
  EXPECT_EQ(CheckPostgresTable(*db_, never, Orders()).status().code(),
            StatusCode::kFailedPrecondition);
  auto fresh = CheckPostgresTable(*db_, Output(""), Orders());
  ASSERT_TRUE(fresh.ok()) << fresh.status().ToString();
  EXPECT_THAT(*fresh, HasSubstr("the first load creates it"));
  EXPECT_EQ(Query("SELECT to_regclass('public.orders') IS NULL"), std::vector<std::string>{"t"});
  // A table made without sluice gets its batch column.
  Status ok = PreparePostgresTable(*db_, *o, Orders()).status();
  EXPECT_TRUE(ok.ok()) << ok.ToString();
  EXPECT_EQ(Query("SELECT count(*) FROM information_schema.columns WHERE table_schema = 'sales' "
                  "AND table_name = 'orders' AND column_name = '_sluice_batch_id'"),
            std::vector<std::string>{"1"});
  EXPECT_EQ(Query("SELECT to_regclass('sales.sluice_ledger') IS NOT NULL"),
            std::vector<std::string>{"t"});
}

// Schema evolution: a table made by an earlier version (no note column, a
// narrower amount) takes the rows under evolve (column added, amount
// widened, old rows NULL in it), loads only its columns under freeze, and
// refuses them under reject, naming the column, its type and the policy.
TEST_F(PgLoaderTest, SchemaEvolutionAddsAndWidensFreezesOrRejects) {
  auto older = [&] {
    EXPECT_TRUE(db_->Exec("DROP TABLE IF EXISTS orders").ok());
    EXPECT_TRUE(db_->Exec("DROP TABLE IF EXISTS sluice_ledger").ok());
    EXPECT_TRUE(db_->Exec("CREATE TABLE orders (id bigint NOT NULL, amount numeric(10,2), "
                          "_sluice_batch_id bigint)")
                    .ok());
    EXPECT_TRUE(db_->Exec("INSERT INTO orders VALUES (1, 1.00, 1)").ok());
  };
  older();
  auto rejected = Load(Output(""), 2, 1, {{2, 250, "two"}});
  EXPECT_EQ(rejected.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(rejected.status().message(),
              HasSubstr("column 'amount' is numeric(10,2) but the output writes numeric(12,2) "
                        "(schema_evolution: reject)"));

  auto evolved = Load(Output(R"(, "schema_evolution": "evolve")"), 2, 1, {{2, 250, "two"}});
  ASSERT_TRUE(evolved.ok()) << evolved.status().ToString();
  EXPECT_EQ(Query("SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = "
                  "'orders'::regclass AND attname IN ('amount', 'note') ORDER BY attnum"),
            (std::vector<std::string>{"numeric(12,2)", "text"}));
  EXPECT_EQ(Query("SELECT id, amount, note FROM orders ORDER BY id"),
            (std::vector<std::string>{"1|1.00|NULL", "2|2.50|two"}));

  older();
  ASSERT_TRUE(db_->Exec("ALTER TABLE orders ALTER COLUMN amount TYPE numeric(12,2)").ok());
  for (const char* mode : {"", R"(, "mode": "upsert", "key": ["id"])"}) {
    SCOPED_TRACE(mode);
    ASSERT_TRUE(db_->Exec("DELETE FROM orders WHERE id > 1").ok());
    ASSERT_TRUE(db_->Exec("DROP TABLE IF EXISTS sluice_ledger").ok());
    if (*mode != '\0') {
      ASSERT_TRUE(db_->Exec("CREATE UNIQUE INDEX IF NOT EXISTS orders_id ON orders (id)").ok());
    }
    auto frozen = Load(Output(std::string(R"(, "schema_evolution": "freeze")") + mode), 3, 1,
                       {{3, 300, "dropped"}, {4, 400, "dropped"}, {3, 333, "last"}});
    ASSERT_TRUE(frozen.ok()) << frozen.status().ToString();
    EXPECT_EQ(Query("SELECT count(*) FROM pg_attribute WHERE attrelid = 'orders'::regclass AND "
                    "attname = 'note'"),
              std::vector<std::string>{"0"});
    EXPECT_EQ(Query("SELECT id, amount FROM orders WHERE id > 1 ORDER BY id, amount"),
              *mode == '\0' ? (std::vector<std::string>{"3|3.00", "3|3.33", "4|4.00"})
                            : (std::vector<std::string>{"3|3.33", "4|4.00"}));
  }
  // validate --connect says what a load would do, changing nothing.
  older();
  auto plan = CheckPostgresTable(*db_, Output(R"(, "schema_evolution": "evolve")"), Orders());
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_THAT(*plan, HasSubstr("ALTER COLUMN \"amount\" TYPE numeric(12,2)"));
  EXPECT_THAT(*plan, HasSubstr("ADD COLUMN IF NOT EXISTS \"note\" text"));
  EXPECT_EQ(Query("SELECT count(*) FROM pg_attribute WHERE attrelid = 'orders'::regclass AND "
                  "attname = 'note'"),
            std::vector<std::string>{"0"});
}

// Issue 12: two loaders' first loads into a new table prepared it at once;
// their CREATE ... IF NOT EXISTS raced and one delivery failed for good.
TEST_F(PgLoaderTest, LoadersPreparingOneTableAtOnceBothSucceed) {
  PostgresOutputOptions out = Output(R"(, "mode": "upsert", "key": ["id"])");
  for (int round = 0; round < 10; ++round) {
    ASSERT_TRUE(db_->Exec("DROP TABLE IF EXISTS orders").ok());
    ASSERT_TRUE(db_->Exec("DROP TABLE IF EXISTS sluice_ledger").ok());
    std::vector<Status> results(4);
    std::vector<std::thread> threads;
    for (size_t t = 0; t < results.size(); ++t) {
      threads.emplace_back([&, t] {
        auto db = PgDb::Open(tdb_.location());
        results[t] = db.ok() ? PreparePostgresTable(**db, out, Orders()).status() : db.status();
      });
    }
    for (auto& t : threads) t.join();
    for (const Status& st : results)
      EXPECT_TRUE(st.ok()) << "round " << round << ": " << st.ToString();
  }
}

}  // namespace
}  // namespace sluice
