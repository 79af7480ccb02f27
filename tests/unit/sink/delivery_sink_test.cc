// The delivery sink of a postgres output stages a batch's rows as a compressed binary COPY stream
// in the store; a loader reads that object back into a real PostgreSQL.
#include "sink/delivery_sink.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "../sql/test_database.h"
#include "format/compression.h"
#include "sink/pg_loader.h"
#include "sink_test_util.h"

namespace sluice {
namespace {

using ::testing::HasSubstr;
using testing::SqlBackend;
using ::testing::StartsWith;
using testing::TempDir;
using testing::TestDatabase;

Schema SinkOrders() {
  return Schema({{"id", DataType::Int64(), false}, {"note", DataType::String(), true}});
}

RecordBatch SinkRows(int64_t from, int64_t n) {
  RecordBatch b = RecordBatch::Empty(SinkOrders());
  for (int64_t i = from; i < from + n; ++i) {
    b.columns[0].Append<int64_t>(i);
    b.columns[1].AppendString("note " + std::to_string(i));
  }
  return b;
}

class DeliverySinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = NewLocalObjectStore(dir_.path());
    auto o = ParsePostgresOutputOptions(
        nlohmann::json::parse(R"({"dsn": "postgresql://loader:pw@db/app", "table": "orders"})"),
        "p.yaml:7");
    ASSERT_TRUE(o.ok()) << o.status().ToString();
    options_ = *o;
  }

  SinkContext Context(int64_t batch, int attempt) {
    SinkContext ctx;
    ctx.pipeline = "orders";
    ctx.batch_id = batch;
    ctx.attempt = attempt;
    ctx.schema = SinkOrders();
    ctx.store = store_.get();
    return ctx;
  }

  TempDir dir_;
  std::unique_ptr<ObjectStore> store_;
  PostgresOutputOptions options_;

  std::unique_ptr<sluice::Sink> Sink(
      const std::string& args = R"({"dsn": "postgresql://loader:pw@db/app", "table": "orders"})") {
    auto output = NewPostgresDatabaseOutput(nlohmann::json::parse(args), "p.yaml:7");
    EXPECT_TRUE(output.ok()) << output.status().ToString();
    return NewDeliverySink(std::move(*output), args);
  }
};

TEST_F(DeliverySinkTest, StagesTheRowsForALoaderThatReadsThemBack) {
  auto sink = Sink();
  ASSERT_TRUE(sink->Open(Context(12, 2)).ok());
  ASSERT_TRUE(sink->Write(SinkRows(1, 3000)).ok());
  ASSERT_TRUE(sink->Write(SinkRows(3001, 2000)).ok());
  auto staged = sink->Finish();
  ASSERT_TRUE(staged.ok()) << staged.status().ToString();
  ASSERT_TRUE(staged->delivery.has_value());
  EXPECT_FALSE(staged->table.has_value());
  const StagedDelivery& d = *staged->delivery;
  EXPECT_EQ(d.request.output, "postgres:postgresql://loader:***@db/app#orders");
  EXPECT_EQ(d.request.rows, 5000);
  EXPECT_THAT(d.staging_key, StartsWith("staging/12/a2/postgres/orders-"));
  EXPECT_THAT(d.request.key, StartsWith("deliveries/orders/orders-"));
  EXPECT_THAT(d.request.key, HasSubstr("/b12-a2.pgcopy.zst"));
  auto info = store_->Stat(d.staging_key);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(d.request.bytes, info->size);
  EXPECT_FALSE(sink->LoadsOutsideCatalog());
  EXPECT_TRUE(sink->Load().ok());

  // A loader elsewhere: the object, decompressed and streamed into COPY.
  TestDatabase tdb(SqlBackend::kPostgres);
  auto db = PgDb::Open(tdb.location());
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  ASSERT_TRUE(PreparePostgresTable(**db, options_, SinkOrders()).ok());
  auto raw = store_->OpenRead(d.staging_key);
  ASSERT_TRUE(raw.ok());
  auto in = OpenDecompressed(std::move(raw).value());
  ASSERT_TRUE(in.ok());
  LoadRequest req;
  req.output_id = d.request.output;
  req.batch_id = 12;
  req.attempt = 2;
  req.schema = SinkOrders();
  req.next = [&](std::string& chunk) -> Result<bool> {
    chunk.resize(64 << 10);
    ASSIGN_OR_RETURN(size_t n, (*in)->Read(chunk.data(), chunk.size()));
    chunk.resize(n);
    return n > 0;
  };
  auto loaded = LoadIntoPostgres(**db, options_, req);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->rows, 5000);
  EXPECT_EQ(testing::QueryText(
                **db, "SELECT count(*), sum(id), max(_sluice_batch_id), min(note) FROM orders"),
            std::vector<std::string>{"5000|12502500|12|note 1"});
}

TEST_F(DeliverySinkTest, DiscardLeavesNothingAndARerunStartsClean) {
  auto first = Sink();
  ASSERT_TRUE(first->Open(Context(5, 1)).ok());
  ASSERT_TRUE(first->Write(SinkRows(1, 10)).ok());
  first->Discard();
  auto left = store_->List("staging/5/");
  ASSERT_TRUE(left.ok());
  EXPECT_TRUE(left->empty());
  // The same attempt run again after a crash (its stream never closed).
  auto crashed = Sink();
  ASSERT_TRUE(crashed->Open(Context(5, 1)).ok());
  ASSERT_TRUE(crashed->Write(SinkRows(1, 10)).ok());
  auto rerun = Sink();
  ASSERT_TRUE(rerun->Open(Context(5, 1)).ok());
  ASSERT_TRUE(rerun->Write(SinkRows(1, 4)).ok());
  auto staged = rerun->Finish();
  ASSERT_TRUE(staged.ok()) << staged.status().ToString();
  EXPECT_EQ(staged->delivery->request.rows, 4);
  crashed->Discard();  // the crashed run's stream, never closed, writes nothing more
}

TEST_F(DeliverySinkTest, RowsThatCannotLoadAreRefusedAtOpen) {
  auto sink = Sink(R"({"dsn": "host=db", "table": "t", "mode": "upsert", "key": ["missing"]})");
  Status st = sink->Open(Context(1, 1));
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(st.message(), HasSubstr("key column 'missing'"));
}

}  // namespace
}  // namespace sluice
