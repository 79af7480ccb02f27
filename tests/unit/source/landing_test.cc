#include "source/landing.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "../engine/test_project.h"
#include "core/hash.h"

namespace sluice {
namespace {

using testing::FaultInjectingStore;
using testing::Keys;
using testing::ReadKey;
using testing::ScratchDir;
using testing::StoreOp;
using Outcome = RegisterBatchResult::Outcome;

constexpr char kSpec[] = R"(pipeline: orders
source:
  pattern: "*.csv*"
  format: csv
schema:
  id: int64 not null
  amount: decimal(10,2)
outputs:
  - table: orders
)";

constexpr char kCsv[] = "id,amount\n1,2.50\n2,3.75\n";

// Real store, catalog and queue in a scratch directory; the landing functions
// see the store through a FaultInjectingStore (no faults unless a test asks).
class LandingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = NewLocalObjectStore(dir_.path() + "/store");
    faults_ = std::make_unique<FaultInjectingStore>(*store_);
    auto cat = OpenSqliteCatalog(dir_.path() + "/catalog.db");
    ASSERT_TRUE(cat.ok()) << cat.status().ToString();
    catalog_ = std::move(*cat);
    auto q = OpenSqliteTaskQueue(dir_.path() + "/catalog.db");
    ASSERT_TRUE(q.ok()) << q.status().ToString();
    queue_ = std::move(*q);
    auto spec = ParsePipeline(kSpec, "orders.yaml");
    ASSERT_TRUE(spec.ok()) << spec.status().ToString();
    spec_ = *spec;
    ASSERT_TRUE(catalog_->DeployPipeline("orders", kSpec, "orders.yaml").ok());
  }

  LandingContext ctx() { return {faults_.get(), catalog_.get(), queue_.get()}; }

  // Writes landing/orders/<rel> directly in the store's directory.
  void Land(const std::string& rel, const std::string& content) {
    std::filesystem::path p = std::filesystem::path(dir_.path()) / "store/landing/orders" / rel;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << content;
  }

  ScanSummary Scan() {
    auto s = ScanLanding(ctx(), spec_);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? *s : ScanSummary{};
  }

  int64_t Depth() {
    auto d = queue_->Depth();
    EXPECT_TRUE(d.ok()) << d.status().ToString();
    return d.ok() ? *d : -1;
  }

  std::vector<BatchInfo> AllBatches() {
    auto b = catalog_->ListBatches(std::nullopt, "", 0);
    EXPECT_TRUE(b.ok()) << b.status().ToString();
    return b.ok() ? *b : std::vector<BatchInfo>{};
  }

  BatchInfo Batch(int64_t id) {
    auto b = catalog_->GetBatch(id);
    EXPECT_TRUE(b.ok()) << b.status().ToString();
    return b.ok() ? *b : BatchInfo{};
  }

  ScratchDir dir_;
  std::unique_ptr<ObjectStore> store_;
  std::unique_ptr<FaultInjectingStore> faults_;
  std::unique_ptr<Catalog> catalog_;
  std::unique_ptr<TaskQueue> queue_;
  PipelineSpec spec_;
};

TEST(ArchiveKeyTest, UsesSixteenHexDigitsOfTheHash) {
  const std::string sha = Sha256Hex("x");
  EXPECT_EQ(ArchiveKey("orders", sha, "sub/a.csv"),
            "archive/orders/" + sha.substr(0, 16) + "/sub/a.csv");
}

TEST_F(LandingTest, RegistersMovesToArchiveAndQueues) {
  Land("a.csv", kCsv);
  ScanSummary s = Scan();
  ASSERT_TRUE(s.errors.empty()) << s.errors.front();
  ASSERT_EQ(s.registered.size(), 1u);
  EXPECT_EQ(s.registered[0].outcome, Outcome::kNew);
  EXPECT_EQ(s.registered[0].key, "landing/orders/a.csv");

  const std::string sha = Sha256Hex(kCsv);
  BatchInfo b = Batch(s.registered[0].batch_id);
  EXPECT_EQ(b.pipeline, "orders");
  EXPECT_EQ(b.object_key, "landing/orders/a.csv");
  EXPECT_EQ(b.archive_key, "archive/orders/" + sha.substr(0, 16) + "/a.csv");
  EXPECT_EQ(b.sha256, sha);
  EXPECT_EQ(b.size_bytes, static_cast<int64_t>(std::string(kCsv).size()));
  EXPECT_EQ(b.state, BatchState::kQueued);
  EXPECT_EQ(ReadKey(*store_, b.archive_key), kCsv);
  EXPECT_TRUE(Keys(*store_, "landing/").empty());
  EXPECT_EQ(Depth(), 1);

  auto task = queue_->Lease("t", std::chrono::seconds(5));
  ASSERT_TRUE(task.ok() && task->has_value());
  EXPECT_EQ((*task)->batch_id, b.id);
}

TEST_F(LandingTest, IgnoresIncompleteHiddenAndUnmatchedFiles) {
  const std::vector<std::string> ignored = {
      ".a.csv",          // hidden (a writer's temporary)
      "b.csv.tmp",       // in-progress name
      "c.csv.tmp-1234",  // OpenFileOutput's in-progress name
      "notes.txt",       // does not match *.csv*
      "sub/.d.csv",      // hidden, nested
      "csv",             // no match: the pattern needs ".csv"
  };
  for (const std::string& name : ignored) Land(name, "id,amount\n9,9.99\n");
  Land("good.csv", kCsv);

  ScanSummary s = Scan();
  EXPECT_TRUE(s.errors.empty());
  ASSERT_EQ(s.registered.size(), 1u);
  EXPECT_EQ(s.registered[0].key, "landing/orders/good.csv");
  EXPECT_EQ(AllBatches().size(), 1u);
  // The ignored files stay where they are, untouched.
  for (const std::string& name : ignored) {
    EXPECT_TRUE(std::filesystem::exists(dir_.path() + "/store/landing/orders/" + name)) << name;
  }
}

TEST_F(LandingTest, PatternMatchesCompressedNames) {
  Land("a.csv.gz", "not really gzip, but only the name matters here");
  ScanSummary s = Scan();
  ASSERT_EQ(s.registered.size(), 1u);
  EXPECT_EQ(s.registered[0].key, "landing/orders/a.csv.gz");
}

TEST_F(LandingTest, NestedDirectoriesKeepTheirRelativePath) {
  Land("2024/01/a.csv", kCsv);
  ScanSummary s = Scan();
  ASSERT_EQ(s.registered.size(), 1u);
  BatchInfo b = Batch(s.registered[0].batch_id);
  EXPECT_EQ(b.object_key, "landing/orders/2024/01/a.csv");
  EXPECT_EQ(b.archive_key, ArchiveKey("orders", Sha256Hex(kCsv), "2024/01/a.csv"));
  EXPECT_EQ(ReadKey(*store_, b.archive_key), kCsv);
  EXPECT_TRUE(Keys(*store_, "landing/").empty());
}

TEST_F(LandingTest, OtherPipelinesLandingIsNotScanned) {
  std::filesystem::path p = std::filesystem::path(dir_.path()) / "store/landing/orders2/a.csv";
  std::filesystem::create_directories(p.parent_path());
  std::ofstream(p) << kCsv;
  EXPECT_TRUE(Scan().registered.empty());
  EXPECT_TRUE(std::filesystem::exists(p));
}

TEST_F(LandingTest, SameContentUnderAnotherNameIsADuplicate) {
  Land("a.csv", kCsv);
  ScanSummary first = Scan();
  ASSERT_EQ(first.registered.size(), 1u);
  const int64_t id = first.registered[0].batch_id;

  Land("b.csv", kCsv);
  ScanSummary second = Scan();
  ASSERT_EQ(second.registered.size(), 1u);
  EXPECT_EQ(second.registered[0].outcome, Outcome::kDuplicateContent);
  EXPECT_EQ(second.registered[0].batch_id, id);

  const std::string sha16 = Sha256Hex(kCsv).substr(0, 16);
  EXPECT_EQ(ReadKey(*store_, "archive/orders/duplicates/" + sha16 + "/b.csv"), kCsv);
  EXPECT_TRUE(Keys(*store_, "landing/").empty());
  EXPECT_EQ(AllBatches().size(), 1u);
  EXPECT_EQ(Batch(id).duplicate_landings, 1);
  EXPECT_EQ(Depth(), 1);
}

TEST_F(LandingTest, NewContentUnderTheSameNameIsANewBatch) {
  Land("a.csv", kCsv);
  ScanSummary first = Scan();
  Land("a.csv", "id,amount\n3,1.00\n");
  ScanSummary second = Scan();
  ASSERT_EQ(first.registered.size(), 1u);
  ASSERT_EQ(second.registered.size(), 1u);
  EXPECT_EQ(second.registered[0].outcome, Outcome::kNew);
  EXPECT_NE(second.registered[0].batch_id, first.registered[0].batch_id);
  EXPECT_NE(Batch(first.registered[0].batch_id).archive_key,
            Batch(second.registered[0].batch_id).archive_key);
  EXPECT_EQ(Depth(), 2);
}

// A crash after RegisterBatch but before the move leaves the file in landing
// and the batch `landed`; the next scan must finish the job exactly once.
TEST_F(LandingTest, RescanAfterCrashBetweenRegisterAndMove) {
  Land("a.csv", kCsv);
  const std::string sha = Sha256Hex(kCsv);
  RegisterBatchRequest req;
  req.pipeline = "orders";
  req.object_key = "landing/orders/a.csv";
  req.archive_key = ArchiveKey("orders", sha, "a.csv");
  req.sha256 = sha;
  req.size_bytes = static_cast<int64_t>(std::string(kCsv).size());
  auto reg = catalog_->RegisterBatch(req);
  ASSERT_TRUE(reg.ok()) << reg.status().ToString();
  ASSERT_EQ(Batch(reg->batch_id).state, BatchState::kLanded);

  ScanSummary s = Scan();
  ASSERT_EQ(s.registered.size(), 1u);
  EXPECT_EQ(s.registered[0].outcome, Outcome::kSameObject);
  EXPECT_EQ(s.registered[0].batch_id, reg->batch_id);
  EXPECT_EQ(Batch(reg->batch_id).state, BatchState::kQueued);
  EXPECT_EQ(ReadKey(*store_, req.archive_key), kCsv);
  EXPECT_TRUE(Keys(*store_, "landing/").empty());
  EXPECT_EQ(AllBatches().size(), 1u);
  EXPECT_EQ(Depth(), 1);

  // Nothing left to do: neither a re-scan nor recovery adds a task.
  EXPECT_TRUE(Scan().registered.empty());
  ASSERT_TRUE(RecoverLanded(ctx()).ok());
  EXPECT_EQ(Depth(), 1);
}

// The same crash, produced by a failing move: the error is reported per file,
// the file stays in landing, and the next scan completes it.
TEST_F(LandingTest, FailedMoveIsReportedAndRepairedByTheNextScan) {
  Land("a.csv", kCsv);
  faults_->FailNth(StoreOp::kRename, 1, Status::IOError("injected rename failure"), "landing/");
  ScanSummary s = Scan();
  EXPECT_TRUE(s.registered.empty());
  ASSERT_EQ(s.errors.size(), 1u);
  EXPECT_NE(s.errors[0].find("landing/orders/a.csv"), std::string::npos) << s.errors[0];
  EXPECT_NE(s.errors[0].find("injected rename failure"), std::string::npos) << s.errors[0];
  ASSERT_EQ(AllBatches().size(), 1u);
  EXPECT_EQ(AllBatches()[0].state, BatchState::kLanded);
  EXPECT_EQ(Keys(*store_, "landing/"), std::vector<std::string>{"landing/orders/a.csv"});
  EXPECT_EQ(Depth(), 0);

  ScanSummary again = Scan();
  ASSERT_EQ(again.registered.size(), 1u);
  EXPECT_EQ(again.registered[0].outcome, Outcome::kSameObject);
  EXPECT_EQ(AllBatches()[0].state, BatchState::kQueued);
  EXPECT_TRUE(Keys(*store_, "landing/").empty());
  EXPECT_EQ(Depth(), 1);
}

// An unreadable file is a per-file error; the other files are still taken.
TEST_F(LandingTest, UnreadableFileDoesNotBlockTheOthers) {
  Land("a.csv", kCsv);
  Land("b.csv", "id,amount\n5,5.00\n");
  faults_->FailNth(StoreOp::kOpenRead, 1, Status::IOError("injected read failure"),
                   "landing/orders/a.csv");
  ScanSummary s = Scan();
  ASSERT_EQ(s.errors.size(), 1u);
  ASSERT_EQ(s.registered.size(), 1u);
  EXPECT_EQ(s.registered[0].key, "landing/orders/b.csv");
  EXPECT_EQ(Keys(*store_, "landing/"), std::vector<std::string>{"landing/orders/a.csv"});
}

// Re-delivery of a file that was already processed: no second batch, no task,
// and the file does not stay in landing to be scanned forever.
TEST_F(LandingTest, SameFileLandedAgainAfterCommitIsNotRequeued) {
  Land("a.csv", kCsv);
  ScanSummary s = Scan();
  ASSERT_EQ(s.registered.size(), 1u);
  const int64_t id = s.registered[0].batch_id;
  auto task = queue_->Lease("t", std::chrono::seconds(5));
  ASSERT_TRUE(task.ok() && task->has_value());
  ASSERT_TRUE(testing::MoveBatch(*catalog_, id, BatchState::kProcessing).ok());
  ASSERT_TRUE(testing::MoveBatch(*catalog_, id, BatchState::kCommitting).ok());
  CommitRequest commit;
  commit.batch_id = id;
  commit.attempt = 1;
  ASSERT_TRUE(catalog_->CommitBatch(commit).ok());
  ASSERT_TRUE(queue_->Ack(**task).ok());

  Land("a.csv", kCsv);
  ScanSummary again = Scan();
  ASSERT_EQ(again.registered.size(), 1u);
  EXPECT_EQ(again.registered[0].outcome, Outcome::kSameObject);
  EXPECT_EQ(Batch(id).state, BatchState::kCommitted);
  EXPECT_TRUE(Keys(*store_, "landing/").empty());
  EXPECT_EQ(Depth(), 0);
  EXPECT_EQ(AllBatches().size(), 1u);
}

TEST_F(LandingTest, RecoverLandedQueuesBatchesStuckInLanded) {
  // Stuck with its file still in landing (crash before the move).
  Land("a.csv", kCsv);
  RegisterBatchRequest a;
  a.pipeline = "orders";
  a.object_key = "landing/orders/a.csv";
  a.sha256 = Sha256Hex(kCsv);
  a.archive_key = ArchiveKey("orders", a.sha256, "a.csv");
  a.size_bytes = static_cast<int64_t>(std::string(kCsv).size());
  auto ra = catalog_->RegisterBatch(a);
  ASSERT_TRUE(ra.ok());

  // Stuck after the move (crash before queueing).
  const std::string other = "id,amount\n7,7.00\n";
  RegisterBatchRequest b = a;
  b.object_key = "landing/orders/b.csv";
  b.sha256 = Sha256Hex(other);
  b.archive_key = ArchiveKey("orders", b.sha256, "b.csv");
  b.size_bytes = static_cast<int64_t>(other.size());
  {
    auto out = store_->OpenWrite(b.archive_key);
    ASSERT_TRUE(out.ok());
    ASSERT_TRUE((*out)->Write(other).ok());
    ASSERT_TRUE((*out)->Close().ok());
  }
  auto rb = catalog_->RegisterBatch(b);
  ASSERT_TRUE(rb.ok());
  ASSERT_EQ(Depth(), 0);

  ASSERT_TRUE(RecoverLanded(ctx()).ok());
  EXPECT_EQ(Batch(ra->batch_id).state, BatchState::kQueued);
  EXPECT_EQ(Batch(rb->batch_id).state, BatchState::kQueued);
  EXPECT_EQ(ReadKey(*store_, a.archive_key), kCsv);
  EXPECT_EQ(ReadKey(*store_, b.archive_key), other);
  EXPECT_TRUE(Keys(*store_, "landing/").empty());
  EXPECT_EQ(Depth(), 2);

  // Idempotent: a second recovery adds no task.
  ASSERT_TRUE(RecoverLanded(ctx()).ok());
  EXPECT_EQ(Depth(), 2);
}

// A batch whose task vanished (acked by a crashed run, or a queue rebuilt)
// while it was mid-flight is handed to the queue again.
TEST_F(LandingTest, RecoverLandedReenqueuesUnfinishedBatches) {
  Land("a.csv", kCsv);
  ScanSummary s = Scan();
  ASSERT_EQ(s.registered.size(), 1u);
  const int64_t id = s.registered[0].batch_id;
  auto task = queue_->Lease("t", std::chrono::seconds(5));
  ASSERT_TRUE(task.ok() && task->has_value());
  ASSERT_TRUE(testing::MoveBatch(*catalog_, id, BatchState::kProcessing).ok());
  ASSERT_TRUE(queue_->Ack(**task).ok());
  ASSERT_EQ(Depth(), 0);

  ASSERT_TRUE(RecoverLanded(ctx()).ok());
  EXPECT_EQ(Depth(), 1);
  EXPECT_EQ(Batch(id).state, BatchState::kProcessing);
}

// Returns the local path of a scratch file with `content`.
std::string LocalFile(const ScratchDir& dir, const std::string& name, const std::string& content) {
  return dir.Write("in/" + name, content);
}

TEST_F(LandingTest, IngestLocalFileCopiesBytesExactlyAndRegisters) {
  // Binary content, with NULs and CRs, spanning more copy buffers (4 MiB) than
  // the copy rotates through (3), so buffers are reused while being written.
  std::string content;
  for (int i = 0; i < 5 * (4 << 20) + 123; ++i) content.push_back(static_cast<char>(i * 31 % 251));
  const std::string path = LocalFile(dir_, "big.csv", content);

  auto r = IngestLocalFile(ctx(), "orders", path);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->outcome, Outcome::kNew);
  const std::string abs = std::filesystem::absolute(path).lexically_normal().string();
  EXPECT_EQ(r->key, "file://" + abs);

  BatchInfo b = Batch(r->batch_id);
  EXPECT_EQ(b.object_key, "file://" + abs);
  EXPECT_EQ(b.sha256, Sha256Hex(content));
  EXPECT_EQ(b.size_bytes, static_cast<int64_t>(content.size()));
  EXPECT_EQ(b.archive_key, ArchiveKey("orders", b.sha256, "big.csv"));
  EXPECT_EQ(b.state, BatchState::kQueued);
  EXPECT_TRUE(ReadKey(*store_, b.archive_key) == content);
  EXPECT_EQ(Depth(), 1);
  // The original is left alone, and no private copy is left behind.
  EXPECT_TRUE(std::filesystem::exists(path));
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir_.path() + "/store")) {
    if (e.is_regular_file()) files.push_back(e.path().string());
  }
  EXPECT_EQ(files, std::vector<std::string>{store_->LocalPath(b.archive_key)});
}

// IngestLocalFile registers its archive copy before the copy is on disk; a
// copy this process did not write (here: forgotten, as after a restart) is
// checked against the registered hash and repaired from the original.
TEST_F(LandingTest, IngestedArchiveIsCheckedAfterARestartAndRepairedFromTheOriginal) {
  const std::string path = LocalFile(dir_, "a.csv", kCsv);
  auto r = IngestLocalFile(ctx(), "orders", path);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const BatchInfo b = Batch(r->batch_id);
  const std::string archive = store_->LocalPath(b.archive_key);
  // Written by this process: trusted without reading.
  std::filesystem::remove(archive);
  EXPECT_TRUE(CheckIngestedArchive(*store_, b).ok());
  // After a restart: a missing or damaged copy is copied again.
  ForgetFreshArchives();
  EXPECT_TRUE(CheckIngestedArchive(*store_, b).ok());
  EXPECT_EQ(ReadKey(*store_, b.archive_key), kCsv);
  ForgetFreshArchives();
  std::filesystem::resize_file(archive, 3);  // cut short by a power failure
  EXPECT_TRUE(CheckIngestedArchive(*store_, b).ok());
  EXPECT_EQ(ReadKey(*store_, b.archive_key), kCsv);
  ForgetFreshArchives();
  EXPECT_TRUE(CheckIngestedArchive(*store_, b).ok());  // intact: left alone
  EXPECT_EQ(ReadKey(*store_, b.archive_key), kCsv);

  // The original changed meanwhile: nothing to repair from.
  ForgetFreshArchives();
  std::filesystem::resize_file(archive, 3);
  LocalFile(dir_, "a.csv", std::string(kCsv) + "9,changed\n");
  Status st = CheckIngestedArchive(*store_, b);
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition) << st.ToString();
  EXPECT_NE(st.message().find("archive copy of '" + std::filesystem::absolute(path).string()),
            std::string::npos)
      << st.message();
  EXPECT_NE(st.message().find("no longer has the content"), std::string::npos);
  std::filesystem::remove(path);
  EXPECT_EQ(CheckIngestedArchive(*store_, b).code(), StatusCode::kFailedPrecondition);
  // No private copies are left behind by the failed repairs.
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir_.path() + "/store")) {
    EXPECT_EQ(e.path().string().find(".incoming/"), std::string::npos) << e.path();
  }

  // Landing-zone batches are not ingested copies: nothing to check.
  BatchInfo landed = b;
  landed.object_key = "landing/orders/a.csv";
  EXPECT_TRUE(CheckIngestedArchive(*store_, landed).ok());
}

TEST_F(LandingTest, IngestLocalFileTwiceAndUnderAnotherName) {
  const std::string path = LocalFile(dir_, "a.csv", kCsv);
  auto first = IngestLocalFile(ctx(), "orders", path);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto again = IngestLocalFile(ctx(), "orders", path);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->outcome, Outcome::kSameObject);
  EXPECT_EQ(again->batch_id, first->batch_id);

  auto copy = IngestLocalFile(ctx(), "orders", LocalFile(dir_, "copy.csv", kCsv));
  ASSERT_TRUE(copy.ok()) << copy.status().ToString();
  EXPECT_EQ(copy->outcome, Outcome::kDuplicateContent);
  EXPECT_EQ(copy->batch_id, first->batch_id);
  EXPECT_EQ(AllBatches().size(), 1u);
  EXPECT_EQ(Depth(), 1);
}

TEST_F(LandingTest, IngestLocalFileErrors) {
  auto missing = IngestLocalFile(ctx(), "orders", dir_.path() + "/in/missing.csv");
  EXPECT_FALSE(missing.ok());

  // A pipeline without an active version cannot take batches.
  auto unknown = IngestLocalFile(ctx(), "nope", LocalFile(dir_, "a.csv", kCsv));
  EXPECT_FALSE(unknown.ok());

  // A store failure while copying surfaces and registers nothing.
  faults_->FailNth(StoreOp::kClose, 1, Status::IOError("injected close failure"));
  auto failed = IngestLocalFile(ctx(), "orders", LocalFile(dir_, "b.csv", kCsv));
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.status().message().find("injected close failure"), std::string::npos);
  EXPECT_TRUE(AllBatches().empty());
  EXPECT_EQ(Depth(), 0);
}

}  // namespace
}  // namespace sluice
