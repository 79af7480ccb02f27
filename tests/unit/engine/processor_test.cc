#include "engine/processor.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "../format/compress_test_util.h"
#include "core/hash.h"
#include "test_project.h"

namespace sluice {
namespace {

using testing::GzipOf;
using testing::Keys;
using testing::QueryInt;
using testing::ReadKey;
using testing::StoreOp;
using testing::ZstdOf;

// Two outputs: a partitioned lake table and an SQLite table (relative path:
// resolved against the project directory).
std::string Spec(const std::string& policy, double max_bad_ratio) {
  std::ostringstream s;
  s << "pipeline: orders\n"
       "source:\n"
       "  pattern: \"*.csv\"\n"
       "  format: csv\n"
       "schema:\n"
       "  id: int64 not null\n"
       "  amount: decimal(10,2)\n"
       "  day: date\n"
       "on_bad_record: "
    << policy << "\nmax_bad_ratio: " << max_bad_ratio
    << "\n"
       "outputs:\n"
       "  - table: orders\n"
       "    partition_by: [day]\n"
       "  - sqlite: { path: out.db, table: orders }\n";
  return s.str();
}

constexpr char kGood[] =
    "id,amount,day\n"
    "1,2.50,2024-01-01\n"
    "2,3.75,2024-01-01\n"
    "3,1.00,2024-01-02\n";

// Line 3 has a bad amount; 1 bad record of 4.
constexpr char kOneBad[] =
    "id,amount,day\n"
    "1,2.50,2024-01-01\n"
    "4,abc,2024-01-02\n"
    "2,3.75,2024-01-01\n"
    "3,1.00,2024-01-02\n";

class ProcessorTest : public testing::ProjectTest {
 protected:
  void Start(const std::string& policy = "quarantine", double ratio = 0.5) {
    Open();
    Deploy("orders", Spec(policy, ratio));
  }

  int64_t Register(const std::string& name, const std::string& content) {
    int64_t id = LandAndRegister("orders", name, content);
    EXPECT_GT(id, 0);
    return id;
  }

  // Processes the batch, then loads its database outputs (the SQLite table)
  // as a server's loaders do after the commit.
  // (Not while publications are pending: the loaders wait for those.)
  Result<ProcessOutcome> Process(int64_t id) {
    auto r = ProcessBatch(Env(), id);
    auto pending = project_->catalog().PendingPublications();
    if (pending.ok() && pending->empty()) {
      Status delivered = Deliver();
      EXPECT_TRUE(delivered.ok()) << delivered.ToString();
    }
    return r;
  }

  // A committed batch whose publication failed (every rename out of staging
  // did), so that its publications stay pending. Returns the batch.
  int64_t CommitWithPublicationsPending() {
    Start();
    const int64_t id = Register("a.csv", kGood);
    faults_->FailAlways(StoreOp::kRename, Status::IOError("injected"), "staging/");
    Process(id).IgnoreError();  // publication fails after the commit
    faults_->Clear();
    return id;
  }

  std::vector<Publication> Pending() {
    auto pending = project_->catalog().PendingPublications();
    EXPECT_TRUE(pending.ok()) << pending.status().ToString();
    return pending.ok() ? *pending : std::vector<Publication>{};
  }

  std::optional<int64_t> SinkRows() { return QueryInt(SinkDb(), "SELECT count(*) FROM orders"); }
  std::optional<int64_t> LedgerRows() {
    return QueryInt(SinkDb(), "SELECT count(*) FROM _sluice_ledger");
  }

  std::vector<DataFile> LakeFiles() {
    auto files = project_->catalog().ListFiles("orders", 0);
    return files.ok() ? *files : std::vector<DataFile>{};
  }

  // Every file the catalog lists exists under lake/, and lake/ holds nothing else.
  void ExpectLakeMatchesCatalog() {
    std::vector<std::string> listed;
    for (const DataFile& f : LakeFiles()) {
      EXPECT_TRUE(f.key.starts_with("lake/orders/")) << f.key;
      listed.push_back(f.key);
    }
    std::sort(listed.begin(), listed.end());
    EXPECT_EQ(Keys(project_->store(), "lake/"), listed);
  }

  void ExpectNoStaging() {
    EXPECT_EQ(Keys(project_->store(), "staging/"), std::vector<std::string>{});
  }
};

TEST_F(ProcessorTest, CommitsABatch) {
  Start();
  const int64_t id = Register("a.csv", kGood);
  auto r = Process(id);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, ProcessOutcome::kCommitted);

  BatchInfo b = Batch(id);
  EXPECT_EQ(b.state, BatchState::kCommitted);
  EXPECT_EQ(b.reason, "");
  EXPECT_EQ(b.attempts, 1);
  EXPECT_EQ(b.stats.rows_read, 3);
  EXPECT_EQ(b.stats.rows_written, 3);
  EXPECT_EQ(b.stats.rows_quarantined, 0);
  EXPECT_EQ(b.stats.rows_skipped, 0);

  // Two partitions -> two files, published under lake/ with their rows.
  std::vector<DataFile> files = LakeFiles();
  ASSERT_EQ(files.size(), 2u);
  int64_t rows = 0;
  for (const DataFile& f : files) {
    rows += f.rows;
    EXPECT_EQ(f.batch_id, id);
    EXPECT_TRUE(f.partition == "day=2024-01-01" || f.partition == "day=2024-01-02") << f.partition;
    EXPECT_TRUE(f.key.starts_with("lake/orders/" + f.partition + "/part-b" + std::to_string(id)))
        << f.key;
    auto st = project_->store().Stat(f.key);
    ASSERT_TRUE(st.ok()) << f.key;
    EXPECT_EQ(st->size, f.bytes);
    EXPECT_EQ(ReadKey(project_->store(), f.key).substr(0, 4), "PAR1");
  }
  EXPECT_EQ(rows, 3);
  ExpectLakeMatchesCatalog();
  auto table = project_->catalog().GetTable("orders");
  ASSERT_TRUE(table.ok());
  EXPECT_EQ(table->num_rows, 3);
  auto pending = project_->catalog().PendingPublications();
  ASSERT_TRUE(pending.ok());
  EXPECT_TRUE(pending->empty());
  ExpectNoStaging();

  EXPECT_EQ(SinkRows(), 3);
  EXPECT_EQ(QueryInt(SinkDb(), "SELECT sum(id) FROM orders"), 6);
  EXPECT_EQ(LedgerRows(), 1);
  EXPECT_EQ(
      QueryInt(SinkDb(), "SELECT count(*) FROM sqlite_master WHERE name LIKE '_sluice_stage%'"), 0);

  auto lineage = project_->catalog().BatchLineage(id);
  ASSERT_TRUE(lineage.ok());
  int64_t lineage_rows = 0;
  for (const Lineage& l : *lineage) lineage_rows += l.rows;
  EXPECT_EQ(lineage_rows, 6);  // 3 rows into the table, 3 into SQLite
}

// Issue 11, item 1: lineage says what reference data a batch saw, so that a
// retry or replay can tell whether it would see the same.
TEST_F(ProcessorTest, LineageRecordsTheContentOfEveryReferenceRead) {
  Open();
  const std::string ref = dir_.Write("ref/customers.csv", "id,name\n1,Ada\n");
  Deploy("orders",
         "pipeline: orders\nsource: { pattern: \"*.csv\", format: csv }\n"
         "schema:\n  id: int64\nreferences:\n  customers: { file: " +
             ref +
             " }\ntransform:\n  - lookup: { from: customers, on: { id: id } }\n"
             "outputs:\n  - table: orders\n");
  auto refs_of = [&](int64_t batch) {
    std::vector<Lineage> out;
    auto lineage = project_->catalog().BatchLineage(batch);
    EXPECT_TRUE(lineage.ok()) << lineage.status().ToString();
    for (const Lineage& l : lineage.ok() ? *lineage : std::vector<Lineage>{}) {
      if (l.output.starts_with("reference:")) out.push_back(l);
    }
    return out;
  };
  const int64_t id = Register("a.csv", "id\n1\n2\n");
  ASSERT_EQ(*Process(id), ProcessOutcome::kCommitted);
  auto first = refs_of(id);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].output, "reference:customers");
  EXPECT_EQ(first[0].file_key, ref);
  EXPECT_EQ(first[0].content_sha256, Sha256Hex("id,name\n1,Ada\n"));

  // The reference changes; a replay sees (and records) the new content.
  const std::string changed = "id,name\n1,Ada\n2,Grace\n";
  ASSERT_TRUE(WriteFileAtomic(ref, changed).ok());
  ASSERT_TRUE(project_->catalog().ReplayBatch(id, 0).ok());
  ASSERT_EQ(*Process(id), ProcessOutcome::kCommitted);
  auto second = refs_of(id);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].content_sha256, Sha256Hex(changed));
}

// Database outputs are loaded after the commit, by loaders: a batch with an
// sqlite output commits straight from processing like a lake-only one, and
// its SQLite rows appear only once delivered.
TEST_F(ProcessorTest, DatabaseOutputsAreLoadedAfterTheCommit) {
  auto states = [&](int64_t id) {
    std::vector<BatchState> out;
    auto history = project_->catalog().BatchHistory(id);
    EXPECT_TRUE(history.ok());
    if (history.ok()) {
      for (const BatchEvent& e : *history) out.push_back(e.state);
    }
    return out;
  };
  auto has = [](const std::vector<BatchState>& v, BatchState s) {
    return std::find(v.begin(), v.end(), s) != v.end();
  };
  Start();
  const int64_t with_db = Register("a.csv", kGood);
  ASSERT_EQ(*ProcessBatch(Env(), with_db), ProcessOutcome::kCommitted);
  EXPECT_FALSE(has(states(with_db), BatchState::kCommitting));
  EXPECT_EQ(SinkRows(), std::nullopt);  // committed, not yet delivered
  auto deliveries = project_->catalog().BatchDeliveries(with_db);
  ASSERT_TRUE(deliveries.ok());
  ASSERT_EQ(deliveries->size(), 1u);
  EXPECT_EQ((*deliveries)[0].output, "sqlite:out.db#orders");
  EXPECT_EQ((*deliveries)[0].state, DeliveryState::kPending);
  SLUICE_ASSERT_OK(Deliver());
  EXPECT_EQ(SinkRows(), 3);
  EXPECT_EQ(LedgerRows(), 1);

  std::string lake_only = Spec("quarantine", 0.5);
  lake_only.erase(lake_only.find("  - sqlite:"));
  Deploy("orders", lake_only);
  const int64_t lake = Register("b.csv", "id,amount,day\n9,1.00,2024-01-03\n");
  auto out = Process(lake);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(*out, ProcessOutcome::kCommitted);
  const std::vector<BatchState> lake_states = states(lake);
  EXPECT_TRUE(has(lake_states, BatchState::kProcessing));
  EXPECT_FALSE(has(lake_states, BatchState::kCommitting));
  EXPECT_EQ(lake_states.back(), BatchState::kCommitted);
  ExpectLakeMatchesCatalog();
}

TEST_F(ProcessorTest, ReportsProgress) {
  Start();
  const int64_t id = Register("a.csv", kGood);
  std::vector<ProcessProgress> seen;
  ProcessEnv env = Env();
  env.on_progress = [&](const ProcessProgress& p) { seen.push_back(p); };
  auto r = ProcessBatch(env, id);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.back().batch_id, id);
  EXPECT_EQ(seen.back().rows_read, 3);
  EXPECT_EQ(seen.back().bytes_total, static_cast<int64_t>(std::string(kGood).size()));
  EXPECT_EQ(seen.back().bytes_done, seen.back().bytes_total);
}

TEST_F(ProcessorTest, BadRecordUnderFailPolicyFailsTheBatch) {
  Start("fail", 0.5);
  const int64_t id = Register("bad.csv", kOneBad);
  auto r = Process(id);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, ProcessOutcome::kFailed);
  BatchInfo b = Batch(id);
  EXPECT_EQ(b.state, BatchState::kFailed);
  EXPECT_NE(b.reason.find("landing/orders/bad.csv:3: field 'amount'"), std::string::npos)
      << b.reason;
  EXPECT_TRUE(Keys(project_->store(), "lake/").empty());
  EXPECT_EQ(SinkRows().value_or(0), 0);
  EXPECT_EQ(LedgerRows().value_or(0), 0);
  ExpectNoStaging();
}

TEST_F(ProcessorTest, BadRecordUnderSkipPolicyIsCounted) {
  Start("skip", 0.5);
  const int64_t id = Register("bad.csv", kOneBad);
  auto r = Process(id);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, ProcessOutcome::kCommitted);
  BatchInfo b = Batch(id);
  EXPECT_EQ(b.stats.rows_read, 4);
  EXPECT_EQ(b.stats.rows_written, 3);
  EXPECT_EQ(b.stats.rows_skipped, 1);
  EXPECT_EQ(b.stats.rows_quarantined, 0);
  EXPECT_TRUE(Keys(project_->store(), "quarantine/").empty());
  EXPECT_EQ(SinkRows(), 3);
  ExpectLakeMatchesCatalog();
  ExpectNoStaging();
}

// max_bad_ratio applies whatever the policy (README: "Either way, a batch whose
// bad records exceed max_bad_ratio ends quarantined").
TEST_F(ProcessorTest, SkippedRecordsCountTowardsMaxBadRatio) {
  Start("skip", 0.1);
  const int64_t id = Register("bad.csv", kOneBad);
  auto r = Process(id);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, ProcessOutcome::kQuarantined);
  EXPECT_EQ(Batch(id).stats.rows_skipped, 1);
  EXPECT_TRUE(Keys(project_->store(), "lake/").empty());
  EXPECT_TRUE(Keys(project_->store(), "quarantine/").empty());
  EXPECT_EQ(SinkRows().value_or(0), 0);
  ExpectNoStaging();
}

TEST_F(ProcessorTest, BadRecordUnderQuarantinePolicyIsPublishedWithItsReason) {
  Start("quarantine", 0.5);
  const int64_t id = Register("bad.csv", kOneBad);
  auto r = Process(id);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, ProcessOutcome::kCommitted);
  BatchInfo b = Batch(id);
  EXPECT_EQ(b.stats.rows_read, 4);
  EXPECT_EQ(b.stats.rows_written, 3);
  EXPECT_EQ(b.stats.rows_quarantined, 1);
  EXPECT_EQ(SinkRows(), 3);

  const std::string key = "quarantine/orders/" + std::to_string(id) + "/a1/bad_records.ndjson";
  EXPECT_EQ(Keys(project_->store(), "quarantine/"), std::vector<std::string>{key});
  std::string text = ReadKey(project_->store(), key);
  ASSERT_FALSE(text.empty());
  ASSERT_EQ(text.back(), '\n');
  std::vector<nlohmann::json> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(lines.size(), 1u);
  const nlohmann::json& j = lines[0];
  EXPECT_EQ(j["file"], "landing/orders/bad.csv");
  EXPECT_EQ(j["line"], 3);
  EXPECT_EQ(j["field"], "amount");
  EXPECT_FALSE(j["reason"].get<std::string>().empty());
  EXPECT_EQ(j["raw"], "4,abc,2024-01-02");
  ExpectNoStaging();
}

TEST_F(ProcessorTest, TooManyBadRecordsQuarantineTheWholeBatch) {
  Start("quarantine", 0.1);
  const int64_t id = Register("bad.csv", kOneBad);
  auto r = Process(id);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, ProcessOutcome::kQuarantined);
  BatchInfo b = Batch(id);
  EXPECT_EQ(b.state, BatchState::kQuarantined);
  EXPECT_NE(b.reason.find("1 of 4 records are bad"), std::string::npos) << b.reason;
  EXPECT_NE(b.reason.find("bad.csv:3: field 'amount'"), std::string::npos) << b.reason;
  EXPECT_EQ(b.stats.rows_written, 0);
  EXPECT_EQ(b.stats.rows_quarantined, 1);

  EXPECT_TRUE(Keys(project_->store(), "lake/").empty());
  EXPECT_TRUE(LakeFiles().empty());
  EXPECT_EQ(SinkRows().value_or(0), 0);
  EXPECT_EQ(LedgerRows().value_or(0), 0);
  // The bad records are still kept for inspection.
  EXPECT_EQ(Keys(project_->store(), "quarantine/").size(), 1u);
  ExpectNoStaging();
}

// A zstd-compressed input spanning several decoder chunks (64K rows each),
// with a transform: the stats add up across chunks and dedupe works across
// the whole batch.
TEST_F(ProcessorTest, CompressedMultiChunkInputWithDedupe) {
  Open();
  Deploy("events", R"(pipeline: events
source:
  pattern: "*"
schema:
  id: int64 not null
  v: string
transform:
  - dedupe: { key: [id], keep: last }
outputs:
  - table: events
  - sqlite: { path: out.db, table: events }
)");
  constexpr int kRows = 70000, kDistinct = 50000;
  std::string csv = "id,v\n";
  for (int i = 0; i < kRows; ++i) {
    csv += std::to_string(i % kDistinct) + ",r" + std::to_string(i) + "\n";
  }
  const std::string zst = ZstdOf(csv, 1);
  const int64_t id = LandAndRegister("events", "big.csv.zst", zst);
  ASSERT_GT(id, 0);

  auto r = Process(id);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, ProcessOutcome::kCommitted);
  BatchInfo b = Batch(id);
  EXPECT_EQ(b.stats.rows_read, kRows);
  EXPECT_EQ(b.stats.duplicates_removed, kRows - kDistinct);
  EXPECT_EQ(b.stats.rows_written, kDistinct);
  EXPECT_EQ(QueryInt(SinkDb(), "SELECT count(DISTINCT id) FROM events"), kDistinct);
  EXPECT_EQ(QueryInt(SinkDb(), "SELECT count(*) FROM events"), kDistinct);
  // keep: last -> the later row of each duplicated id survives.
  EXPECT_EQ(QueryInt(SinkDb(),
                     "SELECT count(*) FROM events WHERE id < 20000 AND "
                     "CAST(substr(v, 2) AS INTEGER) < 50000"),
            0);
  auto table = project_->catalog().GetTable("events");
  ASSERT_TRUE(table.ok());
  EXPECT_EQ(table->num_rows, kDistinct);
}

TEST_F(ProcessorTest, UndecodableInputFailsPermanently) {
  Start();
  // A header that names a column twice: the file cannot be read at all.
  const int64_t id = Register("a.csv", "id,amount,amount,day\n1,2.50,2.50,2024-01-01\n");
  auto r = Process(id);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, ProcessOutcome::kFailed);
  BatchInfo b = Batch(id);
  EXPECT_EQ(b.state, BatchState::kFailed);
  EXPECT_NE(b.reason.find("column 'amount' appears twice"), std::string::npos) << b.reason;
  EXPECT_NE(b.reason.find("landing/orders/a.csv"), std::string::npos) << b.reason;
  ExpectNoStaging();
}

TEST_F(ProcessorTest, MissingInputFailsPermanently) {
  Start();
  const int64_t id = Register("a.csv", kGood);
  ASSERT_TRUE(project_->store().Delete(Batch(id).archive_key).ok());
  auto r = Process(id);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, ProcessOutcome::kFailed);
  EXPECT_NE(Batch(id).reason.find("is missing"), std::string::npos) << Batch(id).reason;
}

// Issue 9: an attempt (a retry, a replay) reads exactly the registered bytes.
// An archive copy changed after registration fails the batch, naming both
// hashes, rather than committing other content under the old batch.
TEST_F(ProcessorTest, Issue9ChangedArchiveIsNeverProcessed) {
  Start();
  const int64_t id = Register("a.csv", kGood);
  const BatchInfo b = Batch(id);
  const std::string other = std::string(kGood) + "9,zz,1.5\n";
  std::ofstream(project_->config().store_root + "/" + b.archive_key, std::ios::binary) << other;
  auto r = Process(id);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, ProcessOutcome::kFailed);
  const std::string reason = Batch(id).reason;
  EXPECT_NE(reason.find("does not hold the registered bytes"), std::string::npos) << reason;
  EXPECT_NE(reason.find(b.sha256), std::string::npos) << reason;
  EXPECT_NE(reason.find(Sha256Hex(other)), std::string::npos) << reason;
  EXPECT_TRUE(Keys(project_->store(), "lake/").empty());
}

// Registration crashed before moving the file: processing takes it from landing.
TEST_F(ProcessorTest, InputStillInLandingIsMovedAndProcessed) {
  Start();
  Land("orders", "a.csv", kGood);
  RegisterBatchRequest req;
  req.pipeline = "orders";
  req.object_key = "landing/orders/a.csv";
  req.sha256 = Sha256Hex(kGood);
  req.archive_key = ArchiveKey("orders", req.sha256, "a.csv");
  req.size_bytes = static_cast<int64_t>(std::string(kGood).size());
  auto reg = project_->catalog().RegisterBatch(req);
  ASSERT_TRUE(reg.ok());
  auto r = Process(reg->batch_id);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, ProcessOutcome::kCommitted);
  EXPECT_EQ(ReadKey(project_->store(), req.archive_key), kGood);
  EXPECT_TRUE(Keys(project_->store(), "landing/").empty());
}

// ... and a failure of that move is transient, not a lost input.
TEST_F(ProcessorTest, FailedMoveOutOfLandingIsRetryable) {
  Start();
  Land("orders", "a.csv", kGood);
  RegisterBatchRequest req;
  req.pipeline = "orders";
  req.object_key = "landing/orders/a.csv";
  req.sha256 = Sha256Hex(kGood);
  req.archive_key = ArchiveKey("orders", req.sha256, "a.csv");
  req.size_bytes = static_cast<int64_t>(std::string(kGood).size());
  auto reg = project_->catalog().RegisterBatch(req);
  ASSERT_TRUE(reg.ok());
  faults_->FailNth(StoreOp::kRename, 1, Status::Unavailable("injected"), "landing/");
  auto first = Process(reg->batch_id);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(*first, ProcessOutcome::kRetry);
  EXPECT_EQ(Batch(reg->batch_id).state, BatchState::kQueued);
  EXPECT_EQ(Batch(reg->batch_id).last_error_class, "transient");
  auto second = Process(reg->batch_id);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(*second, ProcessOutcome::kCommitted);
}

TEST_F(ProcessorTest, SecondRunOnACommittedBatchIsAlreadyDone) {
  Start();
  const int64_t id = Register("a.csv", kGood);
  ASSERT_TRUE(Process(id).ok());
  auto again = Process(id);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(*again, ProcessOutcome::kAlreadyDone);
  EXPECT_EQ(Batch(id).attempts, 1);
  EXPECT_EQ(Batch(id).state, BatchState::kCommitted);
  EXPECT_EQ(SinkRows(), 3);
  auto snaps = project_->catalog().ListSnapshots("orders");
  ASSERT_TRUE(snaps.ok());
  EXPECT_EQ(snaps->size(), 1u);
  ExpectLakeMatchesCatalog();
}

TEST_F(ProcessorTest, CancelledAttemptIsAbortedAndLeavesNothingStaged) {
  Start();
  const int64_t id = Register("a.csv", kGood);
  std::atomic<bool> cancel{true};
  ProcessEnv env = Env();
  env.cancel = &cancel;
  auto r = ProcessBatch(env, id);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, ProcessOutcome::kFenced);
  EXPECT_EQ(Batch(id).state, BatchState::kProcessing);
  ExpectNoStaging();
  EXPECT_EQ(SinkRows().value_or(0), 0);
}

// A transient store failure at different points of an attempt: the attempt
// records a retry (the batch is queued again, never failed), and the next
// attempt commits with no staged leftovers and every row exactly once.
struct TransientCase {
  const char* name;
  StoreOp op;
  int nth;
  StatusCode code;
  const char* prefix;
  const char* input;
};

class TransientFailureTest : public ProcessorTest,
                             public ::testing::WithParamInterface<TransientCase> {};

TEST_P(TransientFailureTest, NextAttemptCommitsCleanly) {
  const TransientCase& c = GetParam();
  Start("quarantine", 0.5);
  const int64_t id = Register("a.csv", c.input);
  faults_->FailNth(c.op, c.nth, Status(c.code, "injected"), c.prefix);
  auto first = Process(id);
  ASSERT_EQ(faults_->injected(), 1) << "the fault point was never reached";
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(*first, ProcessOutcome::kRetry);
  EXPECT_EQ(Batch(id).state, BatchState::kQueued);
  EXPECT_NE(Batch(id).last_error.find("injected"), std::string::npos) << Batch(id).last_error;
  EXPECT_TRUE(Keys(project_->store(), "lake/").empty());
  EXPECT_EQ(SinkRows().value_or(0), 0);

  auto second = Process(id);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(*second, ProcessOutcome::kCommitted);
  BatchInfo b = Batch(id);
  EXPECT_EQ(b.state, BatchState::kCommitted);
  EXPECT_EQ(b.attempts, 2);
  EXPECT_EQ(SinkRows(), 3);
  EXPECT_EQ(LedgerRows(), 1);
  EXPECT_EQ(
      QueryInt(SinkDb(), "SELECT count(*) FROM sqlite_master WHERE name LIKE '_sluice_stage%'"), 0);
  ExpectLakeMatchesCatalog();
  ExpectNoStaging();
}

INSTANTIATE_TEST_SUITE_P(
    Points, TransientFailureTest,
    ::testing::Values(TransientCase{"OpenStagedParquet", StoreOp::kOpenWrite, 1,
                                    StatusCode::kUnavailable, "staging/", kGood},
                      TransientCase{"CloseStagedParquet", StoreOp::kClose, 1,
                                    StatusCode::kUnavailable, "staging/", kGood},
                      TransientCase{"SecondPartitionClose", StoreOp::kClose, 2,
                                    StatusCode::kUnavailable, "staging/", kGood},
                      TransientCase{"OpenQuarantineFile", StoreOp::kOpenWrite, 1,
                                    StatusCode::kUnavailable, "staging/1/a1/bad_records", kOneBad},
                      TransientCase{"CloseQuarantineFile", StoreOp::kClose, 1,
                                    StatusCode::kUnavailable, "staging/1/a1/bad_records", kOneBad},
                      TransientCase{"ReadInput", StoreOp::kOpenRead, 1, StatusCode::kUnavailable,
                                    "archive/", kGood},
                      // A failed existence check of the input is not "the input is gone".
                      TransientCase{"StatInput", StoreOp::kStat, 1, StatusCode::kUnavailable,
                                    "archive/", kGood}),
    [](const ::testing::TestParamInfo<TransientCase>& info) { return info.param.name; });

// A zombie: attempt A is still running when a newer attempt starts (its lease
// expired). A must not commit, and the rows must land exactly once.
TEST_F(ProcessorTest, SupersededAttemptCannotCommit) {
  Start();
  const int64_t id = Register("a.csv", kGood);
  // Mid-run of attempt 1 (its first staged write), another worker starts attempt 2.
  faults_->BeforeNext(
      StoreOp::kOpenWrite,
      [&](const std::string&) {
        ASSERT_TRUE(testing::MoveBatch(project_->catalog(), id, BatchState::kProcessing).ok());
      },
      "staging/");
  auto zombie = Process(id);
  ASSERT_TRUE(zombie.ok()) << zombie.status().ToString();
  EXPECT_EQ(*zombie, ProcessOutcome::kFenced);
  EXPECT_NE(Batch(id).state, BatchState::kCommitted);
  EXPECT_TRUE(LakeFiles().empty());
  EXPECT_TRUE(Keys(project_->store(), "lake/").empty());

  auto winner = Process(id);
  ASSERT_TRUE(winner.ok()) << winner.status().ToString();
  EXPECT_EQ(*winner, ProcessOutcome::kCommitted);
  EXPECT_EQ(SinkRows(), 3);
  EXPECT_EQ(LedgerRows(), 1);
  auto snaps = project_->catalog().ListSnapshots("orders");
  ASSERT_TRUE(snaps.ok());
  EXPECT_EQ(snaps->size(), 1u);
  ExpectLakeMatchesCatalog();
  ExpectNoStaging();
}

// The same race, later: the newer attempt starts while A is finishing its
// staged files.
TEST_F(ProcessorTest, AttemptSupersededWhileFinishingCannotCommit) {
  Start();
  const int64_t id = Register("a.csv", kGood);
  faults_->BeforeNext(
      StoreOp::kClose,
      [&](const std::string&) {
        ASSERT_TRUE(testing::MoveBatch(project_->catalog(), id, BatchState::kProcessing).ok());
      },
      "staging/");
  auto zombie = Process(id);
  ASSERT_TRUE(zombie.ok()) << zombie.status().ToString();
  EXPECT_EQ(*zombie, ProcessOutcome::kFenced);
  EXPECT_TRUE(LakeFiles().empty());

  auto winner = Process(id);
  ASSERT_TRUE(winner.ok()) << winner.status().ToString();
  EXPECT_EQ(*winner, ProcessOutcome::kCommitted);
  EXPECT_EQ(SinkRows(), 3);
  EXPECT_EQ(LedgerRows(), 1);
  ExpectLakeMatchesCatalog();
  ExpectNoStaging();
}

// A crash between CommitBatch and publication (here: every publishing rename
// fails). The catalog already says committed; PublishPending finishes the job.
TEST_F(ProcessorTest, PublicationAfterACrashIsRedone) {
  Start("quarantine", 0.5);
  const int64_t id = Register("bad.csv", kOneBad);
  faults_->FailAlways(StoreOp::kRename, Status::IOError("injected rename failure"), "staging/");
  // Whether this reports the failed publication is a policy choice; the
  // catalog state is what the redo relies on.
  Process(id).IgnoreError();
  EXPECT_EQ(Batch(id).state, BatchState::kCommitted);
  auto pending = project_->catalog().PendingPublications();
  ASSERT_TRUE(pending.ok());
  // + the quarantine file and the SQLite output's staged rows
  EXPECT_EQ(pending->size(), LakeFiles().size() + 2);
  EXPECT_TRUE(Keys(project_->store(), "lake/").empty());
  EXPECT_TRUE(Keys(project_->store(), "quarantine/").empty());
  EXPECT_EQ(SinkRows(), std::nullopt);  // the loader waits for the staged rows

  faults_->Clear();
  ASSERT_TRUE(PublishPending(*faults_, project_->catalog()).ok());
  pending = project_->catalog().PendingPublications();
  ASSERT_TRUE(pending.ok());
  EXPECT_TRUE(pending->empty());
  ExpectLakeMatchesCatalog();
  EXPECT_EQ(LakeFiles().size(), 2u);
  EXPECT_EQ(Keys(project_->store(), "quarantine/").size(), 1u);
  SLUICE_ASSERT_OK(Deliver());
  EXPECT_EQ(SinkRows(), 3);
  // Redo is harmless.
  ASSERT_TRUE(PublishPending(*faults_, project_->catalog()).ok());
  ExpectLakeMatchesCatalog();
  EXPECT_EQ(SinkRows(), 3);
}

// The task of a batch whose publication failed is retried: the retry finds the
// batch committed and must not leave its files unpublished (catalog readers
// would see keys that do not exist).
TEST_F(ProcessorTest, RetryAfterFailedPublicationPublishes) {
  Start();
  const int64_t id = Register("a.csv", kGood);
  faults_->FailNth(StoreOp::kRename, 1, Status::Unavailable("injected rename failure"), "staging/");
  Process(id).IgnoreError();  // publication fails after the commit
  ASSERT_EQ(Batch(id).state, BatchState::kCommitted);

  auto retry = Process(id);
  ASSERT_TRUE(retry.ok()) << retry.status().ToString();
  EXPECT_EQ(*retry, ProcessOutcome::kAlreadyDone);
  auto pending = project_->catalog().PendingPublications();
  ASSERT_TRUE(pending.ok());
  EXPECT_TRUE(pending->empty());
  ExpectLakeMatchesCatalog();
  ExpectNoStaging();
}

// A crash after a rename but before MarkPublished: the redo sees the file at
// its final key and only records it.
TEST_F(ProcessorTest, PublishPendingToleratesAnAlreadyMovedFile) {
  CommitWithPublicationsPending();
  const std::vector<Publication> pending = Pending();
  ASSERT_FALSE(pending.empty());
  const Publication& first = pending.front();
  ASSERT_TRUE(project_->store().Rename(first.staging_key, first.final_key).ok());

  ASSERT_TRUE(PublishPending(project_->store(), project_->catalog()).ok());
  EXPECT_TRUE(Pending().empty());
  ExpectLakeMatchesCatalog();
}

// Two publishers at once (each worker of a server publishes every pending
// publication after its own commit): the other one moves the staged file
// between this one's look at the staging key and its look at the final key.
// Neither an error nor a loss.
TEST_F(ProcessorTest, PublishPendingRacesAConcurrentPublisher) {
  const int64_t id = CommitWithPublicationsPending();
  const std::vector<Publication> pending = Pending();
  ASSERT_FALSE(pending.empty());
  const Publication first = pending.front();
  faults_->BeforeNext(
      StoreOp::kStat,
      [&](const std::string&) {
        ASSERT_TRUE(project_->store().Rename(first.staging_key, first.final_key).ok());
      },
      first.final_key);

  Status st = PublishPending(*faults_, project_->catalog());
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_TRUE(Pending().empty());
  EXPECT_EQ(Batch(id).state, BatchState::kCommitted);
  ExpectLakeMatchesCatalog();
}

TEST_F(ProcessorTest, PublishPendingReportsAFileThatIsGone) {
  Start();
  const int64_t id = Register("a.csv", kGood);
  faults_->FailAlways(StoreOp::kRename, Status::IOError("injected"), "staging/");
  Process(id).IgnoreError();  // publication fails after the commit
  faults_->Clear();
  auto pending = project_->catalog().PendingPublications();
  ASSERT_TRUE(pending.ok() && !pending->empty());
  ASSERT_TRUE(project_->store().Delete(pending->front().staging_key).ok());
  // Issue 9: one lost staged file made every start fail. It is recorded (the
  // batch is damaged, with the reason) and the others are published.
  Status st = PublishPending(project_->store(), project_->catalog());
  EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_TRUE(project_->catalog().PendingPublications()->empty());
  BatchInfo b = Batch(id);
  EXPECT_EQ(b.state, BatchState::kDamaged);
  EXPECT_NE(b.reason.find(pending->front().staging_key + " is missing"), std::string::npos)
      << b.reason;
  for (size_t i = 1; i < pending->size(); ++i) {
    EXPECT_TRUE(project_->store().Stat((*pending)[i].final_key).ok()) << (*pending)[i].final_key;
  }
}

// A final key is never replaced: an object already there (another project's
// file, a stray copy) makes the publication lost, not an overwrite.
TEST_F(ProcessorTest, PublicationNeverReplacesAFinalKey) {
  Start();
  const int64_t id = Register("a.csv", kGood);
  faults_->FailAlways(StoreOp::kRename, Status::Unavailable("injected"), "staging/");
  Process(id).IgnoreError();
  faults_->Clear();
  auto pending = project_->catalog().PendingPublications();
  ASSERT_TRUE(pending.ok() && !pending->empty());
  const std::string taken = pending->front().final_key;
  {
    auto out = project_->store().OpenWrite(taken);
    ASSERT_TRUE(out.ok());
    ASSERT_TRUE((*out)->Write(std::string_view("someone else's data")).ok());
    ASSERT_TRUE((*out)->Close().ok());
  }
  ASSERT_TRUE(PublishPending(project_->store(), project_->catalog()).ok());
  EXPECT_EQ(ReadKey(project_->store(), taken), "someone else's data");
  EXPECT_EQ(Batch(id).state, BatchState::kDamaged);
  EXPECT_NE(Batch(id).reason.find("never replaced"), std::string::npos) << Batch(id).reason;
}

// Two pipelines write one lake table with different schemas. The second
// batch can never commit (the catalog refuses the schema), so it must end
// failed for good, and its rows must not be visible in its SQLite output.
TEST_F(ProcessorTest, LakeSchemaConflictFailsBeforeOtherSinksLoad) {
  Start();
  const int64_t first = Register("a.csv", kGood);
  ASSERT_TRUE(Process(first).ok());
  Deploy("other", R"(pipeline: other
source:
  pattern: "*.csv"
schema:
  id: int64 not null
  note: string
outputs:
  - table: orders
  - sqlite: { path: out.db, table: other_rows }
)");
  const int64_t second = LandAndRegister("other", "b.csv", "id,note\n7,x\n");
  ASSERT_GT(second, 0);
  auto r = Process(second);
  EXPECT_TRUE(r.ok() && *r == ProcessOutcome::kFailed) << r.status().ToString();
  EXPECT_EQ(Batch(second).state, BatchState::kFailed);
  EXPECT_NE(Batch(second).reason.find("different schema"), std::string::npos)
      << Batch(second).reason;
  EXPECT_EQ(QueryInt(SinkDb(), "SELECT count(*) FROM other_rows").value_or(0), 0);
}

// One committed batch whose staged file was lost (disk trouble, an operator's
// rm) must not stop every later batch from being published.
TEST_F(ProcessorTest, LostStagedFileDoesNotBlockOtherBatches) {
  Start();
  const int64_t lost = Register("a.csv", kGood);
  faults_->FailAlways(StoreOp::kRename, Status::IOError("injected"), "staging/");
  Process(lost).IgnoreError();  // publication fails after the commit
  faults_->Clear();
  auto pending = project_->catalog().PendingPublications();
  ASSERT_TRUE(pending.ok() && !pending->empty());
  ASSERT_TRUE(project_->store().DeletePrefix("staging/" + std::to_string(lost) + "/").ok());

  const int64_t next = Register("b.csv", "id,amount,day\n9,9.00,2024-02-01\n");
  auto r = Process(next);
  EXPECT_TRUE(r.ok() && *r == ProcessOutcome::kCommitted) << r.status().ToString();
  auto files = project_->catalog().ListFiles("orders", 0);
  ASSERT_TRUE(files.ok());
  for (const DataFile& f : *files) {
    if (f.batch_id == next) {
      EXPECT_TRUE(project_->store().Stat(f.key).ok()) << f.key;
    }
  }
}

// A new pipeline version does not change a registered batch: it runs with the
// version it was pinned to.
TEST_F(ProcessorTest, BatchRunsWithItsPinnedVersion) {
  Start("quarantine", 0.5);
  const int64_t id = Register("bad.csv", kOneBad);
  Deploy("orders", Spec("fail", 0.5));
  auto r = Process(id);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, ProcessOutcome::kCommitted);
  EXPECT_EQ(Batch(id).stats.rows_quarantined, 1);
}

// --- bounded quarantine output and early stops (issue 9, item 8) -----------------

// One int64 column, so that any text that is not a number is a bad record.
std::string IdSpec(const std::string& extra) {
  return "pipeline: ids\nsource:\n  pattern: \"*\"\n  format: csv\nschema:\n  id: int64 not "
         "null\n" +
         extra + "outputs:\n  - table: ids\n";
}

std::vector<nlohmann::json> NdjsonLines(const std::string& text) {
  std::vector<nlohmann::json> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
  return out;
}

// "id\n" then `bad` lines that are not numbers, then `good` numbers.
std::string IdCsv(int bad, int good, const std::string& bad_text = "x") {
  std::string csv = "id\n";
  for (int i = 0; i < bad; ++i) csv += bad_text + "\n";
  for (int i = 0; i < good; ++i) csv += std::to_string(1000000 + i) + "\n";
  return csv;
}

class QuarantineLimitsTest : public ProcessorTest {
 protected:
  int64_t Run(const std::string& spec_extra, const std::string& name, const std::string& content) {
    Open();
    Deploy("ids", IdSpec(spec_extra));
    const int64_t id = LandAndRegister("ids", name, content);
    EXPECT_GT(id, 0);
    auto r = Process(id);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return id;
  }
  std::string QuarantineKey(int64_t id, int attempt = 1) {
    return "quarantine/ids/" + std::to_string(id) + "/a" + std::to_string(attempt) +
           "/bad_records.ndjson";
  }
};

// A 9 KB gzip of invalid lines wrote a 128 MB quarantine file: every bad
// record went to the file, each with its raw text.
TEST_F(QuarantineLimitsTest, Issue9QuarantineFileKeepsTheFirstRecordsAndCountsAll) {
  const int64_t id = Run("max_bad_ratio: 1\nmax_quarantined_records: 5\n", "a.csv", IdCsv(20, 5));
  BatchInfo b = Batch(id);
  EXPECT_EQ(b.state, BatchState::kCommitted);
  EXPECT_EQ(b.stats.rows_read, 25);
  EXPECT_EQ(b.stats.rows_quarantined, 20) << "every bad record is counted";
  EXPECT_EQ(Keys(project_->store(), "quarantine/"), std::vector<std::string>{QuarantineKey(id)});
  std::vector<nlohmann::json> lines = NdjsonLines(ReadKey(project_->store(), QuarantineKey(id)));
  ASSERT_EQ(lines.size(), 6u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(lines[i]["line"], i + 2);
  EXPECT_EQ(lines[5], (nlohmann::json{{"records_not_written", 15},
                                      {"records_written", 5},
                                      {"max_quarantined_records", 5}}));
}

TEST_F(QuarantineLimitsTest, Issue9LongRawTextIsCut) {
  const std::string huge = "é" + std::string(10000, 'z');  // a 2-byte character first
  const int64_t id =
      Run("max_bad_ratio: 1\n", "a.csv", "id\n1\n" + std::string(4095, 'a') + huge + "\n");
  EXPECT_EQ(Batch(id).stats.rows_quarantined, 1);
  std::vector<nlohmann::json> lines = NdjsonLines(ReadKey(project_->store(), QuarantineKey(id)));
  ASSERT_EQ(lines.size(), 1u);
  const std::string raw = lines[0]["raw"];
  EXPECT_EQ(raw, std::string(4095, 'a')) << "cut before the character that does not fit";
  EXPECT_EQ(lines[0]["truncated"], true);
  EXPECT_EQ(lines[0]["raw_bytes"], 4095 + huge.size());
  EXPECT_LE(lines[0]["reason"].get<std::string>().size(), 4096u);
}

TEST_F(QuarantineLimitsTest, Issue9GzipOfInvalidLinesWritesABoundedFile) {
  const std::string csv = IdCsv(1'000'000, 0, "not a number");
  const std::string gz = GzipOf(csv);
  ASSERT_LT(gz.size(), 64u * 1024) << "a small file that expands a thousandfold";
  const int64_t id = Run("max_bad_ratio: 0.01\n", "bad.csv.gz", gz);
  BatchInfo b = Batch(id);
  EXPECT_EQ(b.state, BatchState::kQuarantined);
  EXPECT_LT(b.stats.rows_read, 500'000) << b.reason;
  auto info = project_->store().Stat(QuarantineKey(id));
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_LT(info->size, 3 * 1024 * 1024);
  std::vector<nlohmann::json> lines = NdjsonLines(ReadKey(project_->store(), QuarantineKey(id)));
  ASSERT_EQ(lines.size(), 10001u);
  EXPECT_EQ(lines.back()["records_not_written"], b.stats.rows_quarantined - 10000);
}

// max_bad_ratio was checked only at the end: a batch past any hope was read
// to its last record.
TEST_F(QuarantineLimitsTest, Issue9StopsEarlyOnceTheRatioCannotBeMet) {
  const int64_t id = Run("max_bad_ratio: 0.1\n", "a.csv", IdCsv(200'000, 0));
  BatchInfo b = Batch(id);
  EXPECT_EQ(b.state, BatchState::kQuarantined);
  EXPECT_GT(b.stats.rows_read, 0);
  EXPECT_LT(b.stats.rows_read, 200'000);
  EXPECT_EQ(b.stats.rows_quarantined, b.stats.rows_read);
  EXPECT_NE(b.reason.find(std::to_string(b.stats.rows_read) + " of " +
                          std::to_string(b.stats.rows_read) + " records are bad"),
            std::string::npos)
      << b.reason;
  EXPECT_NE(b.reason.find("reading stopped early at record " + std::to_string(b.stats.rows_read) +
                          " (line "),
            std::string::npos)
      << b.reason;
  EXPECT_TRUE(Keys(project_->store(), "lake/").empty());
  ExpectNoStaging();
}

// The other side: bad records bunched at the start of a batch that is within
// max_bad_ratio at the end. A rule on the ratio so far (1000 of the first
// 1000 are bad) would have quarantined it.
TEST_F(QuarantineLimitsTest, Issue9NeverStopsABatchThatWouldPass) {
  const int64_t id = Run("max_bad_ratio: 0.01\n", "a.csv", IdCsv(1'000, 199'000));
  BatchInfo b = Batch(id);
  EXPECT_EQ(b.state, BatchState::kCommitted) << b.reason;
  EXPECT_EQ(b.stats.rows_read, 200'000);
  EXPECT_EQ(b.stats.rows_quarantined, 1'000);
  EXPECT_EQ(b.stats.rows_written, 199'000);
}

// ... and one just over the ratio at the end is still quarantined, with the
// whole input read.
TEST_F(QuarantineLimitsTest, Issue9JustOverTheRatioIsFoundAtTheEnd) {
  const int64_t id = Run("max_bad_ratio: 0.01\n", "a.csv", IdCsv(2'001, 198'000));
  BatchInfo b = Batch(id);
  EXPECT_EQ(b.state, BatchState::kQuarantined);
  EXPECT_EQ(b.stats.rows_read, 200'001);
  EXPECT_EQ(b.reason.find("stopped early"), std::string::npos) << b.reason;
}

// With max_bad_ratio 0 (the default) any bad record quarantines the batch, so
// reading stops with the first chunk that has one.
TEST_F(QuarantineLimitsTest, Issue9RatioZeroStopsAtTheFirstBadRecord) {
  std::string csv = IdCsv(0, 10);
  csv += "bad\n";
  csv += IdCsv(0, 300'000).substr(3);
  const int64_t id = Run("", "a.csv", csv);
  BatchInfo b = Batch(id);
  EXPECT_EQ(b.state, BatchState::kQuarantined);
  EXPECT_LT(b.stats.rows_read, 300'011);
  EXPECT_EQ(b.stats.rows_quarantined, 1);
  EXPECT_NE(b.reason.find("a.csv:12: field 'id'"), std::string::npos) << b.reason;
  EXPECT_NE(b.reason.find("reading stopped early"), std::string::npos) << b.reason;
}

}  // namespace
}  // namespace sluice
