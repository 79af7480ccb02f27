// SqliteCatalog: CommitBatch, ReplayBatch, publications, tables, snapshots,
// file visibility and lineage.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "catalog/sql_catalog.h"
#include "catalog_test_util.h"
#include "sql/migrations.h"

namespace sluice {
namespace {

using ::sluice::testing::CatalogTempDir;
using ::sluice::testing::ManualClock;
using S = BatchState;

Schema OrdersSchema() {
  return Schema({{"order_id", DataType::Int64(), false},
                 {"amount", DataType::Decimal(12, 2), true},
                 {"day", DataType::Date(), true}});
}

DataFile File(const std::string& name, int64_t rows, const std::string& partition = "") {
  DataFile f;
  f.key = "lake/orders/" + (partition.empty() ? "" : partition + "/") + name;
  f.staging_key = "staging/" + name;
  f.partition = partition;
  f.rows = rows;
  f.bytes = rows * 10;
  return f;
}

std::vector<std::string> Keys(const std::vector<DataFile>& files) {
  std::vector<std::string> out;
  for (const auto& f : files) out.push_back(f.key);
  return out;
}

class CatalogTablesTest : public ::testing::TestWithParam<testing::SqlBackend> {
 protected:
  testing::TestDatabase db_{GetParam()};
  void SetUp() override {
    SqliteCatalogOptions opts;
    opts.now_us = [this] { return clock_.Now(); };
    auto c = testing::OpenCatalogOn(db_, opts.now_us);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    cat_ = std::move(c).value();
    auto v = cat_->DeployPipeline("orders", "spec v1", "orders.yaml");
    ASSERT_TRUE(v.ok());
    v1_ = v->id;
  }

  // A batch in committing, on attempt 1.
  int64_t CommittingBatch() {
    std::string n = std::to_string(next_++);
    auto r = cat_->RegisterBatch({"orders", "landing/orders/" + n + ".csv", "", "sha" + n, 5, ""});
    EXPECT_TRUE(r.ok());
    for (S to : {S::kQueued, S::kProcessing, S::kCommitting}) {
      EXPECT_TRUE(testing::MoveBatch(*cat_, r->batch_id, to, "").ok());
    }
    return r->batch_id;
  }

  CommitRequest Commit(int64_t batch, std::vector<DataFile> files) {
    CommitRequest req;
    req.batch_id = batch;
    req.attempt = 1;
    req.stats.rows_read = 10;
    req.stats.rows_written = 8;
    req.stats.rows_quarantined = 1;
    req.stats.rows_skipped = 1;
    req.stats.duplicates_removed = 2;
    req.stats.seconds = 1.5;
    req.tables.push_back({"orders", OrdersSchema(), {"day"}, std::move(files)});
    return req;
  }

  ManualClock clock_;
  CatalogTempDir dir_;
  std::unique_ptr<Catalog> cat_;
  int64_t v1_ = 0;
  int next_ = 0;
};

TEST_P(CatalogTablesTest, CommitCreatesTableSnapshotFilesAndStats) {
  int64_t b = CommittingBatch();
  CommitRequest req = Commit(b, {File("p0.parquet", 5, "day=2024-01-01"), File("p1.parquet", 3)});
  req.outputs.push_back({"sqlite:/tmp/x.db#orders", 8});
  ASSERT_TRUE(cat_->CommitBatch(req).ok());

  auto batch = cat_->GetBatch(b);
  EXPECT_EQ(batch->state, S::kCommitted);
  EXPECT_EQ(batch->stats.rows_read, 10);
  EXPECT_EQ(batch->stats.rows_written, 8);
  EXPECT_EQ(batch->stats.rows_quarantined, 1);
  EXPECT_EQ(batch->stats.rows_skipped, 1);
  EXPECT_EQ(batch->stats.duplicates_removed, 2);
  EXPECT_DOUBLE_EQ(batch->stats.seconds, 1.5);
  EXPECT_EQ(cat_->BatchHistory(b)->back().state, S::kCommitted);

  auto t = cat_->GetTable("orders");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->schema, OrdersSchema());
  EXPECT_EQ(t->partition_by, std::vector<std::string>{"day"});
  EXPECT_GT(t->current_snapshot, 0);
  EXPECT_EQ(t->num_files, 2);
  EXPECT_EQ(t->num_rows, 8);
  EXPECT_EQ(t->total_bytes, 80);

  auto files = cat_->ListFiles("orders", 0);
  ASSERT_TRUE(files.ok());
  ASSERT_EQ(files->size(), 2u);
  const DataFile& f = (*files)[0];
  EXPECT_EQ(f.table, "orders");
  EXPECT_EQ(f.key, "lake/orders/day=2024-01-01/p0.parquet");
  EXPECT_EQ(f.staging_key, "staging/p0.parquet");
  EXPECT_EQ(f.partition, "day=2024-01-01");
  EXPECT_EQ(f.rows, 5);
  EXPECT_EQ(f.bytes, 50);
  EXPECT_EQ(f.batch_id, b);
  EXPECT_EQ(f.snapshot_id, t->current_snapshot);

  auto snaps = cat_->ListSnapshots("orders");
  ASSERT_EQ(snaps->size(), 1u);
  EXPECT_EQ((*snaps)[0].id, t->current_snapshot);
  EXPECT_EQ((*snaps)[0].batch_id, b);
  EXPECT_EQ((*snaps)[0].added_files, 2);
  EXPECT_EQ((*snaps)[0].added_rows, 8);

  auto lineage = cat_->BatchLineage(b);
  ASSERT_TRUE(lineage.ok());
  ASSERT_EQ(lineage->size(), 3u);
  EXPECT_EQ((*lineage)[0].output, "table:orders");
  EXPECT_EQ((*lineage)[0].file_key, f.key);
  EXPECT_EQ((*lineage)[0].rows, 5);
  EXPECT_EQ((*lineage)[0].pipeline_version_id, v1_);
  EXPECT_EQ((*lineage)[2].output, "sqlite:/tmp/x.db#orders");
  EXPECT_EQ((*lineage)[2].file_key, "");
  EXPECT_EQ((*lineage)[2].rows, 8);
}

TEST_P(CatalogTablesTest, SnapshotsAccumulateAndOldSnapshotsStayReadable) {
  int64_t b1 = CommittingBatch();
  ASSERT_TRUE(cat_->CommitBatch(Commit(b1, {File("a", 1)})).ok());
  int64_t s1 = cat_->GetTable("orders")->current_snapshot;
  int64_t b2 = CommittingBatch();
  ASSERT_TRUE(cat_->CommitBatch(Commit(b2, {File("b", 2), File("c", 3)})).ok());
  int64_t s2 = cat_->GetTable("orders")->current_snapshot;
  EXPECT_GT(s2, s1);

  EXPECT_EQ(Keys(*cat_->ListFiles("orders", s1)), std::vector<std::string>{"lake/orders/a"});
  EXPECT_EQ(Keys(*cat_->ListFiles("orders", s2)),
            (std::vector<std::string>{"lake/orders/a", "lake/orders/b", "lake/orders/c"}));
  EXPECT_EQ(cat_->ListFiles("orders", 0)->size(), 3u);
  auto snaps = cat_->ListSnapshots("orders");
  ASSERT_EQ(snaps->size(), 2u);
  EXPECT_EQ((*snaps)[1].batch_id, b2);
  EXPECT_EQ(cat_->GetTable("orders")->num_rows, 6);
}

// A catalog from before migration 7 summed data_files for a table's counts;
// the migration computes them once from its current snapshot.
TEST_P(CatalogTablesTest, MigrationCountsTheCurrentSnapshotOfOldTables) {
  testing::TestDatabase old_db(GetParam());  // the fixture's is migrated already
  {
    auto db = old_db.Open();
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    std::vector<Migration> before;
    for (const Migration& m : CatalogMigrations()) {
      if (m.version < 7) before.push_back(m);
    }
    ASSERT_TRUE(ApplyMigrations(**db, before).ok());
    // Snapshot 2 added a and b, snapshot 3 removed b and added c; snapshot 4
    // (not current) would add d.
    for (const char* sql :
         {"INSERT INTO lake_tables (name, schema_json, partition_by_json, created_us, "
          "current_snapshot) VALUES ('t', '[]', '[]', 1, 3)",
          "INSERT INTO lake_tables (name, schema_json, partition_by_json, created_us, "
          "current_snapshot) VALUES ('empty', '[]', '[]', 1, 0)",
          "INSERT INTO data_files (table_name, object_key, num_rows, num_bytes, batch_id, "
          "added_snapshot, removed_snapshot) VALUES ('t', 'a', 1, 10, 1, 2, NULL)",
          "INSERT INTO data_files (table_name, object_key, num_rows, num_bytes, batch_id, "
          "added_snapshot, removed_snapshot) VALUES ('t', 'b', 2, 20, 1, 2, 3)",
          "INSERT INTO data_files (table_name, object_key, num_rows, num_bytes, batch_id, "
          "added_snapshot, removed_snapshot) VALUES ('t', 'c', 4, 40, 2, 3, NULL)",
          "INSERT INTO data_files (table_name, object_key, num_rows, num_bytes, batch_id, "
          "added_snapshot, removed_snapshot) VALUES ('t', 'd', 8, 80, 3, 4, NULL)"}) {
      Status st = (*db)->Exec(sql);
      ASSERT_TRUE(st.ok()) << st.ToString();
    }
  }
  auto opened = testing::OpenCatalogOn(old_db, nullptr);  // migrates to the newest version
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  auto t = (*opened)->GetTable("t");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->num_files, 2);
  EXPECT_EQ(t->num_rows, 5);
  EXPECT_EQ(t->total_bytes, 50);
  auto e = (*opened)->GetTable("empty");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->num_files, 0);
  EXPECT_EQ(e->num_rows, 0);
}

TEST_P(CatalogTablesTest, SnapshotIdsIncreasePerTableAcrossTables) {
  int64_t b1 = CommittingBatch();
  CommitRequest req = Commit(b1, {File("a", 1)});
  req.tables.push_back({"totals", Schema({{"n", DataType::Int64(), true}}), {}, {}});
  req.tables.back().files.push_back({"totals", "lake/totals/t0", "staging/t0", "", 1, 8, 0, 0, ""});
  ASSERT_TRUE(cat_->CommitBatch(req).ok());
  int64_t b2 = CommittingBatch();
  ASSERT_TRUE(cat_->CommitBatch(Commit(b2, {File("b", 1)})).ok());
  auto tables = cat_->ListTables();
  ASSERT_TRUE(tables.ok());
  ASSERT_EQ(tables->size(), 2u);
  EXPECT_EQ((*tables)[0].name, "orders");
  EXPECT_EQ((*tables)[1].name, "totals");
  EXPECT_EQ((*tables)[1].num_files, 1);
  auto snaps = *cat_->ListSnapshots("orders");
  EXPECT_LT(snaps[0].id, snaps[1].id);
  EXPECT_NE(snaps[0].id, (*tables)[1].current_snapshot);
  // A snapshot of another table is not a snapshot of this one.
  EXPECT_EQ(cat_->ListFiles("orders", (*tables)[1].current_snapshot).status().code(),
            StatusCode::kNotFound);
}

TEST_P(CatalogTablesTest, EmptyCommitStillCreatesTheTable) {
  int64_t b = CommittingBatch();
  ASSERT_TRUE(cat_->CommitBatch(Commit(b, {})).ok());
  auto t = cat_->GetTable("orders");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->num_files, 0);
  EXPECT_EQ(t->num_rows, 0);
}

TEST_P(CatalogTablesTest, SchemaMismatchIsRefusedAndChangesNothing) {
  int64_t b1 = CommittingBatch();
  ASSERT_TRUE(cat_->CommitBatch(Commit(b1, {File("a", 1)})).ok());
  struct Case {
    const char* name;
    Schema schema;
    std::vector<std::string> partition_by;
    const char* want;  // fragment of the message
  };
  const Case cases[] = {
      {"type",
       Schema({{"order_id", DataType::String(), false},
               {"amount", DataType::Decimal(12, 2), true},
               {"day", DataType::Date(), true}}),
       {"day"},
       "'order_id' is int64 in the table but string in the batch"},
      {"missing",
       Schema({{"order_id", DataType::Int64(), false}, {"day", DataType::Date(), true}}),
       {"day"},
       "'amount' is missing"},
      {"added",
       Schema({{"order_id", DataType::Int64(), false},
               {"amount", DataType::Decimal(12, 2), true},
               {"day", DataType::Date(), true},
               {"extra", DataType::Bool(), true}}),
       {"day"},
       "adds column 'extra'"},
      {"nullability",
       Schema({{"order_id", DataType::Int64(), true},
               {"amount", DataType::Decimal(12, 2), true},
               {"day", DataType::Date(), true}}),
       {"day"},
       "'order_id' is not null in the table but nullable"},
      {"partitioning", OrdersSchema(), {}, "partitioned by [day]"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    int64_t b = CommittingBatch();
    CommitRequest req = Commit(b, {File(std::string("x-") + c.name, 1)});
    req.tables[0].schema = c.schema;
    req.tables[0].partition_by = c.partition_by;
    Status st = cat_->CommitBatch(req);
    EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition) << st.ToString();
    EXPECT_NE(st.message().find("table 'orders'"), std::string::npos) << st.message();
    EXPECT_NE(st.message().find(c.want), std::string::npos) << st.message();
    EXPECT_EQ(cat_->GetBatch(b)->state, S::kCommitting);
    EXPECT_EQ(cat_->ListFiles("orders", 0)->size(), 1u);
    EXPECT_EQ(cat_->PendingPublications()->size(), 1u);
    EXPECT_TRUE(cat_->BatchLineage(b)->empty());
  }
}

TEST_P(CatalogTablesTest, SecondCommitIsAlreadyExistsAndChangesNothing) {
  int64_t b = CommittingBatch();
  ASSERT_TRUE(cat_->CommitBatch(Commit(b, {File("a", 1)})).ok());
  size_t events = cat_->BatchHistory(b)->size();
  Status st = cat_->CommitBatch(Commit(b, {File("other", 7)}));
  EXPECT_EQ(st.code(), StatusCode::kAlreadyExists) << st.ToString();
  EXPECT_EQ(Keys(*cat_->ListFiles("orders", 0)), std::vector<std::string>{"lake/orders/a"});
  EXPECT_EQ(cat_->ListSnapshots("orders")->size(), 1u);
  EXPECT_EQ(cat_->BatchHistory(b)->size(), events);
  EXPECT_EQ(cat_->PendingPublications()->size(), 1u);
}

TEST_P(CatalogTablesTest, StaleAttemptIsAbortedAndWrongStateRefused) {
  int64_t b = CommittingBatch();                                   // attempt 1
  ASSERT_TRUE(testing::MoveBatch(*cat_, b, S::kProcessing).ok());  // attempt 2
  CommitRequest zombie = Commit(b, {File("zombie", 1)});
  zombie.attempt = 1;
  EXPECT_EQ(cat_->CommitBatch(zombie).code(), StatusCode::kAborted);
  CommitRequest early = Commit(b, {File("early", 1)});
  early.attempt = 2;
  // Attempt 2 is still processing, not committing.
  EXPECT_EQ(cat_->CommitBatch(early).code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(testing::MoveBatch(*cat_, b, S::kCommitting, "").ok());
  EXPECT_EQ(cat_->CommitBatch(zombie).code(), StatusCode::kAborted);
  ASSERT_TRUE(cat_->CommitBatch(early).ok());
  EXPECT_EQ(Keys(*cat_->ListFiles("orders", 0)), std::vector<std::string>{"lake/orders/early"});
  EXPECT_EQ(cat_->CommitBatch(Commit(999, {})).code(), StatusCode::kNotFound);
}

// A batch that loaded nothing outside the catalog commits straight from
// processing; still fenced by the attempt, and only from processing.
TEST_P(CatalogTablesTest, CommitFromProcessingWhenNothingWasLoadedOutside) {
  int64_t b = CommittingBatch();                                   // attempt 1
  ASSERT_TRUE(testing::MoveBatch(*cat_, b, S::kProcessing).ok());  // attempt 2
  CommitRequest zombie = Commit(b, {File("zombie", 1)});
  zombie.attempt = 1;
  zombie.from_processing = true;
  EXPECT_EQ(cat_->CommitBatch(zombie).code(), StatusCode::kAborted);
  CommitRequest direct = Commit(b, {File("direct", 1)});
  direct.attempt = 2;
  direct.from_processing = true;
  Status st = cat_->CommitBatch(direct);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(cat_->GetBatch(b)->state, S::kCommitted);
  EXPECT_EQ(Keys(*cat_->ListFiles("orders", 0)), std::vector<std::string>{"lake/orders/direct"});
  EXPECT_EQ(cat_->BatchHistory(b)->back().state, S::kCommitted);
  // Not from another state: a queued batch has no attempt running.
  auto r = cat_->RegisterBatch({"orders", "landing/orders/q.csv", "", "sha-q", 5, ""});
  ASSERT_TRUE(r.ok());
  const int64_t q = r->batch_id;
  ASSERT_TRUE(testing::MoveBatch(*cat_, q, S::kQueued, "").ok());
  CommitRequest queued = Commit(q, {File("queued", 1)});
  queued.from_processing = true;
  EXPECT_NE(cat_->CommitBatch(queued).code(), StatusCode::kOk);
  EXPECT_EQ(cat_->GetBatch(q)->state, S::kQueued);
}

DeliveryRequest ToLoad(const std::string& output, const std::string& target, const std::string& key,
                       int64_t rows, int64_t bytes) {
  DeliveryRequest d;
  d.output = output;
  d.target = target;
  d.key = key;
  d.rows = rows;
  d.bytes = bytes;
  return d;
}

// Database outputs: the commit records their deliveries pending; loaders move
// them through loading to delivered or failed.
TEST_P(CatalogTablesTest, DeliveriesAreRecordedByTheCommitAndWorkedByLoaders) {
  int64_t b = CommittingBatch();
  CommitRequest req = Commit(b, {File("d1", 3)});
  req.deliveries.push_back(
      ToLoad("postgres:orders", "postgres:host=db#orders", "deliveries/a", 3, 300));
  req.deliveries.push_back(
      ToLoad("postgres:audit", "postgres:host=db#audit", "deliveries/b", 2, 90));
  clock_.Advance(1000);
  ASSERT_TRUE(cat_->CommitBatch(req).ok());
  auto ds = cat_->BatchDeliveries(b);
  ASSERT_TRUE(ds.ok()) << ds.status().ToString();
  ASSERT_EQ(ds->size(), 2u);
  const Delivery& orders = (*ds)[1];  // by output name
  EXPECT_EQ(orders.output, "postgres:orders");
  EXPECT_EQ(orders.target, "postgres:host=db#orders");
  EXPECT_EQ(orders.key, "deliveries/a");
  EXPECT_EQ(orders.attempt, 1);
  EXPECT_EQ(orders.rows, 3);
  EXPECT_EQ(orders.bytes, 300);
  EXPECT_EQ(orders.state, DeliveryState::kPending);
  EXPECT_EQ(orders.tries, 0);

  auto backlog = cat_->DeliveryBacklogs();
  ASSERT_TRUE(backlog.ok()) << backlog.status().ToString();
  ASSERT_EQ(backlog->size(), 2u);
  EXPECT_EQ((*backlog)[1].output, "postgres:orders");
  EXPECT_EQ((*backlog)[1].deliveries, 1);
  EXPECT_EQ((*backlog)[1].rows, 3);
  EXPECT_EQ((*backlog)[1].bytes, 300);
  EXPECT_EQ((*backlog)[1].oldest_pending_us, orders.created_us);

  // A transient failure: pending again, the error kept; then delivered.
  auto started = cat_->StartDelivery(b, "postgres:orders");
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  EXPECT_EQ(started->state, DeliveryState::kLoading);
  EXPECT_EQ(started->tries, 1);
  EXPECT_EQ((*cat_->DeliveryBacklogs())[1].oldest_pending_us, 0);  // loading, not pending
  ASSERT_TRUE(
      cat_->EndDelivery(b, "postgres:orders", 1, DeliveryState::kPending, "57P01 restart").ok());
  EXPECT_EQ(cat_->BatchDeliveries(b)->at(1).last_error, "57P01 restart");
  ASSERT_TRUE(cat_->StartDelivery(b, "postgres:orders").ok());
  EXPECT_EQ(cat_->EndDelivery(b, "postgres:orders", 2, DeliveryState::kDelivered, "").code(),
            StatusCode::kAborted);  // not this attempt's rows
  EXPECT_EQ(cat_->EndDelivery(b, "postgres:orders", 1, DeliveryState::kLoading, "").code(),
            StatusCode::kInvalidArgument);
  ASSERT_TRUE(cat_->EndDelivery(b, "postgres:orders", 1, DeliveryState::kDelivered, "").ok());
  // A second loader of the delivery (its lease lapsed mid-load) that found
  // the staged rows gone cannot undo the first one's success.
  EXPECT_EQ(cat_->EndDelivery(b, "postgres:orders", 1, DeliveryState::kPending, "not there").code(),
            StatusCode::kAborted);
  EXPECT_EQ(cat_->EndDelivery(b, "postgres:orders", 1, DeliveryState::kFailed, "no").code(),
            StatusCode::kAborted);
  EXPECT_TRUE(cat_->EndDelivery(b, "postgres:orders", 1, DeliveryState::kDelivered, "").ok());
  Delivery done = cat_->BatchDeliveries(b)->at(1);
  EXPECT_EQ(done.state, DeliveryState::kDelivered);
  EXPECT_EQ(done.tries, 2);
  EXPECT_EQ(done.last_error, "");
  EXPECT_EQ(cat_->StartDelivery(b, "postgres:orders").status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(cat_->StartDelivery(b, "postgres:nowhere").status().code(), StatusCode::kNotFound);
  // A permanent failure stays in the backlog, counted as failed.
  ASSERT_TRUE(cat_->StartDelivery(b, "postgres:audit").ok());
  ASSERT_TRUE(
      cat_->EndDelivery(b, "postgres:audit", 1, DeliveryState::kFailed, "23505 duplicate key")
          .ok());
  backlog = cat_->DeliveryBacklogs();
  ASSERT_EQ(backlog->size(), 1u);
  EXPECT_EQ((*backlog)[0].output, "postgres:audit");
  EXPECT_EQ((*backlog)[0].failed, 1);
}

// A loader on another host needs the output's spec and the rows' schema from
// the catalog alone; reconciliation finds what is unfinished; a failed
// delivery is retried by `replay` only.
TEST_P(CatalogTablesTest, DeliveriesCarryTheirSpecAndFailedOnesWaitForAReplay) {
  int64_t b = CommittingBatch();
  CommitRequest req = Commit(b, {File("s1", 2)});
  DeliveryRequest d = ToLoad("postgres:orders", "postgres:host=db#orders", "deliveries/s", 2, 80);
  d.args = R"({"dsn":"${ORDERS_PG}","table":"orders"})";
  d.schema = Schema({{"id", DataType::Int64(), false}, {"note", DataType::String(), true}});
  d.pipeline_version_id = 7;
  req.deliveries.push_back(d);
  ASSERT_TRUE(cat_->CommitBatch(req).ok());
  Delivery got = cat_->BatchDeliveries(b)->at(0);
  EXPECT_EQ(got.args, d.args);
  EXPECT_EQ(got.schema, d.schema);
  EXPECT_EQ(got.pipeline_version_id, 7);
  EXPECT_EQ(got.pipeline, cat_->GetBatch(b)->pipeline);

  auto unfinished = cat_->UnfinishedDeliveries(10);
  ASSERT_TRUE(unfinished.ok()) << unfinished.status().ToString();
  ASSERT_EQ(unfinished->size(), 1u);
  EXPECT_EQ((*unfinished)[0].batch_id, b);
  EXPECT_EQ(cat_->RetryDelivery(b, "postgres:orders").code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(cat_->StartDelivery(b, "postgres:orders").ok());
  EXPECT_EQ(cat_->UnfinishedDeliveries(10)->size(), 1u);  // loading
  ASSERT_TRUE(cat_->EndDelivery(b, "postgres:orders", 1, DeliveryState::kFailed, "22003").ok());
  EXPECT_TRUE(cat_->UnfinishedDeliveries(10)->empty());  // failed: waits for a replay
  ASSERT_TRUE(cat_->RetryDelivery(b, "postgres:orders").ok());
  got = cat_->BatchDeliveries(b)->at(0);
  EXPECT_EQ(got.state, DeliveryState::kPending);
  EXPECT_EQ(got.tries, 0);
  EXPECT_EQ(got.last_error, "22003");  // kept until a load ends
  EXPECT_EQ(cat_->UnfinishedDeliveries(10)->size(), 1u);
  EXPECT_EQ(cat_->RetryDelivery(b, "postgres:nowhere").code(), StatusCode::kNotFound);
}

TEST_P(CatalogTablesTest, AnOutputDeliveredTwiceFailsTheWholeCommit) {
  int64_t b = CommittingBatch();
  CommitRequest req = Commit(b, {File("x", 1)});
  req.deliveries.push_back(ToLoad("postgres:orders", "t", "deliveries/a", 1, 10));
  req.deliveries.push_back(ToLoad("postgres:orders", "t", "deliveries/b", 1, 10));
  EXPECT_EQ(cat_->CommitBatch(req).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(cat_->GetBatch(b)->state, S::kCommitting);
  EXPECT_TRUE(cat_->BatchDeliveries(b)->empty());
  EXPECT_EQ(cat_->GetTable("orders").status().code(), StatusCode::kNotFound);
}

// A replay's commit replaces the batch's deliveries with its own attempt's;
// one that ends quarantined leaves none.
TEST_P(CatalogTablesTest, AReplaysCommitReplacesTheDeliveries) {
  int64_t b = CommittingBatch();
  CommitRequest first = Commit(b, {File("r1", 1)});
  first.deliveries.push_back(ToLoad("postgres:orders", "t", "deliveries/a1", 1, 10));
  first.deliveries.push_back(ToLoad("postgres:old", "t", "deliveries/o1", 1, 10));
  ASSERT_TRUE(cat_->CommitBatch(first).ok());
  const std::vector<Publication> pending = *cat_->PendingPublications();
  for (const Publication& p : pending) ASSERT_TRUE(cat_->MarkPublished(p.staging_key).ok());
  ASSERT_TRUE(cat_->ReplayBatch(b, 0).ok());
  for (S to : {S::kProcessing, S::kCommitting}) ASSERT_TRUE(testing::MoveBatch(*cat_, b, to).ok());
  CommitRequest second = Commit(b, {File("r2", 2)});
  second.attempt = 2;
  second.deliveries.push_back(ToLoad("postgres:orders", "t", "deliveries/a2", 2, 20));
  ASSERT_TRUE(cat_->CommitBatch(second).ok());
  auto ds = *cat_->BatchDeliveries(b);
  ASSERT_EQ(ds.size(), 1u);
  EXPECT_EQ(ds[0].key, "deliveries/a2");
  EXPECT_EQ(ds[0].attempt, 2);
  EXPECT_EQ(ds[0].state, DeliveryState::kPending);

  int64_t q = CommittingBatch();
  CommitRequest quarantined = Commit(q, {});
  quarantined.final_state = S::kQuarantined;
  quarantined.reason = "too many bad records";
  quarantined.tables.clear();
  quarantined.deliveries.push_back(ToLoad("postgres:orders", "t", "deliveries/q", 1, 10));
  ASSERT_TRUE(cat_->CommitBatch(quarantined).ok());
  EXPECT_TRUE(cat_->BatchDeliveries(q)->empty());
}

TEST_P(CatalogTablesTest, InvalidFinalStateIsRejected) {
  int64_t b = CommittingBatch();
  CommitRequest req = Commit(b, {});
  req.final_state = S::kFailed;
  EXPECT_EQ(cat_->CommitBatch(req).code(), StatusCode::kInvalidArgument);
}

TEST_P(CatalogTablesTest, QuarantineCommitRecordsReasonAndPublications) {
  int64_t b = CommittingBatch();
  CommitRequest req;
  req.batch_id = b;
  req.attempt = 1;
  req.final_state = S::kQuarantined;
  req.reason = "bad ratio 0.4 > 0.01";
  req.stats.rows_read = 10;
  req.stats.rows_quarantined = 4;
  req.extra_publications.push_back({"staging/q/bad.ndjson", "quarantine/orders/bad.ndjson"});
  ASSERT_TRUE(cat_->CommitBatch(req).ok());
  auto batch = cat_->GetBatch(b);
  EXPECT_EQ(batch->state, S::kQuarantined);
  EXPECT_EQ(batch->reason, "bad ratio 0.4 > 0.01");
  EXPECT_EQ(batch->stats.rows_quarantined, 4);
  EXPECT_EQ(cat_->BatchHistory(b)->back().reason, "bad ratio 0.4 > 0.01");
  auto pubs = cat_->PendingPublications();
  ASSERT_EQ(pubs->size(), 1u);
  EXPECT_EQ((*pubs)[0].staging_key, "staging/q/bad.ndjson");
  EXPECT_EQ((*pubs)[0].final_key, "quarantine/orders/bad.ndjson");
  EXPECT_EQ(cat_->ListTables()->size(), 0u);
}

TEST_P(CatalogTablesTest, PublicationsAreARedoLog) {
  int64_t b = CommittingBatch();
  CommitRequest req = Commit(b, {File("a", 1), File("b", 1)});
  req.tables[0].files[1].staging_key = "";  // written in place: nothing to publish
  req.extra_publications.push_back({"staging/q", "quarantine/q"});
  ASSERT_TRUE(cat_->CommitBatch(req).ok());
  auto pubs = cat_->PendingPublications();
  ASSERT_TRUE(pubs.ok());
  std::set<std::pair<std::string, std::string>> got;
  for (const auto& p : *pubs) got.insert({p.staging_key, p.final_key});
  EXPECT_EQ(got, (std::set<std::pair<std::string, std::string>>{{"staging/a", "lake/orders/a"},
                                                                {"staging/q", "quarantine/q"}}));
  ASSERT_TRUE(cat_->MarkPublished("staging/a").ok());
  ASSERT_TRUE(cat_->MarkPublished("staging/a").ok());  // idempotent
  EXPECT_EQ(cat_->MarkPublished("staging/unknown").code(), StatusCode::kNotFound);
  pubs = cat_->PendingPublications();
  ASSERT_EQ(pubs->size(), 1u);
  EXPECT_EQ((*pubs)[0].staging_key, "staging/q");
  // Several at once: all or none.
  EXPECT_EQ(cat_->MarkPublishedAll({"staging/q", "staging/unknown"}).code(), StatusCode::kNotFound);
  EXPECT_EQ(cat_->PendingPublications()->size(), 1u);
  ASSERT_TRUE(cat_->MarkPublishedAll({"staging/q", "staging/a"}).ok());
  EXPECT_TRUE(cat_->PendingPublications()->empty());
  EXPECT_TRUE(cat_->MarkPublishedAll({}).ok());
}

// Issue 9: a replay of a committed batch must replace its files in one step
// visible to readers. Its files stay current while it is reprocessed; the
// replay's commit removes them and adds the new ones in one snapshot, and
// records their retirement out of lake/.
TEST_P(CatalogTablesTest, ReplayOfACommittedBatchReplacesItsFilesInOneSnapshot) {
  int64_t keep = CommittingBatch();
  ASSERT_TRUE(cat_->CommitBatch(Commit(keep, {File("keep", 2)})).ok());
  int64_t b = CommittingBatch();
  ASSERT_TRUE(cat_->CommitBatch(Commit(b, {File("b1", 3), File("b2", 4)})).ok());
  const std::vector<Publication> first = *cat_->PendingPublications();
  for (const Publication& p : first) {
    Status st = cat_->MarkPublished(p.staging_key);
    ASSERT_TRUE(st.ok()) << st.ToString();
  }
  int64_t before = cat_->GetTable("orders")->current_snapshot;

  auto v2 = cat_->DeployPipeline("orders", "spec v2", "orders.yaml");
  ASSERT_TRUE(v2.ok());
  ASSERT_TRUE(cat_->ReplayBatch(b, v2->id).ok());

  auto batch = cat_->GetBatch(b);
  EXPECT_EQ(batch->state, S::kQueued);
  // attempts keep counting across replays, so staging paths of a replay never reuse an old attempt.
  EXPECT_EQ(batch->attempts, 1);
  EXPECT_EQ(batch->pipeline_version_id, v2->id);
  EXPECT_EQ(batch->stats.rows_written, 0);
  EXPECT_NE(cat_->BatchHistory(b)->back().reason.find("replay from committed"), std::string::npos);
  // While it is reprocessed, readers still see the batch's files: no gap.
  EXPECT_EQ(cat_->GetTable("orders")->current_snapshot, before);
  EXPECT_EQ(cat_->GetTable("orders")->num_rows, 9);

  // The replayed batch runs again and commits new files.
  for (S to : {S::kProcessing, S::kCommitting})
    ASSERT_TRUE(testing::MoveBatch(*cat_, b, to, "").ok());
  CommitRequest retry = Commit(b, {File("b1-retry", 7)});
  retry.attempt = cat_->GetBatch(b)->attempts;
  EXPECT_EQ(retry.attempt, 2);
  ASSERT_TRUE(cat_->CommitBatch(retry).ok());
  EXPECT_EQ(Keys(*cat_->ListFiles("orders", 0)),
            (std::vector<std::string>{"lake/orders/keep", "lake/orders/b1-retry"}));
  auto snaps = *cat_->ListSnapshots("orders");
  ASSERT_EQ(snaps.size(), 3u);  // keep, b, and the one replace of b
  // The table's counts are kept with it: the replace took out b1 and b2.
  EXPECT_EQ(cat_->GetTable("orders")->num_rows, 9);
  EXPECT_EQ(cat_->GetTable("orders")->num_files, 2);
  EXPECT_EQ(cat_->GetTable("orders")->total_bytes, 90);
  EXPECT_EQ(cat_->BatchLineage(b)->size(), 1u);
  EXPECT_EQ(cat_->BatchLineage(b)->at(0).pipeline_version_id, v2->id);

  // The old files are to be moved out of lake/, retirements before the new
  // files' publication (a directory reader may miss the batch for a moment,
  // never see it twice); time travel then finds them at their new keys.
  auto pending = *cat_->PendingPublications();
  ASSERT_EQ(pending.size(), 3u);
  EXPECT_TRUE(pending[0].retire);
  EXPECT_TRUE(pending[1].retire);
  EXPECT_FALSE(pending[2].retire);
  std::set<std::string> retired = {pending[0].staging_key, pending[1].staging_key};
  EXPECT_EQ(retired, (std::set<std::string>{"lake/orders/b1", "lake/orders/b2"}));
  EXPECT_EQ(pending[0].final_key, "retired/" + pending[0].staging_key);
  for (const Publication& p : pending) ASSERT_TRUE(cat_->MarkPublished(p.staging_key).ok());
  EXPECT_EQ(Keys(*cat_->ListFiles("orders", before)),
            (std::vector<std::string>{"lake/orders/keep", "retired/lake/orders/b1",
                                      "retired/lake/orders/b2"}));
}

// A replay that ends quarantined removes the batch's earlier files.
TEST_P(CatalogTablesTest, ReplayEndingQuarantinedRemovesTheEarlierFiles) {
  int64_t b = CommittingBatch();
  ASSERT_TRUE(cat_->CommitBatch(Commit(b, {File("b1", 3)})).ok());
  // Not before its files are published: the replay's attempt would remove
  // their staged copies.
  Status early = cat_->ReplayBatch(b, 0);
  EXPECT_EQ(early.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(early.message().find("1 of its files are still to be published"), std::string::npos)
      << early.message();
  const std::vector<Publication> pending = *cat_->PendingPublications();
  for (const Publication& p : pending) ASSERT_TRUE(cat_->MarkPublished(p.staging_key).ok());
  ASSERT_TRUE(cat_->ReplayBatch(b, 0).ok());
  ASSERT_TRUE(testing::MoveBatch(*cat_, b, S::kProcessing).ok());
  ASSERT_TRUE(testing::MoveBatch(*cat_, b, S::kQuarantined, "now it is bad").ok());
  EXPECT_TRUE(cat_->ListFiles("orders", 0)->empty());
  EXPECT_EQ(cat_->ListSnapshots("orders")->back().added_files, 0);
  auto t = cat_->GetTable("orders");
  EXPECT_EQ(t->num_files, 0);
  EXPECT_EQ(t->num_rows, 0);
  EXPECT_EQ(t->total_bytes, 0);
}

TEST_P(CatalogTablesTest, ReplayOfFailedAndQuarantinedBatches) {
  int64_t failed = CommittingBatch();
  ASSERT_TRUE(testing::MoveBatch(*cat_, failed, S::kFailed, "boom").ok());
  ASSERT_TRUE(cat_->ReplayBatch(failed, 0).ok());
  EXPECT_EQ(cat_->GetBatch(failed)->state, S::kQueued);
  EXPECT_EQ(cat_->GetBatch(failed)->reason, "");
  EXPECT_EQ(cat_->GetBatch(failed)->pipeline_version_id, v1_);

  int64_t q = CommittingBatch();
  ASSERT_TRUE(testing::MoveBatch(*cat_, q, S::kQuarantined, "bad").ok());
  ASSERT_TRUE(cat_->ReplayBatch(q, 0).ok());
  EXPECT_EQ(cat_->GetBatch(q)->state, S::kQueued);
}

TEST_P(CatalogTablesTest, ReplayPreconditions) {
  int64_t b = CommittingBatch();
  Status st = cat_->ReplayBatch(b, 0);
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition) << st.ToString();
  EXPECT_EQ(cat_->ReplayBatch(999, 0).code(), StatusCode::kNotFound);
  ASSERT_TRUE(testing::MoveBatch(*cat_, b, S::kFailed, "x").ok());
  auto other = cat_->DeployPipeline("other", "spec", "other.yaml");
  EXPECT_EQ(cat_->ReplayBatch(b, other->id).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(cat_->ReplayBatch(b, 12345).code(), StatusCode::kNotFound);
  EXPECT_EQ(cat_->GetBatch(b)->state, S::kFailed);
}

TEST_P(CatalogTablesTest, UnknownTablesAreNotFound) {
  EXPECT_EQ(cat_->GetTable("nope").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(cat_->ListFiles("nope", 0).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(cat_->ListSnapshots("nope").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(cat_->ListTables()->empty());
}

INSTANTIATE_TEST_SUITE_P(Backends, CatalogTablesTest, testing::AllBackends(), testing::BackendName);

}  // namespace
}  // namespace sluice
