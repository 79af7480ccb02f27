#include "sink/lake_sink.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/hash.h"

#include <map>

#include "core/value_text.h"
#include "sink_test_util.h"

namespace sluice {
namespace {

using ::sluice::testing::FixedColumn;
using ::sluice::testing::MakeBatch;
using ::sluice::testing::ReadObject;
using ::sluice::testing::StringColumn;
using ::sluice::testing::TempDir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class LakeSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    store_ = NewLocalObjectStore(dir_.path() + "/store");
  }

  SinkContext Context(const Schema& schema, int64_t batch = 7, int attempt = 2) {
    SinkContext ctx;
    ctx.pipeline = "orders";
    ctx.batch_id = batch;
    ctx.attempt = attempt;
    ctx.pipeline_version_id = 3;
    ctx.schema = schema;
    ctx.store = store_.get();
    ctx.project_dir = dir_.path();
    return ctx;
  }

  static LakeSinkOptions Options(std::string table, std::vector<std::string> partition_by = {}) {
    LakeSinkOptions o;
    o.table = std::move(table);
    o.partition_by = std::move(partition_by);
    o.where = "pipes/orders.yaml:12";
    return o;
  }

  // Every staged file must be a complete Parquet file of the size reported.
  void ExpectParquetFiles(const TableCommit& commit) {
    for (const DataFile& f : commit.files) {
      std::string bytes = ReadObject(*store_, f.staging_key);
      ASSERT_GE(bytes.size(), 12u) << f.staging_key << ": " << bytes;
      EXPECT_EQ(bytes.substr(0, 4), "PAR1") << f.staging_key;
      EXPECT_EQ(bytes.substr(bytes.size() - 4), "PAR1") << f.staging_key;
      EXPECT_EQ(static_cast<int64_t>(bytes.size()), f.bytes) << f.staging_key;
      EXPECT_GT(f.rows, 0) << f.staging_key;
      EXPECT_EQ(f.table, commit.table);
      EXPECT_EQ(f.batch_id, 7);
    }
  }

  static int64_t TotalRows(const TableCommit& commit) {
    int64_t n = 0;
    for (const DataFile& f : commit.files) n += f.rows;
    return n;
  }

  TempDir dir_;
  std::unique_ptr<ObjectStore> store_;
};

Schema OrdersSchema() {
  return Schema({{"id", DataType::Int64(), false}, {"cur", DataType::String()}});
}

RecordBatch Orders(std::vector<std::optional<int64_t>> ids,
                   std::vector<std::optional<std::string>> curs) {
  return MakeBatch(OrdersSchema(),
                   {FixedColumn<int64_t>(DataType::Int64(), ids), StringColumn(curs)});
}

TEST_F(LakeSinkTest, UnpartitionedWritesOneFile) {
  auto sink = NewLakeSink(Options("orders"));
  EXPECT_EQ(sink->Describe(), "table:orders");
  ASSERT_TRUE(sink->Open(Context(OrdersSchema())).ok());
  ASSERT_TRUE(sink->Write(Orders({1, 2, 3}, {"EUR", "USD", std::nullopt})).ok());
  ASSERT_TRUE(sink->Write(Orders({4, 5}, {"EUR", "EUR"})).ok());
  EXPECT_TRUE(sink->HealthCheck().ok());
  auto out = sink->Finish();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_TRUE(out->table.has_value());
  EXPECT_FALSE(out->lineage.has_value());
  const TableCommit& commit = *out->table;
  EXPECT_EQ(commit.table, "orders");
  EXPECT_EQ(commit.schema, OrdersSchema());
  EXPECT_THAT(commit.partition_by, IsEmpty());
  ASSERT_EQ(commit.files.size(), 1u);
  EXPECT_EQ(commit.files[0].staging_key, "staging/7/a2/orders/part-00000.parquet");
  EXPECT_EQ(commit.files[0].key, "lake/orders/part-b7-a2-00000.parquet");
  EXPECT_EQ(commit.files[0].partition, "");
  EXPECT_EQ(commit.files[0].rows, 5);
  ExpectParquetFiles(commit);
  // Nothing is published by the sink itself.
  EXPECT_THAT(*store_->List("lake/"), IsEmpty());
  EXPECT_TRUE(sink->Load().ok());
  EXPECT_THAT(*store_->List("lake/"), IsEmpty());
}

TEST_F(LakeSinkTest, FileCarriesSluiceMetadata) {
  auto sink = NewLakeSink(Options("orders"));
  ASSERT_TRUE(sink->Open(Context(OrdersSchema())).ok());
  ASSERT_TRUE(sink->Write(Orders({1}, {"EUR"})).ok());
  auto out = sink->Finish();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  // Key/value metadata is stored uncompressed in the footer.
  std::string bytes = ReadObject(*store_, out->table->files[0].staging_key);
  EXPECT_THAT(bytes, HasSubstr("sluice.schema"));
  EXPECT_THAT(bytes, HasSubstr(OrdersSchema().ToJson()));
  EXPECT_THAT(bytes, HasSubstr("sluice.batch_id"));
  EXPECT_THAT(bytes, HasSubstr("sluice.pipeline"));
  EXPECT_THAT(bytes, HasSubstr("sluice.pipeline_version"));
}

TEST_F(LakeSinkTest, EmptyBatchWritesNoFiles) {
  auto sink = NewLakeSink(Options("orders", {"cur"}));
  ASSERT_TRUE(sink->Open(Context(OrdersSchema())).ok());
  ASSERT_TRUE(sink->Write(RecordBatch::Empty(OrdersSchema())).ok());
  auto out = sink->Finish();
  ASSERT_TRUE(out.ok());
  EXPECT_THAT(out->table->files, IsEmpty());
  EXPECT_THAT(out->table->partition_by, ElementsAre("cur"));
}

TEST_F(LakeSinkTest, PartitionsWithSpecialValuesAndNull) {
  auto sink = NewLakeSink(Options("orders", {"cur"}));
  ASSERT_TRUE(sink->Open(Context(OrdersSchema())).ok());
  ASSERT_TRUE(
      sink->Write(Orders({1, 2, 3, 4, 5, 6}, {"a/b", "x=y", "100%", std::nullopt, "a/b", "EUR"}))
          .ok());
  ASSERT_TRUE(sink->Write(Orders({7, 8}, {std::nullopt, "x=y"})).ok());
  auto out = sink->Finish();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  std::map<std::string, const DataFile*> by_partition;
  for (const DataFile& f : out->table->files) by_partition[f.partition] = &f;
  ASSERT_EQ(by_partition.size(), 5u);
  struct Want {
    std::string partition;
    int64_t rows;
  };
  const Want wants[] = {{"cur=a%2Fb", 2},
                        {"cur=x%3Dy", 2},
                        {"cur=100%25", 1},
                        {"cur=__HIVE_DEFAULT_PARTITION__", 2},
                        {"cur=EUR", 1}};
  for (const Want& w : wants) {
    ASSERT_TRUE(by_partition.count(w.partition)) << w.partition;
    const DataFile& f = *by_partition[w.partition];
    EXPECT_EQ(f.rows, w.rows) << w.partition;
    EXPECT_THAT(f.staging_key, ::testing::StartsWith("staging/7/a2/orders/" + w.partition + "/"));
    EXPECT_THAT(f.key, ::testing::StartsWith("lake/orders/" + w.partition + "/part-b7-a2-"));
  }
  // Part numbers follow first appearance.
  EXPECT_EQ(by_partition["cur=a%2Fb"]->key, "lake/orders/cur=a%2Fb/part-b7-a2-00000.parquet");
  EXPECT_EQ(by_partition["cur=EUR"]->key, "lake/orders/cur=EUR/part-b7-a2-00004.parquet");
  EXPECT_EQ(TotalRows(*out->table), 8);
  ExpectParquetFiles(*out->table);
  // Files are listed in part order.
  for (size_t i = 1; i < out->table->files.size(); ++i) {
    EXPECT_LT(out->table->files[i - 1].key.substr(out->table->files[i - 1].key.size() - 13),
              out->table->files[i].key.substr(out->table->files[i].key.size() - 13));
  }
}

TEST_F(LakeSinkTest, PartitionsByDateTimestampDecimal) {
  Schema schema({{"day", DataType::Date()},
                 {"ts", DataType::Timestamp()},
                 {"amount", DataType::Decimal(12, 2)},
                 {"flag", DataType::Bool()},
                 {"v", DataType::Int32()}});
  int64_t ts = 0;
  ASSERT_TRUE(ParseTimestamp("2024-01-02T03:04:05Z", &ts));
  int32_t day = DaysFromCivil(2024, 1, 2);
  RecordBatch b =
      MakeBatch(schema, {FixedColumn<int32_t>(DataType::Date(), {day, day, std::nullopt}),
                         FixedColumn<int64_t>(DataType::Timestamp(), {ts, ts, ts}),
                         FixedColumn<int64_t>(DataType::Decimal(12, 2), {-1250, -1250, 5}),
                         FixedColumn<uint8_t>(DataType::Bool(), {1, 1, 0}),
                         FixedColumn<int32_t>(DataType::Int32(), {1, 2, 3})});
  auto sink = NewLakeSink(Options("events", {"day", "ts", "amount", "flag"}));
  ASSERT_TRUE(sink->Open(Context(schema)).ok());
  ASSERT_TRUE(sink->Write(b).ok());
  auto out = sink->Finish();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_EQ(out->table->files.size(), 2u);
  EXPECT_EQ(out->table->files[0].partition,
            "day=2024-01-02/ts=2024-01-02T03%3A04%3A05Z/amount=-12.50/flag=true");
  EXPECT_EQ(out->table->files[0].rows, 2);
  EXPECT_EQ(out->table->files[0].key,
            "lake/events/day=2024-01-02/ts=2024-01-02T03%3A04%3A05Z/amount=-12.50/flag=true/"
            "part-b7-a2-00000.parquet");
  EXPECT_EQ(out->table->files[1].partition,
            "day=__HIVE_DEFAULT_PARTITION__/ts=2024-01-02T03%3A04%3A05Z/amount=0.05/flag=false");
  EXPECT_EQ(out->table->files[1].rows, 1);
  ExpectParquetFiles(*out->table);
}

TEST_F(LakeSinkTest, RollsFilesAtTargetRows) {
  LakeSinkOptions o = Options("orders");
  o.target_file_rows = 3;
  auto sink = NewLakeSink(o);
  ASSERT_TRUE(sink->Open(Context(OrdersSchema())).ok());
  ASSERT_TRUE(sink->Write(Orders({1, 2, 3, 4, 5}, {"a", "b", "c", "d", "e"})).ok());
  ASSERT_TRUE(sink->Write(Orders({6, 7, 8}, {"f", "g", "h"})).ok());
  auto out = sink->Finish();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  const auto& files = out->table->files;
  ASSERT_EQ(files.size(), 3u);
  EXPECT_EQ(files[0].rows, 3);
  EXPECT_EQ(files[1].rows, 3);
  EXPECT_EQ(files[2].rows, 2);
  EXPECT_EQ(files[0].key, "lake/orders/part-b7-a2-00000.parquet");
  EXPECT_EQ(files[1].key, "lake/orders/part-b7-a2-00001.parquet");
  EXPECT_EQ(files[2].key, "lake/orders/part-b7-a2-00002.parquet");
  EXPECT_EQ(files[2].staging_key, "staging/7/a2/orders/part-00002.parquet");
  ExpectParquetFiles(*out->table);
}

TEST_F(LakeSinkTest, RollsFilesAtTargetBytes) {
  LakeSinkOptions o = Options("orders");
  o.target_file_bytes = 1;  // every write that reaches the stream rolls the file
  o.row_group_rows = 1;     // so that each row is flushed to the stream as it is written
  auto sink = NewLakeSink(o);
  ASSERT_TRUE(sink->Open(Context(OrdersSchema())).ok());
  ASSERT_TRUE(sink->Write(Orders({1, 2}, {"a", "b"})).ok());
  ASSERT_TRUE(sink->Write(Orders({3}, {"c"})).ok());
  auto out = sink->Finish();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  // The first Write goes to one file (rolled after it), the second to a new one.
  ASSERT_EQ(out->table->files.size(), 2u);
  EXPECT_EQ(TotalRows(*out->table), 3);
  ExpectParquetFiles(*out->table);
}

TEST_F(LakeSinkTest, OpenFileCapFinishesLeastRecentlyUsed) {
  LakeSinkOptions o = Options("orders", {"cur"});
  o.max_open_files = 2;
  auto sink = NewLakeSink(o);
  ASSERT_TRUE(sink->Open(Context(OrdersSchema())).ok());
  ASSERT_TRUE(sink->Write(Orders({1}, {"a"})).ok());
  ASSERT_TRUE(sink->Write(Orders({2}, {"b"})).ok());
  ASSERT_TRUE(sink->Write(Orders({3}, {"a"})).ok());  // a is now more recent than b
  ASSERT_TRUE(sink->Write(Orders({4}, {"c"})).ok());  // closes b
  ASSERT_TRUE(sink->Write(Orders({5}, {"b"})).ok());  // closes a; b gets a new part
  auto out = sink->Finish();
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  std::vector<std::pair<std::string, int64_t>> got;
  for (const DataFile& f : out->table->files) got.emplace_back(f.key, f.rows);
  EXPECT_THAT(
      got, ElementsAre(
               std::pair<std::string, int64_t>("lake/orders/cur=a/part-b7-a2-00000.parquet", 2),
               std::pair<std::string, int64_t>("lake/orders/cur=b/part-b7-a2-00001.parquet", 1),
               std::pair<std::string, int64_t>("lake/orders/cur=c/part-b7-a2-00002.parquet", 1),
               std::pair<std::string, int64_t>("lake/orders/cur=b/part-b7-a2-00003.parquet", 1)));
  ExpectParquetFiles(*out->table);
}

// Final keys are unique per attempt (issue 9: names that depended only on the
// batch were overwritten when a new catalog reused the batch id), and each
// file's SHA-256 is recorded for `sluice check`.
TEST_F(LakeSinkTest, EachAttemptHasItsOwnFinalKeysAndChecksums) {
  std::vector<std::string> keys[2];
  std::vector<std::string> staging[2];
  for (int attempt = 1; attempt <= 2; ++attempt) {
    LakeSinkOptions o = Options("orders", {"cur"});
    o.target_file_rows = 2;
    auto sink = NewLakeSink(o);
    ASSERT_TRUE(sink->Open(Context(OrdersSchema(), 7, attempt)).ok());
    ASSERT_TRUE(sink->Write(Orders({1, 2, 3, 4}, {"a", "b", "a", "a"})).ok());
    auto out = sink->Finish();
    ASSERT_TRUE(out.ok());
    for (const DataFile& f : out->table->files) {
      keys[attempt - 1].push_back(f.key);
      staging[attempt - 1].push_back(f.staging_key);
      auto in = store_->OpenRead(f.staging_key);
      ASSERT_TRUE(in.ok());
      EXPECT_EQ(f.sha256, *Sha256Stream(**in)) << f.key;
    }
  }
  // Partition a (3 rows) fills part 0, rolls into part 1; then b gets part 2.
  EXPECT_THAT(keys[0], ElementsAre("lake/orders/cur=a/part-b7-a1-00000.parquet",
                                   "lake/orders/cur=a/part-b7-a1-00001.parquet",
                                   "lake/orders/cur=b/part-b7-a1-00002.parquet"));
  EXPECT_THAT(keys[1], ElementsAre("lake/orders/cur=a/part-b7-a2-00000.parquet",
                                   "lake/orders/cur=a/part-b7-a2-00001.parquet",
                                   "lake/orders/cur=b/part-b7-a2-00002.parquet"));
  EXPECT_THAT(staging[0], ElementsAre("staging/7/a1/orders/cur=a/part-00000.parquet",
                                      "staging/7/a1/orders/cur=a/part-00001.parquet",
                                      "staging/7/a1/orders/cur=b/part-00002.parquet"));
  EXPECT_EQ(staging[1][0], "staging/7/a2/orders/cur=a/part-00000.parquet");
}

TEST_F(LakeSinkTest, DiscardDeletesOnlyItsStagedFiles) {
  // Another output of the same attempt must survive this sink's Discard.
  {
    auto out = store_->OpenWrite("staging/7/a2/other/part-00000.parquet");
    ASSERT_TRUE(out.ok());
    ASSERT_TRUE((*out)->Write("x").ok());
    ASSERT_TRUE((*out)->Close().ok());
  }
  auto sink = NewLakeSink(Options("orders", {"cur"}));
  ASSERT_TRUE(sink->Open(Context(OrdersSchema())).ok());
  ASSERT_TRUE(sink->Write(Orders({1, 2}, {"a", "b"})).ok());
  auto out = sink->Finish();
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(store_->List("staging/7/a2/orders/")->size(), 2u);
  sink->Discard();
  EXPECT_THAT(*store_->List("staging/7/a2/orders/"), IsEmpty());
  EXPECT_EQ(store_->List("staging/7/a2/other/")->size(), 1u);
}

TEST_F(LakeSinkTest, DiscardWithOpenFilesLeavesNothing) {
  auto sink = NewLakeSink(Options("orders", {"cur"}));
  ASSERT_TRUE(sink->Open(Context(OrdersSchema())).ok());
  ASSERT_TRUE(sink->Write(Orders({1, 2}, {"a", "b"})).ok());
  sink->Discard();
  EXPECT_THAT(*store_->List("staging/"), IsEmpty());
  EXPECT_THAT(*store_->List("lake/"), IsEmpty());
}

TEST_F(LakeSinkTest, OpenRemovesLeftoversOfTheSameAttempt) {
  {
    auto out = store_->OpenWrite("staging/7/a2/orders/cur=zz/part-00009.parquet");
    ASSERT_TRUE(out.ok());
    ASSERT_TRUE((*out)->Write("old").ok());
    ASSERT_TRUE((*out)->Close().ok());
  }
  auto sink = NewLakeSink(Options("orders", {"cur"}));
  ASSERT_TRUE(sink->Open(Context(OrdersSchema())).ok());
  EXPECT_THAT(*store_->List("staging/7/a2/orders/"), IsEmpty());
}

TEST_F(LakeSinkTest, OpenRejectsBadPartitionColumns) {
  Schema schema({{"id", DataType::Int64()}, {"price", DataType::Float64()}});
  struct Case {
    std::string column;
    std::string want;
  };
  const Case cases[] = {{"missing", "'missing'"}, {"price", "float64"}};
  for (const Case& c : cases) {
    auto sink = NewLakeSink(Options("orders", {c.column}));
    Status st = sink->Open(Context(schema));
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << c.column;
    EXPECT_THAT(st.message(), HasSubstr(c.want));
    EXPECT_THAT(st.message(), HasSubstr("pipes/orders.yaml:12"));
  }
}

TEST_F(LakeSinkTest, WriteRejectsForeignSchema) {
  auto sink = NewLakeSink(Options("orders"));
  ASSERT_TRUE(sink->Open(Context(OrdersSchema())).ok());
  Schema other({{"x", DataType::Int32()}});
  Status st = sink->Write(MakeBatch(other, {FixedColumn<int32_t>(DataType::Int32(), {1})}));
  EXPECT_FALSE(st.ok());
}

TEST_F(LakeSinkTest, HealthCheckNeedsOpen) {
  auto sink = NewLakeSink(Options("orders"));
  EXPECT_EQ(sink->HealthCheck().code(), StatusCode::kFailedPrecondition);
}

TEST(ParseLakeSinkOptions, AcceptsAllKeys) {
  auto o = ParseLakeSinkOptions(nlohmann::json::parse(R"({"table": "orders_clean",
      "partition_by": ["day", "cur"], "compression": "snappy", "row_group_rows": 1000,
      "target_file_rows": "5000"})"),
                                "p.yaml:3");
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->table, "orders_clean");
  EXPECT_THAT(o->partition_by, ElementsAre("day", "cur"));
  EXPECT_EQ(o->compression, Compression::kSnappy);
  EXPECT_EQ(o->row_group_rows, 1000);
  EXPECT_EQ(o->target_file_rows, 5000);

  auto d = ParseLakeSinkOptions(nlohmann::json::parse(R"({"table": "t1"})"), "p.yaml:3");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->compression, Compression::kZstd);
  EXPECT_THAT(d->partition_by, IsEmpty());
}

TEST(ParseLakeSinkOptions, RejectsBadArgs) {
  struct Case {
    std::string json;
    std::string want;
  };
  const Case cases[] = {
      {R"({"table": "t", "partiton_by": ["x"]})", "'partiton_by'"},
      {R"({"partition_by": ["x"]})", "'table'"},
      {R"({"table": "Orders"})", "Orders"},
      {R"({"table": "a-b"})", "a-b"},
      {R"({"table": 5})", "'table'"},
      {R"({"table": "t", "compression": "lzo"})", "'compression'"},
      {R"({"table": "t", "partition_by": [1]})", "'partition_by'"},
      {R"({"table": "t", "partition_by": ["a", "a"]})", "repeated"},
      {R"({"table": "t", "row_group_rows": 0})", "'row_group_rows'"},
      {R"({"table": "t", "target_file_rows": "many"})", "'target_file_rows'"},
      {R"(["t"])", "mapping"},
  };
  for (const Case& c : cases) {
    auto o = ParseLakeSinkOptions(nlohmann::json::parse(c.json), "p.yaml:9");
    ASSERT_FALSE(o.ok()) << c.json;
    EXPECT_EQ(o.status().code(), StatusCode::kInvalidArgument) << c.json;
    EXPECT_THAT(o.status().message(), HasSubstr("p.yaml:9")) << c.json;
    EXPECT_THAT(o.status().message(), HasSubstr(c.want)) << c.json;
  }
}

}  // namespace
}  // namespace sluice
