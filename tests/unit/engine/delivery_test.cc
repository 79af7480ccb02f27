// Delivery into PostgreSQL end to end (issue 12): a server with a `postgres`
// output commits batches to the lake, records their deliveries, and its
// loaders load them into a real PostgreSQL after the commit, exactly once.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "../sql/test_database.h"
#include "engine/backfill.h"
#include "engine/backpressure.h"
#include "engine/loader.h"
#include "engine/server.h"
#include "sql/pg_db.h"
#include "test_project.h"

namespace sluice {
namespace {

using testing::Keys;
using testing::SqlBackend;
using testing::TestDatabase;

std::string DeliverySpec(const std::string& dsn, const std::string& extra = "") {
  return R"(pipeline: orders
source:
  pattern: "*.csv"
  format: csv
schema:
  id: int64 not null
  amount: decimal(10,2)
outputs:
  - table: orders
  - postgres:
      dsn: ")" +
         dsn + R"("
      table: public.orders
)" + extra;
}

std::string DeliveryCsv(int first, int n) {
  std::string s = "id,amount\n";
  for (int i = first; i < first + n; ++i) {
    s += std::to_string(i) + "," + std::to_string(i) + ".25\n";
  }
  return s;
}

class DeliveryTest : public testing::ProjectTest {
 protected:
  void SetUp() override {
    ProjectTest::SetUp();
    target_ = std::make_unique<TestDatabase>(SqlBackend::kPostgres);
    auto db = PgDb::Open(target_->location());
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
  }

  Status Serve() {
    std::atomic<bool> stop{false};
    ServerOptions o;
    o.exit_when_idle = true;
    return RunServer(*project_, o, stop);
  }

  std::vector<std::string> Query(const std::string& sql) { return testing::QueryText(*db_, sql); }

  std::vector<Delivery> Deliveries(int64_t batch) {
    auto d = project_->catalog().BatchDeliveries(batch);
    EXPECT_TRUE(d.ok()) << d.status().ToString();
    return d.ok() ? *d : std::vector<Delivery>{};
  }

  int64_t OnlyBatch(BatchState state) {
    auto b = project_->catalog().ListBatches(state, "", 0);
    EXPECT_TRUE(b.ok() && b->size() == 1u);
    return b.ok() && !b->empty() ? (*b)[0].id : 0;
  }

  std::unique_ptr<TestDatabase> target_;
  std::unique_ptr<PgDb> db_;
};

TEST_F(DeliveryTest, CommittedBatchesReachPostgresExactlyOnce) {
  Open();
  WritePipeline("orders", DeliverySpec(target_->location()));
  Land("orders", "a.csv", DeliveryCsv(1, 10));
  Land("orders", "b.csv", DeliveryCsv(11, 5));
  SLUICE_ASSERT_OK(Serve());

  EXPECT_EQ(Query("SELECT count(*), sum(amount), count(DISTINCT _sluice_batch_id) FROM orders"),
            std::vector<std::string>{"15|123.75|2"});
  EXPECT_EQ(Query("SELECT count(*), sum(rows) FROM sluice_ledger"),
            std::vector<std::string>{"2|15"});
  auto batches = project_->catalog().ListBatches(BatchState::kCommitted, "", 0);
  ASSERT_TRUE(batches.ok());
  ASSERT_EQ(batches->size(), 2u);
  for (const BatchInfo& b : *batches) {
    std::vector<Delivery> ds = Deliveries(b.id);
    ASSERT_EQ(ds.size(), 1u);
    EXPECT_EQ(ds[0].state, DeliveryState::kDelivered);
    EXPECT_EQ(ds[0].tries, 1);
    EXPECT_EQ(ds[0].target.find("postgres:"), 0u);
  }
  // Delivered rows leave the store; nothing waits, nothing is queued.
  EXPECT_TRUE(Keys(project_->store(), "deliveries/").empty());
  EXPECT_TRUE(Keys(project_->store(), "staging/").empty());
  EXPECT_TRUE(project_->catalog().DeliveryBacklogs()->empty());
  EXPECT_EQ(*project_->queue().Depth(), 0);
}

// A replay of a committed batch replaces its rows in the database in one
// transaction: the batch's rows are there once, from the newer attempt.
TEST_F(DeliveryTest, AReplayReplacesTheBatchsRows) {
  Open();
  WritePipeline("orders", DeliverySpec(target_->location()));
  Land("orders", "a.csv", DeliveryCsv(1, 10));
  SLUICE_ASSERT_OK(Serve());
  const int64_t b = OnlyBatch(BatchState::kCommitted);
  SLUICE_ASSERT_OK(project_->catalog().ReplayBatch(b, 0));
  SLUICE_ASSERT_OK(project_->queue().Enqueue(TaskRequest{TaskKind::kProcess, b, "orders", 0}));
  SLUICE_ASSERT_OK(Serve());

  EXPECT_EQ(Query("SELECT count(*), count(DISTINCT id) FROM orders"),
            std::vector<std::string>{"10|10"});
  EXPECT_EQ(Query("SELECT attempt FROM sluice_ledger"), std::vector<std::string>{"2"});
  std::vector<Delivery> ds = Deliveries(b);
  ASSERT_EQ(ds.size(), 1u);
  EXPECT_EQ(ds[0].attempt, 2);
  EXPECT_EQ(ds[0].state, DeliveryState::kDelivered);
  EXPECT_TRUE(Keys(project_->store(), "deliveries/").empty());
}

// A value PostgreSQL refuses fails that delivery with PostgreSQL's message;
// the lake commit stands, other batches flow, and a replay of the delivery
// (after the cause is fixed) loads the staged rows without reprocessing.
TEST_F(DeliveryTest, APermanentErrorFailsOneDeliveryUntilItIsReplayed) {
  SLUICE_ASSERT_OK(db_->Exec(
      "CREATE TABLE orders (id bigint NOT NULL, amount numeric(10,2) CHECK (amount < 100), "
      "_sluice_batch_id bigint)"));
  Open();
  WritePipeline("orders", DeliverySpec(target_->location()));
  Land("orders", "small.csv", DeliveryCsv(1, 5));
  Land("orders", "large.csv", DeliveryCsv(98, 5));  // 100.25 and up break the check
  SLUICE_ASSERT_OK(Serve());

  auto committed = project_->catalog().ListBatches(BatchState::kCommitted, "", 0);
  ASSERT_TRUE(committed.ok());
  ASSERT_EQ(committed->size(), 2u);  // the lake has both
  EXPECT_EQ(Query("SELECT count(*), max(id) FROM orders"), std::vector<std::string>{"5|5"});
  int64_t failed_batch = 0;
  for (const BatchInfo& b : *committed) {
    Delivery d = Deliveries(b.id).at(0);
    if (d.state == DeliveryState::kFailed) {
      failed_batch = b.id;
      EXPECT_NE(d.last_error.find("violates check constraint"), std::string::npos) << d.last_error;
      EXPECT_NE(d.last_error.find("23514"), std::string::npos) << d.last_error;
      EXPECT_EQ(d.tries, 1);  // permanent: not retried
    } else {
      EXPECT_EQ(d.state, DeliveryState::kDelivered);
    }
  }
  ASSERT_NE(failed_batch, 0);
  auto backlog = project_->catalog().DeliveryBacklogs();
  ASSERT_TRUE(backlog.ok());
  ASSERT_EQ(backlog->size(), 1u);
  EXPECT_EQ((*backlog)[0].failed, 1);

  SLUICE_ASSERT_OK(db_->Exec("ALTER TABLE orders DROP CONSTRAINT orders_amount_check"));
  Delivery d = Deliveries(failed_batch).at(0);
  SLUICE_ASSERT_OK(project_->catalog().RetryDelivery(failed_batch, d.output));
  SLUICE_ASSERT_OK(Serve());  // reconciliation queues the load
  EXPECT_EQ(Deliveries(failed_batch).at(0).state, DeliveryState::kDelivered);
  EXPECT_EQ(Query("SELECT count(*), max(id) FROM orders"), std::vector<std::string>{"10|102"});
}

// Upsert: rows with one key inside a batch resolve to the pipeline's last,
// and a later batch updates the earlier one's rows.
TEST_F(DeliveryTest, UpsertKeepsThePipelinesLastRowOfAKey) {
  Open();
  WritePipeline("orders",
                DeliverySpec(target_->location(), "      mode: upsert\n      key: [id]\n"));
  Land("orders", "a.csv", "id,amount\n1,1.00\n2,2.00\n1,3.00\n");
  SLUICE_ASSERT_OK(Serve());
  Land("orders", "b.csv", "id,amount\n2,20.00\n3,30.00\n");
  SLUICE_ASSERT_OK(Serve());
  EXPECT_EQ(Query("SELECT id, amount FROM orders ORDER BY id"),
            (std::vector<std::string>{"1|3.00", "2|20.00", "3|30.00"}));
}

// A server started with loaders: 0 processes and commits but loads nothing;
// the deliveries wait pending with their tasks, and a later server with
// loaders delivers them.
TEST_F(DeliveryTest, DeliveriesWaitForALoaderOnAnyHost) {
  config_.loaders = 0;
  Open();
  WritePipeline("orders", DeliverySpec(target_->location()));
  Land("orders", "a.csv", DeliveryCsv(1, 3));
  std::atomic<bool> stop{false};
  ServerOptions o;
  o.exit_when_idle = true;
  // Idle means nothing this server can do: the load task is another's.
  SLUICE_ASSERT_OK(RunServer(*project_, o, stop));
  const int64_t b = OnlyBatch(BatchState::kCommitted);
  EXPECT_EQ(Deliveries(b).at(0).state, DeliveryState::kPending);
  EXPECT_EQ(Keys(project_->store(), "deliveries/").size(), 1u);
  EXPECT_EQ(*project_->queue().Depth(), 1);

  project_.reset();
  config_.loaders = 1;
  Open();
  SLUICE_ASSERT_OK(Serve());
  EXPECT_EQ(Deliveries(b).at(0).state, DeliveryState::kDelivered);
  EXPECT_EQ(Query("SELECT count(*) FROM orders"), std::vector<std::string>{"3"});
}

// Backpressure: a pipeline whose output's backlog rose above the high mark
// stops taking batches until the backlog is below the low mark again.
TEST_F(DeliveryTest, BackpressureHoldsProcessingUntilTheBacklogDrains) {
  const std::string spec =
      DeliverySpec(target_->location(), "      high_water_rows: 6\n      low_water_rows: 2\n");
  config_.loaders = 0;
  Open();
  WritePipeline("orders", spec);
  Land("orders", "a.csv", DeliveryCsv(1, 4));
  Land("orders", "b.csv", DeliveryCsv(5, 4));
  SLUICE_ASSERT_OK(Serve());  // 8 rows wait for a loader: above the mark
  auto committed = project_->catalog().ListBatches(BatchState::kCommitted, "", 0);
  ASSERT_EQ(committed->size(), 2u);

  Land("orders", "c.csv", DeliveryCsv(9, 4));
  std::atomic<bool> stop{false};
  std::thread server([&] {
    ServerOptions o;
    ASSERT_TRUE(RunServer(*project_, o, stop).ok());
  });
  ASSERT_TRUE(testing::WaitFor([&] {
    auto queued = project_->catalog().ListBatches(BatchState::kQueued, "", 0);
    return queued.ok() && queued->size() == 1u;
  }));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // 15 polls
  stop = true;
  server.join();
  EXPECT_EQ(project_->catalog().ListBatches(BatchState::kQueued, "", 0)->size(), 1u);
  EXPECT_EQ(project_->catalog().ListBatches(BatchState::kCommitted, "", 0)->size(), 2u);

  // A loader drains the backlog; the held batch goes on and is delivered too.
  project_.reset();
  config_.loaders = 1;
  Open();
  SLUICE_ASSERT_OK(Serve());
  EXPECT_EQ(project_->catalog().ListBatches(BatchState::kCommitted, "", 0)->size(), 3u);
  EXPECT_EQ(Query("SELECT count(*), count(DISTINCT _sluice_batch_id) FROM orders"),
            std::vector<std::string>{"12|3"});
}

// A backfill with the latest version replays every batch oldest first and
// replaces each batch's rows in PostgreSQL; interrupted, it resumes after
// the last batch it recorded.
TEST_F(DeliveryTest, BackfillReplaysIntoPostgresAndResumesAfterACrash) {
  Open();
  WritePipeline("orders", DeliverySpec(target_->location()));
  for (int i = 0; i < 3; ++i) {
    Land("orders", "f" + std::to_string(i) + ".csv", DeliveryCsv(i * 10 + 1, 10));
  }
  SLUICE_ASSERT_OK(Serve());
  // Version 2 keeps only amounts above 5.
  const std::string v2 = R"(pipeline: orders
source:
  pattern: "*.csv"
  format: csv
schema:
  id: int64 not null
  amount: decimal(10,2)
transform:
  - filter: amount > 5
outputs:
  - table: orders
  - postgres:
      dsn: ")" + target_->location() +
                         R"("
      table: public.orders
)";
  Deploy("orders", v2);
  const int64_t v2_id = project_->catalog().GetActiveVersion("orders")->id;

  // A run that stopped after the first batch (a crash): its cursor is there.
  auto crashed = project_->catalog().StartBackfill("orders", 0, v2_id);
  ASSERT_TRUE(crashed.ok()) << crashed.status().ToString();
  SLUICE_ASSERT_OK(project_->catalog().AdvanceBackfill("orders", 1, 1));

  BackfillOptions o;
  o.pipeline = "orders";
  o.latest_version = true;
  o.window = 1;
  auto report = RunBackfill(*project_, o);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->run.resumed);
  EXPECT_EQ(report->replayed, 2);  // batches 2 and 3; batch 1 was done
  EXPECT_EQ(report->committed, 2);
  EXPECT_EQ(Query("SELECT _sluice_batch_id, count(*) FROM orders GROUP BY 1 ORDER BY 1"),
            (std::vector<std::string>{"1|10", "2|10", "3|10"}));  // all amounts are > 5 there
  EXPECT_EQ(Query("SELECT batch_id, attempt FROM sluice_ledger ORDER BY 1"),
            (std::vector<std::string>{"1|1", "2|2", "3|2"}));
  for (int64_t b : {2, 3}) EXPECT_EQ(project_->catalog().GetBatch(b)->pipeline_version_id, v2_id);

  // Finished: a new run starts from the beginning; --since leaves old batches.
  o.since_us = NowMicros();
  auto none = RunBackfill(*project_, o);
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_FALSE(none->run.resumed);
  EXPECT_EQ(none->replayed, 0);
  o.since_us = 0;
  auto all = RunBackfill(*project_, o);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(all->replayed, 1);  // batch 1; 2 and 3 are at that version already
  EXPECT_EQ(Query("SELECT count(*) FROM orders WHERE amount <= 5"), std::vector<std::string>{"0"});
  EXPECT_EQ(Query("SELECT count(*) FROM orders"), std::vector<std::string>{"26"});
}

// A new version adds a column. evolve: the lake table and the PostgreSQL
// table gain it (old rows NULL); freeze: both keep their columns, the new
// one is dropped; reject (the default): the batch fails before any row is
// written, naming the column.
TEST_F(DeliveryTest, SchemaEvolutionReachesTheLakeAndPostgres) {
  for (const char* policy : {"evolve", "freeze", ""}) {
    SCOPED_TRACE(policy);
    ASSERT_TRUE(db_->Exec("DROP TABLE IF EXISTS orders").ok());
    ASSERT_TRUE(db_->Exec("DROP TABLE IF EXISTS sluice_ledger").ok());
    project_.reset();
    testing::ScratchDir dir;
    config_ = DefaultConfig(dir.path());
    config_.workers = 1;
    config_.poll_interval = std::chrono::milliseconds(20);
    config_.lease = std::chrono::milliseconds(2000);
    Open();
    WritePipeline("orders", DeliverySpec(target_->location()));
    Land("orders", "a.csv", DeliveryCsv(1, 3));
    SLUICE_ASSERT_OK(Serve());
    std::string v2 = DeliverySpec(target_->location());
    v2.replace(v2.find("  amount: decimal(10,2)\n"), 23,
               "  amount: decimal(10,2)\n  channel: string\n");
    if (*policy != '\0') v2 += std::string("schema_evolution: ") + policy + "\n";
    WritePipeline("orders", v2);
    Land("orders", "b.csv", "id,amount,channel\n10,10.00,web\n11,11.00,shop\n");
    SLUICE_ASSERT_OK(Serve());

    auto table = project_->catalog().GetTable("orders");
    ASSERT_TRUE(table.ok()) << table.status().ToString();
    auto batches = project_->catalog().ListBatches(std::nullopt, "", 0);
    ASSERT_TRUE(batches.ok());
    const BatchInfo& second = batches->front();  // newest first
    const bool has_channel = table->schema.FieldIndex("channel") >= 0;
    const auto pg_channel = Query(
        "SELECT count(*) FROM pg_attribute WHERE attrelid = 'orders'::regclass AND "
        "attname = 'channel'");
    if (std::string(policy) == "evolve") {
      EXPECT_EQ(second.state, BatchState::kCommitted) << second.reason;
      EXPECT_TRUE(has_channel);
      EXPECT_EQ(Query("SELECT id, coalesce(channel, '-') FROM orders ORDER BY id"),
                (std::vector<std::string>{"1|-", "2|-", "3|-", "10|web", "11|shop"}));
    } else if (std::string(policy) == "freeze") {
      EXPECT_EQ(second.state, BatchState::kCommitted) << second.reason;
      EXPECT_FALSE(has_channel);
      EXPECT_EQ(pg_channel, std::vector<std::string>{"0"});
      EXPECT_EQ(Query("SELECT count(*) FROM orders"), std::vector<std::string>{"5"});
    } else {
      EXPECT_EQ(second.state, BatchState::kFailed);
      EXPECT_NE(second.reason.find("the batch adds column 'channel'"), std::string::npos)
          << second.reason;
      EXPECT_NE(second.reason.find("schema_evolution: reject"), std::string::npos);
      EXPECT_FALSE(has_channel);
      EXPECT_EQ(Query("SELECT count(*) FROM orders"), std::vector<std::string>{"3"});
      EXPECT_TRUE(Keys(project_->store(), "staging/").empty());
    }
    project_.reset();
  }
}

TEST(BackpressureTest, EngagesAboveTheHighMarkAndReleasesBelowTheLowMark) {
  PipelineSpec spec;
  spec.name = "orders";
  spec.outputs.push_back(SinkSpec{"table", nlohmann::json{{"table", "orders"}}, "p.yaml:5"});
  spec.outputs.push_back(SinkSpec{"postgres",
                                  nlohmann::json{{"dsn", "postgresql://u:pw@db/app"},
                                                 {"table", "orders"},
                                                 {"high_water_rows", 100},
                                                 {"high_water_bytes", 1000}},
                                  "p.yaml:6"});
  PipelineSpec other;
  other.name = "events";
  const std::string id = "postgres:postgresql://u:***@db/app#orders";
  auto backlog = [&](int64_t rows, int64_t bytes) {
    DeliveryBacklog b;
    b.output = id;
    b.rows = rows;
    b.bytes = bytes;
    return std::vector<DeliveryBacklog>{b};
  };
  BackpressureState s = ComputeBackpressure({spec, other}, backlog(100, 10), {});
  EXPECT_TRUE(s.held.empty());  // at the mark, not above
  s = ComputeBackpressure({spec, other}, backlog(101, 10), s.engaged);
  ASSERT_EQ(s.held.size(), 1u);
  EXPECT_EQ(s.held.begin()->first, "orders");
  EXPECT_NE(s.held["orders"].find("backpressure from " + id), std::string::npos);
  EXPECT_EQ(s.held["orders"].find("pw@"), std::string::npos);
  s = ComputeBackpressure({spec, other}, backlog(60, 10), s.engaged);
  EXPECT_EQ(s.held.size(), 1u);  // below high, not yet below low (50)
  s = ComputeBackpressure({spec, other}, backlog(49, 10), s.engaged);
  EXPECT_TRUE(s.held.empty());
  s = ComputeBackpressure({spec, other}, backlog(60, 10), s.engaged);
  EXPECT_TRUE(s.held.empty());  // released: only the high mark engages again
  s = ComputeBackpressure({spec, other}, backlog(1, 1001), s.engaged);
  EXPECT_EQ(s.held.size(), 1u);  // bytes count too
  // An output with nothing waiting (no backlog row) never holds.
  EXPECT_TRUE(ComputeBackpressure({spec}, {}, {id}).held.empty());
}

}  // namespace
}  // namespace sluice
