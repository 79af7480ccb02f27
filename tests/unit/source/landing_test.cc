#include "source/landing.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "../engine/test_project.h"
#include "core/clock.h"
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

  // Unless a test says otherwise, the clock runs well past the default settle
  // time (2s), so that files landed just now count as settled.
  LandingContext ctx() {
    LandingContext c{faults_.get(), catalog_.get(), queue_.get(), &verifier_};
    c.now_us = [this] { return NowMicros() + clock_offset_us_; };
    return c;
  }

  // Writes landing/orders/<rel> directly in the store's directory.
  void Land(const std::string& rel, const std::string& content) {
    std::filesystem::path p = std::filesystem::path(dir_.path()) / "store/landing/orders" / rel;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << content;
  }

  ScanSummary Scan() { return ScanWith(ctx()); }
  ScanSummary ScanWith(const LandingContext& c) {
    auto s = ScanLanding(c, spec_);
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

  std::string LandingPath(const std::string& rel) {
    return dir_.path() + "/store/landing/orders/" + rel;
  }

  // Microseconds since the epoch of the last change the store reports for `key`.
  int64_t ChangeUs(const std::string& key) {
    auto info = store_->Stat(key);
    EXPECT_TRUE(info.ok()) << info.status().ToString();
    return info.ok() ? info->change_us : 0;
  }

  ScratchDir dir_;
  std::unique_ptr<ObjectStore> store_;
  std::unique_ptr<FaultInjectingStore> faults_;
  std::unique_ptr<Catalog> catalog_;
  std::unique_ptr<TaskQueue> queue_;
  PipelineSpec spec_;
  ArchiveVerifier verifier_;
  int64_t clock_offset_us_ = 10'000'000;
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

  // Kept for the record under a key of its own landing.
  const std::string sha16 = Sha256Hex(kCsv).substr(0, 16);
  std::vector<std::string> dups = Keys(*store_, "archive/orders/duplicates/" + sha16 + "/");
  ASSERT_EQ(dups.size(), 1u);
  EXPECT_TRUE(dups[0].ends_with("/b.csv")) << dups[0];
  EXPECT_EQ(ReadKey(*store_, dups[0]), kCsv);
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
// copy this process did not hash (here: forgotten, as after a restart) is
// checked against the registered hash and repaired from the original.
TEST_F(LandingTest, IngestedArchiveIsCheckedAfterARestartAndRepairedFromTheOriginal) {
  const std::string path = LocalFile(dir_, "a.csv", kCsv);
  auto r = IngestLocalFile(ctx(), "orders", path);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const BatchInfo b = Batch(r->batch_id);
  const std::string archive = store_->LocalPath(b.archive_key);
  // Hashed by this process while it was copied: not read again.
  const int reads = faults_->calls(StoreOp::kOpenRead);
  EXPECT_TRUE(VerifyArchive(verifier_, *faults_, b).ok());
  EXPECT_EQ(faults_->calls(StoreOp::kOpenRead), reads);
  // Missing (never reached the disk): copied again, whatever the verifier knew.
  std::filesystem::remove(archive);
  EXPECT_TRUE(VerifyArchive(verifier_, *store_, b).ok());
  EXPECT_EQ(ReadKey(*store_, b.archive_key), kCsv);
  // After a restart, a damaged copy is found and copied again; the damaged
  // one is set aside, not replaced in place.
  verifier_.Clear();
  std::filesystem::resize_file(archive, 3);  // cut short by a power failure
  EXPECT_TRUE(VerifyArchive(verifier_, *store_, b).ok());
  EXPECT_EQ(ReadKey(*store_, b.archive_key), kCsv);
  std::vector<std::string> aside = Keys(*store_, "archive/orders/damaged/");
  ASSERT_EQ(aside.size(), 1u);
  EXPECT_EQ(ReadKey(*store_, aside[0]), std::string(kCsv).substr(0, 3));
  verifier_.Clear();
  EXPECT_TRUE(VerifyArchive(verifier_, *store_, b).ok());  // intact: left alone
  EXPECT_EQ(ReadKey(*store_, b.archive_key), kCsv);

  // The original changed meanwhile: nothing to repair from.
  verifier_.Clear();
  std::filesystem::resize_file(archive, 3);
  LocalFile(dir_, "a.csv", std::string(kCsv) + "9,changed\n");
  Status st = VerifyArchive(verifier_, *store_, b);
  EXPECT_EQ(st.code(), StatusCode::kDataLoss) << st.ToString();
  EXPECT_NE(st.message().find("batch " + std::to_string(b.id)), std::string::npos) << st.message();
  EXPECT_NE(st.message().find(b.archive_key), std::string::npos) << st.message();
  EXPECT_NE(st.message().find(b.sha256), std::string::npos) << st.message();
  EXPECT_NE(st.message().find(Sha256Hex(std::string(kCsv).substr(0, 3))), std::string::npos)
      << st.message();
  EXPECT_NE(st.message().find("original '" + std::filesystem::absolute(path).string()),
            std::string::npos)
      << st.message();
  EXPECT_NE(st.message().find("no longer has the registered content"), std::string::npos)
      << st.message();
  std::filesystem::remove(path);
  EXPECT_EQ(VerifyArchive(verifier_, *store_, b).code(), StatusCode::kDataLoss);
  // No private copies are left behind by the failed repairs.
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir_.path() + "/store")) {
    EXPECT_EQ(e.path().string().find(".incoming/"), std::string::npos) << e.path();
  }
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

// Issue 9: a link in landing was followed: an outside file was ingested (the
// link moved to the archive), and a file inside a linked outside directory
// was moved out of that directory.
TEST_F(LandingTest, SymlinksAreReportedAndNeverTaken) {
  const std::string outside = dir_.Write("outside/secret.csv", "id,amount\n66,6.60\n");
  const std::string inner = dir_.Write("outside/dir/inner.csv", "id,amount\n77,7.70\n");
  Land("real.csv", kCsv);
  std::filesystem::create_symlink(outside, LandingPath("link.csv"));
  std::filesystem::create_directory_symlink(dir_.path() + "/outside/dir", LandingPath("linkdir"));
  std::filesystem::create_directory_symlink(LandingPath(""), LandingPath("loop"));

  ScanSummary s = ScanWith(ctx());
  EXPECT_TRUE(s.errors.empty()) << s.errors.front();
  ASSERT_EQ(s.registered.size(), 1u);
  EXPECT_EQ(s.registered[0].key, "landing/orders/real.csv");
  std::vector<std::string> skipped;
  for (const SkippedEntry& e : s.skipped) {
    skipped.push_back(e.key);
    EXPECT_NE(e.reason.find("symbolic link"), std::string::npos) << e.reason;
  }
  EXPECT_EQ(skipped, (std::vector<std::string>{"landing/orders/link.csv", "landing/orders/linkdir",
                                               "landing/orders/loop"}));
  EXPECT_EQ(AllBatches().size(), 1u);
  // Nothing outside the store was read into a batch, moved or deleted.
  EXPECT_EQ(ReadFileToString(outside).value_or(""), "id,amount\n66,6.60\n");
  EXPECT_EQ(ReadFileToString(inner).value_or(""), "id,amount\n77,7.70\n");
  EXPECT_TRUE(std::filesystem::is_symlink(LandingPath("link.csv")));
  EXPECT_EQ(Keys(*store_, "archive/"),
            std::vector<std::string>{ArchiveKey("orders", Sha256Hex(kCsv), "real.csv")});
  // Reported again on the next scan, still not taken.
  EXPECT_EQ(ScanWith(ctx()).skipped.size(), 3u);
}

// Issue 9: a writer appending in place (scp, SFTP, >>) had its file hashed and
// moved while still writing. A file is taken once it has not changed for
// source.settle (2s by default), by its change time: a producer that keeps
// the source's old mtime (scp -p) does not make it look settled.
TEST_F(LandingTest, FilesAreTakenOnlyOnceSettled) {
  Land("a.csv", kCsv);
  const std::string key = "landing/orders/a.csv";
  const struct timespec y2000[2] = {{946684800, 0}, {946684800, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, LandingPath("a.csv").c_str(), y2000, 0), 0);
  const int64_t changed = ChangeUs(key);
  int64_t now = changed + 1'999'000;
  LandingContext c = ctx();
  c.now_us = [&now] { return now; };

  ScanSummary s = ScanWith(c);
  EXPECT_TRUE(s.registered.empty());
  EXPECT_TRUE(s.errors.empty());
  EXPECT_EQ(s.waiting, 1);
  EXPECT_EQ(Keys(*store_, "landing/"), std::vector<std::string>{key});
  EXPECT_TRUE(AllBatches().empty());

  now = changed + 2'000'000;
  s = ScanWith(c);
  ASSERT_EQ(s.registered.size(), 1u);
  EXPECT_EQ(s.waiting, 0);
  EXPECT_EQ(Batch(s.registered[0].batch_id).sha256, Sha256Hex(kCsv));

  // The spec's own settle time.
  std::string text = kSpec;
  text.replace(text.find("  format: csv\n"), 0, "  settle: 1m\n");
  auto slow = ParsePipeline(text, "orders.yaml");
  ASSERT_TRUE(slow.ok()) << slow.status().ToString();
  Land("b.csv", "id,amount\n5,5.00\n");
  now = ChangeUs("landing/orders/b.csv") + 59'000'000;
  auto waiting = ScanLanding(c, *slow);
  ASSERT_TRUE(waiting.ok());
  EXPECT_TRUE(waiting->registered.empty());
  EXPECT_EQ(waiting->waiting, 1);
  now += 1'000'000;
  auto taken = ScanLanding(c, *slow);
  ASSERT_TRUE(taken.ok());
  EXPECT_EQ(taken->registered.size(), 1u);
}

// Issue 9: the size and times are checked again after hashing; a file that
// changed meanwhile is left for the next scan, which takes all of it.
TEST_F(LandingTest, FileChangedWhileHashedIsLeftForTheNextScan) {
  Land("a.csv", kCsv);
  const std::string more = "3,1.25\n";
  faults_->BeforeNext(
      StoreOp::kOpenRead,
      [&](const std::string&) { std::ofstream(LandingPath("a.csv"), std::ios::app) << more; },
      "landing/orders/a.csv");
  ScanSummary s = Scan();
  EXPECT_TRUE(s.registered.empty());
  EXPECT_TRUE(s.errors.empty());
  EXPECT_EQ(s.waiting, 1);
  EXPECT_TRUE(AllBatches().empty());
  EXPECT_EQ(Keys(*store_, "landing/"), std::vector<std::string>{"landing/orders/a.csv"});

  s = Scan();
  ASSERT_EQ(s.registered.size(), 1u);
  const BatchInfo b = Batch(s.registered[0].batch_id);
  EXPECT_EQ(b.sha256, Sha256Hex(std::string(kCsv) + more));
  EXPECT_EQ(ReadKey(*store_, b.archive_key), std::string(kCsv) + more);
}

// Issue 9: a file landed again under its old name with the registered content
// (here: empty, as a writer re-creating it leaves it) was renamed over the
// archive copy, which the first writer had kept appending to: those rows
// existed nowhere afterwards. The archive copy is never replaced; the second
// landing is kept under a key of its own.
TEST_F(LandingTest, LandingAgainNeverReplacesTheArchiveCopy) {
  Land("a.csv", "");
  ScanSummary first = Scan();
  ASSERT_EQ(first.registered.size(), 1u);
  const BatchInfo b = Batch(first.registered[0].batch_id);
  const std::string archived = std::string(kCsv) + "3,3.00\n";
  std::ofstream(store_->LocalPath(b.archive_key), std::ios::app) << archived;

  Land("a.csv", "");
  ScanSummary again = Scan();
  EXPECT_TRUE(again.errors.empty()) << again.errors.front();
  ASSERT_EQ(again.registered.size(), 1u);
  EXPECT_EQ(again.registered[0].outcome, Outcome::kSameObject);
  EXPECT_EQ(ReadKey(*store_, b.archive_key), archived);
  EXPECT_TRUE(Keys(*store_, "landing/").empty());
  std::vector<std::string> dups =
      Keys(*store_, "archive/orders/duplicates/" + Sha256Hex("").substr(0, 16) + "/");
  ASSERT_EQ(dups.size(), 1u);
  EXPECT_TRUE(dups[0].ends_with("/a.csv")) << dups[0];
  // And the archive no longer holds the registered bytes: said so before the
  // batch is processed.
  Status st = VerifyArchive(verifier_, *store_, b);
  EXPECT_EQ(st.code(), StatusCode::kDataLoss) << st.ToString();
}

// Issue 9: duplicates went to one key per name, and a landing of a name
// already recorded as a duplicate (kSameObject) was renamed over the first
// batch's archive copy.
TEST_F(LandingTest, EachDuplicateLandingKeepsItsOwnCopy) {
  Land("a.csv", kCsv);
  ScanSummary first = Scan();
  ASSERT_EQ(first.registered.size(), 1u);
  const BatchInfo a = Batch(first.registered[0].batch_id);
  struct stat archived {};
  ASSERT_EQ(::stat(store_->LocalPath(a.archive_key).c_str(), &archived), 0);
  for (int i = 0; i < 3; ++i) {
    Land("b.csv", kCsv);
    ScanSummary s = Scan();
    EXPECT_TRUE(s.errors.empty()) << s.errors.front();
    ASSERT_EQ(s.registered.size(), 1u);
    // The first landing of b.csv is recorded as a duplicate; later ones of the
    // same name and content are that same landing again.
    EXPECT_EQ(s.registered[0].outcome, i == 0 ? Outcome::kDuplicateContent : Outcome::kSameObject);
    EXPECT_EQ(s.registered[0].batch_id, a.id);
  }
  struct stat still {};
  ASSERT_EQ(::stat(store_->LocalPath(a.archive_key).c_str(), &still), 0);
  EXPECT_EQ(still.st_ino, archived.st_ino);  // the very same file, never replaced
  std::vector<std::string> dups =
      Keys(*store_, "archive/orders/duplicates/" + Sha256Hex(kCsv).substr(0, 16) + "/");
  ASSERT_EQ(dups.size(), 3u);
  for (const std::string& d : dups) {
    EXPECT_TRUE(d.ends_with("/b.csv")) << d;
    EXPECT_EQ(ReadKey(*store_, d), kCsv);
  }
  EXPECT_TRUE(Keys(*store_, "landing/").empty());
}

// Issue 9: the archived content was never checked against its registered
// SHA-256, so a replay processed whatever the archive held by then.
TEST_F(LandingTest, VerifyArchiveChecksTheRegisteredBytes) {
  Land("a.csv", kCsv);
  ScanSummary s = Scan();
  ASSERT_EQ(s.registered.size(), 1u);
  const BatchInfo b = Batch(s.registered[0].batch_id);

  // Hashed at registration by this process and unchanged since: not read again.
  int reads = faults_->calls(StoreOp::kOpenRead);
  EXPECT_TRUE(VerifyArchive(verifier_, *faults_, b).ok());
  EXPECT_EQ(faults_->calls(StoreOp::kOpenRead), reads);

  // Another process (or after a restart) hashes once, then remembers.
  ArchiveVerifier other;
  EXPECT_TRUE(VerifyArchive(other, *faults_, b).ok());
  EXPECT_EQ(faults_->calls(StoreOp::kOpenRead), reads + 1);
  EXPECT_TRUE(VerifyArchive(other, *faults_, b).ok());
  EXPECT_EQ(faults_->calls(StoreOp::kOpenRead), reads + 1);

  // Rewritten in place with the same size and its old mtime put back: the
  // change time still tells.
  const std::string path = store_->LocalPath(b.archive_key);
  struct stat before {};
  ASSERT_EQ(::stat(path.c_str(), &before), 0);
  std::string tampered = kCsv;
  tampered[tampered.size() - 2] = '9';
  std::ofstream(path, std::ios::binary) << tampered;
  const struct timespec times[2] = {before.st_atim, before.st_mtim};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
  Status st = VerifyArchive(verifier_, *store_, b);
  EXPECT_EQ(st.code(), StatusCode::kDataLoss) << st.ToString();
  for (const std::string& part :
       {"batch " + std::to_string(b.id), b.archive_key, b.sha256, Sha256Hex(tampered)}) {
    EXPECT_NE(st.message().find(part), std::string::npos) << part << " in " << st.message();
  }

  std::filesystem::remove(path);
  st = VerifyArchive(verifier_, *store_, b);
  EXPECT_EQ(st.code(), StatusCode::kDataLoss) << st.ToString();
  EXPECT_NE(st.message().find("missing"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find(b.archive_key), std::string::npos) << st.message();

  // A store that cannot answer now is not data loss.
  faults_->FailNth(StoreOp::kStat, 1, Status::Unavailable("injected busy disk"));
  EXPECT_EQ(VerifyArchive(verifier_, *faults_, b).code(), StatusCode::kUnavailable);
}

TEST(ArchiveVerifierTest, RemembersFingerprintsUpToItsLimit) {
  ArchiveVerifier v;
  ObjectInfo info{"archive/p/k", 10, 100, 200};
  EXPECT_FALSE(v.Matches(info, "sha"));
  v.Remember(info, "sha");
  EXPECT_TRUE(v.Matches(info, "sha"));
  EXPECT_FALSE(v.Matches(info, "other sha"));
  for (ObjectInfo changed : {ObjectInfo{info.key, 11, 100, 200}, ObjectInfo{info.key, 10, 101, 200},
                             ObjectInfo{info.key, 10, 100, 201}}) {
    EXPECT_FALSE(v.Matches(changed, "sha"));
  }
  v.Forget(info.key);
  EXPECT_FALSE(v.Matches(info, "sha"));
  for (size_t i = 0; i < ArchiveVerifier::kMaxKeys + 10; ++i) {
    v.Remember(ObjectInfo{"k" + std::to_string(i), 1, 1, 1}, "s");
  }
  EXPECT_EQ(v.size(), ArchiveVerifier::kMaxKeys);
  v.Clear();
  EXPECT_EQ(v.size(), 0u);
}

// Issue 9: recovery moved whatever the landing file held by then into the
// archive of a batch registered with other content.
TEST_F(LandingTest, RecoveryArchivesOnlyTheRegisteredBytes) {
  RegisterBatchRequest req;
  req.pipeline = "orders";
  req.object_key = "landing/orders/a.csv";
  req.sha256 = Sha256Hex(kCsv);
  req.archive_key = ArchiveKey("orders", req.sha256, "a.csv");
  req.size_bytes = static_cast<int64_t>(std::string(kCsv).size());
  auto reg = catalog_->RegisterBatch(req);
  ASSERT_TRUE(reg.ok()) << reg.status().ToString();
  const std::string rewritten = "id,amount\n8,8.00\n";
  Land("a.csv", rewritten);  // the registered bytes were never archived

  ASSERT_TRUE(RecoverLanded(ctx()).ok());
  const BatchInfo b = Batch(reg->batch_id);
  EXPECT_EQ(b.state, BatchState::kFailed);
  EXPECT_NE(b.reason.find(Sha256Hex(rewritten)), std::string::npos) << b.reason;
  EXPECT_FALSE(store_->Stat(req.archive_key).ok());
  EXPECT_EQ(Depth(), 0);
  // The new content stays in landing, where the scan registers it.
  ScanSummary s = Scan();
  ASSERT_EQ(s.registered.size(), 1u);
  EXPECT_EQ(s.registered[0].outcome, Outcome::kNew);
  EXPECT_EQ(Batch(s.registered[0].batch_id).sha256, Sha256Hex(rewritten));

  // ArchiveLandedInput itself: archived already, or gone, is not its business.
  EXPECT_TRUE(ArchiveLandedInput(*store_, &verifier_, Batch(s.registered[0].batch_id)).ok());
  BatchInfo gone = b;
  gone.object_key = "landing/orders/gone.csv";
  EXPECT_TRUE(ArchiveLandedInput(*store_, &verifier_, gone).ok());
}

}  // namespace
}  // namespace sluice
